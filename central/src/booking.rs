//! The EMIAS-dialect booking methods and the clinic rules they enforce.

use serde_json::{Value, json};
use sqlx::Row;

use domain::{Date, DateTime, Sex};
use protocol::{
    AppointmentCreated, AttachedElsewhere, Attachment, Attachments, BookParams, CancelParams,
    ComplexResource, DoctorInfo, DoctorsParams, LdpType, Lpu, MainDoctor, PatientInfo, PatientName,
    PatientParams, Reception, ReceptionType, ReferralInfo, ReferralToDoctor, Room, ScheduleBySlot,
    ScheduleInfo, ScheduleOfDay, ScheduleParams, SlotTime, SpecialityInfo, ToDoctor, ToLdp, code,
};

use crate::error::{ApiError, is_unique_violation};
use crate::store::{self, DoctorRow, PatientRow, SpecialityRow, Store};

/// Now, as the clinic's wall clock.
pub type Now = DateTime;

/// Whether a doctor at `doctor_lpu` serves a patient whose clinic for the speciality is `home`.
pub(crate) fn attached_to(home: Option<i64>, lpus: &[store::LpuRow], doctor_lpu: i64) -> bool {
    // Attachment to a clinic covers its branches.
    let Some(home) = home else { return false };
    doctor_lpu == home || lpus.iter().any(|l| l.id == doctor_lpu && l.parent_id == Some(home))
}

/// The clinic that serves `patient` for `spec`: the attachment of the speciality's own kind
/// when the patient has one (a dentist, a gynaecologist), else the general attachment.
pub(crate) async fn home_for(
    ex: impl sqlx::Executor<'_, Database = sqlx::Any>,
    patient: &PatientRow,
    spec: &SpecialityRow,
) -> Result<Option<i64>, ApiError> {
    if let Some(kind) = spec.attach_kind
        && let Some((lpu, _)) = store::attachment(ex, &patient.enp, kind).await?
    {
        return Ok(Some(lpu));
    }
    Ok(patient.lpu_id)
}

/// `home` when it is a clinic the caller does not serve (neither it nor a branch of it).
pub(crate) fn elsewhere(home: Option<i64>, lpus: &[store::LpuRow], clinic: &[i64]) -> Option<store::LpuRow> {
    let home = home?;
    let served = clinic.iter().any(|&c| attached_to(Some(home), lpus, c) || c == home);
    if served { None } else { lpus.iter().find(|l| l.id == home).cloned() }
}

/// PATIENT_NOT_ATTACHED; for a speciality on an own attachment, saying where it is (`home`).
pub(crate) fn not_attached(spec: &SpecialityRow, home: Option<i64>, lpus: &[store::LpuRow]) -> ApiError {
    match lpus.iter().find(|l| spec.attach_kind.is_some() && Some(l.id) == home) {
        Some(l) => ApiError::domain(
            code::PATIENT_NOT_ATTACHED,
            format!("К врачу «{}» вы прикреплены: {}, {}", spec.name, l.name, l.address),
        ),
        None => ApiError::domain(code::PATIENT_NOT_ATTACHED, "Вы не прикреплены к этой поликлинике"),
    }
}

/// The `areaType` a speciality on an own attachment carries: the `typeAttach` it is booked on.
fn area_type(kind: Option<i64>) -> Vec<Value> {
    match kind {
        Some(1) => vec![json!({"code": "1", "name": "Стоматологическое прикрепление"})],
        Some(2) => vec![json!({"code": "2", "name": "Гинекологическое прикрепление"})],
        _ => Vec::new(),
    }
}

/// Whether `s` sees a patient of `p`'s age on `today` (a children's clinic's limits).
fn age_allows(p: &PatientRow, s: &SpecialityRow, today: Date) -> bool {
    let Ok(born) = Date::parse_iso(&p.birth_date) else { return true };
    let age = i64::from(born.age_on(today));
    s.min_age.is_none_or(|m| age >= m) && s.max_age.is_none_or(|m| age <= m)
}

fn sex_allows(p: &PatientRow, s: &SpecialityRow) -> bool {
    match p.sex.as_str() {
        "male" => s.male,
        "female" => s.female,
        _ => true,
    }
}

