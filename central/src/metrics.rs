//! Counters for `GET /metrics` (Prometheus text format): calls per method, refusals by
//! reason, rate limiting, feed connections. Counts only: no tokens, no patients.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use protocol::Method;

/// Why a call was refused before it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No token, or one central does not know (HTTP 401).
    Unauthorized,
    /// The role may not call the method.
    Role,
    /// Another clinic than the token's.
    Clinic,
    /// Another device than the token's.
    Device,
    /// A cabinet the doctor's token is not bound to.
    Room,
    /// Too many identity lookups or bookings.
    RateLimited,
    /// A requestId reused with different params.
    RequestIdReused,
    /// Too many open feed connections for one token.
    FeedConnections,
    /// A console POST without the session's CSRF token, or from another origin.
    Csrf,
}

impl Refusal {
    const ALL: [Refusal; 9] = [
        Refusal::Unauthorized,
        Refusal::Role,
        Refusal::Clinic,
        Refusal::Device,
        Refusal::Room,
        Refusal::RateLimited,
        Refusal::RequestIdReused,
        Refusal::FeedConnections,
        Refusal::Csrf,
    ];

    fn label(self) -> &'static str {
        match self {
            Refusal::Unauthorized => "unauthorized",
            Refusal::Role => "role",
            Refusal::Clinic => "clinic",
            Refusal::Device => "device",
            Refusal::Room => "room",
            Refusal::RateLimited => "rate_limited",
            Refusal::RequestIdReused => "request_id_reused",
            Refusal::FeedConnections => "feed_connections",
            Refusal::Csrf => "csrf",
        }
    }
}

#[derive(Debug)]
pub struct Metrics {
    calls: Vec<AtomicU64>,
    refused: [AtomicU64; 9],
    feed_open: AtomicI64,
    feed_dropped_slow: AtomicU64,
    feed_dropped_idle: AtomicU64,
    offline_clamped: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            calls: Method::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
            refused: Default::default(),
            feed_open: AtomicI64::new(0),
            feed_dropped_slow: AtomicU64::new(0),
            feed_dropped_idle: AtomicU64::new(0),
            offline_clamped: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    pub fn call(&self, m: Method) {
        if let Some(i) = Method::ALL.iter().position(|x| *x == m) {
            self.calls[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn refused(&self, r: Refusal) {
        let i = Refusal::ALL.iter().position(|x| *x == r).expect("listed");
        self.refused[i].fetch_add(1, Ordering::Relaxed);
    }

    pub fn refused_count(&self, r: Refusal) -> u64 {
        let i = Refusal::ALL.iter().position(|x| *x == r).expect("listed");
        self.refused[i].load(Ordering::Relaxed)
    }

    pub fn feed_opened(&self) {
        self.feed_open.fetch_add(1, Ordering::Relaxed);
    }

    pub fn feed_closed(&self) {
        self.feed_open.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn feed_dropped_slow(&self) {
        self.feed_dropped_slow.fetch_add(1, Ordering::Relaxed);
    }

    pub fn feed_dropped_idle(&self) {
        self.feed_dropped_idle.fetch_add(1, Ordering::Relaxed);
    }

    pub fn offline_clamped(&self, n: u64) {
        self.offline_clamped.fetch_add(n, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("# HELP central_calls_total JSON-RPC calls that passed authorization, by method.\n");
        s.push_str("# TYPE central_calls_total counter\n");
        for (m, c) in Method::ALL.iter().zip(&self.calls) {
            let _ = writeln!(s, "central_calls_total{{method=\"{m}\"}} {}", c.load(Ordering::Relaxed));
        }
        s.push_str("# HELP central_refused_total Calls and feed connections refused, by reason.\n");
        s.push_str("# TYPE central_refused_total counter\n");
        for (r, c) in Refusal::ALL.iter().zip(&self.refused) {
            let _ = writeln!(
                s,
                "central_refused_total{{reason=\"{}\"}} {}",
                r.label(),
                c.load(Ordering::Relaxed)
            );
        }
        let gauge = |s: &mut String, name: &str, help: &str, kind: &str, v: i64| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        };
        gauge(
            &mut s,
            "central_feed_connections",
            "Open queue feed connections.",
            "gauge",
            self.feed_open.load(Ordering::Relaxed),
        );
        let load = |c: &AtomicU64| i64::try_from(c.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
        gauge(
            &mut s,
            "central_feed_dropped_slow_total",
            "Feed connections closed because the board did not take frames in time.",
            "counter",
            load(&self.feed_dropped_slow),
        );
        gauge(
            &mut s,
            "central_feed_dropped_idle_total",
            "Feed connections closed after no pong within the idle timeout.",
            "counter",
            load(&self.feed_dropped_idle),
        );
        gauge(
            &mut s,
            "central_offline_tickets_clamped_total",
            "Offline tickets whose issue time was moved into the kiosk's offline window.",
            "counter",
            load(&self.offline_clamped),
        );
        s
    }
}
