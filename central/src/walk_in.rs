//! Group commit for walk-in tickets. Every `enqueueWalkIn` passes through one writer task per
//! process; the tickets that arrive while one group is being written are written together as
//! the next group: one transaction, one commit. That commit is what a ticket costs: an fsync on
//! SQLite (`synchronous = FULL`: a ticket a patient holds survives a power cut), and on
//! PostgreSQL the turn of the clinic's counter row, locked from a ticket's number until its
//! commit, which serialises every node's tickets.
//!
//! On PostgreSQL a round trip costs about a millisecond on a busy two-core machine, so a group
//! is four of them whatever its size: `BEGIN`; one batch of statements that takes the
//! request keys and the clinics' counter rows and reads everything the tickets need (stored
//! answers, patients, clinics, who already waits, how many wait, today's pace for the estimate); the
//! decisions, in Rust, the same as a lone ticket's ([`queue::enqueue`]); one batch that writes
//! tickets, answers, counters and one `Waiting` feed event per clinic; `COMMIT`. The batches are
//! sent as text (several statements, no parameters: [`Store::literal`] quotes every value).
//!
//! A patient with a priority category declared at the desk (rare) leaves the group and is
//! written after it by the lone path, where the rank and position need the waiting tickets'
//! ranks; an ordinary ticket is ranked by its issue time, after everyone already waiting.
//!
//! A refusal (already in the queue, closed, unknown patient) writes nothing but its answer,
//! for that request alone. A storage fault, or a race caught by a unique index (a ticket an
//! offline sync or another node wrote for the same patient meanwhile), rolls the whole group
//! back, and its tickets are then written one by one ([`queue::enqueue`]), so nobody is refused
//! because of someone else's fault, and none is written twice (request keys are checked in
//! every path).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};
use sqlx::Row;
use tokio::sync::{mpsc, oneshot};

use protocol::{EnqueueParams, FeedEvent, Ticket};

use crate::booking::{Now, replay};
use crate::error::ApiError;
use crate::queue::{self, Events};
use crate::store::{self, Backend, RequestKey, Store, Tx};

/// Tickets written in one transaction at most: bounds how long the first of them waits for the
/// last (a group of 64 is a few milliseconds here).
pub const MAX_GROUP: usize = 64;

/// Requests waiting for the writer at most; beyond that callers wait to hand theirs over.
const QUEUED: usize = 1024;

type Answer = Result<(Value, Events), ApiError>;

struct Job {
    params: EnqueueParams,
    now: Now,
    /// The caller's key (its token's): request ids are scoped by it.
    scope: String,
    answer: oneshot::Sender<Answer>,
}

/// The writer task's door. Dropping it (with the [`crate::app::AppState`] holding it) ends the
/// task once the tickets already handed over are written.
#[derive(Debug)]
pub struct WalkIns {
    jobs: mpsc::Sender<Job>,
    stats: Arc<Stats>,
    /// For writing alone should the writer be gone (it only ends with the service, unless a
    /// bug panicked it: then walk-ins go on, one by one, instead of failing until a restart).
    store: Arc<Store>,
}

/// Groups of more than one ticket committed together, and the tickets in them.
#[derive(Debug, Default)]
struct Stats {
    groups: AtomicU64,
    tickets: AtomicU64,
    /// Groups rolled back and written one by one.
    rolled_back: AtomicU64,
}

impl WalkIns {
    /// Starts the writer on the current tokio runtime.
    pub fn start(store: Arc<Store>) -> WalkIns {
        let (jobs, rx) = mpsc::channel(QUEUED);
        let stats = Arc::new(Stats::default());
        tokio::spawn(writer(store.clone(), rx, stats.clone()));
        WalkIns { jobs, stats, store }
    }

    /// Groups of more than one ticket committed together so far, and the tickets in them.
    pub fn grouped(&self) -> (u64, u64) {
        (self.stats.groups.load(Ordering::Relaxed), self.stats.tickets.load(Ordering::Relaxed))
    }

    /// Groups rolled back (a storage fault or a race) and written one by one so far: the
    /// one-by-one path answers them correctly, so only this count shows a group path that
    /// fails where it should not.
    pub fn rolled_back(&self) -> u64 {
        self.stats.rolled_back.load(Ordering::Relaxed)
    }

