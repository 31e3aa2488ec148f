//! `kiosk demo --headless`: a scripted patient session printed screen by screen.
//!
//! It drives the real state machine with the same events the UI and devices produce, against
//! whatever [`EffectRunner`] it is given, and fails loudly if a flow does not end where it
//! should. It is both the demo for machines without a display and the smoke test. The demo
//! runs against [`super::live::Rig`]: central in-process on SQLite, the virtual printer writing
//! one PNG per ticket, the virtual scanner on a pseudo-terminal.

use std::io::Write;

use crate::session::{
    Action, Effect, Event, Lang, Loadable, Now, PrintState, Screen, Session, SessionConfig, update,
};

use super::live::{Rig, RigOptions};

/// Something that carries out the session's effects and answers with events.
pub trait EffectRunner {
    fn run(&mut self, effect: &Effect) -> Vec<Event>;
    /// Text of what was printed since the last call, one entry per ticket.
    fn printed_since_last(&mut self) -> Vec<Vec<String>> {
        Vec::new()
    }
}

/// Told about every new screen (the headless demo's screenshots).
pub type ScreenHook = Box<dyn FnMut(&Session, Now)>;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the scripted session stopped on screen `{got}` where `{want}` was expected ({step})")]
    WrongScreen { step: &'static str, want: &'static str, got: &'static str },
    #[error("`{name}` is not listed on screen `{screen}`")]
    NotListed { name: &'static str, screen: &'static str },
    #[error("demo output or virtual printer: {0}")]
    Output(#[from] std::io::Error),
    #[error("demo peers: {0}")]
    Rig(#[from] super::live::RigError),
}

/// Runs a session: feeds events, carries out effects, writes each new screen to `out`.
pub struct Driver<R, W> {
    pub session: Session,
    pub runner: R,
    out: W,
    now: Now,
    last_shown: String,
    on_screen: Option<ScreenHook>,
}

impl<R: std::fmt::Debug, W> std::fmt::Debug for Driver<R, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("session", &self.session)
            .field("runner", &self.runner)
            .finish_non_exhaustive()
    }
}

impl<R: EffectRunner, W: Write> Driver<R, W> {
    pub fn new(cfg: SessionConfig, runner: R, out: W, now: Now) -> Self {
        Driver {
            session: Session::new(cfg, now),
            runner,
            out,
            now,
            last_shown: String::new(),
            on_screen: None,
        }
    }

    /// Calls `hook` on every screen that differs from the last one.
    pub fn on_screen(&mut self, hook: ScreenHook) {
        self.on_screen = Some(hook);
    }

