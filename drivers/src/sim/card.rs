//! A simulated OMS chip card: answers the APDUs a reader sends, byte for byte, from a small
//! file system (DF `foms_root` with `FOMS_ID`/EF 0201 and `FOMS_INS`), with faults on demand.
//! It is a peer of the real card, not a shortcut: it parses every command and keeps selection
//! state, so a reader that skips a SELECT or reads past the end gets what a card would say.

use domain::{Date, Policy, Sex};

use crate::card::chip::{CardChannel, CardError, Insurer};
use crate::card::tlv;

/// Faults to inject.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Answer this status word to the n-th APDU (0-based) instead of its real answer.
    pub wrong_sw_at: Option<(usize, u16)>,
    /// The card is pulled out after this many APDUs.
    pub pulled_after: Option<usize>,
    /// Answer `61xx` and make the reader fetch data with GET RESPONSE (T=0 style).
    pub t0_get_response: bool,
    /// Answer `6Cxx` when Le differs from what is available, as strict T=0 cards do.
    pub strict_le: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Selected {
    Mf,
    Root,
    Id,
    Ins,
    File([u8; 2]),
}

#[derive(Debug, Clone)]
pub struct SimCard {
    owner_file: Vec<u8>,
    insurer_file: Option<Vec<u8>>,
    insurer_fid: [u8; 2],
    selected: Selected,
    /// DF of the selected EF, to resolve which file it is.
    df: Selected,
    pending: Vec<u8>,
    pub faults: Faults,
    pub apdus: usize,
}

/// The owner file (EF 0201) for a policy, tags in the given order plus any extra elements.
pub fn owner_file(p: &Policy, extra: &[Vec<u8>]) -> Vec<u8> {
    let mut inner = Vec::new();
    inner.extend(tlv::encode(0x5F26, p.enp.expose().as_bytes()));
    inner.extend(tlv::encode(0x5F21, p.name.last.expose().as_bytes()));
    inner.extend(tlv::encode(0x5F22, p.name.first.expose().as_bytes()));
    if let Some(m) = &p.name.middle {
        inner.extend(tlv::encode(0x5F23, m.expose().as_bytes()));
    }
    if let Some(b) = p.birth_date {
        inner.extend(tlv::encode(0x5F24, &tlv::encode_bcd_date(b.expose())));
    }
    let sex = match p.sex {
        Some(Sex::Male) => 1,
        Some(Sex::Female) => 2,
        None => 0,
    };
    inner.extend(tlv::encode(0x5F25, &[sex]));
    let expiry = p.expiry.unwrap_or_else(|| Date::from_ymd(1900, 1, 1).expect("valid"));
    inner.extend(tlv::encode(0x5F28, &tlv::encode_bcd_date(expiry)));
    for e in extra {
        inner.extend(e);
    }
    tlv::encode(0x62, &inner)
}

pub fn insurer_file(i: &Insurer) -> Vec<u8> {
    let mut inner = Vec::new();
    inner.extend(tlv::encode(0x5F51, i.ogrn.as_bytes()));
    inner.extend(tlv::encode(0x5F52, i.okato.as_bytes()));
    if let Some(s) = i.start {
        inner.extend(tlv::encode(0x5F53, &tlv::encode_bcd_date(s)));
    }
    if let Some(e) = i.end {
        inner.extend(tlv::encode(0x5F54, &tlv::encode_bcd_date(e)));
    }
    inner.extend(tlv::encode(0x7F60, &tlv::encode(0x5F61, &[0xA5; 64])));
    tlv::encode(0x64, &inner)
}

impl SimCard {
    pub fn new(owner_file: Vec<u8>, insurer_file: Option<Vec<u8>>) -> SimCard {
        SimCard {
            owner_file,
            insurer_file,
            insurer_fid: [0x02, 0x02],
            selected: Selected::Mf,
            df: Selected::Mf,
            pending: Vec::new(),
            faults: Faults::default(),
            apdus: 0,
        }
    }

    pub fn with_policy(p: &Policy, insurer: Option<&Insurer>) -> SimCard {
        SimCard::new(owner_file(p, &[]), insurer.map(insurer_file))
    }

