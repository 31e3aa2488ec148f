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

/// A clinic's time zone by IANA name (`Europe/Moscow`), DST-safe: each reading uses the
/// offset in force at that instant, from the tz database compiled into the binary (a kiosk
/// image without `tzdata` still knows every zone; the system's own zone is used when no name is
/// configured).
#[derive(Debug, Clone)]
pub struct Zone {
    tz: jiff::tz::TimeZone,
    name: String,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown time zone {0:?}: expected an IANA name such as Europe/Moscow or Asia/Yekaterinburg")]
pub struct UnknownZone(pub String);

/// Two zones are the same when they have the same name (the tz database maps names to rules).
impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl Zone {
    pub fn named(name: &str) -> Result<Zone, UnknownZone> {
        jiff::tz::db()
            .get(name)
            .map(|tz| Zone { tz, name: name.to_owned() })
            .map_err(|_| UnknownZone(name.to_owned()))
    }

    /// The machine's zone (`/etc/localtime`, `TZ`); UTC when it cannot be read.
    pub fn system() -> Zone {
        let tz = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
        let name = tz.iana_name().unwrap_or("system").to_owned();
        Zone { tz, name }
    }

    /// A fixed offset from UTC (tests, and demo data pinned to Moscow's +03:00).
    pub fn fixed(offset_minutes: i16) -> Zone {
        let secs = i32::from(offset_minutes) * 60;
        let tz =
            jiff::tz::Offset::from_seconds(secs).map_or(jiff::tz::TimeZone::UTC, jiff::tz::TimeZone::fixed);
        Zone { tz, name: format!("UTC{:+03}:{:02}", offset_minutes / 60, (offset_minutes % 60).abs()) }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Minutes east of UTC in force at Unix time `secs`.
    pub fn offset_at(&self, secs: i64) -> i16 {
        let offset = jiff::Timestamp::from_second(secs).map_or(0, |t| self.tz.to_offset(t).seconds());
        (offset / 60) as i16
    }

    /// Unix time `secs` as wall time here, with the offset then in force.
    pub fn at_unix(&self, secs: u64) -> DateTime {
        from_unix(secs, self.offset_at(secs as i64))
    }

    pub fn now(&self) -> DateTime {
        self.at_unix(unix_seconds())
    }
}

/// Today in UTC.
pub fn today_utc() -> Date {
    now_at_offset(0).date
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_follow_daylight_saving_time() {
        // New York: EST (-5) in January, EDT (-4) in July; Moscow has no DST (+3 all year).
        let ny = Zone::named("America/New_York").unwrap();
        let jan = 1_767_268_800; // 2026-01-01T12:00:00Z
        let jul = 1_782_907_200; // 2026-07-01T12:00:00Z
        assert_eq!(ny.at_unix(jan).to_string(), "2026-01-01T07:00:00-05:00");
        assert_eq!(ny.at_unix(jul).to_string(), "2026-07-01T08:00:00-04:00");
        let msk = Zone::named("Europe/Moscow").unwrap();
        assert_eq!(msk.at_unix(jul).to_string(), "2026-07-01T15:00:00+03:00");
        // Vladivostok: the date changes before Moscow's does.
        let vvo = Zone::named("Asia/Vladivostok").unwrap();
        assert_eq!(vvo.at_unix(1_767_268_800 + 3 * 3600).to_string(), "2026-01-02T01:00:00+10:00");
        assert!(Zone::named("Mars/Olympus_Mons").is_err());
        assert_eq!(Zone::fixed(180).at_unix(jan).hhmm(), "15:00");
    }

    #[test]
    fn unix_times_become_local_wall_time() {
        // 2026-11-23T06:40:00Z is 09:40 in Moscow.
        let t = from_unix(1_795_416_000, 180);
        assert_eq!(t.to_string(), "2026-11-23T09:40:00+03:00");
        assert_eq!(from_unix(0, 0).to_string(), "1970-01-01T00:00:00+00:00");
    }
}
