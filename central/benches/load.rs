//! Load benchmark of the central service on this machine, over loopback:
//! - reads (getQueueState, getSpecialitiesInfo) from 50 concurrent keep-alive clients:
//!   target at least 3,000 requests/s with p99 under 20 ms;
//! - enqueueWalkIn from 50 concurrent clients: at least 500/s with p99 under 20 ms;
//! - 1,000 WebSocket subscribers: a `called` event reaches each with p99 under 100 ms;
//! - the same reads and enqueues over HTTPS (central's own rustls), in the same run: TLS may
//!   cost at most 15 % of plain throughput;
//! - with INFOMAT_BENCH_PG (a PostgreSQL admin URL; `make bench` starts a throwaway server):
//!   reads and enqueues spread over two central nodes sharing one database: enqueue at least
//!   500/s with p99 under 20 ms.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use central::app::{AppState, serve};
use central::store::Store;
use domain::{Date, Enp};
use protocol::{BOOKING_PATH, QUEUE_PATH};

const TOKEN: &str = "bench";

/// A byte stream to central: plain TCP or TLS.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// Where the load goes: plain HTTP or HTTPS trusting the lab CA.
#[derive(Clone)]
enum Target {
    Plain,
    Tls(tokio_rustls::TlsConnector),
}

/// A keep-alive HTTP/1.1 connection posting JSON.
struct Conn {
    r: BufReader<tokio::io::ReadHalf<Box<dyn Io>>>,
    w: tokio::io::WriteHalf<Box<dyn Io>>,
    port: u16,
}

impl Conn {
    async fn open(addr: &str) -> Conn {
        Conn::open_with(addr, &Target::Plain).await
    }

    async fn open_with(addr: &str, target: &Target) -> Conn {
        let s = TcpStream::connect(addr).await.unwrap();
        s.set_nodelay(true).unwrap();
        let port = s.local_addr().unwrap().port();
        let io: Box<dyn Io> = match target {
            Target::Plain => Box::new(s),
            Target::Tls(c) => {
                let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
                Box::new(c.connect(name, s).await.unwrap())
            }
        };
        let (r, w) = tokio::io::split(io);
        Conn { r: BufReader::new(r), w, port }
    }

    async fn post(&mut self, path: &str, body: &[u8]) -> Vec<u8> {
        self.post_as(TOKEN, path, body).await
    }

    async fn post_as(&mut self, token: &str, path: &str, body: &[u8]) -> Vec<u8> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        self.send(&head, body).await.1
    }

    /// A request with these head lines (no trailing blank line); returns the head and body.
    async fn send(&mut self, head: &str, body: &[u8]) -> (String, Vec<u8>) {
        self.w.write_all(head.as_bytes()).await.unwrap();
        self.w.write_all(body).await.unwrap();
        let mut len = 0;
        let mut answer_head = String::new();
        loop {
            let mut line = String::new();
            self.r.read_line(&mut line).await.unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            answer_head.push_str(&line);
        }
        let mut body = vec![0; len];
        self.r.read_exact(&mut body).await.unwrap();
        (answer_head, body)
    }

    /// The staff console: a form POST or a GET with the session cookie.
    async fn console(&mut self, cookie: &str, path: &str, form: Option<&str>) -> (String, Vec<u8>) {
        let (method, body) = match form {
            Some(f) => ("POST", f.as_bytes()),
            None => ("GET", &b""[..]),
        };
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nCookie: {}={cookie}\r\nAccept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            central::console::COOKIE,
            body.len()
        );
        self.send(&head, body).await
    }
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p) as usize]
}

