//! The JSON-RPC client: timeouts, retries, and errors a patient can be told about.
//!
//! Reads are retried with jittered backoff. Writes carry a `requestId` and are retried only
//! with that same id (the server answers a repeated id with its first answer), so a timeout
//! never books twice. Transport failures, timeouts and 5xx answers after the retries are
//! `Unreachable`; an answer that is not the expected JSON is `BadReply`; a token central does not
//! accept, or a call outside the token's rights, is `Refused`: a configuration fault a technician
//! must fix, never a reason to work offline.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use protocol::{self as wire, Method, Rpc, RpcError, code};

use crate::config::CentralConfig;
use crate::session::CentralError;

/// Attempts for one call (first try included).
const ATTEMPTS: u32 = 3;
/// The first pause between retries; each next one is three times longer (jittered).
const BACKOFF: Duration = Duration::from_millis(200);

/// The longest a call may take before the patient hears "no connection": every attempt timing
/// out, with the longest jittered pauses between them. The waiting screen promises this figure.
pub fn worst_case(request_timeout: Duration) -> Duration {
    let pauses: Duration = (0..ATTEMPTS - 1).map(|i| BACKOFF * 3u32.pow(i) * 3 / 2).sum();
    request_timeout * ATTEMPTS + pauses
}

/// A failed call, in more detail than the session needs (for logs and the technician CLI).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    #[error("central unreachable: {0}")]
    Unreachable(String),
    #[error("central answered something that is not JSON-RPC: {0}")]
    BadReply(String),
    #[error("central refused: {} ({})", .0.message, .0.string_code().unwrap_or("-"))]
    Rpc(Box<RpcError>),
    #[error("central does not accept this kiosk: {0}; check [central] token and [kiosk] id/lpu_id")]
    Refused(String),
}

impl CallError {
    /// What the session (and so the patient) is told.
    pub fn for_session(&self) -> CentralError {
        match self {
            CallError::Unreachable(_) => CentralError::Unreachable,
            CallError::BadReply(_) => CentralError::BadReply,
            CallError::Refused(_) => CentralError::NotAuthorized,
            CallError::Rpc(e) => match e.string_code() {
                Some(code::UNAUTHORIZED | code::FORBIDDEN) => {
                    log::error!("central: {} ({})", e.message, e.string_code().unwrap_or("-"));
                    CentralError::NotAuthorized
                }
                Some(code::PATIENT_NOT_FOUND) => CentralError::PatientNotFound,
                Some(code::PATIENT_NOT_ATTACHED) => CentralError::NotAttached,
                Some(code::REFERRAL_REQUIRED) => CentralError::ReferralRequired,
                Some(code::REFERRAL_EXPIRED) => CentralError::ReferralExpired,
                Some(code::NOT_FOR_SEX) => CentralError::NotForSex,
                Some(code::AGE_LIMIT) => CentralError::AgeLimit,
                Some(code::SLOTS_AVAILABLE) => CentralError::SlotsAvailable,
                Some(code::TIME_CONFLICT) => CentralError::TimeConflict,
                Some(code::ALREADY_BOOKED) => CentralError::AlreadyBooked,
                // A waiting-list offer taken (by this patient at another kiosk) or gone: to the
                // patient, that time is no longer theirs to take.
                Some(code::SLOT_TAKEN | code::OFFER_GONE) => CentralError::SlotTaken,
                Some(code::APPOINTMENT_NOT_FOUND) => CentralError::AppointmentNotFound,
                Some(code::QUEUE_CLOSED) => CentralError::QueueClosed,
                Some(code::RATE_LIMITED) => CentralError::RateLimited,
                Some(code::ALREADY_IN_QUEUE) => match e.data.as_ref().and_then(|d| d.ticket.clone()) {
                    Some(t) => CentralError::AlreadyInQueue(t.into()),
                    None => CentralError::Other { code: code::ALREADY_IN_QUEUE.into() },
                },
                Some(other) => {
                    log::warn!("central: unknown error code {other}: {}", e.message);
                    CentralError::Other { code: other.to_owned() }
                }
                None => {
                    log::warn!("central: protocol error {}: {}", e.code, e.message);
                    CentralError::Other { code: e.code.to_string() }
                }
            },
        }
    }
}

/// Why a client could not be built: the configuration's CA file.
#[derive(Debug, thiserror::Error)]
pub enum ClientSetupError {
    #[error("{file}: cannot read the CA certificate: {source}")]
    CaFile { file: std::path::PathBuf, source: std::io::Error },
    #[error("{file}: not a PEM certificate: {reason}")]
    CaPem { file: std::path::PathBuf, reason: String },
    #[error("HTTP client: {0}")]
    Http(String),
    #[error(
        "{0}: plain http:// only to this machine (127.0.0.1, ::1, localhost); use https:// with the clinic's CA"
    )]
    PlainHttp(String),
}

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    backoff: Duration,
}

