//! Scanner framing: bytes -> scans, by idle gap, and what a scan means.
//!
//! OMS payloads contain 0x0D inside the signature, so frames end on silence, never on CR/LF.
//! An OMS barcode is the exception that needs no silence: it has a fixed length and a structure
//! that checks itself, so once its 130 bytes decode the frame is complete and goes at once (the
//! idle gap would otherwise be most of the time from scan to screen); a suffix the scanner adds
//! (CR, LF) within the gap after it is swallowed. Everything else (a digital policy's QR, text)
//! still ends on silence. [`Framer`] is pure: it is told when bytes arrive and asked, at a later
//! instant, whether a frame is complete.

use std::time::{Duration, Instant};

use domain::{Enp, PolicySource};

use super::barcode::{self, BarcodeError, BarcodePolicy};

/// A stuck or chattering scanner must not grow memory without bound.
pub const MAX_FRAME: usize = 4096;

/// Collects bytes into frames separated by an idle gap.
#[derive(Debug)]
pub struct Framer {
    gap: Duration,
    buf: Vec<u8>,
    last: Option<Instant>,
    /// Frames complete without waiting for silence: cut at [`MAX_FRAME`], or whole barcodes.
    ready: std::collections::VecDeque<Vec<u8>>,
    /// When a barcode was cut by its length, and how many suffix bytes were swallowed since.
    early: Option<(Instant, usize)>,
}

impl Framer {
    pub fn new(gap: Duration) -> Framer {
        Framer { gap, buf: Vec::with_capacity(256), last: None, ready: Default::default(), early: None }
    }

    /// Bytes arrived at `now`.
    pub fn push(&mut self, bytes: &[u8], now: Instant) {
        for &b in bytes {
            if let Some((at, n)) = self.early {
                // A scanner's suffix: up to two control bytes (CR, LF, TAB, ETX, EOT...), never
                // a barcode's type byte or a printable one: those start the next scan.
                if self.buf.is_empty()
                    && n < 2
                    && b < 0x20
                    && !matches!(b, 1 | 2)
                    && now.saturating_duration_since(at) < self.gap
                {
                    self.early = Some((at, n + 1));
                    continue;
                }
                self.early = None;
            }
            if self.buf.len() == MAX_FRAME {
                self.ready.push_back(std::mem::take(&mut self.buf));
            }
            self.buf.push(b);
            if self.buf.len() == barcode::PAYLOAD_LEN && is_whole_barcode(&self.buf) {
                self.ready.push_back(std::mem::take(&mut self.buf));
                self.early = Some((now, 0));
            }
        }
        if !bytes.is_empty() {
            self.last = (!self.buf.is_empty()).then_some(now);
        }
    }

    /// The next complete frame: an over-long one at once, others once `gap` has passed since
    /// the last byte.
    pub fn poll(&mut self, now: Instant) -> Option<Vec<u8>> {
        if let Some(f) = self.ready.pop_front() {
            return Some(f);
        }
        let last = self.last?;
        if now.saturating_duration_since(last) >= self.gap && !self.buf.is_empty() {
            self.last = None;
            return Some(std::mem::take(&mut self.buf));
        }
        None
    }

    /// When [`Framer::poll`] can next return a frame: the caller's read timeout.
    pub fn deadline(&self) -> Option<Instant> {
        if !self.ready.is_empty() {
            return self.early.map(|(at, _)| at).or(self.last);
        }
        self.last.map(|l| l + self.gap)
    }

    /// Drops a partial frame (the link went away mid-scan).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.ready.clear();
        self.last = None;
        self.early = None;
    }
}

/// Whether `buf` is a whole OMS barcode beyond reasonable doubt: its type byte, a payload that
/// decodes, a policy number whose check digit holds, a clean name and a known sex. Anything
/// less (a longer binary code that happens to start like one) waits for silence as before.
fn is_whole_barcode(buf: &[u8]) -> bool {
    matches!(buf.first(), Some(1 | 2))
        && barcode::decode(buf).is_ok_and(|p| p.policy.enp.checksum_ok() && !p.name_suspect && !p.sex_unknown)
}

/// What one frame was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// A policy barcode, decoded.
    Barcode(Box<BarcodePolicy>),
    /// A text holding a Luhn-valid 16-digit number: a digital policy's QR, or a scanner in
    /// keyboard-like text mode. The birth date must be asked for.
    Number { enp: Enp, source: PolicySource },
    /// A 16-digit number whose check digit is wrong.
    BadNumber,
    /// Not a policy at all; `why` is for the technician's log (it holds no scanned content).
    NotAPolicy { why: NotAPolicy },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAPolicy {
    /// Looked like an OMS barcode (type byte, size) but did not decode.
    BrokenBarcode(BarcodeError),
    /// Binary data that is not an OMS barcode.
    Binary {
        len: usize,
    },
    /// Readable text without a policy number (length only: the content may be personal).
    Text {
        chars: usize,
    },
    Empty,
}

