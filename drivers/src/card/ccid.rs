//! USB CCID smart-card readers: the bulk messages (pure), T=1 block framing for TPDU-level
//! readers (pure), and a [`CcidReader`] that is a [`CardChannel`] over any [`CcidTransport`]
//! (rusb's bulk endpoints in production, the virtual reader of `sim::ccid` in tests and the
//! demo). [`CcidOpener`] opens (and after an unplug, reopens) a transport. No pcscd needed.

use std::time::Duration;

use super::chip::{CardChannel, CardError};

// Message types, shared with the virtual reader in `sim::ccid`.
pub(crate) const PC_TO_RDR_ICC_POWER_ON: u8 = 0x62;
pub(crate) const PC_TO_RDR_ICC_POWER_OFF: u8 = 0x63;
pub(crate) const PC_TO_RDR_GET_SLOT_STATUS: u8 = 0x65;
pub(crate) const PC_TO_RDR_XFR_BLOCK: u8 = 0x6F;
pub(crate) const RDR_TO_PC_DATA_BLOCK: u8 = 0x80;
pub(crate) const RDR_TO_PC_SLOT_STATUS: u8 = 0x81;
pub(crate) const HEADER: usize = 10;

/// A bulk-out message: 10-byte header (type, length LE, slot, seq, 3 type-specific bytes) + data.
pub fn message(kind: u8, slot: u8, seq: u8, specific: [u8; 3], data: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(HEADER + data.len());
    m.push(kind);
    m.extend_from_slice(&(data.len() as u32).to_le_bytes());
    m.extend_from_slice(&[slot, seq]);
    m.extend_from_slice(&specific);
    m.extend_from_slice(data);
    m
}

pub fn power_on(slot: u8, seq: u8) -> Vec<u8> {
    // bPowerSelect 0: automatic voltage selection.
    message(PC_TO_RDR_ICC_POWER_ON, slot, seq, [0, 0, 0], &[])
}

pub fn power_off(slot: u8, seq: u8) -> Vec<u8> {
    message(PC_TO_RDR_ICC_POWER_OFF, slot, seq, [0, 0, 0], &[])
}

pub fn xfr_block(slot: u8, seq: u8, data: &[u8]) -> Vec<u8> {
    message(PC_TO_RDR_XFR_BLOCK, slot, seq, [0, 0, 0], data)
}

pub fn get_slot_status(slot: u8, seq: u8) -> Vec<u8> {
    message(PC_TO_RDR_GET_SLOT_STATUS, slot, seq, [0, 0, 0], &[])
}

/// Whether a card sits in the slot (bmICCStatus of a slot-status answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Active,
    Inactive,
    Absent,
}

/// Asks the reader whether a card is in slot 0: one GetSlotStatus round trip. Cheap enough to
/// poll a few times a second, and works on readers without an interrupt endpoint.
pub fn slot_presence(t: &mut dyn CcidTransport, seq: u8, timeout: Duration) -> Result<Presence, CardError> {
    t.bulk_out(&get_slot_status(0, seq))?;
    for _ in 0..8 {
        let raw = t.bulk_in(timeout)?;
        let m = parse_reader_message(&raw).map_err(|e| CardError::Transport(e.to_string()))?;
        if m.seq != seq {
            continue; // a stale answer to an earlier, timed-out command
        }
        return Ok(match m.icc_status() {
            0 => Presence::Active,
            1 => Presence::Inactive,
            _ => Presence::Absent,
        });
    }
    Err(CardError::Timeout)
}

/// A bulk-in message from the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderMessage {
    pub kind: u8,
    pub slot: u8,
    pub seq: u8,
    pub status: u8,
    pub error: u8,
    pub data: Vec<u8>,
}

