//! What systemd learns from a running kiosk or board (`Type=notify`): READY=1 once the first
//! frame is on screen, and watchdog pings from the UI loop itself, so a hung screen (not only a
//! dead process) gets the unit restarted.

use std::time::{Duration, Instant};

/// Logs the first frame on screen and tells systemd the program is ready (`Type=notify`):
/// a kiosk that starts but cannot draw must not count as started.
pub fn announce_first_frame(window: &slint::Window, what: &'static str) {
    let started = Instant::now();
    let mut done = false;
    let mut announce = move || {
        if !done {
            done = true;
            log::info!(
                "{what}: first frame on screen {} ms after the window was created",
                started.elapsed().as_millis()
            );
            if let Err(e) = common::sdnotify::notify("READY=1") {
                log::warn!("systemd notify: {e}");
            }
        }
    };
    let notified = window.set_rendering_notifier(move |state, _| {
        if matches!(state, slint::RenderingState::AfterRendering) {
            announce();
        }
    });
    if notified.is_err() {
        // This renderer cannot tell: the first turn of the event loop follows the first draw.
        slint::Timer::single_shot(Duration::ZERO, announce);
    }
}

/// Pings systemd's watchdog from the UI loop, so a hung UI (not only a dead process) gets the
/// unit restarted. Also the test hook that hangs the loop on purpose
/// (`INFOMAT_FAULT=hang-ui-after-ms=N`, see docs/RELIABILITY.md).
#[derive(Debug)]
pub struct UiWatchdog {
    every: Option<Duration>,
    last: Instant,
    hang_at: Option<Instant>,
}

impl UiWatchdog {
    pub fn from_env() -> UiWatchdog {
        let hang_at = std::env::var("INFOMAT_FAULT")
            .ok()
            .and_then(|f| f.strip_prefix("hang-ui-after-ms=").and_then(|n| n.parse::<u64>().ok()))
            .map(|ms| Instant::now() + Duration::from_millis(ms));
        let every = common::sdnotify::watchdog_interval();
        if let Some(e) = every {
            log::info!("systemd watchdog: pinging every {} ms from the UI loop", e.as_millis());
        }
        UiWatchdog { every, last: Instant::now(), hang_at }
    }

    /// Called on every turn of the UI loop's timer.
    pub fn alive(&mut self) {
        if self.hang_at.is_some_and(|t| Instant::now() >= t) {
            log::warn!("fault injection: the UI loop hangs now (INFOMAT_FAULT)");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        if let Some(every) = self.every
            && self.last.elapsed() >= every
        {
            self.last = Instant::now();
            if let Err(e) = common::sdnotify::notify("WATCHDOG=1") {
                log::warn!("systemd watchdog: {e}");
            }
        }
    }
}
