//! A virtual USB CCID reader: parses the bulk-out messages a host sends (slot status, power
//! on/off, XfrBlock at APDU level or as T=1 blocks at TPDU level) the way a reader does, and
//! forwards the card's part to a [`SimCard`]. A test or the demo holds the [`VirtualReader`]
//! handle to insert and pull cards and to unplug and replug the reader while the kiosk's
//! card-reader driver polls it through a [`CcidOpener`], exactly as it polls a USB reader.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::card::ccid::{
    CcidOpener, CcidTransport, HEADER, Level, PC_TO_RDR_GET_SLOT_STATUS, PC_TO_RDR_ICC_POWER_OFF,
    PC_TO_RDR_ICC_POWER_ON, PC_TO_RDR_XFR_BLOCK, RDR_TO_PC_DATA_BLOCK, RDR_TO_PC_SLOT_STATUS, parse_t1_block,
    t1_block,
};
use crate::card::chip::{CardChannel, CardError};
use crate::sim::card::SimCard;

/// The ATR observed on OMS cards: TA1=13, TB1=00, TC1=00, TD1=81 (T=1), TD2=31, TA3=FE (IFSC).
pub const OMS_ATR: [u8; 17] =
    [0x3B, 0xF7, 0x13, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45, 0x46, 0x4F, 0x4D, 0x53, 0x4F, 0x4D, 0x53, 0xA9];

/// Reader quirks to exercise the host's handling of them.
#[derive(Debug, Clone, Default)]
pub struct ReaderFaults {
    /// At TPDU level, ask for a waiting-time extension (S(WTX)) once.
    pub wtx_once: bool,
    /// At APDU level, answer one XfrBlock with a time extension first.
    pub time_extension_once: bool,
}

#[derive(Debug)]
struct State {
    card: Option<SimCard>,
    /// Whether the card has been powered since it was inserted.
    powered: bool,
    plugged: bool,
    /// Bumped on every unplug: transports opened before it answer "unplugged" for ever.
    generation: u64,
    level: Level,
    atr: Vec<u8>,
    faults: ReaderFaults,
}

/// The reader and its slot, shared by the test (insert, pull, unplug) and the transports.
#[derive(Debug, Clone)]
pub struct VirtualReader(Arc<Mutex<State>>);

impl VirtualReader {
    pub fn new(level: Level, atr: Vec<u8>) -> VirtualReader {
        VirtualReader(Arc::new(Mutex::new(State {
            card: None,
            powered: false,
            plugged: true,
            generation: 0,
            level,
            atr,
            faults: ReaderFaults::default(),
        })))
    }

    /// A TPDU-level reader with the OMS card's ATR: the most demanding host path (T=1 blocks).
    pub fn oms() -> VirtualReader {
        VirtualReader::new(Level::Tpdu, OMS_ATR.to_vec())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn insert(&self, card: SimCard) {
        let mut s = self.state();
        s.card = Some(card);
        s.powered = false;
    }

    /// Pulls the card out; returns it (with how many APDUs it answered).
    pub fn remove(&self) -> Option<SimCard> {
        let mut s = self.state();
        s.powered = false;
        s.card.take()
    }

    pub fn has_card(&self) -> bool {
        self.state().card.is_some()
    }

    /// The USB cable is pulled: open transports fail, opening fails until [`Self::replug`].
    pub fn unplug(&self) {
        let mut s = self.state();
        s.plugged = false;
        s.generation += 1;
    }

    pub fn replug(&self) {
        self.state().plugged = true;
    }

    pub fn faults(&self, f: impl FnOnce(&mut ReaderFaults)) {
        f(&mut self.state().faults);
    }

    /// Changes the inserted card (its faults, say) in place.
    pub fn with_card<T>(&self, f: impl FnOnce(&mut SimCard) -> T) -> Option<T> {
        self.state().card.as_mut().map(f)
    }

    pub fn opener(&self) -> Box<dyn CcidOpener> {
        Box::new(Opener(self.clone()))
    }
}

#[derive(Debug)]
struct Opener(VirtualReader);

impl CcidOpener for Opener {
    fn open(&self) -> Result<(Box<dyn CcidTransport>, Level), CardError> {
        let s = self.0.state();
        if !s.plugged {
            return Err(CardError::Transport("virtual reader: not plugged in".into()));
        }
        let t = Transport {
            reader: self.0.clone(),
            generation: s.generation,
            out: VecDeque::new(),
            pending: Vec::new(),
            ifsd: 32,
            card_ns: 0,
            rx: Vec::new(),
        };
        Ok((Box::new(t), s.level))
    }

    fn describe(&self) -> String {
        "virtual CCID reader".into()
    }
}

/// One opened connection to the reader: its bulk-in queue and T=1 exchange state.
#[derive(Debug)]
struct Transport {
    reader: VirtualReader,
    generation: u64,
    out: VecDeque<Vec<u8>>,
    /// T=1 reply chaining: the rest of the card's answer, sent in blocks of `ifsd`.
    pending: Vec<u8>,
    ifsd: usize,
    card_ns: u8,
    /// T=1 command chaining: what the host sent so far.
    rx: Vec<u8>,
}

impl Transport {
    fn reply(&mut self, kind: u8, seq: u8, status: u8, error: u8, data: &[u8]) {
        let mut m = vec![kind];
        m.extend_from_slice(&(data.len() as u32).to_le_bytes());
        m.extend_from_slice(&[0, seq, status, error, 0]);
        m.extend_from_slice(data);
        self.out.push_back(m);
    }

