//! The queue feed client and the plain board model a display renders.
//!
//! The model is pure ([`Board::apply`]); the connection loop ([`run`]) reconnects with jittered
//! backoff (1 s doubling to 30 s), asks to `resume` after the last event it saw. A board is
//! stale once the feed has been down for 30 s: an hour without calls is normal, a connection
//! that central pings every 15 s is not silent for 35 s unless it is dead. A call is announced once, even when it arrives both
//! in a snapshot and as a replayed event; a board never shows a call it did not receive.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use protocol::{Call, FeedEvent, FeedRequest};

/// Calls a board keeps.
pub const KEEP_CALLS: usize = 10;
/// No frame for this long: the board says "Нет связи с HH:MM" across its calls.
pub const STALE_AFTER_MS: u64 = 30_000;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Board {
    pub waiting: u32,
    /// Newest first.
    pub calls: VecDeque<Call>,
    pub last_seq: u64,
    /// The newest call announced (chimed, spoken).
    pub announced_seq: u64,
    pub connected: bool,
    /// When the feed last connected or disconnected (or the board started: 0).
    pub link_changed_ms: u64,
    pub last_frame_ms: Option<u64>,
}

impl Board {
    /// Applies a frame received at `now_ms`; returns a call to announce, if this is a new one.
    pub fn apply(&mut self, ev: FeedEvent, now_ms: u64) -> Option<Call> {
        self.last_frame_ms = Some(now_ms);
        match ev {
            FeedEvent::Snapshot { seq, waiting, called } => {
                if seq >= self.last_seq {
                    self.waiting = waiting;
                    self.calls = called.into_iter().take(KEEP_CALLS).collect();
                    self.last_seq = seq;
                }
                // Calls inside a snapshot were made while we were away: shown, not chimed.
                self.announced_seq = self.announced_seq.max(seq);
                None
            }
            FeedEvent::Called { seq, ticket_number, room, called_at } => {
                let call = Call { ticket_number, room, called_at };
                if !self.calls.contains(&call) {
                    self.calls.push_front(call.clone());
                    self.calls.truncate(KEEP_CALLS);
                }
                self.last_seq = self.last_seq.max(seq);
                if seq > self.announced_seq {
                    self.announced_seq = seq;
                    return Some(call);
                }
                None
            }
            FeedEvent::Waiting { seq, waiting } => {
                if seq > self.last_seq {
                    self.waiting = waiting;
                    self.last_seq = seq;
                }
                None
            }
        }
    }

    /// Applies what the connection loop reported at `now_ms`; returns a call to announce.
    pub fn update(&mut self, u: FeedUpdate, now_ms: u64) -> Option<Call> {
        match u {
            FeedUpdate::Frame(ev) => self.apply(ev, now_ms),
            FeedUpdate::Connected => {
                self.connected = true;
                self.link_changed_ms = now_ms;
                None
            }
            FeedUpdate::Disconnected(_) => {
                if self.connected {
                    self.link_changed_ms = now_ms;
                }
                self.connected = false;
                None
            }
        }
    }

    /// Whether the board should say its data may be old: the feed has been down (or never up)
    /// for [`STALE_AFTER_MS`]. The calls stay on screen either way.
    pub fn stale(&self, now_ms: u64) -> bool {
        !self.connected && now_ms.saturating_sub(self.link_changed_ms) >= STALE_AFTER_MS
    }
}

/// What the connection loop reports to whoever owns the board.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedUpdate {
    Connected,
    Disconnected(String),
    Frame(FeedEvent),
}

/// Where and how to subscribe.
#[derive(Debug, Clone)]
pub struct FeedTarget {
    /// `ws://` or `wss://` base (the central URL with its scheme swapped).
    pub url: String,
    pub token: String,
    pub lpu: u32,
    /// The CA that signed central's certificate (`central.ca_file`), trusted besides the public
    /// roots, as the RPC client does.
    pub ca_file: Option<std::path::PathBuf>,
}

impl FeedTarget {
    pub fn new(central_url: &str, token: &str, lpu: u32) -> FeedTarget {
        let ws = if let Some(rest) = central_url.strip_prefix("https://") {
            format!("wss://{rest}")
        } else {
            format!("ws://{}", central_url.trim_start_matches("http://"))
        };
        FeedTarget { url: ws, token: token.to_owned(), lpu, ca_file: None }
    }

    pub fn with_ca(mut self, ca_file: Option<std::path::PathBuf>) -> FeedTarget {
        self.ca_file = ca_file;
        self
    }
}

/// The TLS setup for `wss://` with a private CA: the public roots plus that CA.
fn connector(ca_file: &std::path::Path) -> Result<tokio_tungstenite::Connector, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let certs = CertificateDer::pem_file_iter(ca_file).map_err(|e| format!("{}: {e}", ca_file.display()))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("{}: {e}", ca_file.display()))?;
        roots.add(cert).map_err(|e| format!("{}: {e}", ca_file.display()))?;
    }
    let cfg = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    Ok(tokio_tungstenite::Connector::Rustls(std::sync::Arc::new(cfg)))
}

