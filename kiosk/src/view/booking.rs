//! Booking: speciality, doctor, day and time, confirmation, the booked appointment.

use domain::{Appointment, Doctor, ScheduleDay, Slot, Speciality};

use super::{
    Body, Row, appointment_lines, day, list_body, next_policy, non_empty, print_status, printer_note,
    reprint_label, t, weekday, when,
};
use crate::session::{Loadable, PrintState, Session, earliest_doctor, offers_any_doctor};

pub(super) fn specialities(s: &Session, list: &Loadable<Vec<Speciality>>) -> Body {
    let l = s.lang;
    list_body(
        l,
        t(l, "К какому врачу?", "Which doctor?"),
        list,
        |sp| match &sp.attached_elsewhere {
            // Not bookable here: where the patient's own dentist (gynaecologist) is.
            Some(place) => Row {
                title: sp.name.clone(),
                subtitle: t(l, "вы прикреплены в другой поликлинике:", "you are attached elsewhere:"),
                note: place.clone(),
                enabled: false,
                action: String::new(),
            },
            None => Row {
                title: sp.name.clone(),
                subtitle: if sp.first_level {
                    t(l, "без направления", "no referral needed")
                } else {
                    t(l, "только по направлению", "referral only")
                },
                note: String::new(),
                enabled: true,
                action: String::new(),
            },
        },
        t(l, "Специальностей нет", "No specialities"),
    )
}

/// Doctors of a speciality, or the rooms that do a test or procedure (`test`: its name, when
/// the patient came by a referral to one).
pub(super) fn doctors(s: &Session, list: &Loadable<Vec<Doctor>>, test: Option<&str>) -> Body {
    let l = s.lang;
    // Rescheduling a test comes by its speciality code: the list itself says it is rooms.
    let rooms = test.is_some()
        || matches!(list, Loadable::Ready(v) if !v.is_empty() && v.iter().all(|d| d.room_only));
    let title = match test {
        Some(name) => name.to_owned(),
        None if rooms => t(l, "Где и когда", "Where and when"),
        None => t(l, "Выберите врача", "Choose a doctor"),
    };
    let mut body = list_body(
        l,
        title,
        list,
        |d| Row {
            title: d.name.clone(),
            subtitle: d
                .cabinet
                .as_ref()
                .map(|c| format!("{} {}, {}", t(l, "кабинет", "room"), c.number, c.address))
                .unwrap_or_default(),
            note: match d.nearest_free {
                Some(date) => format!("{} {}", t(l, "ближайшая запись:", "nearest free:"), day(l, date)),
                None => t(l, "нет свободного времени", "no free time"),
            },
            enabled: d.nearest_free.is_some(),
            action: String::new(),
        },
        if rooms {
            t(
                l,
                "Свободного времени нет. Обратитесь в регистратуру.",
                "No free time. Please ask at the registry.",
            )
        } else {
            t(
                l,
                "Свободных врачей нет. Обратитесь в регистратуру.",
                "No doctor has free time. Please ask at the registry.",
            )
        },
    );
    // One tap for whoever is free first: most patients want a time, not a name.
    if let (Loadable::Ready(list), Body::List { lead, .. }) = (list, &mut body)
        && offers_any_doctor(list)
        && let Some(first) = earliest_doctor(list).and_then(|d| d.nearest_free)
    {
        *lead = Some(Row {
            title: if rooms {
                t(l, "Ближайшее свободное время", "The earliest free time")
            } else {
                t(l, "Любой врач — ближайшее время", "Any doctor: the earliest time")
            },
            subtitle: format!("{} {}", t(l, "ближайшая запись:", "nearest free:"), day(l, first)),
            note: String::new(),
            enabled: true,
            action: String::new(),
        });
    }
    body
}

/// A referral-only speciality chosen without a referral: who refers, and one tap to them.
pub(super) fn needs_referral(s: &Session, speciality: &str, issuer: Option<&Speciality>) -> Body {
    let l = s.lang;
    let mut lines = vec![format!("{speciality}: {}", t(l, "только по направлению.", "by referral only."))];
    let (primary, secondary) = match issuer {
        Some(i) => {
            lines.push(format!(
                "{} {}. {}",
                t(l, "Направление выдаёт врач:", "Referrals are given by:"),
                i.name,
                t(l, "Запишитесь к нему — он направит, если нужно.", "Book them: they refer you if needed.")
            ));
            (
                format!("{} {}", t(l, "Записаться:", "Book:"), i.name),
                t(l, "Выбрать другого врача", "Choose another doctor"),
            )
        }
        None => {
            lines.push(t(
                l,
                "Направление выдаёт ваш участковый врач; спросите в регистратуре.",
                "Your GP gives referrals; please ask at the registry.",
            ));
            (t(l, "Выбрать другого врача", "Choose another doctor"), String::new())
        }
    };
    Body::Info {
        title: t(l, "Нужно направление", "A referral is needed"),
        big: String::new(),
        lines,
        status: String::new(),
        warn: false,
        primary,
        secondary,
        tertiary: String::new(),
    }
}

pub(super) fn schedule(s: &Session, doctor: &Doctor, days: &Loadable<Vec<ScheduleDay>>, day: &usize) -> Body {
    let l = s.lang;
    match days {
        Loadable::Loading(_) => {
            Body::Schedule { title: doctor.name.clone(), days: vec![], slots: vec![], empty: String::new() }
        }
        Loadable::Ready(days) => Body::Schedule {
            title: doctor.name.clone(),
            days: days
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    (format!("{} {:02}.{:02}", weekday(l, d.date), d.date.day(), d.date.month()), i == *day)
                })
                .collect(),
            slots: days
                .get(*day)
                .map(|d| d.slots.iter().map(|s| (s.start.hhmm(), s.cabinet.clone())).collect())
                .unwrap_or_default(),
            empty: t(l, "Свободного времени нет", "No free time"),
        },
    }
}

pub(super) fn confirm(s: &Session, doctor: &Doctor, slot: &Slot) -> Body {
    let l = s.lang;
    Body::Info {
        title: t(l, "Проверьте запись", "Check the appointment"),
        big: String::new(),
        lines: non_empty(vec![
            doctor.speciality_name.clone(),
            doctor.name.clone(),
            when(l, slot.start),
            format!("{} {}", t(l, "Кабинет", "Room"), slot.cabinet),
            printer_note(s),
        ]),
        status: String::new(),
        warn: false,
        primary: t(l, "Записаться", "Book"),
        secondary: t(l, "Нет, другое время", "No, another time"),
        tertiary: String::new(),
    }
}

pub(super) fn booked(s: &Session, a: &Appointment, rescheduled: &bool, print: &PrintState) -> Body {
    let l = s.lang;
    Body::Info {
        title: if *rescheduled {
            t(l, "Запись перенесена", "Appointment moved")
        } else {
            t(l, "Вы записаны", "You are booked")
        },
        big: a.start.hhmm(),
        lines: std::iter::once(day(l, a.start.date)).chain(appointment_lines(l, a)).collect(),
        status: print_status(l, print),
        warn: false,
        primary: t(l, "Готово", "Done"),
        secondary: reprint_label(l, print),
        tertiary: next_policy(l),
    }
}
