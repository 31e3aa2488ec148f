//! The device registry: the one place configuration becomes devices, and the threads that run
//! them. A [`Devices`] value says where each device is (an [`Opener`] per link); [`start`]
//! runs each on its own thread (their drivers block) and turns what they report into session
//! events on the runtime's [`EventSink`]. The dev harness builds a [`Devices`] of simulators
//! (a pseudo-terminal scanner, a TCP virtual printer, a virtual CCID reader) and everything
//! after that is the production path.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use domain::{DeviceErrorKind, Policy};
use drivers::card::ccid::CcidOpener;
use drivers::card::framing::Scan;
use drivers::card::reader::{CardReader, ReaderEvent};
use drivers::card::scanner::{Scanner, ScannerEvent};
use drivers::link::Opener;
use drivers::printer::layout::LayoutConfig;

use crate::config::{Config, KioskConfig, LinkConfig};
use crate::effects::{EventSink, PrinterJob, PrinterPort};
use crate::health::Health;
use crate::printing::PrinterWorker;
use crate::session::{Event, PrinterHealth, ReadFailure};

/// The ticket printer: where it is and how its paper is laid out.
pub struct PrinterSpec {
    pub opener: Box<dyn Opener>,
    pub layout: LayoutConfig,
    /// Printed on the test page (which code page numbers this model uses).
    pub model: String,
}

/// The barcode scanner and the silence that ends a scan.
pub struct ScannerSpec {
    pub opener: Box<dyn Opener>,
    pub idle_gap: Duration,
}

/// Every device of a kiosk.
pub struct Devices {
    pub printer: PrinterSpec,
    pub scanner: Option<ScannerSpec>,
    pub card_reader: Option<Box<dyn CcidOpener>>,
}

impl std::fmt::Debug for PrinterSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrinterSpec")
            .field("link", &self.opener.describe())
            .field("model", &self.model)
            .finish()
    }
}

impl std::fmt::Debug for ScannerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScannerSpec")
            .field("link", &self.opener.describe())
            .field("idle_gap", &self.idle_gap)
            .finish()
    }
}

impl std::fmt::Debug for Devices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devices")
            .field("printer", &self.printer.opener.describe())
            .field("scanner", &self.scanner.as_ref().map(|s| s.opener.describe()))
            .field("card_reader", &self.card_reader.as_ref().map(|c| c.describe()))
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeviceSetupError {
    #[error("printer.url = \"sim\": the built-in virtual printer exists only in `infomat-dev demo`")]
    SimPrinter,
}

/// The opener for a configured link (`None`: the simulator, which only the dev harness has).
pub fn link_opener(link: &LinkConfig) -> Option<Box<dyn Opener>> {
    match link {
        LinkConfig::Device(spec) => Some(spec.opener()),
        LinkConfig::Sim => None,
    }
}

/// The card reader a configuration names.
pub fn card_reader_opener(cfg: &Config) -> Option<Box<dyn CcidOpener>> {
    cfg.chip_reader.map(|id| {
        Box::new(drivers::card::ccid::usb::UsbCcidOpener { vid: id.vid, pid: id.pid }) as Box<dyn CcidOpener>
    })
}