pub async fn patient_info(st: &Store, p: &PatientParams) -> Result<Value, ApiError> {
    let row = store::patient(&st.pool, &p.oms_number, p.birth_date).await?;
    // The general attachment first (clients that read one take the first), then the own ones.
    let mut found = Vec::new();
    if let (Some(id), Some(since)) = (row.lpu_id, &row.attach_date) {
        found.push((0, id, since.clone()));
    }
    for kind in [1, 2] {
        if let Some((id, since)) = store::attachment(&st.pool, &row.enp, kind).await? {
            found.push((kind, id, since));
        }
    }
    let mut attachment = Vec::new();
    for (kind, id, since) in found {
        if let Some(l) = store::lpu(&st.pool, id).await? {
            attachment.push(Attachment {
                lpu: Lpu { id: l.id as u32, name: l.name, address: l.address },
                create_date: store::date(&since)?,
                type_attach: kind as u8,
            });
        }
    }
    let info = PatientInfo {
        attachments: Attachments { attachment },
        patient: Some(PatientName {
            last_name: row.last_name,
            first_name: row.first_name,
            middle_name: row.middle_name,
            sex: match row.sex.as_str() {
                "male" => Some(Sex::Male),
                "female" => Some(Sex::Female),
                _ => None,
            },
        }),
    };
    Ok(serde_json::to_value(info).expect("serialisable"))
}

