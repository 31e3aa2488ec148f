//! The integrity edges that only show with several nodes on one PostgreSQL: 20 kiosks racing
//! one slot, a retried booking racing itself, a move racing a cancel, a rate limit shared by
//! two central processes, the feed made up after a lost LISTEN connection, and `sslmode`.
//! Each test says "skipped" and passes without INFOMAT_TEST_PG; `make test` runs them
//! (scripts/test-pg.sh).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use serde_json::{Value, json};

use central::app::{AppState, serve};
use central::auth::{Identity, TokenRecord, Tokens};
use protocol::{BOOKING_PATH, FeedEvent, QUEUE_PATH, Role};

fn pg() -> bool {
    let on = std::env::var("INFOMAT_TEST_PG").is_ok_and(|v| !v.is_empty());
    if !on {
        eprintln!("skipped: set INFOMAT_TEST_PG (make test does) to run the PostgreSQL tests");
    }
    on
}

async fn start(state: Arc<AppState>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, state, std::future::pending()));
    addr
}

/// Two nodes on one fresh database, sharing `tokens`.
async fn two_nodes(tokens: Tokens) -> (TestApp, [String; 2]) {
    let a = TestApp::new().await;
    a.state.set_tokens(tokens.clone());
    let store_b = central::store::Store::open(&a.state.store.url).await.unwrap();
    let b = Arc::new(AppState::new(store_b, tokens, Arc::new(now)));
    let urls = [start(a.state.clone()).await, start(b).await];
    (a, urls)
}

