//! The live queue feed: one broadcast channel per clinic in this process, fed after each
//! committed change; with PostgreSQL, fed from LISTEN/NOTIFY so that a display connected to
//! any node sees calls made on every node.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::broadcast;

use protocol::FeedEvent;

/// Frames a slow display may fall behind by before it is told to resume.
const BACKLOG: usize = 256;

/// One bounded broadcast channel per clinic: a subscriber that falls [`BACKLOG`] frames behind
/// is told it lagged (and starts over from a snapshot); a sender never waits for anyone.
#[derive(Debug, Default)]
pub struct Feed {
    channels: Mutex<HashMap<u32, broadcast::Sender<FeedEvent>>>,
    /// PostgreSQL: the last sequence number relayed from the database, per clinic.
    published: Mutex<HashMap<u32, u64>>,
}

impl Feed {
    fn sender(&self, lpu: u32) -> broadcast::Sender<FeedEvent> {
        self.channels
            .lock()
            .expect("feed lock")
            .entry(lpu)
            .or_insert_with(|| broadcast::channel(BACKLOG).0)
            .clone()
    }

    pub fn subscribe(&self, lpu: u32) -> broadcast::Receiver<FeedEvent> {
        self.sender(lpu).subscribe()
    }

    /// Clinics someone on this node has subscribed to.
    pub fn watched(&self) -> Vec<u32> {
        self.channels.lock().expect("feed lock").keys().copied().collect()
    }

    pub fn last_published(&self, lpu: u32) -> Option<u64> {
        self.published.lock().expect("feed lock").get(&lpu).copied()
    }

    pub fn mark_published(&self, lpu: u32, seq: u64) {
        let mut p = self.published.lock().expect("feed lock");
        let e = p.entry(lpu).or_default();
        *e = (*e).max(seq);
    }

    /// Hands an event to this process's subscribers of its clinic.
    pub fn publish_local(&self, lpu: u32, ev: FeedEvent) {
        // No subscribers is fine: nobody is watching that clinic's board right now.
        let _ = self.sender(lpu).send(ev);
    }
}
