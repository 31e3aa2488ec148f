//! The central API on the wire (`shared/specs/central-api.md`): the JSON-RPC envelope, the
//! EMIAS-dialect booking shapes, our queue extension and the queue feed. The reference server
//! (`central`) and the kiosk's client (`kiosk::central`) both use these types, so the two sides
//! cannot drift apart.
//!
//! Parsing is tolerant where real servers and clients vary (ids as strings or numbers,
//! `omsNumber` as a number, `{}` for an empty list, optional fields absent) and strict where it
//! matters (dates, the 16-digit number).

use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::date::{Date, DateTime};
use crate::enp::Enp;

pub const BOOKING_PATH: &str = "/api/emc/appointment-eip/v1/";
pub const QUEUE_PATH: &str = "/api/queue/v1/";
pub const EVENTS_PATH: &str = "/api/queue/v1/events";

/// JSON-RPC protocol error codes.
pub mod rpc_code {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL: i64 = -32603;
    /// Domain errors: the string code in `error.data.code` says which.
    pub const DOMAIN: i64 = 1;
}

/// The string codes of domain errors (`error.data.code`).
pub mod code {
    pub const INVALID_PARAMS: &str = "INVALID_PARAMS";
    pub const PATIENT_NOT_FOUND: &str = "PATIENT_NOT_FOUND";
    pub const PATIENT_NOT_ATTACHED: &str = "PATIENT_NOT_ATTACHED";
    pub const REFERRAL_REQUIRED: &str = "REFERRAL_REQUIRED";
    pub const REFERRAL_EXPIRED: &str = "REFERRAL_EXPIRED";
    pub const NOT_FOR_SEX: &str = "SPECIALITY_NOT_FOR_SEX";
    pub const TIME_CONFLICT: &str = "TIME_CONFLICT";
    pub const ALREADY_BOOKED: &str = "ALREADY_BOOKED";
    pub const SLOT_TAKEN: &str = "SLOT_TAKEN";
    pub const APPOINTMENT_NOT_FOUND: &str = "APPOINTMENT_RECEPTION_NOT_FOUND";
    pub const QUEUE_CLOSED: &str = "QUEUE_CLOSED";
    pub const ALREADY_IN_QUEUE: &str = "ALREADY_IN_QUEUE";
    pub const TICKET_NOT_FOUND: &str = "TICKET_NOT_FOUND";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INTERNAL: &str = "INTERNAL";
}

/// A request. `id` is echoed back as given (string, number or "").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub jsonrpc: String,
    #[serde(default)]
    pub id: Value,
    pub method: String,
    #[serde(default)]
    pub params: Value,
}

impl Request {
    pub fn new(id: impl Into<Value>, method: &str, params: impl Serialize) -> Request {
        Request {
            jsonrpc: "2.0".into(),
            id: id.into(),
            method: method.into(),
            params: serde_json::to_value(params).unwrap_or(Value::Null),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorData {
    pub code: String,
    /// Extra machine-readable detail (ALREADY_IN_QUEUE carries the existing ticket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Ticket>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<ErrorData>,
}

impl RpcError {
    pub fn domain(code: &str, message: impl Into<String>) -> RpcError {
        RpcError {
            code: rpc_code::DOMAIN,
            message: message.into(),
            data: Some(ErrorData { code: code.into(), ticket: None }),
        }
    }
    pub fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError {
            code: rpc_code::INVALID_PARAMS,
            message: message.into(),
            data: Some(ErrorData { code: code::INVALID_PARAMS.into(), ticket: None }),
        }
    }
    pub fn protocol(code: i64, message: impl Into<String>) -> RpcError {
        RpcError { code, message: message.into(), data: None }
    }
    /// The string code, when there is one.
    pub fn string_code(&self) -> Option<&str> {
        self.data.as_ref().map(|d| d.code.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Response {
    pub jsonrpc: String,
    pub id: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RpcError>,
}

impl Response {
    pub fn ok(id: Value, result: Value) -> Response {
        Response { jsonrpc: "2.0".into(), id, result: Some(result), error: None }
    }
    pub fn err(id: Value, error: RpcError) -> Response {
        Response { jsonrpc: "2.0".into(), id, result: None, error: Some(error) }
    }
}

/// Accepts `"2011"` or `2011` and keeps it as a string (EMIAS ids vary between clients).
pub fn str_or_int<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        other => Err(de::Error::custom(format!("expected a string or an integer, got {other}"))),
    }
}

fn opt_str_or_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Some(other) => Err(de::Error::custom(format!("expected a string or an integer, got {other}"))),
    }
}

/// Accepts `123` or `"123"` as an integer id.
pub fn int_or_str<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64().ok_or_else(|| de::Error::custom("expected a non-negative integer")),
        Value::String(s) => {
            s.trim().parse().map_err(|_| de::Error::custom(format!("expected an integer, got {s:?}")))
        }
        other => Err(de::Error::custom(format!("expected an integer, got {other}"))),
    }
}

