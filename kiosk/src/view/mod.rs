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
mod waitlist;
mod walk_in;

/// A list row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Row {
    pub title: String,
    pub subtitle: String,
    pub note: String,
    pub enabled: bool,
    /// A button on the row itself (its one action, e.g. "Отменить"); "" for none.
    pub action: String,
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
        /// Why booking, appointments and referrals are greyed out (central is unreachable);
        /// `None` when they work.
        offline_note: Option<String>,
    },
    List {
        title: String,
        /// A shortcut above the rows ("any doctor, earliest time"), when the screen has one.
        lead: Option<Row>,
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

/// The veil over a screen waiting for central: what is happening, how long it may take, and
/// whether it may be abandoned (a read may; a booking on its way may not).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Wait {
    pub what: String,
    pub how_long: String,
    pub cancel: String,
}

/// The "Позвать сотрудника" panel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Help {
    pub title: String,
    pub lines: Vec<String>,
    pub close: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub body: Body,
    pub busy: bool,
    pub wait: Wait,
    pub help: Option<Help>,
    pub show_back: bool,
    pub show_exit: bool,
    pub idle_seconds_left: Option<u64>,
    pub lang: Lang,
    pub large_text: bool,
    pub high_contrast: bool,
}

fn t(lang: Lang, ru: &str, en: &str) -> String {
    match lang {
        Lang::Ru => ru.to_owned(),
        Lang::En => en.to_owned(),
    }
}

/// A phone number that never breaks across lines ("+7 495" / "000-00-00" is two numbers to
/// an eye in a hurry).
pub fn phone(p: &str) -> String {
    p.replace(' ', "\u{a0}").replace('-', "\u{2011}")
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

/// `чт, 4 декабря`: a day as a patient reads it.
fn day(lang: Lang, d: Date) -> String {
    let text = match lang {
        Lang::Ru => d.long_ru(false),
        Lang::En => d.long_en(false),
    };
    // "2 января" never splits across lines: a lone "2" at a line's end reads as a count.
    match text.rsplit_once(' ') {
        Some((head, month)) => format!("{head}\u{a0}{month}"),
        None => text,
    }
}

/// `чт, 4 декабря, 09:30`.
fn when(lang: Lang, t: domain::DateTime) -> String {
    format!("{}, {}", day(lang, t.date), t.hhmm())
}

fn weekday(lang: Lang, d: Date) -> &'static str {
    if lang == Lang::Ru { d.weekday_ru() } else { d.weekday_en() }
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
        Screen::WalkInConfirm { outlook } => walk_in::confirm(s, outlook),
        Screen::TicketIssued { ticket, already_had, print } => walk_in::ticket(s, ticket, already_had, print),
        Screen::Specialities { list } => booking::specialities(s, list),
        Screen::Doctors { list, flow } => {
            let mut body = booking::doctors(s, list, rooms(&flow.query));
            // Nobody has time: the lead row is the waiting list.
            if let (Loadable::Ready(l), Body::List { lead, .. }) = (list, &mut body)
                && crate::session::offers_waitlist(flow, l)
            {
                *lead = Some(waitlist::lead(s.lang));
            }
            body
        }
        Screen::WaitlistJoin { flow } => waitlist::join(s, &flow.query),
        Screen::WaitlistJoined { place } => waitlist::joined(s, place),
        Screen::WaitlistOffer { offer } => waitlist::offer(s, offer),
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
        Screen::NeedsReferral { speciality, issuer } => {
            booking::needs_referral(s, speciality, issuer.as_ref())
        }
        Screen::Problem { problem, .. } => {
            problem_body(l, &problem.message(l, &phone(&s.cfg.registry_phone)))
        }
        Screen::Service { log } => Body::Service { lines: log.clone() },
        Screen::Identifying { .. }
        | Screen::WalkInWaiting { .. }
        | Screen::Booking { .. }
        | Screen::Cancelling { .. }
        | Screen::JoiningWaitlist { .. }
        | Screen::AcceptingOffer { .. }
        | Screen::DecliningOffer { .. } => waiting_body(l),
    };
    // The attract screen has neither; the menu is the top of a visit: no "back" from it. A
    // finished visit's own "Готово" ends the session: a second "Завершить" would only puzzle.
    // A confirmation's own "Нет, …" is its way back: no second button saying the same.
    let show_back = !matches!(
        s.screen,
        Screen::Attract
            | Screen::Menu
            | Screen::Problem { .. }
            | Screen::NeedsReferral { .. }
            | Screen::WalkInConfirm { .. }
            | Screen::ConfirmBooking { .. }
            | Screen::ConfirmCancel { .. }
            | Screen::WaitlistOffer { .. }
    );
    let show_exit = s.patient.is_some() && !matches!(s.screen, Screen::Attract) && !s.screen.is_done();
    let pending =
        s.pending().map(|(_, k)| k).filter(|k| !matches!(k, PendingKind::Print | PendingKind::Outlook));
    let idle_seconds_left = s
        .idle_warning_since_ms
        .map(|since| s.cfg.idle_countdown_ms.saturating_sub(now_ms.saturating_sub(since)).div_ceil(1000));
    View {
        body,
        busy: pending.is_some(),
        wait: pending.map(|k| wait(s, k)).unwrap_or_default(),
        help: s.help_shown.then(|| help(s)),
        show_back,
        show_exit,
        idle_seconds_left,
        lang: l,
        large_text: s.large_text,
        high_contrast: s.high_contrast,
    }
}

