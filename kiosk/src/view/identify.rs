//! Identification screens: the attract screen, typing the policy number and the birth date,
//! and the technician's PIN on the same keypad.

use super::{Body, date_mask, group4, t};
use crate::session::{Problem, Session};

pub(super) fn attract(s: &Session) -> Body {
    Body::Attract { card_reader: s.card_reader }
}

pub(super) fn enter_enp(s: &Session, digits: &str, error: &Option<Problem>) -> Body {
    let l = s.lang;
    let phone = &s.cfg.registry_phone;
    let valid = digits.len() == 16 && domain::Enp::parse(digits).is_ok_and(|e| e.checksum_ok());
    let bad = digits.len() == 16 && !valid;
    Body::Keypad {
        title: t(l, "Введите номер полиса (16\u{a0}цифр)", "Enter the policy number (16\u{a0}digits)"),
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

pub(super) fn enter_birth_date(s: &Session, digits: &str, error: &Option<Problem>) -> Body {
    let l = s.lang;
    let phone = &s.cfg.registry_phone;
    Body::Keypad {
        title: t(l, "Дата рождения: день, месяц, год", "Date of birth: day, month, year"),
        // What is still to type stays in view: "05.03.ГГГГ" says the year comes next, in full.
        value: match digits.is_empty() {
            true => String::new(),
            false => {
                let typed = date_mask(digits);
                let template = t(l, "ДД.ММ.ГГГГ", "DD.MM.YYYY");
                typed.clone() + &template.chars().skip(typed.chars().count()).collect::<String>()
            }
        },
        placeholder: t(l, "ДД.ММ.ГГГГ", "DD.MM.YYYY"),
        error: error.as_ref().map(|p| p.message(l, phone)).unwrap_or_default(),
        ok_hint: String::new(),
        next_enabled: digits.len() == 8,
    }
}

pub(super) fn service_pin(s: &Session, digits: &str, wrong: &bool) -> Body {
    let l = s.lang;
    Body::Keypad {
        title: t(l, "Сервисный PIN", "Service PIN"),
        value: "•".repeat(digits.len()),
        placeholder: "••••".into(),
        error: if *wrong { t(l, "Неверный PIN", "Wrong PIN") } else { String::new() },
        ok_hint: String::new(),
        next_enabled: !digits.is_empty(),
    }
}
