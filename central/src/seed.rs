//! The deterministic demo seed: one clinic with two branches, fourteen doctors across first-level
//! and referral-only specialities (a therapist from 18, a paediatrician to 17), four rooms for tests and procedures (blood test, ECG,
//! ultrasound, physiotherapy) with their preparation, two clinics outside the network where some
//! patients hold their dental or gynaecological attachment, 14 days of schedules from `today`, the 50
//! demo patients of `domain::demo` (some not attached, some with referrals to doctors and to
//! tests, one of them expired, some with appointments), a surgeon booked up with two patients
//! on his waiting list, and duty hours. Test data, not real people.

use domain::demo;
use domain::{Date, DateTime, Sex};

use crate::store::Store;

/// Clinic (queue) id of the demo.
pub const LPU: i64 = 1;
/// Its branches.
pub const BRANCH: i64 = 2;
pub const BRANCH2: i64 = 3;

/// (code, name, first level, male, female)
pub const SPECIALITIES: [(&str, &str, bool, bool, bool); 11] = [
    ("2011", "Терапевт", true, true, true),
    ("2012", "Педиатр", true, true, true),
    ("2019", "Офтальмолог", true, true, true),
    ("2007", "Хирург", true, true, true),
    ("2010", "Оториноларинголог", true, true, true),
    ("2013", "Стоматолог", true, true, true),
    ("2001", "Акушер-гинеколог", true, false, true),
    ("2045", "Кардиолог", false, true, true),
    ("2030", "Невролог", false, true, true),
    ("2040", "Эндокринолог", false, true, true),
    ("2050", "Уролог", false, true, false),
];

