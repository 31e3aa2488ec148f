//! The systemd watchdog really fires on a hung UI loop. This test plays systemd's part with the
//! same protocol (`NOTIFY_SOCKET`, `WATCHDOG_USEC`): it starts `kiosk run --offscreen`, waits
//! for `READY=1` (sent after the first frame), sees `WATCHDOG=1` arrive from the UI loop, then
//! hangs that loop through the fault hook and sees the pings stop while the process is still
//! alive — so only the watchdog can catch it — and restarts it as `Restart=always` would.
//! Where systemd runs, `scripts/watchdog-systemd.sh` does the same with real systemd.

use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Supervisor {
    sock: UnixDatagram,
    path: std::path::PathBuf,
    dir: std::path::PathBuf,
}

impl Supervisor {
    fn new() -> Supervisor {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("watchdog-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        std::fs::write(
            dir.join("kiosk.toml"),
            format!(
                r#"
[kiosk]
id = 2
lpu_id = 1
clinic_name = "ГП № 1"
[central]
url = "http://127.0.0.1:9"
token = "t"
[printer]
link = "file"
path = "{d}/printer.bin"
[scanner]
link = "sim"
[journal]
dir = "{d}/journal"
[health]
listen = "127.0.0.1:0"
"#,
                d = dir.display()
            ),
        )
        .unwrap();
        Supervisor { sock, path, dir }
    }

    fn start(&self, fault: Option<&str>) -> Child {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kiosk"));
        c.args(["run", "--offscreen", "--config"])
            .arg(self.dir.join("kiosk.toml"))
            .env("NOTIFY_SOCKET", &self.path)
            .env("WATCHDOG_USEC", "1000000")
            .env_remove("WATCHDOG_PID")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(f) = fault {
            c.env("INFOMAT_FAULT", f);
        }
        c.spawn().unwrap()
    }

    /// The next message within `wait`, if any.
    fn next(&self, wait: Duration) -> Option<String> {
        self.sock.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 256];
        self.sock.recv(&mut buf).ok().map(|n| String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    fn expect_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.next(Duration::from_secs(1)).as_deref() == Some("READY=1") {
                return;
            }
        }
        panic!("no READY=1 within 20 s");
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_hung_ui_loop_stops_the_watchdog_pings_and_is_restarted() {
    let sup = Supervisor::new();
    let mut kiosk = sup.start(Some("hang-ui-after-ms=3000"));
    sup.expect_ready();

    // WatchdogSec=1: pings every ~0.5 s while the UI loop turns.
    let mut pings = 0;
    let overdue = loop {
        match sup.next(Duration::from_secs(1)) {
            Some(m) if m == "WATCHDOG=1" => pings += 1,
            Some(other) => panic!("unexpected notification {other:?}"),
            // A full WatchdogSec without a ping: systemd would now kill and restart the unit.
            None => break true,
        }
        assert!(pings < 40, "the UI loop was supposed to hang after 3 s");
    };
    assert!(overdue);
    assert!(pings >= 3, "pings came while the UI loop ran: {pings}");
    assert!(kiosk.try_wait().unwrap().is_none(), "the process is alive: only the watchdog can see the hang");

    // What systemd does next (SIGABRT, then Restart=always): the new process is ready and pings.
    kiosk.kill().unwrap();
    kiosk.wait().unwrap();
    let mut again = sup.start(None);
    sup.expect_ready();
    assert_eq!(sup.next(Duration::from_secs(2)).as_deref(), Some("WATCHDOG=1"));
    again.kill().unwrap();
    again.wait().unwrap();
}
