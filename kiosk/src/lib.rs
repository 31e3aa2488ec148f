//! Infomat kiosk: the program that runs on kiosks (patient mode) and waiting-zone displays.
//!
//! Map of the crate (the data path reads top to bottom):
//! - [`devices`]: configuration -> devices (printer, scanner, chip-card reader) and the threads
//!   that run them; what they report becomes session events.
//! - [`session`]: the patient session as a pure state machine (no IO, no clock, no UI).
//! - [`effects`]: the one place the session's effects are carried out, through ports.
//! - [`central_link`]: the central API client, offline walk-in journal and queue-feed client.
//! - [`runtime`]: the event loop that ties them together, with or without a window.
//! - [`view`]: what each screen shows for a session state (plain data, no Slint).
//! - [`ui_bind`]: the view into the Slint adapters, adapter callbacks out as inputs.
//! - [`printing`]: session documents and printer config -> the printer driver's terms.
//! - [`board`]: the waiting-zone board: what it shows (pure), announcements, Slint binding.
//! - [`config`]: `kiosk.toml` read raw, then validated into a typed [`config::Config`].
//! - [`clock`]: the session's milliseconds and the clinic's wall clock (real or manual).
//! - [`speech`]: espeak-ng for the board's calls and the kiosk's spoken guidance.
//! - [`health`]: local `/health` and `/metrics` (Prometheus) for monitoring.
//! - [`systemd`]: READY=1 at the first frame, watchdog pings from the UI loop.
//! - [`fit`]: which texts on a window do not fit their boxes (the overflow check behind
//!   `kiosk screenshot --check-fit` and its test).
//! - [`offscreen`]: Slint's software renderer into memory as a platform with an event loop
//!   (screenshots, `--offscreen` runs, tests).
//! - [`modes`]: what the binary can run (`kiosk run`, `display`, `selftest`, `screenshot`,
//!   `api`, `check-config`, `decode-policy`); each wires parts together.
//!
//! `main.rs` only parses the command line and maps results to exit codes. The development
//! harness (demo, soak, the real peers on loopback) is the `infomat-dev` crate: the shipped
//! binary carries none of it.

pub mod board;
pub mod central_link;
pub mod clock;
pub mod config;
pub mod devices;
pub mod effects;
pub mod fit;
pub mod health;
pub mod modes;
pub mod offscreen;
pub mod printing;
pub mod runtime;
pub mod session;
pub mod speech;
pub mod systemd;
pub mod ui_bind;
pub mod view;

/// This build: the package version and the commit it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("INFOMAT_COMMIT"), ")");
