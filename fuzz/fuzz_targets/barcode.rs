//! The OMS policy barcode decoder: any bytes a scanner may send.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = drivers::card::barcode::decode(data) {
        // A decoded policy always has a valid number; its masked form never shows it whole.
        let shown = format!("{:?}", p.policy);
        assert!(!shown.contains(&p.policy.enp.expose()));
    }
});
