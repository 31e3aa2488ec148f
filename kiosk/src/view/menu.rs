//! The patient menu after identification.

use super::{Body, t, title_case};
use crate::session::Session;

pub(super) fn menu(s: &Session) -> Body {
    let l = s.lang;
    let phone = &s.cfg.registry_phone;
    let greeting = match s.patient.as_ref().map(|p| p.name.greeting()).filter(|g| !g.trim().is_empty()) {
        Some(g) => format!("{}, {}!", t(l, "Здравствуйте", "Hello"), title_case(&g)),
        None => t(l, "Здравствуйте!", "Hello!"),
    };
    let offline_note = s.offline.then(|| {
        t(l, "Нет связи с регистратурой: можно взять талон к дежурному врачу. Запись недоступна, телефон: ", "No connection to the registry: you can take a duty doctor ticket. Booking is unavailable, phone: ") + phone
    });
    Body::Menu { greeting, offline_note }
}
