//! `central serve` as the unit runs it: the example tokens file is accepted, its tokens open the
//! API, anything else gets 401; SIGTERM stops it cleanly. Tokens, rotation, TLS and the
//! database password on the command line.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn serve_takes_the_example_tokens_file() {
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("central-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let tokens = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/central-tokens.example");
    let mut c = serve(&["--tokens-file", tokens, "--db", dir.join("c.sqlite").to_str().unwrap()]);
    for (token, ok) in [("example-kiosk-token", true), ("example-display-token", true), ("guess", false)] {
        assert_eq!(accepted(&c.1, token), ok, "{token}");
    }
    // SIGTERM, as systemd stops it.
    let _ = Command::new("kill").args(["-TERM", &c.0.id().to_string()]).status();
    let t = Instant::now();
    loop {
        if let Some(status) = c.0.try_wait().unwrap() {
            assert!(status.success(), "a clean exit on SIGTERM: {status}");
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "still running 10 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The old format still reads (kiosks of clinic 1).
    let legacy = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/kiosk-tokens.example");
    let c = serve(&["--tokens-file", legacy, "--db", dir.join("d.sqlite").to_str().unwrap()]);
    assert!(accepted(&c.1, "example-kiosk-token") && !accepted(&c.1, "guess"));
    let _ = std::fs::remove_dir_all(&dir);
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn central(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_central")).args(args).output().unwrap()
}

struct Serving(std::process::Child, String);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(args: &[&str]) -> Serving {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_central"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(20), "central did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Serving(child, format!("http://127.0.0.1:{port}"))
}

fn accepted(base: &str, token: &str) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let body = br#"{"jsonrpc":"2.0","id":1,"method":"getQueueState","params":{"lpuId":1}}"#;
    rt.block_on(central::client::post(base, protocol::QUEUE_PATH, Some(token), body)).unwrap().0 == 200
}

#[test]
fn token_add_prints_a_token_once_and_rotation_needs_no_restart() {
    let dir = scratch("central-tokens");
    let file = dir.join("tokens");
    let f = file.to_str().unwrap();
    let add = |device: &str| {
        let out = central(&[
            "token",
            "add",
            "--role",
            "kiosk",
            "--lpu",
            "1",
            "--device",
            device,
            "--tokens-file",
            f,
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let first = add("K2");
    assert_eq!(first.len(), 64);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(&first), "only the hash is stored: {text}");
    assert!(text.contains("role = \"kiosk\"") && text.contains("device = 2"), "{text}");
    let db = dir.join("c.sqlite");
    let c = serve(&["--tokens-file", f, "--db", db.to_str().unwrap()]);
    assert!(accepted(&c.1, &first));
    // A token added while it runs is accepted without a restart (the file is watched) ...
    let second = add("3");
    let t = Instant::now();
    while !accepted(&c.1, &second) {
        assert!(t.elapsed() < Duration::from_secs(10), "the new token was not picked up");
        std::thread::sleep(Duration::from_millis(100));
    }
    // ... and a token removed (rotation) is refused, at once on SIGHUP.
    let keep: String = text.clone();
    std::fs::write(&file, keep).unwrap();
    let _ = Command::new("kill").args(["-HUP", &c.0.id().to_string()]).status();
    let t = Instant::now();
    while accepted(&c.1, &second) {
        assert!(t.elapsed() < Duration::from_secs(10), "the removed token is still accepted");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(accepted(&c.1, &first));
    // A broken file keeps the tokens in force.
    std::fs::write(&file, "[[token]]\nrole = \"kiosk\"\n").unwrap();
    let _ = Command::new("kill").args(["-HUP", &c.0.id().to_string()]).status();
    std::thread::sleep(Duration::from_millis(500));
    assert!(accepted(&c.1, &first));
    // Empty and duplicate tokens are refused at start.
    std::fs::write(&file, format!("{text}\n{text}")).unwrap();
    let out = central(&["check-config", "--tokens-file", f]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plain_http_off_loopback_is_refused_unless_asked_for() {
    let out = central(&["check-config", "--listen", "0.0.0.0:8080"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--tls-cert") && err.contains("--insecure-plain-http"), "{err}");
    assert!(central(&["check-config", "--listen", "0.0.0.0:8080", "--insecure-plain-http"]).status.success());
    assert!(central(&["check-config", "--listen", "127.0.0.1:8080"]).status.success());
    // With a certificate: HTTPS anywhere.
    let dir = scratch("central-cert");
    let out =
        central(&["cert", "self-signed", "--out", dir.to_str().unwrap(), "--name", "central.clinic.local"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let key = dir.join("key.pem");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    let out = central(&[
        "check-config",
        "--listen",
        "0.0.0.0:8443",
        "--tls-cert",
        dir.join("cert.pem").to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("https"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_database_password_never_shows() {
    let secret = "s3cr3t-Pa55";
    // Not on the command line at all.
    let out = central(&["serve", "--db", &format!("postgres://infomat:{secret}@127.0.0.1:1/central")]);
    assert_eq!(out.status.code(), Some(2));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains(secret) && text.contains("--db-file"), "{text}");
    // From a file (as LoadCredential gives it): errors and the summary name the database
    // without it.
    let dir = scratch("central-db");
    let url_file = dir.join("db-url");
    std::fs::write(&url_file, format!("postgres://infomat:{secret}@127.0.0.1:1/central?password={secret}\n"))
        .unwrap();
    let out = central(&["check-config", "--db-file", url_file.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("postgres://infomat:***@127.0.0.1:1"), "{text}");
    assert!(!text.contains(secret), "{text}");
    let out = Command::new(env!("CARGO_BIN_EXE_central"))
        .args(["serve", "--db-file", url_file.to_str().unwrap()])
        .env("CREDENTIALS_DIRECTORY", &dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the database is unreachable");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains(secret) && text.contains("***"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn staff_add_keeps_only_an_argon2_hash_of_the_password() {
    use std::io::Write;
    let dir = scratch("staff");
    let file = dir.join("tokens");
    let add = |login: &str, password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_central"))
            .args(["staff", "add", "--login", login, "--role", "doctor", "--lpu", "1", "--room", "214"])
            .args(["--tokens-file", file.to_str().unwrap()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let out = add("ivanova", "a long enough password");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("[[person]]") && text.contains("$argon2id$") && !text.contains("long enough"),
        "{text}"
    );
    let (tokens, _) = central::auth::Tokens::load(&file, 1).unwrap();
    assert!(tokens.person("ivanova", "a long enough password").is_some());
    // Too short, or a login taken: refused, the file unchanged.
    assert_eq!(add("petrov", "short").status.code(), Some(2));
    assert_eq!(add("ivanova", "another long password").status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}
