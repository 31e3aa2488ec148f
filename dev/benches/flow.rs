//! The kiosk as a patient and a technician feel it:
//! - scan -> patient menu on screen: barcode bytes into the virtual scanner's pty, the
//!   production runtime (`kiosk::runtime::Runtime`: scanner thread and its framing, the
//!   session, central's task identifying the patient on loopback, the view into the Slint
//!   adapters) until the window has drawn the menu (1080x1920, software renderer). Target p99
//!   ≤ 15 ms.
//! - process start -> first frame: `kiosk run --offscreen` spawned until it logs its first
//!   frame (the same line that sends systemd READY=1). Target < 1 s.
//! - idle RSS of `kiosk run` on the attract screen after 5 s: offscreen, and in a real X11
//!   window under Xvfb when Xvfb is installed. Target < 60 MB.
//!
//! `cargo bench -p infomat-dev --bench flow` (quick smoke run under `cargo test --benches`).

use std::time::{Duration, Instant};

use i_slint_backend_testing::ElementHandle;

use infomat_dev::rig::{Peers, RigOptions, TOKEN};
use kiosk::runtime::Runtime;

mod support;
use support::{Xvfb, pct, row, rss_mb, spawn_until_first_frame};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let dir = std::env::temp_dir().join(format!("infomat-bench-flow-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let at = domain::DateTime::new(domain::Date::from_ymd(2026, 11, 23).unwrap(), 10, 0, 180).unwrap();
    let (mut opts, _time) = RigOptions::fixed(&dir.join("rig"), at);
    opts.ident_per_minute = 100_000;
    let peers = Peers::start(&opts).expect("peers");
    let central_url = peers.central_url().to_owned();

    // --- scan -> menu on screen, through the production runtime ------------------------------
    // The process-wide platform: other threads wake its loop, as winit's does in a clinic.
    let screen = kiosk::offscreen::Offscreen::install(1080, 1920).unwrap();
    let rt = Runtime::start(peers.setup()).expect("runtime");
    let up = |rt: &Runtime| rt.core().session().card_reader && rt.core().health().scanner_connected();
    assert!(screen.spin_until(|| up(&rt), Duration::from_secs(15)), "devices up");
    let n = if full { 200 } else { 3 };
    let mut ms = Vec::with_capacity(n);
    for i in 0..n + 5 {
        let t = Instant::now();
        peers.scan_patient(i % 50).unwrap();
        // A turn of the loop draws what its jobs and timers changed before it returns: once the
        // session shows the menu after a turn, the frame with the menu has been drawn.
        let before = screen.frames();
        let drawn = screen.spin_until(
            || rt.core().session().screen_name() == "menu" && screen.frames() > before,
            Duration::from_secs(10),
        );
        assert!(drawn, "scan {i} did not reach the menu: {:?}", rt.core().session().screen_name());
        if i >= 5 {
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let exit =
            ElementHandle::find_by_accessible_label(rt.window(), "Завершить").next().expect("exit button");
        exit.invoke_accessible_default_action();
        assert!(screen.spin_until(|| rt.core().session().screen_name() == "attract", Duration::from_secs(5)));
    }
    drop(rt);
    let (m, p) = (pct(&mut ms, 0.5), pct(&mut ms, 0.99));
    row(
        &format!("kiosk: scan -> patient menu on screen, production loop, central on loopback ({n} scans)"),
        "p99 ≤ 15 ms",
        format!("{m:.1} ms"),
        format!("{p:.1} ms"),
        p <= 15.0,
    );

    // --- the process: start to first frame, idle RSS ----------------------------------------
    let (printer, _state, _spool) = infomat_dev::rig::start_virtual_printer(None).unwrap();
    let config = dir.join("kiosk.toml");
    std::fs::write(
        &config,
        format!(
            "[kiosk]\nid = 2\nlpu_id = 1\nclinic_name = \"ГП № 1\"\n[central]\nurl = \"{central_url}\"\ntoken = \"{}\"\n\
             [printer]\nurl = \"tcp://{printer}\"\n[scanner]\nurl = \"sim\"\n[journal]\ndir = \"{}\"\n\
             [health]\nlisten = \"127.0.0.1:0\"\n",
            TOKEN,
            dir.join("journal").display()
        ),
    )
    .unwrap();
    let runs = if full { 10 } else { 1 };
    let mut starts = Vec::new();
    let mut rss_offscreen = 0.0;
    for i in 0..runs {
        let (mut child, first) = spawn_until_first_frame("run", &config, None);
        starts.push(first);
        if i == 0 {
            std::thread::sleep(Duration::from_secs(if full { 5 } else { 1 }));
            rss_offscreen = rss_mb(&child);
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    let (m, p) = (pct(&mut starts, 0.5), pct(&mut starts, 1.0));
    row(
        &format!(
            "kiosk: process start -> first frame, `kiosk run --offscreen` ({runs} starts, worst as p99)"
        ),
        "< 1 s",
        format!("{m:.0} ms"),
        format!("{p:.0} ms"),
        p < 1000.0,
    );
    row(
        "kiosk: idle RSS on the attract screen, offscreen",
        "< 60 MB",
        format!("{rss_offscreen:.1} MB"),
        format!("{rss_offscreen:.1} MB"),
        rss_offscreen < 60.0,
    );
    match Xvfb::start(1080, 1920) {
        Some(x) => {
            let (mut child, first) = spawn_until_first_frame("run", &config, Some(&x.display));
            std::thread::sleep(Duration::from_secs(if full { 5 } else { 1 }));
            let rss = rss_mb(&child);
            let _ = child.kill();
            let _ = child.wait();
            row(
                "kiosk: process start -> first frame, X11 window (Xvfb)",
                "< 1 s",
                format!("{first:.0} ms"),
                format!("{first:.0} ms"),
                first < 1000.0,
            );
            row(
                "kiosk: idle RSS on the attract screen, X11 window (Xvfb)",
                "< 60 MB",
                format!("{rss:.1} MB"),
                format!("{rss:.1} MB"),
                rss < 60.0,
            );
        }
        None => println!("(Xvfb not installed: the X11 window rows are skipped; `make bench` installs it)"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
