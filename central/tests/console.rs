//! The staff console (`central::console`) through central's real router: login by role, the
//! cookie's flags, CSRF and origin checks, and a doctor's day (call, repeat the call, no-show,
//! done) reaching the queue feed the boards read.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use central::app::app;
use common::*;
use protocol::FeedEvent;

struct Answer {
    status: u16,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn location(&self) -> &str {
        self.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

async fn send(t: &TestApp, req: Request<Body>) -> Answer {
    let resp = app(t.state.clone()).oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    Answer { status, headers, body }
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(
                    |b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") },
                )
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn post(path: &str, cookie: Option<&str>) -> axum::http::request::Builder {
    let mut b = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "central.test");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, format!("{}={c}", central::console::COOKIE));
    }
    b
}

async fn login(t: &TestApp, token: &str, room: &str) -> Answer {
    let body = form(&[("token", token), ("room", room)]);
    send(t, post("/console/login", None).body(Body::from(body)).unwrap()).await
}

/// The session id from a login's `Set-Cookie`, after checking the cookie's flags.
fn session_of(a: &Answer) -> String {
    let c = a.headers.get(header::SET_COOKIE).expect("a session cookie").to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(c.contains(flag), "{flag} missing: {c}");
    }
    let v = c.split(';').next().unwrap();
    v.split_once('=').unwrap().1.to_owned()
}

async fn get(t: &TestApp, path: &str, cookie: &str) -> Answer {
    let req = Request::get(path)
        .header(header::HOST, "central.test")
        .header(header::COOKIE, format!("{}={cookie}", central::console::COOKIE))
        .body(Body::empty())
        .unwrap();
    send(t, req).await
}

