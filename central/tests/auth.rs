//! Who may do what (issue #15): every method against every role, requests for another clinic,
//! device or cabinet, the same answer for an unknown policy and a wrong birth date, request
//! ids bound to their params, offline tickets that cannot jump the queue.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use common::*;
use serde_json::{Value, json};

use domain::{Date, DateTime};
use protocol::{BOOKING_PATH, Method, QUEUE_PATH, Role, auth};

/// Params a kiosk of clinic 1 could send for `method` (valid enough to pass parsing).
fn sample(method: Method) -> Value {
    let p = patient(0);
    let slot = json!({"availableResourceId": 101, "complexResourceId": 101,
        "startTime": "2026-11-24T10:00:00+03:00", "endTime": "2026-11-24T10:15:00+03:00"});
    let mut v = match method {
        Method::GetPatientInfo3
        | Method::GetSpecialitiesInfo
        | Method::GetAppointmentReceptionsByPatient
        | Method::GetReferralsInfo
        | Method::GetWaitingList => who(&p),
        Method::JoinWaitingList => with(&p, json!({"specialityId": "2019"})),
        Method::AcceptWaitingListOffer | Method::DeclineWaitingListOffer => {
            with(&p, json!({"waitingListId": 1}))
        }
        Method::GetDoctorsInfo => with(&p, json!({"specialityId": "2011"})),
        Method::GetAvailableResourceScheduleInfo => with(&p, json!({"availableResourceId": 101})),
        Method::CreateAppointment => with(&p, slot.clone()),
        Method::ShiftAppointment => with(&p, slot.clone()),
        Method::CancelAppointment => with(&p, json!({"appointmentId": 1})),
        Method::EnqueueWalkIn => with(&p, json!({"lpuId": 1, "kioskId": 2, "requestId": "m"})),
        Method::GetQueueState => json!({"lpuId": 1}),
        Method::CallNext => json!({"lpuId": 1, "room": "214"}),
        Method::CompleteTicket | Method::MarkNoShow | Method::RecallTicket => {
            json!({"ticketId": "1-2026-11-23-000001"})
        }
        Method::SyncOfflineTickets => json!({"kioskId": 2, "tickets": []}),
        Method::ReportDeviceStatus => json!({"version": "0.1.0", "printer": "ok"}),
    };
    if method == Method::ShiftAppointment {
        v["appointmentId"] = json!(1);
    }
    v
}

fn path(m: Method) -> &'static str {
    m.endpoint().path()
}

#[tokio::test]
async fn every_method_against_every_role() {
    let app = TestApp::with(|s| s.ident_per_minute = 1000).await;
    let mut allowed = 0;
    for &m in Method::ALL {
        for role in Role::ALL {
            let v = app.call_as(token_of(role), path(m), m.name(), sample(m)).await;
            let code = v["error"]["data"]["code"].as_str();
            if auth::may(role, m) {
                allowed += 1;
                assert_ne!(code, Some("FORBIDDEN"), "{role} may call {m}: {v}");
            } else {
                assert_eq!(code, Some("FORBIDDEN"), "{role} must not call {m}: {v}");
                assert_eq!(v["error"]["message"], "Нет прав на это действие");
            }
        }
    }
    let refused = Method::ALL.len() * Role::ALL.len() - allowed;
    let metrics = app.state.metrics.render();
    assert!(metrics.contains(&format!("central_refused_total{{reason=\"role\"}} {refused}")), "{metrics}");
}

