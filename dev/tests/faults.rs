//! The fault matrix, device rows: each fault injected into the real peer on loopback (the
//! virtual printer's state, bytes into the virtual scanner's pty), then what the patient sees
//! (read by accessible label) and what central and the printer hold: the ticket is never lost
//! and never doubled, and the paper comes out once the fault is cleared. docs/RELIABILITY.md
//! lists every row and the test that proves it.

mod support;

use drivers::sim::printer::PaperLevel;
use support::{Kiosk, ONE_AT_A_TIME};

const NOT_PRINTED: &str = "Талон не напечатался. Запомните или сфотографируйте номер — он действителен.";

/// Demo patient `i` takes a walk-in ticket; returns the number on screen.
fn walk_in(k: &mut Kiosk, i: usize) -> String {
    k.scan(i);
    k.press("Талон к дежурному врачу");
    k.press("Получить талон");
    assert_eq!(k.screen(), "ticket", "{:?}", k.labels());
    k.ticket().number.to_string()
}

/// The fault cleared, the patient presses "print again": one whole ticket with their number.
fn reprint_works(k: &mut Kiosk, number: &str) {
    k.press("Напечатать ещё раз");
    assert!(k.shows("Возьмите талон из принтера"), "{:?}", k.labels());
    let done = k.receipts();
    assert_eq!(done.len(), 1, "exactly one whole ticket");
    assert!(done[0].iter().any(|l| l.contains(number)), "{:?}", done[0]);
    assert_eq!(k.waiting_in_queue(), 1, "a reprint is not a second place in the queue");
}

#[test]
fn printer_cover_open_before_the_job() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("cover");
    k.peers.printer(|p| p.cover_open = true);
    let n = walk_in(&mut k, 0);
    assert!(k.labels().contains(&n), "the number stays on screen");
    assert!(k.shows(NOT_PRINTED), "{:?}", k.labels());
    assert!(k.receipts().is_empty());
    assert_eq!(k.waiting_in_queue(), 1);
    k.peers.printer(|p| p.cover_open = false);
    reprint_works(&mut k, &n);
}

#[test]
fn paper_runs_out_during_the_job() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("runout");
    k.peers.printer(|p| p.lines_left = Some(3));
    let n = walk_in(&mut k, 1);
    assert!(k.shows(NOT_PRINTED), "{:?}", k.labels());
    let all = k.peers.receipts();
    assert_eq!(all.len(), 1, "a torn-off part of a ticket came out");
    assert!(!all[0].complete, "and the printer knows it is incomplete");
    k.peers.printer(|p| {
        p.lines_left = None;
        p.paper = PaperLevel::Ok;
    });
    reprint_works(&mut k, &n);
}

#[test]
fn printer_unplugged_mid_job_then_plugged_back() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("unplug");
    // The cable comes out 120 bytes into the job (a walk-in ticket is about 300 bytes: the
    // printer draws the QR code from its data).
    k.peers.printer(|p| p.unplug_after_bytes = Some(120));
    let n = walk_in(&mut k, 2);
    assert!(k.labels().contains(&n));
    assert!(k.shows(NOT_PRINTED), "{:?}", k.labels());
    assert!(k.receipts().is_empty(), "nothing whole came out");
    assert!(k.peers.receipts().iter().all(|r| !r.complete), "only an uncut part");
    // Still unplugged: pressing again fails the same plain way, nothing is lost.
    k.press("Напечатать ещё раз");
    assert!(k.shows(NOT_PRINTED), "{:?}", k.labels());
    k.peers.printer(|p| p.unplugged = false);
    reprint_works(&mut k, &n);
}

#[test]
fn a_printer_that_never_answers_status_still_prints() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("silent");
    k.peers.printer(|p| p.silent = true);
    let n = walk_in(&mut k, 3);
    // Cheap printers answer no DLE EOT: the ticket prints, unconfirmed, and the patient is told
    // to take it.
    assert!(k.shows("Возьмите талон из принтера"), "{:?}", k.labels());
    let done = k.receipts();
    assert_eq!(done.len(), 1);
    assert!(done[0].iter().any(|l| l.contains(&n)));
}

#[test]
fn scanner_garbage_and_a_partial_frame_get_a_plain_answer() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("scanner");
    // A shop barcode, then line noise.
    for junk in [&b"4607001234567\r\n"[..], &[0xff, 0x00, 0x13, 0x37, 0x02, 0x02][..]] {
        k.scan_bytes(junk);
        assert_eq!(k.screen(), "problem");
        assert!(k.shows("Это не полис ОМС"), "{:?}", k.labels());
        k.press("Понятно");
        assert_eq!(k.screen(), "attract");
    }
    // Half a policy barcode (the patient pulled the card away): refused, nothing half-decoded.
    let full = drivers::sim::scanner::demo_barcode(4);
    k.scan_bytes(&full[..60]);
    assert_eq!(k.screen(), "problem", "{:?}", k.labels());
    assert!(k.session().patient.is_none());
    k.press("Понятно");
    // The whole card, read again, works.
    k.scan(4);
    assert_eq!(k.screen(), "menu");
}
