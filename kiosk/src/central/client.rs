//! The JSON-RPC client: timeouts, retries, and errors a patient can be told about.
//!
//! Reads are retried with jittered backoff. Writes carry a `requestId` and are retried only
//! with that same id (the server answers a repeated id with its first answer), so a timeout
//! never books twice. Transport failures, timeouts and 5xx answers after the retries are
//! `Unreachable`; an answer that is not the expected JSON is `BadReply`.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use domain::wire::{self, RpcError, code};

use crate::config::CentralConfig;
use crate::session::CentralError;

/// Attempts for one call (first try included).
const ATTEMPTS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Booking,
    Queue,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Booking => wire::BOOKING_PATH,
            Endpoint::Queue => wire::QUEUE_PATH,
        }
    }
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
}

impl CallError {
    /// What the session (and so the patient) is told.
    pub fn for_session(&self) -> CentralError {
        match self {
            CallError::Unreachable(_) => CentralError::Unreachable,
            CallError::BadReply(_) => CentralError::BadReply,
            CallError::Rpc(e) => match e.string_code() {
                Some(code::PATIENT_NOT_FOUND) => CentralError::PatientNotFound,
                Some(code::PATIENT_NOT_ATTACHED) => CentralError::NotAttached,
                Some(code::REFERRAL_REQUIRED) => CentralError::ReferralRequired,
                Some(code::REFERRAL_EXPIRED) => CentralError::ReferralExpired,
                Some(code::NOT_FOR_SEX) => CentralError::NotForSex,
                Some(code::TIME_CONFLICT) => CentralError::TimeConflict,
                Some(code::ALREADY_BOOKED) => CentralError::AlreadyBooked,
                Some(code::SLOT_TAKEN) => CentralError::SlotTaken,
                Some(code::APPOINTMENT_NOT_FOUND) => CentralError::AppointmentNotFound,
                Some(code::QUEUE_CLOSED) => CentralError::QueueClosed,
                Some(code::RATE_LIMITED) => CentralError::RateLimited,
                Some(code::ALREADY_IN_QUEUE) => match e.data.as_ref().and_then(|d| d.ticket.clone()) {
                    Some(t) => CentralError::AlreadyInQueue(super::api::queue_ticket(t, false)),
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
    pub fn new(cfg: &CentralConfig) -> Result<Client, String> {
        install_crypto();
        let mut b = reqwest::Client::builder()
            .connect_timeout(cfg.connect_timeout)
            .timeout(cfg.request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("infomat-kiosk/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &cfg.ca_file {
            let pem = std::fs::read(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| format!("{}: {e}", ca.display()))?;
            b = b.add_root_certificate(cert);
        }
        let http = b.build().map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Client {
            http,
            base: cfg.url.clone(),
            token: cfg.token.clone(),
            backoff: Duration::from_millis(200),
        })
    }

    /// Shorter pauses between retries (tests).
    pub fn with_backoff(mut self, d: Duration) -> Client {
        self.backoff = d;
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// One call with retries. `params` must already hold the `requestId` of a write.
    pub async fn call<P: Serialize, T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        method: &str,
        params: &P,
    ) -> Result<T, CallError> {
        let url = format!("{}{}?{method}", self.base, endpoint.path());
        let mut last = CallError::Unreachable("no attempt".into());
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(jitter(self.backoff * 3u32.pow(attempt - 1))).await;
            }
            let req = wire::Request::new(nonce(), method, params);
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
            if status.as_u16() == 401 {
                // A wrong token is a configuration fault: retrying will not help.
                return Err(CallError::Unreachable("HTTP 401: the kiosk token is not accepted".into()));
            }
            let body: Vec<u8> = match resp.bytes().await.map(|b| b.to_vec()) {
                Ok(b) => b,
                Err(e) => {
                    last = CallError::Unreachable(describe(&e));
                    continue;
                }
            };
            return match wire::decode_reply(method, &body) {
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

/// A JSON-RPC id: unique enough per process (nanoid-like clients send 21 characters).
fn nonce() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("k{:x}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// 50%..150% of `d`, so that kiosks that lost the link together do not retry together.
pub fn jitter(d: Duration) -> Duration {
    let seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |t| t.subsec_nanos());
    let f = 0.5 + f64::from(seed % 1000) / 1000.0;
    d.mul_f64(f)
}
