//! Local health and metrics for monitoring: `GET /health` (JSON: device and link states) and
//! `GET /metrics` (Prometheus text) on 127.0.0.1:9464 by default. Counters only: nothing
//! personal is ever recorded here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

/// How long a patient's "Позвать сотрудника" stays raised on central's fleet view: long enough
/// for someone to walk over, short enough not to cry wolf all day.
pub const HELP_RAISED_FOR: Duration = Duration::from_secs(10 * 60);

/// Upper bounds of the central-latency histogram, in milliseconds.
const BUCKETS_MS: [u64; 9] = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

pub struct Health {
    pub sessions: AtomicU64,
    pub tickets: AtomicU64,
    pub offline_tickets: AtomicU64,
    pub prints: AtomicU64,
    pub print_failures: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS_MS.len() + 1],
    latency_sum_us: AtomicU64,
    latency_count: AtomicU64,
    pub printer: Mutex<String>,
    pub scanner: Mutex<String>,
    pub card_reader: Mutex<String>,
    pub central: Mutex<String>,
    /// When a patient last asked for staff.
    help_at: Mutex<Option<std::time::Instant>>,
    /// Wakes the heartbeat so that a call for help reaches central now, not in 30 s.
    pub beat_now: tokio::sync::Notify,
    /// The offline journal, read when asked.
    offline: Box<dyn Fn() -> Offline + Send + Sync>,
}

/// The offline journal as monitoring sees it.
#[derive(Debug, Clone, Default)]
pub struct Offline {
    /// Tickets waiting for central.
    pub pending: usize,
    /// Tickets central refused (masked): patients hold these papers; staff must see them.
    pub rejected: Vec<crate::central_link::journal::RejectedTicket>,
}

/// What a central call's answer says about the link, for `/health` and the service screen.
pub fn central_state(ev: &crate::session::Event) -> &'static str {
    use crate::session::{CentralError, Event};
    match ev {
        Event::Central { result: Err(CentralError::Unreachable), .. } => "unreachable",
        // Red, and named: the technician must fix the token or the kiosk's id, not the network.
        Event::Central { result: Err(CentralError::NotAuthorized), .. } => "refused: check the kiosk token",
        _ => "ok",
    }
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health").finish_non_exhaustive()
    }
}

impl Health {
    pub fn new(offline: Box<dyn Fn() -> Offline + Send + Sync>) -> Health {
        Health {
            sessions: AtomicU64::new(0),
            tickets: AtomicU64::new(0),
            offline_tickets: AtomicU64::new(0),
            prints: AtomicU64::new(0),
            print_failures: AtomicU64::new(0),
            latency_buckets: Default::default(),
            latency_sum_us: AtomicU64::new(0),
            latency_count: AtomicU64::new(0),
            printer: Mutex::new("unknown".into()),
            scanner: Mutex::new("unknown".into()),
            card_reader: Mutex::new("unknown".into()),
            central: Mutex::new("unknown".into()),
            help_at: Mutex::new(None),
            beat_now: tokio::sync::Notify::new(),
            offline,
        }
    }

    /// A patient asked for staff: raised on the next heartbeat, sent at once.
    pub fn call_staff(&self) {
        *self.help_at.lock().expect("health lock") = Some(std::time::Instant::now());
        self.beat_now.notify_one();
    }

    /// Whether a call for staff is still raised.
    pub fn help_requested(&self) -> bool {
        self.help_at.lock().expect("health lock").is_some_and(|t| t.elapsed() < HELP_RAISED_FOR)
    }

