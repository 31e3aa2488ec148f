//! The kiosk's central client against the real `central` on loopback: every call round-trips;
//! behind a fault-injecting proxy every failure becomes a plain message, nothing panics and no
//! write is applied twice; the queue feed survives a central restart.

use std::sync::Arc;
use std::time::Duration;

use central::app::{AppState, Clock, serve};
use central::store::Store;
use domain::demo;
use domain::{BirthDate, Date, DateTime, DoctorId, KioskId, LpuId};
use infomat_tests::proxy::{Fault, Proxy};
use kiosk::central_link::client::Client;
use kiosk::central_link::executor::CentralRuntime;
use kiosk::config::CentralConfig;
use kiosk::session::{CentralCall, CentralError, Credentials, DoctorQuery, Event, Problem, Reply, RequestId};

fn now() -> DateTime {
    DateTime::new(Date::from_ymd(2026, 11, 23).unwrap(), 10, 0, 180).unwrap()
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A doctor of clinic 1 (only doctors call patients).
const DOCTOR: &str = "doctor-1";

struct Central {
    addr: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start_central(db: &str, addr: &str) -> Central {
    let store = Store::open(db).await.unwrap();
    central::seed::seed(&store, now().date).await.unwrap();
    // Kiosk 2's token, and a doctor's for the calls the board shows.
    let mut tokens: central::auth::Tokens = std::collections::HashMap::from([("k2".to_owned(), 2)]).into();
    tokens.add(DOCTOR, central::auth::Identity::new(protocol::Role::Doctor, 1, None)).unwrap();
    let clock: Clock = Arc::new(now);
    let state = Arc::new(AppState::new(store, tokens, clock));
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, state, async {
        let _ = stopped.await;
    }));
    Central { addr, stop: Some(stop), task }
}

impl Central {
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("graceful shutdown finishes");
    }
}

fn runtime(url: &str, journal: &std::path::Path) -> CentralRuntime {
    runtime_as(url, journal, "k2", 2)
}

fn creds(i: usize) -> Credentials {
    let p = demo::patient(i);
    Credentials { enp: p.enp, birth_date: BirthDate(p.birth_date) }
}

async fn call(
    rt: &CentralRuntime,
    req: u64,
    who: &Credentials,
    c: CentralCall,
) -> Result<Reply, CentralError> {
    match rt.handle(RequestId(req), *who, c).await {
        Event::Central { result, .. } => result,
        other => panic!("unexpected event {other:?}"),
    }
}

