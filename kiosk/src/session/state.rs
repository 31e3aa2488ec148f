//! The session's state: which screen the patient is on and what it holds.

use domain::{Appointment, Date, Doctor, Patient, Policy, QueueTicket, Referral, ScheduleDay};
use domain::{DeviceErrorKind, Slot, Speciality};
use domain::{WaitlistOffer, WaitlistPlace};

use super::effect::{DoctorQuery, RequestId};
use super::event::{Lang, PrinterHealth, QueueOutlook};
use super::problem::Problem;

/// The moment an event is handled: a monotonic millisecond count (for timeouts) and the local
/// calendar day (for expiry and birth-date checks). The runtime reads both clocks; tests make
/// them up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub ms: u64,
    pub today: Date,
}

/// Everything the session needs from the configuration file.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Idle time before the "are you still here?" warning.
    pub idle_warning_ms: u64,
    /// How long the warning counts down before the session is wiped.
    pub idle_countdown_ms: u64,
    /// SHA-256 of the service PIN; `None` disables the service screen.
    pub service_pin_sha256: Option<[u8; 32]>,
    pub pin_attempts: u32,
    pub pin_lockout_ms: u64,
    pub default_lang: Lang,
    /// Shown when booking is impossible (central down): "call the registry".
    pub registry_phone: String,
    /// Where the info desk is, for "Позвать сотрудника" ("1 этаж, у входа"); may be empty.
    pub help_desk: String,
    /// The longest a call to central may take (every retry timing out), in seconds: the
    /// waiting screen promises it.
    pub wait_limit_s: u32,
}

impl std::fmt::Debug for SessionConfig {
    /// The PIN's hash stays out of `check-config` and logs: a SHA-256 of four digits is
    /// reversed in microseconds.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionConfig")
            .field("idle_warning_ms", &self.idle_warning_ms)
            .field("idle_countdown_ms", &self.idle_countdown_ms)
            .field("service_pin", &if self.service_pin_sha256.is_some() { "<set>" } else { "<none>" })
            .field("pin_attempts", &self.pin_attempts)
            .field("pin_lockout_ms", &self.pin_lockout_ms)
            .field("default_lang", &self.default_lang)
            .field("registry_phone", &self.registry_phone)
            .field("help_desk", &self.help_desk)
            .field("wait_limit_s", &self.wait_limit_s)
            .finish()
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_warning_ms: 45_000,
            idle_countdown_ms: 15_000,
            service_pin_sha256: None,
            pin_attempts: 3,
            pin_lockout_ms: 5 * 60_000,
            default_lang: Lang::Ru,
            registry_phone: String::new(),
            help_desk: String::new(),
            wait_limit_s: 17,
        }
    }
}

/// A list the screen is waiting for, or has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loadable<T> {
    Loading(RequestId),
    Ready(T),
}

/// Where a printed document stands. Whatever happens, the number stays on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintState {
    Printing(RequestId),
    Printed,
    Failed(DeviceErrorKind),
}

/// Why the patient is choosing a doctor: a new booking or moving an existing one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    New,
    /// Boxed: an appointment is large, and a flow is copied with every screen.
    Reschedule(Box<Appointment>),
}

/// The booking under way: what was chosen so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingFlow {
    pub purpose: Purpose,
    pub query: DoctorQuery,
    /// "Любой врач — ближайшее время": when the schedule arrives, go straight to confirming
    /// its first slot.
    pub earliest: bool,
}

impl BookingFlow {
    pub fn new(purpose: Purpose, query: DoctorQuery) -> BookingFlow {
        BookingFlow { purpose, query, earliest: false }
    }
}

/// Whether the doctors screen offers "Любой врач — ближайшее время": only when it saves a
/// choice, i.e. two or more doctors have free time. The view and the taps agree on it.
pub fn offers_any_doctor(list: &[Doctor]) -> bool {
    list.iter().filter(|d| d.nearest_free.is_some()).count() >= 2
}

/// Whether the doctors screen offers the waiting list: a new booking for a speciality whose
/// doctors have no free time at all (a referral, a move keep to what central has).
pub fn offers_waitlist(flow: &BookingFlow, list: &[Doctor]) -> bool {
    matches!(flow.purpose, Purpose::New)
        && matches!(flow.query, DoctorQuery::Speciality { .. })
        && list.iter().all(|d| d.nearest_free.is_none())
}

