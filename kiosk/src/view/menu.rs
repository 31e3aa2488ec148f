//! The patient menu after identification.

use super::{Body, t, title_case};
use crate::session::Session;

pub(super) fn menu(s: &Session) -> Body {
    let l = s.lang;
    let phone = &super::phone(&s.cfg.registry_phone);
    let greeting = match s.patient.as_ref().map(|p| p.name.greeting()).filter(|g| !g.trim().is_empty()) {
        Some(g) => format!("{}, {}!", t(l, "Здравствуйте", "Hello"), title_case(&g)),
        None => t(l, "Здравствуйте!", "Hello!"),
    };
    let offline_note = s.offline.then(|| {
        t(l, "Нет связи с регистратурой. Талон к дежурному врачу взять можно; записаться к врачу — по телефону ", "No connection to the registry. You can take a duty doctor ticket; to book a doctor, call ") + phone
    });
    Body::Menu { greeting, offline_note }
}
