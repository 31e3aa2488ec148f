//! The session's `CentralCall`s as typed calls on the wire, and their results back into
//! domain types.

use domain::{
    Appointment, AppointmentId, BirthDate, Cabinet, Doctor, DoctorId, FullName, LdpKind, LpuId, Patient,
    QueueTicket, Referral, ReferralId, ScheduleDay, Slot, Speciality, WaitlistOffer, WaitlistPlace,
};
use protocol::{
    AppointmentCreated, BookParams, CancelParams, DoctorInfo, DoctorsParams, EnqueueParams,
    PatientInfoParams, PatientParams, Reception, ReferralInfo, ScheduleInfo, ScheduleParams, SpecialityInfo,
    SyncParams, SyncedTicket, ToLdp, WaitlistJoinParams, WaitlistParams, call,
};

use super::client::{CallError, Client};
use crate::session::{CentralCall, Credentials, DoctorQuery, Reply};

/// The reception type the kiosk books (a first visit); EMIAS's code for it.
const FIRST_VISIT: &str = "556";

fn who(c: &Credentials) -> PatientParams {
    PatientParams { oms_number: c.enp, birth_date: c.birth_date.expose() }
}

fn speciality(s: SpecialityInfo) -> Speciality {
    Speciality {
        code: s.code,
        name: s.name,
        first_level: s.first_level,
        male: s.male,
        female: s.female,
        // "№ 9" stays on one line.
        attached_elsewhere: s
            .attached_elsewhere
            .map(|a| format!("{}, {}", a.name, a.address).replace("№ ", "№\u{a0}")),
    }
}

