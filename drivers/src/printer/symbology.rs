//! One-dimensional barcodes as an ESC/POS printer draws them for `GS k`: data -> bars (pure).
//!
//! The virtual printer needs every symbology that peers send (receiptline and python-escpos emit
//! UPC-A, UPC-E, EAN-13, EAN-8, CODE39, ITF, CODABAR, CODE93 and CODE128), drawn so a real
//! scanner library decodes the paper. Data follows the printer's rules, not the symbology
//! standard's: check digits are added when left out, CODE39 start/stop `*` are added when
//! absent, an odd last ITF digit is dropped, UPC-E accepts the UPC-A form and compresses it.
//! GS1 DataBar (`GS k` 75-78) is not drawn: no peer the kiosk meets sends it.

use super::code128;

/// `GS k m` symbologies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    UpcA,
    UpcE,
    Ean13,
    Ean8,
    Code39,
    Itf,
    Codabar,
    Code93,
    Code128,
    Gs1_128,
}

impl Kind {
    /// Function A (`m` 0-6, data ends with NUL) and function B (`m` 65-74, data counted).
    pub fn from_gs_k(m: u8) -> Option<Kind> {
        Some(match m {
            0 | 65 => Kind::UpcA,
            1 | 66 => Kind::UpcE,
            2 | 67 => Kind::Ean13,
            3 | 68 => Kind::Ean8,
            4 | 69 => Kind::Code39,
            5 | 70 => Kind::Itf,
            6 | 71 => Kind::Codabar,
            72 => Kind::Code93,
            73 => Kind::Code128,
            74 => Kind::Gs1_128,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::UpcA => "UPC-A",
            Kind::UpcE => "UPC-E",
            Kind::Ean13 => "EAN13",
            Kind::Ean8 => "EAN8",
            Kind::Code39 => "CODE39",
            Kind::Itf => "ITF",
            Kind::Codabar => "CODABAR",
            Kind::Code93 => "CODE93",
            Kind::Code128 => "CODE128",
            Kind::Gs1_128 => "GS1-128",
        }
    }
}

/// Bars and spaces, bar first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bars {
    /// One entry per module (`true` = bar): EAN/UPC, CODE93, CODE128.
    Modules(Vec<bool>),
    /// Alternating bar/space elements, `true` = wide: CODE39, ITF, CODABAR (the printer picks the
    /// wide width from `GS w`).
    NarrowWide(Vec<bool>),
}

