//! The EMIAS-dialect booking methods' params and results (`shared/specs/central-api.md` §2).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use domain::{Date, DateTime, Enp};

use crate::de::{bool_str, int_or_str, list_or_empty_object, opt_int_or_str, opt_str_or_int, str_or_int};

/// Who is asking: every EMIAS method carries these.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientParams {
    pub oms_number: Enp,
    pub birth_date: Date,
}

impl fmt::Debug for PatientParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PatientParams({}, {})", self.oms_number, domain::mask::DATE)
    }
}

/// `getPatientInfo3` params. The two EMIAS extras are accepted and ignored by our server;
/// real clients send them, so the kiosk does too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientInfoParams {
    #[serde(flatten)]
    pub patient: PatientParams,
    #[serde(default)]
    pub type_attach: Vec<u8>,
    #[serde(default)]
    pub only_moscow_policy: bool,
}

impl PatientInfoParams {
    pub fn new(patient: PatientParams) -> PatientInfoParams {
        PatientInfoParams { patient, type_attach: vec![0, 1, 2], only_moscow_policy: false }
    }
}

// ---- Results ----------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lpu {
    pub id: u32,
    pub name: String,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub lpu: Lpu,
    pub create_date: Date,
    /// Ours: the kind, as `getPatientInfo3`'s `typeAttach` numbers them: 0 general, 1 dental,
    /// 2 gynaecological. Absent (and not sent) for general.
    #[serde(default, skip_serializing_if = "is_general")]
    pub type_attach: u8,
}

/// Ours, on a speciality booked on an attachment of its own (a dentist, a gynaecologist) when
/// the patient's attachment for it is a clinic the caller does not serve: where to go instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachedElsewhere {
    pub lpu_id: u32,
    pub name: String,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachments {
    #[serde(default, deserialize_with = "list_or_empty_object")]
    pub attachment: Vec<Attachment>,
}

/// `getPatientInfo3` result. `patient` is our addition (the kiosk greets by name); EMIAS
/// clients ignore unknown fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientInfo {
    pub attachments: Attachments,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<PatientName>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientName {
    pub last_name: String,
    pub first_name: String,
    #[serde(default)]
    pub middle_name: Option<String>,
    #[serde(default)]
    pub sex: Option<domain::Sex>,
}

impl fmt::Debug for PatientName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PatientName({} {})",
            domain::mask::word(&self.last_name),
            domain::mask::word(&self.first_name)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpecialityInfo {
    #[serde(deserialize_with = "str_or_int")]
    pub code: String,
    pub name: String,
    pub male: bool,
    pub female: bool,
    #[serde(default)]
    pub area_type: Vec<Value>,
    #[serde(default)]
    pub therapeutic: bool,
    #[serde(default)]
    pub is_multiple_lpu_speciality: bool,
    #[serde(default)]
    pub is_complaint_speciality: bool,
    /// Ours: bookable without a referral.
    #[serde(default = "yes")]
    pub first_level: bool,
    /// Ours: the patient is attached elsewhere for this speciality (see [`AttachedElsewhere`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached_elsewhere: Option<AttachedElsewhere>,
}

fn yes() -> bool {
    true
}

fn is_general(kind: &u8) -> bool {
    *kind == 0
}

// Field types follow the real service (`central-api.md`, "Field types"): public clients
// validate them strictly, so ids go out as integers and the reception-type flags as strings.
// Reading stays lenient (ints as strings and back, missing ids) for servers that vary.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MainDoctor {
    pub speciality_name: String,
    #[serde(deserialize_with = "int_or_str")]
    pub speciality_id: u64,
    pub first_name: String,
    pub last_name: String,
    /// The one field the real service sends as null (doctors without a patronymic).
    #[serde(default)]
    pub second_name: Option<String>,
    #[serde(default, deserialize_with = "opt_int_or_str", skip_serializing_if = "Option::is_none")]
    pub meji_id: Option<u64>,
    #[serde(default, deserialize_with = "opt_int_or_str", skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceptionType {
    #[serde(deserialize_with = "str_or_int")]
    pub code: String,
    pub name: String,
    /// On the wire `"true"` / `"false"` (strings, as the real service sends them).
    #[serde(default, with = "bool_str")]
    pub primary: bool,
    #[serde(default, with = "bool_str")]
    pub home: bool,
}

