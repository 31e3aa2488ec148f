//! The printer driver against a scripted link (exact bytes, stale answers, silence, noise,
//! unplug) and against the virtual printer over real TCP (paper running out mid-job, reprint).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use drivers::link::TcpOpener;
use drivers::link::scripted::{Script, Step};
use drivers::printer::codepage::{CodePage, Family};
use drivers::printer::driver::{DriverConfig, PrintError, Printed, PrinterDriver};
use drivers::printer::layout::{self, LayoutConfig, Paper, TextMode, TicketDoc, WalkInTicket};
use drivers::printer::status::PrinterStatus;
use drivers::sim::printer::{SimState, Spool, control, serve_tcp};

fn q(n: u8) -> Step {
    Step::Expect(vec![0x10, 0x04, n])
}
fn a(b: u8) -> Step {
    Step::Answer(vec![b])
}

fn all_ok() -> Vec<Step> {
    vec![q(1), a(0x12), q(2), a(0x12), q(3), a(0x12), q(4), a(0x12)]
}

fn driver(script: &Script) -> PrinterDriver {
    PrinterDriver::new(Box::new(script.clone()), DriverConfig { chunk: 4, ..DriverConfig::default() })
}

#[test]
fn stale_bytes_are_drained_before_each_query() {
    let script = Script::new(all_ok());
    // A late answer to an earlier query (paper out!) is waiting in the buffer.
    script.preload(&[0x72, 0x72]);
    let (status, raw) = driver(&script).status().unwrap();
    assert_eq!(status, PrinterStatus::Ready);
    assert_eq!(raw.paper, Some(0x12));
    script.done();
}

#[test]
fn a_silent_printer_is_unknown_and_asked_once() {
    let script = Script::new([q(1)]);
    let mut d = driver(&script);
    assert_eq!(d.status().unwrap().0, PrinterStatus::Unknown);
    script.done();
}

#[test]
fn a_wrong_byte_is_not_a_status() {
    // 0xFF breaks the fixed bits: ignored, and the real answer after it is taken.
    let mut steps = vec![q(1), Step::Answer(vec![0xFF, 0x12])];
    steps.extend(all_ok().into_iter().skip(2));
    let script = Script::new(steps);
    assert_eq!(driver(&script).status().unwrap().0, PrinterStatus::Ready);
    script.done();
    // Only noise: no status.
    let script = Script::new([q(1), a(0x00)]);
    assert_eq!(driver(&script).status().unwrap().0, PrinterStatus::Unknown);
}

#[test]
fn a_job_goes_in_chunks_between_two_status_checks() {
    let job = b"0123456789".to_vec();
    let mut steps = all_ok();
    steps.extend([
        Step::Expect(b"0123".to_vec()),
        Step::Expect(b"4567".to_vec()),
        Step::Expect(b"89".to_vec()),
    ]);
    steps.extend(all_ok());
    let script = Script::new(steps);
    assert_eq!(driver(&script).print(&job).unwrap(), Printed { confirmed: true });
    script.done();
}

#[test]
fn paper_out_before_the_job_refuses_it() {
    let script = Script::new([q(1), a(0x1A), q(2), a(0x32), q(3), a(0x12), q(4), a(0x72)]);
    let e = driver(&script).print(b"ticket").unwrap_err();
    assert!(matches!(e, PrintError::NotReady(PrinterStatus::PaperOut)), "{e}");
    assert_eq!(e.kind(), domain::DeviceErrorKind::PaperOut);
    assert!(e.to_string().contains("load a roll"), "{e}");
    script.done();
}

#[test]
fn unplug_mid_job_fails_and_the_next_job_reconnects() {
    let mut steps = all_ok();
    steps.extend([Step::Expect(b"0123".to_vec()), Step::Unplug]);
    steps.extend(all_ok());
    steps.push(Step::Expect(b"ok".to_vec()));
    steps.extend(all_ok());
    let script = Script::new(steps);
    let mut d = driver(&script);
    let e = d.print(b"0123456789").unwrap_err();
    assert!(matches!(e, PrintError::Write(_)), "{e}");
    assert_eq!(e.kind(), domain::DeviceErrorKind::Disconnected);
    assert_eq!(d.print(b"ok").unwrap(), Printed { confirmed: true });
    assert_eq!(script.opens(), 2, "the link was reopened");
    script.done();
}

fn ticket(n: u32) -> Vec<u8> {
    let doc = TicketDoc::WalkIn(WalkInTicket {
        clinic: "ГП № 1".into(),
        number: format!("Д-{n:03}"),
        issued: "23.11.2026 08:30".into(),
        ahead: 0,
        estimate_minutes: None,
        estimate_range: None,
        room: None,
        ticket_id: format!("T{n}"),
        offline: false,
    });
    let cfg =
        LayoutConfig { paper: Paper::Mm80, text: TextMode::CodePage { page: CodePage::Pc866, number: 17 } };
    layout::encode(&doc, cfg).unwrap()
}

#[test]
fn paper_runs_out_mid_job_then_reprint_after_loading() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let state = Arc::new(Mutex::new(SimState::default()));
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("spool-{}", std::process::id()));
    let spool = Arc::new(Spool::new(Some(dir.clone())).unwrap());
    {
        let (state, spool) = (state.clone(), spool.clone());
        std::thread::spawn(move || serve_tcp(listener, Family::Epson, 576, state, spool));
    }
    let opener = TcpOpener { address, connect_timeout: Duration::from_secs(1) };
    let mut d = PrinterDriver::new(Box::new(opener), DriverConfig::default());

    assert_eq!(d.print(&ticket(1)).unwrap(), Printed { confirmed: true });

    // The roll ends two lines into the next ticket.
    control(&state, "run-out-after 2").unwrap();
    let e = d.print(&ticket(2)).unwrap_err();
    assert!(matches!(e, PrintError::AfterJob(PrinterStatus::PaperOut)), "{e}");
    // While empty, nothing is accepted.
    assert!(matches!(d.print(&ticket(2)), Err(PrintError::NotReady(PrinterStatus::PaperOut))));

    control(&state, "paper loaded").unwrap();
    assert_eq!(d.print(&ticket(2)).unwrap(), Printed { confirmed: true });

    // Let the server store the last cut.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while spool.receipts().len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let r = spool.receipts();
    assert_eq!(r.len(), 3, "ticket 1, the torn ticket 2, the reprinted ticket 2");
    assert!(r[0].complete && !r[1].complete && r[2].complete);
    assert!(r[2].lines.contains(&"Д-002".to_owned()), "{:?}", r[2].lines);
    assert!(dir.join("ticket-0001.png").exists());
    assert!(dir.join("ticket-0002-incomplete.png").exists());
    assert!(dir.join("ticket-0003.png").exists());
}

#[test]
fn a_silent_virtual_printer_prints_unconfirmed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let state = Arc::new(Mutex::new(SimState::default()));
    control(&state, "silent").unwrap();
    let spool = Arc::new(Spool::new(None).unwrap());
    {
        let (state, spool) = (state.clone(), spool.clone());
        std::thread::spawn(move || serve_tcp(listener, Family::Epson, 576, state, spool));
    }
    let opener = TcpOpener { address, connect_timeout: Duration::from_secs(1) };
    let mut d = PrinterDriver::new(
        Box::new(opener),
        DriverConfig { status_timeout: Duration::from_millis(50), ..DriverConfig::default() },
    );
    assert_eq!(d.status().unwrap().0, PrinterStatus::Unknown);
    assert_eq!(d.print(&ticket(3)).unwrap(), Printed { confirmed: false });
}
