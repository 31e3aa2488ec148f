//! The queue feed over WebSocket (`shared/specs/central-api.md` §4): server frames and the
//! client's resume request. No personal data, ever.

use serde::{Deserialize, Serialize};

use domain::DateTime;

use crate::queue::Call;

/// Server -> display frames. No personal data, ever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FeedEvent {
    Snapshot {
        seq: u64,
        waiting: u32,
        called: Vec<Call>,
    },
    #[serde(rename_all = "camelCase")]
    Called {
        seq: u64,
        ticket_number: String,
        room: String,
        called_at: DateTime,
    },
    Waiting {
        seq: u64,
        waiting: u32,
    },
}

impl FeedEvent {
    pub fn seq(&self) -> u64 {
        match self {
            FeedEvent::Snapshot { seq, .. }
            | FeedEvent::Called { seq, .. }
            | FeedEvent::Waiting { seq, .. } => *seq,
        }
    }
}

/// Client -> server frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum FeedRequest {
    #[serde(rename_all = "camelCase")]
    Resume { after_seq: u64 },
}
