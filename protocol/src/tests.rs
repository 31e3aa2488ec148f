//! Serde round trips for every method's params and result (samples shaped as in
//! `shared/specs/central-api.md`), and the readers' tolerance and strictness.

use serde_json::{Value, json};

use crate::*;

#[test]
fn tolerant_where_clients_vary() {
    let p: DoctorsParams = serde_json::from_value(json!({
        "omsNumber": 7700000000000016u64, "birthDate": "1948-03-05", "specialityId": 2011
    }))
    .unwrap();
    assert_eq!(p.speciality_id.as_deref(), Some("2011"));
    assert_eq!(p.patient.oms_number.expose(), "7700000000000016");
    let a: Attachments = serde_json::from_value(json!({"attachment": {}})).unwrap();
    assert!(a.attachment.is_empty());
    let s: ScheduleInfo = serde_json::from_value(json!({
        "availableResource": {"id": "5", "lpuId": 1, "name": "x", "mainDoctor": {
            "specialityName": "Терапевт", "specialityId": "2011", "firstName": "М", "lastName": "И"}}
    }))
    .unwrap();
    assert!(s.schedule_of_day.is_empty(), "absent scheduleOfDay means nothing free");
    assert_eq!(s.available_resource.main_doctor.unwrap().second_name, None);
}

#[test]
fn strict_where_it_matters() {
    assert!(
        serde_json::from_value::<PatientParams>(json!({"omsNumber": "123", "birthDate": "1948-03-05"}))
            .is_err()
    );
    assert!(
        serde_json::from_value::<PatientParams>(
            json!({"omsNumber": "7700000000000016", "birthDate": "05.03.1948"})
        )
        .is_err()
    );
}

#[test]
fn feed_events_are_tagged() {
    let e = FeedEvent::Waiting { seq: 3, waiting: 7 };
    assert_eq!(serde_json::to_value(&e).unwrap(), json!({"type": "waiting", "seq": 3, "waiting": 7}));
    let r: FeedRequest = serde_json::from_value(json!({"type": "resume", "afterSeq": 12})).unwrap();
    assert_eq!(r, FeedRequest::Resume { after_seq: 12 });
}

#[test]
fn debug_of_patient_params_is_masked() {
    let p: PatientParams =
        serde_json::from_value(json!({"omsNumber": "7700000000000016", "birthDate": "1948-03-05"})).unwrap();
    let s = format!("{p:?}");
    assert!(!s.contains("7700000000000016") && !s.contains("1948"), "{s}");
}

/// Reads `sample` as `T`, writes it back, and requires the same JSON: no field dropped,
/// renamed or retyped on the way.
fn same_after_round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(what: &str, sample: Value) {
    let parsed: T =
        serde_json::from_value(sample.clone()).unwrap_or_else(|e| panic!("{what}: {e}\n{sample}"));
    let written = serde_json::to_value(&parsed).unwrap();
    assert_eq!(written, sample, "{what} changed on a round trip");
}

fn round_trip<M: Rpc>(params: Value, result: Value) {
    same_after_round_trip::<M::Params>(&format!("{} params", M::METHOD), params);
    same_after_round_trip::<M::Result>(&format!("{} result", M::METHOD), result);
}

fn patient() -> Value {
    json!({"omsNumber": "7700000000000016", "birthDate": "1948-03-05"})
}

fn with(extra: Value) -> Value {
    let mut v = patient();
    v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    v
}

fn doctor() -> Value {
    json!({"id": 5, "lpuId": 1, "name": "Иванова Мария Петровна", "arType": 1,
        "specialityChangeAbility": false, "arSpecialityId": 2011, "arSpecialityName": "Терапевт",
        "mainDoctor": {"specialityName": "Терапевт", "specialityId": 2011, "firstName": "Мария",
            "lastName": "Иванова", "secondName": "Петровна", "mejiId": 10005, "employeeId": 5},
        "receptionType": [{"code": "556", "name": "Первичный приём", "primary": "true", "home": "false"}],
        "ldpType": [{"code": "A09.05.023", "name": "Глюкоза крови"}], "samplingType": [],
        "complexResource": [{"id": 105, "name": "Кабинет 214", "room": {"id": 105, "number": "214",
            "lpuId": 1, "lpuShortName": "ГП 1", "addressPointId": 1, "defaultAddress": "ул. Ленина, 1",
            "availabilityDate": "2026-11-24"}}],
        "district": false, "replacement": false, "nondistrict": true, "availableByReferral": false})
}

