//! The staff console at `/console/`: server-rendered pages for the people who run the queue,
//! served by central itself (same process, TLS and tokens as the API).
//!
//! - Login with a staff token (roles doctor, infodesk, head, admin; a kiosk's or a board's
//!   token is refused). The session lives in this process: the cookie carries a random id,
//!   the server keeps the token's hash and finds the identity again on every request, so a
//!   token revoked or rotated away ends its sessions at once.
//! - Cookie `HttpOnly; Secure; SameSite=Strict`; every state change is a POST carrying the
//!   session's CSRF token, and a POST from another origin is refused.
//! - Doctor view: the ticket called to the cabinet now, how many wait, the next tickets
//!   (numbers only, no names), and *Вызвать следующего*, *Повторить вызов*, *Принят*, *Не
//!   явился*, each the JSON-RPC method a doctor's token may call ([`crate::app::call`]: the same
//!   gate, rules and feed events as the API). `console.js` updates the page from the queue
//!   feed (the WebSocket accepts the session cookie from the console's own origin) and posts
//!   the buttons without reloading; without scripts the forms work as plain forms.
//! - Other staff roles see the clinic's queue (waiting, the last calls) for now.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use protocol::{Method, Role};

use crate::app::AppState;
use crate::auth::{Identity, generate, hash};
use crate::error::ApiError;
use crate::queue;

/// The session cookie's name.
pub const COOKIE: &str = "infomat_console";

/// A session ends this long after login (a working day; log in again the next).
const SESSION_FOR: Duration = Duration::from_secs(12 * 3600);

/// How many of the next tickets a doctor sees.
const NEXT_SHOWN: i64 = 5;

/// The console's sessions on this node, by the SHA-256 of the cookie's id.
#[derive(Debug, Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<[u8; 32], Session>>,
}

#[derive(Debug, Clone)]
struct Session {
    /// The SHA-256 of the token logged in with.
    token: [u8; 32],
    csrf: String,
    /// The cabinet a doctor works in (chosen at login or on the page).
    room: Option<String>,
    until: Instant,
}

/// A logged-in request: who (as the token says now) and their session.
struct Staff {
    who: Arc<Identity>,
    id: [u8; 32],
    session: Session,
}

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(home))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/doctor", post(doctor_action))
        .route("/console/doctor/state", get(doctor_state))
        .route("/console/console.js", get(script))
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        v.split(';').find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == COOKIE).then(|| v.to_owned())
        })
    })
}

/// Whether the request comes from the console's own pages: an `Origin` (browsers send it on
/// POST and WebSocket handshakes) must name the host the request was sent to.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        // Not a browser's cross-site request (those carry Origin); the CSRF token still guards.
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    origin.split_once("://").is_some_and(|(_, o)| o == host)
}

fn staff(state: &AppState, headers: &HeaderMap) -> Option<Staff> {
    let id = hash(&cookie_value(headers)?);
    let mut sessions = state.console.by_id.lock().expect("sessions lock");
    let session = sessions.get(&id)?.clone();
    if session.until <= Instant::now() {
        sessions.remove(&id);
        return None;
    }
    let who = state.tokens().lookup_hash(&session.token).filter(|w| is_staff(w.role));
    if who.is_none() {
        sessions.remove(&id);
    }
    Some(Staff { who: who?, id, session })
}

/// The identity behind a console session, for the queue feed's WebSocket (a browser cannot
/// send a bearer token there), only from the console's own origin.
pub fn feed_identity(state: &AppState, headers: &HeaderMap) -> Option<Arc<Identity>> {
    if !same_origin(headers) {
        return None;
    }
    staff(state, headers).map(|s| s.who)
}

