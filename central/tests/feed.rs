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
use domain::wire::{FeedEvent, QUEUE_PATH};

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
    let reply =
        central::client::post_json(&format!("http://{addr}"), QUEUE_PATH, TOKEN, &body).await.unwrap();
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
    let mut ws = connect(&addr, TOKEN).await.unwrap();
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
    ok(&rpc(&addr, "callNext", json!({"lpuId": 1, "room": "214"})).await);
    for _ in 0..3 {
        let ev = next_event(&mut ws).await;
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
    let mut tokens = std::collections::HashMap::new();
    tokens.insert(TOKEN.to_owned(), 2);
    let b = Arc::new(AppState::new(store_b, tokens, Arc::new(now)));
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