#[test]
fn every_method_round_trips() {
    let slot = json!({"availableResourceId": 5, "complexResourceId": 105,
        "startTime": "2026-11-24T10:00:00+03:00", "endTime": "2026-11-24T10:20:00+03:00"});
    let reception = json!([{"id": 7, "type": "RECEPTION", "startTime": "2026-11-24T10:00:00+03:00",
        "endTime": "2026-11-24T10:20:00+03:00", "nameLpu": "ГП 1", "lpuAddress": "ул. Ленина, 1",
        "roomNumber": "214", "toDoctor": {"doctorFio": "Иванова М. П.", "specialityName": "Терапевт",
        "specialityId": "2011", "receptionTypeId": "556"}, "referral": null, "appointmentNumber": "A-7"}]);
    let ticket = json!({"ticketId": "t1", "ticketNumber": "Д-017", "issuedAt": "2026-11-23T10:00:00+03:00",
        "position": 3, "estimatedWaitMinutes": 15});
    // A match, so that a new method cannot be added without its sample here.
    for &m in Method::ALL {
        match m {
            Method::GetPatientInfo3 => round_trip::<call::GetPatientInfo3>(
                with(json!({"typeAttach": [0, 1, 2], "onlyMoscowPolicy": false})),
                json!({"attachments": {"attachment": [{"lpu": {"id": 1, "name": "ГП 1", "address": "ул. Ленина, 1"},
                    "createDate": "2020-01-15"}]},
                    "patient": {"lastName": "Петрова", "firstName": "Анна", "middleName": "Ивановна", "sex": "female"}}),
            ),
            Method::GetSpecialitiesInfo => round_trip::<call::GetSpecialitiesInfo>(
                patient(),
                json!([{"code": "2011", "name": "Терапевт", "male": true, "female": true, "areaType": [],
                    "therapeutic": true, "isMultipleLpuSpeciality": false, "isComplaintSpeciality": false,
                    "firstLevel": true}]),
            ),
            Method::GetDoctorsInfo => round_trip::<call::GetDoctorsInfo>(
                with(json!({"specialityId": "2011", "appointmentId": 7})),
                json!([doctor()]),
            ),
            Method::GetAvailableResourceScheduleInfo => round_trip::<call::GetAvailableResourceScheduleInfo>(
                with(
                    json!({"availableResourceId": 5, "complexResourceId": 105, "referralId": 123456789012u64}),
                ),
                json!({"availableResource": doctor(), "scheduleOfDay": [{"date": "2026-11-24",
                    "scheduleBySlot": [{"complexResourceId": 105, "cabinetNumber": "214",
                    "slot": [{"startTime": "2026-11-24T10:00:00+03:00", "endTime": "2026-11-24T10:20:00+03:00"}]}]}]}),
            ),
            Method::CreateAppointment => round_trip::<call::CreateAppointment>(
                with(json!({"receptionTypeId": "556", "requestId": "k2-1"})).merged(&slot),
                json!({"appointmentId": 7, "appointmentNumber": "A-7"}),
            ),
            Method::ShiftAppointment => round_trip::<call::ShiftAppointment>(
                with(json!({"referralId": 123456789012u64, "appointmentId": 7, "requestId": "k2-2"}))
                    .merged(&slot),
                json!({"appointmentId": 8, "appointmentNumber": "A-8"}),
            ),
            Method::CancelAppointment => round_trip::<call::CancelAppointment>(
                with(json!({"appointmentId": 7, "requestId": "k2-3"})),
                json!("OK"),
            ),
            Method::GetAppointmentReceptionsByPatient => {
                round_trip::<call::GetAppointmentReceptionsByPatient>(patient(), reception.clone())
            }
            Method::GetReferralsInfo => round_trip::<call::GetReferralsInfo>(
                patient(),
                json!([{"id": 123456789012u64, "number": "Н-1", "startTime": "2026-11-01", "endTime": "2026-12-31",
                    "type": "REF_TO_DOCTOR", "lpuId": 1, "lpuName": "ГП 1",
                    "toDoctor": {"specialityId": "2025", "specialityName": "Кардиолог", "receptionTypeId": "556"},
                    "countActiveAppointment": 0}]),
            ),
            Method::JoinWaitingList => round_trip::<call::JoinWaitingList>(
                with(
                    json!({"specialityId": "2019", "part": "morning", "weekdays": [1, 3], "requestId": "k2-6"}),
                ),
                json!({"waitingListId": 3, "specialityId": "2019", "specialityName": "Офтальмолог",
                    "part": "morning", "weekdays": [1, 3], "position": 2, "status": "waiting",
                    "createdAt": "2026-11-23T10:00:00+03:00"}),
            ),
            Method::GetWaitingList => round_trip::<call::GetWaitingList>(
                patient(),
                json!([{"waitingListId": 3, "specialityId": "2019", "specialityName": "Офтальмолог",
                    "part": "any", "weekdays": [], "position": 1, "status": "offered",
                    "createdAt": "2026-11-23T10:00:00+03:00", "offer": {"availableResourceId": 201,
                    "complexResourceId": 2010, "doctorName": "Кузнецова Елена Сергеевна", "roomNumber": "310",
                    "lpuAddress": "ул. Садовая, 12", "startTime": "2026-11-24T08:20:00+03:00",
                    "endTime": "2026-11-24T08:40:00+03:00"}}]),
            ),
            Method::AcceptWaitingListOffer => round_trip::<call::AcceptWaitingListOffer>(
                with(json!({"waitingListId": 3, "requestId": "k2-7"})),
                json!({"appointmentId": 9, "appointmentNumber": "1-000009"}),
            ),
            Method::DeclineWaitingListOffer => round_trip::<call::DeclineWaitingListOffer>(
                with(json!({"waitingListId": 3, "requestId": "k2-8"})),
                json!("OK"),
            ),
            Method::EnqueueWalkIn => round_trip::<call::EnqueueWalkIn>(
                with(json!({"lpuId": 1, "kioskId": 2, "requestId": "k2-4"})),
                ticket.clone(),
            ),
            Method::GetQueueState => round_trip::<call::GetQueueState>(
                json!({"lpuId": 1}),
                json!({"lpuId": 1, "waiting": 4, "called": [{"ticketNumber": "Д-001", "room": "214",
                    "calledAt": "2026-11-23T09:40:00+03:00"}], "averageWaitMinutes": 12}),
            ),
            Method::CallNext => round_trip::<call::CallNext>(
                json!({"lpuId": 1, "room": "214", "doctorId": 5}),
                json!({"ticketId": "t1", "ticketNumber": "Д-001", "room": "214", "calledAt": "2026-11-23T09:40:00+03:00"}),
            ),
            Method::CompleteTicket => {
                round_trip::<call::CompleteTicket>(json!({"ticketId": "t1"}), json!("OK"))
            }
            Method::MarkNoShow => round_trip::<call::MarkNoShow>(json!({"ticketId": "t1"}), json!("OK")),
            Method::RecallTicket => round_trip::<call::RecallTicket>(json!({"ticketId": "t1"}), json!("OK")),
            Method::ReportDeviceStatus => round_trip::<call::ReportDeviceStatus>(
                json!({"kioskId": 2, "version": "0.1.0", "printer": "ok", "scanner": "ok", "cardReader": "none",
                    "journalBacklog": 0, "journalRejected": 0, "helpRequested": false}),
                json!("OK"),
            ),
            Method::SyncOfflineTickets => round_trip::<call::SyncOfflineTickets>(
                json!({"kioskId": 2, "lpuId": 1, "tickets": [{"localNumber": "К2-001", "omsNumber": "7700000000000016",
                    "birthDate": "1948-03-05", "issuedAt": "2026-11-23T09:00:00+03:00", "requestId": "k2-5"}]}),
                json!([{"requestId": "k2-5", "localNumber": "К2-001", "status": "accepted", "ticketId": "t9",
                    "position": 2, "error": null}]),
            ),
        }
    }
}

