//! Byte-stream links: serial ports, TCP sockets, device files, USB printers ([`usb`]).
//!
//! A driver never opens a device itself: it is handed an [`Opener`] and asks it for a fresh
//! [`Link`] whenever the old one failed, which is how unplug/replug recovers without a restart.
//! Tests and simulators hand drivers openers of their own (a pseudo-terminal, a loopback socket).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use domain::DeviceErrorKind;

pub mod scripted;
pub mod usb;

/// An open byte stream to a device.
pub trait Link: Read + Write + Send {
    /// How long a read may block before returning `TimedOut`/`WouldBlock`.
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()>;

    /// Reads what is already waiting, without blocking: `Ok(0)` when nothing is. Used to drain
    /// stale answers before a query; the default waits one millisecond, links that can look
    /// without waiting do so.
    fn read_waiting(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.set_read_timeout(Duration::from_millis(1))?;
        match self.read(buf) {
            Ok(0) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the device closed the link")),
            Ok(n) => Ok(n),
            Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => Ok(0),
            Err(e) => Err(e),
        }
    }
}

/// Opens (and after a failure, reopens) a link.
pub trait Opener: Send {
    fn open(&self) -> Result<Box<dyn Link>, LinkError>;
    /// What a technician should look at: the path, address or USB id.
    fn describe(&self) -> String;
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("{what}: not found (unplugged, or wrong path in the config)")]
    NotFound { what: String },
    #[error("{what}: permission denied (is the kiosk user in the device's group? see deploy/udev)")]
    Permission { what: String },
    #[error("{what}: {source}")]
    Io { what: String, source: io::Error },
}

impl LinkError {
    pub fn from_io(what: String, e: io::Error) -> LinkError {
        match e.kind() {
            io::ErrorKind::NotFound => LinkError::NotFound { what },
            io::ErrorKind::PermissionDenied => LinkError::Permission { what },
            _ => LinkError::Io { what, source: e },
        }
    }

    pub fn kind(&self) -> DeviceErrorKind {
        match self {
            LinkError::NotFound { .. } => DeviceErrorKind::Disconnected,
            LinkError::Permission { .. } => DeviceErrorKind::Setup,
            LinkError::Io { source, .. } => io_kind(source),
        }
    }
}

/// The device error kind an IO error on an open link means.
pub fn io_kind(e: &io::Error) -> DeviceErrorKind {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => DeviceErrorKind::Timeout,
        io::ErrorKind::PermissionDenied => DeviceErrorKind::Setup,
        _ => DeviceErrorKind::Disconnected,
    }
}