/// (id, lpu, last, first, middle, speciality, room, slot minutes, morning shift)
type SeedDoctor = (i64, i64, &'static str, &'static str, &'static str, &'static str, &'static str, u32, bool);

const DOCTORS: [SeedDoctor; 14] = [
    (101, LPU, "Иванова", "Мария", "Петровна", "2011", "214", 15, true),
    (102, LPU, "Смирнов", "Олег", "Игоревич", "2011", "215", 15, false),
    (103, BRANCH, "Орлова", "Нина", "Сергеевна", "2011", "105", 20, true),
    (111, LPU, "Голубева", "Светлана", "Андреевна", "2012", "217", 15, true),
    (201, LPU, "Кузнецова", "Елена", "Сергеевна", "2019", "310", 20, true),
    (301, LPU, "Попов", "Андрей", "Викторович", "2007", "120", 20, false),
    (401, BRANCH2, "Лебедева", "Ольга", "Ивановна", "2010", "204", 15, true),
    (501, LPU, "Зайцев", "Игорь", "Петрович", "2013", "330", 20, false),
    (502, BRANCH, "Морозова", "Ирина", "Викторовна", "2013", "207", 20, true),
    (601, LPU, "Белова", "Анна", "Михайловна", "2001", "401", 20, true),
    (701, LPU, "Соколов", "Дмитрий", "Андреевич", "2045", "402", 20, true),
    (702, BRANCH2, "Егорова", "Татьяна", "Юрьевна", "2030", "210", 20, false),
    (801, LPU, "Никитин", "Павел", "Олегович", "2040", "403", 15, true),
    (901, LPU, "Фролов", "Виктор", "Николаевич", "2050", "118", 20, false),
];

/// Specialities booked on an attachment of their own kind (`typeAttach`): dentist (1),
/// gynaecologist (2).
pub const OWN_ATTACHMENT: [(&str, i64); 2] = [("2013", 1), ("2001", 2)];

/// Age limits, as a clinic that sees children and adults sets them: (speciality, from, to).
pub const AGE_LIMITS: [(&str, Option<i64>, Option<i64>); 2] =
    [("2011", Some(18), None), ("2012", None, Some(17))];

/// Clinics outside the demo network where some patients hold their own attachments.
pub const DENTAL_ELSEWHERE: i64 = 50;
pub const GYN_ELSEWHERE: i64 = 51;

/// Demo patient `i`'s own attachments: (kind, clinic). Every tenth from the fifth goes to a
/// dental clinic of its own, every tenth from the sixth (women) has a women's clinic elsewhere
/// and the dentist of the branch; everybody else is served by the general attachment.
pub fn own_attachments(i: usize) -> Vec<(i64, i64)> {
    match i % 10 {
        5 => vec![(1, DENTAL_ELSEWHERE)],
        6 => vec![(1, BRANCH), (2, GYN_ELSEWHERE)],
        _ => Vec::new(),
    }
}

/// The surgeon is booked up for the fortnight but for one appointment, [`SURGEON_HOLDER`]'s;
/// [`waitlisted`] patients are in line for the surgeon: a cancellation by the holder is offered
/// to the first of them (the demo shows it).
pub const FULL_DOCTOR: i64 = 301;
pub const SURGEON_HOLDER: usize = 13;

/// Demo patients on the surgeon's waiting list, in line order: (patient, part of the day).
pub const WAITLISTED: [(usize, &str); 2] = [(12, "any"), (22, "afternoon")];

/// Whether demo patient `i` is on a waiting list.
pub fn waitlisted(i: usize) -> bool {
    WAITLISTED.iter().any(|(p, _)| *p == i)
}

/// Active appointments the seed gives demo patient `i`.
pub fn seeded_appointments(i: usize) -> usize {
    usize::from(has_appointment(i)) + usize::from(i == SURGEON_HOLDER && attached(i))
}

/// Tests and procedures booked by referral (LDP types): (code, name, kind, preparation).
pub const LDP_TYPES: [(&str, &str, &str, &str); 4] = [
    ("5001", "Общий анализ крови", "lab", "Натощак, воду пить можно."),
    ("5002", "Электрокардиограмма (ЭКГ)", "diagnostic", "Возьмите прошлые ЭКГ, если есть."),
    ("5003", "УЗИ брюшной полости", "diagnostic", "Натощак; 3 дня без бобовых и газировки."),
    ("5004", "Физиотерапия", "procedure", "Возьмите полотенце."),
];

/// Rooms for tests and procedures: (id, lpu, name, LDP type, room, slot minutes, first minute
/// of the day, hours). Blood is taken in the morning only.
type SeedRoom = (i64, i64, &'static str, &'static str, &'static str, u32, u32, u32);

const ROOMS: [SeedRoom; 4] = [
    (1101, LPU, "Процедурный кабинет", "5001", "105", 10, 8 * 60, 3),
    (1102, LPU, "Кабинет ЭКГ", "5002", "112", 15, 9 * 60, 5),
    (1103, BRANCH, "Кабинет УЗИ", "5003", "208", 20, 8 * 60, 6),
    (1104, LPU, "Кабинет физиотерапии", "5004", "020", 30, 13 * 60, 5),
];

/// MEJI numbers (the city's register of medical staff) are opaque integers of their own range;
/// the demo's are the doctor ids offset into one.
const MEJI_BASE: i64 = 1_200_000;

/// The demo doctors' full names ("Иванова Мария Петровна"): public, shown on every screen and
/// ticket, so privacy checks must not take a doctor for a patient.
pub fn doctor_names() -> Vec<String> {
    DOCTORS.iter().map(|d| format!("{} {} {}", d.2, d.3, d.4)).collect()
}

/// Moscow time: the demo clinic's wall clock.
pub const OFFSET: i16 = 180;

/// Whether demo patient `i` is attached to the clinic (every tenth is not).
pub fn attached(i: usize) -> bool {
    i % 10 != 9
}

/// Whether demo patient `i` has a referral (to a cardiologist, valid for 30 days).
pub fn has_referral(i: usize) -> bool {
    i % 5 == 2
}

/// Whether demo patient `i` already has an appointment (with the ophthalmologist).
pub fn has_appointment(i: usize) -> bool {
    i % 7 == 3 && attached(i)
}

/// Demo patient `i`'s referrals to tests and procedures: (LDP type, still valid). Whoever has
/// a referral to the cardiologist also has a blood test and an ECG to do; every fifth patient
/// from the fifth has an ultrasound and a physiotherapy referral that expired two days ago.
pub fn ldp_referrals(i: usize) -> Vec<(&'static str, bool)> {
    match i % 5 {
        2 => vec![("5001", true), ("5002", true)],
        4 if attached(i) => vec![("5003", true), ("5004", false)],
        _ => Vec::new(),
    }
}

/// The demo patients as CSV, header `enp,birth_date,last_name,attached,has_referral`.
pub fn patients_csv() -> String {
    let mut out = String::from("enp,birth_date,last_name,attached,has_referral\n");
    for p in demo::patients() {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            p.enp.expose(),
            p.birth_date,
            p.name.last.expose(),
            attached(p.index),
            has_referral(p.index)
        ));
    }
    out
}

