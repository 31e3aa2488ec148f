//! Privacy, checked on what the programs actually leave behind: run the flows with logging at
//! `trace`, then search every byte of output, log, journal, ticket text and temporary file for
//! every demo patient's policy number, names and birth date in clear. The only personal text
//! allowed anywhere is a surname with initials on an appointment ticket (paper the patient
//! takes home), never with a first name, a policy number or a birth date.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Secrets(Vec<(String, String)>); // (what, text)

impl Secrets {
    fn demo() -> Secrets {
        let mut v = Vec::new();
        for p in domain::demo::patients() {
            let tag = |w: &str| format!("patient {} {w}", p.index);
            v.push((tag("ENP"), p.enp.expose()));
            let b = p.birth_date;
            v.push((tag("birth date"), b.to_string()));
            v.push((tag("birth date"), format!("{:02}.{:02}.{}", b.day(), b.month(), b.year())));
            let mut names = vec![("first name", p.name.first.expose().to_owned())];
            if let Some(m) = &p.name.middle {
                names.push(("patronymic", m.expose().to_owned()));
            }
            for (w, n) in names {
                v.push((tag(w), n.clone()));
                v.push((tag(w), kiosk::view::title_case(&n)));
            }
            // A surname alone may be on an appointment ticket; with the first name it may not.
            let full = format!("{} {}", p.name.last.expose(), p.name.first.expose());
            v.push((tag("full name"), full.clone()));
            v.push((tag("full name"), kiosk::view::title_case(&full)));
        }
        Secrets(v)
    }

    fn assert_absent(&self, where_: &str, text: &str) {
        // Doctors' names are public (screens, tickets): out of the way first.
        let mut text = text.to_owned();
        for d in central::seed::doctor_names() {
            text = text.replace(&d, "<doctor>");
            if let Some((_, first_middle)) = d.split_once(' ') {
                text = text.replace(first_middle, "<doctor>");
            }
        }
        let text = text.as_str();
        for (what, secret) in &self.0 {
            // Word-bounded: "ИВАН" must not match inside "ИВАНОВА".
            let hit = text.match_indices(secret.as_str()).any(|(i, _)| {
                let before = text[..i].chars().next_back();
                let after = text[i + secret.len()..].chars().next();
                !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
            });
            assert!(!hit, "{what} ({secret}) in clear in {where_}");
        }
    }