    /// `enqueueWalkIn` for `scope`, written with whatever else is waiting.
    pub async fn enqueue(&self, params: EnqueueParams, now: Now, scope: &str) -> Answer {
        let (answer, answered) = oneshot::channel();
        let job = Job { params, now, scope: scope.to_owned(), answer };
        if let Err(mpsc::error::SendError(job)) = self.jobs.send(job).await {
            log::error!("the walk-in writer is gone; writing walk-ins one by one");
            return queue::enqueue(&self.store, &job.params, job.now, &job.scope).await;
        }
        // Dropped unanswered only if the writer died mid-group: the kiosk's retry (same request
        // id) then finds the ticket if the group was committed, or writes it if not.
        answered.await.map_err(|_| ApiError::Store(sqlx::Error::PoolClosed))?
    }
}

async fn writer(store: Arc<Store>, mut rx: mpsc::Receiver<Job>, stats: Arc<Stats>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        write(&store, std::mem::take(&mut group), &stats).await;
    }
}

async fn write(st: &Store, group: Vec<Job>, stats: &Stats) {
    match together(st, &group).await {
        Ok(answers) => {
            if group.len() > 1 {
                stats.groups.fetch_add(1, Ordering::Relaxed);
                stats.tickets.fetch_add(group.len() as u64, Ordering::Relaxed);
            }
            for (job, a) in group.into_iter().zip(answers) {
                let a = match a {
                    Some(a) => a,
                    // A patient with a priority category: ranked by the lone path's rules.
                    None => queue::enqueue(st, &job.params, job.now, &job.scope).await,
                };
                let _ = job.answer.send(a);
            }
            return;
        }
        Err(e) => {
            stats.rolled_back.fetch_add(1, Ordering::Relaxed);
            log::info!("a group of {} walk-ins rolled back ({e}); writing them one by one", group.len())
        }
    }
    for job in group {
        let a = queue::enqueue(st, &job.params, job.now, &job.scope).await;
        let _ = job.answer.send(a);
    }
}

/// A clinic's day as the group found it, its counter rows locked.
#[derive(Debug, Default)]
struct Day {
    /// The day's ticket counter, as found and as the group leaves it.
    counter: (i64, i64),
    waiting: u32,
    /// Today's pace ([`crate::estimate`]): finished visits and cabinets calling.
    pace: crate::estimate::Pace,
    /// Waiting tickets of the group's patients: by policy, the ticket as a refusal names it.
    existing: HashMap<String, Ticket>,
    issued: bool,
    /// Open duty cabinets: (waiting tickets assigned, opened at, cabinet), see [`crate::duty`].
    rooms: Vec<(i64, i64, String)>,
}

/// What the read batch found.
#[derive(Debug, Default)]
struct Found {
    answers: HashMap<(String, String), (String, String, String)>,
    patients: HashMap<String, store::PatientRow>,
    clinics: HashMap<i64, store::LpuRow>,
    days: BTreeMap<(i64, String), Day>,
    /// Patients with a priority category declared (maybe expired): their walk-ins are written
    /// after the group, one by one, where their rank and position are worked out.
    priority: BTreeSet<String>,
    /// Each clinic's feed sequence, as found and as the group leaves it.
    feed: BTreeMap<i64, (i64, i64)>,
}

/// Writes the group in one transaction; `Err` only for a fault of the storage or a race the
/// group cannot settle (then nothing of the group was written). `None`: a job left for the
/// lone path.
async fn together(st: &Store, group: &[Job]) -> Result<Vec<Option<Answer>>, ApiError> {
    let keys: Vec<RequestKey> = group
        .iter()
        .map(|j| RequestKey::new(&j.scope, &j.params.request_id, "enqueueWalkIn", &j.params))
        .collect();
    let (_guard, mut tx) = st.begin_write().await?;
    let mut found = read(st, &mut tx, group, &keys).await?;
    let mut writes = Writes::default();
    let mut answers = Vec::with_capacity(group.len());
    for (job, key) in group.iter().zip(&keys) {
        answers.push(decide(&mut found, &mut writes, job, key));
    }
    let events = write_all(st, &mut tx, &mut found, writes).await?;
    // The group's feed events travel with its first ticket's answer: published once.
    if let Some(Some(Ok((_, first)))) = answers.iter_mut().find(|a| matches!(a, Some(Ok(_)))) {
        first.extend(events);
    }
    tx.commit().await?;
    Ok(answers)
}

