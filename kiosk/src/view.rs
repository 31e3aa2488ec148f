//! What the screen shows for a session state: plain data (no Slint), so it is tested without a
//! window and the privacy test can read every string. `ui_bind` copies it into the Slint
//! adapters.

use domain::Date;

use crate::session::{Lang, Loadable, PendingKind, PrintState, Screen, Session};

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
    Attract,
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

/// The view of `s` at `now_ms`.
pub fn view(s: &Session, now_ms: u64) -> View {
    let l = s.lang;
    let phone = &s.cfg.registry_phone;
    let mut show_back = true;
    let mut show_exit = s.patient.is_some();
    let body = match &s.screen {
        Screen::Attract => {
            show_back = false;
            show_exit = false;
            Body::Attract
        }
        Screen::EnterEnp { digits, error } => {
            let valid = digits.len() == 16 && domain::Enp::parse(digits).is_ok_and(|e| e.checksum_ok());
            let bad = digits.len() == 16 && !valid;
            Body::Keypad {
                title: t(l, "Введите номер полиса (16 цифр)", "Enter the policy number (16 digits)"),
                value: group4(digits),
                placeholder: "0000 0000 0000 0000".into(),
                error: match error {
                    Some(p) => p.message(l, phone),
                    None if bad => crate::session::Problem::BadNumber.message(l, phone),
                    None => String::new(),
                },
                ok_hint: if valid {
                    t(l, "✓ Номер верный", "✓ The number is valid")
                } else {
                    String::new()
                },
                next_enabled: valid,
            }
        }
        Screen::EnterBirthDate { digits, error, .. } => Body::Keypad {
            title: t(l, "Дата рождения: день, месяц, год", "Date of birth: day, month, year"),
            value: date_mask(digits),
            placeholder: t(l, "ДД.ММ.ГГГГ", "DD.MM.YYYY"),
            error: error.as_ref().map(|p| p.message(l, phone)).unwrap_or_default(),
            ok_hint: String::new(),
            next_enabled: digits.len() == 8,
        },
        Screen::Menu => {
            show_back = false;
            let greeting =
                match s.patient.as_ref().map(|p| p.name.greeting()).filter(|g| !g.trim().is_empty()) {
                    Some(g) => format!("{}, {}!", t(l, "Здравствуйте", "Hello"), title_case(&g)),
                    None => t(l, "Здравствуйте!", "Hello!"),
                };
            let offline_note = s.offline.then(|| {
                t(l, "Нет связи с регистратурой: можно взять талон к дежурному врачу. Запись недоступна, телефон: ", "No connection to the registry: you can take a duty doctor ticket. Booking is unavailable, phone: ") + phone
            });
            Body::Menu { greeting, offline_note }
        }
        Screen::WalkInConfirm => Body::Info {
            title: t(l, "Талон к дежурному врачу", "Duty doctor ticket"),
            big: String::new(),
            lines: vec![
                t(
                    l,
                    "Дежурный врач принимает без записи, в порядке очереди.",
                    "The duty doctor sees patients without appointment, in order of arrival.",
                ),
                printer_note(s),
            ]
            .into_iter()
            .filter(|x| !x.is_empty())
            .collect(),
            status: String::new(),
            warn: false,
            primary: t(l, "Получить талон", "Get a ticket"),
            secondary: String::new(),
            tertiary: String::new(),
        },
        Screen::TicketIssued { ticket, already_had, print } => {
            let mut lines = Vec::new();
            if *already_had {
                lines.push(t(
                    l,
                    "У вас уже есть талон на сегодня — вот он.",
                    "You already have a ticket for today: here it is.",
                ));
            }
            if ticket.offline {
                lines.push(t(
                    l,
                    "Талон выдан без связи: номер появится на табло, когда связь восстановится.",
                    "Issued offline: the number will appear on the board when the connection is back.",
                ));
            } else {
                lines.push(format!("{} {}", t(l, "Перед вами:", "Ahead of you:"), ticket.position));
                if let Some(m) = ticket.estimated_wait_minutes.filter(|m| *m > 0) {
                    lines.push(format!("{} ~{m} {}", t(l, "Ожидание", "Waiting"), t(l, "мин", "min")));
                }
            }
            lines.push(t(l, "Следите за табло в зоне ожидания.", "Watch the board in the waiting area."));
            Body::Info {
                title: t(l, "Ваш талон", "Your ticket"),
                big: ticket.number.0.clone(),
                lines,
                status: print_status(l, print),
                warn: false,
                primary: t(l, "Готово", "Done"),
                secondary: reprint_label(l, print),
                tertiary: String::new(),
            }
        }
        Screen::Specialities { list } => list_body(
            l,
            t(l, "К какому врачу?", "Which doctor?"),
            list,
            |sp| Row {
                title: sp.name.clone(),
                subtitle: if sp.first_level {
                    t(l, "без направления", "no referral needed")
                } else {
                    t(l, "только по направлению", "referral only")
                },
                note: String::new(),
                enabled: true,
            },
            t(l, "Специальностей нет", "No specialities"),
        ),
        Screen::Doctors { list, .. } => list_body(
            l,
            t(l, "Выберите врача", "Choose a doctor"),
            list,
            |d| Row {
                title: d.name.clone(),
                subtitle: d
                    .cabinet
                    .as_ref()
                    .map(|c| format!("{} {}, {}", t(l, "кабинет", "room"), c.number, c.address))
                    .unwrap_or_default(),
                note: match d.nearest_free {
                    Some(date) => {
                        format!("{} {}", t(l, "ближайшая запись:", "nearest free:"), date.to_ru_string())
                    }
                    None => t(l, "нет свободного времени", "no free time"),
                },
                enabled: d.nearest_free.is_some(),
            },
            t(
                l,
                "Свободных врачей нет. Обратитесь в регистратуру.",
                "No doctor has free time. Please ask at the registry.",
            ),
        ),
        Screen::Schedule { doctor, days, day, .. } => match days {
            Loadable::Loading(_) => Body::Schedule {
                title: doctor.name.clone(),
                days: vec![],
                slots: vec![],
                empty: String::new(),
            },
            Loadable::Ready(days) => Body::Schedule {
                title: doctor.name.clone(),
                days: days
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        (
                            format!("{} {:02}.{:02}", weekday(l, d.date), d.date.day(), d.date.month()),
                            i == *day,
                        )
                    })
                    .collect(),
                slots: days
                    .get(*day)
                    .map(|d| d.slots.iter().map(|s| (s.start.hhmm(), s.cabinet.clone())).collect())
                    .unwrap_or_default(),
                empty: t(l, "Свободного времени нет", "No free time"),
            },
        },
        Screen::ConfirmBooking { doctor, slot, .. } => Body::Info {
            title: t(l, "Проверьте запись", "Check the appointment"),
            big: String::new(),
            lines: vec![
                doctor.speciality_name.clone(),
                doctor.name.clone(),
                format!("{} {}", slot.start.date.to_ru_string(), slot.start.hhmm()),
                format!("{} {}", t(l, "Кабинет", "Room"), slot.cabinet),
                printer_note(s),
            ]
            .into_iter()
            .filter(|x| !x.is_empty())
            .collect(),
            status: String::new(),
            warn: false,
            primary: t(l, "Записаться", "Book"),
            secondary: String::new(),
            tertiary: String::new(),
        },
        Screen::Booked { appointment: a, rescheduled, print } => Body::Info {
            title: if *rescheduled {
                t(l, "Запись перенесена", "Appointment moved")
            } else {
                t(l, "Вы записаны", "You are booked")
            },
            big: a.start.hhmm(),
            lines: std::iter::once(a.start.date.to_ru_string()).chain(appointment_lines(l, a)).collect(),
            status: print_status(l, print),
            warn: false,
            primary: t(l, "Готово", "Done"),
            secondary: reprint_label(l, print),
            tertiary: String::new(),
        },
        Screen::Appointments { list } => list_body(
            l,
            t(l, "Мои записи", "My appointments"),
            list,
            |a| Row {
                title: format!("{} {} — {}", a.start.date.to_ru_string(), a.start.hhmm(), a.speciality_name),
                subtitle: a.doctor_name.clone(),
                note: format!("{} {}", t(l, "кабинет", "room"), a.room),
                enabled: true,
            },
            t(l, "Записей нет", "No appointments"),
        ),
        Screen::AppointmentDetail { appointment: a, print } => Body::Info {
            title: format!("{} {}", a.start.date.to_ru_string(), a.start.hhmm()),
            big: String::new(),
            lines: appointment_lines(l, a),
            status: print.as_ref().map(|p| print_status(l, p)).unwrap_or_default(),
            warn: false,
            primary: t(l, "Перенести", "Reschedule"),
            secondary: t(l, "Отменить запись", "Cancel it"),
            tertiary: t(l, "Напечатать", "Print"),
        },
        Screen::ConfirmCancel { appointment: a } => Body::Info {
            title: t(l, "Отменить эту запись?", "Cancel this appointment?"),
            big: String::new(),
            lines: vec![
                format!("{} {} — {}", a.start.date.to_ru_string(), a.start.hhmm(), a.speciality_name),
                a.doctor_name.clone(),
            ],
            status: String::new(),
            warn: true,
            primary: t(l, "Да, отменить", "Yes, cancel"),
            secondary: String::new(),
            tertiary: String::new(),
        },
        Screen::Cancelled { appointment: a } => Body::Info {
            title: t(l, "Запись отменена", "Appointment cancelled"),
            big: String::new(),
            lines: vec![format!(
                "{} {} — {}",
                a.start.date.to_ru_string(),
                a.start.hhmm(),
                a.speciality_name
            )],
            status: String::new(),
            warn: false,
            primary: t(l, "Готово", "Done"),
            secondary: String::new(),
            tertiary: String::new(),
        },
        Screen::Referrals { list } => list_body(
            l,
            t(l, "Мои направления", "My referrals"),
            list,
            |r| Row {
                title: r.speciality_name.clone(),
                subtitle: format!(
                    "№ {} — {} {}",
                    r.number,
                    t(l, "до", "until"),
                    r.valid_until.to_ru_string()
                ),
                note: if r.active_appointments > 0 {
                    t(l, "уже есть запись", "already booked")
                } else {
                    t(l, "можно записаться", "you can book")
                },
                enabled: true,
            },
            t(l, "Направлений нет", "No referrals"),
        ),
        Screen::Problem { problem, .. } => Body::Info {
            title: t(l, "Не получилось", "That did not work"),
            big: String::new(),
            lines: vec![problem.message(l, phone)],
            status: String::new(),
            warn: true,
            primary: t(l, "Понятно", "OK"),
            secondary: String::new(),
            tertiary: String::new(),
        },
        Screen::ServicePin { digits, wrong } => Body::Keypad {
            title: t(l, "Сервисный PIN", "Service PIN"),
            value: "•".repeat(digits.len()),
            placeholder: "••••".into(),
            error: if *wrong { t(l, "Неверный PIN", "Wrong PIN") } else { String::new() },
            ok_hint: String::new(),
            next_enabled: !digits.is_empty(),
        },
        Screen::Service { log } => Body::Service { lines: log.clone() },
        Screen::Identifying { .. }
        | Screen::WalkInWaiting { .. }
        | Screen::Booking { .. }
        | Screen::Cancelling { .. } => Body::Info {
            title: t(l, "Подождите…", "Please wait…"),
            big: String::new(),
            lines: vec![],
            status: String::new(),
            warn: false,
            primary: String::new(),
            secondary: String::new(),
            tertiary: String::new(),
        },
    };
    let busy = s.pending().is_some_and(|(_, k)| k != PendingKind::Print);
    let idle_seconds_left = s
        .idle_warning_since_ms
        .map(|since| s.cfg.idle_countdown_ms.saturating_sub(now_ms.saturating_sub(since)).div_ceil(1000));
    View { body, busy, show_back, show_exit, idle_seconds_left, lang: l, large_text: s.large_text }
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
        PrinterHealth::PaperLow => String::new(),
        _ => String::new(),
    }
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
