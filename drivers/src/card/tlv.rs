//! BER-TLV as the OMS chip card writes it (pure).
//!
//! Tags are one or more bytes (a first byte with the low five bits set continues while the next
//! byte's top bit is set); lengths are short (`< 0x80`) or long (`0x81 n`, `0x82 nn`, `0x83 nnn`).
//! A parser that cannot trust its input: every length is checked against what is there.

/// One element; `value` borrows from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u32,
    pub value: &'a [u8],
}

impl Tlv<'_> {
    /// Constructed elements hold further TLVs (bit 6 of the first tag byte).
    pub fn constructed(&self) -> bool {
        let first = if self.tag > 0xFFFF {
            self.tag >> 16
        } else if self.tag > 0xFF {
            self.tag >> 8
        } else {
            self.tag
        };
        first & 0x20 != 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    #[error("TLV ends inside a tag at byte {0}")]
    TruncatedTag(usize),
    #[error("TLV ends inside a length at byte {0}")]
    TruncatedLength(usize),
    #[error("TLV element at byte {at} says {len} bytes, only {left} follow")]
    TruncatedValue { at: usize, len: usize, left: usize },
    #[error("TLV length form {0:#04x} at byte {1} is not supported")]
    BadLength(u8, usize),
    #[error("TLV tag at byte {0} is longer than three bytes")]
    TagTooLong(usize),
}

/// Reads the tag and length at the start of `b`: `(tag, header_len, value_len)`.
pub fn header(b: &[u8], base: usize) -> Result<(u32, usize, usize), TlvError> {
    let mut i = 0;
    let first = *b.first().ok_or(TlvError::TruncatedTag(base))?;
    let mut tag = u32::from(first);
    i += 1;
    if first & 0x1F == 0x1F {
        loop {
            let next = *b.get(i).ok_or(TlvError::TruncatedTag(base + i))?;
            tag = (tag << 8) | u32::from(next);
            i += 1;
            if next & 0x80 == 0 {
                break;
            }
            if i >= 3 {
                return Err(TlvError::TagTooLong(base));
            }
        }
    }
    let l = *b.get(i).ok_or(TlvError::TruncatedLength(base + i))?;
    i += 1;
    let len = match l {
        0..=0x7F => usize::from(l),
        0x81..=0x83 => {
            let n = usize::from(l & 0x7F);
            let bytes = b.get(i..i + n).ok_or(TlvError::TruncatedLength(base + i))?;
            i += n;
            bytes.iter().fold(0usize, |acc, &x| (acc << 8) | usize::from(x))
        }
        other => return Err(TlvError::BadLength(other, base + i - 1)),
    };
    Ok((tag, i, len))
}

/// Parses a sequence of TLV elements filling `b` exactly.
pub fn parse(b: &[u8]) -> Result<Vec<Tlv<'_>>, TlvError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < b.len() {
        // Padding between elements (0x00 or 0xFF) is allowed by ISO 7816-4.
        if b[at] == 0x00 || b[at] == 0xFF {
            at += 1;
            continue;
        }
        let (tag, h, len) = header(&b[at..], at)?;
        let start = at + h;
        let left = b.len() - start;
        if len > left {
            return Err(TlvError::TruncatedValue { at, len, left });
        }
        out.push(Tlv { tag, value: &b[start..start + len] });
        at = start + len;
    }
    Ok(out)
}

/// Total size (header + value) of the TLV element starting `b`, once its header is readable:
/// tells a reader how many bytes to fetch.
pub fn element_size(b: &[u8]) -> Result<usize, TlvError> {
    let (_, h, len) = header(b, 0)?;
    Ok(h + len)
}

