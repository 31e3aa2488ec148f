//! What the `kiosk` binary can run. Each mode wires the parts together; none holds logic of
//! its own that a test could not reach through the parts.
//!
//! - [`api`]: `kiosk api ...`, the technician's check of the link to central.
//! - [`demo`]: the scripted headless session (`kiosk demo --headless`), also the smoke test.
//! - [`kiosk`]: the patient kiosk at run time: window, session, devices, central.
//! - [`screenshot`]: any screen with sample data, rendered offscreen to PNG.
//! - [`selftest`]: `kiosk selftest`, named checks with hints for technicians.
//! - [`standin`]: in-memory effect handlers the headless demo runs against until the real
//!   central client and printer driver are wired in.

pub mod api;
pub mod demo;
pub mod kiosk;
pub mod screenshot;
pub mod selftest;
pub mod standin;
