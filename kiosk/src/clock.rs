//! Time as the kiosk runtime reads it: the session's monotonic milliseconds (idle timers) and
//! the clinic's wall clock in its configured zone (what screens and tickets show, and what
//! "today" is). One [`Clock`] is handed to the runtime; tests and the demo hand it a manual one
//! they move forward themselves, so a 45-second idle warning takes no 45 seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::clock::Zone;
use domain::DateTime;

use crate::session::Now;

trait Source: Send + Sync {
    fn mono_ms(&self) -> u64;
    fn wall(&self) -> DateTime;
}

struct System {
    started: Instant,
    zone: Zone,
}

impl Source for System {
    fn mono_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
    fn wall(&self) -> DateTime {
        self.zone.now()
    }
}

/// A clock that moves only when told: it starts at a fixed instant of a fixed zone.
struct Manual {
    elapsed_ms: AtomicU64,
    start_unix: u64,
    zone: Zone,
}

impl Source for Manual {
    fn mono_ms(&self) -> u64 {
        self.elapsed_ms.load(Ordering::SeqCst)
    }
    fn wall(&self) -> DateTime {
        self.zone.at_unix(self.start_unix + self.elapsed_ms.load(Ordering::SeqCst) / 1000)
    }
}

#[derive(Clone)]
pub struct Clock(Arc<dyn Source>);

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.wall())
    }
}

/// Moves a manual clock forward.
#[derive(Clone)]
pub struct ManualTime(Arc<Manual>);

impl std::fmt::Debug for ManualTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ManualTime(+{} ms)", self.0.elapsed_ms.load(Ordering::SeqCst))
    }
}

impl ManualTime {
    pub fn advance(&self, by: Duration) {
        self.0.elapsed_ms.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Clock {
    /// The machine's clock, shown in `zone`.
    pub fn system(zone: Zone) -> Clock {
        Clock(Arc::new(System { started: Instant::now(), zone }))
    }

    /// A clock standing at `unix_secs` in `zone` until moved.
    pub fn manual(unix_secs: u64, zone: Zone) -> (Clock, ManualTime) {
        let m = Arc::new(Manual { elapsed_ms: AtomicU64::new(0), start_unix: unix_secs, zone });
        (Clock(m.clone()), ManualTime(m))
    }

    /// A clock standing at the wall time `at` (its offset is the zone's) until moved.
    pub fn manual_at(at: DateTime) -> (Clock, ManualTime) {
        // `utc_minutes` counts from 1900-01-01; Unix time from 1970-01-01, day 25,567 after it.
        let unix = ((at.utc_minutes() - 25_567 * 1440) * 60).max(0) as u64;
        Clock::manual(unix, Zone::fixed(at.offset_minutes))
    }

    /// What the session is told.
    pub fn now(&self) -> Now {
        Now { ms: self.0.mono_ms(), today: self.0.wall().date }
    }

    pub fn wall(&self) -> DateTime {
        self.0.wall()
    }

    /// The wall clock as a function, for parts that only need that (the central link).
    pub fn wall_fn(&self) -> Arc<dyn Fn() -> DateTime + Send + Sync> {
        let c = self.clone();
        Arc::new(move || c.wall())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let at = DateTime::new(domain::Date::from_ymd(2026, 11, 23).unwrap(), 23, 59, 180).unwrap();
        let (c, t) = Clock::manual_at(at);
        assert_eq!(c.wall(), at);
        assert_eq!(c.now().ms, 0);
        t.advance(Duration::from_secs(120));
        assert_eq!(c.now().ms, 120_000);
        assert_eq!(c.wall().to_string(), "2026-11-24T00:01:00+03:00", "midnight passed: a new day");
    }
}
