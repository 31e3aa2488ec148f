//! A kiosk that issues tickets and a waiting-zone board that watches the queue, on one central
//! (the tests of the board and of the staff console share it).

#![allow(dead_code)]

use std::time::{Duration, Instant};

use serde_json::json;

use domain::{Date, DateTime};
use infomat_dev::rig::{RigOptions, TOKEN};
use infomat_dev::script::Visit;
use kiosk::board::BoardState;
use kiosk::central_link::queue_feed::{FeedTarget, FeedUpdate};
use kiosk::session::Action;
use protocol::Method;

pub fn monday_10am() -> DateTime {
    DateTime::new(Date::from_ymd(2026, 11, 23).unwrap(), 10, 0, 180).unwrap()
}

/// A kiosk that issues tickets and a board that watches the queue, on one central.
pub struct Clinic {
    pub kiosk: Visit<std::io::Sink>,
    pub feed: tokio::sync::mpsc::Receiver<FeedUpdate>,
    pub board: BoardState,
    /// Mocked board clock: advanced by hand.
    pub now_ms: u64,
    pub announced: Vec<String>,
    dir: std::path::PathBuf,
}

impl Clinic {
    pub fn start(name: &str) -> Clinic {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("display-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (opts, time) = RigOptions::fixed(&dir, monday_10am());
        let kiosk = Visit::start(&opts, time, std::io::sink(), None).unwrap();
        let (tx, feed) = tokio::sync::mpsc::channel(256);
        let target = FeedTarget::new(kiosk.peers.central_url(), TOKEN, 1);
        kiosk.peers.rt.spawn(kiosk::central_link::queue_feed::run(target, tx, 0));
        Clinic { kiosk, feed, board: BoardState::default(), now_ms: 0, announced: Vec::new(), dir }
    }

    /// Demo patient `i` takes a walk-in ticket at the kiosk.
    pub fn take_ticket(&mut self, i: usize) -> String {
        self.kiosk.scan(i).unwrap();
        self.kiosk.tap(Action::WalkIn).unwrap();
        self.kiosk.tap(Action::Confirm).unwrap();
        let number = match &self.kiosk.session().screen {
            kiosk::session::Screen::TicketIssued { ticket, .. } => ticket.number.to_string(),
            other => panic!("no ticket: {other:?}"),
        };
        self.kiosk.tap(Action::Done).unwrap();
        number
    }

    /// A doctor in `room` calls the next patient; returns the number called.
    pub fn call_next(&self, room: &str) -> String {
        let r = self
            .kiosk
            .peers
            .central_call(Method::CallNext, json!({"lpuId": 1, "room": room}))
            .expect("callNext");
        r["ticketNumber"].as_str().unwrap_or_else(|| panic!("nobody called: {r}")).to_owned()
    }

    /// Feeds the board until `until` holds (10 s of real time at most). Each update advances
    /// the mocked clock by 10 ms.
    pub fn pump(&mut self, what: &str, until: impl Fn(&BoardState) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !until(&self.board) {
            let left = deadline.saturating_duration_since(Instant::now());
            let u = self
                .kiosk
                .peers
                .rt
                .block_on(async { tokio::time::timeout(left, self.feed.recv()).await })
                .unwrap_or_else(|_| panic!("the board never got to: {what}; board: {:?}", self.board))
                .expect("feed task alive");
            self.now_ms += 10;
            if let Some(call) = self.board.update(u, self.now_ms) {
                self.announced.push(call.ticket_number);
            }
        }
    }

    pub fn shown(&self) -> Vec<String> {
        self.board.board.calls.iter().map(|c| c.ticket_number.clone()).collect()
    }
}

impl Drop for Clinic {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
