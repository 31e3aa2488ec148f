//! People: names, sex, birth dates, the policy a card gives and the identified patient.
//!
//! Every personal field is a newtype whose `Debug` and `Display` are masked, so deriving
//! `Debug` on a struct that holds one is safe by construction.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::enp::Enp;
use crate::mask;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
}

/// One part of a person's name. Formats as `П*****А`.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    pub fn new(s: impl Into<String>) -> PersonName {
        PersonName(s.into())
    }
    /// The name in clear: for the screen the patient is looking at, the wire and tickets'
    /// initials; never for logs.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
    /// The first letter followed by a dot (`А.`), or nothing for an empty name.
    pub fn initial(&self) -> String {
        self.0.trim().chars().next().map(|c| format!("{c}.")).unwrap_or_default()
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", mask::word(&self.0))
    }
}
impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask::word(&self.0))
    }
}

/// Surname, first name and patronymic (the last is optional in Russia).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct FullName {
    pub last: PersonName,
    pub first: PersonName,
    pub middle: Option<PersonName>,
}

impl FullName {
    pub fn new(last: &str, first: &str, middle: Option<&str>) -> FullName {
        FullName {
            last: PersonName::new(last),
            first: PersonName::new(first),
            middle: middle.filter(|m| !m.trim().is_empty()).map(PersonName::new),
        }
    }
    /// `Петрова А. В.` — the most a ticket may print.
    pub fn surname_and_initials(&self) -> String {
        let mut s = self.last.expose().to_owned();
        for part in [Some(&self.first), self.middle.as_ref()].into_iter().flatten() {
            let i = part.initial();
            if !i.is_empty() {
                s.push(' ');
                s.push_str(&i);
            }
        }
        s
    }
    /// `Анна Викторовна` — how the kiosk greets a patient.
    pub fn greeting(&self) -> String {
        match &self.middle {
            Some(m) => format!("{} {}", self.first.expose(), m.expose()),
            None => self.first.expose().to_owned(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.last.is_empty() && self.first.is_empty()
    }
}

impl fmt::Display for FullName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.last, self.first)?;
        if let Some(m) = &self.middle {
            write!(f, " {m}")?;
        }
        Ok(())
    }
}

/// A birth date: personal, so it formats as `****-**-**`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BirthDate(pub Date);

impl BirthDate {
    pub fn expose(self) -> Date {
        self.0
    }
}
impl fmt::Debug for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(mask::DATE)
    }
}
impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(mask::DATE)
    }
}

/// Where a policy came from: decides how much the kiosk can trust and show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicySource {
    /// Paper or plastic policy, barcode type 01.
    Barcode01,
    /// Barcode type 02.
    Barcode02,
    /// Electronic policy read from its chip.
    ChipCard,
    /// A number scanned as text (digital policy QR, a scanner in text mode).
    ScannedText,
    /// Typed on the keypad.
    Manual,
}

/// What a card (or the keypad) gives: enough to ask central who this is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub enp: Enp,
    /// Empty for manual entry and scanned text.
    pub name: FullName,
    pub sex: Option<Sex>,
    /// `None` when the source does not carry it (manual entry asks for it next).
    pub birth_date: Option<BirthDate>,
    /// `None`: no expiry (or unknown).
    pub expiry: Option<Date>,
    pub source: PolicySource,
}

impl Policy {
    /// A policy whose number was typed or scanned as text: no name, no date yet.
    pub fn from_number(enp: Enp, source: PolicySource) -> Policy {
        Policy { enp, name: FullName::default(), sex: None, birth_date: None, expiry: None, source }
    }
    /// Expired on `today`? A policy without expiry never is.
    pub fn expired_on(&self, today: Date) -> bool {
        self.expiry.is_some_and(|e| e < today)
    }
}

/// An identified patient: the policy plus what central confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    pub enp: Enp,
    pub birth_date: BirthDate,
    pub name: FullName,
    pub sex: Option<Sex>,
    /// The clinic this patient is attached to, when central said so.
    pub attached_lpu: Option<crate::clinic::LpuId>,
}

impl Patient {
    /// The policy a card of this patient gives (demo cards, simulators, tests).
    pub fn policy(&self, source: PolicySource) -> Policy {
        Policy {
            enp: self.enp,
            name: self.name.clone(),
            sex: self.sex,
            birth_date: Some(self.birth_date),
            expiry: None,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Patient {
        Patient {
            enp: Enp::parse("6449013884006380").unwrap(),
            birth_date: BirthDate(Date::from_ymd(1948, 3, 5).unwrap()),
            name: FullName::new("ПЕТРОВА", "АННА", Some("ВИКТОРОВНА")),
            sex: Some(Sex::Female),
            attached_lpu: None,
        }
    }

    const CLEAR: [&str; 6] = ["6449013884006380", "ПЕТРОВА", "АННА", "ВИКТОРОВНА", "1948", "05.03"];

    #[test]
    fn formatting_a_patient_never_shows_clear_data() {
        let p = sample();
        for shown in [format!("{p:?}"), format!("{p:#?}"), p.name.to_string()] {
            for clear in CLEAR {
                assert!(!shown.contains(clear), "{clear} leaked in {shown}");
            }
            assert!(!shown.contains("1948-03-05"));
        }
        assert!(format!("{p:?}").contains("6449********6380"));
        assert!(format!("{p:?}").contains("П*****А"));
    }

    #[test]
    fn formatting_a_policy_never_shows_clear_data() {
        let p = sample();
        let policy = Policy {
            enp: p.enp,
            name: p.name.clone(),
            sex: p.sex,
            birth_date: Some(p.birth_date),
            expiry: None,
            source: PolicySource::Barcode02,
        };
        let shown = format!("{policy:?} {policy:#?}");
        for clear in CLEAR {
            assert!(!shown.contains(clear), "{clear} leaked in {shown}");
        }
        assert!(!shown.contains("1948-03-05"));
    }

    #[test]
    fn tickets_and_greetings_use_only_what_they_need() {
        let p = sample();
        assert_eq!(p.name.surname_and_initials(), "ПЕТРОВА А. В.");
        assert_eq!(p.name.greeting(), "АННА ВИКТОРОВНА");
        assert_eq!(FullName::new("Ли", "Ян", None).surname_and_initials(), "Ли Я.");
    }
}
