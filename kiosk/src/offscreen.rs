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
    /// The thread running the loop, woken when a job or a quit arrives.
    looper: Mutex<Option<std::thread::Thread>>,
    /// Frames drawn so far (benchmarks wait for the frame that shows a change).
    frames: std::sync::atomic::AtomicU64,
    /// The loop's frame buffer, kept between frames: a fresh 8 MB buffer per frame cost its
    /// page faults every time (the whole frame is drawn anew, so old pixels never show).
    buffer: Mutex<Vec<PremultipliedRgbaColor>>,
}

impl Inbox {
    fn wake(&self) {
        if let Some(t) = self.looper.lock().ok().and_then(|l| l.clone()) {
            t.unpark();
        }
    }
}

struct Proxy(Arc<Inbox>);

impl EventLoopProxy for Proxy {
    fn quit_event_loop(&self) -> Result<(), slint::EventLoopError> {
        self.0.quit.store(true, Ordering::SeqCst);
        self.0.wake();
        Ok(())
    }

    fn invoke_from_event_loop(&self, event: Box<dyn FnOnce() + Send>) -> Result<(), slint::EventLoopError> {
        self.0.jobs.lock().map_err(|_| slint::EventLoopError::EventLoopTerminated)?.push(event);
        self.0.wake();
        Ok(())
    }
}

struct OffscreenPlatform {
    window: Rc<MinimalSoftwareWindow>,
    inbox: Arc<Inbox>,
    /// Whether other threads may reach this event loop. Slint keeps one such proxy per
    /// process, so a platform with it can be installed once; without it, once per thread.
    proxy: bool,
}

/// One turn of the event loop: jobs from other threads, timers, a redraw if one is due.
fn turn(window: &MinimalSoftwareWindow, inbox: &Inbox) {
    let jobs: Vec<Job> = inbox.jobs.lock().map(|mut j| j.drain(..).collect()).unwrap_or_default();
    for job in jobs {
        job();
    }
    slint::platform::update_timers_and_animations();
    let size = window.size();
    let (w, h) = (size.width as usize, size.height as usize);
    let drawn = window.draw_if_needed(|r| {
        // The frame is thrown away: what matters is that it was drawn (first-frame, costs).
        let mut buf = inbox.buffer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        buf.resize(w * h, PremultipliedRgbaColor::default());
        r.render(&mut buf, w);
    });
    if drawn {
        inbox.frames.fetch_add(1, Ordering::Relaxed);
    }
}

/// How long the loop may sleep: until the next timer, and never more than 10 ms.
fn pause() -> Duration {
    slint::platform::duration_until_next_timer_update()
        .unwrap_or(Duration::from_millis(10))
        .min(Duration::from_millis(10))
}

impl Platform for OffscreenPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }

    fn new_event_loop_proxy(&self) -> Option<Box<dyn EventLoopProxy>> {
        self.proxy.then(|| Box::new(Proxy(self.inbox.clone())) as Box<dyn EventLoopProxy>)
    }

    fn run_event_loop(&self) -> Result<(), slint::PlatformError> {
        self.inbox.quit.store(false, Ordering::SeqCst);
        if let Ok(mut l) = self.inbox.looper.lock() {
            *l = Some(std::thread::current());
        }
        loop {
            turn(&self.window, &self.inbox);
            if self.inbox.quit.load(Ordering::SeqCst) {
                return Ok(());
            }
            // Until the next timer, or until another thread hands us a job.
            std::thread::park_timeout(pause());
        }
    }
}

/// The installed offscreen platform and its one window.
pub struct Offscreen {
    window: Rc<MinimalSoftwareWindow>,
    inbox: Arc<Inbox>,
    width: u32,
    height: u32,
}

impl std::fmt::Debug for Offscreen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Offscreen({}x{})", self.width, self.height)
    }
}

impl Offscreen {
    /// Installs the platform for the process (other threads can reach its event loop).
    pub fn install(width: u32, height: u32) -> Result<Offscreen, OffscreenError> {
        Offscreen::install_with(width, height, true)
    }

    /// Installs the platform for the calling thread only: each test thread gets its own, and
    /// turns its event loop itself with [`Offscreen::spin_until`].
    pub fn install_on_this_thread(width: u32, height: u32) -> Result<Offscreen, OffscreenError> {
        Offscreen::install_with(width, height, false)
    }

    fn install_with(width: u32, height: u32, proxy: bool) -> Result<Offscreen, OffscreenError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::NewBuffer);
        window.set_size(PhysicalSize::new(width, height));
        let inbox = Arc::new(Inbox::default());
        let platform = OffscreenPlatform { window: window.clone(), inbox: inbox.clone(), proxy };
        slint::platform::set_platform(Box::new(platform))
            .map_err(|e| OffscreenError::Render(e.to_string()))?;
        Ok(Offscreen { window, inbox, width, height })
    }

    /// Turns the event loop (timers, redraws) until `done` says so; false when `timeout`
    /// passed first. The same turns as [`Platform::run_event_loop`], driven by the caller.
    pub fn spin_until(&self, mut done: impl FnMut() -> bool, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        if let Ok(mut l) = self.inbox.looper.lock() {
            *l = Some(std::thread::current());
        }
        loop {
            turn(&self.window, &self.inbox);
            if done() {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::park_timeout(pause().min(Duration::from_millis(2)));
        }
    }

    /// Frames the event loop has drawn so far.
    pub fn frames(&self) -> u64 {
        self.inbox.frames.load(Ordering::Relaxed)
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
