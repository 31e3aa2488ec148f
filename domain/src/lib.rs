//! The Infomat domain model: the nouns the kiosk, the drivers and the central service share.
//!
//! Map of the crate:
//! - [`date`]: civil dates and ISO-8601 timestamps with offset, day counts from 1900-01-01
//!   (the OMS barcode's epoch). Small on purpose: no time zone database on a kiosk.
//! - [`enp`]: the 16-digit OMS policy number, its Luhn check and its birth-date/sex facet.
//! - [`mask`]: how personal data is shown in logs, `Debug` and `Display` (`7700********1234`).
//! - [`person`]: names, sex, birth date, the [`person::Policy`] a card gives and the
//!   identified [`person::Patient`].
//! - [`clinic`]: specialities, doctors, cabinets, slots, appointments, referrals.
//! - [`queue`]: the duty-doctor queue ticket and kiosk identity.
//! - [`demo`]: the deterministic demo population (test people, not real) every part shares.
//! - [`device`]: the error kinds every device driver reports, so code outside `drivers`
//!   can react to a fault without knowing the device.
//!
//! Nothing here does IO. Every type that holds personal data formats itself masked; the clear
//! value is reachable only through an explicit `expose()` call, which is easy to grep for.

pub mod clinic;
pub mod date;
pub mod demo;
pub mod device;
pub mod enp;
pub mod mask;
pub mod person;
pub mod queue;

pub use clinic::{
    Appointment, AppointmentId, Cabinet, DayPart, Doctor, DoctorId, LdpKind, LpuId, Referral, ReferralId,
    ScheduleDay, Slot, Speciality, WaitlistOffer, WaitlistPlace,
};
pub use date::{Date, DateTime};
pub use device::DeviceErrorKind;
pub use enp::{Enp, EnpError, EnpFacet};
pub use person::{BirthDate, FullName, Patient, PersonName, Policy, PolicySource, Sex};
pub use queue::{KioskId, QueueTicket, TicketNumber, ahead_en, ahead_ru, people_ru, wait_en, wait_ru};
