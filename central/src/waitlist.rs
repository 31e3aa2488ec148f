//! The waiting list ("лист ожидания", our extension of the booking methods): when a speciality
//! has no free time in the booking horizon, a patient joins its list with the days and part of
//! the day that suit them. A slot that frees later (a cancellation, a rescheduled appointment)
//! or is newly opened ([`crate::schedule`]) is offered to the first suitable patient in line, and held for them (`slot.blocked = 2`):
//! nobody else sees it until they accept (it becomes their appointment, once, whichever kiosk
//! asks first) or decline (it goes to the next in line, or back to the schedule).
//!
//! Entries live in `waitlist`: `waiting` → `offered` → `booked` | `declined`; `left` when a
//! patient leaves without an offer. One active entry per patient and speciality (a unique
//! index on PostgreSQL, the writer's lock on SQLite).

use serde_json::{Value, json};
use sqlx::Row;

use domain::{Date, DateTime};
use protocol::{
    AppointmentCreated, BookParams, PatientParams, WaitlistEntry, WaitlistJoinParams, WaitlistOffer,
    WaitlistParams, code,
};

use crate::booking::{self, Now, Opened, finish_write, open_write, replay};
use crate::error::ApiError;
use crate::store::{self, Store, Tx};

/// A slot held for a waiting-list offer (seeded blocks are 1).
pub const HELD: i64 = 2;

/// The parts of the day a patient may ask for; a morning slot starts before 13:00 local time.
const PARTS: [&str; 3] = ["any", "morning", "afternoon"];
const AFTERNOON_FROM_HOUR: u32 = 13;

/// Whether a slot starting at `start` (local wall time) on `day` suits `part` and `weekdays`.
fn suits(part: &str, weekdays: &str, start: &DateTime, day: Date) -> bool {
    let part_ok = match part {
        "morning" => start.hour() < AFTERNOON_FROM_HOUR,
        "afternoon" => start.hour() >= AFTERNOON_FROM_HOUR,
        _ => true,
    };
    let wd = day.weekday().to_string();
    part_ok && (weekdays.is_empty() || weekdays.split(',').any(|d| d == wd))
}

