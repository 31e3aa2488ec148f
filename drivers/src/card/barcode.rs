//! The 130-byte OMS policy barcode payload, types 01 and 02 (pure codec).
//!
//! Layout, alphabet and bit orders are in `shared/specs/oms-policy.md` §2. The signature is kept
//! opaque: its algorithm and key are not public.

use domain::{BirthDate, Date, Enp, FullName, Policy, PolicySource, Sex};

pub const PAYLOAD_LEN: usize = 130;
const SIGNATURE_AT: usize = 65;
const SEPARATOR: u8 = 0x3F;
/// Shown in place of a reserved code: visible to the patient, flagged to the caller.
pub const REPLACEMENT: char = '\u{FFFD}';

/// The 6-bit alphabet, code -> character; reserved codes (0x2F..=0x3E) are `None`.
const ALPHABET: [Option<char>; 64] = {
    let mut t = [None; 64];
    let head = [' ', '.', '-', '\u{2018}', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
    let mut i = 0;
    while i < head.len() {
        t[i] = Some(head[i]);
        i += 1;
    }
    // А..Я in the spec's order: Ё after Е, Ь before Ъ.
    let letters = [
        'А', 'Б', 'В', 'Г', 'Д', 'Е', 'Ё', 'Ж', 'З', 'И', 'Й', 'К', 'Л', 'М', 'Н', 'О', 'П', 'Р', 'С', 'Т',
        'У', 'Ф', 'Х', 'Ц', 'Ч', 'Ш', 'Щ', 'Ь', 'Ъ', 'Ы', 'Э', 'Ю', 'Я',
    ];
    let mut j = 0;
    while j < letters.len() {
        t[0x0E + j] = Some(letters[j]);
        j += 1;
    }
    t[0x3F] = Some('|');
    t
};

fn code_of(c: char) -> Option<u8> {
    let c = match c {
        '\'' => '\u{2018}',
        // Latin look-alikes a clerk's keyboard may have produced.
        other => other.to_uppercase().next().unwrap_or(other),
    };
    ALPHABET.iter().position(|a| *a == Some(c)).map(|p| p as u8)
}

/// Which of the two layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarcodeType {
    /// Older: `FIRST|LAST|PATRONYMIC`, LSB-first packing, insurer OGRN and OKATO.
    T01,
    /// Current: `LAST|FIRST|PATRONYMIC`, MSB-first packing.
    T02,
}

impl BarcodeType {
    pub fn number(self) -> u8 {
        match self {
            BarcodeType::T01 => 1,
            BarcodeType::T02 => 2,
        }
    }
    fn name_field(self) -> (usize, usize) {
        // (byte length, six-bit codes)
        match self {
            BarcodeType::T01 => (42, 56),
            BarcodeType::T02 => (51, 68),
        }
    }
    fn sex_at(self) -> usize {
        match self {
            BarcodeType::T01 => 51,
            BarcodeType::T02 => 60,
        }
    }
}

