//! `escpos-sim`: the virtual ESC/POS ticket printer.
//!
//!   escpos-sim render IN.bin --png OUT.png [--trace]
//!                                               print the recognised text, one printed line per
//!                                               stdout line; draw the paper (203 dpi) to OUT.png;
//!                                               --trace: list on stderr every command skipped
//!                                               or not drawn, with its stream offset
//!   escpos-sim serve --tcp 127.0.0.1:9100 --out DIR [--pty]
//!                                               accept jobs, write DIR/ticket-NNNN.png per cut,
//!                                               answer DLE EOT from a state changed on stdin:
//!                                               paper out | paper ok | paper near-end |
//!                                               cover open | cover closed | offline | online |
//!                                               silent | answer | run-out-after N

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::{Parser, Subcommand};

use drivers::printer::codepage::Family;
use drivers::sim::printer::{SimState, Spool, control, render_traced, serve_stream, serve_tcp, stack};

#[derive(Parser, Debug)]
#[command(name = "escpos-sim", about = "A virtual ESC/POS ticket printer")]
struct Args {
    #[command(subcommand)]
    command: Cmd,
    /// How this "model" numbers code pages in ESC t: epson, citizen or star.
    #[arg(long, global = true, default_value = "epson")]
    family: String,
    /// Paper width in mm: 80 (576 dots) or 58 (384 dots).
    #[arg(long, global = true, default_value_t = 80)]
    paper: u32,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    Render {
        input: PathBuf,
        #[arg(long)]
        png: Option<PathBuf>,
        /// List skipped and undrawn commands on stderr (offset, first bytes, why).
        #[arg(long)]
        trace: bool,
    },
    Serve {
        #[arg(long)]
        tcp: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also serve on a pseudo-terminal (prints its path).
        #[arg(long)]
        pty: bool,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Some(family) = Family::parse(&args.family) else {
        eprintln!("escpos-sim: --family is epson, citizen or star");
        return ExitCode::from(2);
    };
    let width = match args.paper {
        80 => 576,
        58 => 384,
        _ => {
            eprintln!("escpos-sim: --paper is 80 or 58");
            return ExitCode::from(2);
        }
    };
    match args.command {
        Cmd::Render { input, png, trace } => {
            let bytes = match std::fs::read(&input) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("escpos-sim: {}: {e}", input.display());
                    return ExitCode::from(2);
                }
            };
            let (receipts, skipped) = render_traced(&bytes, family, width);
            if trace {
                for t in &skipped {
                    eprintln!("escpos-sim: trace {t}");
                }
            }
            for r in &receipts {
                for line in &r.lines {
                    println!("{line}");
                }
            }
            if let Some(png) = png
                && let Err(e) = std::fs::write(&png, stack(&receipts, width).to_png())
            {
                eprintln!("escpos-sim: {}: {e}", png.display());
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Cmd::Serve { tcp, out, pty } => {
            let state = Arc::new(Mutex::new(SimState::default()));
            let spool = match Spool::new(out) {
                Ok(s) => Arc::new(s),
                Err(e) => {
                    eprintln!("escpos-sim: output directory: {e}");
                    return ExitCode::from(1);
                }
            };
            if tcp.is_none() && !pty {
                eprintln!("escpos-sim: serve needs --tcp ADDR and/or --pty");
                return ExitCode::from(2);
            }
            if let Some(addr) = tcp {
                let listener = match std::net::TcpListener::bind(&addr) {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("escpos-sim: cannot listen on {addr}: {e}");
                        return ExitCode::from(1);
                    }
                };
                println!("tcp {}", listener.local_addr().map(|a| a.to_string()).unwrap_or(addr));
                let (state, spool) = (state.clone(), spool.clone());
                std::thread::spawn(move || serve_tcp(listener, family, width, state, spool));
            }
            if pty {
                match serialport::TTYPort::pair() {
                    Ok((master, slave)) => {
                        use serialport::SerialPort;
                        println!("pty {}", slave.name().unwrap_or_default());
                        let (state, spool) = (state.clone(), spool.clone());
                        std::thread::spawn(move || {
                            let _keep = slave;
                            let _ = serve_stream(master, family, width, state, &spool);
                        });
                    }
                    Err(e) => {
                        eprintln!("escpos-sim: cannot create a pseudo-terminal: {e}");
                        return ExitCode::from(1);
                    }
                }
            }
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if line.trim().is_empty() {
                    continue;
                }
                match control(&state, line.trim()) {
                    Ok(()) => println!("ok {}", line.trim()),
                    Err(e) => eprintln!("escpos-sim: {e}"),
                }
            }
            // Standard input closed: keep serving until killed.
            loop {
                std::thread::park();
            }
        }
    }
}
