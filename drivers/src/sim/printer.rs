//! The virtual printer: a byte-level ESC/POS peer.
//!
//! It parses the stream as a printer would (commands may arrive split across reads; unknown
//! commands are skipped by their length, never fatal), keeps a model of what is printed (text
//! through the selected code page, sizes, emphasis, alignment, QR, CODE128, raster images),
//! renders each cut receipt to a one-bit image at 203 dpi, and answers `DLE EOT` from a state
//! that can be changed while it runs (paper out, near end, cover open, offline, silent).

use std::sync::{Arc, Mutex};

use std::collections::HashMap;

use crate::printer::bitmap::{self, Bitmap};
use crate::printer::codepage::{CodePage, Family};
use crate::printer::symbology;

/// Paper in the simulated mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaperLevel {
    #[default]
    Ok,
    NearEnd,
    Out,
}

/// What the printer reports and how it behaves; shared so tests and the CLI can change it live.
#[derive(Debug, Clone, Default)]
pub struct SimState {
    pub paper: PaperLevel,
    pub cover_open: bool,
    pub offline: bool,
    /// Answer no status queries at all (many cheap printers).
    pub silent: bool,
    /// Paper runs out after this many more printed lines (a roll ending mid-job).
    pub lines_left: Option<u32>,
    /// The cable is pulled after this many more bytes arrive: the connection drops mid-job.
    pub unplug_after_bytes: Option<usize>,
    /// Pulled: every connection is dropped at once until `replug`.
    pub unplugged: bool,
}

impl SimState {
    fn can_print(&self) -> bool {
        self.paper != PaperLevel::Out && !self.cover_open && !self.offline
    }

    /// The answer to `DLE EOT n`.
    pub fn status_byte(&self, n: u8) -> Option<u8> {
        if self.silent {
            return None;
        }
        let base = 0x12;
        Some(match n {
            1 => base | if self.offline || !self.can_print() { 0x08 } else { 0 },
            2 => {
                base | if self.cover_open { 0x04 } else { 0 }
                    | if self.paper == PaperLevel::Out { 0x20 } else { 0 }
            }
            3 => base,
            4 => match self.paper {
                PaperLevel::Ok => 0x12,
                PaperLevel::NearEnd => 0x1E,
                PaperLevel::Out => 0x72,
            },
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Center,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Style {
    page: CodePage,
    bold: bool,
    /// Underline thickness in dots (0: none).
    underline: usize,
    /// White on black (`GS B`).
    invert: bool,
    /// Font B (9 x 17 dots) instead of font A (12 x 24).
    font_b: bool,
    w: usize,
    h: usize,
    /// Extra dots right of each character (`ESC SP`), before magnification.
    spacing: usize,
    align: Align,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            page: CodePage::Pc437,
            bold: false,
            underline: 0,
            invert: false,
            font_b: false,
            w: 1,
            h: 1,
            spacing: 0,
            align: Align::Left,
        }
    }
}

impl Style {
    fn cell(&self) -> (usize, usize) {
        if self.font_b { (FONT_B_W, FONT_B_H) } else { (bitmap::CELL_W, bitmap::CELL_H) }
    }

    /// How far one character moves the print position.
    fn advance(&self) -> usize {
        (self.cell().0 + self.spacing) * self.w
    }

    fn height(&self) -> usize {
        self.cell().1 * self.h
    }
}

/// Font B cell: 9 x 17 dots (64 columns on 80 mm paper).
const FONT_B_W: usize = 9;
const FONT_B_H: usize = 17;

/// Something waiting in the line buffer at a horizontal position.
#[derive(Debug, Clone)]
enum Mark {
    Char(char),
    /// `ESC *` bit image: printed as part of the line.
    Image(Bitmap),
}

#[derive(Debug, Clone)]
struct Placed {
    /// Dots from the left edge of the print area.
    x: usize,
    width: usize,
    mark: Mark,
    style: Style,
}

/// A run of text as printed: where its ink starts on the receipt (dots at 203 dpi).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub x: usize,
    pub y: usize,
    /// Dots per character (magnification and `ESC SP` included).
    pub advance: usize,
    pub height: usize,
    pub text: String,
    pub bold: bool,
}

/// One cut piece of paper.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub image: Bitmap,
    /// The recognised text, one printed line per entry. Text placed with `ESC $`, `ESC \`, tabs
    /// or a left margin stands at its column (font A, 12 dots); alignment is not applied.
    /// Codes appear as `[QR data]`, `[CODE128 data]`, `[EAN13 digits]`..., images as
    /// `[image WxH]`.
    pub lines: Vec<String>,
    /// Every run of text with its position on the paper, alignment applied.
    pub spans: Vec<Span>,
    /// False when the paper ran out (or the cover opened) before the cut.
    pub complete: bool,
}

impl Receipt {
    /// Where `needle` was printed: the dot column of its first character and the span's top.
    pub fn find(&self, needle: &str) -> Option<(usize, usize)> {
        self.spans.iter().find_map(|s| {
            let at = s.text.find(needle)?;
            Some((s.x + s.text[..at].chars().count() * s.advance, s.y))
        })
    }
}

/// Something the printer skipped or could not draw, for `escpos-sim render --trace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// Offset of the command's first byte in the stream.
    pub offset: usize,
    /// The command's first bytes (at most 8).
    pub bytes: Vec<u8>,
    pub note: &'static str,
}

impl std::fmt::Display for Trace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "@{}:", self.offset)?;
        for b in &self.bytes {
            write!(f, " {b:02X}")?;
        }
        write!(f, "  {}", self.note)
    }
}

#[derive(Debug)]
pub struct VirtualPrinter {
    family: Family,
    width: usize,
    pub state: Arc<Mutex<SimState>>,
    pending: Vec<u8>,
    /// Stream offset of `pending[0]`.
    offset: usize,
    style: Style,
    line: Vec<Placed>,
    /// Print position in the line, dots from the left edge of the print area.
    cursor: usize,
    /// `GS L` and `GS W`: the print area.
    left_margin: usize,
    area_width: usize,
    /// `ESC 3 n`; `None` is the default pitch (glyph height plus [`LINE_GAP`]).
    line_spacing: Option<usize>,
    /// `ESC D`: tab stops in character columns; empty = every 8 columns.
    tabs: Vec<usize>,
    page_mode: bool,
    paper: Bitmap,
    y: usize,
    lines: Vec<String>,
    spans: Vec<Span>,
    complete: bool,
    qr_size: usize,
    qr_ec: qrcode::EcLevel,
    qr_data: Vec<u8>,
    bar_height: usize,
    bar_module: usize,
    bar_hri: u8,
    hri_font_b: bool,
    /// `GS ( L` / `GS 8 L` function 112/113: the graphics waiting for function 50.
    graphics: Option<Bitmap>,
    glyphs: HashMap<(char, usize, usize, bool), Bitmap>,
    tracing: bool,
    trace: Vec<Trace>,
    receipts: Vec<Receipt>,
}

enum Step {
    /// The command is not complete yet.
    Need,
    /// Consumed this many bytes.
    Done(usize),
}

