//! Shared test harness: a seeded store (SQLite file, or PostgreSQL when INFOMAT_TEST_PG names a
//! server), a fixed clock, and calls in-process through the router.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use central::app::{AppState, Clock, app};
use central::auth::{Identity, Tokens};
use central::store::Store;
use domain::demo::{self, DemoPatient};
use domain::{Date, DateTime};
use protocol::Role;

/// Kiosk 2 of clinic 1.
pub const TOKEN: &str = "kiosk-2-secret";
/// A duty doctor of clinic 1, any cabinet.
pub const DOCTOR: &str = "doctor-secret";
/// A doctor of clinic 1 bound to cabinet 214.
pub const DOCTOR_214: &str = "doctor-214-secret";
/// Board 50 of clinic 1.
pub const BOARD: &str = "board-50-secret";
pub const DESK: &str = "desk-secret";
pub const HEAD: &str = "head-secret";
pub const ADMIN: &str = "admin-secret";
/// Kiosk 7 of clinic 9 (another clinic on the same central).
pub const OTHER_CLINIC: &str = "kiosk-9-7-secret";
/// Kiosk 3 of clinic 1.
pub const KIOSK_3: &str = "kiosk-3-secret";

/// Every test token with who it stands for.
pub fn tokens() -> Tokens {
    let mut t = Tokens::default();
    let mut doctor_214 = Identity::new(Role::Doctor, 1, None);
    doctor_214.rooms = vec!["214".into()];
    for (token, who) in [
        (TOKEN, Identity::new(Role::Kiosk, 1, Some(2))),
        (KIOSK_3, Identity::new(Role::Kiosk, 1, Some(3))),
        (DOCTOR, Identity::new(Role::Doctor, 1, None)),
        (DOCTOR_214, doctor_214),
        (BOARD, Identity::new(Role::Board, 1, Some(50))),
        (DESK, Identity::new(Role::Infodesk, 1, None)),
        (HEAD, Identity::new(Role::Head, 1, None)),
        (ADMIN, Identity::new(Role::Admin, 1, None)),
        (OTHER_CLINIC, Identity::new(Role::Kiosk, 9, Some(7))),
    ] {
        t.add(token, who).unwrap();
    }
    t
}

/// The test token of a role (clinic 1).
pub fn token_of(role: Role) -> &'static str {
    match role {
        Role::Kiosk => TOKEN,
        Role::Board => BOARD,
        Role::Doctor => DOCTOR,
        Role::Infodesk => DESK,
        Role::Head => HEAD,
        Role::Admin => ADMIN,
    }
}

/// A token allowed to call `method` (a kiosk's when a kiosk may).
pub fn token_for(method: &str) -> &'static str {
    let m = protocol::Method::ALL.iter().find(|m| m.name() == method);
    match m {
        Some(m) if !protocol::auth::may(Role::Kiosk, *m) => token_of(protocol::auth::allowed(*m)[0]),
        _ => TOKEN,
    }
}

/// Monday 2026-11-23, 10:00 Moscow time.
pub fn now() -> DateTime {
    DateTime::new(Date::from_ymd(2026, 11, 23).unwrap(), 10, 0, 180).unwrap()
}

static N: AtomicU64 = AtomicU64::new(0);

/// A fresh, seeded database for one test.
pub async fn store() -> Store {
    let n = N.fetch_add(1, Ordering::SeqCst);
    let tag = format!(
        "{}_{}_{n}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()
    );
    let url = match std::env::var("INFOMAT_TEST_PG") {
        Ok(admin) if !admin.is_empty() => {
            use sqlx::Connection;
            let mut c = sqlx::PgConnection::connect(&admin).await.expect("PostgreSQL for tests");
            sqlx::query(&format!("CREATE DATABASE infomat_test_{tag}")).execute(&mut c).await.unwrap();
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
            format!("{base}/infomat_test_{tag}")
        }
        _ => std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("central-{tag}.sqlite"))
            .display()
            .to_string(),
    };
    let store = Store::open(&url).await.expect("open store");
    central::seed::seed(&store, now().date).await.expect("seed");
    store
}