    /// Feeds one event and everything its effects cause, until the session is quiet.
    pub fn feed(&mut self, event: Event) -> std::io::Result<()> {
        let mut queue = std::collections::VecDeque::from([event]);
        while let Some(ev) = queue.pop_front() {
            let (next, effects) = update(self.session.clone(), ev, self.now);
            self.session = next;
            self.show()?;
            for e in &effects {
                queue.extend(self.runner.run(e));
                if let Effect::Print { doc, .. } = e {
                    // The paper carries the surname; this echo is output a log may keep.
                    let surname = match doc {
                        crate::session::PrintDoc::Appointment { patient, .. } => Some(&patient.last),
                        crate::session::PrintDoc::WalkIn(_) => None,
                    };
                    for lines in self.runner.printed_since_last() {
                        for line in lines {
                            let line = match surname.filter(|n| !n.is_empty()) {
                                Some(n) => line.replace(n.expose(), &n.to_string()),
                                None => line,
                            };
                            writeln!(self.out, "    | {line}")?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Types demo patient `i`'s policy number and birth date on the keypad, from the attract
    /// screen, as a patient without a scanner would.
    pub fn type_policy(&mut self, i: usize) -> std::io::Result<()> {
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

    /// Taps the row of the speciality, doctor or referral list whose title is `name`.
    pub fn choose_named(&mut self, name: &'static str) -> Result<(), DemoError> {
        let names: Vec<String> = match &self.session.screen {
            Screen::Specialities { list: Loadable::Ready(l) } => l.iter().map(|s| s.name.clone()).collect(),
            Screen::Doctors { list: Loadable::Ready(l), .. } => l.iter().map(|d| d.name.clone()).collect(),
            _ => Vec::new(),
        };
        let Some(i) = names.iter().position(|n| n == name) else {
            return Err(DemoError::NotListed { name, screen: self.session.screen_name() });
        };
        Ok(self.tap(Action::Choose(i))?)
    }

    pub fn tap(&mut self, a: Action) -> std::io::Result<()> {
        self.feed(Event::Tap(a))
    }

    /// Moves the clock on and ticks.
    pub fn wait(&mut self, ms: u64) -> std::io::Result<()> {
        self.now.ms += ms;
        self.feed(Event::Tick)
    }

    fn show(&mut self) -> std::io::Result<()> {
        let text = describe(&self.session);
        if text != self.last_shown {
            writeln!(self.out, "{text}")?;
            self.last_shown = text;
            if let Some(hook) = self.on_screen.as_mut() {
                hook(&self.session, self.now);
            }
        }
        Ok(())
    }

    pub fn now(&self) -> Now {
        self.now
    }

    pub fn expect(&self, step: &'static str, want: &'static str) -> Result<(), DemoError> {
        let got = self.session.screen_name();
        if got == want { Ok(()) } else { Err(DemoError::WrongScreen { step, want, got }) }
    }
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

fn err(p: Option<&crate::session::Problem>, lang: Lang) -> String {
    p.map(|p| format!(": {}", p.message(lang, ""))).unwrap_or_default()
}

fn print_state(p: &PrintState) -> &'static str {
    match p {
        PrintState::Printing(_) => "printing",
        PrintState::Printed => "printed",
        PrintState::Failed(_) => "print failed, number on screen",
    }
}

/// The scripted walk-in and booking against the live rig in `opts.dir`; tickets go to
/// `opts.tickets`. Returns the driver so callers can inspect what happened.
pub fn run_headless<W: Write>(
    out: W,
    opts: &RigOptions,
    on_screen: Option<ScreenHook>,
) -> Result<Driver<Rig, W>, DemoError> {
    let rig = Rig::start(opts)?;
    let today = (opts.clock)().date;
    let cfg = SessionConfig { registry_phone: rig.kiosk.registry_phone.clone(), ..SessionConfig::default() };
    let mut d = Driver::new(cfg, rig, out, Now { ms: 0, today });
    d.on_screen = on_screen;
    d.show()?;

    writeln!(d.out, "\n== 1. Walk-in: a barcode policy is scanned, a duty-doctor ticket is printed")?;
    let scan = d.runner.scan_patient(0);
    d.feed(scan)?;
    d.expect("card read", "menu")?;
    d.tap(Action::WalkIn)?;
    d.tap(Action::Confirm)?;
    d.expect("walk-in", "ticket")?;
    d.tap(Action::Done)?;
    d.expect("walk-in done", "attract")?;

    writeln!(d.out, "\n== 2. Booking: the policy number is typed, a therapist is booked")?;
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

    writeln!(d.out, "\n== 3. The same patient cancels it")?;
    d.tap(Action::MyAppointments)?;
    d.tap(Action::Choose(0))?;
    d.tap(Action::CancelAppointment)?;
    d.tap(Action::Confirm)?;
    d.expect("cancel", "cancelled")?;
    d.tap(Action::Back)?;

    writeln!(d.out, "\n== 4. The patient walks away: warning after 45 s, wiped 15 s later")?;
    d.wait(45_000)?;
    d.wait(15_000)?;
    d.expect("idle", "attract")?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headless_demo_runs_both_flows_and_leaves_nothing_behind() {
        let mut out = Vec::new();
        let dir = std::env::temp_dir().join(format!("infomat-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let at = domain::DateTime::new(domain::Date::from_ymd(2026, 11, 23).unwrap(), 10, 0, 180).unwrap();
        let mut opts = RigOptions::fixed(&dir.join("rig"), at);
        opts.tickets = Some(dir.join("tickets"));
        let d = run_headless(&mut out, &opts, None).unwrap();
        let (session, runner) = (d.session, d.runner);
        let text = String::from_utf8(out).unwrap();
        assert!(session.holds_no_patient_data());
        let receipts = runner.receipts();
        assert_eq!(receipts.len(), 2, "one walk-in ticket, one appointment ticket:\n{text}");
        assert!(receipts.iter().all(|r| r.complete));
        assert!(dir.join("tickets/ticket-0001.png").exists() && dir.join("tickets/ticket-0002.png").exists());
        assert!(text.contains("    | Д-001"), "{text}");
        assert!(text.contains("    | [QR INFOMAT:A:"), "{text}");
        assert!(text.contains("[cancelled]"), "{text}");
        assert!(text.contains("(idle warning shown)"), "{text}");
        // Nothing personal in clear, apart from surname + initials on the appointment ticket.
        for p in domain::demo::patients() {
            assert!(!text.contains(&p.enp.expose()), "clear ENP in demo output");
            assert!(!text.contains(p.name.first.expose()), "clear first name in demo output");
            assert!(!text.contains(p.name.last.expose()), "clear surname in demo output");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
