//! The `kiosk` binary: parse the command line, pick a mode, map the outcome to an exit code.
//! Exit codes: 0 success, 1 runtime failure, 2 bad configuration or usage.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "kiosk", version = kiosk::VERSION, about = "Infomat: clinic self-service kiosk and waiting-zone display")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the patient kiosk with a configuration file.
    Run {
        #[arg(long, default_value = "/etc/infomat/kiosk.toml")]
        config: PathBuf,
        /// Render into memory instead of a window (tests, benchmarks; /health keeps working).
        #[arg(long)]
        offscreen: bool,
    },
    /// The waiting-zone board: called tickets, live from central's queue feed.
    Display {
        #[arg(long, default_value = "/etc/infomat/display.toml")]
        config: PathBuf,
        /// Render into memory instead of a window (tests, benchmarks).
        #[arg(long)]
        offscreen: bool,
    },
    /// Check a configuration file and print what it means.
    CheckConfig {
        #[arg(long, default_value = "/etc/infomat/kiosk.toml")]
        config: PathBuf,
    },
    /// Decode raw policy-scanner bytes (a file, or --hex) and print the policy as JSON.
    DecodePolicy {
        /// File holding the raw bytes of one scan.
        file: Option<PathBuf>,
        #[arg(long, conflicts_with = "file")]
        hex: Option<String>,
    },
    /// Check the link to central with the kiosk's own client.
    Api {
        #[command(subcommand)]
        command: ApiCmd,
        #[arg(long, default_value = "/etc/infomat/kiosk.toml", global = true)]
        config: PathBuf,
        /// Central URL (overrides the config; with --token, no config is needed).
        #[arg(long, global = true)]
        central: Option<String>,
        #[arg(long, global = true)]
        token: Option<String>,
        /// Machine-readable output.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Check every device and the link to central; exit 0 all pass, 1 a failure, 2 bad config.
    Selftest {
        #[arg(long, default_value = "/etc/infomat/kiosk.toml")]
        config: PathBuf,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        print_test_page: bool,
        /// Wait this many seconds for a live scan.
        #[arg(long)]
        wait_scan: Option<u64>,
    },
    /// Render a screen with sample data to PNG (software renderer, no display needed).
    Screenshot {
        #[arg(long, required_unless_present_any = ["list", "all", "display"])]
        screen: Option<String>,
        #[arg(long, required_unless_present_any = ["list", "all"])]
        out: Option<PathBuf>,
        #[arg(long, default_value = "ru")]
        lang: String,
        #[arg(long)]
        large: bool,
        /// Name the screens.
        #[arg(long)]
        list: bool,
        /// Every screen in ru, en and ru large text into this directory.
        #[arg(long)]
        all: Option<PathBuf>,
        /// The waiting-zone board (1920x1080) instead of the kiosk; --screen defaults to `board`.
        #[arg(long)]
        display: bool,
    },
    /// Scripted patient visits against central and the virtual devices, with accounting.
    Soak {
        #[arg(long, default_value_t = 10_000)]
        sessions: usize,
    },
    /// Run the demo on embedded defaults.
    Demo {
        /// No window: run a scripted walk-in and booking and print each screen.
        #[arg(long)]
        headless: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ApiCmd {
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

fn api_target(
    config: &std::path::Path,
    central: Option<String>,
    token: Option<String>,
) -> Result<kiosk::modes::api::ApiTarget, String> {
    use kiosk::modes::api::ApiTarget;
    let loaded = if config.exists() || (central.is_none() || token.is_none()) {
        Some(kiosk::config::load(config).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let mut target = match loaded {
        Some(c) => ApiTarget {
            central: c.central,
            kiosk: c.kiosk.id,
            lpu: c.kiosk.lpu,
            journal_dir: c.journal_dir,
            utc_offset: 180,
        },
        None => ApiTarget {
            central: kiosk::config::CentralConfig {
                url: String::new(),
                token: String::new(),
                ca_file: None,
                connect_timeout: std::time::Duration::from_secs(2),
                request_timeout: std::time::Duration::from_secs(5),
            },
            kiosk: domain::KioskId(
                std::env::var("INFOMAT_KIOSK_ID").ok().and_then(|v| v.parse().ok()).unwrap_or(1),
            ),
            lpu: domain::LpuId(1),
            journal_dir: std::env::var_os("INFOMAT_JOURNAL_DIR")
                .map_or_else(|| PathBuf::from("/var/lib/infomat"), PathBuf::from),
            utc_offset: 180,
        },
    };
    if let Some(c) = central {
        target.central.url = c.trim_end_matches('/').to_owned();
    }
    if let Some(t) = token {
        target.central.token = t;
    }
    Ok(target)
}

fn patient_args(policy: &str, birth: &str) -> Result<(domain::Enp, domain::Date), String> {
    let enp = domain::Enp::parse(policy).map_err(|e| format!("--policy: {e}"))?;
    let birth = domain::Date::parse_iso(birth).map_err(|e| format!("--birth: {e}"))?;
    Ok((enp, birth))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig { config } => match kiosk::config::load(&config) {
            Ok(cfg) => {
                println!("{}: valid\n{cfg:#?}", config.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kiosk: {e}");
                ExitCode::from(2)
            }
        },
        Command::Display { config, offscreen } => {
            let cfg = match load_config(&config) {
                Ok(c) => c,
                Err(code) => return code,
            };
            log::info!(
                "display for clinic {} ({}x{}), central {}",
                cfg.kiosk.lpu.0,
                cfg.display.width,
                cfg.display.height,
                cfg.central.url
            );
            match kiosk::modes::display::run(cfg, offscreen) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("kiosk: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Run { config, offscreen } => {
            let cfg = match load_config(&config) {
                Ok(c) => c,
                Err(code) => return code,
            };
            log::info!(
                "configuration {} is valid: kiosk {} of clinic {}, central {}",
                config.display(),
                cfg.kiosk.id,
                cfg.kiosk.lpu.0,
                cfg.central.url
            );
            let setup = match kiosk::modes::kiosk::setup_from_config(&cfg) {
                Ok(s) => kiosk::modes::kiosk::Setup { offscreen, ..s },
                Err(e) => {
                    eprintln!("kiosk: {e}");
                    return ExitCode::from(2);
                }
            };
            match kiosk::modes::kiosk::run(setup) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("kiosk: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::DecodePolicy { file, hex } => {
            let bytes = match (file, hex) {
                (Some(f), None) => std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display())),
                (None, Some(h)) => drivers::hex::parse(&h),
                _ => Err("give a FILE or --hex HEX".into()),
            };
            match bytes
                .and_then(|b| kiosk::tools::decode_policy(&b).map_err(|e| format!("not a policy: {e}")))
            {
                Ok(json) => {
                    println!("{}", serde_json::to_string_pretty(&json).expect("JSON values serialise"));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("kiosk: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Api { command, config, central, token, json } => {
            use kiosk::modes::api::ApiCommand;
            common::logging::init(log::LevelFilter::Warn);
            let target = match api_target(&config, central, token) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("kiosk: {e}");
                    return ExitCode::from(2);
                }
            };
            let cmd = match command {
                ApiCmd::Ping => Ok(ApiCommand::Ping),
                ApiCmd::Queue { lpu } => Ok(ApiCommand::Queue { lpu }),
                ApiCmd::Sync => Ok(ApiCommand::Sync),
                ApiCmd::Specialities { policy, birth } => {
                    patient_args(&policy, &birth).map(|(enp, birth)| ApiCommand::Specialities { enp, birth })
                }
                ApiCmd::Enqueue { policy, birth } => {
                    patient_args(&policy, &birth).map(|(enp, birth)| ApiCommand::Enqueue { enp, birth })
                }
            };
            let cmd = match cmd {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("kiosk: {e}");
                    return ExitCode::from(2);
                }
            };
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("kiosk: {e}");
                    return ExitCode::from(1);
                }
            };
            let mut out = std::io::stdout().lock();
            match rt.block_on(kiosk::modes::api::run(&target, cmd, json, &mut out)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("kiosk: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Selftest { config, json, print_test_page, wait_scan } => {
            use kiosk::modes::selftest;
            let cfg = match kiosk::config::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("kiosk: {e}");
                    return ExitCode::from(2);
                }
            };
            common::logging::init(log::LevelFilter::Warn);
            let opts = selftest::Options {
                print_test_page,
                wait_scan: wait_scan.map(std::time::Duration::from_secs),
            };
            let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("kiosk: {e}");
                    return ExitCode::from(1);
                }
            };
            let checks = rt.block_on(selftest::run(&cfg, &opts));
            let mut out = std::io::stdout().lock();
            if json {
                let _ = writeln!(out, "{}", serde_json::to_string_pretty(&checks).expect("serialisable"));
            } else {
                let _ = selftest::print(&checks, &mut out);
            }
            if checks.iter().any(|c| c.outcome == selftest::Outcome::Fail) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Screenshot { screen, out, lang, large, list, all, display } => {
            use kiosk::modes::screenshot;
            if list {
                let names: &[&str] = if display { &screenshot::BOARD_SCREENS } else { &screenshot::SCREENS };
                for s in names {
                    println!("{s}");
                }
                return ExitCode::SUCCESS;
            }
            let lang_of =
                |l: &str| if l == "en" { kiosk::session::Lang::En } else { kiosk::session::Lang::Ru };
            let result = match (display, all, screen, out) {
                (true, Some(dir), _, _) => screenshot::render_board_all(&dir)
                    .map(|files| println!("{} board screenshots in {}", files.len(), dir.display())),
                (true, None, s, Some(o)) => {
                    screenshot::render_board(&[(s.unwrap_or_else(|| "board".into()), lang_of(&lang), o)])
                }
                (true, None, _, None) => Err(screenshot::ShotError::Unknown("--out is required".into())),
                (false, all, screen, out) => match (all, screen, out) {
                    (Some(dir), _, _) => screenshot::render_all(&dir)
                        .map(|files| println!("{} screenshots in {}", files.len(), dir.display())),
                    (None, Some(s), Some(o)) => {
                        let lang =
                            if lang == "en" { kiosk::session::Lang::En } else { kiosk::session::Lang::Ru };
                        screenshot::render(&[(s, lang, large, o)], 1080, 1920)
                    }
                    _ => Err(screenshot::ShotError::Unknown(String::new())),
                },
            };
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e @ screenshot::ShotError::Unknown(_)) => {
                    eprintln!("kiosk: {e}");
                    ExitCode::from(2)
                }
                Err(e) => {
                    eprintln!("kiosk: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Soak { sessions } => {
            common::logging::init(log::LevelFilter::Warn);
            let dir = std::env::temp_dir().join(format!("infomat-soak-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&dir);
            // Central runs as its own process, as in production: the RSS measured is the kiosk's.
            let mut central = match start_central_process(&dir) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("kiosk: soak: {e}");
                    return ExitCode::from(1);
                }
            };
            let opts = kiosk::modes::live::RigOptions {
                dir: dir.clone(),
                tickets: None,
                clock: std::sync::Arc::new(|| common::clock::now_at_offset(central::seed::OFFSET)),
                ident_per_minute: 1_000_000,
                external_central: Some(central.1.clone()),
            };
            let t = std::time::Instant::now();
            let result = kiosk::modes::soak::run(sessions, &opts, std::io::stdout().lock());
            let _ = central.0.kill();
            let _ = central.0.wait();
            let _ = std::fs::remove_dir_all(&dir);
            match result {
                Ok(r) => {
                    println!(
                        "soak: {} visits in {:.0} s: {} tickets (+{} handed back), {} booked and cancelled, {} printed, {} called",
                        r.visits,
                        t.elapsed().as_secs_f64(),
                        r.tickets_new,
                        r.tickets_again,
                        r.booked,
                        r.printed,
                        r.called
                    );
                    println!(
                        "soak: RSS after warm-up {} kB, at the end {} kB: growth {} kB (limit 2048)",
                        r.rss_warm_kb,
                        r.rss_end_kb,
                        r.rss_growth_kb()
                    );
                    if r.rss_growth_kb() > 2048 {
                        eprintln!("kiosk: soak: memory grew more than 2 MB after warm-up");
                        return ExitCode::from(1);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("kiosk: soak: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Demo { headless } => {
            common::logging::init(log::LevelFilter::Info);
            let has_display =
                std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
            if !headless && has_display {
                let dir = std::env::temp_dir().join(format!("infomat-demo-{}", std::process::id()));
                let tickets = PathBuf::from("demo-out/tickets");
                let _ = std::fs::create_dir_all(&tickets);
                let (setup, _rt, _central) = match kiosk::modes::kiosk::demo_setup(&dir, &tickets) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("kiosk: demo: {e}");
                        return ExitCode::from(1);
                    }
                };
                println!(
                    "Infomat demo: press 0-9 to scan demo patient N (test data), PIN 1234 for the service screen"
                );
                println!("tickets printed by the virtual printer: {}/ticket-*.png", tickets.display());
                let board = demo_board(&dir, &setup.central.url, &_rt);
                let result = kiosk::modes::kiosk::run(setup);
                if let Some(mut b) = board {
                    let _ = b.kill();
                    let _ = b.wait();
                }
                let _ = std::fs::remove_dir_all(&dir);
                return match result {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        eprintln!("kiosk: {e}");
                        ExitCode::from(1)
                    }
                };
            }
            if !headless {
                eprintln!("kiosk: no display: running the headless demo");
            }
            let tickets = PathBuf::from("demo-out/tickets");
            if let Err(e) = std::fs::remove_dir_all(&tickets)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                eprintln!("kiosk: cannot clear {}: {e}", tickets.display());
            }
            let dir = std::env::temp_dir().join(format!("infomat-demo-{}", std::process::id()));
            let opts = kiosk::modes::live::RigOptions {
                dir: dir.clone(),
                tickets: Some(tickets.clone()),
                clock: std::sync::Arc::new(|| common::clock::now_at_offset(central::seed::OFFSET)),
                ident_per_minute: 10,
                external_central: None,
            };
            // Every screen the scripted patient sees, rendered offscreen as the window would show it.
            let screens = PathBuf::from("demo-out/screens");
            let _ = std::fs::remove_dir_all(&screens);
            let hook = match demo_screens(&screens) {
                Ok(h) => Some(h),
                Err(e) => {
                    eprintln!("kiosk: demo screenshots disabled: {e}");
                    None
                }
            };
            let result = kiosk::modes::demo::run_headless(std::io::stdout().lock(), &opts, hook);
            let _ = std::fs::remove_dir_all(&dir);
            match result {
                Ok(_) => {
                    println!("\nheadless demo finished: every flow ended where it should");
                    println!("tickets printed by the virtual printer: {}/ticket-*.png", tickets.display());
                    println!("every screen the patient saw: {}/NN-screen.png", screens.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("kiosk: {e}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

/// A screen hook that renders each screen of the headless demo into `dir`, once, in the last
/// state it was shown in (typed digits, a loaded list).
fn demo_screens(dir: &std::path::Path) -> Result<kiosk::modes::demo::ScreenHook, String> {
    use slint::ComponentHandle;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let screen = kiosk::offscreen::Offscreen::install(1080, 1920).map_err(|e| e.to_string())?;
    let ui = ui::KioskWindow::new().map_err(|e| e.to_string())?;
    ui.show().map_err(|e| e.to_string())?;
    let mut shots = DemoShots { screen, ui, dir: dir.to_path_buf(), n: 0, pending: None };
    Ok(Box::new(move |session, now| shots.saw(session.screen_name(), kiosk::view::view(session, now.ms))))
}

struct DemoShots {
    screen: kiosk::offscreen::Offscreen,
    ui: ui::KioskWindow,
    dir: std::path::PathBuf,
    n: usize,
    pending: Option<(&'static str, kiosk::view::View)>,
}

impl DemoShots {
    fn saw(&mut self, name: &'static str, view: kiosk::view::View) {
        if self.pending.as_ref().is_some_and(|(p, _)| *p != name) {
            self.flush();
        }
        self.pending = Some((name, view));
    }

    fn flush(&mut self) {
        let Some((name, view)) = self.pending.take() else { return };
        self.n += 1;
        let clock = common::clock::now_at_offset(central::seed::OFFSET).hhmm();
        kiosk::ui_bind::apply(&self.ui, &view, "Городская поликлиника № 1", &clock);
        let path = self.dir.join(format!("{:02}-{name}.png", self.n));
        if let Err(e) = self.screen.save_png(&path) {
            eprintln!("kiosk: demo screenshot {}: {e}", path.display());
        }
    }
}

impl Drop for DemoShots {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The demo's waiting-zone board: `kiosk display` in its own window on the demo central, and a
/// doctor who calls the next walk-in every 20 s so the board has something to show.
fn demo_board(
    dir: &std::path::Path,
    central: &str,
    rt: &tokio::runtime::Runtime,
) -> Option<std::process::Child> {
    let config = dir.join("display.toml");
    let text = format!(
        "[kiosk]\nid = 50\nlpu_id = 1\nclinic_name = \"Городская поликлиника № 1\"\n\
         [central]\nurl = \"{central}\"\ntoken = \"{}\"\n[health]\nlisten = \"127.0.0.1:9465\"\n",
        kiosk::modes::live::TOKEN
    );
    if let Err(e) = std::fs::write(&config, text) {
        eprintln!("kiosk: demo board: {e}");
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    let child = match std::process::Command::new(exe).arg("display").arg("--config").arg(&config).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kiosk: demo board: {e}");
            return None;
        }
    };
    let central = central.to_owned();
    rt.spawn(async move {
        let rooms = ["214", "215", "105"];
        for n in 0.. {
            tokio::time::sleep(std::time::Duration::from_secs(20)).await;
            let room = rooms[n % rooms.len()];
            let body = serde_json::json!({"jsonrpc": "2.0", "id": n, "method": "callNext", "params": {"lpuId": 1, "room": room}});
            let body = serde_json::to_vec(&body).unwrap_or_default();
            let _ = central::client::post_json(&central, domain::wire::QUEUE_PATH, kiosk::modes::live::TOKEN, &body).await;
        }
    });
    println!("waiting-zone board: a second window; a doctor calls the next ticket every 20 s");
    Some(child)
}

/// `central serve` from beside this binary, seeded with the demo clinic, on a free loopback
/// port; returns the process and its URL once it answers.
fn start_central_process(dir: &std::path::Path) -> Result<(std::process::Child, String), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let bin = exe.with_file_name("central");
    if !bin.exists() {
        return Err(format!("{} not found: build it first (make soak does)", bin.display()));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let child = std::process::Command::new(&bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--seed", "demo"])
        .args(["--ident-per-minute", "1000000", "--db"])
        .arg(dir.join("central.sqlite"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let t = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if t.elapsed() > std::time::Duration::from_secs(30) {
            return Err("central did not start within 30 s".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Ok((child, format!("http://127.0.0.1:{port}")))
}

/// Reads and validates a configuration and starts logging at its level; exit 2 on errors.
fn load_config(path: &std::path::Path) -> Result<kiosk::config::Config, ExitCode> {
    match kiosk::config::load(path) {
        Ok(c) => {
            common::logging::init(c.log_level);
            Ok(c)
        }
        Err(e) => {
            eprintln!("kiosk: {e}");
            Err(ExitCode::from(2))
        }
    }
}
