//! The chip card's side: BER-TLV, the owner and insurer files, CCID reader messages and T=1
//! blocks — everything a card or reader may answer.
#![no_main]
use drivers::card::{ccid, chip, tlv};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tlv::parse(data);
    let _ = chip::parse_owner(data);
    let _ = chip::parse_insurer(data);
    let _ = ccid::parse_reader_message(data);
    let _ = ccid::parse_t1_block(data);
});