/// What the veil says while central is asked.
fn wait(s: &Session, k: PendingKind) -> Wait {
    let l = s.lang;
    let what = match k {
        PendingKind::Identify => {
            t(l, "Ищем вас в базе поликлиники…", "Looking you up in the clinic's records…")
        }
        PendingKind::Doctors if matches!(&s.screen, Screen::Doctors { flow, .. } if rooms(&flow.query).is_some()) => {
            t(l, "Загружаем кабинеты…", "Loading the rooms…")
        }
        PendingKind::Specialities | PendingKind::Doctors => {
            t(l, "Загружаем список врачей…", "Loading the doctors…")
        }
        PendingKind::Schedule => t(l, "Загружаем свободное время…", "Loading free times…"),
        PendingKind::Appointments => t(l, "Загружаем ваши записи…", "Loading your appointments…"),
        PendingKind::Referrals => t(l, "Загружаем ваши направления…", "Loading your referrals…"),
        PendingKind::Book => t(l, "Записываем вас…", "Booking…"),
        PendingKind::Cancel => t(l, "Отменяем запись…", "Cancelling…"),
        PendingKind::Waitlist => t(l, "Передаём ваш ответ…", "Sending your answer…"),
        PendingKind::WalkIn | PendingKind::Print | PendingKind::Outlook => {
            t(l, "Выдаём талон…", "Issuing your ticket…")
        }
    };
    let how_long = format!(
        "{} {}\u{a0}{}",
        t(l, "Обычно несколько секунд, не дольше", "Usually a few seconds, at most"),
        s.cfg.wait_limit_s,
        t(l, "с", "s")
    );
    // A write already sent cannot be called back: the patient waits for its outcome.
    let cancel = match k {
        PendingKind::Book
        | PendingKind::Cancel
        | PendingKind::WalkIn
        | PendingKind::Print
        | PendingKind::Outlook => String::new(),
        // Not "Отменить": on a kiosk that books, it reads as cancelling an appointment.
        _ => t(l, "Не ждать", "Stop waiting"),
    };
    Wait { what, how_long, cancel }
}

/// The "Позвать сотрудника" panel: the call is on its way; where the desk is.
fn help(s: &Session) -> Help {
    let l = s.lang;
    let mut lines = vec![t(
        l,
        "Мы сообщили сотрудникам: к вам подойдут.",
        "Staff have been told: someone will come to you.",
    )];
    if !s.cfg.help_desk.is_empty() {
        lines.push(format!("{} {}", t(l, "Информационная стойка:", "Information desk:"), s.cfg.help_desk));
    }
    if !s.cfg.registry_phone.is_empty() {
        lines.push(format!(
            "{} {}",
            t(l, "Телефон регистратуры:", "Registry phone:"),
            phone(&s.cfg.registry_phone)
        ));
    }
    Help {
        title: t(l, "Помощь уже идёт", "Help is on its way"), lines, close: t(l, "Хорошо", "OK")
    }
}

