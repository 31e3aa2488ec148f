//! Civil dates and timestamps as the central API writes them.
//!
//! The OMS barcode counts days from 1900-01-01; the central API writes `YYYY-MM-DD` and
//! `YYYY-MM-DDTHH:MM:SS+03:00`. A kiosk never needs a time zone database: every timestamp
//! carries its own offset, and local wall time is what the patient reads.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A date in the proleptic Gregorian calendar, years 1900..=2199 (what a policy can hold).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// Why a date or timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("expected a date as YYYY-MM-DD, got {0:?}")]
    Format(String),
    #[error("no such calendar day: {year:04}-{month:02}-{day:02}")]
    NoSuchDay { year: u32, month: u32, day: u32 },
    #[error("expected a timestamp as YYYY-MM-DDTHH:MM[:SS]+HH:MM, got {0:?}")]
    TimestampFormat(String),
}

const MIN_YEAR: u32 = 1900;
const MAX_YEAR: u32 = 2199;
/// Days from 0000-03-01 (the algorithm's epoch) to 1900-01-01.
const EPOCH_1900: i64 = days_from_civil(1900, 1, 1);

/// Days since 0000-03-01 for a civil date (H. Hinnant's algorithm, shifted epoch).
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A checked constructor: the day must exist and the year lie in 1900..=2199.
    pub fn from_ymd(year: u32, month: u32, day: u32) -> Result<Date, DateError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year)
            || !(1..=12).contains(&month)
            || day == 0
            || day > days_in_month(year, month)
        {
            return Err(DateError::NoSuchDay { year, month, day });
        }
        // The checks above keep every field within its type.
        Ok(Date { year: year as u16, month: month as u8, day: day as u8 })
    }

    pub fn year(self) -> u32 {
        u32::from(self.year)
    }
    pub fn month(self) -> u32 {
        u32::from(self.month)
    }
    pub fn day(self) -> u32 {
        u32::from(self.day)
    }

    /// Days since 1900-01-01 (which is day 0), the OMS barcode's date encoding.
    pub fn days_since_1900(self) -> u32 {
        let d = days_from_civil(self.year.into(), self.month.into(), self.day.into()) - EPOCH_1900;
        // Years below 1900 cannot be constructed, so the difference is never negative.
        d as u32
    }

    /// The inverse of [`Date::days_since_1900`]; `None` past 2199-12-31.
    pub fn from_days_since_1900(days: u32) -> Option<Date> {
        let (y, m, d) = civil_from_days(EPOCH_1900 + i64::from(days));
        Date::from_ymd(y as u32, m as u32, d as u32).ok()
    }

    /// The date `n` days later (or earlier for negative `n`), `None` outside the supported range.
    pub fn add_days(self, n: i32) -> Option<Date> {
        let days = i64::from(self.days_since_1900()) + i64::from(n);
        u32::try_from(days).ok().and_then(Date::from_days_since_1900)
    }

    /// ISO weekday: 1 = Monday .. 7 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1900-01-01 was a Monday.
        self.days_since_1900() % 7 + 1
    }

    /// Whole years of age on `today` (for paediatric rules and sanity checks of typed dates).
    pub fn age_on(self, today: Date) -> u32 {
        let mut age = today.year().saturating_sub(self.year());
        if (today.month(), today.day()) < (self.month(), self.day()) {
            age = age.saturating_sub(1);
        }
        age
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Result<Date, DateError> {
        let b = s.as_bytes();
        if !s.is_ascii() || b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(DateError::Format(s.to_owned()));
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, DateError> {
            digits(&s[r]).ok_or_else(|| DateError::Format(s.to_owned()))
        };
        Date::from_ymd(num(0..4)?, num(5..7)?, num(8..10)?)
    }

    /// Parses the eight digits `DDMMYYYY` a patient types on the keypad.
    pub fn parse_ddmmyyyy(s: &str) -> Result<Date, DateError> {
        if !s.is_ascii() || s.len() != 8 {
            return Err(DateError::Format(s.to_owned()));
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, DateError> {
            digits(&s[r]).ok_or_else(|| DateError::Format(s.to_owned()))
        };
        Date::from_ymd(num(4..8)?, num(2..4)?, num(0..2)?)
    }

    /// `DD.MM.YYYY`, as Russian documents and tickets write dates.
    pub fn to_ru_string(self) -> String {
        format!("{:02}.{:02}.{:04}", self.day, self.month, self.year)
    }

    /// `чт, 4 декабря`: how a patient reads a day at a glance (weekday first: "is that my
    /// Thursday?"); `with_year` for paper, which outlives the year's end.
    pub fn long_ru(self, with_year: bool) -> String {
        const MONTHS: [&str; 12] = [
            "января",
            "февраля",
            "марта",
            "апреля",
            "мая",
            "июня",
            "июля",
            "августа",
            "сентября",
            "октября",
            "ноября",
            "декабря",
        ];
        self.long(&WEEKDAYS_RU, &MONTHS, ",", with_year)
    }

    /// `чт`: the weekday as Russian calendars abbreviate it.
    pub fn weekday_ru(self) -> &'static str {
        WEEKDAYS_RU[(self.weekday() - 1) as usize]
    }

    /// `Thu`.
    pub fn weekday_en(self) -> &'static str {
        WEEKDAYS_EN[(self.weekday() - 1) as usize]
    }

    /// `Thu 4 December`, the English twin of [`Date::long_ru`].
    pub fn long_en(self, with_year: bool) -> String {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        self.long(&WEEKDAYS_EN, &MONTHS, "", with_year)
    }

    fn long(self, weekdays: &[&str; 7], months: &[&str; 12], sep: &str, with_year: bool) -> String {
        let (wd, m) = (weekdays[(self.weekday() - 1) as usize], months[(self.month - 1) as usize]);
        let year = if with_year { format!(" {}", self.year) } else { String::new() };
        format!("{wd}{sep} {} {m}{year}", self.day)
    }
}