    /// Every regular file under `dir` (text or not: PNGs are checked as bytes too).
    fn assert_absent_in_tree(&self, dir: &Path) -> usize {
        let mut n = 0;
        for entry in walk(dir) {
            let bytes = std::fs::read(&entry).unwrap_or_default();
            self.assert_absent(&entry.display().to_string(), &String::from_utf8_lossy(&bytes));
            n += 1;
        }
        n
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}

fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("privacy-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_headless_demo_leaves_no_patient_data_in_output_logs_tickets_or_temp() {
    let secrets = Secrets::demo();
    let dir = scratch("demo");
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_infomat-dev"))
        .args(["demo", "--headless"])
        .current_dir(&dir)
        .env("RUST_LOG", "trace")
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    secrets.assert_absent("the demo's standard output", &String::from_utf8_lossy(&out.stdout));
    secrets.assert_absent("the demo's log (stderr, trace)", &String::from_utf8_lossy(&out.stderr));
    let tickets = secrets.assert_absent_in_tree(&dir.join("demo-out/tickets"));
    assert!(tickets >= 4, "the tickets were written and searched: {tickets}");
    // The ticket text the printer recognised: at most a surname with initials.
    let appointment = std::fs::read_to_string(dir.join("demo-out/tickets/ticket-0002.txt")).unwrap();
    assert!(appointment.lines().any(|l| l.contains(". ") || l.ends_with('.')), "{appointment}");
    // The demo cleans its temporary directory (central's database, the journal) on exit.
    let left = walk(&tmp);
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn offline_journal_is_private_while_pending_and_empty_once_synced() {
    use std::os::unix::fs::PermissionsExt;
    let secrets = Secrets::demo();
    let dir = scratch("journal");
    let journal = dir.join("journal");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let p = domain::demo::patient(3);
    let kiosk = |args: &[&str]| {
        Command::new(infomat_dev::kiosk_binary())
            .args(["api", "--config", "/nonexistent", "--central", &format!("http://127.0.0.1:{port}")])
            .args(["--token", "demo", "--json"])
            .args(args)
            .env("INFOMAT_JOURNAL_DIR", &journal)
            // The token below is kiosk 2's; central refuses it another kiosk's tickets.
            .env("INFOMAT_KIOSK_ID", "2")
            .env("RUST_LOG", "trace")
            .output()
            .unwrap()
    };
    let (enp, birth) = (p.enp.expose(), p.birth_date.to_string());
    let out = kiosk(&["enqueue", "--policy", &enp, "--birth", &birth]);
    assert!(out.status.success());
    secrets.assert_absent("the kiosk's log while central is down", &String::from_utf8_lossy(&out.stderr));
    // Pending: the journal must hold the patient (central needs them), readable by us only.
    let file = journal.join(kiosk::central_link::journal::FILE_NAME);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the journal is the kiosk user's alone");
    let dir_mode = std::fs::metadata(&journal).unwrap().permissions().mode() & 0o777;
    assert_eq!(dir_mode & 0o077, 0, "its directory too: {dir_mode:o}");
    assert!(std::fs::read_to_string(&file).unwrap().contains(&enp), "pending: kept for the sync");
    // Central comes up; after the sync nothing personal remains on the kiosk.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = central::store::Store::open(&dir.join("c.sqlite").display().to_string()).await.unwrap();
        central::seed::seed(&store, common::clock::now_at_offset(180).date).await.unwrap();
        let tokens = std::collections::HashMap::from([("demo".to_owned(), 2)]);
        let state = std::sync::Arc::new(central::app::AppState::new(
            store,
            tokens,
            std::sync::Arc::new(|| common::clock::now_at_offset(180)),
        ));
        let l = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        tokio::spawn(central::app::serve(l, state, std::future::pending()));
    });
    let out = kiosk(&["sync"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    secrets.assert_absent("the kiosk's log during the sync", &String::from_utf8_lossy(&out.stderr));
    let n = secrets.assert_absent_in_tree(&journal);
    assert!(n >= 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_running_kiosk_logs_nothing_personal_even_at_trace() {
    let secrets = Secrets::demo();
    let dir = scratch("run");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut opts = infomat_dev::rig::RigOptions::live(&dir.join("central"));
    opts.ident_per_minute = 100;
    let central = rt.block_on(infomat_dev::rig::start_central(&opts)).unwrap();
    let mut scanner = drivers::sim::scanner::VirtualScanner::new().unwrap();
    let printed = dir.join("printer.bin");
    let config = dir.join("kiosk.toml");
    std::fs::write(
        &config,
        format!(
            "[kiosk]\nid = 2\nlpu_id = 1\nclinic_name = \"ГП № 1\"\n[central]\nurl = \"{}\"\ntoken = \"{}\"\n\
             [session]\nidle_warning_s = 10\nidle_countdown_s = 5\n\
             [printer]\nlink = \"file\"\npath = \"{}\"\n[scanner]\nlink = \"serial\"\npath = \"{}\"\n\
             [journal]\ndir = \"{}\"\n[health]\nlisten = \"127.0.0.1:0\"\n",
            central.url(),
            infomat_dev::rig::TOKEN,
            printed.display(),
            scanner.path().display(),
            dir.join("journal").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(infomat_dev::kiosk_binary())
        .args(["run", "--offscreen", "--config"])
        .arg(&config)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Three patients scan their policies, a few seconds apart; then nobody comes.
    std::thread::sleep(Duration::from_secs(2));
    for i in [0, 1, 2] {
        let bytes = drivers::sim::scanner::demo_barcode(i);
        scanner.scan(&bytes).unwrap();
        std::thread::sleep(Duration::from_millis(800));
    }
    // Idle: the 10 s warning and the 5 s countdown pass.
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(17) {
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("identif") || log.contains("central"), "the kiosk did work: {log}");
    secrets.assert_absent("the running kiosk's log (trace)", &log);
    secrets.assert_absent("the running kiosk's stdout", &String::from_utf8_lossy(&out.stdout));
    secrets.assert_absent_in_tree(&dir.join("journal"));
    let _ = std::fs::remove_dir_all(&dir);
}
