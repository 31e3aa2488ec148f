//! `kiosk.toml`: read raw, then validated into [`Config`].
//!
//! Two steps so that every error names the file, the key and what was expected: serde catches
//! types and unknown keys (with the key's path), [`validate`] catches meaning (ranges, URLs,
//! keys that only make sense together). `deploy/kiosk.example.toml` documents every key and a
//! test loads it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use common::clock::Zone;
use domain::{KioskId, LpuId};
use drivers::link::{LinkSpec, LinkSpecError};

use crate::session::{Lang, SessionConfig};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: cannot read the configuration: {source}")]
    Read { file: PathBuf, source: std::io::Error },
    #[error("{file}: {key}: {expected}")]
    Invalid { file: PathBuf, key: String, expected: String },
}

/// The validated configuration of one kiosk or display.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub kiosk: KioskConfig,
    pub central: CentralConfig,
    pub session: SessionConfig,
    pub printer: PrinterConfig,
    pub scanner: ScannerConfig,
    pub chip_reader: Option<UsbId>,
    /// The clinic's zone: every time shown or printed, and what "today" is.
    pub timezone: Zone,
    pub journal_dir: PathBuf,
    pub screen: ScreenConfig,
    pub log_level: log::LevelFilter,
    /// Where `/health` and `/metrics` listen.
    pub health_listen: String,
    /// `kiosk display` only.
    pub display: DisplayConfig,
}

/// The waiting-zone board (`kiosk display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayConfig {
    /// 1920x1080 landscape by default; 1080x1920 for a portrait panel.
    pub width: u32,
    pub height: u32,
    /// Duty hours as minutes after midnight, `[from, to)`; outside them the board dims
    /// (night mode). `None`: always day.
    pub duty_hours: Option<(u32, u32)>,
    /// A chime on each call (through `aplay`; silent when there is no audio device).
    pub chime: bool,
    /// Say each call in Russian through `espeak-ng` when it is installed.
    pub speak: bool,
    /// The espeak-ng voice.
    pub voice: String,
    /// ALSA device for `aplay -D` (default: the system's default device).
    pub audio_device: Option<String>,
    /// Burn-in care: the layout moves a few pixels this often.
    pub shift_every: Duration,
}

