//! `kiosk demo --headless`: a scripted patient session printed screen by screen.
//!
//! It drives the real state machine with the same events the UI and devices produce, against
//! whatever [`EffectRunner`] it is given, and fails loudly if a flow does not end where it
//! should. It is both the demo for machines without a display and the smoke test. Central is
//! the in-memory stand-in; printing is real: ticket layouts through the printer driver to the
//! virtual printer over loopback TCP, one PNG per ticket.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::{Date, DeviceErrorKind, KioskId, LpuId, PolicySource};
use drivers::link::TcpOpener;
use drivers::printer::codepage::{CodePage, Family};
use drivers::printer::driver::{DriverConfig, PrinterDriver};
use drivers::printer::layout::{self, LayoutConfig, Paper, TextMode};
use drivers::sim::printer::{SimState, Spool, serve_tcp};

use crate::config::KioskConfig;
use crate::session::{
    Action, Effect, Event, Lang, Loadable, Now, PrintState, PrinterHealth, Screen, Session, SessionConfig,
    update,
};

use super::standin::StandInClinic;

/// Something that carries out the session's effects and answers with events.
pub trait EffectRunner {
    fn run(&mut self, effect: &Effect) -> Vec<Event>;
    /// Text of what was printed since the last call, one entry per ticket.
    fn printed_since_last(&mut self) -> Vec<Vec<String>> {
        Vec::new()
    }
}

/// The demo's devices: the stand-in clinic and a printer driver talking to the virtual printer.
#[derive(Debug)]
pub struct DemoRunner {
    pub clinic: StandInClinic,
    printer: PrinterDriver,
    layout: LayoutConfig,
    kiosk: KioskConfig,
    pub spool: Arc<Spool>,
    /// Receipts already echoed to the demo output.
    shown: usize,
}

