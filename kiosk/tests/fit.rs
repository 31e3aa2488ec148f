//! No text is ever cut: every kiosk screen (25 of them, reached through the production core
//! over the stand-in clinic) × {ru, en} × {normal, large text} × {normal, high contrast}, with
//! the longest real clinic name in the header, laid out at 1080x1920 and measured with Slint's
//! own text metrics. Then the high-contrast theme's colours against WCAG AAA (7:1).
//!
//! One test: Slint takes one platform per process.

use kiosk::modes::screenshot::{FitCheck, LONGEST_CLINIC, Look, SCREENS, ShotError};
use slint::ComponentHandle;

/// WCAG relative luminance of an sRGB colour.
fn luminance(c: slint::Color) -> f64 {
    let ch = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.039_28 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * ch(c.red()) + 0.7152 * ch(c.green()) + 0.0722 * ch(c.blue())
}

fn contrast(a: slint::Color, b: slint::Color) -> f64 {
    let (x, y) = (luminance(a), luminance(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[test]
fn every_screen_fits_and_high_contrast_is_aaa() {
    let check = FitCheck::new().unwrap();
    match check.run(LONGEST_CLINIC) {
        Ok(n) => {
            assert_eq!(n.screens, SCREENS.len() * Look::all().len());
            // Not vacuous: every screen has its header, footer and body texts measured.
            assert!(n.texts >= 8 * n.screens, "only {} texts measured on {} screens", n.texts, n.screens);
        }
        Err(e) => panic!("{e}"),
    }
    // And it does catch what cannot fit: a clinic name no header can hold pushes the screens'
    // own texts off the bottom.
    let absurd = "Поликлиника ".repeat(40);
    match check.run(&absurd) {
        Err(ShotError::Misfits(m)) => {
            for name in ["attract", "menu", "enter-enp", "ticket"] {
                assert!(m.iter().any(|x| x.starts_with(&format!("{name}."))), "{name} not flagged: {m:?}");
            }
            assert!(m.iter().any(|x| x.contains("runs off the screen")), "{m:?}");
            assert!(m.iter().any(|x| x.contains(": \"button ")), "buttons pushed off are named: {m:?}");
        }
        other => panic!("a 480-character clinic name fits? {other:?}"),
    }
    // The theme the screens use.
    let w = check.window();
    w.global::<ui::AppAdapter>().set_high_contrast(true);
    let t = w.global::<ui::Theme>();
    let pairs = [
        ("text on the page", t.get_ink(), t.get_paper()),
        ("text on a card", t.get_ink(), t.get_card()),
        ("text on a secondary button", t.get_ink(), t.get_quiet()),
        ("text on a primary button, the header", t.get_accent_ink(), t.get_accent()),
        ("a warning", t.get_warn(), t.get_paper()),
        ("a warning on a card", t.get_warn(), t.get_card()),
        ("a confirmation", t.get_ok(), t.get_paper()),
        ("a status line", t.get_accent(), t.get_paper()),
        ("a hint", t.get_muted(), t.get_paper()),
    ];
    for (what, fg, bg) in pairs {
        let r = contrast(fg, bg);
        assert!(r >= 7.0, "{what}: {r:.1}:1 in high contrast, AAA needs 7:1");
    }
    w.global::<ui::AppAdapter>().set_high_contrast(false);
    assert!(contrast(t.get_ink(), t.get_paper()) >= 4.5, "the normal theme keeps AA at least");
}