/// Runs until `updates` is closed: connect, read frames, reconnect with backoff.
pub async fn run(target: FeedTarget, updates: mpsc::Sender<FeedUpdate>, mut resume_from: u64) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    super::client::install_crypto();
    let tls = match target.ca_file.as_deref().map(connector).transpose() {
        Ok(c) => c,
        Err(e) => {
            let _ = updates.send(FeedUpdate::Disconnected(format!("central.ca_file: {e}"))).await;
            return;
        }
    };
    let mut backoff = Duration::from_secs(1);
    loop {
        let url = format!("{}{}?lpuId={}", target.url, protocol::EVENTS_PATH, target.lpu);
        let mut req = match url.into_client_request() {
            Ok(r) => r,
            Err(e) => {
                let _ = updates.send(FeedUpdate::Disconnected(format!("bad feed URL: {e}"))).await;
                return;
            }
        };
        if let Ok(v) = format!("Bearer {}", target.token).parse() {
            req.headers_mut().insert("authorization", v);
        }
        let connect = tokio_tungstenite::connect_async_tls_with_config(req, None, false, tls.clone());
        match tokio::time::timeout(Duration::from_secs(5), connect).await {
            Ok(Ok((mut ws, _))) => {
                backoff = Duration::from_secs(1);
                if updates.send(FeedUpdate::Connected).await.is_err() {
                    return;
                }
                if resume_from > 0 {
                    let msg = serde_json::to_string(&FeedRequest::Resume { after_seq: resume_from })
                        .expect("serialisable");
                    let _ = ws.send(Message::Text(msg.into())).await;
                }
                // The server pings every 15 s: 35 s of silence means the link is dead.
                loop {
                    match tokio::time::timeout(Duration::from_secs(35), ws.next()).await {
                        Ok(Some(Ok(Message::Text(t)))) => match serde_json::from_str::<FeedEvent>(&t) {
                            Ok(ev) => {
                                resume_from = resume_from.max(ev.seq());
                                if updates.send(FeedUpdate::Frame(ev)).await.is_err() {
                                    return;
                                }
                            }
                            Err(e) => log::warn!("feed: ignoring a frame that is not a queue event: {e}"),
                        },
                        Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) | Err(_) => break,
                        Ok(Some(Ok(_))) => {}
                    }
                }
                if updates.send(FeedUpdate::Disconnected("feed closed".into())).await.is_err() {
                    return;
                }
            }
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(resp)))
                if matches!(resp.status().as_u16(), 401 | 403) =>
            {
                // A configuration fault, not an outage: say so, and ask again only slowly (the
                // token may be added on central meanwhile).
                let why = format!(
                    "central does not accept this token (HTTP {}): check [central] token",
                    resp.status().as_u16()
                );
                log::error!("feed: {why}");
                backoff = Duration::from_secs(30);
                if updates.send(FeedUpdate::Disconnected(why)).await.is_err() {
                    return;
                }
            }
            Ok(Err(e)) => {
                if updates.send(FeedUpdate::Disconnected(e.to_string())).await.is_err() {
                    return;
                }
            }
            Err(_) => {
                if updates.send(FeedUpdate::Disconnected("connect timed out".into())).await.is_err() {
                    return;
                }
            }
        }
        tokio::time::sleep(super::client::jitter(backoff)).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Date, DateTime};

    fn at(m: u32) -> DateTime {
        DateTime::new(Date::from_ymd(2026, 11, 23).unwrap(), 10, m, 180).unwrap()
    }

    fn called(seq: u64, n: &str, m: u32) -> FeedEvent {
        FeedEvent::Called { seq, ticket_number: n.into(), room: "214".into(), called_at: at(m) }
    }

    #[test]
    fn calls_are_announced_once_and_never_invented() {
        let mut b = Board::default();
        assert!(b.apply(FeedEvent::Snapshot { seq: 5, waiting: 3, called: vec![] }, 0).is_none());
        assert_eq!(b.apply(called(6, "Д-001", 1), 10).unwrap().ticket_number, "Д-001");
        assert!(b.apply(called(6, "Д-001", 1), 20).is_none(), "a repeat is not a new call");
        assert_eq!(b.calls.len(), 1);
        // Reconnect: the snapshot includes a call made while away, then the replay repeats it.
        let missed = Call { ticket_number: "Д-002".into(), room: "215".into(), called_at: at(2) };
        b.apply(
            FeedEvent::Snapshot { seq: 8, waiting: 1, called: vec![missed.clone(), b.calls[0].clone()] },
            30,
        );
        assert_eq!(b.calls.front(), Some(&missed));
        assert!(
            b.apply(
                FeedEvent::Called {
                    seq: 7,
                    ticket_number: "Д-002".into(),
                    room: "215".into(),
                    called_at: at(2)
                },
                31
            )
            .is_none()
        );
        assert_eq!(b.calls.len(), 2);
        // An old waiting count does not overwrite a newer one.
        b.apply(FeedEvent::Waiting { seq: 7, waiting: 9 }, 32);
        assert_eq!(b.waiting, 1);
    }

    #[test]
    fn stale_only_after_the_feed_is_down_for_30_s() {
        let mut b = Board::default();
        assert!(!b.stale(29_999), "starting up");
        assert!(b.stale(30_000), "never connected in 30 s");
        b.update(FeedUpdate::Connected, 31_000);
        assert!(!b.stale(31_000 + 3_600_000), "an hour without calls is not a dead feed");
        b.update(FeedUpdate::Disconnected("closed".into()), 40_000);
        // Reconnection attempts that fail do not restart the clock.
        b.update(FeedUpdate::Disconnected("refused".into()), 50_000);
        assert!(!b.stale(69_999));
        assert!(b.stale(70_000));
        b.update(FeedUpdate::Connected, 80_000);
        assert!(!b.stale(80_000));
    }

    #[test]
    fn feed_urls_follow_the_central_scheme() {
        assert_eq!(FeedTarget::new("https://c.clinic", "t", 1).url, "wss://c.clinic");
        assert_eq!(FeedTarget::new("http://127.0.0.1:8080", "t", 1).url, "ws://127.0.0.1:8080");
    }
}