#[tokio::test]
async fn another_clinic_device_or_cabinet_is_refused() {
    let app = TestApp::new().await;
    let forbidden = |v: &Value| assert_eq!(err_code(v), "FORBIDDEN", "{v}");
    let enq = |kiosk: u32, lpu: u32, rid: &str| {
        with(&patient(0), json!({"lpuId": lpu, "kioskId": kiosk, "requestId": rid}))
    };
    // A kiosk of clinic 9 cannot queue, read or book at clinic 1.
    forbidden(&app.call_as(OTHER_CLINIC, QUEUE_PATH, "enqueueWalkIn", enq(7, 1, "x1")).await);
    forbidden(&app.call_as(OTHER_CLINIC, QUEUE_PATH, "getQueueState", json!({"lpuId": 1})).await);
    let sched = with(&patient(0), json!({"availableResourceId": 101}));
    forbidden(&app.call_as(OTHER_CLINIC, BOOKING_PATH, "getAvailableResourceScheduleInfo", sched).await);
    // Its own clinic's queue is its to read.
    ok(&app.call_as(OTHER_CLINIC, QUEUE_PATH, "getQueueState", json!({"lpuId": 9})).await);
    // Kiosk 2 cannot issue or sync as kiosk 3; the branch (lpu 2) is its clinic's.
    forbidden(&app.queue("enqueueWalkIn", enq(3, 1, "x2")).await);
    forbidden(&app.queue("syncOfflineTickets", json!({"kioskId": 3, "tickets": []})).await);
    ok(&app.queue("enqueueWalkIn", enq(2, 2, "x3")).await);
    // A doctor bound to cabinet 214 calls only to 214, finishes only tickets called there.
    ok(&app
        .queue("enqueueWalkIn", with(&patient(1), json!({"lpuId": 1, "kioskId": 2, "requestId": "x4"})))
        .await);
    forbidden(&app.call_as(DOCTOR_214, QUEUE_PATH, "callNext", json!({"lpuId": 1, "room": "215"})).await);
    let v = app.call_as(DOCTOR, QUEUE_PATH, "callNext", json!({"lpuId": 2, "room": "215"})).await;
    let at_215 = ok(&v)["ticketId"].clone();
    forbidden(&app.call_as(DOCTOR_214, QUEUE_PATH, "completeTicket", json!({"ticketId": at_215})).await);
    ok(&app.call_as(DOCTOR, QUEUE_PATH, "completeTicket", json!({"ticketId": at_215})).await);
    let v = app.call_as(DOCTOR_214, QUEUE_PATH, "callNext", json!({"lpuId": 1, "room": "214"})).await;
    ok(&app.call_as(DOCTOR_214, QUEUE_PATH, "markNoShow", json!({"ticketId": ok(&v)["ticketId"]})).await);
    let m = app.state.metrics.render();
    for (reason, n) in [("clinic", 3), ("device", 2), ("room", 2)] {
        assert!(m.contains(&format!("central_refused_total{{reason=\"{reason}\"}} {n}")), "{reason}: {m}");
    }
}

#[tokio::test]
async fn unknown_policy_and_wrong_birth_date_answer_the_same_everywhere() {
    let app = TestApp::with(|s| s.ident_per_minute = 1000).await;
    let p = patient(0);
    for &m in Method::ALL.iter().filter(|m| auth::identifies_patient(**m)) {
        let mut wrong_birth = sample(m);
        wrong_birth["birthDate"] = json!("1990-01-01");
        let mut unknown = wrong_birth.clone();
        unknown["omsNumber"] = json!("7700000000000016");
        if unknown.get("requestId").is_some() {
            unknown["requestId"] = json!("another");
        }
        assert_ne!(unknown["omsNumber"].as_str(), Some(p.enp.expose().as_str()));
        let a = app.call(path(m), m.name(), wrong_birth).await;
        let b = app.call(path(m), m.name(), unknown).await;
        assert_eq!(err_code(&a), "PATIENT_NOT_FOUND", "{m}: {a}");
        assert_eq!(a["error"], b["error"], "{m}: the same answer for both");
    }
}

#[tokio::test]
async fn a_request_id_reused_with_other_params_is_refused() {
    let app = TestApp::new().await;
    let p = patient(0);
    let (start, end, cr) = first_slot(&app, &p, 101, 0).await;
    let (start2, end2, _) = first_slot(&app, &p, 101, 1).await;
    let book = |s: &Value, e: &Value| {
        with(
            &p,
            json!({"availableResourceId": 101, "complexResourceId": cr, "startTime": s, "endTime": e, "requestId": "r1"}),
        )
    };
    let first = app.booking("createAppointment", book(&start, &end)).await;
    let id = ok(&first)["appointmentId"].clone();
    // The same id, another slot: refused, not answered with the first booking.
    let v = app.booking("createAppointment", book(&start2, &end2)).await;
    assert_eq!(err_code(&v), "REQUEST_ID_REUSED", "{v}");
    // The same id for another method: refused too.
    let v = app.booking("cancelAppointment", with(&p, json!({"appointmentId": id, "requestId": "r1"}))).await;
    assert_eq!(err_code(&v), "REQUEST_ID_REUSED", "{v}");
    // The same request again: the first answer.
    assert_eq!(ok(&app.booking("createAppointment", book(&start, &end)).await)["appointmentId"], id);
    // Another kiosk's "r1" is its own: request ids are scoped per caller.
    let enq =
        |kiosk: u32, i: usize| with(&patient(i), json!({"lpuId": 1, "kioskId": kiosk, "requestId": "r1"}));
    ok(&app.call_as(KIOSK_3, QUEUE_PATH, "enqueueWalkIn", enq(3, 1)).await);
    let v = app.call_as(KIOSK_3, QUEUE_PATH, "enqueueWalkIn", enq(3, 4)).await;
    assert_eq!(err_code(&v), "REQUEST_ID_REUSED", "another patient under the same id: {v}");
    assert!(app.state.metrics.render().contains("central_refused_total{reason=\"request_id_reused\"} 3"));
}

