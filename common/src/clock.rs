//! The wall clock, read once per question and turned into domain types. Only binaries and
//! runtimes call this; state machines and stores are handed the time.

use domain::{Date, DateTime};

/// 1970-01-01 is day 25,567 after 1900-01-01, the domain calendar's epoch.
const UNIX_EPOCH_DAYS_SINCE_1900: u32 = 25_567;

/// Seconds since the Unix epoch.
pub fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Local wall time at `offset_minutes` from UTC (Moscow: 180), to the minute.
pub fn now_at_offset(offset_minutes: i16) -> DateTime {
    from_unix(unix_seconds(), offset_minutes)
}

/// A Unix timestamp as local wall time at `offset_minutes`.
pub fn from_unix(secs: u64, offset_minutes: i16) -> DateTime {
    let local = secs as i64 + i64::from(offset_minutes) * 60;
    let days = local.div_euclid(86_400);
    let minute = (local.rem_euclid(86_400) / 60) as u32;
    let date = u32::try_from(days)
        .ok()
        .and_then(|d| Date::from_days_since_1900(d + UNIX_EPOCH_DAYS_SINCE_1900))
        .unwrap_or_else(|| Date::from_ymd(2026, 1, 1).expect("a valid date"));
    DateTime::new(date, minute / 60, minute % 60, offset_minutes).expect("minute of day is in range")
}

/// Today in UTC.
pub fn today_utc() -> Date {
    now_at_offset(0).date
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_become_local_wall_time() {
        // 2026-11-23T06:40:00Z is 09:40 in Moscow.
        let t = from_unix(1_795_416_000, 180);
        assert_eq!(t.to_string(), "2026-11-23T09:40:00+03:00");
        assert_eq!(from_unix(0, 0).to_string(), "1970-01-01T00:00:00+00:00");
    }
}
