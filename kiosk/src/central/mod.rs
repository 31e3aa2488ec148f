//! The kiosk side of the central API (`shared/specs/central-api.md` §1–5).
//!
//! - [`client`]: JSON-RPC over HTTPS (reqwest + rustls/ring): timeouts, retries with jitter,
//!   writes retried only with their `requestId`, errors mapped for the patient.
//! - [`api`]: the session's calls on the wire and back to domain types.
//! - [`journal`]: the offline walk-in journal (append-only, fsync'd, 0600).
//! - [`executor`]: runs session calls, issues offline tickets, syncs them exactly once.
//! - [`feed`]: the queue feed client and the board model displays render.

pub mod api;
pub mod client;
pub mod executor;
pub mod feed;
pub mod journal;
