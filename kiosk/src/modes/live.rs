//! The kiosk's real peers on loopback, for the headless demo, UI tests, the soak and benchmarks:
//! central in-process on SQLite with the demo seed ([`central::embedded`]), the virtual printer
//! on a TCP port parsing ESC/POS, the virtual scanner on a pseudo-terminal read through the
//! serial scanner driver, and an [`EffectRunner`] that carries effects out through the same
//! central runtime (client, offline journal) and printer worker as `kiosk run`. The rig never
//! answers a call itself: every reply crossed a socket or a pty.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::{DateTime, KioskId, LpuId};
use drivers::card::scanner::{Scanner, ScannerEvent};
use drivers::link::{SerialOpener, TcpOpener};
use drivers::printer::codepage::{CodePage, Family};
use drivers::printer::layout::{LayoutConfig, Paper, TextMode};
use drivers::sim::printer::{Receipt, SimState, Spool, serve_tcp};
use drivers::sim::scanner::VirtualScanner;

use central::embedded::{Embedded, Tune};

use crate::central::client::Client;
use crate::central::executor::{CentralRuntime, Clock, SyncReport};
use crate::config::{CentralConfig, KioskConfig};
use crate::printing::PrinterWorker;
use crate::session::{Effect, Event, ServiceCommand};

use super::demo::EffectRunner;

/// SHA-256 of the demo's service PIN, 1234.
pub const DEMO_PIN_SHA256: [u8; 32] = [
    0x03, 0xac, 0x67, 0x42, 0x16, 0xf3, 0xe1, 0x5c, 0x76, 0x1e, 0xe1, 0xa5, 0xe2, 0x55, 0xf0, 0x67, 0x95,
    0x36, 0x23, 0xc8, 0xb3, 0x88, 0xb4, 0x45, 0x9e, 0x13, 0xf9, 0x78, 0xd7, 0xc8, 0x46, 0xf4,
];

/// The token the rig's kiosk (id 2) presents.
pub const TOKEN: &str = "demo";

/// Where the rig keeps its files and what time it is for it.
#[derive(Clone)]
pub struct RigOptions {
    /// Central's SQLite database and the kiosk's offline journal go here.
    pub dir: PathBuf,
    /// The virtual printer writes one PNG per ticket here.
    pub tickets: Option<PathBuf>,
    /// The clinic's wall clock, shared by central and the kiosk.
    pub clock: Clock,
    /// Identification attempts central allows per minute (the soak needs many).
    pub ident_per_minute: usize,
    /// Use a central already running there (`http://HOST:PORT`, token [`TOKEN`]) instead of
    /// one in this process: the soak measures the kiosk's memory alone.
    pub external_central: Option<String>,
}

