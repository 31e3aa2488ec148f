//! The waiting-zone board as the waiting room sees it:
//! - event received -> frame rendered: a `called` frame off the real feed client's WebSocket,
//!   through the board model, the view, the Slint adapters and a full 1920x1080 software
//!   frame. Target p99 < 50 ms.
//! - `callNext` sent -> the call drawn on the board: the same, from the doctor's request to
//!   central on loopback (SQLite). Target p99 < 100 ms (the test checks the call arrives).
//! - idle RSS of `kiosk display` after 5 s: offscreen, and in a real X11 window under Xvfb when
//!   it is installed. Target < 50 MB.
//!
//! `cargo bench -p infomat-dev --bench display`.

use std::time::{Duration, Instant};

use slint::ComponentHandle;

use infomat_dev::rig::{Peers, RigOptions, TOKEN};
use kiosk::board::{BoardState, apply, board_view};
use kiosk::central_link::queue_feed::{FeedTarget, FeedUpdate};
use kiosk::config::DisplayConfig;
use protocol::Method;

mod support;
use support::{Xvfb, pct, row, rss_mb, spawn_until_first_frame};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let dir = std::env::temp_dir().join(format!("infomat-bench-display-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let at = domain::DateTime::new(domain::Date::from_ymd(2026, 11, 23).unwrap(), 10, 0, 180).unwrap();
    let (mut opts, _time) = RigOptions::fixed(&dir.join("rig"), at);
    opts.ident_per_minute = 100_000;
    let rig = Peers::start(&opts).expect("peers");
    let (tx, mut feed) = tokio::sync::mpsc::channel(1024);
    rig.rt.spawn(kiosk::central_link::queue_feed::run(FeedTarget::new(rig.central_url(), TOKEN, 1), tx, 0));

    let screen = kiosk::offscreen::Offscreen::install(1920, 1080).unwrap();
    let board_ui = ui::BoardWindow::new().unwrap();
    board_ui.show().unwrap();
    let cfg = DisplayConfig::default();
    let mut board = BoardState::default();
    let started = Instant::now();
    let now_ms = || started.elapsed().as_millis() as u64;

    // The demo patients attached to the clinic; each may hold one waiting ticket at a time.
    let patients: Vec<_> =
        (0..50).filter(|i| central::seed::attached(*i)).map(domain::demo::patient).collect();
    let rounds = if full { 5 } else { 1 };
    let per_round = if full { patients.len() } else { 3 };
    let (mut to_frame, mut event_to_frame) = (Vec::new(), Vec::new());
    let mut req = 0u64;
    for _ in 0..rounds {
        for p in &patients[..per_round] {
            req += 1;
            let params = serde_json::json!({"omsNumber": p.enp.expose(), "birthDate": p.birth_date,
                "lpuId": 1, "kioskId": 2, "requestId": format!("bench-{req}")});
            rig.central_call(Method::EnqueueWalkIn, params).expect("a ticket");
        }
        for _ in 0..per_round {
            let t = Instant::now();
            rig.central_call(Method::CallNext, serde_json::json!({"lpuId": 1, "room": "214"})).unwrap();
            let received = loop {
                let u = rig
                    .rt
                    .block_on(async { tokio::time::timeout(Duration::from_secs(5), feed.recv()).await })
                    .expect("a feed frame within 5 s")
                    .expect("feed alive");
                let is_call = matches!(u, FeedUpdate::Frame(protocol::FeedEvent::Called { .. }));
                let got = Instant::now();
                if board.update(u, now_ms()).is_some() || is_call {
                    break got;
                }
            };
            let v = board_view(&board, now_ms(), 600, &cfg);
            apply(&board_ui, &v, "ГП № 1", "10:00");
            let _frame = screen.frame();
            to_frame.push(t.elapsed().as_secs_f64() * 1000.0);
            event_to_frame.push(received.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let n = to_frame.len();
    let (m, p) = (pct(&mut event_to_frame, 0.5), pct(&mut event_to_frame, 0.99));
    row(
        &format!("display: `called` frame received -> 1920x1080 frame rendered ({n} calls)"),
        "p99 < 50 ms",
        format!("{m:.1} ms"),
        format!("{p:.1} ms"),
        p < 50.0,
    );
    let (m, p) = (pct(&mut to_frame, 0.5), pct(&mut to_frame, 0.99));
    row(
        &format!("display: callNext on loopback -> call drawn on the board ({n} calls)"),
        "p99 < 100 ms",
        format!("{m:.1} ms"),
        format!("{p:.1} ms"),
        p < 100.0,
    );

    // The process, idle.
    let config = dir.join("display.toml");
    std::fs::write(
        &config,
        format!(
            "[kiosk]\nid = 2\nlpu_id = 1\nclinic_name = \"ГП № 1\"\n[central]\nurl = \"{}\"\ntoken = \"{TOKEN}\"\n\
             [display]\nchime = false\nspeak = false\n",
            rig.central_url()
        ),
    )
    .unwrap();
    let settle = Duration::from_secs(if full { 5 } else { 1 });
    let (mut child, first) = spawn_until_first_frame("display", &config, None);
    std::thread::sleep(settle);
    let rss = rss_mb(&child);
    let _ = child.kill();
    let _ = child.wait();
    row(
        "display: idle RSS, offscreen",
        "< 50 MB",
        format!("{rss:.1} MB"),
        format!("{rss:.1} MB"),
        rss < 50.0,
    );
    row(
        "display: process start -> first frame, offscreen",
        "recorded",
        format!("{first:.0} ms"),
        format!("{first:.0} ms"),
        true,
    );
    match Xvfb::start(1920, 1080) {
        Some(x) => {
            let (mut child, _) = spawn_until_first_frame("display", &config, Some(&x.display));
            std::thread::sleep(settle);
            let rss = rss_mb(&child);
            let _ = child.kill();
            let _ = child.wait();
            row(
                "display: idle RSS, X11 window (Xvfb)",
                "< 50 MB",
                format!("{rss:.1} MB"),
                format!("{rss:.1} MB"),
                rss < 50.0,
            );
        }
        None => println!("(Xvfb not installed: the X11 window row is skipped; `make bench` installs it)"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