/// Installs the one TLS crypto provider the whole process uses (ring); idempotent.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Client {
    pub fn new(cfg: &CentralConfig) -> Result<Client, ClientSetupError> {
        // Checked here as well as in the config: `kiosk api --central URL` has no config file.
        if crate::config::plain_http_off_loopback(&cfg.url) {
            return Err(ClientSetupError::PlainHttp(cfg.url.clone()));
        }
        install_crypto();
        let mut b = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("infomat-kiosk/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &cfg.ca_file {
            let pem =
                std::fs::read(ca).map_err(|source| ClientSetupError::CaFile { file: ca.clone(), source })?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| ClientSetupError::CaPem { file: ca.clone(), reason: e.to_string() })?;
            b = b.add_root_certificate(cert);
        }
        let http = b.build().map_err(|e| ClientSetupError::Http(e.to_string()))?;
        Ok(Client { http, base: cfg.url.clone(), token: cfg.token.clone(), backoff: BACKOFF })
    }

    /// Shorter pauses between retries (tests).
    pub fn with_backoff(mut self, d: Duration) -> Client {
        self.backoff = d;
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// One call with retries. The params of a write must already hold its `requestId`.
    pub async fn call<M: Rpc>(&self, params: &M::Params) -> Result<M::Result, CallError> {
        self.call_as(M::METHOD, params).await
    }

    /// A call with params and result as plain JSON: technicians' tools and tests that look at
    /// central's side of a flow.
    pub async fn call_value(
        &self,
        method: Method,
        params: &serde_json::Value,
    ) -> Result<serde_json::Value, CallError> {
        self.call_as(method, params).await
    }

    async fn call_as<P: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        params: &P,
    ) -> Result<T, CallError> {
        let url = format!("{}{}?{method}", self.base, method.endpoint().path());
        let mut last = CallError::Unreachable("no attempt".into());
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(jitter(self.backoff * 3u32.pow(attempt - 1))).await;
            }
            let req = wire::Request::new(nonce(), method.name(), params);
            let body = serde_json::to_vec(&req).expect("requests serialise");
            let sent = self
                .http
                .post(&url)
                .bearer_auth(&self.token)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    last = CallError::Unreachable(describe(&e));
                    continue;
                }
            };
            let status = resp.status();
            if status.is_server_error() {
                last = CallError::Unreachable(format!("HTTP {status}"));
                continue;
            }
            if matches!(status.as_u16(), 401 | 403) {
                // A wrong token is a configuration fault: retrying will not help.
                return Err(CallError::Refused(format!("HTTP {status}")));
            }
            let body: Vec<u8> = match resp.bytes().await.map(|b| b.to_vec()) {
                Ok(b) => b,
                Err(e) => {
                    last = CallError::Unreachable(describe(&e));
                    continue;
                }
            };
            return match wire::decode_reply(method.name(), &body) {
                Ok(t) => Ok(t),
                Err(wire::ReplyError::Garbage(e)) => {
                    // Garbage may be a proxy's error page mid-failover: worth one more try.
                    last = CallError::BadReply(format!("HTTP {status}: {e}"));
                    continue;
                }
                Err(wire::ReplyError::Rpc(e)) => Err(CallError::Rpc(e)),
                Err(wire::ReplyError::BadResult(e)) => Err(CallError::BadReply(e)),
            };
        }
        Err(last)
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        // The message without the URL: logs stay short and uniform.
        let mut text = e.to_string();
        if let Some(url) = e.url() {
            text = text.replace(url.as_str(), "central");
        }
        text
    }
}

/// A JSON-RPC id: 96 random bits (as nanoid-like clients send), so that ids do not tell how
/// many calls a kiosk made or when it started, and never repeat across restarts.
fn nonce() -> String {
    format!("k{}", random_hex::<12>())
}

/// `N` random bytes from the operating system, as hex. Falls back to the time and a counter
/// only if the OS has no randomness to give (ids stay unique, merely guessable).
pub fn random_hex<const N: usize>() -> String {
    use std::fmt::Write;
    let mut b = [0u8; N];
    if getrandom::fill(&mut b).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let t =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |t| t.as_nanos());
        let mix = (t as u64) ^ COUNTER.fetch_add(1, Ordering::Relaxed).rotate_left(32);
        for (i, x) in b.iter_mut().enumerate() {
            *x = (mix >> ((i % 8) * 8)) as u8;
        }
    }
    b.iter().fold(String::with_capacity(2 * N), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

/// 50%..150% of `d`, so that kiosks that lost the link together do not retry together.
pub fn jitter(d: Duration) -> Duration {
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |t| t.subsec_nanos());
    let f = 0.5 + f64::from(seed % 1000) / 1000.0;
    d.mul_f64(f)
}
