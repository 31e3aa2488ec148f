//! Every method, error code and clinic rule of the central API, in-process through the router.
//! Runs on SQLite; `make test` runs it again on PostgreSQL (INFOMAT_TEST_PG).

mod common;

use common::*;
use serde_json::{Value, json};

use domain::demo;
use protocol::{BOOKING_PATH, QUEUE_PATH};

#[tokio::test]
async fn protocol_errors_and_authentication() {
    let app = TestApp::new().await;
    let body = |s: &str| s.as_bytes().to_vec();
    // No token, wrong token: HTTP 401.
    assert_eq!(app.raw(BOOKING_PATH, None, body("{}")).await.0, 401);
    assert_eq!(app.raw(QUEUE_PATH, Some("nope"), body("{}")).await.0, 401);
    // Malformed JSON: -32700; not a request: -32600; unknown method: -32601.
    let (s, v) = app.raw(BOOKING_PATH, Some(TOKEN), body("{\"jsonrpc\":")).await;
    assert_eq!((s, v["error"]["code"].as_i64()), (200, Some(-32700)));
    let (_, v) = app.raw(BOOKING_PATH, Some(TOKEN), body("[1,2]")).await;
    assert_eq!(v["error"]["code"], -32600);
    let (_, v) = app.raw(BOOKING_PATH, Some(TOKEN), body(r#"{"jsonrpc":"2.0","id":7}"#)).await;
    assert_eq!((v["error"]["code"].as_i64(), v["id"].as_i64()), (Some(-32600), Some(7)));
    let v = app.booking("getEverything", json!({})).await;
    assert_eq!(v["error"]["code"], -32601);
    // Queue methods are not on the booking endpoint.
    let v = app.booking("enqueueWalkIn", json!({})).await;
    assert_eq!(v["error"]["code"], -32601);
    // Bad params: -32602, INVALID_PARAMS, and the field is named.
    let v = app.booking("getPatientInfo3", json!({"omsNumber": "12", "birthDate": "1948-03-05"})).await;
    assert_eq!(v["error"]["code"], -32602);
    assert_eq!(err_code(&v), "INVALID_PARAMS");
    assert!(v["error"]["message"].as_str().unwrap().contains("omsNumber"), "{v}");
    // Ids come back as sent: strings, numbers, "".
    for id in [json!("V1StGXR8_Z5jdHi6B-myT"), json!(42), json!("")] {
        let b =
            json!({"jsonrpc": "2.0", "id": id, "method": "getSpecialitiesInfo", "params": who(&patient(0))});
        let (_, v) = app
            .raw(&format!("{BOOKING_PATH}?getSpecialitiesInfo"), Some(TOKEN), serde_json::to_vec(&b).unwrap())
            .await;
        assert_eq!(v["id"], id);
    }
}

#[tokio::test]
async fn identification_does_not_tell_who_is_insured() {
    let app = TestApp::new().await;
    let p = patient(0);
    let v = app.booking("getPatientInfo3", who(&p)).await;
    let r = ok(&v);
    assert_eq!(r["attachments"]["attachment"][0]["lpu"]["id"], 1);
    assert_eq!(r["patient"]["lastName"], p.name.last.expose());
    // Accepts the number as a JSON number too.
    let v = app
        .booking(
            "getPatientInfo3",
            json!({"omsNumber": p.enp.to_u64(), "birthDate": p.birth_date.to_string()}),
        )
        .await;
    ok(&v);
    let wrong_birth =
        app.booking("getPatientInfo3", json!({"omsNumber": p.enp.expose(), "birthDate": "1990-01-01"})).await;
    let unknown = app
        .booking("getPatientInfo3", json!({"omsNumber": "7700000000000016", "birthDate": "1990-01-01"}))
        .await;
    assert_eq!(err_code(&wrong_birth), "PATIENT_NOT_FOUND");
    assert_eq!(wrong_birth["error"], unknown["error"], "the same answer for both");
}

#[tokio::test]
async fn identification_is_rate_limited_per_kiosk() {
    let app = TestApp::with(|s| s.ident_per_minute = 3).await;
    clear_of_a_minute_end().await;
    // Lookups that find nobody (probing for the insured) are what the kiosk budget counts.
    let unknown = |n: u64| json!({"omsNumber": format!("{:016}", 7_700_000_000_000_016u64 + n * 100), "birthDate": "1990-01-01"});
    let mut codes = Vec::new();
    for n in 0..4 {
        codes.push(err_code(&app.booking("getSpecialitiesInfo", unknown(n)).await).to_owned());
    }
    assert_eq!(codes[..3], ["PATIENT_NOT_FOUND"; 3]);
    assert_eq!(codes[3], "RATE_LIMITED", "{codes:?}");
    // Every identity-carrying method is behind the same gate, not only getPatientInfo3.
    for m in ["getPatientInfo3", "getReferralsInfo", "getAppointmentReceptionsByPatient"] {
        assert_eq!(err_code(&app.booking(m, who(&patient(0))).await), "RATE_LIMITED", "{m}");
    }
    let v = app
        .queue("enqueueWalkIn", with(&patient(0), json!({"lpuId": 1, "kioskId": 2, "requestId": "rl"})))
        .await;
    assert_eq!(err_code(&v), "RATE_LIMITED");
    // Another kiosk is not held up by this one.
    ok(&app.call_as(KIOSK_3, BOOKING_PATH, "getPatientInfo3", who(&patient(0))).await);
    assert!(app.state.metrics.render().contains("central_refused_total{reason=\"rate_limited\"} 5"));
}

#[tokio::test]
async fn a_policy_is_rate_limited_across_kiosks() {
    let app = TestApp::with(|s| s.ident_per_minute = 3).await;
    clear_of_a_minute_end().await;
    // Guessing one policy's birth date from several kiosks: the policy's hourly budget.
    let p = patient(0);
    let guess = json!({"omsNumber": p.enp.expose(), "birthDate": "1990-01-01"});
    for (i, token) in [TOKEN, KIOSK_3, TOKEN].iter().enumerate() {
        let v = app.call_as(token, BOOKING_PATH, "getPatientInfo3", guess.clone()).await;
        assert_eq!(err_code(&v), "PATIENT_NOT_FOUND", "guess {i}");
    }
    let v = app.call_as(KIOSK_3, BOOKING_PATH, "getPatientInfo3", who(&p)).await;
    assert_eq!(err_code(&v), "RATE_LIMITED", "even with the right date now");
    // Other patients are served.
    ok(&app.call_as(KIOSK_3, BOOKING_PATH, "getPatientInfo3", who(&patient(1))).await);
}

#[tokio::test]
async fn specialities_doctors_and_access_rules() {
    let app = TestApp::new().await;
    let woman = patient(0);
    let man = patient(1);
    let specs = app.booking("getSpecialitiesInfo", who(&woman)).await;
    assert_eq!(ok(&specs).as_array().unwrap().len(), 10);
    // First level: bookable, with a room and its nearest free date.
    let v = app.booking("getDoctorsInfo", with(&woman, json!({"specialityId": 2011}))).await;
    let docs = ok(&v).as_array().unwrap();
    assert_eq!(docs.len(), 3, "two in the clinic, one in its branch");
    assert!(docs.iter().all(|d| d["complexResource"][0]["room"]["availabilityDate"].is_string()));
    // Referral-only without a referral.
    let v = app.booking("getDoctorsInfo", with(&woman, json!({"specialityId": "2045"}))).await;
    assert_eq!(err_code(&v), "REFERRAL_REQUIRED");
    // With the patient's referral (demo patient 2 has one to a cardiologist).
    let referred = patient(2);
    let refs = app.booking("getReferralsInfo", who(&referred)).await;
    let referral_id = ok(&refs)[0]["id"].as_u64().unwrap();
    assert_eq!(ok(&refs)[0]["toDoctor"]["specialityId"], "2045");
    let v = app.booking("getDoctorsInfo", with(&referred, json!({"referralId": referral_id}))).await;
    assert_eq!(ok(&v)[0]["mainDoctor"]["specialityId"], 2045, "an integer, as the real service sends it");
    // Somebody else's referral does not count.
    let v = app.booking("getDoctorsInfo", with(&woman, json!({"referralId": referral_id}))).await;
    assert_eq!(err_code(&v), "REFERRAL_REQUIRED");
    // An expired referral.
    sqlx::query("UPDATE referral SET end_date = '2026-11-01' WHERE id = $1")
        .bind(referral_id as i64)
        .execute(&app.state.store.pool)
        .await
        .unwrap();
    let v = app.booking("getDoctorsInfo", with(&referred, json!({"referralId": referral_id}))).await;
    assert_eq!(err_code(&v), "REFERRAL_EXPIRED");
    // Sex limits.
    let v = app.booking("getDoctorsInfo", with(&man, json!({"specialityId": "2001"}))).await;
    assert_eq!(err_code(&v), "SPECIALITY_NOT_FOR_SEX");
    // Not attached.
    let stranger = demo::patient(9);
    let v = app.booking("getDoctorsInfo", with(&stranger, json!({"specialityId": "2011"}))).await;
    assert_eq!(err_code(&v), "PATIENT_NOT_ATTACHED");
}

#[tokio::test]
async fn booking_rules_cancel_and_atomic_shift() {
    let app = TestApp::new().await;
    let p = patient(0);
    let (start, end, cr) = first_slot(&app, &p, 101, 0).await;
    let book = |doctor: u64, start: &Value, end: &Value, cr: &Value| {
        with(
            &p,
            json!({"availableResourceId": doctor, "complexResourceId": cr, "startTime": start, "endTime": end, "receptionTypeId": "556"}),
        )
    };
    let v = app.booking("createAppointment", book(101, &start, &end, &cr)).await;
    let first_id = ok(&v)["appointmentId"].as_u64().unwrap();
    assert!(ok(&v)["appointmentNumber"].as_str().unwrap().starts_with("1-"));
    // The slot is gone from the schedule.
    let (next_start, next_end, _) = first_slot(&app, &p, 101, 0).await;
    assert_ne!(next_start, start);
    // The same speciality again: ALREADY_BOOKED (another therapist too).
    let v = app.booking("createAppointment", book(101, &next_start, &next_end, &cr)).await;
    assert_eq!(err_code(&v), "ALREADY_BOOKED");
    // The same time with another doctor: TIME_CONFLICT (ophthalmologist 201 has the same grid).
    let sched =
        app.booking("getAvailableResourceScheduleInfo", with(&p, json!({"availableResourceId": 201}))).await;
    let same_time = ok(&sched)["scheduleOfDay"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["scheduleBySlot"][0]["slot"].as_array().unwrap().clone())
        .find(|s| s["startTime"] == start);
    if let Some(s) = same_time {
        let v =
            app.booking("createAppointment", book(201, &s["startTime"], &s["endTime"], &json!(2010))).await;
        assert_eq!(err_code(&v), "TIME_CONFLICT");
    }
    // The slot for another patient: SLOT_TAKEN.
    let other = patient(4);
    let v = app.booking("createAppointment", with(&other, json!({"availableResourceId": 101, "complexResourceId": cr, "startTime": start, "endTime": end}))).await;
    assert_eq!(err_code(&v), "SLOT_TAKEN");
    // My appointments.
    let v = app.booking("getAppointmentReceptionsByPatient", who(&p)).await;
    let list = ok(&v).as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["toDoctor"]["specialityId"], "2011");
    assert_eq!(list[0]["roomNumber"], "214");
    // Shift atomically to the next slot: the old one is free again at once.
    let v = app.booking("shiftAppointment", with(&p, json!({"appointmentId": first_id, "availableResourceId": 101, "complexResourceId": cr, "startTime": next_start, "endTime": next_end}))).await;
    let moved_id = ok(&v)["appointmentId"].as_u64().unwrap();
    let v = app.booking("createAppointment", with(&other, json!({"availableResourceId": 101, "complexResourceId": cr, "startTime": start, "endTime": end}))).await;
    ok(&v);
    // Cancel; cancelling again or the shifted-away one: not found.
    ok(&app.booking("cancelAppointment", with(&p, json!({"appointmentId": moved_id}))).await);
    for id in [moved_id, first_id, 999_999] {
        let v = app.booking("cancelAppointment", with(&p, json!({"appointmentId": id}))).await;
        assert_eq!(err_code(&v), "APPOINTMENT_RECEPTION_NOT_FOUND");
    }
    // Another patient's appointment cannot be cancelled by me either.
    let v = app.booking("getAppointmentReceptionsByPatient", who(&other)).await;
    let theirs = ok(&v)[0]["id"].as_u64().unwrap();
    let v = app.booking("cancelAppointment", with(&p, json!({"appointmentId": theirs}))).await;
    assert_eq!(err_code(&v), "APPOINTMENT_RECEPTION_NOT_FOUND");
    // Referral-only booking needs the referral.
    let referred = patient(2);
    let refs = app.booking("getReferralsInfo", who(&referred)).await;
    let rid = ok(&refs)[0]["id"].clone();
    let v = app
        .booking("getAvailableResourceScheduleInfo", with(&referred, json!({"availableResourceId": 701})))
        .await;
    assert_eq!(err_code(&v), "REFERRAL_REQUIRED");
    let (s, e, cr2) =
        first_slot_with(&app, &referred, json!({"availableResourceId": 701, "referralId": rid}), 0).await;
    let v = app
        .booking(
            "createAppointment",
            with(
                &referred,
                json!({"availableResourceId": 701, "complexResourceId": cr2, "startTime": s, "endTime": e}),
            ),
        )
        .await;
    assert_eq!(err_code(&v), "REFERRAL_REQUIRED");
    let v = app.booking("createAppointment", with(&referred, json!({"availableResourceId": 701, "complexResourceId": cr2, "startTime": s, "endTime": e, "referralId": rid}))).await;
    ok(&v);
    let refs = app.booking("getReferralsInfo", who(&referred)).await;
    assert_eq!(ok(&refs)[0]["countActiveAppointment"], 1);
}

#[tokio::test]
async fn a_repeated_request_id_books_once() {
    let app = TestApp::new().await;
    let p = patient(0);
    let (start, end, cr) = first_slot(&app, &p, 101, 1).await;
    let params = with(
        &p,
        json!({"availableResourceId": 101, "complexResourceId": cr, "startTime": start, "endTime": end, "requestId": "kiosk2-boot7-req41"}),
    );
    let mut ids = Vec::new();
    for _ in 0..5 {
        let v = app.booking("createAppointment", params.clone()).await;
        ids.push(ok(&v)["appointmentId"].as_u64().unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    let v = app.booking("getAppointmentReceptionsByPatient", who(&p)).await;
    assert_eq!(ok(&v).as_array().unwrap().len(), 1);
    // A failure is remembered too: a retry never succeeds where the first attempt failed.
    let other = patient(4);
    let taken = with(
        &other,
        json!({"availableResourceId": 101, "complexResourceId": cr, "startTime": start, "endTime": end, "requestId": "r-taken"}),
    );
    for _ in 0..3 {
        assert_eq!(err_code(&app.booking("createAppointment", taken.clone()).await), "SLOT_TAKEN");
    }
    // Cancel with a requestId, twice: OK both times.
    let c = with(&p, json!({"appointmentId": ids[0], "requestId": "cancel-1"}));
    ok(&app.booking("cancelAppointment", c.clone()).await);
    ok(&app.booking("cancelAppointment", c).await);
}

#[tokio::test]
async fn twenty_kiosks_race_for_one_slot() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let first = patient(0);
    let (start, end, cr) = first_slot(&app, &first, 102, 0).await;
    let mut tasks = Vec::new();
    let racers = therapist_patients(20);
    for i in racers {
        let app = app.clone();
        let params = with(
            &demo::patient(i),
            json!({"availableResourceId": 102, "complexResourceId": cr, "startTime": start, "endTime": end}),
        );
        tasks.push(tokio::spawn(async move { app.booking("createAppointment", params).await }));
    }
    let mut wins = 0;
    for t in tasks {
        let v = t.await.unwrap();
        if v.get("error").is_none() {
            wins += 1;
        } else {
            assert_eq!(err_code(&v), "SLOT_TAKEN", "{v}");
        }
    }
    assert_eq!(wins, 1);
}

/// Walk-ins arriving together are written together (one transaction, `central::walk_in`):
/// every ticket still gets its own number and place, a refusal in the group stays that
/// patient's, and a request sent twice while the first is being written is one ticket.
#[tokio::test]
async fn walk_ins_arriving_together_are_each_their_own_ticket() {
    let app = TestApp::new().await;
    let enq = |p: &demo::DemoPatient, rid: &str| with(p, json!({"lpuId": 1, "kioskId": 2, "requestId": rid}));
    // Request ids are the caller's text, and a group writes them into its SQL as literals:
    // quotes, dollar-quote tags, backslashes and a statement's end are only text.
    let rid = |n: usize| format!("r{n}'); DELETE FROM ticket; -- $v$ $v1$ \\' {n}$");
    let who: Vec<usize> = (0..50).filter(|&i| central::seed::attached(i)).take(30).collect();
    let mut calls: Vec<Value> = who.iter().enumerate().map(|(n, &i)| enq(&patient(i), &rid(n))).collect();
    // The same request again (a kiosk's retry) and the same patient under a new request.
    calls.push(enq(&patient(who[3]), &rid(3)));
    calls.push(enq(&patient(who[5]), "again"));
    calls.push(json!({"omsNumber": "7700000000000016", "birthDate": "1990-01-01", "lpuId": 1, "kioskId": 2, "requestId": "nobody"}));
    let answers =
        futures_util::future::join_all(calls.into_iter().map(|c| app.queue("enqueueWalkIn", c))).await;
    let (groups, grouped) = app.state.walk_in_groups();
    assert!(
        groups > 0 && grouped > 1,
        "no walk-ins were written together ({groups} groups, {grouped} tickets)"
    );
    assert_eq!(ok(&answers[3]), ok(&answers[30]), "a retried request is its first answer");
    let (first, second) = (&answers[5], &answers[31]);
    let refused = if first.get("error").is_some() { first } else { second };
    assert_eq!(err_code(refused), "ALREADY_IN_QUEUE");
    assert!(
        first.get("error").is_none() || second.get("error").is_none(),
        "one of patient 5's requests is a ticket"
    );
    assert_eq!(err_code(&answers[32]), "PATIENT_NOT_FOUND");
    let tickets: Vec<&Value> = answers
        .iter()
        .enumerate()
        .filter(|(i, a)| *i != 30 && a.get("result").is_some())
        .map(|(_, a)| ok(a))
        .collect();
    assert_eq!(tickets.len(), 30);
    let mut numbers: Vec<&str> = tickets.iter().map(|t| t["ticketNumber"].as_str().unwrap()).collect();
    numbers.sort_unstable();
    let expected: Vec<String> = (1..=30).map(|n| format!("Д-{n:03}")).collect();
    assert_eq!(numbers, expected);
    let mut places: Vec<u64> = tickets.iter().map(|t| t["position"].as_u64().unwrap()).collect();
    places.sort_unstable();
    assert_eq!(places, (0..30).collect::<Vec<u64>>());
    assert_eq!(ok(&app.queue("getQueueState", json!({"lpuId": 1})).await)["waiting"], 30);
    assert_eq!(app.state.walk_in_rollbacks(), 0, "every group was written as a group");
    // The retry is answered from what the group stored, quotes and all.
    assert_eq!(ok(&app.queue("enqueueWalkIn", enq(&patient(who[3]), &rid(3))).await), ok(&answers[3]));
}

#[tokio::test]
async fn walk_in_queue_numbering_and_rules() {
    let app = TestApp::new().await;
    let enq = |p: &demo::DemoPatient, lpu: u32, rid: &str| {
        with(p, json!({"lpuId": lpu, "kioskId": 2, "requestId": rid}))
    };
    let v = app.queue("enqueueWalkIn", enq(&patient(0), 1, "a")).await;
    assert_eq!(ok(&v)["ticketNumber"], "Д-001");
    assert_eq!(ok(&v)["position"], 0);
    let v = app.queue("enqueueWalkIn", enq(&patient(1), 1, "b")).await;
    assert_eq!(ok(&v)["ticketNumber"], "Д-002");
    assert_eq!(ok(&v)["position"], 1);
    assert!(ok(&v)["estimatedWaitMinutes"].as_u64().unwrap() > 0);
    // The same patient again: the existing ticket, not a new one.
    let v = app.queue("enqueueWalkIn", enq(&patient(0), 1, "c")).await;
    assert_eq!(err_code(&v), "ALREADY_IN_QUEUE");
    assert_eq!(v["error"]["data"]["ticket"]["ticketNumber"], "Д-001");
    // The same requestId five times: one ticket.
    for _ in 0..5 {
        let v = app.queue("enqueueWalkIn", enq(&patient(4), 1, "same")).await;
        assert_eq!(ok(&v)["ticketNumber"], "Д-003");
    }
    // Unknown patient.
    let v = app.queue("enqueueWalkIn", json!({"omsNumber": "7700000000000016", "birthDate": "1990-01-01", "lpuId": 1, "kioskId": 2, "requestId": "x"})).await;
    assert_eq!(err_code(&v), "PATIENT_NOT_FOUND");
    let state = app.queue("getQueueState", json!({"lpuId": 1})).await;
    assert_eq!(ok(&state)["waiting"], 3);
    // The doctor calls: issue order.
    let v = app.queue("callNext", json!({"lpuId": 1, "room": "214", "doctorId": 101})).await;
    assert_eq!(ok(&v)["ticketNumber"], "Д-001");
    let called_id = ok(&v)["ticketId"].as_str().unwrap().to_owned();
    ok(&app.queue("completeTicket", json!({"ticketId": called_id})).await);
    let v = app.queue("completeTicket", json!({"ticketId": called_id})).await;
    assert_eq!(err_code(&v), "TICKET_NOT_FOUND");
    let v = app.queue("callNext", json!({"lpuId": 1, "room": "215"})).await;
    let second = ok(&v)["ticketId"].as_str().unwrap().to_owned();
    ok(&app.queue("markNoShow", json!({"ticketId": second})).await);
    let state = app.queue("getQueueState", json!({"lpuId": 1})).await;
    assert_eq!(ok(&state)["waiting"], 1);
    assert_eq!(ok(&state)["called"][0]["ticketNumber"], "Д-002");
    assert_eq!(ok(&state)["called"][0]["room"], "215");
    ok(&app.queue("callNext", json!({"lpuId": 1, "room": "214"})).await);
    assert_eq!(
        ok(&app.queue("callNext", json!({"lpuId": 1, "room": "214"})).await),
        &Value::Null,
        "nobody waits"
    );
    // After a call, a patient may queue again (one *waiting* ticket per day).
    let v = app.queue("enqueueWalkIn", enq(&patient(0), 1, "again")).await;
    assert_eq!(ok(&v)["ticketNumber"], "Д-004");
    assert_eq!(app.state.walk_in_rollbacks(), 0, "each walk-in was written by the group path");
}

#[tokio::test]
async fn the_branch_queue_closes_outside_duty_hours() {
    let late: central::app::Clock =
        std::sync::Arc::new(|| domain::DateTime::new(now().date, 20, 30, 180).unwrap());
    let app = TestApp::with_clock(late, |_| {}).await;
    let v = app
        .queue("enqueueWalkIn", with(&patient(0), json!({"lpuId": 2, "kioskId": 2, "requestId": "late"})))
        .await;
    assert_eq!(err_code(&v), "QUEUE_CLOSED");
    // The main building keeps a duty doctor round the clock.
    ok(&app
        .queue(
            "enqueueWalkIn",
            with(&patient(0), json!({"lpuId": 1, "kioskId": 2, "requestId": "late-main"})),
        )
        .await);
}

#[tokio::test]
async fn numbers_restart_each_day() {
    let tomorrow: central::app::Clock =
        std::sync::Arc::new(|| domain::DateTime::new(now().date.add_days(1).unwrap(), 9, 0, 180).unwrap());
    let app = TestApp::new().await;
    ok(&app
        .queue("enqueueWalkIn", with(&patient(0), json!({"lpuId": 1, "kioskId": 2, "requestId": "d1"})))
        .await);
    let app2 = TestApp::with_clock(tomorrow, |_| {}).await;
    let v = app2
        .queue("enqueueWalkIn", with(&patient(0), json!({"lpuId": 1, "kioskId": 2, "requestId": "d2"})))
        .await;
    assert_eq!(ok(&v)["ticketNumber"], "Д-001");
}

#[tokio::test]
async fn offline_tickets_sync_exactly_once_in_issue_order() {
    let app = TestApp::new().await;
    // A central ticket issued at 10:00 by kiosk 3.
    ok(&app
        .call_as(
            KIOSK_3,
            QUEUE_PATH,
            "enqueueWalkIn",
            with(&patient(0), json!({"lpuId": 1, "kioskId": 3, "requestId": "online"})),
        )
        .await);
    // Kiosk 2 issued two tickets offline, at 09:50 and 10:05.
    let t = |p: &demo::DemoPatient, n: &str, hh: u32, mm: u32, rid: &str| {
        json!({"localNumber": n, "omsNumber": p.enp.expose(), "birthDate": p.birth_date.to_string(),
               "issuedAt": domain::DateTime::new(now().date, hh, mm, 180).unwrap(), "requestId": rid})
    };
    let batch = json!({"kioskId": 2, "tickets": [t(&patient(1), "К2-001", 9, 50, "k2-1"), t(&patient(4), "К2-002", 10, 5, "k2-2"),
        t(&demo::patient(9), "К2-003", 10, 6, "k2-3")]});
    let v = app.queue("syncOfflineTickets", batch.clone()).await;
    let r = ok(&v).as_array().unwrap();
    assert_eq!(r[0]["status"], "accepted");
    assert_eq!(r[0]["position"], 0, "issued before the central ticket: ahead of it");
    assert_eq!(r[1]["status"], "accepted");
    assert_eq!(r[1]["position"], 2);
    // Demo patient 9 is not attached, but the queue takes anyone insured; an unknown one is rejected.
    assert_eq!(r[2]["status"], "accepted");
    // The kiosk crashed before it saw the answer and sends the batch again: nothing doubles.
    let v = app.queue("syncOfflineTickets", batch).await;
    assert!(ok(&v).as_array().unwrap().iter().all(|t| t["status"] == "duplicate"));
    let state = app.queue("getQueueState", json!({"lpuId": 1})).await;
    assert_eq!(ok(&state)["waiting"], 4);
    let v = app.queue("callNext", json!({"lpuId": 1, "room": "101"})).await;
    assert_eq!(ok(&v)["ticketNumber"], "К2-001", "offline tickets keep the number on their paper");
    // The kiosk timed out on an enqueue that central did take, and printed К2-009 offline
    // under the same requestId: one ticket, carrying the number on the paper.
    let v = app
        .queue(
            "enqueueWalkIn",
            with(&patient(5), json!({"lpuId": 1, "kioskId": 2, "requestId": "lost-reply"})),
        )
        .await;
    assert_eq!(ok(&v)["ticketNumber"], "Д-002");
    let v = app
        .queue(
            "syncOfflineTickets",
            json!({"kioskId": 2, "tickets": [t(&patient(5), "К2-009", 10, 0, "lost-reply")]}),
        )
        .await;
    assert_eq!(ok(&v)[0]["status"], "accepted");
    let state = app.queue("getQueueState", json!({"lpuId": 1})).await;
    assert_eq!(ok(&state)["waiting"], 4, "relabelled, not added");
    let bad = json!({"kioskId": 2, "tickets": [{"localNumber": "К2-004", "omsNumber": "7700000000000016", "birthDate": "1990-01-01", "issuedAt": now(), "requestId": "k2-4"}]});
    let v = app.queue("syncOfflineTickets", bad).await;
    assert_eq!(ok(&v)[0]["status"], "rejected");
    assert_eq!(ok(&v)[0]["error"], "PATIENT_NOT_FOUND");
}

#[tokio::test]
async fn errors_never_carry_internals() {
    let app = TestApp::new().await;
    // Break the database under the service.
    sqlx::query("DROP TABLE ticket").execute(&app.state.store.pool).await.unwrap();
    let v = app.queue("getQueueState", json!({"lpuId": 1})).await;
    assert_eq!(err_code(&v), "INTERNAL");
    let text = v.to_string();
    assert!(!text.contains("ticket") && !text.to_lowercase().contains("sql"), "{text}");
}

mod malformed {
    use super::*;
    use proptest::prelude::*;

    /// One seeded service for all cases: seeding per case would dominate the run.
    fn shared() -> &'static (tokio::runtime::Runtime, TestApp) {
        static SHARED: std::sync::OnceLock<(tokio::runtime::Runtime, TestApp)> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let app = rt.block_on(TestApp::with(|s| s.ident_per_minute = usize::MAX));
            (rt, app)
        })
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::from),
            Just(json!("7700000000000016")),
            Just(json!("1948-03-05")),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("omsNumber".to_owned()),
                        Just("birthDate".to_owned()),
                        Just("lpuId".to_owned()),
                        Just("requestId".to_owned()),
                        Just("availableResourceId".to_owned()),
                        Just("ticketId".to_owned()),
                        Just("tickets".to_owned()),
                        "[a-z]{1,6}"
                    ],
                    inner,
                    0..5
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    const METHODS: [&str; 15] = [
        "getPatientInfo3",
        "getSpecialitiesInfo",
        "getDoctorsInfo",
        "getAvailableResourceScheduleInfo",
        "createAppointment",
        "shiftAppointment",
        "cancelAppointment",
        "getAppointmentReceptionsByPatient",
        "getReferralsInfo",
        "enqueueWalkIn",
        "getQueueState",
        "callNext",
        "completeTicket",
        "markNoShow",
        "syncOfflineTickets",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// Random bytes and random JSON-RPC shapes: always HTTP 200 with a JSON-RPC error or
        /// result, never a 500, never a panic.
        #[test]
        fn never_a_500(
            bytes in prop::collection::vec(any::<u8>(), 0..200),
            method in prop::sample::select(METHODS.to_vec()),
            params in arb_json(),
            id in arb_json(),
            queue in any::<bool>(),
        ) {
            let (rt, app) = shared();
            rt.block_on(async {
                let path = if queue { QUEUE_PATH } else { BOOKING_PATH };
                let (status, v) = app.raw(path, Some(TOKEN), bytes).await;
                prop_assert_eq!(status, 200);
                prop_assert!(v.get("error").is_some());
                let body = serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).unwrap();
                let (status, v) = app.raw(path, Some(TOKEN), body).await;
                prop_assert_eq!(status, 200);
                prop_assert!(v.get("error").is_some() || v.get("result").is_some(), "{}", v);
                if let Some(code) = v["error"]["code"].as_i64() {
                    prop_assert!(code != -32603, "internal error on malformed input: {}", v);
                }
                Ok(())
            })?;
        }
    }
}