/// The doctor "any doctor" means: the earliest free day, the first listed on a tie.
pub fn earliest_doctor(list: &[Doctor]) -> Option<&Doctor> {
    list.iter().filter(|d| d.nearest_free.is_some()).min_by_key(|d| d.nearest_free)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screen {
    /// "Приложите полис": nobody is being served.
    Attract,
    /// On-screen keypad for the 16 digits. `error` is shown under the field.
    EnterEnp {
        digits: String,
        error: Option<Problem>,
    },
    /// Birth date as DDMMYYYY for a policy that did not carry one.
    EnterBirthDate {
        policy: Policy,
        digits: String,
        error: Option<Problem>,
    },
    /// `policy` is kept so that the card alone can serve a walk-in when central is down.
    Identifying {
        req: RequestId,
        policy: Policy,
        /// The birth date was typed on the keypad: if central finds nobody, the patient gets
        /// the keypad back with what they typed, not the start screen.
        typed: bool,
    },
    Menu,
    /// "Take a ticket?", with the queue as it stands once central says (`None`: it could not).
    WalkInConfirm {
        outlook: Loadable<Option<QueueOutlook>>,
    },
    WalkInWaiting {
        req: RequestId,
    },
    TicketIssued {
        ticket: QueueTicket,
        already_had: bool,
        print: PrintState,
    },
    Specialities {
        list: Loadable<Vec<Speciality>>,
    },
    Doctors {
        flow: BookingFlow,
        list: Loadable<Vec<Doctor>>,
    },
    Schedule {
        flow: BookingFlow,
        doctor: Doctor,
        days: Loadable<Vec<ScheduleDay>>,
        day: usize,
    },
    ConfirmBooking {
        flow: BookingFlow,
        doctor: Doctor,
        slot: Slot,
    },
    Booking {
        req: RequestId,
        flow: BookingFlow,
        doctor: Doctor,
    },
    Booked {
        appointment: Appointment,
        rescheduled: bool,
        print: PrintState,
    },
    Appointments {
        list: Loadable<Vec<Appointment>>,
    },
    AppointmentDetail {
        appointment: Appointment,
        print: Option<PrintState>,
    },
    ConfirmCancel {
        appointment: Appointment,
    },
    Cancelling {
        req: RequestId,
        appointment: Appointment,
    },
    Cancelled {
        appointment: Appointment,
    },
    Referrals {
        list: Loadable<Vec<Referral>>,
    },
    /// A referral-only speciality without a referral: who issues one, and a tap to book them.
    NeedsReferral {
        speciality: String,
        /// The first-level speciality that refers (a GP), when the clinic has one.
        issuer: Option<Speciality>,
    },
    /// A speciality with no free time: onto its waiting list, for which part of the day?
    WaitlistJoin {
        flow: BookingFlow,
    },
    JoiningWaitlist {
        req: RequestId,
        flow: BookingFlow,
    },
    /// On the list: central offers the first freed time at the next identification.
    WaitlistJoined {
        place: WaitlistPlace,
    },
    /// Shown on identification, before the menu: a freed slot held for this patient.
    WaitlistOffer {
        offer: WaitlistOffer,
    },
    AcceptingOffer {
        req: RequestId,
        offer: WaitlistOffer,
    },
    DecliningOffer {
        req: RequestId,
    },
    /// Something went wrong; one button leads on to `back`.
    Problem {
        problem: Problem,
        back: Back,
    },
    ServicePin {
        digits: String,
        wrong: bool,
    },
    Service {
        log: Vec<String>,
    },
}

/// Where a problem screen's button leads. Going there may start a request (reloading a list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Back {
    Attract,
    EnterEnp,
    Menu,
    Specialities,
    Doctors(BookingFlow),
    Schedule(BookingFlow, Doctor),
    Appointments,
    Referrals,
}

/// What a pending request is for; lets the runtime (and tests) see what the screen waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingKind {
    Identify,
    Specialities,
    Doctors,
    Schedule,
    Book,
    Appointments,
    Referrals,
    Cancel,
    WalkIn,
    /// Joining or leaving a waiting list.
    Waitlist,
    /// The queue's outlook for the walk-in confirmation: asked quietly, no veil, no error.
    Outlook,
    Print,
}

/// The service PIN lockout survives patient sessions (it is the kiosk's, not the patient's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PinGuard {
    pub failures: u32,
    pub locked_until_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub screen: Screen,
    /// The identified patient; `None` on the attract screen and during identification.
    pub patient: Option<Patient>,
    /// Central could not be reached at identification: walk-in only, booking refused.
    pub offline: bool,
    pub lang: Lang,
    pub large_text: bool,
    /// The high-contrast theme (black on white, AAA), like large text reset for the next patient.
    pub high_contrast: bool,
    /// The "Позвать сотрудника" panel is open (the call itself went to central at once).
    pub help_shown: bool,
    /// "Ещё один полис" was pressed: the next card keeps the language, text size and contrast
    /// (the same reader), unless the kiosk idles first.
    pub keep_look: bool,
    /// Last touch or card, for the idle timeout.
    pub last_input_ms: u64,
    /// When the idle warning appeared; `None` when it is not shown.
    pub idle_warning_since_ms: Option<u64>,
    pub printer: PrinterHealth,
    /// A chip-card reader is connected: the attract screen invites a card only then.
    pub card_reader: bool,
    pub pin: PinGuard,
    pub next_req: u64,
    /// The local day of the last event: screens judge dates by it (an expired referral).
    pub today: Date,
    pub cfg: SessionConfig,
}

