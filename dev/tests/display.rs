//! The waiting-zone board against the real central on loopback: patients take tickets at a
//! kiosk (the production runtime on its peers, headless), a doctor calls the next one (`callNext`, what `central call-next`
//! sends), and the board model — fed by the real feed client over WebSocket — shows the call
//! and announces it once. Central restarts: the board resumes and shows calls made meanwhile,
//! inventing none. The feed is cut: a banner "Нет связи с HH:MM" after 30 s of mocked time,
//! the calls stay; after duty hours the board says when the duty doctor is back.
//! Then the Slint board itself, read back by accessible label.

use std::time::Instant;

use kiosk::board::{BoardState, board_view};
use kiosk::central_link::queue_feed::FeedUpdate;
use kiosk::config::DisplayConfig;

mod clinic;

use clinic::{Clinic, monday_10am};

#[test]
fn a_call_reaches_the_board_is_announced_once_and_survives_a_central_restart() {
    let mut c = Clinic::start("restart");
    let tickets: Vec<String> = (0..4).map(|i| c.take_ticket(i)).collect();
    assert_eq!(tickets, ["Д-001", "Д-002", "Д-003", "Д-004"]);
    c.pump("the snapshot with 4 waiting", |b| b.board.connected && b.board.waiting == 4);
    assert!(c.shown().is_empty(), "nothing called yet, nothing shown");

    let t = Instant::now();
    assert_eq!(c.call_next("214"), "Д-001");
    c.pump("the first call", |b| !b.board.calls.is_empty());
    // For the record only: the benchmark measures this figure (docs/PERFORMANCE.md).
    eprintln!("callNext -> board model: {:?}", t.elapsed());
    let v = board_view(&c.board, c.now_ms, 600, &DisplayConfig::default());
    assert_eq!(v.latest, Some(("Д-001".to_owned(), "214".to_owned())));
    assert!(v.highlight, "a new call blinks");
    c.pump("3 waiting", |b| b.board.waiting == 3);

    // Central goes away and comes back on the same port and database; a doctor calls the
    // next patient at once, before the board has reconnected.
    c.kiosk.peers.stop_central();
    c.pump("the feed noticing", |b| !b.board.connected);
    c.kiosk.peers.start_central_again().unwrap();
    assert_eq!(c.call_next("215"), "Д-002");
    c.pump("the call made while away", |b| b.board.connected && b.board.calls.len() == 2);
    assert_eq!(c.shown(), ["Д-002", "Д-001"]);
    assert_eq!(c.call_next("105"), "Д-003");
    c.pump("a live call after the restart", |b| b.board.calls.len() == 3 && b.board.waiting == 1);
    assert_eq!(c.shown(), ["Д-003", "Д-002", "Д-001"], "exactly what was called, newest first");
    // Each call chimed at most once; the live ones always.
    let mut once = c.announced.clone();
    once.dedup();
    assert_eq!(once, c.announced, "no call announced twice: {:?}", c.announced);
    assert!(c.announced.contains(&"Д-001".to_owned()) && c.announced.contains(&"Д-003".to_owned()));
    assert!(c.announced.iter().all(|n| tickets.contains(n)), "nothing invented: {:?}", c.announced);
}

#[test]
fn a_cut_feed_marks_the_board_stale_after_30_s_and_keeps_the_calls() {
    let mut c = Clinic::start("stale");
    c.take_ticket(0);
    c.pump("connected", |b| b.board.connected && b.board.waiting == 1);
    c.call_next("214");
    c.pump("the call", |b| b.board.calls.len() == 1);
    c.kiosk.peers.stop_central();
    c.pump("the cut", |b| !b.board.connected);
    let cut_at = c.now_ms;
    let cfg = DisplayConfig::default();
    assert!(!board_view(&c.board, cut_at + 29_999, 600, &cfg).stale, "a short outage is not shown");
    let v = board_view(&c.board, cut_at + 30_000, 600, &cfg);
    assert!(v.stale, "нет связи after 30 s");
    assert_eq!(v.latest, Some(("Д-001".to_owned(), "214".to_owned())), "the last board stays");
    assert!(!v.highlight);
    // Reconnection attempts fail meanwhile: still stale, still no invented call.
    c.now_ms = cut_at + 45_000;
    c.board.update(FeedUpdate::Disconnected("connection refused".into()), c.now_ms);
    assert!(board_view(&c.board, cut_at + 45_000, 600, &cfg).stale);
    assert_eq!(c.shown(), ["Д-001"]);
}

#[test]
fn the_board_reads_back_by_label() {
    i_slint_backend_testing::init_no_event_loop();
    use i_slint_backend_testing::ElementHandle;
    let at = monday_10am();
    let mut st = BoardState::default();
    st.update(FeedUpdate::Connected, 0);
    st.update(FeedUpdate::Frame(protocol::FeedEvent::Snapshot { seq: 3, waiting: 7, called: vec![] }), 0);
    for (seq, n, room) in [(4, "Д-001", "214"), (5, "Д-002", "215")] {
        let ev =
            protocol::FeedEvent::Called { seq, ticket_number: n.into(), room: room.into(), called_at: at };
        st.update(FeedUpdate::Frame(ev), 100);
    }
    st.average_wait_minutes = Some(12);
    let w = ui::BoardWindow::new().unwrap();
    let cfg = DisplayConfig::default();
    kiosk::board::apply(&w, &board_view(&st, 200, 600, &cfg), "ГП № 1", "10:00");
    let has = |label: &str| ElementHandle::find_by_accessible_label(&w, label).next().is_some();
    assert!(has("Вызван талон Д-002, кабинет 215"));
    assert!(has("Талон Д-001 — кабинет 214"));
    assert!(has("В очереди: 7"));
    assert!(has("Среднее ожидание: ~12 мин"));
    assert!(has("ГП № 1"));
    let banner = |since: &str| format!("Нет связи с {since} — вызовы могут быть устаревшими");
    assert!(!has(&banner("10:00")));
    // The feed drops at 10:00; 30 s later a banner across the board says since when, and the
    // calls are still there; at 10:12 it still says 10:00.
    st.update(FeedUpdate::Disconnected("gone".into()), 1_000);
    kiosk::board::apply(&w, &board_view(&st, 31_000, 600, &cfg), "ГП № 1", "10:00");
    assert!(has(&banner("10:00")));
    assert!(has("Вызван талон Д-002, кабинет 215"));
    kiosk::board::apply(&w, &board_view(&st, 1_000 + 12 * 60_000, 612, &cfg), "ГП № 1", "10:12");
    assert!(has(&banner("10:00")));
    // After duty hours: when the duty doctor is back, not the day's calls.
    st.update(FeedUpdate::Connected, 2_000_000);
    let hours = DisplayConfig { duty_hours: Some((8 * 60, 20 * 60)), ..DisplayConfig::default() };
    kiosk::board::apply(&w, &board_view(&st, 2_000_000, 21 * 60, &hours), "ГП № 1", "21:00");
    assert!(has("Дежурный врач принимает с 08:00"));
    assert!(!has("Вызван талон Д-002, кабинет 215"), "no stale calls at night");
    kiosk::board::apply(&w, &board_view(&st, 2_000_000, 9 * 60, &hours), "ГП № 1", "09:00");
    assert!(has("Вызван талон Д-002, кабинет 215") && !has("Дежурный врач принимает с 08:00"));
}
