//! ENP (единый номер полиса): the 16-digit OMS policy number.
//!
//! Digit 16 is a Luhn check digit over digits 1–15. Digits 3–10 carry the birth date and sex,
//! disguised: month (+20 if born up to 1950, +40 if born 1951–2000), the year written
//! backwards, day (+50 for men), every digit replaced by `9 - d`. Real policies exist whose check
//! digit or embedded date disagree with the card, so both are *reported*, never enforced here:
//! the caller decides what a mismatch means.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::date::Date;
use crate::mask;
use crate::person::Sex;

/// A syntactically valid ENP: exactly 16 ASCII digits. The check digit may still be wrong;
/// ask [`Enp::checksum_ok`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Enp([u8; 16]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnpError {
    #[error("a policy number has 16 digits, this one has {0}")]
    WrongLength(usize),
    #[error("a policy number has digits only")]
    NotDigits,
}

/// What digits 3–10 say about the holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnpFacet {
    pub birth_date: Date,
    pub sex: Sex,
}

/// The Luhn check digit for a run of digits (values 0..=9), as appended after them.
pub fn luhn_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl Enp {
    /// Accepts exactly 16 digits; spaces (as printed on policies, `0000 0000 0000 0000`) are
    /// ignored.
    pub fn parse(s: &str) -> Result<Enp, EnpError> {
        let mut out = [0u8; 16];
        let mut n = 0;
        for c in s.chars().filter(|c| *c != ' ') {
            let d = c.to_digit(10).filter(|_| c.is_ascii_digit()).ok_or(EnpError::NotDigits)?;
            if n < 16 {
                out[n] = d as u8;
            }
            n += 1;
        }
        if n != 16 {
            return Err(EnpError::WrongLength(n));
        }
        Ok(Enp(out))
    }

    /// From the barcode's big-endian u64; `None` when it has more than 16 digits.
    pub fn from_u64(v: u64) -> Option<Enp> {
        if v > 9_999_999_999_999_999 {
            return None;
        }
        let mut out = [0u8; 16];
        let mut v = v;
        for slot in out.iter_mut().rev() {
            *slot = (v % 10) as u8;
            v /= 10;
        }
        Some(Enp(out))
    }

    pub fn to_u64(self) -> u64 {
        self.0.iter().fold(0u64, |acc, &d| acc * 10 + u64::from(d))
    }

    /// Builds a number with a correct check digit from its first 15 digits (tests, demo seed).
    pub fn with_check_digit(first15: &[u8; 15]) -> Enp {
        let mut out = [0u8; 16];
        out[..15].copy_from_slice(first15);
        out[15] = luhn_check_digit(first15);
        Enp(out)
    }

    /// The 16 digits in clear. Call only where the number must leave the process (the wire,
    /// the offline journal); never to log.
    pub fn expose(&self) -> String {
        self.0.iter().map(|d| char::from(b'0' + d)).collect()
    }

    pub fn checksum_ok(&self) -> bool {
        luhn_check_digit(&self.0[..15]) == self.0[15]
    }

    /// Decodes digits 3–10; `None` when they do not form a plausible date.
    pub fn facet(&self) -> Option<EnpFacet> {
        let p: Vec<u32> = self.0[2..10].iter().map(|&d| 9 - u32::from(d)).collect();
        let month_code = p[0] * 10 + p[1];
        // The year is written backwards.
        let year = p[5] * 1000 + p[4] * 100 + p[3] * 10 + p[2];
        let day_code = p[6] * 10 + p[7];
        let month = match month_code {
            41..=52 if (1951..=2000).contains(&year) => month_code - 40,
            21..=32 if year <= 1950 => month_code - 20,
            1..=12 if year > 2000 => month_code,
            _ => return None,
        };
        let (day, sex) = match day_code {
            51..=81 => (day_code - 50, Sex::Male),
            1..=31 => (day_code, Sex::Female),
            _ => return None,
        };
        Date::from_ymd(year, month, day).ok().map(|birth_date| EnpFacet { birth_date, sex })
    }

    /// Writes `birth_date` and `sex` into digits 3–10 (inverse of [`Enp::facet`]), keeping
    /// the region and serial digits, and recomputes the check digit. For demo data and tests.
    pub fn with_facet(region: u8, facet: EnpFacet, serial: u32) -> Enp {
        let y = facet.birth_date.year();
        let month = facet.birth_date.month()
            + match y {
                ..=1950 => 20,
                1951..=2000 => 40,
                _ => 0,
            };
        let day = facet.birth_date.day() + if facet.sex == Sex::Male { 50 } else { 0 };
        let plain = [month / 10, month % 10, y % 10, y / 10 % 10, y / 100 % 10, y / 1000, day / 10, day % 10];
        let mut d = [0u8; 15];
        d[0] = region / 10 % 10;
        d[1] = region % 10;
        for (slot, p) in d[2..10].iter_mut().zip(plain) {
            *slot = (9 - p) as u8;
        }
        let mut s = serial % 100_000;
        for slot in d[10..15].iter_mut().rev() {
            *slot = (s % 10) as u8;
            s /= 10;
        }
        Enp::with_check_digit(&d)
    }

    /// `7700********1234`.
    pub fn masked(&self) -> String {
        mask::digits(&self.expose())
    }
}

