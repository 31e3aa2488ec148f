//! The live queue feed: one broadcast channel per clinic in this process, fed after each
//! committed change; with PostgreSQL, fed from LISTEN/NOTIFY so that a display connected to
//! any node sees calls made on every node.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::broadcast;

use domain::wire::FeedEvent;

/// Frames a slow display may fall behind by before it is told to resume.
const BACKLOG: usize = 256;

#[derive(Debug, Default)]
pub struct Feed {
    channels: Mutex<HashMap<u32, broadcast::Sender<FeedEvent>>>,
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

    /// Hands an event to this process's subscribers of its clinic.
    pub fn publish_local(&self, lpu: u32, ev: FeedEvent) {
        // No subscribers is fine: nobody is watching that clinic's board right now.
        let _ = self.sender(lpu).send(ev);
    }
}
