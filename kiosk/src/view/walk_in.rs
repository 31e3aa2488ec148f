//! The duty-doctor queue: confirming a walk-in, the ticket.

use domain::QueueTicket;

use super::{Body, next_policy, non_empty, print_status, printer_note, reprint_label, t};
use crate::session::{Lang, Loadable, PrintState, QueueOutlook, Session};

pub(super) fn confirm(s: &Session, outlook: &Loadable<Option<QueueOutlook>>) -> Body {
    let l = s.lang;
    let mut lines = vec![t(
        l,
        "Дежурный врач принимает без записи, в порядке очереди.",
        "The duty doctor sees patients without appointment, in order of arrival.",
    )];
    // The queue as it stands, when central said (a quiet question: no answer, no line).
    if let Loadable::Ready(Some(o)) = outlook {
        lines.push(match (l, o.waiting) {
            (Lang::Ru, 0) => "Сейчас очереди нет.".to_owned(),
            (Lang::Ru, n) => format!("Сейчас в очереди {}.", domain::people_ru(n)),
            (Lang::En, 0) => "Nobody is waiting now.".to_owned(),
            (Lang::En, 1) => "1 person is waiting now.".to_owned(),
            (Lang::En, n) => format!("{n} people are waiting now."),
        });
        if let Some(w) = o.wait.and_then(|(m, lo, hi)| wait_line(l, m, Some((lo, hi)))) {
            lines.push(w);
        }
    }
    lines.push(printer_note(s));
    Body::Info {
        title: t(l, "Талон к дежурному врачу", "Duty doctor ticket"),
        big: String::new(),
        lines: non_empty(lines),
        status: String::new(),
        warn: false,
        primary: t(l, "Получить талон", "Get a ticket"),
        secondary: t(l, "Нет, не нужно", "No, thanks"),
        tertiary: String::new(),
    }
}

fn wait_line(l: Lang, minutes: u32, range: Option<(u32, u32)>) -> Option<String> {
    match l {
        Lang::Ru => domain::wait_ru(minutes, range),
        Lang::En => domain::wait_en(minutes, range),
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
            Lang::Ru => domain::ahead_ru(ticket.position, None),
            Lang::En => domain::ahead_en(ticket.position, None),
        });
        if let Some(w) = ticket.estimated_wait_minutes.and_then(|m| wait_line(l, m, ticket.wait_range)) {
            lines.push(w);
        }
        if let Some(room) = &ticket.room {
            lines.push(format!("{} {room}", t(l, "Кабинет", "Room")));
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
        tertiary: next_policy(l),
    }
}