/// A decoded barcode: the policy plus what only the barcode carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarcodePolicy {
    pub kind: BarcodeType,
    pub policy: Policy,
    /// Insurer's OGRN (13 digits), type 01 only.
    pub ogrn: Option<String>,
    /// OKATO of the insurance territory (5 digits), type 01 only.
    pub okato: Option<String>,
    pub signature: Vec<u8>,
    /// The name field held reserved codes (shown as U+FFFD) or too few parts.
    pub name_suspect: bool,
    /// The sex byte was neither 1 nor 2.
    pub sex_unknown: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BarcodeError {
    #[error("an OMS barcode holds {PAYLOAD_LEN} bytes, this one {0}")]
    WrongLength(usize),
    #[error("unknown OMS barcode type {0:#04x} (expected 01 or 02)")]
    UnknownType(u8),
    #[error("the policy number field holds more than 16 digits")]
    EnpTooLarge,
    #[error("the {0} date is past 2199")]
    BadDate(&'static str),
    #[error("the character {0:?} cannot be written in the OMS barcode alphabet")]
    Unencodable(char),
    #[error("the name needs {needed} codes, the field holds {room}")]
    NameTooLong { needed: usize, room: usize },
}

fn read_bits_msb(field: &[u8], codes: usize) -> Vec<u8> {
    (0..codes)
        .map(|i| {
            (0..6).fold(0u8, |acc, j| {
                let k = 6 * i + j;
                (acc << 1) | ((field[k / 8] >> (7 - k % 8)) & 1)
            })
        })
        .collect()
}

fn read_bits_lsb(field: &[u8], codes: usize) -> Vec<u8> {
    (0..codes)
        .map(|i| {
            (0..6).fold(0u8, |acc, j| {
                let k = 6 * i + j;
                acc | (((field[k / 8] >> (k % 8)) & 1) << j)
            })
        })
        .collect()
}

fn write_bits_msb(codes: &[u8], field: &mut [u8]) {
    for (i, &c) in codes.iter().enumerate() {
        for j in 0..6 {
            let k = 6 * i + j;
            if (c >> (5 - j)) & 1 == 1 {
                field[k / 8] |= 1 << (7 - k % 8);
            }
        }
    }
}

fn write_bits_lsb(codes: &[u8], field: &mut [u8]) {
    for (i, &c) in codes.iter().enumerate() {
        for j in 0..6 {
            let k = 6 * i + j;
            if (c >> j) & 1 == 1 {
                field[k / 8] |= 1 << (k % 8);
            }
        }
    }
}

/// Six-bit codes -> the three name parts in field order, and whether anything was odd.
fn name_parts(codes: &[u8]) -> ([String; 3], bool) {
    let mut parts = [String::new(), String::new(), String::new()];
    let mut part = 0;
    let mut suspect = false;
    for &c in codes {
        if c == SEPARATOR {
            if part < 2 {
                part += 1;
            } else {
                suspect = true;
            }
            continue;
        }
        match ALPHABET[usize::from(c & 0x3F)] {
            Some(ch) => parts[part].push(ch),
            None => {
                parts[part].push(REPLACEMENT);
                suspect = true;
            }
        }
    }
    for p in &mut parts {
        let t = p.trim().to_owned();
        *p = t;
    }
    if part < 1 {
        suspect = true;
    }
    (parts, suspect)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn uint_be(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

/// Decodes a 130-byte payload.
pub fn decode(payload: &[u8]) -> Result<BarcodePolicy, BarcodeError> {
    if payload.len() != PAYLOAD_LEN {
        return Err(BarcodeError::WrongLength(payload.len()));
    }
    let kind = match payload[0] {
        1 => BarcodeType::T01,
        2 => BarcodeType::T02,
        other => return Err(BarcodeError::UnknownType(other)),
    };
    let enp = Enp::from_u64(uint_be(&payload[1..9])).ok_or(BarcodeError::EnpTooLarge)?;
    let (bytes, codes) = kind.name_field();
    let field = &payload[9..9 + bytes];
    let (codes, [a, b, c]) = match kind {
        BarcodeType::T01 => {
            let (p, s) = name_parts(&read_bits_lsb(field, codes));
            (s, [p[1].clone(), p[0].clone(), p[2].clone()]) // FIRST|LAST|PATRONYMIC
        }
        BarcodeType::T02 => {
            let (p, s) = name_parts(&read_bits_msb(field, codes));
            (s, p)
        }
    };
    let name_suspect = codes;
    let at = kind.sex_at();
    let (sex, sex_unknown) = match payload[at] {
        1 => (Some(Sex::Male), false),
        2 => (Some(Sex::Female), false),
        _ => (None, true),
    };
    let birth = Date::from_days_since_1900(u32::from(u16_at(payload, at + 1)))
        .ok_or(BarcodeError::BadDate("birth"))?;
    let expiry = match u16_at(payload, at + 3) {
        0 => None,
        d => Some(Date::from_days_since_1900(u32::from(d)).ok_or(BarcodeError::BadDate("expiry"))?),
    };
    let (ogrn, okato) = match kind {
        BarcodeType::T01 => (
            Some(format!("{:013}", uint_be(&payload[56..62]))),
            Some(format!("{:05}", uint_be(&payload[62..65]))),
        ),
        BarcodeType::T02 => (None, None),
    };
    Ok(BarcodePolicy {
        kind,
        policy: Policy {
            enp,
            name: FullName::new(&a, &b, Some(&c)),
            sex,
            birth_date: Some(BirthDate(birth)),
            expiry,
            source: match kind {
                BarcodeType::T01 => PolicySource::Barcode01,
                BarcodeType::T02 => PolicySource::Barcode02,
            },
        },
        ogrn,
        okato,
        signature: payload[SIGNATURE_AT..].to_vec(),
        name_suspect,
        sex_unknown,
    })
}

/// Six-bit codes for `parts` joined by `|`, padded with spaces to `room`.
fn encode_name(parts: [&str; 3], room: usize) -> Result<Vec<u8>, BarcodeError> {
    let mut codes = Vec::with_capacity(room);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            codes.push(SEPARATOR);
        }
        for ch in part.chars() {
            codes.push(code_of(ch).filter(|&c| c != SEPARATOR).ok_or(BarcodeError::Unencodable(ch))?);
        }
    }
    if codes.len() > room {
        return Err(BarcodeError::NameTooLong { needed: codes.len(), room });
    }
    codes.resize(room, 0);
    Ok(codes)
}

/// What the encoder needs beyond a [`Policy`] (tests, simulators, demo cards).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EncodeExtras {
    /// 13-digit OGRN and 5-digit OKATO for type 01 (zeros when absent).
    pub ogrn: u64,
    pub okato: u32,
    /// 65 bytes; shorter is zero-padded.
    pub signature: Vec<u8>,
}