/// Line pitch beyond the glyph cell (Epson's default 1/6 inch for font A is ~30 dots).
const LINE_GAP: usize = 6;
/// Graphics, bit images and rasters taller than this are not drawn (no ticket is a metre
/// long; a corrupt header must not allocate gigabytes).
const MAX_IMAGE_ROWS: usize = 8192;

/// A command of `len` bytes with no effect here: wait for all of it, then skip it.
fn fixed(b: &[u8], len: usize) -> Step {
    if b.len() < len { Step::Need } else { Step::Done(len) }
}

fn le16(lo: u8, hi: u8) -> usize {
    usize::from(lo) | usize::from(hi) << 8
}

impl VirtualPrinter {
    pub fn new(family: Family, width_dots: usize, state: Arc<Mutex<SimState>>) -> VirtualPrinter {
        VirtualPrinter {
            family,
            width: width_dots,
            state,
            pending: Vec::new(),
            offset: 0,
            style: Style::default(),
            line: Vec::new(),
            cursor: 0,
            left_margin: 0,
            area_width: width_dots,
            line_spacing: None,
            tabs: Vec::new(),
            page_mode: false,
            paper: Bitmap::new(width_dots, 0),
            y: 0,
            lines: Vec::new(),
            spans: Vec::new(),
            complete: true,
            qr_size: 3,
            qr_ec: qrcode::EcLevel::L,
            qr_data: Vec::new(),
            bar_height: 162,
            bar_module: 3,
            bar_hri: 0,
            hri_font_b: false,
            graphics: None,
            glyphs: HashMap::new(),
            tracing: false,
            trace: Vec::new(),
            receipts: Vec::new(),
        }
    }

