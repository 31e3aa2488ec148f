//! Over real loopback sockets: the JSON-RPC endpoints and the WebSocket queue feed (snapshot,
//! live calls, `resume` after a reconnect, authentication). With PostgreSQL (INFOMAT_TEST_PG),
//! also two service nodes sharing one database: a display on one sees calls made on the other.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, Message};

use central::app::{AppState, serve};
use protocol::{FeedEvent, QUEUE_PATH};

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn start(state: Arc<AppState>) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

async fn rpc(addr: &str, method: &str, params: Value) -> Value {
    let body =
        serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})).unwrap();
    let reply = central::client::post_json(&format!("http://{addr}"), QUEUE_PATH, token_for(method), &body)
        .await
        .unwrap();
    serde_json::from_slice(&reply).unwrap()
}

async fn connect(addr: &str, token: &str) -> Result<Ws, tungstenite::Error> {
    use tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{addr}/api/queue/v1/events?lpuId=1").into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws)
}

async fn next_event(ws: &mut Ws) -> FeedEvent {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame in time")
            .unwrap()
            .unwrap();
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

#[tokio::test]
async fn rpc_over_loopback_and_401_without_token() {
    let app = TestApp::new().await;
    let (addr, _stop) = start(app.state.clone()).await;
    let v = rpc(&addr, "getQueueState", json!({"lpuId": 1})).await;
    assert_eq!(ok(&v)["waiting"], 0);
    let (status, _) =
        central::client::post(&format!("http://{addr}"), QUEUE_PATH, None, b"{}").await.unwrap();
    assert_eq!(status, 401);
    assert!(matches!(connect(&addr, "wrong").await, Err(tungstenite::Error::Http(r)) if r.status() == 401));
}

#[tokio::test]
async fn displays_get_a_snapshot_then_live_calls_then_resume() {
    let app = TestApp::new().await;
    let (addr, _stop) = start(app.state.clone()).await;
    for (i, rid) in [(0, "a"), (1, "b"), (4, "c")] {
        ok(&rpc(
            &addr,
            "enqueueWalkIn",
            with(&patient(i), json!({"lpuId": 1, "kioskId": 2, "requestId": rid})),
        )
        .await);
    }
    let mut ws = connect(&addr, BOARD).await.unwrap();
    let FeedEvent::Snapshot { seq, waiting, called } = next_event(&mut ws).await else {
        panic!("snapshot first")
    };
    assert_eq!((waiting, called.len()), (3, 0));

    // A doctor calls: the board hears it promptly (the figure: within 100 ms).
    let t = Instant::now();
    ok(&rpc(&addr, "callNext", json!({"lpuId": 1, "room": "214"})).await);
    let FeedEvent::Called { seq: s1, ticket_number, room, .. } = next_event(&mut ws).await else {
        panic!("called")
    };
    let latency = t.elapsed();
    assert_eq!((ticket_number.as_str(), room.as_str()), ("Д-001", "214"));
    assert!(s1 > seq);
    assert!(latency < Duration::from_secs(2), "{latency:?}");
    let FeedEvent::Waiting { waiting, .. } = next_event(&mut ws).await else { panic!("waiting") };
    assert_eq!(waiting, 2);

    // The display loses its connection; meanwhile two more calls happen.
    drop(ws);
    ok(&rpc(&addr, "callNext", json!({"lpuId": 1, "room": "215"})).await);
    ok(&rpc(&addr, "callNext", json!({"lpuId": 1, "room": "216"})).await);
    let mut ws = connect(&addr, TOKEN).await.unwrap();
    let _snapshot = next_event(&mut ws).await;
    ws.send(Message::Text(json!({"type": "resume", "afterSeq": s1}).to_string().into())).await.unwrap();
    let mut calls = Vec::new();
    while calls.len() < 2 {
        if let FeedEvent::Called { ticket_number, room, .. } = next_event(&mut ws).await {
            calls.push((ticket_number, room));
        }
    }
    assert_eq!(calls, [("Д-002".to_owned(), "215".to_owned()), ("Д-003".to_owned(), "216".to_owned())]);
}

#[tokio::test]
async fn frames_carry_no_personal_data() {
    let app = TestApp::new().await;
    let (addr, _stop) = start(app.state.clone()).await;
    let p = patient(0);
    ok(&rpc(&addr, "enqueueWalkIn", with(&p, json!({"lpuId": 1, "kioskId": 2, "requestId": "pd"}))).await);
    let mut ws = connect(&addr, TOKEN).await.unwrap();
    // The snapshot first: a call made before it is taken is inside it, not sent again (and the
    // test would wait for a frame that never comes).
    let mut frames = vec![next_event(&mut ws).await];
    ok(&rpc(&addr, "callNext", json!({"lpuId": 1, "room": "214"})).await);
    frames.push(next_event(&mut ws).await);
    frames.push(next_event(&mut ws).await);
    assert!(frames.iter().any(|f| matches!(f, FeedEvent::Called { .. })), "{frames:?}");
    for ev in frames {
        let text = serde_json::to_string(&ev).unwrap();
        assert!(!text.contains(&p.enp.expose()) && !text.contains(p.name.last.expose()), "{text}");
    }
}

#[tokio::test]
async fn two_nodes_on_postgresql_share_the_feed() {
    let Ok(_) = std::env::var("INFOMAT_TEST_PG") else {
        eprintln!("skipped: set INFOMAT_TEST_PG (make test does) to run the multi-node test");
        return;
    };
    let a = TestApp::new().await;
    // A second node on the same database.
    let store_b = central::store::Store::open(&a.state.store.url).await.unwrap();
    let b = Arc::new(AppState::new(store_b, tokens(), Arc::new(now)));
    let (addr_a, _s1) = start(a.state.clone()).await;
    let (addr_b, _s2) = start(b).await;
    ok(&rpc(
        &addr_b,
        "enqueueWalkIn",
        with(&patient(0), json!({"lpuId": 1, "kioskId": 2, "requestId": "n"})),
    )
    .await);
    let mut ws = connect(&addr_a, TOKEN).await.unwrap();
    let _snapshot = next_event(&mut ws).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // LISTEN is up on both nodes
    ok(&rpc(&addr_b, "callNext", json!({"lpuId": 1, "room": "301"})).await);
    loop {
        if let FeedEvent::Called { ticket_number, room, .. } = next_event(&mut ws).await {
            assert_eq!((ticket_number.as_str(), room.as_str()), ("Д-001", "301"));
            break;
        }
    }
}

async fn start_with(tune: impl FnOnce(&mut AppState)) -> (TestApp, String, tokio::sync::oneshot::Sender<()>) {
    let app = TestApp::with(tune).await;
    let (addr, stop) = start(app.state.clone()).await;
    (app, addr, stop)
}

#[tokio::test]
async fn resume_from_another_day_or_out_of_range_gets_a_fresh_snapshot() {
    let (app, addr, _stop) = start_with(|_| {}).await;
    ok(&rpc(&addr, "enqueueWalkIn", with(&patient(0), json!({"lpuId": 1, "kioskId": 2, "requestId": "a"})))
        .await);
    // Yesterday's board saw event 1; overnight the day's events are rewritten as yesterday's.
    sqlx::query("UPDATE queue_event SET day = '2026-11-22'").execute(&app.state.store.pool).await.unwrap();
    ok(&rpc(&addr, "callNext", json!({"lpuId": 1, "room": "214"})).await);
    let mut ws = connect(&addr, BOARD).await.unwrap();
    let FeedEvent::Snapshot { seq, .. } = next_event(&mut ws).await else { panic!("snapshot first") };
    for after in [1, u64::MAX, seq + 1000] {
        ws.send(Message::Text(json!({"type": "resume", "afterSeq": after}).to_string().into()))
            .await
            .unwrap();
        let ev = next_event(&mut ws).await;
        assert!(matches!(ev, FeedEvent::Snapshot { .. }), "resume after {after}: {ev:?}");
    }
    // Past days' events are pruned; today's stay.
    let today = now().date.to_string();
    central::limits::prune(&app.state.store, &today).await.unwrap();
    let days: Vec<String> = sqlx::query_scalar("SELECT DISTINCT day FROM queue_event")
        .fetch_all(&app.state.store.pool)
        .await
        .unwrap();
    assert_eq!(days, [today]);
}

#[tokio::test]
async fn feed_connections_are_limited_per_token_and_in_size() {
    let (app, addr, _stop) = start_with(|s| s.feed_limits.per_token = 2).await;
    let a = connect(&addr, BOARD).await.unwrap();
    let _b = connect(&addr, BOARD).await.unwrap();
    assert!(matches!(connect(&addr, BOARD).await, Err(tungstenite::Error::Http(r)) if r.status() == 429));
    // Another token is counted on its own; a freed slot is given again.
    let _c = connect(&addr, TOKEN).await.unwrap();
    drop(a);
    let t = Instant::now();
    let mut again = connect(&addr, BOARD).await;
    while again.is_err() && t.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        again = connect(&addr, BOARD).await;
    }
    let mut ws = again.expect("a slot once the first board left");
    let _snapshot = next_event(&mut ws).await;
    // A message over 64 KiB closes the connection.
    ws.send(Message::Text("x".repeat(100 * 1024).into())).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "an oversized message ends the connection");
    assert!(app.state.metrics.refused_count(central::metrics::Refusal::FeedConnections) >= 1);
    // A board from another clinic is refused.
    let other = format!("ws://{addr}/api/queue/v1/events?lpuId=9");
    use tungstenite::client::IntoClientRequest;
    let mut req = other.into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {BOARD}").parse().unwrap());
    assert!(
        matches!(tokio_tungstenite::connect_async(req).await, Err(tungstenite::Error::Http(r)) if r.status() == 403)
    );
}

