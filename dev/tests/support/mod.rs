//! The production kiosk runtime (`kiosk::runtime::Runtime`: the window, the session, the effect
//! runner, central's task and the device threads) on its real peers on loopback, driven by
//! accessible label: what the UI flow, fault and privacy tests share. Each test thread has its
//! own offscreen platform and turns the event loop itself until the kiosk is quiet.
#![allow(dead_code)] // each test file uses part of it

use std::cell::RefCell;
use std::sync::Mutex;
use std::time::Duration;

use i_slint_backend_testing::{ElementHandle, ElementRoot};
use serde_json::{Value, json};
use slint::ComponentHandle;

use domain::{Date, DateTime};
use infomat_dev::rig::{Peers, RigOptions};
use kiosk::clock::ManualTime;
use kiosk::offscreen::Offscreen;
use kiosk::runtime::Runtime;
use kiosk::session::{Screen, Session};
use kiosk::ui_bind;
use protocol::Method;

/// The translations are process-wide: one flow at a time.
pub static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// How long one step may take before the test calls the kiosk stuck.
const STEP: Duration = Duration::from_secs(15);

pub fn monday_10am() -> DateTime {
    DateTime::new(Date::from_ymd(2026, 11, 23).unwrap(), 10, 0, 180).unwrap()
}

thread_local! {
    /// Slint takes one platform per thread here; every kiosk of the thread shares it.
    static SCREEN: RefCell<Option<std::rc::Rc<Offscreen>>> = const { RefCell::new(None) };
}

fn screen() -> std::rc::Rc<Offscreen> {
    SCREEN.with(|s| {
        s.borrow_mut()
            .get_or_insert_with(|| {
                std::rc::Rc::new(Offscreen::install_on_this_thread(1080, 1920).expect("offscreen platform"))
            })
            .clone()
    })
}

pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct Kiosk {
    pub rt: Runtime,
    pub peers: Peers,
    pub time: ManualTime,
    /// Presses so far: the tap-count tests read and reset it.
    pub taps: usize,
    screen: std::rc::Rc<Offscreen>,
    _dir: TempDir,
}

impl Kiosk {
    pub fn start(name: &str) -> Kiosk {
        Kiosk::start_with(name, |_| {})
    }

    /// Starts with a change to the peers before the kiosk comes up (central down, say).
    pub fn start_with(name: &str, before: impl FnOnce(&mut Peers)) -> Kiosk {
        Kiosk::start_tuned(name, before, |_| {})
    }

    /// Starts with a change to the peers and then to the kiosk's setup (another central URL).
    pub fn start_tuned(
        name: &str,
        before: impl FnOnce(&mut Peers),
        tune: impl FnOnce(&mut kiosk::runtime::Setup),
    ) -> Kiosk {
        let screen = screen();
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("ui-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (opts, time) = RigOptions::fixed(&dir, monday_10am());
        let mut peers = Peers::start(&opts).expect("the peers start");
        before(&mut peers);
        let mut setup = peers.setup();
        tune(&mut setup);
        let rt = Runtime::start(setup).expect("the kiosk runtime starts");
        let k = Kiosk { rt, peers, time, taps: 0, screen, _dir: TempDir(dir) };
        // Up when the card reader has announced itself and the scanner's port is open.
        k.spin("the devices to connect", || {
            k.session().card_reader && k.rt.core().health().scanner_connected()
        });
        k
    }

    /// Turns the event loop until `done`; panics naming `what` after [`STEP`].
    pub fn spin(&self, what: &str, mut done: impl FnMut() -> bool) {
        assert!(
            self.screen.spin_until(&mut done, STEP),
            "waited {STEP:?} for {what}; on screen: {:?}",
            self.labels()
        );
    }

    /// Turns the event loop until every effect started has answered and been shown.
    pub fn settle(&self) {
        self.spin("the kiosk to settle", || self.rt.core().in_flight() == 0);
    }

    pub fn session(&self) -> Session {
        self.rt.core().session().clone()
    }

    pub fn screen(&self) -> &'static str {
        self.rt.core().session().screen_name()
    }

    /// Waits until a device's report has been handled, then for what it caused.
    fn await_news(&self, before: u64) {
        self.spin("the device's report", || self.rt.core().handled() > before);
        self.settle();
    }

    /// Demo patient `i` holds their policy to the scanner.
    pub fn scan(&mut self, i: usize) {
        let before = self.rt.core().handled();
        self.peers.scan_patient(i).unwrap();
        self.await_news(before);
    }

    /// Raw bytes through the virtual scanner.
    pub fn scan_bytes(&mut self, bytes: &[u8]) {
        let before = self.rt.core().handled();
        self.peers.scan_bytes(bytes).unwrap();
        self.await_news(before);
    }

    /// Demo patient `i` inserts their chip card.
    pub fn insert_card(&mut self, i: usize) {
        let before = self.rt.core().handled();
        self.peers.insert_card(i);
        self.await_news(before);
    }

    /// Time passes (the session's clock) until the kiosk's own tick has seen it.
    pub fn wait(&mut self, by: Duration) {
        let ticks = self.rt.core().ticks();
        self.time.advance(by);
        self.spin("a tick", || self.rt.core().ticks() > ticks);
        self.settle();
    }

    pub fn labels(&self) -> Vec<String> {
        self.rt
            .window()
            .root_element()
            .query_descendants()
            .find_all()
            .iter()
            .filter(|e| e.is_valid())
            .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
            .filter(|l| !l.is_empty())
            .collect()
    }