    /// Records what the printer skips or cannot draw (see [`VirtualPrinter::take_trace`]).
    pub fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
    }

    /// What was skipped since the last call (only while tracing).
    pub fn take_trace(&mut self) -> Vec<Trace> {
        std::mem::take(&mut self.trace)
    }

    /// Feeds bytes from the host; returns the bytes the printer answers (status).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        // Unparsed bytes move out of `self` while commands (which mutate `self`) read them.
        let mut buf = std::mem::take(&mut self.pending);
        buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut at = 0;
        while at < buf.len() {
            match self.step(&buf[at..], &mut out) {
                Step::Need => break,
                Step::Done(n) => {
                    at += n;
                    self.offset += n;
                }
            }
        }
        buf.drain(..at);
        self.pending = buf;
        out
    }

    /// Receipts cut since the last call.
    pub fn take_receipts(&mut self) -> Vec<Receipt> {
        std::mem::take(&mut self.receipts)
    }

    /// Ends the stream: anything printed but not cut becomes a last receipt.
    /// The cable came out mid-job: what was printed so far is an uncut, incomplete ticket.
    pub fn cable_pulled(&mut self) -> Vec<Receipt> {
        self.complete = false;
        self.finish()
    }

    pub fn finish(&mut self) -> Vec<Receipt> {
        if !self.pending.is_empty() {
            let bytes = self.pending[..self.pending.len().min(8)].to_vec();
            self.note_bytes(bytes, "stream ended inside a command");
        }
        self.print_line();
        if self.y > 0 || !self.lines.is_empty() {
            self.cut();
        }
        self.take_receipts()
    }

    fn note_bytes(&mut self, bytes: Vec<u8>, note: &'static str) {
        if self.tracing {
            self.trace.push(Trace { offset: self.offset, bytes, note });
        }
    }

    /// Skips a command of `len` bytes (or waits for it), noting why in the trace.
    fn skip(&mut self, b: &[u8], len: usize, note: &'static str) -> Step {
        if b.len() < len {
            return Step::Need;
        }
        if self.tracing {
            self.note_bytes(b[..len.min(8)].to_vec(), note);
        }
        Step::Done(len)
    }

    fn can_print(&mut self) -> bool {
        let ok = self.state.lock().expect("sim state lock").can_print();
        if !ok {
            self.complete = false;
        }
        ok
    }

    /// Paper advanced by one printed line: count it against a roll that is about to end.
    fn use_paper(&mut self) {
        let mut st = self.state.lock().expect("sim state lock");
        if let Some(left) = st.lines_left.as_mut() {
            if *left == 0 {
                st.paper = PaperLevel::Out;
            } else {
                *left -= 1;
            }
        }
    }

    fn grow(&mut self, to: usize) {
        if to > self.paper.height {
            self.paper.extend_height(to - self.paper.height);
        }
    }

    /// Width of the print area: `GS W`, within the paper right of the left margin.
    fn area(&self) -> usize {
        self.area_width.min(self.width.saturating_sub(self.left_margin)).max(1)
    }

    /// Left edge on paper of something `w` dots wide, aligned in the print area.
    fn place_x(&self, w: usize, align: Align) -> usize {
        let free = self.area().saturating_sub(w);
        self.left_margin
            + match align {
                Align::Left => 0,
                Align::Center => free / 2,
                Align::Right => free,
            }
    }

    /// How far the paper moves for a line whose tallest content is `h` dots.
    fn pitch(&self, h: usize) -> usize {
        match self.line_spacing {
            None => h + LINE_GAP,
            Some(n) => n.max(h),
        }
    }

    fn glyph(&mut self, c: char, s: &Style) -> Bitmap {
        let (cw, ch) = s.cell();
        let key = (c, cw * s.w, ch * s.h, s.bold);
        self.glyphs
            .entry(key)
            .or_insert_with(|| bitmap::render_text_cell(&c.to_string(), key.1, key.2, s.bold))
            .clone()
    }

    /// Puts something in the line buffer at the print position; a full line prints first.
    fn place(&mut self, mark: Mark, width: usize) {
        if self.cursor + width > self.area() && !self.line.is_empty() {
            self.print_line();
        }
        self.line.push(Placed { x: self.cursor, width, mark, style: self.style });
        self.cursor += width;
    }

    fn print_char(&mut self, c: char) {
        let w = self.style.advance();
        self.place(Mark::Char(c), w);
    }

    /// HT: to the next tab stop (every 8 columns unless `ESC D` set others); past the last,
    /// nothing.
    fn tab(&mut self) {
        let col_w = self.style.advance().max(1);
        let col = self.cursor / col_w;
        let next = if self.tabs.is_empty() {
            Some((col / 8 + 1) * 8)
        } else {
            self.tabs.iter().copied().find(|&t| t > col)
        };
        if let Some(t) = next
            && t * col_w <= self.area()
        {
            self.cursor = t * col_w;
        }
    }

    fn print_line(&mut self) {
        self.cursor = 0;
        if self.line.is_empty() {
            return;
        }
        let mut line = std::mem::take(&mut self.line);
        if !self.can_print() {
            return;
        }
        line.sort_by_key(|p| p.x);
        let h = line
            .iter()
            .map(|p| match &p.mark {
                Mark::Char(_) => p.style.height(),
                Mark::Image(img) => img.height,
            })
            .max()
            .unwrap_or(1);
        let extent = line.iter().map(|p| p.x + p.width).max().unwrap_or(0);
        // ESC a applies to the line as a whole, as it was when the line started.
        let origin = self.place_x(extent, line[0].style.align);
        self.grow(self.y + self.pitch(h));
        let mut text = String::new();
        let mut end = 0;
        for p in &line {
            let x = origin + p.x;
            match &p.mark {
                Mark::Char(c) => {
                    let s = p.style;
                    let glyph = self.glyph(*c, &s);
                    let top = self.y + h - glyph.height;
                    if s.invert {
                        self.paper.fill_rect(x, top, p.width, glyph.height);
                        for gy in 0..glyph.height {
                            for gx in 0..glyph.width {
                                if glyph.get(gx, gy) {
                                    self.paper.set(x + gx, top + gy, false);
                                }
                            }
                        }
                    } else {
                        self.paper.blit(&glyph, x, top);
                    }
                    if s.underline > 0 {
                        self.paper.fill_rect(x, self.y + h - s.underline, p.width, s.underline);
                    }
                    let contiguous = p.x == end && !text.is_empty();
                    if !contiguous {
                        self.pad_to_column(&mut text, p.x, end);
                    }
                    text.push(*c);
                    match self.spans.last_mut() {
                        Some(last)
                            if contiguous
                                && last.y == self.y + h - s.height()
                                && last.advance == p.width
                                && last.bold == s.bold =>
                        {
                            last.text.push(*c)
                        }
                        _ => self.spans.push(Span {
                            x,
                            y: self.y + h - s.height(),
                            advance: p.width,
                            height: s.height(),
                            text: c.to_string(),
                            bold: s.bold,
                        }),
                    }
                }
                Mark::Image(img) => {
                    self.paper.blit(img, x, self.y + h - img.height);
                    self.pad_to_column(&mut text, p.x, end);
                    text.push_str(&format!("[bit image {}x{}]", img.width, img.height));
                }
            }
            end = p.x + p.width;
        }
        self.y += self.pitch(h);
        self.lines.push(text.trim_end().to_owned());
        self.use_paper();
    }

    /// Spaces up to the font A column of a positioned run (`x` dots into the print area).
    fn pad_to_column(&self, text: &mut String, x: usize, end: usize) {
        let col = (self.left_margin + x + bitmap::CELL_W / 2) / bitmap::CELL_W;
        let have = text.chars().count();
        let min = if x > end && x - end >= bitmap::CELL_W / 2 { have + 1 } else { have };
        for _ in have..col.max(min) {
            text.push(' ');
        }
    }

    fn line_feed(&mut self) {
        if self.line.is_empty() {
            let h = self.style.height();
            self.feed_dots(self.pitch(h));
        } else {
            self.print_line();
        }
    }

    fn feed_dots(&mut self, dots: usize) {
        self.print_line();
        if self.can_print() {
            self.y += dots;
            self.grow(self.y);
        }
    }

    fn image(&mut self, img: &Bitmap, label: String) {
        self.print_line();
        if !self.can_print() {
            return;
        }
        let x = self.place_x(img.width, self.style.align);
        self.grow(self.y + img.height);
        self.paper.blit(img, x, self.y);
        self.y += img.height;
        self.lines.push(label);
        self.use_paper();
    }

    fn cut(&mut self) {
        self.print_line();
        if self.y == 0 && self.lines.is_empty() {
            // A second cut at the same place makes no new piece of paper.
            return;
        }
        let mut image = std::mem::replace(&mut self.paper, Bitmap::new(self.width, 0));
        let used = self.y;
        if image.height < used {
            image.extend_height(used - image.height);
        }
        let lines = std::mem::take(&mut self.lines);
        let spans = std::mem::take(&mut self.spans);
        self.receipts.push(Receipt { image, lines, spans, complete: self.complete });
        self.y = 0;
        self.complete = true;
    }

    fn print_qr(&mut self) {
        let data = std::mem::take(&mut self.qr_data);
        let Ok(code) = qrcode::QrCode::with_error_correction_level(&data, self.qr_ec) else { return };
        let n = code.width();
        let m = self.qr_size.max(1);
        // Four modules of quiet zone on each side, as scanners expect.
        let side = (n + 8) * m;
        let mut img = Bitmap::new(side, side);
        for y in 0..n {
            for x in 0..n {
                if code[(x, y)] == qrcode::Color::Dark {
                    img.fill_rect((x + 4) * m, (y + 4) * m, m, m);
                }
            }
        }
        let label = format!("[QR {}]", String::from_utf8_lossy(&data));
        self.image(&img, label);
    }

    fn print_barcode(&mut self, m: u8, data: &[u8]) {
        let shown = String::from_utf8_lossy(data).into_owned();
        let Some(kind) = symbology::Kind::from_gs_k(m) else {
            self.note_bytes(vec![0x1D, b'k', m], "GS k: symbology not drawn (GS1 DataBar or unknown)");
            self.print_line();
            self.lines.push(format!("[barcode {m} {shown}]"));
            return;
        };
        let symbol = match symbology::encode(kind, data) {
            Ok(s) => s,
            Err(e) => {
                // A printer prints nothing for data it cannot encode.
                log::debug!("escpos-sim: {e}");
                self.note_bytes(vec![0x1D, b'k', m], "GS k: data the symbology cannot carry, not printed");
                self.print_line();
                self.lines.push(format!("[{} invalid]", kind.name()));
                return;
            }
        };
        let module = self.bar_module.max(1);
        let widths: Vec<usize> = match &symbol.bars {
            symbology::Bars::Modules(m) => {
                // Runs of equal modules.
                let mut out = Vec::new();
                let mut prev = None;
                for &b in m {
                    if prev == Some(b) {
                        *out.last_mut().expect("a run is open") += module;
                    } else {
                        out.push(module);
                        prev = Some(b);
                    }
                }
                out
            }
            symbology::Bars::NarrowWide(e) => {
                let (n, w) = symbology::narrow_wide_dots(module);
                e.iter().map(|&wide| if wide { w } else { n }).collect()
            }
        };
        let bars_w: usize = widths.iter().sum();
        let style = Style { font_b: self.hri_font_b, ..Style::default() };
        let hri: Vec<Bitmap> = symbol.hri.chars().map(|c| self.glyph(c, &style)).collect();
        let (above, below) = (self.bar_hri & 1 != 0, self.bar_hri & 2 != 0);
        let text_h = style.height() + 2;
        let top = if above { text_h } else { 0 };
        let total_h = top + self.bar_height + if below { text_h } else { 0 };
        let text_w = hri.len() * style.advance();
        let mut img = Bitmap::new(bars_w.max(text_w), total_h);
        let bars_x = (img.width - bars_w) / 2;
        let mut x = bars_x;
        for (i, w) in widths.iter().enumerate() {
            // Runs alternate bar, space, bar... starting with a bar.
            if i % 2 == 0 {
                img.fill_rect(x, top, *w, self.bar_height);
            }
            x += w;
        }
        let text_x = (img.width - text_w) / 2;
        for (y, on) in [(0, above), (top + self.bar_height + 2, below)] {
            if on {
                for (i, g) in hri.iter().enumerate() {
                    img.blit(g, text_x + i * style.advance(), y);
                }
            }
        }
        let label = format!("[{} {}]", kind.name(), symbol.hri);
        if above {
            self.print_line();
            self.lines.push(symbol.hri.clone());
        }
        self.image(&img, label);
        if below {
            self.lines.push(symbol.hri);
        }
    }

    /// Parses and applies one command at the start of `b`.
    fn step(&mut self, b: &[u8], out: &mut Vec<u8>) -> Step {
        let need = |n: usize| b.len() < n;
        match b[0] {
            0x0A => {
                self.line_feed();
                Step::Done(1)
            }
            // CR: ignored while automatic line feed is off (the default).
            0x0D => Step::Done(1),
            0x09 => {
                self.tab();
                Step::Done(1)
            }
            0x0C => {
                // FF: prints the page in page mode (drawn as it came, see ESC L).
                if self.page_mode {
                    self.print_line();
                    self.page_mode = false;
                    Step::Done(1)
                } else {
                    self.skip(b, 1, "FF outside page mode ignored")
                }
            }
            0x10 => self.dle(b, out),
            0x1B => self.esc(b),
            0x1D => self.gs(b, out),
            0x1C => self.fs(b),
            0x18 if self.page_mode => Step::Done(1),
            0x00..=0x1F | 0x7F => {
                if need(1) {
                    return Step::Need;
                }
                self.skip(b, 1, "control byte ignored")
            }
            byte => {
                let c = self.style.page.decode_byte(byte);
                self.print_char(c);
                Step::Done(1)
            }
        }
    }

    fn dle(&mut self, b: &[u8], out: &mut Vec<u8>) -> Step {
        // DLE EOT n: real-time status. DLE ENQ n, DLE DC4 ...: real-time requests.
        if b.len() < 2 {
            return Step::Need;
        }
        match b[1] {
            0x04 => {
                if b.len() < 3 {
                    return Step::Need;
                }
                if let Some(s) = self.state.lock().expect("sim state lock").status_byte(b[2]) {
                    out.push(s);
                }
                Step::Done(3)
            }
            0x05 => fixed(b, 3),
            0x14 => {
                // DLE DC4 fn ...: pulse, power-off, clear buffer, ... (length by function).
                let Some(&f) = b.get(2) else { return Step::Need };
                let len = match f {
                    7 => 4,
                    8 => 10,
                    _ => 5,
                };
                if b.len() < len { Step::Need } else { Step::Done(len) }
            }
            _ => self.skip(b, 1, "DLE not followed by a real-time command"),
        }
    }

    fn esc(&mut self, b: &[u8]) -> Step {
        if b.len() < 2 {
            return Step::Need;
        }
        let arg = |i: usize| b.get(i).copied();
        let with1 = |f: &mut Self, apply: &dyn Fn(&mut Self, u8)| match arg(2) {
            None => Step::Need,
            Some(n) => {
                apply(f, n);
                Step::Done(3)
            }
        };
        match b[1] {
            b'@' => {
                self.print_line();
                self.style = Style::default();
                self.left_margin = 0;
                self.area_width = self.width;
                self.line_spacing = None;
                self.tabs.clear();
                self.page_mode = false;
                self.graphics = None;
                self.bar_hri = 0;
                self.hri_font_b = false;
                Step::Done(2)
            }
            b't' => with1(self, &|f, n| {
                f.style.page = f.family.page(n).unwrap_or_else(|| {
                    f.note_bytes(vec![0x1B, b't', n], "ESC t: code page this model lacks, PC437 used");
                    CodePage::Pc437
                })
            }),
            b'!' => with1(self, &|f, n| {
                f.style.font_b = n & 0x01 != 0;
                f.style.bold = n & 0x08 != 0;
                f.style.h = if n & 0x10 != 0 { 2 } else { 1 };
                f.style.w = if n & 0x20 != 0 { 2 } else { 1 };
                f.style.underline = if n & 0x80 != 0 { 1 } else { 0 };
            }),
            b'E' | b'G' => with1(self, &|f, n| f.style.bold = n & 1 == 1),
            b'-' => with1(self, &|f, n| {
                f.style.underline = match n {
                    1 | b'1' => 1,
                    2 | b'2' => 2,
                    _ => 0,
                }
            }),
            b'a' => with1(self, &|f, n| {
                f.style.align = match n {
                    1 | b'1' => Align::Center,
                    2 | b'2' => Align::Right,
                    _ => Align::Left,
                }
            }),
            b'M' => with1(self, &|f, n| f.style.font_b = matches!(n, 1 | b'1')),
            b' ' => with1(self, &|f, n| f.style.spacing = usize::from(n)),
            b'3' => with1(self, &|f, n| f.line_spacing = Some(usize::from(n))),
            b'2' => {
                self.line_spacing = None;
                Step::Done(2)
            }
            b'd' => with1(self, &|f, n| {
                f.print_line();
                let h = f.style.height();
                f.feed_dots(usize::from(n) * f.pitch(h));
            }),
            b'J' => with1(self, &|f, n| f.feed_dots(usize::from(n))),
            // Reverse feed, international set, upside down, rotation, unidirectional, colour,
            // user-defined set on/off and cancel, peripheral select, panel keys.
            b'e' | b'K' | b'R' | b'{' | b'V' | b'U' | b'r' | b'%' | b'?' | b'=' | b'u' => {
                with1(self, &|_, _| {})
            }
            b'T' => {
                // Print direction in page mode: not drawn rotated.
                self.skip(b, 3, "ESC T: page mode direction ignored")
            }
            b'L' => {
                self.print_line();
                self.page_mode = true;
                self.skip(b, 2, "ESC L: page mode drawn as standard mode (area and direction ignored)")
            }
            b'S' => {
                self.page_mode = false;
                Step::Done(2)
            }
            b'W' => self.skip(b, 10, "ESC W: page mode area ignored"),
            // ESC FF: print the page and stay in page mode.
            0x0C => {
                self.print_line();
                Step::Done(2)
            }
            // Partial cuts of old models; paper-out sensors; real-time status by ESC v.
            b'i' | b'm' => {
                self.cut();
                Step::Done(2)
            }
            b'v' => Step::Done(2),
            b'c' | b'B' => fixed(b, 4),
            b'$' | b'\\' => {
                if b.len() < 4 {
                    return Step::Need;
                }
                let n = le16(b[2], b[3]);
                if b[1] == b'$' {
                    // Absolute: from the left edge of the print area; beyond it, ignored.
                    if n < self.area() {
                        self.cursor = n;
                    }
                } else {
                    // Relative: signed 16-bit; a move outside the print area is ignored.
                    let to = self.cursor as i64 + i64::from(n as u16 as i16);
                    if (0..self.area() as i64).contains(&to) {
                        self.cursor = to as usize;
                    }
                }
                Step::Done(4)
            }
            b'D' => {
                // Tab stops: up to 32 column numbers, ascending, ended by NUL.
                let Some(end) = b[2..].iter().take(33).position(|&x| x == 0) else {
                    return if b.len() > 2 + 33 {
                        self.skip(b, 2, "ESC D without its NUL")
                    } else {
                        Step::Need
                    };
                };
                self.tabs = b[2..2 + end].iter().map(|&c| usize::from(c)).collect();
                Step::Done(3 + end)
            }
            b'p' => fixed(b, 5),
            b'&' => {
                // User-defined characters: y c1 c2, then per character x and y*x column bytes.
                let (Some(y), Some(c1), Some(c2)) = (arg(2), arg(3), arg(4)) else { return Step::Need };
                let mut at = 5;
                for _ in c1..=c2.max(c1) {
                    let Some(&x) = b.get(at) else { return Step::Need };
                    at += 1 + usize::from(y) * usize::from(x);
                }
                self.skip(b, at, "ESC &: user-defined characters not drawn")
            }
            b'*' => {
                // Column bit image: m nL nH, then n (8-dot modes) or 3n (24-dot modes) bytes.
                if b.len() < 5 {
                    return Step::Need;
                }
                let m = b[2];
                let n = le16(b[3], b[4]);
                let dots24 = m >= 32;
                let len = 5 + if dots24 { 3 * n } else { n };
                if b.len() < len {
                    return Step::Need;
                }
                let img = column_image(&b[5..len], n, if dots24 { 24 } else { 8 });
                // Single density doubles each column; 8-dot modes are a third of the vertical
                // density of a 203 dpi head.
                let (sx, sy) = (if m & 1 == 0 { 2 } else { 1 }, if dots24 { 1 } else { 3 });
                let img = scale(&img, sx, sy);
                let w = img.width;
                self.place(Mark::Image(img), w);
                Step::Done(len)
            }
            b'(' => {
                // ESC ( A beeper, ESC ( Y colour: length-prefixed, no effect on paper.
                if b.len() < 5 {
                    return Step::Need;
                }
                self.skip(b, 5 + le16(b[3], b[4]), "ESC ( function ignored")
            }
            _ => self.skip(b, 2, "unknown ESC command (2 bytes skipped)"),
        }
    }

    fn gs(&mut self, b: &[u8], out: &mut Vec<u8>) -> Step {
        if b.len() < 2 {
            return Step::Need;
        }
        match b[1] {
            b'!' => {
                let Some(&n) = b.get(2) else { return Step::Need };
                self.style.w = usize::from(n >> 4 & 7) + 1;
                self.style.h = usize::from(n & 7) + 1;
                Step::Done(3)
            }
            b'V' => {
                let Some(&m) = b.get(2) else { return Step::Need };
                let len = if matches!(m, 65 | 66 | 97 | 98 | 103 | 104) { 4 } else { 3 };
                if b.len() < len {
                    return Step::Need;
                }
                if len == 4 && !matches!(m, 97 | 98) {
                    self.feed_dots(usize::from(b[3]));
                }
                self.cut();
                Step::Done(len)
            }
            b'h' | b'w' | b'H' | b'f' | b'B' | b'b' | b'a' | b'I' | b'E' | b'T' | b'j' | b'/' | b'Z' => {
                let Some(&n) = b.get(2) else { return Step::Need };
                match b[1] {
                    b'h' => self.bar_height = usize::from(n.max(1)),
                    b'w' => self.bar_module = usize::from(n.clamp(1, 6)),
                    // 0-3 or '0'-'3': the low two bits say where the digits go.
                    b'H' => self.bar_hri = n & 3,
                    b'f' => self.hri_font_b = n & 1 == 1,
                    b'B' => self.style.invert = n & 1 == 1,
                    b'T' if self.line.is_empty() => self.cursor = 0,
                    b'/' => self.note_bytes(vec![0x1D, b'/', n], "GS /: downloaded bit image not stored"),
                    _ => {}
                }
                Step::Done(3)
            }
            b'r' => {
                // Transmit status: paper sensors (1) or drawer (2); receiptline asks at the end.
                let Some(&n) = b.get(2) else { return Step::Need };
                let st = self.state.lock().expect("sim state lock");
                if !st.silent {
                    out.push(match (n, st.paper) {
                        (1 | 49, PaperLevel::NearEnd) => 0x03,
                        (1 | 49, PaperLevel::Out) => 0x0F,
                        _ => 0x00,
                    });
                }
                Step::Done(3)
            }
            b'L' | b'W' | b'P' | b'$' | b'\\' => {
                if b.len() < 4 {
                    return Step::Need;
                }
                let n = le16(b[2], b[3]);
                match b[1] {
                    // Margin and width take effect at the start of a line.
                    b'L' if self.line.is_empty() => self.left_margin = n.min(self.width - 1),
                    b'W' if self.line.is_empty() => self.area_width = n.max(1),
                    b'$' | b'\\' => self.note_bytes(b[..4].to_vec(), "page mode vertical position ignored"),
                    _ => {}
                }
                Step::Done(4)
            }
            b'^' | b'z' | b'g' => fixed(b, 5),
            b':' | b'c' => Step::Done(2),
            b'*' => {
                // Define downloaded bit image: x y, then x * y * 8 bytes.
                let (Some(&x), Some(&y)) = (b.get(2), b.get(3)) else { return Step::Need };
                self.skip(b, 4 + usize::from(x) * usize::from(y) * 8, "GS *: downloaded bit image not stored")
            }
            b'k' => {
                let Some(&m) = b.get(2) else { return Step::Need };
                if m <= 6 {
                    // Function A: NUL-terminated data.
                    let Some(end) = b[3..].iter().position(|&x| x == 0) else {
                        return if b.len() > 3 + 255 {
                            self.skip(b, 3, "GS k: data without its NUL")
                        } else {
                            Step::Need
                        };
                    };
                    let data = b[3..3 + end].to_vec();
                    self.print_barcode(m, &data);
                    Step::Done(4 + end)
                } else {
                    let Some(&n) = b.get(3) else { return Step::Need };
                    let len = 4 + usize::from(n);
                    if b.len() < len {
                        return Step::Need;
                    }
                    let data = b[4..len].to_vec();
                    self.print_barcode(m, &data);
                    Step::Done(len)
                }
            }
            b'v' => {
                // GS v 0 m xL xH yL yH d1...dk: raster bit image.
                if b.len() < 8 {
                    return Step::Need;
                }
                let bw = le16(b[4], b[5]);
                let rows = le16(b[6], b[7]);
                let len = 8 + bw * rows;
                if b.len() < len {
                    return Step::Need;
                }
                if b[2] != b'0' && b[2] != 0 {
                    return self.skip(b, len, "GS v: not GS v 0, skipped by its length");
                }
                let img = Bitmap::from_raster(bw, rows, &b[8..len]);
                // Modes 1-3 double width and/or height.
                let img = scale(&img, 1 + usize::from(b[3] & 1), 1 + usize::from(b[3] >> 1 & 1));
                let label = format!("[image {}x{}]", img.width, img.height);
                self.image(&img, label);
                Step::Done(len)
            }
            b'(' => {
                // GS ( fn pL pH ...: every function of the family is counted by pL pH.
                if b.len() < 5 {
                    return Step::Need;
                }
                let len = 5 + le16(b[3], b[4]);
                if b.len() < len {
                    return Step::Need;
                }
                match b[2] {
                    b'k' => self.code_2d(&b[5..len]),
                    b'L' => self.graphics_fn(&b[5..len]),
                    // Test print, NV memory, real-time enable, user set-up, responses, print
                    // control, customising, character effects, page mode, graphic lines: no
                    // effect on a ticket.
                    b'A' | b'C' | b'D' | b'E' | b'H' | b'K' | b'M' | b'N' | b'P' | b'Q' | b'z' => {}
                    _ => return self.skip(b, len, "unknown GS ( function, skipped by its length"),
                }
                Step::Done(len)
            }
            b'8' => {
                // GS 8 L p1 p2 p3 p4 m fn ...: graphics with a 4-byte length.
                if b.len() < 7 {
                    return Step::Need;
                }
                let p = usize::from(b[3])
                    | usize::from(b[4]) << 8
                    | usize::from(b[5]) << 16
                    | usize::from(b[6]) << 24;
                let len = 7usize.saturating_add(p);
                if b.len() < len {
                    return Step::Need;
                }
                if b[2] == b'L' {
                    self.graphics_fn(&b[7..len]);
                    Step::Done(len)
                } else {
                    self.skip(b, len, "GS 8: unknown function, skipped by its length")
                }
            }
            _ => self.skip(b, 2, "unknown GS command (2 bytes skipped)"),
        }
    }

    /// `GS ( k`: 2-D codes. QR (cn 49) is drawn; other symbologies are noted.
    fn code_2d(&mut self, p: &[u8]) {
        let (Some(&cn), Some(&f)) = (p.first(), p.get(1)) else { return };
        if cn != 49 {
            if f == 81 {
                self.note_bytes(vec![0x1D, b'(', b'k', cn, f], "GS ( k: 2-D code other than QR not drawn");
            }
            return;
        }
        let args = &p[2..];
        match f {
            67 => self.qr_size = usize::from(args.first().copied().unwrap_or(3).clamp(1, 16)),
            69 => {
                self.qr_ec = match args.first().copied().unwrap_or(48) {
                    49 => qrcode::EcLevel::M,
                    50 => qrcode::EcLevel::Q,
                    51 => qrcode::EcLevel::H,
                    _ => qrcode::EcLevel::L,
                }
            }
            80 => self.qr_data = args.get(1..).unwrap_or(&[]).to_vec(),
            81 => self.print_qr(),
            _ => {}
        }
    }

    /// `GS ( L` / `GS 8 L` graphics, from `m fn` on: store raster (112) or column (113) data
    /// in the print buffer, print it (50). NV and download graphics are not kept.
    fn graphics_fn(&mut self, p: &[u8]) {
        let (Some(_m), Some(&f)) = (p.first(), p.get(1)) else { return };
        match f {
            50 | 2 => {
                if let Some(img) = self.graphics.take() {
                    let label = format!("[image {}x{}]", img.width, img.height);
                    self.image(&img, label);
                }
            }
            112 | 113 => {
                // a bx by c xL xH yL yH d1...dk
                if p.len() < 10 {
                    return;
                }
                let (bx, by) = (usize::from(p[3].clamp(1, 2)), usize::from(p[4].clamp(1, 2)));
                let (w, h) = (le16(p[6], p[7]), le16(p[8], p[9]));
                let data = &p[10..];
                let img = if f == 112 {
                    let bw = w.div_ceil(8).max(1);
                    let rows = h.min(data.len() / bw).min(MAX_IMAGE_ROWS);
                    crop(&Bitmap::from_raster(bw, rows, data), w, rows)
                } else {
                    let img = column_image(data, w, h.min(MAX_IMAGE_ROWS));
                    crop(&img, w, h.min(MAX_IMAGE_ROWS))
                };
                if img.width * bx > self.width {
                    self.note_bytes(vec![0x1D, b'(', b'L', f], "graphics wider than the paper: not printed");
                    return;
                }
                self.graphics = Some(scale(&img, bx, by));
            }
            // Capacity queries, reference density: no paper effect.
            48 | 49 | 51 | 0 | 1 | 3 => {}
            _ => self
                .note_bytes(vec![0x1D, b'(', b'L', f], "NV or download graphics: not kept, nothing printed"),
        }
    }

    fn fs(&mut self, b: &[u8]) -> Step {
        // FS: Kanji and NV bit image commands. A non-Kanji model accepts and ignores them.
        if b.len() < 2 {
            return Step::Need;
        }
        match b[1] {
            b'&' | b'.' => Step::Done(2),
            b'!' | b'-' | b'C' | b'W' => fixed(b, 3),
            b'S' | b'?' => fixed(b, 4),
            // Define a user Kanji character: c1 c2 and 72 bytes (24 x 24 dots).
            b'2' => self.skip(b, 4 + 72, "FS 2: user Kanji not drawn"),
            b'p' => self.skip(b, 4, "FS p: NV bit image not stored, nothing printed"),
            b'q' => {
                // Define NV bit images: n, then per image xL xH yL yH and x * y * 8 bytes.
                let Some(&n) = b.get(2) else { return Step::Need };
                let mut at = 3;
                for _ in 0..n {
                    if b.len() < at + 4 {
                        return Step::Need;
                    }
                    at += 4 + le16(b[at], b[at + 1]) * le16(b[at + 2], b[at + 3]) * 8;
                }
                self.skip(b, at, "FS q: NV bit images not stored")
            }
            b'(' => {
                // FS ( A (Kanji options), FS ( C, FS ( E, FS ( L, FS ( e: counted by pL pH.
                if b.len() < 5 {
                    return Step::Need;
                }
                let len = 5 + le16(b[3], b[4]);
                if b.len() < len { Step::Need } else { Step::Done(len) }
            }
            _ => self.skip(b, 2, "unknown FS command (2 bytes skipped)"),
        }
    }
}