    fn next_card_block(&mut self) -> Vec<u8> {
        let n = self.pending.len().min(self.ifsd);
        let chunk: Vec<u8> = self.pending.drain(..n).collect();
        let more = !self.pending.is_empty();
        let pcb = (self.card_ns << 6) | if more { 0x20 } else { 0 };
        self.card_ns ^= 1;
        t1_block(pcb, &chunk)
    }

    fn handle(&mut self, s: &mut State, kind: u8, seq: u8, payload: &[u8]) -> Result<(), CardError> {
        let data = RDR_TO_PC_DATA_BLOCK;
        if kind == PC_TO_RDR_GET_SLOT_STATUS {
            let icc = match (&s.card, s.powered) {
                (None, _) => 2,
                (Some(_), true) => 0,
                (Some(_), false) => 1,
            };
            self.reply(RDR_TO_PC_SLOT_STATUS, seq, icc, 0, &[]);
            return Ok(());
        }
        let Some(card) = s.card.as_mut() else {
            // bmICCStatus 2 (no card), bmCommandStatus 1 (failed), bError ICC_MUTE.
            self.reply(data, seq, 0x42, 0xFE, &[]);
            return Ok(());
        };
        match kind {
            PC_TO_RDR_ICC_POWER_ON => {
                s.powered = true;
                (self.card_ns, self.pending, self.rx) = (0, Vec::new(), Vec::new());
                let atr = s.atr.clone();
                self.reply(data, seq, 0, 0, &atr);
            }
            PC_TO_RDR_ICC_POWER_OFF => {
                s.powered = false;
                self.reply(RDR_TO_PC_SLOT_STATUS, seq, 1, 0, &[]);
            }
            PC_TO_RDR_XFR_BLOCK if s.level == Level::Apdu => {
                if std::mem::take(&mut s.faults.time_extension_once) {
                    self.reply(data, seq, 0x80, 1, &[]);
                }
                match card.transmit(payload) {
                    Ok(r) => self.reply(data, seq, 0, 0, &r),
                    // Pulled mid-command: the reader reports the card mute.
                    Err(_) => self.reply(data, seq, 0x42, 0xFE, &[]),
                }
            }
            PC_TO_RDR_XFR_BLOCK => {
                let (pcb, inf) = parse_t1_block(payload)?;
                if pcb & 0xC0 == 0x80 {
                    // R-block: the host wants the next chained piece.
                    let b = self.next_card_block();
                    self.reply(data, seq, 0, 0, &b);
                    return Ok(());
                }
                let answer_now = pcb == 0xE3; // S(WTX response): the card resumes
                if !answer_now {
                    self.rx.extend_from_slice(inf);
                    if pcb & 0x20 != 0 {
                        let r = t1_block(0x80 | ((((pcb >> 6) & 1) ^ 1) << 4), &[]);
                        self.reply(data, seq, 0, 0, &r);
                        return Ok(());
                    }
                    if std::mem::take(&mut s.faults.wtx_once) {
                        self.reply(data, seq, 0, 0, &t1_block(0xC3, &[2]));
                        return Ok(());
                    }
                }
                match card.transmit(&std::mem::take(&mut self.rx)) {
                    Ok(r) => {
                        self.pending = r;
                        let b = self.next_card_block();
                        self.reply(data, seq, 0, 0, &b);
                    }
                    Err(_) => self.reply(data, seq, 0x42, 0xFE, &[]),
                }
            }
            // Command not supported: bmCommandStatus 1, bError 0 (CMD_NOT_SUPPORTED).
            _ => self.reply(data, seq, 0x40, 0x00, &[]),
        }
        Ok(())
    }
}

impl CcidTransport for Transport {
    fn bulk_out(&mut self, msg: &[u8]) -> Result<(), CardError> {
        let reader = self.reader.clone();
        let mut s = reader.state();
        if !s.plugged || s.generation != self.generation {
            return Err(CardError::Transport("virtual reader: unplugged".into()));
        }
        if msg.len() < HEADER {
            return Err(CardError::Transport("virtual reader: short message".into()));
        }
        let (kind, seq) = (msg[0], msg[6]);
        self.handle(&mut s, kind, seq, &msg[HEADER..])
    }

    fn bulk_in(&mut self, timeout: Duration) -> Result<Vec<u8>, CardError> {
        {
            let s = self.reader.state();
            if !s.plugged || s.generation != self.generation {
                return Err(CardError::Transport("virtual reader: unplugged".into()));
            }
        }
        match self.out.pop_front() {
            Some(m) => Ok(m),
            None => {
                // A real reader would make the host wait this long for nothing.
                std::thread::sleep(timeout.min(Duration::from_millis(50)));
                Err(CardError::Timeout)
            }
        }
    }
}
