//! Benchmarks of the kiosk side of central: identify (policy -> patient menu data) against
//! central on loopback (target p99 under 50 ms), and the offline journal's append + fsync.

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{BirthDate, Date, DateTime, KioskId, LpuId};
use kiosk::central_link::client::Client;
use kiosk::central_link::executor::CentralRuntime;
use kiosk::central_link::journal::Journal;
use kiosk::config::CentralConfig;
use kiosk::session::{CentralCall, Credentials, Event, RequestId};

fn row(name: &str, target: &str, mut v: Vec<f64>, limit_ms: Option<f64>) {
    v.sort_by(f64::total_cmp);
    let p = |q: f64| v[((v.len() as f64 - 1.0) * q) as usize];
    let result = match limit_ms {
        Some(l) if p(0.99) < l => "pass",
        Some(_) => "FAIL",
        None => "recorded",
    };
    println!("| {name} ({} runs) | {target} | {:.2} ms | {:.2} ms | {result} |", v.len(), p(0.5), p(0.99));
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("infomat-client-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    rt.block_on(async {
        let now = || DateTime::new(Date::from_ymd(2026, 11, 23).unwrap(), 10, 0, 180).unwrap();
        let store = central::store::Store::open(&dir.join("c.sqlite").display().to_string()).await.unwrap();
        central::seed::seed(&store, now().date).await.unwrap();
        let mut tokens = std::collections::HashMap::new();
        tokens.insert("k".to_owned(), 2);
        let mut state = central::app::AppState::new(store, tokens, Arc::new(now));
        state.ident_per_minute = usize::MAX;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(central::app::serve(listener, Arc::new(state), std::future::pending()));
        let cfg = CentralConfig {
            url: format!("http://{addr}"),
            token: "k".into(),
            ca_file: None,
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
        };
        let clock: kiosk::central_link::executor::Clock = Arc::new(now);
        let central =
            CentralRuntime::new(Client::new(&cfg).unwrap(), KioskId(2), LpuId(1), &dir.join("j1"), clock)
                .unwrap();
        let n = if full { 2000 } else { 20 };
        let mut v = Vec::with_capacity(n);
        for i in 0..n {
            let p = domain::demo::patient(i % 50);
            let who = Credentials { enp: p.enp, birth_date: BirthDate(p.birth_date) };
            let t = Instant::now();
            let ev = central.handle(RequestId(i as u64), who, CentralCall::Identify).await;
            v.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(matches!(ev, Event::Central { .. }));
        }
        row("central client: identify on loopback", "p99 < 50 ms", v, Some(50.0));
    });
    let mut j = Journal::open(&dir.join("j2")).unwrap();
    let n = if full { 1000 } else { 10 };
    let mut v = Vec::with_capacity(n);
    let patients = domain::demo::patients();
    for i in 0..n {
        // A different patient each time (the same one again today gets their ticket back
        // without a write): 50 patients a day, over 20 days.
        let p = &patients[i % patients.len()];
        let day = Date::from_ymd(2026, 11, 1 + (i / patients.len()) as u32).unwrap();
        let at = DateTime::new(day, 10, 0, 180).unwrap();
        let t = Instant::now();
        let ticket = j.issue(KioskId(2), p.enp, p.birth_date, at, format!("r{i}")).unwrap();
        assert_eq!(ticket.request_id, format!("r{i}"), "a new ticket, written");
        v.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    row("offline journal: append + fsync", "recorded", v, None);
    let _ = std::fs::remove_dir_all(&dir);
}
