//! The patient kiosk at run time: the one event loop production, the demo and the UI tests run.
//!
//! - [`Core`]: the session, the effect runner and the event channel. [`Core::step`] feeds one
//!   event through `update` and hands the effects to [`Effects::run`]; answers and news come
//!   back on the channel. No Slint, no threads of its own.
//! - [`Background`]: what runs beside the UI thread: central's task on a tokio runtime (client,
//!   offline journal, periodic sync), the device threads, `/health`.
//! - [`Runtime`]: a [`Core`] bound to the Slint window: adapter callbacks become taps, a 20 ms
//!   UI timer drains the channel and ticks the session, every step re-renders. [`Runtime::run`]
//!   is `kiosk run`; tests call [`Runtime::start`] on a headless platform and press buttons by
//!   their accessible labels, so they exercise this very code.
//! - [`Headless`]: a [`Core`] with the same background and no window (`infomat-dev demo
//!   --headless`, the soak), waiting for answers instead of polling for them.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use slint::ComponentHandle;

use crate::central_link::client::{Client, ClientSetupError};
use crate::central_link::executor::CentralRuntime;
use crate::central_link::journal::JournalError;
use crate::clock::Clock;
use crate::config::{CentralConfig, KioskConfig};
use crate::devices::Devices;
use crate::effects::{
    self, CentralJob, CentralPort, CentralService, Effects, EventSink, EventSource, Message,
};
use crate::health::Health;
use crate::session::{
    CentralError, Effect, Event, PendingKind, Reply, Screen, Session, SessionConfig, update,
};
use crate::ui_bind::{self, Input};

/// How often the UI thread looks for answers and news.
const POLL_EVERY: Duration = Duration::from_millis(20);
/// How often the session is told that time passes (idle warnings, lockouts).
const TICK_EVERY: Duration = Duration::from_millis(500);
/// How often offline tickets are offered to central while any wait.
const SYNC_EVERY: Duration = Duration::from_secs(15);
/// How long an answer may take before the screen says "please wait". Answers within it (most:
/// an identification on a clinic's network takes a few milliseconds) go straight from the
/// screen the patient acted on to the next one, with no flash of a veil in between and no frame
/// drawn for it, which is what the ≤ 15 ms scan -> menu budget cannot spare on a weak CPU.
/// Longer waits show what is happening (issue #18: every wait over 300 ms is explained).
pub const VEIL_AFTER: Duration = Duration::from_millis(300);

