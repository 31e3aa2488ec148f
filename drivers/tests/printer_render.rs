//! Our tickets through the virtual printer: the text reads back, and every QR decodes from the
//! rendered PNG pixels (rqrr) to exactly what was encoded.

use drivers::printer::bitmap::Bitmap;
use drivers::printer::codepage::{CodePage, Family};
use drivers::printer::layout::{
    self, AppointmentTicket, LayoutConfig, Paper, TestPage, TextMode, TicketDoc, WalkInTicket,
};
use drivers::sim::printer::render_stream;

fn walk_in(offline: bool) -> TicketDoc {
    TicketDoc::WalkIn(WalkInTicket {
        clinic: "Городская поликлиника № 1".into(),
        number: if offline { "К2-005".into() } else { "Д-017".into() },
        issued: "23.11.2026 08:30".into(),
        ahead: 3,
        estimate_minutes: Some(15),
        // Few visits measured yet: a wide range, printed on its own line.
        estimate_range: Some((10, 25)),
        // Offline the kiosk knows neither.
        room: (!offline).then(|| "214".into()),
        ticket_id: "a1b2c3d4-0017".into(),
        offline,
    })
}

fn appointment() -> TicketDoc {
    TicketDoc::Appointment(AppointmentTicket {
        clinic: "Городская поликлиника № 1".into(),
        address: "ул. Садовая, 12".into(),
        heading: "ЗАПИСЬ К ВРАЧУ".into(),
        speciality: "Терапевт".into(),
        doctor: layout::surname_with_initials("Иванова Мария Петровна"),
        cabinet: "214".into(),
        when: "пн, 23.11.2026, 09:40".into(),
        number: "5002".into(),
        patient: "Петрова А. В.".into(),
        appointment_id: 5002,
        cancel_hint: "в инфомате или по телефону +7 495 000-00-00".into(),
        preparation: String::new(),
    })
}

/// A blood test by referral: a room, not a doctor, and what to do before coming.
fn lab() -> TicketDoc {
    TicketDoc::Appointment(AppointmentTicket {
        clinic: "Городская поликлиника № 1".into(),
        address: "ул. Садовая, 12".into(),
        heading: "ЗАПИСЬ НА АНАЛИЗ".into(),
        speciality: "Общий анализ крови".into(),
        doctor: "Процедурный кабинет".into(),
        cabinet: "105".into(),
        when: "вт, 24.11.2026, 08:10".into(),
        number: "1-000017".into(),
        patient: "Петрова А. В.".into(),
        appointment_id: 17,
        cancel_hint: "в инфомате или по телефону +7 495 000-00-00".into(),
        preparation: "Натощак, воду пить можно.".into(),
    })
}

/// Decodes every QR code in a rendered receipt.
pub fn decode_qr(img: &Bitmap) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(img.width, img.height, |x, y| {
        if img.get(x, y) { 0 } else { 255 }
    });
    prepared.detect_grids().into_iter().filter_map(|g| g.decode().ok().map(|(_, content)| content)).collect()
}

fn out_dir() -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("tickets");
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn every_ticket_qr_decodes_back_from_the_png() {
    let configs = [
        (
            "80-cp866",
            LayoutConfig {
                paper: Paper::Mm80,
                text: TextMode::CodePage { page: CodePage::Pc866, number: 17 },
            },
        ),
        (
            "58-cp866",
            LayoutConfig {
                paper: Paper::Mm58,
                text: TextMode::CodePage { page: CodePage::Pc866, number: 17 },
            },
        ),
        (
            "80-1251",
            LayoutConfig {
                paper: Paper::Mm80,
                text: TextMode::CodePage { page: CodePage::Wpc1251, number: 46 },
            },
        ),
        ("80-raster", LayoutConfig { paper: Paper::Mm80, text: TextMode::Raster }),
    ];
    for (name, cfg) in configs {
        for (doc, want_qr) in [
            (walk_in(false), "INFOMAT:T:a1b2c3d4-0017"),
            (walk_in(true), "INFOMAT:T:a1b2c3d4-0017"),
            (appointment(), "INFOMAT:A:5002"),
            (lab(), "INFOMAT:A:17"),
        ] {
            let bytes = layout::encode(&doc, cfg).unwrap();
            let receipts = render_stream(&bytes, Family::Epson, cfg.paper.dots());
            assert_eq!(receipts.len(), 1, "{name}: one cut, one receipt");
            let r = &receipts[0];
            assert_eq!(r.image.width, cfg.paper.dots());
            // Round-trip through PNG bytes, as a scanner at the kiosk would see the paper.
            let png = r.image.to_png();
            let kind = match &doc {
                TicketDoc::WalkIn(t) if t.offline => "walkin-offline",
                TicketDoc::WalkIn(_) => "walkin",
                TicketDoc::Appointment(a) if !a.preparation.is_empty() => "lab",
                _ => "appointment",
            };
            std::fs::write(out_dir().join(format!("{kind}-{name}.png")), &png).unwrap();
            let decoded = decode_png(&png);
            assert_eq!(decode_qr(&decoded), vec![want_qr.to_owned()], "{name} {kind}");
            if cfg.text != TextMode::Raster {
                assert!(
                    r.lines.iter().any(|l| ["К2-005", "Д-017", "Кабинет 214", "Кабинет 105"]
                        .iter()
                        .any(|w| l.contains(w))),
                    "{name}: {:?}",
                    r.lines
                );
            }
        }
    }
}