/// `clinic`: the caller's clinic and branches; a speciality the patient is attached to
/// elsewhere says where (`attachedElsewhere`).
pub async fn specialities(
    st: &Store,
    p: &PatientParams,
    now: Now,
    clinic: &[i64],
) -> Result<Value, ApiError> {
    let patient = store::patient(&st.pool, &p.oms_number, p.birth_date).await?;
    // Tests and procedures are booked by referral only, never chosen from this list.
    let rows = sqlx::query(&format!(
        "SELECT {} FROM speciality WHERE ldp_kind IS NULL ORDER BY name",
        store::SPECIALITY_COLS
    ))
    .fetch_all(&st.pool)
    .await?;
    // The patient's own attachments, read once for every speciality.
    let own: Vec<(i64, i64)> = sqlx::query("SELECT kind, lpu_id FROM attachment WHERE enp = $1")
        .bind(&patient.enp)
        .fetch_all(&st.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    // The clinics, only to place an own attachment (most patients have none: a read saved).
    let lpus = if own.is_empty() { Vec::new() } else { store::all_lpus(&st.pool).await? };
    let mut list = Vec::new();
    for s in rows.iter().map(store::speciality_row) {
        let s = s?;
        // A child is not offered a therapist, an adult no paediatrician.
        if !age_allows(&patient, &s, now.date) {
            continue;
        }
        // The attachment of the speciality's own kind, where the patient has one ([`home_for`]).
        let attached_elsewhere = s
            .attach_kind
            .and_then(|k| own.iter().find(|(kind, _)| *kind == k))
            .and_then(|(_, lpu)| elsewhere(Some(*lpu), &lpus, clinic))
            .map(|l| AttachedElsewhere { lpu_id: l.id as u32, name: l.name, address: l.address });
        list.push(SpecialityInfo {
            area_type: area_type(s.attach_kind),
            code: s.code,
            name: s.name,
            male: s.male,
            female: s.female,
            therapeutic: s.first_level,
            is_multiple_lpu_speciality: false,
            is_complaint_speciality: false,
            first_level: s.first_level,
            attached_elsewhere,
        });
    }
    Ok(serde_json::to_value(list).expect("serialisable"))
}

/// Checks that `patient` may see `speciality`, directly or through `referral_id`; returns the
/// referral used, if any.
pub(crate) async fn access(
    st: &Store,
    patient: &PatientRow,
    spec: &SpecialityRow,
    referral_id: Option<u64>,
    today: Date,
) -> Result<Option<i64>, ApiError> {
    if !sex_allows(patient, spec) {
        return Err(ApiError::domain(
            code::NOT_FOR_SEX,
            format!("{}: приём только мужчин или только женщин", spec.name),
        ));
    }
    if !age_allows(patient, spec, today) {
        let text = match (spec.min_age, spec.max_age) {
            (Some(min), _) => format!("К врачу «{}» записывают с {min} лет", spec.name),
            (None, Some(max)) => format!("К врачу «{}» записывают детей до {} лет", spec.name, max + 1),
            (None, None) => format!("К врачу «{}» по возрасту нельзя", spec.name),
        };
        return Err(ApiError::domain(code::AGE_LIMIT, text));
    }
    if spec.first_level {
        return Ok(None);
    }
    let Some(rid) = referral_id else {
        let text = match spec.ldp {
            Some(_) => format!("На «{}» нужно направление", spec.name),
            None => format!("К врачу «{}» нужно направление", spec.name),
        };
        return Err(ApiError::domain(code::REFERRAL_REQUIRED, text));
    };
    let r = store::referral(&st.pool, rid as i64, &patient.enp)
        .await?
        .filter(|r| r.speciality_code == spec.code)
        .ok_or_else(|| ApiError::domain(code::REFERRAL_REQUIRED, "Направление не найдено"))?;
    let (from, until) = (store::date(&r.start_date)?, store::date(&r.end_date)?);
    if today < from || today > until {
        return Err(ApiError::domain(
            code::REFERRAL_EXPIRED,
            format!("Срок направления № {} истёк", r.number),
        ));
    }
    Ok(Some(r.id))
}

async fn doctor_info(
    st: &Store,
    d: &DoctorRow,
    spec: &SpecialityRow,
    now: Now,
) -> Result<DoctorInfo, ApiError> {
    let free = store::free_slots(&st.pool, d.id, now.utc_minutes()).await?;
    let lpu = store::lpu(&st.pool, d.lpu_id).await?;
    let room = match free.first() {
        Some(s) => Some(Room {
            id: d.complex_resource_id as u64,
            number: d.room.clone(),
            lpu_id: d.lpu_id as u32,
            lpu_short_name: lpu.as_ref().map(|l| l.short_name.clone()).unwrap_or_default(),
            // One address point (building) per branch in the demo: its id is the branch's.
            address_point_id: Some(d.lpu_id as u64),
            default_address: lpu.as_ref().map(|l| l.address.clone()).unwrap_or_default(),
            availability_date: store::date(&s.day)?,
        }),
        None => None,
    };
    // A room for tests and procedures has what it performs (`ldpType`) and no doctor.
    let (main_doctor, reception_type, ldp_type) = match spec.ldp {
        Some(_) => (None, Vec::new(), vec![LdpType { code: spec.code.clone(), name: spec.name.clone() }]),
        None => (
            Some(MainDoctor {
                speciality_name: spec.name.clone(),
                speciality_id: speciality_number(spec)?,
                first_name: d.first_name.clone(),
                last_name: d.last_name.clone(),
                second_name: Some(d.middle_name.clone()),
                meji_id: Some(d.meji_id as u64),
                employee_id: Some(d.id as u64),
            }),
            vec![ReceptionType {
                code: "556".into(),
                name: "Первичный приём".into(),
                primary: true,
                home: false,
            }],
            Vec::new(),
        ),
    };
    Ok(DoctorInfo {
        id: d.id as u64,
        lpu_id: d.lpu_id as u32,
        name: d.full_name(),
        ar_type: 1,
        speciality_change_ability: false,
        ar_speciality_id: Some(speciality_number(spec)?),
        ar_speciality_name: Some(spec.name.clone()),
        main_doctor,
        reception_type,
        ldp_type,
        sampling_type: Vec::new(),
        complex_resource: vec![ComplexResource {
            id: d.complex_resource_id as u64,
            name: format!("Кабинет {}", d.room),
            room,
        }],
        district: false,
        replacement: false,
        nondistrict: true,
        available_by_referral: !spec.first_level,
    })
}

/// A speciality's code as the integer id the wire carries (`mainDoctor.specialityId`,
/// `arSpecialityId`). Codes are numeric in EMIAS; one that is not is a fault in the data.
fn speciality_number(spec: &SpecialityRow) -> Result<u64, ApiError> {
    spec.code.parse().map_err(|_| {
        ApiError::Store(sqlx::Error::Decode(
            format!("speciality code {:?} is not a number", spec.code).into(),
        ))
    })
}

async fn resolve_speciality(
    st: &Store,
    patient: &PatientRow,
    speciality_id: Option<&str>,
    referral_id: Option<u64>,
    appointment_id: Option<u64>,
) -> Result<SpecialityRow, ApiError> {
    let code = match (speciality_id, referral_id, appointment_id) {
        (Some(c), _, _) => c.to_owned(),
        (None, Some(rid), _) => store::referral(&st.pool, rid as i64, &patient.enp)
            .await?
            .map(|r| r.speciality_code)
            .ok_or_else(|| ApiError::domain(code::REFERRAL_REQUIRED, "Направление не найдено"))?,
        (None, None, Some(aid)) => {
            sqlx::query("SELECT speciality_code FROM appointment WHERE id = $1 AND enp = $2 AND active = 1")
                .bind(aid as i64)
                .bind(&patient.enp)
                .fetch_optional(&st.pool)
                .await?
                .map(|r| r.try_get::<String, _>(0))
                .transpose()?
                .ok_or_else(|| ApiError::domain(code::APPOINTMENT_NOT_FOUND, "Запись не найдена"))?
        }
        (None, None, None) => {
            return Err(ApiError::InvalidParams("specialityId or referralId is required".into()));
        }
    };
    store::speciality(&st.pool, &code)
        .await?
        .ok_or_else(|| ApiError::InvalidParams(format!("specialityId: unknown speciality {code}")))
}

/// `clinic`: the caller's clinic and branches (from its token); doctors elsewhere are not listed.
pub async fn doctors(st: &Store, p: &DoctorsParams, now: Now, clinic: &[i64]) -> Result<Value, ApiError> {
    let patient = store::patient(&st.pool, &p.patient.oms_number, p.patient.birth_date).await?;
    let spec =
        resolve_speciality(st, &patient, p.speciality_id.as_deref(), p.referral_id, p.appointment_id).await?;
    // Rescheduling keeps the access the original appointment had.
    if p.appointment_id.is_none() {
        access(st, &patient, &spec, p.referral_id, now.date).await?;
    }
    let lpus = store::all_lpus(&st.pool).await?;
    let home = home_for(&st.pool, &patient, &spec).await?;
    if spec.attach_kind.is_some() && elsewhere(home, &lpus, clinic).is_some() {
        return Err(not_attached(&spec, home, &lpus));
    }
    let mut out = Vec::new();
    let mut any_attached = false;
    for d in store::doctors_by_speciality(&st.pool, &spec.code).await? {
        if attached_to(home, &lpus, d.lpu_id) && clinic.contains(&d.lpu_id) {
            any_attached = true;
            out.push(doctor_info(st, &d, &spec, now).await?);
        }
    }
    if !any_attached && home.is_none() {
        return Err(not_attached(&spec, home, &lpus));
    }
    Ok(serde_json::to_value(out).expect("serialisable"))
}

pub async fn schedule(st: &Store, p: &ScheduleParams, now: Now, clinic: &[i64]) -> Result<Value, ApiError> {
    let patient = store::patient(&st.pool, &p.patient.oms_number, p.patient.birth_date).await?;
    let d = store::doctor(&st.pool, p.available_resource_id as i64)
        .await?
        .ok_or_else(|| ApiError::InvalidParams("availableResourceId: no such resource".into()))?;
    if !clinic.contains(&d.lpu_id) {
        return Err(ApiError::Forbidden(crate::metrics::Refusal::Clinic));
    }
    let spec = store::speciality(&st.pool, &d.speciality_code)
        .await?
        .ok_or_else(|| ApiError::InvalidParams("availableResourceId: resource without speciality".into()))?;
    if p.appointment_id.is_none() {
        access(st, &patient, &spec, p.referral_id, now.date).await?;
    }
    let lpus = store::all_lpus(&st.pool).await?;
    let home = home_for(&st.pool, &patient, &spec).await?;
    if !attached_to(home, &lpus, d.lpu_id) {
        return Err(not_attached(&spec, home, &lpus));
    }
    let info = doctor_info(st, &d, &spec, now).await?;
    let mut days: Vec<ScheduleOfDay> = Vec::new();
    for s in store::free_slots(&st.pool, d.id, now.utc_minutes()).await? {
        let slot = SlotTime { start_time: store::dt(&s.start_time)?, end_time: store::dt(&s.end_time)? };
        let date = store::date(&s.day)?;
        match days.last_mut() {
            Some(day) if day.date == date => day.schedule_by_slot[0].slot.push(slot),
            _ => days.push(ScheduleOfDay {
                date,
                schedule_by_slot: vec![ScheduleBySlot {
                    complex_resource_id: d.complex_resource_id as u64,
                    cabinet_number: d.room.clone(),
                    slot: vec![slot],
                }],
            }),
        }
    }
    Ok(serde_json::to_value(ScheduleInfo { available_resource: info, schedule_of_day: days })
        .expect("serialisable"))
}

/// createAppointment and shiftAppointment (`p.appointment_id` set), for the caller `scope`
/// (its token's key: request ids are the caller's own).
pub async fn book(
    st: &Store,
    p: &BookParams,
    shift: bool,
    now: Now,
    scope: &str,
    clinic: &[i64],
) -> Result<Value, ApiError> {
    let method = if shift { "shiftAppointment" } else { "createAppointment" };
    if shift && p.appointment_id.is_none() {
        return Err(ApiError::InvalidParams("appointmentId is required".into()));
    }
    let key = p.request_id.as_deref().map(|rid| store::RequestKey::new(scope, rid, method, p));
    let (_guard, mut tx) = match open_write(st, key.as_ref()).await? {
        Opened::Fresh(guard, tx) => (guard, tx),
        Opened::Answered(previous) => return replay(previous),
    };
    let outcome = book_in(st, &mut tx, p, shift, now, clinic).await;
    finish_write(tx, key.as_ref(), outcome).await
}

/// A write's transaction, opened under its request key (the writer's guard with it), or the
/// answer that request was given before: a retry gets the first answer and changes nothing.
pub enum Opened<'a> {
    Fresh(Option<tokio::sync::MutexGuard<'a, ()>>, store::Tx),
    Answered(Value),
}

impl std::fmt::Debug for Opened<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Opened::Fresh(..) => "Opened::Fresh",
            Opened::Answered(_) => "Opened::Answered",
        })
    }
}

