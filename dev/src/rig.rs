//! The kiosk's real peers on loopback, for the demo, the UI tests, the soak and benchmarks:
//! central in-process on SQLite with the demo seed ([`central::embedded`]), the virtual printer
//! on a TCP port parsing ESC/POS, the virtual scanner on a pseudo-terminal and the virtual CCID
//! reader. [`Peers::setup`] points a production [`Setup`] at them: everything from there on is
//! the code a clinic runs. The peers never answer for the kiosk: every reply crosses a socket,
//! a pty or the CCID byte protocol.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::clock::Zone;
use domain::{DateTime, KioskId, LpuId};
use drivers::card::ccid::Level;
use drivers::link::{SerialOpener, TcpOpener};
use drivers::printer::codepage::{CodePage, Family};
use drivers::printer::layout::{LayoutConfig, Paper, TextMode};
use drivers::sim::card::SimCard;
use drivers::sim::ccid::VirtualReader;
use drivers::sim::printer::{Receipt, SimState, Spool, serve_tcp};
use drivers::sim::scanner::VirtualScanner;

use central::embedded::{Embedded, Tune};

use kiosk::central_link::client::{CallError, Client};
use kiosk::clock::{Clock, ManualTime};
use kiosk::config::{CentralConfig, KioskConfig};
use kiosk::devices::{Devices, PrinterSpec, ScannerSpec};
use kiosk::runtime::Setup;
use kiosk::session::SessionConfig;

/// The token the demo kiosk (id 2) presents.
pub const TOKEN: &str = "demo";

/// Where the peers keep their files and what time it is for them.
#[derive(Clone)]
pub struct RigOptions {
    /// Central's SQLite database and the kiosk's offline journal go here.
    pub dir: PathBuf,
    /// The virtual printer writes one PNG per ticket here.
    pub tickets: Option<PathBuf>,
    /// The clinic's clock, shared by central and the kiosk.
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
    /// The clock stands at `at` until moved: tests see the same schedule whenever they run.
    pub fn fixed(dir: &Path, at: DateTime) -> (RigOptions, ManualTime) {
        let (clock, time) = Clock::manual_at(at);
        let opts = RigOptions {
            dir: dir.to_path_buf(),
            tickets: None,
            clock,
            ident_per_minute: 10,
            external_central: None,
        };
        (opts, time)
    }

    /// The machine's clock at Moscow time, as the demo clinic's seed expects.
    pub fn live(dir: &Path) -> RigOptions {
        RigOptions {
            dir: dir.to_path_buf(),
            tickets: None,
            clock: Clock::system(Zone::fixed(central::seed::OFFSET)),
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
    #[error("kiosk's central client: {0}")]
    Client(#[from] kiosk::central_link::client::ClientSetupError),
}

/// The demo kiosk's identity (kiosk 2 of clinic 1).
pub fn demo_kiosk() -> KioskConfig {
    KioskConfig {
        id: KioskId(2),
        lpu: LpuId(1),
        clinic_name: "Городская поликлиника № 1".into(),
        registry_phone: "+7 495 000-00-00".into(),
        speak: false,
    }
}

/// The demo kiosk's session settings (service PIN 1234).
pub fn demo_session() -> SessionConfig {
    SessionConfig {
        registry_phone: "+7 495 000-00-00".into(),
        help_desk: "1 этаж, справа от входа, окно 1".into(),
        service_pin_sha256: Some(kiosk::modes::standin::DEMO_PIN_SHA256),
        ..SessionConfig::default()
    }
}

/// The virtual printer's settings the peers and the demo use.
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
    let today = opts.clock.wall().date;
    let tokens = HashMap::from([(TOKEN.to_owned(), 2u32)]);
    let per_minute = opts.ident_per_minute;
    let tune: Tune = Arc::new(move |s| s.ident_per_minute = per_minute);
    Embedded::start(&db, today, tokens, opts.clock.wall_fn(), tune).await
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

/// The kiosk's peers, running.
pub struct Peers {
    pub rt: tokio::runtime::Runtime,
    /// Central in this process (None when the peers use an external one).
    pub central: Option<Embedded>,
    central_url: String,
    /// A client of central's of our own, to look at central's side of a flow.
    checker: Client,
    /// The same, with the demo doctor's token, for what only staff may do (calling patients).
    staff: Client,
    printer_address: String,
    pub printer_state: Arc<Mutex<SimState>>,
    pub spool: Arc<Spool>,
    scanner: Mutex<VirtualScanner>,
    pub card_reader: VirtualReader,
    opts: RigOptions,
    /// Receipts already handed out by [`Peers::new_receipts`].
    shown: usize,
}

impl std::fmt::Debug for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peers").field("central", &self.central_url).finish_non_exhaustive()
    }
}

impl Peers {
    pub fn start(opts: &RigOptions) -> Result<Peers, RigError> {
        kiosk::central_link::client::install_crypto();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let (central, central_url) = match &opts.external_central {
            Some(url) => (None, url.clone()),
            None => {
                let c = rt.block_on(start_central(opts))?;
                let url = c.url();
                (Some(c), url)
            }
        };
        let checker =
            Client::new(&central_config(central_url.clone()))?.with_backoff(Duration::from_millis(20));
        let staff = Client::new(&CentralConfig {
            token: central::auth::DEMO_DOCTOR.into(),
            ..central_config(central_url.clone())
        })?
        .with_backoff(Duration::from_millis(20));
        let (printer_address, printer_state, spool) = start_virtual_printer(opts.tickets.as_deref())?;
        Ok(Peers {
            rt,
            central,
            central_url,
            checker,
            staff,
            printer_address,
            printer_state,
            spool,
            scanner: Mutex::new(VirtualScanner::new()?),
            card_reader: VirtualReader::new(Level::Tpdu, drivers::sim::ccid::OMS_ATR.to_vec()),
            opts: opts.clone(),
            shown: 0,
        })
    }

