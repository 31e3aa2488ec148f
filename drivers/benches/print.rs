//! Benchmarks of the printer path. Targets: ticket -> bytes under 1 ms; job -> last byte on the
//! virtual printer over TCP, p99 under 20 ms (a thermal mechanism needs ~400 ms per ticket).
//!
//! The render figure is `escpos-sim render` without the PNG encoding: the largest interop
//! fixture (python-escpos' software barcodes, three images through GS ( L, ESC * and GS v 0)
//! parsed and drawn into receipts.
//!
//! The TCP figure is `PrinterDriver::print`: status before, the job in chunks, status after.
//! The virtual printer answers the last status query only once it has interpreted every byte
//! before it (one ordered stream), so the call's duration covers the job's last byte arriving.

use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use drivers::link::TcpOpener;
use drivers::printer::codepage::{CodePage, Family};
use drivers::printer::driver::{DriverConfig, PrinterDriver};
use drivers::printer::layout::{
    self, AppointmentTicket, LayoutConfig, Paper, TextMode, TicketDoc, WalkInTicket,
};
use drivers::sim::printer::{SimState, Spool, render_stream, serve_tcp};

fn row(name: &str, target_ms: f64, mut us: Vec<f64>) {
    us.sort_by(f64::total_cmp);
    let pct = |p: f64| us[((us.len() as f64 - 1.0) * p) as usize];
    let (median, p99) = (pct(0.5), pct(0.99));
    let pass = if p99 < target_ms * 1000.0 { "pass" } else { "FAIL" };
    println!("| {name} ({} runs) | p99 < {target_ms} ms | {median:.1} µs | {p99:.1} µs | {pass} |", us.len());
}

fn docs() -> [TicketDoc; 2] {
    [
        TicketDoc::WalkIn(WalkInTicket {
            clinic: "Городская поликлиника № 1".into(),
            number: "Д-017".into(),
            issued: "23.11.2026 08:30".into(),
            ahead: 3,
            estimate_minutes: Some(15),
            estimate_range: None,
            room: Some("214".into()),
            ticket_id: "a1b2c3d4-0017".into(),
            offline: false,
        }),
        TicketDoc::Appointment(AppointmentTicket {
            clinic: "Городская поликлиника № 1".into(),
            address: "ул. Садовая, 12".into(),
            heading: "ЗАПИСЬ К ВРАЧУ".into(),
            speciality: "Терапевт".into(),
            doctor: "Иванова М. П.".into(),
            cabinet: "214".into(),
            when: "23.11.2026 09:40".into(),
            number: "5002".into(),
            patient: "Петрова А. В.".into(),
            appointment_id: 5002,
            cancel_hint: "в инфомате или по телефону +7 495 000-00-00".into(),
            preparation: String::new(),
        }),
    ]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let cfg =
        LayoutConfig { paper: Paper::Mm80, text: TextMode::CodePage { page: CodePage::Pc866, number: 17 } };
    let docs = docs();
    let n = if full { 20_000 } else { 20 };
    let mut us = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let bytes = layout::encode(black_box(&docs[i % 2]), cfg).unwrap();
        us.push(t.elapsed().as_nanos() as f64 / 1000.0);
        black_box(bytes);
    }
    row("print: ticket -> ESC/POS bytes (CP866)", 1.0, us);

    // The largest peer fixture, whichever it is now.
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let (path, stream) = ["python-escpos", "receiptline"]
        .iter()
        .flat_map(|peer| std::fs::read_dir(format!("{fixtures}/{peer}")).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .max_by_key(|(_, b)| b.len())
        .unwrap();
    let name = format!(
        "{}/{}",
        path.parent().unwrap().file_name().unwrap().display(),
        path.file_name().unwrap().display()
    );
    let n = if full { 300 } else { 3 };
    let mut us = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let receipts = render_stream(black_box(&stream), Family::Epson, 576);
        us.push(t.elapsed().as_nanos() as f64 / 1000.0);
        black_box(receipts);
    }
    row(&format!("escpos-sim render: {name} ({} bytes)", stream.len()), 50.0, us);

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let state = Arc::new(Mutex::new(SimState::default()));
    let spool = Arc::new(Spool::new(None).unwrap());
    std::thread::spawn(move || serve_tcp(listener, Family::Epson, 576, state, spool));
    let mut driver = PrinterDriver::new(
        Box::new(TcpOpener { address, connect_timeout: Duration::from_secs(1) }),
        DriverConfig::default(),
    );
    let jobs: Vec<Vec<u8>> = docs.iter().map(|d| layout::encode(d, cfg).unwrap()).collect();
    driver.print(&jobs[0]).unwrap(); // connect and warm up
    let n = if full { 500 } else { 5 };
    let mut us = Vec::with_capacity(n);
    for i in 0..n {
        let t = Instant::now();
        let printed = driver.print(&jobs[i % 2]).unwrap();
        us.push(t.elapsed().as_nanos() as f64 / 1000.0);
        assert!(printed.confirmed);
    }
    row("print: job -> last byte on the virtual printer over TCP", 20.0, us);
}