async fn appointments_in_db(db: &str, enp: &str) -> i64 {
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&central::store::db_url(db)).await.unwrap();
    sqlx::query("SELECT COUNT(*) FROM appointment WHERE enp = $1 AND active = 1")
        .bind(enp)
        .fetch_one(&pool)
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_round_trips() {
    let dir = tmp("roundtrip");
    let c = start_central(&dir.join("c.sqlite").display().to_string(), "127.0.0.1:0").await;
    let rt = runtime(&format!("http://{}", c.addr), &dir.join("journal"));
    let me = creds(0);
    let Ok(Reply::Identified(p)) = call(&rt, 1, &me, CentralCall::Identify).await else { panic!("identify") };
    assert_eq!(p.name.last.expose(), demo::patient(0).name.last.expose());
    assert_eq!(p.attached_lpu, Some(LpuId(1)));
    let Ok(Reply::Specialities(s)) = call(&rt, 2, &me, CentralCall::Specialities).await else { panic!() };
    assert_eq!(s.len(), 10);
    let query = DoctorQuery::Speciality { code: "2011".into(), name: "Терапевт".into() };
    let Ok(Reply::Doctors(d)) =
        call(&rt, 3, &me, CentralCall::Doctors { query: query.clone(), rescheduling: None }).await
    else {
        panic!()
    };
    assert_eq!(d.len(), 3);
    assert!(d.iter().all(|d| d.nearest_free.is_some() && d.cabinet.is_some()));
    let doc = d.iter().find(|d| d.id == DoctorId(101)).unwrap().clone();
    let sched = CentralCall::Schedule {
        doctor: doc.id,
        complex_resource_id: doc.complex_resource_id,
        query: query.clone(),
        rescheduling: None,
    };
    let Ok(Reply::Schedule(days)) = call(&rt, 4, &me, sched).await else { panic!() };
    let slot = days[0].slots[0].clone();
    let Ok(Reply::Booked(a)) = call(
        &rt,
        5,
        &me,
        CentralCall::CreateAppointment { doctor: doc.id, slot: slot.clone(), referral: None },
    )
    .await
    else {
        panic!()
    };
    assert_eq!((a.room.as_str(), a.start), ("214", slot.start));
    assert_eq!(a.doctor_name, "Иванова Мария Петровна");
    let Ok(Reply::Appointments(list)) = call(&rt, 6, &me, CentralCall::Appointments).await else { panic!() };
    assert_eq!(list, vec![a.clone()]);
    let other = days[0].slots[1].clone();
    let Ok(Reply::Booked(moved)) = call(
        &rt,
        7,
        &me,
        CentralCall::ShiftAppointment { appointment: a.id, doctor: doc.id, slot: other.clone() },
    )
    .await
    else {
        panic!()
    };
    assert_eq!(moved.start, other.start);
    assert_eq!(
        call(&rt, 8, &me, CentralCall::CancelAppointment { appointment: moved.id }).await,
        Ok(Reply::Cancelled)
    );
    assert_eq!(
        call(&rt, 9, &me, CentralCall::CancelAppointment { appointment: moved.id }).await,
        Err(CentralError::AppointmentNotFound)
    );
    let Ok(Reply::Referrals(r)) = call(&rt, 10, &creds(2), CentralCall::Referrals).await else { panic!() };
    assert_eq!(r[0].speciality_code, "2045");
    let Ok(Reply::Ticket(t)) = call(&rt, 11, &me, CentralCall::EnqueueWalkIn).await else { panic!() };
    assert_eq!((t.number.0.as_str(), t.offline), ("Д-001", false));
    let Err(CentralError::AlreadyInQueue(again)) = call(&rt, 12, &me, CentralCall::EnqueueWalkIn).await
    else {
        panic!()
    };
    assert_eq!(again.number, t.number);
    let stranger = Credentials {
        enp: domain::Enp::parse("7700000000000016").unwrap(),
        birth_date: BirthDate(Date::from_ymd(1990, 1, 1).unwrap()),
    };
    assert_eq!(call(&rt, 13, &stranger, CentralCall::Identify).await, Err(CentralError::PatientNotFound));
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_become_plain_messages_and_writes_apply_once() {
    let dir = tmp("faults");
    let db = dir.join("c.sqlite").display().to_string();
    let c = start_central(&db, "127.0.0.1:0").await;
    let proxy = Proxy::start(c.addr.clone()).await;
    let rt = runtime(&proxy.url(), &dir.join("journal"));
    let me = creds(0);
    let faults = [
        Fault::Drop,
        Fault::Delay(Duration::from_millis(900)),
        Fault::Cut,
        Fault::ServerError,
        Fault::Garbage,
    ];
    for (i, f) in faults.into_iter().enumerate() {
        proxy.set(f);
        let r = call(&rt, 100 + i as u64, &me, CentralCall::Specialities).await;
        let e = r.expect_err("a fault is an error");
        assert!(matches!(e, CentralError::Unreachable | CentralError::BadReply), "{f:?}: {e:?}");
        // What the patient reads: one plain sentence, with the registry phone when unreachable.
        let text = Problem::from_central(&e).message(kiosk::session::Lang::Ru, "+7 495 000-00-00");
        assert!(!text.is_empty() && !text.contains("HTTP") && !text.contains("JSON"), "{text}");
    }

    // A booking whose answers never come back (the server did it; the kiosk does not know):
    // every retry carries the same requestId, so there is still exactly one appointment.
    proxy.set(Fault::None);
    let query = DoctorQuery::Speciality { code: "2011".into(), name: "Терапевт".into() };
    let Ok(Reply::Schedule(days)) = call(
        &rt,
        200,
        &me,
        CentralCall::Schedule {
            doctor: DoctorId(102),
            complex_resource_id: Some(1020),
            query,
            rescheduling: None,
        },
    )
    .await
    else {
        panic!()
    };
    for (i, f) in [Fault::Delay(Duration::from_millis(900)), Fault::Cut, Fault::GarbageAfterForward]
        .into_iter()
        .enumerate()
    {
        proxy.set(f);
        let before = proxy.forwarded();
        let slot = days[0].slots[i].clone();
        let r = call(
            &rt,
            300 + i as u64,
            &me,
            CentralCall::CreateAppointment { doctor: DoctorId(102), slot, referral: None },
        )
        .await;
        assert!(r.is_err(), "{f:?}");
        assert!(proxy.forwarded() - before >= 2, "{f:?}: the write was retried");
        // Cancel what the first attempt did, so the next round can book the same speciality.
        proxy.set(Fault::None);
        assert_eq!(appointments_in_db(&db, &me.enp.expose()).await, 1, "{f:?}: applied once");
        let Ok(Reply::Appointments(list)) = call(&rt, 400 + i as u64, &me, CentralCall::Appointments).await
        else {
            panic!()
        };
        assert_eq!(
            call(&rt, 500 + i as u64, &me, CentralCall::CancelAppointment { appointment: list[0].id }).await,
            Ok(Reply::Cancelled)
        );
    }

    // A walk-in whose answer is lost: the kiosk issues an offline ticket under the same key;
    // the sync relabels central's ticket instead of adding a second one.
    proxy.set(Fault::GarbageAfterForward);
    let Ok(Reply::Ticket(t)) = call(&rt, 600, &me, CentralCall::EnqueueWalkIn).await else { panic!() };
    assert!(t.offline);
    assert_eq!(t.number.0, "К2-001");
    proxy.set(Fault::None);
    let report = rt.sync().await.unwrap();
    assert_eq!((report.confirmed, report.still_pending), (1, 0));
    let v =
        rt.client.call::<protocol::call::GetQueueState>(&protocol::LpuParams { lpu_id: 1 }).await.unwrap();
    assert_eq!(v.waiting, 1, "one ticket, not two");
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_resumes_across_a_central_restart() {
    use kiosk::central_link::queue_feed::{Board, FeedTarget, run};
    let dir = tmp("feed");
    let db = dir.join("c.sqlite").display().to_string();
    let c = start_central(&db, "127.0.0.1:0").await;
    let addr = c.addr.clone();
    let rt = runtime(&format!("http://{addr}"), &dir.join("journal"));
    for i in [0, 1, 4] {
        let Ok(Reply::Ticket(_)) = call(&rt, i as u64, &creds(i), CentralCall::EnqueueWalkIn).await else {
            panic!()
        };
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(run(FeedTarget::new(&format!("http://{addr}"), "k2", 1), tx, 0));
    let mut board = Board::default();
    let mut ms = 0;
    let mut pump = async |board: &mut Board, until: &dyn Fn(&Board) -> bool| {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !until(board) {
            let u = tokio::time::timeout_at(deadline, rx.recv()).await.expect("in time").expect("feed alive");
            ms += 1;
            board.update(u, ms);
        }
    };
    pump(&mut board, &|b| b.connected && b.last_seq > 0).await;
    let call_next = |room: &'static str, base: String| async move {
        let body = serde_json::to_vec(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "callNext", "params": {"lpuId": 1, "room": room}})).unwrap();
        let reply = central::client::post_json(&base, protocol::QUEUE_PATH, DOCTOR, &body).await.unwrap();
        assert!(!String::from_utf8_lossy(&reply).contains("error"), "{}", String::from_utf8_lossy(&reply));
    };
    call_next("214", format!("http://{addr}")).await;
    pump(&mut board, &|b| b.calls.len() == 1).await;
    assert_eq!(board.calls[0].ticket_number, "Д-001");

    // Central restarts (same port, same database); a call happens right after.
    c.stop().await;
    pump(&mut board, &|b| !b.connected).await;
    let c2 = start_central(&db, &addr).await;
    call_next("215", format!("http://{addr}")).await;
    pump(&mut board, &|b| b.connected && b.calls.len() == 2).await;
    assert_eq!(board.calls[0].ticket_number, "Д-002");
    assert_eq!(board.calls[0].room, "215");
    call_next("216", format!("http://{addr}")).await;
    // Three called, none waiting: the board converges and has invented nothing.
    pump(&mut board, &|b| b.calls.len() == 3 && b.waiting == 0).await;
    let numbers: Vec<_> = board.calls.iter().map(|c| c.ticket_number.as_str()).collect();
    assert_eq!(numbers, ["Д-003", "Д-002", "Д-001"]);
    c2.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runtime_task_syncs_when_central_returns() {
    use kiosk::effects::{CentralJob, Message};
    let dir = tmp("task");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let rt = Arc::new(runtime(&format!("http://{addr}"), &dir.join("journal")));
    let (sink, events) = kiosk::effects::channel();
    let jobs = rt.clone().spawn_observed(sink, Duration::from_millis(200), Arc::new(|_, _| {}));
    jobs.send(CentralJob { req: RequestId(1), credentials: creds(0), call: CentralCall::EnqueueWalkIn })
        .await
        .unwrap();
    let answer =
        tokio::task::spawn_blocking(move || events.next_within(Duration::from_secs(10))).await.unwrap();
    let Some(Message::Answer(Event::Central { req, result: Ok(Reply::Ticket(t)) })) = answer else {
        panic!("a ticket: {answer:?}")
    };
    assert_eq!(req, RequestId(1));
    assert!(t.offline);
    assert_eq!(rt.pending_offline(), 1);
    // Central comes up: the task sends the ticket by itself.
    let c = start_central(&dir.join("c.sqlite").display().to_string(), &addr).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while rt.pending_offline() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "synced in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(jobs);
    c.stop().await;
}

fn runtime_as(url: &str, journal: &std::path::Path, token: &str, kiosk: u32) -> CentralRuntime {
    let cfg = CentralConfig {
        url: url.to_owned(),
        token: token.into(),
        ca_file: None,
        connect_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_millis(600),
    };
    let client = Client::new(&cfg).unwrap().with_backoff(Duration::from_millis(10));
    CentralRuntime::new(client, KioskId(kiosk), LpuId(1), journal, Arc::new(now)).unwrap()
}

/// A token central does not know, or a kiosk id its token is not bound to, is a configuration
/// fault: the patient is sent to the desk, and no offline ticket is printed that central would
/// then refuse (the kiosk can reach central; it is not offline).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_a_fault_not_an_offline_ticket() {
    let dir = tmp("refused");
    let c = start_central(&dir.join("c.sqlite").display().to_string(), "127.0.0.1:0").await;
    let url = format!("http://{}", c.addr);
    for (token, kiosk, why) in [("no-such-token", 2, "HTTP 401"), ("k2", 3, "FORBIDDEN: another kiosk's id")]
    {
        let rt = runtime_as(&url, &dir.join(format!("journal-{kiosk}")), token, kiosk);
        let r = call(&rt, 1, &creds(0), CentralCall::EnqueueWalkIn).await;
        assert_eq!(r, Err(CentralError::NotAuthorized), "{why}");
        assert_eq!(rt.pending_offline(), 0, "{why}: nothing journaled, nothing printed");
        let p = Problem::from_central(&CentralError::NotAuthorized);
        assert!(p.message(kiosk::session::Lang::Ru, "+7 495").contains("регистратур"));
        if token != "k2" {
            // Every call says the same, and the service screen names the fault.
            let r = call(&rt, 2, &creds(0), CentralCall::Identify).await;
            assert_eq!(r, Err(CentralError::NotAuthorized), "{why}");
            let line = rt.ping_line().await;
            assert!(line.contains("does not accept this kiosk"), "{why}: {line}");
        }
    }
    c.stop().await;
}

