//! `infomat-dev demo`: the kiosk on embedded defaults.
//!
//! - [`run_headless`]: a scripted walk-in, booking, cancellation, chip card and idle wipe,
//!   printed screen by screen, through the production runtime against the [`Peers`] (central
//!   on SQLite, the virtual printer writing one PNG per ticket, the virtual scanner on a
//!   pseudo-terminal, the virtual CCID reader). Fails loudly if a flow does not end where it
//!   should: it is also the smoke test.
//! - [`run_window`]: `kiosk run`'s runtime in a real window on the same peers, the digit keys
//!   "scanning" demo patients, and the waiting-zone board in a second window.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use kiosk::runtime::Runtime;
use kiosk::session::Action;

use crate::rig::{Peers, RigOptions};
use crate::script::{ScreenHook, ScriptError, Visit};

/// The scripted session against peers in `opts.dir`; tickets go to `opts.tickets`.
pub fn run_headless<W: Write>(
    out: W,
    opts: &RigOptions,
    time: kiosk::clock::ManualTime,
    on_screen: Option<ScreenHook>,
) -> Result<Visit<W>, ScriptError> {
    let mut d = Visit::start(opts, time, out, on_screen)?;

    d.say("\n== 1. Walk-in: a barcode policy is scanned, a duty-doctor ticket is printed")?;
    d.scan(0)?;
    d.expect("card read", "menu")?;
    d.tap(Action::WalkIn)?;
    d.tap(Action::Confirm)?;
    d.expect("walk-in", "ticket")?;
    d.tap(Action::Done)?;
    d.expect("walk-in done", "attract")?;

    d.say("\n== 2. Booking: the policy number is typed, a therapist is booked")?;
    d.type_policy(1)?;
    d.expect("manual entry", "menu")?;
    d.tap(Action::Book)?;
    d.choose_named("Терапевт")?;
    d.tap(Action::Choose(0))?;
    // Tomorrow: today's slots may all be past, whenever the demo runs.
    d.tap(Action::ChooseDay(1))?;
    d.tap(Action::ChooseSlot(2))?;
    d.expect("slot chosen", "confirm-booking")?;
    d.tap(Action::Confirm)?;
    d.expect("booking", "booked")?;
    d.tap(Action::Back)?;

    d.say("\n== 3. The same patient cancels it")?;
    d.tap(Action::MyAppointments)?;
    d.tap(Action::Choose(0))?;
    d.tap(Action::CancelAppointment)?;
    d.tap(Action::Confirm)?;
    d.expect("cancel", "cancelled")?;
    d.tap(Action::Back)?;

    d.say("\n== 4. The patient walks away: warning after 45 s, wiped 15 s later")?;
    d.wait(45_000)?;
    d.wait(15_000)?;
    d.expect("idle", "attract")?;

    d.say("\n== 5. A chip card is inserted: the same menu, no barcode needed")?;
    d.insert_card(4)?;
    d.expect("chip card", "menu")?;
    d.peers.remove_card();
    d.tap(Action::Exit)?;
    d.expect("exit", "attract")?;

    d.say("\n== 6. A blood test by referral: a room's schedule, the preparation on the ticket")?;
    d.scan(2)?;
    d.tap(Action::Referrals)?;
    d.choose_named("Общий анализ крови")?;
    d.expect("the blood test's rooms", "doctors")?;
    d.tap(Action::Choose(0))?;
    d.tap(Action::ChooseDay(1))?;
    d.tap(Action::ChooseSlot(0))?;
    d.tap(Action::Confirm)?;
    d.expect("blood test", "booked")?;
    d.tap(Action::Done)?;

    d.say("\n== 7. The waiting list: the surgeon's one appointment is cancelled, the first in line is offered it")?;
    d.scan(central::seed::SURGEON_HOLDER)?;
    d.tap(Action::MyAppointments)?;
    d.tap(Action::Choose(0))?;
    d.tap(Action::CancelAppointment)?;
    d.tap(Action::Confirm)?;
    d.expect("the surgeon cancelled", "cancelled")?;
    d.tap(Action::Done)?;
    d.scan(central::seed::WAITLISTED[0].0)?;
    d.expect("the offer at the next visit", "waitlist-offer")?;
    d.tap(Action::Confirm)?;
    d.expect("the offer taken", "booked")?;
    d.tap(Action::Done)?;
    d.expect("done", "attract")?;
    Ok(d)
}

/// The windowed demo: the production runtime on the peers, until the window closes.
pub fn run_window(dir: &Path, tickets: &Path) -> Result<(), ScriptError> {
    let mut opts = RigOptions::live(dir);
    opts.tickets = Some(tickets.to_path_buf());
    let peers = Peers::start(&opts)?;
    let mut setup = peers.setup();
    setup.health_listen = Some("127.0.0.1:9464".into());
    let keys = std::sync::Mutex::new(peers.scanner_handle()?);
    setup.demo_scan = Some(Box::new(move |n| {
        let bytes = drivers::sim::scanner::demo_barcode(n);
        if let Err(e) = keys.lock().unwrap_or_else(|e| e.into_inner()).scan(&bytes) {
            log::warn!("demo scanner: {e}");
        }
    }));
    println!("Infomat demo: press 0-9 to scan demo patient N (test data), PIN 1234 for the service screen");
    println!("tickets printed by the virtual printer: {}/ticket-*.png", tickets.display());
    let board = start_board(dir, peers.central_url(), &peers.rt);
    let result = Runtime::start(setup).and_then(Runtime::run);
    if let Some(mut b) = board {
        let _ = b.kill();
        let _ = b.wait();
    }
    Ok(result?)
}

/// The demo's waiting-zone board: `kiosk display` in its own window on the demo central, and a
/// doctor who calls the next walk-in every 20 s so the board has something to show.
fn start_board(dir: &Path, central: &str, rt: &tokio::runtime::Runtime) -> Option<std::process::Child> {
    let config = dir.join("display.toml");
    // Each with its own least role: the board reads the queue, the doctor calls.
    let board = central::auth::DEMO_BOARD;
    let text = format!(
        "[kiosk]\nid = 50\nlpu_id = 1\nclinic_name = \"Городская поликлиника № 1\"\ntimezone = \"Europe/Moscow\"\n\
         [central]\nurl = \"{central}\"\ntoken = \"{board}\"\n[health]\nlisten = \"127.0.0.1:9465\"\n"
    );
    if let Err(e) = std::fs::write(&config, text) {
        eprintln!("infomat-dev: demo board: {e}");
        return None;
    }
    let exe = crate::kiosk_binary();
    let child = match std::process::Command::new(&exe).arg("display").arg("--config").arg(&config).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("infomat-dev: demo board ({}): {e}", exe.display());
            return None;
        }
    };
    let central = central.to_owned();
    rt.spawn(async move {
        let rooms = ["214", "215", "105"];
        for n in 0.. {
            tokio::time::sleep(Duration::from_secs(20)).await;
            let params =
                protocol::CallNextParams { lpu_id: 1, room: rooms[n % rooms.len()].into(), doctor_id: None };
            let doctor = central::auth::DEMO_DOCTOR;
            if let Err(e) = central::client::call::<protocol::call::CallNext>(&central, doctor, &params).await
            {
                log::warn!("demo doctor: callNext: {e}");
            }
        }
    });
    println!("waiting-zone board: a second window; a doctor calls the next ticket every 20 s");
    Some(child)
}
