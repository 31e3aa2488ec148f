//! What every Infomat binary needs, written once.
//!
//! - [`logging`]: the `log` backend (journald priorities under systemd, stderr otherwise).
//! - [`clock`]: wall-clock readings as domain types (binaries only: libraries take time as input).

pub mod clock;
pub mod logging;
