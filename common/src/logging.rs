//! The `log` backend.
//!
//! Under systemd, stderr is connected to the journal (`JOURNAL_STREAM` names it); there each
//! line starts with a `<N>` syslog priority, which journald turns into the entry's priority and
//! strips, so `journalctl -p warning` works without linking libsystemd. Elsewhere lines carry a
//! UTC timestamp and the level in words.
//!
//! Patient data never reaches this module in clear: the domain types format themselves masked.

use std::io::Write;
use std::os::unix::fs::MetadataExt;

use log::{Level, LevelFilter, Log, Metadata, Record};

#[derive(Debug)]
struct Logger {
    level: LevelFilter,
    journald: bool,
}

/// True when stderr is the stream systemd's `JOURNAL_STREAM` names (`DEV:INODE`).
fn stderr_is_journal() -> bool {
    let Ok(v) = std::env::var("JOURNAL_STREAM") else { return false };
    let Some((dev, ino)) = v.split_once(':') else { return false };
    let Ok(meta) = std::fs::metadata("/proc/self/fd/2") else { return false };
    dev.parse::<u64>().is_ok_and(|d| d == meta.dev()) && ino.parse::<u64>().is_ok_and(|i| i == meta.ino())
}

fn syslog_priority(level: Level) -> u8 {
    match level {
        Level::Error => 3,
        Level::Warn => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

/// `2026-11-21T23:46:19Z` from the system clock.
fn utc_now() -> String {
    let secs = crate::clock::unix_seconds();
    let t = crate::clock::from_unix(secs, 0);
    format!("{}T{:02}:{:02}:{:02}Z", t.date, t.hour(), t.minute(), secs % 60)
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = if self.journald {
            format!("<{}>{}: {}\n", syslog_priority(record.level()), record.target(), record.args())
        } else {
            format!("{} {:5} {}: {}\n", utc_now(), record.level(), record.target(), record.args())
        };
        // One write per line so lines from threads do not interleave; a closed stderr is not
        // worth crashing a kiosk over.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// Installs the logger. `RUST_LOG` (a level name) overrides `level` for debugging on site.
/// A second call keeps the first logger.
pub fn init(level: LevelFilter) {
    let level = std::env::var("RUST_LOG").ok().and_then(|v| v.parse().ok()).unwrap_or(level);
    let logger = Logger { level, journald: stderr_is_journal() };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(level);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_follow_syslog() {
        assert_eq!(syslog_priority(Level::Error), 3);
        assert_eq!(syslog_priority(Level::Warn), 4);
        assert_eq!(syslog_priority(Level::Info), 6);
    }

    #[test]
    fn timestamps_look_like_iso() {
        let t = utc_now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.starts_with("20") && t.ends_with('Z'), "{t}");
    }
}