/// The sentence read aloud for `v` when spoken guidance is on (`kiosk.speak`): what the
/// patient should do now. Never a name: a lobby hears it.
pub fn instruction(v: &View) -> Option<String> {
    let l = v.lang;
    if let Some(h) = &v.help {
        return Some(h.title.clone());
    }
    if v.idle_seconds_left.is_some() {
        return Some(t(l, "Вы ещё здесь? Коснитесь экрана.", "Are you still here? Touch the screen."));
    }
    if v.busy {
        return Some(v.wait.what.clone());
    }
    match &v.body {
        Body::Attract { .. } => Some(t(
            l,
            "Приложите полис ОМС к сканеру внизу или введите номер вручную.",
            "Hold your insurance policy to the scanner below, or enter its number.",
        )),
        Body::Keypad { title, .. } | Body::List { title, .. } => Some(title.clone()),
        Body::Menu { .. } => Some(t(l, "Выберите, что вам нужно.", "Choose what you need.")),
        Body::Schedule { .. } => Some(t(l, "Выберите день и время.", "Choose a day and a time.")),
        // A ticket's number is on every board anyway; it is worth hearing.
        Body::Info { title, big, .. } if !big.is_empty() => Some(format!("{title}: {big}")),
        Body::Info { title, .. } => Some(title.clone()),
        Body::Service { .. } => None,
    }
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

/// "Ещё один полис": a parent books for the next family member without waiting out the wipe.
fn next_policy(l: Lang) -> String {
    t(l, "Ещё один полис", "Another policy")
}

/// "Print again", offered once a print has finished (well or not).
fn reprint_label(l: Lang, print: &PrintState) -> String {
    if matches!(print, PrintState::Printing(_)) {
        String::new()
    } else {
        t(l, "Напечатать ещё раз", "Print again")
    }
}

/// Who, where and which number: the lines every appointment screen shows; for a test, how to
/// prepare (central's text, in Russian: it is the clinic's instruction).
fn appointment_lines(l: Lang, a: &domain::Appointment) -> Vec<String> {
    let mut lines = vec![
        // A test names itself; its room's name ("Процедурный кабинет") is on paper, the door's
        // number is the line below.
        match a.ldp {
            Some(_) => a.speciality_name.clone(),
            None => format!("{}: {}", a.speciality_name, a.doctor_name),
        },
        format!("{} {}, {}", t(l, "Кабинет", "Room"), a.room, a.lpu_address),
        format!("{} {}", t(l, "Номер записи", "Appointment number"), a.number),
    ];
    if !a.preparation.is_empty() {
        lines.push(format!("{} {}", t(l, "Подготовка:", "Preparation:"), a.preparation));
    }
    lines
}

/// The test or procedure whose rooms the patient chooses between (not doctors), if it is one.
fn rooms(q: &crate::session::DoctorQuery) -> Option<&str> {
    match q {
        crate::session::DoctorQuery::Referral { ldp: Some(_), speciality_name, .. } => Some(speciality_name),
        _ => None,
    }
}

/// What a test or procedure is, in a word: "анализ", "исследование", "процедура".
fn ldp_word(l: Lang, k: domain::LdpKind) -> String {
    match k {
        domain::LdpKind::Lab => t(l, "анализ", "lab test"),
        domain::LdpKind::Diagnostic => t(l, "исследование", "examination"),
        domain::LdpKind::Procedure => t(l, "процедура", "procedure"),
    }
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
        Loadable::Loading(_) => Body::List { title, lead: None, items: vec![], empty: String::new() },
        Loadable::Ready(items) => {
            let _ = l;
            Body::List { title, lead: None, items: items.iter().map(row).collect(), empty }
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
    use domain::DayPart;
    let [p, s, t] = match screen {
        Screen::WalkInConfirm { .. } | Screen::ConfirmBooking { .. } => {
            [Some(A::Confirm), Some(A::Back), None]
        }
        // Undoing is the safe, highlighted choice; cancelling the visit is the plain one.
        Screen::ConfirmCancel { .. } => [Some(A::Back), Some(A::Confirm), None],
        Screen::NeedsReferral { issuer: Some(_), .. } => [Some(A::BookIssuer), Some(A::Back), None],
        Screen::NeedsReferral { issuer: None, .. } => [Some(A::Back), None, None],
        Screen::TicketIssued { .. } | Screen::Booked { .. } => {
            [Some(A::Done), Some(A::Reprint), Some(A::NextPolicy)]
        }
        Screen::Cancelled { .. } | Screen::WaitlistJoined { .. } => {
            [Some(A::Done), None, Some(A::NextPolicy)]
        }
        Screen::WaitlistJoin { .. } => [
            Some(A::JoinWaitlist(DayPart::Any)),
            Some(A::JoinWaitlist(DayPart::Afternoon)),
            Some(A::JoinWaitlist(DayPart::Morning)),
        ],
        Screen::WaitlistOffer { .. } => [Some(A::Confirm), Some(A::DeclineOffer), Some(A::Back)],
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