const WEEKDAYS_RU: [&str; 7] = ["пн", "вт", "ср", "чт", "пт", "сб", "вс"];
const WEEKDAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Date::parse_iso(s)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Date::parse_iso(&s).map_err(serde::de::Error::custom)
    }
}

/// A wall-clock timestamp with its UTC offset, to the minute (slots never need seconds;
/// seconds in input are accepted and must be zero-or-more, they are dropped).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    pub date: Date,
    /// Minutes after local midnight, 0..1440.
    pub minute_of_day: u16,
    /// Offset from UTC in minutes (Moscow: +180).
    pub offset_minutes: i16,
}

impl DateTime {
    pub fn new(date: Date, hour: u32, minute: u32, offset_minutes: i16) -> Option<DateTime> {
        (hour < 24 && minute < 60 && offset_minutes.unsigned_abs() < 24 * 60).then(|| DateTime {
            date,
            minute_of_day: (hour * 60 + minute) as u16,
            offset_minutes,
        })
    }
    pub fn hour(self) -> u32 {
        u32::from(self.minute_of_day / 60)
    }
    pub fn minute(self) -> u32 {
        u32::from(self.minute_of_day % 60)
    }
    /// Minutes since 1900-01-01T00:00Z: a total order across offsets.
    pub fn utc_minutes(self) -> i64 {
        i64::from(self.date.days_since_1900()) * 1440 + i64::from(self.minute_of_day)
            - i64::from(self.offset_minutes)
    }
    /// `HH:MM` local time, as the patient reads it.
    pub fn hhmm(self) -> String {
        format!("{:02}:{:02}", self.hour(), self.minute())
    }