/// A clinic clock that tests move (minutes of 2026-11-23, Moscow time).
fn movable() -> (Arc<AtomicU32>, central::app::Clock) {
    let minute = Arc::new(AtomicU32::new(9 * 60));
    let m = minute.clone();
    let clock: central::app::Clock = Arc::new(move || {
        let t = m.load(Ordering::SeqCst);
        DateTime::new(Date::from_ymd(2026, 11, 23).unwrap(), t / 60, t % 60, 180).unwrap()
    });
    (minute, clock)
}

fn at(hh: u32, mm: u32) -> DateTime {
    DateTime::new(Date::from_ymd(2026, 11, 23).unwrap(), hh, mm, 180).unwrap()
}

fn offline(i: usize, n: &str, issued: DateTime, rid: &str) -> Value {
    let p = patient(i);
    json!({"localNumber": n, "omsNumber": p.enp.expose(), "birthDate": p.birth_date.to_string(),
           "issuedAt": issued, "requestId": rid})
}

#[tokio::test]
async fn a_backdated_offline_ticket_does_not_jump_the_queue() {
    let (minute, clock) = movable();
    let app = TestApp::with_clock(clock, |_| {}).await;
    let set = |hh: u32, mm: u32| minute.store(hh * 60 + mm, Ordering::SeqCst);
    // 09:00: a central ticket from kiosk 3.
    ok(&app
        .call_as(
            KIOSK_3,
            QUEUE_PATH,
            "enqueueWalkIn",
            with(&patient(0), json!({"lpuId": 1, "kioskId": 3, "requestId": "c"})),
        )
        .await);
    // Kiosk 2 talks to central at 09:10 and 09:11, then loses it until 09:30.
    for mm in [10, 11] {
        set(9, mm);
        ok(&app.queue("getQueueState", json!({"lpuId": 1})).await);
    }
    set(9, 30);
    let batch = json!({"kioskId": 2, "lpuId": 1, "tickets": [
        offline(1, "К2-001", at(9, 20), "k2-a"),  // honest: issued while offline
        offline(4, "К2-002", at(8, 30), "k2-b"),  // claims to be before the 09:00 ticket
        offline(5, "К2-003", at(11, 0), "k2-c"),  // from the future
        offline(6, "К2-004", DateTime::new(Date::from_ymd(2026, 11, 22).unwrap(), 9, 0, 180).unwrap(), "k2-d"),
    ]});
    let v = app.queue("syncOfflineTickets", batch).await;
    let r = ok(&v).as_array().unwrap();
    // Positions as each joined (К2-002 then goes ahead of К2-001).
    assert_eq!((r[0]["status"].as_str(), r[0]["position"].as_u64()), (Some("accepted"), Some(1)));
    assert_eq!(r[1]["status"], "accepted");
    assert_eq!(
        r[1]["position"], 1,
        "clamped to 09:11, the start of the kiosk's gap: behind the 09:00 ticket"
    );
    assert_eq!(r[2]["position"], 3, "clamped to now");
    assert_eq!(
        (r[3]["status"].as_str(), r[3]["error"].as_str()),
        (Some("rejected"), Some("OFFLINE_TICKET_STALE"))
    );
    assert!(app.state.metrics.render().contains("central_offline_tickets_clamped_total 2"));
    // The doctor calls in that order.
    let mut order = Vec::new();
    for _ in 0..4 {
        let v = app.queue("callNext", json!({"lpuId": 1, "room": "214"})).await;
        order.push(ok(&v)["ticketNumber"].as_str().unwrap().to_owned());
    }
    assert_eq!(order, ["Д-001", "К2-002", "К2-001", "К2-003"]);
}