/// A test or procedure a resource performs (LDP referrals).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LdpType {
    #[serde(deserialize_with = "str_or_int")]
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Room {
    #[serde(deserialize_with = "int_or_str")]
    pub id: u64,
    pub number: String,
    pub lpu_id: u32,
    #[serde(default)]
    pub lpu_short_name: String,
    #[serde(default, deserialize_with = "opt_int_or_str", skip_serializing_if = "Option::is_none")]
    pub address_point_id: Option<u64>,
    #[serde(default)]
    pub default_address: String,
    /// The nearest date with a free slot.
    pub availability_date: Date,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplexResource {
    #[serde(deserialize_with = "int_or_str")]
    pub id: u64,
    pub name: String,
    /// Present only when bookable (there are free slots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<Room>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorInfo {
    #[serde(deserialize_with = "int_or_str")]
    pub id: u64,
    pub lpu_id: u32,
    pub name: String,
    #[serde(default)]
    pub ar_type: u32,
    #[serde(default)]
    pub speciality_change_ability: bool,
    #[serde(default, deserialize_with = "opt_int_or_str", skip_serializing_if = "Option::is_none")]
    pub ar_speciality_id: Option<u64>,
    #[serde(default)]
    pub ar_speciality_name: Option<String>,
    /// Absent for a test/procedure resource (a room or device), which has `ldp_type` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_doctor: Option<MainDoctor>,
    #[serde(default)]
    pub reception_type: Vec<ReceptionType>,
    #[serde(default)]
    pub ldp_type: Vec<LdpType>,
    #[serde(default)]
    pub sampling_type: Vec<Value>,
    #[serde(default)]
    pub complex_resource: Vec<ComplexResource>,
    #[serde(default)]
    pub district: bool,
    #[serde(default)]
    pub replacement: bool,
    #[serde(default)]
    pub nondistrict: bool,
    #[serde(default)]
    pub available_by_referral: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotTime {
    pub start_time: DateTime,
    pub end_time: DateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleBySlot {
    #[serde(deserialize_with = "int_or_str")]
    pub complex_resource_id: u64,
    #[serde(default)]
    pub cabinet_number: String,
    pub slot: Vec<SlotTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleOfDay {
    pub date: Date,
    pub schedule_by_slot: Vec<ScheduleBySlot>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleInfo {
    pub available_resource: DoctorInfo,
    /// Absent when nothing is free.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule_of_day: Vec<ScheduleOfDay>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppointmentCreated {
    pub appointment_id: u64,
    pub appointment_number: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToDoctor {
    pub doctor_fio: String,
    pub speciality_name: String,
    #[serde(deserialize_with = "str_or_int")]
    pub speciality_id: String,
    #[serde(default, deserialize_with = "opt_str_or_int")]
    pub reception_type_id: Option<String>,
}

/// Ours, on a referral to a test or procedure (`type: "REF_TO_LDP"`) and on an appointment
/// booked with one: what it is and how to prepare. `toDoctor` still names it for EMIAS clients
/// that require that field (`specialityId`/`specialityName` = the LDP type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToLdp {
    #[serde(deserialize_with = "str_or_int")]
    pub ldp_type_id: String,
    pub ldp_type_name: String,
    /// `lab`, `diagnostic` or `procedure`.
    pub ldp_kind: String,
    /// What to bring, how to prepare ("Натощак…"); empty when nothing is needed.
    #[serde(default)]
    pub preparation: String,
}

/// `getReferralsInfo` item types.
pub const REF_TO_DOCTOR: &str = "REF_TO_DOCTOR";
pub const REF_TO_LDP: &str = "REF_TO_LDP";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reception {
    #[serde(deserialize_with = "int_or_str")]
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: String,
    pub start_time: DateTime,
    pub end_time: DateTime,
    pub name_lpu: String,
    pub lpu_address: String,
    pub room_number: String,
    pub to_doctor: ToDoctor,
    #[serde(default)]
    pub referral: Option<Value>,
    /// Ours: the number printed on tickets (EMIAS clients ignore it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appointment_number: Option<String>,
    /// Ours: set when the appointment is a test or procedure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_ldp: Option<ToLdp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferralToDoctor {
    #[serde(deserialize_with = "str_or_int")]
    pub speciality_id: String,
    pub speciality_name: String,
    #[serde(default, deserialize_with = "opt_str_or_int")]
    pub reception_type_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferralInfo {
    #[serde(deserialize_with = "int_or_str")]
    pub id: u64,
    pub number: String,
    pub start_time: Date,
    pub end_time: Date,
    #[serde(rename = "type")]
    pub kind: String,
    pub lpu_id: u32,
    pub lpu_name: String,
    pub to_doctor: ReferralToDoctor,
    #[serde(default)]
    pub count_active_appointment: u32,
    /// Ours: set on a `REF_TO_LDP` referral.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_ldp: Option<ToLdp>,
}

// ---- Params -------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorsParams {
    #[serde(flatten)]
    pub patient: PatientParams,
    #[serde(default, deserialize_with = "opt_str_or_int", skip_serializing_if = "Option::is_none")]
    pub speciality_id: Option<String>,
    #[serde(default, deserialize_with = "opt_int_or_str", skip_serializing_if = "Option::is_none")]
    pub referral_id: Option<u64>,
    #[serde(default, deserialize_with = "opt_int_or_str", skip_serializing_if = "Option::is_none")]
    pub appointment_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleParams {
    #[serde(flatten)]
    pub patient: PatientParams,
    #[serde(deserialize_with = "int_or_str")]
    pub available_resource_id: u64,
    #[serde(default, deserialize_with = "opt_int_or_str", skip_serializing_if = "Option::is_none")]
    pub complex_resource_id: Option<u64>,
    #[serde(default, deserialize_with = "opt_str_or_int", skip_serializing_if = "Option::is_none")]
    pub speciality_id: Option<String>,
    #[serde(default, deserialize_with = "opt_int_or_str", skip_serializing_if = "Option::is_none")]
    pub referral_id: Option<u64>,
    #[serde(default, deserialize_with = "opt_int_or_str", skip_serializing_if = "Option::is_none")]
    pub appointment_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookParams {
    #[serde(flatten)]
    pub patient: PatientParams,
    #[serde(deserialize_with = "int_or_str")]
    pub available_resource_id: u64,
    #[serde(deserialize_with = "int_or_str")]
    pub complex_resource_id: u64,
    pub start_time: DateTime,
    pub end_time: DateTime,
    #[serde(default, deserialize_with = "opt_str_or_int", skip_serializing_if = "Option::is_none")]
    pub reception_type_id: Option<String>,
    #[serde(default, deserialize_with = "opt_int_or_str", skip_serializing_if = "Option::is_none")]
    pub referral_id: Option<u64>,
    /// Only for `shiftAppointment`.
    #[serde(default, deserialize_with = "opt_int_or_str", skip_serializing_if = "Option::is_none")]
    pub appointment_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelParams {
    #[serde(flatten)]
    pub patient: PatientParams,
    #[serde(deserialize_with = "int_or_str")]
    pub appointment_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

// ---- Waiting list (ours) ----------------------------------------------------------------------

/// `joinWaitingList`: put the patient on a speciality's waiting list when it has no free time.
/// `part` narrows the times offered (`"any"`, `"morning"`: starting before 13:00,
/// `"afternoon"`: from 13:00); `weekdays` (1 Monday … 7 Sunday) the days, empty for any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistJoinParams {
    #[serde(flatten)]
    pub patient: PatientParams,
    #[serde(deserialize_with = "str_or_int")]
    pub speciality_id: String,
    #[serde(default = "any_part")]
    pub part: String,
    #[serde(default)]
    pub weekdays: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

fn any_part() -> String {
    "any".into()
}

/// `acceptWaitingListOffer`, `declineWaitingListOffer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistParams {
    #[serde(flatten)]
    pub patient: PatientParams,
    #[serde(deserialize_with = "int_or_str")]
    pub waiting_list_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A freed slot held for the first suitable patient on the list until they accept or decline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistOffer {
    #[serde(deserialize_with = "int_or_str")]
    pub available_resource_id: u64,
    #[serde(deserialize_with = "int_or_str")]
    pub complex_resource_id: u64,
    pub doctor_name: String,
    pub room_number: String,
    pub lpu_address: String,
    pub start_time: DateTime,
    pub end_time: DateTime,
}

/// A patient's place on a waiting list: `status` is `"waiting"` or `"offered"` (then `offer`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitlistEntry {
    #[serde(deserialize_with = "int_or_str")]
    pub waiting_list_id: u64,
    #[serde(deserialize_with = "str_or_int")]
    pub speciality_id: String,
    pub speciality_name: String,
    pub part: String,
    #[serde(default)]
    pub weekdays: Vec<u8>,
    /// 1 for the first in line for the speciality.
    pub position: u32,
    pub status: String,
    pub created_at: DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<WaitlistOffer>,
}