impl fmt::Debug for Enp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Enp({})", self.masked())
    }
}

impl fmt::Display for Enp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl Serialize for Enp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.expose())
    }
}

impl<'de> Deserialize<'de> for Enp {
    /// Accepts a string or a number: some EMIAS clients send `omsNumber` as a JSON number.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Enp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 16-digit policy number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Enp, E> {
                Enp::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Enp, E> {
                Enp::from_u64(v)
                    .filter(|_| v >= 1_000_000_000_000_000)
                    .ok_or_else(|| E::custom("a policy number has 16 digits"))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Enp, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom("a policy number has 16 digits"))
                    .and_then(|v| self.visit_u64(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_valid_and_invalid_numbers() {
        // 770000000000001: doubled from the right 1->2, 7->14->5, plus 7 = 14, check 6.
        let ok = Enp::parse("7700000000000016").unwrap();
        assert!(ok.checksum_ok());
        let bad = Enp::parse("7700000000000015").unwrap();
        assert!(!bad.checksum_ok());
        assert!(Enp::parse("0000000000000000").unwrap().checksum_ok());
        assert!(Enp::parse("1234 5678 9012 3452").unwrap().checksum_ok());
    }

    #[test]
    fn wrong_length_and_non_digits_are_refused() {
        assert_eq!(Enp::parse("123"), Err(EnpError::WrongLength(3)));
        assert_eq!(Enp::parse("77000000000000165"), Err(EnpError::WrongLength(17)));
        assert_eq!(Enp::parse(""), Err(EnpError::WrongLength(0)));
        assert_eq!(Enp::parse("77000000000000A6"), Err(EnpError::NotDigits));
        assert_eq!(Enp::parse("770000000000001٦"), Err(EnpError::NotDigits), "Arabic-Indic digit");
        assert_eq!(Enp::parse("7700-0000-0000-0016"), Err(EnpError::NotDigits));
    }

    #[test]
    fn formatting_is_masked() {
        let e = Enp::parse("6449013884006380").unwrap();
        assert_eq!(e.to_string(), "6449********6380");
        assert_eq!(format!("{e:?}"), "Enp(6449********6380)");
        assert_eq!(e.expose(), "6449013884006380");
    }

    #[test]
    fn facet_reads_birth_date_and_sex() {
        let born = Date::from_ymd(1948, 3, 5).unwrap();
        let e = Enp::with_facet(77, EnpFacet { birth_date: born, sex: Sex::Female }, 1234);
        assert!(e.checksum_ok());
        assert_eq!(e.facet(), Some(EnpFacet { birth_date: born, sex: Sex::Female }));
        // 1948 -> month 03+20=23 -> "76"; year reversed 8491 -> "1508"; day 05 -> "94".
        assert_eq!(&e.expose()[..10], "7776150894");
        assert_eq!(Enp::parse("7700000000000016").unwrap().facet(), None);
    }

    #[test]
    fn wire_accepts_strings_and_numbers() {
        let e: Enp = serde_json::from_str("\"7700000000000016\"").unwrap();
        let n: Enp = serde_json::from_str("7700000000000016").unwrap();
        assert_eq!(e, n);
        assert!(serde_json::from_str::<Enp>("14").is_err());
        assert!(serde_json::from_str::<Enp>("-14").is_err());
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"7700000000000016\"");
    }

    proptest! {
        #[test]
        fn check_digit_makes_valid_numbers(d in proptest::array::uniform15(0u8..10)) {
            let e = Enp::with_check_digit(&d);
            prop_assert!(e.checksum_ok());
            prop_assert_eq!(Enp::parse(&e.expose()).unwrap(), e);
            prop_assert_eq!(Enp::from_u64(e.to_u64()).unwrap(), e);
            // Any single-digit change breaks the check (Luhn catches all of them).
            let mut s: Vec<u8> = e.expose().into_bytes();
            s[7] = b'0' + (s[7] - b'0' + 1) % 10;
            prop_assert!(!Enp::parse(std::str::from_utf8(&s).unwrap()).unwrap().checksum_ok());
        }

        #[test]
        fn facet_round_trips(days in 0u32..109_000, male: bool, region in 1u8..99, serial in 0u32..100_000) {
            let birth_date = Date::from_days_since_1900(days).unwrap();
            let sex = if male { Sex::Male } else { Sex::Female };
            let e = Enp::with_facet(region, EnpFacet { birth_date, sex }, serial);
            prop_assert_eq!(e.facet(), Some(EnpFacet { birth_date, sex }));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = Enp::parse(&s).map(|e| e.facet());
        }
    }
}
