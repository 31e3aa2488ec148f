//! Typed calls: the session's `CentralCall`s on the wire and back into domain types.

use serde_json::json;

use domain::wire::{
    self, AppointmentCreated, DoctorInfo, PatientInfo, Reception, ReferralInfo, ScheduleInfo, SpecialityInfo,
    SyncedTicket, Ticket,
};
use domain::{
    Appointment, AppointmentId, BirthDate, Cabinet, Doctor, DoctorId, FullName, LpuId, Patient, QueueTicket,
    Referral, ReferralId, ScheduleDay, Slot, Speciality, TicketNumber,
};

use super::client::{CallError, Client, Endpoint};
use crate::session::{CentralCall, Credentials, DoctorQuery, Reply};

fn who(c: &Credentials) -> serde_json::Value {
    json!({"omsNumber": c.enp.expose(), "birthDate": c.birth_date.expose()})
}

fn with(c: &Credentials, extra: serde_json::Value) -> serde_json::Value {
    let mut v = who(c);
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

pub fn queue_ticket(t: Ticket, offline: bool) -> QueueTicket {
    QueueTicket {
        ticket_id: t.ticket_id,
        number: TicketNumber(t.ticket_number),
        issued_at: t.issued_at,
        position: t.position,
        estimated_wait_minutes: t.estimated_wait_minutes,
        offline,
    }
}

fn speciality(s: SpecialityInfo) -> Speciality {
    Speciality { code: s.code, name: s.name, first_level: s.first_level, male: s.male, female: s.female }
}

fn doctor(d: DoctorInfo) -> Doctor {
    let cr = d.complex_resource.into_iter().next();
    let room = cr.as_ref().and_then(|c| c.room.clone());
    Doctor {
        id: DoctorId(d.id),
        name: d.name,
        speciality_code: d.main_doctor.speciality_id,
        speciality_name: d.main_doctor.speciality_name,
        lpu: LpuId(d.lpu_id),
        nearest_free: room.as_ref().map(|r| r.availability_date),
        complex_resource_id: cr.map(|c| c.id),
        cabinet: room.map(|r| Cabinet { number: r.number, lpu: LpuId(r.lpu_id), address: r.default_address }),
    }
}

fn schedule(s: ScheduleInfo) -> Vec<ScheduleDay> {
    s.schedule_of_day
        .into_iter()
        .map(|d| ScheduleDay {
            date: d.date,
            slots: d
                .schedule_by_slot
                .into_iter()
                .flat_map(|b| {
                    let (cr, cab) = (b.complex_resource_id, b.cabinet_number);
                    b.slot.into_iter().map(move |s| Slot {
                        start: s.start_time,
                        end: s.end_time,
                        cabinet: cab.clone(),
                        complex_resource_id: cr,
                    })
                })
                .collect(),
        })
        .collect()
}

fn appointment(r: Reception) -> Appointment {
    Appointment {
        id: AppointmentId(r.id),
        number: r.appointment_number.unwrap_or_else(|| r.id.to_string()),
        start: r.start_time,
        end: r.end_time,
        doctor_name: r.to_doctor.doctor_fio,
        speciality_code: r.to_doctor.speciality_id,
        speciality_name: r.to_doctor.speciality_name,
        room: r.room_number,
        lpu_name: r.name_lpu,
        lpu_address: r.lpu_address,
    }
}

fn referral(r: ReferralInfo) -> Referral {
    Referral {
        id: ReferralId(r.id),
        number: r.number,
        speciality_code: r.to_doctor.speciality_id,
        speciality_name: r.to_doctor.speciality_name,
        valid_from: r.start_time,
        valid_until: r.end_time,
        lpu_name: r.lpu_name,
        active_appointments: r.count_active_appointment,
    }
}

/// The parameters naming the doctors the patient chooses between.
fn query_params(q: &DoctorQuery, rescheduling: Option<AppointmentId>) -> serde_json::Value {
    let mut v = match q {
        DoctorQuery::Speciality { code, .. } => json!({"specialityId": code}),
        DoctorQuery::Referral { id, .. } => json!({"referralId": id.0}),
    };
    if let (Some(a), Some(o)) = (rescheduling, v.as_object_mut()) {
        o.insert("appointmentId".into(), json!(a.0));
    }
    v
}

pub async fn identify(c: &Client, cr: &Credentials) -> Result<Patient, CallError> {
    let info: PatientInfo = c
        .call(
            Endpoint::Booking,
            "getPatientInfo3",
            &with(cr, json!({"typeAttach": [0, 1, 2], "onlyMoscowPolicy": false})),
        )
        .await?;
    let name = info.patient.as_ref().map_or_else(FullName::default, |n| {
        FullName::new(&n.last_name, &n.first_name, n.middle_name.as_deref())
    });
    Ok(Patient {
        enp: cr.enp,
        birth_date: BirthDate(cr.birth_date.expose()),
        name,
        sex: info.patient.and_then(|n| n.sex),
        attached_lpu: info.attachments.attachment.first().map(|a| LpuId(a.lpu.id)),
    })
}

async fn receptions(c: &Client, cr: &Credentials) -> Result<Vec<Appointment>, CallError> {
    let list: Vec<Reception> =
        c.call(Endpoint::Booking, "getAppointmentReceptionsByPatient", &who(cr)).await.map(wire_list)?;
    Ok(list.into_iter().map(appointment).collect())
}

fn wire_list<T>(v: WireList<T>) -> Vec<T> {
    v.0
}

/// A list some servers send as `{}` when empty.
#[derive(Debug)]
struct WireList<T>(Vec<T>);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for WireList<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        wire::list_or_empty_object(d).map(WireList)
    }
}