impl ReaderMessage {
    /// bmICCStatus: 0 present and active, 1 present and inactive, 2 no card.
    pub fn icc_status(&self) -> u8 {
        self.status & 0x03
    }
    /// bmCommandStatus: 0 ok, 1 failed, 2 time extension requested.
    pub fn command_status(&self) -> u8 {
        self.status >> 6
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CcidError {
    #[error("reader message of {0} bytes is shorter than its header")]
    Short(usize),
    #[error("reader message says {said} data bytes, {got} arrived")]
    Length { said: usize, got: usize },
}

pub fn parse_reader_message(b: &[u8]) -> Result<ReaderMessage, CcidError> {
    if b.len() < HEADER {
        return Err(CcidError::Short(b.len()));
    }
    let said = u32::from_le_bytes([b[1], b[2], b[3], b[4]]) as usize;
    let got = b.len() - HEADER;
    if said > got {
        return Err(CcidError::Length { said, got });
    }
    Ok(ReaderMessage {
        kind: b[0],
        slot: b[5],
        seq: b[6],
        status: b[7],
        error: b[8],
        data: b[HEADER..HEADER + said].to_vec(),
    })
}

/// The transmission protocol the card's ATR offers first (what it speaks without PPS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    T0,
    T1,
}

/// Reads the first offered protocol and T=1's IFSC from an ATR. Unknown or malformed: T=0.
pub fn atr_protocol(atr: &[u8]) -> (Protocol, usize) {
    let mut protocol = None;
    let mut ifsc = 32;
    let Some(&t0) = atr.get(1) else { return (Protocol::T0, ifsc) };
    let mut y = t0 >> 4;
    let mut i = 2;
    let mut level = 1;
    loop {
        let ta = y & 1 != 0;
        let tb = y & 2 != 0;
        let tc = y & 4 != 0;
        let td = y & 8 != 0;
        if ta {
            // TA3 onwards under T=1 is IFSC.
            if level >= 3 && protocol == Some(Protocol::T1) {
                ifsc = atr.get(i).map_or(32, |&v| usize::from(v).clamp(16, 254));
            }
            i += 1;
        }
        i += usize::from(tb) + usize::from(tc);
        if !td {
            break;
        }
        let Some(&tdi) = atr.get(i) else { break };
        i += 1;
        if protocol.is_none() {
            protocol = Some(if tdi & 0x0F == 1 { Protocol::T1 } else { Protocol::T0 });
        }
        y = tdi >> 4;
        level += 1;
        if level > 8 {
            break;
        }
    }
    (protocol.unwrap_or(Protocol::T0), ifsc)
}

/// Exchange level from the CCID class descriptor's dwFeatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The host frames TPDUs (T=1 blocks are ours to build).
    Tpdu,
    /// The reader takes whole APDUs.
    Apdu,
}

pub fn level_from_features(features: u32) -> Level {
    if features & 0x0006_0000 != 0 { Level::Apdu } else { Level::Tpdu }
}

fn lrc(b: &[u8]) -> u8 {
    b.iter().fold(0, |a, x| a ^ x)
}

/// A T=1 block: NAD, PCB, LEN, INF, LRC.
pub fn t1_block(pcb: u8, inf: &[u8]) -> Vec<u8> {
    let mut b = vec![0x00, pcb, inf.len() as u8];
    b.extend_from_slice(inf);
    b.push(lrc(&b));
    b
}

/// Checks a received block's length and LRC and returns (PCB, INF).
pub fn parse_t1_block(b: &[u8]) -> Result<(u8, &[u8]), CardError> {
    if b.len() < 4 || usize::from(b[2]) + 4 != b.len() || lrc(b) != 0 {
        return Err(CardError::Transport("malformed T=1 block".into()));
    }
    Ok((b[1], &b[3..b.len() - 1]))
}

/// The reader's bulk endpoints.
pub trait CcidTransport: Send {
    fn bulk_out(&mut self, data: &[u8]) -> Result<(), CardError>;
    fn bulk_in(&mut self, timeout: Duration) -> Result<Vec<u8>, CardError>;
}

impl CcidTransport for Box<dyn CcidTransport> {
    fn bulk_out(&mut self, data: &[u8]) -> Result<(), CardError> {
        (**self).bulk_out(data)
    }
    fn bulk_in(&mut self, timeout: Duration) -> Result<Vec<u8>, CardError> {
        (**self).bulk_in(timeout)
    }
}

/// Opens a reader's transport (again, after an unplug): the USB reader by VID:PID in
/// production, the virtual reader in tests.
pub trait CcidOpener: Send {
    fn open(&self) -> Result<(Box<dyn CcidTransport>, Level), CardError>;
    /// What a technician should look for: the VID:PID, or "virtual reader".
    fn describe(&self) -> String;
}

/// A CCID reader slot with a powered card.
#[derive(Debug)]
pub struct CcidReader<T> {
    transport: T,
    slot: u8,
    seq: u8,
    level: Level,
    protocol: Protocol,
    ifsc: usize,
    /// T=1 send-sequence bit.
    ns: u8,
    pub atr: Vec<u8>,
    timeout: Duration,
}

