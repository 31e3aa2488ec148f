//! What the process benchmarks share: spawning the real binary, reading its memory, a
//! virtual X server.
#![allow(dead_code)] // each bench uses part of it

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn pct(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * q) as usize]
}

pub fn row(figure: &str, target: &str, median: String, p99: String, pass: bool) {
    println!("| {figure} | {target} | {median} | {p99} | {} |", if pass { "pass" } else { "FAIL" });
}

/// Starts `kiosk MODE --config CONFIG` (offscreen unless given an X display) and returns it
/// with the milliseconds until it logged its first frame.
pub fn spawn_until_first_frame(mode: &str, config: &std::path::Path, display: Option<&str>) -> (Child, f64) {
    let mut cmd = Command::new(infomat_dev::kiosk_binary());
    cmd.args([mode, "--config"]).arg(config).stdout(Stdio::null()).stderr(Stdio::piped());
    match display {
        Some(d) => {
            cmd.env("DISPLAY", d);
        }
        None => {
            cmd.arg("--offscreen");
        }
    }
    let t = Instant::now();
    let mut child = cmd.spawn().expect("spawn kiosk");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("first frame on screen") => break,
            Some(_) => {}
            None => panic!("kiosk exited before its first frame"),
        }
        assert!(t.elapsed() < Duration::from_secs(30), "no first frame in 30 s");
    }
    let first = t.elapsed().as_secs_f64() * 1000.0;
    // Keep draining so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, first)
}

pub fn rss_mb(child: &Child) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

pub struct Xvfb {
    child: Child,
    pub display: String,
}

impl Xvfb {
    /// A virtual X server of `w`x`h`, or None when Xvfb is not installed.
    pub fn start(w: u32, h: u32) -> Option<Xvfb> {
        let n = 90 + std::process::id() % 9;
        let display = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([display.as_str(), "-screen", "0", &format!("{w}x{h}x24"), "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let socket = format!("/tmp/.X11-unix/X{n}");
        let t = Instant::now();
        while !std::path::Path::new(&socket).exists() {
            if t.elapsed() > Duration::from_secs(10) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Xvfb { child, display })
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