/// Runs `clients` loops for `secs`, each building its next request with `make(n)`; with
/// `rate` (requests/s over all clients) each client paces itself, otherwise it sends as fast
/// as answers come back (the saturation throughput).
#[allow(clippy::too_many_arguments)]
async fn load(
    addrs: &[String],
    target: &Target,
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
    for i in 0..clients {
        // Clients spread over the nodes.
        let (addr, make, counter) = (addrs[i % addrs.len()].clone(), make.clone(), counter.clone());
        let target = target.clone();
        let period = rate.map(|r| Duration::from_secs_f64(clients as f64 / r));
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open_with(&addr, &target).await;
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
    f64::from(c.port.wrapping_mul(40_503) % 1000) / 1000.0
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

/// Adds `n` attached bench patients (distinct, for one waiting ticket each) and returns their
/// policy numbers.
async fn bench_patients(store: &Store, n: usize, birth: Date) -> Vec<String> {
    let mut enps = Vec::with_capacity(n);
    let mut tx = store.pool.begin().await.unwrap();
    for i in 0..n {
        let mut d = [0u8; 15];
        let mut k = 990_000_000_000 + i as u64;
        for slot in d.iter_mut().rev() {
            *slot = (k % 10) as u8;
            k /= 10;
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
    enps
}

type Make = Arc<dyn Fn(usize) -> (&'static str, Vec<u8>) + Send + Sync>;

fn reads() -> Make {
    let p = domain::demo::patient(0);
    let who = json!({"omsNumber": p.enp.expose(), "birthDate": p.birth_date.to_string()});
    Arc::new(move |n| {
        if n % 2 == 0 {
            (
                QUEUE_PATH,
                serde_json::to_vec(
                    &json!({"jsonrpc": "2.0", "id": n, "method": "getQueueState", "params": {"lpuId": 1}}),
                )
                .unwrap(),
            )
        } else {
            (
                BOOKING_PATH,
                serde_json::to_vec(
                    &json!({"jsonrpc": "2.0", "id": n, "method": "getSpecialitiesInfo", "params": who}),
                )
                .unwrap(),
            )
        }
    })
}

/// Walk-ins, each for the next unused bench patient (`next` is shared by every run on one
/// database, so no patient is queued twice).
fn writes(enps: Arc<Vec<String>>, birth: Date, next: Arc<AtomicUsize>, tag: &'static str) -> Make {
    let birth = birth.to_string();
    Arc::new(move |_| {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": i, "method": "enqueueWalkIn", "params": {
            "omsNumber": enps[i % enps.len()], "birthDate": birth, "lpuId": 1, "kioskId": 1, "requestId": format!("{tag}-{i}")}});
        (QUEUE_PATH, serde_json::to_vec(&body).unwrap())
    })
}

fn tokens() -> central::auth::Tokens {
    use central::auth::{Identity, Tokens};
    let mut t = Tokens::default();
    t.add(TOKEN, Identity::new(protocol::Role::Kiosk, 1, Some(1))).unwrap();
    t.add(DOCTOR, Identity::new(protocol::Role::Doctor, 1, None)).unwrap();
    t.add(HEAD, Identity::new(protocol::Role::Head, 1, None)).unwrap();
    t.add(DESK, Identity::new(protocol::Role::Infodesk, 1, None)).unwrap();
    t
}

const DOCTOR: &str = "bench-doctor";
const HEAD: &str = "bench-head";
const DESK: &str = "bench-desk";

fn state(store: Store) -> Arc<AppState> {
    let mut state =
        AppState::new(store, tokens(), Arc::new(move || common::clock::now_at_offset(central::seed::OFFSET)));
    state.ident_per_minute = usize::MAX;
    // 1,000 subscribers on one bench token: each board has its own in a clinic.
    state.feed_limits.per_token = usize::MAX;
    Arc::new(state)
}

fn p99(lat: &[f64]) -> f64 {
    let mut l = lat.to_vec();
    pct(&mut l, 0.99)
}

/// The doctors see everyone waiting: the next run starts from an empty queue.
async fn served(state: &AppState) {
    sqlx::query("UPDATE ticket SET status = 'done' WHERE status = 'waiting'")
        .execute(&state.store.pool)
        .await
        .unwrap();
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
        // Walk-ins need distinct patients (one waiting ticket each): add bench patients, more
        // than one saturation run issues (~6,000/s for 5 s here; the queue is served between runs).
        let birth = Date::from_ymd(1960, 5, 5).unwrap();
        let enps = Arc::new(bench_patients(&store, if full { 80_000 } else { 3_000 }, birth).await);
        let state = state(store);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(serve(listener, state.clone(), std::future::pending()));
        // The same service over HTTPS, with a lab certificate.
        let lab = central::tls::self_signed(&[]).unwrap();
        let [ca, cert, key] = lab.write(&dir.join("tls")).unwrap();
        let tls_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tls_addr = tls_listener.local_addr().unwrap().to_string();
        let server_tls = central::tls::server_config(&cert, &key).unwrap();
        tokio::spawn(central::app::serve_tls(tls_listener, server_tls, state.clone(), std::future::pending()));
        let mut roots = rustls::RootCertStore::empty();
        use rustls::pki_types::pem::PemObject;
        for c in rustls::pki_types::CertificateDer::pem_file_iter(&ca).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let client_tls = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
        let tls = Target::Tls(tokio_rustls::TlsConnector::from(Arc::new(client_tls)));
        let plain = [addr.clone()];
        let over_tls = [tls_addr];

        let (rps, lat) = load(&plain, &Target::Plain, 50, secs, None, reads(), no_error).await;
        let p = p99(&lat);
        row(&format!("central: reads, 50 clients, SQLite: {rps:.0} req/s"), "≥ 3000 req/s, p99 < 20 ms", lat, rps >= 3000.0 && p < 20.0);
        let (tls_rps, lat) = load(&over_tls, &tls, 50, secs, None, reads(), no_error).await;
        row(&format!("central: reads over TLS, 50 clients, SQLite: {tls_rps:.0} req/s ({:.0} % of plain)", 100.0 * tls_rps / rps), "≥ 85 % of plain", lat, tls_rps >= 0.85 * rps);

        let next = Arc::new(AtomicUsize::new(0));
        let (wps, lat) = load(&plain, &Target::Plain, 50, secs, Some(500.0), writes(enps.clone(), birth, next.clone(), "paced"), no_error).await;
        let p = p99(&lat);
        row(&format!("central: enqueueWalkIn, 50 clients offering 500/s, SQLite: {wps:.0} tickets/s"), "≥ 500/s, p99 < 20 ms", lat, wps >= 490.0 && p < 20.0);
        // How far writes go when 50 clients send as fast as they can, plain and over TLS. Each
        // starts from an empty queue: the thousands a saturation run leaves waiting would make
        // the second run count a longer queue per ticket, and TLS would be blamed for it.
        served(&state).await;
        let (max, lat) = load(&plain, &Target::Plain, 50, secs, None, writes(enps.clone(), birth, next.clone(), "max"), no_error).await;
        row_result(&format!("central: enqueueWalkIn saturation, 50 clients, SQLite: {max:.0} tickets/s"), "-", lat, "info");
        served(&state).await;
        let (tls_max, lat) = load(&over_tls, &tls, 50, secs, None, writes(enps.clone(), birth, next.clone(), "tls"), no_error).await;
        row(&format!("central: enqueueWalkIn saturation over TLS, SQLite: {tls_max:.0} tickets/s ({:.0} % of plain)", 100.0 * tls_max / max), "≥ 85 % of plain", lat, tls_max >= 0.85 * max);

        // Subscribers. The doctor calls from a short queue, as in a clinic: calling the next of
        // the thousands the saturation rows leave waiting would time the search, not the feed.
        served(&state).await;
        let (path, body) = writes(enps.clone(), birth, next.clone(), "called")(0);
        no_error(&Conn::open(&addr).await.post_as(TOKEN, path, &body).await);
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
        let reply = c.post_as(DOCTOR, QUEUE_PATH, &serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "method": "callNext", "params": {"lpuId": 1, "room": "214"}})).unwrap()).await;
        no_error(&reply);
        let mut lat = Vec::new();
        for t in tasks {
            lat.push(t.await.unwrap());
        }
        let p = p99(&lat);
        row(&format!("central: `called` to {subscribers} WebSocket subscribers"), "p99 < 100 ms", lat, p < 100.0);

        console(&addr, &state, &enps, birth, &next, secs, full).await;

        if let Ok(admin) = std::env::var("INFOMAT_BENCH_PG")
            && !admin.is_empty()
        {
            postgresql(&admin, secs, full, birth).await;
        }
        let _ = std::fs::remove_dir_all(&dir);
    });
}

