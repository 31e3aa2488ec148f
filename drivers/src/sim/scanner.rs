//! The virtual scanner: a pseudo-terminal whose far end "scans" bytes, so the kiosk reads it
//! through exactly the serial path it uses for a real USB-CDC scanner.

use std::io::Write;
use std::path::{Path, PathBuf};

use serialport::{SerialPort, TTYPort};

use domain::{BirthDate, Date, Enp, FullName, Policy, PolicySource, Sex};

use crate::card::barcode::{self, BarcodeType, EncodeExtras};

#[derive(Debug)]
pub struct VirtualScanner {
    master: TTYPort,
    /// Held open so the pseudo-terminal exists (and stays raw) while no reader has it open.
    _slave: TTYPort,
    path: PathBuf,
}

impl VirtualScanner {
    pub fn new() -> std::io::Result<VirtualScanner> {
        let (master, slave) = TTYPort::pair().map_err(std::io::Error::from)?;
        let path = slave
            .name()
            .map(PathBuf::from)
            .ok_or_else(|| std::io::Error::other("pseudo-terminal without a name"))?;
        Ok(VirtualScanner { master, _slave: slave, path })
    }

    /// The serial device the kiosk should open (`/dev/pts/N`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A second handle on the same scanner (the demo's key handler keeps one).
    pub fn try_clone(&self) -> std::io::Result<VirtualScanner> {
        Ok(VirtualScanner {
            master: self.master.try_clone_native().map_err(std::io::Error::from)?,
            _slave: self._slave.try_clone_native().map_err(std::io::Error::from)?,
            path: self.path.clone(),
        })
    }

    /// Sends one scan's bytes at once, as a scanner does.
    pub fn scan(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.master.write_all(bytes)?;
        self.master.flush()
    }
}

/// Demo patient `i`'s policy barcode, type 02 (name, sex and birth date included): what the
/// demo's digit keys, the rig and the tests "scan".
pub fn demo_barcode(i: usize) -> Vec<u8> {
    let p = domain::demo::patient(i);
    policy_barcode(BarcodeType::T02, p.enp, &p.name, p.sex, p.birth_date, None).expect("demo patients encode")
}

/// A barcode payload for a named person (demo cards, tests, `scanner-sim --enp`).
pub fn policy_barcode(
    kind: BarcodeType,
    enp: Enp,
    name: &FullName,
    sex: Sex,
    birth: Date,
    expiry: Option<Date>,
) -> Result<Vec<u8>, barcode::BarcodeError> {
    let policy = Policy {
        enp,
        name: name.clone(),
        sex: Some(sex),
        birth_date: Some(BirthDate(birth)),
        expiry,
        source: match kind {
            BarcodeType::T01 => PolicySource::Barcode01,
            BarcodeType::T02 => PolicySource::Barcode02,
        },
    };
    // The real signature is secret; simulators sign with a recognisable pattern that still
    // contains CR and LF, which is what framing must survive.
    let signature: Vec<u8> = (0..65u8).map(|i| i.wrapping_mul(37) ^ 0x0D).collect();
    let extras = EncodeExtras { ogrn: 1_027_739_008_440, okato: 45_000, signature };
    barcode::encode(kind, &policy, &extras)
}