    /// One central call took `d` and left the link in `state` ("ok", "unreachable", ...).
    pub fn observe_central(&self, d: Duration, state: &str) {
        let ms = d.as_millis() as u64;
        let i = BUCKETS_MS.iter().position(|b| ms <= *b).unwrap_or(BUCKETS_MS.len());
        self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(d.as_micros() as u64, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        *self.central.lock().expect("health lock") = state.into();
    }

    /// The scanner's port is open (scans written before that may be lost: opening a serial
    /// port flushes what waited in it).
    pub fn scanner_connected(&self) -> bool {
        *self.scanner.lock().expect("health lock") == "connected"
    }

    pub fn set(&self, which: &Mutex<String>, state: impl Into<String>) {
        *which.lock().expect("health lock") = state.into();
    }

    pub fn json(&self) -> serde_json::Value {
        let get = |m: &Mutex<String>| m.lock().expect("health lock").clone();
        let offline = (self.offline)();
        json!({
            "version": crate::VERSION,
            "printer": get(&self.printer),
            "scanner": get(&self.scanner),
            "card_reader": get(&self.card_reader),
            "central": get(&self.central),
            "offline_journal_depth": offline.pending,
            "offline_rejected": offline.rejected.iter().map(|r| json!({
                "number": r.local_number,
                "issued_at": r.issued_at.to_string(),
                "policy": r.policy,
                "reason": r.reason,
            })).collect::<Vec<_>>(),
        })
    }

    /// The heartbeat central's fleet view shows (`reportDeviceStatus`): device states as a
    /// word or two, the offline journal's counts; nothing personal.
    pub fn device_status(&self, kiosk: u32) -> protocol::DeviceStatusParams {
        let get = |m: &Mutex<String>| fleet_word(&m.lock().expect("health lock"));
        let offline = (self.offline)();
        protocol::DeviceStatusParams {
            kiosk_id: kiosk,
            version: crate::VERSION.to_owned(),
            printer: get(&self.printer),
            scanner: get(&self.scanner),
            card_reader: get(&self.card_reader),
            journal_backlog: u32::try_from(offline.pending).unwrap_or(u32::MAX),
            journal_rejected: u32::try_from(offline.rejected.len()).unwrap_or(u32::MAX),
            help_requested: self.help_requested(),
        }
    }

    /// The service screen's live status, for a technician standing at the kiosk.
    pub fn status_lines(&self) -> Vec<String> {
        let get = |m: &Mutex<String>| m.lock().expect("health lock").clone();
        let offline = (self.offline)();
        let c = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let n = c(&self.latency_count);
        let avg = c(&self.latency_sum_us)
            .checked_div(n)
            .map(|us| format!(", в среднем {} мс", us / 1000))
            .unwrap_or_default();
        let mut lines = vec![
            format!("Версия: infomat {}", crate::VERSION),
            format!("Принтер: {}", get(&self.printer)),
            format!("Сканер: {}", get(&self.scanner)),
            format!("Считыватель карт: {}", get(&self.card_reader)),
            format!("Центральный сервер: {}{avg}", get(&self.central)),
            format!("Офлайн-журнал: талонов ждут отправки: {}", offline.pending),
            format!(
                "С запуска: сеансов {}, талонов {} (офлайн {}), печатей {}, сбоев печати {}",
                c(&self.sessions),
                c(&self.tickets),
                c(&self.offline_tickets),
                c(&self.prints),
                c(&self.print_failures)
            ),
        ];
        // Newest first: the patient with the refused paper is probably at the desk now.
        for r in offline.rejected.iter().rev().take(5) {
            lines.push(format!(
                "Талон {} ({}, полис {}) не принят: {}",
                r.local_number, r.issued_at, r.policy, r.reason
            ));
        }
        lines
    }

    /// Prometheus text exposition.
    pub fn metrics(&self) -> String {
        let c = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        for (name, help, v) in [
            ("infomat_sessions_total", "Patient sessions ended", c(&self.sessions)),
            ("infomat_tickets_total", "Walk-in tickets issued", c(&self.tickets)),
            ("infomat_offline_tickets_total", "Walk-in tickets issued offline", c(&self.offline_tickets)),
            ("infomat_prints_total", "Documents printed", c(&self.prints)),
            ("infomat_print_failures_total", "Documents that failed to print", c(&self.print_failures)),
        ] {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n"));
        }
        out.push_str("# HELP infomat_offline_journal_depth Offline tickets waiting for central\n# TYPE infomat_offline_journal_depth gauge\n");
        let offline = (self.offline)();
        out.push_str(&format!("infomat_offline_journal_depth {}\n", offline.pending));
        out.push_str("# HELP infomat_offline_rejected Offline tickets central refused (kept for staff)\n# TYPE infomat_offline_rejected gauge\n");
        out.push_str(&format!("infomat_offline_rejected {}\n", offline.rejected.len()));
        out.push_str("# HELP infomat_central_latency_seconds Central call latency\n# TYPE infomat_central_latency_seconds histogram\n");
        let mut cumulative = 0;
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            cumulative += c(&self.latency_buckets[i]);
            out.push_str(&format!(
                "infomat_central_latency_seconds_bucket{{le=\"{}\"}} {cumulative}\n",
                *b as f64 / 1000.0
            ));
        }
        cumulative += c(&self.latency_buckets[BUCKETS_MS.len()]);
        out.push_str(&format!("infomat_central_latency_seconds_bucket{{le=\"+Inf\"}} {cumulative}\n"));
        out.push_str(&format!(
            "infomat_central_latency_seconds_sum {}\n",
            c(&self.latency_sum_us) as f64 / 1e6
        ));
        out.push_str(&format!("infomat_central_latency_seconds_count {}\n", c(&self.latency_count)));
        out
    }
}

pub fn router(h: Arc<Health>) -> Router {
    Router::new()
        .route("/health", get(|State(h): State<Arc<Health>>| async move { axum::Json(h.json()) }))
        .route(
            "/metrics",
            get(|State(h): State<Arc<Health>>| async move {
                ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], h.metrics())
                    .into_response()
            }),
        )
        .with_state(h)
}

/// A device state as the fleet view shows it: `ok`, `none`, `unknown`, `paper low`, `no paper`,
/// `disconnected: ...`, `failed: ...`.
pub fn fleet_word(state: &str) -> String {
    let words = |camel: &str| {
        let mut out = String::new();
        for c in camel.chars() {
            if c.is_uppercase() && !out.is_empty() {
                out.push(' ');
            }
            out.extend(c.to_lowercase());
        }
        out
    };
    match state {
        "Ready" | "connected" => "ok".into(),
        "not configured" => "none".into(),
        "Unknown" | "unknown" => "unknown".into(),
        "PaperLow" => "paper low".into(),
        s => match s.strip_prefix("Unavailable(").and_then(|k| k.strip_suffix(')')) {
            Some("PaperOut") => "no paper".into(),
            Some(kind) => words(kind),
            None => s.into(),
        },
    }
}

