//! Benchmark: last scan byte -> decoded policy.
//!
//! Two figures: the pure work once the frame is complete (framer poll + classify + decode of a
//! 130-byte payload; target under 1 ms), and the whole path through a real pseudo-terminal and
//! the serial link: time from writing the last byte to the decoded scan (target 15 ms; a whole
//! OMS barcode is framed by its length, so the 50 ms idle gap is not part of it).

use std::hint::black_box;
use std::time::{Duration, Instant};

use domain::{Date, Enp, FullName, Sex};
use drivers::card::barcode::BarcodeType;
use drivers::card::framing::{Framer, Scan, classify};
use drivers::card::scanner::{Scanner, ScannerEvent};
use drivers::link::SerialOpener;
use drivers::sim::scanner::{VirtualScanner, policy_barcode};

fn row(name: &str, target_us: f64, mut us: Vec<f64>) {
    us.sort_by(f64::total_cmp);
    let pct = |p: f64| us[((us.len() as f64 - 1.0) * p) as usize];
    let (median, p99) = (pct(0.5), pct(0.99));
    let pass = if p99 < target_us { "pass" } else { "FAIL" };
    println!(
        "| {name} ({} runs) | p99 < {} ms | {median:.1} µs | {p99:.1} µs | {pass} |",
        us.len(),
        target_us / 1000.0
    );
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let payload = policy_barcode(
        BarcodeType::T02,
        Enp::parse("7700000000000016").unwrap(),
        &FullName::new("КОНСТАНТИНОПОЛЬСКАЯ", "АЛЕКСАНДРА", Some("ВЛАДИМИРОВНА")),
        Sex::Female,
        Date::from_ymd(1948, 3, 5).unwrap(),
        None,
    )
    .unwrap();
    let gap = Duration::from_millis(50);

    let n = if full { 100_000 } else { 100 };
    let mut pure = Vec::with_capacity(n);
    let base = Instant::now();
    for _ in 0..n {
        let mut f = Framer::new(gap);
        f.push(&payload, base);
        let t = Instant::now();
        // A whole barcode is complete at its last byte: no gap to wait for.
        let frame = f.poll(base).unwrap();
        let scan = classify(black_box(&frame));
        pure.push(t.elapsed().as_nanos() as f64 / 1000.0);
        assert!(matches!(black_box(scan), Scan::Barcode(_)));
    }
    row("scan: frame -> decoded policy (pure)", 1000.0, pure);

    let mut sim = VirtualScanner::new().unwrap();
    let mut scanner = Scanner::new(Box::new(SerialOpener { path: sim.path().to_owned(), baud: 9600 }), gap);
    assert!(matches!(scanner.next_event(None), Some(ScannerEvent::Connected(_))));
    let runs = if full { 200 } else { 3 };
    let mut e2e = Vec::with_capacity(runs);
    for _ in 0..runs {
        sim.scan(&payload).unwrap();
        let sent = Instant::now();
        match scanner.next_event(Some(sent + Duration::from_secs(2))) {
            Some(ScannerEvent::Scan(Scan::Barcode(_))) => {}
            other => panic!("expected a barcode, got {other:?}"),
        }
        e2e.push(sent.elapsed().as_nanos() as f64 / 1000.0);
    }
    // Whole OMS barcodes are framed by their length, so the 50 ms idle gap is not in this time.
    row("scan: last byte on the pty -> policy (barcode framed by length, no idle gap)", 15_000.0, e2e);
}
