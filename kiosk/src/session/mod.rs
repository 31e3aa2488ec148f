//! The patient session: a pure state machine.
//!
//! `update(session, event, now) -> (session, effects)` is the whole behaviour of the kiosk's
//! patient side. It reads no clock (time arrives as [`Now`]), performs no IO and knows nothing
//! of tokio, Slint, drivers or HTTP: the runtime (`crate::runtime`, through `crate::effects`)
//! executes the [`Effect`]s and feeds their outcomes back as [`Event`]s. That is what lets every flow be tested, and
//! property-tested, without a window or a network.
//!
//! - [`state`]: [`Session`], the [`Screen`] the patient is on and what each screen holds.
//! - [`event`]: what can happen: taps, card reads, replies from central and the printer, ticks.
//! - [`effect`]: what the runtime must do: central calls, printing, service commands.
//! - [`update`]: the transition function.
//! - [`problem`]: what the patient is told when something goes wrong, in Russian and English.

pub mod effect;
pub mod event;
pub mod problem;
pub mod state;
pub mod update;

pub use effect::{CentralCall, Credentials, DoctorQuery, Effect, PrintDoc, RequestId, ServiceCommand};
pub use event::{Action, CentralError, Event, Lang, PrinterHealth, QueueOutlook, ReadFailure, Reply};
pub use problem::Problem;
pub use state::{Loadable, Now, PendingKind, PrintState, Screen, Session, SessionConfig};
pub use state::{earliest_doctor, offers_any_doctor, offers_waitlist};
pub use update::update;