/// Classifies a frame per the spec: 130–132 bytes starting with 1 or 2 is a barcode (scanners
/// may append one or two suffix bytes); anything else is text.
pub fn classify(frame: &[u8]) -> Scan {
    if (barcode::PAYLOAD_LEN..=barcode::PAYLOAD_LEN + 2).contains(&frame.len()) && matches!(frame[0], 1 | 2) {
        return match barcode::decode(&frame[..barcode::PAYLOAD_LEN]) {
            Ok(p) => Scan::Barcode(Box::new(p)),
            Err(e) => Scan::NotAPolicy { why: NotAPolicy::BrokenBarcode(e) },
        };
    }
    let Ok(text) = std::str::from_utf8(frame) else {
        return Scan::NotAPolicy { why: NotAPolicy::Binary { len: frame.len() } };
    };
    let text = text.trim_matches(|c: char| c == '\r' || c == '\n' || c.is_whitespace() || c == '\0');
    if text.is_empty() {
        return Scan::NotAPolicy { why: NotAPolicy::Empty };
    }
    // Runs of exactly 16 ASCII digits, not part of a longer number.
    let mut runs = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 16 {
                runs.push(&text[start..i]);
            }
        } else {
            i += 1;
        }
    }
    let valid = runs.iter().filter_map(|r| Enp::parse(r).ok()).find(Enp::checksum_ok);
    match valid {
        Some(enp) => Scan::Number { enp, source: PolicySource::ScannedText },
        None if !runs.is_empty() => Scan::BadNumber,
        None => Scan::NotAPolicy { why: NotAPolicy::Text { chars: text.chars().count() } },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn frames_end_on_silence_not_on_newlines() {
        let start = t0();
        let ms = |n| start + Duration::from_millis(n);
        let mut f = Framer::new(Duration::from_millis(50));
        f.push(b"ab\r\ncd", ms(0));
        assert_eq!(f.poll(ms(30)), None);
        f.push(b"\r\nef", ms(40));
        assert_eq!(f.poll(ms(80)), None, "the gap restarts at every byte");
        assert_eq!(f.deadline(), Some(ms(90)));
        assert_eq!(f.poll(ms(90)).as_deref(), Some(&b"ab\r\ncd\r\nef"[..]));
        assert_eq!(f.poll(ms(500)), None);
    }

    #[test]
    fn a_whole_barcode_goes_at_once_and_its_suffix_is_swallowed() {
        let start = t0();
        let ms = |n| start + Duration::from_millis(n);
        let scan = crate::sim::scanner::demo_barcode(3);
        assert_eq!(scan.len(), barcode::PAYLOAD_LEN);
        let mut f = Framer::new(Duration::from_millis(50));
        // In two reads, as a 9600-baud link delivers it; complete at the last byte.
        f.push(&scan[..64], ms(0));
        assert_eq!(f.poll(ms(5)), None);
        f.push(&scan[64..], ms(10));
        assert_eq!(f.poll(ms(10)).as_deref(), Some(&scan[..]), "no idle gap to wait for");
        // The scanner's CR LF suffix within the gap is not a scan of its own.
        f.push(b"\r\n", ms(12));
        assert_eq!(f.poll(ms(200)), None);
        // A scan right after still frames normally, early or by silence.
        f.push(&scan, ms(300));
        assert_eq!(f.poll(ms(300)).as_deref(), Some(&scan[..]));
        f.push(b"\x03", ms(301));
        assert_eq!(f.poll(ms(400)), None, "a control-byte suffix (here ETX) is swallowed");
        f.push(b"XYZ", ms(500));
        assert_eq!(f.poll(ms(600)).as_deref(), Some(&b"XYZ"[..]), "after the gap: a frame of its own");
        // A text scan hard on the heels of a barcode keeps its first characters.
        f.push(&scan, ms(650));
        assert_eq!(f.poll(ms(650)).as_deref(), Some(&scan[..]));
        f.push(b"77", ms(651));
        assert_eq!(f.poll(ms(701)).as_deref(), Some(&b"77"[..]));
        // The next barcode hard on the heels of one: not taken for a suffix.
        f.push(&scan, ms(800));
        f.push(&scan, ms(801));
        assert_eq!(f.poll(ms(801)).as_deref(), Some(&scan[..]));
        assert_eq!(f.poll(ms(801)).as_deref(), Some(&scan[..]));
    }

    #[test]
    fn what_is_not_a_whole_barcode_still_waits_for_silence() {
        let start = t0();
        let ms = |n| start + Duration::from_millis(n);
        let mut f = Framer::new(Duration::from_millis(50));
        // 130 bytes that start like a barcode but do not decode: no early cut.
        let mut broken = crate::sim::scanner::demo_barcode(3);
        broken[1..20].fill(0xFF);
        f.push(&broken, ms(0));
        assert_eq!(f.poll(ms(10)), None);
        assert_eq!(f.poll(ms(50)).as_deref(), Some(&broken[..]));
        // A digital policy's QR text of any length.
        f.push(&[b'7'; 130], ms(100));
        assert_eq!(f.poll(ms(120)), None);
        assert_eq!(f.poll(ms(150)).map(|v| v.len()), Some(130));
    }

    #[test]
    fn a_chattering_scanner_is_cut_into_bounded_frames() {
        let now = t0();
        let mut f = Framer::new(Duration::from_millis(50));
        let mut cut = 0;
        for _ in 0..100 {
            f.push(&[b'x'; 100], now);
            while let Some(frame) = f.poll(now) {
                assert_eq!(frame.len(), MAX_FRAME);
                cut += 1;
            }
        }
        assert_eq!(cut, 2, "10000 bytes make two full frames at once");
        assert_eq!(f.poll(now + Duration::from_millis(50)).map(|f| f.len()), Some(10_000 - 2 * MAX_FRAME));
    }

    #[test]
    fn texts_are_numbers_or_not_policies() {
        assert_eq!(
            classify(b"7700000000000016\r\n"),
            Scan::Number { enp: Enp::parse("7700000000000016").unwrap(), source: PolicySource::ScannedText }
        );
        assert_eq!(classify(b"7700000000000015"), Scan::BadNumber);
        assert!(matches!(classify(b"https://example/policy?n=7700000000000016&x=1"), Scan::Number { .. }));
        assert!(matches!(classify(b"77000000000000160"), Scan::NotAPolicy { why: NotAPolicy::Text { .. } }));
        assert!(matches!(
            classify(b"4607001234567"),
            Scan::NotAPolicy { why: NotAPolicy::Text { chars: 13 } }
        ));
        assert!(matches!(classify(b"\r\n"), Scan::NotAPolicy { why: NotAPolicy::Empty }));
        assert!(matches!(
            classify(&[0xFF, 0xFE, 0x00]),
            Scan::NotAPolicy { why: NotAPolicy::Binary { len: 3 } }
        ));
        let mut junk = vec![2u8; 131];
        junk[1..9].copy_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(classify(&junk), Scan::NotAPolicy { why: NotAPolicy::BrokenBarcode(_) }));
    }

    proptest! {
        #[test]
        fn framing_and_classification_never_panic_and_lose_nothing(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..40),
            gaps in proptest::collection::vec(0u64..120, 40),
        ) {
            let start = Instant::now();
            let mut f = Framer::new(Duration::from_millis(50));
            let mut t = 0;
            let mut got = Vec::new();
            for (c, g) in chunks.iter().zip(gaps.iter()) {
                t += g;
                let now = start + Duration::from_millis(t);
                while let Some(frame) = f.poll(now) { got.extend(frame); }
                f.push(c, now);
            }
            while let Some(frame) = f.poll(start + Duration::from_millis(t + 1000)) { got.extend(frame); }
            let sent: Vec<u8> = chunks.concat();
            prop_assert_eq!(got, sent, "every byte comes out exactly once, in order");
        }

        /// A barcode however the link chops it, with any suffix of up to two bytes: exactly one
        /// frame, the barcode, as soon as its last byte is in (no gap waited for).
        #[test]
        fn a_barcode_in_any_chunks_with_any_suffix_is_one_frame(
            who in 0usize..50,
            cuts in proptest::collection::vec(1usize..130, 0..6),
            suffix in proptest::collection::vec((0u8..0x20).prop_filter("not a type byte", |b| !matches!(b, 1 | 2)), 0..3),
        ) {
            let scan = crate::sim::scanner::demo_barcode(who);
            let mut cuts = cuts;
            cuts.sort_unstable();
            cuts.dedup();
            let start = Instant::now();
            let mut f = Framer::new(Duration::from_millis(50));
            let mut from = 0;
            let mut got = Vec::new();
            for (i, to) in cuts.into_iter().chain([scan.len()]).enumerate() {
                let now = start + Duration::from_millis(i as u64);
                f.push(&scan[from..to], now);
                from = to;
                while let Some(frame) = f.poll(now) { got.push(frame); }
            }
            prop_assert_eq!(&got, &vec![scan.clone()], "the barcode at its last byte");
            f.push(&suffix, start + Duration::from_millis(10));
            prop_assert_eq!(f.poll(start + Duration::from_millis(500)), None, "the suffix is no frame");
        }

        #[test]
        fn classify_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = classify(&bytes);
        }
    }
}
