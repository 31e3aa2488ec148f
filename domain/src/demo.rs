//! The demo population: deterministic test people (not real), shared by the central service's
//! seed, the virtual scanner and the demo, so a "demo patient 7" is the same person everywhere.

use crate::date::Date;
use crate::enp::{Enp, EnpFacet};
use crate::person::{FullName, Sex};

/// How many demo patients there are.
pub const COUNT: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPatient {
    pub index: usize,
    pub enp: Enp,
    pub name: FullName,
    pub sex: Sex,
    pub birth_date: Date,
}

const FEMALE_FIRST: [&str; 10] =
    ["АННА", "МАРИЯ", "ЕЛЕНА", "ОЛЬГА", "НАТАЛЬЯ", "ТАТЬЯНА", "ИРИНА", "СВЕТЛАНА", "ГАЛИНА", "ЛЮДМИЛА"];
const MALE_FIRST: [&str; 10] =
    ["ИВАН", "ПЁТР", "АЛЕКСЕЙ", "СЕРГЕЙ", "НИКОЛАЙ", "ВЛАДИМИР", "ДМИТРИЙ", "АНДРЕЙ", "МИХАИЛ", "ЮРИЙ"];
/// Surnames as (male, female).
const SURNAMES: [(&str, &str); 10] = [
    ("ПЕТРОВ", "ПЕТРОВА"),
    ("СИДОРОВ", "СИДОРОВА"),
    ("КУЗНЕЦОВ", "КУЗНЕЦОВА"),
    ("СМИРНОВ", "СМИРНОВА"),
    ("ВОЛКОВ", "ВОЛКОВА"),
    ("СОЛОВЬЁВ", "СОЛОВЬЁВА"),
    ("МОРОЗОВ", "МОРОЗОВА"),
    ("ЛЕБЕДЕВ", "ЛЕБЕДЕВА"),
    ("КОЗЛОВ", "КОЗЛОВА"),
    ("НОВИКОВ", "НОВИКОВА"),
];
/// Fathers' names as (patronymic for a son, for a daughter).
const FATHERS: [(&str, &str); 5] = [
    ("ИВАНОВИЧ", "ИВАНОВНА"),
    ("ПЕТРОВИЧ", "ПЕТРОВНА"),
    ("СЕРГЕЕВИЧ", "СЕРГЕЕВНА"),
    ("НИКОЛАЕВИЧ", "НИКОЛАЕВНА"),
    ("ВИКТОРОВИЧ", "ВИКТОРОВНА"),
];

impl DemoPatient {
    /// The policy this patient carries (barcode, chip card).
    pub fn policy(&self, source: crate::person::PolicySource) -> crate::person::Policy {
        crate::person::Policy {
            enp: self.enp,
            name: self.name.clone(),
            sex: Some(self.sex),
            birth_date: Some(crate::person::BirthDate(self.birth_date)),
            expiry: None,
            source,
        }
    }
}

/// Demo patient `i` (0-based, wraps at [`COUNT`]).
pub fn patient(i: usize) -> DemoPatient {
    let i = i % COUNT;
    let sex = if i.is_multiple_of(2) { Sex::Female } else { Sex::Male };
    let (first, last, middle) = match sex {
        Sex::Female => (FEMALE_FIRST[i / 2 % 10], SURNAMES[i % 10].1, FATHERS[i % 5].1),
        Sex::Male => (MALE_FIRST[i / 2 % 10], SURNAMES[i % 10].0, FATHERS[(i + 2) % 5].0),
    };
    // Ages from 1 to 97: children, adults and the elderly, born on varied days.
    let birth_date =
        Date::from_ymd(1929 + (i as u32 * 37) % 97, 1 + (i as u32 * 5) % 12, 1 + (i as u32 * 11) % 28)
            .expect("demo dates are valid");
    let enp = Enp::with_facet(77, EnpFacet { birth_date, sex }, 10_000 + i as u32 * 7);
    DemoPatient { index: i, enp, name: FullName::new(last, first, Some(middle)), sex, birth_date }
}

pub fn patients() -> Vec<DemoPatient> {
    (0..COUNT).map(patient).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_patients_are_distinct_valid_and_stable() {
        let all = patients();
        let enps: std::collections::HashSet<_> = all.iter().map(|p| p.enp).collect();
        assert_eq!(enps.len(), COUNT);
        assert!(all.iter().all(|p| p.enp.checksum_ok()));
        assert!(all.iter().all(|p| p.enp.facet().map(|f| f.birth_date) == Some(p.birth_date)));
        assert_eq!(patient(0).name.last.expose(), "ПЕТРОВА");
        assert_eq!(patient(51), patient(1));
    }
}
