//! Tickets -> ESC/POS bytes (pure).
//!
//! Formatting commands come from the `escpos` crate (init, emphasis, size, alignment, QR, cut);
//! what it lacks is added here: the code-page number from configuration (the crate hard-wires
//! CP866 to 17), text encoded through our own tables, CODE128 (`GS k 73`), and text drawn as a
//! raster image when no Cyrillic page fits the printer.

use std::cell::RefCell;
use std::rc::Rc;

use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption};

use super::bitmap::{self, Bitmap};
use super::codepage::CodePage;

/// Paper roll width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    /// 80 mm: 576 dots, 48 columns of font A.
    Mm80,
    /// 58 mm: 384 dots, 32 columns.
    Mm58,
}

impl Paper {
    pub fn dots(self) -> usize {
        match self {
            Paper::Mm80 => 576,
            Paper::Mm58 => 384,
        }
    }
    pub fn columns(self) -> usize {
        self.dots() / bitmap::CELL_W
    }
    pub fn from_mm(mm: u32) -> Option<Paper> {
        match mm {
            80 => Some(Paper::Mm80),
            58 => Some(Paper::Mm58),
            _ => None,
        }
    }
}

/// How text reaches paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMode {
    /// A code page and the number this printer model uses for it in `ESC t n`.
    CodePage { page: CodePage, number: u8 },
    /// No page fits: every line is drawn and sent as a raster image.
    Raster,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutConfig {
    pub paper: Paper,
    pub text: TextMode,
}

/// A duty-doctor queue ticket. Holds no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkInTicket {
    pub clinic: String,
    pub number: String,
    /// `21.11.2026 08:30`.
    pub issued: String,
    pub ahead: u32,
    /// Central's estimate of the wait, in minutes.
    pub estimate_minutes: Option<u32>,
    /// The range it may fall in (`low`, `high` minutes), when central gave one.
    pub estimate_range: Option<(u32, u32)>,
    /// The duty cabinet the ticket waits for, when known.
    pub room: Option<String>,
    pub ticket_id: String,
    pub offline: bool,
}

/// An appointment ticket: with a doctor, or for a test or procedure in a room. The patient
/// appears as surname and initials only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentTicket {
    pub clinic: String,
    pub address: String,
    /// `ЗАПИСЬ К ВРАЧУ`, `ЗАПИСЬ НА АНАЛИЗ`...: fits one double-width line (24 on 80 mm).
    pub heading: String,
    /// The speciality, or the test ("Общий анализ крови").
    pub speciality: String,
    /// `Иванова М. П.`, or the room ("Процедурный кабинет").
    pub doctor: String,
    pub cabinet: String,
    /// `пн, 23.11.2026, 09:40` (the kiosk writes the weekday first, as on screen).
    pub when: String,
    pub number: String,
    /// `Петрова А. В.`
    pub patient: String,
    pub appointment_id: u64,
    /// How to cancel: "в инфомате или по телефону ...".
    pub cancel_hint: String,
    /// For a test or procedure: how to prepare, what to bring; empty for none.
    pub preparation: String,
}

/// The technician's test page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestPage {
    pub model: String,
    /// `ESC t` numbers to try, each printed with the Cyrillic alphabet.
    pub candidates: Vec<(CodePage, u8)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketDoc {
    WalkIn(WalkInTicket),
    Appointment(AppointmentTicket),
    TestPage(TestPage),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error("ticket layout: {0}")]
    Escpos(String),
}

impl From<escpos::errors::PrinterError> for LayoutError {
    fn from(e: escpos::errors::PrinterError) -> Self {
        LayoutError::Escpos(e.to_string())
    }
}

/// `Иванова Мария Петровна` -> `Иванова М. П.`
pub fn surname_with_initials(full: &str) -> String {
    let mut words = full.split_whitespace();
    let mut out = words.next().unwrap_or("").to_owned();
    for w in words {
        if let Some(c) = w.chars().next() {
            out.push(' ');
            out.push(c);
            out.push('.');
        }
    }
    out
}

/// Collects what the escpos crate writes.
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Vec<u8>>>);

