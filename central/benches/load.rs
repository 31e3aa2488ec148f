//! Load benchmark of the central service on this machine, SQLite, over loopback:
//! - reads (getQueueState, getSpecialitiesInfo) from 50 concurrent keep-alive clients:
//!   target at least 3,000 requests/s with p99 under 20 ms;
//! - enqueueWalkIn from 50 concurrent clients: at least 500/s with p99 under 20 ms;
//! - 1,000 WebSocket subscribers: a `called` event reaches each with p99 under 100 ms.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use central::app::{AppState, serve};
use central::store::Store;
use domain::wire::{BOOKING_PATH, QUEUE_PATH};
use domain::{Date, Enp};

const TOKEN: &str = "bench";

/// A keep-alive HTTP/1.1 connection posting JSON.
struct Conn {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
}

impl Conn {
    async fn open(addr: &str) -> Conn {
        let s = TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        let (r, w) = s.into_split();
        Conn { r: BufReader::new(r), w }
    }

    async fn post(&mut self, path: &str, body: &[u8]) -> Vec<u8> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        self.w.write_all(head.as_bytes()).await.unwrap();
        self.w.write_all(body).await.unwrap();
        let mut len = 0;
        loop {
            let mut line = String::new();
            self.r.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        self.r.read_exact(&mut body).await.unwrap();
        body
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p) as usize]
}