#[tokio::test]
async fn offline_tickets_never_predate_the_queues_opening() {
    let (minute, clock) = movable();
    let app = TestApp::with_clock(clock, |_| {}).await;
    minute.store(9 * 60, Ordering::SeqCst);
    // A kiosk central has never seen syncs a ticket "issued" at 03:00 for the branch, which
    // opens at 08:00: it joins as if issued at the opening, not before.
    let v = app
        .queue(
            "syncOfflineTickets",
            json!({"kioskId": 2, "lpuId": 2, "tickets": [offline(1, "К2-001", at(3, 0), "early")]}),
        )
        .await;
    assert_eq!(ok(&v)[0]["status"], "accepted");
    let issued: String = sqlx::query_scalar("SELECT issued_at FROM ticket WHERE request_id = 'early'")
        .fetch_one(&app.state.store.pool)
        .await
        .unwrap();
    assert_eq!(issued, at(8, 0).to_string());
}

#[tokio::test]
async fn a_sync_batch_is_capped_and_the_rest_waits_for_the_next_call() {
    // Rate limits lifted: this is about the cap (they have a test of their own below).
    let app = TestApp::with(|s| s.ident_per_minute = 1_000_000).await;
    let n = central::queue::SYNC_BATCH + 3;
    // Unknown patients: each is looked at and rejected, which is all this test needs.
    let tickets: Vec<Value> = (0..n)
        .map(|i| json!({"localNumber": format!("К2-{i:03}"), "omsNumber": "7700000000000016", "birthDate": "1990-01-01",
                         "issuedAt": now(), "requestId": format!("b{i}")}))
        .collect();
    let v = app.queue("syncOfflineTickets", json!({"kioskId": 2, "tickets": tickets})).await;
    let r = ok(&v).as_array().unwrap();
    assert_eq!(r.len(), central::queue::SYNC_BATCH);
    assert!(r.iter().all(|t| t["status"] == "rejected" && t["error"] == "PATIENT_NOT_FOUND"));
}

#[tokio::test]
async fn an_offline_sync_is_no_way_around_the_identity_limits() {
    let app = TestApp::with(|s| s.ident_per_minute = 3).await;
    // 20 made-up policies in one batch: the kiosk's failed-lookup budget (3) answers the first
    // ones, the rest are RATE_LIMITED (the kiosk keeps those and offers them again later).
    let tickets: Vec<Value> = (0..20u64)
        .map(|i| json!({"localNumber": format!("К2-{i:03}"), "omsNumber": format!("{:016}", 7_700_000_000_000_016u64 + i * 100),
                         "birthDate": "1990-01-01", "issuedAt": now(), "requestId": format!("o{i}")}))
        .collect();
    let v = app.queue("syncOfflineTickets", json!({"kioskId": 2, "tickets": tickets})).await;
    let errors: Vec<&str> = ok(&v).as_array().unwrap().iter().map(|t| t["error"].as_str().unwrap()).collect();
    assert_eq!(errors[..3], ["PATIENT_NOT_FOUND"; 3], "{errors:?}");
    assert!(errors[3..].iter().all(|e| *e == "RATE_LIMITED"), "{errors:?}");
    // The sync has a budget of its own: the patients at that kiosk are not locked out by it.
    ok(&app.booking("getPatientInfo3", who(&patient(0))).await);
}

/// The role table a clinic's IT reads (docs/SECURITY.md) is pinned against the code: a change to
/// either alone fails here, so neither can drift (and the matrix test above does not merely
/// check the map against itself).
#[test]
fn the_role_table_in_security_md_is_the_one_enforced() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/SECURITY.md")).unwrap();
    let mut lines = doc.lines().skip_while(|l| !l.starts_with("| method |"));
    let header: Vec<&str> = lines.next().expect("the role table").split('|').map(str::trim).collect();
    let roles: Vec<Role> = header[2..header.len() - 1].iter().map(|r| r.parse().unwrap()).collect();
    assert_eq!(roles, Role::ALL);
    let mut seen = Vec::new();
    for row in lines.skip(1).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let granted: Vec<Role> =
            roles.iter().zip(&cells[2..]).filter(|(_, c)| c.starts_with("yes")).map(|(r, _)| *r).collect();
        if cells[1].starts_with("queue feed") {
            assert_eq!(granted, auth::FEED, "the feed row");
            continue;
        }
        for name in cells[1].split(", ") {
            let m = *Method::ALL
                .iter()
                .find(|m| m.name() == name)
                .unwrap_or_else(|| panic!("{name}: no such method"));
            assert_eq!(granted, auth::allowed(m), "{m}: SECURITY.md and protocol::auth disagree");
            seen.push(m);
        }
    }
    for m in Method::ALL {
        assert!(seen.contains(m), "{m} is missing from the table in SECURITY.md");
    }
}