/// Column-format image data (`ESC *`, graphics function 113): per column, `rows` dots top to
/// bottom, 8 per byte, most significant bit on top.
fn column_image(data: &[u8], columns: usize, rows: usize) -> Bitmap {
    let per_col = rows.div_ceil(8);
    let columns = columns.min(data.len() / per_col.max(1));
    let mut img = Bitmap::new(columns, rows);
    for x in 0..columns {
        for y in 0..rows {
            if data[x * per_col + y / 8] & (0x80 >> (y % 8)) != 0 {
                img.set(x, y, true);
            }
        }
    }
    img
}

/// The top-left `w` x `h` of an image (raster rows are padded to whole bytes).
fn crop(img: &Bitmap, w: usize, h: usize) -> Bitmap {
    let mut out = Bitmap::new(w, h);
    out.blit(img, 0, 0);
    out
}

fn scale(img: &Bitmap, sx: usize, sy: usize) -> Bitmap {
    if sx == 1 && sy == 1 {
        return img.clone();
    }
    let mut big = Bitmap::new(img.width * sx, img.height * sy);
    for y in 0..big.height {
        for x in 0..big.width {
            big.set(x, y, img.get(x / sx, y / sy));
        }
    }
    big
}

/// Renders a whole captured stream (technicians' `escpos-sim render`).
pub fn render_stream(bytes: &[u8], family: Family, width: usize) -> Vec<Receipt> {
    render_traced(bytes, family, width).0
}