/// Opens a write for [`finish_write`]: holds the request key, looks for an earlier answer,
/// and marks where a refused attempt is undone to ([`store::begin_attempt`]).
pub async fn open_write<'a>(st: &'a Store, key: Option<&store::RequestKey>) -> Result<Opened<'a>, ApiError> {
    let (guard, mut tx) = match key {
        Some(k) => st.begin_keyed(&k.lock_name()).await?,
        None => st.begin_write().await?,
    };
    if let Some(k) = key
        && let Some(previous) = store::idempotent(&mut tx, k).await?
    {
        return Ok(Opened::Answered(previous));
    }
    store::begin_attempt(&mut tx).await?;
    Ok(Opened::Fresh(guard, tx))
}

/// A remembered response: the stored result, or the stored error again.
pub fn replay(previous: Value) -> Result<Value, ApiError> {
    if let Some(e) = previous.get("error") {
        return match serde_json::from_value::<protocol::RpcError>(e.clone()) {
            Ok(e) => Err(ApiError::Replayed(Box::new(e))),
            Err(_) => Err(ApiError::domain(code::INTERNAL, "stored response unreadable")),
        };
    }
    Ok(previous.get("result").cloned().unwrap_or(Value::Null))
}

/// Commits a write and what it answered (under its request key), or rolls it back. Domain
/// errors are remembered too (after undoing the attempt, see [`store::begin_attempt`]), so a
/// retry cannot succeed where the first attempt failed. The caller still holds the writer's
/// guard.
pub async fn finish_write(
    mut tx: store::Tx,
    key: Option<&store::RequestKey>,
    outcome: Result<Value, ApiError>,
) -> Result<Value, ApiError> {
    match outcome {
        Ok(result) => {
            if let Some(k) = key {
                store::remember(&mut tx, k, &json!({ "result": result })).await?;
            }
            tx.commit().await?;
            Ok(result)
        }
        Err(e @ ApiError::Domain { .. }) => {
            // Undo the attempt's partial writes but keep the transaction (and on PostgreSQL
            // its advisory lock), so no retry slips in before the refusal is remembered.
            store::undo_attempt(&mut tx).await?;
            if let Some(k) = key {
                store::remember(&mut tx, k, &json!({ "error": e.to_rpc() })).await?;
            }
            tx.commit().await?;
            Err(e)
        }
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    }
}

