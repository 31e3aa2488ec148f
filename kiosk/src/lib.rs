//! Infomat kiosk: the program that runs on kiosks (patient mode) and waiting-zone displays.
//!
//! Map of the crate:
//! - [`session`]: the patient session as a pure state machine (no IO, no clock, no UI).
//! - [`central`]: the central API client, offline walk-in journal and queue feed client.
//! - [`config`]: `kiosk.toml` read raw, then validated into a typed [`config::Config`].
//! - [`display`]: the waiting-zone board: what it shows (pure), announcements, Slint binding.
//! - [`health`]: local `/health` and `/metrics` (Prometheus) for monitoring.
//! - [`modes`]: what the binary can run; each mode wires parts together
//!   ([`modes::demo`] drives a scripted session headless).
//! - [`offscreen`]: Slint's software renderer into memory as a platform with an event loop
//!   (screenshots, `--offscreen` runs for tests and benchmarks).
//! - [`printing`]: session print documents and printer config -> the printer driver's terms.
//! - [`view`]: what each screen shows for a session state (plain data, no Slint).
//! - [`ui_bind`]: the view into the Slint adapters, adapter callbacks out as inputs.
//! - [`tools`]: technician commands that are not modes (`decode-policy`).
//!
//! `main.rs` only parses the command line and maps results to exit codes.

pub mod central;
pub mod config;
pub mod display;
pub mod health;
pub mod modes;
pub mod offscreen;
pub mod printing;
pub mod session;
pub mod tools;
pub mod ui_bind;
pub mod view;

/// This build: the package version and the commit it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("INFOMAT_COMMIT"), ")");