impl DemoRunner {
    /// Starts the virtual printer on a loopback port; tickets go to `tickets_dir` as PNG.
    pub fn start(today: Date, tickets_dir: Option<&Path>) -> std::io::Result<DemoRunner> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?.to_string();
        let spool = Arc::new(Spool::new(tickets_dir.map(Path::to_path_buf))?);
        let state = Arc::new(Mutex::new(SimState::default()));
        {
            let spool = spool.clone();
            std::thread::spawn(move || serve_tcp(listener, Family::Epson, 576, state, spool));
        }
        let printer = PrinterDriver::new(
            Box::new(TcpOpener { address, connect_timeout: Duration::from_secs(2) }),
            DriverConfig::default(),
        );
        Ok(DemoRunner {
            clinic: StandInClinic::new(today),
            printer,
            layout: LayoutConfig {
                paper: Paper::Mm80,
                text: TextMode::CodePage { page: CodePage::Pc866, number: 17 },
            },
            kiosk: demo_kiosk(),
            spool,
            shown: 0,
        })
    }

    /// Text of receipts printed since the last call (waits briefly for the last cut to land).
    fn new_receipts(&mut self) -> Vec<Vec<String>> {
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        loop {
            let all = self.spool.receipts();
            if all.len() > self.shown || std::time::Instant::now() >= deadline {
                let new = all[self.shown..].iter().map(|r| r.lines.clone()).collect();
                self.shown = all.len();
                return new;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl EffectRunner for DemoRunner {
    fn run(&mut self, effect: &Effect) -> Vec<Event> {
        match effect {
            Effect::Central { req, credentials, call } => {
                vec![Event::Central { req: *req, result: self.clinic.answer(credentials, call) }]
            }
            Effect::Print { req, doc, .. } => {
                let ticket = crate::printing::ticket_doc(doc, &self.kiosk);
                let outcome = layout::encode(&ticket, self.layout)
                    .map_err(|_| DeviceErrorKind::BadData)
                    .and_then(|bytes| self.printer.print(&bytes).map_err(|e| e.kind()));
                match outcome {
                    Ok(_) => vec![Event::Printed { req: *req }],
                    Err(kind) => vec![Event::PrintFailed { req: *req, kind }],
                }
            }
            Effect::CheckPrinter => match self.printer.status() {
                Ok((s, _)) => vec![Event::Printer(crate::printing::printer_health(s))],
                Err(e) => vec![Event::Printer(PrinterHealth::Unavailable(e.kind()))],
            },
            Effect::Service(cmd) => vec![Event::ServiceReport(format!("{cmd:?}: done"))],
            Effect::SessionEnded => Vec::new(),
        }
    }

    fn printed_since_last(&mut self) -> Vec<Vec<String>> {
        self.new_receipts()
    }
}

/// The demo kiosk's identity.
pub fn demo_kiosk() -> KioskConfig {
    KioskConfig {
        id: KioskId(2),
        lpu: LpuId(1),
        clinic_name: "Городская поликлиника № 1".into(),
        registry_phone: "+7 495 000-00-00".into(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the scripted session stopped on screen `{got}` where `{want}` was expected ({step})")]
    WrongScreen { step: &'static str, want: &'static str, got: &'static str },
    #[error("demo output or virtual printer: {0}")]
    Output(#[from] std::io::Error),
}

/// Runs a session: feeds events, carries out effects, writes each new screen to `out`.
#[derive(Debug)]
pub struct Driver<R, W> {
    pub session: Session,
    pub runner: R,
    out: W,
    now: Now,
    last_shown: String,
}

impl<R: EffectRunner, W: Write> Driver<R, W> {
    pub fn new(cfg: SessionConfig, runner: R, out: W, now: Now) -> Self {
        Driver { session: Session::new(cfg, now), runner, out, now, last_shown: String::new() }
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

/// The scripted walk-in and booking, tickets printed to PNG files in `tickets_dir`. Returns the
/// driver so callers can inspect what happened.
pub fn run_headless<W: Write>(
    out: W,
    today: Date,
    tickets_dir: Option<&Path>,
) -> Result<Driver<DemoRunner, W>, DemoError> {
    let runner = DemoRunner::start(today, tickets_dir)?;
    let anna = runner.clinic.patients[0].clone();
    let ivan = runner.clinic.patients[1].clone();
    let cfg = SessionConfig { registry_phone: demo_kiosk().registry_phone, ..SessionConfig::default() };
    let mut d = Driver::new(cfg, runner, out, Now { ms: 0, today });
    d.show()?;

    writeln!(d.out, "\n== 1. Walk-in: a barcode policy is scanned, a duty-doctor ticket is printed")?;
    d.feed(Event::CardRead(anna.policy(PolicySource::Barcode02)))?;
    d.expect("card read", "menu")?;
    d.tap(Action::WalkIn)?;
    d.tap(Action::Confirm)?;
    d.expect("walk-in", "ticket")?;
    d.tap(Action::Done)?;
    d.expect("walk-in done", "attract")?;

    writeln!(d.out, "\n== 2. Booking: the policy number is typed, a therapist is booked")?;
    d.tap(Action::ManualEntry)?;
    for c in ivan.enp.expose().bytes() {
        d.tap(Action::Digit(c - b'0'))?;
    }
    d.tap(Action::Next)?;
    let b = ivan.birth_date.expose();
    for c in format!("{:02}{:02}{:04}", b.day(), b.month(), b.year()).bytes() {
        d.tap(Action::Digit(c - b'0'))?;
    }
    d.tap(Action::Next)?;
    d.expect("manual entry", "menu")?;
    d.tap(Action::Book)?;
    d.tap(Action::Choose(0))?;
    d.tap(Action::Choose(0))?;
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
        let d = run_headless(&mut out, Date::from_ymd(2026, 11, 23).unwrap(), Some(&dir)).unwrap();
        let (session, runner) = (d.session, d.runner);
        let text = String::from_utf8(out).unwrap();
        assert!(session.holds_no_patient_data());
        let receipts = runner.spool.receipts();
        assert_eq!(receipts.len(), 2, "one walk-in ticket, one appointment ticket:\n{text}");
        assert!(receipts.iter().all(|r| r.complete));
        assert!(dir.join("ticket-0001.png").exists() && dir.join("ticket-0002.png").exists());
        assert!(text.contains("    | Д-001"), "{text}");
        assert!(text.contains("    | [QR INFOMAT:A:"), "{text}");
        assert!(text.contains("[cancelled]"), "{text}");
        assert!(text.contains("(idle warning shown)"), "{text}");
        // Nothing personal in clear, apart from surname + initials on the appointment ticket.
        for p in &runner.clinic.patients {
            assert!(!text.contains(&p.enp.expose()), "clear ENP in demo output");
            assert!(!text.contains(p.name.first.expose()), "clear first name in demo output");
            assert!(!text.contains(p.name.last.expose()), "clear surname in demo output");
        }
    }
}
