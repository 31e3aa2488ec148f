//! Interop: ESC/POS streams written by peer implementations render in the virtual printer with
//! the right text at the right column, sizes, codes and images, and without a skipped command.
//! Fixtures: `tests/fixtures/python-escpos/make_fixtures.py` (python-escpos) and
//! `tests/fixtures/receiptline/make_fixtures.js` (receiptline, `escpos` command set).
//!
//! Every receipt is also written as `PEER-FIXTURE-N.png` to `$INFOMAT_INTEROP_PNG` (default
//! `CARGO_TARGET_TMPDIR/interop`), where `scripts/test-interop.sh` decodes every code with
//! zxing-cpp against `tests/fixtures/interop-codes.json`.

use drivers::printer::bitmap::Bitmap;
use drivers::printer::codepage::Family;
use drivers::sim::printer::{Receipt, render_traced};

/// Every fixture, by peer: the zxing-cpp manifest lists the codes of each of their receipts.
const FIXTURES: &[(&str, &[&str])] = &[
    (
        "python-escpos",
        &[
            "cp866_text",
            "qr_native",
            "qr_image",
            "code128",
            "raster",
            "table_tabs",
            "cp1251_text",
            "barcodes_hw",
            "barcodes_sw",
            "image_graphics",
            "image_column",
        ],
    ),
    ("receiptline", &["ticket_cp866", "barcodes", "multilingual"]),
];

