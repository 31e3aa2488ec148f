//! `kiosk display`: the waiting-zone board at run time. The feed client and a slow poll of
//! `getQueueState` (for the average wait, which the feed does not carry) run on a small tokio
//! runtime; their updates reach the UI thread through one channel that a Slint timer drains.
//! The UI thread never waits on the network; announcements play on their own thread.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use slint::ComponentHandle;

use crate::board::{Announcer, BoardState, BoardView, apply, board_view};
use crate::central_link::client::Client;
use crate::central_link::queue_feed::{FeedTarget, FeedUpdate};
use crate::config::Config;
use crate::health::BoardHealth;

/// How often the average wait is asked for.
const AVERAGE_EVERY: Duration = Duration::from_secs(60);

/// What reaches the UI thread.
#[derive(Debug)]
pub enum Input {
    Feed(FeedUpdate),
    AverageWait(Option<u32>),
}

#[derive(Debug, thiserror::Error)]
pub enum DisplayError {
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("central client: {0}")]
    Client(#[from] crate::central_link::client::ClientSetupError),
    #[error("background runtime: {0}")]
    Io(#[from] std::io::Error),
    #[error("offscreen: {0}")]
    Offscreen(#[from] crate::offscreen::OffscreenError),
    #[error("screen: {0}")]
    Ui(#[from] slint::PlatformError),
}

impl super::Failure for DisplayError {
    fn exit_code(&self) -> u8 {
        match self {
            DisplayError::Config(_) | DisplayError::Client(_) => 2,
            _ => 1,
        }
    }
}

/// `kiosk display`: loads the configuration and runs the board until the window closes.
pub fn main(config: &std::path::Path, offscreen: bool) -> Result<(), DisplayError> {
    let cfg = crate::config::load(config)?;
    common::logging::init(cfg.log_level);
    log::info!(
        "display for clinic {} ({}x{}), central {}",
        cfg.kiosk.lpu.0,
        cfg.display.width,
        cfg.display.height,
        cfg.central.url
    );
    run(cfg, offscreen)
}

/// Starts the feed client and the average-wait poll; returns the runtime that runs them.
pub fn start_feed(
    cfg: &Config,
    tx: std_mpsc::Sender<Input>,
    health: Arc<BoardHealth>,
) -> Result<tokio::runtime::Runtime, DisplayError> {
    crate::central_link::client::install_crypto();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let client = Client::new(&cfg.central)?;
    rt.spawn(crate::health::serve(cfg.health_listen.clone(), crate::health::board_router(health)));
    let target = FeedTarget::new(&cfg.central.url, &cfg.central.token, cfg.kiosk.lpu.0)
        .with_ca(cfg.central.ca_file.clone());
    let (feed_tx, mut feed_rx) = tokio::sync::mpsc::channel::<FeedUpdate>(256);
    rt.spawn(crate::central_link::queue_feed::run(target, feed_tx, 0));
    {
        let tx = tx.clone();
        rt.spawn(async move {
            while let Some(u) = feed_rx.recv().await {
                if tx.send(Input::Feed(u)).is_err() {
                    return;
                }
            }
        });
    }
    {
        // The board's heartbeat for the fleet view: it has no printer or reader of its own.
        let client = Client::new(&cfg.central)?;
        let board = protocol::DeviceStatusParams {
            kiosk_id: cfg.kiosk.id.0,
            version: crate::VERSION.to_owned(),
            printer: "none".into(),
            scanner: "none".into(),
            card_reader: "none".into(),
            journal_backlog: 0,
            journal_rejected: 0,
            help_requested: false,
        };
        rt.spawn(async move {
            let mut tick = tokio::time::interval(crate::runtime::HEARTBEAT_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = client.call::<protocol::call::ReportDeviceStatus>(&board).await {
                    log::debug!("display: heartbeat not delivered: {e}");
                }
            }
        });
    }
    let lpu = cfg.kiosk.lpu.0;
    rt.spawn(async move {
        let mut tick = tokio::time::interval(AVERAGE_EVERY);
        loop {
            tick.tick().await;
            let r = client.call::<protocol::call::GetQueueState>(&protocol::LpuParams { lpu_id: lpu }).await;
            match r {
                Ok(q) => {
                    if tx.send(Input::AverageWait(q.average_wait_minutes)).is_err() {
                        return;
                    }
                }
                Err(e) => log::debug!("display: average wait not refreshed: {e}"),
            }
        }
    });
    Ok(rt)
}

/// Runs the board until the window closes.
pub fn run(cfg: Config, offscreen: bool) -> Result<(), DisplayError> {
    let (tx, rx) = std_mpsc::channel::<Input>();
    let health = Arc::new(BoardHealth::default());
    let rt = start_feed(&cfg, tx, health.clone())?;
    let _offscreen = if offscreen {
        Some(crate::offscreen::Offscreen::install(cfg.display.width, cfg.display.height)?)
    } else {
        None
    };
    let window = ui::BoardWindow::new()?;
    window.window().set_size(slint::PhysicalSize::new(cfg.display.width, cfg.display.height));
    crate::systemd::announce_first_frame(window.window(), "display");
    let announcer = Announcer::start(&cfg.display);
    let started = Instant::now();
    let zone = cfg.timezone.clone();
    let mut state = BoardState::default();
    let mut shown: Option<(BoardView, String)> = None;
    let mut watchdog = crate::systemd::UiWatchdog::from_env();
    let weak = window.as_weak();
    let (display, clinic) = (cfg.display.clone(), cfg.kiosk.clinic_name.clone());
    let timer = slint::Timer::default();
    let mut tick = move || {
        watchdog.alive();
        let now_ms = started.elapsed().as_millis() as u64;
        while let Ok(input) = rx.try_recv() {
            match input {
                Input::Feed(u) => {
                    if let FeedUpdate::Disconnected(why) = &u {
                        log::debug!("display: feed down: {why}");
                    }
                    if let Some(call) = state.update(u, now_ms) {
                        log::info!("display: {} called to room {}", call.ticket_number, call.room);
                        health.calls.fetch_add(1, Ordering::Relaxed);
                        announcer.announce(call);
                    }
                    health.feed_up.store(state.board.connected, Ordering::Relaxed);
                    health.last_seq.store(state.board.last_seq, Ordering::Relaxed);
                }
                Input::AverageWait(m) => state.average_wait_minutes = m,
            }
        }
        let wall = zone.now();
        let v = board_view(&state, now_ms, u32::from(wall.minute_of_day), &display);
        health.stale.store(v.stale, Ordering::Relaxed);
        let clock = wall.hhmm();
        // Setting properties redraws: only when something changed.
        if shown.as_ref().is_none_or(|(sv, sc)| *sv != v || *sc != clock) {
            if let Some(w) = weak.upgrade() {
                apply(&w, &v, &clinic, &clock);
            }
            shown = Some((v, clock));
        }
    };
    tick();
    timer.start(slint::TimerMode::Repeated, Duration::from_millis(20), tick);
    window.run()?;
    drop(timer);
    rt.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}
