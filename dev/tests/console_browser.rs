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
    let browser = rt.block_on(Browser::start(1280, 900)).expect("headless Chromium");
    let run = |f: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>| rt.block_on(f);

    run(Box::pin(async {
        // Not logged in: the console sends people to its login page.
        browser.goto(&format!("{central}/console/")).await.unwrap();
        assert!(browser.url().await.unwrap().ends_with("/console/login"));
        // A kiosk's token is not a member of staff.
        browser.type_into("#token", infomat_dev::rig::TOKEN).await.unwrap();
        browser.click("form button[type=submit]").await.unwrap();
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
