//! The duty-doctor queue: confirming a walk-in, the ticket.

use domain::QueueTicket;

use super::{Body, non_empty, print_status, printer_note, reprint_label, t};
use crate::session::{PrintState, Session};

pub(super) fn confirm(s: &Session) -> Body {
    let l = s.lang;
    Body::Info {
        title: t(l, "Талон к дежурному врачу", "Duty doctor ticket"),
        big: String::new(),
        lines: non_empty(vec![
            t(
                l,
                "Дежурный врач принимает без записи, в порядке очереди.",
                "The duty doctor sees patients without appointment, in order of arrival.",
            ),
            printer_note(s),
        ]),
        status: String::new(),
        warn: false,
        primary: t(l, "Получить талон", "Get a ticket"),
        secondary: String::new(),
        tertiary: String::new(),
    }
}

pub(super) fn ticket(s: &Session, ticket: &QueueTicket, already_had: &bool, print: &PrintState) -> Body {
    let l = s.lang;
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
        // Who is ahead, then the wait on a line of its own: a phrase that wraps mid-way is
        // harder to read at arm's length (the paper ticket has them on one line).
        lines.push(match l {
            crate::session::Lang::Ru => domain::ahead_ru(ticket.position, None),
            crate::session::Lang::En => domain::ahead_en(ticket.position, None),
        });
        if let Some(m) = ticket.estimated_wait_minutes.filter(|m| *m > 0) {
            lines.push(format!("{} {m} {}", t(l, "Ожидание: около", "Wait: about"), t(l, "мин", "min")));
        }
        if let Some(room) = &ticket.room {
            lines.push(format!("{} {room}", t(l, "Кабинет", "Cabinet")));
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
