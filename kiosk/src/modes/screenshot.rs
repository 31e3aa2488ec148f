//! `kiosk screenshot`: any screen, with sample data, rendered by Slint's software renderer at
//! its real size into a PNG (docs, visual review), without a display.
//!
//! Sample states are reached the honest way: the production [`Core`] (session and effect
//! runner) driven by taps and cards, with the in-memory stand-in clinic behind the central port
//! and a printer port that prints at once. Only the ports differ from a kiosk in a clinic.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use slint::ComponentHandle;

use domain::{Date, DateTime, PolicySource};

use super::standin::StandInClinic;
use crate::clock::{Clock, ManualTime};
use crate::effects::{
    self, CentralJob, CentralPort, CentralService, Effects, EventSink, PrinterJob, PrinterPort,
};
use crate::offscreen::{Offscreen, OffscreenError};
use crate::runtime::Core;
use crate::session::{Action, CentralError, Event, Lang, PrinterHealth, SessionConfig};

/// Every screen `--screen` accepts; `attract` first.
pub const SCREENS: [&str; 30] = [
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
    "referral-rooms",
    "booked-test",
    "needs-referral",
    "waitlist-join",
    "waitlist-joined",
    "waitlist-offer",
    "waiting",
    "help",
    "problem",
    "idle-warning",
    "service-pin",
    "service",
];