trait Merged {
    fn merged(self, other: &Value) -> Value;
}

impl Merged for Value {
    fn merged(mut self, other: &Value) -> Value {
        self.as_object_mut().unwrap().extend(other.as_object().unwrap().clone());
        self
    }
}

#[test]
fn methods_are_found_by_endpoint_and_name_only() {
    for &m in Method::ALL {
        assert_eq!(Method::parse(m.endpoint(), m.name()), Some(m));
        let other = Endpoint::ALL.into_iter().find(|e| *e != m.endpoint()).unwrap();
        assert_eq!(Method::parse(other, m.name()), None, "{m} is not served on the other endpoint");
    }
    assert_eq!(Method::parse(Endpoint::Booking, "getpatientinfo3"), None);
    assert!(Method::CreateAppointment.writes() && !Method::GetDoctorsInfo.writes());
}

#[test]
fn callnext_with_nobody_waiting_is_null() {
    let r: <call::CallNext as Rpc>::Result = serde_json::from_value(Value::Null).unwrap();
    assert_eq!(r, None);
}

#[test]
fn lists_read_empty_objects_and_write_arrays() {
    let l: List<SpecialityInfo> = serde_json::from_value(json!({})).unwrap();
    assert!(l.0.is_empty());
    assert_eq!(serde_json::to_value(&l).unwrap(), json!([]));
}

