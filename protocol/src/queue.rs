//! Our queue extension's params and results (`shared/specs/central-api.md` §3).

use std::fmt;

use serde::{Deserialize, Serialize};

use domain::{Date, DateTime, Enp};

use crate::booking::PatientParams;
use crate::de::opt_int_or_str;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// The range the wait may fall in, `[low, high]` minutes (our extension; wide while
    /// central has measured few visits today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_wait_range: Option<[u32; 2]>,
    /// The duty cabinet the ticket is assigned to, when the clinic opened duty cabinets today
    /// (our extension; absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
}

/// A ticket central issued, as the kiosk keeps it.
impl From<Ticket> for domain::QueueTicket {
    fn from(t: Ticket) -> Self {
        domain::QueueTicket {
            ticket_id: t.ticket_id,
            number: domain::TicketNumber(t.ticket_number),
            issued_at: t.issued_at,
            position: t.position,
            estimated_wait_minutes: t.estimated_wait_minutes,
            wait_range: t.estimated_wait_range.map(|[l, h]| (l, h)),
            offline: false,
            room: t.room,
        }
    }
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

/// A kiosk's or a board's heartbeat (`reportDeviceStatus`, every 30 s): what the fleet view
/// shows. Device states are short words (`ok`, `paper low`, `no paper`, `unreachable`, ...,
/// `none` for a device the machine does not have); nothing personal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceStatusParams {
    /// The device id (`kiosk.id`): the token's (0 or absent: the token's, as central takes
    /// identity from the token anyway).
    #[serde(default)]
    pub kiosk_id: u32,
    /// The software version (`infomat --version`).
    pub version: String,
    #[serde(default)]
    pub printer: String,
    #[serde(default)]
    pub scanner: String,
    #[serde(default)]
    pub card_reader: String,
    /// Offline tickets not yet taken by central.
    #[serde(default)]
    pub journal_backlog: u32,
    /// Offline tickets central refused (patients hold these papers: staff must see them).
    #[serde(default)]
    pub journal_rejected: u32,
    /// A patient asked for staff on the screen.
    #[serde(default)]
    pub help_requested: bool,
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
    /// What a walk-in ticket issued now would wait (our extension): a kiosk shows it before
    /// the patient takes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_wait: Option<WaitEstimate>,
}

/// An estimated wait in minutes and the range it may fall in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitEstimate {
    pub minutes: u32,
    pub low: u32,
    pub high: u32,
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
    /// Must be the device the token is bound to.
    pub kiosk_id: u32,
    /// Ours: the clinic whose queue the tickets join (default: the token's clinic).
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
    /// For `rejected`: the machine code of why (`PATIENT_NOT_FOUND`, `OFFLINE_TICKET_STALE`,
    /// ... from [`crate::code`]), for the kiosk's service screen and `/health`.
    #[serde(default)]
    pub error: Option<String>,
}