#[derive(Debug, thiserror::Error)]
pub enum ShotError {
    #[error("unknown screen {0:?}; kiosk screenshot --list names them")]
    Unknown(String),
    #[error("{0}")]
    Usage(String),
    #[error("rendering: {0}")]
    Render(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Offscreen(#[from] OffscreenError),
    #[error("{} texts do not fit:\n{}", .0.len(), .0.join("\n"))]
    Misfits(Vec<String>),
}

impl super::Failure for ShotError {
    fn exit_code(&self) -> u8 {
        match self {
            ShotError::Unknown(_) | ShotError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// `kiosk screenshot`'s command line.
#[derive(Debug, Clone, clap::Args)]
pub struct ShotArgs {
    #[arg(long, required_unless_present_any = ["list", "all", "display", "check_fit"])]
    pub screen: Option<String>,
    #[arg(long, required_unless_present_any = ["list", "all", "check_fit"])]
    pub out: Option<PathBuf>,
    #[arg(long, default_value = "ru")]
    pub lang: String,
    #[arg(long)]
    pub large: bool,
    /// Name the screens.
    #[arg(long)]
    pub list: bool,
    /// High contrast (black on white, WCAG AAA).
    #[arg(long)]
    pub contrast: bool,
    /// Every screen in ru, en, ru large text and ru high contrast into this directory.
    #[arg(long)]
    pub all: Option<PathBuf>,
    /// Render every screen in both languages, both text sizes and both contrasts, with the
    /// longest clinic name, and list each text that does not fit its box (exit 1 if any).
    #[arg(long)]
    pub check_fit: bool,
    /// The waiting-zone board (1920x1080) instead of the kiosk; --screen defaults to `board`.
    #[arg(long)]
    pub display: bool,
}

/// `kiosk screenshot ...`.
pub fn main(a: &ShotArgs, out: &mut dyn std::io::Write) -> Result<(), ShotError> {
    let lang = if a.lang == "en" { Lang::En } else { Lang::Ru };
    if a.list {
        let names: &[&str] = if a.display { &BOARD_SCREENS } else { &SCREENS };
        for s in names {
            writeln!(out, "{s}")?;
        }
        return Ok(());
    }
    if a.check_fit {
        let n = check_fit(LONGEST_CLINIC)?;
        writeln!(out, "{} screens, {} texts checked: every text fits", n.screens, n.texts)?;
        return Ok(());
    }
    match (a.display, &a.all, &a.screen, &a.out) {
        (true, Some(dir), _, _) => {
            let files = render_board_all(dir)?;
            writeln!(out, "{} board screenshots in {}", files.len(), dir.display())?;
        }
        (true, None, s, Some(o)) => {
            render_board(&[(s.clone().unwrap_or_else(|| "board".into()), lang, o.clone())])?;
        }
        (false, Some(dir), _, _) => {
            let files = render_all(dir)?;
            writeln!(out, "{} screenshots in {}", files.len(), dir.display())?;
        }
        (false, None, Some(s), Some(o)) => render(
            &[(s.clone(), Look { lang, large: a.large, contrast: a.contrast }, o.clone())],
            1080,
            1920,
        )?,
        _ => return Err(ShotError::Usage("--out is required".into())),
    }
    Ok(())
}

/// The stand-in clinic as central: answers at once, or as unreachable.
struct StandInCentral {
    clinic: RefCell<StandInClinic>,
    offline: bool,
    sink: EventSink,
}

impl CentralPort for StandInCentral {
    fn call(&self, job: CentralJob) {
        let result = if self.offline {
            match job.call {
                // What the runtime's offline journal issues: the kiosk's own series.
                crate::session::CentralCall::EnqueueWalkIn => {
                    Ok(crate::session::Reply::Ticket(domain::QueueTicket {
                        ticket_id: "k2-demo-1".into(),
                        number: domain::TicketNumber::offline(domain::KioskId(2), 5),
                        issued_at: DateTime::new(today(), 10, 5, 180).expect("valid time"),
                        position: 0,
                        estimated_wait_minutes: None,
                        wait_range: None,
                        offline: true,
                        room: None,
                    }))
                }
                _ => Err(CentralError::Unreachable),
            }
        } else {
            self.clinic.borrow_mut().answer(&job.credentials, &job.call)
        };
        self.sink.answer(Event::Central { req: job.req, result });
    }

    fn service(&self, what: CentralService) {
        self.sink.answer(Event::ServiceReport(format!("{what:?}: central OK, 12 ms")));
    }
}

/// A printer that has always just printed.
struct InstantPrinter(EventSink);

impl PrinterPort for InstantPrinter {
    fn submit(&self, job: PrinterJob) {
        self.0.answer(match job {
            PrinterJob::Print { req, .. } => Event::Printed { req },
            PrinterJob::Check => Event::Printer(PrinterHealth::Ready),
            PrinterJob::TestPage => Event::ServiceReport("test page printed".into()),
            PrinterJob::ReprintLast => Event::ServiceReport("last ticket reprinted".into()),
        });
    }
}

fn today() -> Date {
    Date::from_ymd(2026, 11, 23).expect("valid date")
}

/// A production core over the stand-in clinic, at Monday 2026-11-23 10:05 Moscow time.
fn standin_core(offline: bool) -> (Core, ManualTime) {
    let (sink, source) = effects::channel();
    let clinic = StandInClinic::new(today());
    let fx = Effects::new(
        Box::new(StandInCentral { clinic: RefCell::new(clinic), offline, sink: sink.clone() }),
        Box::new(InstantPrinter(sink)),
        Box::new(|| {}),
    );
    let cfg = SessionConfig {
        registry_phone: "+7 495 000-00-00".into(),
        help_desk: "1 этаж, справа от входа, окно 1".into(),
        service_pin_sha256: Some(super::standin::DEMO_PIN_SHA256),
        ..SessionConfig::default()
    };
    let (clock, time) = Clock::manual_at(DateTime::new(today(), 10, 5, 180).expect("valid time"));
    let health = Arc::new(crate::health::Health::new(Box::new(crate::health::Offline::default)));
    (Core::new(cfg, fx, source, clock, health), time)
}

/// Steps the core through a tap and everything it causes.
fn tap(core: &mut Core, a: Action) {
    core.step(Event::Tap(a));
    core.pump();
}

/// How a screen is shown: language, text size, contrast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub lang: Lang,
    pub large: bool,
    pub contrast: bool,
}

impl Look {
    pub const RU: Look = Look { lang: Lang::Ru, large: false, contrast: false };

    /// Every combination the fit check covers.
    pub fn all() -> Vec<Look> {
        let mut v = Vec::new();
        for lang in [Lang::Ru, Lang::En] {
            for large in [false, true] {
                for contrast in [false, true] {
                    v.push(Look { lang, large, contrast });
                }
            }
        }
        v
    }

    /// `ru`, `en.large`, `ru.contrast`, ...: file name parts.
    pub fn suffix(self) -> String {
        let mut s = self.lang.code().to_owned();
        if self.large {
            s.push_str(".large");
        }
        if self.contrast {
            s.push_str(".contrast");
        }
        s
    }
}

/// Drives a session to screen `name`.
fn reach(name: &str, look: Look) -> Result<Core, ShotError> {
    let Look { lang, large, contrast } = look;
    let offline = matches!(name, "menu-offline" | "ticket-offline");
    let (mut core, time) = standin_core(offline);
    let clinic = StandInClinic::new(today());
    // The second patient has a waiting-list offer waiting; everybody else is the first.
    let anna = clinic.patients[usize::from(name == "waitlist-offer")].clone();
    // A card read starts a new patient, which resets the language and text size: set after.
    let set_look = |core: &mut Core| {
        if lang == Lang::En {
            tap(core, Action::SetLanguage(Lang::En));
        }
        if large {
            tap(core, Action::ToggleLargeText);
        }
        if contrast {
            tap(core, Action::ToggleContrast);
        }
    };
    set_look(&mut core);
    let digits = |core: &mut Core, d: &str| {
        for c in d.bytes() {
            tap(core, Action::Digit(c - b'0'));
        }
    };
    match name {
        "attract" => {}
        "enter-enp" | "enter-enp-error" | "enter-birth-date" => {
            tap(&mut core, Action::ManualEntry);
            digits(&mut core, if name == "enter-enp-error" { "7700000000000015" } else { "77000000000000" });
            if name == "enter-birth-date" {
                digits(&mut core, "16");
                tap(&mut core, Action::Next);
                digits(&mut core, "0503");
            }
        }
        "service-pin" | "service" => {
            tap(&mut core, Action::ServiceGesture);
            digits(&mut core, if name == "service" { "1234" } else { "12" });
            if name == "service" {
                tap(&mut core, Action::Next);
                tap(&mut core, Action::Service(crate::session::ServiceCommand::TestPage));
            }
        }
        "problem" => {
            core.step(Event::ReadFailed(crate::session::ReadFailure::NotAPolicy));
        }
        _ => {
            core.step(Event::CardRead(anna.policy(PolicySource::Barcode02)));
            core.pump();
            set_look(&mut core);
            let book = |core: &mut Core| {
                tap(core, Action::Book);
                tap(core, Action::Choose(0));
                tap(core, Action::Choose(0));
                tap(core, Action::ChooseSlot(2));
            };
            let cardiologist = |core: &Core| match &core.session().screen {
                crate::session::Screen::Specialities { list: crate::session::Loadable::Ready(l) } => {
                    l.iter().position(|s| !s.first_level).unwrap_or(0)
                }
                _ => 0,
            };
            match name {
                "menu" | "menu-offline" => {}
                "idle-warning" => {
                    time.advance(Duration::from_secs(46));
                    core.step(Event::Tick);
                }
                "walk-in-confirm" => tap(&mut core, Action::WalkIn),
                "ticket" | "ticket-offline" => {
                    tap(&mut core, Action::WalkIn);
                    tap(&mut core, Action::Confirm);
                }
                "specialities" => tap(&mut core, Action::Book),
                "doctors" => {
                    tap(&mut core, Action::Book);
                    tap(&mut core, Action::Choose(0));
                }
                "schedule" => {
                    tap(&mut core, Action::Book);
                    tap(&mut core, Action::Choose(0));
                    tap(&mut core, Action::Choose(0));
                }
                "confirm-booking" => book(&mut core),
                "booked" => {
                    book(&mut core);
                    tap(&mut core, Action::Confirm);
                }
                "appointments" | "appointment" | "confirm-cancel" => {
                    book(&mut core);
                    tap(&mut core, Action::Confirm);
                    tap(&mut core, Action::Back);
                    tap(&mut core, Action::MyAppointments);
                    if name != "appointments" {
                        tap(&mut core, Action::Choose(0));
                    }
                    if name == "confirm-cancel" {
                        tap(&mut core, Action::CancelAppointment);
                    }
                }
                "referrals" => tap(&mut core, Action::Referrals),
                // The blood test: rooms, not doctors; then booked, with its preparation.
                "referral-rooms" | "booked-test" => {
                    tap(&mut core, Action::Referrals);
                    tap(&mut core, Action::Choose(1));
                    if name == "booked-test" {
                        tap(&mut core, Action::Choose(0));
                        tap(&mut core, Action::ChooseSlot(0));
                        tap(&mut core, Action::Confirm);
                    }
                }
                "needs-referral" => {
                    tap(&mut core, Action::Book);
                    let i = cardiologist(&core);
                    tap(&mut core, Action::Choose(i));
                }
                // The surgeon is booked up: the lead row is the waiting list.
                "waitlist-join" | "waitlist-joined" => {
                    tap(&mut core, Action::Book);
                    tap(&mut core, Action::Choose(3));
                    tap(&mut core, Action::AnyDoctor);
                    if name == "waitlist-joined" {
                        tap(&mut core, Action::JoinWaitlist(domain::DayPart::Morning));
                    }
                }
                "waitlist-offer" => {}
                "help" => tap(&mut core, Action::CallStaff),
                "waiting" => {
                    // Asked, not yet answered, for longer than the veil waits.
                    core.step(Event::Tap(Action::MyAppointments));
                    std::thread::sleep(crate::runtime::VEIL_AFTER + Duration::from_millis(50));
                }
                other => return Err(ShotError::Unknown(other.to_owned())),
            }
        }
    }
    Ok(core)
}

/// The clinic name the screenshots show.
const CLINIC: &str = "Городская поликлиника № 1";
/// The longest clinic name the fit check lays out: a real Moscow clinic's full official name.
pub const LONGEST_CLINIC: &str =
    "ГБУЗ «Городская поликлиника № 220 Департамента здравоохранения города Москвы», филиал № 3";

/// Shows screen `name` in `look` on `ui`, as the production runtime would.
fn show(ui: &ui::KioskWindow, name: &str, look: Look, clinic: &str) -> Result<(), ShotError> {
    if !SCREENS.contains(&name) {
        return Err(ShotError::Unknown(name.to_owned()));
    }
    let core = reach(name, look)?;
    crate::runtime::render(ui, &core, clinic);
    if name == "service" {
        crate::ui_bind::set_service_status(ui, &sample_status());
    }
    Ok(())
}

/// Renders screens to PNG files. The platform can be set once per process, so one call renders
/// every requested shot: `(screen, look, path)`.
pub fn render(shots: &[(String, Look, PathBuf)], width: u32, height: u32) -> Result<(), ShotError> {
    let screen = Offscreen::install(width, height)?;
    let ui = ui::KioskWindow::new().map_err(|e| ShotError::Render(e.to_string()))?;
    ui.show().map_err(|e| ShotError::Render(e.to_string()))?;
    for (name, look, path) in shots {
        show(&ui, name, *look, CLINIC)?;
        screen.save_png(path)?;
    }
    Ok(())
}

/// Every screen in ru, en, ru large text and ru high contrast, into `dir`.
pub fn render_all(dir: &Path) -> Result<Vec<PathBuf>, ShotError> {
    std::fs::create_dir_all(dir)?;
    let looks = [
        Look::RU,
        Look { lang: Lang::En, ..Look::RU },
        Look { large: true, ..Look::RU },
        Look { contrast: true, ..Look::RU },
    ];
    let mut shots = Vec::new();
    for s in SCREENS {
        for look in looks {
            shots.push((s.to_owned(), look, dir.join(format!("{s}.{}.png", look.suffix()))));
        }
    }
    render(&shots, 1080, 1920)?;
    Ok(shots.into_iter().map(|s| s.2).collect())
}

/// What the fit check saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FitCount {
    pub screens: usize,
    pub texts: usize,
}

/// Every screen in every [`Look`], with `clinic` in the header (the fit check uses
/// [`LONGEST_CLINIC`]): fails with every text that does not fit, named with its screen and look.
pub fn check_fit(clinic: &str) -> Result<FitCount, ShotError> {
    FitCheck::new()?.run(clinic)
}

/// The fit check's window (the platform is installed once per process; the check may run again).
pub struct FitCheck {
    _screen: Offscreen,
    ui: ui::KioskWindow,
}

impl std::fmt::Debug for FitCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FitCheck")
    }
}

impl FitCheck {
    pub fn new() -> Result<FitCheck, ShotError> {
        let screen = Offscreen::install(1080, 1920)?;
        let ui = ui::KioskWindow::new().map_err(|e| ShotError::Render(e.to_string()))?;
        ui.show().map_err(|e| ShotError::Render(e.to_string()))?;
        Ok(FitCheck { _screen: screen, ui })
    }