fn png_dir() -> std::path::PathBuf {
    let dir = std::env::var_os("INFOMAT_INTEROP_PNG")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn render_from(peer: &str, name: &str) -> Vec<Receipt> {
    let path = format!("{}/tests/fixtures/{peer}/{name}.bin", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (receipts, trace) = render_traced(&bytes, Family::Epson, 576);
    // Every command these peers send is understood: nothing skipped, nothing left undrawn.
    assert!(
        trace.is_empty(),
        "{peer}/{name}: {}",
        trace.iter().map(|t| t.to_string()).collect::<Vec<_>>().join("\n")
    );
    let dir = png_dir();
    for (i, r) in receipts.iter().enumerate() {
        std::fs::write(dir.join(format!("{peer}-{name}-{i}.png")), r.image.to_png()).unwrap();
    }
    receipts
}

fn render(name: &str) -> Vec<Receipt> {
    render_from("python-escpos", name)
}

/// The dot column where `needle` was printed (12 dots per font A column).
fn x_of(r: &Receipt, needle: &str) -> usize {
    r.find(needle).unwrap_or_else(|| panic!("{needle:?} not printed: {:?}", r.lines)).0
}

fn qr(img: &Bitmap) -> Vec<String> {
    let mut p = rqrr::PreparedImage::prepare_from_greyscale(img.width, img.height, |x, y| {
        if img.get(x, y) { 0 } else { 255 }
    });
    p.detect_grids().into_iter().filter_map(|g| g.decode().ok().map(|(_, c)| c)).collect()
}

/// Heights of the bands of inked rows, top to bottom (one band per printed line).
fn ink_bands(img: &Bitmap) -> Vec<usize> {
    let mut bands = Vec::new();
    let mut run = 0;
    for y in 0..img.height {
        if (0..img.width).any(|x| img.get(x, y)) {
            run += 1;
        } else if run > 0 {
            bands.push(run);
            run = 0;
        }
    }
    if run > 0 {
        bands.push(run);
    }
    bands
}

#[test]
fn cp866_text_sizes_and_styles() {
    let r = render("cp866_text");
    assert_eq!(r.len(), 1);
    assert_eq!(
        r[0].lines,
        ["Городская поликлиника № 1", "Талон Д-017", "214", "Съешь же ещё этих мягких французских булок",]
    );
    // Double and triple sizes print proportionally taller letters than normal text.
    let b = ink_bands(&r[0].image);
    // Four text lines; the underline of the last one may show as a band of its own.
    assert!(b.len() == 4 || (b.len() == 5 && b[4] <= 3), "{b:?}");
    assert!(b[1] * 10 >= b[0] * 17 && b[2] * 10 >= b[0] * 22, "heights {b:?}");
}

#[test]
fn native_qr_decodes_from_the_render() {
    let r = render("qr_native");
    assert_eq!(r[0].lines, ["[QR INFOMAT:FIXTURE:QR-42]"]);
    assert_eq!(qr(&r[0].image), ["INFOMAT:FIXTURE:QR-42"]);
}

#[test]
fn qr_sent_as_a_raster_image_decodes_too() {
    let r = render("qr_image");
    assert!(r[0].lines.iter().all(|l| l.starts_with("[image ")), "{:?}", r[0].lines);
    assert_eq!(qr(&r[0].image), ["INFOMAT:FIXTURE:IMG-7"]);
}

#[test]
fn code128_with_digits_below() {
    let r = render("code128");
    assert_eq!(r[0].lines, ["[CODE128 INFOMAT-128]", "INFOMAT-128"]);
}

#[test]
fn raster_image_keeps_its_shape() {
    let r = render("raster");
    assert_eq!(r[0].lines.len(), 1);
    assert!(r[0].lines[0].starts_with("[image 200x100"), "{:?}", r[0].lines);
    let img = &r[0].image;
    // The filled square sits in the middle of the frame; the frame's inside is blank.
    let left = (0..img.width).find(|&x| (0..img.height).any(|y| img.get(x, y))).unwrap();
    let top = (0..img.height).find(|&y| (0..img.width).any(|x| img.get(x, y))).unwrap();
    assert!(img.get(left + 100, top + 50), "square centre inked");
    assert!(!img.get(left + 20, top + 50), "inside of the frame blank");
    assert!(img.get(left + 1, top + 50), "frame inked");
}

#[test]
fn every_fixture_renders_without_a_skipped_command() {
    for (peer, names) in FIXTURES {
        for name in *names {
            let receipts = render_from(peer, name);
            assert!(!receipts.is_empty(), "{peer}/{name}");
            for r in &receipts {
                for l in &r.lines {
                    // Function-style commands read as text would show up as stray letters or
                    // digits right after a command's bytes ("A0" for FS ( A).
                    assert!(!l.starts_with("A0") && !l.contains('\u{fffd}'), "{peer}/{name}: {l:?}");
                }
            }
        }
    }
}

#[test]
fn receiptline_ticket_text_at_its_columns() {
    let r = &render_from("receiptline", "ticket_cp866")[0];
    // The logo first: FS ( A and the other set-up commands print nothing.
    assert_eq!(r.lines[0], "[image 160x48]");
    assert_eq!(r.lines[1].trim(), "Городская поликлиника № 1");
    // Two columns, the second right-aligned with ESC $ and ESC \: 48 columns of 12 dots.
    assert_eq!(r.lines[6], format!("Терапевт{}Каб. 305", " ".repeat(32)));
    assert_eq!(x_of(r, "Терапевт"), 0);
    assert_eq!(x_of(r, "Каб. 305"), 576 - 8 * 12);
    assert_eq!(x_of(r, "09:40"), 576 - 5 * 12);
    // The ruled table: frames drawn from Epson's page 1 box characters, cells in their columns.
    assert_eq!(r.lines[9], "╭──────────────┬──────────────────────┬────────╮");
    assert_eq!(r.lines[11], "│ Иванова М. П.│       Терапевт       │214     │");
    assert_eq!(x_of(r, "Кабинет"), 39 * 12);
    assert_eq!(x_of(r, "Хирург"), 24 * 12);
    // Double height title, centred: twice as tall, in the middle of the paper.
    let (x, _) = r.find("Городская").unwrap();
    let title = r.spans.iter().find(|s| s.text.contains("Городская")).unwrap();
    assert_eq!(title.height, 48);
    assert_eq!(x, (576 - 25 * 12) / 2);
    assert!(r.lines.contains(&"[CODE128 INFOMAT-128]".to_owned()), "{:?}", r.lines);
    // receiptline sends its QR codes as graphics (GS 8 L fn 112, GS ( L fn 50).
    assert!(r.lines.contains(&"[image 125x125]".to_owned()));
    assert_eq!(qr(&r.image), ["INFOMAT:RL:A:5002"]);
    assert_eq!(r.lines.last().unwrap().trim(), "Отменить запись: в инфомате");
}

#[test]
fn receiptline_barcodes_one_per_cut() {
    let r = render_from("receiptline", "barcodes");
    let labels: Vec<&str> = r.iter().map(|r| r.lines[0].as_str()).collect();
    assert_eq!(
        labels,
        [
            "[UPC-A 036000291452]",
            "[UPC-E 01234565]",
            "[EAN13 4601234567893]",
            "[EAN8 96385074]",
            "[CODE39 INFOMAT-39]",
            "[ITF 12345678]",
            "[CODABAR A1234-5678B]",
            "[CODE93 Infomat-93]",
            "[CODE128 Infomat-128]",
            "[CODE128 20261123000017]",
        ]
    );
    // Centred like receiptline centres them, digits below.
    for r in &r {
        assert_eq!(r.lines.len(), 2, "{:?}", r.lines);
        let img = &r.image;
        let left = (0..img.width).find(|&x| (0..img.height).any(|y| img.get(x, y))).unwrap();
        let right = (0..img.width).rev().find(|&x| (0..img.height).any(|y| img.get(x, y))).unwrap();
        assert!(left.abs_diff(img.width - 1 - right) <= 2, "{:?} at {left}..{right}", r.lines);
    }
}

#[test]
fn receiptline_multilingual_switches_code_pages_per_character() {
    let r = &render_from("receiptline", "multilingual")[0];
    assert_eq!(r.lines[0], format!("Талон № 17{}Straße", " ".repeat(32)));
    assert_eq!(qr(&r.image), ["INFOMAT:ML"]);
}

#[test]
fn tab_stops_and_font_b() {
    let r = &render("table_tabs")[0];
    assert_eq!(r.lines[0], "Врач            Кабинет         Время");
    assert_eq!(x_of(r, "Кабинет"), 16 * 12);
    assert_eq!(x_of(r, "09:40"), 32 * 12);
    let b = r.spans.iter().find(|s| s.text.starts_with("Шрифт B")).unwrap();
    assert_eq!((b.advance, b.height), (9, 17), "font B cell");
}

#[test]
fn wpc1251_text() {
    assert_eq!(render("cp1251_text")[0].lines, ["Кабинет № 214: Иванова М. П."]);
}

#[test]
fn every_hardware_barcode_of_python_escpos() {
    let labels: Vec<String> = render("barcodes_hw").into_iter().map(|r| r.lines[0].clone()).collect();
    assert_eq!(
        labels,
        [
            "[UPC-A 036000291452]",
            "[UPC-E 01234565]",
            "[EAN13 4601234567893]",
            "[EAN13 4601234567893]",
            "[EAN8 96385074]",
            "[CODE39 INFOMAT 39]",
            "[ITF 00123456]",
            "[CODABAR B0123$45C]",
            "[CODE93 INFOMAT-93]",
            "[CODE128 Infomat-128]",
            "[CODE128 20261123]",
            "[GS1-128 0104060123456789]",
        ]
    );
}

#[test]
fn software_barcodes_arrive_as_the_three_image_commands() {
    let r = render("barcodes_sw");
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].lines, ["[image 512x126]"], "GS ( L graphics");
    assert!(r[1].lines.iter().all(|l| l == "[bit image 512x24]"), "ESC * columns: {:?}", r[1].lines);
    assert_eq!(r[2].lines, ["[image 512x126]"], "GS v 0 raster");
    // The ESC * stripes (python-escpos sets ESC 3 16) join without gaps: no blank row inside
    // the bars.
    let img = &r[1].image;
    let rows: Vec<bool> = (0..img.height).map(|y| (0..img.width).any(|x| img.get(x, y))).collect();
    let first = rows.iter().position(|&b| b).unwrap();
    assert!(rows[first..first + 60].iter().all(|&b| b), "stripes join");
}

