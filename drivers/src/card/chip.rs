//! The electronic OMS policy's chip (pure APDU and TLV layer over any [`CardChannel`]).
//!
//! Sequence and tags from `shared/specs/oms-policy.md` §4. Applications are selected by ASCII DF
//! name (there is no ISO AID); owner data lives in EF 0201 under root tag `62`, insurer data in a
//! file named by GET DATA under root tag `64`. Never gated on the ATR: generations differ.

use domain::{BirthDate, Date, DeviceErrorKind, Enp, FullName, Policy, PolicySource, Sex};

use super::tlv::{self, TlvError};

/// Largest READ BINARY chunk (the spec's limit; some cards answer 6700 above it).
pub const READ_CHUNK: usize = 220;
/// P1 bit 7 of READ BINARY selects by SFI: offsets stop at 0x7FFF.
const MAX_FILE: usize = 0x7FFF;

/// Something that exchanges APDUs with a card: the CCID reader, or the simulated card.
pub trait CardChannel {
    /// Sends one command APDU and returns the response, status word included.
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("no card in the reader")]
    NoCard,
    #[error("the card was removed during reading")]
    Removed,
    #[error("card reader: {0}")]
    Transport(String),
    #[error("card reader timed out")]
    Timeout,
    #[error("card answered {sw:04X} to {step}: not an OMS policy card, or damaged")]
    Status { step: &'static str, sw: u16 },
    #[error("card answered with {0} bytes, too short for a status word")]
    ShortResponse(usize),
    #[error("owner data is malformed: {0}")]
    Tlv(#[from] TlvError),
    #[error("owner data lacks {0}")]
    Missing(&'static str),
    #[error("owner data field {0} is invalid")]
    Invalid(&'static str),
}

impl CardError {
    pub fn kind(&self) -> DeviceErrorKind {
        match self {
            CardError::NoCard | CardError::Removed => DeviceErrorKind::Disconnected,
            CardError::Transport(_) => DeviceErrorKind::DeviceError,
            CardError::Timeout => DeviceErrorKind::Timeout,
            _ => DeviceErrorKind::BadData,
        }
    }
}

/// The insurer block (root tag `64`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insurer {
    pub ogrn: String,
    pub okato: String,
    pub start: Option<Date>,
    pub end: Option<Date>,
}

/// What a chip read gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChipPolicy {
    pub policy: Policy,
    /// `None` when the insurer block could not be read: the owner data alone identifies.
    pub insurer: Option<Insurer>,
}

fn split_sw(resp: &[u8]) -> Result<(&[u8], u16), CardError> {
    if resp.len() < 2 {
        return Err(CardError::ShortResponse(resp.len()));
    }
    let (data, sw) = resp.split_at(resp.len() - 2);
    Ok((data, u16::from_be_bytes([sw[0], sw[1]])))
}

/// One command, with T=0's conventions handled: `61xx` (more data: GET RESPONSE) and `6Cxx`
/// (wrong Le: repeat with xx). Returns data and the final status word.
pub fn exchange(ch: &mut dyn CardChannel, apdu: &[u8]) -> Result<(Vec<u8>, u16), CardError> {
    let mut resp = ch.transmit(apdu)?;
    let (data, mut sw) = split_sw(&resp).map(|(d, s)| (d.to_vec(), s))?;
    let mut data = data;
    if sw >> 8 == 0x6C && apdu.len() == 5 {
        let mut again = apdu.to_vec();
        again[4] = (sw & 0xFF) as u8;
        resp = ch.transmit(&again)?;
        let (d, s) = split_sw(&resp)?;
        data = d.to_vec();
        sw = s;
    }
    let mut rounds = 0;
    while sw >> 8 == 0x61 {
        rounds += 1;
        if rounds > 64 {
            return Err(CardError::Status { step: "GET RESPONSE", sw });
        }
        let get = [0x00, 0xC0, 0x00, 0x00, (sw & 0xFF) as u8];
        let r = ch.transmit(&get)?;
        let (d, s) = split_sw(&r)?;
        data.extend_from_slice(d);
        sw = s;
    }
    Ok((data, sw))
}

fn expect_ok(ch: &mut dyn CardChannel, apdu: &[u8], step: &'static str) -> Result<Vec<u8>, CardError> {
    let (data, sw) = exchange(ch, apdu)?;
    if sw != 0x9000 {
        return Err(CardError::Status { step, sw });
    }
    Ok(data)
}

/// `00 A4 04 0C Lc name`: select a DF by its ASCII name.
pub fn select_df_apdu(name: &str) -> Vec<u8> {
    let mut a = vec![0x00, 0xA4, 0x04, 0x0C, name.len() as u8];
    a.extend_from_slice(name.as_bytes());
    a
}

/// `00 A4 02 0C 02 hi lo`: select an EF under the current DF.
pub fn select_ef_apdu(fid: [u8; 2]) -> Vec<u8> {
    vec![0x00, 0xA4, 0x02, 0x0C, 0x02, fid[0], fid[1]]
}

/// Reads the selected file until the TLV element at its start is complete.
pub fn read_tlv_file(ch: &mut dyn CardChannel) -> Result<Vec<u8>, CardError> {
    let mut data: Vec<u8> = Vec::new();
    let mut want: Option<usize> = None;
    loop {
        if let Some(w) = want
            && data.len() >= w
        {
            data.truncate(w);
            return Ok(data);
        }
        let offset = data.len();
        let len = want.map_or(READ_CHUNK, |w| (w - offset).min(READ_CHUNK));
        if offset + len > MAX_FILE {
            return Err(CardError::Invalid("file size"));
        }
        let apdu = [0x00, 0xB0, (offset >> 8) as u8, offset as u8, len as u8];
        let (chunk, sw) = exchange(ch, &apdu)?;
        let end_of_file = match sw {
            0x9000 => chunk.is_empty(),
            // End of file reached before Le bytes / offset past the end.
            0x6282 | 0x6B00 => true,
            _ => return Err(CardError::Status { step: "READ BINARY", sw }),
        };
        data.extend_from_slice(&chunk);
        if want.is_none() {
            match tlv::element_size(&data) {
                Ok(n) => want = Some(n),
                Err(TlvError::TruncatedTag(_) | TlvError::TruncatedLength(_)) if !end_of_file => {}
                Err(e) => return Err(e.into()),
            }
        }
        if end_of_file && want.is_none_or(|w| data.len() < w) {
            let w = want.unwrap_or(0);
            return Err(TlvError::TruncatedValue { at: 0, len: w, left: data.len() }.into());
        }
    }
}

fn utf8(v: &[u8], tag: &'static str) -> Result<String, CardError> {
    std::str::from_utf8(v).map(|s| s.trim().to_owned()).map_err(|_| CardError::Invalid(tag))
}

/// Parses EF 0201 (root tag `62`). Unknown tags are skipped; optional tags may be absent.
pub fn parse_owner(file: &[u8]) -> Result<Policy, CardError> {
    let top = tlv::parse(file)?;
    let root = top.iter().find(|t| t.tag == 0x62).ok_or(CardError::Missing("root tag 62"))?;
    let (mut last, mut first, mut middle) = (None, None, None);
    let (mut birth, mut sex, mut enp, mut expiry) = (None, None, None, None);
    for t in tlv::parse(root.value)? {
        match t.tag {
            0x5F21 => last = Some(utf8(t.value, "5F21 surname")?),
            0x5F22 => first = Some(utf8(t.value, "5F22 first name")?),
            0x5F23 => middle = Some(utf8(t.value, "5F23 patronymic")?),
            0x5F24 => birth = Some(tlv::bcd_date(t.value).ok_or(CardError::Invalid("5F24 birth date"))?),
            0x5F25 => {
                sex = match t.value {
                    [1] => Some(Sex::Male),
                    [2] => Some(Sex::Female),
                    _ => None,
                }
            }
            0x5F26 => {
                let s = std::str::from_utf8(t.value).map_err(|_| CardError::Invalid("5F26 ENP"))?;
                enp = Some(Enp::parse(s.trim()).map_err(|_| CardError::Invalid("5F26 ENP"))?);
            }
            0x5F28 => {
                let d = tlv::bcd_date(t.value).ok_or(CardError::Invalid("5F28 expiry"))?;
                // 01.01.1900 is how the card says "no expiry".
                expiry = (d != Date::from_ymd(1900, 1, 1).expect("valid")).then_some(d);
            }
            // SNILS, birth place, issue date, citizenship, photo and anything newer: not needed.
            _ => {}
        }
    }
    Ok(Policy {
        enp: enp.ok_or(CardError::Missing("5F26 ENP"))?,
        name: FullName::new(last.as_deref().unwrap_or(""), first.as_deref().unwrap_or(""), middle.as_deref()),
        sex,
        birth_date: Some(BirthDate(birth.ok_or(CardError::Missing("5F24 birth date"))?)),
        expiry,
        source: PolicySource::ChipCard,
    })
}

/// Parses the insurer file (root tag `64`).
pub fn parse_insurer(file: &[u8]) -> Result<Insurer, CardError> {
    let top = tlv::parse(file)?;
    let root = top.iter().find(|t| t.tag == 0x64).ok_or(CardError::Missing("root tag 64"))?;
    let (mut ogrn, mut okato, mut start, mut end) = (None, None, None, None);
    for t in tlv::parse(root.value)? {
        match t.tag {
            0x5F51 => ogrn = Some(utf8(t.value, "5F51 OGRN")?),
            0x5F52 => okato = Some(utf8(t.value, "5F52 OKATO")?),
            0x5F53 => start = tlv::bcd_date(t.value),
            0x5F54 => end = tlv::bcd_date(t.value),
            _ => {}
        }
    }
    Ok(Insurer {
        ogrn: ogrn.ok_or(CardError::Missing("5F51 OGRN"))?,
        okato: okato.ok_or(CardError::Missing("5F52 OKATO"))?,
        start,
        end,
    })
}

/// Reads owner data, then (best effort) insurer data.
pub fn read_policy(ch: &mut dyn CardChannel) -> Result<ChipPolicy, CardError> {
    expect_ok(ch, &select_df_apdu("foms_root"), "SELECT foms_root")?;
    expect_ok(ch, &select_df_apdu("FOMS_ID"), "SELECT FOMS_ID")?;
    expect_ok(ch, &select_ef_apdu([0x02, 0x01]), "SELECT EF 0201")?;
    let policy = parse_owner(&read_tlv_file(ch)?)?;
    let insurer = match read_insurer(ch) {
        Ok(i) => Some(i),
        // A pulled card is a failed read, whatever was read before it.
        Err(e @ (CardError::Removed | CardError::NoCard)) => return Err(e),
        Err(e) => {
            log::info!("chip card: insurer data unreadable ({e}); owner data is enough");
            None
        }
    };
    Ok(ChipPolicy { policy, insurer })
}

fn read_insurer(ch: &mut dyn CardChannel) -> Result<Insurer, CardError> {
    expect_ok(ch, &select_df_apdu("foms_root"), "SELECT foms_root")?;
    expect_ok(ch, &select_df_apdu("FOMS_INS"), "SELECT FOMS_INS")?;
    let fid = expect_ok(ch, &[0x00, 0xCA, 0x01, 0xB0, 0x02], "GET DATA insurer file")?;
    let fid: [u8; 2] = fid.as_slice().try_into().map_err(|_| CardError::Invalid("insurer file id"))?;
    expect_ok(ch, &select_ef_apdu(fid), "SELECT insurer file")?;
    parse_insurer(&read_tlv_file(ch)?)
}
