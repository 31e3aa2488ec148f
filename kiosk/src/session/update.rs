//! The transition function. One exhaustive `match` per kind of event; every screen's buttons
//! are listed in [`on_tap`], every reply in [`on_central`].

use sha2::{Digest, Sha256};

use domain::{Date, Patient, Policy, PolicySource, Sex};

use super::effect::{CentralCall, Credentials, DoctorQuery, Effect, PrintDoc, RequestId};
use super::event::{Action, CentralError, Event, Reply};
use super::problem::Problem;
use super::state::{Back, BookingFlow, Loadable, Now, PendingKind, PrintState, Purpose, Screen, Session};

/// The oldest birth date a patient may type, in years before today.
const MAX_AGE_YEARS: u32 = 125;
/// Who issues referrals to specialists, as speciality names begin, most usual first.
const REFERRERS: [&str; 3] = ["терапевт", "врач общей практики", "педиатр"];
/// Service screen log lines kept (the screen shows the tail).
const SERVICE_LOG_LINES: usize = 50;

/// Handles one event at `now` and returns the next state and what the runtime must do.
pub fn update(mut s: Session, event: Event, now: Now) -> (Session, Vec<Effect>) {
    let mut fx = Vec::new();
    s.today = now.today;
    match event {
        Event::Tick => on_tick(&mut s, now, &mut fx),
        Event::Tap(action) => {
            s.last_input_ms = now.ms;
            // A touch while the idle warning is up only dismisses it: the patient was reaching
            // for the screen, not for whatever button lies under the overlay. The overlay's own
            // "finish" button is Exit.
            let warned = s.idle_warning_since_ms.take().is_some();
            if !warned || action == Action::Exit {
                on_tap(&mut s, action, now, &mut fx);
            }
        }
        Event::CardRead(policy) => {
            s.last_input_ms = now.ms;
            s.idle_warning_since_ms = None;
            on_card(&mut s, policy, now, &mut fx);
        }
        Event::ReadFailed(failure) => {
            s.last_input_ms = now.ms;
            s.idle_warning_since_ms = None;
            match &mut s.screen {
                Screen::Service { log } => push_log(log, format!("reader: {failure:?}")),
                // A stray scan must not throw away a patient's progress mid-flow.
                Screen::Attract | Screen::EnterEnp { .. } | Screen::EnterBirthDate { .. } => {
                    s.screen = Screen::Problem { problem: failure.into(), back: Back::Attract };
                }
                _ => {}
            }
        }
        Event::Central { req, result } => on_central(&mut s, req, result, &mut fx),
        Event::Printed { req } => on_printed(&mut s, req, PrintState::Printed),
        Event::PrintFailed { req, kind } => on_printed(&mut s, req, PrintState::Failed(kind)),
        Event::Printer(health) => s.printer = health,
        Event::CardReader { present } => s.card_reader = present,
        Event::ServiceReport(line) => {
            if let Screen::Service { log } = &mut s.screen {
                push_log(log, line);
            }
        }
    }
    (s, fx)
}

fn push_log(log: &mut Vec<String>, line: String) {
    log.push(line);
    if log.len() > SERVICE_LOG_LINES {
        log.remove(0);
    }
}

fn next_req(s: &mut Session) -> RequestId {
    let r = RequestId(s.next_req);
    s.next_req += 1;
    r
}

fn credentials(s: &Session) -> Option<Credentials> {
    s.patient.as_ref().map(|p| Credentials { enp: p.enp, birth_date: p.birth_date })
}

/// Sends `call` for the current patient; `None` (and nothing sent) when there is no patient.
fn call(s: &mut Session, fx: &mut Vec<Effect>, call: CentralCall) -> Option<RequestId> {
    let credentials = credentials(s)?;
    let req = next_req(s);
    fx.push(Effect::Central { req, credentials, call });
    Some(req)
}

/// Ends the patient's session: everything personal goes, the kiosk's own state stays.
fn wipe(s: &mut Session, fx: &mut Vec<Effect>) {
    let had_someone = !s.holds_no_patient_data();
    s.screen = Screen::Attract;
    s.patient = None;
    s.offline = false;
    s.lang = s.cfg.default_lang;
    s.large_text = false;
    s.high_contrast = false;
    s.help_shown = false;
    s.keep_look = false;
    s.idle_warning_since_ms = None;
    if had_someone {
        fx.push(Effect::SessionEnded);
    }
}