impl std::fmt::Debug for RigOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RigOptions").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl RigOptions {
    /// Fixed time: tests see the same schedule whenever they run.
    pub fn fixed(dir: &Path, at: DateTime) -> RigOptions {
        RigOptions {
            dir: dir.to_path_buf(),
            tickets: None,
            clock: Arc::new(move || at),
            ident_per_minute: 10,
            external_central: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RigError {
    #[error("{0}")]
    Central(#[from] central::embedded::EmbeddedError),
    #[error("virtual devices or runtime: {0}")]
    Io(#[from] std::io::Error),
    #[error("kiosk central client: {0}")]
    Client(String),
}

/// The demo kiosk's identity (kiosk 2 of clinic 1).
pub fn demo_kiosk() -> KioskConfig {
    KioskConfig {
        id: KioskId(2),
        lpu: LpuId(1),
        clinic_name: "Городская поликлиника № 1".into(),
        registry_phone: "+7 495 000-00-00".into(),
    }
}

/// The virtual printer's settings the rig and the demo use.
pub fn demo_layout() -> LayoutConfig {
    LayoutConfig { paper: Paper::Mm80, text: TextMode::CodePage { page: CodePage::Pc866, number: 17 } }
}

/// The virtual printer on a loopback port: its address, paper and cover, and what it printed.
pub fn start_virtual_printer(
    tickets: Option<&Path>,
) -> std::io::Result<(String, Arc<Mutex<SimState>>, Arc<Spool>)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?.to_string();
    let spool = Arc::new(Spool::new(tickets.map(Path::to_path_buf))?);
    let state = Arc::new(Mutex::new(SimState::default()));
    {
        let (state, spool) = (state.clone(), spool.clone());
        std::thread::Builder::new()
            .name("virtual-printer".into())
            .spawn(move || serve_tcp(listener, Family::Epson, 576, state, spool))?;
    }
    Ok((address, state, spool))
}

/// Central on loopback with the demo seed, the kiosk's token, and `opts`' clock.
pub async fn start_central(opts: &RigOptions) -> Result<Embedded, central::embedded::EmbeddedError> {
    std::fs::create_dir_all(&opts.dir)?;
    let db = opts.dir.join("central.sqlite").display().to_string();
    let today = (opts.clock)().date;
    let tokens = HashMap::from([(TOKEN.to_owned(), 2u32)]);
    let per_minute = opts.ident_per_minute;
    let tune: Tune = Arc::new(move |s| s.ident_per_minute = per_minute);
    Embedded::start(&db, today, tokens, opts.clock.clone(), tune).await
}

pub fn central_config(url: String) -> CentralConfig {
    CentralConfig {
        url,
        token: TOKEN.into(),
        ca_file: None,
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
    }
}

/// A kiosk's peers, running, and the effect runner over them.
pub struct Rig {
    pub rt: tokio::runtime::Runtime,
    /// Central in this process (None when the rig uses an external one).
    pub central: Option<Embedded>,
    central_url: String,
    pub runtime: Arc<CentralRuntime>,
    printer: PrinterWorker,
    pub printer_state: Arc<Mutex<SimState>>,
    pub spool: Arc<Spool>,
    scanner_sim: VirtualScanner,
    scanner: Scanner,
    /// Receipts already handed out by [`EffectRunner::printed_since_last`].
    shown: usize,
    pub kiosk: KioskConfig,
}

impl std::fmt::Debug for Rig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rig").field("central", &self.central_url).finish_non_exhaustive()
    }
}

impl Rig {
    pub fn start(opts: &RigOptions) -> Result<Rig, RigError> {
        crate::central::client::install_crypto();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let (central, central_url) = match &opts.external_central {
            Some(url) => (None, url.clone()),
            None => {
                let c = rt.block_on(start_central(opts))?;
                let url = c.url();
                (Some(c), url)
            }
        };
        let kiosk = demo_kiosk();
        let client = Client::new(&central_config(central_url.clone())).map_err(RigError::Client)?;
        let runtime = Arc::new(
            CentralRuntime::new(client, kiosk.id, kiosk.lpu, &opts.dir.join("journal"), opts.clock.clone())
                .map_err(|e| RigError::Client(e.to_string()))?,
        );
        let (address, printer_state, spool) = start_virtual_printer(opts.tickets.as_deref())?;
        let printer = PrinterWorker::new(
            Box::new(TcpOpener { address, connect_timeout: Duration::from_secs(2) }),
            demo_layout(),
            "escpos-sim".into(),
            kiosk.clone(),
        );
        let scanner_sim = VirtualScanner::new()?;
        let mut scanner = Scanner::new(
            Box::new(SerialOpener { path: scanner_sim.path().to_path_buf(), baud: 9600 }),
            Duration::from_millis(50),
        );
        // Open the port now, so no scan waits for it.
        match scanner.next_event(Some(Instant::now() + Duration::from_secs(2))) {
            Some(ScannerEvent::Connected(_)) => {}
            other => return Err(RigError::Io(std::io::Error::other(format!("virtual scanner: {other:?}")))),
        }
        Ok(Rig {
            rt,
            central,
            central_url,
            runtime,
            printer,
            printer_state,
            spool,
            scanner_sim,
            scanner,
            shown: 0,
            kiosk,
        })
    }

    /// Sends raw bytes through the virtual scanner and returns what the kiosk's scanner driver
    /// made of them, as the session event the runtime would feed (None: nothing within 2 s).
    pub fn scan_bytes(&mut self, bytes: &[u8]) -> Option<Event> {
        if let Err(e) = self.scanner_sim.scan(bytes) {
            log::warn!("virtual scanner: {e}");
            return None;
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match self.scanner.next_event(Some(deadline))? {
                ScannerEvent::Scan(scan) => return Some(super::kiosk::scan_event(scan)),
                ScannerEvent::Connected(_) | ScannerEvent::Disconnected(_) => {}
            }
        }
    }

    /// Scans demo patient `i`'s policy barcode (type 02: name, sex and birth date included).
    pub fn scan_patient(&mut self, i: usize) -> Event {
        self.scan_bytes(&drivers::sim::scanner::demo_barcode(i))
            .expect("the virtual scanner answers within 2 s")
    }

    /// Central's base URL.
    pub fn central_url(&self) -> &str {
        &self.central_url
    }

    /// Stops central (as on SIGTERM): calls fail as unreachable until [`Rig::start_central_again`].
    pub fn stop_central(&mut self) {
        if let Some(c) = self.central.as_mut() {
            self.rt.block_on(c.stop());
        }
    }

    pub fn start_central_again(&mut self) -> Result<(), RigError> {
        match self.central.as_mut() {
            Some(c) => Ok(self.rt.block_on(c.restart())?),
            None => Ok(()),
        }
    }

    /// Sends offline tickets now (the runtime does this every 15 s).
    pub fn sync(&self) -> Result<SyncReport, crate::central::client::CallError> {
        self.rt.block_on(self.runtime.sync())
    }

    /// Changes the virtual printer's paper, cover or link.
    pub fn printer(&self, f: impl FnOnce(&mut SimState)) {
        f(&mut self.printer_state.lock().expect("printer state lock"));
    }

    /// Everything the virtual printer has received, cut or not.
    pub fn receipts(&self) -> Vec<Receipt> {
        self.spool.receipts()
    }

    /// A JSON-RPC call to central as this kiosk (tests check central's side of a flow).
    pub fn central_call(
        &self,
        endpoint: crate::central::client::Endpoint,
        method: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, crate::central::client::CallError> {
        self.rt.block_on(self.runtime.client.call::<_, serde_json::Value>(endpoint, method, &params))
    }

    /// Text of receipts printed since the last call (waits briefly for the last cut to land).
    fn new_receipts(&mut self) -> Vec<Vec<String>> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let (total, _) = self.spool.counts();
            if total > self.shown || Instant::now() >= deadline {
                let kept = self.spool.receipts();
                let new = (total - self.shown.min(total)).min(kept.len());
                self.shown = total;
                return kept[kept.len() - new..].iter().map(|r| r.lines.clone()).collect();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl EffectRunner for Rig {
    fn run(&mut self, effect: &Effect) -> Vec<Event> {
        match effect {
            Effect::Central { req, credentials, call } => {
                vec![self.rt.block_on(self.runtime.handle(*req, *credentials, call.clone()))]
            }
            Effect::Print { req, doc, .. } => vec![self.printer.print(*req, doc)],
            Effect::CheckPrinter => vec![Event::Printer(self.printer.health())],
            Effect::Service(cmd) => vec![Event::ServiceReport(match cmd {
                ServiceCommand::TestPage => self.printer.test_page(),
                ServiceCommand::ReprintLast => self.printer.reprint_last(),
                ServiceCommand::SelfTest => self.rt.block_on(self.runtime.ping_line()),
                ServiceCommand::SyncJournal => self.rt.block_on(self.runtime.sync_line()),
                // The rig is not a process systemd restarts.
                ServiceCommand::Restart => "restart is not available in the headless rig".into(),
            })],
            Effect::SessionEnded => Vec::new(),
        }
    }

    fn printed_since_last(&mut self) -> Vec<Vec<String>> {
        self.new_receipts()
    }
}
