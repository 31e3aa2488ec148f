//! What the screen shows for a session state: plain data (no Slint), so it is tested without a
//! window and the privacy test can read every string. `ui_bind` copies it into the Slint
//! adapters. [`view`] dispatches on the screen; each family of screens has its module:
//! `identify` (attract, policy number, birth date, service PIN), `menu`, `walk_in`, `booking`,
//! `appointments` (and referrals); problems, waiting and the service log are here.

use domain::Date;

use crate::session::{Lang, Loadable, PendingKind, PrintState, Screen, Session};

mod appointments;
mod booking;
mod identify;
mod menu;
mod walk_in;

/// A list row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Row {
    pub title: String,
    pub subtitle: String,
    pub note: String,
    pub enabled: bool,
}

/// Which screen component, with its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Attract {
        /// A chip-card reader is connected: the screen invites a card too.
        card_reader: bool,
    },
    Keypad {
        title: String,
        value: String,
        placeholder: String,
        error: String,
        ok_hint: String,
        next_enabled: bool,
    },
    Menu {
        greeting: String,
        offline_note: Option<String>,
    },
    List {
        title: String,
        items: Vec<Row>,
        empty: String,
    },
    Schedule {
        title: String,
        days: Vec<(String, bool)>,
        slots: Vec<(String, String)>,
        empty: String,
    },
    Info {
        title: String,
        big: String,
        lines: Vec<String>,
        status: String,
        warn: bool,
        primary: String,
        secondary: String,
        tertiary: String,
    },
    Service {
        lines: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub body: Body,
    pub busy: bool,
    pub show_back: bool,
    pub show_exit: bool,
    pub idle_seconds_left: Option<u64>,
    pub lang: Lang,
    pub large_text: bool,
}