pub(crate) async fn book_in(
    st: &Store,
    tx: &mut store::Tx,
    p: &BookParams,
    shift: bool,
    now: Now,
    clinic: &[i64],
) -> Result<Value, ApiError> {
    let patient = store::patient(&mut **tx, &p.patient.oms_number, p.patient.birth_date).await?;
    let d = store::doctor(&mut **tx, p.available_resource_id as i64)
        .await?
        .ok_or_else(|| ApiError::InvalidParams("availableResourceId: no such resource".into()))?;
    if !clinic.contains(&d.lpu_id) {
        return Err(ApiError::Forbidden(crate::metrics::Refusal::Clinic));
    }
    let spec = store::speciality(&mut **tx, &d.speciality_code)
        .await?
        .ok_or_else(|| ApiError::InvalidParams("availableResourceId: resource without speciality".into()))?;
    let lpus = store::all_lpus(&mut **tx).await?;
    let home = home_for(&mut **tx, &patient, &spec).await?;
    if !attached_to(home, &lpus, d.lpu_id) {
        return Err(not_attached(&spec, home, &lpus));
    }
    let old = if shift {
        let aid = p.appointment_id.expect("checked by the caller") as i64;
        let r = sqlx::query(&st.for_update(
            "SELECT id, speciality_code, referral_id FROM appointment WHERE id = $1 AND enp = $2 AND active = 1",
        ))
            .bind(aid)
            .bind(&patient.enp)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| ApiError::domain(code::APPOINTMENT_NOT_FOUND, "Запись не найдена или уже отменена"))?;
        let old_spec: String = r.try_get(1)?;
        if old_spec != spec.code {
            return Err(ApiError::InvalidParams(
                "availableResourceId: a different speciality than the appointment".into(),
            ));
        }
        Some((aid, r.try_get::<Option<i64>, _>(2)?))
    } else {
        None
    };
    let referral = match old {
        Some((_, referral)) => referral,
        None => access(st, &patient, &spec, p.referral_id, now.date).await?,
    };
    let start = p.start_time.utc_minutes();
    let end = p.end_time.utc_minutes();
    // On PostgreSQL the slot row is locked: bookers of one slot on any node go one at a time,
    // and each sees what the one before it committed.
    let slot =
        sqlx::query(&st.for_update(
            "SELECT id, blocked FROM slot WHERE doctor_id = $1 AND start_utc = $2 AND end_utc = $3",
        ))
        .bind(d.id)
        .bind(start)
        .bind(end)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| ApiError::InvalidParams("startTime: the doctor has no such slot".into()))?;
    let (slot_id, blocked): (i64, i64) = (slot.try_get(0)?, slot.try_get(1)?);
    if blocked != 0 || start <= now.utc_minutes() {
        return Err(ApiError::domain(code::SLOT_TAKEN, "Это время уже занято"));
    }
    let holder = sqlx::query("SELECT id, enp FROM appointment WHERE slot_id = $1 AND active = 1")
        .bind(slot_id)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(h) = holder {
        let (id, enp): (i64, String) = (h.try_get(0)?, h.try_get(1)?);
        if enp == patient.enp && !shift {
            // The caller's own booking, made by an attempt whose answer was lost: that is
            // success, never SLOT_TAKEN.
            let created = AppointmentCreated {
                appointment_id: id as u64,
                appointment_number: appointment_number(d.lpu_id, id),
            };
            return Ok(serde_json::to_value(created).expect("serialisable"));
        }
        return Err(ApiError::domain(code::SLOT_TAKEN, "Это время только что заняли"));
    }
    let old_id = old.map_or(-1, |(id, _)| id);
    let same_spec = sqlx::query(
        "SELECT COUNT(*) FROM appointment WHERE enp = $1 AND active = 1 AND speciality_code = $2 AND id <> $3 AND end_utc > $4",
    )
    .bind(&patient.enp)
    .bind(&spec.code)
    .bind(old_id)
    .bind(now.utc_minutes())
    .fetch_one(&mut **tx)
    .await?
    .try_get::<i64, _>(0)?;
    if same_spec > 0 {
        return Err(ApiError::domain(code::ALREADY_BOOKED, format!("У вас уже есть запись: {}", spec.name)));
    }
    let overlap = sqlx::query(
        "SELECT COUNT(*) FROM appointment WHERE enp = $1 AND active = 1 AND id <> $2 AND start_utc < $3 AND end_utc > $4",
    )
    .bind(&patient.enp)
    .bind(old_id)
    .bind(end)
    .bind(start)
    .fetch_one(&mut **tx)
    .await?
    .try_get::<i64, _>(0)?;
    if overlap > 0 {
        return Err(ApiError::domain(code::TIME_CONFLICT, "На это время у вас уже есть запись"));
    }
    if let Some((aid, _)) = old {
        // Only while still active: a cancel that won the race leaves nothing to move.
        let n = sqlx::query("UPDATE appointment SET active = 0 WHERE id = $1 AND enp = $2 AND active = 1")
            .bind(aid)
            .bind(&patient.enp)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(ApiError::domain(code::APPOINTMENT_NOT_FOUND, "Запись не найдена или уже отменена"));
        }
    }
    let inserted = sqlx::query(
        "INSERT INTO appointment (enp, slot_id, doctor_id, speciality_code, start_utc, end_utc, active, referral_id)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7) RETURNING id",
    )
    .bind(&patient.enp)
    .bind(slot_id)
    .bind(d.id)
    .bind(&spec.code)
    .bind(start)
    .bind(end)
    .bind(referral)
    .fetch_one(&mut **tx)
    .await;
    let id: i64 = match inserted {
        Ok(r) => r.try_get(0)?,
        Err(e) if is_unique_violation(&e) => {
            return Err(ApiError::domain(code::SLOT_TAKEN, "Это время только что заняли"));
        }
        Err(e) => return Err(e.into()),
    };
    if old.is_none() {
        // Booked another way: no more offers for this speciality.
        crate::waitlist::booked_elsewhere(tx, &patient.enp, &spec.code).await?;
    }
    if old.is_none() {
        // Booked another way: no more offers for this speciality.
        crate::waitlist::booked_elsewhere(tx, &patient.enp, &spec.code).await?;
    }
    if let Some((aid, _)) = old {
        // The slot the move left is somebody's on the waiting list, perhaps.
        let slot: i64 = sqlx::query("SELECT slot_id FROM appointment WHERE id = $1")
            .bind(aid)
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?;
        crate::waitlist::offer_freed(tx, slot, now).await?;
    }
    let created = AppointmentCreated {
        appointment_id: id as u64,
        appointment_number: appointment_number(d.lpu_id, id),
    };
    Ok(serde_json::to_value(created).expect("serialisable"))
}