async fn post(base: &str, path: &str, token: &str, method: &str, params: Value) -> (u16, Value) {
    let body =
        serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})).unwrap();
    let (status, body) = central::client::post(base, path, Some(token), &body).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn twenty_kiosks_race_one_slot_on_two_nodes() {
    if !pg() {
        return;
    }
    let mut tokens = tokens();
    let kiosks: Vec<String> = (0..20).map(|i| format!("race-kiosk-{i}")).collect();
    for (i, t) in kiosks.iter().enumerate() {
        tokens.add(t, Identity::new(Role::Kiosk, 1, Some(100 + i as u32))).unwrap();
    }
    let (app, urls) = two_nodes(tokens).await;
    let (start, end, cr) = first_slot(&app, &patient(0), 102, 0).await;
    let racers = therapist_patients(20);
    let mut tasks = Vec::new();
    for (n, (i, token)) in racers.into_iter().zip(kiosks).enumerate() {
        let base = urls[n % 2].clone();
        let params = with(
            &domain::demo::patient(i),
            json!({"availableResourceId": 102, "complexResourceId": cr, "startTime": start, "endTime": end, "requestId": format!("race-{n}")}),
        );
        tasks.push(tokio::spawn(async move {
            post(&base, BOOKING_PATH, &token, "createAppointment", params).await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        let (status, v) = t.await.unwrap();
        assert_eq!(status, 200, "{v}");
        match v["error"]["data"]["code"].as_str() {
            None => wins += 1,
            Some(code) => assert_eq!(code, "SLOT_TAKEN", "{v}"),
        }
    }
    assert_eq!(wins, 1, "exactly one booking");
    let booked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM appointment a JOIN slot s ON s.id = a.slot_id WHERE s.doctor_id = 102 AND a.active = 1 AND s.start_time = $1")
        .bind(start.as_str().unwrap())
        .fetch_one(&app.state.store.pool)
        .await
        .unwrap();
    assert_eq!(booked, 1);
}

#[tokio::test]
async fn a_booking_retried_while_still_running_is_never_slot_taken() {
    if !pg() {
        return;
    }
    let (app, urls) = two_nodes(tokens()).await;
    let p = patient(0);
    let (start, end, cr) = first_slot(&app, &p, 101, 2).await;
    // The kiosk timed out and retried, several times, on both nodes: one request, one answer.
    let params = with(
        &p,
        json!({"availableResourceId": 101, "complexResourceId": cr, "startTime": start, "endTime": end, "requestId": "slow-1"}),
    );
    let mut tasks = Vec::new();
    for n in 0..10 {
        let (base, params) = (urls[n % 2].clone(), params.clone());
        tasks.push(tokio::spawn(async move {
            post(&base, BOOKING_PATH, TOKEN, "createAppointment", params).await
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        let (_, v) = t.await.unwrap();
        ids.push(ok(&v)["appointmentId"].as_u64().expect("the caller's own booking, never SLOT_TAKEN"));
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    // And without a requestId: the same patient asking again for the slot it holds.
    let again = with(
        &p,
        json!({"availableResourceId": 101, "complexResourceId": cr, "startTime": start, "endTime": end}),
    );
    assert_eq!(ok(&app.booking("createAppointment", again).await)["appointmentId"].as_u64(), Some(ids[0]));
}

#[tokio::test]
async fn a_move_racing_a_cancel_never_leaves_both_done() {
    if !pg() {
        return;
    }
    let (app, urls) = two_nodes(tokens()).await;
    let p = patient(0);
    for round in 0..8 {
        let (s1, e1, cr) = first_slot(&app, &p, 101, 0).await;
        let (s2, e2, _) = first_slot(&app, &p, 101, 1).await;
        let v = app
            .booking("createAppointment", with(&p, json!({"availableResourceId": 101, "complexResourceId": cr, "startTime": s1, "endTime": e1})))
            .await;
        let id = ok(&v)["appointmentId"].clone();
        let shift = with(
            &p,
            json!({"appointmentId": id, "availableResourceId": 101, "complexResourceId": cr, "startTime": s2, "endTime": e2}),
        );
        let cancel = with(&p, json!({"appointmentId": id}));
        let (a, b) = (urls[0].clone(), urls[1].clone());
        let (shifted, cancelled) = tokio::join!(
            post(&a, BOOKING_PATH, TOKEN, "shiftAppointment", shift),
            post(&b, BOOKING_PATH, TOKEN, "cancelAppointment", cancel)
        );
        let both = shifted.1.get("error").is_none() && cancelled.1.get("error").is_none();
        assert!(!both, "round {round}: moved and cancelled at once: {} / {}", shifted.1, cancelled.1);
        // Start the next round with nothing booked.
        let v = app.booking("getAppointmentReceptionsByPatient", who(&p)).await;
        for r in ok(&v).as_array().unwrap() {
            ok(&app.booking("cancelAppointment", with(&p, json!({"appointmentId": r["id"]}))).await);
        }
    }
}

#[tokio::test]
async fn two_central_processes_share_one_rate_limit() {
    if !pg() {
        return;
    }
    let app = TestApp::new().await;
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("pg-rate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db_file = dir.join("db-url");
    std::fs::write(&db_file, &app.state.store.url).unwrap();
    let tokens_file = dir.join("tokens");
    std::fs::write(&tokens_file, TokenRecord::new(TOKEN, &Identity::new(Role::Kiosk, 1, Some(2))).to_toml())
        .unwrap();
    let mut nodes = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..2 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_central"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--ident-per-minute", "3"])
            .arg("--db-file")
            .arg(&db_file)
            .arg("--tokens-file")
            .arg(&tokens_file)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        nodes.push(KillOnDrop(child));
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    for b in &bases {
        let t = Instant::now();
        while central::client::post(b, QUEUE_PATH, None, b"{}").await.is_err() {
            assert!(t.elapsed() < Duration::from_secs(20), "{b} did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    clear_of_a_minute_end().await;
    let unknown = |n: u64| json!({"omsNumber": format!("{:016}", 7_700_000_000_000_016u64 + n * 100), "birthDate": "1990-01-01"});
    let mut codes = Vec::new();
    for n in 0..6 {
        let (_, v) = post(&bases[(n % 2) as usize], BOOKING_PATH, TOKEN, "getPatientInfo3", unknown(n)).await;
        codes.push(err_code(&v).to_owned());
    }
    // Per-process counting would allow 3 on each node, 6 in all.
    assert_eq!(
        codes,
        [
            "PATIENT_NOT_FOUND",
            "PATIENT_NOT_FOUND",
            "PATIENT_NOT_FOUND",
            "RATE_LIMITED",
            "RATE_LIMITED",
            "RATE_LIMITED"
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_board_catches_up_on_events_committed_while_listen_was_down() {
    if !pg() {
        return;
    }
    let (app, urls) = two_nodes(tokens()).await;
    for (i, rid) in [(0, "a"), (1, "b")] {
        ok(&post(
            &urls[1],
            QUEUE_PATH,
            TOKEN,
            "enqueueWalkIn",
            with(&patient(i), json!({"lpuId": 1, "kioskId": 2, "requestId": rid})),
        )
        .await
        .1);
    }
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("{}/api/queue/v1/events?lpuId=1", urls[0].replace("http", "ws"))
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {BOARD}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let _snapshot = ws.next().await;
    tokio::time::sleep(Duration::from_millis(500)).await; // both nodes listen, A has relayed the enqueues
    // Cut every LISTEN connection and keep them from coming back while a call is made: its
    // NOTIFY reaches nobody. (Node B calls through a pooled connection it already has.)
    let pool = &app.state.store.pool;
    let db: String =
        sqlx::query_scalar("SELECT CAST(current_database() AS TEXT)").fetch_one(pool).await.unwrap();
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&std::env::var("INFOMAT_TEST_PG").unwrap()).await.unwrap();
    sqlx::query(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false")).execute(&mut admin).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND datname = current_database()")
        .execute(pool)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let called = post(&urls[1], QUEUE_PATH, DOCTOR, "callNext", json!({"lpuId": 1, "room": "301"})).await;
    sqlx::query(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true")).execute(&mut admin).await.unwrap();
    ok(&called.1);
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) = ws.next().await else {
                continue;
            };
            if let Ok(FeedEvent::Called { room, .. }) = serde_json::from_str(&t) {
                return room;
            }
        }
    })
    .await;
    assert_eq!(got.expect("the call reaches the board after LISTEN reconnects"), "301");
}

#[tokio::test]
async fn sslmode_is_honoured() {
    if !pg() {
        return;
    }
    let Ok(ca) = std::env::var("INFOMAT_TEST_PG_CA") else {
        eprintln!("skipped: the test PostgreSQL has no TLS (INFOMAT_TEST_PG_CA unset)");
        return;
    };
    let admin = std::env::var("INFOMAT_TEST_PG").unwrap();
    let sep = if admin.contains('?') { '&' } else { '?' };
    // verify-full against the server's CA: a TLS connection.
    let url = format!("{admin}{sep}sslmode=verify-full&sslrootcert={ca}");
    let store = central::store::Store::open(&url).await.expect("verify-full with the right CA");
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert!(ssl, "the connection is encrypted");
    // Another CA: refused, and the error does not carry the URL's secrets.
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("pg-ssl-{}", std::process::id()));
    let [other_ca, ..] = central::tls::self_signed(&[]).unwrap().write(&dir).unwrap();
    let bad = format!("{admin}{sep}sslmode=verify-full&sslrootcert={}", other_ca.display());
    assert!(central::store::Store::open(&bad).await.is_err(), "a server the CA did not sign is refused");
    let _ = std::fs::remove_dir_all(&dir);
}