/// The read batch: request keys and counter rows taken, everything the decisions need read.
async fn read(st: &Store, tx: &mut Tx, group: &[Job], keys: &[RequestKey]) -> Result<Found, ApiError> {
    let days: BTreeSet<(i64, String)> =
        group.iter().map(|j| (i64::from(j.params.lpu_id), j.now.date.to_string())).collect();
    let lpus = joined(days.iter().map(|(l, _)| l.to_string()).collect());
    let day_list = joined(days.iter().map(|(_, d)| st.literal(d)).collect());
    let enps = joined(group.iter().map(|j| st.literal(&j.params.patient.oms_number.expose())).collect());
    let mut sql = String::new();
    // A retry of a request still running on another node waits for it, then finds its answer.
    sql += &st.hold_keys_sql(&keys.iter().map(RequestKey::lock_name).collect::<Vec<_>>());
    sql += &format!(
        "SELECT CAST('a' AS TEXT), scope, request_id, method, params_sha256, response FROM request_log
         WHERE scope IN ({}) AND request_id IN ({});\n",
        joined(keys.iter().map(|k| st.literal(&k.scope)).collect()),
        joined(keys.iter().map(|k| st.literal(&k.request_id)).collect()),
    );
    sql += &format!(
        "{} WHERE enp IN ({enps});\n",
        store::PATIENT_COLS.replacen("SELECT ", "SELECT CAST('p' AS TEXT), ", 1)
    );
    sql += &format!(
        "{} WHERE id IN ({lpus});\n",
        store::LPU_COLS.replacen("SELECT ", "SELECT CAST('c' AS TEXT), ", 1)
    );
    // Counter rows in one order everywhere (the day's, then the feed's: '2…' < 'feed-seq'), so
    // that writers wait for each other instead of deadlocking; a lone walk-in, an offline sync
    // and opening or closing a cabinet take the day's row first too. Taken before today's open
    // cabinets are read: none closes under a ticket being assigned to it.
    let mut rows: Vec<(i64, String)> = days.iter().cloned().collect();
    rows.extend(days.iter().map(|(l, _)| (*l, "feed-seq".to_owned())));
    rows.sort();
    rows.dedup();
    sql += &format!(
        "INSERT INTO counter (lpu_id, day, n) VALUES {} ON CONFLICT (lpu_id, day) DO UPDATE SET n = counter.n
         RETURNING CAST('n' AS TEXT), lpu_id, day, n;\n",
        rows.iter().map(|(l, d)| format!("({l}, {}, 0)", st.literal(d))).collect::<Vec<_>>().join(", ")
    );
    // Read once the counters are held: nobody issues a ticket in these clinics meanwhile.
    sql += &format!(
        "SELECT CAST('e' AS TEXT), t.enp, t.lpu_id, t.day, t.id, t.number, t.issued_at,
           (SELECT COUNT(*) FROM ticket w WHERE w.lpu_id = t.lpu_id AND w.day = t.day AND w.status = 'waiting'
              AND (w.rank_utc < t.rank_utc OR (w.rank_utc = t.rank_utc AND w.id < t.id))), t.assigned_room
         FROM {} WHERE t.lpu_id IN ({lpus}) AND t.day IN ({day_list}) AND t.status = 'waiting' AND t.enp IN ({enps});\n",
        // SQLite, without statistics, would walk every waiting ticket of the day.
        if st.backend == Backend::Sqlite { "ticket AS t INDEXED BY ticket_one_waiting" } else { "ticket AS t" },
    );
    sql += &format!(
        "SELECT CAST('w' AS TEXT), lpu_id, day, COUNT(*) FROM ticket
         WHERE lpu_id IN ({lpus}) AND day IN ({day_list}) AND status = 'waiting' GROUP BY lpu_id, day;\n"
    );
    sql += &format!(
        "SELECT CAST('v' AS TEXT), lpu_id, day, COUNT(*), CAST(COALESCE(SUM(finished_utc - called_utc), 0) AS BIGINT)
         FROM ticket WHERE lpu_id IN ({lpus}) AND day IN ({day_list}) AND status = 'done'
           AND finished_utc IS NOT NULL AND called_utc IS NOT NULL GROUP BY lpu_id, day;\n"
    );
    // Cabinets calling: as of the group's earliest clock (its jobs arrived within moments).
    let since = group.iter().map(|j| j.now.utc_minutes()).min().unwrap_or(0)
        - crate::estimate::CALLING_WINDOW_MINUTES;
    sql += &format!(
        "SELECT CAST('d' AS TEXT), lpu_id, day, COUNT(DISTINCT room) FROM ticket
         WHERE lpu_id IN ({lpus}) AND day IN ({day_list}) AND called_utc IS NOT NULL AND called_utc >= {since}
         GROUP BY lpu_id, day;\n"
    );
    sql += &format!(
        "SELECT CAST('b' AS TEXT), lpu_id, day, COUNT(DISTINCT room) FROM ticket
         WHERE lpu_id IN ({lpus}) AND day IN ({day_list}) AND called_utc IS NOT NULL AND status = 'called'
         GROUP BY lpu_id, day;\n"
    );
    let first_day = days.iter().map(|(_, d)| d.clone()).min().unwrap_or_default();
    sql += &format!(
        "SELECT CAST('q' AS TEXT), enp FROM patient_priority WHERE enp IN ({enps})
           AND (until_day >= {first} OR urgent_day >= {first});\n",
        first = st.literal(&first_day)
    );
    sql += &format!(
        "SELECT CAST('r' AS TEXT), d.lpu_id, d.day, d.room, d.opened_utc,
           (SELECT COUNT(*) FROM ticket w WHERE w.lpu_id = d.lpu_id AND w.day = d.day AND w.status = 'waiting'
              AND w.assigned_room = d.room)
         FROM duty_room d WHERE d.lpu_id IN ({lpus}) AND d.day IN ({day_list}) AND d.closed_utc IS NULL;\n"
    );
    let mut found = Found::default();
    for (l, d) in &days {
        found.days.insert((*l, d.clone()), Day::default());
    }
    let mut waiting_rows = Vec::new();
    for r in sqlx::Executor::fetch_all(&mut **tx, sqlx::raw_sql(&sql)).await? {
        let tag: String = r.try_get(0)?;
        match tag.as_str() {
            "a" => {
                found
                    .answers
                    .insert((r.try_get(1)?, r.try_get(2)?), (r.try_get(3)?, r.try_get(4)?, r.try_get(5)?));
            }
            "p" => {
                let p = store::patient_row(&r, 1)?;
                found.patients.insert(p.enp.clone(), p);
            }
            "c" => {
                let c = store::lpu_row_at(&r, 1)?;
                found.clinics.insert(c.id, c);
            }
            "n" => {
                let (lpu, day, n): (i64, String, i64) = (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
                if day == "feed-seq" {
                    found.feed.insert(lpu, (n, n));
                } else if let Some(d) = found.days.get_mut(&(lpu, day)) {
                    d.counter = (n, n);
                }
            }
            "e" => waiting_rows.push(r),
            "q" => {
                found.priority.insert(r.try_get(1)?);
            }
            "r" => {
                let (lpu, day, room, opened, n): (i64, String, String, i64, i64) =
                    (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?);
                if let Some(d) = found.days.get_mut(&(lpu, day)) {
                    d.rooms.push((n, opened, room));
                }
            }
            "w" => {
                let (lpu, day, n): (i64, String, i64) = (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
                if let Some(d) = found.days.get_mut(&(lpu, day)) {
                    d.waiting = u32::try_from(n).unwrap_or(u32::MAX);
                }
            }
            "v" => {
                let (lpu, day, n, sum): (i64, String, i64, i64) =
                    (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?);
                if let Some(d) = found.days.get_mut(&(lpu, day)) {
                    d.pace.visits = u32::try_from(n).unwrap_or(u32::MAX);
                    d.pace.visit_minutes = sum;
                }
            }
            "d" => {
                let (lpu, day, n): (i64, String, i64) = (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
                if let Some(d) = found.days.get_mut(&(lpu, day)) {
                    d.pace.doctors = u32::try_from(n).unwrap_or(0);
                }
            }
            "b" => {
                let (lpu, day, n): (i64, String, i64) = (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
                if let Some(d) = found.days.get_mut(&(lpu, day)) {
                    d.pace.busy = u32::try_from(n).unwrap_or(0);
                }
            }
            _ => {}
        }
    }
    // After the averages: a refusal names the ticket with its estimate, as a lone one does.
    for r in waiting_rows {
        let (enp, lpu, day): (String, i64, String) = (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
        if let Some(d) = found.days.get_mut(&(lpu, day)) {
            let position = u32::try_from(r.try_get::<i64, _>(7)?).unwrap_or(u32::MAX);
            let ticket = Ticket {
                ticket_id: r.try_get(4)?,
                ticket_number: r.try_get(5)?,
                issued_at: store::dt(&r.try_get::<String, _>(6)?)?,
                position,
                estimated_wait_minutes: Some(d.pace.estimate(position).minutes),
                estimated_wait_range: d.pace.estimate(position).range(),
                room: r.try_get(8)?,
            };
            d.existing.insert(enp, ticket);
        }
    }
    Ok(found)
}

/// `items`, sorted, without repeats, comma-separated (an SQL `IN` list).
fn joined(mut items: Vec<String>) -> String {
    items.sort();
    items.dedup();
    items.join(", ")
}

/// What the group writes at its end.
#[derive(Debug, Default)]
struct Writes {
    tickets: Vec<(Ticket, i64, String, String, u32, String)>,
    answers: Vec<(RequestKey, Value)>,
}

/// One walk-in of the group, decided from what the group read: the rules of a lone ticket
/// ([`queue::enqueue`]), its writes kept for the group's end.
fn decide(found: &mut Found, writes: &mut Writes, job: &Job, key: &RequestKey) -> Option<Answer> {
    if let Some((method, hash, response)) = found.answers.get(&(key.scope.clone(), key.request_id.clone())) {
        return Some(key.answered(method, hash, response).and_then(replay).map(|v| (v, Vec::new())));
    }
    if found.priority.contains(&job.params.patient.oms_number.expose()) {
        return None;
    }
    let outcome = issue(found, writes, job);
    let remembered = match &outcome {
        Ok(result) => Some(json!({ "result": result })),
        // Refusals of the domain are remembered, as a lone write's are; a malformed request is
        // not (it is answered again, the same, if it comes again).
        Err(refused @ ApiError::Domain { .. }) => Some(json!({ "error": refused.to_rpc() })),
        Err(_) => None,
    };
    if let Some(response) = remembered {
        // The same request later in this group finds this answer.
        found.answers.insert(
            (key.scope.clone(), key.request_id.clone()),
            (key.method.to_owned(), key.params_sha256.clone(), response.to_string()),
        );
        writes.answers.push((key.clone(), response));
    }
    Some(outcome.map(|v| (v, Vec::new())))
}

fn issue(found: &mut Found, writes: &mut Writes, job: &Job) -> Result<Value, ApiError> {
    let p = &job.params;
    let patient = match found.patients.get(&p.patient.oms_number.expose()) {
        Some(row) => store::identified(row.clone(), p.patient.birth_date)?,
        None => return Err(ApiError::not_found()),
    };
    let lpu = i64::from(p.lpu_id);
    let clinic = found
        .clinics
        .get(&lpu)
        .ok_or_else(|| ApiError::InvalidParams(format!("lpuId: unknown clinic {}", p.lpu_id)))?;
    if let Some(refused) = queue::closed(clinic, job.now) {
        return Err(refused);
    }
    let day = job.now.date.to_string();
    let d = found.days.get_mut(&(lpu, day.clone())).expect("every job's day was read");
    if let Some(ticket) = d.existing.get(&patient.enp) {
        return Err(queue::already_waiting(ticket.clone()));
    }
    d.counter.1 += 1;
    let (id, number) = queue::new_ticket(lpu, &day, d.counter.1);
    // Issued now, after everyone already waiting (those before it in the group too).
    let ahead = d.waiting;
    d.waiting += 1;
    d.issued = true;
    // The open cabinet with the fewest waiting, as `duty::assign` picks it.
    let room = d.rooms.iter_mut().min().map(|r| {
        r.0 += 1;
        r.2.clone()
    });
    let ticket = Ticket {
        ticket_id: id,
        ticket_number: number,
        issued_at: job.now,
        position: ahead,
        estimated_wait_minutes: Some(d.pace.estimate(ahead).minutes),
        estimated_wait_range: d.pace.estimate(ahead).range(),
        room,
    };
    // The same patient again in this group (under another request id) is refused by it.
    d.existing.insert(patient.enp.clone(), ticket.clone());
    writes.tickets.push((ticket.clone(), lpu, day, patient.enp, p.kiosk_id, p.request_id.clone()));
    Ok(serde_json::to_value(ticket).expect("serialisable"))
}

/// The write batch: tickets, answers, counters and the feed events (returned to publish).
async fn write_all(st: &Store, tx: &mut Tx, found: &mut Found, writes: Writes) -> Result<Events, ApiError> {
    let mut sql = String::new();
    if !writes.tickets.is_empty() {
        let rows: Vec<String> = writes
            .tickets
            .iter()
            .map(|(t, lpu, day, enp, kiosk, request_id)| {
                // Ordinary tickets only (priority ones take the lone path): rank = issue time.
                format!(
                    "({}, {lpu}, {}, {}, {}, {}, {issued}, 'waiting', {kiosk}, {}, {issued}, {})",
                    st.literal(&t.ticket_id),
                    st.literal(day),
                    st.literal(&t.ticket_number),
                    st.literal(enp),
                    st.literal(&t.issued_at.to_string()),
                    st.literal(request_id),
                    t.room.as_deref().map_or_else(|| "NULL".to_owned(), |r| st.literal(r)),
                    issued = t.issued_at.utc_minutes(),
                )
            })
            .collect();
        sql += &format!(
            "INSERT INTO ticket (id, lpu_id, day, number, enp, issued_at, issued_utc, status, kiosk_id, request_id,
               rank_utc, assigned_room) VALUES {};\n",
            rows.join(", ")
        );
    }
    if !writes.answers.is_empty() {
        let minute = crate::limits::wall_minutes();
        let rows: Vec<String> = writes
            .answers
            .iter()
            .map(|(k, response)| {
                format!(
                    "({}, {}, {}, {}, {}, {minute})",
                    st.literal(&k.scope),
                    st.literal(&k.request_id),
                    st.literal(k.method),
                    st.literal(&k.params_sha256),
                    st.literal(&response.to_string())
                )
            })
            .collect();
        sql += &format!(
            "INSERT INTO request_log (scope, request_id, method, params_sha256, response, created_min) VALUES {};\n",
            rows.join(", ")
        );
    }
    let mut events = Vec::new();
    let mut event_rows = Vec::new();
    for ((lpu, day), d) in &found.days {
        if !d.issued {
            continue;
        }
        sql += &format!(
            "UPDATE counter SET n = {} WHERE lpu_id = {lpu} AND day = {};\n",
            d.counter.1,
            st.literal(day)
        );
        // One `Waiting` event per clinic and day, counting the whole group in.
        let feed = found.feed.entry(*lpu).or_default();
        feed.1 += 1;
        // A BIGINT counter from 1: it would take 2^63 events to wrap; refuse rather than wrap.
        let seq = u64::try_from(feed.1)
            .map_err(|_| ApiError::Store(sqlx::Error::Protocol("feed sequence out of range".into())))?;
        let ev = FeedEvent::Waiting { seq, waiting: d.waiting };
        event_rows.push(format!(
            "({lpu}, {seq}, {}, {})",
            st.literal(day),
            st.literal(&serde_json::to_string(&ev).expect("serialisable"))
        ));
        events.push((u32::try_from(*lpu).unwrap_or(u32::MAX), ev));
    }
    for (lpu, (was, now)) in &found.feed {
        if now != was {
            sql += &format!("UPDATE counter SET n = {now} WHERE lpu_id = {lpu} AND day = 'feed-seq';\n");
        }
    }
    if !event_rows.is_empty() {
        sql +=
            &format!("INSERT INTO queue_event (lpu_id, seq, day, body) VALUES {};\n", event_rows.join(", "));
    }
    if !sql.is_empty() {
        sqlx::Executor::execute(&mut **tx, sqlx::raw_sql(&sql)).await?;
    }
    Ok(events)
}
