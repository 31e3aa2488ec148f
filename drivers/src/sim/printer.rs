//! The virtual printer: a byte-level ESC/POS peer.
//!
//! It parses the stream as a printer would (commands may arrive split across reads; unknown
//! commands are skipped by their length, never fatal), keeps a model of what is printed (text
//! through the selected code page, sizes, emphasis, alignment, QR, CODE128, raster images),
//! renders each cut receipt to a one-bit image at 203 dpi, and answers `DLE EOT` from a state
//! that can be changed while it runs (paper out, near end, cover open, offline, silent).

use std::sync::{Arc, Mutex};

use crate::printer::bitmap::{self, Bitmap};
use crate::printer::code128;
use crate::printer::codepage::{CodePage, Family};

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

#[derive(Debug, Clone, Copy)]
struct Style {
    page: CodePage,
    bold: bool,
    underline: bool,
    w: usize,
    h: usize,
    align: Align,
}

impl Default for Style {
    fn default() -> Self {
        Style { page: CodePage::Pc437, bold: false, underline: false, w: 1, h: 1, align: Align::Left }
    }
}

/// One cut piece of paper.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub image: Bitmap,
    /// The recognised text, one printed line per entry; codes appear as `[QR data]`,
    /// `[CODE128 data]`, images as `[image WxH]`.
    pub lines: Vec<String>,
    /// False when the paper ran out (or the cover opened) before the cut.
    pub complete: bool,
}

