//! Every method of the central API, once: its name on the wire, its endpoint, whether it writes,
//! and (through [`Rpc`]) the types of its params and result. The server dispatches on
//! [`Method`]; the kiosk's client calls `client.call::<call::GetDoctorsInfo>(&params)`, so a
//! method name, a path or a result type cannot be spelled two ways.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::booking::{
    AppointmentCreated, BookParams, CancelParams, DoctorInfo, DoctorsParams, PatientInfo, PatientInfoParams,
    PatientParams, Reception, ReferralInfo, ScheduleInfo, ScheduleParams, SpecialityInfo, WaitlistEntry,
    WaitlistJoinParams, WaitlistParams,
};
use crate::de::List;
use crate::queue::{
    CallNextParams, CalledTicket, DeviceStatusParams, EnqueueParams, LpuParams, QueueState, SyncParams,
    SyncedTicket, Ticket, TicketParams,
};

/// Where a method is posted (`shared/specs/central-api.md` §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Booking,
    Queue,
}

pub const BOOKING_PATH: &str = "/api/emc/appointment-eip/v1/";
pub const QUEUE_PATH: &str = "/api/queue/v1/";
/// The queue feed's WebSocket (`?lpuId=N`).
pub const EVENTS_PATH: &str = "/api/queue/v1/events";

impl Endpoint {
    pub const ALL: [Endpoint; 2] = [Endpoint::Booking, Endpoint::Queue];

    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Booking => BOOKING_PATH,
            Endpoint::Queue => QUEUE_PATH,
        }
    }
}

/// A method's params and result types, bound to its [`Method`].
pub trait Rpc {
    const METHOD: Method;
    type Params: Serialize + DeserializeOwned;
    type Result: Serialize + DeserializeOwned;
}

/// Something done with a method's types; see [`Method::visit`].
pub trait MethodVisitor {
    fn visit<M: Rpc>(&mut self);
}

macro_rules! methods {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal on $endpoint:ident, $params:ty => $result:ty, writes: $writes:literal; )*) => {
        /// A method of the central API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Method {
            $( $(#[$doc])* $variant, )*
        }

        impl Method {
            pub const ALL: &'static [Method] = &[$( Method::$variant, )*];

            /// The name on the wire (`"method": "..."`).
            pub fn name(self) -> &'static str {
                match self { $( Method::$variant => $name, )* }
            }

            pub fn endpoint(self) -> Endpoint {
                match self { $( Method::$variant => Endpoint::$endpoint, )* }
            }

            /// Changes something at central: carries a `requestId`, retried only with it.
            pub fn writes(self) -> bool {
                match self { $( Method::$variant => $writes, )* }
            }

            /// Calls `v.visit::<call::ThisMethod>()`: generic code over every method's types
            /// (fuzz targets, round-trip tests) without a list to keep in step.
            pub fn visit<V: MethodVisitor>(self, v: &mut V) {
                match self { $( Method::$variant => v.visit::<call::$variant>(), )* }
            }

            /// The method posted under this name to this endpoint, if there is one.
            pub fn parse(endpoint: Endpoint, name: &str) -> Option<Method> {
                Method::ALL.iter().copied().find(|m| m.endpoint() == endpoint && m.name() == name)
            }
        }

        /// One marker type per method, binding it to its params and result ([`Rpc`]).
        pub mod call {
            use super::*;
            $(
                $(#[$doc])*
                #[derive(Debug, Clone, Copy)]
                pub struct $variant;
                impl Rpc for $variant {
                    const METHOD: Method = Method::$variant;
                    type Params = $params;
                    type Result = $result;
                }
            )*
        }
    };
}

methods! {
    /// Who the patient is and where they are attached.
    GetPatientInfo3 = "getPatientInfo3" on Booking, PatientInfoParams => PatientInfo, writes: false;
    GetSpecialitiesInfo = "getSpecialitiesInfo" on Booking, PatientParams => List<SpecialityInfo>, writes: false;
    /// Doctors of a speciality or a referral (and, rescheduling, for an appointment).
    GetDoctorsInfo = "getDoctorsInfo" on Booking, DoctorsParams => List<DoctorInfo>, writes: false;
    GetAvailableResourceScheduleInfo = "getAvailableResourceScheduleInfo" on Booking, ScheduleParams => ScheduleInfo, writes: false;
    CreateAppointment = "createAppointment" on Booking, BookParams => AppointmentCreated, writes: true;
    /// Moves an appointment (`appointmentId`) to a new slot; the old slot is freed atomically.
    ShiftAppointment = "shiftAppointment" on Booking, BookParams => AppointmentCreated, writes: true;
    /// Answers `"OK"`.
    CancelAppointment = "cancelAppointment" on Booking, CancelParams => String, writes: true;
    GetAppointmentReceptionsByPatient = "getAppointmentReceptionsByPatient" on Booking, PatientParams => List<Reception>, writes: false;
    GetReferralsInfo = "getReferralsInfo" on Booking, PatientParams => List<ReferralInfo>, writes: false;
    /// Ours: onto a speciality's waiting list when nothing is free (the entry; joining twice
    /// answers the first entry).
    JoinWaitingList = "joinWaitingList" on Booking, WaitlistJoinParams => WaitlistEntry, writes: true;
    /// Ours: the patient's waiting-list entries, with the slot offered to them, if any.
    GetWaitingList = "getWaitingList" on Booking, PatientParams => List<WaitlistEntry>, writes: false;
    /// Ours: books the offered slot (once, whichever kiosk asks first).
    AcceptWaitingListOffer = "acceptWaitingListOffer" on Booking, WaitlistParams => AppointmentCreated, writes: true;
    /// Ours: leaves the list; the slot goes to the next in line. Answers `"OK"`.
    DeclineWaitingListOffer = "declineWaitingListOffer" on Booking, WaitlistParams => String, writes: true;
    EnqueueWalkIn = "enqueueWalkIn" on Queue, EnqueueParams => Ticket, writes: true;
    GetQueueState = "getQueueState" on Queue, LpuParams => QueueState, writes: false;
    /// The called ticket, or `null` when nobody waits.
    CallNext = "callNext" on Queue, CallNextParams => Option<CalledTicket>, writes: true;
    /// Answers `"OK"`.
    CompleteTicket = "completeTicket" on Queue, TicketParams => String, writes: true;
    /// Answers `"OK"`.
    MarkNoShow = "markNoShow" on Queue, TicketParams => String, writes: true;
    /// Calls a called ticket again to its cabinet (the patient did not come at the first
    /// call): a new `called` event for the boards. Answers `"OK"`.
    RecallTicket = "recallTicket" on Queue, TicketParams => String, writes: true;
    SyncOfflineTickets = "syncOfflineTickets" on Queue, SyncParams => Vec<SyncedTicket>, writes: true;
    /// A kiosk's or a board's heartbeat for the staff console's fleet view. Answers `"OK"`.
    ReportDeviceStatus = "reportDeviceStatus" on Queue, DeviceStatusParams => String, writes: false;
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
