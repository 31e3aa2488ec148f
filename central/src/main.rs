//! `central`: serve the reference central API; manage its tokens and lab certificates; print
//! the demo patients; call the next ticket.
//! Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use central::app::{AppState, serve, serve_tls};
use central::auth::{Identity, TokenRecord, Tokens};
use central::store::{self, Store};
use protocol::Role;

#[derive(Parser, Debug)]
#[command(name = "central", version, about = "Infomat reference central service")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the database, tokens and TLS files come from (shared by `serve` and `check-config`).
#[derive(clap::Args, Debug, Clone)]
struct ServeConfig {
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// SQLite file path, or a postgres:// URL without a password (a password belongs in
    /// --db-file). Default: $CREDENTIALS_DIRECTORY/db-url, else $STATE_DIRECTORY/central.sqlite,
    /// else ./central.sqlite.
    #[arg(long, conflicts_with = "db_file")]
    db: Option<String>,
    /// A file holding the database URL (password included): kept out of argv and logs.
    #[arg(long)]
    db_file: Option<PathBuf>,
    /// Seed the demo clinic into an empty database and accept the demo tokens (`demo`,
    /// `demo-board`, `demo-doctor`, `demo-desk`, `demo-head`). Never in production.
    #[arg(long)]
    seed: Option<String>,
    /// The tokens file (hashed records, `central token add`); re-read on SIGHUP and when it
    /// changes. Default: $CREDENTIALS_DIRECTORY/tokens if present.
    #[arg(long)]
    tokens_file: Option<PathBuf>,
    /// The clinic of tokens in the old `KIOSK_ID=TOKEN` format.
    #[arg(long, default_value_t = 1)]
    default_lpu: u32,
    /// PEM certificate chain: serve HTTPS. Default: $CREDENTIALS_DIRECTORY/tls-cert if present.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert. Default: $CREDENTIALS_DIRECTORY/tls-key if present.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address (tokens and patients' policy numbers would
    /// cross the network readable by anyone on it): only behind a TLS-terminating proxy on the
    /// same host.
    #[arg(long)]
    insecure_plain_http: bool,
    /// Identity lookups that found nobody, per kiosk per minute; the other limits scale from it.
    #[arg(long, default_value_t = 10)]
    ident_per_minute: usize,
    /// The clinic's offset from UTC in minutes (Moscow: 180).
    #[arg(long, default_value_t = 180)]
    utc_offset: i16,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the booking and queue API and the queue feed.
    Serve(ServeConfig),
    /// Check what `serve` would start with (tokens, TLS, database, listen address) and print a
    /// summary without secrets; exit 2 on a problem.
    CheckConfig(ServeConfig),
    /// Manage tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Staff who log in to the console with a login and password.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Certificates.
    #[command(subcommand)]
    Cert(CertCommand),
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
        /// A doctor's token.
        #[arg(long, default_value = central::auth::DEMO_DOCTOR)]
        token: String,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Make a new random token, print it once, and append its hashed record to the tokens file.
    Add {
        #[arg(long)]
        role: Role,
        /// The clinic (lpuId).
        #[arg(long)]
        lpu: u32,
        /// Kiosks and boards: the device's kiosk.id (`2` or `K2`).
        #[arg(long, value_parser = parse_device)]
        device: Option<u32>,
        #[command(flatten)]
        who: WhoArgs,
    },
    /// Rewrite an old `KIOSK_ID=TOKEN` file as hashed records (the kiosks keep their tokens).
    Migrate {
        #[arg(long)]
        from: PathBuf,
        #[arg(long)]
        to: PathBuf,
        #[arg(long, default_value_t = 1)]
        default_lpu: u32,
    },
}

#[derive(Subcommand, Debug)]
enum StaffCommand {
    /// Add a person: reads their password from standard input (one line, at least 10
    /// characters) and appends a `[[person]]` record with its Argon2id hash to the tokens file.
    Add {
        #[arg(long)]
        login: String,
        /// doctor, infodesk, head or admin.
        #[arg(long)]
        role: Role,
        #[arg(long)]
        lpu: u32,
        #[command(flatten)]
        who: WhoArgs,
    },
}

