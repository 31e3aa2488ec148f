//! `kiosk selftest` against the virtual printer, a virtual scanner and the real central on
//! loopback: all pass; paper out fails with its hint; a wrong token fails auth; no chip reader
//! is "unsupported", not a failure.

use std::sync::{Arc, Mutex};

use kiosk::modes::selftest::{self, Outcome};

fn outcome(checks: &[selftest::Check], name: &str) -> Outcome {
    checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no check {name}: {checks:?}")).outcome
}

#[test]
fn selftest_reports_each_device_with_hints() {
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("selftest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let central = rt.block_on(async {
        let store = central::store::Store::open(&dir.join("c.sqlite").display().to_string()).await.unwrap();
        central::seed::seed(&store, common::clock::now_at_offset(180).date).await.unwrap();
        let mut tokens = std::collections::HashMap::new();
        tokens.insert("t2".to_owned(), 2);
        let state = Arc::new(central::app::AppState::new(
            store,
            tokens,
            Arc::new(|| common::clock::now_at_offset(180)),
        ));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(central::app::serve(l, state, std::future::pending()));
        addr
    });
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let printer = l.local_addr().unwrap();
    let state = Arc::new(Mutex::new(drivers::sim::printer::SimState::default()));
    {
        let (state, spool) = (state.clone(), Arc::new(drivers::sim::printer::Spool::new(None).unwrap()));
        std::thread::spawn(move || {
            drivers::sim::printer::serve_tcp(l, drivers::printer::codepage::Family::Epson, 576, state, spool)
        });
    }
    let scanner = drivers::sim::scanner::VirtualScanner::new().unwrap();
    let config = |token: &str| {
        format!(
            "[kiosk]\nid = 2\nlpu_id = 1\n[central]\nurl = \"http://{central}\"\ntoken = \"{token}\"\n[printer]\nlink = \"tcp\"\naddress = \"{printer}\"\n[scanner]\nlink = \"serial\"\npath = \"{}\"\n[journal]\ndir = \"{}\"\n",
            scanner.path().display(),
            dir.join("journal").display()
        )
    };
    let cfg = kiosk::config::parse(&config("t2"), &dir.join("kiosk.toml")).unwrap();
    let checks = rt.block_on(selftest::run(&cfg, &selftest::Options::default()));
    for name in [
        "printer.link",
        "printer.status",
        "scanner.link",
        "storage.journal",
        "central.reach",
        "central.auth",
        "central.feed",
        "central.clock",
    ] {
        assert_eq!(outcome(&checks, name), Outcome::Pass, "{name}: {checks:?}");
    }
    assert_eq!(outcome(&checks, "chip_reader"), Outcome::Unsupported);
    assert!(!checks.iter().any(|c| c.outcome == Outcome::Fail), "{checks:?}");

    drivers::sim::printer::control(&state, "paper out").unwrap();
    let cfg = kiosk::config::parse(&config("wrong"), &dir.join("kiosk.toml")).unwrap();
    let checks = rt.block_on(selftest::run(&cfg, &selftest::Options::default()));
    let paper = checks.iter().find(|c| c.name == "printer.status").unwrap();
    assert_eq!(paper.outcome, Outcome::Fail);
    assert!(paper.hint.contains("load a roll"), "{paper:?}");
    assert_eq!(outcome(&checks, "central.auth"), Outcome::Fail);
    let mut text = Vec::new();
    selftest::print(&checks, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("FAIL printer.status") && text.contains("-> paper out: load a roll"), "{text}");
}
