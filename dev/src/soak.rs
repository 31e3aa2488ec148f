//! `infomat-dev soak`: thousands of scripted patient sessions through the production runtime
//! (session, effect runner, central client, journal, printer and scanner threads) against the
//! peers (central on SQLite, virtual printer and scanner), checking as it goes that no session gets stuck and at the end that every ticket
//! and booking is accounted for on both sides, and that memory stopped growing after warm-up.
//!
//! Five kinds of visit, in turn: a walk-in by scanned policy, a walk-in by typed number, a
//! booking that is then cancelled, a look at appointments and referrals, and a patient who
//! walks away mid-booking (the idle wipe). A doctor calls the next ticket every third visit so
//! patients can queue again.

use std::io::Write;

use serde_json::json;

use kiosk::clock::ManualTime;
use kiosk::session::{Action, Screen};
use protocol::Method;

use crate::rig::RigOptions;
use crate::script::{ScriptError, Visit};

#[derive(Debug, thiserror::Error)]
pub enum SoakError {
    #[error("{0}")]
    Script(#[from] ScriptError),
    #[error("soak output: {0}")]
    Io(#[from] std::io::Error),
    #[error("visit {visit} ({kind}): {what}")]
    Stuck { visit: usize, kind: &'static str, what: String },
    #[error("accounting: {0}")]
    Accounting(String),
}

/// What a soak did and measured.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SoakReport {
    pub visits: usize,
    pub tickets_new: usize,
    pub tickets_again: usize,
    pub booked: usize,
    pub cancelled: usize,
    pub printed: usize,
    pub called: usize,
    /// Resident memory after warm-up and at the end, kB.
    pub rss_warm_kb: u64,
    pub rss_end_kb: u64,
}

impl SoakReport {
    pub fn rss_growth_kb(&self) -> i64 {
        self.rss_end_kb as i64 - self.rss_warm_kb as i64
    }
}

pub fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

const KINDS: [&str; 5] = ["walk-in by scan", "walk-in typed", "book and cancel", "look", "walk away"];

/// Runs `visits` visits; progress lines go to `out`.
pub fn run<W: Write>(
    visits: usize,
    opts: &RigOptions,
    time: ManualTime,
    mut out: W,
) -> Result<SoakReport, SoakError> {
    let mut d = Visit::start(opts, time, std::io::sink(), None)?;
    let patients: Vec<usize> = (0..50).filter(|i| central::seed::attached(*i)).collect();
    let mut r = SoakReport { visits, ..SoakReport::default() };
    // Warm-up: until the bounded in-memory parts are full (the virtual printer keeps its last
    // 256 receipts, about 430 visits; connection pools, allocator arenas): 10%, at least 500.
    let warm_up = (visits / 10).max(500).min(visits.saturating_sub(1));
    for v in 0..visits {
        if v == warm_up {
            r.rss_warm_kb = rss_kb();
        }
        let kind = KINDS[v % KINDS.len()];
        let who = patients[(v / KINDS.len() * 7 + v) % patients.len()];
        let stuck = |what: String| SoakError::Stuck { visit: v, kind, what };
        let expect = |d: &Visit<std::io::Sink>, want: &str| -> Result<(), SoakError> {
            let got = d.session().screen_name();
            if got == want {
                Ok(())
            } else {
                Err(stuck(format!("on `{got}`, expected `{want}`: {:?}", d.session().screen)))
            }
        };
        match kind {
            "walk-in by scan" | "walk-in typed" => {
                if kind == "walk-in by scan" {
                    d.scan(who)?;
                } else {
                    d.type_policy(who)?;
                }
                expect(&d, "menu")?;
                d.tap(Action::WalkIn)?;
                d.tap(Action::Confirm)?;
                expect(&d, "ticket")?;
                if let Screen::TicketIssued { already_had, print, .. } = &d.session().screen {
                    if *already_had {
                        r.tickets_again += 1;
                    } else {
                        r.tickets_new += 1;
                    }
                    if matches!(print, kiosk::session::PrintState::Printed) {
                        r.printed += 1;
                    }
                }
                d.tap(Action::Done)?;
            }
            "book and cancel" => {
                d.type_policy(who)?;
                expect(&d, "menu")?;
                d.tap(Action::Book)?;
                let gp = first_level_gp(&d);
                d.choose_named(gp)?;
                d.tap(Action::Choose(0))?;
                d.tap(Action::ChooseDay(1 + v % 5))?;
                d.tap(Action::ChooseSlot(v % 7))?;
                expect(&d, "confirm-booking")?;
                d.tap(Action::Confirm)?;
                expect(&d, "booked")?;
                r.booked += 1;
                if let Screen::Booked { print: kiosk::session::PrintState::Printed, .. } = &d.session().screen
                {
                    r.printed += 1;
                }
                d.tap(Action::Back)?;
                d.tap(Action::MyAppointments)?;
                let own = match &d.session().screen {
                    Screen::Appointments { list: kiosk::session::Loadable::Ready(l) } => {
                        l.iter().position(|a| a.speciality_name == gp)
                    }
                    _ => None,
                };
                let Some(i) = own else { return Err(stuck("the new appointment is not listed".into())) };
                d.tap(Action::Choose(i))?;
                d.tap(Action::CancelAppointment)?;
                d.tap(Action::Confirm)?;
                expect(&d, "cancelled")?;
                r.cancelled += 1;
                d.tap(Action::Done)?;
            }
            "look" => {
                d.type_policy(who)?;
                expect(&d, "menu")?;
                d.tap(Action::MyAppointments)?;
                expect(&d, "appointments")?;
                d.tap(Action::Back)?;
                d.tap(Action::Referrals)?;
                expect(&d, "referrals")?;
                d.tap(Action::Exit)?;
            }
            _ => {
                d.type_policy(who)?;
                d.tap(Action::Book)?;
                d.choose_named(first_level_gp(&d))?;
                d.wait(45_000)?;
                d.wait(15_000)?;
            }
        }
        if !d.session().holds_no_patient_data() {
            return Err(stuck(format!("the session did not end clean: {:?}", d.session().screen)));
        }
        // The session clock moves on between visits, as it does in a lobby.
        d.wait(1_000)?;
        if v % 3 == 2 {
            let called = d
                .peers
                .central_call(Method::CallNext, json!({"lpuId": 1, "room": "214"}))
                .map_err(|e| SoakError::Accounting(format!("callNext: {e}")))?;
            if !called.is_null() {
                r.called += 1;
            }
        }
        if (v + 1) % 1000 == 0 {
            writeln!(out, "{} visits, RSS {} kB", v + 1, rss_kb())?;
        }
    }
    r.rss_end_kb = rss_kb();
    account(&d, &r, &patients, &opts.dir.join("central.sqlite"))?;
    Ok(r)
}

/// The GP a patient books: a child sees a paediatrician, an adult a therapist (the seed's age
/// limits), whichever the specialities screen lists.
fn first_level_gp<W: Write>(d: &Visit<W>) -> &'static str {
    match &d.session().screen {
        Screen::Specialities { list: kiosk::session::Loadable::Ready(l) }
            if l.iter().any(|s| s.name == "Педиатр") =>
        {
            "Педиатр"
        }
        _ => "Терапевт",
    }
}

/// Both sides agree: central's queue holds every new ticket once, the printer printed every
/// document the sessions saw printed, no appointment is left behind.
fn account(
    d: &Visit<std::io::Sink>,
    r: &SoakReport,
    patients: &[usize],
    db: &std::path::Path,
) -> Result<(), SoakError> {
    let (tickets, appointments): (i64, i64) = d
        .peers
        .rt
        .block_on(async {
            use sqlx::Row;
            let store = central::store::Store::open(&db.display().to_string()).await?;
            let t = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM ticket").fetch_one(&store.pool).await?;
            let a = sqlx::query("SELECT CAST(COUNT(*) AS BIGINT) FROM appointment WHERE active = 1")
                .fetch_one(&store.pool)
                .await?;
            Ok::<_, sqlx::Error>((t.try_get(0)?, a.try_get(0)?))
        })
        .map_err(|e| SoakError::Accounting(e.to_string()))?;
    if tickets as usize != r.tickets_new {
        return Err(SoakError::Accounting(format!(
            "central holds {tickets} tickets, the kiosk issued {}",
            r.tickets_new
        )));
    }
    // The seed gives some patients one appointment of their own; the soak's are all cancelled.
    let seeded = patients.iter().map(|i| central::seed::seeded_appointments(*i)).sum::<usize>() as i64;
    if appointments != seeded {
        return Err(SoakError::Accounting(format!("{appointments} appointments booked, {seeded} expected")));
    }
    let (_, complete) = d.peers.spool.counts();
    if complete != r.printed {
        return Err(SoakError::Accounting(format!("{complete} tickets on paper, {} printed", r.printed)));
    }
    Ok(())
}