impl<T: CcidTransport> CcidReader<T> {
    /// Powers the card on and reads its ATR.
    pub fn power_on(transport: T, level: Level, timeout: Duration) -> Result<Self, CardError> {
        let mut r = CcidReader {
            transport,
            slot: 0,
            seq: 0,
            level,
            protocol: Protocol::T0,
            ifsc: 32,
            ns: 0,
            atr: Vec::new(),
            timeout,
        };
        let msg = power_on(r.slot, r.next_seq());
        let reply = r.round_trip(&msg)?;
        r.atr = reply.data;
        (r.protocol, r.ifsc) = atr_protocol(&r.atr);
        Ok(r)
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    fn next_seq(&mut self) -> u8 {
        let s = self.seq;
        self.seq = self.seq.wrapping_add(1);
        s
    }

    /// Sends one message and waits for its answer, honouring time extensions.
    fn round_trip(&mut self, msg: &[u8]) -> Result<ReaderMessage, CardError> {
        let seq = msg[6];
        self.transport.bulk_out(msg)?;
        for _ in 0..64 {
            let raw = self.transport.bulk_in(self.timeout)?;
            let m = parse_reader_message(&raw).map_err(|e| CardError::Transport(e.to_string()))?;
            if m.seq != seq {
                continue; // a stale answer to an earlier, timed-out command
            }
            if m.icc_status() == 2 {
                return Err(CardError::NoCard);
            }
            match m.command_status() {
                0 if m.kind == RDR_TO_PC_DATA_BLOCK || m.kind == RDR_TO_PC_SLOT_STATUS => return Ok(m),
                2 => continue, // time extension: the card is working
                _ => {
                    return Err(match m.error {
                        0xFE => CardError::Removed, // ICC_MUTE
                        e => CardError::Transport(format!("reader error {e:#04x}")),
                    });
                }
            }
        }
        Err(CardError::Timeout)
    }

    fn xfr(&mut self, data: &[u8]) -> Result<Vec<u8>, CardError> {
        let msg = xfr_block(self.slot, self.next_seq(), data);
        Ok(self.round_trip(&msg)?.data)
    }

    /// One APDU over T=1 blocks: chained I-blocks out, chained I-blocks in, WTX answered.
    fn t1_transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardError> {
        // A card that keeps asking for more time, or keeps chaining, must not hold the kiosk.
        const MAX_BLOCKS: usize = 600;
        let chunks: Vec<&[u8]> = apdu.chunks(self.ifsc).collect();
        let mut reply = Vec::new();
        let mut blocks = 0;
        for (i, chunk) in chunks.iter().enumerate() {
            let more = i + 1 < chunks.len();
            let pcb = (self.ns << 6) | if more { 0x20 } else { 0 };
            self.ns ^= 1;
            let mut block = self.xfr(&t1_block(pcb, chunk))?;
            loop {
                blocks += 1;
                if blocks > MAX_BLOCKS {
                    return Err(CardError::Timeout);
                }
                let (pcb, inf) = parse_t1_block(&block)?;
                if pcb & 0xC0 == 0xC0 && pcb & 0x3F == 0x03 {
                    // S(WTX request): grant it.
                    block = self.xfr(&t1_block(0xE3, inf))?;
                    continue;
                }
                if more {
                    if pcb & 0xC0 != 0x80 {
                        return Err(CardError::Transport("T=1: expected R-block during chaining".into()));
                    }
                    break;
                }
                if pcb & 0x80 != 0 {
                    return Err(CardError::Transport(format!("T=1: unexpected block {pcb:#04x}")));
                }
                reply.extend_from_slice(inf);
                if pcb & 0x20 == 0 {
                    return Ok(reply);
                }
                // The card chains its answer: acknowledge with R(N(R)).
                let nr = ((pcb >> 6) & 1) ^ 1;
                block = self.xfr(&t1_block(0x80 | (nr << 4), &[]))?;
            }
        }
        Err(CardError::Transport("T=1: empty command".into()))
    }

    pub fn close(mut self) -> T {
        let msg = power_off(self.slot, self.next_seq());
        let _ = self.round_trip(&msg);
        self.transport
    }
}

impl<T: CcidTransport> CardChannel for CcidReader<T> {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardError> {
        match (self.level, self.protocol) {
            (Level::Tpdu, Protocol::T1) => self.t1_transmit(apdu),
            // APDU-level readers take whole APDUs; T=0 TPDUs for our commands (cases 1-3) are
            // the APDUs themselves, with 61xx/6Cxx handled by `chip::exchange`.
            _ => self.xfr(apdu),
        }
    }
}

/// A reader over real USB, through rusb (libusb). Opening needs the udev rule in `deploy/`.
pub mod usb {
    use super::*;
    use rusb::{Direction, TransferType, UsbContext};