    fn file(&self) -> Option<&[u8]> {
        match (self.df, self.selected) {
            (Selected::Id, Selected::File([0x02, 0x01])) => Some(&self.owner_file),
            (Selected::Ins, Selected::File(f)) if f == self.insurer_fid => self.insurer_file.as_deref(),
            _ => None,
        }
    }

    fn answer(&mut self, apdu: &[u8]) -> Vec<u8> {
        let sw = |s: u16| s.to_be_bytes().to_vec();
        if apdu.len() < 4 {
            return sw(0x6700);
        }
        let (cla, ins, p1, p2) = (apdu[0], apdu[1], apdu[2], apdu[3]);
        if cla != 0x00 {
            return sw(0x6E00);
        }
        let lc_data = || -> Option<&[u8]> {
            let lc = usize::from(*apdu.get(4)?);
            apdu.get(5..5 + lc)
        };
        match (ins, p1, p2) {
            (0xA4, 0x04, 0x0C) => {
                let Some(name) = lc_data() else { return sw(0x6700) };
                let next = match (name, self.selected) {
                    (b"foms_root", _) => Selected::Root,
                    (b"FOMS_ID", Selected::Root) => Selected::Id,
                    (b"FOMS_INS", Selected::Root) if self.insurer_file.is_some() => Selected::Ins,
                    _ => return sw(0x6A82),
                };
                self.selected = next;
                self.df = next;
                sw(0x9000)
            }
            (0xA4, 0x02, 0x0C) => {
                let Some(&[hi, lo]) = lc_data() else { return sw(0x6700) };
                self.selected = Selected::File([hi, lo]);
                if self.file().is_none() {
                    self.selected = self.df;
                    return sw(0x6A82);
                }
                sw(0x9000)
            }
            (0xCA, 0x01, 0xB0) if self.df == Selected::Ins => {
                let mut r = self.insurer_fid.to_vec();
                r.extend(sw(0x9000));
                r
            }
            (0xB0, hi, lo) if hi & 0x80 == 0 => {
                let Some(file) = self.file() else { return sw(0x6986) };
                let offset = usize::from(hi) << 8 | usize::from(lo);
                let le = apdu.get(4).map_or(256, |&l| if l == 0 { 256 } else { usize::from(l) });
                if offset > file.len() {
                    return sw(0x6B00);
                }
                let avail = file.len() - offset;
                if self.faults.strict_le && le > avail && avail > 0 {
                    return sw(0x6C00 | avail as u16);
                }
                let n = le.min(avail);
                let mut r = file[offset..offset + n].to_vec();
                r.extend(sw(if n < le { 0x6282 } else { 0x9000 }));
                r
            }
            (0xC0, 0x00, 0x00) => {
                let le = apdu.get(4).map_or(0, |&l| usize::from(l));
                let n = le.min(self.pending.len());
                let mut r: Vec<u8> = self.pending.drain(..n).collect();
                let left = self.pending.len();
                r.extend(sw(if left > 0 { 0x6100 | left.min(255) as u16 } else { 0x9000 }));
                r
            }
            _ => sw(0x6D00),
        }
    }
}

