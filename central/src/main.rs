//! `central`: serve the reference central API, print the demo patients, call the next ticket.
//! Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use central::app::{AppState, serve};
use central::store::Store;

#[derive(Parser, Debug)]
#[command(name = "central", version, about = "Infomat reference central service")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the booking and queue API and the queue feed.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// SQLite file path (embedded) or postgres://user@host/db.
        #[arg(long, default_value = "central.sqlite")]
        db: String,
        /// Seed the demo clinic into an empty database; also accept the kiosk token `demo`.
        #[arg(long)]
        seed: Option<String>,
        /// Kiosk tokens as KIOSK_ID=TOKEN (repeatable).
        #[arg(long = "token")]
        tokens: Vec<String>,
        /// A file of KIOSK_ID=TOKEN lines.
        #[arg(long)]
        tokens_file: Option<std::path::PathBuf>,
        /// Identification attempts per kiosk per minute.
        #[arg(long, default_value_t = 10)]
        ident_per_minute: usize,
        /// The clinic's offset from UTC in minutes (Moscow: 180).
        #[arg(long, default_value_t = 180)]
        utc_offset: i16,
    },
    /// Seed the demo clinic, or print its patients.
    Seed {
        #[arg(long)]
        db: Option<String>,
        /// Print the demo patients as CSV (test data, not real people).
        #[arg(long)]
        print_patients: bool,
    },
    /// Call the next walk-in ticket to a room (a doctor's workstation in the demo and tests).
    CallNext {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        central: String,
        #[arg(long, default_value_t = 1)]
        lpu: u32,
        #[arg(long)]
        room: String,
        #[arg(long, default_value = "demo")]
        token: String,
    },
}

fn parse_tokens(lines: impl IntoIterator<Item = String>) -> anyhow::Result<HashMap<String, u32>> {
    let mut out = HashMap::new();
    for l in lines {
        let l = l.trim().to_owned();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (id, token) =
            l.split_once('=').with_context(|| format!("token {l:?}: expected KIOSK_ID=TOKEN"))?;
        let id: u32 = id.trim().parse().with_context(|| format!("token {l:?}: kiosk id is a number"))?;
        out.insert(token.trim().to_owned(), id);
    }
    Ok(out)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { listen, db, seed, tokens, tokens_file, ident_per_minute, utc_offset } => {
            let mut all = parse_tokens(tokens)?;
            if let Some(f) = tokens_file {
                let text = std::fs::read_to_string(&f).with_context(|| format!("{}", f.display()))?;
                all.extend(parse_tokens(text.lines().map(str::to_owned))?);
            }
            let store = Store::open(&db).await.with_context(|| format!("opening database {db}"))?;
            match seed.as_deref() {
                None => {}
                Some("demo") => {
                    central::seed::seed(&store, common::clock::now_at_offset(utc_offset).date).await?;
                    all.insert("demo".into(), 0);
                    log::warn!(
                        "demo seed: the kiosk token \"demo\" is accepted; never use --seed demo in production"
                    );
                }
                Some(other) => anyhow::bail!("--seed {other}: the only seed is \"demo\""),
            }
            if all.is_empty() {
                log::warn!("no kiosk tokens configured: every request will get 401");
            }
            let clock: central::app::Clock = Arc::new(move || common::clock::now_at_offset(utc_offset));
            let mut state = AppState::new(store, all, clock);
            state.ident_per_minute = ident_per_minute;
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .with_context(|| format!("listening on {listen}"))?;
            log::info!("central listening on {}", listener.local_addr()?);
            serve(listener, Arc::new(state), shutdown()).await?;
            log::info!("central stopped");
            Ok(())
        }
        Command::Seed { db, print_patients } => {
            if print_patients {
                print!("{}", central::seed::patients_csv());
            }
            if let Some(db) = db {
                let store = Store::open(&db).await?;
                central::seed::seed(&store, common::clock::now_at_offset(central::seed::OFFSET).date).await?;
                eprintln!("central: demo clinic seeded into {db}");
            }
            Ok(())
        }
        Command::CallNext { central, lpu, room, token } => {
            let body = serde_json::to_vec(&domain::wire::Request::new(
                1,
                "callNext",
                serde_json::json!({"lpuId": lpu, "room": room}),
            ))?;
            let reply = central::client::post_json(&central, domain::wire::QUEUE_PATH, &token, &body).await?;
            let r: domain::wire::Response =
                serde_json::from_slice(&reply).context("central's answer is not JSON-RPC")?;
            match (r.result, r.error) {
                (_, Some(e)) => {
                    anyhow::bail!("central refused: {} ({})", e.message, e.string_code().unwrap_or(""))
                }
                (Some(serde_json::Value::Null) | None, None) => println!("nobody is waiting"),
                (Some(v), None) => {
                    let t: domain::wire::CalledTicket = serde_json::from_value(v)?;
                    println!("{} -> cabinet {}", t.ticket_number, t.room);
                }
            }
            Ok(())
        }
    }
}

async fn shutdown() {
    let mut term =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    log::info!("shutting down");
}

fn main() -> ExitCode {
    common::logging::init(log::LevelFilter::Info);
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("central: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("central: {e:#}");
            ExitCode::from(1)
        }
    }
}