#[test]
fn doctors_are_read_in_the_shapes_other_servers_send_and_written_in_the_real_ones() {
    // Ids as strings, reception flags as JSON booleans, null ids: still a doctor.
    let loose = doctor().merged(&json!({"arSpecialityId": "2011", "receptionType":
        [{"code": 556, "name": "Первичный приём", "primary": true, "home": false}]}));
    let mut loose = loose;
    loose["mainDoctor"]["specialityId"] = json!("2011");
    loose["mainDoctor"]["mejiId"] = Value::Null;
    loose["complexResource"][0]["room"]["addressPointId"] = Value::Null;
    let d: DoctorInfo = serde_json::from_value(loose).unwrap();
    let main = d.main_doctor.clone().unwrap();
    assert_eq!((main.speciality_id, d.ar_speciality_id, main.meji_id), (2011, Some(2011), None));
    assert!(d.reception_type[0].primary && !d.reception_type[0].home);
    // Written back in the real service's types: integers, "true"/"false", no null id.
    let out = serde_json::to_value(&d).unwrap();
    assert_eq!(out["arSpecialityId"], json!(2011));
    assert_eq!(out["mainDoctor"]["specialityId"], json!(2011));
    assert_eq!(out["receptionType"][0]["primary"], json!("true"));
    assert!(out["mainDoctor"].get("mejiId").is_none(), "an unknown id is left out, never null");
}

#[test]
fn a_board_only_reads_and_reports_itself_and_every_role_has_a_name() {
    for r in Role::ALL {
        assert_eq!(r.name().parse::<Role>(), Ok(r));
        assert_eq!(serde_json::to_value(r).unwrap(), json!(r.name()));
    }
    assert!("root".parse::<Role>().is_err());
    let board: Vec<Method> = Method::ALL.iter().copied().filter(|m| auth::may(Role::Board, *m)).collect();
    // A board reads the queue and reports its own health; it changes nothing of the queue.
    assert_eq!(board, [Method::GetQueueState, Method::ReportDeviceStatus], "a board token is read-only");
    assert!(board.iter().all(|m| !m.writes()));
    assert!(Method::ALL.iter().all(|m| !auth::allowed(*m).is_empty()), "every method has someone");
    for &m in Method::ALL {
        if auth::books(m) {
            assert!(m.writes() && auth::identifies_patient(m), "{m}");
        }
    }
}

#[test]
fn a_test_room_has_ldp_types_and_no_doctor() {
    let room = json!({"id": 1101, "lpuId": 1, "name": "Процедурный кабинет", "arType": 1,
        "specialityChangeAbility": false, "arSpecialityId": 5001, "arSpecialityName": "Общий анализ крови",
        "receptionType": [], "ldpType": [{"code": "5001", "name": "Общий анализ крови"}], "samplingType": [],
        "complexResource": [], "district": false, "replacement": false, "nondistrict": true,
        "availableByReferral": true});
    let d: DoctorInfo = serde_json::from_value(room).unwrap();
    assert!(d.main_doctor.is_none());
    assert_eq!(d.ldp_type[0].code, "5001");
    let out = serde_json::to_value(&d).unwrap();
    assert!(out.get("mainDoctor").is_none(), "absent, not null: strict clients reject null");
    let referral: ReferralInfo = serde_json::from_value(json!({"id": 100000001002u64, "number": "НА-01002",
        "startTime": "2026-11-18", "endTime": "2026-12-23", "type": "REF_TO_LDP", "lpuId": 1, "lpuName": "ГП",
        "toDoctor": {"specialityId": "5001", "specialityName": "Общий анализ крови"},
        "toLdp": {"ldpTypeId": 5001, "ldpTypeName": "Общий анализ крови", "ldpKind": "lab",
                  "preparation": "Натощак"}, "countActiveAppointment": 0}))
    .unwrap();
    let ldp = referral.to_ldp.unwrap();
    assert_eq!(
        (ldp.ldp_type_id.as_str(), ldp.ldp_kind.as_str(), referral.kind.as_str()),
        ("5001", "lab", REF_TO_LDP)
    );
}
