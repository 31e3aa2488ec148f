//! The duty-doctor electronic queue as a ticket holder sees it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::date::DateTime;

/// A kiosk's number within its clinic; also the offline ticket series (`К2-005`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KioskId(pub u32);

impl fmt::Display for KioskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// `Д-017` from central, `К2-005` from a kiosk working offline.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TicketNumber(pub String);

impl TicketNumber {
    /// The number a central queue gives out: `Д-` and three digits.
    pub fn central(n: u32) -> TicketNumber {
        TicketNumber(format!("Д-{n:03}"))
    }
    /// The number a kiosk gives out offline: `К<kiosk>-` and three digits.
    pub fn offline(kiosk: KioskId, n: u32) -> TicketNumber {
        TicketNumber(format!("К{}-{n:03}", kiosk.0))
    }
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A walk-in ticket. Holds no personal data: it is printed and shown on boards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueTicket {
    /// Central's id, or the offline request id until the ticket is synced.
    pub ticket_id: String,
    pub number: TicketNumber,
    pub issued_at: DateTime,
    /// People ahead of this ticket when it was issued (0 = next).
    pub position: u32,
    pub estimated_wait_minutes: Option<u32>,
    /// Issued by the kiosk while central was unreachable.
    pub offline: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_look_like_the_spec() {
        assert_eq!(TicketNumber::central(17).to_string(), "Д-017");
        assert_eq!(TicketNumber::offline(KioskId(2), 5).to_string(), "К2-005");
    }
}