#[tokio::test]
async fn a_database_from_before_meji_numbers_gets_the_column() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("central-old-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let db = path.display().to_string();
    let old = central::store::Store::open(&db).await.unwrap();
    // The doctor table as it was: no meji_id.
    let mut conn = old.pool.acquire().await.unwrap();
    for stmt in [
        "DROP TABLE doctor",
        "CREATE TABLE doctor (id BIGINT PRIMARY KEY, lpu_id BIGINT NOT NULL, last_name TEXT NOT NULL, first_name TEXT NOT NULL, middle_name TEXT NOT NULL, speciality_code TEXT NOT NULL, room TEXT NOT NULL, complex_resource_id BIGINT NOT NULL)",
        "INSERT INTO doctor VALUES (7, 1, 'Иванова', 'Мария', 'Петровна', '2011', '214', 70)",
    ] {
        // One connection: a schema change on one pooled connection may not be seen yet by the
        // next.
        sqlx::query(stmt).execute(&mut *conn).await.unwrap();
    }
    drop(conn);
    old.pool.close().await;
    let store = central::store::Store::open(&db).await.unwrap();
    let d = central::store::doctor(&store.pool, 7).await.unwrap().unwrap();
    assert_eq!((d.last_name.as_str(), d.meji_id), ("Иванова", 0), "kept, with the column added");
}