fn weekdays_text(days: &[u8]) -> String {
    let mut days: Vec<u8> = days.to_vec();
    days.sort_unstable();
    days.dedup();
    days.iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

fn weekdays_list(text: &str) -> Vec<u8> {
    text.split(',').filter_map(|d| d.parse().ok()).collect()
}

const ENTRY_COLS: &str =
    "w.id, w.speciality_code, w.part, w.weekdays, w.status, w.created_at, w.created_utc, w.slot_id, sp.name";

/// One entry on the wire: its place in line and, when offered, the held slot.
async fn entry(
    ex: &mut sqlx::AnyConnection,
    r: &sqlx::any::AnyRow,
    now: Now,
) -> Result<WaitlistEntry, ApiError> {
    let (id, code): (i64, String) = (r.try_get(0)?, r.try_get(1)?);
    let created_utc: i64 = r.try_get(6)?;
    let ahead = sqlx::query(
        "SELECT COUNT(*) FROM waitlist WHERE speciality_code = $1 AND status IN ('waiting', 'offered')
         AND (created_utc < $2 OR (created_utc = $2 AND id < $3))",
    )
    .bind(&code)
    .bind(created_utc)
    .bind(id)
    .fetch_one(&mut *ex)
    .await?
    .try_get::<i64, _>(0)?;
    let mut status: String = r.try_get(4)?;
    let mut offer = None;
    if status == "offered"
        && let Some(slot) = r.try_get::<Option<i64>, _>(7)?
    {
        let s = sqlx::query(
            "SELECT s.doctor_id, d.complex_resource_id, d.last_name, d.first_name, d.middle_name, d.room,
                    s.start_time, s.end_time, s.start_utc, d.lpu_id
             FROM slot s JOIN doctor d ON d.id = s.doctor_id WHERE s.id = $1",
        )
        .bind(slot)
        .fetch_one(&mut *ex)
        .await?;
        // An offer whose time has come and gone is no offer: the patient is still in line.
        if s.try_get::<i64, _>(8)? > now.utc_minutes() {
            let lpu = store::lpu(&mut *ex, s.try_get(9)?).await?;
            let name = format!(
                "{} {} {}",
                s.try_get::<String, _>(2)?,
                s.try_get::<String, _>(3)?,
                s.try_get::<String, _>(4)?
            );
            offer = Some(WaitlistOffer {
                available_resource_id: s.try_get::<i64, _>(0)? as u64,
                complex_resource_id: s.try_get::<i64, _>(1)? as u64,
                doctor_name: name.trim().to_owned(),
                room_number: s.try_get(5)?,
                lpu_address: lpu.map(|l| l.address).unwrap_or_default(),
                start_time: store::dt(&s.try_get::<String, _>(6)?)?,
                end_time: store::dt(&s.try_get::<String, _>(7)?)?,
            });
        } else {
            status = "waiting".into();
        }
    }
    Ok(WaitlistEntry {
        waiting_list_id: id as u64,
        speciality_id: code,
        speciality_name: r.try_get(8)?,
        part: r.try_get(2)?,
        weekdays: weekdays_list(&r.try_get::<String, _>(3)?),
        position: ahead as u32 + 1,
        status,
        created_at: store::dt(&r.try_get::<String, _>(5)?)?,
        offer,
    })
}

/// `joinWaitingList`, for the caller `scope` (its token's key) serving `clinic`.
pub async fn join(
    st: &Store,
    p: &WaitlistJoinParams,
    now: Now,
    scope: &str,
    clinic: &[i64],
) -> Result<Value, ApiError> {
    if !PARTS.contains(&p.part.as_str()) {
        return Err(ApiError::InvalidParams("part: one of any, morning, afternoon".into()));
    }
    if p.weekdays.iter().any(|d| !(1..=7).contains(d)) {
        return Err(ApiError::InvalidParams("weekdays: 1 (Monday) to 7 (Sunday)".into()));
    }
    let key = p.request_id.as_deref().map(|rid| store::RequestKey::new(scope, rid, "joinWaitingList", p));
    let (_guard, mut tx) = match open_write(st, key.as_ref()).await? {
        Opened::Fresh(guard, tx) => (guard, tx),
        Opened::Answered(previous) => return replay(previous),
    };
    let outcome = join_in(st, &mut tx, p, now, clinic).await;
    finish_write(tx, key.as_ref(), outcome).await
}

async fn join_in(
    st: &Store,
    tx: &mut Tx,
    p: &WaitlistJoinParams,
    now: Now,
    clinic: &[i64],
) -> Result<Value, ApiError> {
    let patient = store::patient(&mut **tx, &p.patient.oms_number, p.patient.birth_date).await?;
    // One patient's joins go one at a time (PostgreSQL: the patient's row locked), so a second
    // join at another kiosk finds the first entry instead of tripping the unique index.
    sqlx::query(&st.for_update("SELECT enp FROM patient WHERE enp = $1"))
        .bind(&patient.enp)
        .execute(&mut **tx)
        .await?;
    release_stale(tx, now).await?;
    let spec = store::speciality(&mut **tx, &p.speciality_id).await?.filter(|s| s.ldp.is_none()).ok_or_else(
        || ApiError::InvalidParams(format!("specialityId: unknown speciality {}", p.speciality_id)),
    )?;
    // The list is for what the patient could book now if there were time: no referral-only
    // speciality without a referral, nothing the patient's sex excludes.
    booking::access(st, &patient, &spec, None, now.date).await?;
    let lpus = store::all_lpus(&mut **tx).await?;
    let home = booking::home_for(&mut **tx, &patient, &spec).await?;
    if home.is_none() || booking::elsewhere(home, &lpus, clinic).is_some() {
        return Err(booking::not_attached(&spec, home, &lpus));
    }
    let existing = sqlx::query(&format!(
        "SELECT {ENTRY_COLS} FROM waitlist w JOIN speciality sp ON sp.code = w.speciality_code
         WHERE w.enp = $1 AND w.speciality_code = $2 AND w.status IN ('waiting', 'offered')"
    ))
    .bind(&patient.enp)
    .bind(&spec.code)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(r) = existing {
        return Ok(serde_json::to_value(entry(tx, &r, now).await?).expect("serialisable"));
    }
    if booked_for(tx, &patient.enp, &spec.code, now).await? {
        return Err(ApiError::domain(code::ALREADY_BOOKED, format!("У вас уже есть запись: {}", spec.name)));
    }
    // The same doctors an offer may come from ([`offer_freed`]): those of the patient's clinic.
    for d in store::doctors_by_speciality(&mut **tx, &spec.code).await? {
        if booking::attached_to(home, &lpus, d.lpu_id)
            && !store::free_slots(&mut **tx, d.id, now.utc_minutes()).await?.is_empty()
        {
            return Err(ApiError::domain(
                code::SLOTS_AVAILABLE,
                format!("К врачу «{}» есть свободное время: запишитесь", spec.name),
            ));
        }
    }
    let id: i64 = sqlx::query(
        "INSERT INTO waitlist (enp, speciality_code, home_lpu, part, weekdays, created_at, created_utc, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'waiting') RETURNING id",
    )
    .bind(&patient.enp)
    .bind(&spec.code)
    .bind(home)
    .bind(&p.part)
    .bind(weekdays_text(&p.weekdays))
    .bind(now.to_string())
    .bind(now.utc_minutes())
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| match crate::error::is_unique_violation(&e) {
        // Another node put the same patient on the same list a moment ago.
        true => ApiError::domain(code::SLOT_TAKEN, "Вы уже в листе ожидания"),
        false => e.into(),
    })?
    .try_get(0)?;
    let r = sqlx::query(&format!(
        "SELECT {ENTRY_COLS} FROM waitlist w JOIN speciality sp ON sp.code = w.speciality_code WHERE w.id = $1"
    ))
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(serde_json::to_value(entry(tx, &r, now).await?).expect("serialisable"))
}

