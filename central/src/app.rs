//! The HTTP face: JSON-RPC endpoints, the WebSocket feed, health and metrics. `app(state)`
//! builds the router (tests call it in-process); `serve(listener, state, shutdown)` runs it
//! (`serve_tls` behind rustls).
//!
//! Every call goes through the same gate, in order: the bearer token names an [`Identity`]
//! (401 otherwise); its role must be allowed the method ([`protocol::auth::allowed`]); the
//! clinic, device and cabinet in the params must be the token's (or its clinic's branches);
//! identity lookups and bookings are rate limited in the database; then the method runs.
//! Refusals are counted in `/metrics`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
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
use sqlx::Row;

use domain::DateTime;
use protocol::{self as wire, Endpoint, FeedEvent, FeedRequest, Method, Request, RpcError, code, rpc_code};

use crate::auth::{Identity, Tokens};
use crate::error::ApiError;
use crate::feed::Feed;
use crate::limits::{self, Limits};
use crate::metrics::{Metrics, Refusal};
use crate::queue::Events;
use crate::store::{Backend, Store};
use crate::{booking, queue, waitlist};

/// The clinic's wall clock; tests pass a fixed one.
pub type Clock = Arc<dyn Fn() -> DateTime + Send + Sync>;

/// The queue feed's limits: what one board may cost the service.
#[derive(Debug, Clone, Copy)]
pub struct FeedLimits {
    /// Largest frame or message a client may send (boards send only `resume`).
    pub max_message: usize,
    /// Open feed connections per token (a board needs one; a few for reconnect overlap).
    pub per_token: usize,
    /// Ping interval; a display marks itself stale after 30 s without frames.
    pub ping_every: Duration,
    /// A connection that has sent nothing (not even a pong) this long is closed.
    pub idle_timeout: Duration,
    /// A board that does not take a frame within this is dropped; it reconnects and resumes.
    pub send_timeout: Duration,
}

impl Default for FeedLimits {
    fn default() -> FeedLimits {
        FeedLimits {
            max_message: 64 * 1024,
            per_token: 4,
            ping_every: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(45),
            send_timeout: Duration::from_secs(5),
        }
    }
}