#[tokio::test]
async fn a_silent_board_is_dropped_after_the_idle_timeout() {
    let (app, addr, _stop) = start_with(|s| {
        s.feed_limits.ping_every = Duration::from_millis(100);
        s.feed_limits.idle_timeout = Duration::from_millis(300);
    })
    .await;
    // Never read: tungstenite answers pings only while it is being read, so no pong goes back.
    let _ws = connect(&addr, BOARD).await.unwrap();
    let t = Instant::now();
    while !app.state.metrics.render().contains("central_feed_dropped_idle_total 1") {
        assert!(t.elapsed() < Duration::from_secs(5), "{}", app.state.metrics.render());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A board that reads (and so answers pings) stays.
    let mut live = connect(&addr, TOKEN).await.unwrap();
    let _snapshot = next_event(&mut live).await;
    let deadline = Instant::now() + Duration::from_millis(800);
    while Instant::now() < deadline {
        if let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(100), live.next()).await {
            assert!(m.is_ok(), "the reading board stays connected: {m:?}");
        }
    }
    assert!(app.state.metrics.render().contains("central_feed_dropped_idle_total 1"));
}

#[tokio::test]
async fn a_slow_board_is_dropped_and_never_holds_up_the_others() {
    let (app, addr, _stop) = start_with(|s| s.feed_limits.send_timeout = Duration::from_millis(200)).await;
    let _slow = connect(&addr, TOKEN).await.unwrap(); // connected, never read
    let mut fast = connect(&addr, BOARD).await.unwrap();
    let _snapshot = next_event(&mut fast).await;
    let reader = tokio::spawn(async move {
        // The fast board reads everything until it sees the final call.
        loop {
            if let FeedEvent::Called { room, .. } = next_event(&mut fast).await
                && room == "FINAL"
            {
                return;
            }
        }
    });
    // 4 KiB frames until the slow board's socket is full and it is dropped (how many that
    // takes varies: after lagging its session reads a snapshot, slower on PostgreSQL).
    let big = "2".repeat(4096);
    let call = |seq: u64, room: &str| FeedEvent::Called {
        seq,
        ticket_number: "Д-001".into(),
        room: room.into(),
        called_at: now(),
    };
    let t = Instant::now();
    let mut seq = 0u64;
    while !app.state.metrics.render().contains("central_feed_dropped_slow_total 1") {
        assert!(t.elapsed() < Duration::from_secs(20), "{}", app.state.metrics.render());
        for _ in 0..200 {
            seq += 1;
            app.state.feed.publish_local(1, call(seq, &big));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Meanwhile the fast board kept up, and gets the next call at once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.state.feed.publish_local(1, call(u64::MAX / 2, "FINAL"));
    tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .expect("the fast board got the last call")
        .unwrap();
}
