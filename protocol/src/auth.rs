//! Who may call what: the roles a central token is bound to and, in one place, the methods each
//! role may call. Central enforces [`allowed`]; `docs/SECURITY.md` shows the same table; the
//! staff console (issue #17) and the kiosk read it from here rather than keep a copy.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::method::Method;

/// What a token's holder is. Bound to the token at central, never taken from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A patient kiosk (device-bound): identifies patients, books, issues walk-in tickets,
    /// syncs its offline tickets.
    Kiosk,
    /// A waiting-zone board (device-bound): reads the queue and its feed, nothing else.
    Board,
    /// A doctor's workstation (optionally bound to cabinets): calls, finishes, marks no-shows.
    Doctor,
    /// The info desk: finds patients, books and issues walk-in tickets for them.
    Infodesk,
    /// A head of department: watches the queue.
    Head,
    /// The clinic's IT administrator: watches the queue; tokens are managed on the server.
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Kiosk, Role::Board, Role::Doctor, Role::Infodesk, Role::Head, Role::Admin];

    pub fn name(self) -> &'static str {
        match self {
            Role::Kiosk => "kiosk",
            Role::Board => "board",
            Role::Doctor => "doctor",
            Role::Infodesk => "infodesk",
            Role::Head => "head",
            Role::Admin => "admin",
        }
    }

    /// Roles that stand for one machine and carry its device id (`kioskId` on the wire).
    pub fn is_device(self) -> bool {
        matches!(self, Role::Kiosk | Role::Board)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL.into_iter().find(|r| r.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
            format!("unknown role {s:?} (one of {})", names.join(", "))
        })
    }
}

use Role::{Admin, Board, Doctor, Head, Infodesk, Kiosk};

/// Who finds a patient by policy and books for them: the patient's own kiosk, or the desk.
const PATIENT_FACING: &[Role] = &[Kiosk, Infodesk];
/// Everyone may read the queue's state: it carries ticket numbers and rooms, no personal data.
const EVERYONE: &[Role] = &[Kiosk, Board, Doctor, Infodesk, Head, Admin];

/// The roles allowed to call `method`: the one method -> roles map central enforces.
pub fn allowed(method: Method) -> &'static [Role] {
    match method {
        // A match, not a table: a new method cannot compile without a decision here.
        Method::GetPatientInfo3
        | Method::GetSpecialitiesInfo
        | Method::GetDoctorsInfo
        | Method::GetAvailableResourceScheduleInfo
        | Method::CreateAppointment
        | Method::ShiftAppointment
        | Method::CancelAppointment
        | Method::GetAppointmentReceptionsByPatient
        | Method::GetReferralsInfo
        | Method::JoinWaitingList
        | Method::GetWaitingList
        | Method::AcceptWaitingListOffer
        | Method::DeclineWaitingListOffer
        | Method::EnqueueWalkIn => PATIENT_FACING,
        Method::GetQueueState => EVERYONE,
        Method::CallNext | Method::CompleteTicket | Method::MarkNoShow | Method::RecallTicket => &[Doctor],
        // Offline tickets come from a kiosk's own journal, under its own device id.
        Method::SyncOfflineTickets => &[Kiosk],
        // Each machine reports itself, under its own device id.
        Method::ReportDeviceStatus => &[Kiosk, Board],
    }
}

/// Whether `role` may call `method`.
pub fn may(role: Role, method: Method) -> bool {
    allowed(method).contains(&role)
}

/// Roles that may subscribe to the queue feed (read-only, no personal data).
pub const FEED: &[Role] = EVERYONE;

/// Whether `method` identifies a patient by `omsNumber` + `birthDate` (rate limited per kiosk
/// and per policy, and answered the same for an unknown policy and a wrong birth date): the
/// patient-facing methods are exactly those.
pub fn identifies_patient(method: Method) -> bool {
    allowed(method) == PATIENT_FACING
}

/// Whether `method` books, moves or cancels something for a patient (a second, tighter limit).
pub fn books(method: Method) -> bool {
    matches!(
        method,
        Method::CreateAppointment
            | Method::ShiftAppointment
            | Method::CancelAppointment
            | Method::JoinWaitingList
            | Method::AcceptWaitingListOffer
            | Method::DeclineWaitingListOffer
            | Method::EnqueueWalkIn
    )
}