fn doctor(d: DoctorInfo) -> Doctor {
    let cr = d.complex_resource.into_iter().next();
    let room = cr.as_ref().and_then(|c| c.room.clone());
    // A doctor names the speciality; a room for tests names what it performs (and has no
    // doctor). A resource with neither still books: it is named by `arSpeciality*`.
    let room_only = d.main_doctor.is_none();
    let (speciality_code, speciality_name) = match (d.main_doctor, d.ldp_type.into_iter().next()) {
        (Some(m), _) => (m.speciality_id.to_string(), m.speciality_name),
        (None, Some(t)) => (t.code, t.name),
        (None, None) => (
            d.ar_speciality_id.map(|i| i.to_string()).unwrap_or_default(),
            d.ar_speciality_name.unwrap_or_default(),
        ),
    };
    Doctor {
        id: DoctorId(d.id),
        name: d.name,
        room_only,
        speciality_code,
        speciality_name,
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

/// A test or procedure as the session knows it: its kind and how to prepare.
fn ldp(t: Option<ToLdp>) -> (Option<LdpKind>, String) {
    match t {
        Some(t) => (LdpKind::parse(&t.ldp_kind).or(Some(LdpKind::Diagnostic)), t.preparation),
        None => (None, String::new()),
    }
}

fn appointment(r: Reception) -> Appointment {
    let (ldp, preparation) = ldp(r.to_ldp);
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
        ldp,
        preparation,
    }
}

fn referral(r: ReferralInfo) -> Referral {
    // A server that sends REF_TO_LDP without our `toLdp` still gets a test, of no known kind.
    let (ldp, _) = match r.to_ldp {
        None if r.kind == protocol::REF_TO_LDP => (Some(LdpKind::Diagnostic), String::new()),
        t => ldp(t),
    };
    Referral {
        id: ReferralId(r.id),
        number: r.number,
        speciality_code: r.to_doctor.speciality_id,
        speciality_name: r.to_doctor.speciality_name,
        valid_from: r.start_time,
        valid_until: r.end_time,
        lpu_name: r.lpu_name,
        active_appointments: r.count_active_appointment,
        ldp,
    }
}

/// The parameters naming the doctors the patient chooses between.
fn doctors_params(cr: &Credentials, q: &DoctorQuery, rescheduling: Option<AppointmentId>) -> DoctorsParams {
    let (speciality_id, referral_id) = match q {
        DoctorQuery::Speciality { code, .. } => (Some(code.clone()), None),
        DoctorQuery::Referral { id, .. } => (None, Some(id.0)),
    };
    DoctorsParams { patient: who(cr), speciality_id, referral_id, appointment_id: rescheduling.map(|a| a.0) }
}

/// A booking of `slot` with `doctor`; a referral, or else a first visit.
fn book_params(
    cr: &Credentials,
    doctor: DoctorId,
    slot: &Slot,
    referral: Option<ReferralId>,
    key: &str,
) -> BookParams {
    BookParams {
        patient: who(cr),
        available_resource_id: doctor.0,
        complex_resource_id: slot.complex_resource_id,
        start_time: slot.start,
        end_time: slot.end,
        reception_type_id: referral.is_none().then(|| FIRST_VISIT.to_owned()),
        referral_id: referral.map(|r| r.0),
        appointment_id: None,
        request_id: Some(key.to_owned()),
    }
}

pub async fn identify(c: &Client, cr: &Credentials) -> Result<Patient, CallError> {
    let info = c.call::<call::GetPatientInfo3>(&PatientInfoParams::new(who(cr))).await?;
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

/// The first slot a waiting list holds for the patient, if any. Asked right after
/// identification; a server without waiting lists (or a fault) means no offer, never a refusal.
async fn offer(c: &Client, cr: &Credentials) -> Option<WaitlistOffer> {
    let entries = c.call::<call::GetWaitingList>(&who(cr)).await.ok()?;
    entries.into_iter().find_map(|e| {
        let o = e.offer?;
        Some(WaitlistOffer {
            entry: e.waiting_list_id,
            speciality_name: e.speciality_name,
            doctor_name: o.doctor_name,
            address: o.lpu_address,
            slot: Slot {
                start: o.start_time,
                end: o.end_time,
                cabinet: o.room_number,
                complex_resource_id: o.complex_resource_id,
            },
        })
    })
}

async fn receptions(c: &Client, cr: &Credentials) -> Result<Vec<Appointment>, CallError> {
    let list = c.call::<call::GetAppointmentReceptionsByPatient>(&who(cr)).await?;
    Ok(list.into_iter().map(appointment).collect())
}

/// Runs one session call. `request_id` is the idempotency key of a write.
pub async fn run(
    c: &Client,
    cr: &Credentials,
    call: &CentralCall,
    request_id: &str,
) -> Result<Reply, CallError> {
    Ok(match call {
        CentralCall::Identify => {
            let patient = identify(c, cr).await?;
            match offer(c, cr).await {
                Some(o) => Reply::IdentifiedWithOffer(patient, o),
                None => Reply::Identified(patient),
            }
        }
        CentralCall::JoinWaitlist { speciality_code, part } => {
            let p = WaitlistJoinParams {
                patient: who(cr),
                speciality_id: speciality_code.clone(),
                part: part.as_str().into(),
                weekdays: Vec::new(),
                request_id: Some(request_id.into()),
            };
            let e = c.call::<call::JoinWaitingList>(&p).await?;
            Reply::Joined(WaitlistPlace {
                entry: e.waiting_list_id,
                speciality_name: e.speciality_name,
                position: e.position,
            })
        }
        CentralCall::AcceptOffer { entry } => {
            let p = WaitlistParams {
                patient: who(cr),
                waiting_list_id: *entry,
                request_id: Some(request_id.into()),
            };
            let created = c.call::<call::AcceptWaitingListOffer>(&p).await?;
            Reply::Booked(booked(c, cr, created).await?)
        }
        CentralCall::DeclineOffer { entry } => {
            let p = WaitlistParams {
                patient: who(cr),
                waiting_list_id: *entry,
                request_id: Some(request_id.into()),
            };
            c.call::<call::DeclineWaitingListOffer>(&p).await?;
            Reply::Declined
        }
        CentralCall::Specialities => {
            let l = c.call::<call::GetSpecialitiesInfo>(&who(cr)).await?;
            Reply::Specialities(l.into_iter().map(speciality).collect())
        }
        CentralCall::Doctors { query, rescheduling } => {
            let l = c.call::<call::GetDoctorsInfo>(&doctors_params(cr, query, *rescheduling)).await?;
            Reply::Doctors(l.into_iter().map(doctor).collect())
        }
        CentralCall::Schedule { doctor, complex_resource_id, query, rescheduling } => {
            let q = doctors_params(cr, query, *rescheduling);
            let p = ScheduleParams {
                patient: q.patient,
                available_resource_id: doctor.0,
                complex_resource_id: *complex_resource_id,
                speciality_id: q.speciality_id,
                referral_id: q.referral_id,
                appointment_id: q.appointment_id,
            };
            Reply::Schedule(schedule(c.call::<call::GetAvailableResourceScheduleInfo>(&p).await?))
        }
        CentralCall::CreateAppointment { doctor, slot, referral } => {
            let p = book_params(cr, *doctor, slot, *referral, request_id);
            let created = c.call::<call::CreateAppointment>(&p).await?;
            Reply::Booked(booked(c, cr, created).await?)
        }
        CentralCall::ShiftAppointment { appointment, doctor, slot } => {
            let p = BookParams {
                appointment_id: Some(appointment.0),
                reception_type_id: Some(FIRST_VISIT.to_owned()),
                ..book_params(cr, *doctor, slot, None, request_id)
            };
            let created = c.call::<call::ShiftAppointment>(&p).await?;
            Reply::Booked(booked(c, cr, created).await?)
        }
        CentralCall::CancelAppointment { appointment } => {
            let p = CancelParams {
                patient: who(cr),
                appointment_id: appointment.0,
                request_id: Some(request_id.into()),
            };
            c.call::<call::CancelAppointment>(&p).await?;
            Reply::Cancelled
        }
        CentralCall::Appointments => Reply::Appointments(receptions(c, cr).await?),
        CentralCall::Referrals => {
            let l = c.call::<call::GetReferralsInfo>(&who(cr)).await?;
            Reply::Referrals(l.into_iter().map(referral).collect())
        }
        // The queue calls need the clinic and kiosk; the executor makes them (the ticket with
        // its offline path).
        CentralCall::EnqueueWalkIn | CentralCall::QueueOutlook => {
            return Err(CallError::BadReply("queue calls go through the executor".into()));
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
    let p = EnqueueParams { patient: who(cr), lpu_id: lpu, kiosk_id: kiosk, request_id: request_id.into() };
    Ok(c.call::<call::EnqueueWalkIn>(&p).await?.into())
}

/// The duty queue as it stands: people waiting and what a ticket taken now would wait.
pub async fn outlook(c: &Client, lpu: u32) -> Result<Reply, CallError> {
    let st = c.call::<call::GetQueueState>(&protocol::LpuParams { lpu_id: lpu }).await?;
    Ok(Reply::Outlook(crate::session::QueueOutlook {
        waiting: st.waiting,
        wait: st.next_wait.map(|w| (w.minutes, w.low, w.high)),
    }))
}

pub async fn sync(c: &Client, p: &SyncParams) -> Result<Vec<SyncedTicket>, CallError> {
    c.call::<call::SyncOfflineTickets>(p).await
}