pub fn appointment_number(lpu: i64, id: i64) -> String {
    format!("{lpu}-{id:06}")
}

/// cancelAppointment; the freed slot is offered to the waiting list ([`crate::waitlist`]).
pub async fn cancel(st: &Store, p: &CancelParams, now: Now, scope: &str) -> Result<Value, ApiError> {
    let key = p.request_id.as_deref().map(|rid| store::RequestKey::new(scope, rid, "cancelAppointment", p));
    let (_guard, mut tx) = match open_write(st, key.as_ref()).await? {
        Opened::Fresh(guard, tx) => (guard, tx),
        Opened::Answered(previous) => return replay(previous),
    };
    let outcome = async {
        let patient = store::patient(&mut *tx, &p.patient.oms_number, p.patient.birth_date).await?;
        let n = sqlx::query("UPDATE appointment SET active = 0 WHERE id = $1 AND enp = $2 AND active = 1")
            .bind(p.appointment_id as i64)
            .bind(&patient.enp)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(ApiError::domain(code::APPOINTMENT_NOT_FOUND, "Запись не найдена или уже отменена"));
        }
        let slot: i64 = sqlx::query("SELECT slot_id FROM appointment WHERE id = $1")
            .bind(p.appointment_id as i64)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        crate::waitlist::offer_freed(&mut tx, slot, now).await?;
        Ok(json!("OK"))
    }
    .await;
    finish_write(tx, key.as_ref(), outcome).await
}