/// Seeds an empty database (does nothing if the clinic is already there).
pub async fn seed(store: &Store, today: Date) -> Result<(), sqlx::Error> {
    let (_guard, mut tx) = store.begin_write().await?;
    let exists = sqlx::query("SELECT id FROM lpu WHERE id = $1").bind(LPU).fetch_optional(&mut *tx).await?;
    if exists.is_some() {
        return Ok(());
    }
    // The main building keeps a duty doctor round the clock; the branch from 8 to 20.
    for (id, parent, name, short, address, open, close) in [
        (LPU, None, "Городская поликлиника № 1", "ГП № 1", "ул. Садовая, 12", 0, 24 * 60),
        (
            BRANCH,
            Some(LPU),
            "Городская поликлиника № 1, филиал № 1",
            "ГП № 1 ф. 1",
            "ул. Лесная, 3",
            8 * 60,
            20 * 60,
        ),
        (
            DENTAL_ELSEWHERE,
            None,
            "Стоматологическая поликлиника № 9",
            "СП № 9",
            "ул. Зелёная, 5",
            8 * 60,
            20 * 60,
        ),
        (GYN_ELSEWHERE, None, "Женская консультация № 3", "ЖК № 3", "Пресненский вал, 4", 8 * 60, 20 * 60),
    ] {
        sqlx::query("INSERT INTO lpu (id, parent_id, name, short_name, address, open_min, close_min) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(id)
            .bind(parent)
            .bind(name)
            .bind(short)
            .bind(address)
            .bind(open as i64)
            .bind(close as i64)
            .execute(&mut *tx)
            .await?;
    }
    for (code, name, first, male, female) in SPECIALITIES {
        sqlx::query(
            "INSERT INTO speciality (code, name, first_level, male, female) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code)
        .bind(name)
        .bind(i64::from(first))
        .bind(i64::from(male))
        .bind(i64::from(female))
        .execute(&mut *tx)
        .await?;
    }
    for (code, min, max) in AGE_LIMITS {
        sqlx::query("UPDATE speciality SET min_age = $1, max_age = $2 WHERE code = $3")
            .bind(min)
            .bind(max)
            .bind(code)
            .execute(&mut *tx)
            .await?;
    }
    for (code, kind) in OWN_ATTACHMENT {
        sqlx::query("UPDATE speciality SET attach_kind = $1 WHERE code = $2")
            .bind(kind)
            .bind(code)
            .execute(&mut *tx)
            .await?;
    }
    for (code, name, kind, preparation) in LDP_TYPES {
        sqlx::query(
            "INSERT INTO speciality (code, name, first_level, male, female, ldp_kind, preparation)
             VALUES ($1, $2, 0, 1, 1, $3, $4)",
        )
        .bind(code)
        .bind(name)
        .bind(kind)
        .bind(preparation)
        .execute(&mut *tx)
        .await?;
    }
    // A room is a resource like a doctor: its name in the surname column, no first names.
    let rooms = ROOMS.iter().map(|&(id, lpu, name, code, room, minutes, start, hours)| {
        ((id, lpu, name, "", "", code, room), (minutes, start, hours))
    });
    let doctors = DOCTORS.iter().map(|&(id, lpu, last, first, middle, spec, room, minutes, morning)| {
        ((id, lpu, last, first, middle, spec, room), (minutes, if morning { 8 * 60 } else { 14 * 60 }, 6))
    });
    for ((id, lpu, last, first, middle, spec, room), (minutes, start, hours)) in doctors.chain(rooms) {
        sqlx::query("INSERT INTO doctor (id, lpu_id, last_name, first_name, middle_name, speciality_code, room, complex_resource_id, meji_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(id)
            .bind(lpu)
            .bind(last)
            .bind(first)
            .bind(middle)
            .bind(spec)
            .bind(room)
            .bind(id * 10)
            .bind(MEJI_BASE + id)
            .execute(&mut *tx)
            .await?;
        // 14 days from today, weekdays, one shift; every fifth slot is already taken.
        for day in 0..14 {
            let Some(date) = today.add_days(day) else { continue };
            if date.weekday() > 5 {
                continue;
            }
            let mut k = 0;
            let mut m = start;
            while m + minutes <= start + hours * 60 {
                let s = DateTime::new(date, m / 60, m % 60, OFFSET).expect("valid time");
                let e =
                    DateTime::new(date, (m + minutes) / 60, (m + minutes) % 60, OFFSET).expect("valid time");
                let taken = (k + id as u32).is_multiple_of(5) || id == FULL_DOCTOR;
                crate::store::insert_slot(&mut *tx, id, s, e, taken).await?;
                k += 1;
                m += minutes;
            }
        }
    }
    let since = today.add_days(-900).unwrap_or(today);
    for p in demo::patients() {
        let i = p.index;
        sqlx::query("INSERT INTO patient (enp, birth_date, last_name, first_name, middle_name, sex, lpu_id, attach_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(p.enp.expose())
            .bind(p.birth_date.to_string())
            .bind(p.name.last.expose())
            .bind(p.name.first.expose())
            .bind(p.name.middle.as_ref().map(|m| m.expose().to_owned()))
            .bind(if p.sex == Sex::Male { "male" } else { "female" })
            .bind(attached(i).then_some(LPU))
            .bind(attached(i).then(|| since.to_string()))
            .execute(&mut *tx)
            .await?;
        if has_referral(i) {
            sqlx::query("INSERT INTO referral (id, number, enp, speciality_code, lpu_id, start_date, end_date) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(100_000_000_000_i64 + i as i64)
                .bind(format!("НП-{:05}", 1000 + i))
                .bind(p.enp.expose())
                .bind("2045")
                .bind(LPU)
                .bind(today.add_days(-5).unwrap_or(today).to_string())
                .bind(today.add_days(30).unwrap_or(today).to_string())
                .execute(&mut *tx)
                .await?;
        }
        if attached(i) {
            for (kind, lpu) in own_attachments(i) {
                sqlx::query("INSERT INTO attachment (enp, kind, lpu_id, since) VALUES ($1, $2, $3, $4)")
                    .bind(p.enp.expose())
                    .bind(kind)
                    .bind(lpu)
                    .bind(since.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for (n, (code, valid)) in ldp_referrals(i).into_iter().enumerate() {
            let (from, until) = if valid { (-3, 40) } else { (-40, -2) };
            sqlx::query("INSERT INTO referral (id, number, enp, speciality_code, lpu_id, start_date, end_date) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(100_000_000_000_i64 + 1000 * (n as i64 + 1) + i as i64)
                .bind(format!("НА-{:05}", 1000 * (n + 1) + i))
                .bind(p.enp.expose())
                .bind(code)
                .bind(LPU)
                .bind(today.add_days(from).unwrap_or(today).to_string())
                .bind(today.add_days(until).unwrap_or(today).to_string())
                .execute(&mut *tx)
                .await?;
        }
        if i == SURGEON_HOLDER && attached(i) {
            // The one surgeon's slot taken by an appointment: the first weekday after today.
            sqlx::query(
                "INSERT INTO appointment (enp, slot_id, doctor_id, speciality_code, start_utc, end_utc, active)
                 SELECT $1, id, doctor_id, '2007', start_utc, end_utc, 1 FROM slot
                 WHERE doctor_id = $2 AND day > $3 ORDER BY start_utc LIMIT 1",
            )
            .bind(p.enp.expose())
            .bind(FULL_DOCTOR)
            .bind(today.to_string())
            .execute(&mut *tx)
            .await?;
            // Taken by the appointment, not blocked: cancelled, it is free for the list.
            sqlx::query(
                "UPDATE slot SET blocked = 0 WHERE id IN (SELECT slot_id FROM appointment WHERE enp = $1 AND doctor_id = $2)",
            )
            .bind(p.enp.expose())
            .bind(FULL_DOCTOR)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(n) = WAITLISTED.iter().position(|(w, _)| *w == i) {
            let joined = DateTime::new(today.add_days(n as i32 - 3).unwrap_or(today), 9, 0, OFFSET)
                .expect("valid time");
            sqlx::query(
                "INSERT INTO waitlist (enp, speciality_code, home_lpu, part, weekdays, created_at, created_utc, status)
                 VALUES ($1, '2007', $2, $3, '', $4, $5, 'waiting')",
            )
            .bind(p.enp.expose())
            .bind(LPU)
            .bind(WAITLISTED[n].1)
            .bind(joined.to_string())
            .bind(joined.utc_minutes())
            .execute(&mut *tx)
            .await?;
        }
        if has_appointment(i) {
            // A future free slot of the ophthalmologist, a different one per patient.
            let slot = sqlx::query(
                "SELECT id, start_utc, end_utc FROM slot WHERE doctor_id = 201 AND blocked = 0 AND day > $1
                 AND NOT EXISTS (SELECT 1 FROM appointment a WHERE a.slot_id = slot.id AND a.active = 1)
                 ORDER BY start_utc LIMIT 1",
            )
            .bind(today.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(s) = slot {
                use sqlx::Row;
                sqlx::query("INSERT INTO appointment (enp, slot_id, doctor_id, speciality_code, start_utc, end_utc, active) VALUES ($1, $2, 201, '2019', $3, $4, 1)")
                    .bind(p.enp.expose())
                    .bind(s.try_get::<i64, _>(0)?)
                    .bind(s.try_get::<i64, _>(1)?)
                    .bind(s.try_get::<i64, _>(2)?)
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_has_the_documented_header_and_fifty_rows() {
        let csv = super::patients_csv();
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("enp,birth_date,last_name,attached,has_referral"));
        assert_eq!(lines.count(), 50);
        assert!(csv.contains(",false,") && csv.contains(",true,true"));
    }
}
