//! The duty-doctor electronic queue as a ticket holder sees it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::date::DateTime;

/// A kiosk's number within its clinic; also the offline ticket series (`К2-005`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KioskId(pub u32);

impl fmt::Display for KioskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// `Д-017` from central, `К2-005` from a kiosk working offline.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TicketNumber(pub String);

impl TicketNumber {
    /// The number a central queue gives out: `Д-` and three digits.
    pub fn central(n: u32) -> TicketNumber {
        TicketNumber(format!("Д-{n:03}"))
    }
    /// The number a kiosk gives out offline: `К<kiosk>-` and three digits.
    pub fn offline(kiosk: KioskId, n: u32) -> TicketNumber {
        TicketNumber(format!("К{}-{n:03}", kiosk.0))
    }
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A walk-in ticket. Holds no personal data: it is printed and shown on boards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueTicket {
    /// Central's id, or the offline request id until the ticket is synced.
    pub ticket_id: String,
    pub number: TicketNumber,
    pub issued_at: DateTime,
    /// People ahead of this ticket when it was issued (0 = next).
    pub position: u32,
    pub estimated_wait_minutes: Option<u32>,
    /// The range the wait may fall in, minutes, when central gave one.
    #[serde(default)]
    pub wait_range: Option<(u32, u32)>,
    /// Issued by the kiosk while central was unreachable.
    pub offline: bool,
    /// The duty cabinet the ticket waits for, when the clinic opened cabinets today.
    #[serde(default)]
    pub room: Option<String>,
}

/// People ahead and the estimated wait as a patient reads them, the same on the screen and on
/// paper: "Вы первый в очереди", "Перед вами 3 человека, около 15 мин".
pub fn ahead_ru(position: u32, minutes: Option<u32>) -> String {
    let people = match position {
        0 => "Вы первый в очереди".to_owned(),
        n => format!("Перед вами {}", people_ru(n)),
    };
    match minutes.filter(|m| *m > 0) {
        Some(m) => format!("{people}, около {m} мин"),
        None => people,
    }
}

/// `3 человека`, `5 человек`: 2-4 (not 12-14) take "человека", the rest "человек".
pub fn people_ru(n: u32) -> String {
    let (d, h) = (n % 10, n % 100);
    let word =
        if (2..=4).contains(&d) && !(12..=14).contains(&h) { "человека" } else { "человек" };
    format!("{n} {word}")
}

/// "Ожидание: около 15 мин (10–20)": the range shown when it says more than the figure (wider
/// than ten minutes, or the figure is small); `None` when there is no wait to speak of.
pub fn wait_ru(minutes: u32, range: Option<(u32, u32)>) -> Option<String> {
    wait_phrase(minutes, range, "Ожидание: около", "мин")
}

/// [`wait_ru`] in English.
pub fn wait_en(minutes: u32, range: Option<(u32, u32)>) -> Option<String> {
    wait_phrase(minutes, range, "Wait: about", "min")
}

fn wait_phrase(minutes: u32, range: Option<(u32, u32)>, lead: &str, unit: &str) -> Option<String> {
    if minutes == 0 {
        return None;
    }
    Some(match range.filter(|(lo, hi)| lo < hi && *lo <= minutes && minutes <= *hi && hi - lo >= 10) {
        Some((lo, hi)) => format!("{lead} {minutes} {unit} ({lo}–{hi})"),
        None => format!("{lead} {minutes} {unit}"),
    })
}

/// [`ahead_ru`] in English.
pub fn ahead_en(position: u32, minutes: Option<u32>) -> String {
    let people = match position {
        0 => "You are next in line".to_owned(),
        1 => "1 person ahead of you".to_owned(),
        n => format!("{n} people ahead of you"),
    };
    match minutes.filter(|m| *m > 0) {
        Some(m) => format!("{people}, about {m} min"),
        None => people,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_ahead_read_as_a_person_says_them() {
        assert_eq!(ahead_ru(0, None), "Вы первый в очереди");
        assert_eq!(ahead_ru(0, Some(4)), "Вы первый в очереди, около 4 мин");
        assert_eq!(ahead_ru(1, Some(0)), "Перед вами 1 человек");
        assert_eq!(ahead_ru(3, Some(15)), "Перед вами 3 человека, около 15 мин");
        for (n, word) in [(2, "человека"), (4, "человека"), (5, "человек"), (11, "человек"), (12, "человек")]
        {
            assert!(ahead_ru(n, None).ends_with(word), "{n}: {}", ahead_ru(n, None));
        }
        for (n, word) in
            [(21, "человек"), (22, "человека"), (111, "человек"), (114, "человек"), (124, "человека")]
        {
            assert!(ahead_ru(n, None).ends_with(&format!(" {word}")), "{n}: {}", ahead_ru(n, None));
        }
        assert_eq!(ahead_en(1, Some(5)), "1 person ahead of you, about 5 min");
        assert_eq!(ahead_en(0, None), "You are next in line");
    }

    #[test]
    fn a_wait_reads_with_its_range_when_the_range_says_something() {
        assert_eq!(wait_ru(15, Some((10, 20))).unwrap(), "Ожидание: около 15 мин (10–20)");
        assert_eq!(wait_ru(15, Some((15, 20))).unwrap(), "Ожидание: около 15 мин", "narrow: the figure");
        assert_eq!(wait_ru(15, None).unwrap(), "Ожидание: около 15 мин");
        assert_eq!(wait_ru(0, Some((0, 5))), None, "no wait, no line");
        assert_eq!(wait_en(30, Some((20, 40))).unwrap(), "Wait: about 30 min (20–40)");
        assert_eq!(people_ru(3), "3 человека");
    }

    #[test]
    fn numbers_look_like_the_spec() {
        assert_eq!(TicketNumber::central(17).to_string(), "Д-017");
        assert_eq!(TicketNumber::offline(KioskId(2), 5).to_string(), "К2-005");
    }
}
