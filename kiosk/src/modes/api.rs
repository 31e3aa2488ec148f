//! `kiosk api ...`: a technician's check of the link to a central system, using the same
//! client the patient screens use. Readable output, or `--json` for machines.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use domain::{BirthDate, Date, Enp, KioskId, LpuId};

use common::clock::Zone;

use crate::central_link::client::{CallError, Client};
use crate::central_link::executor::CentralRuntime;
use crate::config::CentralConfig;
use crate::session::{Credentials, Event, Reply, RequestId};

#[derive(Debug, Clone)]
pub struct ApiTarget {
    pub central: CentralConfig,
    pub kiosk: KioskId,
    pub lpu: LpuId,
    pub journal_dir: PathBuf,
    pub timezone: Zone,
}

/// `kiosk api ...`'s command line.
#[derive(Debug, Clone, clap::Args)]
pub struct ApiArgs {
    #[command(subcommand)]
    pub command: ApiCmd,
    #[arg(long, default_value = "/etc/infomat/kiosk.toml", global = true)]
    pub config: PathBuf,
    /// Central URL (overrides the config; with --token, no config is needed).
    #[arg(long, global = true)]
    pub central: Option<String>,
    #[arg(long, global = true)]
    pub token: Option<String>,
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum ApiCmd {
    /// Reachability, latency and token.
    Ping,
    /// The specialities central offers a patient.
    Specialities {
        #[arg(long)]
        policy: String,
        #[arg(long)]
        birth: String,
    },
    /// The duty-doctor queue of a clinic.
    Queue {
        #[arg(long, default_value_t = 1)]
        lpu: u32,
    },
    /// Take a walk-in ticket for a patient (offline when central is down).
    Enqueue {
        #[arg(long)]
        policy: String,
        #[arg(long)]
        birth: String,
    },
    /// Send the offline tickets waiting in the journal.
    Sync,
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
    Usage(String),
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Client(#[from] crate::central_link::client::ClientSetupError),
    #[error("{0}")]
    Setup(String),
    #[error("{0}")]
    Call(#[from] CallError),
    #[error("output: {0}")]
    Output(#[from] std::io::Error),
}

impl super::Failure for ApiError {
    fn exit_code(&self) -> u8 {
        match self {
            ApiError::Usage(_) | ApiError::Config(_) | ApiError::Client(_) => 2,
            _ => 1,
        }
    }
}

/// Where the commands go: the config file's central and kiosk, or `--central`/`--token`
/// (then no config is needed; kiosk id and journal from `INFOMAT_KIOSK_ID`/`INFOMAT_JOURNAL_DIR`).
fn target(args: &ApiArgs) -> Result<ApiTarget, ApiError> {
    let mut target = if args.config.exists() || args.central.is_none() || args.token.is_none() {
        let c = crate::config::load(&args.config)?;
        ApiTarget {
            central: c.central,
            kiosk: c.kiosk.id,
            lpu: c.kiosk.lpu,
            journal_dir: c.journal_dir,
            timezone: c.timezone,
        }
    } else {
        ApiTarget {
            central: CentralConfig {
                url: String::new(),
                token: String::new(),
                ca_file: None,
                connect_timeout: Duration::from_secs(2),
                request_timeout: Duration::from_secs(5),
            },
            kiosk: KioskId(std::env::var("INFOMAT_KIOSK_ID").ok().and_then(|v| v.parse().ok()).unwrap_or(1)),
            lpu: LpuId(1),
            journal_dir: std::env::var_os("INFOMAT_JOURNAL_DIR")
                .map_or_else(|| PathBuf::from("/var/lib/infomat"), PathBuf::from),
            timezone: Zone::system(),
        }
    };
    if let Some(c) = &args.central {
        target.central.url = c.trim_end_matches('/').to_owned();
    }
    if let Some(t) = &args.token {
        target.central.token = t.clone();
    }
    Ok(target)
}

fn patient(policy: &str, birth: &str) -> Result<(Enp, Date), ApiError> {
    let enp = Enp::parse(policy).map_err(|e| ApiError::Usage(format!("--policy: {e}")))?;
    let birth = Date::parse_iso(birth).map_err(|e| ApiError::Usage(format!("--birth: {e}")))?;
    Ok((enp, birth))
}

/// `kiosk api ...`: resolves the target, runs the command, writes to `out`.
pub fn main(args: &ApiArgs, out: &mut dyn Write) -> Result<(), ApiError> {
    common::logging::init(log::LevelFilter::Warn);
    let target = target(args)?;
    let cmd = match &args.command {
        ApiCmd::Ping => ApiCommand::Ping,
        ApiCmd::Queue { lpu } => ApiCommand::Queue { lpu: *lpu },
        ApiCmd::Sync => ApiCommand::Sync,
        ApiCmd::Specialities { policy, birth } => {
            let (enp, birth) = patient(policy, birth)?;
            ApiCommand::Specialities { enp, birth }
        }
        ApiCmd::Enqueue { policy, birth } => {
            let (enp, birth) = patient(policy, birth)?;
            ApiCommand::Enqueue { enp, birth }
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(run(&target, cmd, args.json, out))
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
    let client = Client::new(&target.central)?;
    match cmd {
        ApiCommand::Ping => {
            let t = Instant::now();
            let state = client
                .call::<protocol::call::GetQueueState>(&protocol::LpuParams { lpu_id: target.lpu.0 })
                .await?;
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
            let reply = crate::central_link::calls::run(
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
            let s =
                client.call::<protocol::call::GetQueueState>(&protocol::LpuParams { lpu_id: lpu }).await?;
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
    let zone = target.timezone.clone();
    CentralRuntime::new(
        client.with_backoff(Duration::from_millis(100)),
        target.kiosk,
        target.lpu,
        &target.journal_dir,
        Arc::new(move || zone.now()),
    )
    .map_err(|e| ApiError::Setup(e.to_string()))
}
