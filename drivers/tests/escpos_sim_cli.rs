//! `escpos-sim` as technicians and the demo use it: render a captured stream; serve over TCP
//! with its state changed on standard input.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use drivers::link::TcpOpener;
use drivers::printer::driver::{DriverConfig, PrintError, PrinterDriver};
use drivers::printer::status::PrinterStatus;

#[test]
fn render_prints_one_line_per_printed_line_and_a_png() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-render");
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join("out.png");
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/python-escpos/cp866_text.bin");
    let out = Command::new(env!("CARGO_BIN_EXE_escpos-sim"))
        .args(["render", fixture, "--png"])
        .arg(&png)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().next(), Some("Городская поликлиника № 1"));
    assert_eq!(text.lines().count(), 4);
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
}

#[test]
fn trace_lists_skipped_commands_and_never_prints_them() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-trace");
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("unknown.bin");
    // An unknown ESC command, an unknown GS ( function with its length, a stray control byte.
    let mut stream = b"\x1b@\x1b\x07left".to_vec();
    stream.extend([0x1D, b'(', b'Z', 3, 0, b'x', b'y', b'z', 0x07]);
    stream.extend(b"right\n");
    std::fs::write(&input, &stream).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_escpos-sim"))
        .args(["render", "--trace"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "leftright\n");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("@2: 1B 07  unknown ESC command"), "{err}");
    assert!(err.contains("@8: 1D 28 5A 03 00 78 79 7A  unknown GS ( function"), "{err}");
    assert!(err.contains("@16: 07  control byte ignored"), "{err}");
}

#[test]
fn serve_answers_status_from_state_set_on_stdin() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-serve");
    let mut child = Command::new(env!("CARGO_BIN_EXE_escpos-sim"))
        .args(["serve", "--tcp", "127.0.0.1:0", "--out"])
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let address = line.trim().strip_prefix("tcp ").unwrap().to_owned();
    let mut d = PrinterDriver::new(
        Box::new(TcpOpener { address, connect_timeout: Duration::from_secs(1) }),
        DriverConfig::default(),
    );
    assert_eq!(d.status().unwrap().0, PrinterStatus::Ready);
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "cover open").unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ok cover open");
    assert!(matches!(d.print(b"x\n\x1dVA\x00"), Err(PrintError::NotReady(PrinterStatus::CoverOpen))));
    writeln!(stdin, "cover closed").unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    assert!(d.print(b"hello\n\x1dVA\x00").unwrap().confirmed);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !dir.join("ticket-0001.txt").exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(std::fs::read_to_string(dir.join("ticket-0001.txt")).unwrap(), "hello\n");
    child.kill().unwrap();
    let _ = child.wait();
}