/// A ticket central refuses at sync (here: a patient it does not know) leaves the pending list
/// but is kept, masked, for the service screen and /health; the others are confirmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_refused_at_sync_is_kept_for_staff() {
    let dir = tmp("rejected");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let rt = runtime(&format!("http://{addr}"), &dir.join("journal"));
    let stranger = Credentials {
        enp: domain::Enp::parse("7700000000000016").unwrap(),
        birth_date: BirthDate(Date::from_ymd(1931, 1, 1).unwrap()),
    };
    for (req, who) in [(1, creds(0)), (2, stranger)] {
        let Ok(Reply::Ticket(t)) = call(&rt, req, &who, CentralCall::EnqueueWalkIn).await else {
            panic!("an offline ticket")
        };
        assert!(t.offline);
    }
    let c = start_central(&dir.join("c.sqlite").display().to_string(), &addr).await;
    let report = rt.sync().await.unwrap();
    assert_eq!((report.confirmed, report.rejected, report.still_pending), (1, 1, 0));
    let rejected = rt.rejected_offline();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].local_number, "К2-002");
    assert_eq!(rejected[0].policy, "7700********0016");
    assert_eq!(rejected[0].reason, "PATIENT_NOT_FOUND");
    // It survives a restart of the kiosk; the birth date and full policy do not.
    let again = runtime(&format!("http://{addr}"), &dir.join("journal"));
    assert_eq!(again.rejected_offline(), rejected);
    let text =
        std::fs::read_to_string(dir.join("journal").join(kiosk::central_link::journal::FILE_NAME)).unwrap();
    assert!(!text.contains("7700000000000016") && !text.contains("1931"), "{text}");
    c.stop().await;
}

