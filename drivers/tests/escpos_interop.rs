//! Interop: ESC/POS streams written by python-escpos (a peer implementation; fixtures made by
//! `tests/fixtures/python-escpos/make_fixtures.py`) render in the virtual printer with the right
//! text, sizes, codes and images.

use drivers::printer::bitmap::Bitmap;
use drivers::printer::codepage::Family;
use drivers::sim::printer::{Receipt, render_stream};

fn render(name: &str) -> Vec<Receipt> {
    let path = format!("{}/tests/fixtures/python-escpos/{name}.bin", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let receipts = render_stream(&bytes, Family::Epson, 576);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), receipts[0].image.to_png()).unwrap();
    receipts
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