/// Goes to `back`, reloading its list when it has one.
fn go(s: &mut Session, back: Back, fx: &mut Vec<Effect>) {
    let next = match back {
        Back::Attract => return wipe(s, fx),
        Back::EnterEnp => Screen::EnterEnp { digits: String::new(), error: None },
        Back::Menu => Screen::Menu,
        Back::Specialities => match call(s, fx, CentralCall::Specialities) {
            Some(req) => Screen::Specialities { list: Loadable::Loading(req) },
            None => return wipe(s, fx),
        },
        Back::Doctors(flow) => {
            let c = CentralCall::Doctors { query: flow.query.clone(), rescheduling: rescheduling(&flow) };
            match call(s, fx, c) {
                Some(req) => Screen::Doctors { flow, list: Loadable::Loading(req) },
                None => return wipe(s, fx),
            }
        }
        Back::Schedule(flow, doctor) => {
            let c = CentralCall::Schedule {
                doctor: doctor.id,
                complex_resource_id: doctor.complex_resource_id,
                query: flow.query.clone(),
                rescheduling: rescheduling(&flow),
            };
            match call(s, fx, c) {
                Some(req) => Screen::Schedule { flow, doctor, days: Loadable::Loading(req), day: 0 },
                None => return wipe(s, fx),
            }
        }
        Back::Appointments => match call(s, fx, CentralCall::Appointments) {
            Some(req) => Screen::Appointments { list: Loadable::Loading(req) },
            None => return wipe(s, fx),
        },
        Back::Referrals => match call(s, fx, CentralCall::Referrals) {
            Some(req) => Screen::Referrals { list: Loadable::Loading(req) },
            None => return wipe(s, fx),
        },
    };
    s.screen = next;
}

fn rescheduling(flow: &BookingFlow) -> Option<domain::AppointmentId> {
    match &flow.purpose {
        Purpose::New => None,
        Purpose::Reschedule(a) => Some(a.id),
    }
}

fn problem(s: &mut Session, problem: Problem, back: Back) {
    s.screen = Screen::Problem { problem, back };
}

fn on_tick(s: &mut Session, now: Now, fx: &mut Vec<Effect>) {
    if matches!(s.screen, Screen::Attract) {
        // Someone switched the language and walked away: the next patient starts afresh.
        if now.ms.saturating_sub(s.last_input_ms) >= s.cfg.idle_warning_ms {
            s.lang = s.cfg.default_lang;
            s.large_text = false;
            s.high_contrast = false;
            s.help_shown = false;
            s.keep_look = false;
        }
        s.idle_warning_since_ms = None;
        return;
    }
    if s.write_pending() {
        // The patient is watching a spinner, not idling; their clock starts at the answer.
        s.idle_warning_since_ms = None;
        s.last_input_ms = now.ms;
        return;
    }
    let idle = now.ms.saturating_sub(s.last_input_ms);
    if s.screen.is_done() {
        if idle >= s.cfg.idle_warning_ms {
            wipe(s, fx);
        }
        return;
    }
    match s.idle_warning_since_ms {
        Some(since) if now.ms.saturating_sub(since) >= s.cfg.idle_countdown_ms => wipe(s, fx),
        Some(_) => {}
        None if idle >= s.cfg.idle_warning_ms => s.idle_warning_since_ms = Some(now.ms),
        None => {}
    }
}

fn on_card(s: &mut Session, policy: Policy, now: Now, fx: &mut Vec<Effect>) {
    if s.write_pending() {
        return;
    }
    match &mut s.screen {
        Screen::Service { log } => {
            // A technician testing the reader: show what was read, masked.
            push_log(log, format!("card: {} ({:?})", policy.enp, policy.source));
            return;
        }
        Screen::ServicePin { .. } => return,
        _ => {}
    }
    // A new card is a new patient, even mid-flow: the previous one has walked away. After
    // "Ещё один полис" it is the same reader with the next family member's card.
    let look = (s.lang, s.large_text, s.high_contrast);
    let keep = std::mem::take(&mut s.keep_look);
    wipe(s, fx);
    if keep {
        (s.lang, s.large_text, s.high_contrast) = look;
    }
    start_identification(s, policy, now, fx, false);
}

fn start_identification(s: &mut Session, policy: Policy, now: Now, fx: &mut Vec<Effect>, typed: bool) {
    if policy.expired_on(now.today) {
        return problem(s, Problem::PolicyExpired, Back::Attract);
    }
    match policy.birth_date {
        Some(birth_date) => {
            let req = next_req(s);
            let credentials = Credentials { enp: policy.enp, birth_date };
            fx.push(Effect::Central { req, credentials, call: CentralCall::Identify });
            s.screen = Screen::Identifying { req, policy, typed };
        }
        None => {
            s.screen = Screen::EnterBirthDate { policy, digits: String::new(), error: None };
        }
    }
}

