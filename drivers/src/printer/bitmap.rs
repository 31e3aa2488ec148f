//! One-bit images at the printer's 203 dpi: what the virtual printer draws paper on, what the
//! raster-text fallback sends, and the text renderer both share (DejaVu Sans Mono, embedded, so
//! a ticket looks the same on every machine, Cyrillic included).

use std::sync::LazyLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};

/// A black-and-white image; `true` is a printed (black) dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    pub width: usize,
    pub height: usize,
    dots: Vec<bool>,
}

/// Font A cell on 80 mm paper: 12 x 24 dots, 48 columns on 576 dots.
pub const CELL_W: usize = 12;
pub const CELL_H: usize = 24;

static REGULAR: LazyLock<FontRef<'static>> = LazyLock::new(|| {
    FontRef::try_from_slice(include_bytes!("../../assets/DejaVuSansMono.ttf")).expect("embedded font parses")
});
static BOLD: LazyLock<FontRef<'static>> = LazyLock::new(|| {
    FontRef::try_from_slice(include_bytes!("../../assets/DejaVuSansMono-Bold.ttf"))
        .expect("embedded font parses")
});

impl Bitmap {
    pub fn new(width: usize, height: usize) -> Bitmap {
        Bitmap { width, height, dots: vec![false; width * height] }
    }

    pub fn get(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.height && self.dots[y * self.width + x]
    }

    pub fn set(&mut self, x: usize, y: usize, on: bool) {
        if x < self.width && y < self.height {
            self.dots[y * self.width + x] = on;
        }
    }

    pub fn fill_rect(&mut self, x: usize, y: usize, w: usize, h: usize) {
        for yy in y..(y + h).min(self.height) {
            for xx in x..(x + w).min(self.width) {
                self.dots[yy * self.width + xx] = true;
            }
        }
    }

    /// Copies `other` onto this image at (x, y), ORing dots.
    pub fn blit(&mut self, other: &Bitmap, x: usize, y: usize) {
        for oy in 0..other.height {
            for ox in 0..other.width {
                if other.get(ox, oy) {
                    self.set(x + ox, y + oy, true);
                }
            }
        }
    }

    /// Grows the image downwards (paper coming out of the printer).
    pub fn extend_height(&mut self, extra: usize) {
        self.height += extra;
        self.dots.resize(self.width * self.height, false);
    }

    /// `GS v 0` raster bit image commands, split into bands of at most `max_rows` rows so cheap
    /// printers do not overflow their buffer.
    pub fn to_gs_v0(&self, max_rows: usize) -> Vec<u8> {
        let bytes_w = self.width.div_ceil(8);
        let mut out = Vec::with_capacity(bytes_w * self.height + 8 * self.height.div_ceil(max_rows.max(1)));
        for top in (0..self.height).step_by(max_rows.max(1)) {
            let rows = max_rows.max(1).min(self.height - top);
            out.extend_from_slice(&[0x1D, 0x76, 0x30, 0x00]);
            out.extend_from_slice(&(bytes_w as u16).to_le_bytes());
            out.extend_from_slice(&(rows as u16).to_le_bytes());
            for y in top..top + rows {
                for bx in 0..bytes_w {
                    let mut b = 0u8;
                    for bit in 0..8 {
                        if self.get(bx * 8 + bit, y) {
                            b |= 0x80 >> bit;
                        }
                    }
                    out.push(b);
                }
            }
        }
        out
    }

    /// Decodes the data of one `GS v 0` band (`bytes_w` bytes per row).
    pub fn from_raster(bytes_w: usize, rows: usize, data: &[u8]) -> Bitmap {
        let mut b = Bitmap::new(bytes_w * 8, rows);
        for y in 0..rows {
            for bx in 0..bytes_w {
                let v = data.get(y * bytes_w + bx).copied().unwrap_or(0);
                for bit in 0..8 {
                    if v & (0x80 >> bit) != 0 {
                        b.set(bx * 8 + bit, y, true);
                    }
                }
            }
        }
        b
    }

    /// An 8-bit grayscale PNG (white paper, black dots).
    pub fn to_png(&self) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width as u32, self.height.max(1) as u32);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().expect("writing to a Vec cannot fail");
            let mut data: Vec<u8> = self.dots.iter().map(|&d| if d { 0 } else { 255 }).collect();
            if self.height == 0 {
                data = vec![255; self.width];
            }
            w.write_image_data(&data).expect("writing to a Vec cannot fail");
        }
        out
    }
}

/// Renders one line of text in the printer's cell grid: each character `CELL_W * w` wide and
/// `CELL_H * h` tall.
pub fn render_text(text: &str, w: usize, h: usize, bold: bool) -> Bitmap {
    render_text_cell(text, CELL_W * w, CELL_H * h, bold)
}

