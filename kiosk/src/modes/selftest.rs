//! `kiosk selftest`: what is broken, in one minute, built on the same drivers and client the
//! patient screens use. Each check passes, fails with a hint a technician can act on, or says
//! the ability is not there ("unsupported" is not a failure).

use std::io::Write;
use std::time::{Duration, Instant};

use serde::Serialize;

use drivers::card::framing::Scan;
use drivers::card::scanner::{Scanner, ScannerEvent};
use drivers::printer::driver::{DriverConfig, PrinterDriver};
use drivers::printer::layout::{self, TestPage, TicketDoc};
use drivers::printer::status::PrinterStatus;

use crate::central_link::client::{CallError, Client};
use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Unsupported,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub outcome: Outcome,
    pub detail: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub hint: String,
}

fn pass(name: &'static str, detail: impl Into<String>) -> Check {
    Check { name, outcome: Outcome::Pass, detail: detail.into(), hint: String::new() }
}
fn fail(name: &'static str, detail: impl Into<String>, hint: impl Into<String>) -> Check {
    Check { name, outcome: Outcome::Fail, detail: detail.into(), hint: hint.into() }
}
fn unsupported(name: &'static str, detail: impl Into<String>) -> Check {
    Check { name, outcome: Outcome::Unsupported, detail: detail.into(), hint: String::new() }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub print_test_page: bool,
    pub wait_scan: Option<Duration>,
}

fn printer_checks(cfg: &Config, opts: &Options, out: &mut Vec<Check>) {
    let Some(opener) = crate::devices::link_opener(&cfg.printer.link) else {
        out.push(unsupported("printer", "printer.url = \"sim\": the built-in simulator (demo only)"));
        return;
    };
    let what = opener.describe();
    match opener.open() {
        Ok(_) => out.push(pass("printer.link", what.clone())),
        Err(e) => {
            out.push(fail(
                "printer.link",
                e.to_string(),
                "check the cable, power and printer.link/path/usb in the config",
            ));
            return;
        }
    }
    let mut driver = PrinterDriver::new(opener, DriverConfig::default());
    match driver.status() {
        Ok((PrinterStatus::Unknown, _)) => out.push(unsupported(
            "printer.status",
            "the printer does not answer DLE EOT: paper-out cannot be detected",
        )),
        Ok((s, raw)) if s.can_print() => out.push(pass("printer.status", format!("{s:?} ({raw:?})"))),
        Ok((s, _)) => out.push(fail("printer.status", format!("{s:?}"), s.hint())),
        Err(e) => {
            out.push(fail("printer.status", e.to_string(), "the printer stopped answering: power-cycle it"))
        }
    }
    out.push(pass(
        "printer.codepage",
        format!(
            "{:?} as ESC t {} on a {} mm roll",
            cfg.printer.codepage.name, cfg.printer.codepage.number, cfg.printer.paper_width_mm
        ),
    ));
    out.push(unsupported("printer.cutter", "cutter health is reported only through printer.status errors"));
    if opts.print_test_page {
        let page = TicketDoc::TestPage(TestPage {
            model: cfg.printer.model.clone(),
            candidates: vec![
                (drivers::printer::codepage::CodePage::Pc866, cfg.printer.codepage.number),
                (drivers::printer::codepage::CodePage::Pc866, 17),
                (drivers::printer::codepage::CodePage::Pc866, 7),
                (drivers::printer::codepage::CodePage::Wpc1251, 46),
            ],
        });
        let r = layout::encode(&page, crate::printing::layout_config(&cfg.printer))
            .map_err(|e| e.to_string())
            .and_then(|b| driver.print(&b).map_err(|e| e.to_string()));
        out.push(match r {
            Ok(_) => pass("printer.test_page", "printed: pick the code-page line that reads correctly"),
            Err(e) => fail("printer.test_page", e, "see printer.status"),
        });
    }
}

