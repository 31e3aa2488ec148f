//! The patient's appointments (move, cancel, print) and referrals.

use domain::{Appointment, Referral};

use super::{Body, Row, appointment_lines, day, ldp_word, list_body, next_policy, print_status, t, when};
use crate::session::{Loadable, PrintState, Session};

pub(super) fn list(s: &Session, list: &Loadable<Vec<Appointment>>) -> Body {
    let l = s.lang;
    list_body(
        l,
        t(l, "Мои записи", "My appointments"),
        list,
        |a| Row {
            title: format!("{}\u{a0}— {}", when(l, a.start), a.speciality_name),
            subtitle: a.doctor_name.clone(),
            note: format!("{} {}", t(l, "кабинет", "room"), a.room),
            enabled: true,
            action: t(l, "Отменить", "Cancel"),
        },
        t(l, "Записей нет", "No appointments"),
    )
}

pub(super) fn detail(s: &Session, a: &Appointment, print: &Option<PrintState>) -> Body {
    let l = s.lang;
    Body::Info {
        title: when(l, a.start),
        big: String::new(),
        lines: appointment_lines(l, a),
        status: print.as_ref().map(|p| print_status(l, p)).unwrap_or_default(),
        warn: false,
        primary: t(l, "Перенести", "Reschedule"),
        secondary: t(l, "Отменить запись", "Cancel the appointment"),
        tertiary: t(l, "Напечатать", "Print"),
    }
}

pub(super) fn confirm_cancel(s: &Session, a: &Appointment) -> Body {
    let l = s.lang;
    Body::Info {
        title: t(l, "Отменить эту запись?", "Cancel this appointment?"),
        big: String::new(),
        lines: vec![format!("{}\u{a0}— {}", when(l, a.start), a.speciality_name), a.doctor_name.clone()],
        status: String::new(),
        warn: true,
        primary: t(l, "Нет, оставить", "No, keep it"),
        secondary: t(l, "Да, отменить", "Yes, cancel"),
        tertiary: String::new(),
    }
}

pub(super) fn cancelled(s: &Session, a: &Appointment) -> Body {
    let l = s.lang;
    Body::Info {
        title: t(l, "Запись отменена", "Appointment cancelled"),
        big: String::new(),
        lines: vec![format!("{}\u{a0}— {}", when(l, a.start), a.speciality_name)],
        status: String::new(),
        warn: false,
        primary: t(l, "Готово", "Done"),
        secondary: String::new(),
        tertiary: next_policy(l),
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
            // What it is (a doctor needs no word), its number, and until when it is valid.
            subtitle: format!(
                "{}№ {} — {} {}",
                r.ldp.map(|k| format!("{}, ", ldp_word(l, k))).unwrap_or_default(),
                r.number,
                t(l, "до", "until"),
                day(l, r.valid_until)
            ),
            note: if !r.valid_on(s.today) {
                t(l, "срок истёк: нужно новое направление", "expired: a new referral is needed")
            } else if r.active_appointments > 0 {
                t(l, "уже есть запись", "already booked")
            } else {
                t(l, "можно записаться", "you can book")
            },
            // Nothing to book on it: greyed, like a doctor without free time.
            enabled: r.valid_on(s.today),
            action: String::new(),
        },
        t(l, "Направлений нет", "No referrals"),
    )
}
