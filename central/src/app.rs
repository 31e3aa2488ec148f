//! The HTTP face: JSON-RPC endpoints, the WebSocket feed, health. `app(state)` builds the
//! router (tests call it in-process); `serve(listener, state, shutdown)` runs it.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use domain::DateTime;
use domain::wire::{self, FeedEvent, FeedRequest, Request, RpcError, code, rpc_code};

use crate::error::ApiError;
use crate::feed::Feed;
use crate::queue::Events;
use crate::store::{Backend, Store};
use crate::{booking, queue};

/// The clinic's wall clock; tests pass a fixed one.
pub type Clock = Arc<dyn Fn() -> DateTime + Send + Sync>;

pub struct AppState {
    pub store: Store,
    pub feed: Feed,
    /// Bearer token -> kiosk id.
    pub tokens: HashMap<String, u32>,
    pub clock: Clock,
    /// The clinic whose queue offline tickets join when the kiosk does not say.
    pub default_lpu: u32,
    /// Identification attempts allowed per kiosk per minute.
    pub ident_per_minute: usize,
    attempts: Mutex<HashMap<u32, VecDeque<Instant>>>,
    /// Set when the service stops: feed sessions close so graceful shutdown can finish.
    stopping: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("kiosks", &self.tokens.len()).finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(store: Store, tokens: HashMap<String, u32>, clock: Clock) -> AppState {
        AppState {
            store,
            feed: Feed::default(),
            tokens,
            clock,
            default_lpu: 1,
            ident_per_minute: 10,
            attempts: Mutex::new(HashMap::new()),
            stopping: tokio::sync::watch::channel(false).0,
        }
    }

