//! The scanner path end to end: `scanner-sim` (a separate process) on a real pseudo-terminal,
//! read through the serial link and the idle-gap framer, exactly as a USB-CDC scanner is.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use drivers::card::framing::{NotAPolicy, Scan};
use drivers::card::scanner::{Scanner, ScannerEvent};
use drivers::link::SerialOpener;

struct Sim {
    child: Child,
    stdin: Option<ChildStdin>,
    pty: PathBuf,
}

impl Sim {
    fn start(link: Option<&std::path::Path>) -> Sim {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_scanner-sim"));
        cmd.arg("--stdin").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        if let Some(l) = link {
            cmd.arg("--link").arg(l);
        }
        let mut child = cmd.spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let pty = PathBuf::from(line.trim().strip_prefix("pty ").expect("first line names the pty"));
        // Keep draining stdout so the simulator never blocks on a full pipe.
        std::thread::spawn(move || for _ in out.lines() {});
        let stdin = child.stdin.take();
        Sim { child, stdin, pty }
    }

    fn send(&mut self, line: &str) {
        let s = self.stdin.as_mut().unwrap();
        writeln!(s, "{line}").unwrap();
        s.flush().unwrap();
    }

    fn stop(mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

fn next_scan(scanner: &mut Scanner) -> Scan {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        match scanner.next_event(Some(until)) {
            Some(ScannerEvent::Scan(s)) => return s,
            Some(ScannerEvent::Connected(_)) => continue,
            other => panic!("expected a scan, got {other:?}"),
        }
    }
}

#[test]
fn scans_arrive_through_a_real_pseudo_terminal() {
    let mut sim = Sim::start(None);
    let mut scanner =
        Scanner::new(Box::new(SerialOpener { path: sim.pty.clone(), baud: 9600 }), Duration::from_millis(50));
    assert!(matches!(scanner.next_event(None), Some(ScannerEvent::Connected(_))));

    sim.send("policy 7700000000000016;ПЕТРОВА АННА ВИКТОРОВНА;1948-03-05;female");
    match next_scan(&mut scanner) {
        Scan::Barcode(b) => {
            assert_eq!(b.policy.enp.expose(), "7700000000000016");
            assert_eq!(b.policy.name.last.expose(), "ПЕТРОВА");
            assert_eq!(b.policy.name.middle.as_ref().unwrap().expose(), "ВИКТОРОВНА");
            assert_eq!(b.policy.birth_date.unwrap().expose().to_string(), "1948-03-05");
            assert!(b.signature.contains(&0x0D), "the signature carries CR and still frames as one scan");
        }
        other => panic!("expected a barcode, got {other:?}"),
    }

    sim.send("policy 7700000000000016;АЛПАТОВА ВАЛЕНТИНА АЛЕКСАНДРОВНА;1949-03-05;female;1");
    assert!(matches!(next_scan(&mut scanner), Scan::Barcode(b) if b.ogrn.is_some()));

    sim.send("text 7700000000000016");
    assert!(matches!(next_scan(&mut scanner), Scan::Number { .. }));

    sim.send("demo 7");
    assert!(
        matches!(next_scan(&mut scanner), Scan::Barcode(b) if b.policy.enp == domain::demo::patient(7).enp)
    );

    sim.send("text 4607001234567");
    assert!(matches!(next_scan(&mut scanner), Scan::NotAPolicy { why: NotAPolicy::Text { .. } }));

    // A frame that claims to be an OMS barcode but is one byte short is garbage, not a crash.
    sim.send(&format!("hex 02{}", "00".repeat(128)));
    assert!(matches!(next_scan(&mut scanner), Scan::NotAPolicy { .. }));
    sim.stop();
}

#[test]
fn the_scanner_comes_back_after_unplug() {
    let link = std::env::temp_dir().join(format!("infomat-scanner-{}", std::process::id()));
    let mut sim = Sim::start(Some(&link));
    let mut scanner =
        Scanner::new(Box::new(SerialOpener { path: link.clone(), baud: 9600 }), Duration::from_millis(30));
    assert!(matches!(scanner.next_event(None), Some(ScannerEvent::Connected(_))));
    sim.send("text 7700000000000016");
    assert!(matches!(next_scan(&mut scanner), Scan::Number { .. }));

    // Unplug: the simulator goes away, the pty with it.
    sim.stop();
    let until = Instant::now() + Duration::from_secs(5);
    match scanner.next_event(Some(until)) {
        Some(ScannerEvent::Disconnected(e)) => assert_eq!(e.kind(), domain::DeviceErrorKind::Disconnected),
        other => panic!("expected a disconnect, got {other:?}"),
    }
    // Nothing there for a while: the driver keeps trying quietly, without busy-looping.
    assert!(scanner.next_event(Some(Instant::now() + Duration::from_millis(300))).is_none());

    // Replug at the same udev-style path.
    let mut sim = Sim::start(Some(&link));
    let until = Instant::now() + Duration::from_secs(5);
    assert!(matches!(scanner.next_event(Some(until)), Some(ScannerEvent::Connected(_))));
    sim.send("text 7700000000000016");
    assert!(matches!(next_scan(&mut scanner), Scan::Number { .. }));
    sim.stop();
}

#[test]
fn a_single_scan_from_flags() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scanner-sim"))
        .args(["--enp", "7700000000000016", "--name", "ЛИ ЯН", "--birth", "1990-02-01", "--sex", "male"])
        .args(["--type", "1", "--delay-ms", "300"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let pty = PathBuf::from(line.trim().strip_prefix("pty ").unwrap());
    let mut scanner =
        Scanner::new(Box::new(SerialOpener { path: pty, baud: 9600 }), Duration::from_millis(50));
    match next_scan(&mut scanner) {
        Scan::Barcode(b) => {
            assert_eq!(b.policy.name.surname_and_initials(), "ЛИ Я.");
            assert_eq!(b.policy.sex, Some(domain::Sex::Male));
            assert_eq!(b.kind.number(), 1);
        }
        other => panic!("expected a barcode, got {other:?}"),
    }
    child.wait().unwrap();
}