/// Tests and procedures by referral (LDP): listed with the referrals, never among the
/// specialities; booked with a room's schedule, never without the referral; the appointment
/// says how to prepare.
#[tokio::test]
async fn tests_and_procedures_are_booked_by_referral_with_a_room() {
    let app = TestApp::new().await;
    // Demo patient 2: a cardiologist, a blood test and an ECG.
    let p = patient(2);
    let specs = app.booking("getSpecialitiesInfo", who(&p)).await;
    assert!(
        ok(&specs)
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["code"].as_str().unwrap().len() == 4 && !s["code"].as_str().unwrap().starts_with('5'))
    );
    let refs = app.booking("getReferralsInfo", who(&p)).await;
    let refs = ok(&refs).as_array().unwrap().clone();
    assert_eq!(
        refs.iter().map(|r| r["type"].as_str().unwrap()).collect::<Vec<_>>(),
        ["REF_TO_DOCTOR", "REF_TO_LDP", "REF_TO_LDP"]
    );
    let blood = refs.iter().find(|r| r["toLdp"]["ldpTypeId"] == "5001").expect("a blood test referral");
    assert_eq!(blood["toLdp"]["ldpKind"], "lab");
    assert_eq!(blood["toDoctor"]["specialityName"], "Общий анализ крови", "named for strict EMIAS clients");
    // Without the referral: refused, in words about a test, not a doctor.
    let v = app.booking("getDoctorsInfo", with(&p, json!({"specialityId": "5001"}))).await;
    assert_eq!(err_code(&v), "REFERRAL_REQUIRED");
    assert!(v["error"]["message"].as_str().unwrap().starts_with("На «Общий анализ крови»"), "{v}");
    // With it: a room, with what it performs and no doctor.
    let rid = blood["id"].clone();
    let v = app.booking("getDoctorsInfo", with(&p, json!({"referralId": rid}))).await;
    let room = &ok(&v)[0];
    assert_eq!((room["id"].as_u64(), room["name"].as_str()), (Some(1101), Some("Процедурный кабинет")));
    assert!(room.get("mainDoctor").is_none(), "{room}");
    assert_eq!(room["ldpType"][0], json!({"code": "5001", "name": "Общий анализ крови"}));
    let (start, end, cr) =
        first_slot_with(&app, &p, json!({"availableResourceId": 1101, "referralId": rid}), 0).await;
    // Blood is taken in the morning only.
    let hour: u32 = start.as_str().unwrap()[11..13].parse().unwrap();
    assert!((8..11).contains(&hour), "{start}");
    let book = |referral: Value, request: &str| {
        let mut extra = json!({"availableResourceId": 1101, "complexResourceId": cr, "startTime": start,
            "endTime": end, "requestId": request});
        if !referral.is_null() {
            extra["referralId"] = referral;
        }
        with(&p, extra)
    };
    let v = app.booking("createAppointment", book(Value::Null, "no-referral")).await;
    assert_eq!(err_code(&v), "REFERRAL_REQUIRED");
    let v = app.booking("createAppointment", book(rid.clone(), "lab-1")).await;
    let id = ok(&v)["appointmentId"].clone();
    let mine = app.booking("getAppointmentReceptionsByPatient", who(&p)).await;
    let a = ok(&mine).as_array().unwrap().iter().find(|a| a["id"] == id).unwrap().clone();
    assert_eq!(a["roomNumber"], "105");
    assert_eq!(a["toDoctor"]["doctorFio"], "Процедурный кабинет");
    assert_eq!(a["toLdp"]["ldpKind"], "lab");
    assert!(a["toLdp"]["preparation"].as_str().unwrap().starts_with("Натощак"), "{a}");
    // The referral is used; a second blood test on it is the same test booked twice.
    let refs = app.booking("getReferralsInfo", who(&p)).await;
    let used = ok(&refs).as_array().unwrap().iter().find(|r| r["id"] == rid).unwrap().clone();
    assert_eq!(used["countActiveAppointment"], 1);
    let (start2, end2, _) =
        first_slot_with(&app, &p, json!({"availableResourceId": 1101, "referralId": rid}), 1).await;
    let v = app
        .booking(
            "createAppointment",
            with(
                &p,
                json!({"availableResourceId": 1101, "complexResourceId": cr, "startTime": start2,
                "endTime": end2, "referralId": rid, "requestId": "lab-2"}),
            ),
        )
        .await;
    assert_eq!(err_code(&v), "ALREADY_BOOKED", "{v}");
    // Somebody else's referral to the same test does not open the room to them.
    let other = patient(0);
    let v = app.booking("getDoctorsInfo", with(&other, json!({"referralId": rid}))).await;
    assert_eq!(err_code(&v), "REFERRAL_REQUIRED");
    // An expired referral to a procedure (demo patient 4's physiotherapy).
    let q = patient(4);
    let refs = app.booking("getReferralsInfo", who(&q)).await;
    let physio =
        ok(&refs).as_array().unwrap().iter().find(|r| r["toLdp"]["ldpKind"] == "procedure").unwrap().clone();
    let v = app.booking("getDoctorsInfo", with(&q, json!({"referralId": physio["id"]}))).await;
    assert_eq!(err_code(&v), "REFERRAL_EXPIRED");
}

