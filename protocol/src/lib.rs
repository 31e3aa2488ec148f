//! The central API on the wire (`shared/specs/central-api.md`), shared by the reference server
//! (`central`) and the kiosk's client (`kiosk::central_link`), so the two sides cannot drift.
//!
//! Map of the crate:
//! - [`auth`]: the roles a token is bound to and the one method -> roles map.
//! - [`method`]: every method once ([`Method`]): name, endpoint, whether it writes, and through
//!   [`Rpc`] the types of its params and result; the endpoint paths.
//! - [`envelope`]: the JSON-RPC 2.0 request/response/error, codes, and the tolerant readers of
//!   a request body (server) and a response body (client).
//! - [`booking`]: the EMIAS-dialect booking shapes and params.
//! - [`queue`]: our queue extension's shapes and params.
//! - [`feed`]: the WebSocket queue feed's frames.
//! - [`de`]: readers for fields real servers and clients send in more than one shape.
//!
//! Parsing is tolerant where real servers and clients vary (ids as strings or numbers,
//! `omsNumber` as a number, `{}` for an empty list, optional fields absent) and strict where it
//! matters (dates, the 16-digit number). Nothing here does IO.

pub mod auth;
pub mod booking;
pub mod de;
pub mod envelope;
pub mod feed;
pub mod method;
pub mod queue;

pub use auth::Role;
pub use booking::*;
pub use de::List;
pub use envelope::*;
pub use feed::*;
pub use method::{BOOKING_PATH, EVENTS_PATH, Endpoint, Method, MethodVisitor, QUEUE_PATH, Rpc, call};
pub use queue::*;

#[cfg(test)]
mod tests;