pub async fn receptions(st: &Store, p: &PatientParams, now: Now) -> Result<Value, ApiError> {
    let patient = store::patient(&st.pool, &p.oms_number, p.birth_date).await?;
    let rows = sqlx::query(
        "SELECT a.id, s.start_time, s.end_time, d.lpu_id, d.last_name, d.first_name, d.middle_name, d.room,
                sp.name, sp.code, sp.ldp_kind, sp.preparation
         FROM appointment a JOIN slot s ON s.id = a.slot_id JOIN doctor d ON d.id = a.doctor_id
         JOIN speciality sp ON sp.code = a.speciality_code
         WHERE a.enp = $1 AND a.active = 1 AND a.end_utc > $2 ORDER BY a.start_utc",
    )
    .bind(&patient.enp)
    .bind(now.utc_minutes())
    .fetch_all(&st.pool)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let lpu_id: i64 = r.try_get(3)?;
        let l = store::lpu(&st.pool, lpu_id).await?;
        let id: i64 = r.try_get(0)?;
        let fio = format!(
            "{} {} {}",
            r.try_get::<String, _>(4)?,
            r.try_get::<String, _>(5)?,
            r.try_get::<String, _>(6)?
        );
        let (code, name): (String, String) = (r.try_get(9)?, r.try_get(8)?);
        let to_ldp = ldp_of(r.try_get(10)?, r.try_get(11)?, &code, &name);
        out.push(Reception {
            id: id as u64,
            kind: "RECEPTION".into(),
            start_time: store::dt(&r.try_get::<String, _>(1)?)?,
            end_time: store::dt(&r.try_get::<String, _>(2)?)?,
            name_lpu: l.as_ref().map(|l| l.name.clone()).unwrap_or_default(),
            lpu_address: l.as_ref().map(|l| l.address.clone()).unwrap_or_default(),
            room_number: r.try_get(7)?,
            to_doctor: ToDoctor {
                doctor_fio: fio.trim().to_owned(),
                speciality_name: name,
                speciality_id: code,
                reception_type_id: to_ldp.is_none().then(|| "556".into()),
            },
            referral: None,
            appointment_number: Some(appointment_number(lpu_id, id)),
            to_ldp,
        });
    }
    Ok(serde_json::to_value(out).expect("serialisable"))
}

