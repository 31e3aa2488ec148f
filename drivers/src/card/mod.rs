//! The OMS policy as readers see it (`shared/specs/oms-policy.md`).
//!
//! - [`barcode`]: the 130-byte payload, types 01 and 02 (pure codec, both directions).
//! - [`framing`]: scanner bytes -> frames by idle gap -> what a frame means ([`framing::Scan`]).
//! - [`scanner`]: the scanner driver over any link, reconnecting after unplug.
//! - [`tlv`]: BER-TLV and BCD dates (pure).
//! - [`chip`]: the chip card's APDU sequence and data (pure over a [`chip::CardChannel`]).
//! - [`ccid`]: USB CCID readers: bulk messages, T=1 blocks, and the rusb transport.
//! - [`reader`]: the chip-card reader driver: slot polling, reading a card when it is inserted,
//!   reconnecting after unplug.

pub mod barcode;
pub mod ccid;
pub mod chip;
pub mod framing;
pub mod reader;
pub mod scanner;
pub mod tlv;
