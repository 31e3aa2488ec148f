//! The patient kiosk at run time: the Slint window on the main thread, the session beside it,
//! and the devices and central on other threads. Effects leave the UI thread through channels;
//! their outcomes come back as events on one channel that a UI timer drains, so the UI thread
//! never waits on a socket, a serial port or a disk.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slint::ComponentHandle;

use domain::Policy;
use drivers::card::framing::Scan;
use drivers::card::scanner::{Scanner, ScannerEvent};
use drivers::link::Opener;
use drivers::printer::layout::LayoutConfig;

use crate::central::client::Client;
use crate::central::executor::{CentralRuntime, Job};
use crate::config::{CentralConfig, KioskConfig};
use crate::printing::PrinterWorker;
use crate::session::{
    Effect, Event, Now, PrintDoc, ReadFailure, ServiceCommand, Session, SessionConfig, update,
};
use crate::ui_bind::{self, Input};

/// Everything the runtime needs, whatever the devices are (real or simulated).
pub struct Setup {
    pub kiosk: KioskConfig,
    pub central: CentralConfig,
    pub session: SessionConfig,
    pub printer: Box<dyn Opener>,
    pub layout: LayoutConfig,
    pub printer_model: String,
    pub scanner: Option<(Box<dyn Opener>, Duration)>,
    pub journal_dir: std::path::PathBuf,
    pub utc_offset: i16,
    /// Demo: digit keys "scan" demo patient N through this virtual scanner.
    pub demo_scanner: Option<Arc<Mutex<drivers::sim::scanner::VirtualScanner>>>,
    /// Where `/health` and `/metrics` listen (loopback).
    pub health_listen: String,
    /// Render into memory instead of a window (tests, benchmarks, a kiosk without a panel).
    pub offscreen: bool,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("kiosk", &self.kiosk)
            .field("printer", &self.printer.describe())
            .finish_non_exhaustive()
    }
}

/// What a scan means to the session.
pub fn scan_event(scan: Scan) -> Event {
    match scan {
        Scan::Barcode(b) => Event::CardRead(b.policy),
        Scan::Number { enp, source } => Event::CardRead(Policy::from_number(enp, source)),
        Scan::BadNumber => Event::ReadFailed(ReadFailure::BadNumber),
        Scan::NotAPolicy { why } => {
            log::info!("scanner: not a policy ({why:?})");
            Event::ReadFailed(ReadFailure::NotAPolicy)
        }
    }
}

enum PrinterJob {
    Print { req: crate::session::RequestId, doc: Box<PrintDoc> },
    Check,
    TestPage,
    ReprintLast,
}

/// The printer on its own thread (the driver is blocking).
fn printer_thread(
    mut worker: PrinterWorker,
    events: std_mpsc::Sender<Event>,
) -> std_mpsc::Sender<PrinterJob> {
    let (tx, rx) = std_mpsc::channel::<PrinterJob>();
    std::thread::Builder::new()
        .name("printer".into())
        .spawn(move || {
            for job in rx {
                let ev = match job {
                    PrinterJob::Print { req, doc } => worker.print(req, &doc),
                    PrinterJob::Check => Event::Printer(worker.health()),
                    PrinterJob::TestPage => Event::ServiceReport(worker.test_page()),
                    PrinterJob::ReprintLast => Event::ServiceReport(worker.reprint_last()),
                };
                let _ = events.send(ev);
            }
        })
        .expect("spawning the printer thread");
    tx
}

fn scanner_thread(
    opener: Box<dyn Opener>,
    gap: Duration,
    events: std_mpsc::Sender<Event>,
    health: Arc<crate::health::Health>,
) {
    std::thread::Builder::new()
        .name("scanner".into())
        .spawn(move || {
            let mut scanner = Scanner::new(opener, gap);
            loop {
                match scanner.next_event(None) {
                    Some(ScannerEvent::Scan(scan)) => {
                        // The UI is gone: nobody to tell.
                        let Ok(()) = events.send(scan_event(scan)) else { return };
                    }
                    Some(ScannerEvent::Connected(what)) => {
                        log::info!("scanner connected: {what}");
                        health.set(&health.scanner, "connected");
                    }
                    Some(ScannerEvent::Disconnected(e)) => {
                        log::warn!("scanner: {e}");
                        health.set(&health.scanner, format!("disconnected: {}", e.kind()));
                    }
                    None => {}
                }
            }
        })
        .expect("spawning the scanner thread");
}