/// Encodes a policy as a barcode payload of the given type. The policy must carry a birth date
/// and sex (barcodes always do).
pub fn encode(kind: BarcodeType, policy: &Policy, extras: &EncodeExtras) -> Result<Vec<u8>, BarcodeError> {
    let mut out = vec![0u8; PAYLOAD_LEN];
    out[0] = kind.number();
    out[1..9].copy_from_slice(&policy.enp.to_u64().to_be_bytes());
    let n = &policy.name;
    let middle = n.middle.as_ref().map_or("", |m| m.expose());
    let (bytes, room) = kind.name_field();
    let field = &mut out[9..9 + bytes];
    match kind {
        BarcodeType::T01 => {
            write_bits_lsb(&encode_name([n.first.expose(), n.last.expose(), middle], room)?, field)
        }
        BarcodeType::T02 => {
            write_bits_msb(&encode_name([n.last.expose(), n.first.expose(), middle], room)?, field)
        }
    }
    let at = kind.sex_at();
    out[at] = match policy.sex {
        Some(Sex::Male) => 1,
        Some(Sex::Female) => 2,
        None => 0,
    };
    let days = |d: Date, what| u16::try_from(d.days_since_1900()).map_err(|_| BarcodeError::BadDate(what));
    let birth =
        policy.birth_date.map(|b| b.expose()).unwrap_or_else(|| Date::from_ymd(1900, 1, 1).expect("valid"));
    out[at + 1..at + 3].copy_from_slice(&days(birth, "birth")?.to_be_bytes());
    let expiry = match policy.expiry {
        Some(e) => days(e, "expiry")?,
        None => 0,
    };
    out[at + 3..at + 5].copy_from_slice(&expiry.to_be_bytes());
    if kind == BarcodeType::T01 {
        out[56..62].copy_from_slice(&extras.ogrn.to_be_bytes()[2..]);
        out[62..65].copy_from_slice(&extras.okato.to_be_bytes()[1..]);
    }
    let sig = &extras.signature[..extras.signature.len().min(PAYLOAD_LEN - SIGNATURE_AT)];
    out[SIGNATURE_AT..SIGNATURE_AT + sig.len()].copy_from_slice(sig);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const WORKED: [u8; 24] = [
        0x90, 0xA3, 0x4D, 0x5C, 0x78, 0x71, 0xCE, 0xEF, 0x68, 0x9E, 0x13, 0x76, 0x90, 0xF3, 0x3B, 0xDA, 0x94,
        0x81, 0x0E, 0x27, 0x7D, 0x1D, 0xC4, 0x39,
    ];

    #[test]
    fn the_specs_worked_example_decodes_exactly() {
        let mut field = [0u8; 42];
        field[..24].copy_from_slice(&WORKED);
        let codes = read_bits_lsb(&field, 56);
        let text: String = codes.iter().map(|&c| ALPHABET[c as usize].unwrap()).collect();
        assert_eq!(text.trim_end(), "ВАЛЕНТИНА|АЛПАТОВА|АЛЕКСАНДРОВНА");
        assert_eq!(text.chars().count(), 56, "padded with spaces to the field");

        // The same name through the whole type-01 decoder, and back.
        let mut payload = vec![0u8; PAYLOAD_LEN];
        payload[0] = 1;
        payload[1..9].copy_from_slice(&7_700_000_000_000_016u64.to_be_bytes());
        payload[9..51].copy_from_slice(&field);
        payload[51] = 2;
        payload[52..54].copy_from_slice(&17_960u16.to_be_bytes());
        let p = decode(&payload).unwrap();
        assert_eq!(p.policy.name.last.expose(), "АЛПАТОВА");
        assert_eq!(p.policy.name.first.expose(), "ВАЛЕНТИНА");
        assert_eq!(p.policy.name.middle.as_ref().unwrap().expose(), "АЛЕКСАНДРОВНА");
        assert_eq!(p.policy.birth_date.unwrap().expose().to_string(), "1949-03-05");
        assert_eq!(p.policy.expiry, None);
        assert!(!p.name_suspect);
        let again = encode(BarcodeType::T01, &p.policy, &EncodeExtras::default()).unwrap();
        assert_eq!(&again[9..33], &WORKED);
    }

    #[test]
    fn soft_sign_comes_before_hard_sign() {
        assert_eq!(code_of('Ь'), Some(0x29));
        assert_eq!(code_of('Ъ'), Some(0x2A));
        assert_eq!(code_of('Е'), Some(0x13));
        assert_eq!(code_of('ё'), Some(0x14));
        assert_eq!(code_of('\''), Some(0x03));
        assert_eq!(code_of('E'), None, "Latin E is not in the alphabet");
    }

    #[test]
    fn reserved_codes_are_flagged_not_fatal() {
        let p = Policy {
            enp: Enp::parse("7700000000000016").unwrap(),
            name: FullName::new("ИВАНОВ", "ИВАН", Some("ИВАНОВИЧ")),
            sex: Some(Sex::Male),
            birth_date: Some(BirthDate(Date::from_ymd(1960, 1, 2).unwrap())),
            expiry: None,
            source: PolicySource::Barcode02,
        };
        let mut b = encode(BarcodeType::T02, &p, &EncodeExtras::default()).unwrap();
        b[9] = 0x30 << 2; // first code becomes reserved 0x30
        let d = decode(&b).unwrap();
        assert!(d.name_suspect);
        assert!(d.policy.name.last.expose().starts_with(REPLACEMENT));
    }

    #[test]
    fn bad_frames_give_clear_errors() {
        assert_eq!(decode(&[2; 129]), Err(BarcodeError::WrongLength(129)));
        assert_eq!(decode(&[2; 131]), Err(BarcodeError::WrongLength(131)));
        let mut b = vec![0u8; 130];
        b[0] = 3;
        assert_eq!(decode(&b), Err(BarcodeError::UnknownType(3)));
        b[0] = 2;
        b[1..9].copy_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(decode(&b), Err(BarcodeError::EnpTooLarge));
        b[1..9].copy_from_slice(&1u64.to_be_bytes());
        // Sixteen bits of days reach 2079 at most: every value is a date.
        b[61..63].copy_from_slice(&u16::MAX.to_be_bytes());
        assert_eq!(decode(&b).unwrap().policy.birth_date.unwrap().expose().to_string(), "2079-06-06");
        assert!(BarcodeError::WrongLength(3).to_string().contains("130"));
    }

    fn name_part() -> impl Strategy<Value = String> {
        "[АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЬЪЫЭЮЯ][АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЬЪЫЭЮЯ .‘-]{0,12}[АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЬЪЫЭЮЯ]"
    }

    proptest! {
        #[test]
        fn round_trips_both_types(
            last in name_part(), first in name_part(), middle in proptest::option::of(name_part()),
            enp in 0u64..10_000_000_000_000_000, male: bool,
            birth in 0u32..65_535, expiry in proptest::option::of(1u32..65_535),
            t01: bool, ogrn in 0u64..10_000_000_000_000, okato in 0u32..100_000,
            sig in proptest::collection::vec(any::<u8>(), 65),
        ) {
            let kind = if t01 { BarcodeType::T01 } else { BarcodeType::T02 };
            let policy = Policy {
                enp: Enp::from_u64(enp).unwrap(),
                name: FullName::new(&last, &first, middle.as_deref()),
                sex: Some(if male { Sex::Male } else { Sex::Female }),
                birth_date: Some(BirthDate(Date::from_days_since_1900(birth).unwrap())),
                expiry: expiry.map(|e| Date::from_days_since_1900(e).unwrap()),
                source: if t01 { PolicySource::Barcode01 } else { PolicySource::Barcode02 },
            };
            let extras = EncodeExtras { ogrn, okato, signature: sig.clone() };
            let bytes = encode(kind, &policy, &extras).unwrap();
            prop_assert_eq!(bytes.len(), PAYLOAD_LEN);
            let back = decode(&bytes).unwrap();
            prop_assert_eq!(&back.policy, &policy);
            prop_assert_eq!(back.signature, sig);
            prop_assert!(!back.name_suspect);
            if t01 {
                prop_assert_eq!(back.ogrn, Some(format!("{ogrn:013}")));
                prop_assert_eq!(back.okato, Some(format!("{okato:05}")));
            }
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn decode_never_panics_on_right_sized_frames(mut bytes in proptest::collection::vec(any::<u8>(), 130), t in 1u8..3) {
            bytes[0] = t;
            let _ = decode(&bytes);
        }
    }
}
