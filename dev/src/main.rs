//! `infomat-dev`: the demo and the soak on embedded defaults (central in this process or beside
//! it, virtual printer, scanner and card reader). Exit codes: 0 success, 1 failure.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use infomat_dev::{demo, rig, soak};

#[derive(Parser, Debug)]
#[command(name = "infomat-dev", version = kiosk::VERSION, about = "Infomat's demo and soak (development only)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The kiosk on embedded defaults; without a display, a scripted headless session.
    Demo {
        /// No window: run the scripted session and print each screen.
        #[arg(long)]
        headless: bool,
    },
    /// Scripted patient visits against central and the virtual devices, with accounting.
    Soak {
        #[arg(long, default_value_t = 10_000)]
        sessions: usize,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Demo { headless } => demo_main(headless),
        Command::Soak { sessions } => soak_main(sessions),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("infomat-dev: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn demo_main(headless: bool) -> anyhow::Result<()> {
    common::logging::init(log::LevelFilter::Info);
    let dir = std::env::temp_dir().join(format!("infomat-demo-{}", std::process::id()));
    let tickets = PathBuf::from("demo-out/tickets");
    let has_display = std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if !headless && has_display {
        std::fs::create_dir_all(&tickets)?;
        let r = demo::run_window(&dir, &tickets);
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(r?);
    }
    if !headless {
        eprintln!("infomat-dev: no display: running the headless demo");
    }
    if let Err(e) = std::fs::remove_dir_all(&tickets)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        eprintln!("infomat-dev: cannot clear {}: {e}", tickets.display());
    }
    // The clinic's clock starts now (Moscow time, as the demo seed expects) and moves only
    // when the script waits: the idle wipe takes no minute of anyone's time.
    let (mut opts, time) =
        rig::RigOptions::fixed(&dir, common::clock::Zone::fixed(central::seed::OFFSET).now());
    opts.tickets = Some(tickets.clone());
    let screens = PathBuf::from("demo-out/screens");
    let _ = std::fs::remove_dir_all(&screens);
    let hook = match infomat_dev::script::screen_shots(&screens) {
        Ok(h) => Some(h),
        Err(e) => {
            eprintln!("infomat-dev: demo screenshots disabled: {e}");
            None
        }
    };
    let result = demo::run_headless(std::io::stdout().lock(), &opts, time, hook);
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    println!("\nheadless demo finished: every flow ended where it should");
    println!("tickets printed by the virtual printer: {}/ticket-*.png", tickets.display());
    println!("every screen the patient saw: {}/NN-screen.png", screens.display());
    Ok(())
}

fn soak_main(sessions: usize) -> anyhow::Result<()> {
    common::logging::init(log::LevelFilter::Warn);
    let dir = std::env::temp_dir().join(format!("infomat-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // Central runs as its own process, as in production: the RSS measured is the kiosk's.
    let (mut central, url) = start_central_process(&dir)?;
    let (mut opts, time) =
        rig::RigOptions::fixed(&dir, common::clock::Zone::fixed(central::seed::OFFSET).now());
    opts.ident_per_minute = 1_000_000;
    opts.external_central = Some(url);
    let t = std::time::Instant::now();
    let result = soak::run(sessions, &opts, time, std::io::stdout().lock());
    let _ = central.kill();
    let _ = central.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let r = result?;
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
    anyhow::ensure!(r.rss_growth_kb() <= 2048, "soak: memory grew more than 2 MB after warm-up");
    Ok(())
}

/// `central serve` from beside this binary, seeded with the demo clinic, on a free loopback
/// port; returns the process and its URL once it answers.
fn start_central_process(dir: &std::path::Path) -> anyhow::Result<(std::process::Child, String)> {
    let bin = std::env::current_exe()?.with_file_name("central");
    anyhow::ensure!(bin.exists(), "{} not found: build it first (make soak does)", bin.display());
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = std::process::Command::new(&bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--seed", "demo"])
        .args(["--ident-per-minute", "1000000", "--db"])
        .arg(dir.join("central.sqlite"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let t = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(
            t.elapsed() < std::time::Duration::from_secs(30),
            "central did not start within 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Ok((child, format!("http://127.0.0.1:{port}")))
}