/// Dentists and gynaecologists are booked on an attachment of their own kind: where it is
/// another clinic, the speciality says where and nothing here books it; where it is the branch,
/// only the branch's doctor is offered.
#[tokio::test]
async fn own_attachments_decide_the_dentist_and_the_gynaecologist() {
    let app = TestApp::new().await;
    // Demo patient 5: his dentist is the dental clinic № 9.
    let p = patient(5);
    let info = app.booking("getPatientInfo3", who(&p)).await;
    let kinds: Vec<(u64, u64)> = ok(&info)["attachments"]["attachment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["typeAttach"].as_u64().unwrap_or(0), a["lpu"]["id"].as_u64().unwrap()))
        .collect();
    assert_eq!(kinds, [(0, 1), (1, 50)], "general first, then dental");
    let specs = app.booking("getSpecialitiesInfo", who(&p)).await;
    let spec =
        |code: &str| ok(&specs).as_array().unwrap().iter().find(|s| s["code"] == code).unwrap().clone();
    assert_eq!(spec("2013")["attachedElsewhere"]["name"], "Стоматологическая поликлиника № 9");
    assert_eq!(spec("2013")["areaType"][0]["code"], "1");
    assert!(spec("2019").get("attachedElsewhere").is_none());
    let v = app.booking("getDoctorsInfo", with(&p, json!({"specialityId": "2013"}))).await;
    assert_eq!(err_code(&v), "PATIENT_NOT_ATTACHED");
    assert!(v["error"]["message"].as_str().unwrap().contains("ул. Зелёная, 5"), "{v}");
    let v =
        app.booking("getAvailableResourceScheduleInfo", with(&p, json!({"availableResourceId": 501}))).await;
    assert_eq!(err_code(&v), "PATIENT_NOT_ATTACHED");
    // Demo patient 6: her dentist is the branch's, her gynaecologist a women's clinic elsewhere.
    let q = patient(6);
    let v = app.booking("getDoctorsInfo", with(&q, json!({"specialityId": "2013"}))).await;
    let ids: Vec<u64> = ok(&v).as_array().unwrap().iter().map(|d| d["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [502], "the branch's dentist only");
    let v =
        app.booking("getAvailableResourceScheduleInfo", with(&q, json!({"availableResourceId": 501}))).await;
    assert!(v["error"]["message"].as_str().unwrap().contains("ул. Лесная, 3"), "hers is the branch's: {v}");
    let v = app.booking("getDoctorsInfo", with(&q, json!({"specialityId": "2001"}))).await;
    assert!(v["error"]["message"].as_str().unwrap().contains("Женская консультация № 3"), "{v}");
    // Everybody else: the general attachment serves, both dentists of the clinic.
    let r = patient(0);
    let v = app.booking("getDoctorsInfo", with(&r, json!({"specialityId": "2013"}))).await;
    assert_eq!(ok(&v).as_array().unwrap().len(), 2);
}

/// Blocks every free slot of `doctor`: the speciality has no free time left.
async fn fill(app: &TestApp, doctor: i64) {
    sqlx::query(
        "UPDATE slot SET blocked = 1 WHERE doctor_id = $1
         AND NOT EXISTS (SELECT 1 FROM appointment a WHERE a.slot_id = slot.id AND a.active = 1)",
    )
    .bind(doctor)
    .execute(&app.state.store.pool)
    .await
    .unwrap();
}

/// The waiting list: only when nothing is free; a cancellation is offered to the first in line
/// whose wishes it suits, held from everybody else; accepted once, whichever kiosk asks first;
/// declined, it goes to the next.
#[tokio::test]
async fn a_freed_slot_goes_to_the_waiting_list_in_order_and_is_booked_once() {
    let app = TestApp::new().await;
    let (first, second, holder) = (patient(0), patient(1), demo::patient(3));
    let join = |p: &demo::DemoPatient, part: &str, rid: &str| {
        with(p, json!({"specialityId": "2019", "part": part, "requestId": rid}))
    };
    // The ophthalmologist has free time: no list.
    let v = app.booking("joinWaitingList", join(&first, "any", "j0")).await;
    assert_eq!(err_code(&v), "SLOTS_AVAILABLE");
    fill(&app, 201).await;
    // The second patient wants afternoons only and joins first; the first takes any time.
    let v = app.booking("joinWaitingList", join(&second, "afternoon", "j1")).await;
    assert_eq!((ok(&v)["position"].as_u64(), ok(&v)["status"].as_str()), (Some(1), Some("waiting")));
    let v = app.booking("joinWaitingList", join(&first, "any", "j2")).await;
    let mine = ok(&v)["waitingListId"].clone();
    assert_eq!(ok(&v)["position"], 2);
    // Joining again is the same place, not a second one.
    let again = app.booking("joinWaitingList", join(&first, "morning", "j3")).await;
    assert_eq!(ok(&again)["waitingListId"], mine);
    let bad = app.booking("joinWaitingList", join(&first, "evening", "j4")).await;
    assert_eq!(err_code(&bad), "INVALID_PARAMS");
    // Who already holds an ophthalmologist's appointment has nothing to wait for.
    let v = app.booking("joinWaitingList", join(&holder, "any", "j5")).await;
    assert_eq!(err_code(&v), "ALREADY_BOOKED");
    // Demo patient 3 cancels the ophthalmologist's morning appointment.
    let held = app.booking("getAppointmentReceptionsByPatient", who(&holder)).await;
    let appointment = ok(&held)[0].clone();
    assert_eq!(appointment["toDoctor"]["specialityId"], "2019");
    let v = app
        .booking(
            "cancelAppointment",
            with(&holder, json!({"appointmentId": appointment["id"], "requestId": "c"})),
        )
        .await;
    assert_eq!(ok(&v), "OK");
    // Morning: not for the afternoon patient ahead; offered to the first patient, held.
    let list = app.booking("getWaitingList", who(&second)).await;
    assert_eq!(ok(&list)[0]["status"], "waiting");
    let list = app.booking("getWaitingList", who(&first)).await;
    let entry = ok(&list)[0].clone();
    assert_eq!(entry["status"], "offered", "{entry}");
    assert_eq!(entry["offer"]["startTime"], appointment["startTime"]);
    let v = app.booking("getDoctorsInfo", with(&patient(2), json!({"specialityId": "2019"}))).await;
    assert!(ok(&v)[0]["complexResource"][0].get("room").is_none(), "held: nobody else sees it");
    // Two kiosks accept at once: one appointment, the other told the offer is gone.
    let accept = |rid: &str| with(&first, json!({"waitingListId": mine, "requestId": rid}));
    let (a, b) = tokio::join!(
        app.booking("acceptWaitingListOffer", accept("kiosk-2")),
        app.booking("acceptWaitingListOffer", accept("kiosk-3"))
    );
    let won: Vec<&Value> = [&a, &b].into_iter().filter(|v| v.get("result").is_some()).collect();
    assert_eq!(won.len(), 1, "exactly one kiosk books it: {a} {b}");
    let lost = if a.get("result").is_some() { &b } else { &a };
    assert_eq!(err_code(lost), "OFFER_GONE");
    let booked = app.booking("getAppointmentReceptionsByPatient", who(&first)).await;
    let at: Vec<&Value> = ok(&booked)
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["startTime"] == appointment["startTime"])
        .collect();
    assert_eq!(at.len(), 1, "booked once");
    assert!(ok(&app.booking("getWaitingList", who(&first)).await).as_array().unwrap().is_empty());
    // An entry that is not the patient's (or no longer active) is gone.
    let v = app.booking("declineWaitingListOffer", with(&second, json!({"waitingListId": 999_999}))).await;
    assert_eq!(err_code(&v), "OFFER_GONE");
}

/// A clinic that sees children and adults: a child is offered the paediatrician, never the
/// therapist, and the other way round; the limit holds at booking too.
#[tokio::test]
async fn children_see_the_paediatrician_and_adults_the_therapist() {
    let app = TestApp::new().await;
    let (child, adult) = (patient(5), patient(0));
    assert!(child.birth_date.age_on(now().date) < 18 && adult.birth_date.age_on(now().date) >= 18);
    let codes = |v: &Value| -> Vec<String> {
        ok(v).as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap().to_owned()).collect()
    };
    let theirs = codes(&app.booking("getSpecialitiesInfo", who(&child)).await);
    assert!(theirs.contains(&"2012".into()) && !theirs.contains(&"2011".into()), "{theirs:?}");
    let theirs = codes(&app.booking("getSpecialitiesInfo", who(&adult)).await);
    assert!(theirs.contains(&"2011".into()) && !theirs.contains(&"2012".into()), "{theirs:?}");
    let v = app.booking("getDoctorsInfo", with(&child, json!({"specialityId": "2011"}))).await;
    assert_eq!(err_code(&v), "AGE_LIMIT");
    assert!(v["error"]["message"].as_str().unwrap().contains("с 18 лет"), "{v}");
    let v = app.booking("getDoctorsInfo", with(&adult, json!({"specialityId": "2012"}))).await;
    assert!(v["error"]["message"].as_str().unwrap().contains("детей до 18 лет"), "{v}");
    let v = app.booking("getDoctorsInfo", with(&child, json!({"specialityId": "2012"}))).await;
    assert_eq!(ok(&v)[0]["name"], "Голубева Светлана Андреевна");
}