pub struct AppState {
    pub store: Arc<Store>,
    pub feed: Feed,
    tokens: RwLock<Arc<Tokens>>,
    pub clock: Clock,
    /// Kept for callers of the old API; identity (and so the clinic) now comes from tokens.
    pub default_lpu: u32,
    /// Identity lookups that found nobody, per kiosk per minute; scales every other limit
    /// ([`Limits::scaled`]) unless [`AppState::limits`] is set.
    pub ident_per_minute: usize,
    pub limits: Option<Limits>,
    pub feed_limits: FeedLimits,
    pub metrics: Metrics,
    feed_open: Mutex<HashMap<String, usize>>,
    /// Device key -> the clinic minute its last call was written to `device_seen`.
    seen: Mutex<HashMap<String, i64>>,
    clinics: Mutex<HashMap<u32, Arc<Vec<i64>>>>,
    salt: tokio::sync::OnceCell<String>,
    /// The walk-in writer (group commit), started with the first walk-in.
    walk_ins: std::sync::OnceLock<crate::walk_in::WalkIns>,
    /// Set when the service stops: feed sessions close so graceful shutdown can finish.
    stopping: tokio::sync::watch::Sender<bool>,
    /// The staff console's sessions on this node.
    pub(crate) console: crate::console::Sessions,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("tokens", &self.tokens().len())
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// `tokens`: a [`Tokens`] set, or (old callers) a map of kiosk tokens to kiosk ids, which
    /// become kiosks of clinic 1.
    pub fn new(store: Store, tokens: impl Into<Tokens>, clock: Clock) -> AppState {
        AppState {
            store: Arc::new(store),
            feed: Feed::default(),
            tokens: RwLock::new(Arc::new(tokens.into())),
            clock,
            default_lpu: 1,
            ident_per_minute: 10,
            limits: None,
            feed_limits: FeedLimits::default(),
            metrics: Metrics::default(),
            feed_open: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashMap::new()),
            clinics: Mutex::new(HashMap::new()),
            salt: tokio::sync::OnceCell::new(),
            walk_ins: std::sync::OnceLock::new(),
            stopping: tokio::sync::watch::channel(false).0,
            console: crate::console::Sessions::default(),
        }
    }

    /// The tokens accepted now.
    pub fn tokens(&self) -> Arc<Tokens> {
        self.tokens.read().expect("tokens lock").clone()
    }

    /// Replaces the accepted tokens (rotation: SIGHUP or a changed file); calls already past
    /// the gate finish under the old set.
    pub fn set_tokens(&self, t: Tokens) {
        *self.tokens.write().expect("tokens lock") = Arc::new(t);
    }

    /// Walk-in groups committed together so far, and the tickets in them ([`crate::walk_in`]).
    pub fn walk_in_groups(&self) -> (u64, u64) {
        self.walk_ins.get().map_or((0, 0), crate::walk_in::WalkIns::grouped)
    }

    /// Walk-in groups rolled back and written one by one so far ([`crate::walk_in`]).
    pub fn walk_in_rollbacks(&self) -> u64 {
        self.walk_ins.get().map_or(0, crate::walk_in::WalkIns::rolled_back)
    }

    pub fn effective_limits(&self) -> Limits {
        self.limits.unwrap_or_else(|| Limits::scaled(self.ident_per_minute))
    }

    fn identity(&self, headers: &HeaderMap) -> Option<Arc<Identity>> {
        let h = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
        let token = h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer "))?.trim();
        self.tokens().lookup(token)
    }

    /// The clinic a token covers: its own `lpuId` and its branches'.
    pub(crate) async fn clinic(&self, who: &Identity) -> Result<Arc<Vec<i64>>, ApiError> {
        if let Some(c) = self.clinics.lock().expect("clinics lock").get(&who.lpu) {
            return Ok(c.clone());
        }
        let lpu = i64::from(who.lpu);
        let rows = sqlx::query("SELECT id FROM lpu WHERE id = $1 OR parent_id = $2")
            .bind(lpu)
            .bind(lpu)
            .fetch_all(&self.store.pool)
            .await?;
        let mut ids = rows.iter().map(|r| r.try_get::<i64, _>(0)).collect::<Result<Vec<_>, _>>()?;
        if !ids.contains(&lpu) {
            ids.push(lpu);
        }
        let ids = Arc::new(ids);
        self.clinics.lock().expect("clinics lock").insert(who.lpu, ids.clone());
        Ok(ids)
    }

    async fn covers(&self, who: &Identity, lpu: u32) -> Result<(), ApiError> {
        if self.clinic(who).await?.contains(&i64::from(lpu)) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(Refusal::Clinic))
        }
    }

    /// Writes that a device called now, at most once a minute per device and node.
    async fn note_seen(&self, who: &Identity, now: DateTime) {
        if who.device.is_none() {
            return;
        }
        let minute = now.utc_minutes();
        {
            let mut seen = self.seen.lock().expect("seen lock");
            if seen.get(&who.key) == Some(&minute) {
                return;
            }
            seen.insert(who.key.clone(), minute);
        }
        if let Err(e) = limits::seen(&self.store, &who.key, minute).await {
            log::warn!("device last-seen not recorded: {e}");
        }
    }

    async fn policy_salt(&self) -> Result<&str, sqlx::Error> {
        self.salt.get_or_try_init(|| limits::salt(&self.store)).await.map(String::as_str)
    }

    /// Publishes committed events: directly here, or through PostgreSQL so every node does.
    pub(crate) async fn publish(&self, events: Events) {
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
        .route("/metrics", get(metrics))
        .merge(crate::console::router())
        .with_state(state)
}

/// Serves plain HTTP until `shutdown` resolves, then finishes open requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let shutdown = start_background(&state, shutdown);
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}

/// Serves HTTPS (rustls) until `shutdown` resolves, then finishes open requests.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let shutdown = start_background(&state, shutdown);
    let listener = crate::tls::TlsListener::new(listener, tls);
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}

/// Starts the node's background work (LISTEN relay, pruning) and returns the shutdown future
/// that also closes feed sessions.
fn start_background(
    state: &Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> impl Future<Output = ()> + Send + 'static {
    let mut tasks = vec![tokio::spawn(maintenance(state.clone()))];
    if state.store.backend == Backend::Postgres {
        tasks.push(tokio::spawn(pg_listener(state.clone())));
    }
    let stopping = state.stopping.clone();
    async move {
        shutdown.await;
        for t in tasks {
            t.abort();
        }
        // Open WebSocket feeds would hold graceful shutdown forever: close them.
        let _ = stopping.send(true);
    }
}

/// How often old rate windows, stored answers and past days' feed events are dropped.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

