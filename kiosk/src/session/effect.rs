//! What the session asks the runtime to do.

use std::fmt;

use domain::{Appointment, QueueTicket};
use domain::{AppointmentId, BirthDate, DayPart, DoctorId, Enp, FullName, LdpKind, ReferralId, Slot};

/// Names one request for the whole life of the process: a reply carries it back, and a reply
/// whose id the current screen is not waiting for is dropped. Ids never repeat, even across
/// patients, so a late answer to the previous patient cannot land on the next one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What central needs to know who is asking: the EMIAS dialect sends both on every call.
/// Formats masked (its fields do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    pub enp: Enp,
    pub birth_date: BirthDate,
}

/// Which doctors the patient is choosing between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoctorQuery {
    Speciality {
        code: String,
        name: String,
    },
    /// `ldp`: the referral is to a test or procedure (rooms, not doctors, take it).
    Referral {
        id: ReferralId,
        speciality_name: String,
        ldp: Option<LdpKind>,
    },
}

/// One call to central. Writes (`is_write`) are sent with an idempotency key derived from the
/// request id and retried only with it, so a retry can never book twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CentralCall {
    Identify,
    Specialities,
    Doctors {
        query: DoctorQuery,
        rescheduling: Option<AppointmentId>,
    },
    Schedule {
        doctor: DoctorId,
        complex_resource_id: Option<u64>,
        query: DoctorQuery,
        rescheduling: Option<AppointmentId>,
    },
    CreateAppointment {
        doctor: DoctorId,
        slot: Slot,
        referral: Option<ReferralId>,
    },
    ShiftAppointment {
        appointment: AppointmentId,
        doctor: DoctorId,
        slot: Slot,
    },
    CancelAppointment {
        appointment: AppointmentId,
    },
    Appointments,
    Referrals,
    /// How long a walk-in ticket taken now would wait (before the patient takes one).
    QueueOutlook,
    EnqueueWalkIn,
    /// Onto a speciality's waiting list (it has no free time).
    JoinWaitlist {
        speciality_code: String,
        part: DayPart,
    },
    /// Book the slot a waiting list offered.
    AcceptOffer {
        entry: u64,
    },
    /// Leave the list; the slot goes to the next in line.
    DeclineOffer {
        entry: u64,
    },
}

impl CentralCall {
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            CentralCall::CreateAppointment { .. }
                | CentralCall::ShiftAppointment { .. }
                | CentralCall::CancelAppointment { .. }
                | CentralCall::EnqueueWalkIn
                | CentralCall::JoinWaitlist { .. }
                | CentralCall::AcceptOffer { .. }
                | CentralCall::DeclineOffer { .. }
        )
    }
}

/// A paper document. Appointment tickets carry the patient's surname and initials only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintDoc {
    WalkIn(QueueTicket),
    Appointment { appointment: Appointment, patient: FullName },
}

/// Technician commands from the service screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceCommand {
    SelfTest,
    TestPage,
    ReprintLast,
    SyncJournal,
    Restart,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Central {
        req: RequestId,
        credentials: Credentials,
        call: CentralCall,
    },
    /// `reprint` is true when the patient asked for another copy of an existing document.
    Print {
        req: RequestId,
        doc: PrintDoc,
        reprint: bool,
    },
    /// Ask the printer for its status now (before the patient confirms, so they are warned).
    CheckPrinter,
    Service(ServiceCommand),
    /// The patient's session is over: the runtime drops whatever it cached about them.
    SessionEnded,
    /// A patient asked for a member of staff: the heartbeat carries the flag, sent now.
    CallStaff,
}