/// Counts what monitoring wants to know (never who).
fn count(h: &crate::health::Health, ev: &Event) {
    use std::sync::atomic::Ordering::Relaxed;
    match ev {
        Event::Central { result: Ok(crate::session::Reply::Ticket(t)), .. } => {
            h.tickets.fetch_add(1, Relaxed);
            if t.offline {
                h.offline_tickets.fetch_add(1, Relaxed);
            }
        }
        Event::Printed { .. } => {
            h.prints.fetch_add(1, Relaxed);
        }
        Event::PrintFailed { kind, .. } => {
            h.print_failures.fetch_add(1, Relaxed);
            h.set(&h.printer, format!("failed: {kind}"));
        }
        Event::Printer(p) => h.set(&h.printer, format!("{p:?}")),
        _ => {}
    }
}

/// Runs the kiosk until the window closes. Needs a display (or a platform set by the caller).
pub fn run(setup: Setup) -> Result<(), String> {
    crate::central::client::install_crypto();
    let (events_tx, events_rx) = std_mpsc::channel::<Event>();

    // Central: a tokio runtime on its own threads, one task owning the client.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let offset = setup.utc_offset;
    let client = Client::new(&setup.central)?;
    let central = Arc::new(
        CentralRuntime::new(
            client,
            setup.kiosk.id,
            setup.kiosk.lpu,
            &setup.journal_dir,
            Arc::new(move || common::clock::now_at_offset(offset)),
        )
        .map_err(|e| e.to_string())?,
    );
    let health = {
        let c = central.clone();
        Arc::new(crate::health::Health::new(Box::new(move || c.pending_offline())))
    };
    {
        let (addr, h) = (setup.health_listen.clone(), health.clone());
        rt.spawn(crate::health::serve(addr, crate::health::router(h)));
    }
    let (central_events_tx, mut central_events_rx) = tokio::sync::mpsc::channel::<Event>(64);
    let jobs = {
        let _guard = rt.enter();
        let h = health.clone();
        let observe: crate::central::executor::Observer = Arc::new(move |d, ev| {
            let ok =
                !matches!(ev, Event::Central { result: Err(crate::session::CentralError::Unreachable), .. });
            h.observe_central(d, ok);
        });
        central.clone().spawn_observed(central_events_tx, Duration::from_secs(15), observe)
    };
    {
        let tx = events_tx.clone();
        rt.spawn(async move {
            while let Some(ev) = central_events_rx.recv().await {
                if tx.send(ev).is_err() {
                    return;
                }
            }
        });
    }
    let printer = printer_thread(
        PrinterWorker::new(setup.printer, setup.layout, setup.printer_model, setup.kiosk.clone()),
        events_tx.clone(),
    );
    if let Some((opener, gap)) = setup.scanner {
        scanner_thread(opener, gap, events_tx.clone(), health.clone());
    }

    let _offscreen = if setup.offscreen {
        Some(crate::offscreen::Offscreen::install(1080, 1920).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let window = ui::KioskWindow::new().map_err(|e| e.to_string())?;
    super::announce_first_frame(window.window(), "kiosk");
    let started = Instant::now();
    let now = move || Now {
        ms: started.elapsed().as_millis() as u64,
        today: common::clock::now_at_offset(offset).date,
    };
    let session = Rc::new(RefCell::new(Session::new(setup.session, now())));
    let kiosk = setup.kiosk.clone();

    // Carries out effects; runs on the UI thread, never blocks.
    let run_effects = {
        let (jobs, printer, central, rt_handle) =
            (jobs.clone(), printer.clone(), central.clone(), rt.handle().clone());
        let events_tx = events_tx.clone();
        move |fx: Vec<Effect>| {
            for e in fx {
                match e {
                    Effect::Central { req, credentials, call } => {
                        if jobs.try_send(Job { req, credentials, call }).is_err() {
                            let _ = events_tx.send(Event::Central {
                                req,
                                result: Err(crate::session::CentralError::Unreachable),
                            });
                        }
                    }
                    Effect::Print { req, doc, .. } => {
                        let _ = printer.send(PrinterJob::Print { req, doc: Box::new(doc) });
                    }
                    Effect::CheckPrinter => {
                        let _ = printer.send(PrinterJob::Check);
                    }
                    Effect::Service(cmd) => match cmd {
                        ServiceCommand::TestPage => {
                            let _ = printer.send(PrinterJob::TestPage);
                        }
                        ServiceCommand::ReprintLast => {
                            let _ = printer.send(PrinterJob::ReprintLast);
                        }
                        ServiceCommand::SelfTest => {
                            let _ = printer.send(PrinterJob::Check);
                            let (central, tx) = (central.clone(), events_tx.clone());
                            rt_handle.spawn(async move {
                                let _ = tx.send(Event::ServiceReport(central.ping_line().await));
                            });
                        }
                        ServiceCommand::SyncJournal => {
                            let (central, tx) = (central.clone(), events_tx.clone());
                            rt_handle.spawn(async move {
                                let _ = tx.send(Event::ServiceReport(central.sync_line().await));
                            });
                        }
                        ServiceCommand::Restart => {
                            log::warn!("restart requested from the service screen");
                            // systemd (Restart=always) brings the kiosk back.
                            std::process::exit(75);
                        }
                    },
                    Effect::SessionEnded => {}
                }
            }
        }
    };

    let render = {
        let (weak, session, clinic, health) =
            (window.as_weak(), session.clone(), kiosk.clinic_name.clone(), health.clone());
        move || {
            if let Some(w) = weak.upgrade() {
                let s = session.borrow();
                let n = now();
                let clock = common::clock::now_at_offset(offset).hhmm();
                ui_bind::apply(&w, &crate::view::view(&s, n.ms), &clinic, &clock);
                if matches!(s.screen, crate::session::Screen::Service { .. }) {
                    ui_bind::set_service_status(&w, &health.status_lines());
                }
            }
        }
    };
    let render = Rc::new(render);
    let run_effects = Rc::new(run_effects);
    let step = {
        let (session, render, run_effects, health) =
            (session.clone(), render.clone(), run_effects.clone(), health.clone());
        move |ev: Event| {
            count(&health, &ev);
            let n = now();
            let fx = {
                let mut s = session.borrow_mut();
                let (next, fx) = update(s.clone(), ev, n);
                *s = next;
                fx
            };
            if fx.contains(&Effect::SessionEnded) {
                health.sessions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            run_effects(fx);
            render();
        }
    };
    let step = Rc::new(step);
    {
        let step = step.clone();
        let session = session.clone();
        let demo = setup.demo_scanner.clone();
        ui_bind::connect(
            &window,
            Rc::new(move |input| match input {
                Input::Action(a) => step(Event::Tap(a)),
                Input::InfoButton(n) => {
                    let action = crate::view::info_action(&session.borrow().screen, n);
                    if let Some(a) = action {
                        step(Event::Tap(a));
                    }
                }
                Input::ScanDemo(n) => {
                    if let Some(sim) = &demo
                        && let Err(e) =
                            sim.lock().expect("scanner lock").scan(&drivers::sim::scanner::demo_barcode(n))
                    {
                        log::warn!("demo scanner: {e}");
                    }
                }
            }),
        );
    }
    // Events from devices and central, and the clock: drained by the UI thread.
    let timer = slint::Timer::default();
    {
        let step = step.clone();
        let mut last_tick = Instant::now();
        let mut watchdog = super::UiWatchdog::from_env();
        timer.start(slint::TimerMode::Repeated, Duration::from_millis(20), move || {
            watchdog.alive();
            while let Ok(ev) = events_rx.try_recv() {
                step(ev);
            }
            if last_tick.elapsed() >= Duration::from_millis(500) {
                last_tick = Instant::now();
                step(Event::Tick);
            }
        });
    }
    render();
    window.run().map_err(|e| e.to_string())?;
    drop(timer);
    drop(jobs);
    rt.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// The demo's world: central on SQLite in `dir`, the virtual printer writing PNGs to
/// `tickets`, a virtual scanner on a pseudo-terminal. Returns the setup and what must stay
/// alive while the window runs (central's runtime and the server).
pub fn demo_setup(
    dir: &std::path::Path,
    tickets: &std::path::Path,
) -> Result<(Setup, tokio::runtime::Runtime, central::embedded::Embedded), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let opts = super::live::RigOptions {
        dir: dir.to_path_buf(),
        tickets: Some(tickets.to_path_buf()),
        clock: Arc::new(|| common::clock::now_at_offset(central::seed::OFFSET)),
        ident_per_minute: 10,
        external_central: None,
    };
    let central = rt.block_on(super::live::start_central(&opts)).map_err(|e| e.to_string())?;
    let (printer_addr, _paper, _spool) =
        super::live::start_virtual_printer(Some(tickets)).map_err(|e| e.to_string())?;
    // The virtual scanner, read through the real serial path.
    let sim = drivers::sim::scanner::VirtualScanner::new().map_err(|e| e.to_string())?;
    let scanner_path = sim.path().to_path_buf();
    let setup = Setup {
        kiosk: super::live::demo_kiosk(),
        central: super::live::central_config(central.url()),
        session: SessionConfig {
            registry_phone: "+7 495 000-00-00".into(),
            service_pin_sha256: Some(super::live::DEMO_PIN_SHA256),
            ..SessionConfig::default()
        },
        printer: Box::new(drivers::link::TcpOpener {
            address: printer_addr,
            connect_timeout: Duration::from_secs(1),
        }),
        layout: super::live::demo_layout(),
        printer_model: "escpos-sim".into(),
        scanner: Some((
            Box::new(drivers::link::SerialOpener { path: scanner_path, baud: 9600 }),
            Duration::from_millis(50),
        )),
        journal_dir: dir.join("journal"),
        utc_offset: central::seed::OFFSET,
        demo_scanner: Some(Arc::new(Mutex::new(sim))),
        health_listen: "127.0.0.1:9464".into(),
        offscreen: false,
    };
    Ok((setup, rt, central))
}

/// The production setup from a validated configuration.
pub fn setup_from_config(cfg: &crate::config::Config) -> Result<Setup, String> {
    let printer: Box<dyn Opener> = match crate::printing::opener(&cfg.printer.link) {
        Some(o) => o,
        None => return Err("printer.link = \"sim\" needs the demo: run `kiosk demo`".into()),
    };
    let scanner = match &cfg.scanner.link {
        crate::config::LinkConfig::Serial { path, baud } => Some((
            Box::new(drivers::link::SerialOpener { path: path.clone(), baud: *baud }) as Box<dyn Opener>,
            cfg.scanner.idle_gap,
        )),
        crate::config::LinkConfig::Sim => None,
        other => crate::printing::opener(other).map(|o| (o, cfg.scanner.idle_gap)),
    };
    Ok(Setup {
        kiosk: cfg.kiosk.clone(),
        central: cfg.central.clone(),
        session: cfg.session.clone(),
        printer,
        layout: crate::printing::layout_config(&cfg.printer),
        printer_model: cfg.printer.model.clone(),
        scanner,
        journal_dir: cfg.journal_dir.clone(),
        utc_offset: 180,
        demo_scanner: None,
        health_listen: cfg.health_listen.clone(),
        offscreen: false,
    })
}
