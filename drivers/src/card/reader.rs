//! The chip-card reader driver: watches the slot of a CCID reader and reads the OMS policy of a
//! card as soon as it is inserted.
//!
//! Runs on its own thread (USB transfers block): [`CardReader::next_event`] blocks until a card
//! is inserted (and read), removed, or the reader is unplugged or found again. Presence is
//! polled with GetSlotStatus a few times a second, which every CCID reader answers (the
//! interrupt endpoint is optional). A reader that disappears is looked for again every second,
//! so a replugged reader recovers without a restart.

use std::time::{Duration, Instant};

use super::ccid::{CcidOpener, CcidReader, CcidTransport, Level, Presence, slot_presence};
use super::chip::{CardError, ChipPolicy, read_policy};

/// How often the slot is asked whether a card is there.
pub const POLL_EVERY: Duration = Duration::from_millis(150);
/// How often a missing reader is looked for again.
pub const REOPEN_EVERY: Duration = Duration::from_secs(1);
/// How long one reader answer may take (a card reading its file answers within this).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub enum ReaderEvent {
    /// The reader was found (again): what it is.
    Connected(String),
    /// The reader is gone (unplugged, or never there); reported once until it comes back.
    Disconnected(CardError),
    /// A card was inserted and read: its policy, or why it could not be read (not an OMS card,
    /// pulled out mid-read).
    Inserted(Result<Box<ChipPolicy>, CardError>),
    /// The card was taken out.
    Removed,
}

pub struct CardReader {
    opener: Box<dyn CcidOpener>,
    link: Option<(Box<dyn CcidTransport>, Level)>,
    seq: u8,
    card_in: bool,
    down_reported: bool,
}

impl std::fmt::Debug for CardReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardReader").field("reader", &self.opener.describe()).finish_non_exhaustive()
    }
}

impl CardReader {
    pub fn new(opener: Box<dyn CcidOpener>) -> CardReader {
        CardReader { opener, link: None, seq: 0, card_in: false, down_reported: false }
    }

    pub fn describe(&self) -> String {
        self.opener.describe()
    }

    fn next_seq(&mut self) -> u8 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Blocks until something happens, or `None` when `until` passes first.
    pub fn next_event(&mut self, until: Option<Instant>) -> Option<ReaderEvent> {
        loop {
            let now = Instant::now();
            if until.is_some_and(|u| now >= u) {
                return None;
            }
            let pause = |every: Duration| {
                std::thread::sleep(until.map_or(every, |u| u.saturating_duration_since(now).min(every)));
            };
            if self.link.is_none() {
                match self.opener.open() {
                    Ok(l) => {
                        self.link = Some(l);
                        self.down_reported = false;
                        self.card_in = false;
                        return Some(ReaderEvent::Connected(self.opener.describe()));
                    }
                    Err(e) => {
                        if !std::mem::replace(&mut self.down_reported, true) {
                            return Some(ReaderEvent::Disconnected(e));
                        }
                        pause(REOPEN_EVERY);
                        continue;
                    }
                }
            }
            let seq = self.next_seq();
            let (t, _) = self.link.as_mut().expect("opened above");
            let presence = match slot_presence(t.as_mut(), seq, ANSWER_TIMEOUT) {
                Ok(p) => p,
                Err(e) => {
                    // The reader is gone: forget it (and any card in it) and look for it again.
                    self.link = None;
                    self.down_reported = true;
                    let was_in = std::mem::replace(&mut self.card_in, false);
                    log::debug!("card reader lost ({e}); card was in: {was_in}");
                    return Some(ReaderEvent::Disconnected(e));
                }
            };
            match (presence, self.card_in) {
                (Presence::Absent, true) => {
                    self.card_in = false;
                    return Some(ReaderEvent::Removed);
                }
                (Presence::Active | Presence::Inactive, false) => {
                    self.card_in = true;
                    return Some(ReaderEvent::Inserted(self.read_card().map(Box::new)));
                }
                _ => pause(POLL_EVERY),
            }
        }
    }

    /// Powers the card, reads the policy, powers it off; the transport is kept for polling.
    fn read_card(&mut self) -> Result<ChipPolicy, CardError> {
        let (t, level) = self.link.take().expect("a reader is open");
        let mut reader = match CcidReader::power_on(t, level, ANSWER_TIMEOUT) {
            Ok(r) => r,
            Err(e) => {
                // A failed power-on took the transport with it: open the reader again at once,
                // so the card that failed is not taken for a new one (and read over and over).
                self.link = self.opener.open().ok();
                return Err(e);
            }
        };
        let read = read_policy(&mut reader);
        self.link = Some((reader.close(), level));
        read
    }
}

#[cfg(test)]
mod tests {
    use domain::{BirthDate, Date, Enp, FullName, Policy, PolicySource, Sex};

    use super::*;
    use crate::sim::card::{Faults, SimCard};
    use crate::sim::ccid::VirtualReader;

    fn policy() -> Policy {
        Policy {
            enp: Enp::parse("7700000000000016").unwrap(),
            name: FullName::new("ПЕТРОВА", "АННА", Some("ИВАНОВНА")),
            sex: Some(Sex::Female),
            birth_date: Some(BirthDate(Date::from_ymd(1948, 3, 5).unwrap())),
            expiry: None,
            source: PolicySource::ChipCard,
        }
    }

    fn soon() -> Option<Instant> {
        Some(Instant::now() + Duration::from_secs(3))
    }

    #[test]
    fn insert_read_remove_unplug_replug() {
        let sim = VirtualReader::oms();
        let mut r = CardReader::new(sim.opener());
        assert!(matches!(r.next_event(soon()), Some(ReaderEvent::Connected(_))));
        // An empty slot: nothing happens.
        assert!(r.next_event(Some(Instant::now() + Duration::from_millis(400))).is_none());
        sim.insert(SimCard::with_policy(&policy(), None));
        match r.next_event(soon()) {
            Some(ReaderEvent::Inserted(Ok(p))) => assert_eq!(p.policy, policy()),
            other => panic!("{other:?}"),
        }
        // Left in the reader: read once, not again.
        assert!(r.next_event(Some(Instant::now() + Duration::from_millis(400))).is_none());
        sim.remove();
        assert!(matches!(r.next_event(soon()), Some(ReaderEvent::Removed)));
        sim.unplug();
        assert!(matches!(r.next_event(soon()), Some(ReaderEvent::Disconnected(_))));
        // Reported once, then quiet while it stays away.
        assert!(r.next_event(Some(Instant::now() + Duration::from_millis(1500))).is_none());
        sim.replug();
        sim.insert(SimCard::with_policy(&policy(), None));
        assert!(matches!(r.next_event(soon()), Some(ReaderEvent::Connected(_))));
        assert!(matches!(r.next_event(soon()), Some(ReaderEvent::Inserted(Ok(_)))));
    }

    #[test]
    fn a_card_pulled_mid_read_is_a_failed_read_then_a_removal() {
        let sim = VirtualReader::oms();
        let mut card = SimCard::with_policy(&policy(), None);
        card.faults = Faults { pulled_after: Some(3), ..Faults::default() };
        let mut r = CardReader::new(sim.opener());
        assert!(matches!(r.next_event(soon()), Some(ReaderEvent::Connected(_))));
        sim.insert(card);
        match r.next_event(soon()) {
            Some(ReaderEvent::Inserted(Err(e))) => {
                assert!(matches!(e, CardError::Removed | CardError::NoCard), "{e:?}")
            }
            other => panic!("{other:?}"),
        }
        sim.remove();
        assert!(matches!(r.next_event(soon()), Some(ReaderEvent::Removed)));
    }
}
