//! Infomat drivers: everything that touches hardware, and nothing else. Knows nothing of the UI,
//! the patient session or the central service; speaks `domain` types at its edges.
//!
//! Map of the crate:
//! - [`link`]: byte-stream links (serial, TCP, device file) behind `Link`/`Opener` traits, so
//!   every driver reconnects by asking its opener again.
//! - [`card`]: the OMS policy reader: barcode codec, scanner framing and driver, BER-TLV, the
//!   chip card's APDU sequence, USB CCID readers.
//! - [`printer`]: the ESC/POS ticket printer: code pages, ticket layouts, status, the driver.
//! - [`hex`]: hex input as technicians type it.
//! - [`sim`]: simulators that are byte-level peers of the devices (virtual scanner on a
//!   pseudo-terminal, simulated chip card).
//!
//! Each driver has a rich error enum for technicians and maps it to a
//! [`domain::DeviceErrorKind`] for everyone else.

pub mod card;
pub mod hex;
pub mod link;
pub mod printer;
pub mod sim;
