//! Carries out the session's central calls, with the offline walk-in path and the sync of
//! offline tickets. Async, owned by the kiosk runtime; the session only sees events.
//!
//! Idempotency keys: `k<kiosk>-<boot>-<request>`, where `boot` is 64 random bits drawn at
//! process start, so keys never repeat across restarts, tell nothing about when the kiosk
//! started, and a retried write reuses its key.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::effects::{CentralJob, EventSink};

use domain::{DateTime, KioskId, LpuId, QueueTicket, TicketNumber};

use super::calls;
use super::client::{CallError, Client};
use super::journal::{Journal, JournalError, RejectedTicket};
use crate::session::{CentralCall, CentralError, Credentials, Event, Reply, RequestId};

pub type Clock = Arc<dyn Fn() -> DateTime + Send + Sync>;

/// Told how long each central call took and how it ended (metrics).
pub type Observer = Arc<dyn Fn(Duration, &Event) + Send + Sync>;

pub struct CentralRuntime {
    pub client: Client,
    kiosk: KioskId,
    lpu: LpuId,
    journal: Arc<Mutex<Journal>>,
    boot: String,
    clock: Clock,
}

impl std::fmt::Debug for CentralRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CentralRuntime")
            .field("kiosk", &self.kiosk)
            .field("central", &self.client.base())
            .finish()
    }
}

/// What one sync round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub confirmed: usize,
    pub rejected: usize,
    pub still_pending: usize,
}

impl CentralRuntime {
    pub fn new(
        client: Client,
        kiosk: KioskId,
        lpu: LpuId,
        journal_dir: &Path,
        clock: Clock,
    ) -> Result<Self, JournalError> {
        let journal = Journal::open(journal_dir)?;
        let boot = super::client::random_hex::<8>();
        Ok(CentralRuntime { client, kiosk, lpu, journal: Arc::new(Mutex::new(journal)), boot, clock })
    }

    pub fn request_key(&self, req: RequestId) -> String {
        format!("k{}-{}-{}", self.kiosk.0, self.boot, req.0)
    }

    pub fn pending_offline(&self) -> usize {
        self.journal.lock().expect("journal lock").pending().len()
    }

    /// Offline tickets central refused (newest last): staff must honour or explain them.
    pub fn rejected_offline(&self) -> Vec<RejectedTicket> {
        self.journal.lock().expect("journal lock").rejected().to_vec()
    }

    /// Runs a session call and answers with the event the session expects.
    pub async fn handle(&self, req: RequestId, credentials: Credentials, call: CentralCall) -> Event {
        let result = match call {
            CentralCall::EnqueueWalkIn => self.walk_in(req, &credentials).await,
            CentralCall::QueueOutlook => {
                calls::outlook(&self.client, self.lpu.0).await.map_err(|e| e.for_session())
            }
            other => {
                let key = self.request_key(req);
                calls::run(&self.client, &credentials, &other, &key).await.map_err(|e| {
                    if matches!(e, CallError::Unreachable(_) | CallError::BadReply(_)) {
                        log::warn!("central: {e}");
                    }
                    e.for_session()
                })
            }
        };
        Event::Central { req, result }
    }

    /// A walk-in ticket from central, or, when central cannot be reached, from the kiosk's own
    /// series, journaled durably before the patient sees it.
    async fn walk_in(&self, req: RequestId, cr: &Credentials) -> Result<Reply, CentralError> {
        let key = self.request_key(req);
        match calls::enqueue(&self.client, cr, self.lpu.0, self.kiosk.0, &key).await {
            Ok(t) => Ok(Reply::Ticket(t)),
            Err(e @ (CallError::Unreachable(_) | CallError::BadReply(_))) => {
                log::warn!("central: {e}; issuing the walk-in ticket offline");
                // The same key: if central did take the request after all, sync relabels that
                // ticket with the number on the patient's paper instead of adding a second one.
                let journal = self.journal.clone();
                let (kiosk, now) = (self.kiosk, (self.clock)());
                let (enp, birth) = (cr.enp, cr.birth_date.expose());
                let issued = tokio::task::spawn_blocking(move || {
                    journal.lock().expect("journal lock").issue(kiosk, enp, birth, now, key)
                })
                .await;
                match issued {
                    Ok(Ok(t)) => Ok(Reply::Ticket(QueueTicket {
                        ticket_id: t.request_id,
                        number: TicketNumber(t.local_number),
                        issued_at: t.issued_at,
                        position: 0,
                        estimated_wait_minutes: None,
                        wait_range: None,
                        offline: true,
                        room: None,
                    })),
                    Ok(Err(je)) => {
                        // Disk full or read-only: no ticket rather than a ticket nobody can sync.
                        log::error!("{je}");
                        Err(CentralError::Unreachable)
                    }
                    Err(_) => Err(CentralError::Unreachable),
                }
            }
            Err(e) => Err(e.for_session()),
        }
    }