    pub fn shows(&self, text: &str) -> bool {
        self.labels().iter().any(|l| l.contains(text))
    }

    /// Presses the (enabled) element with this accessible label and waits for what it causes.
    pub fn press(&mut self, label: &str) {
        self.press_only(label);
        self.settle();
    }

    /// Presses without waiting for the answers in flight (a request abandoned on a silent
    /// central keeps running until its timeout).
    pub fn press_only(&mut self, label: &str) {
        let found: Vec<ElementHandle> =
            ElementHandle::find_by_accessible_label(self.rt.window(), label).collect();
        assert!(!found.is_empty(), "no element labelled {label:?}; on screen: {:?}", self.labels());
        // A button says it is enabled; a text with the same label says nothing.
        let el = found
            .iter()
            .find(|e| e.accessible_enabled() == Some(true))
            .or_else(|| found.iter().find(|e| e.accessible_enabled() != Some(false)))
            .unwrap_or(&found[0]);
        el.invoke_accessible_default_action();
        self.taps += 1;
    }

    /// Holds a finger on the element `id` (an element id in the .slint sources) for `hold`.
    pub fn long_press(&mut self, id: &str, hold: Duration) {
        use slint::platform::{PointerEventButton, WindowEvent};
        let el = ElementHandle::find_by_element_id(self.rt.window(), id)
            .next()
            .unwrap_or_else(|| panic!("no element {id:?}"));
        let (pos, size) = (el.absolute_position(), el.size());
        let position = slint::LogicalPosition::new(pos.x + size.width / 2.0, pos.y + size.height / 2.0);
        let w = self.rt.window().window();
        w.dispatch_event(WindowEvent::PointerPressed { position, button: PointerEventButton::Left });
        let until = std::time::Instant::now() + hold;
        self.spin("the long press", || std::time::Instant::now() >= until);
        w.dispatch_event(WindowEvent::PointerReleased { position, button: PointerEventButton::Left });
        self.settle();
    }

    /// The technician's way in: three seconds on the attract screen's bottom-right corner.
    pub fn open_service(&mut self) {
        self.long_press("AttractScreen::service-corner", Duration::from_millis(3_200));
    }

    pub fn enabled(&self, label: &str) -> Option<bool> {
        ElementHandle::find_by_accessible_label(self.rt.window(), label)
            .next()
            .and_then(|e| e.accessible_enabled())
    }

    /// Types digits on the on-screen keypad.
    pub fn type_digits(&mut self, digits: &str) {
        for c in digits.chars() {
            self.press(&c.to_string());
        }
    }

    /// Lines of every complete receipt the virtual printer cut.
    pub fn receipts(&self) -> Vec<Vec<String>> {
        // The virtual printer files a receipt before it answers the status query that ends a
        // job, so after `settle` it is there; a silent printer answers nothing: let it finish.
        let mut last = self.peers.spool.counts();
        loop {
            std::thread::sleep(Duration::from_millis(10));
            let now = self.peers.spool.counts();
            if now == last {
                break;
            }
            last = now;
        }
        self.peers.receipts().into_iter().filter(|r| r.complete).map(|r| r.lines).collect()
    }

    pub fn central(&self, method: Method, params: Value) -> Value {
        self.peers.central_call(method, params).expect("central answers")
    }

    /// Appointments central holds for demo patient `i`.
    pub fn appointments_of(&self, i: usize) -> Vec<Value> {
        let p = domain::demo::patient(i);
        let r = self.central(
            Method::GetAppointmentReceptionsByPatient,
            json!({"omsNumber": p.enp.expose(), "birthDate": p.birth_date}),
        );
        r.as_array().cloned().unwrap_or_default()
    }

    pub fn waiting_in_queue(&self) -> i64 {
        let r = self.central(Method::GetQueueState, json!({"lpuId": 1}));
        r["waiting"].as_i64().unwrap_or_else(|| panic!("queue state without `waiting`: {r}"))
    }

    /// Sends the offline journal to central now (the kiosk does so every 15 s by itself).
    pub fn sync(&self) -> kiosk::central_link::executor::SyncReport {
        let central = self.rt.background().central.clone();
        self.rt.background().block_on(async move { central.sync().await }).expect("sync")
    }

    /// The ticket on screen.
    pub fn ticket(&self) -> domain::QueueTicket {
        match self.session().screen {
            Screen::TicketIssued { ticket, .. } => ticket,
            other => panic!("no ticket on screen: {other:?}"),
        }
    }

    /// Nothing on screen or in any adapter names demo patient `i` any more.
    pub fn assert_forgotten(&self, i: usize) {
        let p = domain::demo::patient(i);
        let mut all = self.labels();
        all.extend(ui_bind::every_text(self.rt.window()));
        let all = all.join("\n").to_lowercase();
        let b = p.birth_date;
        for secret in [
            p.enp.expose(),
            p.name.first.expose().to_lowercase(),
            p.name
                .middle
                .as_ref()
                .map(|m| m.expose().to_lowercase())
                .unwrap_or_else(|| p.name.first.expose().to_lowercase()),
            p.name.last.expose().to_lowercase(),
            format!("{:02}.{:02}.{}", b.day(), b.month(), b.year()),
        ] {
            assert!(!all.contains(&secret), "{secret:?} still held by the UI:\n{all}");
        }
        assert!(self.session().holds_no_patient_data());
    }
}