#[test]
fn plain_http_to_another_machine_is_refused_by_the_client_itself() {
    let cfg = CentralConfig {
        url: "http://10.0.0.5:8080".into(),
        token: "k2".into(),
        ca_file: None,
        connect_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_millis(600),
    };
    let e = Client::new(&cfg).unwrap_err().to_string();
    assert!(e.contains("plain http://"), "{e}");
    // Ways around a naive check: credentials that look like loopback, an upper-case scheme.
    for sneaky in ["http://127.0.0.1:1@central.clinic.local/", "http://[::1]@10.0.0.5/", "HTTP://10.0.0.5"] {
        assert!(Client::new(&CentralConfig { url: sneaky.into(), ..cfg.clone() }).is_err(), "{sneaky}");
    }
    for local in ["http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1", "https://10.0.0.5"] {
        Client::new(&CentralConfig { url: local.into(), ..cfg.clone() }).unwrap();
    }
}

/// A board whose token central refuses says so (the technician's log and the board's status),
/// instead of looking like a network outage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_with_a_refused_token_says_so() {
    use kiosk::central_link::queue_feed::{FeedTarget, FeedUpdate, run};
    let dir = tmp("feed-refused");
    let c = start_central(&dir.join("c.sqlite").display().to_string(), "127.0.0.1:0").await;
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let feed = tokio::spawn(run(FeedTarget::new(&format!("http://{}", c.addr), "no-such-token", 1), tx, 0));
    let u =
        tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("in time").expect("an update");
    match u {
        FeedUpdate::Disconnected(why) => assert!(why.contains("does not accept this token"), "{why}"),
        other => panic!("{other:?}"),
    }
    feed.abort();
    c.stop().await;
}
