//! Every patient flow through the production runtime (`kiosk::runtime::Runtime::start`, the
//! loop `kiosk run` runs), its buttons found and pressed by accessible label, against the
//! kiosk's real peers on loopback ([`infomat_dev::rig::Peers`]): central in-process on SQLite
//! with the demo seed, the virtual printer parsing ESC/POS over TCP, the virtual scanner on a
//! pseudo-terminal, the virtual CCID reader. The clinic's clock stands at Monday 2026-11-23
//! 10:00 Moscow time and moves only when a test waits.
//!
//! After each flow the test checks both sides: what the patient saw, and what central and the
//! printer now hold (no ticket or booking lost or doubled).

mod support;

use std::time::Duration;

use protocol::Method;
use serde_json::json;
use support::{Kiosk, ONE_AT_A_TIME};

#[test]
fn walk_in_by_scanned_policy_prints_the_ticket_and_forgets_the_patient() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("walkin");
    assert!(k.shows("Приложите полис ОМС"));
    k.scan(0);
    assert_eq!(k.screen(), "menu");
    let anna = domain::demo::patient(0);
    let first = kiosk::view::title_case(anna.name.first.expose());
    assert!(k.shows(&format!("Здравствуйте, {first}")), "{:?}", k.labels());
    // Greeting by first name and patronymic, never the surname.
    assert!(!k.labels().join(" ").to_lowercase().contains(&anna.name.last.expose().to_lowercase()));

    k.press("Талон к дежурному врачу");
    // Before taking it: the queue as central sees it (nobody yet), and a clear "no".
    assert!(k.shows("Сейчас очереди нет."), "{:?}", k.labels());
    assert!(k.shows("Нет, не нужно"), "{:?}", k.labels());
    k.press("Получить талон");
    assert_eq!(k.screen(), "ticket");
    assert!(k.labels().iter().any(|l| l == "Д-001"), "the number is on screen: {:?}", k.labels());
    let receipts = k.receipts();
    assert_eq!(receipts.len(), 1, "exactly one ticket printed");
    assert!(receipts[0].iter().any(|l| l.contains("Д-001")), "{:?}", receipts[0]);
    // Nobody ahead, said in words, on the screen and on paper alike.
    assert!(k.shows("Вы первый в очереди"), "{:?}", k.labels());
    assert!(receipts[0].iter().any(|l| l.contains("Вы первый в очереди")), "{:?}", receipts[0]);
    assert_eq!(k.waiting_in_queue(), 1, "central holds the ticket once");

    k.press("Готово");
    assert_eq!(k.screen(), "attract");
    k.assert_forgotten(0);
}

#[test]
fn manual_entry_refuses_a_wrong_check_digit_then_identifies() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("manual");
    let p = domain::demo::patient(6);
    k.press("Ввести номер полиса вручную");
    let enp = p.enp.expose();
    let mut wrong = enp.clone().into_bytes();
    wrong[15] = b'0' + (wrong[15] - b'0' + 1) % 10;
    k.type_digits(std::str::from_utf8(&wrong).unwrap());
    assert_eq!(k.enabled("Далее"), Some(false), "a number failing the check digit cannot go on");
    assert!(k.shows("ошибка"), "{:?}", k.labels());
    k.press("Стереть");
    k.type_digits(&enp[15..]);
    assert_eq!(k.enabled("Далее"), Some(true));
    k.press("Далее");
    let b = p.birth_date;
    k.type_digits(&format!("{:02}{:02}{:04}", b.day(), b.month(), b.year()));
    k.press("Далее");
    assert_eq!(k.screen(), "menu", "{:?}", k.labels());
    k.press("Завершить");
    assert_eq!(k.screen(), "attract");
    k.assert_forgotten(6);
}

