//! The screenshot contact sheet (`docs/screenshots/README.md`) stays true: it shows every kiosk
//! screenshot `kiosk screenshot --all` makes, every screen in every look, and names no file
//! that is not there.

use std::path::Path;

use kiosk::modes::screenshot::SCREENS;

#[test]
fn the_contact_sheet_shows_every_screen_and_only_what_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    let sheet = std::fs::read_to_string(root.join("README.md")).expect("docs/screenshots/README.md");
    for s in SCREENS {
        for look in ["ru", "ru.large", "ru.contrast", "en"] {
            let f = format!("kiosk/{s}.{look}.png");
            assert!(sheet.contains(&format!("\"{f}\"")), "the sheet lacks {f}");
            assert!(root.join(&f).is_file(), "{f} is not in docs/screenshots: run kiosk screenshot --all");
        }
    }
    for src in sheet.split("src=\"").skip(1).filter_map(|r| r.split('"').next()) {
        assert!(root.join(src).is_file(), "the sheet shows {src}, which does not exist");
    }
    for e in std::fs::read_dir(root.join("kiosk")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert!(sheet.contains(&format!("kiosk/{name}")), "{name} is not on the sheet (a screen gone?)");
    }
}