fn scanner_checks(cfg: &Config, opts: &Options, out: &mut Vec<Check>) {
    let Some(opener) = crate::devices::link_opener(&cfg.scanner.link) else {
        out.push(unsupported("scanner", "scanner.url = \"sim\" (demo only)"));
        return;
    };
    match opener.open() {
        Ok(_) => out.push(pass("scanner.link", opener.describe())),
        Err(e) => {
            out.push(fail(
                "scanner.link",
                e.to_string(),
                "is the scanner in USB serial (CDC) mode? is /dev/infomat-scanner there (udev rule)?",
            ));
            return;
        }
    }
    let Some(wait) = opts.wait_scan else { return };
    let mut scanner = Scanner::new(opener, cfg.scanner.idle_gap);
    let until = Instant::now() + wait;
    loop {
        match scanner.next_event(Some(until)) {
            Some(ScannerEvent::Scan(Scan::Barcode(b))) => {
                out.push(pass(
                    "scanner.scan",
                    format!("OMS barcode type {:02}: {}", b.kind.number(), b.policy.enp),
                ));
                return;
            }
            Some(ScannerEvent::Scan(Scan::Number { enp, .. })) => {
                out.push(pass("scanner.scan", format!("policy number as text: {enp}")));
                return;
            }
            Some(ScannerEvent::Scan(other)) => {
                out.push(fail(
                    "scanner.scan",
                    format!("{other:?}"),
                    "scan an OMS policy barcode; in keyboard mode binary barcodes are garbled",
                ));
                return;
            }
            Some(ScannerEvent::Connected(_)) => {}
            Some(ScannerEvent::Disconnected(e)) => {
                out.push(fail("scanner.scan", e.to_string(), "the scanner went away during the test"));
                return;
            }
            None => {
                out.push(fail(
                    "scanner.scan",
                    format!("nothing scanned in {} s", wait.as_secs()),
                    "hold a policy to the scanner window",
                ));
                return;
            }
        }
    }
}

fn chip_check(cfg: &Config, out: &mut Vec<Check>) {
    let Some(opener) = crate::devices::card_reader_opener(cfg) else {
        out.push(unsupported("chip_reader", "no chip_reader.usb configured"));
        return;
    };
    match opener.open() {
        Ok((_, level)) => out.push(pass("chip_reader", format!("{}, {level:?} level", opener.describe()))),
        Err(e) => out.push(fail(
            "chip_reader",
            e.to_string(),
            "check the USB cable and the udev rule for CCID readers",
        )),
    }
}

async fn central_checks(cfg: &Config, out: &mut Vec<Check>) {
    let client = match Client::new(&cfg.central) {
        Ok(c) => c,
        Err(e) => {
            out.push(fail("central", e.to_string(), "check central.ca_file"));
            return;
        }
    };
    let t = Instant::now();
    let r =
        client.call::<protocol::call::GetQueueState>(&protocol::LpuParams { lpu_id: cfg.kiosk.lpu.0 }).await;
    let ms = t.elapsed().as_millis();
    match r {
        Ok(s) => {
            out.push(pass("central.reach", format!("{} in {ms} ms", cfg.central.url)));
            out.push(pass("central.auth", "kiosk token accepted"));
            out.push(pass("central.queue", format!("{} waiting", s.waiting)));
        }
        Err(e @ CallError::Refused(_)) => {
            out.push(pass("central.reach", cfg.central.url.clone()));
            out.push(fail(
                "central.auth",
                e.to_string(),
                "the kiosk token is not configured on central (or not for this kiosk id): check central.token; \
                 no offline tickets are issued while central refuses the kiosk",
            ));
        }
        Err(e) => out.push(fail(
            "central.reach",
            e.to_string(),
            "network cable, DNS, firewall, central.url; walk-in tickets are issued offline meanwhile",
        )),
    }
    // Clock skew: tickets carry times, and TLS fails on a clock far off.
    if let Ok(resp) = reqwest::Client::new()
        .get(format!("{}/health", cfg.central.url))
        .timeout(cfg.central.request_timeout)
        .send()
        .await
    {
        match resp.headers().get("date").and_then(|d| d.to_str().ok()).and_then(http_date_unix) {
            Some(server) => {
                let skew = common::clock::unix_seconds() as i64 - server;
                if skew.abs() <= 60 {
                    out.push(pass("central.clock", format!("skew {skew:+} s")));
                } else {
                    out.push(fail(
                        "central.clock",
                        format!("skew {skew:+} s"),
                        "enable NTP on the kiosk (timedatectl set-ntp true)",
                    ));
                }
            }
            None => out.push(unsupported("central.clock", "central sends no Date header")),
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let target = crate::central_link::queue_feed::FeedTarget::new(
        &cfg.central.url,
        &cfg.central.token,
        cfg.kiosk.lpu.0,
    )
    .with_ca(cfg.central.ca_file.clone());
    let task = tokio::spawn(crate::central_link::queue_feed::run(target, tx, 0));
    let got = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(u) = rx.recv().await {
            if let crate::central_link::queue_feed::FeedUpdate::Frame(_) = u {
                return true;
            }
        }
        false
    })
    .await;
    task.abort();
    out.push(match got {
        Ok(true) => pass("central.feed", "queue feed snapshot received"),
        _ => fail(
            "central.feed",
            "no queue feed frame in 5 s",
            "a proxy or firewall may block WebSocket upgrades",
        ),
    });
}