#[test]
fn a_typing_slip_costs_a_retry_not_the_digits() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("manual-retry");
    let p = domain::demo::patient(6);
    let enp = p.enp.expose();
    k.press("Ввести номер полиса вручную");
    k.type_digits(&enp);
    k.press("Далее");
    // A plausible birth date, but not this patient's.
    let b = p.birth_date;
    let wrong = format!("{:02}{:02}{:04}", b.day() % 28 + 1, b.month(), b.year());
    k.type_digits(&wrong);
    k.press("Далее");
    assert_eq!(k.screen(), "enter-birth-date", "back on the keypad, not the start: {:?}", k.labels());
    assert!(k.shows("Пациент не найден"), "{:?}", k.labels());
    let shown = format!("{}.{}.{}", &wrong[..2], &wrong[2..4], &wrong[4..]);
    assert!(k.shows(&shown), "the birth date as typed: {:?}", k.labels());
    // Back: the policy number as typed, too.
    k.press("← Назад");
    assert_eq!(k.screen(), "enter-enp");
    let grouped =
        enp.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" ");
    assert!(k.shows(&grouped), "{:?}", k.labels());
    k.press("Далее");
    k.type_digits(&format!("{:02}{:02}{:04}", b.day(), b.month(), b.year()));
    k.press("Далее");
    assert_eq!(k.screen(), "menu", "{:?}", k.labels());
    k.press("Завершить");
    k.assert_forgotten(6);
}

#[test]
fn book_reprint_reschedule_and_cancel_in_english() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("booking");
    k.scan(1);
    k.press("English");
    assert_eq!(k.appointments_of(1).len(), 0);
    k.press("Book a doctor");
    // A referral-only speciality says who refers, offers them, and a way back.
    k.press("Кардиолог");
    assert!(k.shows("Кардиолог: by referral only."), "{:?}", k.labels());
    assert!(k.shows("Book: Терапевт"), "{:?}", k.labels());
    k.press("Choose another doctor");
    k.press("Терапевт");
    k.press("Иванова Мария Петровна");
    assert_eq!(k.screen(), "schedule");
    k.press("Tue 24.11");
    k.press("10:00 room 214");
    k.press("Book");
    assert_eq!(k.screen(), "booked");
    assert!(k.shows("10:00"), "{:?}", k.labels());
    let booked = k.appointments_of(1);
    assert_eq!(booked.len(), 1, "central holds one appointment: {booked:?}");
    assert_eq!(k.receipts().len(), 1);

    // Reprint: the same appointment on paper again, nothing new at central.
    k.press("Print again");
    let receipts = k.receipts();
    assert_eq!(receipts.len(), 2);
    assert_eq!(receipts[0], receipts[1], "the reprint is the same ticket");
    assert_eq!(k.appointments_of(1).len(), 1);

    // Reschedule to 11:00 the same day: still one appointment, now at 11:00.
    k.press("← Back");
    k.press("My appointments: move, cancel, print");
    let row = k.labels().into_iter().find(|l| l.contains("10:00\u{a0}—")).expect("the appointment is listed");
    k.press(&row);
    k.press("Reschedule");
    k.press("Иванова Мария Петровна");
    assert_eq!(k.screen(), "schedule");
    k.press("Tue 24.11");
    k.press("11:00 room 214");
    k.press("Book");
    assert_eq!(k.screen(), "booked", "{:?}", k.labels());
    assert!(k.shows("Appointment moved"), "{:?}", k.labels());
    let moved = k.appointments_of(1);
    assert_eq!(moved.len(), 1, "moved, not doubled: {moved:?}");
    assert!(moved[0].to_string().contains("11:00"), "{moved:?}");

    // Cancel with confirmation.
    k.press("← Back");
    k.press("My appointments: move, cancel, print");
    let row =
        k.labels().into_iter().find(|l| l.contains("11:00\u{a0}—")).expect("the moved appointment is listed");
    k.press(&row);
    k.press("Cancel the appointment");
    assert_eq!(k.screen(), "confirm-cancel");
    k.press("Yes, cancel");
    assert_eq!(k.screen(), "cancelled");
    assert_eq!(k.appointments_of(1).len(), 0, "central no longer holds it");
    k.press("Done");
    assert_eq!(k.screen(), "attract", "done ends the visit");
    assert!(k.shows("Приложите полис ОМС"), "back in Russian for the next patient");
    k.assert_forgotten(1);
}