/// What a token or a person is bound to besides role and clinic, and where it is written.
#[derive(clap::Args, Debug)]
struct WhoArgs {
    /// Doctors: a cabinet they may call to (repeatable; none: any of the clinic's).
    #[arg(long = "room")]
    rooms: Vec<String>,
    #[arg(long)]
    doctor_id: Option<u64>,
    /// A name for people (logs, the console).
    #[arg(long, default_value = "")]
    name: String,
    /// Info desks: the desk's ticket printer (tcp://HOST:PORT, usb://VID:PID, ...).
    #[arg(long)]
    printer: Option<String>,
    #[arg(long, default_value = "/etc/infomat/central/tokens")]
    tokens_file: PathBuf,
}

impl WhoArgs {
    /// The identity of `role` at clinic `lpu` (device `device`) these describe.
    fn identity(&self, role: Role, lpu: u32, device: Option<u32>) -> Identity {
        let mut who = Identity::new(role, lpu, device);
        who.rooms = self.rooms.clone();
        who.doctor_id = self.doctor_id;
        who.name = self.name.clone();
        who.printer = self.printer.clone();
        who
    }
}

#[derive(Subcommand, Debug)]
enum CertCommand {
    /// A lab CA and a server certificate it signed: DIR/ca.pem (for kiosks' central.ca_file),
    /// DIR/cert.pem and DIR/key.pem (mode 0600) for --tls-cert/--tls-key.
    SelfSigned {
        #[arg(long)]
        out: PathBuf,
        /// Host names or IP addresses kiosks reach central by (repeatable; localhost and
        /// 127.0.0.1 are always included).
        #[arg(long = "name")]
        names: Vec<String>,
    },
}

/// Appends a record to the tokens file, once the whole file with it still reads.
fn add_record(tokens_file: &Path, record: &str) -> anyhow::Result<()> {
    let existing = match std::fs::read_to_string(tokens_file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(config_err(format!("{}: {e}", tokens_file.display()))),
    };
    let mut text = existing.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push('\n');
    text.push_str(record);
    Tokens::parse(&text, &tokens_file.display().to_string(), 1).map_err(|e| config_err(e.to_string()))?;
    append(tokens_file, &text[existing.len()..])
}

fn parse_device(s: &str) -> Result<u32, String> {
    let digits = s.trim().trim_start_matches(['K', 'k', 'B', 'b']);
    digits.parse().map_err(|_| format!("{s:?}: a device is its kiosk.id, a number (2 or K2)"))
}

/// A configuration problem: exit 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ConfigError(String);

fn config_err(m: impl Into<String>) -> anyhow::Error {
    ConfigError(m.into()).into()
}

fn credential(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY")?;
    let p = Path::new(&dir).join(name);
    p.exists().then_some(p)
}

/// What `serve` starts with, resolved from flags and systemd's directories.
struct Resolved {
    db: String,
    tokens_file: Option<PathBuf>,
    tls: Option<(PathBuf, PathBuf)>,
    listen: String,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("db", &store::redact(&store::db_url(&self.db)))
            .field("tokens_file", &self.tokens_file)
            .field("tls", &self.tls)
            .field("listen", &self.listen)
            .finish()
    }
}

fn resolve(c: &ServeConfig) -> anyhow::Result<Resolved> {
    let db = if let Some(db) = &c.db {
        if store::has_password(db) {
            // argv is readable by every user of the machine (ps, /proc).
            return Err(config_err(
                "--db: the URL has a password: put it in a file and pass --db-file (or LoadCredential=db-url)",
            ));
        }
        db.clone()
    } else {
        let file = c.db_file.clone().or_else(|| credential("db-url"));
        match file {
            Some(f) => std::fs::read_to_string(&f)
                .map_err(|e| config_err(format!("--db-file {}: {e}", f.display())))?
                .trim()
                .to_owned(),
            None => match std::env::var_os("STATE_DIRECTORY") {
                // systemd may list several state directories separated by colons: the first.
                Some(d) => {
                    let first = d.to_string_lossy().split(':').next().unwrap_or_default().to_owned();
                    Path::new(&first).join("central.sqlite").display().to_string()
                }
                None => "central.sqlite".into(),
            },
        }
    };
    if db.is_empty() {
        return Err(config_err("the database URL is empty"));
    }
    let tls = match (&c.tls_cert, &c.tls_key) {
        (Some(c), Some(k)) => Some((c.clone(), k.clone())),
        _ => credential("tls-cert").zip(credential("tls-key")),
    };
    Ok(Resolved {
        db,
        tokens_file: c.tokens_file.clone().or_else(|| credential("tokens")),
        tls,
        listen: c.listen.clone(),
    })
}