/// Encodes one element (tests and the simulated card).
pub fn encode(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    let tag_bytes = tag.to_be_bytes();
    let skip = tag_bytes.iter().take_while(|&&b| b == 0).count().min(3);
    out.extend_from_slice(&tag_bytes[skip..]);
    match value.len() {
        n @ 0..=0x7F => out.push(n as u8),
        n @ 0x80..=0xFF => out.extend_from_slice(&[0x81, n as u8]),
        n @ 0x100..=0xFFFF => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
        n => out.extend_from_slice(&[0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(value);
    out
}

/// A BCD date `DD MM YY YY` (4 bytes); `None` for bad digits or an impossible day.
pub fn bcd_date(b: &[u8]) -> Option<domain::Date> {
    if b.len() != 4 {
        return None;
    }
    let d = |x: u8| -> Option<u32> {
        let (hi, lo) = (x >> 4, x & 0x0F);
        (hi < 10 && lo < 10).then(|| u32::from(hi) * 10 + u32::from(lo))
    };
    domain::Date::from_ymd(d(b[2])? * 100 + d(b[3])?, d(b[1])?, d(b[0])?).ok()
}

/// Inverse of [`bcd_date`].
pub fn encode_bcd_date(date: domain::Date) -> [u8; 4] {
    let b = |v: u32| ((v / 10) << 4 | (v % 10)) as u8;
    [b(date.day()), b(date.month()), b(date.year() / 100), b(date.year() % 100)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn multi_byte_tags_and_long_lengths() {
        let inner = [encode(0x5F21, "ИВАНОВ".as_bytes()), encode(0x5F25, &[1])].concat();
        let outer = encode(0x62, &inner);
        let top = parse(&outer).unwrap();
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].tag, 0x62);
        assert!(top[0].constructed());
        let kids = parse(top[0].value).unwrap();
        assert_eq!(kids[0].tag, 0x5F21);
        assert_eq!(kids[0].value, "ИВАНОВ".as_bytes());
        assert!(!kids[0].constructed());
        assert!(Tlv { tag: 0x7F30, value: &[] }.constructed());
        let long = encode(0x5F29, &[b'x'; 300]);
        assert_eq!(&long[..5], &[0x5F, 0x29, 0x82, 0x01, 0x2C]);
        assert_eq!(element_size(&long).unwrap(), 305);
    }

    #[test]
    fn truncation_is_an_error_not_a_panic() {
        let e = encode(0x5F26, b"7700000000000016");
        assert_eq!(parse(&e[..10]), Err(TlvError::TruncatedValue { at: 0, len: 16, left: 7 }));
        assert_eq!(parse(&[0x5F]), Err(TlvError::TruncatedTag(1)));
        assert_eq!(parse(&[0x5F, 0x26]), Err(TlvError::TruncatedLength(2)));
        assert_eq!(parse(&[0x5F, 0x26, 0x82, 0x01]), Err(TlvError::TruncatedLength(3)));
        assert_eq!(parse(&[0x04, 0x84, 0, 0, 0, 1]), Err(TlvError::BadLength(0x84, 1)));
    }

    #[test]
    fn bcd_dates() {
        let d = domain::Date::from_ymd(1948, 3, 5).unwrap();
        assert_eq!(encode_bcd_date(d), [0x05, 0x03, 0x19, 0x48]);
        assert_eq!(bcd_date(&[0x05, 0x03, 0x19, 0x48]), Some(d));
        assert_eq!(bcd_date(&[0x31, 0x02, 0x20, 0x24]), None);
        assert_eq!(bcd_date(&[0x0A, 0x03, 0x19, 0x48]), None);
        assert_eq!(bcd_date(&[0x05, 0x03, 0x19]), None);
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_stays_in_bounds(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(items) = parse(&bytes) {
                let total: usize = items.iter().map(|t| t.value.len()).sum();
                prop_assert!(total <= bytes.len());
                for t in items.iter().filter(|t| t.constructed()) {
                    let _ = parse(t.value);
                }
            }
        }

        #[test]
        fn encode_parse_round_trip(tag in prop_oneof![0x01u32..0x1F, 0x5F01u32..0x5F7F, 0x7F01u32..0x7F7F], value in proptest::collection::vec(any::<u8>(), 0..600)) {
            let e = encode(tag, &value);
            let p = parse(&e).unwrap();
            prop_assert_eq!(p, vec![Tlv { tag, value: &value }]);
        }
    }
}