impl Devices {
    /// A production kiosk's devices from its validated configuration.
    pub fn from_config(cfg: &Config) -> Result<Devices, DeviceSetupError> {
        let opener = link_opener(&cfg.printer.link).ok_or(DeviceSetupError::SimPrinter)?;
        Ok(Devices {
            printer: PrinterSpec {
                opener,
                layout: crate::printing::layout_config(&cfg.printer),
                model: cfg.printer.model.clone(),
            },
            scanner: link_opener(&cfg.scanner.link)
                .map(|opener| ScannerSpec { opener, idle_gap: cfg.scanner.idle_gap }),
            card_reader: card_reader_opener(cfg),
        })
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

/// The printer on its own thread: the effect runner's [`PrinterPort`].
#[derive(Debug)]
pub struct PrinterThread {
    jobs: mpsc::Sender<PrinterJob>,
    sink: EventSink,
}

impl PrinterPort for PrinterThread {
    fn submit(&self, job: PrinterJob) {
        if let Err(mpsc::SendError(job)) = self.jobs.send(job) {
            // The thread is gone (it panicked): answer anyway, so nothing waits for ever.
            self.sink.answer(job.failed(DeviceErrorKind::DeviceError));
        }
    }
}

/// How often a watcher thread looks up from its device to see whether it should stop.
const LOOK_UP_EVERY: Duration = Duration::from_millis(250);

/// Starts every device of `devices` on its thread: the printer's worker, the scanner's and the
/// card reader's watchers. Scans and card reads arrive on `sink` as news, printer answers as
/// answers. The printer's thread ends with its port; the watchers when `alive` turns false
/// (they must let go of their ports: a serial port is opened exclusively).
pub fn start(
    devices: Devices,
    kiosk: &KioskConfig,
    sink: &EventSink,
    health: &Arc<Health>,
    alive: &Arc<AtomicBool>,
) -> PrinterThread {
    let worker = PrinterWorker::new(
        devices.printer.opener,
        devices.printer.layout,
        devices.printer.model,
        kiosk.clone(),
    );
    let printer = start_printer(worker, sink.clone());
    match devices.scanner {
        Some(s) => start_scanner(s, sink.clone(), health.clone(), alive.clone()),
        None => health.set(&health.scanner, "not configured"),
    }
    match devices.card_reader {
        Some(c) => start_card_reader(c, sink.clone(), health.clone(), alive.clone()),
        None => health.set(&health.card_reader, "not configured"),
    }
    printer
}

fn start_printer(mut worker: PrinterWorker, sink: EventSink) -> PrinterThread {
    let (tx, rx) = mpsc::channel::<PrinterJob>();
    let answers = sink.clone();
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
                if !answers.answer(ev) {
                    return;
                }
            }
        })
        .expect("spawning the printer thread");
    PrinterThread { jobs: tx, sink }
}

fn start_scanner(spec: ScannerSpec, sink: EventSink, health: Arc<Health>, alive: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("scanner".into())
        .spawn(move || {
            let mut scanner = Scanner::new(spec.opener, spec.idle_gap);
            while alive.load(Ordering::Relaxed) {
                match scanner.next_event(Some(Instant::now() + LOOK_UP_EVERY)) {
                    Some(ScannerEvent::Scan(scan)) => {
                        let told = sink.news(scan_event(scan));
                        // The runtime is gone: nobody to tell.
                        if !told {
                            return;
                        }
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

fn start_card_reader(
    opener: Box<dyn CcidOpener>,
    sink: EventSink,
    health: Arc<Health>,
    alive: Arc<AtomicBool>,
) {
    std::thread::Builder::new()
        .name("card-reader".into())
        .spawn(move || {
            let mut reader = CardReader::new(opener);
            while alive.load(Ordering::Relaxed) {
                let Some(ev) = reader.next_event(Some(Instant::now() + LOOK_UP_EVERY)) else { continue };
                let news = match ev {
                    ReaderEvent::Connected(what) => {
                        log::info!("card reader connected: {what}");
                        health.set(&health.card_reader, "connected");
                        Event::CardReader { present: true }
                    }
                    ReaderEvent::Disconnected(e) => {
                        log::warn!("card reader: {e}");
                        health.set(&health.card_reader, format!("disconnected: {}", e.kind()));
                        Event::CardReader { present: false }
                    }
                    ReaderEvent::Inserted(Ok(card)) => Event::CardRead(card.policy),
                    ReaderEvent::Inserted(Err(e)) => {
                        // Never the card's content: it may be personal.
                        log::info!("card reader: card not read ({})", e.kind());
                        Event::ReadFailed(ReadFailure::CardUnreadable)
                    }
                    // The card is out: nothing the session needs, everything read is kept.
                    ReaderEvent::Removed => continue,
                };
                if !sink.news(news) {
                    return;
                }
            }
        })
        .expect("spawning the card reader thread");
}

impl PrinterJob {
    /// The answer a job gets when the printer cannot take it at all.
    pub fn failed(self, kind: DeviceErrorKind) -> Event {
        match self {
            PrinterJob::Print { req, .. } => Event::PrintFailed { req, kind },
            PrinterJob::Check => Event::Printer(PrinterHealth::Unavailable(kind)),
            PrinterJob::TestPage | PrinterJob::ReprintLast => {
                Event::ServiceReport(format!("printer unavailable: {kind}"))
            }
        }
    }
}
