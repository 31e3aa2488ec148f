//! `scanner-sim`: a virtual policy scanner on a pseudo-terminal.
//!
//! Prints `pty PATH` on its first stdout line; point the kiosk's `scanner.path` at it (or at the
//! `--link` symlink). Then scans what it is told: once from the flags (`--enp ... --name ...
//! --birth ...`, `--demo N`, `--file`, `--text`, `--hex`), and/or one command per line of
//! standard input (`--stdin`) until it closes:
//!
//!   policy ENP;LAST FIRST [MIDDLE];YYYY-MM-DD;male|female[;1|2]
//!   demo N                   (demo patient N, 0..49, as in the central demo seed)
//!   text ANY TEXT            (a digital policy QR, a shop barcode...)
//!   hex 02AB...              (raw bytes)
//!   file PATH                (raw bytes from a file)

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use domain::{Date, Enp, FullName, Sex};
use drivers::card::barcode::BarcodeType;
use drivers::sim::scanner::{VirtualScanner, policy_barcode};

#[derive(Parser, Debug)]
#[command(name = "scanner-sim", about = "A virtual OMS policy scanner on a pseudo-terminal")]
struct Args {
    /// Also make a symlink to the pseudo-terminal here (e.g. /tmp/infomat-scanner).
    #[arg(long)]
    link: Option<PathBuf>,
    /// Read scan commands from standard input, one per line.
    #[arg(long)]
    stdin: bool,
    /// Scan a policy with this number (with --name, --birth, --sex, --type).
    #[arg(long)]
    enp: Option<String>,
    /// "LAST FIRST [MIDDLE]".
    #[arg(long, requires = "enp")]
    name: Option<String>,
    /// YYYY-MM-DD.
    #[arg(long, requires = "enp")]
    birth: Option<String>,
    #[arg(long, default_value = "female")]
    sex: String,
    /// Barcode type, 1 or 2.
    #[arg(long = "type", default_value_t = 2)]
    kind: u8,
    /// Scan demo patient N (0..49).
    #[arg(long)]
    demo: Option<usize>,
    /// Scan the raw bytes of a file.
    #[arg(long)]
    file: Option<PathBuf>,
    /// Scan a text (a digital policy QR, a shop barcode...).
    #[arg(long)]
    text: Option<String>,
    /// Scan raw bytes given as hex.
    #[arg(long)]
    hex: Option<String>,
    /// Wait before a command-line scan, so the reader has time to open the port.
    #[arg(long, default_value_t = 1000)]
    delay_ms: u64,
}

fn payload(line: &str) -> Result<Vec<u8>, String> {
    let (verb, rest) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
    match verb {
        "text" => Ok(rest.as_bytes().to_vec()),
        "demo" => {
            let n: usize = rest.trim().parse().map_err(|_| format!("demo N: a number, not {rest:?}"))?;
            let p = domain::demo::patient(n);
            policy_barcode(BarcodeType::T02, p.enp, &p.name, p.sex, p.birth_date, None)
                .map_err(|e| e.to_string())
        }
        "hex" => drivers::hex::parse(rest),
        "file" => std::fs::read(rest.trim()).map_err(|e| format!("{rest}: {e}")),
        "policy" => {
            let f: Vec<&str> = rest.split(';').map(str::trim).collect();
            if f.len() < 4 {
                return Err("policy ENP;LAST FIRST [MIDDLE];YYYY-MM-DD;male|female[;1|2]".into());
            }
            let enp = Enp::parse(f[0]).map_err(|e| e.to_string())?;
            let mut parts = f[1].split_whitespace();
            let last = parts.next().unwrap_or("");
            let first = parts.next().unwrap_or("");
            let middle = parts.collect::<Vec<_>>().join(" ");
            let name = FullName::new(last, first, Some(&middle));
            let birth = Date::parse_iso(f[2]).map_err(|e| e.to_string())?;
            let sex = match f[3] {
                "male" | "m" => Sex::Male,
                "female" | "f" => Sex::Female,
                other => return Err(format!("sex is male or female, not {other:?}")),
            };
            let kind = if f.get(4) == Some(&"1") { BarcodeType::T01 } else { BarcodeType::T02 };
            policy_barcode(kind, enp, &name, sex, birth, None).map_err(|e| e.to_string())
        }
        other => Err(format!("unknown command {other:?}: policy, text, hex or file")),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut sim = match VirtualScanner::new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("scanner-sim: cannot create a pseudo-terminal: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(link) = &args.link {
        let _ = std::fs::remove_file(link);
        if let Err(e) = std::os::unix::fs::symlink(sim.path(), link) {
            eprintln!("scanner-sim: cannot link {}: {e}", link.display());
            return ExitCode::from(1);
        }
    }
    println!("pty {}", sim.path().display());
    let _ = std::io::stdout().flush();
    let mut run = |line: &str| match payload(line) {
        Ok(bytes) => match sim.scan(&bytes) {
            Ok(()) => println!("scanned {} bytes", bytes.len()),
            Err(e) => eprintln!("scanner-sim: {e}"),
        },
        Err(e) => eprintln!("scanner-sim: {e}"),
    };
    let once = if let Some(enp) = &args.enp {
        Some(format!(
            "policy {enp};{};{};{};{}",
            args.name.as_deref().unwrap_or(""),
            args.birth.as_deref().unwrap_or(""),
            args.sex,
            args.kind
        ))
    } else if let Some(n) = args.demo {
        Some(format!("demo {n}"))
    } else if let Some(f) = &args.file {
        Some(format!("file {}", f.display()))
    } else if let Some(t) = &args.text {
        Some(format!("text {t}"))
    } else {
        args.hex.as_ref().map(|h| format!("hex {h}"))
    };
    if let Some(cmd) = once {
        std::thread::sleep(Duration::from_millis(args.delay_ms));
        run(&cmd);
    }
    if args.stdin {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if !line.trim().is_empty() {
                run(&line);
                let _ = std::io::stdout().flush();
            }
        }
    } else {
        // Keep the terminal alive long enough for the reader to drain the scan.
        std::thread::sleep(Duration::from_millis(500));
    }
    if let Some(link) = &args.link {
        let _ = std::fs::remove_file(link);
    }
    ExitCode::SUCCESS
}
