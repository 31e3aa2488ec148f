//! The headless demo (`infomat-dev demo --headless`, what `make demo` runs without a display):
//! every flow ends where it should, the virtual printer cut each ticket, a picture of every
//! screen is written, and nothing personal is printed in clear.

use infomat_dev::rig::RigOptions;

fn kiosk_dev() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_infomat-dev"))
}

#[test]
fn headless_demo_succeeds_and_masks_patients() {
    let cwd =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-demo-{}", std::process::id()));
    std::fs::create_dir_all(&cwd).unwrap();
    let out = kiosk_dev().args(["demo", "--headless"]).current_dir(&cwd).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Tickets from the virtual printer and a picture of every screen, where it says.
    assert!(cwd.join("demo-out/tickets/ticket-0001.png").exists());
    assert!(cwd.join("demo-out/screens/01-attract.png").exists());
    let shots = std::fs::read_dir(cwd.join("demo-out/screens")).unwrap().count();
    assert!(shots >= 20, "one picture per screen: {shots}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[ticket]") && text.contains("[booked]") && text.contains("[cancelled]"), "{text}");
    assert!(text.contains("every flow ended where it should"));
    // The demo patients' surnames appear masked only.
    assert!(!text.contains("ПЕТРОВА") && !text.contains("СИДОРОВ"), "{text}");
}

#[test]
fn the_scripted_visits_leave_four_tickets_and_nothing_personal() {
    let mut out = Vec::new();
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("demo-lib-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let at = domain::DateTime::new(domain::Date::from_ymd(2026, 11, 23).unwrap(), 10, 0, 180).unwrap();
    let (mut opts, time) = RigOptions::fixed(&dir.join("rig"), at);
    opts.tickets = Some(dir.join("tickets"));
    let d = infomat_dev::demo::run_headless(&mut out, &opts, time, None).unwrap();
    assert!(d.session().holds_no_patient_data());
    let receipts = d.peers.receipts();
    drop(d);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        receipts.len(),
        4,
        "a walk-in, an appointment, a blood test, the surgeon's freed time:\n{text}"
    );
    assert!(receipts.iter().all(|r| r.complete));
    assert!(dir.join("tickets/ticket-0001.png").exists() && dir.join("tickets/ticket-0002.png").exists());
    assert!(text.contains("    | Д-001"), "{text}");
    assert!(text.contains("    | [QR INFOMAT:A:"), "{text}");
    assert!(text.contains("[cancelled]"), "{text}");
    assert!(text.contains("(idle warning shown)"), "{text}");
    assert!(text.contains("== 5. A chip card"), "{text}");
    assert!(text.contains("    | Подготовка: Натощак"), "the blood test's preparation on paper:\n{text}");
    assert!(text.contains("[waitlist-offer]"), "{text}");
    // Nothing personal in clear, apart from surname + initials on the appointment ticket.
    for p in domain::demo::patients() {
        assert!(!text.contains(&p.enp.expose()), "clear ENP in demo output");
        assert!(!text.contains(p.name.first.expose()), "clear first name in demo output");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