impl CardChannel for SimCard {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardError> {
        let n = self.apdus;
        self.apdus += 1;
        if self.faults.pulled_after.is_some_and(|k| n >= k) {
            return Err(CardError::Removed);
        }
        if let Some((at, sw)) = self.faults.wrong_sw_at
            && at == n
        {
            return Ok(sw.to_be_bytes().to_vec());
        }
        let mut r = self.answer(apdu);
        if self.faults.t0_get_response && r.len() > 2 && apdu.get(1) != Some(&0xC0) {
            let data_len = r.len() - 2;
            let status = r.split_off(data_len);
            if status == [0x90, 0x00] {
                self.pending = r;
                return Ok(vec![0x61, self.pending.len().min(255) as u8]);
            }
            r.extend(status);
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::chip::{parse_owner, read_policy};
    use domain::{BirthDate, Enp, FullName, PolicySource};

    fn policy() -> Policy {
        Policy {
            enp: Enp::parse("7700000000000016").unwrap(),
            name: FullName::new("Петрова", "Анна", Some("Викторовна")),
            sex: Some(Sex::Female),
            birth_date: Some(BirthDate(Date::from_ymd(1948, 3, 5).unwrap())),
            expiry: None,
            source: PolicySource::ChipCard,
        }
    }

    fn insurer() -> Insurer {
        Insurer {
            ogrn: "1027739008440".into(),
            okato: "45000".into(),
            start: Date::from_ymd(2012, 5, 1).ok(),
            end: None,
        }
    }

    #[test]
    fn a_good_card_reads_owner_and_insurer() {
        let mut card = SimCard::with_policy(&policy(), Some(&insurer()));
        let got = read_policy(&mut card).unwrap();
        assert_eq!(got.policy, policy());
        assert_eq!(got.insurer, Some(insurer()));
    }

    #[test]
    fn t0_cards_with_get_response_and_strict_le_read_the_same() {
        let mut card = SimCard::with_policy(&policy(), Some(&insurer()));
        card.faults.t0_get_response = true;
        card.faults.strict_le = true;
        assert_eq!(read_policy(&mut card).unwrap().policy, policy());
    }

    #[test]
    fn long_owner_files_are_read_in_chunks() {
        // A photo makes the file far longer than one 220-byte READ BINARY.
        let photo = tlv::encode(0x7F40, &tlv::encode(0x5F41, &[0x55; 900]));
        let mut card = SimCard::new(owner_file(&policy(), &[photo]), None);
        let got = read_policy(&mut card).unwrap();
        assert_eq!(got.policy, policy());
        assert_eq!(got.insurer, None, "no insurer application: owner data still serves");
        assert!(card.apdus > 6);
    }

    #[test]
    fn wrong_status_words_name_the_step() {
        for (at, step) in
            [(0, "SELECT foms_root"), (1, "SELECT FOMS_ID"), (2, "SELECT EF 0201"), (3, "READ BINARY")]
        {
            let mut card = SimCard::with_policy(&policy(), None);
            card.faults.wrong_sw_at = Some((at, 0x6A82));
            let e = read_policy(&mut card).unwrap_err();
            assert_eq!(e, CardError::Status { step, sw: 0x6A82 });
            assert!(e.to_string().contains("6A82"));
        }
    }

    #[test]
    fn a_card_pulled_mid_read_is_a_failed_read() {
        for k in 0..8 {
            let mut card = SimCard::with_policy(&policy(), Some(&insurer()));
            card.faults.pulled_after = Some(k);
            assert_eq!(read_policy(&mut card), Err(CardError::Removed), "pulled after {k} APDUs");
        }
    }

    #[test]
    fn truncated_missing_and_unknown_tags() {
        let full = owner_file(&policy(), &[]);
        // Truncated: the root says more than the file holds.
        let mut card = SimCard::new(full[..full.len() - 5].to_vec(), None);
        assert!(matches!(read_policy(&mut card), Err(CardError::Tlv(_))));
        // Optional tags absent (no patronymic, no expiry) and unknown tags present.
        let mut inner = Vec::new();
        inner.extend(tlv::encode(0x5F3A, b"future"));
        inner.extend(tlv::encode(0x5F26, b"7700000000000016"));
        inner.extend(tlv::encode(0x5F21, "Ли".as_bytes()));
        inner.extend(tlv::encode(0x5F22, "Ян".as_bytes()));
        inner.extend(tlv::encode(0x5F24, &[0x01, 0x02, 0x19, 0x90]));
        inner.extend(tlv::encode(0x7F30, &tlv::encode(0x5F31, b"RUS")));
        let p = parse_owner(&tlv::encode(0x62, &inner)).unwrap();
        assert_eq!(p.name.middle, None);
        assert_eq!(p.sex, None);
        assert_eq!(p.expiry, None);
        assert_eq!(p.name.surname_and_initials(), "Ли Я.");
        // Required tags absent.
        let no_enp = tlv::encode(0x62, &tlv::encode(0x5F24, &[0x01, 0x02, 0x19, 0x90]));
        assert_eq!(parse_owner(&no_enp), Err(CardError::Missing("5F26 ENP")));
        assert_eq!(parse_owner(&tlv::encode(0x63, &[])), Err(CardError::Missing("root tag 62")));
    }

    proptest::proptest! {
        #[test]
        fn random_owner_files_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            let _ = parse_owner(&bytes);
            let mut card = SimCard::new(bytes, None);
            let _ = read_policy(&mut card);
        }
    }
}