/// A barcode ready to draw, with the human-readable text the printer prints with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub bars: Bars,
    pub hri: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SymbologyError {
    #[error("{kind}: {len} characters sent, the printer takes {expected}")]
    Length { kind: &'static str, len: usize, expected: &'static str },
    #[error("{kind}: byte 0x{byte:02X} is not in this symbology's character set")]
    Char { kind: &'static str, byte: u8 },
    #[error("UPC-E: {0} has no UPC-E form (zeros are not where UPC-E suppresses them)")]
    NotCompressible(String),
    #[error("{kind}: invalid data for the printer's code-set rules")]
    Data { kind: &'static str },
}

/// Encodes `GS k` data the way an Epson-compatible printer does.
pub fn encode(kind: Kind, data: &[u8]) -> Result<Symbol, SymbologyError> {
    match kind {
        Kind::UpcA => upc_a(data),
        Kind::UpcE => upc_e(data),
        Kind::Ean13 => ean13(data),
        Kind::Ean8 => ean8(data),
        Kind::Code39 => code39(data),
        Kind::Itf => itf(data),
        Kind::Codabar => codabar(data),
        Kind::Code93 => code93(data),
        Kind::Code128 | Kind::Gs1_128 => {
            let mut values = code128::values(data).ok_or(SymbologyError::Data { kind: kind.name() })?;
            if kind == Kind::Gs1_128 {
                // GS1-128 is CODE128 with FNC1 right after the start character; the check
                // character covers it, so recompute from the values without the old check.
                values.truncate(values.len() - 2);
                values.insert(1, code128::FNC1);
                values = code128::finish(values);
            }
            Ok(Symbol { bars: Bars::Modules(code128::modules(&values)), hri: code128::human_readable(data) })
        }
    }
}

fn digits(kind: &'static str, data: &[u8]) -> Result<Vec<u8>, SymbologyError> {
    data.iter()
        .map(|&b| if b.is_ascii_digit() { Ok(b - b'0') } else { Err(SymbologyError::Char { kind, byte: b }) })
        .collect()
}

/// The EAN/UPC check digit of the digits before it.
fn ean_check(d: &[u8]) -> u8 {
    let sum: u32 =
        d.iter().rev().enumerate().map(|(i, &x)| u32::from(x) * if i % 2 == 0 { 3 } else { 1 }).sum();
    ((10 - sum % 10) % 10) as u8
}

/// Left-hand odd (A), left-hand even (B) and right-hand (C) digit patterns of EAN/UPC.
const EAN_A: [&str; 10] = [
    "0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011", "0110111",
    "0001011",
];
const EAN_B: [&str; 10] = [
    "0100111", "0110011", "0011011", "0100001", "0011101", "0111001", "0000101", "0010001", "0001001",
    "0010111",
];
const EAN_C: [&str; 10] = [
    "1110010", "1100110", "1101100", "1000010", "1011100", "1001110", "1010000", "1000100", "1001000",
    "1110100",
];
/// EAN-13: the parity of the left six digits, chosen by the first (implied) digit.
const EAN13_PARITY: [&str; 10] =
    ["AAAAAA", "AABABB", "AABBAB", "AABBBA", "ABAABB", "ABBAAB", "ABBBAA", "ABABAB", "ABABBA", "ABBABA"];
/// UPC-E with number system 0: the parity of the six digits, chosen by the check digit
/// (number system 1 swaps A and B).
const UPCE_PARITY: [&str; 10] =
    ["BBBAAA", "BBABAA", "BBAABA", "BBAAAB", "BABBAA", "BAABBA", "BAAABB", "BABABA", "BABAAB", "BAABAB"];

fn push_pattern(out: &mut Vec<bool>, p: &str) {
    out.extend(p.bytes().map(|b| b == b'1'));
}

fn ean_digit(out: &mut Vec<bool>, set: u8, d: u8) {
    let table = match set {
        b'A' => &EAN_A,
        b'B' => &EAN_B,
        _ => &EAN_C,
    };
    push_pattern(out, table[usize::from(d)]);
}

/// Completes `want` digits from `want - 1` (check digit added) or `want` (kept as sent).
fn with_check(
    kind: &'static str,
    data: &[u8],
    want: usize,
    expected: &'static str,
) -> Result<Vec<u8>, SymbologyError> {
    let mut d = digits(kind, data)?;
    if d.len() == want - 1 {
        d.push(ean_check(&d));
    } else if d.len() != want {
        return Err(SymbologyError::Length { kind, len: data.len(), expected });
    }
    Ok(d)
}

fn ean13_bars(d: &[u8]) -> Vec<bool> {
    let mut m = Vec::with_capacity(95);
    push_pattern(&mut m, "101");
    for (i, &set) in EAN13_PARITY[usize::from(d[0])].as_bytes().iter().enumerate() {
        ean_digit(&mut m, set, d[1 + i]);
    }
    push_pattern(&mut m, "01010");
    for &x in &d[7..13] {
        ean_digit(&mut m, b'C', x);
    }
    push_pattern(&mut m, "101");
    m
}

fn text(d: &[u8]) -> String {
    d.iter().map(|&x| char::from(b'0' + x)).collect()
}

fn ean13(data: &[u8]) -> Result<Symbol, SymbologyError> {
    let d = with_check("EAN13", data, 13, "12 or 13 digits")?;
    Ok(Symbol { bars: Bars::Modules(ean13_bars(&d)), hri: text(&d) })
}

fn upc_a(data: &[u8]) -> Result<Symbol, SymbologyError> {
    let d = with_check("UPC-A", data, 12, "11 or 12 digits")?;
    // UPC-A is EAN-13 with an implied leading 0.
    let mut e = vec![0];
    e.extend_from_slice(&d);
    Ok(Symbol { bars: Bars::Modules(ean13_bars(&e)), hri: text(&d) })
}

fn ean8(data: &[u8]) -> Result<Symbol, SymbologyError> {
    let d = with_check("EAN8", data, 8, "7 or 8 digits")?;
    let mut m = Vec::with_capacity(67);
    push_pattern(&mut m, "101");
    for &x in &d[..4] {
        ean_digit(&mut m, b'A', x);
    }
    push_pattern(&mut m, "01010");
    for &x in &d[4..] {
        ean_digit(&mut m, b'C', x);
    }
    push_pattern(&mut m, "101");
    Ok(Symbol { bars: Bars::Modules(m), hri: text(&d) })
}

/// The six UPC-E digits of a UPC-A number (number system and ten digits, no check digit).
fn upce_compress(a: &[u8]) -> Option<[u8; 6]> {
    let (m, p) = (&a[1..6], &a[6..11]);
    if m[2] <= 2 && m[3] == 0 && m[4] == 0 && p[..2] == [0, 0] {
        Some([m[0], m[1], p[2], p[3], p[4], m[2]])
    } else if m[3] == 0 && m[4] == 0 && p[..3] == [0, 0, 0] {
        Some([m[0], m[1], m[2], p[3], p[4], 3])
    } else if m[4] == 0 && p[..4] == [0, 0, 0, 0] {
        Some([m[0], m[1], m[2], m[3], p[4], 4])
    } else if p[..4] == [0, 0, 0, 0] && p[4] >= 5 {
        Some([m[0], m[1], m[2], m[3], m[4], p[4]])
    } else {
        None
    }
}

/// The UPC-A number (without check digit) a UPC-E symbol stands for.
fn upce_expand(ns: u8, e: &[u8; 6]) -> Vec<u8> {
    let mut a = vec![ns, e[0], e[1]];
    match e[5] {
        0..=2 => a.extend([e[5], 0, 0, 0, 0, e[2], e[3], e[4]]),
        3 => a.extend([e[2], 0, 0, 0, 0, 0, e[3], e[4]]),
        4 => a.extend([e[2], e[3], 0, 0, 0, 0, 0, e[4]]),
        _ => a.extend([e[2], e[3], e[4], 0, 0, 0, 0, e[5]]),
    }
    a
}

fn upc_e(data: &[u8]) -> Result<Symbol, SymbologyError> {
    let d = digits("UPC-E", data)?;
    let (ns, six, given_check) = match d.len() {
        6 => (0, [d[0], d[1], d[2], d[3], d[4], d[5]], None),
        7 | 8 => (d[0], [d[1], d[2], d[3], d[4], d[5], d[6]], d.get(7).copied()),
        11 | 12 => {
            let six = upce_compress(&d[..11]).ok_or_else(|| SymbologyError::NotCompressible(text(&d)))?;
            (d[0], six, d.get(11).copied())
        }
        len => {
            return Err(SymbologyError::Length { kind: "UPC-E", len, expected: "6, 7, 8, 11 or 12 digits" });
        }
    };
    if ns > 1 {
        return Err(SymbologyError::Data { kind: "UPC-E" });
    }
    let check = given_check.unwrap_or_else(|| ean_check(&upce_expand(ns, &six)));
    let mut m = Vec::with_capacity(51);
    push_pattern(&mut m, "101");
    for (i, &set) in UPCE_PARITY[usize::from(check)].as_bytes().iter().enumerate() {
        let set = if ns == 1 { if set == b'A' { b'B' } else { b'A' } } else { set };
        ean_digit(&mut m, set, six[i]);
    }
    push_pattern(&mut m, "010101");
    let mut hri = vec![ns];
    hri.extend_from_slice(&six);
    hri.push(check);
    Ok(Symbol { bars: Bars::Modules(m), hri: text(&hri) })
}

const CODE39_CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%";
/// Nine elements each (bar, space, ... bar), `w` wide; the start/stop `*` is separate.
const CODE39: [&str; 43] = [
    "nnnwwnwnn",
    "wnnwnnnnw",
    "nnwwnnnnw",
    "wnwwnnnnn",
    "nnnwwnnnw",
    "wnnwwnnnn",
    "nnwwwnnnn",
    "nnnwnnwnw",
    "wnnwnnwnn",
    "nnwwnnwnn",
    "wnnnnwnnw",
    "nnwnnwnnw",
    "wnwnnwnnn",
    "nnnnwwnnw",
    "wnnnwwnnn",
    "nnwnwwnnn",
    "nnnnnwwnw",
    "wnnnnwwnn",
    "nnwnnwwnn",
    "nnnnwwwnn",
    "wnnnnnnww",
    "nnwnnnnww",
    "wnwnnnnwn",
    "nnnnwnnww",
    "wnnnwnnwn",
    "nnwnwnnwn",
    "nnnnnnwww",
    "wnnnnnwwn",
    "nnwnnnwwn",
    "nnnnwnwwn",
    "wwnnnnnnw",
    "nwwnnnnnw",
    "wwwnnnnnn",
    "nwnnwnnnw",
    "wwnnwnnnn",
    "nwwnwnnnn",
    "nwnnnnwnw",
    "wwnnnnwnn",
    "nwwnnnwnn",
    "nwnwnwnnn",
    "nwnwnnnwn",
    "nwnnnwnwn",
    "nnnwnwnwn",
];
const CODE39_STAR: &str = "nwnnwnwnn";

fn push_nw(out: &mut Vec<bool>, p: &str) {
    out.extend(p.bytes().map(|b| b == b'w' || b == b'W'));
}

fn code39(data: &[u8]) -> Result<Symbol, SymbologyError> {
    // The printer adds the start/stop characters unless the data brings them.
    let body = match data {
        [b'*', inner @ .., b'*'] => inner,
        _ => data,
    };
    if body.is_empty() {
        return Err(SymbologyError::Length { kind: "CODE39", len: 0, expected: "1 to 255 characters" });
    }
    let mut e = Vec::new();
    push_nw(&mut e, CODE39_STAR);
    for &b in body {
        let i = CODE39_CHARS
            .iter()
            .position(|&c| c == b)
            .ok_or(SymbologyError::Char { kind: "CODE39", byte: b })?;
        e.push(false); // narrow gap between characters
        push_nw(&mut e, CODE39[i]);
    }
    e.push(false);
    push_nw(&mut e, CODE39_STAR);
    Ok(Symbol { bars: Bars::NarrowWide(e), hri: String::from_utf8_lossy(body).into_owned() })
}

/// Five elements per digit, two wide.
const ITF: [&str; 10] =
    ["nnwwn", "wnnnw", "nwnnw", "wwnnn", "nnwnw", "wnwnn", "nwwnn", "nnnww", "wnnwn", "nwnwn"];

fn itf(data: &[u8]) -> Result<Symbol, SymbologyError> {
    let mut d = digits("ITF", data)?;
    // An odd last digit has no partner to interleave with: printers leave it out.
    d.truncate(d.len() & !1);
    if d.is_empty() {
        return Err(SymbologyError::Length {
            kind: "ITF",
            len: data.len(),
            expected: "an even number of digits",
        });
    }
    let mut e = Vec::new();
    push_nw(&mut e, "nnnn");
    for pair in d.chunks(2) {
        let (bars, spaces) = (ITF[usize::from(pair[0])].as_bytes(), ITF[usize::from(pair[1])].as_bytes());
        for k in 0..5 {
            e.push(bars[k] == b'w');
            e.push(spaces[k] == b'w');
        }
    }
    push_nw(&mut e, "wnn");
    Ok(Symbol { bars: Bars::NarrowWide(e), hri: text(&d) })
}

const CODABAR_CHARS: &[u8] = b"0123456789-$:/.+ABCD";
/// Seven elements each (`W`/`w` wide bar/space, `N`/`n` narrow).
const CODABAR: [&str; 20] = [
    "NnNnNwW", "NnNnWwN", "NnNwNnW", "WwNnNnN", "NnWnNwN", "WnNnNwN", "NwNnNnW", "NwNnWnN", "NwWnNnN",
    "WnNwNnN", "NnNwWnN", "NnWwNnN", "WnNnWnW", "WnWnNnW", "WnWnWnN", "NnWnWnW", "NnWwNwN", "NwNwNnW",
    "NnNwNwW", "NnNwWwN",
];

fn codabar(data: &[u8]) -> Result<Symbol, SymbologyError> {
    let is_start = |b: u8| matches!(b.to_ascii_uppercase(), b'A'..=b'D');
    if data.len() < 3 || !is_start(data[0]) || !is_start(data[data.len() - 1]) {
        return Err(SymbologyError::Length {
            kind: "CODABAR",
            len: data.len(),
            expected: "start A-D, at least one character, stop A-D",
        });
    }
    let mut e = Vec::new();
    for (i, &b) in data.iter().enumerate() {
        let up = b.to_ascii_uppercase();
        let k = CODABAR_CHARS
            .iter()
            .position(|&c| c == up)
            .filter(|&k| (k >= 16) == (i == 0 || i == data.len() - 1))
            .ok_or(SymbologyError::Char { kind: "CODABAR", byte: b })?;
        if i > 0 {
            e.push(false);
        }
        push_nw(&mut e, CODABAR[k]);
    }
    Ok(Symbol { bars: Bars::NarrowWide(e), hri: String::from_utf8_lossy(data).to_ascii_uppercase() })
}

/// CODE93 values 0-46: `0-9 A-Z - . space $ / + %`, then the shifts ($) (%) (/) (+).
/// Each as bar/space widths in modules (bar first, nine modules in all).
const CODE93: [&str; 47] = [
    "131112", "111213", "111312", "111411", "121113", "121212", "121311", "111114", "131211", "141111",
    "211113", "211212", "211311", "221112", "221211", "231111", "112113", "112212", "112311", "122112",
    "132111", "111123", "111222", "111321", "121122", "131121", "212112", "212211", "211122", "211221",
    "221121", "222111", "112122", "112221", "122121", "123111", "121131", "311112", "311211", "321111",
    "112131", "113121", "211131", "121221", "312111", "311121", "122211",
];
const CODE93_START_STOP: &str = "111141";
const SHIFT_DOLLAR: u8 = 43;
const SHIFT_PERCENT: u8 = 44;
const SHIFT_SLASH: u8 = 45;
const SHIFT_PLUS: u8 = 46;

/// Full-ASCII CODE93: one value for the 47-character set, a shift and a letter otherwise.
fn code93_values(b: u8) -> Option<Vec<u8>> {
    const DIRECT: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%";
    if let Some(i) = DIRECT.iter().position(|&c| c == b) {
        return Some(vec![i as u8]);
    }
    let letter = |c: u8| c - b'A' + 10;
    Some(match b {
        0 => vec![SHIFT_PERCENT, letter(b'U')],
        1..=26 => vec![SHIFT_DOLLAR, letter(b'A' + b - 1)],
        27..=31 => vec![SHIFT_PERCENT, letter(b'A' + b - 27)],
        b'!'..=b',' => vec![SHIFT_SLASH, letter(b'A' + b - b'!')],
        b':' => vec![SHIFT_SLASH, letter(b'Z')],
        b';'..=b'?' => vec![SHIFT_PERCENT, letter(b'F' + b - b';')],
        b'@' => vec![SHIFT_PERCENT, letter(b'V')],
        b'['..=b'_' => vec![SHIFT_PERCENT, letter(b'K' + b - b'[')],
        b'`' => vec![SHIFT_PERCENT, letter(b'W')],
        b'a'..=b'z' => vec![SHIFT_PLUS, letter(b.to_ascii_uppercase())],
        b'{'..=0x7F => vec![SHIFT_PERCENT, letter(b'P' + b - b'{')],
        _ => return None,
    })
}

fn code93_check(values: &[u8], max_weight: u32) -> u8 {
    let sum: u32 =
        values.iter().rev().enumerate().map(|(i, &v)| u32::from(v) * (i as u32 % max_weight + 1)).sum();
    (sum % 47) as u8
}

fn code93(data: &[u8]) -> Result<Symbol, SymbologyError> {
    if data.is_empty() {
        return Err(SymbologyError::Length { kind: "CODE93", len: 0, expected: "1 to 255 characters" });
    }
    let mut values = Vec::new();
    for &b in data {
        values.extend(code93_values(b).ok_or(SymbologyError::Char { kind: "CODE93", byte: b })?);
    }
    values.push(code93_check(&values, 20));
    values.push(code93_check(&values, 15));
    let mut m = Vec::new();
    let mut widths = |p: &str| {
        for (i, w) in p.bytes().enumerate() {
            m.extend(std::iter::repeat_n(i % 2 == 0, usize::from(w - b'0')));
        }
    };
    widths(CODE93_START_STOP);
    for &v in &values {
        widths(CODE93[usize::from(v)]);
    }
    widths(CODE93_START_STOP);
    m.push(true); // termination bar
    Ok(Symbol { bars: Bars::Modules(m), hri: String::from_utf8_lossy(data).into_owned() })
}

/// Dot widths of the narrow and wide elements for `GS w n` (Epson's table for two-width
/// symbologies).
pub fn narrow_wide_dots(n: usize) -> (usize, usize) {
    match n {
        0..=2 => (2, 5),
        3 => (3, 8),
        4 => (4, 10),
        5 => (5, 13),
        _ => (6, 15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules(s: &Symbol) -> String {
        match &s.bars {
            Bars::Modules(m) => m.iter().map(|&b| if b { '1' } else { '0' }).collect(),
            Bars::NarrowWide(_) => panic!("two-width symbology"),
        }
    }

    #[test]
    fn ean13_adds_its_check_digit_and_has_95_modules() {
        let s = encode(Kind::Ean13, b"460123456789").unwrap();
        assert_eq!(s.hri, "4601234567893");
        let m = modules(&s);
        assert_eq!(m.len(), 95);
        // Guard bars, then digit 6 in set A (first digit 4 -> ABAABB), left to right.
        assert!(m.starts_with("101") && m.ends_with("101"));
        assert_eq!(&m[3..10], EAN_A[6]);
        assert_eq!(&m[10..17], EAN_B[0]);
    }

    #[test]
    fn upc_e_compresses_the_upc_a_form_receiptline_sends() {
        // receiptline turns UPC-E "0123456" into its UPC-A form before sending it.
        let s = encode(Kind::UpcE, b"01234500006").unwrap();
        assert_eq!(&s.hri[..7], "0123456");
        assert_eq!(modules(&s).len(), 51);
        let short = encode(Kind::UpcE, b"0123456").unwrap();
        assert_eq!(short, s);
        assert!(matches!(encode(Kind::UpcE, b"01234567890"), Err(SymbologyError::NotCompressible(_))));
    }

    #[test]
    fn code93_check_characters() {
        // "TEST93": C and K by the published algorithm (weights 1-20 and 1-15 from the right).
        let s = encode(Kind::Code93, b"TEST93").unwrap();
        let m = modules(&s);
        // start + 6 data + 2 checks + stop, nine modules each, then the termination bar.
        assert_eq!(m.len(), 9 * 10 + 1);
        assert!(encode(Kind::Code93, "Ж".as_bytes()).is_err());
    }

    #[test]
    fn two_width_symbologies() {
        let Bars::NarrowWide(e) = encode(Kind::Code39, b"AB-1").unwrap().bars else { panic!() };
        // Start, four characters, stop: nine elements each plus a gap between characters.
        assert_eq!(e.len(), 6 * 9 + 5);
        let Bars::NarrowWide(e) = encode(Kind::Itf, b"12345").unwrap().bars else { panic!() };
        assert_eq!(e.len(), 4 + 2 * 10 + 3, "odd last digit dropped");
        assert!(encode(Kind::Codabar, b"A12B").is_ok());
        assert!(encode(Kind::Codabar, b"12").is_err());
        assert!(encode(Kind::Code39, b"ab").is_err());
    }
}
