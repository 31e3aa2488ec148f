//! Real-time status: `DLE EOT n` and the one byte each answer carries (pure).
//!
//! Bits 1 and 4 of every answer are 1 and bits 0 and 7 are 0; a byte that breaks this is not a
//! status byte (a late answer to something else, line noise) and is treated as no answer.

/// `DLE EOT n` for n = 1 (printer), 2 (offline cause), 3 (error cause), 4 (roll paper).
pub fn query(n: u8) -> [u8; 3] {
    [0x10, 0x04, n]
}

/// Whether `b` has the fixed bits of a real-time status answer.
pub fn is_status_byte(b: u8) -> bool {
    b & 0b1001_0011 == 0b0001_0010
}

/// The four answers, as far as the printer gave them (`None`: no or invalid answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RawStatus {
    pub printer: Option<u8>,
    pub offline: Option<u8>,
    pub error: Option<u8>,
    pub paper: Option<u8>,
}

/// What the kiosk needs to know, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrinterStatus {
    /// The printer did not answer (some never do): not the same as ready.
    Unknown,
    Ready,
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    Offline,
    /// Cutter jam, head overheating, an unrecoverable fault.
    Error,
}

impl PrinterStatus {
    /// Can a ticket be printed now?
    pub fn can_print(self) -> bool {
        matches!(self, PrinterStatus::Ready | PrinterStatus::PaperNearEnd | PrinterStatus::Unknown)
    }

    /// What a technician should do about it.
    pub fn hint(self) -> &'static str {
        match self {
            PrinterStatus::Unknown => {
                "the printer does not answer status queries: check the cable and the model"
            }
            PrinterStatus::Ready => "ready",
            PrinterStatus::PaperNearEnd => "paper near end: have a new 80 mm roll ready",
            PrinterStatus::PaperOut => "paper out: load a roll of 80 mm thermal paper",
            PrinterStatus::CoverOpen => "cover open: close the printer cover",
            PrinterStatus::Offline => "offline: check the printer's power button and error LED",
            PrinterStatus::Error => "printer error: clear a cutter jam, let the head cool, power-cycle",
        }
    }
}

/// Interprets the answers (python-escpos uses the same masks).
pub fn interpret(raw: RawStatus) -> PrinterStatus {
    let valid = |b: Option<u8>| b.filter(|&b| is_status_byte(b));
    let (p, o, e, r) = (valid(raw.printer), valid(raw.offline), valid(raw.error), valid(raw.paper));
    if p.is_none() && o.is_none() && e.is_none() && r.is_none() {
        return PrinterStatus::Unknown;
    }
    if let Some(e) = e
        && e & 0b0110_1000 != 0
    {
        return PrinterStatus::Error;
    }
    if let Some(o) = o {
        if o & 0b0000_0100 != 0 {
            return PrinterStatus::CoverOpen;
        }
        if o & 0b0010_0000 != 0 {
            return PrinterStatus::PaperOut;
        }
        if o & 0b0100_0000 != 0 {
            return PrinterStatus::Error;
        }
    }
    if let Some(r) = r {
        if r & 0b0110_0000 != 0 {
            return PrinterStatus::PaperOut;
        }
        if r & 0b0000_1100 != 0 {
            return PrinterStatus::PaperNearEnd;
        }
    }
    if p.is_some_and(|p| p & 0b0000_1000 != 0) {
        return PrinterStatus::Offline;
    }
    PrinterStatus::Ready
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(printer: u8, offline: u8, error: u8, paper: u8) -> PrinterStatus {
        interpret(RawStatus {
            printer: Some(printer),
            offline: Some(offline),
            error: Some(error),
            paper: Some(paper),
        })
    }

    const OK: u8 = 0x12;

    #[test]
    fn every_bit_that_matters() {
        assert_eq!(with(OK, OK, OK, OK), PrinterStatus::Ready);
        // n=1: bit 3 offline; bits 5 (waiting for recovery) and 6 (feed button) alone are not faults.
        assert_eq!(with(OK | 0x08, OK, OK, OK), PrinterStatus::Offline);
        assert_eq!(with(OK | 0x20, OK, OK, OK), PrinterStatus::Ready);
        assert_eq!(with(OK | 0x40, OK, OK, OK), PrinterStatus::Ready);
        // n=2: bit 2 cover, bit 3 paper fed by button (harmless), bit 5 paper end, bit 6 error.
        assert_eq!(with(OK, OK | 0x04, OK, OK), PrinterStatus::CoverOpen);
        assert_eq!(with(OK, OK | 0x08, OK, OK), PrinterStatus::Ready);
        assert_eq!(with(OK, OK | 0x20, OK, OK), PrinterStatus::PaperOut);
        assert_eq!(with(OK, OK | 0x40, OK, OK), PrinterStatus::Error);
        // n=3: bit 3 cutter, bit 5 unrecoverable, bit 6 auto-recoverable.
        for bit in [0x08, 0x20, 0x40] {
            assert_eq!(with(OK, OK, OK | bit, OK), PrinterStatus::Error, "{bit:#x}");
        }
        // n=4: the typical bytes.
        assert_eq!(with(OK, OK, OK, 0x12), PrinterStatus::Ready);
        assert_eq!(with(OK, OK, OK, 0x1E), PrinterStatus::PaperNearEnd);
        assert_eq!(with(OK, OK, OK, 0x72), PrinterStatus::PaperOut);
    }

    #[test]
    fn silence_and_noise_are_unknown_not_ready() {
        assert_eq!(interpret(RawStatus::default()), PrinterStatus::Unknown);
        let noise =
            RawStatus { printer: Some(0xFF), offline: Some(0x00), error: Some(0x01), paper: Some(0x80) };
        assert_eq!(interpret(noise), PrinterStatus::Unknown);
        assert!(
            !is_status_byte(0x00) && !is_status_byte(0x13) && !is_status_byte(0x92) && is_status_byte(0x12)
        );
        assert!(PrinterStatus::Unknown.can_print() && !PrinterStatus::PaperOut.can_print());
    }
}
