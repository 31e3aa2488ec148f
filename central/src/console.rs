//! The staff console at `/console/`: server-rendered pages for the people who run the queue,
//! served by central itself (same process, TLS and tokens as the API).
//!
//! - Login with a staff token (roles doctor, infodesk, head, admin; a kiosk's or a board's
//!   token is refused) or a person's login and password (`[[person]]` in the tokens file,
//!   Argon2id; five wrong passwords lock the login for 15 minutes). The session lives in this
//!   process: the cookie carries a random id, the server keeps the token's (or the password
//!   hash's) SHA-256 and finds the identity again on every request, so a token revoked or a
//!   password changed ends its sessions at once.
//! - Cookie `HttpOnly; Secure; SameSite=Strict`; every state change is a POST carrying the
//!   session's CSRF token, and a POST from another origin is refused.
//! - Doctor: the ticket called to the cabinet now, how many wait, the next tickets (numbers and
//!   priority categories, no names), and *Вызвать следующего*, *Повторить вызов*, *Принят*,
//!   *Не явился*, *Перенаправить*, each through the JSON-RPC gate a doctor's token passes
//!   ([`crate::app::call`]: same rules and feed events as the API).
//! - Info desk: find a patient by policy and birth date, record a priority category
//!   ([`crate::duty`]), issue a walk-in ticket through `enqueueWalkIn` (the kiosk's rules and
//!   numbering) and print it on the desk's ESC/POS printer (the token's `printer`).
//! - Head of department: each duty cabinet's load today, open and close cabinets, the day as
//!   CSV, a chart of waiting patients, extra appointment time for a doctor
//!   ([`crate::schedule`]); the fleet of kiosks and boards (also for admins).
//! - Russian, with English a click away (a cookie). `console.js` keeps the doctor's page live
//!   from the queue feed (the WebSocket accepts the session cookie from the console's own
//!   origin); without scripts every page works as plain forms.

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

use domain::{Date, Enp};
use protocol::{Method, Role};

use crate::app::AppState;
use crate::auth::{Identity, generate, hash};
use crate::duty::{self, Priority};
use crate::error::ApiError;
use crate::{fleet, queue, store};

/// The session cookie's name.
pub const COOKIE: &str = "infomat_console";
/// The language cookie (`en`; anything else is Russian).
const LANG_COOKIE: &str = "infomat_lang";

/// A session ends this long after login (a working day; log in again the next).
const SESSION_FOR: Duration = Duration::from_secs(12 * 3600);

/// How many of the next tickets a doctor sees.
const NEXT_SHOWN: i64 = 5;

/// Logins with attempts remembered before old ones are dropped.
const FAILURES_KEPT: usize = 10_000;

/// Wrong passwords per login before it is locked for [`LOCKED_FOR`].
const PASSWORD_TRIES: u32 = 5;
const LOCKED_FOR: Duration = Duration::from_secs(15 * 60);

/// A patient the desk found is forgotten this long after (the desk turned to someone else).
const DESK_FOR: Duration = Duration::from_secs(10 * 60);

/// A day report that took longer than this to make is served again for [`REPORT_KEPT`]
/// (a day of tens of thousands of tickets: 100 ms of reading each time); a cheaper one is
/// always made fresh.
const REPORT_COSTLY: Duration = Duration::from_millis(20);
const REPORT_KEPT: Duration = Duration::from_secs(2);

/// How long the desk waits for its printer.
const PRINT_WITHIN: Duration = Duration::from_secs(10);

/// The console's sessions on this node, by the SHA-256 of the cookie's id.
#[derive(Debug)]
pub struct Sessions {
    by_id: Mutex<HashMap<[u8; 32], Session>>,
    /// Password attempts per login since its last success: (count, the latest).
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    /// Password checks running at once (Argon2: memory and CPU per check).
    hashing: tokio::sync::Semaphore,
    /// The head's day report per clinic: when made, what it cost, the report.
    reports: tokio::sync::Mutex<HashMap<u32, KeptReport>>,
}

impl Default for Sessions {
    fn default() -> Sessions {
        Sessions {
            by_id: Mutex::default(),
            failures: Mutex::default(),
            hashing: tokio::sync::Semaphore::new(2),
            reports: tokio::sync::Mutex::default(),
        }
    }
}

/// A day report kept: when it was made, what it cost, the report.
type KeptReport = (Instant, Duration, Arc<duty::DayReport>);

/// What a session was opened with; resolved again on every request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Principal {
    /// The SHA-256 of the token.
    Token([u8; 32]),
    /// A person's login and the SHA-256 of their password hash as it was at login.
    Person { login: String, phc: [u8; 32] },
}

#[derive(Debug, Clone)]
struct Session {
    principal: Principal,
    csrf: String,
    /// The cabinet a doctor works in (chosen at login or on the page).
    room: Option<String>,
    /// The patient the info desk found (and when), until a ticket is issued for them or
    /// [`DESK_FOR`] passes: the policy number stays on the server, never in the page.
    desk: Option<DeskFound>,
    until: Instant,
}

/// A patient the info desk found.
#[derive(Debug, Clone)]
struct DeskFound {
    enp: Enp,
    birth: Date,
    at: Instant,
    /// Names this finding in the issue form (and is the ticket's request id): a form from
    /// another tab, showing an earlier patient, cannot issue for this one.
    nonce: String,
}

/// A logged-in request: who (as the token says now) and their session.
struct Staff {
    who: Arc<Identity>,
    id: [u8; 32],
    session: Session,
}

impl Staff {
    fn store(&self, state: &AppState, f: impl FnOnce(&mut Session)) {
        if let Some(stored) = state.console.by_id.lock().expect("sessions lock").get_mut(&self.id) {
            f(stored);
        }
    }
}

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/") }))
        .route("/console/", get(home))
        .route("/console/login", get(login_page).post(login))
        .route("/console/logout", post(logout))
        .route("/console/lang", get(set_lang))
        .route("/console/doctor", post(doctor_action))
        .route("/console/doctor/state", get(doctor_state))
        .route("/console/desk/find", post(desk_find))
        .route("/console/desk/issue", post(desk_issue))
        .route("/console/head/room", post(head_room))
        .route("/console/head/session", post(head_session))
        .route("/console/head/report.csv", get(head_csv))
        .route("/console/fleet", get(fleet_page))
        .route("/console/console.js", get(script))
}

/// The page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lang {
    en: bool,
}

impl Lang {
    fn t<'a>(self, ru: &'a str, en: &'a str) -> &'a str {
        if self.en { en } else { ru }
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        v.split(';').find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    })
}