/// Renders a stream and lists what the printer skipped or could not draw (`--trace`).
pub fn render_traced(bytes: &[u8], family: Family, width: usize) -> (Vec<Receipt>, Vec<Trace>) {
    let mut p = VirtualPrinter::new(family, width, Arc::new(Mutex::new(SimState::default())));
    p.set_tracing(true);
    p.feed(bytes);
    let receipts = p.finish();
    (receipts, p.take_trace())
}

/// Stacks receipts into one image with a gap between them (for a single PNG).
pub fn stack(receipts: &[Receipt], width: usize) -> Bitmap {
    let gap = 24;
    let total: usize = receipts.iter().map(|r| r.image.height + gap).sum();
    let mut out = Bitmap::new(width, total.max(1));
    let mut y = 0;
    for r in receipts {
        out.blit(&r.image, 0, y);
        y += r.image.height;
        // A dashed cut line.
        for x in (0..width).step_by(8) {
            out.fill_rect(x, y + gap / 2, 4, 1);
        }
        y += gap;
    }
    out
}

/// Where served receipts go: `ticket-0001.png` and `.txt` per cut, and a copy in memory of the
/// latest ones (a simulator serving a soak or a week-long demo must not grow without bound).
#[derive(Debug)]
pub struct Spool {
    dir: Option<std::path::PathBuf>,
    received: Mutex<Received>,
}

