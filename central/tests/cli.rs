//! `central serve` as the unit runs it: the example tokens file is accepted, its tokens open the
//! API, anything else gets 401; SIGTERM stops it cleanly.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn serve_takes_the_example_tokens_file() {
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("central-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let tokens = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/kiosk-tokens.example");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_central"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--tokens-file", tokens, "--db"])
        .arg(dir.join("c.sqlite"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(20), "central did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let body = br#"{"jsonrpc":"2.0","id":1,"method":"getQueueState","params":{"lpuId":1}}"#;
    let base = format!("http://127.0.0.1:{port}");
    for (token, ok) in [("example-kiosk-token", true), ("example-display-token", true), ("guess", false)] {
        let r = rt.block_on(central::client::post_json(&base, domain::wire::QUEUE_PATH, token, body));
        let text = r.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_else(|e| e.to_string());
        let refused = text.contains("UNAUTHORIZED") || text.contains("401");
        assert_eq!(!refused, ok, "{token}: {text}");
    }
    // SIGTERM, as systemd stops it.
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "a clean exit on SIGTERM: {status}");
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "still running 10 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
