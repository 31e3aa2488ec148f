//! Hex as technicians type it (captured scans, ESC/POS streams): spaces, colons and a `0x`
//! prefix are allowed.

pub fn parse(s: &str) -> Result<Vec<u8>, String> {
    let s = s.trim().trim_start_matches("0x");
    let digits: String = s.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    if !digits.len().is_multiple_of(2) {
        return Err("hex input needs an even number of digits".into());
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            digits
                .get(i..i + 2)
                .and_then(|d| u8::from_str_radix(d, 16).ok())
                .ok_or_else(|| "not hex: only 0-9 and a-f are allowed".to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn input_forms() {
        assert_eq!(super::parse("02 0a:FF").unwrap(), vec![2, 10, 255]);
        assert_eq!(super::parse("0x0204").unwrap(), vec![2, 4]);
        assert!(super::parse("0").is_err());
        assert!(super::parse("zz").is_err());
        assert!(super::parse("яя").is_err(), "non-ASCII must not panic on slicing");
    }
}
