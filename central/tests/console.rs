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
    assert_eq!(
        v["view"]["next"],
        json!([{"number": "Д-002", "category": null}, {"number": "Д-003", "category": null}])
    );
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

/// A plain form POST from the console's pages (the page comes back, or a redirect).
async fn submit(t: &TestApp, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Answer {
    let b = post(path, Some(cookie)).header(header::ORIGIN, "https://central.test");
    send(t, b.body(Body::from(form(fields))).unwrap()).await
}

/// The desk's issue form names the patient it shows.
fn request_of(page: &str) -> String {
    let at =
        page.find(r#"name="request" value=""#).expect("an issue form") + r#"name="request" value=""#.len();
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

async fn walk_in_as(t: &TestApp, i: usize, request: &str) -> Value {
    let v = t
        .queue("enqueueWalkIn", with(&patient(i), json!({"lpuId": 1, "kioskId": 2, "requestId": request})))
        .await;
    ok(&v).clone()
}

#[tokio::test]
async fn the_info_desk_issues_a_priority_ticket_and_the_doctor_calls_it_first() {
    let t = TestApp::new().await;
    walk_ins(&t, 3).await;
    let desk = session_of(&login(&t, DESK, "").await);
    let page = get(&t, "/console/", &desk).await;
    assert!(page.body.contains("Найти пациента"), "{}", page.body);
    let csrf = csrf_of(&page.body);
    let p = patient(3);
    let policy = p.enp.expose();
    let birth = p.birth_date.to_ru_string();
    // A typo in the birth date is a plain message; nobody is found.
    let a = submit(
        &t,
        "/console/desk/find",
        &desk,
        &[("csrf", &csrf), ("policy", &policy), ("birth", "02.02.1951")],
    )
    .await;
    assert!(a.body.contains("не найден"), "{}", a.body);
    let a =
        submit(&t, "/console/desk/find", &desk, &[("csrf", &csrf), ("policy", &policy), ("birth", &birth)])
            .await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains(&p.enp.masked()), "the policy, masked: {}", a.body);
    assert!(!a.body.contains(&policy), "never the whole policy number in the page");
    let lower = a.body.to_lowercase();
    let first = p.name.first.expose().to_lowercase();
    assert!(lower.contains(&p.name.surname_and_initials().to_lowercase()), "{}", a.body);
    assert!(!lower.contains(&first), "initials only");
    let request = request_of(&a.body);
    let issue = [("csrf", csrf.as_str()), ("category", "veteran"), ("request", request.as_str())];
    let a = submit(&t, "/console/desk/issue", &desk, &issue).await;
    assert!(a.body.contains("Талон выдан") && a.body.contains("Д-004"), "{}", a.body);
    // Issued at the same minute as the three before it, a veteran is ranked 30 minutes ahead.
    assert!(a.body.contains("Перед пациентом никого нет"), "{}", a.body);
    assert!(a.body.contains("Назовите номер пациенту"), "no desk printer configured: {}", a.body);
    // The form sent twice (a double click, a reload): no second ticket.
    let again = submit(&t, "/console/desk/issue", &desk, &issue).await;
    assert!(again.body.contains("Сначала найдите пациента"), "{}", again.body);
    assert_eq!(ok(&t.queue("getQueueState", json!({"lpuId": 1})).await)["waiting"], 4);

    // The doctor sees the category beside the number, first in line, and calls it first.
    let doctor = session_of(&login(&t, DOCTOR, "214").await);
    let page = get(&t, "/console/", &doctor).await;
    assert!(
        page.body.contains(r#"<li class="prio">Д-004 <small>ветеран</small></li><li>Д-001</li>"#),
        "{}",
        page.body
    );
    let dcsrf = csrf_of(&page.body);
    let v =
        act(&t, &doctor, &[("csrf", dcsrf.as_str()), ("room", "214"), ("action", "call")], None).await.json();
    assert_eq!(v["view"]["current"]["ticketNumber"], "Д-004", "{v}");
    let id = v["view"]["current"]["ticketId"].as_str().unwrap().to_owned();
    act(
        &t,
        &doctor,
        &[("csrf", dcsrf.as_str()), ("room", "214"), ("action", "done"), ("ticket", id.as_str())],
        None,
    )
    .await;

    // The category holds at the kiosk too: the same patient's next walk-in is ranked ahead of
    // the two still waiting (both issued at 10:00, within the head start).
    let ticket = walk_in_as(&t, 3, "again").await;
    assert_eq!(ticket["position"], 0, "{ticket}");
    // ... and a desk can clear it: then the patient queues like anyone.
    let a =
        submit(&t, "/console/desk/find", &desk, &[("csrf", &csrf), ("policy", &policy), ("birth", &birth)])
            .await;
    assert!(
        a.body.contains(r#"<option value="veteran" selected>"#),
        "the declared category is shown: {}",
        a.body
    );
    assert!(a.body.contains("У пациента уже есть талон Д-005"), "{}", a.body);
}

#[tokio::test]
async fn a_cabinet_the_head_opens_takes_walk_ins_at_once_and_closing_it_moves_its_queue() {
    let t = TestApp::new().await;
    let head = session_of(&login(&t, HEAD, "").await);
    let page = get(&t, "/console/", &head).await;
    assert!(page.body.contains("Кабинеты сегодня"), "{}", page.body);
    let csrf = csrf_of(&page.body);
    // Opening is the head's: not a doctor's, not without the CSRF token.
    let doctor = session_of(&login(&t, DOCTOR, "214").await);
    let dcsrf = csrf_of(&get(&t, "/console/", &doctor).await.body);
    let open = |c: &'static str, room: &'static str| [("csrf", c), ("action", "open"), ("room", room)];
    assert_eq!(
        submit(&t, "/console/head/room", &doctor, &[("csrf", &dcsrf), ("action", "open"), ("room", "216")])
            .await
            .status,
        403
    );
    assert_eq!(submit(&t, "/console/head/room", &head, &open("forged", "216")).await.status, 403);

    let a = submit(&t, "/console/head/room", &head, &[("csrf", &csrf), ("action", "open"), ("room", "216")])
        .await;
    assert_eq!((a.status, a.location()), (303, "/console/"));
    assert_eq!(walk_in_as(&t, 0, "h0").await["room"], "216", "the only open cabinet takes the walk-in");
    // 217 with a doctor on the rota for today.
    let a = submit(
        &t,
        "/console/head/room",
        &head,
        &[("csrf", &csrf), ("action", "open"), ("room", "217"), ("doctor", "101")],
    )
    .await;
    assert_eq!(a.status, 303);
    assert_eq!(walk_in_as(&t, 1, "h1").await["room"], "217", "the cabinet with the shorter queue");
    assert_eq!(walk_in_as(&t, 2, "h2").await["room"], "216");

    // The doctor of 217 calls the ticket assigned there, though two were issued before it.
    let v =
        act(&t, &doctor, &[("csrf", dcsrf.as_str()), ("room", "217"), ("action", "call")], None).await.json();
    assert_eq!(v["view"]["current"]["ticketNumber"], "Д-002", "{v}");
    let called = v["view"]["current"]["ticketId"].as_str().unwrap().to_owned();
    act(
        &t,
        &doctor,
        &[("csrf", dcsrf.as_str()), ("room", "217"), ("action", "done"), ("ticket", called.as_str())],
        None,
    )
    .await;

    // Closing 216 moves its two waiting tickets to 217.
    let a = submit(&t, "/console/head/room", &head, &[("csrf", &csrf), ("action", "close"), ("room", "216")])
        .await;
    assert_eq!(a.status, 303);
    let page = get(&t, "/console/", &head).await;
    let row = |room: &str| {
        let at = page
            .body
            .find(&format!(r#"<tr data-room="{room}">"#))
            .unwrap_or_else(|| panic!("{room}: {}", page.body));
        page.body[at..at + page.body[at..].find("</tr>").unwrap()].to_owned()
    };
    assert!(row("216").contains("<td>закрыт</td><td>0</td>"), "{}", row("216"));
    assert!(row("217").contains("217<br><small>"), "the doctor on duty there: {}", row("217"));
    assert!(
        row("217").contains("<td>открыт</td><td>2</td><td>1</td>"),
        "2 waiting, 1 served: {}",
        row("217")
    );
    assert!(page.body.contains(r#"<svg id="chart""#), "the day's chart");

    // The day as CSV, for the head only.
    let csv = get(&t, "/console/head/report.csv", &head).await;
    assert_eq!(csv.headers.get(header::CONTENT_TYPE).unwrap(), "text/csv; charset=utf-8");
    assert!(csv.body.contains("\n217;да;2;1;0;"), "{}", csv.body);
    assert_eq!(get(&t, "/console/head/report.csv", &doctor).await.status, 403);
}

#[tokio::test]
async fn a_doctor_redirects_a_patient_to_another_cabinet() {
    let t = TestApp::new().await;
    walk_ins(&t, 2).await;
    let doctor = session_of(&login(&t, DOCTOR, "214").await);
    let csrf = csrf_of(&get(&t, "/console/", &doctor).await.body);
    let v =
        act(&t, &doctor, &[("csrf", csrf.as_str()), ("room", "214"), ("action", "call")], None).await.json();
    let id = v["view"]["current"]["ticketId"].as_str().unwrap().to_owned();
    let redirect = [
        ("csrf", csrf.as_str()),
        ("room", "214"),
        ("action", "redirect"),
        ("ticket", id.as_str()),
        ("to", "301"),
    ];
    let v = act(&t, &doctor, &redirect, None).await.json();
    assert!(v["error"].is_null() && v["view"]["current"].is_null(), "{v}");
    assert_eq!(v["view"]["waiting"], 2, "back in the queue");
    // 301's doctor gets them first: they keep their place.
    let v =
        act(&t, &doctor, &[("csrf", csrf.as_str()), ("room", "301"), ("action", "call")], None).await.json();
    assert_eq!(v["view"]["current"]["ticketNumber"], "Д-001", "{v}");
}

#[tokio::test]
async fn the_fleet_view_shows_each_machines_last_heartbeat() {
    let t = TestApp::new().await;
    let report = |token: &'static str, params: Value| {
        t.call_as(token, protocol::QUEUE_PATH, "reportDeviceStatus", params)
    };
    let v = report(
        TOKEN,
        json!({"kioskId": 2, "version": "0.9.1", "printer": "no paper", "scanner": "ok",
        "cardReader": "none", "journalBacklog": 2, "journalRejected": 0, "helpRequested": false}),
    )
    .await;
    assert_eq!(ok(&v), "OK");
    ok(&report(BOARD, json!({"version": "0.9.1"})).await);
    // A kiosk speaks for itself only.
    assert_eq!(err_code(&report(TOKEN, json!({"kioskId": 3, "version": "x"})).await), "FORBIDDEN");
    assert_eq!(err_code(&report(DESK, json!({"version": "x"})).await), "FORBIDDEN");

    let head = session_of(&login(&t, HEAD, "").await);
    let page = get(&t, "/console/fleet", &head).await;
    assert_eq!(page.status, 200);
    let kiosk_row = page.body.find(r#"<tr class="attention">"#).expect("the kiosk needs attention");
    assert!(page.body[kiosk_row..].contains("no paper"), "{}", page.body);
    assert!(page.body.contains("табло 50"), "{}", page.body);
    // IT's home is the fleet; a doctor's is not.
    let admin = session_of(&login(&t, ADMIN, "").await);
    assert!(get(&t, "/console/", &admin).await.body.contains("no paper"));
    let doctor = session_of(&login(&t, DOCTOR, "214").await);
    assert_eq!(get(&t, "/console/fleet", &doctor).await.status, 403);
}

#[tokio::test]
async fn staff_log_in_with_a_password_and_wrong_ones_lock_the_login() {
    let t = TestApp::new().await;
    let mut tokens = tokens();
    let who = central::auth::Identity::new(protocol::Role::Head, 1, None);
    tokens
        .add_person(&central::auth::PersonRecord::new("petrova", "длинный пароль 42", &who).unwrap())
        .unwrap();
    t.state.set_tokens(tokens);
    let attempt = |password: &'static str| {
        let body = form(&[("login", "petrova"), ("token", password), ("room", "")]);
        send(&t, post("/console/login", None).body(Body::from(body)).unwrap())
    };
    let a = attempt("длинный пароль 42").await;
    let cookie = session_of(&a);
    assert!(get(&t, "/console/", &cookie).await.body.contains("Кабинеты сегодня"));
    for _ in 0..5 {
        assert_eq!(attempt("guess-guess-guess").await.status, 401);
    }
    let a = attempt("длинный пароль 42").await;
    assert_eq!(a.status, 429, "locked, even with the right password: {}", a.body);
    assert!(a.headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn the_console_speaks_english_on_request() {
    let t = TestApp::new().await;
    let req =
        Request::get("/console/lang?to=en").header(header::HOST, "central.test").body(Body::empty()).unwrap();
    let a = send(&t, req).await;
    let c = a.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(c.starts_with("infomat_lang=en;"), "{c}");
    let cookie = session_of(&login(&t, DOCTOR, "214").await);
    let req = Request::get("/console/")
        .header(header::HOST, "central.test")
        .header(header::COOKIE, format!("{}={cookie}; infomat_lang=en", central::console::COOKIE))
        .body(Body::empty())
        .unwrap();
    let page = send(&t, req).await;
    assert!(page.body.contains(r#"<html lang="en">"#) && page.body.contains("Call next"), "{}", page.body);
    assert!(!page.body.contains("Вызвать следующего"));
}

#[tokio::test]
async fn the_desk_prints_the_ticket_on_its_own_printer_and_says_so_when_it_cannot() {
    use drivers::printer::codepage::Family;
    use drivers::sim::printer::{SimState, Spool, control, serve_tcp};
    use std::sync::{Arc, Mutex};
    // A virtual ESC/POS printer on the network, as a desk's printer is.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(Mutex::new(SimState::default()));
    let spool = Arc::new(Spool::new(None).unwrap());
    {
        let (state, spool) = (state.clone(), spool.clone());
        std::thread::spawn(move || serve_tcp(listener, Family::Epson, 576, state, spool));
    }
    let t = TestApp::new().await;
    let mut tokens = tokens();
    let mut desk = central::auth::Identity::new(protocol::Role::Infodesk, 1, None);
    desk.printer = Some(format!("tcp://{addr}"));
    tokens.add("desk-with-printer", desk).unwrap();
    t.state.set_tokens(tokens);
    let cookie = session_of(&login(&t, "desk-with-printer", "").await);
    let csrf = csrf_of(&get(&t, "/console/", &cookie).await.body);
    let issue_for = |i: usize| {
        let p = patient(i);
        let (t, cookie, csrf) = (&t, cookie.clone(), csrf.clone());
        async move {
            let (policy, birth) = (p.enp.expose(), p.birth_date.to_ru_string());
            let find = [("csrf", csrf.as_str()), ("policy", policy.as_str()), ("birth", birth.as_str())];
            let a = submit(t, "/console/desk/find", &cookie, &find).await;
            assert!(a.body.contains(r#"name="print" value="1" checked"#), "{}", a.body);
            let request = request_of(&a.body);
            let issue =
                [("csrf", csrf.as_str()), ("category", ""), ("print", "1"), ("request", request.as_str())];
            submit(t, "/console/desk/issue", &cookie, &issue).await
        }
    };
    let a = issue_for(0).await;
    assert!(a.body.contains("Д-001") && a.body.contains("Талон напечатан"), "{}", a.body);
    let receipts = spool.receipts();
    assert_eq!(receipts.len(), 1);
    let text = receipts[0].lines.join("\n");
    assert!(receipts[0].complete && text.contains("Д-001"), "{text}");
    let p = patient(0);
    assert!(
        !text.to_lowercase().contains(&p.name.last.expose().to_lowercase()),
        "no name on the ticket: {text}"
    );

    // Out of paper: the ticket is issued all the same, and the desk is told to say the number.
    control(&state, "paper out").unwrap();
    let a = issue_for(1).await;
    assert!(a.body.contains("Д-002") && a.body.contains("Талон не напечатан"), "{}", a.body);
    assert_eq!(ok(&t.queue("getQueueState", json!({"lpuId": 1})).await)["waiting"], 2);
}

#[tokio::test]
async fn a_declared_category_reranks_todays_ticket_and_urgency_is_kept_apart() {
    use central::duty::{self, Priority};
    let t = TestApp::new().await;
    let st = &t.state.store;
    let now = now();
    walk_in_as(&t, 0, "a").await;
    walk_in_as(&t, 1, "b").await;
    // Patient 1 took a kiosk ticket, then shows a veteran's certificate at the desk.
    let events =
        duty::declare(st, 1, &patient(1).enp.expose(), Some(Priority::Veteran), now, "desk").await.unwrap();
    assert_eq!(events.len(), 1, "the doctors' pages are told");
    let call = |room: &'static str| {
        t.call_as(DOCTOR, protocol::QUEUE_PATH, "callNext", json!({"lpuId": 1, "room": room}))
    };
    assert_eq!(ok(&call("214").await)["ticketNumber"], "Д-002", "the veteran's ticket went ahead");

    // Urgency for the day does not end a year-long category.
    let p2 = patient(2).enp.expose();
    duty::declare(st, 1, &p2, Some(Priority::Veteran), now, "desk").await.unwrap();
    duty::declare(st, 1, &p2, Some(Priority::Urgent), now, "desk").await.unwrap();
    let today = now.date.to_string();
    let tomorrow = now.date.add_days(1).unwrap().to_string();
    assert_eq!(duty::declared(&st.pool, &p2, &today).await.unwrap(), Some(Priority::Urgent));
    assert_eq!(duty::declared(&st.pool, &p2, &tomorrow).await.unwrap(), Some(Priority::Veteran));

    // With a cabinet open, an urgent patient is assigned to none (the first free doctor takes
    // them); an ordinary one to the cabinet.
    duty::open(st, 1, "216", None, now).await.unwrap();
    assert!(walk_in_as(&t, 2, "c").await.get("room").is_none(), "urgent: no cabinet");
    assert_eq!(walk_in_as(&t, 3, "d").await["room"], "216");
    // ... and 214, not on the rota, calls the urgent patient first.
    assert_eq!(ok(&call("214").await)["ticketNumber"], "Д-003");

    // A doctor cannot send a patient to a cabinet that does not take patients today, nor to
    // one with a name no cabinet has.
    let doctor = session_of(&login(&t, DOCTOR, "214").await);
    let csrf = csrf_of(&get(&t, "/console/", &doctor).await.body);
    let v =
        act(&t, &doctor, &[("csrf", csrf.as_str()), ("room", "214"), ("action", "call")], None).await.json();
    let id = v["view"]["current"]["ticketId"].as_str().unwrap().to_owned();
    for to in ["999", "2\n16", ""] {
        let f = [
            ("csrf", csrf.as_str()),
            ("room", "214"),
            ("action", "redirect"),
            ("ticket", id.as_str()),
            ("to", to),
        ];
        let v = act(&t, &doctor, &f, None).await.json();
        assert!(v["error"].is_string() && !v["view"]["current"].is_null(), "{to:?}: {v}");
    }
    let f = [
        ("csrf", csrf.as_str()),
        ("room", "214"),
        ("action", "redirect"),
        ("ticket", id.as_str()),
        ("to", "216"),
    ];
    assert!(act(&t, &doctor, &f, None).await.json()["error"].is_null());
}

#[tokio::test]
async fn guesses_sent_at_once_are_counted_at_once_and_a_stale_desk_tab_issues_nothing() {
    let t = TestApp::new().await;
    let mut tokens = tokens();
    let who = central::auth::Identity::new(protocol::Role::Infodesk, 1, None);
    tokens
        .add_person(&central::auth::PersonRecord::new("desk1", "длинный пароль 42", &who).unwrap())
        .unwrap();
    t.state.set_tokens(tokens);
    let attempt = |password: &'static str| {
        let body = form(&[("login", "desk1"), ("token", password), ("room", "")]);
        send(&t, post("/console/login", None).body(Body::from(body)).unwrap())
    };
    let cookie = session_of(&attempt("длинный пароль 42").await);
    let statuses: Vec<u16> = futures_util::future::join_all((0..12).map(|_| attempt("guess-guess-guess")))
        .await
        .iter()
        .map(|a| a.status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "five checked, the rest refused: {statuses:?}"
    );
    assert_eq!(attempt("длинный пароль 42").await.status, 429);

    // Two tabs: patient 0 found in the first, patient 1 in the second; the first tab's form
    // (showing patient 0) must not issue a ticket for patient 1.
    let csrf = csrf_of(&get(&t, "/console/", &cookie).await.body);
    let find = |i: usize| {
        let p = patient(i);
        let (t, cookie, csrf) = (&t, cookie.clone(), csrf.clone());
        async move {
            let (policy, birth) = (p.enp.expose(), p.birth_date.to_ru_string());
            let f = [("csrf", csrf.as_str()), ("policy", policy.as_str()), ("birth", birth.as_str())];
            request_of(&submit(t, "/console/desk/find", &cookie, &f).await.body)
        }
    };
    let first_tab = find(0).await;
    let _second_tab = find(1).await;
    let a = submit(
        &t,
        "/console/desk/issue",
        &cookie,
        &[("csrf", &csrf), ("category", ""), ("request", &first_tab)],
    )
    .await;
    assert!(a.body.contains("другого пациента"), "{}", a.body);
    assert_eq!(ok(&t.queue("getQueueState", json!({"lpuId": 1})).await)["waiting"], 0);
}

/// The info desk sees the clinic's waiting list: who waits for what, by surname and initials.
#[tokio::test]
async fn the_info_desk_sees_the_waiting_list() {
    let t = TestApp::new().await;
    let desk = session_of(&login(&t, DESK, "").await);
    let page = get(&t, "/console/", &desk).await;
    // The seed's two in line for the surgeon, the afternoon one second.
    let surgeon = page.body.find("Хирург").expect("the surgeon's list");
    assert!(page.body[surgeon..].contains("после обеда"), "{}", page.body);
    sqlx::query("UPDATE slot SET blocked = 1 WHERE doctor_id = 201")
        .execute(&t.state.store.pool)
        .await
        .unwrap();
    let p = patient(0);
    let v = t.booking("joinWaitingList", with(&p, json!({"specialityId": "2019", "part": "morning"}))).await;
    assert_eq!(ok(&v)["status"], "waiting");
    let page = get(&t, "/console/", &desk).await;
    let name = domain::FullName::new(
        p.name.last.expose(),
        p.name.first.expose(),
        p.name.middle.as_ref().map(|m| m.expose()),
    )
    .surname_and_initials();
    for want in ["Лист ожидания", "Офтальмолог", name.as_str(), "утром", "ждёт"]
    {
        assert!(page.body.contains(want), "missing {want:?}: {}", page.body);
    }
    assert!(!page.body.contains(p.name.first.expose()), "initials, not the first name");
}

/// Extra time the head opens goes to the waiting list first, in line order and by the part of
/// the day each patient asked for; the rest is open to everyone.
#[tokio::test]
async fn extra_time_the_head_opens_is_offered_to_the_waiting_list_first() {
    let t = TestApp::new().await;
    // The ophthalmologist (08:00-14:00) is booked up; two patients join her list.
    sqlx::query("UPDATE slot SET blocked = 1 WHERE doctor_id = 201")
        .execute(&t.state.store.pool)
        .await
        .unwrap();
    let (morning, any) = (patient(1), patient(0));
    let v = t
        .booking("joinWaitingList", with(&morning, json!({"specialityId": "2019", "part": "morning"})))
        .await;
    assert_eq!(ok(&v)["position"], 1);
    let v = t.booking("joinWaitingList", with(&any, json!({"specialityId": "2019", "part": "any"}))).await;
    assert_eq!(ok(&v)["position"], 2);

    let head = session_of(&login(&t, HEAD, "").await);
    let page = get(&t, "/console/", &head).await;
    assert!(page.body.contains("Дополнительный приём"), "{}", page.body);
    let csrf = csrf_of(&page.body);
    fn session<'a>(c: &'a str, from: &'a str, minutes: &'a str) -> [(&'static str, &'a str); 6] {
        [
            ("csrf", c),
            ("doctor", "201"),
            ("day", "2026-11-24"),
            ("from", from),
            ("to", "17:00"),
            ("minutes", minutes),
        ]
    }
    // The head's alone: a doctor's session and a forged form are refused, and change nothing.
    let doctor = session_of(&login(&t, DOCTOR, "214").await);
    let dcsrf = csrf_of(&get(&t, "/console/", &doctor).await.body);
    assert_eq!(
        submit(&t, "/console/head/session", &doctor, &session(&dcsrf, "16:00", "20")).await.status,
        403
    );
    assert_eq!(
        submit(&t, "/console/head/session", &head, &session("forged", "16:00", "20")).await.status,
        403
    );
    let a = submit(&t, "/console/head/session", &head, &session(&csrf, "16:00", "3")).await;
    assert!(a.body.contains("Минут на приём: от 5 до 120"), "{}", a.body);
    // Midnight is no time of day: a plain answer, not a failed request.
    let late = [
        ("csrf", csrf.as_str()),
        ("doctor", "201"),
        ("day", "2026-11-24"),
        ("from", "23:40"),
        ("to", "24:00"),
        ("minutes", "20"),
    ];
    let a = submit(&t, "/console/head/session", &head, &late).await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains("Укажите врача, дату, время и минуты на приём."), "{}", a.body);

    // 16:00-17:00 in 20-minute slots: three, the first held for the patient who takes any
    // time (the one ahead asked for mornings).
    let a = submit(&t, "/console/head/session", &head, &session(&csrf, "16:00", "20")).await;
    assert_eq!(a.status, 200);
    assert!(
        a.body.contains("Открыто приёмов: 3 (24.11.2026). Предложено из листа ожидания: 1."),
        "{}",
        a.body
    );
    let list = t.booking("getWaitingList", with(&any, json!({}))).await;
    let entry = &ok(&list)[0];
    assert_eq!(entry["status"], "offered", "{list}");
    assert_eq!(entry["offer"]["startTime"], "2026-11-24T16:00:00+03:00", "{list}");
    let list = t.booking("getWaitingList", with(&morning, json!({}))).await;
    assert_eq!(ok(&list)[0]["status"], "waiting", "an afternoon slot is not offered for mornings: {list}");
    // The other two are anybody's: the schedule shows them and not the held one.
    let schedule = t
        .booking("getAvailableResourceScheduleInfo", with(&patient(2), json!({"availableResourceId": 201})))
        .await;
    let free: Vec<String> = ok(&schedule)["scheduleOfDay"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|day| day["scheduleBySlot"][0]["slot"].as_array().unwrap().clone())
        .map(|s| s["startTime"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(free, ["2026-11-24T16:20:00+03:00", "2026-11-24T16:40:00+03:00"], "{schedule}");

    // Opening the same hour again adds nothing.
    let a = submit(&t, "/console/head/session", &head, &session(&csrf, "16:00", "20")).await;
    assert!(a.body.contains("В это время у врача уже есть приём."), "{}", a.body);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM slot WHERE doctor_id = 201 AND day = '2026-11-24'")
        .fetch_one(&t.state.store.pool)
        .await
        .unwrap();
    assert_eq!(n, 18 + 3, "a morning's 18 slots and the three opened once");
}
