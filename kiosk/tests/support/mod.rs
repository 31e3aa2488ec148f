//! The kiosk UI driven by accessible label over the live rig (central, virtual printer and
//! scanner on loopback): what the UI flow and fault tests share.
#![allow(dead_code)] // each test file uses part of it

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Mutex;

use i_slint_backend_testing::{ElementHandle, ElementRoot};
use serde_json::{Value, json};
use slint::ComponentHandle;

use domain::{Date, DateTime};
use kiosk::central::client::Endpoint;
use kiosk::modes::demo::Driver;
use kiosk::modes::live::{Rig, RigOptions};
use kiosk::session::{Event, Now, SessionConfig};
use kiosk::ui_bind::{self, Input};

/// The translations are process-wide: one flow at a time.
pub static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

pub fn monday_10am() -> DateTime {
    DateTime::new(Date::from_ymd(2026, 11, 23).unwrap(), 10, 0, 180).unwrap()
}

pub struct Kiosk {
    pub w: ui::KioskWindow,
    pub d: Driver<Rig, std::io::Sink>,
    inputs: Rc<RefCell<Vec<Input>>>,
    _dir: TempDir,
}

pub struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Kiosk {
    pub fn start(name: &str) -> Kiosk {
        i_slint_backend_testing::init_no_event_loop();
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("ui-flow-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let rig = Rig::start(&RigOptions::fixed(&dir, monday_10am())).expect("the rig starts");
        let w = ui::KioskWindow::new().unwrap();
        // The real portrait size: rows of a list outside the window are not laid out.
        w.window().set_size(slint::PhysicalSize::new(1080, 1920));
        let inputs = Rc::new(RefCell::new(Vec::new()));
        {
            let inputs = inputs.clone();
            ui_bind::connect(&w, Rc::new(move |i| inputs.borrow_mut().push(i)));
        }
        let cfg = SessionConfig {
            registry_phone: "+7 495 000-00-00".into(),
            service_pin_sha256: Some(kiosk::modes::live::DEMO_PIN_SHA256),
            ..SessionConfig::default()
        };
        let d = Driver::new(cfg, rig, std::io::sink(), Now { ms: 0, today: monday_10am().date });
        let k = Kiosk { w, d, inputs, _dir: TempDir(dir) };
        k.show();
        k
    }

    pub fn show(&self) {
        ui_bind::apply(&self.w, &kiosk::view::view(&self.d.session, self.d.now().ms), "ГП № 1", "10:00");
    }

    pub fn feed(&mut self, ev: Event) {
        self.d.feed(ev).unwrap();
        self.show();
    }

    /// Demo patient `i` holds their policy to the scanner.
    pub fn scan(&mut self, i: usize) {
        let ev = self.d.runner.scan_patient(i);
        self.feed(ev);
    }

    pub fn labels(&self) -> Vec<String> {
        self.w
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

    /// Presses the (enabled) element with this accessible label and lets the session react.
    pub fn press(&mut self, label: &str) {
        let found: Vec<ElementHandle> = ElementHandle::find_by_accessible_label(&self.w, label).collect();
        assert!(!found.is_empty(), "no element labelled {label:?}; on screen: {:?}", self.labels());
        // A button says it is enabled; a text with the same label says nothing.
        let el = found
            .iter()
            .find(|e| e.accessible_enabled() == Some(true))
            .or_else(|| found.iter().find(|e| e.accessible_enabled() != Some(false)))
            .unwrap_or(&found[0]);
        el.invoke_accessible_default_action();
        let inputs: Vec<Input> = self.inputs.borrow_mut().drain(..).collect();
        for i in inputs {
            let ev = match i {
                Input::Action(a) => Some(Event::Tap(a)),
                Input::InfoButton(n) => kiosk::view::info_action(&self.d.session.screen, n).map(Event::Tap),
                Input::ScanDemo(_) => None,
            };
            if let Some(ev) = ev {
                self.d.feed(ev).unwrap();
            }
        }
        self.show();
    }

    pub fn enabled(&self, label: &str) -> Option<bool> {
        ElementHandle::find_by_accessible_label(&self.w, label).next().and_then(|e| e.accessible_enabled())
    }

    pub fn screen(&self) -> &'static str {
        self.d.session.screen_name()
    }

    /// Types digits on the on-screen keypad.
    pub fn type_digits(&mut self, digits: &str) {
        for c in digits.chars() {
            self.press(&c.to_string());
        }
    }

    /// Lines of every complete receipt the virtual printer cut.
    pub fn receipts(&self) -> Vec<Vec<String>> {
        self.d.runner.receipts().into_iter().filter(|r| r.complete).map(|r| r.lines).collect()
    }

    pub fn central(&self, endpoint: Endpoint, method: &str, params: Value) -> Value {
        self.d.runner.central_call(endpoint, method, params).expect("central answers")
    }

    /// Appointments central holds for demo patient `i`.
    pub fn appointments_of(&self, i: usize) -> Vec<Value> {
        let p = domain::demo::patient(i);
        let r = self.central(
            Endpoint::Booking,
            "getAppointmentReceptionsByPatient",
            json!({"omsNumber": p.enp.expose(), "birthDate": p.birth_date}),
        );
        r.as_array().cloned().unwrap_or_default()
    }

    pub fn waiting_in_queue(&self) -> i64 {
        let r = self.central(Endpoint::Queue, "getQueueState", json!({"lpuId": 1}));
        r["waiting"].as_i64().unwrap_or_else(|| panic!("queue state without `waiting`: {r}"))
    }

    /// Nothing on screen or in any adapter names demo patient `i` any more.
    pub fn assert_forgotten(&self, i: usize) {
        let p = domain::demo::patient(i);
        let mut all = self.labels();
        all.extend(ui_bind::every_text(&self.w));
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
        assert!(self.d.session.holds_no_patient_data());
    }
}
