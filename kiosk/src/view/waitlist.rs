//! The waiting list: joining it for a speciality with no free time, the place in line, and the
//! freed slot it holds for the patient at their next visit.

use domain::{WaitlistOffer, WaitlistPlace};

use super::{Body, day, next_policy, printer_note, t};
use crate::session::{DoctorQuery, Session};

/// The doctors screen's lead row when nobody has free time.
pub(super) fn lead(l: crate::session::Lang) -> super::Row {
    super::Row {
        title: t(l, "Встать в лист ожидания", "Join the waiting list"),
        subtitle: t(l, "мы придержим первое освободившееся время", "we hold the first time that frees up"),
        note: String::new(),
        enabled: true,
        action: String::new(),
    }
}

pub(super) fn join(s: &Session, query: &DoctorQuery) -> Body {
    let l = s.lang;
    let name = match query {
        DoctorQuery::Speciality { name, .. } => name.clone(),
        DoctorQuery::Referral { speciality_name, .. } => speciality_name.clone(),
    };
    Body::Info {
        title: t(l, "Лист ожидания", "Waiting list"),
        big: String::new(),
        lines: vec![
            format!("{name}: {}", t(l, "свободного времени сейчас нет.", "no free time now.")),
            t(
                l,
                "Когда время освободится, мы придержим его для вас и покажем при следующем визите в любом инфомате поликлиники.",
                "When a time frees up we hold it for you and show it at your next visit, at any of the clinic's kiosks.",
            ),
            t(l, "Когда вам удобно?", "When suits you?"),
        ],
        status: String::new(),
        warn: false,
        primary: t(l, "В любое время", "Any time"),
        secondary: t(l, "Только после обеда", "Afternoons only"),
        tertiary: t(l, "Только утром", "Mornings only"),
    }
}

pub(super) fn joined(s: &Session, place: &WaitlistPlace) -> Body {
    let l = s.lang;
    let ahead = place.position.saturating_sub(1);
    Body::Info {
        title: t(l, "Вы в листе ожидания", "You are on the waiting list"),
        big: String::new(),
        lines: vec![
            place.speciality_name.clone(),
            match l {
                crate::session::Lang::Ru if ahead == 0 => "Вы первый в листе".to_owned(),
                crate::session::Lang::Ru => format!("Перед вами в листе {}", domain::people_ru(ahead)),
                crate::session::Lang::En => format!("{ahead} ahead of you on the list"),
            },
            t(
                l,
                "Приложите полис к инфомату через день-два: освободившееся время будет ждать вас здесь.",
                "Scan your policy at a kiosk in a day or two: a freed time will be waiting for you here.",
            ),
        ],
        status: String::new(),
        warn: false,
        primary: t(l, "Готово", "Done"),
        secondary: String::new(),
        tertiary: next_policy(l),
    }
}

pub(super) fn offer(s: &Session, o: &WaitlistOffer) -> Body {
    let l = s.lang;
    let mut lines = vec![
        day(l, o.slot.start.date),
        format!("{}: {}", o.speciality_name, o.doctor_name),
        format!("{} {}, {}", t(l, "Кабинет", "Room"), o.slot.cabinet, o.address),
        t(
            l,
            "Это время придержано для вас по листу ожидания.",
            "This time is held for you from the waiting list.",
        ),
    ];
    let note = printer_note(s);
    if !note.is_empty() {
        lines.push(note);
    }
    Body::Info {
        title: t(l, "Для вас освободилось время", "A time has freed up for you"),
        big: o.slot.start.hhmm(),
        lines,
        status: String::new(),
        warn: false,
        primary: t(l, "Записаться", "Book it"),
        secondary: t(l, "Нет, не нужно", "No, thank you"),
        tertiary: t(l, "Решить позже", "Decide later"),
    }
}