pub async fn referrals(st: &Store, p: &PatientParams) -> Result<Value, ApiError> {
    let patient = store::patient(&st.pool, &p.oms_number, p.birth_date).await?;
    let rows = sqlx::query(
        "SELECT r.id, r.number, r.start_date, r.end_date, r.lpu_id, r.speciality_code, sp.name,
                (SELECT COUNT(*) FROM appointment a WHERE a.referral_id = r.id AND a.active = 1),
                sp.ldp_kind, sp.preparation
         FROM referral r JOIN speciality sp ON sp.code = r.speciality_code WHERE r.enp = $1 ORDER BY r.id",
    )
    .bind(&patient.enp)
    .fetch_all(&st.pool)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let lpu_id: i64 = r.try_get(4)?;
        let l = store::lpu(&st.pool, lpu_id).await?;
        let (code, name): (String, String) = (r.try_get(5)?, r.try_get(6)?);
        let to_ldp = ldp_of(r.try_get(8)?, r.try_get(9)?, &code, &name);
        out.push(ReferralInfo {
            id: r.try_get::<i64, _>(0)? as u64,
            number: r.try_get(1)?,
            start_time: store::date(&r.try_get::<String, _>(2)?)?,
            end_time: store::date(&r.try_get::<String, _>(3)?)?,
            kind: if to_ldp.is_some() { protocol::REF_TO_LDP } else { protocol::REF_TO_DOCTOR }.into(),
            lpu_id: lpu_id as u32,
            lpu_name: l.map(|l| l.name).unwrap_or_default(),
            to_doctor: ReferralToDoctor {
                speciality_id: code,
                speciality_name: name,
                reception_type_id: to_ldp.is_none().then(|| "556".into()),
            },
            count_active_appointment: r.try_get::<i64, _>(7)? as u32,
            to_ldp,
        });
    }
    Ok(serde_json::to_value(out).expect("serialisable"))
}

/// `toLdp` of a referral or appointment whose speciality row is a test or procedure.
fn ldp_of(kind: Option<String>, preparation: Option<String>, code: &str, name: &str) -> Option<ToLdp> {
    let kind = domain::LdpKind::parse(kind.as_deref()?)?;
    Some(ToLdp {
        ldp_type_id: code.to_owned(),
        ldp_type_name: name.to_owned(),
        ldp_kind: kind.as_str().to_owned(),
        preparation: preparation.unwrap_or_default(),
    })
}