#[test]
fn booking_with_a_referral() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("referral");
    // Demo patient 2 holds a referral to a cardiologist.
    k.scan(2);
    k.press("Мои направления");
    assert_eq!(k.screen(), "referrals");
    k.press("Кардиолог");
    assert_eq!(k.screen(), "doctors", "{:?}", k.labels());
    k.press("Соколов Дмитрий Андреевич");
    k.press("вт 24.11");
    let slot = k.labels().into_iter().find(|l| l.ends_with("кабинет 402")).expect("a free slot");
    k.press(&slot);
    k.press("Записаться");
    assert_eq!(k.screen(), "booked", "{:?}", k.labels());
    let booked = k.appointments_of(2);
    assert_eq!(booked.len(), 1, "{booked:?}");
    assert!(booked[0].to_string().contains("Кардиолог"), "{booked:?}");
    assert_eq!(k.receipts().len(), 1);
    // The referral is used: it now says so.
    k.press("← Назад");
    k.press("Мои направления");
    assert!(k.shows("уже есть запись"), "{:?}", k.labels());
}

#[test]
fn a_specialist_without_a_referral_names_who_refers_and_books_them_in_one_tap() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("no-referral");
    // Demo patient 0 (an adult) holds no referral to a cardiologist.
    k.scan(0);
    k.press("Записаться к врачу");
    k.press("Кардиолог");
    assert_eq!(k.screen(), "needs-referral", "{:?}", k.labels());
    assert!(k.shows("Кардиолог: только по направлению"), "{:?}", k.labels());
    assert!(k.shows("Направление выдаёт врач: Терапевт"), "{:?}", k.labels());
    k.taps = 0;
    k.press("Записаться: Терапевт");
    assert_eq!(k.screen(), "doctors", "{:?}", k.labels());
    assert_eq!(k.taps, 1, "one tap from the explanation to the doctor who refers");
    // The list is central's therapists, each with a time to choose.
    let therapists = k.central(Method::GetDoctorsInfo, {
        let p = domain::demo::patient(0);
        json!({"omsNumber": p.enp.expose(), "birthDate": p.birth_date, "specialityId": "2011"})
    });
    let first = therapists[0]["name"].as_str().expect("a therapist has a name");
    assert!(k.shows(first), "{first:?} not in {:?}", k.labels());
    assert!(k.appointments_of(0).is_empty(), "nothing booked by explaining");
    k.press("← Назад");
    assert_eq!(k.screen(), "specialities", "back to choosing, not to the explanation: {:?}", k.labels());
}

#[test]
fn a_blood_test_by_referral_is_booked_with_a_room_and_the_paper_says_how_to_prepare() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("lab");
    // Demo patient 2 also holds referrals to a blood test and an ECG.
    k.scan(2);
    k.press("Мои направления");
    assert!(k.shows("анализ, № НА-"), "the kind and the number: {:?}", k.labels());
    k.press("Общий анализ крови");
    assert_eq!(k.screen(), "doctors");
    assert!(!k.shows("Выберите врача"), "rooms, not doctors: {:?}", k.labels());
    k.press("Процедурный кабинет");
    k.press("вт 24.11");
    let slot = k.labels().into_iter().find(|l| l.ends_with("кабинет 105")).expect("a free slot");
    k.press(&slot);
    k.press("Записаться");
    assert_eq!(k.screen(), "booked", "{:?}", k.labels());
    assert!(k.shows("Подготовка: Натощак"), "{:?}", k.labels());
    let booked = k.appointments_of(2);
    assert_eq!(booked.len(), 1, "{booked:?}");
    assert_eq!(booked[0]["toLdp"]["ldpKind"], "lab");
    let paper = k.receipts();
    assert_eq!(paper.len(), 1);
    let text = paper[0].join("\n");
    for want in
        ["ЗАПИСЬ НА АНАЛИЗ", "Общий анализ крови: Процедурный кабинет", "Кабинет 105", "Подготовка: Натощак"]
    {
        assert!(text.contains(want), "missing {want:?} on paper:\n{text}");
    }
}