/// `Sun, 22 Nov 2026 01:10:32 GMT` -> Unix seconds.
fn http_date_unix(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != 6 {
        return None;
    }
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = months.iter().position(|m| *m == parts[2])? as u32 + 1;
    let date = domain::Date::from_ymd(parts[3].parse().ok()?, month, parts[1].parse().ok()?).ok()?;
    let hms: Vec<i64> = parts[4].split(':').filter_map(|x| x.parse().ok()).collect();
    if hms.len() != 3 {
        return None;
    }
    let days = i64::from(date.days_since_1900()) - 25_567;
    Some(days * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2])
}

fn storage_check(cfg: &Config, out: &mut Vec<Check>) {
    let dir = &cfg.journal_dir;
    let probe = dir.join(".selftest");
    let write = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::File::create(&probe))
        .and_then(|mut f| f.write_all(b"ok").and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::remove_file(&probe));
    match write {
        Ok(()) => out.push(pass("storage.journal", format!("{} writable", dir.display()))),
        Err(e) => out.push(fail(
            "storage.journal",
            format!("{}: {e}", dir.display()),
            "the kiosk user needs write access (systemd ReadWritePaths=, ownership)",
        )),
    }
    match nix::sys::statvfs::statvfs(dir.as_path()) {
        Ok(v) => {
            let free = v.blocks_available() * v.fragment_size();
            let mb = free / 1_000_000;
            if mb >= 50 {
                out.push(pass("storage.free", format!("{mb} MB free")));
            } else {
                out.push(fail(
                    "storage.free",
                    format!("{mb} MB free"),
                    "free disk space: offline tickets need room",
                ));
            }
        }
        Err(e) => out.push(unsupported("storage.free", e.to_string())),
    }
}

fn display_check(cfg: &Config, out: &mut Vec<Check>) {
    let configured = format!("{}x{}", cfg.screen.width, cfg.screen.height);
    if std::env::var_os("DISPLAY").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some()
        || std::path::Path::new("/dev/dri/card0").exists()
    {
        out.push(pass("display", format!("configured {configured}")));
    } else {
        out.push(unsupported("display", format!("no display here; configured {configured}")));
    }
}

/// Runs every check.
pub async fn run(cfg: &Config, opts: &Options) -> Vec<Check> {
    let mut out = Vec::new();
    let (c, o) = (cfg.clone(), opts.clone());
    let devices = tokio::task::spawn_blocking(move || {
        let mut v = Vec::new();
        printer_checks(&c, &o, &mut v);
        scanner_checks(&c, &o, &mut v);
        chip_check(&c, &mut v);
        storage_check(&c, &mut v);
        display_check(&c, &mut v);
        v
    });
    central_checks(cfg, &mut out).await;
    if let Ok(v) = devices.await {
        out.splice(0..0, v);
    }
    out
}

/// `kiosk selftest`'s options.
#[derive(Debug, Clone, clap::Args)]
pub struct SelftestArgs {
    #[arg(long, default_value = "/etc/infomat/kiosk.toml")]
    pub config: std::path::PathBuf,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    #[arg(long)]
    pub print_test_page: bool,
    /// Wait this many seconds for a live scan.
    #[arg(long)]
    pub wait_scan: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum SelftestError {
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{0} check(s) failed")]
    Failed(usize),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl super::Failure for SelftestError {
    fn exit_code(&self) -> u8 {
        match self {
            SelftestError::Config(_) => 2,
            _ => 1,
        }
    }
}

/// `kiosk selftest`: every check, printed; an error when one failed.
pub fn main(args: &SelftestArgs, out: &mut dyn Write) -> Result<(), SelftestError> {
    let cfg = crate::config::load(&args.config)?;
    common::logging::init(log::LevelFilter::Warn);
    let opts =
        Options { print_test_page: args.print_test_page, wait_scan: args.wait_scan.map(Duration::from_secs) };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let checks = rt.block_on(run(&cfg, &opts));
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&checks).expect("checks serialise"))?;
    } else {
        print(&checks, out)?;
    }
    match checks.iter().filter(|c| c.outcome == Outcome::Fail).count() {
        0 => Ok(()),
        n => Err(SelftestError::Failed(n)),
    }
}

/// The human table.
pub fn print(checks: &[Check], out: &mut dyn Write) -> std::io::Result<()> {
    for c in checks {
        let mark = match c.outcome {
            Outcome::Pass => "ok  ",
            Outcome::Fail => "FAIL",
            Outcome::Unsupported => "n/a ",
        };
        writeln!(out, "{mark} {:<18} {}", c.name, c.detail)?;
        if !c.hint.is_empty() {
            writeln!(out, "     {:<18} -> {}", "", c.hint)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn http_dates_parse() {
        assert_eq!(super::http_date_unix("Mon, 23 Nov 2026 06:40:00 GMT"), Some(1_795_416_000));
        assert_eq!(super::http_date_unix("yesterday"), None);
    }
}
