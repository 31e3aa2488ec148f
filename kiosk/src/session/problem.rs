//! What the patient reads when something goes wrong: one plain sentence and what to do next.

use super::event::{CentralError, Lang, ReadFailure};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    NotAPolicy,
    CardUnreadable,
    BadNumber,
    IncompleteNumber,
    BadBirthDate,
    PolicyExpired,
    PatientNotFound,
    /// Nobody with the typed policy and birth date: shown on the keypad, digits kept.
    EntryNotFound,
    NotAttached,
    ReferralRequired,
    ReferralExpired,
    NotForSex,
    /// The speciality does not see the patient's age (a paediatrician, a therapist).
    AgeLimit,
    /// Joining a waiting list, the speciality turned out to have free time after all.
    SlotsAvailable,
    TimeConflict,
    AlreadyBooked,
    SlotTaken,
    AppointmentGone,
    QueueClosed,
    CentralUnreachable,
    /// Booking needs central; the kiosk is working offline.
    BookingOffline,
    TooManyAttempts,
    /// Central refuses the kiosk itself (its token): staff must fix it; the patient goes to
    /// the desk.
    KioskNotAuthorized,
    ServiceLocked,
    /// A code the kiosk does not know; logged with the code, shown generically.
    Unexpected {
        code: String,
    },
}

impl From<ReadFailure> for Problem {
    fn from(f: ReadFailure) -> Problem {
        match f {
            ReadFailure::NotAPolicy => Problem::NotAPolicy,
            ReadFailure::CardUnreadable => Problem::CardUnreadable,
            ReadFailure::BadNumber => Problem::BadNumber,
        }
    }
}

impl Problem {
    /// The problem a central error means to the patient. `AlreadyInQueue` is not a problem (the
    /// patient gets their ticket back) and is handled before this is called.
    pub fn from_central(e: &CentralError) -> Problem {
        match e {
            CentralError::Unreachable => Problem::CentralUnreachable,
            CentralError::BadReply => Problem::Unexpected { code: "BAD_REPLY".into() },
            CentralError::PatientNotFound => Problem::PatientNotFound,
            CentralError::NotAttached => Problem::NotAttached,
            CentralError::ReferralRequired => Problem::ReferralRequired,
            CentralError::ReferralExpired => Problem::ReferralExpired,
            CentralError::NotForSex => Problem::NotForSex,
            CentralError::AgeLimit => Problem::AgeLimit,
            CentralError::SlotsAvailable => Problem::SlotsAvailable,
            CentralError::TimeConflict => Problem::TimeConflict,
            CentralError::AlreadyBooked => Problem::AlreadyBooked,
            CentralError::SlotTaken => Problem::SlotTaken,
            CentralError::AppointmentNotFound => Problem::AppointmentGone,
            CentralError::QueueClosed => Problem::QueueClosed,
            CentralError::AlreadyInQueue(_) => Problem::Unexpected { code: "ALREADY_IN_QUEUE".into() },
            CentralError::RateLimited => Problem::TooManyAttempts,
            CentralError::NotAuthorized => Problem::KioskNotAuthorized,
            CentralError::Other { code } => Problem::Unexpected { code: code.clone() },
        }
    }

