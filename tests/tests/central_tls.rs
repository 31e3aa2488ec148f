//! TLS end to end, served by central itself (issue #15): `central cert self-signed` makes a
//! lab CA and certificate, `serve_tls` serves the real API with them, and the kiosk's own
//! client and queue feed trust that CA through `central.ca_file` — and refuse the same server
//! without it. No TLS front in between.

use std::sync::Arc;
use std::time::Duration;

use central::app::{AppState, serve_tls};
use central::store::Store;
use domain::{Date, DateTime};
use kiosk::central_link::client::Client;
use kiosk::central_link::queue_feed::{FeedTarget, FeedUpdate};
use kiosk::config::CentralConfig;

fn now() -> DateTime {
    DateTime::new(Date::from_ymd(2026, 11, 23).unwrap(), 10, 0, 180).unwrap()
}

#[test]
fn the_kiosk_talks_to_central_over_central_s_own_tls() {
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("central-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let [ca, cert, key] = central::tls::self_signed(&[]).unwrap().write(&dir).unwrap();
    let [other_ca, ..] = central::tls::self_signed(&[]).unwrap().write(&dir.join("other")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let port = rt.block_on(async {
        let store = Store::open(&dir.join("c.sqlite").display().to_string()).await.unwrap();
        central::seed::seed(&store, now().date).await.unwrap();
        let state = Arc::new(AppState::new(store, central::auth::demo_tokens(), Arc::new(now)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tls = central::tls::server_config(&cert, &key).unwrap();
        tokio::spawn(serve_tls(listener, tls, state, std::future::pending()));
        port
    });
    let url = format!("https://localhost:{port}");
    let ask = |token: &str, ca_file: Option<&std::path::Path>| {
        let cfg = CentralConfig {
            url: url.clone(),
            token: token.into(),
            ca_file: ca_file.map(|p| p.to_path_buf()),
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
        };
        let client = Client::new(&cfg).unwrap().with_backoff(Duration::from_millis(10));
        rt.block_on(client.call::<protocol::call::GetQueueState>(&protocol::LpuParams { lpu_id: 1 }))
    };
    assert_eq!(ask(central::auth::DEMO_KIOSK, Some(&ca)).expect("HTTPS with the lab CA").lpu_id, 1);
    assert!(ask(central::auth::DEMO_KIOSK, None).is_err(), "public roots only: refused");
    assert!(ask(central::auth::DEMO_KIOSK, Some(&other_ca)).is_err(), "another CA: refused");
    assert!(ask("guess", Some(&ca)).is_err(), "over TLS the token is still checked");

    // The board's feed over wss:// with the same CA: connected, then the snapshot.
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let target = FeedTarget::new(&url, central::auth::DEMO_BOARD, 1).with_ca(Some(ca.clone()));
    let task = rt.spawn(kiosk::central_link::queue_feed::run(target, tx, 0));
    let next = |rx: &mut tokio::sync::mpsc::Receiver<FeedUpdate>| {
        rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), rx.recv()).await }).ok().flatten()
    };
    assert_eq!(next(&mut rx), Some(FeedUpdate::Connected));
    let snap = next(&mut rx);
    assert!(matches!(snap, Some(FeedUpdate::Frame(protocol::FeedEvent::Snapshot { .. }))), "{snap:?}");
    task.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
