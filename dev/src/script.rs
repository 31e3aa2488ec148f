//! Scripted patient visits through the production runtime without a window: the headless
//! demo, the soak and the demo's test. A [`Visit`] is a [`Headless`] kiosk (the same core,
//! effect runner, central task and device threads as `kiosk run`) wired to the [`Peers`]; the
//! script taps, scans and inserts cards, then waits until every effect has answered, and writes
//! one line per screen the patient saw.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::Duration;

use kiosk::clock::ManualTime;
use kiosk::runtime::{Headless, RuntimeError};
use kiosk::session::{Action, Event, Lang, Loadable, Now, PrintState, Screen, Session};

use crate::rig::{Peers, RigError, RigOptions};

/// How long a step may take before the script calls the kiosk stuck.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("the scripted session stopped on screen `{got}` where `{want}` was expected ({step})")]
    WrongScreen { step: &'static str, want: &'static str, got: &'static str },
    #[error("`{name}` is not listed on screen `{screen}`")]
    NotListed { name: &'static str, screen: &'static str },
    #[error("no answer within {0:?} (on screen `{1}`)")]
    Stuck(Duration, &'static str),
    #[error("the script's clock is the machine's: it cannot wait {0} ms at once")]
    NoManualClock(u64),
    #[error("demo output or virtual devices: {0}")]
    Io(#[from] std::io::Error),
    #[error("demo peers: {0}")]
    Rig(#[from] RigError),
    #[error("kiosk runtime: {0}")]
    Runtime(#[from] RuntimeError),
}

/// Told about every new screen (the headless demo's screenshots).
pub type ScreenHook = Box<dyn FnMut(&Session, Now)>;

/// A kiosk and its peers, driven by a script.
pub struct Visit<W> {
    pub kiosk: Headless,
    pub peers: Peers,
    time: ManualTime,
    out: W,
    /// Screen lines the observer wrote since the last flush.
    lines: Rc<RefCell<Vec<String>>>,
    /// Documents the printer reported printed since the last flush.
    printed: Rc<std::cell::Cell<usize>>,
}

impl<W> std::fmt::Debug for Visit<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Visit").field("kiosk", &self.kiosk).finish_non_exhaustive()
    }
}

impl<W: Write> Visit<W> {
    /// Starts the peers and a headless kiosk on them; `time` moves the options' manual clock.
    pub fn start(
        opts: &RigOptions,
        time: ManualTime,
        out: W,
        mut on_screen: Option<ScreenHook>,
    ) -> Result<Self, ScriptError> {
        let peers = Peers::start(opts)?;
        let mut kiosk = Headless::start(peers.setup())?;
        let lines = Rc::new(RefCell::new(Vec::new()));
        let printed = Rc::new(std::cell::Cell::new(0));
        {
            let (lines, printed, clock) = (lines.clone(), printed.clone(), opts.clock.clone());
            let mut last = String::new();
            kiosk.core.observe(Box::new(move |s, ev| {
                if matches!(ev, Event::Printed { .. }) {
                    printed.set(printed.get() + 1);
                }
                let text = describe(s);
                if text != last {
                    lines.borrow_mut().push(text.clone());
                    last = text;
                    if let Some(hook) = on_screen.as_mut() {
                        hook(s, clock.now());
                    }
                }
            }));
        }
        let mut v = Visit { kiosk, peers, time, out, lines, printed };
        // Up when the card reader has announced itself and the scanner's port is open.
        let deadline = std::time::Instant::now() + STEP_TIMEOUT;
        while !(v.kiosk.core.session().card_reader && v.kiosk.core.health().scanner_connected()) {
            if std::time::Instant::now() >= deadline {
                return Err(ScriptError::Stuck(STEP_TIMEOUT, "attract"));
            }
            v.kiosk.core.wait_one(Duration::from_millis(10));
        }
        v.flush()?;
        Ok(v)
    }

    pub fn session(&self) -> &Session {
        self.kiosk.core.session()
    }

    /// Writes the screens seen since the last call, then what the printer cut meanwhile.
    fn flush(&mut self) -> std::io::Result<()> {
        for line in self.lines.borrow_mut().drain(..) {
            writeln!(self.out, "{line}")?;
        }
        // The printer answered once the bytes were out; the virtual printer files the receipt
        // when it has parsed the cut, a moment later.
        let wait = if self.printed.replace(0) > 0 { Duration::from_secs(2) } else { Duration::ZERO };
        for receipt in self.peers.new_receipts(wait) {
            for line in receipt {
                writeln!(self.out, "    | {}", mask_surnames(&line))?;
            }
        }
        Ok(())
    }

    /// Waits until every effect started so far has answered.
    pub fn settle(&mut self) -> Result<(), ScriptError> {
        if !self.kiosk.core.settle(STEP_TIMEOUT) {
            return Err(ScriptError::Stuck(STEP_TIMEOUT, self.session().screen_name()));
        }
        Ok(self.flush()?)
    }

    /// Feeds one event and waits for everything it causes.
    pub fn feed(&mut self, ev: Event) -> Result<(), ScriptError> {
        self.kiosk.core.step(ev);
        self.settle()
    }

    pub fn tap(&mut self, a: Action) -> Result<(), ScriptError> {
        self.feed(Event::Tap(a))
    }

    /// Waits for the next thing a device reports by itself, then for what it causes.
    fn await_news(&mut self) -> Result<(), ScriptError> {
        let before = self.kiosk.core.in_flight();
        if !self.kiosk.core.wait_one(STEP_TIMEOUT) || self.kiosk.core.in_flight() < before {
            return Err(ScriptError::Stuck(STEP_TIMEOUT, self.session().screen_name()));
        }
        self.settle()
    }

    /// Demo patient `i` holds their policy to the scanner.
    pub fn scan(&mut self, i: usize) -> Result<(), ScriptError> {
        self.peers.scan_patient(i)?;
        self.await_news()
    }

    /// Raw bytes through the scanner (garbage, a shop barcode).
    pub fn scan_bytes(&mut self, bytes: &[u8]) -> Result<(), ScriptError> {
        self.peers.scan_bytes(bytes)?;
        self.await_news()
    }

    /// Demo patient `i` inserts their chip card.
    pub fn insert_card(&mut self, i: usize) -> Result<(), ScriptError> {
        self.peers.insert_card(i);
        self.await_news()
    }

    /// Types demo patient `i`'s policy number and birth date on the keypad, from the attract
    /// screen, as a patient without a scanner would.
    pub fn type_policy(&mut self, i: usize) -> Result<(), ScriptError> {
        let p = domain::demo::patient(i);
        self.tap(Action::ManualEntry)?;
        for c in p.enp.expose().bytes() {
            self.tap(Action::Digit(c - b'0'))?;
        }
        self.tap(Action::Next)?;
        let b = p.birth_date;
        for c in format!("{:02}{:02}{:04}", b.day(), b.month(), b.year()).bytes() {
            self.tap(Action::Digit(c - b'0'))?;
        }
        self.tap(Action::Next)
    }

    /// Taps the row of the speciality or doctor list whose title is `name`.
    pub fn choose_named(&mut self, name: &'static str) -> Result<(), ScriptError> {
        let names: Vec<String> = match &self.session().screen {
            Screen::Specialities { list: Loadable::Ready(l) } => l.iter().map(|s| s.name.clone()).collect(),
            Screen::Doctors { list: Loadable::Ready(l), .. } => l.iter().map(|d| d.name.clone()).collect(),
            Screen::Referrals { list: Loadable::Ready(l) } => {
                l.iter().map(|r| r.speciality_name.clone()).collect()
            }
            _ => Vec::new(),
        };
        let Some(i) = names.iter().position(|n| n == name) else {
            return Err(ScriptError::NotListed { name, screen: self.session().screen_name() });
        };
        self.tap(Action::Choose(i))
    }

    /// Moves the clock on and lets the session see it.
    pub fn wait(&mut self, ms: u64) -> Result<(), ScriptError> {
        self.time.advance(Duration::from_millis(ms));
        self.feed(Event::Tick)
    }

    pub fn expect(&self, step: &'static str, want: &'static str) -> Result<(), ScriptError> {
        let got = self.session().screen_name();
        if got == want { Ok(()) } else { Err(ScriptError::WrongScreen { step, want, got }) }
    }

    /// Writes a line of the script's own (section headings).
    pub fn say(&mut self, text: &str) -> std::io::Result<()> {
        writeln!(self.out, "{text}")
    }
}

/// The paper carries the patient's surname; this echo of it is output a log may keep, so the
/// surname is masked here (the people are the demo population).
fn mask_surnames(line: &str) -> String {
    let mut out = line.to_owned();
    for p in domain::demo::patients() {
        let surname = p.name.last.expose();
        if out.contains(surname) {
            out = out.replace(surname, &p.name.last.to_string());
        }
    }
    out
}

/// One line per screen, as a patient would summarise it. Personal data is masked.
pub fn describe(s: &Session) -> String {
    let who = s.patient.as_ref().map(|p| format!(" [{} {}]", p.name.last, p.enp)).unwrap_or_default();
    let warn = if s.idle_warning_since_ms.is_some() { " (idle warning shown)" } else { "" };
    let detail = match &s.screen {
        Screen::EnterEnp { digits, error } => {
            format!("{} digits typed{}", digits.len(), err(error.as_ref(), s.lang))
        }
        Screen::EnterBirthDate { digits, error, .. } => {
            format!("{} digits typed{}", digits.len(), err(error.as_ref(), s.lang))
        }
        Screen::TicketIssued { ticket, print, .. } => {
            format!("ticket {} ({})", ticket.number, print_state(print))
        }
        Screen::Specialities { list: Loadable::Ready(l) } => {
            l.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
        }
        Screen::Doctors { list: Loadable::Ready(l), .. } => {
            l.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
        }
        Screen::Schedule { days: Loadable::Ready(days), day, doctor, .. } => match days.get(*day) {
            Some(d) => format!(
                "{}: {} — {}",
                doctor.name,
                d.date.to_ru_string(),
                d.slots.iter().map(|s| s.start.hhmm()).collect::<Vec<_>>().join(" ")
            ),
            None => "no free time".into(),
        },
        Screen::ConfirmBooking { doctor, slot, .. } => {
            format!(
                "{} {} {}, cabinet {}",
                doctor.name,
                slot.start.date.to_ru_string(),
                slot.start.hhmm(),
                slot.cabinet
            )
        }
        Screen::Booked { appointment: a, print, .. } => format!(
            "appointment {} {} {} ({})",
            a.number,
            a.start.date.to_ru_string(),
            a.start.hhmm(),
            print_state(print)
        ),
        Screen::Appointments { list: Loadable::Ready(l) } => format!("{} appointment(s)", l.len()),
        Screen::AppointmentDetail { appointment: a, .. }
        | Screen::ConfirmCancel { appointment: a }
        | Screen::Cancelled { appointment: a } => {
            format!("{} {} {}", a.speciality_name, a.start.date.to_ru_string(), a.start.hhmm())
        }
        Screen::Problem { problem, .. } => problem.message(s.lang, &s.cfg.registry_phone),
        _ if s.pending().is_some() => "…".into(),
        _ => String::new(),
    };
    format!("[{}]{who}{warn} {detail}", s.screen_name()).trim_end().to_owned()
}

fn err(p: Option<&kiosk::session::Problem>, lang: Lang) -> String {
    p.map(|p| format!(": {}", p.message(lang, ""))).unwrap_or_default()
}

fn print_state(p: &PrintState) -> &'static str {
    match p {
        PrintState::Printing(_) => "printing",
        PrintState::Printed => "printed",
        PrintState::Failed(_) => "print failed, number on screen",
    }
}

/// A screen hook that renders each screen of a script into `dir`, once, in the last state it
/// was shown in (typed digits, a loaded list): `01-attract.png`, `02-identifying.png`, ...
pub fn screen_shots(dir: &std::path::Path) -> Result<ScreenHook, ScriptError> {
    use slint::ComponentHandle;
    std::fs::create_dir_all(dir)?;
    let screen = kiosk::offscreen::Offscreen::install(1080, 1920)
        .map_err(|e| ScriptError::Io(std::io::Error::other(e.to_string())))?;
    let ui = ui::KioskWindow::new().map_err(|e| ScriptError::Io(std::io::Error::other(e.to_string())))?;
    ui.show().map_err(|e| ScriptError::Io(std::io::Error::other(e.to_string())))?;
    let mut shots = Shots { screen, ui, dir: dir.to_path_buf(), n: 0, pending: None };
    Ok(Box::new(move |session, now| shots.saw(session.screen_name(), kiosk::view::view(session, now.ms))))
}

struct Shots {
    screen: kiosk::offscreen::Offscreen,
    ui: ui::KioskWindow,
    dir: std::path::PathBuf,
    n: usize,
    pending: Option<(&'static str, kiosk::view::View)>,
}

impl Shots {
    fn saw(&mut self, name: &'static str, view: kiosk::view::View) {
        if self.pending.as_ref().is_some_and(|(p, _)| *p != name) {
            self.flush();
        }
        self.pending = Some((name, view));
    }

    fn flush(&mut self) {
        let Some((name, view)) = self.pending.take() else { return };
        self.n += 1;
        let clock = common::clock::Zone::fixed(central::seed::OFFSET).now().hhmm();
        kiosk::ui_bind::apply(&self.ui, &view, "Городская поликлиника № 1", &clock);
        let path = self.dir.join(format!("{:02}-{name}.png", self.n));
        if let Err(e) = self.screen.save_png(&path) {
            eprintln!("infomat-dev: demo screenshot {}: {e}", path.display());
        }
    }
}

impl Drop for Shots {
    fn drop(&mut self) {
        self.flush();
    }
}
