//! The staff console in a real browser: Debian's headless Chromium driven over WebDriver
//! (`infomat_dev::webdriver`), against the central a kiosk issues tickets on. A doctor logs in,
//! calls the next patient by button and by keyboard, marks a no-show, repeats a call; the
//! waiting-zone board model, fed by the real feed client, shows every call. A kiosk's token
//! does not open the console, and a POST without the session's CSRF token is refused.
//! Screenshots of what the doctor sees go to `docs/screenshots/console-*.png` when
//! `INFOMAT_SCREENSHOTS=1` (else to the test's temporary directory).

mod clinic;

use std::path::PathBuf;
use std::time::Duration;

use clinic::Clinic;
use infomat_dev::webdriver::Browser;

fn shot_path(name: &str) -> PathBuf {
    if std::env::var_os("INFOMAT_SCREENSHOTS").is_some() {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots").join(name)
    } else {
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
    }
}

const WAIT: Duration = Duration::from_secs(10);

/// The page has its answer: the buttons are back (one click, one action, meanwhile).
const READY: &str = "!document.querySelector('button[value=call]').disabled";

#[test]
fn a_doctor_runs_the_queue_from_the_console_and_the_board_follows() {
    let mut c = Clinic::start("console");
    let tickets: Vec<String> = (0..4).map(|i| c.take_ticket(i)).collect();
    assert_eq!(tickets, ["Д-001", "Д-002", "Д-003", "Д-004"]);
    c.pump("the snapshot with 4 waiting", |b| b.board.connected && b.board.waiting == 4);
    let central = c.kiosk.peers.central_url().trim_end_matches('/').to_owned();
    // The browser's own runtime: the kiosk's is the clinic's, borrowed by its pump.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let browser = rt.block_on(Browser::start(1280, 1000)).expect("headless Chromium");
    let run = |f: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>| rt.block_on(f);

    run(Box::pin(async {
        // Not logged in: the console sends people to its login page.
        browser.goto(&format!("{central}/console/")).await.unwrap();
        assert!(browser.url().await.unwrap().ends_with("/console/login"));
        // A kiosk's token is not a member of staff.
        browser.type_into("#token", infomat_dev::rig::TOKEN).await.unwrap();
        browser.click("form button[type=submit]").await.unwrap();
        // The click returns before the answer's page has loaded.
        browser.wait_for("document.querySelector('.error') !== null", WAIT).await.unwrap();
        assert!(browser.text(".error").await.unwrap().contains("Этим ключом нельзя войти"));
        browser.type_into("#token", central::auth::DEMO_DOCTOR).await.unwrap();
        browser.type_into("#room", "214").await.unwrap();
        browser.screenshot(&shot_path("console-login.png")).await.unwrap();
        browser.click("form button[type=submit]").await.unwrap();
        browser.wait_text("#waiting", "4", WAIT).await.unwrap();
        let cookie = browser.cookie(central::console::COOKIE).await.unwrap();
        assert_eq!(
            (cookie["httpOnly"].as_bool(), cookie["sameSite"].as_str()),
            (Some(true), Some("Strict")),
            "{cookie}"
        );
        assert_eq!(cookie["secure"].as_bool(), Some(true), "{cookie}");
        assert_eq!(browser.text("#next").await.unwrap().split_whitespace().collect::<Vec<_>>(), tickets);
        browser.click("button[value=call]").await.unwrap();
        browser.wait_text("#current", "Д-001", WAIT).await.unwrap();
    }));
    c.pump("Д-001 called to 214 on the board", |b| {
        b.board.calls.iter().any(|call| call.ticket_number == "Д-001" && call.room == "214")
    });

    // The patient does not come: the doctor calls again, and the board announces it again.
    let seq = c.board.board.announced_seq;
    run(Box::pin(async {
        browser.click("button[value=recall]").await.unwrap();
        browser.wait_for(READY, WAIT).await.unwrap();
    }));
    c.pump("the repeated call announced", |b| b.board.announced_seq > seq);
    assert_eq!(c.announced, ["Д-001", "Д-001"], "the call, then its repeat");
    run(Box::pin(async {
        // Then marks the no-show (key X) and calls the next (key N), without the mouse.
        browser.press_key("x").await.unwrap();
        browser.wait_for(READY, WAIT).await.unwrap();
        browser.wait_text("#current", "—", WAIT).await.unwrap();
        browser.press_key("n").await.unwrap();
        browser.wait_text("#current", "Д-002", WAIT).await.unwrap();
        browser.wait_text("#waiting", "2", WAIT).await.unwrap();
        browser.screenshot(&shot_path("console-doctor.png")).await.unwrap();
        // A state change without the session's CSRF token is refused, and changes nothing.
        let status = browser
            .run_async(
                "const done = arguments[0];
                 fetch('/console/doctor', {method: 'POST', body: new URLSearchParams({room: '214', action: 'call'})})
                   .then(r => done(r.status), e => done(String(e)));",
            )
            .await
            .unwrap();
        assert_eq!(status, 403);
    }));
    c.pump("Д-002 called on the board, 2 waiting", |b| {
        b.board.waiting == 2 && b.board.calls.iter().any(|call| call.ticket_number == "Д-002")
    });
    assert_eq!(c.announced, ["Д-001", "Д-001", "Д-002"]);
    assert!(!c.shown().contains(&"Д-003".to_owned()), "the CSRF-less POST called nobody");
    run(Box::pin(async {
        browser.click("button[value=done]").await.unwrap();
        browser.wait_text("#current", "—", WAIT).await.unwrap();
    }));
    rt.block_on(browser.close());
}