impl Session {
    pub fn new(cfg: SessionConfig, now: Now) -> Session {
        Session {
            screen: Screen::Attract,
            patient: None,
            offline: false,
            lang: cfg.default_lang,
            large_text: false,
            high_contrast: false,
            help_shown: false,
            keep_look: false,
            last_input_ms: now.ms,
            idle_warning_since_ms: None,
            printer: PrinterHealth::Unknown,
            card_reader: false,
            pin: PinGuard::default(),
            next_req: 1,
            today: now.today,
            cfg,
        }
    }

    /// The request the current screen is waiting for, if any.
    pub fn pending(&self) -> Option<(RequestId, PendingKind)> {
        use PendingKind as K;
        match &self.screen {
            Screen::Identifying { req, .. } => Some((*req, K::Identify)),
            Screen::WalkInWaiting { req } => Some((*req, K::WalkIn)),
            Screen::WalkInConfirm { outlook: Loadable::Loading(req) } => Some((*req, K::Outlook)),
            Screen::Booking { req, .. } => Some((*req, K::Book)),
            Screen::Cancelling { req, .. } => Some((*req, K::Cancel)),
            Screen::AcceptingOffer { req, .. } => Some((*req, K::Book)),
            Screen::JoiningWaitlist { req, .. } | Screen::DecliningOffer { req } => Some((*req, K::Waitlist)),
            Screen::Specialities { list: Loadable::Loading(req) } => Some((*req, K::Specialities)),
            Screen::Doctors { list: Loadable::Loading(req), .. } => Some((*req, K::Doctors)),
            Screen::Schedule { days: Loadable::Loading(req), .. } => Some((*req, K::Schedule)),
            Screen::Appointments { list: Loadable::Loading(req) } => Some((*req, K::Appointments)),
            Screen::Referrals { list: Loadable::Loading(req) } => Some((*req, K::Referrals)),
            Screen::TicketIssued { print: PrintState::Printing(req), .. }
            | Screen::Booked { print: PrintState::Printing(req), .. }
            | Screen::AppointmentDetail { print: Some(PrintState::Printing(req)), .. } => {
                Some((*req, K::Print))
            }
            _ => None,
        }
    }
}

impl Screen {
    /// The patient's business is finished here (a ticket, a booking, a cancellation): the
    /// screen's own "Готово" ends the visit, and it times out without a countdown.
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            Screen::TicketIssued { .. }
                | Screen::Booked { .. }
                | Screen::Cancelled { .. }
                | Screen::WaitlistJoined { .. }
        )
    }
}

impl Session {
    /// A write to central is in flight: the patient must see its outcome, so neither a new card
    /// nor the idle timeout may abandon the screen.
    pub fn write_pending(&self) -> bool {
        matches!(
            self.screen,
            Screen::WalkInWaiting { .. }
                | Screen::Booking { .. }
                | Screen::Cancelling { .. }
                | Screen::JoiningWaitlist { .. }
                | Screen::AcceptingOffer { .. }
                | Screen::DecliningOffer { .. }
        )
    }

    /// True when nothing about a patient is held: the state every wipe must reach.
    pub fn holds_no_patient_data(&self) -> bool {
        self.patient.is_none() && !self.offline && matches!(self.screen, Screen::Attract)
    }

    /// A short stable name for the current screen (UI routing, logs, the headless demo).
    pub fn screen_name(&self) -> &'static str {
        match &self.screen {
            Screen::Attract => "attract",
            Screen::EnterEnp { .. } => "enter-enp",
            Screen::EnterBirthDate { .. } => "enter-birth-date",
            Screen::Identifying { .. } => "identifying",
            Screen::Menu => "menu",
            Screen::WalkInConfirm { .. } => "walk-in-confirm",
            Screen::WalkInWaiting { .. } => "walk-in-waiting",
            Screen::TicketIssued { .. } => "ticket",
            Screen::Specialities { .. } => "specialities",
            Screen::Doctors { .. } => "doctors",
            Screen::Schedule { .. } => "schedule",
            Screen::ConfirmBooking { .. } => "confirm-booking",
            Screen::Booking { .. } => "booking",
            Screen::Booked { .. } => "booked",
            Screen::Appointments { .. } => "appointments",
            Screen::AppointmentDetail { .. } => "appointment",
            Screen::ConfirmCancel { .. } => "confirm-cancel",
            Screen::Cancelling { .. } => "cancelling",
            Screen::Cancelled { .. } => "cancelled",
            Screen::Referrals { .. } => "referrals",
            Screen::NeedsReferral { .. } => "needs-referral",
            Screen::WaitlistJoin { .. } => "waitlist-join",
            Screen::JoiningWaitlist { .. } => "joining-waitlist",
            Screen::WaitlistJoined { .. } => "waitlist-joined",
            Screen::WaitlistOffer { .. } => "waitlist-offer",
            Screen::AcceptingOffer { .. } => "accepting-offer",
            Screen::DecliningOffer { .. } => "declining-offer",
            Screen::Problem { .. } => "problem",
            Screen::ServicePin { .. } => "service-pin",
            Screen::Service { .. } => "service",
        }
    }
}