/// Where a byte-stream device is, as configuration writes it:
/// `usb://0483:5743` (VID:PID in hex), `serial:///dev/infomat-scanner?baud=9600`,
/// `tcp://192.168.0.50:9100`, `file:///dev/usb/lp0`. The one place configuration becomes an
/// [`Opener`] ([`LinkSpec::opener`]): the kiosk's printer and scanner, the info desk's printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkSpec {
    Usb { vid: u16, pid: u16 },
    Serial { path: PathBuf, baud: u32 },
    Tcp { address: String },
    File { path: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkSpecError {
    #[error("expected usb://VID:PID, serial:///PATH?baud=N, tcp://HOST:PORT or file:///PATH, got {0:?}")]
    Scheme(String),
    #[error("a USB id as VID:PID in hex (e.g. usb://0483:5743), got {0:?}")]
    UsbId(String),
    #[error("a baud rate from 1200 to 921600, got {0:?}")]
    Baud(String),
    #[error("HOST:PORT (e.g. tcp://192.168.0.50:9100), got {0:?}")]
    Address(String),
    #[error("an absolute device path (e.g. file:///dev/usb/lp0), got {0:?}")]
    Path(String),
}

/// The baud rate of a serial link when the URL does not say.
pub const DEFAULT_BAUD: u32 = 9600;

impl LinkSpec {
    pub fn parse(url: &str) -> Result<LinkSpec, LinkSpecError> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| LinkSpecError::Scheme(url.to_owned()))?;
        let path = |p: &str| {
            if p.starts_with('/') && p.len() > 1 {
                Ok(PathBuf::from(p))
            } else {
                Err(LinkSpecError::Path(p.to_owned()))
            }
        };
        match scheme {
            "usb" => {
                let hex = |h: &str| u16::from_str_radix(h, 16).ok();
                let id = rest.split_once(':').and_then(|(v, p)| Some((hex(v)?, hex(p)?)));
                id.map(|(vid, pid)| LinkSpec::Usb { vid, pid })
                    .ok_or_else(|| LinkSpecError::UsbId(rest.to_owned()))
            }
            "serial" => {
                let (p, query) = rest.split_once('?').unwrap_or((rest, ""));
                let baud = match query.strip_prefix("baud=") {
                    Some(b) => b.parse().ok().filter(|b| (1200..=921_600).contains(b)),
                    None if query.is_empty() => Some(DEFAULT_BAUD),
                    None => None,
                };
                let baud = baud.ok_or_else(|| LinkSpecError::Baud(query.to_owned()))?;
                Ok(LinkSpec::Serial { path: path(p)?, baud })
            }
            "tcp" => {
                let ok =
                    rest.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
                if ok {
                    Ok(LinkSpec::Tcp { address: rest.to_owned() })
                } else {
                    Err(LinkSpecError::Address(rest.to_owned()))
                }
            }
            "file" => Ok(LinkSpec::File { path: path(rest)? }),
            _ => Err(LinkSpecError::Scheme(url.to_owned())),
        }
    }

    /// The opener for this device.
    pub fn opener(&self) -> Box<dyn Opener> {
        match self {
            LinkSpec::Usb { vid, pid } => {
                Box::new(usb::UsbPrinterOpener { vid: *vid, pid: *pid, detach_kernel_driver: true })
            }
            LinkSpec::Serial { path, baud } => Box::new(SerialOpener { path: path.clone(), baud: *baud }),
            LinkSpec::Tcp { address } => {
                Box::new(TcpOpener { address: address.clone(), connect_timeout: Duration::from_secs(2) })
            }
            LinkSpec::File { path } => Box::new(FileOpener { path: path.clone() }),
        }
    }
}

impl std::fmt::Display for LinkSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkSpec::Usb { vid, pid } => write!(f, "usb://{vid:04x}:{pid:04x}"),
            LinkSpec::Serial { path, baud } => write!(f, "serial://{}?baud={baud}", path.display()),
            LinkSpec::Tcp { address } => write!(f, "tcp://{address}"),
            LinkSpec::File { path } => write!(f, "file://{}", path.display()),
        }
    }
}

impl std::str::FromStr for LinkSpec {
    type Err = LinkSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LinkSpec::parse(s)
    }
}

/// A serial port (USB-CDC scanners, serial printers, pseudo-terminals).
#[derive(Debug, Clone)]
pub struct SerialOpener {
    pub path: PathBuf,
    pub baud: u32,
}

impl Link for serialport::TTYPort {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        serialport::SerialPort::set_timeout(self, timeout).map_err(io::Error::from)
    }
    fn read_waiting(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let waiting = serialport::SerialPort::bytes_to_read(self).map_err(io::Error::from)? as usize;
        if waiting == 0 {
            return Ok(0);
        }
        let n = waiting.min(buf.len());
        self.read(&mut buf[..n])
    }
}

impl Opener for SerialOpener {
    fn open(&self) -> Result<Box<dyn Link>, LinkError> {
        let port = serialport::new(self.path.to_string_lossy(), self.baud)
            .timeout(Duration::from_millis(50))
            .open_native()
            .map_err(|e| LinkError::from_io(self.describe(), io::Error::from(e)))?;
        Ok(Box::new(port))
    }
    fn describe(&self) -> String {
        format!("serial {} at {} baud", self.path.display(), self.baud)
    }
}

/// A TCP peer (network printers on port 9100, the virtual printer).
#[derive(Debug, Clone)]
pub struct TcpOpener {
    pub address: String,
    pub connect_timeout: Duration,
}

impl Link for TcpStream {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        TcpStream::set_read_timeout(self, Some(timeout.max(Duration::from_millis(1))))
    }
    fn read_waiting(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.set_nonblocking(true)?;
        let r = self.read(buf);
        self.set_nonblocking(false)?;
        match r {
            Ok(0) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the device closed the link")),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e),
        }
    }
}

