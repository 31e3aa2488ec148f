//! The screens driven headless by accessible label (Slint's testing backend): a patient types
//! the policy number (first with a wrong check digit), the birth date, takes a walk-in ticket,
//! finishes; afterwards no text anywhere on screen holds their data. The real session and
//! bindings run against the in-memory stand-in clinic.

use std::cell::RefCell;
use std::rc::Rc;

use i_slint_backend_testing::ElementHandle;
use slint::ComponentHandle;

use domain::Date;
use kiosk::modes::demo::{Driver, EffectRunner};
use kiosk::modes::standin::StandInClinic;
use kiosk::session::{Effect, Event, Now, PrinterHealth, SessionConfig};
use kiosk::ui_bind::{self, Input};

#[derive(Debug)]
struct Clinic(StandInClinic);

impl EffectRunner for Clinic {
    fn run(&mut self, effect: &Effect) -> Vec<Event> {
        match effect {
            Effect::Central { req, credentials, call } => {
                vec![Event::Central { req: *req, result: self.0.answer(credentials, call) }]
            }
            Effect::Print { req, .. } => vec![Event::Printed { req: *req }],
            Effect::CheckPrinter => vec![Event::Printer(PrinterHealth::Ready)],
            _ => Vec::new(),
        }
    }
}

struct Harness {
    w: ui::KioskWindow,
    d: Driver<Clinic, std::io::Sink>,
    inputs: Rc<RefCell<Vec<Input>>>,
}

impl Harness {
    fn show(&self) {
        ui_bind::apply(&self.w, &kiosk::view::view(&self.d.session, self.d.now().ms), "ГП № 1", "10:00");
    }

    fn labels(&self) -> Vec<String> {
        self.w.root_element_labels()
    }