#[test]
fn appointment_ticket_text_is_complete_and_private() {
    let cfg =
        LayoutConfig { paper: Paper::Mm80, text: TextMode::CodePage { page: CodePage::Pc866, number: 17 } };
    let r = &render_stream(&layout::encode(&appointment(), cfg).unwrap(), Family::Epson, 576)[0];
    let text = r.lines.join("\n");
    for want in [
        "Городская поликлиника № 1",
        "ул. Садовая, 12",
        "Терапевт: Иванова М. П.",
        "Кабинет 214",
        "пн, 23.11.2026, 09:40",
        "Запись № 5002",
        "Пациент: Петрова А. В.",
        "Отменить или перенести",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    assert!(!text.contains("Мария") && !text.contains("Анна"), "no full names on paper");
}

#[test]
fn lab_ticket_says_what_room_and_how_to_prepare() {
    for paper in [Paper::Mm80, Paper::Mm58] {
        let cfg = LayoutConfig { paper, text: TextMode::CodePage { page: CodePage::Pc866, number: 17 } };
        let r = &render_stream(&layout::encode(&lab(), cfg).unwrap(), Family::Epson, paper.dots())[0];
        let text = r.lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
        for want in [
            "ЗАПИСЬ НА АНАЛИЗ",
            "Общий анализ крови: Процедурный кабинет",
            "Кабинет 105",
            "Подготовка: Натощак, воду пить можно.",
        ] {
            assert!(text.contains(want), "{paper:?}: missing {want:?} in {:?}", r.lines);
        }
    }
}

#[test]
fn test_page_prints_each_candidate_code_page() {
    let cfg =
        LayoutConfig { paper: Paper::Mm80, text: TextMode::CodePage { page: CodePage::Pc866, number: 17 } };
    let page = TicketDoc::TestPage(TestPage {
        model: "generic-epson".into(),
        candidates: vec![(CodePage::Pc866, 17), (CodePage::Wpc1251, 46)],
    });
    let receipts = render_stream(&layout::encode(&page, cfg).unwrap(), Family::Epson, 576);
    let text = receipts[0].lines.join("\n");
    std::fs::write(out_dir().join("test-page.png"), receipts[0].image.to_png()).unwrap();
    assert!(text.contains("ESC t 17 PC866: АБВГДЕЁЖЗИЙ"), "{text}");
    assert!(text.contains("ESC t 46 WPC1251: АБВГДЕЁЖЗИЙ"), "{text}");
    assert!(text.contains("[QR INFOMAT:TEST]"));
    assert!(text.contains("[CODE128 INFOMAT-TEST-128]"));
}

fn decode_png(png: &[u8]) -> Bitmap {
    let dec = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let mut b = Bitmap::new(info.width as usize, info.height as usize);
    for y in 0..info.height as usize {
        for x in 0..info.width as usize {
            b.set(x, y, buf[y * info.width as usize + x] < 128);
        }
    }
    b
}

#[test]
fn walk_in_ticket_says_who_is_ahead_how_long_and_where() {
    for paper in [Paper::Mm80, Paper::Mm58] {
        let cfg = LayoutConfig { paper, text: TextMode::CodePage { page: CodePage::Pc866, number: 17 } };
        let r =
            &render_stream(&layout::encode(&walk_in(false), cfg).unwrap(), Family::Epson, paper.dots())[0];
        // Wrapped on 58 mm: the phrase reads the same once the lines are joined.
        let text = r.lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
        // CP866 has no en dash: the range reads "10-25" on paper.
        for want in ["Перед вами 3 человека", "Ожидание: около 15 мин (10-25)", "Кабинет 214"]
        {
            assert!(text.contains(want), "{paper:?}: missing {want:?} in {:?}", r.lines);
        }
    }
}
