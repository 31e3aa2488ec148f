//! Group commit for walk-in tickets. Every `enqueueWalkIn` passes through one writer task per
//! process; the tickets that arrive while one group is being written are written together as
//! the next group: one transaction, one commit. That commit is what a ticket costs: an fsync on
//! SQLite (`synchronous = FULL`: a ticket a patient holds survives a power cut), and on
//! PostgreSQL the turn of the clinic's counter row, which is locked from a ticket's number
//! until its commit. One at a time, those capped walk-ins at ~300/s; grouped, the cost is
//! shared by everyone who arrived in the meantime, so a rush writes bigger groups instead of
//! queueing longer.
//!
//! A refusal (already in the queue, closed, unknown patient) comes before the ticket writes
//! anything and is remembered for that request alone, never anyone else's. A storage fault, or
//! the rare refusal after a ticket has written (a race caught by a unique index), rolls the
//! whole group back, and its tickets are then written one by one ([`queue::enqueue`], the path a lone ticket takes anyway), so nobody is refused because
//! of someone else's fault, and none is written twice (request keys are checked in every path).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use protocol::EnqueueParams;

use crate::booking::{Now, replay};
use crate::error::ApiError;
use crate::queue::{self, Events};
use crate::store::{self, RequestKey, Store, Tx};

/// Tickets written in one transaction at most: bounds how long the first of them waits for the
/// last (a group of 64 is a few milliseconds here).
pub const MAX_GROUP: usize = 64;

/// Requests waiting for the writer at most; beyond that callers wait to hand theirs over.
const QUEUED: usize = 1024;

type Answer = Result<(Value, Events), ApiError>;

struct Job {
    params: EnqueueParams,
    now: Now,
    /// The caller's key (its token's): request ids are scoped by it.
    scope: String,
    answer: oneshot::Sender<Answer>,
}

/// The writer task's door. Dropping it (with the [`crate::app::AppState`] holding it) ends the
/// task once the tickets already handed over are written.
#[derive(Debug)]
pub struct WalkIns {
    jobs: mpsc::Sender<Job>,
    stats: Arc<Stats>,
    /// For writing alone should the writer be gone (it only ends with the service, unless a
    /// bug panicked it: then walk-ins go on, one by one, instead of failing until a restart).
    store: Arc<Store>,
}

/// Groups of more than one ticket committed together, and the tickets in them.
#[derive(Debug, Default)]
struct Stats {
    groups: AtomicU64,
    tickets: AtomicU64,
}

impl WalkIns {
    /// Starts the writer on the current tokio runtime.
    pub fn start(store: Arc<Store>) -> WalkIns {
        let (jobs, rx) = mpsc::channel(QUEUED);
        let stats = Arc::new(Stats::default());
        tokio::spawn(writer(store.clone(), rx, stats.clone()));
        WalkIns { jobs, stats, store }
    }

    /// Groups of more than one ticket committed together so far, and the tickets in them.
    pub fn grouped(&self) -> (u64, u64) {
        (self.stats.groups.load(Ordering::Relaxed), self.stats.tickets.load(Ordering::Relaxed))
    }

    /// `enqueueWalkIn` for `scope`, written with whatever else is waiting.
    pub async fn enqueue(&self, params: EnqueueParams, now: Now, scope: &str) -> Answer {
        let (answer, answered) = oneshot::channel();
        let job = Job { params, now, scope: scope.to_owned(), answer };
        if let Err(mpsc::error::SendError(job)) = self.jobs.send(job).await {
            log::error!("the walk-in writer is gone; writing walk-ins one by one");
            return queue::enqueue(&self.store, &job.params, job.now, &job.scope).await;
        }
        // Dropped unanswered only if the writer died mid-group: the kiosk's retry (same request
        // id) then finds the ticket if the group was committed, or writes it if not.
        answered.await.map_err(|_| ApiError::Store(sqlx::Error::PoolClosed))?
    }
}

async fn writer(store: Arc<Store>, mut rx: mpsc::Receiver<Job>, stats: Arc<Stats>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        write(&store, std::mem::take(&mut group), &stats).await;
    }
}

async fn write(st: &Store, group: Vec<Job>, stats: &Stats) {
    if group.len() > 1 {
        match together(st, &group).await {
            Ok(answers) => {
                stats.groups.fetch_add(1, Ordering::Relaxed);
                stats.tickets.fetch_add(group.len() as u64, Ordering::Relaxed);
                for (job, a) in group.into_iter().zip(answers) {
                    let _ = job.answer.send(a);
                }
                return;
            }
            Err(e) => {
                log::info!("a group of {} walk-ins rolled back ({e}); writing them one by one", group.len())
            }
        }
    }
    for job in group {
        let a = queue::enqueue(st, &job.params, job.now, &job.scope).await;
        let _ = job.answer.send(a);
    }
}

/// Writes the group in one transaction; `Err` only for a fault of the storage (then nothing of
/// the group was written).
async fn together(st: &Store, group: &[Job]) -> Result<Vec<Answer>, ApiError> {
    let (_guard, mut tx) = st.begin_write().await?;
    let mut shared = queue::Shared::default();
    let mut answers = Vec::with_capacity(group.len());
    for job in group {
        answers.push(one(st, &mut tx, job, &mut shared).await?);
    }
    // The group's feed events travel with its first ticket's answer: published once.
    let events = queue::flush(&mut tx, shared).await?;
    if let Some(Ok((_, first))) = answers.iter_mut().find(|a| a.is_ok()) {
        first.extend(events);
    }
    tx.commit().await?;
    Ok(answers)
}

/// One ticket of a group: its answer, or `Err` when the group must roll back.
async fn one(st: &Store, tx: &mut Tx, job: &Job, shared: &mut queue::Shared) -> Result<Answer, ApiError> {
    let key = RequestKey::new(&job.scope, &job.params.request_id, "enqueueWalkIn", &job.params);
    // A retry of a request still running on another node waits for it (PostgreSQL), then
    // finds its answer below; the same request twice in this group finds the first's.
    st.hold_key(tx, &key.lock_name()).await?;
    match store::idempotent(tx, &key).await {
        Ok(Some(previous)) => return Ok(replay(previous).map(|v| (v, Vec::new()))),
        Ok(None) => {}
        Err(e @ ApiError::Store(_)) => return Err(e),
        Err(refused) => return Ok(Err(refused)),
    }
    // No savepoint: every refusal but one comes before the ticket writes anything (unknown
    // patient, closed, already waiting); the one after (a unique index catching a race with an
    // offline sync) rolls the group back to the one-by-one path, which has savepoints.
    shared.wrote = false;
    let mut events = Vec::new();
    match queue::enqueue_in(tx, &job.params, job.now, &mut events, Some(shared)).await {
        Ok(result) => {
            store::remember(tx, &key, &json!({ "result": result })).await?;
            Ok(Ok((result, events)))
        }
        Err(e @ ApiError::Store(_)) => Err(e),
        Err(refused) if shared.wrote => Err(refused),
        Err(refused) => {
            // Refusals of the domain are remembered, as a lone write's are; a malformed
            // request is not (it is answered again, the same, if it comes again).
            if matches!(refused, ApiError::Domain { .. }) {
                store::remember(tx, &key, &json!({ "error": refused.to_rpc() })).await?;
            }
            Ok(Err(refused))
        }
    }
}