    const CCID_CLASS: u8 = 0x0B;

    #[derive(Debug)]
    pub struct UsbCcid {
        handle: rusb::DeviceHandle<rusb::Context>,
        ep_out: u8,
        ep_in: u8,
        pub level: Level,
    }

    fn transport_err(what: &str, e: rusb::Error) -> CardError {
        match e {
            rusb::Error::NoDevice => CardError::Transport(format!("{what}: reader unplugged")),
            rusb::Error::Timeout => CardError::Timeout,
            rusb::Error::Access => CardError::Transport(format!("{what}: no permission (udev rule, group)")),
            e => CardError::Transport(format!("{what}: {e}")),
        }
    }

    impl UsbCcid {
        /// Opens the first reader with this VID:PID and claims its CCID interface.
        pub fn open(vid: u16, pid: u16) -> Result<UsbCcid, CardError> {
            let ctx = rusb::Context::new().map_err(|e| transport_err("libusb", e))?;
            let devices = ctx.devices().map_err(|e| transport_err("listing USB devices", e))?;
            for dev in devices.iter() {
                let Ok(d) = dev.device_descriptor() else { continue };
                if d.vendor_id() != vid || d.product_id() != pid {
                    continue;
                }
                let cfg =
                    dev.active_config_descriptor().map_err(|e| transport_err("config descriptor", e))?;
                for iface in cfg.interfaces() {
                    for alt in iface.descriptors() {
                        if alt.class_code() != CCID_CLASS {
                            continue;
                        }
                        let (mut ep_out, mut ep_in) = (None, None);
                        for ep in alt.endpoint_descriptors() {
                            if ep.transfer_type() == TransferType::Bulk {
                                match ep.direction() {
                                    Direction::Out => ep_out = Some(ep.address()),
                                    Direction::In => ep_in = Some(ep.address()),
                                }
                            }
                        }
                        // dwFeatures sits at offset 40 of the 54-byte CCID class descriptor.
                        let extra = alt.extra();
                        let features = if extra.len() >= 44 && extra[1] == 0x21 {
                            u32::from_le_bytes([extra[40], extra[41], extra[42], extra[43]])
                        } else {
                            0x0002_0000 // no class descriptor: assume short-APDU level
                        };
                        let (Some(ep_out), Some(ep_in)) = (ep_out, ep_in) else { continue };
                        let handle = dev.open().map_err(|e| transport_err("opening the reader", e))?;
                        let n = alt.interface_number();
                        if handle.kernel_driver_active(n).unwrap_or(false) {
                            handle
                                .detach_kernel_driver(n)
                                .map_err(|e| transport_err("detaching kernel driver", e))?;
                        }
                        handle.claim_interface(n).map_err(|e| transport_err("claiming the interface", e))?;
                        return Ok(UsbCcid { handle, ep_out, ep_in, level: level_from_features(features) });
                    }
                }
            }
            Err(CardError::Transport(format!("no CCID reader {vid:04x}:{pid:04x} found")))
        }
    }

    /// Opens the USB reader `vid:pid` (claiming its CCID interface) each time it is asked.
    #[derive(Debug, Clone, Copy)]
    pub struct UsbCcidOpener {
        pub vid: u16,
        pub pid: u16,
    }

    impl CcidOpener for UsbCcidOpener {
        fn open(&self) -> Result<(Box<dyn CcidTransport>, Level), CardError> {
            let r = UsbCcid::open(self.vid, self.pid)?;
            let level = r.level;
            Ok((Box::new(r), level))
        }
        fn describe(&self) -> String {
            format!("CCID reader {:04x}:{:04x}", self.vid, self.pid)
        }
    }

