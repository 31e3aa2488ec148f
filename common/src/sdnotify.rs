//! systemd's notification protocol (`sd_notify(3)`), without libsystemd: one datagram per
//! message to the socket named by `$NOTIFY_SOCKET`. Outside systemd every call is a quiet no-op.
//!
//! The kiosk says `READY=1` when its first frame is on screen (`Type=notify`) and `WATCHDOG=1`
//! from its UI loop, so a hung UI — not merely a dead process — gets the unit restarted.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// Sends `state` (`READY=1`, `WATCHDOG=1`, `STATUS=...`, newline-separated) to systemd.
/// Returns whether there was a socket to send to.
pub fn notify(state: &str) -> std::io::Result<bool> {
    match std::env::var_os("NOTIFY_SOCKET") {
        Some(path) => notify_to(&path, state).map(|()| true),
        None => Ok(false),
    }
}

/// Sends `state` to the notification socket at `path` (`@name` for an abstract socket).
pub fn notify_to(path: &std::ffi::OsStr, state: &str) -> std::io::Result<()> {
    let sock = UnixDatagram::unbound()?;
    let bytes = path.as_encoded_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        // An abstract socket: '@' stands for the leading NUL.
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
        sock.send_to_addr(state.as_bytes(), &addr)?;
    } else {
        sock.send_to(state.as_bytes(), path)?;
    }
    Ok(())
}

/// How often systemd wants `WATCHDOG=1` (half its `WatchdogSec`, as `sd_watchdog_enabled(3)`
/// advises), or `None` when no watchdog is set for this process.
pub fn watchdog_interval() -> Option<Duration> {
    let usec = std::env::var("WATCHDOG_USEC").ok();
    let pid = std::env::var("WATCHDOG_PID").ok();
    watchdog_interval_from(
        usec.as_deref(),
        pid.as_deref(),
        std::process::id(),
        std::os::unix::process::parent_id(),
    )
}

/// [`watchdog_interval`] from the two variables' values, for process `me` whose parent is
/// `parent`. The watchdog is ours when systemd set it for us, or for our parent: under cage
/// the unit's main process is the compositor, and the kiosk it runs is the one whose UI loop
/// must prove it is alive (with `NotifyAccess=all`).
pub fn watchdog_interval_from(
    usec: Option<&str>,
    pid: Option<&str>,
    me: u32,
    parent: u32,
) -> Option<Duration> {
    let usec: u64 = usec?.parse().ok()?;
    if let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok())
        && pid != me
        && pid != parent
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_reach_the_socket_systemd_names() {
        let dir = std::env::temp_dir().join(format!("infomat-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).unwrap();
        notify_to(path.as_os_str(), "READY=1").unwrap();
        let mut buf = [0u8; 64];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn abstract_sockets_are_named_with_an_at_sign() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("infomat-notify-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let server = UnixDatagram::bind_addr(&addr).unwrap();
        notify_to(std::ffi::OsStr::new(&format!("@{name}")), "WATCHDOG=1").unwrap();
        let mut buf = [0u8; 64];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"WATCHDOG=1");
    }

    #[test]
    fn the_watchdog_is_pinged_at_half_its_period_and_only_by_its_process() {
        assert_eq!(watchdog_interval_from(Some("4000000"), Some("77"), 77, 1), Some(Duration::from_secs(2)));
        assert_eq!(watchdog_interval_from(Some("4000000"), None, 77, 1), Some(Duration::from_secs(2)));
        assert_eq!(
            watchdog_interval_from(Some("4000000"), Some("5"), 77, 1),
            None,
            "meant for another process"
        );
        // Under cage the unit's main process is our parent: the watchdog is ours to feed.
        assert_eq!(watchdog_interval_from(Some("4000000"), Some("1"), 77, 1), Some(Duration::from_secs(2)));
        assert_eq!(watchdog_interval_from(None, None, 77, 1), None);
        assert_eq!(watchdog_interval_from(Some("0"), None, 77, 1), None);
        assert_eq!(watchdog_interval_from(Some("soon"), None, 77, 1), None);
    }
}
