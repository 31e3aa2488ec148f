//! Scanner framing: bytes arriving in arbitrary pieces and pauses, then classification.
#![no_main]
use std::time::{Duration, Instant};

use drivers::card::framing::{Framer, classify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let gap = Duration::from_millis(50);
    let mut f = Framer::new(gap);
    let mut now = Instant::now();
    // First byte of each piece: its length and whether a pause follows.
    let mut rest = data;
    while let Some((&ctl, tail)) = rest.split_first() {
        let n = usize::from(ctl & 0x3f).min(tail.len());
        f.push(&tail[..n], now);
        rest = &tail[n..];
        if ctl & 0x40 != 0 {
            now += gap * 2;
        }
        if let Some(frame) = f.poll(now) {
            let _ = classify(&frame);
        }
    }
    now += gap * 2;
    if let Some(frame) = f.poll(now) {
        let _ = classify(&frame);
    }
});