    /// Parses `YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)`.
    pub fn parse_iso(s: &str) -> Result<DateTime, DateError> {
        let bad = || DateError::TimestampFormat(s.to_owned());
        // Slicing below is by byte: non-ASCII input could split a character.
        if !s.is_ascii() || s.len() < 16 || s.as_bytes()[10] != b'T' {
            return Err(bad());
        }
        let date = Date::parse_iso(&s[..10]).map_err(|_| bad())?;
        let rest = &s[11..];
        let tz_at = rest.find(['Z', '+', '-']).ok_or_else(bad)?;
        let (clock, tz) = rest.split_at(tz_at);
        let mut parts = clock.split(':');
        let hour = parts.next().and_then(digits).ok_or_else(bad)?;
        let minute = parts.next().and_then(digits).ok_or_else(bad)?;
        if let Some(sec) = parts.next() {
            let whole = sec.split('.').next().unwrap_or("");
            if whole.len() != 2 || digits(whole).is_none_or(|v| v > 60) {
                return Err(bad());
            }
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        let offset = if tz == "Z" {
            0
        } else {
            let sign: i16 = if tz.starts_with('-') { -1 } else { 1 };
            let body = &tz[1..];
            let (h, m) = body.split_once(':').ok_or_else(bad)?;
            let (h, m) = (digits(h).ok_or_else(bad)?, digits(m).ok_or_else(bad)?);
            if h > 23 || m > 59 {
                return Err(bad());
            }
            sign * (h * 60 + m) as i16
        };
        DateTime::new(date, hour, minute, offset).ok_or_else(bad)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let off = self.offset_minutes;
        let sign = if off < 0 { '-' } else { '+' };
        let off = off.unsigned_abs();
        write!(
            f,
            "{}T{:02}:{:02}:00{}{:02}:{:02}",
            self.date,
            self.hour(),
            self.minute(),
            sign,
            off / 60,
            off % 60
        )
    }
}

impl fmt::Debug for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl PartialOrd for DateTime {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for DateTime {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.utc_minutes().cmp(&other.utc_minutes()).then(self.offset_minutes.cmp(&other.offset_minutes))
    }
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        DateTime::parse_iso(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn epoch_is_day_zero_and_a_monday() {
        let d = Date::from_ymd(1900, 1, 1).unwrap();
        assert_eq!(d.days_since_1900(), 0);
        assert_eq!(d.weekday(), 1);
        assert_eq!(Date::from_ymd(1900, 3, 1).unwrap().days_since_1900(), 59, "1900 is no leap year");
        assert_eq!(Date::from_ymd(2026, 11, 23).unwrap().weekday(), 1);
    }

    #[test]
    fn long_dates_name_the_weekday() {
        let d = Date::from_ymd(2026, 12, 3).unwrap();
        assert_eq!(d.long_ru(false), "чт, 3 декабря");
        assert_eq!(d.long_ru(true), "чт, 3 декабря 2026");
        assert_eq!(d.long_en(false), "Thu 3 December");
        assert_eq!(Date::from_ymd(2027, 1, 3).unwrap().long_ru(false), "вс, 3 января");
    }

    #[test]
    fn rejects_impossible_days() {
        assert!(Date::from_ymd(2023, 2, 29).is_err());
        assert!(Date::from_ymd(2024, 2, 29).is_ok());
        assert!(Date::from_ymd(2000, 13, 1).is_err());
        assert!(Date::from_ymd(1899, 12, 31).is_err());
        assert!(Date::parse_iso("2024-1-01").is_err());
        assert!(Date::parse_iso("2024-01-0x").is_err());
        assert!(Date::parse_ddmmyyyy("31041990").is_err());
        assert_eq!(Date::parse_ddmmyyyy("05031948").unwrap().to_string(), "1948-03-05");
    }

    #[test]
    fn timestamps_parse_and_print() {
        let t = DateTime::parse_iso("2026-11-23T09:40:00+03:00").unwrap();
        assert_eq!(t.hhmm(), "09:40");
        assert_eq!(t.to_string(), "2026-11-23T09:40:00+03:00");
        let z = DateTime::parse_iso("2026-11-23T06:40Z").unwrap();
        assert_eq!(z.utc_minutes(), t.utc_minutes());
        assert!(DateTime::parse_iso("2026-11-23 09:40:00+03:00").is_err());
        assert!(DateTime::parse_iso("2026-11-23T25:40:00+03:00").is_err());
        assert!(DateTime::parse_iso("2026-11-23T09:40:00").is_err(), "offset is required");
        let neg = DateTime::parse_iso("2026-11-23T09:40:00.123-05:30").unwrap();
        assert_eq!(neg.to_string(), "2026-11-23T09:40:00-05:30");
    }

    proptest! {
        #[test]
        fn day_counts_round_trip(days in 0u32..109_572) {
            let d = Date::from_days_since_1900(days).unwrap();
            prop_assert_eq!(d.days_since_1900(), days);
            prop_assert_eq!(Date::parse_iso(&d.to_string()).unwrap(), d);
        }

        #[test]
        fn parsers_never_panic(s in ".{0,40}") {
            let _ = Date::parse_iso(&s);
            let _ = Date::parse_ddmmyyyy(&s);
            let _ = DateTime::parse_iso(&s);
        }
    }
}
