//! Byte-stream links: serial ports, TCP sockets, device files.
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
