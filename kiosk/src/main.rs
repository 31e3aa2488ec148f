//! The `kiosk` binary: parse the command line, pick a mode, map the outcome to an exit code.
//! Exit codes: 0 success, 1 runtime failure, 2 bad configuration or usage.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use kiosk::modes::{self, Failure};

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
    Api(modes::api::ApiArgs),
    /// Check every device and the link to central; exit 0 all pass, 1 a failure, 2 bad config.
    Selftest(modes::selftest::SelftestArgs),
    /// Render a screen with sample data to PNG (software renderer, no display needed).
    Screenshot(modes::screenshot::ShotArgs),
}

/// Prints a failed mode's error and turns the outcome into the exit code.
fn exit<E: Failure>(result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiosk: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn main() -> ExitCode {
    let mut out = std::io::stdout().lock();
    match Cli::parse().command {
        Command::Run { config, offscreen } => exit(modes::run::main(&config, offscreen)),
        Command::Display { config, offscreen } => exit(modes::display::main(&config, offscreen)),
        Command::CheckConfig { config } => exit(modes::tools::check_config(&config, &mut out)),
        Command::DecodePolicy { file, hex } => exit(modes::tools::decode_policy_cmd(file, hex, &mut out)),
        Command::Api(args) => exit(modes::api::main(&args, &mut out)),
        Command::Selftest(args) => exit(modes::selftest::main(&args, &mut out)),
        Command::Screenshot(args) => exit(modes::screenshot::main(&args, &mut out)),
    }
}
