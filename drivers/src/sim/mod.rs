//! Simulators: byte-level peers of the real devices, used by tests, the demo and technicians.
//!
//! - [`scanner`]: a pseudo-terminal that "scans" OMS barcodes and texts.
//! - [`printer`]: the virtual ESC/POS printer: interpreter, renderer, status, TCP/pty server.
//! - [`card`]: an OMS chip card answering APDUs from its file system, with injected faults.
//! - [`ccid`]: a USB CCID reader in software that cards are inserted into and pulled out of.

pub mod card;
pub mod ccid;
pub mod printer;
pub mod scanner;
