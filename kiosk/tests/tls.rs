//! TLS to central with a clinic's own CA (`central.ca_file`): a private CA signs central's
//! certificate, a TLS front (rustls) sits before the real central on loopback, and the kiosk's
//! RPC client and queue feed both trust that CA — and refuse the same server without it, or
//! with another CA. Nothing falls back to plain HTTP.

use std::sync::Arc;
use std::time::Duration;

use kiosk::central_link::client::Client;
use kiosk::central_link::queue_feed::{FeedTarget, FeedUpdate};

const TOKEN: &str = "demo";

fn central_config(url: String) -> kiosk::config::CentralConfig {
    kiosk::config::CentralConfig {
        url,
        token: TOKEN.into(),
        ca_file: None,
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
    }
}

struct Pki {
    ca_pem: String,
    leaf_der: Vec<u8>,
    leaf_key_der: Vec<u8>,
}

fn pki() -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Поликлиника № 1 test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf.subject_alt_names.push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
    Pki { ca_pem: ca_cert.pem(), leaf_der: leaf_cert.der().to_vec(), leaf_key_der: leaf_key.serialize_der() }
}

/// A TLS front on a loopback port forwarding to `upstream`; returns its port.
async fn tls_front(p: &Pki, upstream: std::net::SocketAddr) -> u16 {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    kiosk::central_link::client::install_crypto();
    let cfg = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(p.leaf_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(p.leaf_key_der.clone())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that does not trust us fails the handshake here: nothing forwarded.
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
            });
        }
    });
    port
}

#[test]
fn the_kiosk_trusts_central_through_its_configured_ca_and_only_then() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let at = domain::DateTime::new(domain::Date::from_ymd(2026, 11, 23).unwrap(), 10, 0, 180).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("central.sqlite").display().to_string();
    let tokens = std::collections::HashMap::from([(TOKEN.to_owned(), 2)]);
    let central = rt
        .block_on(central::embedded::Embedded::start(
            &db,
            at.date,
            tokens,
            Arc::new(move || at),
            Arc::new(|_| {}),
        ))
        .unwrap();
    let p = pki();
    let port = rt.block_on(tls_front(&p, central.addr()));
    let ca = dir.join("central-ca.pem");
    std::fs::write(&ca, &p.ca_pem).unwrap();
    let other = dir.join("other-ca.pem");
    std::fs::write(&other, pki().ca_pem).unwrap();
    let url = format!("https://localhost:{port}");

    let ask = |ca_file: Option<&std::path::Path>| {
        let mut cfg = central_config(url.clone());
        cfg.ca_file = ca_file.map(|p| p.to_path_buf());
        let client = Client::new(&cfg).unwrap().with_backoff(Duration::from_millis(10));
        rt.block_on(client.call::<protocol::call::GetQueueState>(&protocol::LpuParams { lpu_id: 1 }))
    };
    let state = ask(Some(&ca)).expect("central answers over TLS with the clinic's CA");
    assert_eq!(state.lpu_id, 1);
    let e = ask(None).expect_err("an unknown CA is refused");
    assert!(matches!(e, kiosk::central_link::client::CallError::Unreachable(_)), "{e:?}");
    let e = ask(Some(&other)).expect_err("another CA is refused");
    assert!(matches!(e, kiosk::central_link::client::CallError::Unreachable(_)), "{e:?}");

    // The queue feed over wss:// with the same CA: connected, then the snapshot.
    let feed = |ca_file: Option<std::path::PathBuf>| {
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        let task = rt.spawn(kiosk::central_link::queue_feed::run(
            FeedTarget::new(&url, TOKEN, 1).with_ca(ca_file),
            tx,
            0,
        ));
        let first = rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), rx.recv()).await });
        let second = rt.block_on(async { tokio::time::timeout(Duration::from_secs(10), rx.recv()).await });
        task.abort();
        (first.ok().flatten(), second.ok().flatten())
    };
    let (a, b) = feed(Some(ca.clone()));
    assert_eq!(a, Some(FeedUpdate::Connected));
    assert!(matches!(b, Some(FeedUpdate::Frame(protocol::FeedEvent::Snapshot { .. }))), "{b:?}");
    let (a, _) = feed(Some(other));
    assert!(matches!(a, Some(FeedUpdate::Disconnected(_))), "another CA: no feed: {a:?}");
    let (a, _) = feed(None);
    assert!(matches!(a, Some(FeedUpdate::Disconnected(_))), "public roots only: no feed: {a:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
