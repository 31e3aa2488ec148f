//! The patient's appointments (move, cancel, print) and referrals.

use domain::{Appointment, Referral};

use super::{Body, Row, appointment_lines, list_body, print_status, t};
use crate::session::{Loadable, PrintState, Session};

pub(super) fn list(s: &Session, list: &Loadable<Vec<Appointment>>) -> Body {
    let l = s.lang;
    list_body(
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
    )
}

pub(super) fn detail(s: &Session, a: &Appointment, print: &Option<PrintState>) -> Body {
    let l = s.lang;
    Body::Info {
        title: format!("{} {}", a.start.date.to_ru_string(), a.start.hhmm()),
        big: String::new(),
        lines: appointment_lines(l, a),
        status: print.as_ref().map(|p| print_status(l, p)).unwrap_or_default(),
        warn: false,
        primary: t(l, "Перенести", "Reschedule"),
        secondary: t(l, "Отменить запись", "Cancel it"),
        tertiary: t(l, "Напечатать", "Print"),
    }
}

pub(super) fn confirm_cancel(s: &Session, a: &Appointment) -> Body {
    let l = s.lang;
    Body::Info {
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
    }
}

pub(super) fn cancelled(s: &Session, a: &Appointment) -> Body {
    let l = s.lang;
    Body::Info {
        title: t(l, "Запись отменена", "Appointment cancelled"),
        big: String::new(),
        lines: vec![format!("{} {} — {}", a.start.date.to_ru_string(), a.start.hhmm(), a.speciality_name)],
        status: String::new(),
        warn: false,
        primary: t(l, "Готово", "Done"),
        secondary: String::new(),
        tertiary: String::new(),
    }
}

pub(super) fn referrals(s: &Session, list: &Loadable<Vec<Referral>>) -> Body {
    let l = s.lang;
    list_body(
        l,
        t(l, "Мои направления", "My referrals"),
        list,
        |r| Row {
            title: r.speciality_name.clone(),
            subtitle: format!("№ {} — {} {}", r.number, t(l, "до", "until"), r.valid_until.to_ru_string()),
            note: if r.active_appointments > 0 {
                t(l, "уже есть запись", "already booked")
            } else {
                t(l, "можно записаться", "you can book")
            },
            enabled: true,
        },
        t(l, "Направлений нет", "No referrals"),
    )
}
