//! The fuzz targets' seed corpora (fuzz/corpus/TARGET/) are real inputs: policy barcodes of the
//! demo patients, those barcodes cut into scanner reads, chip-card files, ESC/POS streams from
//! our layouts, python-escpos and receiptline, JSON-RPC calls and replies. This test rebuilds them and fails
//! when the committed files differ; `INFOMAT_WRITE_SEEDS=1 cargo test -p drivers --test
//! fuzz_seeds` rewrites them.

use std::path::PathBuf;

use domain::PolicySource;
use drivers::card::barcode::BarcodeType;
use drivers::printer::codepage::CodePage;
use drivers::printer::layout::{self, LayoutConfig, Paper, TextMode, TicketDoc, WalkInTicket};

fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    for i in [0usize, 1, 7] {
        let p = domain::demo::patient(i);
        for (kind, tag) in [(BarcodeType::T01, "01"), (BarcodeType::T02, "02")] {
            let b = drivers::sim::scanner::policy_barcode(kind, p.enp, &p.name, p.sex, p.birth_date, None)
                .unwrap();
            // The framing target reads [control byte: piece length | 0x40 pause after] pieces.
            let mut framed = Vec::new();
            let pieces: Vec<&[u8]> = b.chunks(40).collect();
            for (j, piece) in pieces.iter().enumerate() {
                let pause = if j + 1 == pieces.len() { 0x40 } else { 0 };
                framed.push(piece.len() as u8 | pause);
                framed.extend_from_slice(piece);
            }
            out.push(("scanner_framing", format!("demo-{i}-type{tag}.bin"), framed));
            out.push(("barcode", format!("demo-{i}-type{tag}.bin"), b));
        }
        let policy = domain::Policy::from_number(p.enp, PolicySource::ChipCard);
        let owner = drivers::sim::card::owner_file(
            &domain::Policy {
                name: p.name.clone(),
                sex: Some(p.sex),
                birth_date: Some(domain::BirthDate(p.birth_date)),
                ..policy
            },
            &[],
        );
        out.push(("tlv_apdu", format!("owner-demo-{i}.bin"), owner));
    }
    let lc =
        LayoutConfig { paper: Paper::Mm80, text: TextMode::CodePage { page: CodePage::Pc866, number: 17 } };
    let ticket = TicketDoc::WalkIn(WalkInTicket {
        clinic: "Городская поликлиника № 1".into(),
        number: "Д-017".into(),
        issued: "23.11.2026 08:30".into(),
        ahead: 3,
        estimate_minutes: Some(15),
        estimate_range: None,
        room: None,
        ticket_id: "1-2026-11-23-000017".into(),
        offline: false,
    });
    out.push(("escpos", "walk-in-ticket.bin".into(), layout::encode(&ticket, lc).unwrap()));
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/python-escpos");
    for name in [
        "cp866_text.bin",
        "qr_native.bin",
        "code128.bin",
        "raster.bin",
        "table_tabs.bin",
        "barcodes_hw.bin",
        "image_graphics.bin",
        "image_column.bin",
    ] {
        out.push(("escpos", format!("python-escpos-{name}"), std::fs::read(fixtures.join(name)).unwrap()));
    }
    // receiptline: function-style FS ( / GS ( / GS 8 L commands, ESC $ / ESC \ columns, rules.
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/receiptline");
    for name in ["ticket_cp866.bin", "barcodes.bin", "multilingual.bin"] {
        out.push(("escpos", format!("receiptline-{name}"), std::fs::read(fixtures.join(name)).unwrap()));
    }
    for (name, body) in [
        (
            "identify.json",
            r#"{"jsonrpc":"2.0","id":"k1-1","method":"getPatientInfo3","params":{"omsNumber":"7700000000000016","birthDate":"1948-03-05"}}"#,
        ),
        (
            "book.json",
            r#"{"jsonrpc":"2.0","id":7,"method":"createAppointment","params":{"omsNumber":"7700000000000016","birthDate":"1948-03-05","availableResourceId":101,"complexResourceId":1010,"receptionDate":"2026-11-24","startTime":"09:40","requestId":"k2-a-3"}}"#,
        ),
        (
            "enqueue.json",
            r#"{"jsonrpc":"2.0","id":2,"method":"enqueueWalkIn","params":{"omsNumber":"7700000000000016","birthDate":"1948-03-05","lpuId":1,"kioskId":2,"requestId":"k2-b-1"}}"#,
        ),
        (
            "call-next.json",
            r#"{"jsonrpc":"2.0","id":3,"method":"callNext","params":{"lpuId":1,"room":"214"}}"#,
        ),
        ("resume.json", r#"{"type":"resume","afterSeq":41}"#),
        ("not-rpc.json", r#"{"jsonrpc":"1.0","id":[1,2],"method":5}"#),
    ] {
        out.push(("jsonrpc_request", name.into(), body.as_bytes().to_vec()));
    }
    for (name, body) in [
        (
            "ticket.json",
            r#"{"jsonrpc":"2.0","id":2,"result":{"ticketId":"1-2026-11-23-000017","ticketNumber":"Д-017","issuedAt":"2026-11-23T08:30:00+03:00","position":3,"estimatedWaitMinutes":20}}"#,
        ),
        (
            "queue-state.json",
            r#"{"jsonrpc":"2.0","id":4,"result":{"lpuId":1,"waiting":12,"called":[{"ticketNumber":"Д-016","room":"215","calledAt":"2026-11-23T09:40:00+03:00"}],"averageWaitMinutes":15}}"#,
        ),
        (
            "error.json",
            r#"{"jsonrpc":"2.0","id":5,"error":{"code":-32000,"message":"Already in the queue","data":{"code":"ALREADY_IN_QUEUE"}}}"#,
        ),
        ("empty-list.json", r#"{"jsonrpc":"2.0","id":6,"result":{}}"#),
        (
            "called.json",
            r#"{"type":"called","seq":42,"ticketNumber":"Д-017","room":"214","calledAt":"2026-11-23T09:41:00+03:00"}"#,
        ),
        ("proxy-page.html", "<html><body>502 Bad Gateway</body></html>"),
    ] {
        out.push(("jsonrpc_reply", name.into(), body.as_bytes().to_vec()));
    }
    out
}

#[test]
fn seed_corpora_are_committed_and_current() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let write = std::env::var_os("INFOMAT_WRITE_SEEDS").is_some();
    let mut stale = Vec::new();
    for (target, name, bytes) in seeds() {
        let path = root.join(target).join(&name);
        if write {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(stale.is_empty(), "seed files missing or stale (INFOMAT_WRITE_SEEDS=1 rewrites them): {stale:?}");
}

#[test]
fn the_seeds_are_inputs_the_parsers_accept() {
    for (target, name, bytes) in seeds() {
        match target {
            "barcode" => assert!(drivers::card::barcode::decode(&bytes).is_ok(), "{name}"),
            "tlv_apdu" => assert!(drivers::card::chip::parse_owner(&bytes).is_ok(), "{name}"),
            "jsonrpc_request"
                if name.ends_with(".json") && name != "not-rpc.json" && name != "resume.json" =>
            {
                assert!(protocol::parse_request(&bytes).is_ok(), "{name}")
            }
            _ => {}
        }
    }
}
