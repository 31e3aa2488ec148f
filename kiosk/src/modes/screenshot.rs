//! `kiosk screenshot`: any screen, with sample data, rendered by Slint's software renderer at
//! its real size into a PNG (docs, visual review), without a display.
//!
//! Sample states are reached the honest way: the real session driven by taps and cards against
//! the in-memory stand-in clinic, exactly as the headless demo does.

use std::path::Path;

use slint::ComponentHandle;

use crate::offscreen::{Offscreen, OffscreenError};

use domain::{Date, PolicySource};

use super::demo::{Driver, EffectRunner};
use super::standin::StandInClinic;
use crate::session::{Action, CentralError, Effect, Event, Lang, PrinterHealth, SessionConfig};

/// Every screen `--screen` accepts; `attract` first.
pub const SCREENS: [&str; 22] = [
    "attract",
    "enter-enp",
    "enter-enp-error",
    "enter-birth-date",
    "menu",
    "menu-offline",
    "walk-in-confirm",
    "ticket",
    "ticket-offline",
    "specialities",
    "doctors",
    "schedule",
    "confirm-booking",
    "booked",
    "appointments",
    "appointment",
    "confirm-cancel",
    "referrals",
    "problem",
    "idle-warning",
    "service-pin",
    "service",
];

#[derive(Debug, thiserror::Error)]
pub enum ShotError {
    #[error("unknown screen {0:?}; kiosk screenshot --list names them")]
    Unknown(String),
    #[error("rendering: {0}")]
    Render(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Offscreen(#[from] OffscreenError),
}

/// Answers central calls from the stand-in clinic (or as unreachable), prints instantly.
#[derive(Debug)]
struct ShotRunner {
    clinic: StandInClinic,
    offline: bool,
}

impl EffectRunner for ShotRunner {
    fn run(&mut self, effect: &Effect) -> Vec<Event> {
        match effect {
            Effect::Central { req, .. } if self.offline => {
                vec![Event::Central { req: *req, result: Err(CentralError::Unreachable) }]
            }
            Effect::Central { req, credentials, call } => {
                vec![Event::Central { req: *req, result: self.clinic.answer(credentials, call) }]
            }
            Effect::Print { req, .. } => vec![Event::Printed { req: *req }],
            Effect::CheckPrinter => vec![Event::Printer(PrinterHealth::Ready)],
            _ => Vec::new(),
        }
    }
}

fn today() -> Date {
    Date::from_ymd(2026, 11, 23).expect("valid date")
}

/// Drives a session to screen `name`. Returns the driver (session and clock).
fn reach(name: &str, lang: Lang, large: bool) -> Result<Driver<ShotRunner, std::io::Sink>, ShotError> {
    let offline = matches!(name, "menu-offline" | "ticket-offline");
    let runner = ShotRunner { clinic: StandInClinic::new(today()), offline };
    let anna = runner.clinic.patients[0].clone();
    let cfg = SessionConfig {
        registry_phone: "+7 495 000-00-00".into(),
        service_pin_sha256: Some(super::live::DEMO_PIN_SHA256),
        ..SessionConfig::default()
    };
    let mut d = Driver::new(cfg, runner, std::io::sink(), crate::session::Now { ms: 0, today: today() });
    let tap = |d: &mut Driver<ShotRunner, std::io::Sink>, a: Action| d.tap(a).map_err(ShotError::Io);
    if lang == Lang::En {
        tap(&mut d, Action::SetLanguage(Lang::En))?;
    }
    if large {
        tap(&mut d, Action::ToggleLargeText)?;
    }
    let card = Event::CardRead(anna.policy(PolicySource::Barcode02));
    let keep = |d: &mut Driver<ShotRunner, std::io::Sink>| {
        // A card read starts a new patient, which resets the language and text size.
        let mut v = Vec::new();
        if lang == Lang::En {
            v.push(Action::SetLanguage(Lang::En));
        }
        if large {
            v.push(Action::ToggleLargeText);
        }
        for a in v {
            d.tap(a).map_err(ShotError::Io)?;
        }
        Ok::<(), ShotError>(())
    };
    match name {
        "attract" => {}
        "enter-enp" | "enter-enp-error" | "enter-birth-date" => {
            tap(&mut d, Action::ManualEntry)?;
            let digits = if name == "enter-enp-error" { "7700000000000015" } else { "77000000000000" };
            for c in digits.bytes() {
                tap(&mut d, Action::Digit(c - b'0'))?;
            }
            if name == "enter-birth-date" {
                for c in "16".bytes() {
                    tap(&mut d, Action::Digit(c - b'0'))?;
                }
                tap(&mut d, Action::Next)?;
                for c in "0503".bytes() {
                    tap(&mut d, Action::Digit(c - b'0'))?;
                }
            }
        }
        "service-pin" | "service" => {
            tap(&mut d, Action::ServiceGesture)?;
            tap(&mut d, Action::Digit(1))?;
            tap(&mut d, Action::Digit(2))?;
            if name == "service" {
                tap(&mut d, Action::Digit(3))?;
                tap(&mut d, Action::Digit(4))?;
                tap(&mut d, Action::Next)?;
                tap(&mut d, Action::Service(crate::session::ServiceCommand::TestPage))?;
                d.feed(Event::ServiceReport("test page printed".into()))?;
            }
        }
        "problem" => {
            d.feed(Event::ReadFailed(crate::session::ReadFailure::NotAPolicy))?;
        }
        _ => {
            d.feed(card)?;
            keep(&mut d)?;
            match name {
                "menu" | "menu-offline" => {}
                "idle-warning" => d.wait(46_000)?,
                "walk-in-confirm" => tap(&mut d, Action::WalkIn)?,
                "ticket" | "ticket-offline" => {
                    tap(&mut d, Action::WalkIn)?;
                    tap(&mut d, Action::Confirm)?;
                    if offline {
                        // Offline, the runtime issues the kiosk's own number; here by hand.
                        return Ok(d);
                    }
                }
                "specialities" => tap(&mut d, Action::Book)?,
                "doctors" | "schedule" | "confirm-booking" | "booked" => {
                    tap(&mut d, Action::Book)?;
                    tap(&mut d, Action::Choose(0))?;
                    if name != "doctors" {
                        tap(&mut d, Action::Choose(0))?;
                    }
                    if name == "confirm-booking" || name == "booked" {
                        tap(&mut d, Action::ChooseSlot(2))?;
                    }
                    if name == "booked" {
                        tap(&mut d, Action::Confirm)?;
                    }
                }
                "appointments" | "appointment" | "confirm-cancel" => {
                    tap(&mut d, Action::Book)?;
                    tap(&mut d, Action::Choose(0))?;
                    tap(&mut d, Action::Choose(0))?;
                    tap(&mut d, Action::ChooseSlot(2))?;
                    tap(&mut d, Action::Confirm)?;
                    tap(&mut d, Action::Back)?;
                    tap(&mut d, Action::MyAppointments)?;
                    if name != "appointments" {
                        tap(&mut d, Action::Choose(0))?;
                    }
                    if name == "confirm-cancel" {
                        tap(&mut d, Action::CancelAppointment)?;
                    }
                }
                "referrals" => tap(&mut d, Action::Referrals)?,
                other => return Err(ShotError::Unknown(other.to_owned())),
            }
        }
    }
    Ok(d)
}

/// Renders screens to PNG files. The platform can be set once per process, so one call renders
/// every requested shot: `(screen, lang, large, path)`.
pub fn render(
    shots: &[(String, Lang, bool, std::path::PathBuf)],
    width: u32,
    height: u32,
) -> Result<(), ShotError> {
    let screen = Offscreen::install(width, height)?;
    let ui = ui::KioskWindow::new().map_err(|e| ShotError::Render(e.to_string()))?;
    ui.show().map_err(|e| ShotError::Render(e.to_string()))?;
    for (name, lang, large, path) in shots {
        if !SCREENS.contains(&name.as_str()) {
            return Err(ShotError::Unknown(name.clone()));
        }
        let d = reach(name, *lang, *large)?;
        let mut view = crate::view::view(&d.session, d.now().ms);
        if name == "ticket-offline" {
            // What the runtime shows for a ticket issued from the kiosk's own series.
            let t = domain::QueueTicket {
                ticket_id: "k2-demo-1".into(),
                number: domain::TicketNumber::offline(domain::KioskId(2), 5),
                issued_at: domain::DateTime::new(today(), 10, 5, 180).expect("valid time"),
                position: 0,
                estimated_wait_minutes: None,
                offline: true,
            };
            let mut s = d.session.clone();
            s.offline = true;
            s.screen = crate::session::Screen::TicketIssued {
                ticket: t,
                already_had: false,
                print: crate::session::PrintState::Printed,
            };
            view = crate::view::view(&s, d.now().ms);
        }
        crate::ui_bind::apply(&ui, &view, "Городская поликлиника № 1", "10:05");
        if name == "service" {
            crate::ui_bind::set_service_status(&ui, &sample_status());
        }
        screen.save_png(path)?;
    }
    Ok(())
}

/// Every screen in ru and en, and ru in large text, into `dir`.
pub fn render_all(dir: &Path) -> Result<Vec<std::path::PathBuf>, ShotError> {
    std::fs::create_dir_all(dir)?;
    let mut shots = Vec::new();
    for s in SCREENS {
        shots.push((s.to_owned(), Lang::Ru, false, dir.join(format!("{s}.ru.png"))));
        shots.push((s.to_owned(), Lang::En, false, dir.join(format!("{s}.en.png"))));
        shots.push((s.to_owned(), Lang::Ru, true, dir.join(format!("{s}.ru.large.png"))));
    }
    render(&shots, 1080, 1920)?;
    Ok(shots.into_iter().map(|s| s.3).collect())
}

/// Every board `--display --screen` accepts; `board` first.
pub const BOARD_SCREENS: [&str; 5] = ["board", "board-empty", "board-stale", "board-night", "board-portrait"];

/// The board for screen `name`, reached through the real board model: a snapshot and calls as
/// the feed would send them (sample numbers and rooms; the board never has personal data).
fn board_sample(name: &str) -> Result<(crate::display::BoardView, crate::config::DisplayConfig), ShotError> {
    use crate::central::feed::FeedUpdate;
    use crate::display::{BoardState, board_view};
    use domain::wire::{Call, FeedEvent};
    if !BOARD_SCREENS.contains(&name) {
        return Err(ShotError::Unknown(name.to_owned()));
    }
    let at = |m: u16| domain::DateTime::new(today(), 9, u32::from(m), 180).expect("valid time");
    let mut cfg = crate::config::DisplayConfig { duty_hours: Some((8 * 60, 20 * 60)), ..Default::default() };
    if name == "board-portrait" {
        (cfg.width, cfg.height) = (1080, 1920);
    }
    let mut st = BoardState::default();
    st.update(FeedUpdate::Connected, 0);
    let rooms = ["214", "215", "105", "214", "120", "215", "214", "310", "215", "214"];
    let called: Vec<Call> = if name == "board-empty" {
        Vec::new()
    } else {
        (0..9u16)
            .rev()
            .map(|i| Call {
                ticket_number: format!("Д-{:03}", 8 + i),
                room: rooms[i as usize].into(),
                called_at: at(i * 4),
            })
            .collect()
    };
    st.update(FeedUpdate::Frame(FeedEvent::Snapshot { seq: 40, waiting: 12, called }), 0);
    if name != "board-empty" {
        let call = FeedEvent::Called {
            seq: 41,
            ticket_number: "Д-017".into(),
            room: "214".into(),
            called_at: at(40),
        };
        st.update(FeedUpdate::Frame(call), 1_000);
    }
    st.average_wait_minutes = Some(15);
    let mut now = 2_000;
    if name == "board-stale" {
        st.update(FeedUpdate::Disconnected("central restarting".into()), 2_000);
        now = 40_000;
    }
    let minute = if name == "board-night" { 21 * 60 + 10 } else { 9 * 60 + 41 };
    Ok((board_view(&st, now, minute, &cfg), cfg))
}

/// Renders boards to PNG files: `(screen, lang, path)`.
pub fn render_board(shots: &[(String, Lang, std::path::PathBuf)]) -> Result<(), ShotError> {
    let mut screen = Offscreen::install(1920, 1080)?;
    let board = ui::BoardWindow::new().map_err(|e| ShotError::Render(e.to_string()))?;
    board.show().map_err(|e| ShotError::Render(e.to_string()))?;
    for (name, lang, path) in shots {
        let (view, cfg) = board_sample(name)?;
        screen.resize(cfg.width, cfg.height);
        ui::set_language(if *lang == Lang::En { "en" } else { "ru" });
        let clock = if view.night { "21:10" } else { "09:41" };
        crate::display::apply(&board, &view, "Городская поликлиника № 1", clock);
        screen.save_png(path)?;
    }
    Ok(())
}

/// Every board in ru and en into `dir`.
pub fn render_board_all(dir: &Path) -> Result<Vec<std::path::PathBuf>, ShotError> {
    std::fs::create_dir_all(dir)?;
    let mut shots = Vec::new();
    for s in BOARD_SCREENS {
        shots.push((s.to_owned(), Lang::Ru, dir.join(format!("{s}.ru.png"))));
        shots.push((s.to_owned(), Lang::En, dir.join(format!("{s}.en.png"))));
    }
    render_board(&shots)?;
    Ok(shots.into_iter().map(|s| s.2).collect())
}

/// The service screen's status block as a healthy kiosk shows it after a few patients.
fn sample_status() -> Vec<String> {
    use std::sync::atomic::Ordering::Relaxed;
    let h = crate::health::Health::new(Box::new(|| 0));
    h.set(&h.printer, "Ready");
    h.set(&h.scanner, "connected");
    for ms in [18, 25, 31] {
        h.observe_central(std::time::Duration::from_millis(ms), true);
    }
    h.sessions.fetch_add(14, Relaxed);
    h.tickets.fetch_add(9, Relaxed);
    h.prints.fetch_add(12, Relaxed);
    h.status_lines()
}
