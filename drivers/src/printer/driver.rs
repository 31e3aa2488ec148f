//! The printer over any link: status queries done right, jobs in chunks, reconnection.
//!
//! Blocking by design (serial and USB IO are): the kiosk runs it on a blocking task. A job is
//! reported printed only if the printer took every byte and its status afterwards is sane; a
//! printer that never answers status is "printed, unconfirmed", never silently "fine".

use std::io::{ErrorKind, Write};
use std::time::{Duration, Instant};

use domain::DeviceErrorKind;

use super::status::{self, PrinterStatus, RawStatus};
use crate::link::{Link, LinkError, Opener};

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("printer link: {0}")]
    Link(#[from] LinkError),
    #[error("printer stopped taking data ({0}); the ticket may be incomplete")]
    Write(std::io::Error),
    #[error("printer not ready: {}", .0.hint())]
    NotReady(PrinterStatus),
    #[error("printer reported a fault after the job: {}", .0.hint())]
    AfterJob(PrinterStatus),
}

fn status_kind(s: PrinterStatus) -> DeviceErrorKind {
    match s {
        PrinterStatus::PaperOut => DeviceErrorKind::PaperOut,
        PrinterStatus::CoverOpen => DeviceErrorKind::CoverOpen,
        PrinterStatus::Unknown => DeviceErrorKind::Timeout,
        _ => DeviceErrorKind::DeviceError,
    }
}

impl PrintError {
    pub fn kind(&self) -> DeviceErrorKind {
        match self {
            PrintError::Link(e) => e.kind(),
            PrintError::Write(e) => crate::link::io_kind(e),
            PrintError::NotReady(s) | PrintError::AfterJob(s) => status_kind(*s),
        }
    }
}

/// A job that went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Printed {
    /// False when the printer does not answer status: it took the bytes, nobody can say more.
    pub confirmed: bool,
}

/// Tuning that differs between printers and links.
#[derive(Debug, Clone, Copy)]
pub struct DriverConfig {
    /// How long to wait for each status byte.
    pub status_timeout: Duration,
    /// Largest write; cheap printers overflow on big rasters and print garbage, losing the cut.
    pub chunk: usize,
    /// Pause between chunks, giving the mechanism time to drain its buffer.
    pub chunk_pause: Duration,
}

impl Default for DriverConfig {
    fn default() -> Self {
        DriverConfig { status_timeout: Duration::from_millis(300), chunk: 1024, chunk_pause: Duration::ZERO }
    }
}

pub struct PrinterDriver {
    opener: Box<dyn Opener>,
    link: Option<Box<dyn Link>>,
    cfg: DriverConfig,
}

impl std::fmt::Debug for PrinterDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrinterDriver").field("link", &self.opener.describe()).finish_non_exhaustive()
    }
}

impl PrinterDriver {
    pub fn new(opener: Box<dyn Opener>, cfg: DriverConfig) -> PrinterDriver {
        PrinterDriver { opener, link: None, cfg }
    }

    pub fn describe(&self) -> String {
        self.opener.describe()
    }

    fn link(&mut self) -> Result<&mut Box<dyn Link>, LinkError> {
        if self.link.is_none() {
            self.link = Some(self.opener.open()?);
        }
        Ok(self.link.as_mut().expect("just opened"))
    }

    /// Reads and discards whatever is waiting: a late answer to an earlier query must not be
    /// taken for the answer to the next one.
    fn drain(link: &mut dyn Link) -> std::io::Result<()> {
        let mut buf = [0u8; 64];
        for _ in 0..64 {
            match link.read_waiting(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// One `DLE EOT n` exchange: `Ok(None)` when the printer stays silent.
    fn query(link: &mut dyn Link, n: u8, timeout: Duration) -> std::io::Result<Option<u8>> {
        Self::drain(link)?;
        link.write_all(&status::query(n))?;
        link.flush()?;
        let deadline = Instant::now() + timeout;
        let mut b = [0u8; 1];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            link.set_read_timeout(left)?;
            match link.read(&mut b) {
                Ok(1) if status::is_status_byte(b[0]) => return Ok(Some(b[0])),
                Ok(1) => continue, // noise or a stray byte: keep waiting for a real answer
                Ok(_) => {
                    return Err(std::io::Error::new(ErrorKind::UnexpectedEof, "printer closed the link"));
                }
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => return Ok(None),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Asks the printer how it is. A broken link is dropped, to be reopened next time.
    pub fn status(&mut self) -> Result<(PrinterStatus, RawStatus), PrintError> {
        let timeout = self.cfg.status_timeout;
        let link = self.link()?;
        let mut raw = RawStatus::default();
        let result = (|| -> std::io::Result<()> {
            raw.printer = Self::query(link.as_mut(), 1, timeout)?;
            if raw.printer.is_none() {
                return Ok(()); // a silent printer: do not wait three more timeouts
            }
            raw.offline = Self::query(link.as_mut(), 2, timeout)?;
            raw.error = Self::query(link.as_mut(), 3, timeout)?;
            raw.paper = Self::query(link.as_mut(), 4, timeout)?;
            Ok(())
        })();
        match result {
            Ok(()) => Ok((status::interpret(raw), raw)),
            Err(e) => {
                self.link = None;
                Err(PrintError::Link(LinkError::from_io(self.opener.describe(), e)))
            }
        }
    }

    /// Prints one job: status before, the bytes in chunks, status after.
    pub fn print(&mut self, job: &[u8]) -> Result<Printed, PrintError> {
        let (before, _) = self.status()?;
        if !before.can_print() {
            return Err(PrintError::NotReady(before));
        }
        let (chunk, pause) = (self.cfg.chunk.max(1), self.cfg.chunk_pause);
        let link = self.link()?;
        let sent = (|| -> std::io::Result<()> {
            for (i, c) in job.chunks(chunk).enumerate() {
                if i > 0 && !pause.is_zero() {
                    std::thread::sleep(pause);
                }
                link.write_all(c)?;
            }
            link.flush()
        })();
        if let Err(e) = sent {
            self.link = None;
            return Err(PrintError::Write(e));
        }
        let (after, _) = self.status()?;
        match after {
            PrinterStatus::Ready | PrinterStatus::PaperNearEnd => Ok(Printed { confirmed: true }),
            PrinterStatus::Unknown => Ok(Printed { confirmed: false }),
            fault => Err(PrintError::AfterJob(fault)),
        }
    }
}