#[test]
fn qr_and_image_through_graphics_and_column_images() {
    for (name, want) in
        [("image_graphics", "INFOMAT:FIXTURE:GRAPHICS"), ("image_column", "INFOMAT:FIXTURE:COLUMN")]
    {
        let r = &render(name)[0];
        assert_eq!(qr(&r.image), [want], "{name}");
    }
    // The frame image of the raster fixture keeps its shape through GS ( L too.
    let r = &render("image_graphics")[0];
    assert_eq!(r.lines.last().unwrap(), "[image 200x100]");
}

#[test]
fn peer_streams_split_into_single_bytes_render_the_same() {
    use drivers::sim::printer::{SimState, VirtualPrinter};
    use std::sync::{Arc, Mutex};
    for (peer, name) in
        [("receiptline", "ticket_cp866"), ("python-escpos", "image_column"), ("python-escpos", "barcodes_hw")]
    {
        let bytes = std::fs::read(format!("{}/tests/fixtures/{peer}/{name}.bin", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
        let whole = render_from(peer, name);
        let mut p = VirtualPrinter::new(Family::Epson, 576, Arc::new(Mutex::new(SimState::default())));
        for b in &bytes {
            p.feed(std::slice::from_ref(b));
        }
        let split = p.finish();
        assert_eq!(split.len(), whole.len(), "{peer}/{name}");
        for (a, b) in split.iter().zip(&whole) {
            assert_eq!(a.lines, b.lines, "{peer}/{name}");
            assert_eq!(a.image, b.image, "{peer}/{name}");
        }
    }
}