/// `getWaitingList`: the patient's active entries, oldest first.
pub async fn list(st: &Store, p: &PatientParams, now: Now) -> Result<Value, ApiError> {
    let patient = store::patient(&st.pool, &p.oms_number, p.birth_date).await?;
    let mut conn = st.pool.acquire().await?;
    let rows = sqlx::query(&format!(
        "SELECT {ENTRY_COLS} FROM waitlist w JOIN speciality sp ON sp.code = w.speciality_code
         WHERE w.enp = $1 AND w.status IN ('waiting', 'offered') ORDER BY w.created_utc, w.id"
    ))
    .bind(&patient.enp)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(entry(&mut conn, r, now).await?);
    }
    Ok(serde_json::to_value(out).expect("serialisable"))
}

/// Puts back in line whoever was offered a time that has passed unanswered (offers are seen at
/// the patient's next visit, which may come too late): they wait for the next one.
async fn release_stale(tx: &mut Tx, now: Now) -> Result<(), ApiError> {
    sqlx::query(
        "UPDATE waitlist SET status = 'waiting', slot_id = NULL WHERE status = 'offered'
         AND slot_id IN (SELECT id FROM slot WHERE start_utc <= $1)",
    )
    .bind(now.utc_minutes())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether the patient holds an active, future appointment to the speciality (then a held slot
/// would only be refused as ALREADY_BOOKED).
async fn booked_for(tx: &mut Tx, enp: &str, code: &str, now: Now) -> Result<bool, ApiError> {
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) FROM appointment WHERE enp = $1 AND speciality_code = $2 AND active = 1 AND end_utc > $3",
    )
    .bind(enp)
    .bind(code)
    .bind(now.utc_minutes())
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    Ok(n > 0)
}

