//! CODE128: data -> symbol values -> bar modules. The virtual printer draws what `GS k` asks for
//! with this; ticket layouts send `GS k 73` themselves (the escpos crate has no CODE128).

const PATTERNS: [&str; 107] = [
    "11011001100",
    "11001101100",
    "11001100110",
    "10010011000",
    "10010001100",
    "10001001100",
    "10011001000",
    "10011000100",
    "10001100100",
    "11001001000",
    "11001000100",
    "11000100100",
    "10110011100",
    "10011011100",
    "10011001110",
    "10111001100",
    "10011101100",
    "10011100110",
    "11001110010",
    "11001011100",
    "11001001110",
    "11011100100",
    "11001110100",
    "11101101110",
    "11101001100",
    "11100101100",
    "11100100110",
    "11101100100",
    "11100110100",
    "11100110010",
    "11011011000",
    "11011000110",
    "11000110110",
    "10100011000",
    "10001011000",
    "10001000110",
    "10110001000",
    "10001101000",
    "10001100010",
    "11010001000",
    "11000101000",
    "11000100010",
    "10110111000",
    "10110001110",
    "10001101110",
    "10111011000",
    "10111000110",
    "10001110110",
    "11101110110",
    "11010001110",
    "11000101110",
    "11011101000",
    "11011100010",
    "11011101110",
    "11101011000",
    "11101000110",
    "11100010110",
    "11101101000",
    "11101100010",
    "11100011010",
    "11101111010",
    "11001000010",
    "11110001010",
    "10100110000",
    "10100001100",
    "10010110000",
    "10010000110",
    "10000101100",
    "10000100110",
    "10110010000",
    "10110000100",
    "10011010000",
    "10011000010",
    "10000110100",
    "10000110010",
    "11000010010",
    "11001010000",
    "11110111010",
    "11000010100",
    "10001111010",
    "10100111100",
    "10010111100",
    "10010011110",
    "10111100100",
    "10011110100",
    "10011110010",
    "11110100100",
    "11110010100",
    "11110010010",
    "11011011110",
    "11011110110",
    "11110110110",
    "10101111000",
    "10100011110",
    "10001011110",
    "10111101000",
    "10111100010",
    "11110101000",
    "11110100010",
    "10111011110",
    "10111101110",
    "11101011110",
    "11110101110",
    "11010000100",
    "11010010000",
    "11010011100",
    "1100011101011",
];

/// Start codes for the three code sets.
const START_A: u8 = 103;
const START_B: u8 = 104;
const START_C: u8 = 105;
const STOP: u8 = 106;
/// FNC1 (in every code set): marks GS1-128 right after the start character.
pub const FNC1: u8 = 102;

/// Symbol values for ESC/POS CODE128 data, which starts with a code-set selector (`{A`, `{B`,
/// `{C`) and may switch sets inside (`{A` `{B` `{C`, `{S` shift, `{1` FNC1, `{{` for a literal
/// brace). In set C each byte is one value 0-99 (Epson's rule: receiptline and python-escpos send
/// binary pairs, not digits). Data without a selector is treated as set B. Returns `None` for
/// data a set cannot carry.
pub fn values(data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut set = b'B';
    let mut i = 0;
    if data.len() >= 2 && data[0] == b'{' && matches!(data[1], b'A' | b'B' | b'C') {
        set = data[1];
        i = 2;
    }
    out.push(match set {
        b'A' => START_A,
        b'C' => START_C,
        _ => START_B,
    });
    while i < data.len() {
        if data[i] == b'{' && i + 1 < data.len() && data[i + 1] != b'{' {
            let to = data[i + 1];
            out.push(match (set, to) {
                (_, b'A') => 101,
                (b'C', b'B') | (b'A', b'B') => 100,
                (_, b'C') => 99,
                (_, b'S') => 98, // shift: one character from the other set
                (_, b'1') => FNC1,
                _ => return None,
            });
            if matches!(to, b'A' | b'B' | b'C') {
                set = to;
            }
            i += 2;
            continue;
        }
        let b = if data[i] == b'{' {
            i += 1; // "{{" is a literal brace
            b'{'
        } else {
            data[i]
        };
        match set {
            b'C' if b <= 99 => out.push(b),
            b'C' => return None,
            b'A' => out.push(match b {
                0x20..=0x5F => b - 0x20,
                0x00..=0x1F => b + 64,
                _ => return None,
            }),
            _ => out.push(match b {
                0x20..=0x7F => b - 0x20,
                _ => return None,
            }),
        }
        i += 1;
    }
    Some(finish(out))
}

/// Appends the check character and stop to symbol values that start with a start character.
pub fn finish(mut out: Vec<u8>) -> Vec<u8> {
    let checksum = out
        .iter()
        .enumerate()
        .map(|(k, &v)| if k == 0 { v as u32 } else { v as u32 * k as u32 })
        .sum::<u32>()
        % 103;
    out.push(checksum as u8);
    out.push(STOP);
    out
}

/// The human-readable text of CODE128 data: selectors dropped, set C values as two digits.
pub fn human_readable(data: &[u8]) -> String {
    let mut out = String::new();
    let mut set = b'B';
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'{' && i + 1 < data.len() {
            match data[i + 1] {
                b'{' => out.push('{'),
                s @ (b'A' | b'B' | b'C') => set = s,
                _ => {}
            }
            i += 2;
            continue;
        }
        if set == b'C' {
            out.push_str(&format!("{:02}", data[i]));
        } else if data[i] >= 0x20 {
            out.push(char::from(data[i]));
        }
        i += 1;
    }
    out
}

/// Bar modules (true = bar) for symbol values, quiet zones excluded.
pub fn modules(values: &[u8]) -> Vec<bool> {
    values.iter().flat_map(|&v| PATTERNS[usize::from(v)].bytes().map(|b| b == b'1')).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_symbol() {
        // "{B" + "PJJ123C": values from the CODE128 table; checksum (104 + 48*1 + 42*2 + ...) % 103.
        let v = values(b"{BPJJ123C").unwrap();
        assert_eq!(v[0], START_B);
        assert_eq!(&v[1..8], &[48, 42, 42, 17, 18, 19, 35]);
        let sum: u32 = 104
            + [48u32, 42, 42, 17, 18, 19, 35]
                .iter()
                .enumerate()
                .map(|(i, x)| x * (i as u32 + 1))
                .sum::<u32>();
        assert_eq!(u32::from(v[8]), sum % 103);
        assert_eq!(*v.last().unwrap(), STOP);
        assert_eq!(modules(&v).len(), 11 * (v.len() - 1) + 13);
    }

    #[test]
    fn code_set_c_takes_one_byte_per_digit_pair() {
        assert_eq!(&values(b"{C\x0c\x22\x38").unwrap()[..4], &[START_C, 12, 34, 56]);
        assert_eq!(values(b"{C\x64"), None, "100 is no pair of digits");
        assert_eq!(&values(b"{C\x0c{B9").unwrap()[..4], &[START_C, 12, 100, 25]);
        assert_eq!(human_readable(b"{C\x0c\x22\x05{BA"), "123405A");
    }
}