/// What a waiting-zone board reports: its feed, not patients (it never has any).
#[derive(Debug, Default)]
pub struct BoardHealth {
    pub feed_up: std::sync::atomic::AtomicBool,
    pub stale: std::sync::atomic::AtomicBool,
    pub calls: AtomicU64,
    pub last_seq: AtomicU64,
}

impl BoardHealth {
    pub fn json(&self) -> serde_json::Value {
        json!({
            "version": crate::VERSION,
            "mode": "display",
            "feed": if self.feed_up.load(Ordering::Relaxed) { "connected" } else { "down" },
            "stale": self.stale.load(Ordering::Relaxed),
            "last_seq": self.last_seq.load(Ordering::Relaxed),
        })
    }

    pub fn metrics(&self) -> String {
        let up = u64::from(self.feed_up.load(Ordering::Relaxed));
        format!(
            "# HELP infomat_display_feed_up Whether the queue feed is connected\n# TYPE infomat_display_feed_up gauge\ninfomat_display_feed_up {up}\n\
             # HELP infomat_display_calls_total Calls shown since start\n# TYPE infomat_display_calls_total counter\ninfomat_display_calls_total {}\n",
            self.calls.load(Ordering::Relaxed)
        )
    }
}

pub fn board_router(h: Arc<BoardHealth>) -> Router {
    Router::new()
        .route("/health", get(|State(h): State<Arc<BoardHealth>>| async move { axum::Json(h.json()) }))
        .route(
            "/metrics",
            get(|State(h): State<Arc<BoardHealth>>| async move {
                ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], h.metrics())
                    .into_response()
            }),
        )
        .with_state(h)
}

/// Serves `router` on `listen` (loopback) from the current runtime until the process ends.
pub async fn serve(listen: String, router: Router) {
    match tokio::net::TcpListener::bind(&listen).await {
        Ok(l) => {
            let _ = axum::serve(l, router).await;
        }
        Err(e) => log::warn!("health endpoint: cannot listen on {listen}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn device_states_reach_the_fleet_view_as_words() {
        assert_eq!(super::fleet_word("Ready"), "ok");
        assert_eq!(super::fleet_word("connected"), "ok");
        assert_eq!(super::fleet_word("not configured"), "none");
        assert_eq!(super::fleet_word("PaperLow"), "paper low");
        assert_eq!(super::fleet_word("Unavailable(PaperOut)"), "no paper");
        assert_eq!(super::fleet_word("Unavailable(CoverOpen)"), "cover open");
        assert_eq!(super::fleet_word("disconnected: timeout"), "disconnected: timeout");
    }

    use super::*;

    #[test]
    fn metrics_are_prometheus_text() {
        let h = Health::new(Box::new(|| Offline {
            pending: 3,
            rejected: vec![crate::central_link::journal::RejectedTicket {
                local_number: "К2-004".into(),
                issued_at: domain::DateTime::new(domain::Date::from_ymd(2026, 12, 3).unwrap(), 9, 5, 180)
                    .unwrap(),
                policy: "7700********0016".into(),
                reason: "PATIENT_NOT_FOUND".into(),
            }],
        }));
        h.tickets.fetch_add(2, Ordering::Relaxed);
        h.observe_central(Duration::from_millis(30), "ok");
        h.observe_central(Duration::from_secs(9), "unreachable");
        let m = h.metrics();
        assert!(m.contains("infomat_tickets_total 2\n"), "{m}");
        assert!(m.contains("infomat_offline_journal_depth 3\n"));
        assert!(m.contains("infomat_central_latency_seconds_bucket{le=\"0.05\"} 1\n"), "{m}");
        assert!(m.contains("infomat_central_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert_eq!(h.json()["central"], "unreachable");
        // A refused offline ticket is shown to monitoring and to the technician, masked.
        assert!(m.contains("infomat_offline_rejected 1\n"), "{m}");
        assert_eq!(h.json()["offline_rejected"][0]["number"], "К2-004");
        assert_eq!(h.json()["offline_rejected"][0]["reason"], "PATIENT_NOT_FOUND");
        let lines = h.status_lines().join("\n");
        assert!(lines.contains("Талон К2-004") && lines.contains("7700********0016"), "{lines}");
    }

    #[test]
    fn the_board_reports_its_feed() {
        let h = BoardHealth::default();
        h.calls.fetch_add(3, Ordering::Relaxed);
        assert_eq!(h.json()["feed"], "down");
        h.feed_up.store(true, Ordering::Relaxed);
        assert_eq!(h.json()["feed"], "connected");
        let m = h.metrics();
        assert!(
            m.contains("infomat_display_feed_up 1\n") && m.contains("infomat_display_calls_total 3\n"),
            "{m}"
        );
    }
}