/// Runs `clients` loops for `secs`, each building its next request with `make(n)`; with
/// `rate` (requests/s over all clients) each client paces itself, otherwise it sends as fast
/// as answers come back (the saturation throughput).
async fn load(
    addr: &str,
    clients: usize,
    secs: f64,
    rate: Option<f64>,
    make: Arc<dyn Fn(usize) -> (&'static str, Vec<u8>) + Send + Sync>,
    check: fn(&[u8]),
) -> (f64, Vec<f64>) {
    let counter = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (addr, make, counter) = (addr.to_owned(), make.clone(), counter.clone());
        let period = rate.map(|r| Duration::from_secs_f64(clients as f64 / r));
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open(&addr).await;
            let mut lat = Vec::new();
            // Spread the clients' first requests over one period.
            let mut next = Instant::now() + period.map_or(Duration::ZERO, |p| p.mul_f64(rand_fraction(&c)));
            while Instant::now() < deadline {
                if let Some(p) = period {
                    tokio::time::sleep_until(next.into()).await;
                    next += p;
                }
                let (path, body) = make(counter.fetch_add(1, Ordering::Relaxed));
                let t = Instant::now();
                let reply = c.post(path, &body).await;
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                check(&reply);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all.len() as f64 / start.elapsed().as_secs_f64(), all)
}

/// A per-connection pseudo-random fraction (the local port), to stagger paced clients.
fn rand_fraction(c: &Conn) -> f64 {
    let port = c.w.local_addr().map_or(0, |a| a.port());
    f64::from(port.wrapping_mul(40_503) % 1000) / 1000.0
}

fn no_error(reply: &[u8]) {
    let v: serde_json::Value = serde_json::from_slice(reply).unwrap();
    assert!(v.get("error").is_none(), "{v}");
}

fn row(name: &str, target: &str, lat: Vec<f64>, pass: bool) {
    row_result(name, target, lat, if pass { "pass" } else { "FAIL" });
}

fn row_result(name: &str, target: &str, mut lat: Vec<f64>, result: &str) {
    let (m, p) = (pct(&mut lat, 0.5), pct(&mut lat, 0.99));
    println!("| {name} | {target} | {m:.2} ms | {p:.2} ms | {result} |");
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let secs = if full { 5.0 } else { 0.3 };
    let subscribers = if full { 1000 } else { 20 };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let dir = std::env::temp_dir().join(format!("infomat-central-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir.join("bench.sqlite").display().to_string()).await.unwrap();
        let now = common::clock::now_at_offset(central::seed::OFFSET);
        central::seed::seed(&store, now.date).await.unwrap();
        // Walk-ins need distinct patients (one waiting ticket each): add bench patients.
        let bench_patients = if full { 20_000usize } else { 2_000 };
        let birth = Date::from_ymd(1960, 5, 5).unwrap();
        let mut enps = Vec::with_capacity(bench_patients);
        {
            let mut tx = store.pool.begin().await.unwrap();
            for i in 0..bench_patients {
                let mut d = [0u8; 15];
                let mut n = 990_000_000_000 + i as u64;
                for slot in d.iter_mut().rev() {
                    *slot = (n % 10) as u8;
                    n /= 10;
                }
                let enp = Enp::with_check_digit(&d);
                sqlx::query("INSERT INTO patient (enp, birth_date, last_name, first_name, middle_name, sex, lpu_id, attach_date) VALUES ($1, $2, 'НАГРУЗКА', 'ТЕСТ', NULL, 'male', 1, '2020-01-01')")
                    .bind(enp.expose())
                    .bind(birth.to_string())
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                enps.push(enp.expose());
            }
            tx.commit().await.unwrap();
        }
        let mut tokens = std::collections::HashMap::new();
        tokens.insert(TOKEN.to_owned(), 1);
        let mut state = AppState::new(store, tokens, Arc::new(move || common::clock::now_at_offset(central::seed::OFFSET)));
        state.ident_per_minute = usize::MAX;
        let state = Arc::new(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(serve(listener, state.clone(), std::future::pending()));

        let p = domain::demo::patient(0);
        let who = json!({"omsNumber": p.enp.expose(), "birthDate": p.birth_date.to_string()});
        let reads: Arc<dyn Fn(usize) -> (&'static str, Vec<u8>) + Send + Sync> = Arc::new(move |n| {
            if n % 2 == 0 {
                (QUEUE_PATH, serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": n, "method": "getQueueState", "params": {"lpuId": 1}})).unwrap())
            } else {
                (BOOKING_PATH, serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": n, "method": "getSpecialitiesInfo", "params": who})).unwrap())
            }
        });
        let (rps, lat) = load(&addr, 50, secs, None, reads, no_error).await;
        let mut l2 = lat.clone();
        let p99 = pct(&mut l2, 0.99);
        row(&format!("central: reads, 50 clients, SQLite: {rps:.0} req/s"), "≥ 3000 req/s, p99 < 20 ms", lat, rps >= 3000.0 && p99 < 20.0);

        let enps = Arc::new(enps);
        let birth = birth.to_string();
        let writes: Arc<dyn Fn(usize) -> (&'static str, Vec<u8>) + Send + Sync> = Arc::new(move |n| {
            let body = json!({"jsonrpc": "2.0", "id": n, "method": "enqueueWalkIn", "params": {
                "omsNumber": enps[n % enps.len()], "birthDate": birth, "lpuId": 1, "kioskId": 1, "requestId": format!("bench-{n}")}});
            (QUEUE_PATH, serde_json::to_vec(&body).unwrap())
        });
        let (wps, lat) = load(&addr, 50, secs, Some(500.0), writes.clone(), no_error).await;
        let mut l2 = lat.clone();
        let p99 = pct(&mut l2, 0.99);
        row(&format!("central: enqueueWalkIn, 50 clients offering 500/s, SQLite: {wps:.0} tickets/s"), "≥ 500/s, p99 < 20 ms", lat, wps >= 490.0 && p99 < 20.0);
        // For the record: how far writes go when 50 clients send as fast as they can.
        let (max, lat) = load(&addr, 50, secs, None, writes, no_error).await;
        row_result(&format!("central: enqueueWalkIn saturation, 50 clients: {max:.0} tickets/s"), "-", lat, "info");

        // Subscribers.
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(subscribers);
        let (go_tx, _) = tokio::sync::broadcast::channel::<Instant>(1);
        let mut tasks = Vec::new();
        for _ in 0..subscribers {
            let (addr, ready_tx, mut go) = (addr.clone(), ready_tx.clone(), go_tx.subscribe());
            tasks.push(tokio::spawn(async move {
                use tokio_tungstenite::tungstenite::client::IntoClientRequest;
                let mut req = format!("ws://{addr}/api/queue/v1/events?lpuId=1").into_client_request().unwrap();
                req.headers_mut().insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
                let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
                let _snapshot = ws.next().await;
                ready_tx.send(()).await.unwrap();
                let t0 = go.recv().await.unwrap();
                loop {
                    let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) = ws.next().await else { continue };
                    if t.contains("\"called\"") {
                        return t0.elapsed().as_secs_f64() * 1000.0;
                    }
                }
            }));
        }
        for _ in 0..subscribers {
            ready_rx.recv().await.unwrap();
        }
        let mut c = Conn::open(&addr).await;
        let t0 = Instant::now();
        go_tx.send(t0).unwrap();
        let reply = c.post(QUEUE_PATH, &serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "method": "callNext", "params": {"lpuId": 1, "room": "214"}})).unwrap()).await;
        no_error(&reply);
        let mut lat = Vec::new();
        for t in tasks {
            lat.push(t.await.unwrap());
        }
        let mut l2 = lat.clone();
        let p99 = pct(&mut l2, 0.99);
        row(&format!("central: `called` to {subscribers} WebSocket subscribers"), "p99 < 100 ms", lat, p99 < 100.0);
        let _ = std::fs::remove_dir_all(&dir);
    });
}