fn opt_int_or_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    struct W(#[serde(deserialize_with = "int_or_str")] u64);
    Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
}

/// A list that some servers send as `{}` when empty.
pub fn list_or_empty_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum L<T> {
        List(Vec<T>),
        Empty {},
        Null(()),
    }
    Ok(match L::<T>::deserialize(d)? {
        L::List(v) => v,
        L::Empty {} | L::Null(()) => Vec::new(),
    })
}

/// Who is asking: every EMIAS method carries these.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatientParams {
    pub oms_number: Enp,
    pub birth_date: Date,
}

impl fmt::Debug for PatientParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PatientParams({}, {})", self.oms_number, crate::mask::DATE)
    }
}

// ---- Booking --------------------------------------------------------------------------------

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
    pub sex: Option<crate::person::Sex>,
}

impl fmt::Debug for PatientName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PatientName({} {})",
            crate::mask::word(&self.last_name),
            crate::mask::word(&self.first_name)
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
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MainDoctor {
    pub speciality_name: String,
    #[serde(deserialize_with = "str_or_int")]
    pub speciality_id: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub second_name: Option<String>,
    #[serde(default)]
    pub meji_id: Option<u64>,
    #[serde(default)]
    pub employee_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceptionType {
    #[serde(deserialize_with = "str_or_int")]
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub primary: bool,
    #[serde(default)]
    pub home: bool,
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
    #[serde(default)]
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
    #[serde(default, deserialize_with = "opt_str_or_int")]
    pub ar_speciality_id: Option<String>,
    #[serde(default)]
    pub ar_speciality_name: Option<String>,
    pub main_doctor: MainDoctor,
    #[serde(default)]
    pub reception_type: Vec<ReceptionType>,
    #[serde(default)]
    pub ldp_type: Vec<Value>,
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
}

// ---- Booking params -------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelParams {
    #[serde(flatten)]
    pub patient: PatientParams,
    #[serde(deserialize_with = "int_or_str")]
    pub appointment_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

// ---- Queue ----------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnqueueParams {
    #[serde(flatten)]
    pub patient: PatientParams,
    pub lpu_id: u32,
    pub kiosk_id: u32,
    pub request_id: String,
}

/// A queue ticket on the wire (no personal data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub ticket_id: String,
    pub ticket_number: String,
    pub issued_at: DateTime,
    pub position: u32,
    #[serde(default)]
    pub estimated_wait_minutes: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpuParams {
    pub lpu_id: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallNextParams {
    pub lpu_id: u32,
    pub room: String,
    #[serde(default, deserialize_with = "opt_int_or_str")]
    pub doctor_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketParams {
    pub ticket_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    pub ticket_number: String,
    pub room: String,
    pub called_at: DateTime,
}

/// `callNext` result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalledTicket {
    pub ticket_id: String,
    pub ticket_number: String,
    pub room: String,
    pub called_at: DateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueState {
    pub lpu_id: u32,
    pub waiting: u32,
    pub called: Vec<Call>,
    pub average_wait_minutes: Option<u32>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineTicket {
    pub local_number: String,
    pub oms_number: Enp,
    pub birth_date: Date,
    pub issued_at: DateTime,
    pub request_id: String,
}

impl fmt::Debug for OfflineTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OfflineTicket({} {} {})", self.local_number, self.oms_number, self.request_id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncParams {
    pub kiosk_id: u32,
    /// Ours: the clinic whose queue the tickets join (default: the server's clinic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lpu_id: Option<u32>,
    pub tickets: Vec<OfflineTicket>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncedTicket {
    pub request_id: String,
    pub local_number: String,
    /// `accepted`, `duplicate`, or `rejected` (with `error`).
    pub status: String,
    #[serde(default)]
    pub ticket_id: Option<String>,
    #[serde(default)]
    pub position: Option<u32>,
    #[serde(default)]
    pub error: Option<String>,
}

// ---- Feed -----------------------------------------------------------------------------------

/// Why a request body is not a call (the server answers with the JSON-RPC code).
#[derive(Debug, Clone, PartialEq)]
pub enum EnvelopeError {
    /// Not JSON at all: `-32700`, no id to echo.
    NotJson,
    /// JSON, but not a JSON-RPC 2.0 call: `-32600`, echoing the id if there was one.
    NotJsonRpc { id: Value },
}

/// Reads a request body as a JSON-RPC 2.0 call (the server's first step; fuzzed).
pub fn parse_request(body: &[u8]) -> Result<Request, EnvelopeError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| EnvelopeError::NotJson)?;
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    match serde_json::from_value::<Request>(value) {
        Ok(r) if r.jsonrpc == "2.0" => Ok(r),
        _ => Err(EnvelopeError::NotJsonRpc { id }),
    }
}

/// What a response body means to a client (fuzzed).
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyError {
    /// Not a JSON-RPC response: a proxy's error page, a cut body. Worth one more try.
    Garbage(String),
    /// Central answered with an error.
    Rpc(Box<RpcError>),
    /// A response, but its result is not what `method` returns.
    BadResult(String),
}

/// Decodes a response body to `method`'s result type.
pub fn decode_reply<T: serde::de::DeserializeOwned>(method: &str, body: &[u8]) -> Result<T, ReplyError> {
    let parsed: Response = serde_json::from_slice(body).map_err(|e| ReplyError::Garbage(e.to_string()))?;
    match (parsed.result, parsed.error) {
        (_, Some(e)) => Err(ReplyError::Rpc(Box::new(e))),
        (result, None) => serde_json::from_value(result.unwrap_or(Value::Null))
            .map_err(|e| ReplyError::BadResult(format!("{method}: {e}"))),
    }
}

/// Server -> display frames. No personal data, ever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FeedEvent {
    Snapshot {
        seq: u64,
        waiting: u32,
        called: Vec<Call>,
    },
    #[serde(rename_all = "camelCase")]
    Called {
        seq: u64,
        ticket_number: String,
        room: String,
        called_at: DateTime,
    },
    Waiting {
        seq: u64,
        waiting: u32,
    },
}