    impl CcidTransport for UsbCcid {
        fn bulk_out(&mut self, data: &[u8]) -> Result<(), CardError> {
            self.handle
                .write_bulk(self.ep_out, data, Duration::from_secs(2))
                .map(|_| ())
                .map_err(|e| transport_err("sending to the reader", e))
        }
        fn bulk_in(&mut self, timeout: Duration) -> Result<Vec<u8>, CardError> {
            let mut buf = vec![0u8; HEADER + 65_546];
            let n = self
                .handle
                .read_bulk(self.ep_in, &mut buf, timeout)
                .map_err(|e| transport_err("reading from the reader", e))?;
            buf.truncate(n);
            Ok(buf)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::chip::read_policy;
    use crate::sim::card::SimCard;
    use crate::sim::ccid::{OMS_ATR, VirtualReader};

    fn policy() -> domain::Policy {
        domain::Policy {
            enp: domain::Enp::parse("7700000000000016").unwrap(),
            name: domain::FullName::new("ПЕТРОВА", "АННА", None),
            sex: Some(domain::Sex::Female),
            birth_date: Some(domain::BirthDate(domain::Date::from_ymd(1948, 3, 5).unwrap())),
            expiry: None,
            source: domain::PolicySource::ChipCard,
        }
    }

    fn reader(level: Level, atr: &[u8]) -> Box<dyn CcidTransport> {
        let r = VirtualReader::new(level, atr.to_vec());
        r.insert(SimCard::with_policy(&policy(), None));
        r.faults(|f| {
            f.wtx_once = true;
            f.time_extension_once = true;
        });
        r.opener().open().unwrap().0
    }

    #[test]
    fn messages_are_byte_exact() {
        assert_eq!(power_on(0, 5), [0x62, 0, 0, 0, 0, 0, 5, 0, 0, 0]);
        assert_eq!(xfr_block(0, 1, &[0xAA, 0xBB]), [0x6F, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0xAA, 0xBB]);
        let m = parse_reader_message(&[0x80, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0x90, 0x00]).unwrap();
        assert_eq!((m.kind, m.seq, m.data.as_slice()), (0x80, 1, &[0x90, 0x00][..]));
        assert_eq!(
            parse_reader_message(&[0x80, 5, 0, 0, 0, 0, 1, 0, 0, 0, 1]),
            Err(CcidError::Length { said: 5, got: 1 })
        );
        assert_eq!(parse_reader_message(&[0x80]), Err(CcidError::Short(1)));
    }

    #[test]
    fn the_observed_oms_atr_offers_t1() {
        assert_eq!(atr_protocol(&OMS_ATR).0, Protocol::T1);
        assert_eq!(atr_protocol(&[0x3B, 0x00]).0, Protocol::T0);
        assert_eq!(atr_protocol(&[]).0, Protocol::T0);
        assert_eq!(atr_protocol(&[0x3B, 0x80, 0x01]).0, Protocol::T1);
    }

    #[test]
    fn apdu_level_reader_reads_a_policy_through_time_extensions() {
        let mut r =
            CcidReader::power_on(reader(Level::Apdu, &OMS_ATR), Level::Apdu, Duration::from_secs(1)).unwrap();
        assert_eq!(r.atr, OMS_ATR);
        assert_eq!(read_policy(&mut r).unwrap().policy, policy());
    }

    #[test]
    fn tpdu_level_t1_reader_chains_blocks_and_grants_wtx() {
        let mut r =
            CcidReader::power_on(reader(Level::Tpdu, &OMS_ATR), Level::Tpdu, Duration::from_secs(1)).unwrap();
        assert_eq!(r.protocol(), Protocol::T1);
        // A long APDU forces chaining out; the 64-byte READ BINARY answers force chaining in.
        let got = read_policy(&mut r).unwrap();
        assert_eq!(got.policy, policy());
    }

    #[test]
    fn no_card_and_pulled_card() {
        let sim = VirtualReader::new(Level::Apdu, OMS_ATR.to_vec());
        let t = sim.opener().open().unwrap().0;
        let r = CcidReader::power_on(t, Level::Apdu, Duration::from_secs(1));
        assert!(matches!(r, Err(CardError::NoCard)));
    }

    #[test]
    fn t1_blocks_check_their_lrc() {
        let b = t1_block(0x40, &[1, 2, 3]);
        assert_eq!(parse_t1_block(&b).unwrap(), (0x40, &[1u8, 2, 3][..]));
        let mut bad = b.clone();
        bad[3] ^= 1;
        assert!(parse_t1_block(&bad).is_err());
        assert!(parse_t1_block(&b[..3]).is_err());
    }
}
