//! The clinic side: who can be seen, where and when.
//!
//! These are the kiosk's own shapes; the EMIAS wire shapes (with their optional fields and
//! string-or-number ids) convert into them at the edge.

use serde::{Deserialize, Serialize};

use crate::date::{Date, DateTime};

/// A clinic or branch (EMIAS `lpuId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LpuId(pub u32);

/// An available resource: a doctor's schedule (EMIAS `availableResourceId`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DoctorId(pub u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AppointmentId(pub u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReferralId(pub u64);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Speciality {
    /// EMIAS speciality code, e.g. `"2011"` (therapist).
    pub code: String,
    pub name: String,
    /// Bookable without a referral.
    pub first_level: bool,
    /// Sex limits as EMIAS reports them (`male`/`female` flags).
    pub male: bool,
    pub female: bool,
    /// A dentist or gynaecologist the patient is attached to in another clinic: its name and
    /// address, to say where to go ("Стоматологическая поликлиника № 9, ул. Зелёная, 5").
    #[serde(default)]
    pub attached_elsewhere: Option<String>,
}

/// A test or procedure booked by referral (EMIAS "ЛДП": laboratory, diagnostics,
/// procedures). It is booked with a room or device, not a doctor, and may need preparation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LdpKind {
    /// A laboratory test (blood, urine).
    Lab,
    /// An examination: ECG, ultrasound, X-ray.
    Diagnostic,
    /// A treatment: physiotherapy, injections.
    Procedure,
}

impl LdpKind {
    /// The name on the wire (`toLdp.ldpKind`).
    pub fn as_str(self) -> &'static str {
        match self {
            LdpKind::Lab => "lab",
            LdpKind::Diagnostic => "diagnostic",
            LdpKind::Procedure => "procedure",
        }
    }

    pub fn parse(s: &str) -> Option<LdpKind> {
        match s {
            "lab" => Some(LdpKind::Lab),
            "diagnostic" => Some(LdpKind::Diagnostic),
            "procedure" => Some(LdpKind::Procedure),
            _ => None,
        }
    }
}

/// A room a doctor receives in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cabinet {
    pub number: String,
    pub lpu: LpuId,
    /// Branch address, so the patient goes to the right building.
    pub address: String,
}

/// A doctor's bookable schedule as the patient chooses it, or a room's (a test by referral).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Doctor {
    pub id: DoctorId,
    /// Doctors' names are public information, shown in full on screen. A room's name
    /// ("Процедурный кабинет") when `room_only`.
    pub name: String,
    /// A room or device for tests and procedures, not a doctor: the name is not a person's.
    #[serde(default)]
    pub room_only: bool,
    pub speciality_code: String,
    pub speciality_name: String,
    pub lpu: LpuId,
    /// The nearest day with a free slot, `None` when nothing is free.
    pub nearest_free: Option<Date>,
    pub complex_resource_id: Option<u64>,
    pub cabinet: Option<Cabinet>,
}

/// One free time slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub start: DateTime,
    pub end: DateTime,
    pub cabinet: String,
    pub complex_resource_id: u64,
}

/// A booked appointment as the patient sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: AppointmentId,
    /// The number printed on the ticket and read out at the registry.
    pub number: String,
    pub start: DateTime,
    pub end: DateTime,
    pub doctor_name: String,
    pub speciality_code: String,
    pub speciality_name: String,
    pub room: String,
    pub lpu_name: String,
    pub lpu_address: String,
    /// A test or procedure (then `doctor_name` is the room's name), `None` for a doctor.
    #[serde(default)]
    pub ldp: Option<LdpKind>,
    /// How to prepare, what to bring ("Натощак…"); empty when nothing is needed.
    #[serde(default)]
    pub preparation: String,
}

/// A referral to a specialist who cannot be booked directly, or to a test or procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub id: ReferralId,
    pub number: String,
    pub speciality_code: String,
    pub speciality_name: String,
    pub valid_from: Date,
    pub valid_until: Date,
    pub lpu_name: String,
    /// How many active appointments already use it.
    pub active_appointments: u32,
    /// A test or procedure (`speciality_*` then name it), `None` for a doctor.
    #[serde(default)]
    pub ldp: Option<LdpKind>,
}

impl Referral {
    pub fn valid_on(&self, today: Date) -> bool {
        self.valid_from <= today && today <= self.valid_until
    }
}

/// The part of the day a patient on a waiting list will come at: a morning slot starts before
/// 13:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DayPart {
    Any,
    Morning,
    Afternoon,
}

impl DayPart {
    /// The name on the wire (`joinWaitingList`'s `part`).
    pub fn as_str(self) -> &'static str {
        match self {
            DayPart::Any => "any",
            DayPart::Morning => "morning",
            DayPart::Afternoon => "afternoon",
        }
    }
}

/// A patient's place on a speciality's waiting list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistPlace {
    pub entry: u64,
    pub speciality_name: String,
    /// 1 for the first in line.
    pub position: u32,
}

/// A freed slot central holds for a patient on a waiting list until they accept or decline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistOffer {
    pub entry: u64,
    pub speciality_name: String,
    pub doctor_name: String,
    pub address: String,
    pub slot: Slot,
}

/// The free slots of one day of a doctor's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleDay {
    pub date: Date,
    pub slots: Vec<Slot>,
}