/// Logs the browser out (if in) and in again with `token`.
async fn log_in_as(browser: &Browser, central: &str, token: &str, room: &str) {
    browser.goto(&format!("{central}/console/login")).await.unwrap();
    browser.type_into("#token", token).await.unwrap();
    if !room.is_empty() {
        browser.type_into("#room", room).await.unwrap();
    }
    browser.click("form button[type=submit]").await.unwrap();
    browser.wait_for("!location.pathname.endsWith('/login')", WAIT).await.unwrap();
}

#[test]
fn the_desk_issues_a_priority_ticket_the_head_opens_a_cabinet_and_it_sees_the_fleet() {
    let mut c = Clinic::start("console-desk");
    let tickets: Vec<String> = (0..2).map(|i| c.take_ticket(i)).collect();
    assert_eq!(tickets, ["Д-001", "Д-002"]);
    let central = c.kiosk.peers.central_url().trim_end_matches('/').to_owned();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let browser = rt.block_on(Browser::start(1280, 1100)).expect("headless Chromium");
    let run = |f: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>| rt.block_on(f);
    let veteran = domain::demo::patient(2);

    run(Box::pin(async {
        // The info desk finds a veteran by policy and birth date and issues a priority ticket.
        log_in_as(&browser, &central, central::auth::DEMO_DESK, "").await;
        browser.type_into("#policy", &veteran.enp.expose()).await.unwrap();
        browser.type_into("#birth", &veteran.birth_date.to_ru_string()).await.unwrap();
        browser.click("#find").await.unwrap();
        browser.wait_for("document.getElementById('patient')", WAIT).await.unwrap();
        assert_eq!(
            browser.text("#patient").await.unwrap(),
            veteran.name.surname_and_initials().to_uppercase()
        );
        browser
            .run_async("document.getElementById('category').value = 'veteran'; arguments[0](true);")
            .await
            .unwrap();
        browser.screenshot(&shot_path("console-desk.png")).await.unwrap();
        browser.click("#issue").await.unwrap();
        browser.wait_text("#issued", "Д-003", WAIT).await.unwrap();
        // Issued after two others, within the veteran's head start: first in line.
        assert_eq!(browser.text("#ahead").await.unwrap(), "Перед пациентом никого нет");

        // The doctor's next call picks it, by the policy.
        log_in_as(&browser, &central, central::auth::DEMO_DOCTOR, "214").await;
        let next = browser.text("#next").await.unwrap();
        assert!(next.starts_with("Д-003 ветеран"), "{next}");
        browser.click("button[value=call]").await.unwrap();
        browser.wait_text("#current", "Д-003", WAIT).await.unwrap();
    }));
    c.pump("Д-003 called to 214 on the board", |b| {
        b.board.calls.iter().any(|call| call.ticket_number == "Д-003" && call.room == "214")
    });
    assert_eq!(c.call_next("214"), "Д-001");
    assert_eq!(c.call_next("214"), "Д-002");

    run(Box::pin(async {
        // The head opens cabinet 216 for today's duty.
        log_in_as(&browser, &central, central::auth::DEMO_HEAD, "").await;
        browser.type_into("#open-room", "216").await.unwrap();
        browser.click("#open").await.unwrap();
        browser.wait_for("document.querySelector('tr[data-room=\"216\"]')", WAIT).await.unwrap();
    }));
    // A kiosk walk-in lands there at once, and 216's doctor calls it.
    let walk_in = c.take_ticket(3);
    assert_eq!(walk_in, "Д-004");
    run(Box::pin(async {
        browser.goto(&format!("{central}/console/")).await.unwrap();
        let row = browser
            .text("tr[data-room=\"216\"]")
            .await
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(row.starts_with("216 открыт 1 0"), "one waiting for 216, none served: {row}");
        assert_eq!(browser.text("#unassigned").await.unwrap(), "0");
    }));
    assert_eq!(c.call_next("216"), "Д-004");
    run(Box::pin(async {
        // The fleet: the kiosk reported itself through its heartbeat (the production runtime's);
        // a board (here its token over the API: this clinic's board is a model) reports too.
        let board = protocol::DeviceStatusParams {
            kiosk_id: 50,
            version: kiosk::VERSION.to_owned(),
            printer: "none".into(),
            scanner: "none".into(),
            card_reader: "none".into(),
            journal_backlog: 0,
            journal_rejected: 0,
            help_requested: false,
        };
        central::client::call::<protocol::call::ReportDeviceStatus>(
            &central,
            central::auth::DEMO_BOARD,
            &board,
        )
        .await
        .unwrap();
        browser.click("nav a[href='/console/fleet']").await.unwrap();
        browser.wait_for("document.getElementById('machines')", WAIT).await.unwrap();
        let table = browser.text("#machines").await.unwrap();
        assert!(table.contains("инфомат 2 сейчас") && table.contains("Демо-табло 50 табло 50"), "{table}");
        browser.screenshot(&shot_path("console-fleet.png")).await.unwrap();
    }));
    rt.block_on(browser.close());
}