impl Opener for TcpOpener {
    fn open(&self) -> Result<Box<dyn Link>, LinkError> {
        let what = self.describe();
        let addrs = self.address.to_socket_addrs().map_err(|e| LinkError::from_io(what.clone(), e))?;
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for a in addrs {
            match TcpStream::connect_timeout(&a, self.connect_timeout) {
                Ok(s) => {
                    s.set_nodelay(true).map_err(|e| LinkError::from_io(what.clone(), e))?;
                    return Ok(Box::new(s));
                }
                Err(e) => last = e,
            }
        }
        Err(LinkError::from_io(what, last))
    }
    fn describe(&self) -> String {
        format!("tcp {}", self.address)
    }
}

/// A device file such as `/dev/usb/lp0` (the kernel's usblp driver). Reads block without a
/// timeout: status queries over such files are answered "unknown" by the printer driver.
#[derive(Debug, Clone)]
pub struct FileOpener {
    pub path: PathBuf,
}

#[derive(Debug)]
struct FileLink(std::fs::File);

impl Read for FileLink {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}
impl Write for FileLink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}
impl Link for FileLink {
    fn set_read_timeout(&mut self, _timeout: Duration) -> io::Result<()> {
        Ok(())
    }
}

impl Opener for FileOpener {
    fn open(&self) -> Result<Box<dyn Link>, LinkError> {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.path)
            .map_err(|e| LinkError::from_io(self.describe(), e))?;
        Ok(Box::new(FileLink(f)))
    }
    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_urls_round_trip_and_bad_ones_say_what_is_expected() {
        for url in [
            "usb://0483:5743",
            "serial:///dev/infomat-scanner?baud=115200",
            "tcp://192.168.0.50:9100",
            "file:///dev/usb/lp0",
        ] {
            assert_eq!(LinkSpec::parse(url).unwrap().to_string(), url);
        }
        assert_eq!(
            LinkSpec::parse("serial:///dev/ttyACM0").unwrap(),
            LinkSpec::Serial { path: "/dev/ttyACM0".into(), baud: DEFAULT_BAUD }
        );
        assert!(matches!(LinkSpec::parse("usb://0483"), Err(LinkSpecError::UsbId(_))));
        assert!(matches!(LinkSpec::parse("serial:///dev/x?baud=12"), Err(LinkSpecError::Baud(_))));
        assert!(matches!(LinkSpec::parse("tcp://printer"), Err(LinkSpecError::Address(_))));
        assert!(matches!(LinkSpec::parse("file://lp0"), Err(LinkSpecError::Path(_))));
        assert!(matches!(LinkSpec::parse("/dev/usb/lp0"), Err(LinkSpecError::Scheme(_))));
        assert!(matches!(LinkSpec::parse("ftp://x"), Err(LinkSpecError::Scheme(_))));
    }

    #[test]
    fn open_errors_tell_the_technician_what_to_check() {
        let e =
            SerialOpener { path: "/dev/infomat-no-such-scanner".into(), baud: 9600 }.open().err().unwrap();
        assert_eq!(e.kind(), DeviceErrorKind::Disconnected);
        assert!(e.to_string().contains("/dev/infomat-no-such-scanner"), "{e}");
        let e = FileOpener { path: "/nonexistent/lp0".into() }.open().err().unwrap();
        assert!(e.to_string().contains("not found"), "{e}");
    }

    #[test]
    fn tcp_links_carry_bytes_both_ways() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let peer = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut b = [0u8; 3];
            s.read_exact(&mut b).unwrap();
            s.write_all(&[0x12]).unwrap();
            b
        });
        let mut link = TcpOpener { address, connect_timeout: Duration::from_secs(1) }.open().unwrap();
        link.write_all(&[0x10, 0x04, 0x01]).unwrap();
        link.set_read_timeout(Duration::from_secs(1)).unwrap();
        let mut b = [0u8; 1];
        link.read_exact(&mut b).unwrap();
        assert_eq!(b, [0x12]);
        assert_eq!(peer.join().unwrap(), [0x10, 0x04, 0x01]);
    }
}