#[derive(Debug, Default)]
struct Received {
    /// The latest receipts, oldest first; only the last [`KEEP_IMAGES`] keep their image.
    kept: std::collections::VecDeque<Receipt>,
    total: usize,
    complete: usize,
}

/// Receipts kept in memory.
pub const KEEP_RECEIPTS: usize = 256;
/// Of those, how many keep their picture.
pub const KEEP_IMAGES: usize = 16;

impl Spool {
    pub fn new(dir: Option<std::path::PathBuf>) -> std::io::Result<Spool> {
        if let Some(d) = &dir {
            std::fs::create_dir_all(d)?;
        }
        Ok(Spool { dir, received: Mutex::new(Received::default()) })
    }

    fn store(&self, r: Receipt) -> std::io::Result<()> {
        let mut all = self.received.lock().expect("spool lock");
        all.total += 1;
        all.complete += usize::from(r.complete);
        let n = all.total;
        if let Some(d) = &self.dir {
            let stem =
                if r.complete { format!("ticket-{n:04}") } else { format!("ticket-{n:04}-incomplete") };
            std::fs::write(d.join(format!("{stem}.png")), r.image.to_png())?;
            std::fs::write(d.join(format!("{stem}.txt")), r.lines.join("\n") + "\n")?;
        }
        all.kept.push_back(r);
        if all.kept.len() > KEEP_RECEIPTS {
            all.kept.pop_front();
        }
        let len = all.kept.len();
        if len > KEEP_IMAGES {
            let old = &mut all.kept[len - KEEP_IMAGES - 1];
            old.image = Bitmap::new(old.image.width, 0);
        }
        Ok(())
    }