#[test]
fn a_dentist_in_another_clinic_is_named_not_offered() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("attached-elsewhere");
    // Demo patient 5 is attached to a dental clinic of his own.
    k.scan(5);
    k.press("Записаться к врачу");
    assert_eq!(k.screen(), "specialities");
    assert!(k.shows("Стоматологическая поликлиника №\u{a0}9, ул. Зелёная, 5"), "{:?}", k.labels());
    assert_eq!(k.enabled("Стоматолог"), Some(false), "greyed, like a doctor without free time");
    // He is nine: the paediatrician is his GP.
    assert_eq!(k.enabled("Педиатр"), Some(true));
    assert!(!k.shows("Терапевт"), "a child is not offered a therapist: {:?}", k.labels());
    // Demo patient 6's dentist is the branch's: one doctor, there.
    k.scan(6);
    k.press("Записаться к врачу");
    assert_eq!(k.enabled("Стоматолог"), Some(true));
    k.press("Стоматолог");
    assert_eq!(k.screen(), "doctors");
    assert!(k.shows("Морозова Ирина Викторовна") && !k.shows("Зайцев"), "{:?}", k.labels());
    assert!(k.shows("ул. Лесная, 3"), "the branch's address: {:?}", k.labels());
}

#[test]
fn a_full_speciality_takes_a_waiting_list_and_the_freed_time_is_offered_at_the_next_visit() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("waitlist");
    // The ophthalmologist is booked up for the fortnight.
    let state = k.peers.central.as_ref().and_then(|c| c.state().cloned()).expect("central in process");
    k.peers
        .rt
        .block_on(
            sqlx::query(
                "UPDATE slot SET blocked = 1 WHERE doctor_id = 201
                 AND NOT EXISTS (SELECT 1 FROM appointment a WHERE a.slot_id = slot.id AND a.active = 1)",
            )
            .execute(&state.store.pool),
        )
        .unwrap();
    k.scan(0);
    k.press("Записаться к врачу");
    k.press("Офтальмолог");
    assert!(k.shows("нет свободного времени"), "{:?}", k.labels());
    k.taps = 0;
    k.press("Встать в лист ожидания");
    k.press("В любое время");
    assert_eq!(k.screen(), "waitlist-joined", "{:?}", k.labels());
    assert!(k.shows("Вы первый в листе"), "{:?}", k.labels());
    assert_eq!(k.taps, 2, "onto the list in two taps from the doctors screen");
    k.press("Готово");
    k.assert_forgotten(0);
    // Demo patient 3 cancels the ophthalmologist (at another kiosk, at the desk: anywhere).
    let holder = domain::demo::patient(3);
    let who = json!({"omsNumber": holder.enp.expose(), "birthDate": holder.birth_date});
    let held = k.central(Method::GetAppointmentReceptionsByPatient, who.clone());
    let mut cancel = who.clone();
    cancel["appointmentId"] = held[0]["id"].clone();
    cancel["requestId"] = json!("elsewhere-1");
    k.central(Method::CancelAppointment, cancel);
    // The next time patient 0 comes, the freed time is there before the menu.
    k.scan(0);
    assert_eq!(k.screen(), "waitlist-offer", "{:?}", k.labels());
    assert!(
        k.shows("Для вас освободилось время") && k.shows("Кузнецова Елена Сергеевна"),
        "{:?}",
        k.labels()
    );
    k.press("Записаться");
    assert_eq!(k.screen(), "booked", "{:?}", k.labels());
    let mine: Vec<_> =
        k.appointments_of(0).into_iter().filter(|a| a["toDoctor"]["specialityId"] == "2019").collect();
    assert_eq!(mine.len(), 1, "booked once: {mine:?}");
    assert_eq!(mine[0]["startTime"], held[0]["startTime"]);
    assert_eq!(k.receipts().len(), 1, "the ticket printed");
    // A second kiosk accepting the same offer a moment later is told it is gone.
    let p = domain::demo::patient(0);
    let entry = json!({"omsNumber": p.enp.expose(), "birthDate": p.birth_date, "waitingListId": 1,
        "requestId": "kiosk-3"});
    let late = k.peers.central_call(Method::AcceptWaitingListOffer, entry);
    assert!(format!("{late:?}").contains("OFFER_GONE"), "{late:?}");
    assert_eq!(k.appointments_of(0).iter().filter(|a| a["toDoctor"]["specialityId"] == "2019").count(), 1);
}

