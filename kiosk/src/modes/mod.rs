//! What the `kiosk` binary can run. Each mode wires the parts together and ends with a typed
//! error that knows its exit code ([`Failure`]); none holds logic a test could not reach
//! through the parts.
//!
//! - [`run`]: `kiosk run`, the patient kiosk: configuration -> devices -> [`crate::runtime`].
//! - [`display`]: `kiosk display`, the waiting-zone board.
//! - [`selftest`]: `kiosk selftest`, named checks with hints for technicians.
//! - [`api`]: `kiosk api ...`, the technician's check of the link to central.
//! - [`screenshot`]: any screen with sample data, rendered offscreen to PNG, through the
//!   production effect runner with [`standin`]'s in-memory clinic behind it.
//! - [`standin`]: an in-memory clinic that answers at once with fixed sample data (the same
//!   picture every run, whatever the date).
//! - [`tools`]: `check-config` and `decode-policy`.

pub mod api;
pub mod display;
pub mod run;
pub mod screenshot;
pub mod selftest;
pub mod standin;
pub mod tools;

/// An error that says how the process should exit: 1 for a runtime failure, 2 for a bad
/// configuration or bad usage (what `main` maps every mode's error through).
pub trait Failure: std::fmt::Display {
    fn exit_code(&self) -> u8;
}