fn t(lang: Lang, ru: &str, en: &str) -> String {
    match lang {
        Lang::Ru => ru.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// `0000 0000 0000 0000` grouping as the patient types.
pub fn group4(digits: &str) -> String {
    digits.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

fn date_mask(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i == 2 || i == 4 {
            out.push('.');
        }
        out.push(c);
    }
    out
}

fn weekday(lang: Lang, d: Date) -> &'static str {
    let ru = ["пн", "вт", "ср", "чт", "пт", "сб", "вс"];
    let en = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let i = (d.weekday() - 1) as usize;
    if lang == Lang::Ru { ru[i] } else { en[i] }
}

fn print_status(lang: Lang, p: &PrintState) -> String {
    match p {
        PrintState::Printing(_) => t(lang, "Печатаем талон…", "Printing your ticket…"),
        PrintState::Printed => t(lang, "Возьмите талон из принтера", "Take your ticket from the printer"),
        PrintState::Failed(_) => t(
            lang,
            "Талон не напечатался. Запомните или сфотографируйте номер — он действителен.",
            "The ticket did not print. Remember or photograph the number: it is valid.",
        ),
    }
}

/// The view of `s` at `now_ms`: the screen's body from its module, and the chrome (back and
/// exit buttons, busy veil, idle countdown) every screen shares.
pub fn view(s: &Session, now_ms: u64) -> View {
    let l = s.lang;
    let body = match &s.screen {
        Screen::Attract => identify::attract(s),
        Screen::EnterEnp { digits, error } => identify::enter_enp(s, digits, error),
        Screen::EnterBirthDate { digits, error, .. } => identify::enter_birth_date(s, digits, error),
        Screen::ServicePin { digits, wrong } => identify::service_pin(s, digits, wrong),
        Screen::Menu => menu::menu(s),
        Screen::WalkInConfirm => walk_in::confirm(s),
        Screen::TicketIssued { ticket, already_had, print } => walk_in::ticket(s, ticket, already_had, print),
        Screen::Specialities { list } => booking::specialities(s, list),
        Screen::Doctors { list, .. } => booking::doctors(s, list),
        Screen::Schedule { doctor, days, day, .. } => booking::schedule(s, doctor, days, day),
        Screen::ConfirmBooking { doctor, slot, .. } => booking::confirm(s, doctor, slot),
        Screen::Booked { appointment, rescheduled, print } => {
            booking::booked(s, appointment, rescheduled, print)
        }
        Screen::Appointments { list } => appointments::list(s, list),
        Screen::AppointmentDetail { appointment, print } => appointments::detail(s, appointment, print),
        Screen::ConfirmCancel { appointment } => appointments::confirm_cancel(s, appointment),
        Screen::Cancelled { appointment } => appointments::cancelled(s, appointment),
        Screen::Referrals { list } => appointments::referrals(s, list),
        Screen::Problem { problem, .. } => problem_body(l, &problem.message(l, &s.cfg.registry_phone)),
        Screen::Service { log } => Body::Service { lines: log.clone() },
        Screen::Identifying { .. }
        | Screen::WalkInWaiting { .. }
        | Screen::Booking { .. }
        | Screen::Cancelling { .. } => waiting_body(l),
    };
    // The attract screen has neither; the menu is the top of a visit: no "back" from it.
    let show_back = !matches!(s.screen, Screen::Attract | Screen::Menu);
    let show_exit = s.patient.is_some() && !matches!(s.screen, Screen::Attract);
    let busy = s.pending().is_some_and(|(_, k)| k != PendingKind::Print);
    let idle_seconds_left = s
        .idle_warning_since_ms
        .map(|since| s.cfg.idle_countdown_ms.saturating_sub(now_ms.saturating_sub(since)).div_ceil(1000));
    View { body, busy, show_back, show_exit, idle_seconds_left, lang: l, large_text: s.large_text }
}

/// Something went wrong: the plain sentence and one way on.
fn problem_body(l: Lang, message: &str) -> Body {
    Body::Info {
        title: t(l, "Не получилось", "That did not work"),
        big: String::new(),
        lines: vec![message.to_owned()],
        status: String::new(),
        warn: true,
        primary: t(l, "Понятно", "OK"),
        secondary: String::new(),
        tertiary: String::new(),
    }
}

/// Central is being asked: the veil says so (`busy`), the body stays plain.
fn waiting_body(l: Lang) -> Body {
    Body::Info {
        title: t(l, "Подождите…", "Please wait…"),
        big: String::new(),
        lines: vec![],
        status: String::new(),
        warn: false,
        primary: String::new(),
        secondary: String::new(),
        tertiary: String::new(),
    }
}

/// "Print again", offered once a print has finished (well or not).
fn reprint_label(l: Lang, print: &PrintState) -> String {
    if matches!(print, PrintState::Printing(_)) {
        String::new()
    } else {
        t(l, "Напечатать ещё раз", "Print again")
    }
}

/// Who, where and which number: the lines every appointment screen shows.
fn appointment_lines(l: Lang, a: &domain::Appointment) -> Vec<String> {
    vec![
        format!("{}: {}", a.speciality_name, a.doctor_name),
        format!("{} {}, {}", t(l, "Кабинет", "Room"), a.room, a.lpu_address),
        format!("{} {}", t(l, "Номер записи", "Appointment number"), a.number),
    ]
}

fn printer_note(s: &Session) -> String {
    use crate::session::PrinterHealth;
    match s.printer {
        PrinterHealth::Unavailable(_) => t(
            s.lang,
            "Принтер сейчас не печатает: номер будет показан на экране.",
            "The printer is not working: the number will be shown on screen.",
        ),
        _ => String::new(),
    }
}

/// The lines worth showing: a note that does not apply (an empty string) takes no line.
fn non_empty(lines: Vec<String>) -> Vec<String> {
    lines.into_iter().filter(|x| !x.is_empty()).collect()
}

fn list_body<T>(
    l: Lang,
    title: String,
    list: &Loadable<Vec<T>>,
    row: impl Fn(&T) -> Row,
    empty: String,
) -> Body {
    match list {
        Loadable::Loading(_) => Body::List { title, items: vec![], empty: String::new() },
        Loadable::Ready(items) => {
            let _ = l;
            Body::List { title, items: items.iter().map(row).collect(), empty }
        }
    }
}

/// `АННА ИВАНОВНА` -> `Анна Ивановна` (names arrive in capitals from barcodes and central).
pub fn title_case(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c.flat_map(char::to_lowercase)).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the Info screen's three buttons (primary, secondary, tertiary) mean on `screen`.
pub fn info_action(screen: &Screen, button: usize) -> Option<crate::session::Action> {
    use crate::session::Action as A;
    let [p, s, t] = match screen {
        Screen::WalkInConfirm | Screen::ConfirmBooking { .. } | Screen::ConfirmCancel { .. } => {
            [Some(A::Confirm), None, None]
        }
        Screen::TicketIssued { .. } | Screen::Booked { .. } => [Some(A::Done), Some(A::Reprint), None],
        Screen::Cancelled { .. } => [Some(A::Done), None, None],
        Screen::AppointmentDetail { .. } => {
            [Some(A::Reschedule), Some(A::CancelAppointment), Some(A::Reprint)]
        }
        Screen::Problem { .. } => [Some(A::Back), None, None],
        _ => [None, None, None],
    };
    [p, s, t].get(button).copied().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_and_names() {
        assert_eq!(group4("7700000000000016"), "7700 0000 0000 0016");
        assert_eq!(group4("77000"), "7700 0");
        assert_eq!(date_mask("0503194"), "05.03.194");
        assert_eq!(title_case("АННА ИВАНОВНА"), "Анна Ивановна");
    }
}