#[test]
fn central_down_gives_an_offline_ticket_that_reaches_central_later() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("offline");
    k.peers.stop_central();
    k.scan(3);
    assert_eq!(k.screen(), "menu");
    assert!(k.shows("Нет связи с регистратурой"), "{:?}", k.labels());
    k.press("Талон к дежурному врачу");
    k.press("Получить талон");
    assert_eq!(k.screen(), "ticket");
    let ticket = k.ticket();
    assert!(ticket.offline);
    let number = ticket.number.to_string();
    assert!(k.labels().contains(&number), "the offline number is on screen: {:?}", k.labels());
    let receipts = k.receipts();
    assert_eq!(receipts.len(), 1);
    assert!(receipts[0].iter().any(|l| l.contains(&number)), "{:?}", receipts[0]);
    k.press("Готово");
    k.assert_forgotten(3);

    // Central returns: the journaled ticket joins its queue once, even if sent twice.
    k.peers.start_central_again().unwrap();
    let r = k.sync();
    assert_eq!((r.confirmed, r.still_pending), (1, 0), "{r:?}");
    assert_eq!(k.sync().confirmed, 0, "nothing left to send");
    assert_eq!(k.waiting_in_queue(), 1);
}

#[test]
fn printer_out_of_paper_keeps_the_number_on_screen_and_reprints_later() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("paper");
    k.peers.printer(|p| p.paper = drivers::sim::printer::PaperLevel::Out);
    k.scan(4);
    k.press("Талон к дежурному врачу");
    // Before taking it: the queue as central sees it (nobody yet), and a clear "no".
    assert!(k.shows("Сейчас очереди нет."), "{:?}", k.labels());
    assert!(k.shows("Нет, не нужно"), "{:?}", k.labels());
    k.press("Получить талон");
    assert_eq!(k.screen(), "ticket");
    assert!(k.labels().iter().any(|l| l == "Д-001"), "the number stays on screen: {:?}", k.labels());
    assert!(k.shows("запомните") || k.shows("Запомните"), "{:?}", k.labels());
    assert!(k.receipts().is_empty(), "nothing came out");
    assert_eq!(k.waiting_in_queue(), 1, "the ticket itself is not lost");

    k.peers.printer(|p| p.paper = drivers::sim::printer::PaperLevel::Ok);
    k.press("Напечатать ещё раз");
    let receipts = k.receipts();
    assert_eq!(receipts.len(), 1, "printed once the roll is back");
    assert!(receipts[0].iter().any(|l| l.contains("Д-001")));
    assert_eq!(k.waiting_in_queue(), 1, "a reprint is not a second ticket");
}

#[test]
fn idle_timeout_wipes_every_text() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("idle");
    k.scan(4);
    k.press("Записаться к врачу");
    k.press("Терапевт");
    k.press("Иванова Мария Петровна");
    assert_eq!(k.screen(), "schedule");
    k.wait(Duration::from_secs(45));
    assert!(k.shows("Вы ещё здесь?"), "the warning comes first: {:?}", k.labels());
    k.wait(Duration::from_secs(15));
    assert_eq!(k.screen(), "attract");
    k.assert_forgotten(4);
}