pub struct TestApp {
    pub state: Arc<AppState>,
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with(|_| {}).await
    }

    pub async fn with(tune: impl FnOnce(&mut AppState)) -> TestApp {
        let clock: Clock = Arc::new(now);
        TestApp::with_clock(clock, tune).await
    }

    pub async fn with_clock(clock: Clock, tune: impl FnOnce(&mut AppState)) -> TestApp {
        let mut state = AppState::new(store().await, tokens(), clock);
        tune(&mut state);
        TestApp { state: Arc::new(state) }
    }

    /// Raw request: returns (HTTP status, body as JSON or Null).
    pub async fn raw(&self, path: &str, token: Option<&str>, body: Vec<u8>) -> (u16, Value) {
        let mut req = Request::post(path).header("content-type", "application/json");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = app(self.state.clone()).oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// A JSON-RPC call with a token allowed to make it; returns the whole response envelope.
    pub async fn call(&self, path: &str, method: &str, params: Value) -> Value {
        self.call_as(token_for(method), path, method, params).await
    }

    /// A JSON-RPC call with `token`.
    pub async fn call_as(&self, token: &str, path: &str, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": "t", "method": method, "params": params});
        let (status, v) = self.raw(path, Some(token), serde_json::to_vec(&body).unwrap()).await;
        assert_eq!(status, 200, "{method}: {v}");
        v
    }

    pub async fn booking(&self, method: &str, params: Value) -> Value {
        self.call(protocol::BOOKING_PATH, method, params).await
    }

    pub async fn queue(&self, method: &str, params: Value) -> Value {
        self.call(protocol::QUEUE_PATH, method, params).await
    }
}

/// The result, or a panic naming the error.
pub fn ok(v: &Value) -> &Value {
    assert!(v.get("error").is_none(), "unexpected error: {v}");
    &v["result"]
}

/// The error's string code.
pub fn err_code(v: &Value) -> &str {
    v["error"]["data"]["code"].as_str().unwrap_or_else(|| panic!("expected a domain error: {v}"))
}

pub fn who(p: &DemoPatient) -> Value {
    json!({"omsNumber": p.enp.expose(), "birthDate": p.birth_date.to_string()})
}

pub fn with(p: &DemoPatient, extra: Value) -> Value {
    let mut v = who(p);
    v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    v
}

/// Attached demo patient `i` (the seed leaves every tenth unattached).
pub fn patient(i: usize) -> DemoPatient {
    assert!(central::seed::attached(i));
    demo::patient(i)
}

/// `n` demo patients who may all book the therapist: attached, adults (a therapist sees
/// nobody under 18) and without an appointment of their own.
pub fn therapist_patients(n: usize) -> Vec<usize> {
    let v: Vec<usize> = (0..demo::COUNT)
        .filter(|i| central::seed::attached(*i) && !central::seed::has_appointment(*i))
        .filter(|i| demo::patient(*i).birth_date.age_on(now().date) >= 18)
        .take(n)
        .collect();
    assert_eq!(v.len(), n, "the demo has {n} such patients");
    v
}

/// The first free slot of a doctor: (startTime, endTime, complexResourceId).
pub async fn first_slot(app: &TestApp, p: &DemoPatient, doctor: u64, skip: usize) -> (Value, Value, Value) {
    first_slot_with(app, p, json!({"availableResourceId": doctor}), skip).await
}

pub async fn first_slot_with(
    app: &TestApp,
    p: &DemoPatient,
    params: Value,
    skip: usize,
) -> (Value, Value, Value) {
    let s = app.booking("getAvailableResourceScheduleInfo", with(p, params)).await;
    let day = &ok(&s)["scheduleOfDay"][0]["scheduleBySlot"][0];
    let slot = &day["slot"][skip];
    (slot["startTime"].clone(), slot["endTime"].clone(), day["complexResourceId"].clone())
}

/// Waits out the last seconds of a wall-clock minute: rate windows are whole minutes (and hours),
/// so a test that counts calls up to a limit must not straddle the end of one.
pub async fn clear_of_a_minute_end() {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 60;
    if secs > 50 {
        tokio::time::sleep(std::time::Duration::from_secs(61 - secs)).await;
    }
}