/// Runs one session call. `request_id` is the idempotency key of a write.
pub async fn run(
    c: &Client,
    cr: &Credentials,
    call: &CentralCall,
    request_id: &str,
) -> Result<Reply, CallError> {
    Ok(match call {
        CentralCall::Identify => Reply::Identified(identify(c, cr).await?),
        CentralCall::Specialities => {
            let l: WireList<SpecialityInfo> =
                c.call(Endpoint::Booking, "getSpecialitiesInfo", &who(cr)).await?;
            Reply::Specialities(l.0.into_iter().map(speciality).collect())
        }
        CentralCall::Doctors { query, rescheduling } => {
            let l: WireList<DoctorInfo> = c
                .call(Endpoint::Booking, "getDoctorsInfo", &with(cr, query_params(query, *rescheduling)))
                .await?;
            Reply::Doctors(l.0.into_iter().map(doctor).collect())
        }
        CentralCall::Schedule { doctor, complex_resource_id, query, rescheduling } => {
            let mut p = with(cr, query_params(query, *rescheduling));
            if let Some(o) = p.as_object_mut() {
                o.insert("availableResourceId".into(), json!(doctor.0));
                if let Some(id) = complex_resource_id {
                    o.insert("complexResourceId".into(), json!(id));
                }
            }
            let s: ScheduleInfo = c.call(Endpoint::Booking, "getAvailableResourceScheduleInfo", &p).await?;
            Reply::Schedule(schedule(s))
        }
        CentralCall::CreateAppointment { doctor, slot, referral } => {
            let mut extra = json!({"availableResourceId": doctor.0, "complexResourceId": slot.complex_resource_id,
                "startTime": slot.start, "endTime": slot.end, "requestId": request_id});
            if let Some(o) = extra.as_object_mut() {
                match referral {
                    Some(r) => o.insert("referralId".into(), json!(r.0)),
                    None => o.insert("receptionTypeId".into(), json!("556")),
                };
            }
            let created: AppointmentCreated =
                c.call(Endpoint::Booking, "createAppointment", &with(cr, extra)).await?;
            Reply::Booked(booked(c, cr, created).await?)
        }
        CentralCall::ShiftAppointment { appointment, doctor, slot } => {
            let extra = json!({"appointmentId": appointment.0, "availableResourceId": doctor.0,
                "complexResourceId": slot.complex_resource_id, "startTime": slot.start, "endTime": slot.end,
                "receptionTypeId": "556", "requestId": request_id});
            let created: AppointmentCreated =
                c.call(Endpoint::Booking, "shiftAppointment", &with(cr, extra)).await?;
            Reply::Booked(booked(c, cr, created).await?)
        }
        CentralCall::CancelAppointment { appointment } => {
            let extra = json!({"appointmentId": appointment.0, "requestId": request_id});
            let _: serde_json::Value =
                c.call(Endpoint::Booking, "cancelAppointment", &with(cr, extra)).await?;
            Reply::Cancelled
        }
        CentralCall::Appointments => Reply::Appointments(receptions(c, cr).await?),
        CentralCall::Referrals => {
            let l: WireList<ReferralInfo> = c.call(Endpoint::Booking, "getReferralsInfo", &who(cr)).await?;
            Reply::Referrals(l.0.into_iter().map(referral).collect())
        }
        // The queue call needs the clinic and kiosk; the executor makes it (with its offline path).
        CentralCall::EnqueueWalkIn => {
            return Err(CallError::BadReply("enqueueWalkIn goes through the executor".into()));
        }
    })
}

/// The full appointment for a confirmation: what central now holds under that id.
async fn booked(c: &Client, cr: &Credentials, created: AppointmentCreated) -> Result<Appointment, CallError> {
    receptions(c, cr).await?.into_iter().find(|a| a.id.0 == created.appointment_id).ok_or_else(|| {
        CallError::BadReply("the new appointment is not among the patient's appointments".into())
    })
}

pub async fn enqueue(
    c: &Client,
    cr: &Credentials,
    lpu: u32,
    kiosk: u32,
    request_id: &str,
) -> Result<QueueTicket, CallError> {
    let p = with(cr, json!({"lpuId": lpu, "kioskId": kiosk, "requestId": request_id}));
    let t: Ticket = c.call(Endpoint::Queue, "enqueueWalkIn", &p).await?;
    Ok(queue_ticket(t, false))
}

pub async fn sync(c: &Client, p: &wire::SyncParams) -> Result<Vec<SyncedTicket>, CallError> {
    c.call(Endpoint::Queue, "syncOfflineTickets", p).await
}