#[test]
fn the_service_screen_is_behind_a_pin_with_a_lockout_and_drives_the_printer() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("service");
    // A patient's ticket first: the technician will reprint it.
    k.scan(7);
    k.press("Талон к дежурному врачу");
    k.press("Получить талон");
    k.press("Готово");
    assert_eq!(k.receipts().len(), 1);
    // The hidden gesture (a long press in a corner) has no label on purpose.
    k.open_service();
    assert_eq!(k.screen(), "service-pin");
    for _ in 0..2 {
        k.type_digits("0000");
        k.press("Далее");
        assert!(k.shows("Неверный PIN"), "{:?}", k.labels());
    }
    k.type_digits("0000");
    k.press("Далее");
    assert_eq!(k.screen(), "problem", "third wrong PIN: locked out");
    k.press("Понятно");
    k.open_service();
    assert_ne!(k.screen(), "service-pin", "still locked: the PIN screen does not open");
    assert!(k.shows("заблокирован"), "{:?}", k.labels());
    k.press("Понятно");
    // Five minutes later the right PIN opens it.
    k.wait(Duration::from_secs(301));
    assert_eq!(k.screen(), "attract");
    k.open_service();
    k.type_digits("1234");
    k.press("Далее");
    assert_eq!(k.screen(), "service", "{:?}", k.labels());
    k.press("Тестовая печать");
    assert!(k.shows("test page printed"), "{:?}", k.labels());
    assert_eq!(k.receipts().len(), 2, "the code-page test page came out of the virtual printer");
    k.press("Повторить последний талон");
    assert!(k.shows("last ticket reprinted"), "{:?}", k.labels());
    let receipts = k.receipts();
    assert_eq!(receipts.len(), 3);
    assert_eq!(receipts[2], receipts[0], "the patient's ticket, byte for byte");
    assert_eq!(k.waiting_in_queue(), 1, "a reprint is not a new ticket");
    k.press("Самопроверка");
    assert!(k.shows("central OK"), "{:?}", k.labels());
    k.press("Отправить офлайн-талоны");
    assert!(k.shows("sync: 0 confirmed, 0 rejected, 0 pending"), "{:?}", k.labels());
}

#[test]
fn a_chip_card_opens_the_menu_and_an_unplugged_reader_is_no_longer_offered() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("chip");
    assert!(k.shows("вставьте карту"), "a connected reader is offered: {:?}", k.labels());
    k.insert_card(6);
    assert_eq!(k.screen(), "menu", "{:?}", k.labels());
    let p = domain::demo::patient(6);
    assert!(
        k.shows(&format!("Здравствуйте, {}", kiosk::view::title_case(p.name.first.expose()))),
        "{:?}",
        k.labels()
    );
    // The card comes out: nothing read is lost, the visit goes on.
    k.peers.remove_card();
    k.press("Талон к дежурному врачу");
    k.press("Получить талон");
    assert_eq!(k.screen(), "ticket");
    assert_eq!(k.waiting_in_queue(), 1);
    k.press("Готово");
    k.assert_forgotten(6);

    // The reader's cable is pulled: the attract screen stops inviting a card.
    k.peers.card_reader.unplug();
    k.spin("the reader to be missed", || !k.session().card_reader);
    assert!(!k.shows("вставьте карту"), "{:?}", k.labels());
    assert!(k.shows("к окошку сканера внизу"), "{:?}", k.labels());
    // Plugged back in: found again without a restart, and it reads.
    k.peers.card_reader.replug();
    k.spin("the reader to come back", || k.session().card_reader);
    assert!(k.shows("вставьте карту"), "{:?}", k.labels());
    k.insert_card(8);
    assert_eq!(k.screen(), "menu");
    k.press("Завершить");
    k.assert_forgotten(8);
}

#[test]
fn a_card_that_is_not_a_policy_gets_a_plain_answer() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("badcard");
    // A bank card, say: it answers, but not as an OMS policy.
    let before = k.rt.core().handled();
    k.peers.card_reader.insert(drivers::sim::card::SimCard::new(vec![0x6F, 0x00], None));
    k.spin("the card's report", || k.rt.core().handled() > before);
    k.settle();
    assert_eq!(k.screen(), "problem", "{:?}", k.labels());
    assert!(k.session().patient.is_none());
    k.press("Понятно");
    assert_eq!(k.screen(), "attract");
}

