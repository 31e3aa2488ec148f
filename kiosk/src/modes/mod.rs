//! What the `kiosk` binary can run. Each mode wires the parts together; none holds logic of
//! its own that a test could not reach through the parts.
//!
//! - [`api`]: `kiosk api ...`, the technician's check of the link to central.
//! - [`demo`]: the scripted headless session (`kiosk demo --headless`), also the smoke test.
//! - [`kiosk`]: the patient kiosk at run time: window, session, devices, central.
//! - [`live`]: the kiosk's real peers on loopback (central, virtual printer and scanner) and
//!   an effect runner over them: the headless demo, UI tests, soak and benchmarks.
//! - [`screenshot`]: any screen with sample data, rendered offscreen to PNG.
//! - [`selftest`]: `kiosk selftest`, named checks with hints for technicians.
//! - [`standin`]: an in-memory clinic that answers instantly with fixed sample data, for
//!   screenshots (the same picture every run, whatever the date).

pub mod api;
pub mod demo;
pub mod kiosk;
pub mod live;
pub mod screenshot;
pub mod selftest;
pub mod standin;
