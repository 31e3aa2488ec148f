//! Offline walk-ins survive a kill -9: with central down, 20 patients take tickets, one kiosk
//! process is killed at a random moment mid-issue (the patient then presses again); central
//! comes up, the journal syncs, and central holds exactly the 20 tickets on the patients'
//! paper, once. A second sync changes nothing.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use domain::{Date, DateTime};

fn now() -> DateTime {
    common::clock::now_at_offset(180)
}

fn kiosk(port: u16, journal: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kiosk"));
    c.args([
        "api",
        "--config",
        "/nonexistent/kiosk.toml",
        "--central",
        &format!("http://127.0.0.1:{port}"),
        "--token",
        "k2",
        "--json",
    ])
    .args(args)
    .env("INFOMAT_JOURNAL_DIR", journal)
    .env("INFOMAT_KIOSK_ID", "2")
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    c
}

#[test]
fn offline_tickets_survive_kill_9_and_sync_exactly_once() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("offline-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let journal = dir.join("journal");
    // A free port where central is not (yet) listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let patients: Vec<_> =
        (0..30).filter(|i| central::seed::attached(*i)).take(20).map(domain::demo::patient).collect();
    let victim = 5 + (std::process::id() as usize % 10);
    let kill_after = Duration::from_millis(50 + u64::from(std::process::id() % 400));
    let mut printed = BTreeSet::new();
    for (i, p) in patients.iter().enumerate() {
        let (enp, birth) = (p.enp.expose(), p.birth_date.to_string());
        let args = ["enqueue", "--policy", &enp, "--birth", &birth];
        if i == victim {
            let mut child = kiosk(port, &journal, &args).spawn().unwrap();
            std::thread::sleep(kill_after);
            let _ = child.kill(); // SIGKILL
            let out = child.wait_with_output().unwrap();
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout) {
                printed.insert(v["number"].as_str().unwrap().to_owned());
                continue;
            }
            // No paper came out: the patient presses again (below).
        }
        let out = kiosk(port, &journal, &args).output().unwrap();
        assert!(out.status.success());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["offline"], true);
        assert!(printed.insert(v["number"].as_str().unwrap().to_owned()), "a number was printed twice");
    }
    assert_eq!(printed.len(), 20);

    // Central comes up on that port.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let state = rt.block_on(async {
        let store =
            central::store::Store::open(&dir.join("central.sqlite").display().to_string()).await.unwrap();
        central::seed::seed(&store, now().date).await.unwrap();
        let mut tokens = std::collections::HashMap::new();
        tokens.insert("k2".to_owned(), 2);
        let state = Arc::new(central::app::AppState::new(store, tokens, Arc::new(now)));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        tokio::spawn(central::app::serve(listener, state.clone(), std::future::pending()));
        state
    });
    for round in 0..2 {
        let out = kiosk(port, &journal, &["sync"]).output().unwrap();
        assert!(out.status.success(), "sync round {round}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["pending"], 0);
        assert_eq!(v["confirmed"], if round == 0 { 20 } else { 0 });
    }
    let numbers: BTreeSet<String> = rt.block_on(async {
        use sqlx::Row;
        sqlx::query("SELECT number FROM ticket WHERE day = $1")
            .bind(Date::to_string(&now().date))
            .fetch_all(&state.store.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>(0).unwrap())
            .collect()
    });
    assert_eq!(numbers, printed, "central holds exactly the tickets on paper");
    // The synced journal keeps nothing personal.
    let text = std::fs::read_to_string(journal.join(kiosk::central::journal::FILE_NAME)).unwrap();
    assert!(!patients.iter().any(|p| text.contains(&p.enp.expose())), "{text}");
}
