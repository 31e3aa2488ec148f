//! Slint's software renderer into memory, as a platform: screenshots and the headless demo
//! draw one frame on demand ([`Offscreen::save_png`]); `kiosk run --offscreen` and
//! `kiosk display --offscreen` run the real event loop ([`Platform::run_event_loop`]) with
//! timers, redraws and quitting, only without a screen. That is how tests and benchmarks run
//! the production programs on machines without a display, and how a kiosk with a dead panel
//! keeps serving `/health`. Slint takes one platform per process: install it once.

use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use slint::PhysicalSize;
use slint::platform::software_renderer::{MinimalSoftwareWindow, PremultipliedRgbaColor, RepaintBufferType};
use slint::platform::{EventLoopProxy, Platform, WindowAdapter};

#[derive(Debug, thiserror::Error)]
pub enum OffscreenError {
    #[error("offscreen rendering: {0}")]
    Render(String),
    #[error("offscreen rendering: {0}")]
    Io(#[from] std::io::Error),
}

type Job = Box<dyn FnOnce() + Send>;

/// What other threads hand to the event loop.
#[derive(Default)]
struct Inbox {
    jobs: Mutex<Vec<Job>>,
    quit: AtomicBool,
}

struct Proxy(Arc<Inbox>);

impl EventLoopProxy for Proxy {
    fn quit_event_loop(&self) -> Result<(), slint::EventLoopError> {
        self.0.quit.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn invoke_from_event_loop(&self, event: Box<dyn FnOnce() + Send>) -> Result<(), slint::EventLoopError> {
        self.0.jobs.lock().map_err(|_| slint::EventLoopError::EventLoopTerminated)?.push(event);
        Ok(())
    }
}

struct OffscreenPlatform {
    window: Rc<MinimalSoftwareWindow>,
    inbox: Arc<Inbox>,
    size: (usize, usize),
}

impl Platform for OffscreenPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }

    fn new_event_loop_proxy(&self) -> Option<Box<dyn EventLoopProxy>> {
        Some(Box::new(Proxy(self.inbox.clone())))
    }

    fn run_event_loop(&self) -> Result<(), slint::PlatformError> {
        let (w, h) = self.size;
        let mut buf = vec![PremultipliedRgbaColor::default(); w * h];
        self.inbox.quit.store(false, Ordering::SeqCst);
        loop {
            let jobs: Vec<Job> =
                self.inbox.jobs.lock().map(|mut j| j.drain(..).collect()).unwrap_or_default();
            for job in jobs {
                job();
            }
            slint::platform::update_timers_and_animations();
            self.window.draw_if_needed(|r| {
                r.render(&mut buf, w);
            });
            if self.inbox.quit.load(Ordering::SeqCst) {
                return Ok(());
            }
            // Timers say when they next need us; jobs from other threads wait at most 10 ms.
            let wait = slint::platform::duration_until_next_timer_update()
                .unwrap_or(Duration::from_millis(10))
                .min(Duration::from_millis(10));
            std::thread::sleep(wait);
        }
    }
}

/// The installed offscreen platform and its one window.
pub struct Offscreen {
    window: Rc<MinimalSoftwareWindow>,
    width: u32,
    height: u32,
}

impl std::fmt::Debug for Offscreen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Offscreen({}x{})", self.width, self.height)
    }
}

impl Offscreen {
    pub fn install(width: u32, height: u32) -> Result<Offscreen, OffscreenError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        window.set_size(PhysicalSize::new(width, height));
        let platform = OffscreenPlatform {
            window: window.clone(),
            inbox: Arc::new(Inbox::default()),
            size: (width as usize, height as usize),
        };
        slint::platform::set_platform(Box::new(platform))
            .map_err(|e| OffscreenError::Render(e.to_string()))?;
        Ok(Offscreen { window, width, height })
    }

    /// Changes the window's size (a portrait board after a landscape one).
    pub fn resize(&mut self, width: u32, height: u32) {
        self.window.set_size(PhysicalSize::new(width, height));
        (self.width, self.height) = (width, height);
    }

    /// Draws the component shown on the window now, as RGB pixels.
    pub fn frame(&self) -> Vec<u8> {
        slint::platform::update_timers_and_animations();
        self.window.request_redraw();
        let (w, h) = (self.width as usize, self.height as usize);
        let mut buf = vec![PremultipliedRgbaColor::default(); w * h];
        self.window.draw_if_needed(|r| {
            r.render(&mut buf, w);
        });
        let mut out = Vec::with_capacity(w * h * 3);
        for p in &buf {
            out.extend_from_slice(&[p.red, p.green, p.blue]);
        }
        out
    }

    /// Draws the component shown on the window and writes it as an RGB PNG.
    pub fn save_png(&self, path: &Path) -> Result<(), OffscreenError> {
        let rgb = self.frame();
        let file = std::fs::File::create(path)?;
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), self.width, self.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().map_err(|e| OffscreenError::Render(e.to_string()))?;
        wr.write_image_data(&rgb).map_err(|e| OffscreenError::Render(e.to_string()))
    }
}