    /// The latest receipts (up to [`KEEP_RECEIPTS`]), oldest first.
    pub fn receipts(&self) -> Vec<Receipt> {
        self.latest(KEEP_RECEIPTS)
    }

    /// The last `n` receipts kept, oldest first: a caller polling for new ones copies only
    /// those (a kept receipt carries a 576-dot-wide picture).
    pub fn latest(&self, n: usize) -> Vec<Receipt> {
        let all = self.received.lock().expect("spool lock");
        all.kept.iter().skip(all.kept.len().saturating_sub(n)).cloned().collect()
    }

    /// Receipts ever stored, and how many of them were complete.
    pub fn counts(&self) -> (usize, usize) {
        let all = self.received.lock().expect("spool lock");
        (all.total, all.complete)
    }
}

/// Serves one host connection (TCP socket, pseudo-terminal) until it closes.
pub fn serve_stream<S: std::io::Read + std::io::Write>(
    mut stream: S,
    family: Family,
    width: usize,
    state: Arc<Mutex<SimState>>,
    spool: &Spool,
) -> std::io::Result<()> {
    if state.lock().expect("sim state lock").unplugged {
        return Ok(());
    }
    let mut printer = VirtualPrinter::new(family, width, state.clone());
    let mut buf = [0u8; 4096];
    loop {
        let mut n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        let pulled = {
            let mut st = state.lock().expect("sim state lock");
            match st.unplug_after_bytes {
                Some(left) if n >= left => {
                    n = left;
                    st.unplug_after_bytes = None;
                    st.unplugged = true;
                    true
                }
                Some(left) => {
                    st.unplug_after_bytes = Some(left - n);
                    false
                }
                None => false,
            }
        };
        if pulled {
            // The cable is out: what arrived is printed (the paper stays uncut), no answer.
            printer.feed(&buf[..n]);
            for r in printer.cable_pulled() {
                spool.store(r)?;
            }
            return Ok(());
        }
        let answer = printer.feed(&buf[..n]);
        if !answer.is_empty() {
            stream.write_all(&answer)?;
            stream.flush()?;
        }
        for r in printer.take_receipts() {
            spool.store(r)?;
        }
    }
    for r in printer.finish() {
        spool.store(r)?;
    }
    Ok(())
}

/// Accepts connections until the listener fails; each one is served on its own thread.
pub fn serve_tcp(
    listener: std::net::TcpListener,
    family: Family,
    width: usize,
    state: Arc<Mutex<SimState>>,
    spool: Arc<Spool>,
) {
    for conn in listener.incoming() {
        let Ok(conn) = conn else { break };
        let _ = conn.set_nodelay(true);
        let (state, spool) = (state.clone(), spool.clone());
        std::thread::spawn(move || {
            if let Err(e) = serve_stream(conn, family, width, state, &spool) {
                log::warn!("escpos-sim: connection ended: {e}");
            }
        });
    }
}