    /// Counts an identification attempt; false when the kiosk is over its limit.
    fn allow_identification(&self, kiosk: u32) -> bool {
        let now = Instant::now();
        let mut all = self.attempts.lock().expect("rate lock");
        let q = all.entry(kiosk).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) > Duration::from_secs(60)) {
            q.pop_front();
        }
        if q.len() >= self.ident_per_minute {
            return false;
        }
        q.push_back(now);
        true
    }

    /// Publishes committed events: directly here, or through PostgreSQL so every node does.
    async fn publish(&self, events: Events) {
        for (lpu, ev) in events {
            match self.store.backend {
                Backend::Sqlite => self.feed.publish_local(lpu, ev),
                Backend::Postgres => {
                    let note = format!("{lpu}:{}", ev.seq());
                    if let Err(e) = sqlx::query("SELECT pg_notify('infomat_feed', $1)")
                        .bind(note)
                        .execute(&self.store.pool)
                        .await
                    {
                        log::error!("feed: NOTIFY failed ({e}); publishing locally only");
                        self.feed.publish_local(lpu, ev);
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Booking,
    Queue,
}

pub fn app(state: Arc<AppState>) -> Router {
    let booking_path = wire::BOOKING_PATH;
    let queue_path = wire::QUEUE_PATH;
    Router::new()
        .route(booking_path, post(|s, h, b| rpc(s, h, b, Endpoint::Booking)))
        .route(booking_path.trim_end_matches('/'), post(|s, h, b| rpc(s, h, b, Endpoint::Booking)))
        .route(queue_path, post(|s, h, b| rpc(s, h, b, Endpoint::Queue)))
        .route(queue_path.trim_end_matches('/'), post(|s, h, b| rpc(s, h, b, Endpoint::Queue)))
        .route(wire::EVENTS_PATH, get(events))
        .route("/health", get(health))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes open requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if state.store.backend == Backend::Postgres {
        tokio::spawn(pg_listener(state.clone()));
    }
    let stopping = state.stopping.clone();
    let shutdown = async move {
        shutdown.await;
        // Open WebSocket feeds would hold graceful shutdown forever: close them.
        let _ = stopping.send(true);
    };
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}

/// Relays PostgreSQL notifications of committed queue events to this node's displays.
async fn pg_listener(state: Arc<AppState>) {
    loop {
        match sqlx::postgres::PgListener::connect(&state.store.url).await {
            Ok(mut l) => {
                if let Err(e) = l.listen("infomat_feed").await {
                    log::error!("feed: LISTEN failed: {e}");
                } else {
                    while let Ok(n) = l.recv().await {
                        let Some((lpu, seq)) = n.payload().split_once(':') else { continue };
                        let (Ok(lpu), Ok(seq)) = (lpu.parse::<u32>(), seq.parse::<u64>()) else { continue };
                        if let Ok(Some(ev)) = queue::event(&state.store, lpu, seq).await {
                            state.feed.publish_local(lpu, ev);
                        }
                    }
                    log::warn!("feed: LISTEN connection lost, reconnecting");
                }
            }
            Err(e) => log::error!("feed: cannot connect for LISTEN: {e}"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn kiosk_of(state: &AppState, headers: &HeaderMap) -> Option<u32> {
    let h = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let token = h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer "))?.trim();
    state.tokens.get(token).copied()
}

fn unauthorized() -> Response {
    let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": 401, "message": "Kiosk token required", "data": {"code": "UNAUTHORIZED"}}});
    (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
}

fn reply(id: Value, outcome: Result<Value, RpcError>) -> Response {
    let body = match outcome {
        Ok(result) => wire::Response::ok(id, result),
        Err(e) => wire::Response::err(id, e),
    };
    // JSON-RPC errors travel with HTTP 200, as the EMIAS dialect does.
    axum::Json(body).into_response()
}

/// Decodes params, naming the offending field.
fn params<T: DeserializeOwned>(v: &Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        ApiError::InvalidParams(if path == "." { inner } else { format!("{path}: {inner}") })
    })
}

async fn rpc(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
    endpoint: Endpoint,
) -> Response {
    let Some(kiosk) = kiosk_of(&state, &headers) else { return unauthorized() };
    let req = match wire::parse_request(&body) {
        Ok(r) => r,
        Err(wire::EnvelopeError::NotJson) => {
            return reply(
                Value::Null,
                Err(RpcError::protocol(rpc_code::PARSE_ERROR, "Parse error: body is not JSON")),
            );
        }
        Err(wire::EnvelopeError::NotJsonRpc { id }) => {
            return reply(
                id,
                Err(RpcError::protocol(
                    rpc_code::INVALID_REQUEST,
                    "Invalid request: expected a JSON-RPC 2.0 object with a method",
                )),
            );
        }
    };
    let outcome = dispatch(&state, endpoint, kiosk, &req).await;
    match outcome {
        Ok(v) => reply(req.id, Ok(v)),
        Err(Dispatch::Unknown) => reply(
            req.id,
            Err(RpcError::protocol(rpc_code::METHOD_NOT_FOUND, format!("Method not found: {}", req.method))),
        ),
        Err(Dispatch::Api(e)) => {
            if let ApiError::Store(inner) = &e {
                // Internals stay in the log; method names carry no personal data.
                log::error!("{}: storage error: {inner}", req.method);
            }
            reply(req.id, Err(e.to_rpc()))
        }
    }
}

enum Dispatch {
    Unknown,
    Api(ApiError),
}

impl From<ApiError> for Dispatch {
    fn from(e: ApiError) -> Self {
        Dispatch::Api(e)
    }
}

async fn dispatch(
    state: &AppState,
    endpoint: Endpoint,
    kiosk: u32,
    req: &Request,
) -> Result<Value, Dispatch> {
    let st = &state.store;
    let now = (state.clock)();
    let p = &req.params;
    match (endpoint, req.method.as_str()) {
        (Endpoint::Booking, "getPatientInfo3") => {
            let pp = params(p)?;
            if !state.allow_identification(kiosk) {
                return Err(
                    ApiError::domain(code::RATE_LIMITED, "Слишком много попыток, подождите минуту").into()
                );
            }
            Ok(booking::patient_info(st, &pp).await?)
        }
        (Endpoint::Booking, "getSpecialitiesInfo") => Ok(booking::specialities(st, &params(p)?).await?),
        (Endpoint::Booking, "getDoctorsInfo") => Ok(booking::doctors(st, &params(p)?, now).await?),
        (Endpoint::Booking, "getAvailableResourceScheduleInfo") => {
            Ok(booking::schedule(st, &params(p)?, now).await?)
        }
        (Endpoint::Booking, "createAppointment") => Ok(booking::book(st, &params(p)?, false, now).await?),
        (Endpoint::Booking, "shiftAppointment") => Ok(booking::book(st, &params(p)?, true, now).await?),
        (Endpoint::Booking, "cancelAppointment") => Ok(booking::cancel(st, &params(p)?).await?),
        (Endpoint::Booking, "getAppointmentReceptionsByPatient") => {
            Ok(booking::receptions(st, &params(p)?, now).await?)
        }
        (Endpoint::Booking, "getReferralsInfo") => Ok(booking::referrals(st, &params(p)?).await?),
        (Endpoint::Queue, method) => {
            let (v, events) = match method {
                "enqueueWalkIn" => queue::enqueue(st, &params(p)?, now).await?,
                "getQueueState" => (queue::state(st, &params(p)?, now).await?, Vec::new()),
                "callNext" => queue::call_next(st, &params(p)?, now).await?,
                "completeTicket" => queue::finish_ticket(st, &params(p)?, "done").await?,
                "markNoShow" => queue::finish_ticket(st, &params(p)?, "noshow").await?,
                "syncOfflineTickets" => queue::sync_offline(st, &params(p)?, state.default_lpu).await?,
                _ => return Err(Dispatch::Unknown),
            };
            state.publish(events).await;
            Ok(v)
        }
        _ => Err(Dispatch::Unknown),
    }
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    let db = match state.store.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgresql",
    };
    match sqlx::query("SELECT 1").execute(&state.store.pool).await {
        Ok(_) => axum::Json(json!({"status": "ok", "db": db})).into_response(),
        Err(e) => {
            log::error!("health: database unreachable: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": "down", "db": db}))).into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeedQuery {
    lpu_id: u32,
}

async fn events(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    q: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
    ws: WebSocketUpgrade,
) -> Response {
    if kiosk_of(&state, &headers).is_none() {
        return unauthorized();
    }
    let Ok(Query(q)) = q else {
        return (StatusCode::BAD_REQUEST, "lpuId=<integer> is required").into_response();
    };
    ws.on_upgrade(move |socket| feed_session(state, q.lpu_id, socket))
}

/// Ping interval; a display marks itself stale after 30 s without frames.
const PING_EVERY: Duration = Duration::from_secs(15);

async fn feed_session(state: Arc<AppState>, lpu: u32, socket: WebSocket) {
    let (mut tx, mut rx) = socket.split();
    // Subscribe before the snapshot so nothing falls between the two.
    let mut sub = state.feed.subscribe(lpu);
    let send = |ev: &FeedEvent| Message::Text(serde_json::to_string(ev).expect("serialisable").into());
    let mut last_seq = match queue::snapshot(&state.store, lpu, (state.clock)()).await {
        Ok(snap) => {
            let seq = snap.seq();
            if tx.send(send(&snap)).await.is_err() {
                return;
            }
            seq
        }
        Err(e) => {
            log::error!("feed: snapshot failed: {e}");
            return;
        }
    };
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut stopping = state.stopping.subscribe();
    loop {
        tokio::select! {
            _ = stopping.changed() => {
                let _ = tx.send(Message::Close(None)).await;
                return;
            }
            ev = sub.recv() => match ev {
                Ok(ev) => {
                    if ev.seq() > last_seq {
                        last_seq = ev.seq();
                        if tx.send(send(&ev)).await.is_err() { return; }
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    // Too slow: start over from a fresh snapshot.
                    match queue::snapshot(&state.store, lpu, (state.clock)()).await {
                        Ok(snap) => {
                            last_seq = snap.seq();
                            if tx.send(send(&snap)).await.is_err() { return; }
                        }
                        Err(_) => return,
                    }
                }
                Err(_) => return,
            },
            msg = rx.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    if let Ok(FeedRequest::Resume { after_seq }) = serde_json::from_str::<FeedRequest>(&t) {
                        let frames = match queue::events_after(&state.store, lpu, after_seq).await {
                            Ok(Some(evs)) => evs,
                            _ => match queue::snapshot(&state.store, lpu, (state.clock)()).await {
                                Ok(s) => vec![s],
                                Err(_) => return,
                            },
                        };
                        for ev in frames {
                            last_seq = last_seq.max(ev.seq());
                            if tx.send(send(&ev)).await.is_err() { return; }
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if tx.send(Message::Ping(Vec::new().into())).await.is_err() { return; }
            }
        }
    }
}