    pub fn window(&self) -> &ui::KioskWindow {
        &self.ui
    }

    /// See [`check_fit`].
    pub fn run(&self, clinic: &str) -> Result<FitCount, ShotError> {
        let ui = &self.ui;
        let mut bad = Vec::new();
        let mut count = FitCount { screens: 0, texts: 0 };
        for name in SCREENS {
            for look in Look::all() {
                show(ui, name, look, clinic)?;
                // Dialogs lie over the page's buttons on purpose.
                let overlay = matches!(name, "waiting" | "help" | "idle-warning");
                let report = crate::fit::inspect(ui.window(), !overlay);
                count.screens += 1;
                count.texts += report.texts;
                for m in report.misfits {
                    bad.push(format!("{name}.{}: {m}", look.suffix()));
                }
            }
        }
        if bad.is_empty() { Ok(count) } else { Err(ShotError::Misfits(bad)) }
    }
}

/// Every board `--display --screen` accepts; `board` first.
pub const BOARD_SCREENS: [&str; 5] = ["board", "board-empty", "board-stale", "board-night", "board-portrait"];

/// The board for screen `name`, reached through the real board model: a snapshot and calls as
/// the feed would send them (sample numbers and rooms; the board never has personal data).
fn board_sample(name: &str) -> Result<(crate::board::BoardView, crate::config::DisplayConfig), ShotError> {
    use crate::board::{BoardState, board_view};
    use crate::central_link::queue_feed::FeedUpdate;
    use protocol::{Call, FeedEvent};
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
        crate::board::apply(&board, &view, "Городская поликлиника № 1", clock);
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
    let h = crate::health::Health::new(Box::new(crate::health::Offline::default));
    h.set(&h.printer, "Ready");
    h.set(&h.scanner, "connected");
    for ms in [18, 25, 31] {
        h.observe_central(std::time::Duration::from_millis(ms), "ok");
    }
    h.sessions.fetch_add(14, Relaxed);
    h.tickets.fetch_add(9, Relaxed);
    h.prints.fetch_add(12, Relaxed);
    h.status_lines()
}
