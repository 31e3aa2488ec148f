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
    pub central: Mutex<String>,
    /// Offline tickets waiting for central, read when asked.
    journal_depth: Box<dyn Fn() -> usize + Send + Sync>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health").finish_non_exhaustive()
    }
}

impl Health {
    pub fn new(journal_depth: Box<dyn Fn() -> usize + Send + Sync>) -> Health {
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
            central: Mutex::new("unknown".into()),
            journal_depth,
        }
    }

    pub fn observe_central(&self, d: Duration, ok: bool) {
        let ms = d.as_millis() as u64;
        let i = BUCKETS_MS.iter().position(|b| ms <= *b).unwrap_or(BUCKETS_MS.len());
        self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(d.as_micros() as u64, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        *self.central.lock().expect("health lock") = if ok { "ok".into() } else { "unreachable".into() };
    }

    pub fn set(&self, which: &Mutex<String>, state: impl Into<String>) {
        *which.lock().expect("health lock") = state.into();
    }

    pub fn json(&self) -> serde_json::Value {
        let get = |m: &Mutex<String>| m.lock().expect("health lock").clone();
        json!({
            "version": crate::VERSION,
            "printer": get(&self.printer),
            "scanner": get(&self.scanner),
            "central": get(&self.central),
            "offline_journal_depth": (self.journal_depth)(),
        })
    }

    /// The service screen's live status, for a technician standing at the kiosk.
    pub fn status_lines(&self) -> Vec<String> {
        let get = |m: &Mutex<String>| m.lock().expect("health lock").clone();
        let c = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let n = c(&self.latency_count);
        let avg = c(&self.latency_sum_us)
            .checked_div(n)
            .map(|us| format!(", в среднем {} мс", us / 1000))
            .unwrap_or_default();
        vec![
            format!("Версия: infomat {}", crate::VERSION),
            format!("Принтер: {}", get(&self.printer)),
            format!("Сканер: {}", get(&self.scanner)),
            format!("Центральный сервер: {}{avg}", get(&self.central)),
            format!("Офлайн-журнал: талонов ждут отправки: {}", (self.journal_depth)()),
            format!(
                "С запуска: сеансов {}, талонов {} (офлайн {}), печатей {}, сбоев печати {}",
                c(&self.sessions),
                c(&self.tickets),
                c(&self.offline_tickets),
                c(&self.prints),
                c(&self.print_failures)
            ),
        ]
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
        out.push_str(&format!("infomat_offline_journal_depth {}\n", (self.journal_depth)()));
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
    use super::*;

    #[test]
    fn metrics_are_prometheus_text() {
        let h = Health::new(Box::new(|| 3));
        h.tickets.fetch_add(2, Ordering::Relaxed);
        h.observe_central(Duration::from_millis(30), true);
        h.observe_central(Duration::from_secs(9), false);
        let m = h.metrics();
        assert!(m.contains("infomat_tickets_total 2\n"), "{m}");
        assert!(m.contains("infomat_offline_journal_depth 3\n"));
        assert!(m.contains("infomat_central_latency_seconds_bucket{le=\"0.05\"} 1\n"), "{m}");
        assert!(m.contains("infomat_central_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert_eq!(h.json()["central"], "unreachable");
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