#[derive(Debug)]
pub struct VirtualPrinter {
    family: Family,
    width: usize,
    pub state: Arc<Mutex<SimState>>,
    pending: Vec<u8>,
    style: Style,
    line: Vec<(char, Style)>,
    paper: Bitmap,
    y: usize,
    lines: Vec<String>,
    complete: bool,
    qr_size: usize,
    qr_ec: qrcode::EcLevel,
    qr_data: Vec<u8>,
    bar_height: usize,
    bar_module: usize,
    bar_hri: u8,
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

impl VirtualPrinter {
    pub fn new(family: Family, width_dots: usize, state: Arc<Mutex<SimState>>) -> VirtualPrinter {
        VirtualPrinter {
            family,
            width: width_dots,
            state,
            pending: Vec::new(),
            style: Style::default(),
            line: Vec::new(),
            paper: Bitmap::new(width_dots, 0),
            y: 0,
            lines: Vec::new(),
            complete: true,
            qr_size: 3,
            qr_ec: qrcode::EcLevel::L,
            qr_data: Vec::new(),
            bar_height: 162,
            bar_module: 3,
            bar_hri: 0,
            receipts: Vec::new(),
        }
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
                Step::Done(n) => at += n,
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
        self.print_line();
        if self.y > 0 || !self.lines.is_empty() {
            self.cut();
        }
        self.take_receipts()
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

    fn place_x(&self, w: usize, align: Align) -> usize {
        match align {
            Align::Left => 0,
            Align::Center => self.width.saturating_sub(w) / 2,
            Align::Right => self.width.saturating_sub(w),
        }
    }

    fn print_line(&mut self) {
        if self.line.is_empty() {
            return;
        }
        let line = std::mem::take(&mut self.line);
        if !self.can_print() {
            return;
        }
        let h = line.iter().map(|(_, s)| s.h).max().unwrap_or(1) * bitmap::CELL_H;
        let total_w: usize = line.iter().map(|(_, s)| s.w * bitmap::CELL_W).sum();
        let align = line.first().map_or(Align::Left, |(_, s)| s.align);
        let mut x = self.place_x(total_w, align);
        self.grow(self.y + h + LINE_GAP);
        for (c, s) in &line {
            let glyph = bitmap::render_text(&c.to_string(), s.w, s.h, s.bold);
            self.paper.blit(&glyph, x, self.y + h - glyph.height);
            if s.underline {
                self.paper.fill_rect(x, self.y + h - 1, glyph.width, 2);
            }
            x += glyph.width;
        }
        self.y += h + LINE_GAP;
        let text: String = line.iter().map(|(c, _)| *c).collect();
        self.lines.push(text.trim_end().to_owned());
        self.use_paper();
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
        let mut image = std::mem::replace(&mut self.paper, Bitmap::new(self.width, 0));
        let used = self.y;
        if image.height < used {
            image.extend_height(used - image.height);
        }
        let lines = std::mem::take(&mut self.lines);
        self.receipts.push(Receipt { image, lines, complete: self.complete });
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

    fn print_barcode(&mut self, kind: u8, data: &[u8]) {
        // Only CODE128 is drawn; other symbologies print as a labelled blank.
        let (modules, label) = match kind {
            73 | 8 => match code128::values(data) {
                Some(v) => (code128::modules(&v), format!("[CODE128 {}]", human_readable(data))),
                None => (Vec::new(), "[CODE128 invalid]".to_owned()),
            },
            _ => (Vec::new(), format!("[barcode {kind} {}]", String::from_utf8_lossy(data))),
        };
        let m = self.bar_module.max(1);
        let mut img = Bitmap::new((modules.len() + 20) * m, self.bar_height);
        for (i, &bar) in modules.iter().enumerate() {
            if bar {
                img.fill_rect((i + 10) * m, 0, m, self.bar_height);
            }
        }
        self.image(&img, label);
        if self.bar_hri & 2 != 0 {
            self.style.align = Align::Center;
            for c in human_readable(data).chars() {
                self.line.push((c, Style { w: 1, h: 1, bold: false, underline: false, ..self.style }));
            }
            self.print_line();
        }
    }

    /// Parses and applies one command at `at`.
    fn step(&mut self, b: &[u8], out: &mut Vec<u8>) -> Step {
        let need = |n: usize| b.len() < n;
        match b[0] {
            0x0A => {
                if self.line.is_empty() {
                    self.feed_dots(bitmap::CELL_H * self.style.h + LINE_GAP);
                } else {
                    self.print_line();
                }
                Step::Done(1)
            }
            0x0D => Step::Done(1),
            0x09 => {
                for _ in 0..4 {
                    self.line.push((' ', self.style));
                }
                Step::Done(1)
            }
            0x10 => {
                // DLE EOT n: real-time status. DLE ENQ n, DLE DC4 ...: real-time requests.
                if need(2) {
                    return Step::Need;
                }
                match b[1] {
                    0x04 => {
                        if need(3) {
                            return Step::Need;
                        }
                        if let Some(s) = self.state.lock().expect("sim state lock").status_byte(b[2]) {
                            out.push(s);
                        }
                        Step::Done(3)
                    }
                    0x05 => {
                        if need(3) {
                            Step::Need
                        } else {
                            Step::Done(3)
                        }
                    }
                    0x14 => {
                        if need(5) {
                            Step::Need
                        } else {
                            Step::Done(5)
                        }
                    }
                    _ => Step::Done(1),
                }
            }
            0x1B => self.esc(b),
            0x1D => self.gs(b),
            0x1C => {
                // FS: kanji and NV-image commands; skipped by their length.
                if need(2) {
                    return Step::Need;
                }
                let len = match b[1] {
                    b'p' => 4,
                    b'!' | b'-' | b'C' | b'S' | b'W' => 3,
                    _ => 2,
                };
                if need(len) { Step::Need } else { Step::Done(len) }
            }
            0x00..=0x1F | 0x7F => Step::Done(1),
            byte => {
                let c = self.style.page.decode_byte(byte);
                self.line.push((c, self.style));
                // Automatic line wrap at the paper edge.
                let used: usize = self.line.iter().map(|(_, s)| s.w * bitmap::CELL_W).sum();
                if used + self.style.w * bitmap::CELL_W > self.width {
                    self.print_line();
                }
                Step::Done(1)
            }
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
                Step::Done(2)
            }
            b't' => with1(self, &|f, n| f.style.page = f.family.page(n).unwrap_or(CodePage::Pc437)),
            b'!' => with1(self, &|f, n| {
                f.style.bold = n & 0x08 != 0;
                f.style.h = if n & 0x10 != 0 { 2 } else { 1 };
                f.style.w = if n & 0x20 != 0 { 2 } else { 1 };
                f.style.underline = n & 0x80 != 0;
            }),
            b'E' | b'G' => with1(self, &|f, n| f.style.bold = n & 1 == 1),
            b'-' => with1(self, &|f, n| f.style.underline = matches!(n, 1 | 2 | b'1' | b'2')),
            b'a' => with1(self, &|f, n| {
                f.style.align = match n {
                    1 | b'1' => Align::Center,
                    2 | b'2' => Align::Right,
                    _ => Align::Left,
                }
            }),
            b'd' => with1(self, &|f, n| {
                f.print_line();
                f.feed_dots(usize::from(n) * (bitmap::CELL_H + LINE_GAP));
            }),
            b'J' => with1(self, &|f, n| f.feed_dots(usize::from(n))),
            b'2' => Step::Done(2),
            b'3' | b'M' | b'R' | b'{' | b'V' | b' ' | b'U' | b'r' | b'S' | b'=' => with1(self, &|_, _| {}),
            b'c' => {
                if b.len() < 4 {
                    Step::Need
                } else {
                    Step::Done(4)
                }
            }
            b'$' | b'\\' => {
                if b.len() < 4 {
                    Step::Need
                } else {
                    Step::Done(4)
                }
            }
            b'p' => {
                if b.len() < 5 {
                    Step::Need
                } else {
                    Step::Done(5)
                }
            }
            b'*' => {
                // Column bit image: m nL nH, then n (8-dot modes) or 3n (24-dot modes) bytes.
                if b.len() < 5 {
                    return Step::Need;
                }
                let n = usize::from(b[3]) | usize::from(b[4]) << 8;
                let len = 5 + if b[2] >= 32 { 3 * n } else { n };
                if b.len() < len { Step::Need } else { Step::Done(len) }
            }
            _ => Step::Done(2),
        }
    }

    fn gs(&mut self, b: &[u8]) -> Step {
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
            b'h' | b'w' | b'H' | b'f' | b'B' | b'b' | b'a' | b'r' | b'I' | b'E' => {
                let Some(&n) = b.get(2) else { return Step::Need };
                match b[1] {
                    b'h' => self.bar_height = usize::from(n.max(1)),
                    b'w' => self.bar_module = usize::from(n.clamp(1, 6)),
                    // 0-3 or '0'-'3': the low two bits say where the digits go.
                    b'H' => self.bar_hri = n & 3,
                    _ => {}
                }
                Step::Done(3)
            }
            b'L' | b'W' | b'P' => {
                if b.len() < 4 {
                    Step::Need
                } else {
                    Step::Done(4)
                }
            }
            b'k' => {
                let Some(&m) = b.get(2) else { return Step::Need };
                if m <= 6 {
                    // Function A: NUL-terminated data.
                    let Some(end) = b[3..].iter().position(|&x| x == 0) else {
                        return if b.len() > 3 + 255 { Step::Done(3) } else { Step::Need };
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
                let bw = usize::from(b[4]) | usize::from(b[5]) << 8;
                let rows = usize::from(b[6]) | usize::from(b[7]) << 8;
                let len = 8 + bw * rows;
                if b.len() < len {
                    return Step::Need;
                }
                let mut img = Bitmap::from_raster(bw, rows, &b[8..len]);
                // Scale modes 1-3 double width and/or height.
                if b[3] & 3 != 0 {
                    let (sx, sy) = (1 + usize::from(b[3] & 1), 1 + usize::from(b[3] >> 1 & 1));
                    let mut big = Bitmap::new(img.width * sx, img.height * sy);
                    for y in 0..big.height {
                        for x in 0..big.width {
                            big.set(x, y, img.get(x / sx, y / sy));
                        }
                    }
                    img = big;
                }
                let label = format!("[image {}x{}]", img.width, img.height);
                self.image(&img, label);
                Step::Done(len)
            }
            b'(' => {
                // GS ( fn pL pH ...: length-prefixed; QR (k, cn 49) is interpreted.
                if b.len() < 5 {
                    return Step::Need;
                }
                let p = usize::from(b[3]) | usize::from(b[4]) << 8;
                let len = 5 + p;
                if b.len() < len {
                    return Step::Need;
                }
                if b[2] == b'k' && p >= 3 && b[5] == 49 {
                    let args = &b[7..len];
                    match b[6] {
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
                Step::Done(len)
            }
            b'8' => {
                // GS 8 L p1 p2 p3 p4 ...: graphics with a 4-byte length.
                if b.len() < 7 {
                    return Step::Need;
                }
                let p = usize::from(b[3])
                    | usize::from(b[4]) << 8
                    | usize::from(b[5]) << 16
                    | usize::from(b[6]) << 24;
                let len = 7usize.saturating_add(p);
                if b.len() < len { Step::Need } else { Step::Done(len) }
            }
            _ => Step::Done(2),
        }
    }
}

/// CODE128 data without its code-set selectors.
fn human_readable(data: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'{' && i + 1 < data.len() {
            if data[i + 1] == b'{' {
                out.push('{');
            }
            i += 2;
            continue;
        }
        out.push(char::from(data[i]));
        i += 1;
    }
    out
}

/// Renders a whole captured stream (technicians' `escpos-sim render`).
pub fn render_stream(bytes: &[u8], family: Family, width: usize) -> Vec<Receipt> {
    let mut p = VirtualPrinter::new(family, width, Arc::new(Mutex::new(SimState::default())));
    p.feed(bytes);
    p.finish()
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
        self.received.lock().expect("spool lock").kept.iter().cloned().collect()
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
                "Перед вами: 3",
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
        stream.extend([0x1B, b'*', 33, 2, 0, 1, 2, 3, 4, 5, 6]); // 24-dot column image, 2 columns
        stream.extend(CodePage::Pc866.encode("Привет"));
        stream.push(b'\n');
        let r = render_stream(&stream, Family::Epson, 576);
        assert_eq!(r[0].lines, ["Привет"]);
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