/// An answer that takes longer than `VEIL_AFTER` is explained on screen; until then the screen
/// the patient acted on stays (a quick answer goes straight to the next screen, no flash).
#[test]
fn a_slow_answer_is_explained_once_it_lasts() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // A central that takes the connection and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let k = Kiosk::start_tuned("veil", |_| {}, |setup| setup.central.url = url.clone());
    k.peers.scan_patient(0).unwrap();
    k.spin("the identification to start", || k.screen() == "identifying");
    let started = std::time::Instant::now();
    k.spin("the wait to be explained", || k.shows("Ищем вас в базе поликлиники"));
    // `started` is a turn of the loop after the wait began: allow for that turn on a busy machine.
    assert!(
        started.elapsed() >= kiosk::runtime::VEIL_AFTER / 2,
        "the veil came at once: {:?}",
        started.elapsed()
    );
    // How long it may take (every retry timing out), and a way out of a read.
    let limit =
        kiosk::central_link::client::worst_case(infomat_dev::rig::central_config(url).request_timeout);
    assert!(k.shows(&format!("не дольше {}\u{a0}с", limit.as_millis().div_ceil(1000))), "{:?}", k.labels());
    let mut k = k;
    k.press_only("Не ждать");
    k.spin("the start screen", || k.screen() == "attract");
    k.assert_forgotten(0);
    drop(silent);
}

#[test]
fn the_common_errands_take_few_taps() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("taps");

    // A walk-in ticket: at most 3 taps after the scan.
    k.scan(0);
    k.taps = 0;
    k.press("Талон к дежурному врачу");
    k.press("Получить талон");
    assert_eq!(k.screen(), "ticket", "{:?}", k.labels());
    assert!(k.taps <= 3, "walk-in took {} taps", k.taps);
    k.press("Готово");

    // A first-level doctor, whoever is free first: at most 6 taps after the scan.
    k.scan(1);
    k.taps = 0;
    k.press("Записаться к врачу");
    k.press("Терапевт");
    assert!(k.shows("ближайшая запись"), "{:?}", k.labels());
    let kiosk::session::Screen::Doctors { list: kiosk::session::Loadable::Ready(doctors), .. } =
        k.session().screen
    else {
        panic!("not the doctors list: {:?}", k.labels())
    };
    let earliest = doctors.iter().filter_map(|d| d.nearest_free).min().expect("someone is free");
    k.press("Любой врач — ближайшее время");
    assert_eq!(k.screen(), "confirm-booking", "straight to the earliest slot: {:?}", k.labels());
    assert!(k.shows("Нет, другое время"), "{:?}", k.labels());
    k.press("Записаться");
    assert_eq!(k.screen(), "booked", "{:?}", k.labels());
    assert!(k.taps <= 6, "booking took {} taps", k.taps);
    assert_eq!(k.appointments_of(1).len(), 1);
    let kiosk::session::Screen::Booked { appointment, .. } = k.session().screen else { unreachable!() };
    assert_eq!(appointment.start.date, earliest, "the earliest day any therapist has");

    // Cancelling it: at most 3 taps from the menu, with a confirmation that offers "no".
    k.press("← Назад");
    k.taps = 0;
    k.press("Мои записи: перенести, отменить, распечатать");
    let row =
        k.labels().into_iter().find(|l| l.starts_with("Отменить: ")).expect("a cancel button on the row");
    assert!(row.contains(", ") && row.contains("\u{a0}— Терапевт"), "the weekday and time: {row}");
    k.press(&row);
    assert!(k.shows("Нет, оставить"), "{:?}", k.labels());
    k.press("Да, отменить");
    assert_eq!(k.screen(), "cancelled", "{:?}", k.labels());
    assert!(k.taps <= 3, "cancelling took {} taps", k.taps);
    assert_eq!(k.appointments_of(1).len(), 0, "central no longer holds it");
    // A finished errand has one way out, not two.
    assert!(!k.shows("Завершить"), "{:?}", k.labels());
    k.press("Готово");
    assert_eq!(k.screen(), "attract");
    k.assert_forgotten(1);
}

