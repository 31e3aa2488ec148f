//! The virtual printer's ESC/POS interpreter (the simulator must survive any host) and the
//! status interpretation of whatever bytes a printer answers.
#![no_main]
use std::sync::{Arc, Mutex};

use drivers::printer::codepage::Family;
use drivers::printer::status::{RawStatus, interpret};
use drivers::sim::printer::{SimState, VirtualPrinter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut p = VirtualPrinter::new(Family::Epson, 576, Arc::new(Mutex::new(SimState::default())));
    // In two pieces: commands split across reads must not confuse the parser.
    let (a, b) = data.split_at(data.len() / 2);
    let _ = p.feed(a);
    let _ = p.feed(b);
    let _ = p.finish();
    if let [w, x, y, z, ..] = data {
        let _ = interpret(RawStatus { printer: Some(*w), offline: Some(*x), error: Some(*y), paper: Some(*z) });
    }
});
