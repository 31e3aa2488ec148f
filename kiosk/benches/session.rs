//! Benchmark: the cost of one `session::update` call (target: p99 under 10 µs).
//!
//! Each call is timed on its own over a realistic mix: keypad taps, a card read, central
//! replies carrying a day of 36 slots or a list of 20 doctors, ticks, print results. Prints a
//! row for the project's performance table (`make bench`).

use std::hint::black_box;
use std::time::Instant;

use domain::{BirthDate, Date, DateTime, Doctor, DoctorId, Enp, EnpFacet, FullName, LpuId, Patient, Policy};
use domain::{PolicySource, ScheduleDay, Sex, Slot};
use kiosk::session::{Action, Event, Now, Reply, Session, SessionConfig, update};

fn patient(today: Date) -> Patient {
    let birth = today.add_days(-27_000).unwrap();
    Patient {
        enp: Enp::with_facet(77, EnpFacet { birth_date: birth, sex: Sex::Female }, 42),
        birth_date: BirthDate(birth),
        name: FullName::new("ПЕТРОВА", "АННА", Some("ВИКТОРОВНА")),
        sex: Some(Sex::Female),
        attached_lpu: Some(LpuId(1)),
    }
}

fn doctors(today: Date) -> Vec<Doctor> {
    (0..20)
        .map(|i| Doctor {
            id: DoctorId(100 + i),
            name: format!("Доктор Номер {i}"),
            room_only: false,
            speciality_code: "2011".into(),
            speciality_name: "Терапевт".into(),
            lpu: LpuId(1),
            nearest_free: today.add_days(1),
            complex_resource_id: Some(i),
            cabinet: None,
        })
        .collect()
}

fn schedule(today: Date) -> Vec<ScheduleDay> {
    (1..=7)
        .map(|d| {
            let date = today.add_days(d).unwrap();
            let slots = (0..36)
                .map(|i| Slot {
                    start: DateTime::new(date, 8 + i / 3, (i % 3) * 20, 180).unwrap(),
                    end: DateTime::new(date, 8 + i / 3, (i % 3) * 20 + 19, 180).unwrap(),
                    cabinet: "214".into(),
                    complex_resource_id: 1,
                })
                .collect();
            ScheduleDay { date, slots }
        })
        .collect()
}

/// One scripted booking, returning every call's duration in nanoseconds.
fn one_round(today: Date, out: &mut Vec<u64>) {
    let p = patient(today);
    let mut now = Now { ms: 0, today };
    let mut s = Session::new(SessionConfig::default(), now);
    let step = |s: Session, e: Event, now: Now, out: &mut Vec<u64>| {
        let t = Instant::now();
        let r = update(black_box(s), black_box(e), now);
        out.push(t.elapsed().as_nanos() as u64);
        black_box(r)
    };
    let policy = Policy {
        enp: p.enp,
        name: p.name.clone(),
        sex: p.sex,
        birth_date: Some(p.birth_date),
        expiry: None,
        source: PolicySource::Barcode02,
    };
    let (n, _) = step(s, Event::CardRead(policy), now, out);
    s = n;
    let reply = |s: Session, r: Reply, now: Now, out: &mut Vec<u64>| {
        let req = s.pending().map(|(r, _)| r).expect("a pending request");
        step(s, Event::Central { req, result: Ok(r) }, now, out).0
    };
    s = reply(s, Reply::Identified(p.clone()), now, out);
    for _ in 0..5 {
        now.ms += 1000;
        s = step(s, Event::Tick, now, out).0;
    }
    s = step(s, Event::Tap(Action::Book), now, out).0;
    s = reply(
        s,
        Reply::Specialities(vec![domain::Speciality {
            code: "2011".into(),
            name: "Терапевт".into(),
            first_level: true,
            male: true,
            female: true,
            attached_elsewhere: None,
        }]),
        now,
        out,
    );
    s = step(s, Event::Tap(Action::Choose(0)), now, out).0;
    s = reply(s, Reply::Doctors(doctors(today)), now, out);
    s = step(s, Event::Tap(Action::Choose(3)), now, out).0;
    s = reply(s, Reply::Schedule(schedule(today)), now, out);
    for d in 0..7 {
        s = step(s, Event::Tap(Action::ChooseDay(d)), now, out).0;
    }
    s = step(s, Event::Tap(Action::ChooseSlot(5)), now, out).0;
    s = step(s, Event::Tap(Action::Exit), now, out).0;
    s = step(s, Event::Tap(Action::ManualEntry), now, out).0;
    for i in 0..16 {
        s = step(s, Event::Tap(Action::Digit(i % 10)), now, out).0;
    }
    black_box(step(s, Event::Tap(Action::Next), now, out));
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (e.g. `cargo test --benches`) runs once.
    let rounds = if std::env::args().any(|a| a == "--bench") { 5_000 } else { 10 };
    let today = Date::from_ymd(2026, 11, 23).unwrap();
    let mut ns = Vec::with_capacity(rounds * 48);
    for _ in 0..rounds / 10 {
        one_round(today, &mut Vec::new()); // warm-up
    }
    for _ in 0..rounds {
        one_round(today, &mut ns);
    }
    ns.sort_unstable();
    let pct = |p: f64| ns[((ns.len() as f64 - 1.0) * p) as usize] as f64 / 1000.0;
    let (median, p99) = (pct(0.5), pct(0.99));
    let pass = if p99 < 10.0 { "pass" } else { "FAIL" };
    println!(
        "| session update (one call, {} calls) | p99 < 10 µs | {median:.2} µs | {p99:.2} µs | {pass} |",
        ns.len()
    );
}
