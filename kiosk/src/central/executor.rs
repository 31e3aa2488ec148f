//! Carries out the session's central calls, with the offline walk-in path and the sync of
//! offline tickets. Async, owned by the kiosk runtime; the session only sees events.
//!
//! Idempotency keys: `k<kiosk>-<boot>-<request>`, where `boot` is unique per process start, so
//! keys never repeat across restarts and a retried write reuses its key.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use domain::{DateTime, KioskId, LpuId, QueueTicket, TicketNumber};

use super::api;
use super::client::{CallError, Client};
use super::journal::{Journal, JournalError};
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
        let boot = format!("{:x}{:x}", common::clock::unix_seconds(), std::process::id());
        Ok(CentralRuntime { client, kiosk, lpu, journal: Arc::new(Mutex::new(journal)), boot, clock })
    }

    pub fn request_key(&self, req: RequestId) -> String {
        format!("k{}-{}-{}", self.kiosk.0, self.boot, req.0)
    }

    pub fn pending_offline(&self) -> usize {
        self.journal.lock().expect("journal lock").pending().len()
    }

    /// Runs a session call and answers with the event the session expects.
    pub async fn handle(&self, req: RequestId, credentials: Credentials, call: CentralCall) -> Event {
        let result = match call {
            CentralCall::EnqueueWalkIn => self.walk_in(req, &credentials).await,
            other => {
                let key = self.request_key(req);
                api::run(&self.client, &credentials, &other, &key).await.map_err(|e| {
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
        match api::enqueue(&self.client, cr, self.lpu.0, self.kiosk.0, &key).await {
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
                        offline: true,
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

    /// Sends pending offline tickets; forgets those central confirmed (or can never accept).
    pub async fn sync(&self) -> Result<SyncReport, CallError> {
        let pending = self.journal.lock().expect("journal lock").pending().to_vec();
        if pending.is_empty() {
            return Ok(SyncReport::default());
        }
        let params =
            domain::wire::SyncParams { kiosk_id: self.kiosk.0, lpu_id: Some(self.lpu.0), tickets: pending };
        let results = api::sync(&self.client, &params).await?;
        let mut done = Vec::new();
        let mut report = SyncReport::default();
        for r in results {
            match r.status.as_str() {
                "accepted" | "duplicate" => {
                    report.confirmed += 1;
                    done.push(r.request_id);
                }
                _ => {
                    // Central will never take it (an unknown patient): keeping it would retry forever.
                    log::warn!(
                        "offline ticket {} rejected by central: {}",
                        r.local_number,
                        r.error.unwrap_or_default()
                    );
                    report.rejected += 1;
                    done.push(r.request_id);
                }
            }
        }
        let journal = self.journal.clone();
        let still = tokio::task::spawn_blocking(move || {
            let mut j = journal.lock().expect("journal lock");
            j.confirm(&done).map(|()| j.pending().len())
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
            .call::<_, serde_json::Value>(
                super::client::Endpoint::Queue,
                "getQueueState",
                &serde_json::json!({"lpuId": self.lpu.0}),
            )
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

/// A session call for the runtime's task.
#[derive(Debug, Clone)]
pub struct Job {
    pub req: RequestId,
    pub credentials: Credentials,
    pub call: CentralCall,
}

impl CentralRuntime {
    /// Starts the task that owns the client: it takes jobs from the returned channel, runs each
    /// concurrently and sends the resulting events to `events`; between jobs it sends offline
    /// tickets to central every `sync_every` while any are pending. The UI and the session only
    /// ever touch the channels. The task ends when the job channel is dropped.
    pub fn spawn(self: Arc<Self>, events: mpsc::Sender<Event>, sync_every: Duration) -> mpsc::Sender<Job> {
        self.spawn_observed(events, sync_every, Arc::new(|_, _| {}))
    }

    /// [`CentralRuntime::spawn`], telling `observe` how long each call took and how it ended.
    pub fn spawn_observed(
        self: Arc<Self>,
        events: mpsc::Sender<Event>,
        sync_every: Duration,
        observe: Observer,
    ) -> mpsc::Sender<Job> {
        let (tx, mut rx) = mpsc::channel::<Job>(64);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(sync_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    job = rx.recv() => {
                        let Some(job) = job else { return };
                        let (rt, events, observe) = (self.clone(), events.clone(), observe.clone());
                        tokio::spawn(async move {
                            let started = std::time::Instant::now();
                            let ev = rt.handle(job.req, job.credentials, job.call).await;
                            observe(started.elapsed(), &ev);
                            let _ = events.send(ev).await;
                        });
                    }
                    _ = tick.tick() => {
                        if self.pending_offline() > 0 {
                            match self.sync().await {
                                Ok(r) if r.confirmed + r.rejected > 0 => {
                                    log::info!("offline tickets synced: {} confirmed, {} rejected, {} pending", r.confirmed, r.rejected, r.still_pending);
                                }
                                Ok(_) => {}
                                Err(e) => log::debug!("offline sync postponed: {e}"),
                            }
                        }
                    }
                }
            }
        });
        tx
    }
}