impl Default for DisplayConfig {
    fn default() -> Self {
        DisplayConfig {
            width: 1920,
            height: 1080,
            duty_hours: None,
            chime: true,
            speak: true,
            voice: "ru".into(),
            audio_device: None,
            shift_every: Duration::from_secs(180),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskConfig {
    pub id: KioskId,
    pub lpu: LpuId,
    pub clinic_name: String,
    pub registry_phone: String,
    /// Read each screen's main instruction aloud (espeak-ng); off by default.
    pub speak: bool,
}

#[derive(Clone, PartialEq, Eq)]
pub struct CentralConfig {
    /// Base URL, without the `/api/...` path; no trailing slash.
    pub url: String,
    pub token: String,
    pub ca_file: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl std::fmt::Debug for CentralConfig {
    /// The token is a credential: never in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CentralConfig")
            .field("url", &self.url)
            .field("token", &"<hidden>")
            .field("ca_file", &self.ca_file)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// A USB device by vendor and product id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbId {
    pub vid: u16,
    pub pid: u16,
}

/// How the kiosk reaches a byte-stream device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkConfig {
    /// A real device (`url = "usb://0483:5743"`, `"serial:///dev/..."`, `"tcp://..."`, `"file://..."`).
    Device(LinkSpec),
    /// The built-in simulator (`url = "sim"`): only `infomat-dev demo` provides one.
    Sim,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodePage {
    pub name: CodePageName,
    /// The number this printer model uses in `ESC t n` for that page.
    pub number: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePageName {
    Cp866,
    Wpc1251,
    /// No Cyrillic page fits: print text as raster images.
    Raster,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterConfig {
    pub link: LinkConfig,
    pub model: String,
    pub paper_width_mm: u32,
    pub codepage: CodePage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannerConfig {
    pub link: LinkConfig,
    /// Silence that ends a frame (payloads may contain CR/LF, so no line framing).
    pub idle_gap: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenConfig {
    pub width: u32,
    pub height: u32,
}

// ---- Raw shapes: exactly what the file may say. -------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Raw {
    kiosk: Option<RawKiosk>,
    central: Option<RawCentral>,
    #[serde(default)]
    session: RawSession,
    #[serde(default)]
    service: RawService,
    #[serde(default)]
    printer: RawPrinter,
    #[serde(default)]
    scanner: RawScanner,
    #[serde(default)]
    chip_reader: RawChip,
    #[serde(default)]
    journal: RawJournal,
    #[serde(default)]
    screen: RawScreen,
    #[serde(default)]
    logging: RawLogging,
    #[serde(default)]
    health: RawHealth,
    #[serde(default)]
    display: RawDisplay,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDisplay {
    orientation: Option<String>,
    duty_hours: Option<String>,
    chime: Option<bool>,
    speak: Option<bool>,
    voice: Option<String>,
    audio_device: Option<String>,
    shift_every_s: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHealth {
    listen: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKiosk {
    id: u32,
    lpu_id: u32,
    clinic_name: Option<String>,
    registry_phone: Option<String>,
    help_desk: Option<String>,
    speak: Option<bool>,
    language: Option<String>,
    timezone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCentral {
    url: String,
    token: Option<String>,
    token_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    connect_timeout_ms: Option<u64>,
    request_timeout_ms: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSession {
    idle_warning_s: Option<u64>,
    idle_countdown_s: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawService {
    pin_sha256: Option<String>,
    pin_attempts: Option<u32>,
    pin_lockout_s: Option<u64>,
}

/// The keys every byte-stream device section shares: `url`, or the older `link` with its
/// `usb`/`path`/`baud`/`address` keys (still read, so existing files keep working).
struct RawLink {
    url: Option<String>,
    link: Option<String>,
    usb: Option<String>,
    path: Option<PathBuf>,
    baud: Option<u32>,
    address: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPrinter {
    url: Option<String>,
    link: Option<String>,
    usb: Option<String>,
    path: Option<PathBuf>,
    baud: Option<u32>,
    address: Option<String>,
    model: Option<String>,
    paper_width_mm: Option<u32>,
    codepage: Option<RawCodePage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCodePage {
    name: String,
    number: Option<u8>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawScanner {
    url: Option<String>,
    link: Option<String>,
    usb: Option<String>,
    path: Option<PathBuf>,
    baud: Option<u32>,
    address: Option<String>,
    idle_gap_ms: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawChip {
    usb: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawJournal {
    dir: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawScreen {
    width: Option<u32>,
    height: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLogging {
    level: Option<String>,
}

// ---- Loading --------------------------------------------------------------------------------

/// Reads and validates `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Read { file: path.to_owned(), source })?;
    parse(&text, path)
}

/// Validates `text` as if read from `file` (the name only appears in errors and resolves
/// relative `token_file` paths).
pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
    let invalid =
        |key: String, expected: String| ConfigError::Invalid { file: file.to_owned(), key, expected };
    let de = toml::Deserializer::parse(text).map_err(|e| {
        let (line, col) = line_col(text, e.span().map_or(0, |s| s.start));
        invalid(format!("line {line}, column {col}"), format!("not valid TOML: {}", e.message()))
    })?;
    let raw: Raw = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().message().to_owned();
        // serde says "missing field `x`" about the section: name the key itself instead.
        let missing = message.strip_prefix("missing field `").and_then(|m| m.strip_suffix('`'));
        match (missing, path.as_str()) {
            (Some(field), ".") => invalid(field.to_owned(), "required".into()),
            (Some(field), section) => invalid(format!("{section}.{field}"), "required".into()),
            (None, ".") => invalid("(top level)".into(), message),
            (None, _) => invalid(path, message),
        }
    })?;
    validate(raw, file).map_err(|(key, expected)| invalid(key, expected))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

type Invalid = (String, String);

fn err<T>(key: &str, expected: impl Into<String>) -> Result<T, Invalid> {
    Err((key.to_owned(), expected.into()))
}

fn ms(key: &str, v: Option<u64>, default: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64, Invalid> {
    let v = v.unwrap_or(default);
    if range.contains(&v) {
        Ok(v)
    } else {
        err(key, format!("a number from {} to {}, got {v}", range.start(), range.end()))
    }
}

fn usb_id(key: &str, s: &str) -> Result<UsbId, Invalid> {
    let parse = |h: &str| u16::from_str_radix(h.trim().trim_start_matches("0x"), 16).ok();
    match s.split_once(':').and_then(|(v, p)| Some((parse(v)?, parse(p)?))) {
        Some((vid, pid)) => Ok(UsbId { vid, pid }),
        None => err(key, format!("a USB id as \"VID:PID\" in hex, e.g. \"0483:5743\", got {s:?}")),
    }
}

fn link(section: &str, raw: &RawLink) -> Result<LinkConfig, Invalid> {
    let key = |k: &str| format!("{section}.{k}");
    if let Some(url) = &raw.url {
        if raw.link.is_some() {
            return err(&key("link"), "either url or link, not both (url is the newer form)");
        }
        if url == "sim" {
            return Ok(LinkConfig::Sim);
        }
        return LinkSpec::parse(url).map(LinkConfig::Device).or_else(|e| err(&key("url"), e.to_string()));
    }
    // The older keys, turned into the same URL so that one parser checks both forms.
    let kind = raw.link.as_deref().unwrap_or("sim");
    let need =
        |k: &str, what: &str| err::<String>(&key(k), format!("required when link = \"{kind}\" ({what})"));
    let url = match kind {
        "usb" => format!("usb://{}", raw.usb.clone().map_or_else(|| need("usb", "\"VID:PID\" in hex"), Ok)?),
        "serial" => {
            let path = raw
                .path
                .as_ref()
                .map_or_else(|| need("path", "e.g. /dev/infomat-scanner"), |p| Ok(p.display().to_string()))?;
            format!("serial://{path}?baud={}", raw.baud.unwrap_or(drivers::link::DEFAULT_BAUD))
        }
        "tcp" => format!("tcp://{}", raw.address.clone().map_or_else(|| need("address", "HOST:PORT"), Ok)?),
        "file" => {
            let path = raw
                .path
                .as_ref()
                .map_or_else(|| need("path", "e.g. /dev/usb/lp0"), |p| Ok(p.display().to_string()))?;
            format!("file://{path}")
        }
        "sim" => return Ok(LinkConfig::Sim),
        other => {
            return err(
                &key("link"),
                format!("one of \"usb\", \"serial\", \"tcp\", \"file\", \"sim\", got {other:?}"),
            );
        }
    };
    LinkSpec::parse(&url).map(LinkConfig::Device).or_else(|e| {
        let k = match e {
            LinkSpecError::UsbId(_) => "usb",
            LinkSpecError::Baud(_) => "baud",
            LinkSpecError::Address(_) => "address",
            LinkSpecError::Path(_) => "path",
            LinkSpecError::Scheme(_) => "link",
        };
        err(&key(k), e.to_string())
    })
}

/// Epson's numbers; other families differ, so config may override the number.
fn default_codepage_number(name: CodePageName) -> u8 {
    match name {
        CodePageName::Cp866 => 17,
        CodePageName::Wpc1251 => 46,
        CodePageName::Raster => 0,
    }
}

fn validate(raw: Raw, file: &Path) -> Result<Config, Invalid> {
    let Some(k) = raw.kiosk else { return err("kiosk", "a [kiosk] section with id and lpu_id") };
    if k.id == 0 || k.id > 999 {
        return err("kiosk.id", format!("a kiosk number from 1 to 999, got {}", k.id));
    }
    if k.lpu_id == 0 {
        return err("kiosk.lpu_id", "the clinic's lpuId, a positive number");
    }
    let lang = match k.language.as_deref().unwrap_or("ru") {
        "ru" => Lang::Ru,
        "en" => Lang::En,
        other => return err("kiosk.language", format!("\"ru\" or \"en\", got {other:?}")),
    };
    let kiosk = KioskConfig {
        id: KioskId(k.id),
        lpu: LpuId(k.lpu_id),
        clinic_name: k.clinic_name.unwrap_or_default(),
        registry_phone: k.registry_phone.unwrap_or_default(),
        speak: k.speak.unwrap_or(false),
    };
    let timezone = match &k.timezone {
        None => Zone::system(),
        Some(name) => match Zone::named(name) {
            Ok(z) => z,
            Err(e) => return err("kiosk.timezone", e.to_string()),
        },
    };

    let Some(c) = raw.central else { return err("central", "a [central] section with url and token") };
    let url = c.url.trim_end_matches('/').to_owned();
    let host = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    if host.is_none_or(|h| h.is_empty() || h.contains(char::is_whitespace)) {
        return err("central.url", format!("an http:// or https:// URL, got {:?}", c.url));
    }
    if plain_http_off_loopback(&url) {
        // The token and every patient's policy number would cross the clinic network in clear.
        return err(
            "central.url",
            format!(
                "https:// for anything but this machine (plain http:// only to 127.0.0.1, ::1 or localhost), got {url:?}"
            ),
        );
    }
    let token = match (c.token, &c.token_file) {
        (Some(t), None) if !t.trim().is_empty() => t.trim().to_owned(),
        (None, Some(f)) => {
            let f = file.parent().map_or_else(|| f.clone(), |dir| dir.join(f));
            match std::fs::read_to_string(&f) {
                Ok(t) if !t.trim().is_empty() => t.trim().to_owned(),
                Ok(_) => return err("central.token_file", format!("{} is empty", f.display())),
                Err(e) => return err("central.token_file", format!("a readable file: {}: {e}", f.display())),
            }
        }
        (Some(_), Some(_)) => return err("central.token", "either token or token_file, not both"),
        _ => return err("central.token", "the kiosk's bearer token (or token_file)"),
    };
    let central = CentralConfig {
        url,
        token,
        ca_file: c.ca_file,
        connect_timeout: Duration::from_millis(ms(
            "central.connect_timeout_ms",
            c.connect_timeout_ms,
            2000,
            100..=60_000,
        )?),
        request_timeout: Duration::from_millis(ms(
            "central.request_timeout_ms",
            c.request_timeout_ms,
            5000,
            500..=120_000,
        )?),
    };

    let pin = match raw.service.pin_sha256 {
        None => None,
        Some(h) => {
            let bytes: Option<Vec<u8>> = (h.len() == 64)
                .then(|| (0..32).map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).ok()).collect())
                .flatten();
            match bytes.and_then(|b| <[u8; 32]>::try_from(b).ok()) {
                Some(b) => Some(b),
                None => {
                    return err(
                        "service.pin_sha256",
                        "64 hex digits: the SHA-256 of the PIN (printf %s PIN | sha256sum)",
                    );
                }
            }
        }
    };
    let session = SessionConfig {
        idle_warning_ms: 1000 * ms("session.idle_warning_s", raw.session.idle_warning_s, 45, 10..=600)?,
        idle_countdown_ms: 1000 * ms("session.idle_countdown_s", raw.session.idle_countdown_s, 15, 5..=120)?,
        service_pin_sha256: pin,
        pin_attempts: ms("service.pin_attempts", raw.service.pin_attempts.map(u64::from), 3, 1..=10)? as u32,
        pin_lockout_ms: 1000 * ms("service.pin_lockout_s", raw.service.pin_lockout_s, 300, 10..=86_400)?,
        default_lang: lang,
        registry_phone: kiosk.registry_phone.clone(),
        help_desk: k.help_desk.clone().unwrap_or_default(),
        // The runtime sets it from the client's retry policy and `central.request_timeout_ms`.
        wait_limit_s: SessionConfig::default().wait_limit_s,
    };

    let p = raw.printer;
    let paper_width_mm = p.paper_width_mm.unwrap_or(80);
    if paper_width_mm != 80 && paper_width_mm != 58 {
        return err("printer.paper_width_mm", format!("58 or 80, got {paper_width_mm}"));
    }
    let codepage = match &p.codepage {
        None => CodePage { name: CodePageName::Cp866, number: 17 },
        Some(cp) => {
            let name = match cp.name.to_ascii_lowercase().as_str() {
                "cp866" | "pc866" => CodePageName::Cp866,
                "wpc1251" | "cp1251" | "windows-1251" => CodePageName::Wpc1251,
                "raster" => CodePageName::Raster,
                other => {
                    return err(
                        "printer.codepage.name",
                        format!("\"cp866\", \"wpc1251\" or \"raster\", got {other:?}"),
                    );
                }
            };
            CodePage { name, number: cp.number.unwrap_or_else(|| default_codepage_number(name)) }
        }
    };
    let printer = PrinterConfig {
        link: link(
            "printer",
            &RawLink { url: p.url, link: p.link, usb: p.usb, path: p.path, baud: p.baud, address: p.address },
        )?,
        model: p.model.unwrap_or_else(|| "generic".into()),
        paper_width_mm,
        codepage,
    };
    let sc = raw.scanner;
    let scanner = ScannerConfig {
        link: link(
            "scanner",
            &RawLink {
                url: sc.url,
                link: sc.link,
                usb: sc.usb,
                path: sc.path,
                baud: sc.baud,
                address: sc.address,
            },
        )?,
        idle_gap: Duration::from_millis(ms("scanner.idle_gap_ms", sc.idle_gap_ms, 50, 5..=2000)?),
    };
    let chip_reader = match &raw.chip_reader.usb {
        None => None,
        Some(u) => Some(usb_id("chip_reader.usb", u)?),
    };
    let screen = ScreenConfig {
        width: ms("screen.width", raw.screen.width.map(u64::from), 1080, 240..=7680)? as u32,
        height: ms("screen.height", raw.screen.height.map(u64::from), 1920, 240..=7680)? as u32,
    };
    let log_level = match raw.logging.level.as_deref().unwrap_or("info") {
        "error" => log::LevelFilter::Error,
        "warn" => log::LevelFilter::Warn,
        "info" => log::LevelFilter::Info,
        "debug" => log::LevelFilter::Debug,
        "trace" => log::LevelFilter::Trace,
        other => return err("logging.level", format!("error, warn, info, debug or trace, got {other:?}")),
    };
    let health_listen = raw.health.listen.unwrap_or_else(|| "127.0.0.1:9464".into());
    if health_listen.parse::<std::net::SocketAddr>().is_err() {
        return err("health.listen", format!("IP:PORT, e.g. \"127.0.0.1:9464\", got {health_listen:?}"));
    }
    let display = display(raw.display)?;
    Ok(Config {
        kiosk,
        central,
        session,
        printer,
        scanner,
        chip_reader,
        timezone,
        journal_dir: raw.journal.dir.unwrap_or_else(|| PathBuf::from("/var/lib/infomat")),
        screen,
        log_level,
        health_listen,
        display,
    })
}

/// Whether `url` would carry the token and patients' policy numbers in clear beyond this
/// machine: plain `http://` (any case) to a host that is not loopback, or with credentials in
/// it (`http://127.0.0.1@central.clinic/` goes to the clinic's host). Parsed as the HTTP client
/// parses it, so the check and the connection cannot disagree.
pub fn plain_http_off_loopback(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        // Not a URL the client could use either; say "plain" unless it is plainly https.
        return !url.to_ascii_lowercase().starts_with("https://");
    };
    if u.scheme() != "http" {
        return false;
    }
    if !u.username().is_empty() || u.password().is_some() {
        return true;
    }
    let host = u.host_str().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
    !(host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()))
}

fn hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

fn display(d: RawDisplay) -> Result<DisplayConfig, Invalid> {
    let def = DisplayConfig::default();
    let (width, height) = match d.orientation.as_deref().unwrap_or("landscape") {
        "landscape" => (1920, 1080),
        "portrait" => (1080, 1920),
        other => return err("display.orientation", format!("\"landscape\" or \"portrait\", got {other:?}")),
    };
    let duty_hours = match d.duty_hours.as_deref() {
        None => None,
        Some(h) => match h.split_once('-').and_then(|(a, b)| Some((hhmm(a)?, hhmm(b)?))) {
            Some((a, b)) if a != b => Some((a, b)),
            _ => {
                return err(
                    "display.duty_hours",
                    format!("\"HH:MM-HH:MM\", e.g. \"08:00-20:00\", got {h:?}"),
                );
            }
        },
    };
    let voice = d.voice.unwrap_or(def.voice);
    if voice.is_empty() || !voice.chars().all(|c| c.is_ascii_alphanumeric() || "-_+".contains(c)) {
        return err("display.voice", format!("an espeak-ng voice name such as \"ru\", got {voice:?}"));
    }
    Ok(DisplayConfig {
        width,
        height,
        duty_hours,
        chime: d.chime.unwrap_or(def.chime),
        speak: d.speak.unwrap_or(def.speak),
        voice,
        audio_device: d.audio_device.filter(|a| !a.trim().is_empty()),
        shift_every: Duration::from_secs(ms("display.shift_every_s", d.shift_every_s, 180, 10..=3600)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str =
        "[kiosk]\nid = 2\nlpu_id = 1\n[central]\nurl = \"https://central.example\"\ntoken = \"t\"\n";

    fn parse_err(text: &str) -> String {
        parse(text, Path::new("/etc/infomat/kiosk.toml")).unwrap_err().to_string()
    }

    #[test]
    fn display_section() {
        let c = parse(MINIMAL, Path::new("d.toml")).unwrap();
        assert_eq!(c.display, DisplayConfig::default());
        let text = format!(
            "{MINIMAL}[display]\norientation = \"portrait\"\nduty_hours = \"08:00-20:00\"\nspeak = false\n"
        );
        let c = parse(&text, Path::new("d.toml")).unwrap();
        assert_eq!((c.display.width, c.display.height), (1080, 1920));
        assert_eq!(c.display.duty_hours, Some((480, 1200)));
        assert!(!c.display.speak && c.display.chime);
        let e = parse_err(&format!("{MINIMAL}[display]\nduty_hours = \"8-20\"\n"));
        assert!(e.contains("display.duty_hours: \"HH:MM-HH:MM\""), "{e}");
        let e = parse_err(&format!("{MINIMAL}[display]\nvoice = \"ru; rm -rf /\"\n"));
        assert!(e.contains("display.voice"), "{e}");
    }

    #[test]
    fn minimal_file_gets_defaults() {
        let c = parse(MINIMAL, Path::new("k.toml")).unwrap();
        assert_eq!(c.kiosk.id, KioskId(2));
        assert_eq!(c.central.request_timeout, Duration::from_secs(5));
        assert_eq!(c.session.idle_warning_ms, 45_000);
        assert_eq!(c.printer.codepage, CodePage { name: CodePageName::Cp866, number: 17 });
        assert_eq!(c.scanner.idle_gap, Duration::from_millis(50));
        assert!(!format!("{c:?}").contains("token = \"t\""));
    }

    #[test]
    fn the_example_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/kiosk.example.toml");
        let c = load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.printer.paper_width_mm, 80);
        assert!(c.session.service_pin_sha256.is_some());
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/display.example.toml");
        let d = load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.display.duty_hours, Some((8 * 60, 20 * 60)));
        assert_eq!(d.health_listen, "127.0.0.1:9465");
    }

    #[test]
    fn errors_name_file_key_and_expectation() {
        let e = parse_err(&format!("{MINIMAL}[printer]\nlink = \"tcp\"\n"));
        assert_eq!(e, "/etc/infomat/kiosk.toml: printer.address: required when link = \"tcp\" (HOST:PORT)");
        let e = parse_err(&format!("{MINIMAL}[session]\nidle_warning_s = \"soon\"\n"));
        assert!(e.starts_with("/etc/infomat/kiosk.toml: session.idle_warning_s: invalid type"), "{e}");
        let e = parse_err(&format!("{MINIMAL}[session]\nidle_warnin_s = 4\n"));
        assert!(e.contains("unknown field `idle_warnin_s`"), "{e}");
        let e = parse_err("[kiosk]\nid = 2\n");
        assert_eq!(e, "/etc/infomat/kiosk.toml: kiosk.lpu_id: required");
        let e = parse_err("[kiosk\nid = 2\n");
        assert!(e.contains("line 1"), "{e}");
        let e = parse_err(&MINIMAL.replace("https://central.example", "central.example"));
        assert!(e.contains("central.url: an http:// or https:// URL"), "{e}");
        let e = parse_err(&format!("{MINIMAL}[printer]\ncodepage = {{ name = \"koi8\" }}\n"));
        assert!(e.contains("printer.codepage.name"), "{e}");
        let e = parse_err(&format!("{MINIMAL}[service]\npin_sha256 = \"abc\"\n"));
        assert!(e.contains("service.pin_sha256: 64 hex digits"), "{e}");
    }

    #[test]
    fn token_file_is_read_relative_to_the_config() {
        let dir = std::env::temp_dir().join(format!("infomat-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("token"), "secret\n").unwrap();
        let text = MINIMAL.replace("token = \"t\"", "token_file = \"token\"");
        let c = parse(&text, &dir.join("kiosk.toml")).unwrap();
        assert_eq!(c.central.token, "secret");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