fn lang(headers: &HeaderMap) -> Lang {
    Lang { en: cookie(headers, LANG_COOKIE).as_deref() == Some("en") }
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
    let id = hash(&cookie(headers, COOKIE)?);
    let mut sessions = state.console.by_id.lock().expect("sessions lock");
    let stored = sessions.get_mut(&id)?;
    if stored.until <= Instant::now() {
        sessions.remove(&id);
        return None;
    }
    if stored.desk.as_ref().is_some_and(|d| d.at.elapsed() >= DESK_FOR) {
        stored.desk = None;
    }
    let session = stored.clone();
    let tokens = state.tokens();
    let who = match &session.principal {
        Principal::Token(h) => tokens.lookup_hash(h),
        Principal::Person { login, phc } => tokens.person_current(login, phc),
    }
    .filter(|w| is_staff(w.role));
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

fn page(l: Lang, title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Infomat</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; margin: 0; background: #f4f6f8; color: #111; font-size: 20px; }}
header {{ background: #0b3d66; color: #fff; padding: 12px 24px; display: flex; gap: 24px; align-items: center; flex-wrap: wrap; }}
header h1 {{ font-size: 24px; margin: 0; flex: 1; }}
header a {{ color: #fff; }}
nav a {{ margin-right: 16px; }}
main {{ padding: 24px; max-width: 1280px; }}
section {{ background: #fff; border-radius: 8px; padding: 16px 24px; margin-bottom: 20px; box-shadow: 0 1px 3px #0003; }}
.big {{ font-size: 64px; font-weight: bold; margin: 8px 0; }}
.muted {{ color: #444; }}
button, input, select {{ font-size: 22px; padding: 14px 22px; border-radius: 8px; border: 2px solid #0b3d66; }}
button {{ background: #0b3d66; color: #fff; min-width: 220px; min-height: 64px; margin: 6px 12px 6px 0; cursor: pointer; }}
button.secondary {{ background: #fff; color: #0b3d66; }}
button.small {{ min-width: 0; min-height: 48px; padding: 8px 16px; font-size: 18px; }}
button:disabled {{ background: #9aa7b2; border-color: #9aa7b2; color: #fff; cursor: default; }}
button:focus-visible, input:focus-visible, select:focus-visible, a:focus-visible {{ outline: 4px solid #f0a000; outline-offset: 2px; }}
label {{ display: inline-block; margin-bottom: 8px; }}
kbd {{ border: 1px solid #fff8; border-radius: 4px; padding: 0 6px; font-size: 16px; margin-left: 8px; }}
ol.next {{ display: flex; gap: 16px; list-style: none; padding: 0; flex-wrap: wrap; }}
ol.next li {{ font-size: 30px; padding: 8px 16px; background: #e8eef4; border-radius: 6px; }}
ol.next li.prio {{ background: #fff3cd; border: 2px solid #b07800; }}
ol.next small, .tag {{ font-size: 18px; color: #6a4700; }}
.error {{ background: #fde8e8; border: 2px solid #b00020; color: #700; padding: 12px 16px; border-radius: 8px; }}
.ok {{ background: #e6f4ea; border: 2px solid #1e7b34; color: #0d3d1a; padding: 12px 16px; border-radius: 8px; }}
table {{ border-collapse: collapse; font-size: 18px; }} td, th {{ padding: 8px 10px; text-align: left; border-bottom: 1px solid #ccd; }}
.scroll {{ overflow-x: auto; }}
tr.attention td {{ background: #fde8e8; }}
.row {{ display: flex; gap: 24px; flex-wrap: wrap; align-items: end; }}
</style>
<script src="/console/console.js" defer></script>
</head>
<body>
{body}
</body>
</html>"#,
        lang = l.t("ru", "en"),
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

fn lang_link(l: Lang) -> String {
    if l.en {
        r#"<a href="/console/lang?to=ru" lang="ru">Русский</a>"#.to_owned()
    } else {
        r#"<a href="/console/lang?to=en" lang="en">English</a>"#.to_owned()
    }
}

#[derive(Debug, Deserialize)]
struct LangQuery {
    #[serde(default)]
    to: String,
}

async fn set_lang(q: Query<LangQuery>) -> Response {
    let to = if q.to == "en" { "en" } else { "ru" };
    let mut r = Redirect::to("/console/").into_response();
    let c = format!("{LANG_COOKIE}={to}; Path=/console; Secure; SameSite=Strict; Max-Age=31536000");
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&c).expect("ascii"));
    r
}

async fn login_page(headers: HeaderMap) -> Response {
    login_form(lang(&headers), None, StatusCode::OK)
}

fn login_form(l: Lang, error: Option<&str>, status: StatusCode) -> Response {
    let error = error.map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, esc(e))).unwrap_or_default();
    let body = format!(
        r#"<header><h1>{title}</h1>{lang}</header>
<main>
<section>
<h2>{enter}</h2>
{error}
<form method="post" action="/console/login">
<p><label for="login">{login}</label><br>
<input id="login" name="login" type="text" autocomplete="username" size="24"></p>
<p><label for="token">{secret}</label><br>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus size="40"></p>
<p><label for="room">{room}</label><br>
<input id="room" name="room" type="text" inputmode="numeric" size="8"></p>
<p><button type="submit">{go}</button></p>
</form>
<p class="muted">{hint}</p>
</section>
</main>"#,
        title = l.t("Infomat — пульт персонала", "Infomat — staff console"),
        lang = lang_link(l),
        enter = l.t("Вход", "Log in"),
        login = l.t("Логин (при входе по паролю)", "Login (when using a password)"),
        secret = l.t("Ключ доступа сотрудника или пароль", "Staff access key or password"),
        room = l.t("Кабинет (для врача)", "Cabinet (doctors)"),
        go = l.t("Войти", "Log in"),
        hint = l.t(
            "Ключ или логин выдаёт ИТ-служба клиники (<code>central token add</code>, <code>central staff add</code>).",
            "Keys and logins come from the clinic's IT (<code>central token add</code>, <code>central staff add</code>).",
        ),
    );
    let mut r = page(l, l.t("Вход", "Log in"), &body);
    *r.status_mut() = status;
    r
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    token: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    room: String,
}

/// Whether `login` is locked out by wrong passwords now.
/// Counts a password attempt for `login` before it is checked (so that guesses sent at once
/// are counted at once); `false` when the login is locked: [`PASSWORD_TRIES`] attempts not
/// followed by a success, the lock lasting [`LOCKED_FOR`] from the last of them.
fn attempt(state: &AppState, login: &str) -> bool {
    let mut f = state.console.failures.lock().expect("failures lock");
    if f.len() >= FAILURES_KEPT {
        f.retain(|_, (_, last)| last.elapsed() < LOCKED_FOR);
    }
    let e = f.entry(login.to_owned()).or_insert((0, Instant::now()));
    if e.1.elapsed() >= LOCKED_FOR {
        *e = (0, Instant::now());
    }
    if e.0 >= PASSWORD_TRIES {
        return false;
    }
    *e = (e.0 + 1, Instant::now());
    true
}

async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: axum::Form<LoginForm>,
) -> Response {
    let l = lang(&headers);
    if !same_origin(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let login = form.login.trim().to_owned();
    let found = if login.is_empty() {
        state.tokens().lookup(form.token.trim()).map(|w| (w, Principal::Token(hash(form.token.trim()))))
    } else {
        if !attempt(&state, &login) {
            log::warn!("console: login {login:?} is locked after wrong passwords");
            return login_form(
                l,
                Some(l.t(
                    "Слишком много неверных паролей: вход заблокирован на 15 минут.",
                    "Too many wrong passwords: login locked for 15 minutes.",
                )),
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        // Argon2 takes tens of milliseconds of CPU and 19 MiB: off the async workers, two at a
        // time at most, whatever arrives at once.
        let Ok(_permit) = state.console.hashing.acquire().await else {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        };
        let tokens = state.tokens();
        let (name, password) = (login.clone(), form.token.clone());
        let found = tokio::task::spawn_blocking(move || tokens.person(&name, &password)).await.ok().flatten();
        if found.is_some() {
            state.console.failures.lock().expect("failures lock").remove(&login);
        }
        found.map(|(w, phc)| (w, Principal::Person { login: login.clone(), phc }))
    };
    let Some((who, principal)) = found else {
        state.metrics.refused(crate::metrics::Refusal::Unauthorized);
        return login_form(
            l,
            Some(l.t(
                "Ключ или пароль не подошёл. Проверьте его или обратитесь в ИТ-службу.",
                "Key or password not accepted. Check it or ask the clinic's IT.",
            )),
            StatusCode::UNAUTHORIZED,
        );
    };
    if !is_staff(who.role) {
        state.metrics.refused(crate::metrics::Refusal::Role);
        log::warn!("console: a {} token tried to log in ({})", who.role, who.key);
        return login_form(
            l,
            Some(
                l.t("Этим ключом нельзя войти в пульт персонала.", "This key cannot open the staff console."),
            ),
            StatusCode::FORBIDDEN,
        );
    }
    let (Ok(id), Ok(csrf)) = (generate(), generate()) else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    // A cabinet the token is not bound to is not taken: the token's first cabinet instead.
    let room = Some(form.room.trim().to_owned())
        .filter(|r| duty::valid_room(r) && may_open(&who, r))
        .or_else(|| who.rooms.first().cloned());
    {
        let now = Instant::now();
        let mut sessions = state.console.by_id.lock().expect("sessions lock");
        sessions.retain(|_, s| s.until > now);
        sessions.insert(hash(&id), Session { principal, csrf, room, desk: None, until: now + SESSION_FOR });
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

/// The logged-in member of staff behind a state change, if the change is theirs to make: a
/// session, the session's CSRF token, the console's own origin, one of `roles`.
fn changer(state: &AppState, headers: &HeaderMap, csrf: &str, roles: &[Role]) -> Result<Staff, StatusCode> {
    let Some(s) = staff(state, headers) else { return Err(StatusCode::UNAUTHORIZED) };
    if !same_origin(headers) || !csrf_ok(&s.session, csrf) {
        state.metrics.refused(crate::metrics::Refusal::Csrf);
        log::warn!("console: a POST without a valid CSRF token or from another origin ({})", s.who.key);
        return Err(StatusCode::FORBIDDEN);
    }
    if !roles.contains(&s.who.role) {
        state.metrics.refused(crate::metrics::Refusal::Role);
        return Err(StatusCode::FORBIDDEN);
    }
    Ok(s)
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
    let l = lang(&headers);
    let Some(mut s) = staff(&state, &headers) else { return Redirect::to("/console/login").into_response() };
    if let Some(room) = q.room.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        if !duty::valid_room(room) || !may_open(&s.who, room) {
            return StatusCode::FORBIDDEN.into_response();
        }
        s.session.room = Some(room.to_owned());
        s.store(&state, |stored| stored.room = Some(room.to_owned()));
    }
    match s.who.role {
        Role::Doctor => doctor_page(&state, &s, l, None).await,
        Role::Infodesk => desk_page(&state, &s, l, DeskNotice::None).await,
        Role::Head => head_page(&state, &s, l, None, None).await,
        _ => fleet_view(&state, &s, l).await,
    }
}

fn header_bar(s: &Staff, l: Lang, title: &str) -> String {
    let who = if s.who.name.is_empty() { s.who.role.to_string() } else { s.who.name.clone() };
    let nav = match s.who.role {
        Role::Head => format!(
            r#"<nav aria-label="{}"><a href="/console/">{}</a><a href="/console/fleet">{}</a></nav>"#,
            l.t("Разделы", "Sections"),
            l.t("Отделение", "Department"),
            l.t("Оборудование", "Fleet"),
        ),
        _ => String::new(),
    };
    format!(
        r#"<header><h1>{}</h1>{nav}<span>{}</span>{}
<form method="post" action="/console/logout"><input type="hidden" name="csrf" value="{}"><button class="secondary small" type="submit">{}</button></form></header>"#,
        esc(title),
        esc(&who),
        lang_link(l),
        esc(&s.session.csrf),
        l.t("Выйти", "Log out"),
    )
}

fn notice(error: Option<&str>) -> String {
    error
        .map(|e| format!(r#"<p class="error" role="alert" id="error">{}</p>"#, esc(e)))
        .unwrap_or_else(|| r#"<p class="error" role="alert" id="error" hidden></p>"#.to_owned())
}

fn next_items(l: Lang, next: &[queue::NextTicket]) -> String {
    let mut out = String::new();
    for n in next {
        let _ = match n.category {
            None => write!(out, "<li>{}</li>", esc(&n.number)),
            Some(c) => {
                write!(out, r#"<li class="prio">{} <small>{}</small></li>"#, esc(&n.number), c.label(l.en))
            }
        };
    }
    out
}

async fn doctor_page(state: &AppState, s: &Staff, l: Lang, error: Option<&str>) -> Response {
    let title = l.t("Пульт врача", "Doctor's console");
    let Some(room) = s.session.room.clone() else {
        let body = format!(
            r#"{}<main><section><h2>{}</h2>
<form method="get" action="/console/"><p><label for="room">{}</label><br>
<input id="room" name="room" type="text" inputmode="numeric" required autofocus size="8"></p>
<p><button type="submit">{}</button></p></form></section></main>"#,
            header_bar(s, l, title),
            l.t("Выберите кабинет", "Choose a cabinet"),
            l.t("Кабинет", "Cabinet"),
            l.t("Открыть", "Open"),
        );
        return page(l, title, &body);
    };
    let view = match queue::cabinet(&state.store, s.who.lpu, &room, (state.clock)(), NEXT_SHOWN).await {
        Ok(v) => v,
        Err(e) => return unavailable(&e),
    };
    let current = view.current.as_ref();
    let disabled = if current.is_none() { " disabled" } else { "" };
    let labels: serde_json::Map<String, Value> =
        Priority::ALL.iter().map(|p| (p.name().to_owned(), json!(p.label(l.en)))).collect();
    let body = format!(
        r#"{bar}
<main id="cabinet" data-lpu="{lpu}" data-room="{room}" data-labels="{labels}" data-offline="{offline}">
{error}
<section aria-labelledby="now-h">
<h2 id="now-h">{cab} {room}: {now}</h2>
<p class="big" id="current" aria-live="polite">{current}</p>
</section>
<section aria-labelledby="queue-h">
<h2 id="queue-h">{queue_h}: <span id="waiting">{waiting}</span> {people}</h2>
<p class="muted">{next_h}:</p>
<ol class="next" id="next">{next}</ol>
</section>
<section aria-label="{actions}">
<form method="post" action="/console/doctor" data-live>
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="room" value="{room}">
<input type="hidden" name="ticket" id="ticket" value="{ticket}">
<button type="submit" name="action" value="call" data-key="n">{call}<kbd>N</kbd></button>
<button type="submit" name="action" value="recall" data-key="r" data-needs-ticket{disabled}>{recall}<kbd>R</kbd></button>
<button type="submit" name="action" value="done" data-key="d" data-needs-ticket{disabled}>{done}<kbd>D</kbd></button>
<button type="submit" name="action" value="noshow" data-key="x" data-needs-ticket{disabled}>{noshow}<kbd>X</kbd></button>
<div class="row"><p><label for="to">{to}</label><br><input id="to" name="to" type="text" inputmode="numeric" size="8"></p>
<p><button type="submit" name="action" value="redirect" class="secondary" data-needs-ticket{disabled}>{redirect}</button></p></div>
</form>
</section>
</main>"#,
        bar = header_bar(s, l, title),
        lpu = s.who.lpu,
        room = esc(&room),
        labels = esc(&Value::Object(labels).to_string()),
        offline = esc(
            l.t("Нет связи с сервером очереди, повторите.", "No connection to the queue service, try again.")
        ),
        error = notice(error),
        cab = l.t("Кабинет", "Cabinet"),
        now = l.t("на приёме", "now seeing"),
        current = current.map_or_else(|| "—".to_owned(), |c| esc(&c.ticket_number)),
        queue_h = l.t("Очередь к дежурному врачу", "Duty doctor queue"),
        waiting = view.waiting,
        people = l.t("чел.", "waiting"),
        next_h = l.t("Следующие талоны", "Next tickets"),
        next = next_items(l, &view.next),
        actions = l.t("Действия", "Actions"),
        csrf = esc(&s.session.csrf),
        ticket = current.map_or_else(String::new, |c| esc(&c.ticket_id)),
        call = l.t("Вызвать следующего", "Call next"),
        recall = l.t("Повторить вызов", "Call again"),
        done = l.t("Принят", "Seen"),
        noshow = l.t("Не явился", "No-show"),
        to = l.t("Перенаправить в кабинет", "Send to cabinet"),
        redirect = l.t("Перенаправить", "Redirect"),
    );
    page(l, title, &body)
}

fn unavailable(e: &ApiError) -> Response {
    log::error!("console: {e}");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "Сервис очереди недоступен, повторите через минуту / Queue service unavailable",
    )
        .into_response()
}

/// What staff are told when an action through the API is refused.
fn refusal(l: Lang, e: ApiError) -> String {
    match e {
        ApiError::Forbidden(_) => l.t("Нет прав на это действие.", "Not permitted.").to_owned(),
        ApiError::Domain { message, .. } => message,
        ApiError::InvalidParams(m) => m,
        _ => l.t("Не получилось, повторите через минуту.", "That failed; try again in a minute.").to_owned(),
    }
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
    #[serde(default)]
    to: String,
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/json"))
}

async fn doctor_action(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: axum::Form<ActionForm>,
) -> Response {
    let l = lang(&headers);
    let s = match changer(&state, &headers, &form.csrf, &[Role::Doctor]) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let room = form.room.trim().to_owned();
    if !may_open(&s.who, &room) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let now = (state.clock)();
    let ticket = json!({"ticketId": form.ticket});
    let outcome = match form.action.as_str() {
        "call" => {
            let p = json!({"lpuId": s.who.lpu, "room": room, "doctorId": s.who.doctor_id});
            crate::app::call(&state, Method::CallNext, &s.who, p).await.map(drop)
        }
        "recall" => crate::app::call(&state, Method::RecallTicket, &s.who, ticket).await.map(drop),
        "done" => crate::app::call(&state, Method::CompleteTicket, &s.who, ticket).await.map(drop),
        "noshow" => crate::app::call(&state, Method::MarkNoShow, &s.who, ticket).await.map(drop),
        "redirect" => {
            async {
                let lpus = state.clinic(&s.who).await?;
                let p = protocol::TicketParams { ticket_id: form.ticket.clone() };
                let (_, events) =
                    queue::redirect(&state.store, &p, &form.to, &lpus, &s.who.rooms, now).await?;
                state.publish(events).await;
                log::info!("console: {} redirected a ticket to cabinet {}", s.who.key, form.to.trim());
                Ok(())
            }
            .await
        }
        _ => return StatusCode::BAD_REQUEST.into_response(),
    };
    let error = outcome.err().map(|e| refusal(l, e));
    if wants_json(&headers) {
        return match queue::cabinet(&state.store, s.who.lpu, &room, now, NEXT_SHOWN).await {
            Ok(view) => axum::Json(json!({"view": view, "error": error})).into_response(),
            Err(e) => unavailable(&e),
        };
    }
    match error {
        None => Redirect::to(&format!("/console/?room={}", urlencode(&room))).into_response(),
        Some(e) => doctor_page(&state, &s, l, Some(&e)).await,
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
    if s.who.role != Role::Doctor {
        return StatusCode::FORBIDDEN.into_response();
    }
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

/// What the desk page says above its forms.
enum DeskNotice {
    None,
    Error(String),
    Issued { ticket: protocol::Ticket, printed: Option<Result<(), String>> },
}

/// The patient the desk found (kept in the session) as the desk sees them: surname and
/// initials, the policy masked, their waiting ticket and declared category.
struct DeskPatient {
    name: String,
    masked: String,
    waiting: Option<String>,
    category: Option<Priority>,
}

async fn desk_patient(
    state: &AppState,
    lpu: u32,
    enp: &Enp,
    birth: Date,
) -> Result<Option<DeskPatient>, ApiError> {
    let today = (state.clock)().date.to_string();
    let row = match store::patient(&state.store.pool, enp, birth).await {
        Ok(r) => r,
        Err(ApiError::Domain { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let full =
        format!("{} {} {}", row.last_name, row.first_name, row.middle_name.clone().unwrap_or_default());
    let waiting = sqlx::query(
        "SELECT number FROM ticket WHERE lpu_id = $1 AND day = $2 AND enp = $3 AND status = 'waiting'",
    )
    .bind(i64::from(lpu))
    .bind(&today)
    .bind(enp.expose())
    .fetch_optional(&state.store.pool)
    .await?
    .map(|r| sqlx::Row::try_get::<String, _>(&r, 0))
    .transpose()?;
    Ok(Some(DeskPatient {
        name: drivers::printer::layout::surname_with_initials(&full),
        masked: enp.masked(),
        waiting,
        category: duty::declared(&state.store.pool, &enp.expose(), &today).await?,
    }))
}

async fn desk_page(state: &AppState, s: &Staff, l: Lang, notice: DeskNotice) -> Response {
    let title = l.t("Регистратура: очередь к дежурному врачу", "Info desk: duty doctor queue");
    let mut top = String::new();
    match &notice {
        DeskNotice::None => {}
        DeskNotice::Error(e) => top = format!(r#"<p class="error" role="alert" id="error">{}</p>"#, esc(e)),
        DeskNotice::Issued { ticket, printed } => {
            let ahead = match ticket.position {
                0 => l.t("Перед пациентом никого нет", "Nobody ahead").to_owned(),
                n => format!("{}: {n}", l.t("Перед пациентом", "Ahead of the patient")),
            };
            let room = ticket
                .room
                .as_ref()
                .map(|r| format!("<p>{} {}</p>", l.t("Кабинет", "Cabinet"), esc(r)))
                .unwrap_or_default();
            let printed = match printed {
                None => format!("<p>{}</p>", l.t("Назовите номер пациенту.", "Tell the patient the number.")),
                Some(Ok(())) => {
                    format!(
                        "<p>{}</p>",
                        l.t("Талон напечатан на принтере стойки.", "Printed on the desk printer.")
                    )
                }
                Some(Err(e)) => format!(
                    r#"<p class="error">{}: {}. {}</p>"#,
                    l.t("Талон не напечатан", "Not printed"),
                    esc(e),
                    l.t(
                        "Назовите номер пациенту или запишите его.",
                        "Tell the patient the number or write it down."
                    ),
                ),
            };
            top = format!(
                r#"<section class="ok" role="status" aria-labelledby="issued-h"><h2 id="issued-h">{}</h2>
<p class="big" id="issued">{}</p><p id="ahead">{ahead}</p>{room}{printed}</section>"#,
                l.t("Талон выдан", "Ticket issued"),
                esc(&ticket.ticket_number),
            );
        }
    }
    let mut card = String::new();
    if let Some(found) = &s.session.desk {
        match desk_patient(state, s.who.lpu, &found.enp, found.birth).await {
            Ok(Some(p)) => {
                let mut options = format!(r#"<option value="">{}</option>"#, l.t("без категории", "none"));
                for c in Priority::ALL {
                    let sel = if p.category == Some(c) { " selected" } else { "" };
                    let _ = write!(
                        options,
                        r#"<option value="{}"{sel}>{} ({} {})</option>"#,
                        c.name(),
                        c.label(l.en),
                        l.t("вперёд на", "ahead by"),
                        format_args!("{} {}", c.head_start(), l.t("мин", "min")),
                    );
                }
                let waiting = p
                    .waiting
                    .map(|n| {
                        format!(
                            r#"<p class="error">{} {}</p>"#,
                            l.t("У пациента уже есть талон", "The patient already has ticket"),
                            esc(&n)
                        )
                    })
                    .unwrap_or_default();
                let (print_attr, print_hint) = match &s.who.printer {
                    Some(_) => (" checked", ""),
                    None => {
                        (" disabled", l.t(" (принтер стойки не настроен)", " (no desk printer configured)"))
                    }
                };
                let request = &found.nonce;
                card = format!(
                    r#"<section aria-labelledby="patient-h"><h2 id="patient-h">{patient_h}</h2>
<p id="patient" class="big" style="font-size:36px">{name}</p><p>{policy} {masked}, {born} {birth}</p>{waiting}
<form method="post" action="/console/desk/issue">
<input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="request" value="{request}">
<p><label for="category">{category_l}</label><br><select id="category" name="category">{options}</select></p>
<p><input type="checkbox" id="print" name="print" value="1"{print_attr} style="width:32px;height:32px">
<label for="print">{print_l}{print_hint}</label></p>
<p><button type="submit" id="issue">{issue}</button></p>
</form></section>"#,
                    patient_h = l.t("Пациент", "Patient"),
                    name = esc(&p.name),
                    policy = l.t("полис", "policy"),
                    masked = esc(&p.masked),
                    born = l.t("дата рождения", "born"),
                    birth = found.birth.to_ru_string(),
                    csrf = esc(&s.session.csrf),
                    category_l =
                        l.t("Категория приоритета (по документу)", "Priority category (by document)"),
                    print_l = l.t("Напечатать талон", "Print the ticket"),
                    issue = l.t("Выдать талон к дежурному врачу", "Issue a duty doctor ticket"),
                );
            }
            Ok(None) => {}
            Err(e) => return unavailable(&e),
        }
    }
    let waitlist = match state.clinic(&s.who).await {
        Ok(clinic) => match crate::waitlist::for_desk(&state.store, &clinic, (state.clock)()).await {
            Ok(rows) => waitlist_section(l, &rows),
            Err(e) => return unavailable(&e),
        },
        Err(e) => return unavailable(&e),
    };
    let body = format!(
        r#"{bar}
<main id="desk">
{top}
{card}
{waitlist}
<section aria-labelledby="find-h"><h2 id="find-h">{find_h}</h2>
<form method="post" action="/console/desk/find" class="row">
<input type="hidden" name="csrf" value="{csrf}">
<p><label for="policy">{policy_l}</label><br><input id="policy" name="policy" inputmode="numeric" autocomplete="off" required size="20" autofocus></p>
<p><label for="birth">{birth_l}</label><br><input id="birth" name="birth" autocomplete="off" required size="12" placeholder="{birth_ph}"></p>
<p><button type="submit" id="find">{find}</button></p>
</form></section>
</main>"#,
        bar = header_bar(s, l, title),
        find_h = l.t("Найти пациента", "Find a patient"),
        csrf = esc(&s.session.csrf),
        policy_l = l.t("Полис ОМС (16 цифр)", "OMS policy (16 digits)"),
        birth_l = l.t("Дата рождения", "Date of birth"),
        birth_ph = l.t("дд.мм.гггг", "dd.mm.yyyy"),
        find = l.t("Найти", "Find"),
    );
    page(l, title, &body)
}

/// The clinic's waiting list as the desk sees it: who waits for which speciality, in line
/// order, and the time held for whoever has an offer.
fn waitlist_section(l: Lang, rows: &[[String; 5]]) -> String {
    let mut out = format!(
        r#"<section aria-labelledby="waitlist-h"><h2 id="waitlist-h">{}</h2>"#,
        l.t("Лист ожидания", "Waiting list")
    );
    if rows.is_empty() {
        let _ = write!(out, r#"<p id="waitlist-empty">{}</p>"#, l.t("Никого нет.", "Nobody waits."));
    } else {
        let _ = write!(
            out,
            r#"<table id="waitlist"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"#,
            l.t("Специальность", "Speciality"),
            l.t("Пациент", "Patient"),
            l.t("Когда удобно", "Suits"),
            l.t("Состояние", "Status"),
        );
        for [speciality, patient, part, status, offered] in rows {
            let part = match part.as_str() {
                "morning" => l.t("утром", "mornings"),
                "afternoon" => l.t("после обеда", "afternoons"),
                _ => l.t("в любое время", "any time"),
            };
            let status = match status.as_str() {
                "offered" => format!("{} {}", l.t("предложено", "offered"), offered),
                _ => l.t("ждёт", "waiting").to_owned(),
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(speciality),
                esc(patient),
                part,
                esc(&status)
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
    out
}

#[derive(Debug, Deserialize)]
struct FindForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    policy: String,
    #[serde(default)]
    birth: String,
}

async fn desk_find(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: axum::Form<FindForm>,
) -> Response {
    let l = lang(&headers);
    let mut s = match changer(&state, &headers, &form.csrf, &[Role::Infodesk]) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let digits: String = form.policy.chars().filter(|c| !c.is_whitespace()).collect();
    let birth = form.birth.trim();
    // `дд.мм.гггг` as documents write it (or typed without the dots), or a date picker's ISO.
    let dmy: String = birth.chars().filter(|c| !matches!(c, '.' | '/' | ' ')).collect();
    let (Ok(enp), Ok(birth)) =
        (Enp::parse(&digits), Date::parse_ddmmyyyy(&dmy).or_else(|_| Date::parse_iso(birth)))
    else {
        let e = l.t(
            "Проверьте номер полиса (16 цифр) и дату рождения (дд.мм.гггг).",
            "Check the policy number (16 digits) and the date of birth (dd.mm.yyyy).",
        );
        return desk_page(&state, &s, l, DeskNotice::Error(e.to_owned())).await;
    };
    // Through the API's gate: the desk's lookups are rate limited like a kiosk's.
    let params = json!({"omsNumber": enp.expose(), "birthDate": birth.to_string()});
    match crate::app::call(&state, Method::GetPatientInfo3, &s.who, params).await {
        Ok(_) => {
            let found =
                Some(DeskFound { enp, birth, at: Instant::now(), nonce: generate().unwrap_or_default() });
            s.session.desk = found.clone();
            s.store(&state, |stored| stored.desk = found);
            desk_page(&state, &s, l, DeskNotice::None).await
        }
        Err(ApiError::Domain { code: protocol::code::PATIENT_NOT_FOUND, .. }) => {
            let e = l.t(
                "Пациент с таким полисом и датой рождения не найден.",
                "No patient with this policy and date of birth.",
            );
            desk_page(&state, &s, l, DeskNotice::Error(e.to_owned())).await
        }
        Err(e) => desk_page(&state, &s, l, DeskNotice::Error(refusal(l, e))).await,
    }
}

#[derive(Debug, Deserialize)]
struct IssueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    print: String,
    #[serde(default)]
    request: String,
}

async fn desk_issue(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: axum::Form<IssueForm>,
) -> Response {
    let l = lang(&headers);
    let mut s = match changer(&state, &headers, &form.csrf, &[Role::Infodesk]) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let Some(DeskFound { enp, birth, nonce, .. }) = s.session.desk.clone() else {
        let e = l.t("Сначала найдите пациента.", "Find the patient first.");
        return desk_page(&state, &s, l, DeskNotice::Error(e.to_owned())).await;
    };
    if !crate::auth::constant_time_eq(&hash(&form.request), &hash(&nonce)) {
        let e = l.t(
            "Эта страница показывала другого пациента: найдите пациента снова.",
            "This page showed another patient: find the patient again.",
        );
        return desk_page(&state, &s, l, DeskNotice::Error(e.to_owned())).await;
    }
    let category = match form.category.as_str() {
        "" => None,
        c => match Priority::parse(c) {
            Some(c) => Some(c),
            None => return StatusCode::BAD_REQUEST.into_response(),
        },
    };
    let now = (state.clock)();
    match duty::declare(&state.store, s.who.lpu, &enp.expose(), category, now, &s.who.key).await {
        Ok(events) => state.publish(events).await,
        Err(e) => return unavailable(&e),
    }
    if let Some(c) = category {
        log::info!("console: {} recorded priority {} for patient {}", s.who.key, c.name(), enp.masked());
    }
    let request = nonce;
    let params = json!({"omsNumber": enp.expose(), "birthDate": birth.to_string(), "lpuId": s.who.lpu,
        "kioskId": 0, "requestId": format!("desk-{request}")});
    let ticket = match crate::app::call(&state, Method::EnqueueWalkIn, &s.who, params).await {
        Ok(v) => match serde_json::from_value::<protocol::Ticket>(v) {
            Ok(t) => t,
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
        Err(e) => return desk_page(&state, &s, l, DeskNotice::Error(refusal(l, e))).await,
    };
    s.session.desk = None;
    s.store(&state, |stored| stored.desk = None);
    let printed = match (&s.who.printer, form.print == "1") {
        (Some(url), true) => Some(print_at_desk(&state, s.who.lpu, url, &ticket).await),
        _ => None,
    };
    desk_page(&state, &s, l, DeskNotice::Issued { ticket, printed }).await
}

/// Prints `ticket` on the desk's printer at `url` with the kiosk's driver and layout.
async fn print_at_desk(
    state: &AppState,
    lpu: u32,
    url: &str,
    ticket: &protocol::Ticket,
) -> Result<(), String> {
    use drivers::printer::layout::{self, LayoutConfig, Paper, TextMode, TicketDoc, WalkInTicket};
    let clinic = store::lpu(&state.store.pool, i64::from(lpu))
        .await
        .ok()
        .flatten()
        .map_or_else(String::new, |c| c.short_name);
    let doc = TicketDoc::WalkIn(WalkInTicket {
        clinic,
        number: ticket.ticket_number.clone(),
        issued: format!("{} {}", ticket.issued_at.date.to_ru_string(), ticket.issued_at.hhmm()),
        ahead: ticket.position,
        estimate_minutes: ticket.estimated_wait_minutes,
        estimate_range: ticket.estimated_wait_range.map(|[l, h]| (l, h)),
        room: ticket.room.clone(),
        ticket_id: ticket.ticket_id.clone(),
        offline: false,
    });
    let cfg = LayoutConfig {
        paper: Paper::Mm80,
        text: TextMode::CodePage { page: drivers::printer::codepage::CodePage::Pc866, number: 17 },
    };
    let spec = drivers::link::LinkSpec::parse(url).map_err(|e| e.to_string())?;
    let bytes = layout::encode(&doc, cfg).map_err(|e| e.to_string())?;
    let job = tokio::task::spawn_blocking(move || {
        let mut driver = drivers::printer::driver::PrinterDriver::new(
            spec.opener(),
            drivers::printer::driver::DriverConfig::default(),
        );
        driver.print(&bytes).map(drop).map_err(|e| e.to_string())
    });
    match tokio::time::timeout(PRINT_WITHIN, job).await {
        Ok(Ok(r)) => {
            if let Err(e) = &r {
                log::warn!("console: the desk printer {url}: {e}");
            }
            r
        }
        Ok(Err(_)) => Err("printer task failed".into()),
        Err(_) => Err("the printer did not answer".into()),
    }
}

/// Today's report for `lpu`, made fresh unless it is costly and was made moments ago (one
/// request makes it while the others wait for it).
async fn day_report(state: &AppState, lpu: u32) -> Result<Arc<duty::DayReport>, ApiError> {
    let mut cache = state.console.reports.lock().await;
    if let Some((at, cost, r)) = cache.get(&lpu)
        && *cost >= REPORT_COSTLY
        && at.elapsed() < REPORT_KEPT
    {
        return Ok(r.clone());
    }
    let started = Instant::now();
    let r = Arc::new(duty::day_report(&state.store, lpu, (state.clock)()).await?);
    cache.insert(lpu, (Instant::now(), started.elapsed(), r.clone()));
    Ok(r)
}

fn minutes(l: Lang, v: Option<u32>) -> String {
    v.map_or_else(|| "—".to_owned(), |m| format!("{m} {}", l.t("мин", "min")))
}

/// Waiting patients over the day as an SVG bar chart (no script, no library).
fn chart(l: Lang, curve: &[(u32, u32)]) -> String {
    if curve.is_empty() {
        return format!(
            "<p class=\"muted\">{}</p>",
            l.t("Сегодня талонов ещё не было.", "No tickets yet today.")
        );
    }
    let (w, h, pad) = (960.0_f64, 220.0_f64, 32.0_f64);
    let max = curve.iter().map(|c| c.1).max().unwrap_or(0).max(1);
    let bar = (w - pad) / curve.len() as f64;
    let mut svg = format!(
        r#"<svg id="chart" role="img" aria-label="{}" viewBox="0 0 {w} {}" width="100%" style="max-width:{w}px">"#,
        esc(&format!(
            "{}: {} {max}",
            l.t("Ожидающие пациенты за день", "Waiting patients over the day"),
            l.t("максимум", "peak")
        )),
        h + 24.0,
    );
    let _ = write!(svg, r##"<text x="0" y="14" font-size="14" fill="#444">{max}</text>"##);
    for (i, (minute, n)) in curve.iter().enumerate() {
        let bh = (h - 20.0) * f64::from(*n) / f64::from(max);
        let x = pad + i as f64 * bar;
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="#0b3d66"><title>{:02}:{:02} — {n}</title></rect>"##,
            h - bh,
            (bar - 2.0).max(1.0),
            minute / 60,
            minute % 60,
        );
        if minute % 60 == 0 {
            let _ = write!(
                svg,
                r##"<text x="{x:.1}" y="{:.1}" font-size="14" fill="#444">{:02}:00</text>"##,
                h + 18.0,
                minute / 60
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The clinic's doctors as `<option>`s (surname and initials, speciality), "—" first. Rooms
/// for tests and procedures are resources too, but nobody staffs a duty cabinet with one.
async fn doctor_options(state: &AppState, lpu: u32) -> String {
    let rows = sqlx::query(
        "SELECT d.id, d.last_name, d.first_name, d.middle_name, s.name FROM doctor d
         LEFT JOIN speciality s ON s.code = d.speciality_code WHERE d.lpu_id = $1 AND s.ldp_kind IS NULL
         ORDER BY d.last_name, d.id",
    )
    .bind(i64::from(lpu))
    .fetch_all(&state.store.pool)
    .await
    .unwrap_or_default();
    let mut out = String::from(r#"<option value="">—</option>"#);
    for r in &rows {
        let get = |i| sqlx::Row::try_get::<Option<String>, _>(r, i).ok().flatten().unwrap_or_default();
        let Ok(id) = sqlx::Row::try_get::<i64, _>(r, 0) else { continue };
        let middle = get(3);
        let name = domain::FullName::new(&get(1), &get(2), Some(middle.as_str()).filter(|m| !m.is_empty()))
            .surname_and_initials();
        let _ = write!(out, r#"<option value="{id}">{}, {}</option>"#, esc(&name), esc(&get(4)));
    }
    out
}

/// The head's page; `done` says what their last action did.
async fn head_page(
    state: &AppState,
    s: &Staff,
    l: Lang,
    error: Option<&str>,
    done: Option<&str>,
) -> Response {
    let title = l.t("Заведующий: дежурные кабинеты", "Head of department: duty cabinets");
    let report = match day_report(state, s.who.lpu).await {
        Ok(r) => r,
        Err(e) => return unavailable(&e),
    };
    let doctors = doctor_options(state, s.who.lpu).await;
    let mut rows = String::new();
    for r in &report.rooms {
        let (state_text, action, button) = match r.open {
            Some(true) => (l.t("открыт", "open"), "close", l.t("Закрыть", "Close")),
            Some(false) => (l.t("закрыт", "closed"), "open", l.t("Открыть снова", "Reopen")),
            None => (l.t("вне графика", "not on duty"), "open", l.t("Открыть", "Open")),
        };
        let _ = write!(
            rows,
            r#"<tr data-room="{room}"><th scope="row">{room}{doctor}</th><td>{state_text}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>
<td><form method="post" action="/console/head/room"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="room" value="{room}">
<button class="small secondary" type="submit" name="action" value="{action}" aria-label="{button} {room}">{button}</button></form></td></tr>"#,
            r.waiting,
            r.served,
            r.no_shows,
            minutes(l, r.average_wait),
            minutes(l, r.p90_wait),
            minutes(l, r.average_visit),
            minutes(l, r.idle),
            room = esc(&r.room),
            doctor =
                r.doctor.as_deref().map(|d| format!("<br><small>{}</small>", esc(d))).unwrap_or_default(),
            csrf = esc(&s.session.csrf),
        );
    }
    let body = format!(
        r#"{bar}
<main id="head">
{error}
<section aria-labelledby="rooms-h"><h2 id="rooms-h">{rooms_h}</h2>
<p>{unassigned_l}: <strong id="unassigned">{unassigned}</strong></p>
<div class="scroll"><table id="rooms"><thead><tr><th scope="col">{c_room}</th><th scope="col">{c_state}</th><th scope="col">{c_wait}</th><th scope="col">{c_served}</th><th scope="col">{c_noshow}</th><th scope="col">{c_avg}</th><th scope="col">{c_p90}</th><th scope="col">{c_visit}</th><th scope="col">{c_idle}</th><th scope="col"></th></tr></thead>
<tbody>{rows}</tbody></table></div>
<form method="post" action="/console/head/room" class="row">
<input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="action" value="open">
<p><label for="open-room">{open_room}</label><br><input id="open-room" name="room" inputmode="numeric" required size="8"></p>
<p><label for="open-doctor">{open_doctor}</label><br><select id="open-doctor" name="doctor">{doctors}</select></p>
<p><button type="submit" id="open">{open}</button></p>
</form>
<p><a href="/console/head/report.csv" id="csv">{csv}</a></p>
</section>
<section aria-labelledby="extra-h"><h2 id="extra-h">{extra_h}</h2>
{done}<p>{extra_p}</p>
<form method="post" action="/console/head/session" class="row">
<input type="hidden" name="csrf" value="{csrf}">
<p><label for="extra-doctor">{extra_doctor}</label><br><select id="extra-doctor" name="doctor" required>{doctors}</select></p>
<p><label for="extra-day">{extra_day}</label><br><input id="extra-day" name="day" type="date" required value="{today}" min="{today}"></p>
<p><label for="extra-from">{extra_from}</label><br><input id="extra-from" name="from" type="time" required value="16:00"></p>
<p><label for="extra-to">{extra_to}</label><br><input id="extra-to" name="to" type="time" required value="18:00"></p>
<p><label for="extra-minutes">{extra_minutes}</label><br><input id="extra-minutes" name="minutes" type="number" min="5" max="120" required value="20" size="4"></p>
<p><button type="submit" id="extra">{extra}</button></p>
</form>
</section>
<section aria-labelledby="chart-h"><h2 id="chart-h">{chart_h}</h2>{chart}</section>
</main>"#,
        bar = header_bar(s, l, title),
        error = notice(error),
        done = done.map(|d| format!(r#"<p class="ok" role="status" id="done">{}</p>"#, esc(d))).unwrap_or_default(),
        extra_h = l.t("Дополнительный приём", "Extra appointment time"),
        extra_p = l.t(
            "Новое время сначала предлагается пациентам из листа ожидания, по очереди; остальное сразу доступно для записи.",
            "New time is offered first to the waiting list, in line order; the rest is open to booking at once."
        ),
        extra_doctor = l.t("Врач", "Doctor"),
        extra_day = l.t("Дата", "Date"),
        extra_from = l.t("С", "From"),
        extra_to = l.t("До", "To"),
        extra_minutes = l.t("Минут на приём", "Minutes per slot"),
        extra = l.t("Открыть запись", "Open for booking"),
        today = (state.clock)().date,
        rooms_h = l.t("Кабинеты сегодня", "Cabinets today"),
        unassigned_l = l.t("Ждут без назначенного кабинета", "Waiting with no cabinet assigned"),
        unassigned = report.unassigned,
        c_room = l.t("Кабинет", "Cabinet"),
        c_state = l.t("Состояние", "State"),
        c_wait = l.t("Ждут", "Waiting"),
        c_served = l.t("Принято", "Served"),
        c_noshow = l.t("Не явились", "No-shows"),
        c_avg = l.t("Ожидание, ср.", "Wait, avg"),
        c_p90 = l.t("Ожидание, p90", "Wait, p90"),
        c_visit = l.t("Приём, ср.", "Visit, avg"),
        c_idle = l.t("Простой", "Idle"),
        csrf = esc(&s.session.csrf),
        open_room = l.t("Открыть кабинет", "Open a cabinet"),
        open_doctor = l.t("Врач (необязательно)", "Doctor (optional)"),
        doctors = doctors,
        open = l.t("Открыть и принимать талоны", "Open and take tickets"),
        csv = l.t("Отчёт за день (CSV)", "Day report (CSV)"),
        chart_h = l.t("Ожидающие пациенты за день", "Waiting patients over the day"),
        chart = chart(l, &report.waiting_over_day),
    );
    page(l, title, &body)
}

#[derive(Debug, Deserialize)]
struct RoomForm {
    #[serde(default)]
    csrf: String,
    action: String,
    #[serde(default)]
    room: String,
    #[serde(default)]
    doctor: String,
}

async fn head_room(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: axum::Form<RoomForm>,
) -> Response {
    let l = lang(&headers);
    let s = match changer(&state, &headers, &form.csrf, &[Role::Head]) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let now = (state.clock)();
    let room = form.room.trim();
    let outcome = match form.action.as_str() {
        "open" => {
            let doctor = form.doctor.trim().parse::<i64>().ok();
            duty::open(&state.store, s.who.lpu, room, doctor, now).await.map(|()| 0)
        }
        "close" => match duty::close(&state.store, s.who.lpu, room, now).await {
            Ok((moved, events)) => {
                state.publish(events).await;
                Ok(moved)
            }
            Err(e) => Err(e),
        },
        _ => return StatusCode::BAD_REQUEST.into_response(),
    };
    // The next page shows the change, however costly the report.
    state.console.reports.lock().await.remove(&s.who.lpu);
    match outcome {
        Ok(moved) => {
            log::info!("console: {} {}: cabinet {room} ({moved} tickets moved)", s.who.key, form.action);
            Redirect::to("/console/").into_response()
        }
        Err(e) => head_page(&state, &s, l, Some(&refusal(l, e)), None).await,
    }
}

#[derive(Debug, Deserialize)]
struct SessionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    doctor: String,
    #[serde(default)]
    day: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    minutes: String,
}

/// `HH:MM` (seconds, if a browser sends them, ignored) as minutes after midnight, 00:00-23:59.
fn minute_of_day(s: &str) -> Option<u32> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m) = (h.parse::<u32>().ok()?, m.get(..2)?.parse::<u32>().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

async fn head_session(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    form: axum::Form<SessionForm>,
) -> Response {
    use crate::schedule::{ScheduleError, Session, open_session};
    let l = lang(&headers);
    let s = match changer(&state, &headers, &form.csrf, &[Role::Head]) {
        Ok(s) => s,
        Err(r) => return r.into_response(),
    };
    let session = (|| {
        Some(Session {
            doctor_id: form.doctor.trim().parse().ok()?,
            day: Date::parse_iso(form.day.trim()).ok()?,
            from: minute_of_day(&form.from)?,
            to: minute_of_day(&form.to)?,
            minutes: form.minutes.trim().parse().ok()?,
        })
    })();
    let Some(session) = session else {
        let e = l.t(
            "Укажите врача, дату, время и минуты на приём.",
            "Give the doctor, date, times and minutes per slot.",
        );
        return head_page(&state, &s, l, Some(e), None).await;
    };
    let now = (state.clock)();
    match open_session(&state.store, s.who.lpu, session, now).await {
        Ok(o) => {
            log::info!(
                "console: {} opened {} slots for doctor {} on {} ({} offered to the waiting list, {} overlapping left out)",
                s.who.key,
                o.slots,
                session.doctor_id,
                session.day,
                o.offered,
                o.overlapping
            );
            let mut done = format!(
                "{} {} ({}). {} {}.",
                l.t("Открыто приёмов:", "Slots opened:"),
                o.slots,
                session.day.to_ru_string(),
                l.t("Предложено из листа ожидания:", "Offered to the waiting list:"),
                o.offered
            );
            if o.overlapping > 0 {
                let _ = write!(
                    done,
                    " {} {}.",
                    l.t(
                        "Пропущено (у врача уже есть приём в это время):",
                        "Left out (the doctor already has slots then):"
                    ),
                    o.overlapping
                );
            }
            head_page(&state, &s, l, None, Some(&done)).await
        }
        Err(e) => {
            let why = match e {
                ScheduleError::SlotLength => {
                    l.t("Минут на приём: от 5 до 120.", "Minutes per slot: 5 to 120.")
                }
                ScheduleError::Times => l.t(
                    "Начало должно быть раньше конца, хотя бы на один приём.",
                    "The start must come before the end by at least one slot.",
                ),
                ScheduleError::Day => {
                    l.t("Дата: от сегодня до 90 дней вперёд.", "Date: today to 90 days ahead.")
                }
                ScheduleError::UnknownDoctor(_) => {
                    l.t("Такого врача нет в этой поликлинике.", "No such doctor in this clinic.")
                }
                ScheduleError::Overlaps => {
                    l.t("В это время у врача уже есть приём.", "The doctor already has slots at that time.")
                }
                ScheduleError::Passed => l.t("Это время уже прошло.", "That time has already passed."),
                ScheduleError::Api(e) => {
                    log::warn!("console: {} could not open extra time: {e}", s.who.key);
                    return head_page(&state, &s, l, Some(&refusal(l, e)), None).await;
                }
            };
            head_page(&state, &s, l, Some(why), None).await
        }
    }
}

async fn head_csv(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let l = lang(&headers);
    let Some(s) = staff(&state, &headers) else { return Redirect::to("/console/login").into_response() };
    if s.who.role != Role::Head {
        return StatusCode::FORBIDDEN.into_response();
    }
    let now = (state.clock)();
    match day_report(&state, s.who.lpu).await {
        Ok(report) => {
            // A byte-order mark: spreadsheets then read the Cyrillic as UTF-8.
            let body = format!("\u{feff}{}", duty::csv(&report, l.en));
            let disposition = format!("attachment; filename=\"duty-{}.csv\"", now.date);
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::CACHE_CONTROL, "no-store".to_owned()),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => unavailable(&e),
    }
}

async fn fleet_page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let l = lang(&headers);
    let Some(s) = staff(&state, &headers) else { return Redirect::to("/console/login").into_response() };
    fleet_view(&state, &s, l).await
}

async fn fleet_view(state: &AppState, s: &Staff, l: Lang) -> Response {
    if !matches!(s.who.role, Role::Head | Role::Admin) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let title = l.t("Оборудование клиники", "The clinic's kiosks and boards");
    let machines = match fleet::machines(&state.store, s.who.lpu, (state.clock)()).await {
        Ok(m) => m,
        Err(e) => return unavailable(&e),
    };
    let mut rows = String::new();
    for m in &machines {
        let seen = match m.silent_for {
            0 => l.t("сейчас", "now").to_owned(),
            n => format!("{n} {}", l.t("мин назад", "min ago")),
        };
        let role = match m.role {
            Role::Kiosk => l.t("инфомат", "kiosk"),
            Role::Board => l.t("табло", "board"),
            _ => "",
        };
        let help = if m.status.help_requested {
            l.t("зовут сотрудника", "patient needs help")
        } else {
            ""
        };
        let _ = write!(
            rows,
            r#"<tr{}><th scope="row">{}</th><td>{role} {}</td><td>{seen}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{help}</td></tr>"#,
            if m.needs_attention() { r#" class="attention""# } else { "" },
            if m.name.is_empty() { "—".to_owned() } else { esc(&m.name) },
            m.device,
            esc(&m.status.printer),
            esc(&m.status.scanner),
            esc(&m.status.card_reader),
            m.status.journal_backlog,
            m.status.journal_rejected,
            esc(&m.status.version),
        );
    }
    if machines.is_empty() {
        rows = format!(
            r#"<tr><td colspan="10">{}</td></tr>"#,
            l.t("Ни один инфомат ещё не сообщал о себе.", "No kiosk has reported yet.")
        );
    }
    let body = format!(
        r#"{bar}
<main id="fleet">
<section aria-labelledby="fleet-h"><h2 id="fleet-h">{title}</h2>
<p class="muted">{hint}</p>
<div class="scroll"><table id="machines"><thead><tr><th scope="col">{c_name}</th><th scope="col">{c_kind}</th><th scope="col">{c_seen}</th><th scope="col">{c_printer}</th><th scope="col">{c_scanner}</th><th scope="col">{c_reader}</th><th scope="col">{c_backlog}</th><th scope="col">{c_rejected}</th><th scope="col">{c_version}</th><th scope="col">{c_help}</th></tr></thead>
<tbody>{rows}</tbody></table></div></section>
</main>"#,
        bar = header_bar(s, l, title),
        hint = l.t(
            "Инфоматы и табло сообщают о себе каждые 30 секунд; красным — то, что требует внимания.",
            "Kiosks and boards report every 30 seconds; red rows need attention.",
        ),
        c_name = l.t("Название", "Name"),
        c_kind = l.t("Тип, №", "Kind, no."),
        c_seen = l.t("На связи", "Last seen"),
        c_printer = l.t("Принтер", "Printer"),
        c_scanner = l.t("Сканер", "Scanner"),
        c_reader = l.t("Картридер", "Card reader"),
        c_backlog = l.t("Талоны офлайн", "Offline tickets"),
        c_rejected = l.t("Отклонены", "Rejected"),
        c_version = l.t("Версия", "Version"),
        c_help = l.t("Помощь", "Help"),
    );
    page(l, title, &body)
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
  const labels = JSON.parse(root.dataset.labels || "{}");
  const $ = (id) => document.getElementById(id);
  function render(data) {
    const v = data.view;
    $("current").textContent = v.current ? v.current.ticketNumber : "—";
    $("ticket").value = v.current ? v.current.ticketId : "";
    $("waiting").textContent = String(v.waiting);
    const next = $("next");
    next.replaceChildren(...v.next.map((n) => {
      const li = document.createElement("li");
      li.textContent = n.number;
      if (n.category) {
        li.className = "prio";
        const small = document.createElement("small");
        small.textContent = " " + (labels[n.category] || n.category);
        li.append(small);
      }
      return li;
    }));
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
      waiting: Number($("waiting").textContent), next: [...$("next").children].map((li) => ({ number: li.firstChild.textContent.trim(),
        category: Object.keys(labels).find((k) => li.lastChild.textContent.trim() === labels[k]) || null })) },
      error: root.dataset.offline });
  }));
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey || e.target.closest("input, select, textarea")) return;
    const b = document.querySelector('button[data-key="' + e.key.toLowerCase() + '"]');
    if (b && !b.disabled) { e.preventDefault(); b.click(); }
  });
})();
"#;