fn is_staff(role: Role) -> bool {
    matches!(role, Role::Doctor | Role::Infodesk | Role::Head | Role::Admin)
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Infomat</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; margin: 0; background: #f4f6f8; color: #111; font-size: 20px; }}
header {{ background: #0b3d66; color: #fff; padding: 12px 24px; display: flex; gap: 24px; align-items: center; flex-wrap: wrap; }}
header h1 {{ font-size: 24px; margin: 0; flex: 1; }}
main {{ padding: 24px; max-width: 1100px; }}
section {{ background: #fff; border-radius: 8px; padding: 16px 24px; margin-bottom: 20px; box-shadow: 0 1px 3px #0003; }}
.big {{ font-size: 64px; font-weight: bold; margin: 8px 0; }}
.muted {{ color: #444; }}
button, input, select {{ font-size: 22px; padding: 14px 22px; border-radius: 8px; border: 2px solid #0b3d66; }}
button {{ background: #0b3d66; color: #fff; min-width: 220px; min-height: 64px; margin: 6px 12px 6px 0; cursor: pointer; }}
button.secondary {{ background: #fff; color: #0b3d66; }}
button:disabled {{ background: #9aa7b2; border-color: #9aa7b2; color: #fff; cursor: default; }}
button:focus-visible, input:focus-visible, select:focus-visible {{ outline: 4px solid #f0a000; outline-offset: 2px; }}
label {{ display: inline-block; margin-bottom: 8px; }}
kbd {{ border: 1px solid #fff8; border-radius: 4px; padding: 0 6px; font-size: 16px; margin-left: 8px; }}
ol.next {{ display: flex; gap: 16px; list-style: none; padding: 0; flex-wrap: wrap; }}
ol.next li {{ font-size: 30px; padding: 8px 16px; background: #e8eef4; border-radius: 6px; }}
.error {{ background: #fde8e8; border: 2px solid #b00020; color: #700; padding: 12px 16px; border-radius: 8px; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 6px 16px; text-align: left; border-bottom: 1px solid #ccd; }}
</style>
<script src="/console/console.js" defer></script>
</head>
<body>
{body}
</body>
</html>"#
    );
    let mut r = Html(html).into_response();
    let h = r.headers_mut();
    // The console is never framed (clickjacking) and loads nothing from elsewhere.
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn login_page() -> Response {
    login_form(None, StatusCode::OK)
}

fn login_form(error: Option<&str>, status: StatusCode) -> Response {
    let error = error.map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, esc(e))).unwrap_or_default();
    let body = format!(
        r#"<header><h1>Infomat — пульт персонала</h1></header>
<main>
<section>
<h2>Вход</h2>
{error}
<form method="post" action="/console/login">
<p><label for="token">Ключ доступа сотрудника</label><br>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus size="40"></p>
<p><label for="room">Кабинет (для врача)</label><br>
<input id="room" name="room" type="text" inputmode="numeric" size="8"></p>
<p><button type="submit">Войти</button></p>
</form>
<p class="muted">Ключ выдаёт ИТ-служба клиники (<code>central token add --role doctor …</code>).</p>
</section>
</main>"#
    );
    let mut r = page("Вход", &body);
    *r.status_mut() = status;
    r
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    token: String,
    #[serde(default)]
    room: String,
}

async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: axum::Form<LoginForm>,
) -> Response {
    if !same_origin(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Some(who) = state.tokens().lookup(form.token.trim()) else {
        state.metrics.refused(crate::metrics::Refusal::Unauthorized);
        return login_form(
            Some("Ключ не подошёл. Проверьте его или обратитесь в ИТ-службу."),
            StatusCode::UNAUTHORIZED,
        );
    };
    if !is_staff(who.role) {
        state.metrics.refused(crate::metrics::Refusal::Role);
        log::warn!("console: a {} token tried to log in ({})", who.role, who.key);
        return login_form(Some("Этим ключом нельзя войти в пульт персонала."), StatusCode::FORBIDDEN);
    }
    let (Ok(id), Ok(csrf)) = (generate(), generate()) else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    // A cabinet the token is not bound to is not taken: the token's first cabinet instead.
    let room = Some(form.room.trim().to_owned())
        .filter(|r| !r.is_empty() && may_open(&who, r))
        .or_else(|| who.rooms.first().cloned());
    {
        let now = Instant::now();
        let mut sessions = state.console.by_id.lock().expect("sessions lock");
        sessions.retain(|_, s| s.until > now);
        sessions.insert(
            hash(&id),
            Session { token: hash(form.token.trim()), csrf, room, until: now + SESSION_FOR },
        );
    }
    log::info!("console: {} ({}) logged in", who.key, who.role);
    let mut r = Redirect::to("/console/").into_response();
    let cookie = format!(
        "{COOKIE}={id}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age={}",
        SESSION_FOR.as_secs()
    );
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ascii"));
    r
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

fn csrf_ok(session: &Session, presented: &str) -> bool {
    // Compared as hashes: constant time, whatever the lengths.
    crate::auth::constant_time_eq(&hash(&session.csrf), &hash(presented))
}

/// Whether `who` may work in cabinet `room` (a token bound to cabinets: only those).
fn may_open(who: &Identity, room: &str) -> bool {
    who.rooms.is_empty() || who.rooms.iter().any(|r| r == room)
}

async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: axum::Form<CsrfForm>,
) -> Response {
    let Some(s) = staff(&state, &headers) else { return Redirect::to("/console/login").into_response() };
    if !same_origin(&headers) || !csrf_ok(&s.session, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    state.console.by_id.lock().expect("sessions lock").remove(&s.id);
    let mut r = Redirect::to("/console/login").into_response();
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ascii"));
    r
}

#[derive(Debug, Deserialize)]
struct RoomQuery {
    room: Option<String>,
}

async fn home(State(state): State<Arc<AppState>>, headers: HeaderMap, q: Query<RoomQuery>) -> Response {
    let Some(mut s) = staff(&state, &headers) else { return Redirect::to("/console/login").into_response() };
    if let Some(room) = q.room.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        if !may_open(&s.who, room) {
            return StatusCode::FORBIDDEN.into_response();
        }
        s.session.room = Some(room.to_owned());
        if let Some(stored) = state.console.by_id.lock().expect("sessions lock").get_mut(&s.id) {
            stored.room = s.session.room.clone();
        }
    }
    match s.who.role {
        Role::Doctor => doctor_page(&state, &s, None).await,
        _ => overview_page(&state, &s).await,
    }
}

fn header_bar(s: &Staff, title: &str) -> String {
    let who = if s.who.name.is_empty() { s.who.role.to_string() } else { s.who.name.clone() };
    format!(
        r#"<header><h1>{}</h1><span>{}</span>
<form method="post" action="/console/logout"><input type="hidden" name="csrf" value="{}"><button class="secondary" type="submit">Выйти</button></form></header>"#,
        esc(title),
        esc(&who),
        esc(&s.session.csrf)
    )
}

async fn doctor_page(state: &AppState, s: &Staff, error: Option<&str>) -> Response {
    let Some(room) = s.session.room.clone() else {
        let body = format!(
            r#"{}<main><section><h2>Выберите кабинет</h2>
<form method="get" action="/console/"><p><label for="room">Кабинет</label><br>
<input id="room" name="room" type="text" inputmode="numeric" required autofocus size="8"></p>
<p><button type="submit">Открыть</button></p></form></section></main>"#,
            header_bar(s, "Пульт врача")
        );
        return page("Пульт врача", &body);
    };
    let view = match queue::cabinet(&state.store, s.who.lpu, &room, (state.clock)(), NEXT_SHOWN).await {
        Ok(v) => v,
        Err(e) => return unavailable(&e),
    };
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert" id="error">{}</p>"#, esc(e)))
        .unwrap_or_else(|| r#"<p class="error" role="alert" id="error" hidden></p>"#.to_owned());
    let current = view.current.as_ref();
    let mut next = String::new();
    for n in &view.next {
        let _ = write!(next, "<li>{}</li>", esc(n));
    }
    let disabled = if current.is_none() { " disabled" } else { "" };
    let body = format!(
        r#"{bar}
<main id="cabinet" data-lpu="{lpu}" data-room="{room}">
{error}
<section aria-labelledby="now-h">
<h2 id="now-h">Кабинет {room}: на приёме</h2>
<p class="big" id="current" aria-live="polite">{current}</p>
</section>
<section aria-labelledby="queue-h">
<h2 id="queue-h">Очередь к дежурному врачу: <span id="waiting">{waiting}</span> чел.</h2>
<p class="muted">Следующие талоны:</p>
<ol class="next" id="next">{next}</ol>
</section>
<section aria-label="Действия">
<form method="post" action="/console/doctor" data-live>
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="room" value="{room}">
<input type="hidden" name="ticket" id="ticket" value="{ticket}">
<button type="submit" name="action" value="call" data-key="n">Вызвать следующего<kbd>N</kbd></button>
<button type="submit" name="action" value="recall" data-key="r" data-needs-ticket{disabled}>Повторить вызов<kbd>R</kbd></button>
<button type="submit" name="action" value="done" data-key="d" data-needs-ticket{disabled}>Принят<kbd>D</kbd></button>
<button type="submit" name="action" value="noshow" data-key="x" data-needs-ticket{disabled}>Не явился<kbd>X</kbd></button>
</form>
</section>
</main>"#,
        bar = header_bar(s, "Пульт врача"),
        lpu = s.who.lpu,
        room = esc(&room),
        current = current.map_or_else(|| "—".to_owned(), |c| esc(&c.ticket_number)),
        waiting = view.waiting,
        csrf = esc(&s.session.csrf),
        ticket = current.map_or_else(String::new, |c| esc(&c.ticket_id)),
    );
    page("Пульт врача", &body)
}

fn unavailable(e: &ApiError) -> Response {
    log::error!("console: {e}");
    (StatusCode::SERVICE_UNAVAILABLE, "Сервис очереди недоступен, повторите через минуту").into_response()
}

async fn overview_page(state: &AppState, s: &Staff) -> Response {
    let lp = protocol::LpuParams { lpu_id: s.who.lpu };
    let v = match queue::state(&state.store, &lp, (state.clock)()).await {
        Ok(v) => v,
        Err(e) => return unavailable(&e),
    };
    let qs: protocol::QueueState = match serde_json::from_value(v) {
        Ok(q) => q,
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let mut rows = String::new();
    for c in &qs.called {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{:02}:{:02}</td></tr>",
            esc(&c.ticket_number),
            esc(&c.room),
            c.called_at.hour(),
            c.called_at.minute()
        );
    }
    let body = format!(
        r#"{bar}
<main>
<section><h2>Очередь к дежурному врачу</h2>
<p class="big">{waiting} чел.</p>
<p class="muted">Среднее ожидание сегодня: {avg}</p></section>
<section><h2>Последние вызовы</h2>
<table><thead><tr><th>Талон</th><th>Кабинет</th><th>Время</th></tr></thead><tbody>{rows}</tbody></table></section>
</main>"#,
        bar = header_bar(s, "Пульт персонала"),
        waiting = qs.waiting,
        avg = qs.average_wait_minutes.map_or_else(|| "ещё нет вызовов".to_owned(), |m| format!("{m} мин")),
    );
    page("Пульт персонала", &body)
}

#[derive(Debug, Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    room: String,
    action: String,
    #[serde(default)]
    ticket: String,
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/json"))
}

async fn doctor_action(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: axum::Form<ActionForm>,
) -> Response {
    let Some(s) = staff(&state, &headers) else { return StatusCode::UNAUTHORIZED.into_response() };
    if !same_origin(&headers) || !csrf_ok(&s.session, &form.csrf) {
        state.metrics.refused(crate::metrics::Refusal::Csrf);
        log::warn!("console: a POST without a valid CSRF token or from another origin ({})", s.who.key);
        return StatusCode::FORBIDDEN.into_response();
    }
    let room = form.room.trim().to_owned();
    if !may_open(&s.who, &room) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let (method, params) = match form.action.as_str() {
        "call" => (Method::CallNext, json!({"lpuId": s.who.lpu, "room": room, "doctorId": s.who.doctor_id})),
        "recall" => (Method::RecallTicket, json!({"ticketId": form.ticket})),
        "done" => (Method::CompleteTicket, json!({"ticketId": form.ticket})),
        "noshow" => (Method::MarkNoShow, json!({"ticketId": form.ticket})),
        _ => return StatusCode::BAD_REQUEST.into_response(),
    };
    let outcome = crate::app::call(&state, method, &s.who, params).await;
    let error = outcome.err().map(|e| match e {
        ApiError::Forbidden(_) => "Нет прав на это действие для этого кабинета.".to_owned(),
        ApiError::Domain { message, .. } => message,
        _ => "Не получилось, повторите через минуту.".to_owned(),
    });
    if wants_json(&headers) {
        return match queue::cabinet(&state.store, s.who.lpu, &room, (state.clock)(), NEXT_SHOWN).await {
            Ok(view) => axum::Json(json!({"view": view, "error": error})).into_response(),
            Err(e) => unavailable(&e),
        };
    }
    match error {
        None => Redirect::to(&format!("/console/?room={}", urlencode(&room))).into_response(),
        Some(e) => doctor_page(&state, &s, Some(&e)).await,
    }
}

fn urlencode(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

async fn doctor_state(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    q: Query<RoomQuery>,
) -> Response {
    let Some(s) = staff(&state, &headers) else { return StatusCode::UNAUTHORIZED.into_response() };
    let Some(room) = q.room.clone().or(s.session.room.clone()) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if !may_open(&s.who, &room) {
        return StatusCode::FORBIDDEN.into_response();
    }
    match queue::cabinet(&state.store, s.who.lpu, &room, (state.clock)(), NEXT_SHOWN).await {
        Ok(view) => axum::Json(json!({"view": view, "error": Value::Null})).into_response(),
        Err(e) => unavailable(&e),
    }
}

async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], SCRIPT)
        .into_response()
}

/// Progressive enhancement: the page works as plain forms; this keeps it live.
const SCRIPT: &str = r#""use strict";
(function () {
  const root = document.getElementById("cabinet");
  if (!root) return;
  const lpu = root.dataset.lpu, room = root.dataset.room;
  const $ = (id) => document.getElementById(id);
  function render(data) {
    const v = data.view;
    $("current").textContent = v.current ? v.current.ticketNumber : "—";
    $("ticket").value = v.current ? v.current.ticketId : "";
    $("waiting").textContent = String(v.waiting);
    const next = $("next");
    next.replaceChildren(...v.next.map((n) => { const li = document.createElement("li"); li.textContent = n; return li; }));
    document.querySelectorAll("button[data-needs-ticket]").forEach((b) => { b.disabled = !v.current; });
    const err = $("error");
    err.hidden = !data.error;
    err.textContent = data.error || "";
  }
  async function refresh() {
    try {
      const r = await fetch("/console/doctor/state?room=" + encodeURIComponent(room), { headers: { Accept: "application/json" } });
      if (r.status === 401) { location.href = "/console/login"; return; }
      if (r.ok) render(await r.json());
    } catch (e) { /* the feed or the next poll tries again */ }
  }
  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/api/queue/v1/events?lpuId=" + lpu);
    ws.onmessage = refresh;
    ws.onclose = () => setTimeout(connect, 2000);
  }
  connect();
  setInterval(refresh, 15000);
  document.querySelectorAll("form[data-live]").forEach((f) => f.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = new URLSearchParams(new FormData(f, e.submitter));
    // One click, one action: the buttons wait for the answer.
    f.querySelectorAll("button").forEach((b) => { b.dataset.was = b.disabled; b.disabled = true; });
    const restore = () => f.querySelectorAll("button").forEach((b) => { b.disabled = b.dataset.was === "true"; });
    try {
      // Not `f.action`: the buttons are named "action", which shadows the form's property.
      const r = await fetch(f.getAttribute("action"), { method: "POST", body, headers: { Accept: "application/json" } });
      if (r.status === 401) { location.href = "/console/login"; return; }
      if (r.ok) { const data = await r.json(); restore(); render(data); return; }
    } catch (e) { /* below */ }
    restore();
    render({ view: { current: $("ticket").value ? { ticketNumber: $("current").textContent, ticketId: $("ticket").value } : null,
      waiting: Number($("waiting").textContent), next: [...$("next").children].map((li) => li.textContent) },
      error: "Нет связи с сервером очереди, повторите." });
  }));
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey || e.target.closest("input, select, textarea")) return;
    const b = document.querySelector('button[data-key="' + e.key.toLowerCase() + '"]');
    if (b && !b.disabled) { e.preventDefault(); b.click(); }
  });
})();
"#;