    /// Sends pending offline tickets; forgets those central confirmed, moves those it can never
    /// accept to the rejected list, keeps the rest (rate limited, or beyond a batch's cap).
    pub async fn sync(&self) -> Result<SyncReport, CallError> {
        let pending = self.journal.lock().expect("journal lock").pending().to_vec();
        if pending.is_empty() {
            return Ok(SyncReport::default());
        }
        let params =
            protocol::SyncParams { kiosk_id: self.kiosk.0, lpu_id: Some(self.lpu.0), tickets: pending };
        let results = calls::sync(&self.client, &params).await?;
        let mut done = Vec::new();
        let mut refused = Vec::new();
        let mut report = SyncReport::default();
        for r in results {
            match (r.status.as_str(), r.error.as_deref()) {
                ("accepted" | "duplicate", _) => {
                    report.confirmed += 1;
                    done.push(r.request_id);
                }
                // Not now: the next round tries again.
                (_, Some(protocol::code::RATE_LIMITED)) => {}
                (_, reason) => {
                    // Central will never take it (an unknown patient, a stale ticket): retrying
                    // is pointless, forgetting it would strand a patient holding the paper.
                    let reason = reason.unwrap_or("REJECTED").to_owned();
                    log::warn!("offline ticket {} rejected by central: {reason}", r.local_number);
                    report.rejected += 1;
                    refused.push((r.request_id, reason));
                }
            }
        }
        let journal = self.journal.clone();
        let still = tokio::task::spawn_blocking(move || {
            let mut j = journal.lock().expect("journal lock");
            j.confirm(&done)?;
            j.reject(&refused).map(|()| j.pending().len())
        })
        .await
        .map_err(|e| CallError::Unreachable(format!("journal task: {e}")))?
        .map_err(|e| CallError::Unreachable(e.to_string()))?;
        report.still_pending = still;
        Ok(report)
    }
}

impl CentralRuntime {
    /// The service screen's central check: reachability, round trip, offline backlog.
    pub async fn ping_line(&self) -> String {
        let t = std::time::Instant::now();
        match self
            .client
            .call::<protocol::call::GetQueueState>(&protocol::LpuParams { lpu_id: self.lpu.0 })
            .await
        {
            Ok(_) => format!(
                "central OK, {} ms; offline tickets pending: {}",
                t.elapsed().as_millis(),
                self.pending_offline()
            ),
            Err(e) => format!("central: {e}"),
        }
    }

    /// The service screen's "send offline tickets now".
    pub async fn sync_line(&self) -> String {
        match self.sync().await {
            Ok(r) => format!(
                "sync: {} confirmed, {} rejected, {} pending",
                r.confirmed, r.rejected, r.still_pending
            ),
            Err(e) => format!("sync: {e}"),
        }
    }
}

impl CentralRuntime {
    /// Starts the task that owns the client: it takes jobs from the returned channel, runs each
    /// concurrently and sends the resulting event to `answers`. Beside it, offline tickets are
    /// offered to central every `sync_every` while any are pending; a sync runs on a task of
    /// its own, so a slow central never holds up a patient's call. The tasks end when the job
    /// channel is dropped.
    pub fn spawn_observed(
        self: Arc<Self>,
        answers: EventSink,
        sync_every: Duration,
        observe: Observer,
    ) -> mpsc::Sender<CentralJob> {
        let (tx, mut rx) = mpsc::channel::<CentralJob>(64);
        let syncer = {
            let rt = self.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(sync_every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    if rt.pending_offline() == 0 {
                        continue;
                    }
                    match rt.sync().await {
                        Ok(r) if r.confirmed + r.rejected > 0 => log::info!(
                            "offline tickets synced: {} confirmed, {} rejected, {} pending",
                            r.confirmed,
                            r.rejected,
                            r.still_pending
                        ),
                        Ok(_) => {}
                        // Refused: the tickets will never sync until the token is fixed.
                        Err(e @ CallError::Refused(_)) => log::error!("offline sync: {e}"),
                        Err(e) => log::debug!("offline sync postponed: {e}"),
                    }
                }
            })
        };
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                let (rt, answers, observe) = (self.clone(), answers.clone(), observe.clone());
                tokio::spawn(async move {
                    let started = std::time::Instant::now();
                    let ev = rt.handle(job.req, job.credentials, job.call).await;
                    observe(started.elapsed(), &ev);
                    answers.answer(ev);
                });
            }
            syncer.abort();
        });
        tx
    }
}
