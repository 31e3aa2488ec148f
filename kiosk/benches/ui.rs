//! Benchmarks of the patient screens with Slint's software renderer (what a kiosk without a GPU
//! draws with): a full 1080x1920 frame (target p99 under 16 ms), switching between screens each
//! frame so nothing is cached; and the time to the first frame of a new window.

use std::rc::Rc;
use std::time::Instant;

use slint::platform::software_renderer::{MinimalSoftwareWindow, PremultipliedRgbaColor, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, PhysicalSize};

use kiosk::session::{Action, Event, Now, Session, SessionConfig, update};

struct Offscreen(Rc<MinimalSoftwareWindow>);

impl Platform for Offscreen {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.0.clone())
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let t0 = Instant::now();
    let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
    slint::platform::set_platform(Box::new(Offscreen(window.clone()))).unwrap();
    let (w, h) = (1080usize, 1920usize);
    window.set_size(PhysicalSize::new(w as u32, h as u32));
    let ui = ui::KioskWindow::new().unwrap();
    ui.show().unwrap();
    let today = domain::Date::from_ymd(2026, 11, 23).unwrap();
    let now = Now { ms: 0, today };
    let attract = Session::new(SessionConfig::default(), now);
    let (keypad, _) = update(attract.clone(), Event::Tap(Action::ManualEntry), now);
    let views = [kiosk::view::view(&attract, 0), kiosk::view::view(&keypad, 0)];
    let mut buf = vec![PremultipliedRgbaColor::default(); w * h];
    kiosk::ui_bind::apply(&ui, &views[0], "ГП № 1", "10:00");
    window.request_redraw();
    window.draw_if_needed(|r| {
        r.render(&mut buf, w);
    });
    let first = t0.elapsed().as_secs_f64() * 1000.0;
    let n = if full { 300 } else { 3 };
    let mut ms = Vec::with_capacity(n);
    for i in 0..n {
        kiosk::ui_bind::apply(&ui, &views[i % 2], "ГП № 1", "10:00");
        window.request_redraw();
        let t = Instant::now();
        window.draw_if_needed(|r| {
            r.render(&mut buf, w);
        });
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    let p = |q: f64| ms[((ms.len() as f64 - 1.0) * q) as usize];
    let pass = if p(0.99) < 16.0 { "pass" } else { "FAIL" };
    println!(
        "| ui: full 1080x1920 frame, software renderer ({n} frames) | p99 < 16 ms | {:.2} ms | {:.2} ms | {pass} |",
        p(0.5),
        p(0.99)
    );
    let pass = if first < 1000.0 { "pass" } else { "FAIL" };
    println!(
        "| ui: new window to first frame (in process) | < 1 s | {first:.1} ms | {first:.1} ms | {pass} |"
    );
}