/// Takes the patient off the speciality's list once they have booked it another way.
pub async fn booked_elsewhere(tx: &mut Tx, enp: &str, code: &str) -> Result<(), ApiError> {
    sqlx::query(
        "UPDATE waitlist SET status = 'left' WHERE enp = $1 AND speciality_code = $2 AND status = 'waiting'",
    )
    .bind(enp)
    .bind(code)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Offers the freed slot `slot_id` to the first suitable patient in line for its speciality and
/// holds it for them; called in the transaction that freed it (a cancellation, a move) or
/// opened it. Whether somebody in line got it.
pub async fn offer_freed(tx: &mut Tx, slot_id: i64, now: Now) -> Result<bool, ApiError> {
    release_stale(tx, now).await?;
    let Some(s) = sqlx::query(
        "SELECT s.start_time, s.start_utc, s.day, d.lpu_id, d.speciality_code, s.blocked
         FROM slot s JOIN doctor d ON d.id = s.doctor_id WHERE s.id = $1",
    )
    .bind(slot_id)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(false);
    };
    if s.try_get::<i64, _>(1)? <= now.utc_minutes() || s.try_get::<i64, _>(5)? != 0 {
        return Ok(false);
    }
    let start = store::dt(&s.try_get::<String, _>(0)?)?;
    let day = store::date(&s.try_get::<String, _>(2)?)?;
    let (doctor_lpu, code): (i64, String) = (s.try_get(3)?, s.try_get(4)?);
    let lpus = store::all_lpus(&mut **tx).await?;
    let candidates = sqlx::query(
        "SELECT id, home_lpu, part, weekdays, enp FROM waitlist WHERE speciality_code = $1 AND status = 'waiting'
         ORDER BY created_utc, id",
    )
    .bind(&code)
    .fetch_all(&mut **tx)
    .await?;
    for c in candidates {
        let (id, home): (i64, Option<i64>) = (c.try_get(0)?, c.try_get(1)?);
        let (part, weekdays, enp): (String, String, String) = (c.try_get(2)?, c.try_get(3)?, c.try_get(4)?);
        if booking::attached_to(home, &lpus, doctor_lpu)
            && suits(&part, &weekdays, &start, day)
            && !booked_for(tx, &enp, &code, now).await?
        {
            // Still waiting? Another node's cancellation may have just offered them another
            // slot (PostgreSQL re-reads the row once that commits): then the next in line.
            let took = sqlx::query(
                "UPDATE waitlist SET status = 'offered', slot_id = $1 WHERE id = $2 AND status = 'waiting'",
            )
            .bind(slot_id)
            .bind(id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if took != 1 {
                continue;
            }
            sqlx::query("UPDATE slot SET blocked = $1 WHERE id = $2")
                .bind(HELD)
                .bind(slot_id)
                .execute(&mut **tx)
                .await?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// What a patient does with an entry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Act {
    Accept,
    Decline,
}

/// The caller's writes on one entry: the keyed transaction, the entry locked, then the act.
async fn on_entry(
    st: &Store,
    p: &WaitlistParams,
    act: Act,
    now: Now,
    scope: &str,
    clinic: &[i64],
) -> Result<Value, ApiError> {
    let method = match act {
        Act::Accept => "acceptWaitingListOffer",
        Act::Decline => "declineWaitingListOffer",
    };
    let key = p.request_id.as_deref().map(|rid| store::RequestKey::new(scope, rid, method, p));
    let (_guard, mut tx) = match open_write(st, key.as_ref()).await? {
        Opened::Fresh(guard, tx) => (guard, tx),
        Opened::Answered(previous) => return replay(previous),
    };
    let outcome = async {
        let patient = store::patient(&mut *tx, &p.patient.oms_number, p.patient.birth_date).await?;
        // Locked on PostgreSQL: two kiosks accepting one offer go one at a time.
        let r = sqlx::query(
            &st.for_update("SELECT id, status, slot_id FROM waitlist WHERE id = $1 AND enp = $2"),
        )
        .bind(p.waiting_list_id as i64)
        .bind(&patient.enp)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ApiError::domain(code::OFFER_GONE, "Запись в листе ожидания не найдена"))?;
        let (id, status, slot): (i64, String, Option<i64>) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        match act {
            Act::Accept => accept_in(st, &mut tx, p, id, &status, slot, now, clinic).await,
            Act::Decline => decline_in(&mut tx, id, &status, slot, now).await,
        }
    }
    .await;
    finish_write(tx, key.as_ref(), outcome).await
}

fn gone() -> ApiError {
    ApiError::domain(code::OFFER_GONE, "Это предложение уже принято или отклонено")
}

/// `acceptWaitingListOffer`: the held slot becomes the patient's appointment, by the same rules
/// as `createAppointment`.
pub async fn accept(
    st: &Store,
    p: &WaitlistParams,
    now: Now,
    scope: &str,
    clinic: &[i64],
) -> Result<Value, ApiError> {
    on_entry(st, p, Act::Accept, now, scope, clinic).await
}

/// `declineWaitingListOffer`: off the list; a held slot goes to the next in line.
pub async fn decline(st: &Store, p: &WaitlistParams, now: Now, scope: &str) -> Result<Value, ApiError> {
    on_entry(st, p, Act::Decline, now, scope, &[]).await
}

#[allow(clippy::too_many_arguments)]
async fn accept_in(
    st: &Store,
    tx: &mut Tx,
    p: &WaitlistParams,
    id: i64,
    status: &str,
    slot: Option<i64>,
    now: Now,
    clinic: &[i64],
) -> Result<Value, ApiError> {
    let Some(slot) = slot.filter(|_| status == "offered") else { return Err(gone()) };
    let s = sqlx::query(
        "SELECT s.doctor_id, d.complex_resource_id, s.start_time, s.end_time, s.start_utc FROM slot s
         JOIN doctor d ON d.id = s.doctor_id WHERE s.id = $1",
    )
    .bind(slot)
    .fetch_one(&mut **tx)
    .await?;
    if s.try_get::<i64, _>(4)? <= now.utc_minutes() {
        return Err(ApiError::domain(code::OFFER_GONE, "Это время уже прошло"));
    }
    sqlx::query("UPDATE slot SET blocked = 0 WHERE id = $1 AND blocked = $2")
        .bind(slot)
        .bind(HELD)
        .execute(&mut **tx)
        .await?;
    let bp = BookParams {
        patient: p.patient,
        available_resource_id: s.try_get::<i64, _>(0)? as u64,
        complex_resource_id: s.try_get::<i64, _>(1)? as u64,
        start_time: store::dt(&s.try_get::<String, _>(2)?)?,
        end_time: store::dt(&s.try_get::<String, _>(3)?)?,
        reception_type_id: Some("556".into()),
        referral_id: None,
        appointment_id: None,
        request_id: None,
    };
    let made = booking::book_in(st, tx, &bp, false, now, clinic).await?;
    let created: AppointmentCreated =
        serde_json::from_value(made.clone()).map_err(|e| ApiError::domain(code::INTERNAL, e.to_string()))?;
    sqlx::query("UPDATE waitlist SET status = 'booked', appointment_id = $1 WHERE id = $2")
        .bind(created.appointment_id as i64)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(made)
}

async fn decline_in(
    tx: &mut Tx,
    id: i64,
    status: &str,
    slot: Option<i64>,
    now: Now,
) -> Result<Value, ApiError> {
    let next = match status {
        "offered" => "declined",
        "waiting" => "left",
        _ => return Err(gone()),
    };
    sqlx::query("UPDATE waitlist SET status = $1 WHERE id = $2")
        .bind(next)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    if let Some(slot) = slot.filter(|_| status == "offered") {
        sqlx::query("UPDATE slot SET blocked = 0 WHERE id = $1 AND blocked = $2")
            .bind(slot)
            .bind(HELD)
            .execute(&mut **tx)
            .await?;
        offer_freed(tx, slot, now).await?;
    }
    Ok(json!("OK"))
}

/// The clinic's active list for the info desk: (speciality, patient's surname and initials,
/// part of day, status, offered time), in line order.
pub async fn for_desk(st: &Store, clinic: &[i64], now: Now) -> Result<Vec<[String; 5]>, ApiError> {
    let rows = sqlx::query(
        "SELECT sp.name, p.last_name, p.first_name, p.middle_name, w.part, w.status, s.start_time, w.home_lpu,
                s.start_utc
         FROM waitlist w JOIN speciality sp ON sp.code = w.speciality_code JOIN patient p ON p.enp = w.enp
         LEFT JOIN slot s ON s.id = w.slot_id
         WHERE w.status IN ('waiting', 'offered') ORDER BY sp.name, w.created_utc, w.id",
    )
    .fetch_all(&st.pool)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        if !r.try_get::<Option<i64>, _>(7)?.is_some_and(|h| clinic.contains(&h)) {
            continue;
        }
        let middle: Option<String> = r.try_get(3)?;
        let name = domain::FullName::new(
            &r.try_get::<String, _>(1)?,
            &r.try_get::<String, _>(2)?,
            middle.as_deref(),
        )
        .surname_and_initials();
        // An offer whose time has passed unanswered: in line again (as `getWaitingList` says).
        let live = r.try_get::<Option<i64>, _>(8)?.is_some_and(|t| t > now.utc_minutes());
        let offered = r.try_get::<Option<String>, _>(6)?.and_then(|t| store::dt(&t).ok()).filter(|_| live);
        out.push([
            r.try_get(0)?,
            name,
            r.try_get(4)?,
            if offered.is_some() { "offered".into() } else { "waiting".into() },
            offered.map(|t| format!("{} {}", t.date.to_ru_string(), t.hhmm())).unwrap_or_default(),
        ]);
    }
    Ok(out)
}
