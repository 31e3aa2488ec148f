//! What can happen to a session.

use domain::{Appointment, DeviceErrorKind, Doctor, Patient, Policy, QueueTicket, Referral};
use domain::{ScheduleDay, Speciality, WaitlistOffer, WaitlistPlace};

use super::effect::RequestId;

/// The language a screen speaks (Russian first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Lang {
    #[default]
    Ru,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }
}

/// A button on some screen. Index-carrying actions refer to the list the screen shows; an index
/// out of range, or an action the current screen does not have, is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    // Attract and identification.
    ManualEntry,
    Digit(u8),
    Backspace,
    ClearEntry,
    Next,
    // Patient menu.
    WalkIn,
    Book,
    MyAppointments,
    Referrals,
    // Lists and choices.
    Choose(usize),
    /// "Любой врач — ближайшее время" on the doctors screen.
    AnyDoctor,
    /// A list row's own button: on "Мои записи", cancel that appointment (to confirm).
    CancelAt(usize),
    ChooseDay(usize),
    ChooseSlot(usize),
    Confirm,
    Reschedule,
    CancelAppointment,
    Reprint,
    // Everywhere.
    Back,
    Exit,
    Done,
    StillHere,
    SetLanguage(Lang),
    ToggleLargeText,
    ToggleContrast,
    /// "Позвать сотрудника": raise a call on central's fleet view and show where the desk is.
    CallStaff,
    /// Close the help panel.
    CloseHelp,
    /// "Ещё один полис": a finished visit ends now and the next family member's policy is
    /// awaited, in the same language and text size.
    NextPolicy,
    /// The NeedsReferral screen's "book the doctor who refers".
    BookIssuer,
    /// Onto the waiting list, for times in this part of the day.
    JoinWaitlist(domain::DayPart),
    /// "Нет, не нужно" on a waiting-list offer.
    DeclineOffer,
    // Service.
    ServiceGesture,
    Service(super::effect::ServiceCommand),
}

/// Why the reader could not give a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFailure {
    /// Something was scanned, but it is not a policy (a shop barcode, a text).
    NotAPolicy,
    /// The chip card did not answer as an OMS card or was pulled out mid-read.
    CardUnreadable,
    /// A policy number was read but its check digit is wrong.
    BadNumber,
}

/// What the printer last said about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrinterHealth {
    #[default]
    Unknown,
    Ready,
    PaperLow,
    Unavailable(DeviceErrorKind),
}

/// Errors from central as the session needs to tell them apart. The client maps the wire's
/// string codes to these; anything else arrives as `Other` with its code for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CentralError {
    /// No connection, timeout, or a 5xx after retries.
    Unreachable,
    /// The reply could not be understood.
    BadReply,
    PatientNotFound,
    NotAttached,
    ReferralRequired,
    ReferralExpired,
    NotForSex,
    AgeLimit,
    /// A waiting list refused: the speciality has free time now.
    SlotsAvailable,
    TimeConflict,
    AlreadyBooked,
    SlotTaken,
    AppointmentNotFound,
    QueueClosed,
    /// The patient already holds a waiting ticket: here it is again.
    AlreadyInQueue(QueueTicket),
    RateLimited,
    /// Central does not accept this kiosk's token, or not for this call: a configuration fault
    /// (never a reason to issue tickets offline).
    NotAuthorized,
    Other {
        code: String,
    },
}

/// The duty queue as it stands, for a patient about to take a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueOutlook {
    /// People waiting now: all would be ahead of a plain ticket.
    pub waiting: u32,
    /// The estimated wait and its range, minutes.
    pub wait: Option<(u32, u32, u32)>,
}

/// The successful result of a central call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Identified(Patient),
    /// Identified, and a waiting list holds a freed slot for them: shown before the menu.
    IdentifiedWithOffer(Patient, WaitlistOffer),
    Joined(WaitlistPlace),
    /// The offer was declined (or the list left).
    Declined,
    Specialities(Vec<Speciality>),
    Doctors(Vec<Doctor>),
    Schedule(Vec<ScheduleDay>),
    Booked(Appointment),
    Cancelled,
    Appointments(Vec<Appointment>),
    Referrals(Vec<Referral>),
    Ticket(QueueTicket),
    Outlook(QueueOutlook),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Time passes: idle warnings and timeouts happen here.
    Tick,
    Tap(Action),
    /// A policy was read (barcode, chip, or a number scanned as text).
    CardRead(Policy),
    ReadFailed(ReadFailure),
    Central {
        req: RequestId,
        result: Result<Reply, CentralError>,
    },
    Printed {
        req: RequestId,
    },
    PrintFailed {
        req: RequestId,
        kind: DeviceErrorKind,
    },
    Printer(PrinterHealth),
    /// The chip-card reader came or went (unplugged, replugged).
    CardReader {
        present: bool,
    },
    /// A line of output from a service command, shown on the service screen.
    ServiceReport(String),
}