impl FeedEvent {
    pub fn seq(&self) -> u64 {
        match self {
            FeedEvent::Snapshot { seq, .. }
            | FeedEvent::Called { seq, .. }
            | FeedEvent::Waiting { seq, .. } => *seq,
        }
    }
}

/// Client -> server frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FeedRequest {
    #[serde(rename_all = "camelCase")]
    Resume { after_seq: u64 },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerant_where_clients_vary() {
        let p: DoctorsParams = serde_json::from_value(json!({
            "omsNumber": 7700000000000016u64, "birthDate": "1948-03-05", "specialityId": 2011
        }))
        .unwrap();
        assert_eq!(p.speciality_id.as_deref(), Some("2011"));
        assert_eq!(p.patient.oms_number.expose(), "7700000000000016");
        let a: Attachments = serde_json::from_value(json!({"attachment": {}})).unwrap();
        assert!(a.attachment.is_empty());
        let s: ScheduleInfo = serde_json::from_value(json!({
            "availableResource": {"id": "5", "lpuId": 1, "name": "x", "mainDoctor": {
                "specialityName": "Терапевт", "specialityId": "2011", "firstName": "М", "lastName": "И"}}
        }))
        .unwrap();
        assert!(s.schedule_of_day.is_empty(), "absent scheduleOfDay means nothing free");
        assert_eq!(s.available_resource.main_doctor.second_name, None);
    }

    #[test]
    fn strict_where_it_matters() {
        assert!(
            serde_json::from_value::<PatientParams>(json!({"omsNumber": "123", "birthDate": "1948-03-05"}))
                .is_err()
        );
        assert!(
            serde_json::from_value::<PatientParams>(
                json!({"omsNumber": "7700000000000016", "birthDate": "05.03.1948"})
            )
            .is_err()
        );
    }

    #[test]
    fn feed_events_are_tagged() {
        let e = FeedEvent::Waiting { seq: 3, waiting: 7 };
        assert_eq!(serde_json::to_value(&e).unwrap(), json!({"type": "waiting", "seq": 3, "waiting": 7}));
        let r: FeedRequest = serde_json::from_value(json!({"type": "resume", "afterSeq": 12})).unwrap();
        assert_eq!(r, FeedRequest::Resume { after_seq: 12 });
    }

    #[test]
    fn debug_of_patient_params_is_masked() {
        let p: PatientParams =
            serde_json::from_value(json!({"omsNumber": "7700000000000016", "birthDate": "1948-03-05"}))
                .unwrap();
        let s = format!("{p:?}");
        assert!(!s.contains("7700000000000016") && !s.contains("1948"), "{s}");
    }
}
