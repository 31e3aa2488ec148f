//! The ticket printer (`shared/specs/escpos-printer.md`).
//!
//! - [`codepage`]: PC437/PC866/WPC1251 tables and per-family `ESC t` numbers.
//! - [`layout`]: tickets -> ESC/POS bytes (pure), through the `escpos` crate plus what it lacks.
//! - [`bitmap`]: one-bit images, the embedded font, `GS v 0` bands, PNG.
//! - [`code128`]: CODE128 symbol values and bars.
//! - [`symbology`]: the other `GS k` barcodes (EAN/UPC, CODE39, ITF, CODABAR, CODE93).
//! - [`status`]: `DLE EOT n` queries and their bits (pure).
//! - [`driver`]: the printer over any link: status with drain-before-query, chunked jobs,
//!   reconnection, and the USB printer-class link through rusb.

pub mod bitmap;
pub mod code128;
pub mod codepage;
pub mod driver;
pub mod layout;
pub mod status;
pub mod symbology;