/// Whether every address `listen` resolves to is loopback.
async fn loopback_only(listen: &str) -> anyhow::Result<bool> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(listen)
        .await
        .map_err(|e| config_err(format!("--listen {listen}: {e}")))?
        .collect();
    Ok(!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()))
}

/// The tokens central accepts now: the file's, plus the demo's with `--seed demo`.
fn load_tokens(file: Option<&Path>, default_lpu: u32, demo: bool) -> anyhow::Result<Tokens> {
    let mut all = if demo { central::auth::demo_tokens() } else { Tokens::default() };
    if let Some(f) = file {
        let (t, warnings) = Tokens::load(f, default_lpu).map_err(|e| config_err(e.to_string()))?;
        for w in warnings {
            log::warn!("{w}");
        }
        all.merge(t, &f.display().to_string()).map_err(|e| config_err(e.to_string()))?;
    }
    Ok(all)
}

fn summary(t: &Tokens) -> String {
    format!("{} token(s)", t.len())
}

async fn check(c: &ServeConfig) -> anyhow::Result<(Resolved, Tokens, Option<Arc<rustls::ServerConfig>>)> {
    let r = resolve(c)?;
    let demo = match c.seed.as_deref() {
        None => false,
        Some("demo") => true,
        Some(other) => return Err(config_err(format!("--seed {other}: the only seed is \"demo\""))),
    };
    let tokens = load_tokens(r.tokens_file.as_deref(), c.default_lpu, demo)?;
    let tls = match &r.tls {
        Some((cert, key)) => {
            Some(central::tls::server_config(cert, key).map_err(|e| config_err(e.to_string()))?)
        }
        None => None,
    };
    if tls.is_none() && !c.insecure_plain_http && !loopback_only(&r.listen).await? {
        return Err(config_err(format!(
            "--listen {}: plain HTTP off loopback would carry tokens and policy numbers in clear: \
             give --tls-cert/--tls-key (`central cert self-signed` for a lab), or --insecure-plain-http \
             behind a TLS proxy on this host",
            r.listen
        )));
    }
    Ok((r, tokens, tls))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::CheckConfig(c) => {
            let (r, tokens, tls) = check(&c).await?;
            println!("listen: {} ({})", r.listen, if tls.is_some() { "https" } else { "plain http" });
            println!("database: {}", store::redact(&store::db_url(&r.db)));
            println!(
                "tokens: {}{}",
                summary(&tokens),
                r.tokens_file.as_ref().map(|f| format!(" from {}", f.display())).unwrap_or_default()
            );
            Ok(())
        }
        Command::Serve(c) => serve_command(c).await,
        Command::Token(TokenCommand::Add { role, lpu, device, who: args }) => {
            let who = args.identity(role, lpu, device);
            let tokens_file = args.tokens_file;
            let token = central::auth::generate()?;
            let record = TokenRecord::new(&token, &who);
            add_record(&tokens_file, &record.to_toml())?;
            eprintln!(
                "central: {role} token for clinic {lpu}{} added to {}; it is shown once, now:",
                device.map(|d| format!(", device {d}")).unwrap_or_default(),
                tokens_file.display()
            );
            println!("{token}");
            Ok(())
        }
        Command::Staff(StaffCommand::Add { login, role, lpu, who: args }) => {
            let who = args.identity(role, lpu, None);
            let tokens_file = args.tokens_file;
            eprintln!("central: the password for {login} (one line on standard input):");
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']);
            let record = central::auth::PersonRecord::new(&login, password, &who)
                .map_err(|e| config_err(e.to_string()))?;
            add_record(&tokens_file, &record.to_toml())?;
            eprintln!("central: {role} {login} of clinic {lpu} added to {}", tokens_file.display());
            Ok(())
        }
        Command::Token(TokenCommand::Migrate { from, to, default_lpu }) => {
            let text =
                std::fs::read_to_string(&from).map_err(|e| config_err(format!("{}: {e}", from.display())))?;
            let records = Tokens::migrate(&text, &from.display().to_string(), default_lpu)
                .map_err(|e| config_err(e.to_string()))?;
            let out: Vec<String> = records.iter().map(TokenRecord::to_toml).collect();
            append(&to, &out.join("\n"))?;
            eprintln!(
                "central: {} token(s) of {} written hashed to {}",
                records.len(),
                from.display(),
                to.display()
            );
            Ok(())
        }
        Command::Cert(CertCommand::SelfSigned { out, names }) => {
            let paths = central::tls::self_signed(&names)?.write(&out)?;
            for p in paths {
                println!("{}", p.display());
            }
            Ok(())
        }
        Command::Seed { db, print_patients } => {
            if print_patients {
                print!("{}", central::seed::patients_csv());
            }
            if let Some(db) = db {
                if store::has_password(&db) {
                    return Err(config_err(
                        "--db: the URL has a password: seed through `serve --db-file F --seed demo`",
                    ));
                }
                let store = Store::open_checked(&db).await?;
                central::seed::seed(&store, common::clock::now_at_offset(central::seed::OFFSET).date).await?;
                eprintln!("central: demo clinic seeded into {}", store.url_redacted());
            }
            Ok(())
        }
        Command::CallNext { central, lpu, room, token } => {
            let params = protocol::CallNextParams { lpu_id: lpu, room, doctor_id: None };
            match central::client::call::<protocol::call::CallNext>(&central, &token, &params).await? {
                None => println!("nobody is waiting"),
                Some(t) => println!("{} -> cabinet {}", t.ticket_number, t.room),
            }
            Ok(())
        }
    }
}