    /// Presses the (enabled) element with this accessible label and lets the session react.
    fn press(&mut self, label: &str) {
        let found: Vec<ElementHandle> = ElementHandle::find_by_accessible_label(&self.w, label).collect();
        assert!(!found.is_empty(), "no element labelled {label:?}; on screen: {:?}", self.labels());
        let el = found.iter().find(|e| e.accessible_enabled() != Some(false)).unwrap_or(&found[0]);
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

    fn enabled(&self, label: &str) -> Option<bool> {
        ElementHandle::find_by_accessible_label(&self.w, label).next().and_then(|e| e.accessible_enabled())
    }
}

trait Labels {
    fn root_element_labels(&self) -> Vec<String>;
}

impl Labels for ui::KioskWindow {
    fn root_element_labels(&self) -> Vec<String> {
        use i_slint_backend_testing::ElementRoot;
        self.root_element()
            .query_descendants()
            .find_all()
            .iter()
            .filter(|e| e.is_valid())
            .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
            .filter(|l| !l.is_empty())
            .collect()
    }
}

#[test]
fn a_patient_types_their_policy_takes_a_ticket_and_leaves_nothing_behind() {
    i_slint_backend_testing::init_no_event_loop();
    let today = Date::from_ymd(2026, 11, 23).unwrap();
    let clinic = StandInClinic::new(today);
    let anna = clinic.patients[0].clone();
    let w = ui::KioskWindow::new().unwrap();
    let inputs = Rc::new(RefCell::new(Vec::new()));
    {
        let inputs = inputs.clone();
        ui_bind::connect(&w, Rc::new(move |i| inputs.borrow_mut().push(i)));
    }
    let cfg = SessionConfig { registry_phone: "+7 495 000-00-00".into(), ..SessionConfig::default() };
    let d = Driver::new(cfg, Clinic(clinic), std::io::sink(), Now { ms: 0, today });
    let mut h = Harness { w, d, inputs };
    h.show();

    h.press("Ввести номер полиса вручную");
    // A wrong check digit: the number is refused on the spot, "Далее" stays disabled.
    let mut wrong = anna.enp.expose().into_bytes();
    wrong[15] = b'0' + (wrong[15] - b'0' + 1) % 10;
    for c in &wrong {
        h.press(&char::from(*c).to_string());
    }
    assert_eq!(h.enabled("Далее"), Some(false));
    assert!(h.labels().iter().any(|l| l.contains("ошибка")), "{:?}", h.labels());
    h.press("Стереть");
    h.press(&char::from(anna.enp.expose().as_bytes()[15]).to_string());
    assert_eq!(h.enabled("Далее"), Some(true));
    h.press("Далее");
    let b = anna.birth_date.expose();
    for c in format!("{:02}{:02}{:04}", b.day(), b.month(), b.year()).chars() {
        h.press(&c.to_string());
    }
    h.press("Далее");
    assert_eq!(h.d.session.screen_name(), "menu");
    assert!(h.labels().iter().any(|l| l.starts_with("Здравствуйте, Анна")), "{:?}", h.labels());

    h.press("Талон к дежурному врачу");
    h.press("Получить талон");
    assert!(h.labels().iter().any(|l| l == "Д-001"), "the number is on screen: {:?}", h.labels());
    h.press("Готово");
    assert_eq!(h.d.session.screen_name(), "attract");

    // Nothing on screen holds the patient: no name, no number, no birth date in any label.
    let labels = h.labels().join("\n");
    for secret in [
        anna.enp.expose(),
        anna.name.first.expose().to_owned(),
        "Анна".into(),
        anna.name.last.expose().to_owned(),
        b.year().to_string(),
    ] {
        assert!(!labels.contains(&secret), "{secret} still on screen:\n{labels}");
    }
    // Nor in the adapters of the screens now hidden.
    assert_eq!(h.w.global::<ui::MenuAdapter>().get_greeting(), "");
    assert_eq!(h.w.global::<ui::KeypadAdapter>().get_value(), "");
    assert_eq!(h.w.global::<ui::InfoAdapter>().get_big(), "");
    assert_eq!(slint::Model::row_count(&h.w.global::<ui::InfoAdapter>().get_lines()), 0);
}

#[test]
fn booking_and_cancelling_by_label() {
    i_slint_backend_testing::init_no_event_loop();
    let today = Date::from_ymd(2026, 11, 23).unwrap();
    let clinic = StandInClinic::new(today);
    let ivan = clinic.patients[1].clone();
    let w = ui::KioskWindow::new().unwrap();
    let inputs = Rc::new(RefCell::new(Vec::new()));
    {
        let inputs = inputs.clone();
        ui_bind::connect(&w, Rc::new(move |i| inputs.borrow_mut().push(i)));
    }
    // The real portrait size: rows of a list outside the window are not laid out.
    w.window().set_size(slint::PhysicalSize::new(1080, 1920));
    let d = Driver::new(SessionConfig::default(), Clinic(clinic), std::io::sink(), Now { ms: 0, today });
    let mut h = Harness { w, d, inputs };
    h.d.feed(Event::CardRead(ivan.policy(domain::PolicySource::Barcode02))).unwrap();
    h.show();
    // English, to prove the switch reaches every label.
    h.press("English");
    h.press("Book a doctor");
    // A referral-only speciality is refused with a plain sentence and a way back.
    h.press("Кардиолог");
    assert!(h.labels().iter().any(|l| l.contains("referral")), "{:?}", h.labels());
    h.press("OK");
    h.press("Терапевт");
    h.press("Иванова Мария Петровна");
    let slot = h.d.session.screen.clone();
    assert!(matches!(slot, kiosk::session::Screen::Schedule { .. }));
    h.press("09:40 room 214");
    h.press("Book");
    assert_eq!(h.d.session.screen_name(), "booked");
    assert!(h.labels().iter().any(|l| l == "09:40"), "{:?}", h.labels());
    h.press("← Back");
    h.press("My appointments: move, cancel, print");
    let first = h.labels().into_iter().find(|l| l.contains("09:40")).expect("the appointment is listed");
    h.press(&first);
    h.press("Cancel it");
    h.press("Yes, cancel");
    assert_eq!(h.d.session.screen_name(), "cancelled");
    h.press("Finish");
    assert_eq!(h.d.session.screen_name(), "attract");
    assert!(h.labels().iter().any(|l| l == "Приложите полис ОМС"), "back in Russian for the next patient");
}