/// Applies a control command (`paper out`, `paper ok`, `paper near-end`, `cover open`,
/// `cover closed`, `offline`, `online`, `silent`, `answer`, `run-out-after N`, `unplug-after N`
/// (bytes), `replug`).
pub fn control(state: &Mutex<SimState>, command: &str) -> Result<(), String> {
    let mut st = state.lock().expect("sim state lock");
    let words: Vec<&str> = command.split_whitespace().collect();
    match words.as_slice() {
        ["paper", "out"] => st.paper = PaperLevel::Out,
        ["paper", "ok"] | ["paper", "loaded"] => {
            st.paper = PaperLevel::Ok;
            st.lines_left = None;
        }
        ["paper", "near-end"] => st.paper = PaperLevel::NearEnd,
        ["cover", "open"] => st.cover_open = true,
        ["cover", "closed"] => st.cover_open = false,
        ["offline"] => st.offline = true,
        ["online"] => st.offline = false,
        ["silent"] => st.silent = true,
        ["answer"] => st.silent = false,
        ["run-out-after", n] => st.lines_left = Some(n.parse().map_err(|_| format!("not a number: {n}"))?),
        ["unplug-after", n] => {
            st.unplug_after_bytes = Some(n.parse().map_err(|_| format!("not a number: {n}"))?);
        }
        ["replug"] => {
            st.unplugged = false;
            st.unplug_after_bytes = None;
        }
        _ => return Err(format!("unknown command {command:?}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::layout::{self, LayoutConfig, Paper, TextMode, TicketDoc, WalkInTicket};
    use proptest::strategy::Strategy;

    fn cfg() -> LayoutConfig {
        LayoutConfig { paper: Paper::Mm80, text: TextMode::CodePage { page: CodePage::Pc866, number: 17 } }
    }

    fn ticket() -> TicketDoc {
        TicketDoc::WalkIn(WalkInTicket {
            clinic: "Городская поликлиника № 1".into(),
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
    fn our_ticket_reads_back_as_text_and_a_qr() {
        let bytes = layout::encode(&ticket(), cfg()).unwrap();
        let r = render_stream(&bytes, Family::Epson, 576);
        assert_eq!(r.len(), 1);
        assert!(r[0].complete);
        assert_eq!(
            r[0].lines,
            [
                "Городская поликлиника № 1",
                "Дежурный врач",
                "ТАЛОН",
                "Д-017",
                "Выдан 23.11.2026 08:30",
                "Перед вами 3 человека, около 15 мин",
                "Следите за табло в зоне ожидания",
                "[QR INFOMAT:T:T17]",
            ]
        );
        assert_eq!(r[0].image.width, 576);
    }

    #[test]
    fn commands_split_across_reads_parse_the_same() {
        let bytes = layout::encode(&ticket(), cfg()).unwrap();
        let whole = render_stream(&bytes, Family::Epson, 576);
        let mut p = VirtualPrinter::new(Family::Epson, 576, Arc::new(Mutex::new(SimState::default())));
        for b in &bytes {
            p.feed(std::slice::from_ref(b));
        }
        let split = p.finish();
        assert_eq!(split[0].lines, whole[0].lines);
        assert_eq!(split[0].image, whole[0].image);
    }

    #[test]
    fn status_answers_follow_the_state() {
        let state = Arc::new(Mutex::new(SimState::default()));
        let mut p = VirtualPrinter::new(Family::Epson, 576, state.clone());
        assert_eq!(p.feed(&[0x10, 0x04, 4]), [0x12]);
        control(&state, "paper near-end").unwrap();
        assert_eq!(p.feed(&[0x10, 0x04, 4]), [0x1E]);
        control(&state, "paper out").unwrap();
        assert_eq!(p.feed(&[0x10, 0x04, 4, 0x10, 0x04, 2]), [0x72, 0x32]);
        control(&state, "cover open").unwrap();
        assert_eq!(p.feed(&[0x10, 0x04, 2]), [0x36]);
        control(&state, "silent").unwrap();
        assert!(p.feed(&[0x10, 0x04, 1]).is_empty());
        assert!(control(&state, "paper maybe").is_err());
    }

    #[test]
    fn unknown_commands_are_skipped_by_length() {
        let mut stream = vec![0x1B, b'@', 0x1B, b't', 17];
        stream.extend([0x1B, b'p', 0, 25, 250]); // cash drawer pulse
        stream.extend([0x1D, b'(', b'L', 2, 0, 48, 69]); // graphics function
        stream.extend([0x1C, b'p', 1, 0]); // NV image
        stream.extend([0x1C, b'(', b'A', 2, 0, 48, 0]); // Kanji option (receiptline's first line)
        stream.extend([0x1C, b'S', 0, 0, 0x1C, b'.', 0x1C, b'C', b'0']); // Kanji spacing, mode off
        stream.extend([0x1B, b'(', b'A', 4, 0, 48, 55, 3, 15]); // beeper
        stream.extend([0x1D, b'(', b'Q', 3, 0, 1, 2, 3]); // an unknown GS ( function
        stream.extend([0x1D, b'8', b'L', 3, 0, 0, 0, 48, 67, 2]); // NV graphics, cut short
        stream.extend(CodePage::Pc866.encode("Привет"));
        stream.push(b'\n');
        let (r, trace) = render_traced(&stream, Family::Epson, 576);
        assert_eq!(r[0].lines, ["Привет"]);
        assert!(trace.iter().any(|t| t.note.starts_with("NV or download graphics")), "{trace:?}");
    }

    #[test]
    fn page_mode_commands_are_parsed_and_their_text_printed() {
        let mut stream = vec![0x1B, b'@', 0x1B, b'L'];
        stream.extend([0x1B, b'W', 0, 0, 0, 0, 0x40, 0x02, 0x90, 0x01]); // area 576 x 400
        stream.extend([0x1B, b'T', 0, 0x1D, b'$', 10, 0]);
        stream.extend(b"page\n\x0c");
        stream.extend([0x1B, b'$', 120, 0]);
        stream.extend(b"x\n");
        let (r, trace) = render_traced(&stream, Family::Epson, 576);
        assert_eq!(r[0].lines, ["page", "          x"]);
        assert_eq!(r[0].find("x"), Some((120, r[0].spans[1].y)));
        // Drawn as standard mode: the trace says so instead of silently pretending.
        assert!(trace.iter().any(|t| t.note.starts_with("ESC L")), "{trace:?}");
    }

    proptest::proptest! {
        #[test]
        fn random_streams_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000)) {
            let _ = render_stream(&bytes, Family::Epson, 576);
        }

        #[test]
        fn escpos_looking_noise_never_panics(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..8).prop_map(|mut v| { v.insert(0, 0x1B); v }),
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..8).prop_map(|mut v| { v.insert(0, 0x1D); v }),
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..8).prop_map(|mut v| { v.insert(0, 0x10); v }),
                    proptest::collection::vec(0x20u8..0xFF, 0..20),
                ],
                0..60,
            )
        ) {
            let _ = render_stream(&parts.concat(), Family::Epson, 576);
        }
    }
}

#[cfg(test)]
mod unplug_tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn the_cable_comes_out_after_n_bytes_and_stays_out_until_replugged() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(SimState { unplug_after_bytes: Some(300), ..SimState::default() }));
        let spool = Arc::new(Spool::new(None).unwrap());
        {
            let (state, spool) = (state.clone(), spool.clone());
            std::thread::spawn(move || serve_tcp(listener, Family::Epson, 576, state, spool));
        }
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        let text = vec![b'A'; 2000];
        let _ = c.write_all(&text);
        c.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
        let mut b = [0u8; 1];
        let r = c.read(&mut b);
        assert!(matches!(r, Ok(0) | Err(_)), "the link is gone: {r:?}");
        assert!(state.lock().unwrap().unplugged);
        let receipts = spool.receipts();
        assert_eq!(receipts.len(), 1);
        assert!(!receipts[0].complete, "an uncut, incomplete ticket");
        // Unplugged: a new connection is dropped at once.
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        let _ = c.write_all(&[0x10, 0x04, 0x01]);
        c.set_read_timeout(Some(std::time::Duration::from_secs(2))).unwrap();
        assert!(matches!(c.read(&mut b), Ok(0) | Err(_)));
        control(&state, "replug").unwrap();
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.write_all(&[0x10, 0x04, 0x01]).unwrap();
        assert_eq!(c.read(&mut b).unwrap(), 1, "answers again once plugged back");
    }
}