/// A morning at a clinic, minute by minute from 08:00 to 11:00 on central's clock: walk-ins
/// arrive, the head opens cabinets as the queue grows and closes one, doctors call, see
/// patients for 8 to 14 minutes and now and then mark a no-show. Then the head's view in the
/// browser: each cabinet's load and the chart of the morning.
#[test]
fn a_head_of_department_watches_a_simulated_morning() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use protocol::call;
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("morning-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let monday = domain::Date::from_ymd(2026, 11, 23).unwrap();
    let minute = Arc::new(AtomicU32::new(8 * 60));
    let clock: central::app::Clock = {
        let minute = minute.clone();
        Arc::new(move || {
            let m = minute.load(Ordering::Relaxed);
            domain::DateTime::new(monday, m / 60, m % 60, 180).unwrap()
        })
    };
    // A morning's walk-ins from one kiosk, in seconds of real time: not a patient probing.
    let tune: central::embedded::Tune = Arc::new(|s| s.ident_per_minute = 100_000);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let db = dir.join("central.sqlite");
    let e = rt
        .block_on(central::embedded::Embedded::start(
            db.to_str().unwrap(),
            monday,
            std::collections::HashMap::<String, u32>::new(),
            clock.clone(),
            tune,
        ))
        .unwrap();
    let (base, store) = (e.url(), e.state().unwrap().store.clone());
    // A deterministic scatter of arrivals and visit lengths.
    let hash =
        |m: u32, salt: u32| (m.wrapping_mul(2_654_435_761) ^ salt.wrapping_mul(40_503)).rotate_left(13) % 100;
    let mut rooms: Vec<(&str, Option<String>, u32)> = Vec::new();
    let mut next_patient = 0;
    rt.block_on(async {
        for m in 8 * 60..11 * 60 {
            minute.store(m, Ordering::Relaxed);
            let now = clock();
            // 214 and 215 open the morning; the queue grows, and the head opens 216 for an hour.
            if let Some(room) =
                [(480, "214"), (510, "215"), (570, "216")].iter().find(|o| o.0 == m).map(|o| o.1)
            {
                central::duty::open(&store, 1, room, None, now).await.unwrap();
                rooms.push((room, None, 0));
            }
            if m == 630 {
                central::duty::close(&store, 1, "216", now).await.unwrap();
                rooms.retain(|r| r.0 != "216");
            }
            // Busier at opening: about one walk-in every two minutes, then one in three.
            let chance = if m < 570 { 50 } else { 33 };
            if hash(m, 1) < chance {
                let p = domain::demo::patient(next_patient % domain::demo::COUNT);
                next_patient += 1;
                let params = protocol::EnqueueParams {
                    patient: protocol::PatientParams { oms_number: p.enp, birth_date: p.birth_date },
                    lpu_id: 1,
                    kiosk_id: 2,
                    request_id: format!("m{m}"),
                };
                // A patient still waiting from earlier is refused: that is the rule, not a fault.
                let _ =
                    central::client::call::<call::EnqueueWalkIn>(&base, central::auth::DEMO_KIOSK, &params)
                        .await;
            }
            for (room, current, free_at) in &mut rooms {
                if m < *free_at {
                    continue;
                }
                if let Some(id) = current.take() {
                    let params = protocol::TicketParams { ticket_id: id };
                    let doctor = central::auth::DEMO_DOCTOR;
                    if hash(m, 7) < 8 {
                        central::client::call::<call::MarkNoShow>(&base, doctor, &params).await.unwrap();
                    } else {
                        central::client::call::<call::CompleteTicket>(&base, doctor, &params).await.unwrap();
                    }
                }
                let params =
                    protocol::CallNextParams { lpu_id: 1, room: (*room).to_owned(), doctor_id: None };
                if let Some(t) =
                    central::client::call::<call::CallNext>(&base, central::auth::DEMO_DOCTOR, &params)
                        .await
                        .unwrap()
                {
                    *current = Some(t.ticket_id);
                    *free_at = m + 8 + hash(m, 3) % 7;
                }
            }
        }
    });
    let report = rt.block_on(central::duty::day_report(&store, 1, clock())).unwrap();
    let served: u32 = report.rooms.iter().map(|r| r.served).sum();
    assert!(served > 25, "a morning's work: {report:?}");
    assert!(report.waiting_over_day.iter().any(|(_, n)| *n >= 5), "the queue grew: {report:?}");
    let room_216 = report.rooms.iter().find(|r| r.room == "216").expect("216 worked");
    assert_eq!((room_216.open, room_216.waiting), (Some(false), 0), "closed, its queue moved");

    let browser = rt.block_on(Browser::start(1280, 2000)).expect("headless Chromium");
    rt.block_on(async {
        log_in_as(&browser, &base, central::auth::DEMO_HEAD, "").await;
        let p90 = browser.text("tr[data-room=\"214\"] td:nth-of-type(5)").await.unwrap();
        assert!(p90.ends_with("мин") && p90 != "0 мин", "214's p90 wait: {p90}");
        // Extra time for the ophthalmologist this evening through the real form: the date and
        // time inputs' defaults are what Chromium posts (today, 16:00-18:00, 20 minutes).
        browser.click("#extra-doctor option[value=\"201\"]").await.unwrap();
        browser.click("#extra").await.unwrap();
        browser.wait_for("document.querySelector('#done') !== null", WAIT).await.unwrap();
        let done = browser.text("#done").await.unwrap();
        assert!(done.starts_with("Открыто приёмов: 6 (23.11.2026)."), "{done}");
        browser.wait_for("document.querySelectorAll('#chart rect').length > 10", WAIT).await.unwrap();
        browser.screenshot(&shot_path("console-head.png")).await.unwrap();
    });
    rt.block_on(browser.close());
    let _ = std::fs::remove_dir_all(&dir);
}