    /// One or two plain sentences. `phone` is the registry's number from the config.
    pub fn message(&self, lang: Lang, phone: &str) -> String {
        let (ru, en): (&str, &str) = match self {
            Problem::NotAPolicy => (
                "Это не полис ОМС. Приложите полис штрихкодом к окошку сканера или вставьте карту.",
                "This is not an OMS policy. Hold the policy barcode to the scanner or insert the card.",
            ),
            Problem::CardUnreadable => (
                "Карту не удалось прочитать. Выньте её и вставьте снова, до упора.",
                "The card could not be read. Take it out and insert it again, all the way.",
            ),
            Problem::BadNumber => (
                "В номере полиса ошибка. Проверьте цифры и введите номер ещё раз.",
                "The policy number has a mistake. Check the digits and enter it again.",
            ),
            Problem::IncompleteNumber => ("В номере полиса 16 цифр.", "A policy number has 16 digits."),
            Problem::BadBirthDate => (
                "Такой даты нет. Введите день, месяц и год рождения, например 05 03 1948.",
                "There is no such date. Enter day, month and year of birth, e.g. 05 03 1948.",
            ),
            Problem::PolicyExpired => (
                "Срок действия полиса истёк. Обратитесь в регистратуру.",
                "This policy has expired. Please go to the registry desk.",
            ),
            Problem::EntryNotFound => (
                "Пациент не найден. Проверьте дату рождения; номер полиса исправьте кнопкой «Назад». Введённые цифры сохранены.",
                "No patient found. Check the date of birth; to correct the policy number, press Back. What you typed is kept.",
            ),
            Problem::PatientNotFound => (
                "Не удалось найти пациента с этим полисом и датой рождения. Проверьте данные или обратитесь в регистратуру.",
                "No patient was found with this policy and birth date. Check them or ask at the registry desk.",
            ),
            Problem::NotAttached => (
                "Вы не прикреплены к этой поликлинике. Обратитесь в регистратуру.",
                "You are not registered with this clinic. Please ask at the registry desk.",
            ),
            Problem::ReferralRequired => (
                "К этому врачу нужно направление. Его выдаёт терапевт.",
                "This doctor needs a referral. Your GP can give you one.",
            ),
            Problem::ReferralExpired => (
                "Срок действия направления истёк. Обратитесь к врачу, который его выдал.",
                "This referral has expired. Please see the doctor who issued it.",
            ),
            Problem::NotForSex => (
                "Этот врач принимает только мужчин или только женщин.",
                "This doctor sees only men or only women.",
            ),
            Problem::AgeLimit => (
                "Этот врач не принимает пациентов вашего возраста. Выберите другого врача.",
                "This doctor does not see patients of your age. Please choose another doctor.",
            ),
            Problem::SlotsAvailable => (
                "Свободное время только что появилось: выберите его в расписании врача.",
                "A free time has just appeared: choose it in the doctor's schedule.",
            ),
            Problem::TimeConflict => (
                "На это время у вас уже есть запись. Выберите другое время.",
                "You already have an appointment at this time. Choose another time.",
            ),
            Problem::AlreadyBooked => (
                "Вы уже записаны к врачу этой специальности. Перенесите или отмените ту запись.",
                "You already have an appointment with this kind of doctor. Reschedule or cancel it.",
            ),
            Problem::SlotTaken => (
                "Это время только что заняли. Выберите другое время.",
                "Someone has just taken this time. Choose another time.",
            ),
            Problem::AppointmentGone => (
                "Эта запись уже отменена или не найдена.",
                "This appointment was already cancelled or cannot be found.",
            ),
            Problem::QueueClosed => (
                "Дежурный врач сейчас не принимает. Обратитесь в регистратуру.",
                "The duty doctor is not receiving now. Please ask at the registry desk.",
            ),
            Problem::CentralUnreachable => (
                "Нет связи с регистратурой. Попробуйте через минуту или позвоните:",
                "The clinic's system cannot be reached. Try again in a minute or call:",
            ),
            Problem::BookingOffline => (
                "Запись к врачу сейчас недоступна: нет связи. Талон к дежурному врачу взять можно. Телефон регистратуры:",
                "Booking is unavailable: no connection. You can still take a duty-doctor ticket. Registry phone:",
            ),
            Problem::TooManyAttempts => (
                "Слишком много попыток. Подождите минуту и попробуйте снова.",
                "Too many attempts. Wait a minute and try again.",
            ),
            Problem::KioskNotAuthorized => (
                "Киоск временно не подключён к системе поликлиники. Обратитесь в регистратуру или позвоните:",
                "This kiosk is not connected to the clinic's system right now. Please go to the registry desk or call:",
            ),
            Problem::ServiceLocked => {
                ("Сервисный режим заблокирован на 5 минут.", "Service mode is locked for 5 minutes.")
            }
            Problem::Unexpected { .. } => (
                "Что-то пошло не так. Попробуйте ещё раз или обратитесь в регистратуру.",
                "Something went wrong. Try again or ask at the registry desk.",
            ),
        };
        let text = match lang {
            Lang::Ru => ru,
            Lang::En => en,
        };
        let wants_phone = matches!(
            self,
            Problem::CentralUnreachable | Problem::BookingOffline | Problem::KioskNotAuthorized
        );
        if wants_phone && !phone.is_empty() { format!("{text} {phone}") } else { text.to_owned() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_messages_carry_the_registry_phone() {
        let m = Problem::BookingOffline.message(Lang::Ru, "+7 495 000-00-00");
        assert!(m.ends_with("+7 495 000-00-00"), "{m}");
        assert!(!Problem::SlotTaken.message(Lang::En, "+7").contains("+7"));
    }
}