/// Opens a board's feed (the bench token) and returns it after the snapshot.
async fn feed(
    addr: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{addr}/api/queue/v1/events?lpuId=1").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let _snapshot = ws.next().await;
    ws
}

/// The staff console (issue #17): a doctor's button -> the `called` frame on a board's feed,
/// and the doctor's page served with 100 live feed connections open.
async fn console(
    addr: &str,
    state: &AppState,
    enps: &Arc<Vec<String>>,
    birth: Date,
    next: &Arc<AtomicUsize>,
    secs: f64,
    full: bool,
) {
    served(state).await;
    let mut c = Conn::open(addr).await;
    let (cookie, csrf) = console_login(&mut c, DOCTOR, "214").await;
    // Each press calls a fresh ticket.
    let presses = if full { 200 } else { 10 };
    let make = writes(enps.clone(), birth, next.clone(), "console");
    for i in 0..presses {
        let (path, body) = make(i);
        no_error(&Conn::open(addr).await.post(path, &body).await);
    }
    let mut board = feed(addr).await;
    let mut lat = Vec::new();
    let call = format!("csrf={csrf}&room=214&action=call");
    for _ in 0..presses {
        let t0 = Instant::now();
        let (_, answer) = c.console(&cookie, "/console/doctor", Some(&call)).await;
        let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        assert!(answer["error"].is_null(), "{answer}");
        loop {
            let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) = board.next().await else {
                continue;
            };
            if t.contains("\"called\"") {
                break;
            }
        }
        lat.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let p = p99(&lat);
    row(
        &format!(
            "central: console button (callNext) -> `called` frame on a board's feed ({presses} presses)"
        ),
        "p99 ≤ 100 ms (with the board's frame)",
        lat,
        p <= 100.0,
    );
    // 100 boards (or doctors' pages) live while 50 clients load the doctor's page.
    let mut open = Vec::new();
    for _ in 0..100 {
        open.push(feed(addr).await);
    }
    let (rps, lat) = page_rate(addr, &cookie, "/console/", secs).await;
    row(
        &format!(
            "central: console doctor's page, 50 clients, 100 live feed connections, SQLite: {rps:.0} req/s"
        ),
        "≥ 500 req/s",
        lat,
        rps >= 500.0,
    );
    let tickets = sqlx::query("SELECT COUNT(*) FROM ticket").fetch_one(&state.store.pool).await.unwrap();
    let tickets: i64 = sqlx::Row::get(&tickets, 0);
    // What a head's page costs when its report is made fresh (it is kept 2 s when costly).
    let mut lat = Vec::new();
    for _ in 0..if full { 20 } else { 3 } {
        let t = Instant::now();
        central::duty::day_report(&state.store, 1, (state.clock)()).await.unwrap();
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    row(
        &format!("central: the head's day report made fresh, {tickets} tickets today, SQLite"),
        "recorded",
        lat,
        true,
    );
    for (token, what) in [(HEAD, "head's page (today's report)"), (DESK, "info desk's page")] {
        let (cookie, _) = console_login(&mut Conn::open(addr).await, token, "").await;
        let (rps, lat) = page_rate(addr, &cookie, "/console/", secs).await;
        row(
            &format!(
                "central: console {what}, {tickets} tickets today, 50 clients, 100 live feeds, SQLite: {rps:.0} req/s"
            ),
            "≥ 500 req/s",
            lat,
            rps >= 500.0,
        );
    }
    drop(open);
}

/// Logs in to the console with `token` (a doctor in `room`): the session cookie and its CSRF
/// token.
async fn console_login(c: &mut Conn, token: &str, room: &str) -> (String, String) {
    let login = format!("token={token}&room={room}");
    let (head, _) = c
        .send(
            &format!(
                "POST /console/login HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
                login.len()
            ),
            login.as_bytes(),
        )
        .await;
    let cookie = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().starts_with("set-cookie:").then(|| l.to_owned()))
        .and_then(|l| l.split_once('=').map(|(_, v)| v.split(';').next().unwrap_or_default().to_owned()))
        .expect("a console session");
    let (_, page) = c.console(&cookie, "/console/", None).await;
    let page = String::from_utf8(page).unwrap();
    let at = page.find(r#"name="csrf" value=""#).unwrap() + 19;
    (cookie, page[at..at + 64].to_owned())
}

/// 50 clients loading `path` with `cookie` for `secs`: requests per second and latencies.
async fn page_rate(addr: &str, cookie: &str, path: &str, secs: f64) -> (f64, Vec<f64>) {
    let count = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (addr, cookie, count, path) =
            (addr.to_owned(), cookie.to_owned(), count.clone(), path.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut c = Conn::open(&addr).await;
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let (head, _) = c.console(&cookie, &path, None).await;
                assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                count.fetch_add(1, Ordering::Relaxed);
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    (count.load(Ordering::Relaxed) as f64 / secs, lat)
}

/// Two central nodes on one PostgreSQL database, the clients spread over both.
async fn postgresql(admin: &str, secs: f64, full: bool, birth: Date) {
    use sqlx::Connection;
    let name = format!("infomat_bench_{}", std::process::id());
    let mut c = sqlx::PgConnection::connect(admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.unwrap();
    let url = format!("{}/{name}", admin.rsplit_once('/').map_or(admin, |(b, _)| b));
    let store = Store::open(&url).await.unwrap();
    central::seed::seed(&store, common::clock::now_at_offset(central::seed::OFFSET).date).await.unwrap();
    let enps = Arc::new(bench_patients(&store, if full { 30_000 } else { 3_000 }, birth).await);
    let mut addrs = Vec::new();
    for s in [store, Store::open(&url).await.unwrap()] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        addrs.push(listener.local_addr().unwrap().to_string());
        tokio::spawn(serve(listener, state(s), std::future::pending()));
    }
    let (rps, lat) = load(&addrs, &Target::Plain, 50, secs, None, reads(), no_error).await;
    row_result(
        &format!("central: reads, 50 clients, 2 nodes on PostgreSQL: {rps:.0} req/s"),
        "-",
        lat,
        "info",
    );
    let next = Arc::new(AtomicUsize::new(0));
    let (wps, lat) = load(
        &addrs,
        &Target::Plain,
        50,
        secs,
        Some(500.0),
        writes(enps.clone(), birth, next.clone(), "pg"),
        no_error,
    )
    .await;
    let p = p99(&lat);
    row(
        &format!(
            "central: enqueueWalkIn, 50 clients offering 500/s, 2 nodes on PostgreSQL: {wps:.0} tickets/s"
        ),
        "≥ 500/s, p99 ≤ 20 ms",
        lat,
        wps >= 490.0 && p <= 20.0,
    );
    let (max, lat) =
        load(&addrs, &Target::Plain, 50, secs, None, writes(enps, birth, next, "pgmax"), no_error).await;
    row_result(
        &format!("central: enqueueWalkIn saturation, 2 nodes on PostgreSQL: {max:.0} tickets/s"),
        "-",
        lat,
        "info",
    );
}
