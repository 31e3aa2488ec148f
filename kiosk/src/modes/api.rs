//! `kiosk api ...`: a technician's check of the link to a central system, using the same
//! client the patient screens use. Readable output, or `--json` for machines.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use domain::{BirthDate, Date, Enp, KioskId, LpuId};

use crate::central::client::{CallError, Client, Endpoint};
use crate::central::executor::CentralRuntime;
use crate::config::CentralConfig;
use crate::session::{Credentials, Event, Reply, RequestId};

#[derive(Debug, Clone)]
pub struct ApiTarget {
    pub central: CentralConfig,
    pub kiosk: KioskId,
    pub lpu: LpuId,
    pub journal_dir: PathBuf,
    pub utc_offset: i16,
}

#[derive(Debug, Clone)]
pub enum ApiCommand {
    Ping,
    Specialities {
        enp: Enp,
        birth: Date,
    },
    Queue {
        lpu: u32,
    },
    /// Take a walk-in ticket (offline when central is down), as the patient screen does.
    Enqueue {
        enp: Enp,
        birth: Date,
    },
    /// Send pending offline tickets.
    Sync,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Setup(String),
    #[error("{0}")]
    Call(#[from] CallError),
    #[error("output: {0}")]
    Output(#[from] std::io::Error),
}

fn creds(enp: Enp, birth: Date) -> Credentials {
    Credentials { enp, birth_date: BirthDate(birth) }
}

pub async fn run(
    target: &ApiTarget,
    cmd: ApiCommand,
    json_out: bool,
    out: &mut dyn Write,
) -> Result<(), ApiError> {
    let client = Client::new(&target.central).map_err(ApiError::Setup)?;
    match cmd {
        ApiCommand::Ping => {
            let t = Instant::now();
            let state: domain::wire::QueueState =
                client.call(Endpoint::Queue, "getQueueState", &json!({"lpuId": target.lpu.0})).await?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if json_out {
                writeln!(
                    out,
                    "{}",
                    json!({"central": client.base(), "ok": true, "latency_ms": ms, "waiting": state.waiting})
                )?;
            } else {
                writeln!(
                    out,
                    "central {} answers in {ms:.0} ms; token accepted; {} waiting",
                    client.base(),
                    state.waiting
                )?;
            }
        }
        ApiCommand::Specialities { enp, birth } => {
            let reply = crate::central::api::run(
                &client,
                &creds(enp, birth),
                &crate::session::CentralCall::Specialities,
                "",
            )
            .await?;
            let Reply::Specialities(list) = reply else {
                return Err(ApiError::Setup("unexpected reply".into()));
            };
            if json_out {
                let v: Vec<_> = list
                    .iter()
                    .map(|s| json!({"code": s.code, "name": s.name, "first_level": s.first_level}))
                    .collect();
                writeln!(out, "{}", serde_json::Value::from(v))?;
            } else {
                for s in list {
                    let how = if s.first_level { "directly" } else { "by referral" };
                    writeln!(out, "{:>6}  {}  ({how})", s.code, s.name)?;
                }
            }
        }
        ApiCommand::Queue { lpu } => {
            let s: domain::wire::QueueState =
                client.call(Endpoint::Queue, "getQueueState", &json!({"lpuId": lpu})).await?;
            if json_out {
                writeln!(out, "{}", serde_json::to_string(&s).expect("serialisable"))?;
            } else {
                writeln!(
                    out,
                    "clinic {lpu}: {} waiting, average wait {}",
                    s.waiting,
                    s.average_wait_minutes.map_or("-".into(), |m| format!("{m} min"))
                )?;
                for c in s.called {
                    writeln!(out, "  {} -> cabinet {} at {}", c.ticket_number, c.room, c.called_at.hhmm())?;
                }
            }
        }
        ApiCommand::Enqueue { enp, birth } => {
            let rt = runtime(target, client)?;
            let req = RequestId(1);
            let Event::Central { result, .. } =
                rt.handle(req, creds(enp, birth), crate::session::CentralCall::EnqueueWalkIn).await
            else {
                return Err(ApiError::Setup("unexpected event".into()));
            };
            // A patient who already waits gets their ticket again, as the kiosk screen shows it.
            let (t, already) = match result {
                Ok(Reply::Ticket(t)) => (t, false),
                Err(crate::session::CentralError::AlreadyInQueue(t)) => (t, true),
                Ok(_) => return Err(ApiError::Setup("unexpected reply".into())),
                Err(e) => return Err(ApiError::Setup(format!("central refused: {e:?}"))),
            };
            if json_out {
                let v = json!({"number": t.number.0, "offline": t.offline, "ticket_id": t.ticket_id, "already_had": already});
                writeln!(out, "{v}")?;
            } else {
                let how = if t.offline { " (offline, will be sent to central)" } else { "" };
                let again = if already { " (already in the queue)" } else { "" };
                writeln!(out, "ticket {}{how}{again}", t.number)?;
            }
        }
        ApiCommand::Sync => {
            let rt = runtime(target, client)?;
            let r = rt.sync().await?;
            if json_out {
                writeln!(
                    out,
                    "{}",
                    json!({"confirmed": r.confirmed, "rejected": r.rejected, "pending": r.still_pending})
                )?;
            } else {
                writeln!(
                    out,
                    "offline tickets: {} confirmed, {} rejected, {} still pending",
                    r.confirmed, r.rejected, r.still_pending
                )?;
            }
        }
    }
    Ok(())
}

fn runtime(target: &ApiTarget, client: Client) -> Result<CentralRuntime, ApiError> {
    let offset = target.utc_offset;
    CentralRuntime::new(
        client.with_backoff(Duration::from_millis(100)),
        target.kiosk,
        target.lpu,
        &target.journal_dir,
        Arc::new(move || common::clock::now_at_offset(offset)),
    )
    .map_err(|e| ApiError::Setup(e.to_string()))
}
