//! The kiosk's link to central (`shared/specs/central-api.md` §1–5). Named so it is not taken
//! for the `central` crate, the reference server it talks to.
//!
//! - [`client`]: JSON-RPC over HTTPS (reqwest + rustls/ring): timeouts, retries with jitter,
//!   writes retried only with their `requestId`, errors mapped for the patient.
//! - [`calls`]: the session's calls as typed `protocol` calls, and their results as domain types.
//! - [`journal`]: the offline walk-in journal (append-only, fsync'd, 0600).
//! - [`executor`]: runs session calls, issues offline tickets, syncs them exactly once.
//! - [`queue_feed`]: the queue feed's WebSocket client (what a board listens to).

pub mod calls;
pub mod client;
pub mod executor;
pub mod journal;
pub mod queue_feed;