fn csrf_of(page: &str) -> String {
    let at = page.find(r#"name="csrf" value=""#).expect("a CSRF field") + r#"name="csrf" value=""#.len();
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

async fn act(t: &TestApp, cookie: &str, fields: &[(&str, &str)], origin: Option<&str>) -> Answer {
    let body = form(fields);
    let mut b = post("/console/doctor", Some(cookie)).header(header::ACCEPT, "application/json");
    if let Some(o) = origin {
        b = b.header(header::ORIGIN, o);
    }
    send(t, b.body(Body::from(body)).unwrap()).await
}

async fn walk_ins(t: &TestApp, n: usize) {
    for i in 0..n {
        let v = t
            .queue(
                "enqueueWalkIn",
                with(&patient(i), json!({"lpuId": 1, "kioskId": 2, "requestId": format!("c{i}")})),
            )
            .await;
        ok(&v);
    }
}

fn fields<'a>(a: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    a.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The next `called` event in the clinic's feed after `seen` (other events skipped): read from
/// the stored events a board's `resume` reads, so that it holds on PostgreSQL too, where
/// publishing goes through NOTIFY and a listener this router-only test does not run.
async fn next_call(t: &TestApp, seen: &mut u64) -> (String, String) {
    for ev in central::queue::events_since(&t.state.store, 1, *seen).await.unwrap() {
        *seen = ev.seq();
        if let FeedEvent::Called { ticket_number, room, .. } = ev {
            return (ticket_number, room);
        }
    }
    panic!("no new `called` event after {seen}");
}

#[tokio::test]
async fn only_staff_tokens_open_the_console() {
    let t = TestApp::new().await;
    for token in [TOKEN, BOARD] {
        let a = login(&t, token, "").await;
        assert_eq!(a.status, 403, "{token}");
        assert!(a.headers.get(header::SET_COOKIE).is_none(), "no session for {token}");
        assert!(a.body.contains("Этим ключом нельзя войти"), "{}", a.body);
    }
    let a = login(&t, "no-such-token", "").await;
    assert_eq!(a.status, 401);
    assert!(a.headers.get(header::SET_COOKIE).is_none());
    // Without a session the console sends people to the login page.
    let a = get(&t, "/console/", "made-up").await;
    assert_eq!((a.status, a.location()), (303, "/console/login"));
    for token in [DOCTOR, DESK, HEAD, ADMIN] {
        let a = login(&t, token, "214").await;
        assert_eq!((a.status, a.location()), (303, "/console/"), "{token}");
        session_of(&a);
    }
}

#[tokio::test]
async fn a_doctor_calls_repeats_marks_a_no_show_and_finishes_from_the_console() {
    let t = TestApp::new().await;
    walk_ins(&t, 3).await;
    let cookie = session_of(&login(&t, DOCTOR_214, "").await);
    let page = get(&t, "/console/", &cookie).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Кабинет 214"), "the token's cabinet: {}", page.body);
    assert!(page.body.contains("<li>Д-001</li><li>Д-002</li><li>Д-003</li>"), "{}", page.body);
    assert!(page.body.contains("Вызвать следующего"));
    assert_eq!(page.headers.get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
    let csrf = csrf_of(&page.body);
    let mut seen = 0;

    // No CSRF token, a wrong one, or another site's page: refused, nobody called.
    for (fields, origin) in [
        (vec![("room", "214"), ("action", "call")], None),
        (vec![("csrf", "forged"), ("room", "214"), ("action", "call")], None),
        (vec![("csrf", csrf.as_str()), ("room", "214"), ("action", "call")], Some("https://evil.example")),
    ] {
        assert_eq!(act(&t, &cookie, &fields, origin).await.status, 403);
    }
    assert_eq!(ok(&t.queue("getQueueState", json!({"lpuId": 1})).await)["waiting"], 3);

    let call = [("csrf", csrf.as_str()), ("room", "214"), ("action", "call")];
    let v = act(&t, &cookie, &call, Some("http://central.test")).await.json();
    assert_eq!(v["view"]["current"]["ticketNumber"], "Д-001", "{v}");
    assert_eq!(v["view"]["waiting"], 2);
    assert_eq!(v["view"]["next"], json!(["Д-002", "Д-003"]));
    assert_eq!(next_call(&t, &mut seen).await, ("Д-001".to_owned(), "214".to_owned()));

    let ticket = v["view"]["current"]["ticketId"].as_str().unwrap().to_owned();
    let with_ticket = |action: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("room", "214".to_owned()),
            ("action", action.to_owned()),
            ("ticket", ticket.clone()),
        ]
    };
    // The patient did not come: call again, then mark the no-show and call the next.
    let v = act(&t, &cookie, &fields(&with_ticket("recall")), None).await.json();
    assert!(v["error"].is_null(), "{v}");
    assert_eq!(next_call(&t, &mut seen).await, ("Д-001".to_owned(), "214".to_owned()));
    let v = act(&t, &cookie, &fields(&with_ticket("noshow")), None).await.json();
    assert!(v["view"]["current"].is_null(), "{v}");
    let v = act(&t, &cookie, &call, None).await.json();
    assert_eq!(v["view"]["current"]["ticketNumber"], "Д-002");
    assert_eq!(next_call(&t, &mut seen).await, ("Д-002".to_owned(), "214".to_owned()));
    let second = v["view"]["current"]["ticketId"].as_str().unwrap().to_owned();
    let done = [("csrf", csrf.as_str()), ("room", "214"), ("action", "done"), ("ticket", second.as_str())];
    let v = act(&t, &cookie, &done, None).await.json();
    assert!(v["view"]["current"].is_null() && v["error"].is_null(), "{v}");
    // Closing it twice is a plain message, not a failure.
    let v = act(&t, &cookie, &done, None).await.json();
    assert_eq!(v["error"], "Талон не найден или уже закрыт");

    // A doctor bound to 214 cannot open another cabinet.
    assert_eq!(get(&t, "/console/?room=215", &cookie).await.status, 403);
    // Without scripts: the form posts and the page comes back (303 to the cabinet).
    let body = form(&call);
    let a = send(&t, post("/console/doctor", Some(&cookie)).body(Body::from(body)).unwrap()).await;
    assert_eq!((a.status, a.location()), (303, "/console/?room=214"));

    // Logging out ends the session.
    let body = form(&[("csrf", csrf.as_str())]);
    let a = send(&t, post("/console/logout", Some(&cookie)).body(Body::from(body)).unwrap()).await;
    assert_eq!((a.status, a.location()), (303, "/console/login"));
    assert!(a.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(get(&t, "/console/", &cookie).await.location(), "/console/login");
}

#[tokio::test]
async fn a_doctor_bound_to_a_cabinet_cannot_work_in_another() {
    let t = TestApp::new().await;
    walk_ins(&t, 1).await;
    // Asking for 215 at login gives the token's own cabinet.
    let cookie = session_of(&login(&t, DOCTOR_214, "215").await);
    let page = get(&t, "/console/", &cookie).await;
    assert!(page.body.contains("Кабинет 214"), "{}", page.body);
    let csrf = csrf_of(&page.body);
    for path in ["/console/?room=215", "/console/doctor/state?room=215"] {
        assert_eq!(get(&t, path, &cookie).await.status, 403, "{path}");
    }
    // Neither its view nor a call for 215.
    let a = act(&t, &cookie, &[("csrf", csrf.as_str()), ("room", "215"), ("action", "call")], None).await;
    assert_eq!(a.status, 403);
    assert_eq!(ok(&t.queue("getQueueState", json!({"lpuId": 1})).await)["waiting"], 1);
}

#[tokio::test]
async fn a_revoked_token_ends_its_console_sessions() {
    let t = TestApp::new().await;
    let cookie = session_of(&login(&t, DOCTOR, "214").await);
    assert_eq!(get(&t, "/console/", &cookie).await.status, 200);
    let mut rest = central::auth::Tokens::default();
    rest.add(TOKEN, central::auth::Identity::new(protocol::Role::Kiosk, 1, Some(2))).unwrap();
    t.state.set_tokens(rest);
    assert_eq!(get(&t, "/console/", &cookie).await.location(), "/console/login");
}

#[tokio::test]
async fn the_queue_feed_takes_a_console_session_only_from_the_console_origin() {
    let t = TestApp::new().await;
    let cookie = session_of(&login(&t, DOCTOR, "214").await);
    let headers = |origin: &str| {
        let mut h = axum::http::HeaderMap::new();
        h.insert(header::HOST, "central.test".parse().unwrap());
        h.insert(header::ORIGIN, origin.parse().unwrap());
        h.insert(header::COOKIE, format!("{}={cookie}", central::console::COOKIE).parse().unwrap());
        h
    };
    let who =
        central::console::feed_identity(&t.state, &headers("https://central.test")).expect("the doctor");
    assert_eq!(who.role, protocol::Role::Doctor);
    assert!(central::console::feed_identity(&t.state, &headers("https://evil.example")).is_none());
}