fn check_pin(s: &Session, digits: &str) -> bool {
    let Some(expected) = s.cfg.service_pin_sha256 else { return false };
    let got: [u8; 32] = Sha256::digest(digits.as_bytes()).into();
    // Constant-time compare: the PIN screen is on a public kiosk.
    got.iter().zip(expected.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn patient_sex(s: &Session) -> Option<Sex> {
    s.patient.as_ref().and_then(|p| p.sex)
}

fn push_digit(digits: &mut String, d: u8, max: usize) {
    if d < 10 && digits.len() < max {
        digits.push(char::from(b'0' + d));
    }
}

/// Handles a keypad action on a digit field; returns true if it was one.
fn edit_digits(digits: &mut String, action: Action, max: usize) -> bool {
    match action {
        Action::Digit(d) => push_digit(digits, d, max),
        Action::Backspace => {
            digits.pop();
        }
        Action::ClearEntry => digits.clear(),
        _ => return false,
    }
    true
}

fn print_doc(s: &mut Session, doc: PrintDoc, reprint: bool, fx: &mut Vec<Effect>) -> PrintState {
    let req = next_req(s);
    fx.push(Effect::Print { req, doc, reprint });
    PrintState::Printing(req)
}

fn appointment_doc(s: &Session, appointment: &domain::Appointment) -> PrintDoc {
    PrintDoc::Appointment {
        appointment: appointment.clone(),
        patient: s.patient.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
    }
}

fn on_tap(s: &mut Session, action: Action, now: Now, fx: &mut Vec<Effect>) {
    match action {
        Action::SetLanguage(lang) => return s.lang = lang,
        Action::ToggleLargeText => return s.large_text = !s.large_text,
        Action::ToggleContrast => return s.high_contrast = !s.high_contrast,
        Action::CallStaff => {
            // Pressed twice, it is still one call: the flag is already on its way.
            if !s.help_shown {
                fx.push(Effect::CallStaff);
            }
            return s.help_shown = true;
        }
        Action::CloseHelp => return s.help_shown = false,
        Action::StillHere => return,
        Action::Exit if !s.write_pending() => return wipe(s, fx),
        _ => {}
    }
    let screen = std::mem::replace(&mut s.screen, Screen::Attract);
    s.screen = match (screen, action) {
        // --- Attract and identification -------------------------------------------------
        (Screen::Attract, Action::ManualEntry) => Screen::EnterEnp { digits: String::new(), error: None },
        (Screen::Attract, Action::ServiceGesture) => {
            if s.cfg.service_pin_sha256.is_none() {
                Screen::Attract
            } else if s.pin.locked_until_ms.is_some_and(|t| now.ms < t) {
                Screen::Problem { problem: Problem::ServiceLocked, back: Back::Attract }
            } else {
                if s.pin.locked_until_ms.take().is_some() {
                    s.pin.failures = 0;
                }
                Screen::ServicePin { digits: String::new(), wrong: false }
            }
        }
        (Screen::EnterEnp { mut digits, error }, a) => {
            if edit_digits(&mut digits, a, 16) {
                Screen::EnterEnp { digits, error: None }
            } else {
                match a {
                    Action::Next => match domain::Enp::parse(&digits) {
                        Err(_) => Screen::EnterEnp { digits, error: Some(Problem::IncompleteNumber) },
                        Ok(enp) if !enp.checksum_ok() => {
                            Screen::EnterEnp { digits, error: Some(Problem::BadNumber) }
                        }
                        Ok(enp) => Screen::EnterBirthDate {
                            policy: Policy::from_number(enp, PolicySource::Manual),
                            digits: String::new(),
                            error: None,
                        },
                    },
                    Action::Back => return wipe(s, fx),
                    _ => Screen::EnterEnp { digits, error },
                }
            }
        }
        (Screen::EnterBirthDate { mut policy, mut digits, error }, a) => {
            if edit_digits(&mut digits, a, 8) {
                Screen::EnterBirthDate { policy, digits, error: None }
            } else {
                match a {
                    Action::Next => match plausible_birth_date(&digits, now.today) {
                        Some(date) => {
                            policy.birth_date = Some(domain::BirthDate(date));
                            return start_identification(s, policy, now, fx, true);
                        }
                        None => Screen::EnterBirthDate { policy, digits, error: Some(Problem::BadBirthDate) },
                    },
                    Action::Back if policy.source == PolicySource::Manual => {
                        Screen::EnterEnp { digits: policy.enp.expose(), error: None }
                    }
                    Action::Back => return wipe(s, fx),
                    _ => Screen::EnterBirthDate { policy, digits, error },
                }
            }
        }
        (Screen::Identifying { .. }, Action::Back) => return wipe(s, fx),

        // --- Patient menu ------------------------------------------------------------------
        (Screen::Menu, Action::WalkIn) => {
            fx.push(Effect::CheckPrinter);
            // Offline there is nobody to ask; online the question must not hold the patient up.
            let outlook = match s.offline {
                true => Loadable::Ready(None),
                false => match call(s, fx, CentralCall::QueueOutlook) {
                    Some(req) => Loadable::Loading(req),
                    None => Loadable::Ready(None),
                },
            };
            Screen::WalkInConfirm { outlook }
        }
        (Screen::Menu, Action::Book | Action::MyAppointments | Action::Referrals) if s.offline => {
            Screen::Problem { problem: Problem::BookingOffline, back: Back::Menu }
        }
        (Screen::Menu, Action::Book) => return go(s, Back::Specialities, fx),
        (Screen::Menu, Action::MyAppointments) => return go(s, Back::Appointments, fx),
        (Screen::Menu, Action::Referrals) => return go(s, Back::Referrals, fx),
        (Screen::Menu, Action::Back | Action::Done) => return wipe(s, fx),

        // --- Walk-in ticket ----------------------------------------------------------------
        (Screen::WalkInConfirm { .. }, Action::Confirm) => match call(s, fx, CentralCall::EnqueueWalkIn) {
            Some(req) => Screen::WalkInWaiting { req },
            None => return wipe(s, fx),
        },
        (Screen::WalkInConfirm { .. }, Action::Back) => Screen::Menu,
        (Screen::TicketIssued { ticket, already_had, print }, Action::Reprint)
            if !matches!(print, PrintState::Printing(_)) =>
        {
            let print = print_doc(s, PrintDoc::WalkIn(ticket.clone()), true, fx);
            Screen::TicketIssued { ticket, already_had, print }
        }
        (
            Screen::TicketIssued { .. } | Screen::Booked { .. } | Screen::WaitlistJoined { .. },
            Action::Back,
        ) => Screen::Menu,
        (
            Screen::TicketIssued { .. }
            | Screen::Booked { .. }
            | Screen::Cancelled { .. }
            | Screen::WaitlistJoined { .. },
            Action::Done,
        ) => {
            return wipe(s, fx);
        }
        (
            Screen::TicketIssued { .. }
            | Screen::Booked { .. }
            | Screen::Cancelled { .. }
            | Screen::WaitlistJoined { .. },
            Action::NextPolicy,
        ) => {
            // Everything of this patient goes first; the way the screen reads stays (a parent
            // with the family's policies is the same reader).
            let look = (s.lang, s.large_text, s.high_contrast);
            wipe(s, fx);
            (s.lang, s.large_text, s.high_contrast) = look;
            s.keep_look = true;
            s.last_input_ms = now.ms;
            return;
        }

        // --- Booking -----------------------------------------------------------------------
        (Screen::Specialities { list: Loadable::Ready(list) }, Action::Choose(i))
            if list.get(i).is_some_and(|sp| sp.attached_elsewhere.is_none()) =>
        {
            let spec = &list[i];
            let sex_ok = match patient_sex(s) {
                Some(Sex::Male) => spec.male,
                Some(Sex::Female) => spec.female,
                None => true,
            };
            if !spec.first_level {
                // Who refers: a GP (a paediatrician in a children's clinic) if central lists
                // one; one tap books them. Another first-level doctor (a gynaecologist) does not
                // refer to a cardiologist, so no guess beyond these.
                let issuer = REFERRERS
                    .iter()
                    .find_map(|r| list.iter().find(|x| x.first_level && x.name.to_lowercase().starts_with(r)))
                    .cloned();
                Screen::NeedsReferral { speciality: spec.name.clone(), issuer }
            } else if !sex_ok {
                Screen::Problem { problem: Problem::NotForSex, back: Back::Specialities }
            } else {
                let query = DoctorQuery::Speciality { code: spec.code.clone(), name: spec.name.clone() };
                return go(s, Back::Doctors(BookingFlow::new(Purpose::New, query)), fx);
            }
        }
        (Screen::Specialities { .. }, Action::Back) => Screen::Menu,
        (Screen::NeedsReferral { issuer: Some(sp), .. }, Action::BookIssuer) => {
            let query = DoctorQuery::Speciality { code: sp.code.clone(), name: sp.name.clone() };
            return go(s, Back::Doctors(BookingFlow::new(Purpose::New, query)), fx);
        }
        (Screen::NeedsReferral { .. }, Action::Back) => return go(s, Back::Specialities, fx),
        (Screen::Doctors { flow, list: Loadable::Ready(list) }, Action::Choose(i))
            if list.get(i).is_some_and(|d| d.nearest_free.is_some()) =>
        {
            let doctor = list[i].clone();
            return go(s, Back::Schedule(flow, doctor), fx);
        }
        (Screen::Doctors { mut flow, list: Loadable::Ready(list) }, Action::AnyDoctor)
            if super::state::offers_any_doctor(&list) =>
        {
            match super::state::earliest_doctor(&list).cloned() {
                Some(doctor) => {
                    flow.earliest = true;
                    return go(s, Back::Schedule(flow, doctor), fx);
                }
                None => Screen::Doctors { flow, list: Loadable::Ready(list) },
            }
        }
        // Nobody has time: the lead row is the waiting list.
        (Screen::Doctors { flow, list: Loadable::Ready(list) }, Action::AnyDoctor)
            if super::state::offers_waitlist(&flow, &list) =>
        {
            Screen::WaitlistJoin { flow }
        }
        (Screen::Doctors { flow, .. }, Action::Back) => match (flow.purpose, flow.query) {
            (Purpose::Reschedule(appointment), _) => {
                Screen::AppointmentDetail { appointment: *appointment, print: None }
            }
            (Purpose::New, DoctorQuery::Referral { .. }) => return go(s, Back::Referrals, fx),
            (Purpose::New, DoctorQuery::Speciality { .. }) => return go(s, Back::Specialities, fx),
        },
        (Screen::Schedule { flow, doctor, days: Loadable::Ready(days), day: _ }, Action::ChooseDay(i))
            if i < days.len() =>
        {
            Screen::Schedule { flow, doctor, days: Loadable::Ready(days), day: i }
        }
        (Screen::Schedule { flow, doctor, days: Loadable::Ready(days), day }, Action::ChooseSlot(i))
            if days.get(day).is_some_and(|d| i < d.slots.len()) =>
        {
            fx.push(Effect::CheckPrinter);
            let slot = days[day].slots[i].clone();
            Screen::ConfirmBooking { flow, doctor, slot }
        }
        (Screen::Schedule { flow, .. }, Action::Back) => return go(s, Back::Doctors(flow), fx),
        (Screen::ConfirmBooking { flow, doctor, slot }, Action::Confirm) => {
            let c = match &flow.purpose {
                Purpose::New => CentralCall::CreateAppointment {
                    doctor: doctor.id,
                    slot,
                    referral: match &flow.query {
                        DoctorQuery::Referral { id, .. } => Some(*id),
                        DoctorQuery::Speciality { .. } => None,
                    },
                },
                Purpose::Reschedule(a) => {
                    CentralCall::ShiftAppointment { appointment: a.id, doctor: doctor.id, slot }
                }
            };
            match call(s, fx, c) {
                Some(req) => Screen::Booking { req, flow, doctor },
                None => return wipe(s, fx),
            }
        }
        (Screen::ConfirmBooking { flow, doctor, .. }, Action::Back) => {
            return go(s, Back::Schedule(flow, doctor), fx);
        }
        (Screen::Booked { appointment, rescheduled, print }, Action::Reprint)
            if !matches!(print, PrintState::Printing(_)) =>
        {
            let doc = appointment_doc(s, &appointment);
            let print = print_doc(s, doc, true, fx);
            Screen::Booked { appointment, rescheduled, print }
        }

        // --- My appointments ---------------------------------------------------------------
        (Screen::Appointments { list: Loadable::Ready(list) }, Action::Choose(i)) if i < list.len() => {
            Screen::AppointmentDetail { appointment: list[i].clone(), print: None }
        }
        (Screen::Appointments { list: Loadable::Ready(list) }, Action::CancelAt(i)) if i < list.len() => {
            Screen::ConfirmCancel { appointment: list[i].clone() }
        }
        (Screen::Appointments { .. }, Action::Back) => Screen::Menu,
        (Screen::AppointmentDetail { appointment, .. }, Action::Reschedule) => {
            let query = DoctorQuery::Speciality {
                code: appointment.speciality_code.clone(),
                name: appointment.speciality_name.clone(),
            };
            let flow = BookingFlow::new(Purpose::Reschedule(Box::new(appointment)), query);
            return go(s, Back::Doctors(flow), fx);
        }
        (Screen::AppointmentDetail { appointment, .. }, Action::CancelAppointment) => {
            Screen::ConfirmCancel { appointment }
        }
        (Screen::AppointmentDetail { appointment, print }, Action::Reprint)
            if !matches!(print, Some(PrintState::Printing(_))) =>
        {
            let doc = appointment_doc(s, &appointment);
            let print = Some(print_doc(s, doc, true, fx));
            Screen::AppointmentDetail { appointment, print }
        }
        (Screen::AppointmentDetail { .. }, Action::Back) => return go(s, Back::Appointments, fx),
        (Screen::ConfirmCancel { appointment }, Action::Confirm) => {
            let c = CentralCall::CancelAppointment { appointment: appointment.id };
            match call(s, fx, c) {
                Some(req) => Screen::Cancelling { req, appointment },
                None => return wipe(s, fx),
            }
        }
        (Screen::ConfirmCancel { appointment }, Action::Back) => {
            Screen::AppointmentDetail { appointment, print: None }
        }
        (Screen::Cancelled { .. }, Action::Back) => return go(s, Back::Appointments, fx),

        // --- Referrals ---------------------------------------------------------------------
        (Screen::Referrals { list: Loadable::Ready(list) }, Action::Choose(i)) if i < list.len() => {
            let r = &list[i];
            if !r.valid_on(now.today) {
                Screen::Problem { problem: Problem::ReferralExpired, back: Back::Referrals }
            } else {
                let query = DoctorQuery::Referral {
                    id: r.id,
                    speciality_name: r.speciality_name.clone(),
                    ldp: r.ldp,
                };
                return go(s, Back::Doctors(BookingFlow::new(Purpose::New, query)), fx);
            }
        }
        (Screen::Referrals { .. }, Action::Back) => Screen::Menu,

        // --- Waiting list ------------------------------------------------------------------
        (Screen::WaitlistJoin { flow }, Action::JoinWaitlist(part)) => match &flow.query {
            DoctorQuery::Speciality { code, .. } => {
                let c = CentralCall::JoinWaitlist { speciality_code: code.clone(), part };
                match call(s, fx, c) {
                    Some(req) => Screen::JoiningWaitlist { req, flow },
                    None => return wipe(s, fx),
                }
            }
            DoctorQuery::Referral { .. } => Screen::WaitlistJoin { flow },
        },
        (Screen::WaitlistJoin { flow }, Action::Back) => return go(s, Back::Doctors(flow), fx),
        (Screen::WaitlistOffer { offer }, Action::Confirm) => {
            fx.push(Effect::CheckPrinter);
            match call(s, fx, CentralCall::AcceptOffer { entry: offer.entry }) {
                Some(req) => Screen::AcceptingOffer { req, offer },
                None => return wipe(s, fx),
            }
        }
        (Screen::WaitlistOffer { offer }, Action::DeclineOffer) => {
            match call(s, fx, CentralCall::DeclineOffer { entry: offer.entry }) {
                Some(req) => Screen::DecliningOffer { req },
                None => return wipe(s, fx),
            }
        }
        // "Решить позже": the offer stays held; the next visit shows it again.
        (Screen::WaitlistOffer { .. }, Action::Back) => Screen::Menu,

        // --- Problems ----------------------------------------------------------------------
        (Screen::Problem { back, .. }, Action::Back | Action::Next | Action::Done | Action::Confirm) => {
            return go(s, back, fx);
        }

        // --- Service -----------------------------------------------------------------------
        (Screen::ServicePin { mut digits, wrong }, a) => {
            if edit_digits(&mut digits, a, 8) {
                Screen::ServicePin { digits, wrong }
            } else {
                match a {
                    Action::Next if check_pin(s, &digits) => {
                        s.pin.failures = 0;
                        Screen::Service { log: Vec::new() }
                    }
                    Action::Next => {
                        s.pin.failures += 1;
                        if s.pin.failures >= s.cfg.pin_attempts {
                            s.pin.locked_until_ms = Some(now.ms + s.cfg.pin_lockout_ms);
                            Screen::Problem { problem: Problem::ServiceLocked, back: Back::Attract }
                        } else {
                            Screen::ServicePin { digits: String::new(), wrong: true }
                        }
                    }
                    Action::Back => Screen::Attract,
                    _ => Screen::ServicePin { digits, wrong },
                }
            }
        }
        (Screen::Service { log }, Action::Service(cmd)) => {
            fx.push(Effect::Service(cmd));
            Screen::Service { log }
        }
        (Screen::Service { .. }, Action::Back) => Screen::Attract,

        // Anything else: the button is not on this screen (a stale tap). Stay.
        (screen, _) => screen,
    };
}

/// A typed DDMMYYYY that is a real day, not in the future, and not absurdly long ago.
fn plausible_birth_date(digits: &str, today: Date) -> Option<Date> {
    let date = Date::parse_ddmmyyyy(digits).ok()?;
    (date <= today && date.age_on(today) <= MAX_AGE_YEARS).then_some(date)
}

fn on_printed(s: &mut Session, req: RequestId, outcome: PrintState) {
    if s.pending() != Some((req, PendingKind::Print)) {
        return;
    }
    match &mut s.screen {
        Screen::TicketIssued { print, .. } | Screen::Booked { print, .. } => *print = outcome,
        Screen::AppointmentDetail { print, .. } => *print = Some(outcome),
        _ => {}
    }
}

fn on_central(s: &mut Session, req: RequestId, result: Result<Reply, CentralError>, fx: &mut Vec<Effect>) {
    match s.pending() {
        Some((pending, kind)) if pending == req && kind != PendingKind::Print => {}
        // Not what this screen waits for: a late answer to an abandoned screen.
        _ => return,
    }
    let screen = std::mem::replace(&mut s.screen, Screen::Attract);
    s.screen = match (screen, result) {
        (Screen::Identifying { .. }, Ok(Reply::Identified(patient))) => {
            s.patient = Some(patient);
            Screen::Menu
        }
        (Screen::Identifying { .. }, Ok(Reply::IdentifiedWithOffer(patient, offer))) => {
            s.patient = Some(patient);
            Screen::WaitlistOffer { offer }
        }
        (Screen::JoiningWaitlist { .. }, Ok(Reply::Joined(place))) => Screen::WaitlistJoined { place },
        (Screen::JoiningWaitlist { flow, .. }, Err(e)) => {
            Screen::Problem { problem: Problem::from_central(&e), back: Back::Doctors(flow) }
        }
        (Screen::AcceptingOffer { .. }, Ok(Reply::Booked(appointment))) => {
            let doc = appointment_doc(s, &appointment);
            let print = print_doc(s, doc, false, fx);
            Screen::Booked { appointment, rescheduled: false, print }
        }
        (Screen::DecliningOffer { .. }, Ok(Reply::Declined)) => Screen::Menu,
        (Screen::Identifying { policy, .. }, Err(CentralError::Unreachable)) => {
            // Central is down: the card is enough to take a walk-in ticket offline.
            let Some(birth_date) = policy.birth_date else { return wipe(s, fx) };
            s.patient = Some(Patient {
                enp: policy.enp,
                birth_date,
                name: policy.name,
                sex: policy.sex,
                attached_lpu: None,
            });
            s.offline = true;
            Screen::Menu
        }
        (Screen::Identifying { policy, typed: true, .. }, Err(CentralError::PatientNotFound)) => {
            // A typing slip costs a retry, not 24 digits: the birth date comes back as typed
            // (and Back brings the policy number back, as typed). Central does not say which of
            // the two is wrong: the message asks to check both.
            let digits = policy
                .birth_date
                .map(|b| format!("{:02}{:02}{:04}", b.0.day(), b.0.month(), b.0.year()))
                .unwrap_or_default();
            Screen::EnterBirthDate { policy, digits, error: Some(Problem::EntryNotFound) }
        }
        (Screen::Identifying { .. }, Err(e)) => {
            Screen::Problem { problem: Problem::from_central(&e), back: Back::Attract }
        }
        (Screen::WalkInConfirm { .. }, Ok(Reply::Outlook(o))) => {
            Screen::WalkInConfirm { outlook: Loadable::Ready(Some(o)) }
        }
        // Not knowing the queue is no reason to refuse a ticket: the screen just says less.
        (Screen::WalkInConfirm { .. }, Err(_)) => Screen::WalkInConfirm { outlook: Loadable::Ready(None) },
        (Screen::WalkInWaiting { .. }, Ok(Reply::Ticket(ticket))) => {
            let print = print_doc(s, PrintDoc::WalkIn(ticket.clone()), false, fx);
            Screen::TicketIssued { ticket, already_had: false, print }
        }
        (Screen::WalkInWaiting { .. }, Err(CentralError::AlreadyInQueue(ticket))) => {
            // Not a new ticket: the paper is a copy of the one the patient already holds.
            let print = print_doc(s, PrintDoc::WalkIn(ticket.clone()), true, fx);
            Screen::TicketIssued { ticket, already_had: true, print }
        }
        (Screen::WalkInWaiting { .. }, Err(e)) => {
            Screen::Problem { problem: Problem::from_central(&e), back: Back::Menu }
        }
        (Screen::Booking { flow, .. }, Ok(Reply::Booked(appointment))) => {
            let rescheduled = matches!(flow.purpose, Purpose::Reschedule(_));
            let doc = appointment_doc(s, &appointment);
            let print = print_doc(s, doc, false, fx);
            Screen::Booked { appointment, rescheduled, print }
        }
        (
            Screen::Booking { flow, doctor, .. },
            Err(e @ (CentralError::SlotTaken | CentralError::TimeConflict)),
        ) => Screen::Problem { problem: Problem::from_central(&e), back: Back::Schedule(flow, doctor) },
        (Screen::Booking { .. }, Err(e)) => {
            Screen::Problem { problem: Problem::from_central(&e), back: Back::Menu }
        }
        (Screen::Cancelling { appointment, .. }, Ok(Reply::Cancelled)) => Screen::Cancelled { appointment },
        (Screen::Cancelling { .. }, Err(e)) => {
            Screen::Problem { problem: Problem::from_central(&e), back: Back::Appointments }
        }
        (Screen::Specialities { .. }, Ok(Reply::Specialities(list))) => {
            Screen::Specialities { list: Loadable::Ready(list) }
        }
        (Screen::Doctors { flow, .. }, Ok(Reply::Doctors(list))) => {
            Screen::Doctors { flow, list: Loadable::Ready(list) }
        }
        (Screen::Doctors { flow, .. }, Err(e)) => {
            let back = match (&flow.purpose, &flow.query) {
                (Purpose::Reschedule(_), _) => Back::Appointments,
                (Purpose::New, DoctorQuery::Referral { .. }) => Back::Referrals,
                (Purpose::New, DoctorQuery::Speciality { .. }) => Back::Specialities,
            };
            Screen::Problem { problem: Problem::from_central(&e), back }
        }
        (Screen::Schedule { mut flow, doctor, .. }, Ok(Reply::Schedule(days))) => {
            // Days without a free slot are noise on a day strip.
            let days: Vec<_> = days.into_iter().filter(|d| !d.slots.is_empty()).collect();
            match days.first().and_then(|d| d.slots.first()).filter(|_| flow.earliest) {
                // "Any doctor, earliest time": the first free slot, to confirm; "no" leads to
                // this doctor's day strip (the flow forgets the shortcut).
                Some(slot) => {
                    flow.earliest = false;
                    fx.push(Effect::CheckPrinter);
                    Screen::ConfirmBooking { flow, doctor, slot: slot.clone() }
                }
                None => {
                    flow.earliest = false;
                    Screen::Schedule { flow, doctor, days: Loadable::Ready(days), day: 0 }
                }
            }
        }
        (Screen::Schedule { flow, .. }, Err(e)) => {
            Screen::Problem { problem: Problem::from_central(&e), back: Back::Doctors(flow) }
        }
        (Screen::Appointments { .. }, Ok(Reply::Appointments(mut list))) => {
            list.sort_by_key(|a| a.start);
            Screen::Appointments { list: Loadable::Ready(list) }
        }
        (Screen::Referrals { .. }, Ok(Reply::Referrals(list))) => {
            Screen::Referrals { list: Loadable::Ready(list) }
        }
        (Screen::Specialities { .. } | Screen::Appointments { .. } | Screen::Referrals { .. }, Err(e)) => {
            Screen::Problem { problem: Problem::from_central(&e), back: Back::Menu }
        }
        // A reply of the wrong shape for what was asked: a client bug, never the patient's.
        (screen, Ok(_)) => {
            let back = if matches!(screen, Screen::Identifying { .. }) { Back::Attract } else { Back::Menu };
            Screen::Problem { problem: Problem::Unexpected { code: "BAD_REPLY".into() }, back }
        }
        (_, Err(e)) => Screen::Problem { problem: Problem::from_central(&e), back: Back::Menu },
    };
}
