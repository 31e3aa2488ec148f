//! The `kiosk` binary: parse the command line, pick a mode, map the outcome to an exit code.
//! Exit codes: 0 success, 1 runtime failure, 2 bad configuration or usage.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "kiosk", version, about = "Infomat: clinic self-service kiosk and waiting-zone display")]
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
    /// Run the demo on embedded defaults.
    Demo {
        /// No window: run a scripted walk-in and booking and print each screen.
        #[arg(long)]
        headless: bool,
    },
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
        Command::Run { config } => {
            let cfg = match kiosk::config::load(&config) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("kiosk: {e}");
                    return ExitCode::from(2);
                }
            };
            common::logging::init(cfg.log_level);
            log::info!(
                "configuration {} is valid: kiosk {} of clinic {}, central {}",
                config.display(),
                cfg.kiosk.id,
                cfg.kiosk.lpu.0,
                cfg.central.url
            );
            eprintln!("kiosk: the patient UI is not built yet; the configuration is valid");
            ExitCode::from(1)
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
        Command::Demo { headless } => {
            common::logging::init(log::LevelFilter::Info);
            if !headless {
                eprintln!("kiosk: no windowed demo yet, running the headless one");
            }
            let tickets = PathBuf::from("demo-out/tickets");
            if let Err(e) = std::fs::remove_dir_all(&tickets)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                eprintln!("kiosk: cannot clear {}: {e}", tickets.display());
            }
            match kiosk::modes::demo::run_headless(
                std::io::stdout().lock(),
                common::clock::today_utc(),
                Some(&tickets),
            ) {
                Ok(_) => {
                    println!("\nheadless demo finished: every flow ended where it should");
                    println!("tickets printed by the virtual printer: {}/ticket-*.png", tickets.display());
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
