//! What every Infomat binary needs, written once.
//!
//! - [`logging`]: the `log` backend (journald priorities under systemd, stderr otherwise).
//! - [`clock`]: wall-clock readings as domain types (binaries only: libraries take time as input).
//! - [`sdnotify`]: `READY=1` and watchdog pings to systemd (`Type=notify`, `WatchdogSec`).

pub mod clock;
pub mod logging;
pub mod sdnotify;