/// Everything the runtime needs, whatever the devices are (real or simulated).
pub struct Setup {
    pub kiosk: KioskConfig,
    pub central: CentralConfig,
    pub session: SessionConfig,
    pub devices: Devices,
    pub journal_dir: PathBuf,
    pub clock: Clock,
    /// Where `/health` and `/metrics` listen (loopback); `None`: not served.
    pub health_listen: Option<String>,
    /// The demo's digit keys: "scan" demo patient N (only the dev harness sets this).
    pub demo_scan: Option<Box<dyn Fn(usize)>>,
    /// The service screen's restart; `None`: exit for systemd to start the unit again.
    pub restart: Option<Box<dyn Fn()>>,
    /// The espeak-ng that speaks guidance when `kiosk.speak` is on; `None`: the one on `$PATH`.
    pub espeak: Option<PathBuf>,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("kiosk", &self.kiosk)
            .field("central", &self.central)
            .field("devices", &self.devices)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("central client: {0}")]
    Client(#[from] ClientSetupError),
    #[error("offline journal: {0}")]
    Journal(#[from] JournalError),
    #[error("background runtime: {0}")]
    Io(#[from] std::io::Error),
    #[error("screen: {0}")]
    Ui(#[from] slint::PlatformError),
    #[error("screen: {0}")]
    EventLoop(#[from] slint::EventLoopError),
}

/// Counts what monitoring wants to know (never who).
fn count(h: &Health, ev: &Event) {
    use std::sync::atomic::Ordering::Relaxed;
    match ev {
        Event::Central { result: Ok(Reply::Ticket(t)), .. } => {
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

/// The session, the effect runner and the channel their answers come back on.
pub struct Core {
    session: Session,
    effects: Effects,
    events: EventSource,
    clock: Clock,
    health: Arc<Health>,
    /// Answers still on their way: 0 means every started effect has come back.
    in_flight: usize,
    /// Told of every step (the headless demo prints each screen the patient saw).
    observer: Option<Observer>,
    /// The request the session waits for (not a print) and when it started waiting.
    waiting: Option<(crate::session::RequestId, Instant)>,
    /// Messages handled and ticks seen since start: tests wait on these, never on the clock.
    handled: u64,
    ticks: u64,
}

/// Sees the session after each event (and the event).
pub type Observer = Box<dyn FnMut(&Session, &Event)>;

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("screen", &self.session.screen_name())
            .field("in_flight", &self.in_flight)
            .finish_non_exhaustive()
    }
}

impl Core {
    pub fn new(
        cfg: SessionConfig,
        effects: Effects,
        events: EventSource,
        clock: Clock,
        health: Arc<Health>,
    ) -> Core {
        let session = Session::new(cfg, clock.now());
        Core {
            session,
            effects,
            events,
            clock,
            health,
            in_flight: 0,
            observer: None,
            waiting: None,
            handled: 0,
            ticks: 0,
        }
    }

    pub fn observe(&mut self, observer: Observer) {
        self.observer = Some(observer);
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn health(&self) -> &Arc<Health> {
        &self.health
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Answers and news handled since start.
    pub fn handled(&self) -> u64 {
        self.handled
    }

    /// Ticks the session has seen since start.
    pub fn ticks(&self) -> u64 {
        self.ticks
    }

    /// One event through the session; its effects are started, their answers will follow.
    pub fn step(&mut self, ev: Event) {
        count(&self.health, &ev);
        if ev == Event::Tick {
            self.ticks += 1;
        }
        let seen = self.observer.is_some().then(|| ev.clone());
        let (next, fx) = update(self.session.clone(), ev, self.clock.now());
        self.session = next;
        if let (Some(o), Some(ev)) = (self.observer.as_mut(), seen) {
            o(&self.session, &ev);
        }
        self.waiting = match (self.session.pending(), self.waiting) {
            // A print keeps its screen (the number on it) and shows no veil.
            (Some((_, PendingKind::Print | PendingKind::Outlook)), _) => None,
            (Some((req, _)), Some((was, since))) if req == was => Some((req, since)),
            (Some((req, _)), _) => Some((req, Instant::now())),
            (None, _) => None,
        };
        if fx.contains(&Effect::SessionEnded) {
            self.health.sessions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        if fx.contains(&Effect::CallStaff) {
            self.health.call_staff();
        }
        self.in_flight += self.effects.run(fx);
    }

    fn handle(&mut self, m: Message) {
        self.handled += 1;
        match m {
            Message::Answer(ev) => {
                self.in_flight = self.in_flight.saturating_sub(1);
                self.step(ev);
            }
            Message::News(ev) => self.step(ev),
        }
    }

    /// Whether the screen should keep showing what it shows: the session waits for an answer
    /// that has not yet taken [`VEIL_AFTER`].
    pub fn answer_due(&self) -> bool {
        self.waiting.is_some_and(|(_, since)| since.elapsed() < VEIL_AFTER)
    }

    /// Whether the session waits for an answer (a print aside).
    pub fn waiting(&self) -> bool {
        self.waiting.is_some()
    }

    /// Handles everything that has arrived, without waiting; how many messages that was.
    pub fn pump(&mut self) -> usize {
        let mut n = 0;
        while let Some(m) = self.events.try_next() {
            self.handle(m);
            n += 1;
        }
        n
    }

    /// Waits up to `timeout` for one message and handles it; false when none came.
    pub fn wait_one(&mut self, timeout: Duration) -> bool {
        match self.events.next_within(timeout) {
            Some(m) => {
                self.handle(m);
                true
            }
            None => false,
        }
    }

    /// Waits until every started effect has answered (and whatever those answers started);
    /// false when `timeout` passed first.
    pub fn settle(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.in_flight > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || !self.wait_one(left) {
                return self.in_flight == 0;
            }
        }
        self.pump();
        true
    }
}

/// Central as a port: one task on the tokio runtime owns the client and the journal.
struct CentralTask {
    jobs: tokio::sync::mpsc::Sender<CentralJob>,
    link: Arc<CentralRuntime>,
    rt: tokio::runtime::Handle,
    sink: EventSink,
}

impl CentralPort for CentralTask {
    fn call(&self, job: CentralJob) {
        if let Err(e) = self.jobs.try_send(job) {
            // Full or gone: the patient is told central is unreachable rather than left waiting.
            let job = match e {
                tokio::sync::mpsc::error::TrySendError::Full(j)
                | tokio::sync::mpsc::error::TrySendError::Closed(j) => j,
            };
            self.sink.answer(Event::Central { req: job.req, result: Err(CentralError::Unreachable) });
        }
    }

    fn service(&self, what: CentralService) {
        let (link, sink) = (self.link.clone(), self.sink.clone());
        self.rt.spawn(async move {
            let line = match what {
                CentralService::Ping => link.ping_line().await,
                CentralService::SyncJournal => link.sync_line().await,
            };
            sink.answer(Event::ServiceReport(line));
        });
    }
}

/// What runs beside the UI thread. Dropping it stops central's task and the runtime.
pub struct Background {
    rt: Option<tokio::runtime::Runtime>,
    pub central: Arc<CentralRuntime>,
    /// Cleared on drop: the device watchers let go of their ports and end.
    alive: Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for Background {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Background").field("central", &self.central).finish_non_exhaustive()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.alive.store(false, std::sync::atomic::Ordering::Relaxed);
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

impl Background {
    /// Runs `f` on the background's runtime and waits for it (tools and tests that want
    /// central's side of the link now, such as a sync).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.as_ref().expect("running until dropped").block_on(f)
    }

    /// Starts what runs beside the UI thread for `setup` (central's task, the devices,
    /// `/health`), all answering on `sink`; returns it with the core that drives it.
    pub fn start(
        setup: Setup,
        sink: EventSink,
        source: EventSource,
    ) -> Result<(Background, Core), RuntimeError> {
        let Setup {
            kiosk, central, mut session, devices, journal_dir, clock, health_listen, restart, ..
        } = setup;
        // What the waiting screen promises: every retry timing out, rounded up.
        session.wait_limit_s = crate::central_link::client::worst_case(central.request_timeout)
            .as_millis()
            .div_ceil(1000) as u32;
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let client = Client::new(&central)?;
        let link = Arc::new(CentralRuntime::new(client, kiosk.id, kiosk.lpu, &journal_dir, clock.wall_fn())?);
        let health = {
            let l = link.clone();
            Arc::new(Health::new(Box::new(move || crate::health::Offline {
                pending: l.pending_offline(),
                rejected: l.rejected_offline(),
            })))
        };
        if let Some(addr) = health_listen {
            rt.spawn(crate::health::serve(addr, crate::health::router(health.clone())));
        }
        let jobs = {
            let _guard = rt.enter();
            let h = health.clone();
            let observe: crate::central_link::executor::Observer = Arc::new(move |d, ev| {
                h.observe_central(d, crate::health::central_state(ev));
            });
            link.clone().spawn_observed(sink.clone(), SYNC_EVERY, observe)
        };
        rt.spawn(heartbeat(link.clone(), health.clone(), kiosk.id.0));
        let alive = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let printer = crate::devices::start(devices, &kiosk, &sink, &health, &alive);
        let central_port = CentralTask { jobs, link: link.clone(), rt: rt.handle().clone(), sink };
        let restart = restart.unwrap_or_else(|| {
            Box::new(|| {
                // systemd (Restart=always) brings the kiosk back.
                std::process::exit(75);
            })
        });
        let effects = Effects::new(Box::new(central_port), Box::new(printer), restart);
        let core = Core::new(session, effects, source, clock, health);
        Ok((Background { rt: Some(rt), central: link, alive }, core))
    }
}

/// How often a kiosk tells central how it is (the fleet view shows it silent after three
/// missed beats).
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(30);

/// Reports the kiosk's devices and journal to central every [`HEARTBEAT_EVERY`], from start.
async fn heartbeat(link: Arc<CentralRuntime>, health: Arc<Health>, kiosk: u32) {
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // Every 30 s, or at once when a patient calls for staff.
        tokio::select! {
            _ = tick.tick() => {}
            () = health.beat_now.notified() => {}
        }
        let status = health.device_status(kiosk);
        if let Err(e) = link.client.call::<protocol::call::ReportDeviceStatus>(&status).await {
            log::debug!("heartbeat not delivered: {e}");
        }
    }
}

/// A [`Core`] with the production background and no window.
pub struct Headless {
    pub core: Core,
    pub background: Background,
}

impl std::fmt::Debug for Headless {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Headless").field("core", &self.core).finish_non_exhaustive()
    }
}

impl Headless {
    pub fn start(setup: Setup) -> Result<Headless, RuntimeError> {
        let (sink, source) = effects::channel();
        let (background, core) = Background::start(setup, sink, source)?;
        Ok(Headless { core, background })
    }
}

/// Draws the session into the window (and the header's clinic and clock). While an answer is
/// due ([`Core::answer_due`]) the window keeps what it shows; the UI timer draws the wait once
/// it lasts.
pub fn render(window: &ui::KioskWindow, core: &Core, clinic: &str) {
    if core.answer_due() {
        return;
    }
    let s = core.session();
    let now = core.clock().now();
    ui_bind::apply(window, &crate::view::view(s, now.ms), clinic, &core.clock().wall().hhmm());
    if matches!(s.screen, Screen::Service { .. }) {
        ui_bind::set_service_status(window, &core.health().status_lines());
    }
}

thread_local! {
    /// The UI thread's "handle what arrived": what a woken event loop runs.
    static PUMP: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
}

/// The kiosk window driven by a [`Core`]: what `kiosk run` runs and the UI tests press.
pub struct Runtime {
    window: ui::KioskWindow,
    core: Rc<RefCell<Core>>,
    _timer: slint::Timer,
    background: Background,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        PUMP.with(|p| p.borrow_mut().take());
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("core", &self.core.borrow()).finish_non_exhaustive()
    }
}

impl Runtime {
    /// Builds everything and shows the window; the caller runs the event loop ([`Self::run`],
    /// or a test's own turns). A platform must be installed (Slint's default one, or
    /// `offscreen`).
    pub fn start(mut setup: Setup) -> Result<Runtime, RuntimeError> {
        crate::central_link::client::install_crypto();
        let clinic = setup.kiosk.clinic_name.clone();
        let speak = setup.kiosk.speak.then(|| setup.espeak.clone());
        let demo_scan = setup.demo_scan.take();
        let (sink, source) = effects::channel();
        // Answers and news wake the UI thread at once; the 20 ms poll below is the fallback on
        // platforms that cannot be woken from another thread.
        sink.set_waker(Box::new(|| {
            let _ = slint::invoke_from_event_loop(|| {
                // Cloned out, so the thread-local is free while the pump runs.
                if let Some(f) = PUMP.with(|p| p.borrow().clone()) {
                    f();
                }
            });
        }));
        let (background, core) = Background::start(setup, sink, source)?;
        let window = ui::KioskWindow::new()?;
        crate::systemd::announce_first_frame(window.window(), "kiosk");
        let core = Rc::new(RefCell::new(core));

        // Spoken guidance: each new instruction once, in the patient's language.
        let guide = speak.and_then(crate::speech::Guide::start);
        let redraw = {
            let (weak, core, clinic) = (window.as_weak(), core.clone(), clinic.clone());
            let spoken = RefCell::new(String::new());
            Rc::new(move || {
                if let Some(w) = weak.upgrade() {
                    render(&w, &core.borrow(), &clinic);
                }
                if let Some(g) = &guide {
                    let core = core.borrow();
                    if core.answer_due() {
                        return;
                    }
                    let v = crate::view::view(core.session(), core.clock().now().ms);
                    let said = crate::view::instruction(&v).unwrap_or_default();
                    if *spoken.borrow() != said {
                        if !said.is_empty() {
                            g.say(v.lang.code(), &said);
                        }
                        *spoken.borrow_mut() = said;
                    }
                }
            })
        };
        {
            let (core, redraw) = (core.clone(), redraw.clone());
            ui_bind::connect(
                &window,
                Rc::new(move |input| {
                    let tap = match input {
                        Input::Action(a) => Some(a),
                        Input::InfoButton(n) => crate::view::info_action(&core.borrow().session().screen, n),
                        Input::ScanDemo(n) => {
                            if let Some(scan) = &demo_scan {
                                scan(n);
                            }
                            None
                        }
                    };
                    if let Some(a) = tap {
                        core.borrow_mut().step(Event::Tap(a));
                        redraw();
                    }
                }),
            );
        }
        {
            let (core, redraw) = (core.clone(), redraw.clone());
            let pump: Rc<dyn Fn()> = Rc::new(move || {
                if core.borrow_mut().pump() > 0 {
                    redraw();
                }
            });
            PUMP.with(|p| *p.borrow_mut() = Some(pump));
        }
        let timer = slint::Timer::default();
        {
            let (core, redraw) = (core.clone(), redraw.clone());
            let mut last_tick = Instant::now();
            let mut watchdog = crate::systemd::UiWatchdog::from_env();
            timer.start(slint::TimerMode::Repeated, POLL_EVERY, move || {
                watchdog.alive();
                // A wait that outlasts VEIL_AFTER is drawn by this turn (unchanged properties
                // draw nothing, so redrawing while waiting costs no frame).
                let mut changed = core.borrow_mut().pump() > 0 || core.borrow().waiting();
                if last_tick.elapsed() >= TICK_EVERY {
                    last_tick = Instant::now();
                    core.borrow_mut().step(Event::Tick);
                    changed = true;
                }
                if changed {
                    redraw();
                }
            });
        }
        redraw();
        window.show()?;
        Ok(Runtime { window, core, _timer: timer, background })
    }

    pub fn window(&self) -> &ui::KioskWindow {
        &self.window
    }

    /// The core, to look at (tests read the session and wait for answers through it).
    pub fn core(&self) -> std::cell::Ref<'_, Core> {
        self.core.borrow()
    }

    pub fn background(&self) -> &Background {
        &self.background
    }

    /// Runs the event loop until the window closes, then stops the background.
    pub fn run(self) -> Result<(), RuntimeError> {
        slint::run_event_loop()?;
        drop(self);
        Ok(())
    }
}