/// Appends to a tokens file, creating it 0644 (it holds hashes only; root writes it).
fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .open(path)
        .map_err(|e| config_err(format!("{}: {e}", path.display())))?;
    f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).with_context(|| path.display().to_string())
}

async fn serve_command(c: ServeConfig) -> anyhow::Result<()> {
    let (r, tokens, tls) = check(&c).await?;
    let demo = c.seed.as_deref() == Some("demo");
    let store = Store::open_checked(&r.db).await?;
    if demo {
        central::seed::seed(&store, common::clock::now_at_offset(c.utc_offset).date).await?;
        log::warn!(
            "demo seed: the demo tokens (\"demo\", \"demo-board\", \"demo-doctor\", ...) are accepted; never use --seed demo in production"
        );
    }
    if tokens.is_empty() {
        log::warn!("no tokens configured: every request will get 401 (`central token add`)");
    }
    log::info!("database {}; {}", store.url_redacted(), summary(&tokens));
    let utc_offset = c.utc_offset;
    let clock: central::app::Clock = Arc::new(move || common::clock::now_at_offset(utc_offset));
    let mut state = AppState::new(store, tokens, clock);
    state.ident_per_minute = c.ident_per_minute;
    state.default_lpu = c.default_lpu;
    let state = Arc::new(state);
    tokio::spawn(reload_tokens(state.clone(), r.tokens_file.clone(), c.default_lpu, demo));
    let listener = tokio::net::TcpListener::bind(&r.listen)
        .await
        .with_context(|| format!("listening on {}", r.listen))?;
    let addr = listener.local_addr()?;
    match tls {
        Some(tls) => {
            log::info!("central listening on https://{addr}");
            serve_tls(listener, tls, state, shutdown()).await?;
        }
        None => {
            log::info!("central listening on http://{addr}");
            serve(listener, state, shutdown()).await?;
        }
    }
    log::info!("central stopped");
    Ok(())
}

/// How often the tokens file is checked for changes.
const WATCH_EVERY: Duration = Duration::from_secs(2);

/// Rotation without a restart: re-reads the tokens file on SIGHUP (`systemctl reload`) and when
/// it changes. A file that does not read keeps the tokens in force, and says why.
async fn reload_tokens(state: Arc<AppState>, file: Option<PathBuf>, default_lpu: u32, demo: bool) {
    let Some(file) = file else { return };
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        log::error!("cannot handle SIGHUP: tokens are re-read only when {} changes", file.display());
        return;
    };
    let stamp = |f: &Path| {
        std::fs::metadata(f).ok().map(|m| {
            use std::os::unix::fs::MetadataExt;
            (m.mtime(), m.mtime_nsec(), m.len(), m.ino())
        })
    };
    let mut last = stamp(&file);
    let mut tick = tokio::time::interval(WATCH_EVERY);
    loop {
        let why = tokio::select! {
            _ = hup.recv() => "SIGHUP",
            _ = tick.tick() => {
                let now = stamp(&file);
                if now == last { continue; }
                "the file changed"
            }
        };
        last = stamp(&file);
        match load_tokens(Some(&file), default_lpu, demo) {
            Ok(t) => {
                log::info!("tokens re-read from {} ({why}): {}", file.display(), summary(&t));
                state.set_tokens(t);
            }
            Err(e) => log::error!("tokens not re-read ({why}), the previous ones stay in force: {e}"),
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
            ExitCode::from(if e.downcast_ref::<ConfigError>().is_some() { 2 } else { 1 })
        }
    }
}
