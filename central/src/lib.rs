//! The reference central service: the EMIAS-style booking API, our duty-doctor queue extension
//! and its live WebSocket feed (`shared/specs/central-api.md`), on SQLite or PostgreSQL.
//!
//! Map of the crate:
//! - [`app`]: the router (`app(state)`), `serve`/`serve_tls`, the authorization gate,
//!   JSON-RPC envelope handling, the WebSocket feed, health.
//! - [`auth`]: tokens (stored as SHA-256) and the identity each stands for.
//! - [`console`]: the staff console at `/console/` (login, doctor's cabinet view).
//! - [`limits`]: rate limits and device last-seen, kept in the database (shared by nodes).
//! - [`metrics`]: the counters of `/metrics`.
//! - [`tls`]: HTTPS served by central itself; lab certificates.
//! - [`booking`]: booking methods and clinic rules.
//! - [`waitlist`]: the waiting list: join, offers of freed slots in line order, accept/decline.
//! - [`schedule`]: extra appointment time a head of department opens (offered to the list first).
//! - [`client`]: a minimal loopback HTTP client for the CLI tools and tests.
//! - [`embedded`]: central in-process on a loopback port (the demo, kiosk tests), stoppable.
//! - [`queue`]: queue methods, ticket numbering, offline sync, feed events.
//! - [`estimate`]: the wait a walk-in is told, from today's measured pace.
//! - [`duty`]: the queue policy: priority categories, today's duty cabinets, the day report.
//! - [`fleet`]: kiosks' and boards' heartbeats, for the fleet view.
//! - [`walk_in`]: group commit of walk-in tickets (one transaction for those arriving together).
//! - [`feed`]: in-process fan-out of queue events (PostgreSQL NOTIFY across nodes).
//! - [`store`]: the schema and shared queries over sqlx's `Any` driver.
//! - [`seed`]: the deterministic demo clinic.
//! - [`error`]: what clients are told (never internals).
//!
//! Wire types live in the `protocol` crate, shared with the kiosk's client.

pub mod app;
pub mod auth;
pub mod booking;
pub mod client;
pub mod console;
pub mod duty;
pub mod embedded;
pub mod error;
pub mod estimate;
pub mod feed;
pub mod fleet;
pub mod limits;
pub mod metrics;
pub mod queue;
pub mod schedule;
pub mod seed;
pub mod store;
pub mod tls;
pub mod waitlist;
pub mod walk_in;