    /// A production setup whose devices and central are these peers.
    pub fn setup(&self) -> Setup {
        Setup {
            kiosk: demo_kiosk(),
            central: central_config(self.central_url.clone()),
            session: demo_session(),
            devices: Devices {
                printer: PrinterSpec {
                    opener: Box::new(TcpOpener {
                        address: self.printer_address.clone(),
                        connect_timeout: Duration::from_secs(2),
                    }),
                    layout: demo_layout(),
                    model: "escpos-sim".into(),
                },
                scanner: Some(ScannerSpec {
                    opener: Box::new(SerialOpener { path: self.scanner().path().to_path_buf(), baud: 9600 }),
                    idle_gap: Duration::from_millis(50),
                }),
                card_reader: Some(self.card_reader.opener()),
            },
            journal_dir: self.opts.dir.join("journal"),
            clock: self.opts.clock.clone(),
            health_listen: None,
            demo_scan: None,
            restart: Some(Box::new(|| log::warn!("restart is not available under the dev harness"))),
            espeak: None,
        }
    }

    fn scanner(&self) -> std::sync::MutexGuard<'_, VirtualScanner> {
        self.scanner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes raw bytes into the virtual scanner (the kiosk's scanner thread reads them).
    pub fn scan_bytes(&self, bytes: &[u8]) -> std::io::Result<()> {
        self.scanner().scan(bytes)
    }

    /// Demo patient `i` holds their policy barcode (type 02) to the scanner.
    pub fn scan_patient(&self, i: usize) -> std::io::Result<()> {
        self.scan_bytes(&drivers::sim::scanner::demo_barcode(i))
    }

    /// A writer for the virtual scanner that other threads can keep (the demo's digit keys).
    pub fn scanner_handle(&self) -> std::io::Result<VirtualScanner> {
        self.scanner().try_clone()
    }

    /// Demo patient `i` inserts their chip card.
    pub fn insert_card(&self, i: usize) {
        let p = domain::demo::patient(i);
        self.card_reader.insert(SimCard::with_policy(&p.policy(domain::PolicySource::ChipCard), None));
    }

    pub fn remove_card(&self) {
        self.card_reader.remove();
    }

    /// Central's base URL.
    pub fn central_url(&self) -> &str {
        &self.central_url
    }

    /// Stops central (as on SIGTERM): calls fail as unreachable until [`Peers::start_central_again`].
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

    /// Changes the virtual printer's paper, cover or link.
    pub fn printer(&self, f: impl FnOnce(&mut SimState)) {
        f(&mut self.printer_state.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Everything the virtual printer has received, cut or not.
    pub fn receipts(&self) -> Vec<Receipt> {
        self.spool.receipts()
    }

    /// A JSON-RPC call to central (tests check central's side of a flow, and call patients).
    pub fn central_call(
        &self,
        method: protocol::Method,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, CallError> {
        // As the kiosk when a kiosk may, else as the demo doctor: each call with the least role.
        let client = if protocol::auth::may(protocol::auth::Role::Kiosk, method) {
            &self.checker
        } else {
            &self.staff
        };
        self.rt.block_on(client.call_value(method, &params))
    }

    /// Text of receipts cut since the last call (waits briefly for a cut that is on its way).
    pub fn new_receipts(&mut self, wait: Duration) -> Vec<Vec<String>> {
        let deadline = Instant::now() + wait;
        loop {
            let (total, _) = self.spool.counts();
            if total > self.shown || Instant::now() >= deadline {
                let new = self.spool.latest(total - self.shown.min(total));
                self.shown = total;
                return new.into_iter().map(|r| r.lines).collect();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