#[test]
fn a_patient_can_call_staff_from_any_screen_and_the_fleet_view_sees_it() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("help");
    k.scan(0);
    k.press("Записаться к врачу");
    k.press("Позвать сотрудника");
    assert!(k.shows("Помощь уже идёт"), "{:?}", k.labels());
    assert!(k.shows("Информационная стойка: 1 этаж, справа от входа, окно 1"), "{:?}", k.labels());
    // Raised on central's fleet view at once, not at the next 30 s heartbeat.
    let st = k.peers.central.as_ref().and_then(|c| c.state()).expect("central in process").clone();
    k.spin("the call to reach central", || {
        let now = (st.clock)();
        k.peers
            .rt
            .block_on(central::fleet::machines(&st.store, 1, now))
            .unwrap()
            .iter()
            .any(|m| m.device == 2 && m.status.help_requested && m.needs_attention())
    });
    k.press("Хорошо");
    assert!(!k.shows("Помощь уже идёт"));
    assert_eq!(k.screen(), "specialities", "the errand goes on where it was");
    // The patient's own settings: named in words, on for this patient only.
    k.press("Контраст");
    k.press("Крупный шрифт");
    assert!(k.session().high_contrast && k.session().large_text);
    k.press("Завершить");
    assert!(!k.session().high_contrast && !k.session().large_text, "the next patient starts plain");
    k.assert_forgotten(0);
}

#[test]
fn spoken_guidance_reads_each_screen_once_and_never_a_name() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // A stand-in espeak-ng: it writes what it was asked to say.
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("espeak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let said = dir.join("said.txt");
    let script = dir.join("espeak-ng");
    std::fs::write(&script, format!("#!/bin/sh\necho \"$@\" >> '{}'\n", said.display())).unwrap();
    std::fs::set_permissions(
        &script,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
    )
    .unwrap();
    let mut k = Kiosk::start_tuned(
        "speak",
        |_| {},
        |setup| {
            setup.kiosk.speak = true;
            setup.espeak = Some(script.clone());
        },
    );
    let heard = |k: &Kiosk, what: &str| {
        k.spin(what, || std::fs::read_to_string(&said).unwrap_or_default().contains(what));
    };
    heard(&k, "Приложите полис ОМС к сканеру внизу");
    k.scan(0);
    heard(&k, "Выберите, что вам нужно.");
    k.press("Талон к дежурному врачу");
    heard(&k, "Талон к дежурному врачу");
    k.press("Получить талон");
    heard(&k, "Ваш талон: Д-001");
    let all = std::fs::read_to_string(&said).unwrap();
    let anna = domain::demo::patient(0);
    for part in [anna.name.first.expose(), anna.name.last.expose()] {
        assert!(!all.to_lowercase().contains(&part.to_lowercase()), "a name was spoken: {all}");
    }
    assert!(all.lines().all(|l| l.starts_with("-v ru -s 130 ")), "Russian voice: {all}");
    assert_eq!(all.matches("Выберите, что вам нужно.").count(), 1, "once per screen: {all}");
    k.press("Готово");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn another_policy_wipes_the_first_patient_before_the_next() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut k = Kiosk::start("next-policy");
    k.scan(0);
    k.press("English");
    k.press("Duty doctor ticket");
    k.press("Get a ticket");
    assert_eq!(k.screen(), "ticket");
    // A parent with a child's policy too: no waiting out the idle wipe.
    k.press("Another policy");
    assert_eq!(k.screen(), "attract", "{:?}", k.labels());
    k.assert_forgotten(0);
    assert!(!k.shows("Д-001"), "the first patient's ticket is gone from the screen: {:?}", k.labels());
    assert_eq!(k.session().lang, kiosk::session::Lang::En, "the reader's language stays");
    k.scan(1);
    assert_eq!(k.screen(), "menu");
    let second = kiosk::view::title_case(domain::demo::patient(1).name.first.expose());
    assert!(k.shows(&second), "{:?}", k.labels());
    k.press("Finish");
    k.assert_forgotten(1);
}