/// Renders one line of text, each character in a `cw` x `ch` dot cell (font B, magnified
/// fonts).
pub fn render_text_cell(text: &str, cw: usize, ch: usize, bold: bool) -> Bitmap {
    let n = text.chars().count();
    let mut bmp = Bitmap::new(cw * n, ch);
    let font: &FontRef<'static> = if bold { &BOLD } else { &REGULAR };
    // Height scale so the font's ascent+descent fills the cell; width follows the cell aspect.
    let scale = PxScale { x: ch as f32 * (cw as f32 / ch as f32) * 1.65, y: ch as f32 * 0.95 };
    let scaled = font.as_scaled(scale);
    let baseline = scaled.ascent() * 0.98;
    for (i, c) in text.chars().enumerate() {
        if c == ' ' {
            continue;
        }
        if let Some(g) = cell_graphic(c, cw, ch) {
            bmp.blit(&g, i * cw, 0);
            continue;
        }
        let glyph = scaled.scaled_glyph(c);
        let glyph = ab_glyph::Glyph { position: ab_glyph::point((i * cw) as f32, baseline), ..glyph };
        if let Some(outline) = font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            outline.draw(|x, y, cov| {
                if cov >= 0.5 {
                    let px = b.min.x as i64 + i64::from(x);
                    let py = b.min.y as i64 + i64::from(y);
                    if px >= 0 && py >= 0 {
                        bmp.set(px as usize, py as usize, true);
                    }
                }
            });
        }
    }
    bmp
}

/// Box-drawing and block characters as a printer's ROM font has them: edge to edge in the cell,
/// so rules and table frames join up (a text font's glyphs stop short of the cell edges).
fn cell_graphic(c: char, cw: usize, ch: usize) -> Option<Bitmap> {
    let mut g = Bitmap::new(cw, ch);
    let (tx, ty) = ((cw / 6).max(1), (ch / 12).max(1));
    let (cx, cy) = (cw / 2 - tx / 2, ch / 2 - ty / 2);
    // Arms from the centre: left, right, up, down.
    let arms = match c {
        '─' => [true, true, false, false],
        '│' => [false, false, true, true],
        '┌' | '╭' => [false, true, false, true],
        '┐' | '╮' => [true, false, false, true],
        '└' | '╰' => [false, true, true, false],
        '┘' | '╯' => [true, false, true, false],
        '├' => [false, true, true, true],
        '┤' => [true, false, true, true],
        '┬' => [true, true, false, true],
        '┴' => [true, true, true, false],
        '┼' => [true, true, true, true],
        // Eighth blocks: lower ▁..█, left ▏..▉ (counted from the full block down), top and
        // right edges.
        '▁'..='█' => {
            let k = c as usize - '▁' as usize + 1;
            let h = ch * k / 8;
            g.fill_rect(0, ch - h, cw, h);
            return Some(g);
        }
        '▉'..='▏' => {
            let k = 7 - (c as usize - '▉' as usize);
            g.fill_rect(0, 0, (cw * k / 8).max(1), ch);
            return Some(g);
        }
        '▔' => {
            g.fill_rect(0, 0, cw, (ch / 8).max(1));
            return Some(g);
        }
        '▕' => {
            g.fill_rect(cw - (cw / 8).max(1), 0, (cw / 8).max(1), ch);
            return Some(g);
        }
        _ => return None,
    };
    let [l, r, u, d] = arms;
    if l {
        g.fill_rect(0, cy, cx + tx, ty);
    }
    if r {
        g.fill_rect(cx, cy, cw - cx, ty);
    }
    if u {
        g.fill_rect(cx, 0, tx, cy + ty);
    }
    if d {
        g.fill_rect(cx, cy, tx, ch - cy);
    }
    Some(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raster_round_trips_through_gs_v0_bands() {
        let mut b = Bitmap::new(20, 50);
        b.fill_rect(3, 4, 10, 30);
        b.set(19, 49, true);
        let cmds = b.to_gs_v0(16);
        // Four bands of at most 16 rows, each with its 8-byte header.
        assert_eq!(cmds.len(), 3 * 50 + 8 * 4);
        let mut back = Bitmap::new(24, 0);
        let mut at = 0;
        while at < cmds.len() {
            assert_eq!(&cmds[at..at + 4], &[0x1D, 0x76, 0x30, 0x00]);
            let bw = usize::from(u16::from_le_bytes([cmds[at + 4], cmds[at + 5]]));
            let rows = usize::from(u16::from_le_bytes([cmds[at + 6], cmds[at + 7]]));
            let band = Bitmap::from_raster(bw, rows, &cmds[at + 8..at + 8 + bw * rows]);
            let top = back.height;
            back.extend_height(rows);
            back.blit(&band, 0, top);
            at += 8 + bw * rows;
        }
        for y in 0..50 {
            for x in 0..20 {
                assert_eq!(back.get(x, y), b.get(x, y), "({x},{y})");
            }
        }
    }

    #[test]
    fn text_renders_ink_inside_its_cells() {
        let t = render_text("Ж1", 1, 1, false);
        assert_eq!((t.width, t.height), (24, 24));
        let ink = |x0: usize| {
            (x0..x0 + 12).flat_map(|x| (0..24).map(move |y| (x, y))).filter(|&(x, y)| t.get(x, y)).count()
        };
        assert!(ink(0) > 20 && ink(12) > 10, "both glyphs have ink");
        let big = render_text("Ж", 2, 2, true);
        assert_eq!((big.width, big.height), (24, 48));
        let png = big.to_png();
        // Rules join: a horizontal line is inked in the first and last column of its cell.
        let rule = render_text("──┼", 1, 1, false);
        assert!((0..24).any(|y| rule.get(0, y)) && (0..24).any(|y| rule.get(23, y)));
        assert!(rule.get(30, 0) && rule.get(30, 23), "the cross reaches top and bottom");
        assert_eq!(&png[1..4], b"PNG");
    }
}
