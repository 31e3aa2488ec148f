//! End-to-end test support shared by the suites in `tests/tests/`.
//!
//! - [`proxy`]: a fault-injecting TCP proxy that sits between the kiosk and central and drops,
//!   delays, cuts or replaces answers on demand.

pub mod proxy;