impl Driver for Sink {
    fn name(&self) -> String {
        "memory".into()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

/// A ticket under construction.
struct Doc {
    p: Printer<Sink>,
    sink: Sink,
    cfg: LayoutConfig,
    align: JustifyMode,
}

/// Raster bands: 24 rows keeps every chunk under 2 KiB on 80 mm paper.
const RASTER_BAND_ROWS: usize = 24;

impl Doc {
    fn new(cfg: LayoutConfig) -> Result<Doc, LayoutError> {
        let sink = Sink::default();
        let mut p = Printer::new(sink.clone(), Protocol::default(), None);
        p.init()?;
        if let TextMode::CodePage { number, .. } = cfg.text {
            p.custom(&[0x1B, b't', number])?;
        }
        Ok(Doc { p, sink, cfg, align: JustifyMode::LEFT })
    }

    fn align(&mut self, mode: JustifyMode) -> Result<(), LayoutError> {
        self.p.justify(mode)?;
        self.align = mode;
        Ok(())
    }

    /// Lines of `text` wrapped to the paper at character width `w`, each followed by LF.
    fn text(&mut self, text: &str, w: u8, h: u8, bold: bool) -> Result<(), LayoutError> {
        let cols = (self.cfg.paper.columns() / usize::from(w)).max(1);
        let lines = wrap(text, cols);
        match self.cfg.text {
            TextMode::CodePage { page, .. } => {
                if bold {
                    self.p.bold(true)?;
                }
                if (w, h) != (1, 1) {
                    self.p.size(w, h)?;
                }
                for line in lines {
                    let mut bytes = page.encode(&line);
                    bytes.push(b'\n');
                    self.p.custom(&bytes)?;
                }
                if (w, h) != (1, 1) {
                    self.p.reset_size()?;
                }
                if bold {
                    self.p.bold(false)?;
                }
            }
            TextMode::Raster => {
                for line in lines {
                    let glyphs = bitmap::render_text(&line, usize::from(w), usize::from(h), bold);
                    let mut row = Bitmap::new(self.cfg.paper.dots(), glyphs.height);
                    let x = match self.align {
                        JustifyMode::CENTER => (row.width.saturating_sub(glyphs.width)) / 2,
                        JustifyMode::RIGHT => row.width.saturating_sub(glyphs.width),
                        JustifyMode::LEFT => 0,
                    };
                    row.blit(&glyphs, x, 0);
                    self.p.custom(&row.to_gs_v0(RASTER_BAND_ROWS))?;
                }
            }
        }
        Ok(())
    }

    fn qr(&mut self, data: &str) -> Result<(), LayoutError> {
        let size = if self.cfg.paper == Paper::Mm80 { 8 } else { 6 };
        self.p.qrcode_option(data, QRCodeOption::new(QRCodeModel::Model2, size, QRCodeCorrectionLevel::M))?;
        Ok(())
    }

    /// CODE128 in code set B, human-readable digits below (`GS k 73`; the crate lacks it).
    fn code128(&mut self, data: &str) -> Result<(), LayoutError> {
        let mut body = b"{B".to_vec();
        body.extend(data.bytes().filter(|b| (0x20..0x7F).contains(b) && *b != b'{'));
        let mut cmd = vec![0x1D, b'h', 80, 0x1D, b'w', 2, 0x1D, b'H', 2, 0x1D, b'k', 73, body.len() as u8];
        cmd.extend(body);
        self.p.custom(&cmd)?;
        Ok(())
    }

    fn finish(mut self) -> Result<Vec<u8>, LayoutError> {
        self.p.feeds(3)?;
        self.p.partial_cut()?;
        self.p.print()?;
        drop(self.p);
        Ok(std::mem::take(&mut *self.sink.0.borrow_mut()))
    }
}

/// Word-wraps to `cols` characters; words longer than a line are cut.
pub fn wrap(text: &str, cols: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while word.len() > cols {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            lines.push(word.drain(..cols).collect());
        }
        let word: String = word.into_iter().collect();
        let need = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if need > cols && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Lays a ticket out as the bytes to send.
pub fn encode(doc: &TicketDoc, cfg: LayoutConfig) -> Result<Vec<u8>, LayoutError> {
    let mut d = Doc::new(cfg)?;
    let big = if cfg.paper == Paper::Mm80 { 4 } else { 3 };
    match doc {
        TicketDoc::WalkIn(t) => {
            d.align(JustifyMode::CENTER)?;
            d.text(&t.clinic, 1, 1, true)?;
            d.text("Дежурный врач", 2, 2, true)?;
            d.text("ТАЛОН", 1, 1, false)?;
            d.text(&t.number, big, big, true)?;
            d.text(&format!("Выдан {}", t.issued), 1, 1, false)?;
            // Offline, the kiosk cannot know who is ahead: better nothing than a wrong number.
            if !t.offline {
                // The range on its own line when it says more than the figure (as on screen).
                match t.estimate_minutes.and_then(|m| domain::wait_ru(m, t.estimate_range)) {
                    Some(wait) if wait.contains('(') => {
                        d.text(&domain::ahead_ru(t.ahead, None), 1, 1, false)?;
                        d.text(&wait, 1, 1, false)?;
                    }
                    _ => d.text(&domain::ahead_ru(t.ahead, t.estimate_minutes), 1, 1, false)?,
                }
            }
            if let Some(room) = &t.room {
                d.text(&format!("Кабинет {room}"), 2, 2, true)?;
            }
            d.text("Следите за табло в зоне ожидания", 1, 1, false)?;
            if t.offline {
                d.text(
                    "Талон выдан без связи с регистратурой: он появится на табло, когда связь восстановится",
                    1,
                    1,
                    false,
                )?;
            }
            d.qr(&format!("INFOMAT:T:{}", t.ticket_id))?;
        }
        TicketDoc::Appointment(a) => {
            d.align(JustifyMode::CENTER)?;
            d.text(&a.clinic, 1, 1, true)?;
            d.text(&a.address, 1, 1, false)?;
            d.text(&a.heading, 2, 1, true)?;
            d.align(JustifyMode::LEFT)?;
            d.text(&format!("{}: {}", a.speciality, a.doctor), 1, 1, false)?;
            d.text(&format!("Кабинет {}", a.cabinet), 2, 2, true)?;
            d.text(&a.when, 2, 2, true)?;
            // Read at home the evening before: it must stand out from the fine print.
            if !a.preparation.is_empty() {
                d.text(&format!("Подготовка: {}", a.preparation), 1, 1, true)?;
            }
            d.text(&format!("Запись № {}", a.number), 1, 1, false)?;
            d.text(&format!("Пациент: {}", a.patient), 1, 1, false)?;
            d.text(&format!("Отменить или перенести: {}", a.cancel_hint), 1, 1, false)?;
            d.align(JustifyMode::CENTER)?;
            d.qr(&format!("INFOMAT:A:{}", a.appointment_id))?;
        }
        TicketDoc::TestPage(t) => {
            d.align(JustifyMode::CENTER)?;
            d.text("ТЕСТ ПРИНТЕРА / PRINTER TEST", 1, 2, true)?;
            d.text(&format!("Модель: {}", t.model), 1, 1, false)?;
            d.align(JustifyMode::LEFT)?;
            for (page, number) in &t.candidates {
                // Each candidate prints in its own page, whatever the configured one.
                d.p.custom(&[0x1B, b't', *number])?;
                let line = format!(
                    "ESC t {number} {}: АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ абвгдеёжзийклмнопрстуфхцчшщъыьэюя №",
                    page.name()
                );
                let mut bytes = page.encode(&line);
                bytes.push(b'\n');
                d.p.custom(&bytes)?;
            }
            if let TextMode::CodePage { number, .. } = cfg.text {
                d.p.custom(&[0x1B, b't', number])?;
            }
            d.text("Размеры / sizes:", 1, 1, false)?;
            d.text("1x1 Аа", 1, 1, false)?;
            d.text("2x2 Аа", 2, 2, false)?;
            d.text("Жирный / bold", 1, 1, true)?;
            d.align(JustifyMode::CENTER)?;
            d.qr("INFOMAT:TEST")?;
            d.code128("INFOMAT-TEST-128")?;
        }
    }
    d.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> LayoutConfig {
        LayoutConfig { paper: Paper::Mm80, text: TextMode::CodePage { page: CodePage::Pc866, number: 17 } }
    }

    fn walk_in() -> TicketDoc {
        TicketDoc::WalkIn(WalkInTicket {
            clinic: "ГП № 1".into(),
            number: "Д-017".into(),
            issued: "23.11.2026 08:30".into(),
            ahead: 3,
            estimate_minutes: Some(15),
            estimate_range: None,
            room: None,
            ticket_id: "T17".into(),
            offline: false,
        })
    }

    #[test]
    fn walk_in_ticket_is_byte_exact() {
        let bytes = encode(&walk_in(), cfg()).unwrap();
        let mut want: Vec<u8> = vec![0x1B, b'@', 0x1B, b't', 17, 0x1B, b'a', 1];
        let cp = |s: &str| CodePage::Pc866.encode(s);
        want.extend([0x1B, b'E', 1]);
        want.extend(cp("ГП № 1"));
        want.push(b'\n');
        want.extend([0x1B, b'E', 0]);
        want.extend([0x1B, b'E', 1, 0x1D, b'!', 0x11]);
        want.extend(cp("Дежурный врач"));
        want.push(b'\n');
        want.extend([0x1D, b'!', 0x00, 0x1B, b'E', 0]);
        want.extend(cp("ТАЛОН"));
        want.push(b'\n');
        want.extend([0x1B, b'E', 1, 0x1D, b'!', 0x33]);
        want.extend(cp("Д-017"));
        want.push(b'\n');
        want.extend([0x1D, b'!', 0x00, 0x1B, b'E', 0]);
        for l in [
            "Выдан 23.11.2026 08:30",
            "Перед вами 3 человека, около 15 мин",
            "Следите за табло в зоне ожидания",
        ] {
            want.extend(cp(l));
            want.push(b'\n');
        }
        // QR: model 2, module 8, level M, store "INFOMAT:T:T17", print.
        want.extend([0x1D, b'(', b'k', 4, 0, 49, 65, 50, 0]);
        want.extend([0x1D, b'(', b'k', 3, 0, 49, 67, 8]);
        want.extend([0x1D, b'(', b'k', 3, 0, 49, 69, 49]);
        let data = b"INFOMAT:T:T17";
        want.extend([0x1D, b'(', b'k', (data.len() + 3) as u8, 0, 49, 80, 48]);
        want.extend(data);
        want.extend([0x1D, b'(', b'k', 3, 0, 49, 81, 48]);
        want.extend([0x1B, b'd', 3, 0x1D, b'V', b'A', 1]);
        assert_eq!(bytes, want);
    }

    #[test]
    fn code_page_number_comes_from_config() {
        let c = LayoutConfig {
            paper: Paper::Mm58,
            text: TextMode::CodePage { page: CodePage::Pc866, number: 7 },
        };
        let bytes = encode(&walk_in(), c).unwrap();
        assert_eq!(&bytes[..5], &[0x1B, b'@', 0x1B, b't', 7]);
        let c = LayoutConfig {
            paper: Paper::Mm80,
            text: TextMode::CodePage { page: CodePage::Wpc1251, number: 46 },
        };
        let bytes = encode(&walk_in(), c).unwrap();
        assert!(bytes.windows(5).any(|w| w == CodePage::Wpc1251.encode("ТАЛОН")));
    }

    #[test]
    fn raster_mode_sends_no_text_bytes() {
        let c = LayoutConfig { paper: Paper::Mm80, text: TextMode::Raster };
        let bytes = encode(&walk_in(), c).unwrap();
        assert!(!bytes.windows(3).any(|w| w == [0x1B, b't', 17]));
        assert!(bytes.windows(4).any(|w| w == [0x1D, 0x76, 0x30, 0x00]));
        assert!(!bytes.windows(5).any(|w| w == CodePage::Pc866.encode("ТАЛОН")));
    }

    #[test]
    fn wrapping_and_initials() {
        assert_eq!(wrap("один два три", 8), ["один два", "три"]);
        assert_eq!(wrap("абвгдежзик", 4), ["абвг", "дежз", "ик"]);
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(surname_with_initials("Иванова Мария Петровна"), "Иванова М. П.");
    }
}
