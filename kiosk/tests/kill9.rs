//! kill -9 of the kiosk at random points, over 50 runs: no ticket lost, none doubled.
//!
//! Each run is one patient asking for a walk-in ticket through the kiosk's real client and
//! journal (`kiosk api enqueue`, a process of its own), killed with SIGKILL after a random
//! delay somewhere inside its lifetime. When no paper came out, the patient presses again, as
//! at the kiosk. Runs 1-25 happen with central down (offline tickets, journaled and fsynced
//! before the number is shown); then central comes up on that port and the journal syncs,
//! twice. Runs 26-50 happen with central up: 20 new patients, then 5 of the first ones again,
//! who must be given back the ticket they already hold. At the end central holds exactly one
//! waiting ticket per patient, and its number is the one on that patient's paper.
//!
//! The seed is printed; `INFOMAT_KILL_SEED=N` replays a run.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::{Date, DateTime};

/// Central's clock in the zone `kiosk api` runs in here (the system's, as it has no config):
/// between 21:00 and 24:00 UTC a Moscow central was a day ahead of a kiosk on UTC, and every
/// offline ticket synced was refused as yesterday's.
fn now() -> DateTime {
    common::clock::Zone::system().now()
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

/// A small deterministic generator: the seed reproduces a failing run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// One patient at the kiosk: a process killed after `kill_after` (if still running), then
/// a second press if no paper came out. Returns (number on paper, already held, was killed).
fn patient_takes_ticket(
    port: u16,
    journal: &std::path::Path,
    p: &domain::demo::DemoPatient,
    kill_after: Duration,
) -> (String, bool, bool) {
    let (enp, birth) = (p.enp.expose(), p.birth_date.to_string());
    let args = ["enqueue", "--policy", &enp, "--birth", &birth];
    let mut child = kiosk(port, journal, &args).spawn().unwrap();
    let started = Instant::now();
    let mut killed = false;
    while started.elapsed() < kill_after {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill(); // SIGKILL
        killed = true;
    }
    let out = child.wait_with_output().unwrap();
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&out.stdout) {
        return (v["number"].as_str().unwrap().to_owned(), v["already_had"] == true, killed);
    }
    // No paper: the patient presses again.
    let out = kiosk(port, journal, &args).output().unwrap();
    assert!(out.status.success(), "the second press failed: {}", String::from_utf8_lossy(&out.stdout));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (v["number"].as_str().unwrap().to_owned(), v["already_had"] == true, killed)
}

#[test]
fn fifty_kills_at_random_points_lose_and_double_nothing() {
    let seed = std::env::var("INFOMAT_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64
            ^ u64::from(std::process::id())
    });
    eprintln!("kill -9 test seed: {seed} (INFOMAT_KILL_SEED={seed} replays it)");
    let mut rng = Lcg(seed);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("kill9-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let journal = dir.join("journal");
    // A free port where central is not (yet) listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let attached: Vec<_> =
        (0..50).filter(|i| central::seed::attached(*i)).map(domain::demo::patient).collect();
    // How long one issue takes here: kills land anywhere from its start to a little after.
    let t = Instant::now();
    let probe = kiosk(port, &dir.join("probe-journal"), &["queue", "--lpu", "1"]).output().unwrap();
    assert!(!probe.status.success(), "nothing listens yet");
    let lifetime = t.elapsed().as_millis() as u64 * 2 + 20;

    let mut paper: BTreeMap<String, String> = BTreeMap::new(); // ENP -> number
    let mut kills = 0;
    // Runs 1-25: central down.
    for p in &attached[..25] {
        let (number, _, killed) =
            patient_takes_ticket(port, &journal, p, Duration::from_millis(rng.below(lifetime)));
        kills += usize::from(killed);
        assert!(number.starts_with("К2-"), "offline series: {number}");
        assert!(!paper.values().any(|n| *n == number), "{number} was printed twice");
        paper.insert(p.enp.expose(), number);
    }

    // Central comes up on that port; the journal syncs once, then has nothing left.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let state = rt.block_on(async {
        let store =
            central::store::Store::open(&dir.join("central.sqlite").display().to_string()).await.unwrap();
        central::seed::seed(&store, now().date).await.unwrap();
        let tokens = std::collections::HashMap::from([("k2".to_owned(), 2)]);
        let mut state = central::app::AppState::new(store, tokens, Arc::new(now));
        state.ident_per_minute = 1000;
        let state = Arc::new(state);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        tokio::spawn(central::app::serve(listener, state.clone(), std::future::pending()));
        state
    });
    for round in 0..2 {
        let out = kiosk(port, &journal, &["sync"]).output().unwrap();
        assert!(out.status.success(), "sync round {round}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["pending"], 0);
        assert_eq!(v["confirmed"], if round == 0 { 25 } else { 0 });
    }

    // Runs 26-50: central up. 20 new patients, then 5 who already hold an offline ticket.
    let online_lifetime = {
        let t = Instant::now();
        let _ = kiosk(port, &journal, &["queue", "--lpu", "1"]).output().unwrap();
        t.elapsed().as_millis() as u64 * 3 + 20
    };
    for (i, p) in attached[25..45].iter().chain(&attached[..5]).enumerate() {
        let (number, already, killed) =
            patient_takes_ticket(port, &journal, p, Duration::from_millis(rng.below(online_lifetime)));
        kills += usize::from(killed);
        match paper.get(&p.enp.expose()) {
            Some(held) => {
                assert!(i >= 20 && already, "a patient asking again is given their ticket back");
                assert_eq!(&number, held, "the same ticket, not a second one");
            }
            None => {
                assert!(!paper.values().any(|n| *n == number), "{number} was printed twice");
                paper.insert(p.enp.expose(), number);
            }
        }
    }
    eprintln!("{kills} of 50 runs were killed mid-way");
    assert!(kills >= 5, "the kills must land inside the runs: only {kills} of 50 did");

    let at_central: Vec<String> = rt.block_on(async {
        use sqlx::Row;
        sqlx::query("SELECT number FROM ticket WHERE day = $1 AND status = 'waiting'")
            .bind(Date::to_string(&now().date))
            .fetch_all(&state.store.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>(0).unwrap())
            .collect()
    });
    let on_paper: BTreeSet<String> = paper.values().cloned().collect();
    assert_eq!(at_central.len(), 45, "one waiting ticket per patient: {at_central:?}");
    assert_eq!(
        at_central.into_iter().collect::<BTreeSet<_>>(),
        on_paper,
        "central holds exactly the tickets on paper"
    );
    // The synced journal keeps nothing personal.
    let text =
        std::fs::read_to_string(journal.join(kiosk::central_link::journal::FILE_NAME)).unwrap_or_default();
    assert!(!attached.iter().any(|p| text.contains(&p.enp.expose())), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
