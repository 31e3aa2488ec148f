//! The contract with clients written against the real EMIAS service: every method's answer, for
//! every demo patient, validates against a JSON Schema written from
//! `shared/specs/central-api.md` and the real service's field types (`tests/schema/METHOD.json`,
//! shared definitions in `tests/schema/defs.json`; errors against `error.json`). Public clients
//! (pydantic models) reject an id sent as a string or null, or a flag sent as a boolean where the
//! service sends a string; so does this test.
//! Runs on SQLite; `make test` runs it again on PostgreSQL (INFOMAT_TEST_PG).

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::{Value, json};

use domain::demo;
use protocol::Method;

fn read(name: &str) -> Value {
    let path = format!("{}/tests/schema/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A method's schema with the shared definitions merged in (the validator resolves no files).
fn schema(name: &str) -> Value {
    let mut s = read(name);
    let defs = read("defs")["$defs"].as_object().unwrap().clone();
    let own = s.as_object_mut().unwrap().entry("$defs").or_insert_with(|| json!({}));
    for (k, v) in defs {
        own.as_object_mut().unwrap().entry(k).or_insert(v);
    }
    s
}

struct Contract {
    results: BTreeMap<&'static str, jsonschema::Validator>,
    error: jsonschema::Validator,
    /// Answers checked, by method: results and errors.
    seen: BTreeMap<&'static str, (usize, usize)>,
}

impl Contract {
    fn load() -> Contract {
        let compile = |name: &str| {
            jsonschema::validator_for(&schema(name)).unwrap_or_else(|e| panic!("schema {name}: {e}"))
        };
        let results = Method::ALL.iter().map(|m| (m.name(), compile(m.name()))).collect();
        Contract { results, error: compile("error"), seen: BTreeMap::new() }
    }

    /// Why `result` breaks the method's schema, one line a violation (empty: it is valid).
    fn violations(&self, method: &str, result: &Value) -> Vec<String> {
        let v = self.results.get(method).unwrap_or_else(|| panic!("no schema for {method}"));
        v.iter_errors(result).map(|e| format!("{}: {e}", e.instance_path())).collect()
    }

    /// Checks one whole response envelope of `method`; returns its result, if any.
    fn check(&mut self, method: Method, response: &Value) -> Option<Value> {
        let name = method.name();
        let seen = self.seen.entry(name).or_default();
        match response.get("result") {
            Some(result) => {
                seen.0 += 1;
                let bad = self.violations(name, result);
                assert!(bad.is_empty(), "{name} result breaks the contract:\n{}\n{result:#}", bad.join("\n"));
                Some(result.clone())
            }
            None => {
                seen.1 += 1;
                let bad: Vec<String> = self.error.iter_errors(response).map(|e| e.to_string()).collect();
                assert!(bad.is_empty(), "{name} error envelope breaks the contract: {bad:?}\n{response}");
                None
            }
        }
    }
}

async fn book(app: &TestApp, c: &mut Contract, m: Method, params: Value) -> Option<Value> {
    let v = app.booking(m.name(), params).await;
    c.check(m, &v)
}

async fn queue(app: &TestApp, c: &mut Contract, m: Method, params: Value) -> Option<Value> {
    let v = app.queue(m.name(), params).await;
    c.check(m, &v)
}

/// A doctor with a bookable room among `doctors`: (availableResourceId, complexResourceId).
fn bookable(doctors: &Value) -> Option<(Value, Value)> {
    doctors.as_array()?.iter().find_map(|d| {
        let cr = d["complexResource"].as_array()?.iter().find(|cr| cr.get("room").is_some())?;
        Some((d["id"].clone(), cr["id"].clone()))
    })
}

#[tokio::test]
async fn every_method_answers_every_demo_patient_in_the_real_types() {
    let app = TestApp::new().await;
    let mut c = Contract::load();
    let mut ldp_booked = 0;
    for p in demo::patients() {
        let i = p.index;
        book(
            &app,
            &mut c,
            Method::GetPatientInfo3,
            with(&p, json!({"typeAttach": [0, 1, 2], "onlyMoscowPolicy": false})),
        )
        .await;
        let specs = book(&app, &mut c, Method::GetSpecialitiesInfo, who(&p)).await;
        let mut therapists = None;
        for s in specs.as_ref().and_then(Value::as_array).into_iter().flatten() {
            let d = book(&app, &mut c, Method::GetDoctorsInfo, with(&p, json!({"specialityId": s["code"]})))
                .await;
            if s["code"] == "2011" {
                therapists = d;
            }
        }
        let referrals = book(&app, &mut c, Method::GetReferralsInfo, who(&p)).await;
        for r in referrals.as_ref().and_then(Value::as_array).into_iter().flatten() {
            let rooms =
                book(&app, &mut c, Method::GetDoctorsInfo, with(&p, json!({"referralId": r["id"]}))).await;
            // A test by referral: a room's schedule, booked with the referral (no reception type).
            if r["type"] == "REF_TO_LDP"
                && let Some((room, cr)) = rooms.as_ref().and_then(bookable)
            {
                let by_referral = json!({"availableResourceId": room, "complexResourceId": cr,
                    "referralId": r["id"]});
                let schedule = book(
                    &app,
                    &mut c,
                    Method::GetAvailableResourceScheduleInfo,
                    with(&p, by_referral.clone()),
                )
                .await;
                if let Some(slot) =
                    schedule.as_ref().map(|s| s["scheduleOfDay"][0]["scheduleBySlot"][0]["slot"][0].clone())
                {
                    let mut v = with(&p, by_referral);
                    let o = v.as_object_mut().unwrap();
                    o.insert("startTime".into(), slot["startTime"].clone());
                    o.insert("endTime".into(), slot["endTime"].clone());
                    o.insert("requestId".into(), json!(format!("l{i}-{}", r["id"])));
                    book(&app, &mut c, Method::CreateAppointment, v).await;
                    ldp_booked += 1;
                }
            }
        }
        book(&app, &mut c, Method::GetAppointmentReceptionsByPatient, who(&p)).await;
        if let Some((doctor, cr)) = therapists.as_ref().and_then(bookable) {
            let resource = json!({"availableResourceId": doctor, "complexResourceId": cr});
            let schedule =
                book(&app, &mut c, Method::GetAvailableResourceScheduleInfo, with(&p, resource.clone()))
                    .await;
            let slots: Vec<Value> = schedule
                .as_ref()
                .and_then(|s| s["scheduleOfDay"][0]["scheduleBySlot"][0]["slot"].as_array().cloned())
                .unwrap_or_default();
            if let [first, second, ..] = slots.as_slice() {
                let at = |s: &Value, rid: String| {
                    let mut v = with(&p, resource.clone());
                    let o = v.as_object_mut().unwrap();
                    o.insert("startTime".into(), s["startTime"].clone());
                    o.insert("endTime".into(), s["endTime"].clone());
                    o.insert("receptionTypeId".into(), json!("556"));
                    o.insert("requestId".into(), json!(rid));
                    v
                };
                let made = book(&app, &mut c, Method::CreateAppointment, at(first, format!("c{i}"))).await;
                if let Some(id) = made.map(|m| m["appointmentId"].clone()) {
                    book(&app, &mut c, Method::GetAppointmentReceptionsByPatient, who(&p)).await;
                    let mut shift = at(second, format!("s{i}"));
                    shift.as_object_mut().unwrap().insert("appointmentId".into(), id.clone());
                    let moved = book(&app, &mut c, Method::ShiftAppointment, shift).await;
                    let id = moved.map_or(id, |m| m["appointmentId"].clone());
                    book(
                        &app,
                        &mut c,
                        Method::CancelAppointment,
                        with(&p, json!({"appointmentId": id, "requestId": format!("x{i}")})),
                    )
                    .await;
                }
            }
        }
        queue(
            &app,
            &mut c,
            Method::EnqueueWalkIn,
            with(&p, json!({"lpuId": 1, "kioskId": 2, "requestId": format!("q{i}")})),
        )
        .await;
    }
    {
        // The waiting list: the ophthalmologist full, two patients in line, a cancellation offered
        // to the first, declined, so offered to the second, who accepts. A clinic of its own: the
        // loop above spent this kiosk's booking allowance for the minute.
        let app = TestApp::new().await;
        sqlx::query(
            "UPDATE slot SET blocked = 1 WHERE doctor_id = 201
             AND NOT EXISTS (SELECT 1 FROM appointment a WHERE a.slot_id = slot.id AND a.active = 1)",
        )
        .execute(&app.state.store.pool)
        .await
        .unwrap();
        let (a, b, holder) = (demo::patient(12), demo::patient(14), demo::patient(17));
        let mut line = Vec::new();
        for (p, rid) in [(&a, "wa"), (&b, "wb")] {
            let params = with(p, json!({"specialityId": "2019", "requestId": rid}));
            let Some(e) = book(&app, &mut c, Method::JoinWaitingList, params.clone()).await else {
                panic!("not on the list: {}", app.booking("joinWaitingList", params).await);
            };
            line.push(e["waitingListId"].clone());
        }
        let held = book(&app, &mut c, Method::GetAppointmentReceptionsByPatient, who(&holder)).await.unwrap();
        let id =
            held.as_array().unwrap().iter().find(|r| r["toDoctor"]["specialityId"] == "2019").unwrap()["id"]
                .clone();
        book(
            &app,
            &mut c,
            Method::CancelAppointment,
            with(&holder, json!({"appointmentId": id, "requestId": "wc"})),
        )
        .await;
        book(&app, &mut c, Method::GetWaitingList, who(&a)).await;
        let declined = json!({"waitingListId": line[0], "requestId": "wd"});
        book(&app, &mut c, Method::DeclineWaitingListOffer, with(&a, declined)).await;
        let offered = book(&app, &mut c, Method::GetWaitingList, who(&b)).await.unwrap();
        assert_eq!(offered[0]["status"], "offered", "the next in line: {offered}");
        let accepted = json!({"waitingListId": line[1], "requestId": "we"});
        book(&app, &mut c, Method::AcceptWaitingListOffer, with(&b, accepted)).await;
    }
    queue(&app, &mut c, Method::GetQueueState, json!({"lpuId": 1})).await;
    let called =
        queue(&app, &mut c, Method::CallNext, json!({"lpuId": 1, "room": "214", "doctorId": 101})).await;
    queue(&app, &mut c, Method::CompleteTicket, json!({"ticketId": called.unwrap()["ticketId"]})).await;
    let called = queue(&app, &mut c, Method::CallNext, json!({"lpuId": 1, "room": "215"})).await;
    queue(&app, &mut c, Method::RecallTicket, json!({"ticketId": called.as_ref().unwrap()["ticketId"]}))
        .await;
    queue(&app, &mut c, Method::MarkNoShow, json!({"ticketId": called.unwrap()["ticketId"]})).await;
    queue(&app, &mut c, Method::GetQueueState, json!({"lpuId": 1})).await;
    // Nobody waits at the branch: callNext answers null, which its schema allows.
    assert_eq!(
        queue(&app, &mut c, Method::CallNext, json!({"lpuId": 2, "room": "105"})).await,
        Some(Value::Null)
    );
    let p = demo::patient(3);
    let offline = json!({"localNumber": "К2-001", "omsNumber": p.enp.expose(), "birthDate": p.birth_date.to_string(),
        "issuedAt": domain::DateTime::new(now().date, 9, 50, 180).unwrap(), "requestId": "k2-1"});
    queue(&app, &mut c, Method::SyncOfflineTickets, json!({"kioskId": 2, "tickets": [offline]})).await;
    queue(
        &app,
        &mut c,
        Method::ReportDeviceStatus,
        json!({"kioskId": 2, "version": "0.1.0", "printer": "paper low", "journalBacklog": 3}),
    )
    .await;
    // Every method gave a result to check at least once: the contract was not met by errors.
    for m in Method::ALL {
        let (results, _) = c.seen.get(m.name()).copied().unwrap_or_default();
        assert!(results > 0, "{} never answered with a result: {:?}", m.name(), c.seen);
    }
    let doctors = c.seen["getDoctorsInfo"].0;
    assert!(doctors >= demo::COUNT, "getDoctorsInfo checked {doctors} times");
    assert!(ldp_booked >= 10, "tests and procedures booked by referral: {ldp_booked}");
}

/// The type changes, each applied to a real answer: the schema must reject every one.
#[tokio::test]
async fn a_field_sent_in_another_type_breaks_the_contract() {
    let app = TestApp::new().await;
    let c = Contract::load();
    let p = patient(0);
    let v = app.booking("getDoctorsInfo", with(&p, json!({"specialityId": "2011"}))).await;
    let answer = ok(&v).clone();
    assert!(c.violations("getDoctorsInfo", &answer).is_empty(), "the real answer is valid");
    let mutations: [(&str, Value); 11] = [
        ("/0/mainDoctor/mejiId", Value::Null),
        ("/0/mainDoctor/mejiId", json!("1200101")),
        ("/0/mainDoctor/employeeId", json!("101")),
        ("/0/mainDoctor/specialityId", json!("2011")),
        ("/0/arSpecialityId", json!("2011")),
        ("/0/id", json!("101")),
        ("/0/lpuId", Value::Null),
        ("/0/receptionType/0/primary", json!(true)),
        ("/0/receptionType/0/home", json!(false)),
        ("/0/complexResource/0/room/addressPointId", Value::Null),
        ("/0/district", json!("false")),
    ];
    for (path, value) in mutations {
        let mut changed = answer.clone();
        *changed.pointer_mut(path).unwrap_or_else(|| panic!("{path} not in {answer}")) = value.clone();
        assert!(!c.violations("getDoctorsInfo", &changed).is_empty(), "{path} = {value} was accepted");
    }
    // A field left out is as bad as a wrong type.
    let mut missing = answer.clone();
    missing[0]["mainDoctor"].as_object_mut().unwrap().remove("mejiId");
    assert!(!c.violations("getDoctorsInfo", &missing).is_empty());
    // And the one null the real service does send is fine.
    let mut no_patronymic = answer;
    no_patronymic[0]["mainDoctor"]["secondName"] = Value::Null;
    assert!(c.violations("getDoctorsInfo", &no_patronymic).is_empty());
}