async fn maintenance(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(PRUNE_EVERY);
    loop {
        tick.tick().await;
        let today = (state.clock)().date.to_string();
        match limits::prune(&state.store, &today).await {
            Ok(n) if n > 0 => log::info!("pruned {n} old rows (rate windows, request log, past feed events)"),
            Ok(_) => {}
            Err(e) => log::warn!("pruning failed: {e}"),
        }
    }
}

/// Relays PostgreSQL notifications of committed queue events to this node's displays. Each
/// clinic's events are published in sequence order from the table, so a notification lost
/// while the LISTEN connection was down is made up for at the next one, and at reconnect.
async fn pg_listener(state: Arc<AppState>) {
    // sqlx reconnects a lost LISTEN connection by itself, and what was notified meanwhile is
    // gone: a periodic catch-up delivers such events within CATCH_UP_EVERY.
    let ticker = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CATCH_UP_EVERY);
            loop {
                tick.tick().await;
                for lpu in state.feed.watched() {
                    catch_up(&state, lpu, None).await;
                }
            }
        })
    };
    let _stop_ticker = AbortOnDrop(ticker);
    loop {
        match sqlx::postgres::PgListener::connect(&state.store.url).await {
            Ok(mut l) => {
                if let Err(e) = l.listen("infomat_feed").await {
                    log::error!("feed: LISTEN failed: {e}");
                } else {
                    // Events committed while we were not listening.
                    for lpu in state.feed.watched() {
                        catch_up(&state, lpu, None).await;
                    }
                    while let Ok(n) = l.recv().await {
                        let Some((lpu, seq)) = n.payload().split_once(':') else { continue };
                        let (Ok(lpu), Ok(seq)) = (lpu.parse::<u32>(), seq.parse::<u64>()) else { continue };
                        catch_up(&state, lpu, Some(seq)).await;
                    }
                    log::warn!("feed: LISTEN connection lost, reconnecting");
                }
            }
            Err(e) => {
                log::error!("feed: cannot connect for LISTEN: {}", crate::store::redact(&e.to_string()))
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// How often a PostgreSQL node looks for committed events it was not notified of.
const CATCH_UP_EVERY: Duration = Duration::from_secs(2);

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Publishes `lpu`'s stored events after the last one this node published, in order and
/// without gaps (an event committed late is published when its own notification comes).
async fn catch_up(state: &AppState, lpu: u32, notified: Option<u64>) {
    let Some(after) = state.feed.last_published(lpu).or_else(|| notified.map(|s| s.saturating_sub(1))) else {
        return;
    };
    match queue::events_since(&state.store, lpu, after).await {
        Ok(evs) => {
            for ev in evs {
                state.feed.mark_published(lpu, ev.seq());
                state.feed.publish_local(lpu, ev);
            }
        }
        Err(e) => log::error!("feed: reading events failed: {e}"),
    }
}

fn unauthorized(state: &AppState) -> Response {
    state.metrics.refused(Refusal::Unauthorized);
    (StatusCode::UNAUTHORIZED, axum::Json(wire::unauthorized_body())).into_response()
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
        if path != "." {
            return ApiError::InvalidParams(format!("{path}: {inner}"));
        }
        // Most params embed the patient's two fields (`#[serde(flatten)]`), which hides the
        // path: read those two alone to name the field when it is one of them.
        match serde_path_to_error::deserialize::<_, wire::PatientParams>(v) {
            Err(e) if e.path().to_string() != "." => {
                let path = e.path().to_string();
                ApiError::InvalidParams(format!("{path}: {}", e.into_inner()))
            }
            _ => ApiError::InvalidParams(inner),
        }
    })
}

async fn rpc(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
    endpoint: Endpoint,
) -> Response {
    let Some(who) = state.identity(&headers) else { return unauthorized(&state) };
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
    let Some(method) = Method::parse(endpoint, &req.method) else {
        return reply(
            req.id,
            Err(RpcError::protocol(rpc_code::METHOD_NOT_FOUND, format!("Method not found: {}", req.method))),
        );
    };
    match gate_and_run(&state, method, &who, &req).await {
        Ok(v) => reply(req.id, Ok(v)),
        Err(e) => {
            note_refusal(&state, method, &who, &e);
            reply(req.id, Err(e.to_rpc()))
        }
    }
}

/// Counts and logs a call's failure (internals stay in the log; method names carry no
/// personal data).
fn note_refusal(state: &AppState, method: Method, who: &Identity, e: &ApiError) {
    match e {
        ApiError::Store(inner) => log::error!("{method}: storage error: {inner}"),
        ApiError::Forbidden(r) => {
            state.metrics.refused(*r);
            log::warn!("{method} refused to {} ({}): {r:?}", who.key, who.role);
        }
        ApiError::RateLimited => state.metrics.refused(Refusal::RateLimited),
        ApiError::RequestIdReused => state.metrics.refused(Refusal::RequestIdReused),
        _ => {}
    }
}

/// `method` called by `who` from inside central (the staff console): the same gate, rules,
/// metrics and feed events as a JSON-RPC request.
pub(crate) async fn call(
    state: &AppState,
    method: Method,
    who: &Identity,
    params: Value,
) -> Result<Value, ApiError> {
    let req = Request { jsonrpc: "2.0".into(), id: Value::Null, method: method.name().into(), params };
    let outcome = gate_and_run(state, method, who, &req).await;
    if let Err(e) = &outcome {
        note_refusal(state, method, who, e);
    }
    outcome
}

/// The gate (role, rate limits) and the call, retried when PostgreSQL rolled it back for a
/// serialization failure or deadlock.
async fn gate_and_run(
    state: &AppState,
    method: Method,
    who: &Identity,
    req: &Request,
) -> Result<Value, ApiError> {
    if !protocol::auth::may(who.role, method) {
        return Err(ApiError::Forbidden(Refusal::Role));
    }
    state.metrics.call(method);
    let now = (state.clock)();
    let window = limits::wall_minutes();
    state.note_seen(who, now).await;
    let policy = if protocol::auth::identifies_patient(method) {
        match wire::PatientParams::deserialize(&req.params) {
            Ok(pp) => {
                let key = limits::policy_key(state.policy_salt().await?, &pp.oms_number);
                let limits = state.effective_limits();
                if limits::check(&state.store, &limits, &who.key, &key, protocol::auth::books(method), window)
                    .await?
                    .is_some()
                {
                    return Err(ApiError::RateLimited);
                }
                Some(key)
            }
            // Malformed: the method's own parsing names the field.
            Err(_) => None,
        }
    } else {
        None
    };
    let mut attempt = 0;
    let outcome = loop {
        attempt += 1;
        match dispatch(state, method, who, req, now).await {
            Err(e) if attempt < 3 && crate::error::is_retryable(&e) => {
                log::info!("{method}: rolled back by the database ({e}), running it again");
            }
            other => break other,
        }
    };
    if let (Some(policy), Err(ApiError::Domain { code: code::PATIENT_NOT_FOUND, .. })) = (&policy, &outcome) {
        limits::failed(&state.store, &who.key, policy, window).await?;
    }
    outcome
}

async fn dispatch(
    state: &AppState,
    method: Method,
    who: &Identity,
    req: &Request,
    now: DateTime,
) -> Result<Value, ApiError> {
    let st = &state.store;
    let p = &req.params;
    let (v, events) = match method {
        Method::GetPatientInfo3 => {
            let pp: wire::PatientInfoParams = params(p)?;
            (booking::patient_info(st, &pp.patient).await?, Vec::new())
        }
        Method::GetSpecialitiesInfo => {
            (booking::specialities(st, &params(p)?, now, &state.clinic(who).await?).await?, Vec::new())
        }
        Method::GetDoctorsInfo => {
            (booking::doctors(st, &params(p)?, now, &state.clinic(who).await?).await?, Vec::new())
        }
        Method::GetAvailableResourceScheduleInfo => {
            (booking::schedule(st, &params(p)?, now, &state.clinic(who).await?).await?, Vec::new())
        }
        Method::CreateAppointment | Method::ShiftAppointment => {
            let bp: wire::BookParams = params(p)?;
            let shift = method == Method::ShiftAppointment;
            (booking::book(st, &bp, shift, now, &who.key, &state.clinic(who).await?).await?, Vec::new())
        }
        Method::CancelAppointment => (booking::cancel(st, &params(p)?, now, &who.key).await?, Vec::new()),
        Method::JoinWaitingList => {
            (waitlist::join(st, &params(p)?, now, &who.key, &state.clinic(who).await?).await?, Vec::new())
        }
        Method::GetWaitingList => (waitlist::list(st, &params(p)?, now).await?, Vec::new()),
        Method::AcceptWaitingListOffer => {
            (waitlist::accept(st, &params(p)?, now, &who.key, &state.clinic(who).await?).await?, Vec::new())
        }
        Method::DeclineWaitingListOffer => {
            (waitlist::decline(st, &params(p)?, now, &who.key).await?, Vec::new())
        }
        Method::GetAppointmentReceptionsByPatient => {
            (booking::receptions(st, &params(p)?, now).await?, Vec::new())
        }
        Method::GetReferralsInfo => (booking::referrals(st, &params(p)?).await?, Vec::new()),
        Method::EnqueueWalkIn => {
            let mut ep: wire::EnqueueParams = params(p)?;
            // A kiosk issues as itself; the desk (no device) issues as device 0.
            if who.device.is_some() && ep.kiosk_id != who.kiosk_id() {
                return Err(ApiError::Forbidden(Refusal::Device));
            }
            ep.kiosk_id = who.kiosk_id();
            state.covers(who, ep.lpu_id).await?;
            state
                .walk_ins
                .get_or_init(|| crate::walk_in::WalkIns::start(state.store.clone()))
                .enqueue(ep, now, &who.key)
                .await?
        }
        Method::GetQueueState => {
            let lp: wire::LpuParams = params(p)?;
            state.covers(who, lp.lpu_id).await?;
            (queue::state(st, &lp, now).await?, Vec::new())
        }
        Method::CallNext => {
            let cp: wire::CallNextParams = params(p)?;
            state.covers(who, cp.lpu_id).await?;
            if !who.rooms.is_empty() && !who.rooms.contains(&cp.room) {
                return Err(ApiError::Forbidden(Refusal::Room));
            }
            queue::call_next(st, &cp, now).await?
        }
        Method::CompleteTicket | Method::MarkNoShow => {
            let status = if method == Method::CompleteTicket { "done" } else { "noshow" };
            queue::finish_ticket(st, &params(p)?, status, &state.clinic(who).await?, &who.rooms, now).await?
        }
        Method::RecallTicket => {
            queue::recall(st, &params(p)?, &state.clinic(who).await?, &who.rooms, now).await?
        }
        Method::SyncOfflineTickets => {
            let sp: wire::SyncParams = params(p)?;
            if who.device != Some(sp.kiosk_id) {
                return Err(ApiError::Forbidden(Refusal::Device));
            }
            let lpu = sp.lpu_id.unwrap_or(who.lpu);
            state.covers(who, lpu).await?;
            let not_before = limits::offline_window_start(st, &who.key, now.utc_minutes()).await?;
            let window = queue::SyncWindow { lpu, kiosk: sp.kiosk_id, not_before };
            let gate = queue::SyncGate {
                limits: state.effective_limits(),
                // A budget of its own per kiosk: the typos of an outage, offered again every
                // round, must not lock out the patients at that kiosk once it is back. The
                // per-policy budgets are shared with the live lookups.
                kiosk_key: format!("sync/{}", who.key),
                salt: state.policy_salt().await?.to_owned(),
                minute: limits::wall_minutes(),
            };
            let (v, events, clamped) = queue::sync_offline(st, &sp, window, Some(&gate), now).await?;
            state.metrics.offline_clamped(clamped);
            (v, events)
        }
        Method::ReportDeviceStatus => {
            crate::fleet::report(st, who, &params(p)?, now).await?;
            (json!("OK"), Vec::new())
        }
    };
    state.publish(events).await;
    Ok(v)
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

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
        .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeedQuery {
    lpu_id: u32,
}

fn forbidden_http(state: &AppState, r: Refusal, status: StatusCode) -> Response {
    state.metrics.refused(r);
    let body = wire::Response::err(Value::Null, ApiError::Forbidden(r).to_rpc());
    (status, axum::Json(body)).into_response()
}

async fn events(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    q: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
    ws: WebSocketUpgrade,
) -> Response {
    // A board's bearer token, or the staff console's session (a browser cannot send a header
    // on a WebSocket; only from the console's own origin).
    let who = state.identity(&headers).or_else(|| crate::console::feed_identity(&state, &headers));
    let Some(who) = who else { return unauthorized(&state) };
    if !protocol::auth::FEED.contains(&who.role) {
        return forbidden_http(&state, Refusal::Role, StatusCode::FORBIDDEN);
    }
    let Ok(Query(q)) = q else {
        return (StatusCode::BAD_REQUEST, "lpuId=<integer> is required").into_response();
    };
    match state.covers(&who, q.lpu_id).await {
        Ok(()) => {}
        Err(ApiError::Forbidden(r)) => return forbidden_http(&state, r, StatusCode::FORBIDDEN),
        Err(e) => {
            log::error!("feed: {e}");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let Some(slot) = FeedSlot::take(&state, &who) else {
        return forbidden_http(&state, Refusal::FeedConnections, StatusCode::TOO_MANY_REQUESTS);
    };
    let max = state.feed_limits.max_message;
    ws.max_message_size(max).max_frame_size(max).on_upgrade(move |socket| async move {
        let _slot = slot;
        feed_session(state, q.lpu_id, socket).await
    })
}

/// One of a token's feed connections, given back when the session ends.
struct FeedSlot {
    state: Arc<AppState>,
    key: String,
}

impl FeedSlot {
    fn take(state: &Arc<AppState>, who: &Identity) -> Option<FeedSlot> {
        let mut open = state.feed_open.lock().expect("feed lock");
        let n = open.entry(who.key.clone()).or_default();
        if *n >= state.feed_limits.per_token {
            return None;
        }
        *n += 1;
        state.metrics.feed_opened();
        Some(FeedSlot { state: state.clone(), key: who.key.clone() })
    }
}

impl Drop for FeedSlot {
    fn drop(&mut self) {
        let mut open = self.state.feed_open.lock().expect("feed lock");
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
        self.state.metrics.feed_closed();
    }
}

async fn feed_session(state: Arc<AppState>, lpu: u32, socket: WebSocket) {
    let limits = state.feed_limits;
    let (mut tx, mut rx) = socket.split();
    // Subscribe before the snapshot so nothing falls between the two.
    let mut sub = state.feed.subscribe(lpu);
    let frame = |ev: &FeedEvent| Message::Text(serde_json::to_string(ev).expect("serialisable").into());
    // A board that does not take a frame in time is dropped (it reconnects and resumes): its
    // socket never holds up anything but its own session.
    macro_rules! send {
        ($msg:expr) => {
            match tokio::time::timeout(limits.send_timeout, tx.send($msg)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return,
                Err(_) => {
                    state.metrics.feed_dropped_slow();
                    return;
                }
            }
        };
    }
    let snapshot =
        |state: Arc<AppState>| async move { queue::snapshot(&state.store, lpu, (state.clock)()).await };
    let mut last_seq = match snapshot(state.clone()).await {
        Ok(snap) => {
            let seq = snap.seq();
            send!(frame(&snap));
            seq
        }
        Err(e) => {
            log::error!("feed: snapshot failed: {e}");
            return;
        }
    };
    let mut ping = tokio::time::interval(limits.ping_every);
    ping.tick().await;
    let mut heard = Instant::now();
    let mut stopping = state.stopping.subscribe();
    loop {
        tokio::select! {
            _ = stopping.changed() => {
                let _ = tokio::time::timeout(limits.send_timeout, tx.send(Message::Close(None))).await;
                return;
            }
            ev = sub.recv() => match ev {
                Ok(ev) => {
                    if ev.seq() > last_seq {
                        last_seq = ev.seq();
                        send!(frame(&ev));
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    // Too slow for the channel: start over from a fresh snapshot.
                    match snapshot(state.clone()).await {
                        Ok(snap) => {
                            last_seq = snap.seq();
                            send!(frame(&snap));
                        }
                        Err(_) => return,
                    }
                }
                Err(_) => return,
            },
            msg = rx.next() => {
                heard = Instant::now();
                match msg {
                    Some(Ok(Message::Text(t))) => {
                        if let Ok(FeedRequest::Resume { after_seq }) = serde_json::from_str::<FeedRequest>(&t) {
                            let today = (state.clock)().date.to_string();
                            let frames = match queue::events_after(&state.store, lpu, after_seq, &today).await {
                                Ok(Some(evs)) => evs,
                                _ => match snapshot(state.clone()).await {
                                    Ok(s) => vec![s],
                                    Err(_) => return,
                                },
                            };
                            for ev in frames {
                                last_seq = last_seq.max(ev.seq());
                                send!(frame(&ev));
                            }
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                    Some(Ok(_)) => {}
                }
            }
            _ = ping.tick() => {
                if heard.elapsed() > limits.idle_timeout {
                    // No pong (nor anything) for too long: a dead peer or a half-open socket.
                    state.metrics.feed_dropped_idle();
                    return;
                }
                send!(Message::Ping(Vec::new().into()));
            }
        }
    }
}
