//! The policy scanner driver: a link, the idle-gap framer, and reconnection.
//!
//! Runs on its own thread (serial IO is blocking): [`Scanner::next_event`] blocks until a scan,
//! a disconnect or a reconnect happens. Read timeouts follow the framer's deadline, so a scan is
//! reported as soon as the gap has passed, not at the next polling tick.

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

use crate::link::{Link, LinkError, Opener};

use super::framing::{Framer, Scan, classify};

/// How often a missing scanner is looked for again.
pub const REOPEN_EVERY: Duration = Duration::from_secs(1);
/// Longest a read blocks while idle, so a stop request is seen promptly.
const IDLE_READ: Duration = Duration::from_millis(200);

#[derive(Debug)]
pub enum ScannerEvent {
    Connected(String),
    Disconnected(LinkError),
    Scan(Scan),
}

pub struct Scanner {
    opener: Box<dyn Opener>,
    link: Option<Box<dyn Link>>,
    framer: Framer,
    /// Whether the last open attempt failed (a failure is reported once, not every second).
    down_reported: bool,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner").field("link", &self.opener.describe()).finish_non_exhaustive()
    }
}

impl Scanner {
    pub fn new(opener: Box<dyn Opener>, idle_gap: Duration) -> Scanner {
        Scanner { opener, link: None, framer: Framer::new(idle_gap), down_reported: false }
    }

    pub fn describe(&self) -> String {
        self.opener.describe()
    }

    /// Blocks until something happens, or `None` when `until` passes first.
    pub fn next_event(&mut self, until: Option<Instant>) -> Option<ScannerEvent> {
        let mut buf = [0u8; 512];
        loop {
            let now = Instant::now();
            if let Some(frame) = self.framer.poll(now) {
                return Some(ScannerEvent::Scan(classify(&frame)));
            }
            if until.is_some_and(|u| now >= u) {
                return None;
            }
            let Some(link) = self.link.as_mut() else {
                match self.opener.open() {
                    Ok(l) => {
                        self.link = Some(l);
                        self.down_reported = false;
                        return Some(ScannerEvent::Connected(self.opener.describe()));
                    }
                    Err(e) => {
                        let report = !self.down_reported;
                        self.down_reported = true;
                        if report {
                            return Some(ScannerEvent::Disconnected(e));
                        }
                        let pause = until
                            .map_or(REOPEN_EVERY, |u| u.saturating_duration_since(now).min(REOPEN_EVERY));
                        std::thread::sleep(pause);
                        continue;
                    }
                }
            };
            // Wake exactly when the gap ends, or when the caller wants control back.
            let mut wait = self.framer.deadline().map_or(IDLE_READ, |d| d.saturating_duration_since(now));
            if let Some(u) = until {
                wait = wait.min(u.saturating_duration_since(now));
            }
            let _ = link.set_read_timeout(wait.max(Duration::from_millis(1)));
            match link.read(&mut buf) {
                Ok(0) => {
                    return Some(
                        self.lost(std::io::Error::new(ErrorKind::UnexpectedEof, "scanner closed the link")),
                    );
                }
                Ok(n) => self.framer.push(&buf[..n], Instant::now()),
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Some(self.lost(e)),
            }
        }
    }

    fn lost(&mut self, e: std::io::Error) -> ScannerEvent {
        // A half-received scan is garbage now: drop it rather than decode a fragment.
        self.framer.reset();
        self.link = None;
        self.down_reported = true;
        ScannerEvent::Disconnected(LinkError::from_io(self.opener.describe(), e))
    }
}
