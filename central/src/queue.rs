//! The duty-doctor queue (our extension): tickets, calls, offline sync, and the events the
//! feed carries. Every change appends its feed events in the same transaction, so a display
//! that resumes after a restart sees exactly what happened, in order.

use serde_json::{Value, json};
use sqlx::Row;

use domain::{DateTime, TicketNumber};
use protocol::{
    Call, CallNextParams, EnqueueParams, FeedEvent, LpuParams, QueueState, SyncParams, SyncedTicket, Ticket,
    TicketParams, code,
};

use crate::booking::{Now, finish_write, replay};
use crate::duty;
use crate::error::{ApiError, is_unique_violation};
use crate::estimate::Pace;
use crate::store::{self, Store, Tx};

/// Events a committed change produced, to be published to the feed.
pub type Events = Vec<(u32, FeedEvent)>;

async fn next_counter(tx: &mut Tx, lpu: i64, key: &str) -> Result<i64, ApiError> {
    let r = sqlx::query(
        "INSERT INTO counter (lpu_id, day, n) VALUES ($1, $2, 1)
         ON CONFLICT (lpu_id, day) DO UPDATE SET n = counter.n + 1 RETURNING n",
    )
    .bind(lpu)
    .bind(key)
    .fetch_one(&mut **tx)
    .await?;
    Ok(r.try_get(0)?)
}

/// Appends a feed event built for its sequence number.
async fn append(
    tx: &mut Tx,
    lpu: i64,
    day: &str,
    make: impl FnOnce(u64) -> FeedEvent,
) -> Result<FeedEvent, ApiError> {
    // A BIGINT counter from 1: it would take 2^63 events to wrap; refuse rather than wrap.
    let seq = u64::try_from(next_counter(tx, lpu, "feed-seq").await?)
        .map_err(|_| ApiError::Store(sqlx::Error::Protocol("feed sequence out of range".into())))?;
    let ev = make(seq);
    sqlx::query("INSERT INTO queue_event (lpu_id, seq, day, body) VALUES ($1, $2, $3, $4)")
        .bind(lpu)
        .bind(i64::try_from(seq).unwrap_or(i64::MAX))
        .bind(day)
        .bind(serde_json::to_string(&ev).expect("serialisable"))
        .execute(&mut **tx)
        .await?;
    Ok(ev)
}

async fn waiting_count(
    ex: impl sqlx::Executor<'_, Database = sqlx::Any>,
    lpu: i64,
    day: &str,
) -> Result<u32, ApiError> {
    let r = sqlx::query("SELECT COUNT(*) FROM ticket WHERE lpu_id = $1 AND day = $2 AND status = 'waiting'")
        .bind(lpu)
        .bind(day)
        .fetch_one(ex)
        .await?;
    Ok(r.try_get::<i64, _>(0)? as u32)
}

async fn waiting_event(tx: &mut Tx, lpu: i64, day: &str) -> Result<FeedEvent, ApiError> {
    let waiting = waiting_count(&mut **tx, lpu, day).await?;
    append(tx, lpu, day, |seq| FeedEvent::Waiting { seq, waiting }).await
}

/// A `Waiting` event for a change in the queue's order (a priority declared, a cabinet closed):
/// the doctors' pages and boards following the feed look again.
pub(crate) async fn nudge(tx: &mut Tx, lpu: i64, day: &str) -> Result<Events, ApiError> {
    Ok(vec![(u32::try_from(lpu).unwrap_or(0), waiting_event(tx, lpu, day).await?)])
}

/// Average minutes from issue to call today; `None` before the first call.
async fn average_wait(
    ex: impl sqlx::Executor<'_, Database = sqlx::Any>,
    lpu: i64,
    day: &str,
) -> Result<Option<u32>, ApiError> {
    let r = sqlx::query(
        "SELECT COUNT(*), CAST(COALESCE(SUM(called_utc - issued_utc), 0) AS BIGINT) FROM ticket
         WHERE lpu_id = $1 AND day = $2 AND called_utc IS NOT NULL",
    )
    .bind(lpu)
    .bind(day)
    .fetch_one(ex)
    .await?;
    let (n, sum): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
    Ok((n > 0).then(|| (sum.max(0) / n) as u32))
}

/// People ahead of a ticket: those of better rank ([`crate::duty`]: issue time, offline tickets
/// by their own, less a priority's head start).
async fn position(tx: &mut Tx, lpu: i64, day: &str, rank_utc: i64, id: &str) -> Result<u32, ApiError> {
    let r = sqlx::query(
        "SELECT COUNT(*) FROM ticket WHERE lpu_id = $1 AND day = $2 AND status = 'waiting'
         AND (rank_utc < $3 OR (rank_utc = $4 AND id < $5))",
    )
    .bind(lpu)
    .bind(day)
    .bind(rank_utc)
    .bind(rank_utc)
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(r.try_get::<i64, _>(0)? as u32)
}

/// Today's pace of the clinic's queue at `now`: finished visits and cabinets calling
/// ([`crate::estimate`]).
pub(crate) async fn pace(
    conn: &mut sqlx::AnyConnection,
    lpu: i64,
    day: &str,
    now: Now,
) -> Result<Pace, ApiError> {
    let r = sqlx::query(
        "SELECT COUNT(*), CAST(COALESCE(SUM(finished_utc - called_utc), 0) AS BIGINT) FROM ticket
         WHERE lpu_id = $1 AND day = $2 AND status = 'done' AND finished_utc IS NOT NULL AND called_utc IS NOT NULL",
    )
    .bind(lpu)
    .bind(day)
    .fetch_one(&mut *conn)
    .await?;
    let (visits, visit_minutes): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
    let r = sqlx::query(
        "SELECT COUNT(DISTINCT room) FROM ticket WHERE lpu_id = $1 AND day = $2 AND called_utc IS NOT NULL
           AND called_utc >= $3",
    )
    .bind(lpu)
    .bind(day)
    .bind(now.utc_minutes() - crate::estimate::CALLING_WINDOW_MINUTES)
    .fetch_one(&mut *conn)
    .await?;
    let doctors = u32::try_from(r.try_get::<i64, _>(0)?).unwrap_or(0);
    let r = sqlx::query(
        "SELECT COUNT(DISTINCT room) FROM ticket WHERE lpu_id = $1 AND day = $2 AND called_utc IS NOT NULL
           AND status = 'called'",
    )
    .bind(lpu)
    .bind(day)
    .fetch_one(&mut *conn)
    .await?;
    let busy = u32::try_from(r.try_get::<i64, _>(0)?).unwrap_or(0);
    Ok(Pace { visits: u32::try_from(visits).unwrap_or(u32::MAX), visit_minutes, doctors, busy })
}

async fn wire_ticket(tx: &mut Tx, lpu: i64, day: &str, id: &str, now: Now) -> Result<Ticket, ApiError> {
    let r = sqlx::query("SELECT number, issued_at, rank_utc, assigned_room FROM ticket WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    let rank_utc: i64 = r.try_get(2)?;
    let position = position(tx, lpu, day, rank_utc, id).await?;
    let estimate = pace(&mut *tx, lpu, day, now).await?.estimate(position);
    Ok(Ticket {
        ticket_id: id.to_owned(),
        ticket_number: r.try_get(0)?,
        issued_at: store::dt(&r.try_get::<String, _>(1)?)?,
        position,
        estimated_wait_minutes: Some(estimate.minutes),
        estimated_wait_range: estimate.range(),
        room: r.try_get(3)?,
    })
}

/// `enqueueWalkIn` for the caller `scope` (its token's key: request ids are its own).
pub async fn enqueue(
    st: &Store,
    p: &EnqueueParams,
    now: Now,
    scope: &str,
) -> Result<(Value, Events), ApiError> {
    let key = store::RequestKey::new(scope, &p.request_id, "enqueueWalkIn", p);
    let (_guard, mut tx) = st.begin_keyed(&key.lock_name()).await?;
    if let Some(previous) = store::idempotent(&mut tx, &key).await? {
        return Ok((replay(previous)?, Vec::new()));
    }
    let mut events = Vec::new();
    store::begin_attempt(&mut tx).await?;
    let outcome = enqueue_in(&mut tx, p, now, &mut events).await;
    if outcome.is_err() {
        events.clear();
    }
    let result = finish_write(tx, Some(&key), outcome).await?;
    Ok((result, events))
}

/// The refusal for a walk-in outside the clinic's duty hours, if it is.
pub(crate) fn closed(clinic: &store::LpuRow, now: Now) -> Option<ApiError> {
    let minute = i64::from(now.hour() * 60 + now.minute());
    (minute < clinic.open_min || minute >= clinic.close_min).then(|| {
        ApiError::domain(
            code::QUEUE_CLOSED,
            format!(
                "Дежурный врач принимает с {:02}:{:02} до {:02}:{:02}",
                clinic.open_min / 60,
                clinic.open_min % 60,
                clinic.close_min / 60,
                clinic.close_min % 60
            ),
        )
    })
}

/// The refusal for a patient who already waits, naming their ticket.
pub(crate) fn already_waiting(ticket: Ticket) -> ApiError {
    ApiError::Domain {
        code: code::ALREADY_IN_QUEUE,
        message: format!("У вас уже есть талон {}", ticket.ticket_number),
        ticket: Some(Box::new(ticket)),
    }
}

/// A central ticket's id and number for the clinic's `n`-th of the day. The id is zero-padded
/// so that ids sort in issue order past 999 tickets a day.
pub(crate) fn new_ticket(lpu: i64, day: &str, n: i64) -> (String, String) {
    (format!("{lpu}-{day}-{n:06}"), TicketNumber::central(n as u32).to_string())
}

/// The ticket itself, inside the caller's transaction and attempt. (A group of walk-ins makes
/// the same decisions from what it read at once: [`crate::walk_in`].)
pub(crate) async fn enqueue_in(
    tx: &mut Tx,
    p: &EnqueueParams,
    now: Now,
    events: &mut Events,
) -> Result<Value, ApiError> {
    let patient = store::patient(&mut **tx, &p.patient.oms_number, p.patient.birth_date).await?;
    let lpu = i64::from(p.lpu_id);
    let clinic = store::lpu(&mut **tx, lpu)
        .await?
        .ok_or_else(|| ApiError::InvalidParams(format!("lpuId: unknown clinic {}", p.lpu_id)))?;
    if let Some(refused) = closed(&clinic, now) {
        return Err(refused);
    }
    let day = now.date.to_string();
    let existing = sqlx::query(
        "SELECT id FROM ticket WHERE lpu_id = $1 AND day = $2 AND enp = $3 AND status = 'waiting'",
    )
    .bind(lpu)
    .bind(&day)
    .bind(&patient.enp)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(r) = existing {
        let id: String = r.try_get(0)?;
        return Err(already_waiting(wire_ticket(tx, lpu, &day, &id, now).await?));
    }
    let n = next_counter(tx, lpu, &day).await?;
    let (id, number) = new_ticket(lpu, &day, n);
    let category = duty::declared(&mut **tx, &patient.enp, &day).await?;
    let room = if duty::assigned_to_a_cabinet(category) { duty::assign(tx, lpu, &day).await? } else { None };
    let waiting_before = waiting_count(&mut **tx, lpu, &day).await?;
    let new = NewTicket {
        id: &id,
        number: &number,
        enp: &patient.enp,
        issued: now,
        category,
        room: room.as_deref(),
    };
    insert_ticket(tx, lpu, &day, &new, p.kiosk_id, &p.request_id).await?;
    // An ordinary ticket issued now comes after everyone already waiting: its position is their
    // number. A priority ticket is ranked ahead of some of them.
    let ahead = match category {
        None => waiting_before,
        Some(_) => position(tx, lpu, &day, duty::rank(now.utc_minutes(), category), &id).await?,
    };
    let estimate = pace(&mut *tx, lpu, &day, now).await?.estimate(ahead);
    let ticket = Ticket {
        ticket_id: id,
        ticket_number: number,
        issued_at: now,
        position: ahead,
        estimated_wait_minutes: Some(estimate.minutes),
        estimated_wait_range: estimate.range(),
        room,
    };
    let waiting = waiting_before + 1;
    events.push((p.lpu_id, append(tx, lpu, &day, |seq| FeedEvent::Waiting { seq, waiting }).await?));
    Ok(serde_json::to_value(ticket).expect("serialisable"))
}

/// A ticket to write: who, when, and where the queue policy puts it.
struct NewTicket<'a> {
    id: &'a str,
    number: &'a str,
    enp: &'a str,
    issued: DateTime,
    category: Option<duty::Priority>,
    room: Option<&'a str>,
}

async fn insert_ticket(
    tx: &mut Tx,
    lpu: i64,
    day: &str,
    t: &NewTicket<'_>,
    kiosk: u32,
    request_id: &str,
) -> Result<(), ApiError> {
    let r = sqlx::query(
        "INSERT INTO ticket (id, lpu_id, day, number, enp, issued_at, issued_utc, status, kiosk_id, request_id,
           rank_utc, category, assigned_room)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'waiting', $8, $9, $10, $11, $12)",
    )
    .bind(t.id)
    .bind(lpu)
    .bind(day)
    .bind(t.number)
    .bind(t.enp)
    .bind(t.issued.to_string())
    .bind(t.issued.utc_minutes())
    .bind(i64::from(kiosk))
    .bind(request_id)
    .bind(duty::rank(t.issued.utc_minutes(), t.category))
    .bind(t.category.map(duty::Priority::name))
    .bind(t.room)
    .execute(&mut **tx)
    .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => {
            Err(ApiError::domain(code::ALREADY_IN_QUEUE, "У вас уже есть талон в очереди"))
        }
        Err(e) => Err(e.into()),
    }
}

/// At most this many offline tickets are taken per `syncOfflineTickets` call; the rest are left
/// out of the answer, so the kiosk keeps them and sends them next time.
pub const SYNC_BATCH: usize = 500;

/// Who is syncing and the earliest time its offline tickets may claim.
#[derive(Debug, Clone, Copy)]
pub struct SyncWindow {
    /// The clinic whose queue the tickets join.
    pub lpu: u32,
    /// The kiosk (the token's device).
    pub kiosk: u32,
    /// UTC minutes: the start of the kiosk's last gap (see `limits::offline_window_start`);
    /// `None`: only the queue's opening bounds it.
    pub not_before: Option<i64>,
}

/// The identity rate limits an offline sync answers to: each new ticket is a lookup of a
/// policy and birth date like `getPatientInfo3`, so without them a kiosk token could test 500
/// pairs a call. Over a limit a ticket is answered `RATE_LIMITED` and the kiosk keeps it for
/// its next round.
#[derive(Debug, Clone)]
pub struct SyncGate {
    pub limits: crate::limits::Limits,
    /// The caller's rate key (its token's).
    pub kiosk_key: String,
    pub salt: String,
    /// The rate window of the whole batch ([`crate::limits::wall_minutes`] when it arrived).
    pub minute: i64,
}

/// `utc` (UTC minutes, between today's local midnight and `now`) as a local time of `now`'s day.
fn today_at(now: Now, utc: i64) -> DateTime {
    let minute = (i64::from(now.minute_of_day) - (now.utc_minutes() - utc)).clamp(0, 1439);
    DateTime::new(now.date, (minute / 60) as u32, (minute % 60) as u32, now.offset_minutes).unwrap_or(now)
}

fn rejected(t: &protocol::OfflineTicket, code: &str) -> SyncedTicket {
    SyncedTicket {
        request_id: t.request_id.clone(),
        local_number: t.local_number.clone(),
        status: "rejected".into(),
        ticket_id: None,
        position: None,
        error: Some(code.to_owned()),
    }
}

/// Offline tickets into today's queue, each once: an issue time is clamped into the window the
/// kiosk can really have been offline in (never before its last gap, never before the queue
/// opened today, never in the future), so a backdated ticket cannot jump the queue; tickets of
/// past days are rejected (that queue is over). Returns the results and how many were clamped.
pub async fn sync_offline(
    st: &Store,
    p: &SyncParams,
    w: SyncWindow,
    gate: Option<&SyncGate>,
    now: Now,
) -> Result<(Value, Events, u64), ApiError> {
    let mut results = Vec::new();
    let mut events = Vec::new();
    let mut clamped = 0;
    let lpu = i64::from(w.lpu);
    let today = now.date.to_string();
    let clinic = store::lpu(&st.pool, lpu)
        .await?
        .ok_or_else(|| ApiError::InvalidParams(format!("lpuId: unknown clinic {}", w.lpu)))?;
    // The queue's opening today, in UTC minutes (the clinic's clock: `now`'s offset).
    let opening = now.utc_minutes() - i64::from(now.hour() * 60 + now.minute()) + clinic.open_min;
    let earliest = w.not_before.map_or(opening, |nb| nb.max(opening));
    for t in p.tickets.iter().take(SYNC_BATCH) {
        let (_guard, mut tx) = st.begin_write().await?;
        // Exactly once: a requestId this kiosk synced or enqueued before is a duplicate.
        let seen =
            sqlx::query("SELECT id FROM ticket WHERE request_id = $1 AND kiosk_id = $2 AND lpu_id = $3")
                .bind(&t.request_id)
                .bind(i64::from(w.kiosk))
                .bind(lpu)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(r) = seen {
            let id: String = r.try_get(0)?;
            let r = sqlx::query("SELECT rank_utc, status, number, day FROM ticket WHERE id = $1")
                .bind(&id)
                .fetch_one(&mut *tx)
                .await?;
            let (rank_utc, status, number, day): (i64, String, String, String) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
            // The kiosk gave up waiting for `enqueueWalkIn` and printed an offline ticket under
            // the same requestId, but central had taken it: one ticket, with the number on the
            // patient's paper (the central number never reached anyone).
            let relabel = number != t.local_number && status == "waiting";
            if relabel {
                sqlx::query("UPDATE ticket SET number = $1 WHERE id = $2")
                    .bind(&t.local_number)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
            }
            let pos = if status == "waiting" {
                Some(position(&mut tx, lpu, &day, rank_utc, &id).await?)
            } else {
                None
            };
            tx.commit().await?;
            results.push(SyncedTicket {
                request_id: t.request_id.clone(),
                local_number: t.local_number.clone(),
                status: if relabel { "accepted".into() } else { "duplicate".into() },
                ticket_id: Some(id),
                position: pos,
                error: None,
            });
            continue;
        }
        if t.issued_at.date.to_string() != today {
            tx.rollback().await?;
            results.push(rejected(t, code::OFFLINE_TICKET_STALE));
            continue;
        }
        let policy = match gate {
            Some(g) => {
                let key = crate::limits::policy_key(&g.salt, &t.oms_number);
                if crate::limits::check(st, &g.limits, &g.kiosk_key, &key, false, g.minute).await?.is_some() {
                    tx.rollback().await?;
                    results.push(rejected(t, code::RATE_LIMITED));
                    continue;
                }
                Some((g, key))
            }
            None => None,
        };
        let claimed = t.issued_at.utc_minutes();
        let issued_utc = claimed.clamp(earliest.min(now.utc_minutes()), now.utc_minutes());
        let issued = if issued_utc == claimed { t.issued_at } else { today_at(now, issued_utc) };
        let outcome: Result<(String, u32, FeedEvent), ApiError> = async {
            let patient = store::patient(&mut *tx, &t.oms_number, t.birth_date).await?;
            let id = format!("{lpu}-{today}-K{}-{}", w.kiosk, t.local_number);
            let category = duty::declared(&mut *tx, &patient.enp, &today).await?;
            // The day's row first, as every issue takes it: no cabinet closes under this one.
            duty::lock_day(&mut tx, lpu, &today).await?;
            let room = if duty::assigned_to_a_cabinet(category) {
                duty::assign(&mut tx, lpu, &today).await?
            } else {
                None
            };
            let new = NewTicket {
                id: &id,
                number: &t.local_number,
                enp: &patient.enp,
                issued,
                category,
                room: room.as_deref(),
            };
            insert_ticket(&mut tx, lpu, &today, &new, w.kiosk, &t.request_id).await?;
            let pos = position(&mut tx, lpu, &today, duty::rank(issued_utc, category), &id).await?;
            Ok((id, pos, waiting_event(&mut tx, lpu, &today).await?))
        }
        .await;
        match outcome {
            Ok((id, pos, ev)) => {
                tx.commit().await?;
                events.push((w.lpu, ev));
                clamped += u64::from(issued_utc != claimed);
                results.push(SyncedTicket {
                    request_id: t.request_id.clone(),
                    local_number: t.local_number.clone(),
                    status: "accepted".into(),
                    ticket_id: Some(id),
                    position: Some(pos),
                    error: None,
                });
            }
            Err(ApiError::Domain { code, .. }) => {
                tx.rollback().await?;
                if let (Some((g, key)), code::PATIENT_NOT_FOUND) = (&policy, code) {
                    crate::limits::failed(st, &g.kiosk_key, key, g.minute).await?;
                }
                results.push(rejected(t, code));
            }
            Err(e) => return Err(e),
        }
    }
    Ok((serde_json::to_value(results).expect("serialisable"), events, clamped))
}

pub async fn call_next(st: &Store, p: &CallNextParams, now: Now) -> Result<(Value, Events), ApiError> {
    let lpu = i64::from(p.lpu_id);
    let day = now.date.to_string();
    let (_guard, mut tx) = st.begin_write().await?;
    // The cabinet's own line (and tickets assigned to no cabinet) first, then anyone's: see
    // the policy in `duty`.
    let mut next = sqlx::query(
        "SELECT id, number FROM ticket WHERE lpu_id = $1 AND day = $2 AND status = 'waiting'
           AND (assigned_room = $3 OR assigned_room IS NULL)
         ORDER BY rank_utc, id LIMIT 1",
    )
    .bind(lpu)
    .bind(&day)
    .bind(&p.room)
    .fetch_optional(&mut *tx)
    .await?;
    if next.is_none() {
        next = sqlx::query(
            "SELECT id, number FROM ticket WHERE lpu_id = $1 AND day = $2 AND status = 'waiting'
             ORDER BY rank_utc, id LIMIT 1",
        )
        .bind(lpu)
        .bind(&day)
        .fetch_optional(&mut *tx)
        .await?;
    }
    let Some(r) = next else {
        tx.rollback().await?;
        return Ok((Value::Null, Vec::new()));
    };
    let (id, number): (String, String) = (r.try_get(0)?, r.try_get(1)?);
    let n = sqlx::query(
        "UPDATE ticket SET status = 'called', room = $1, called_at = $2, called_utc = $3 WHERE id = $4 AND status = 'waiting'",
    )
    .bind(&p.room)
    .bind(now.to_string())
    .bind(now.utc_minutes())
    .bind(&id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        // Another node called it first: the doctor presses again.
        tx.rollback().await?;
        return Ok((Value::Null, Vec::new()));
    }
    let room = p.room.clone();
    let called = append(&mut tx, lpu, &day, |seq| FeedEvent::Called {
        seq,
        ticket_number: number.clone(),
        room: room.clone(),
        called_at: now,
    })
    .await?;
    let waiting = waiting_event(&mut tx, lpu, &day).await?;
    tx.commit().await?;
    let result =
        protocol::CalledTicket { ticket_id: id, ticket_number: number, room: p.room.clone(), called_at: now };
    Ok((serde_json::to_value(result).expect("serialisable"), vec![(p.lpu_id, called), (p.lpu_id, waiting)]))
}

/// Whether a doctor of `lpus`, bound to `rooms` (empty: any), may act on a ticket of clinic
/// `lpu` called to `room`.
fn doctors_ticket(lpu: i64, room: Option<&str>, lpus: &[i64], rooms: &[String]) -> Result<(), ApiError> {
    if !lpus.contains(&lpu) {
        return Err(ApiError::Forbidden(crate::metrics::Refusal::Clinic));
    }
    if !rooms.is_empty() && !room.is_some_and(|r| rooms.iter().any(|x| x == r)) {
        return Err(ApiError::Forbidden(crate::metrics::Refusal::Room));
    }
    Ok(())
}

/// completeTicket (`done`) and markNoShow (`noshow`), by a doctor of one of `lpus` (bound to
/// `rooms`, when not empty: then only tickets called to those rooms).
pub async fn finish_ticket(
    st: &Store,
    p: &TicketParams,
    status: &str,
    lpus: &[i64],
    rooms: &[String],
    now: Now,
) -> Result<(Value, Events), ApiError> {
    let (_guard, mut tx) = st.begin_write().await?;
    let r =
        sqlx::query("SELECT lpu_id, day, room FROM ticket WHERE id = $1 AND status IN ('waiting', 'called')")
            .bind(&p.ticket_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ApiError::domain(code::TICKET_NOT_FOUND, "Талон не найден или уже закрыт"))?;
    let (lpu, day, room): (i64, String, Option<String>) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
    doctors_ticket(lpu, room.as_deref(), lpus, rooms)?;
    sqlx::query("UPDATE ticket SET status = $1, finished_utc = $2 WHERE id = $3")
        .bind(status)
        .bind(now.utc_minutes())
        .bind(&p.ticket_id)
        .execute(&mut *tx)
        .await?;
    let ev = waiting_event(&mut tx, lpu, &day).await?;
    tx.commit().await?;
    Ok((json!("OK"), vec![(lpu as u32, ev)]))
}

/// `recallTicket`: the ticket, called to its cabinet, is called again (a new `called` event;
/// the boards show and announce it as a fresh call).
pub async fn recall(
    st: &Store,
    p: &TicketParams,
    lpus: &[i64],
    rooms: &[String],
    now: Now,
) -> Result<(Value, Events), ApiError> {
    let (_guard, mut tx) = st.begin_write().await?;
    // Today's calls only: a ticket left `called` yesterday is not called again.
    let r = sqlx::query(
        "SELECT lpu_id, day, number, room FROM ticket WHERE id = $1 AND status = 'called' AND day = $2",
    )
    .bind(&p.ticket_id)
    .bind(now.date.to_string())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::domain(code::TICKET_NOT_FOUND, "Талон не найден или уже закрыт"))?;
    let (lpu, day, number, room): (i64, String, String, Option<String>) =
        (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
    if !lpus.contains(&lpu) {
        return Err(ApiError::Forbidden(crate::metrics::Refusal::Clinic));
    }
    let room = room.unwrap_or_default();
    if !rooms.is_empty() && !rooms.contains(&room) {
        return Err(ApiError::Forbidden(crate::metrics::Refusal::Room));
    }
    let ev = append(&mut tx, lpu, &day, |seq| FeedEvent::Called {
        seq,
        ticket_number: number,
        room,
        called_at: now,
    })
    .await?;
    tx.commit().await?;
    Ok((json!("OK"), vec![(lpu as u32, ev)]))
}

/// *Перенаправить*: the ticket called to a doctor's cabinet goes back to waiting, assigned to
/// cabinet `to`, keeping its rank (the patient has waited already: they are next there, before
/// anyone who came later).
pub async fn redirect(
    st: &Store,
    p: &TicketParams,
    to: &str,
    lpus: &[i64],
    rooms: &[String],
    now: Now,
) -> Result<(Value, Events), ApiError> {
    let to = to.trim();
    if !duty::valid_room(to) {
        return Err(ApiError::InvalidParams(
            "to: a cabinet number of 1 to 16 letters, digits or dashes".into(),
        ));
    }
    let (_guard, mut tx) = st.begin_write().await?;
    let r =
        sqlx::query("SELECT lpu_id, day, room FROM ticket WHERE id = $1 AND status = 'called' AND day = $2")
            .bind(&p.ticket_id)
            .bind(now.date.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ApiError::domain(code::TICKET_NOT_FOUND, "Талон не найден или уже закрыт"))?;
    let (lpu, day, room): (i64, String, Option<String>) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
    doctors_ticket(lpu, room.as_deref(), lpus, rooms)?;
    // With duty cabinets open today, only to one of them: a ticket assigned to a cabinet nobody
    // calls from would wait for the other lines to empty.
    let open = duty::rooms_open(&mut tx, lpu, &day).await?;
    if !open.is_empty() && !open.iter().any(|r| r == to) {
        return Err(ApiError::InvalidParams(format!(
            "Кабинет {to} сегодня не принимает; открыты: {}",
            open.join(", ")
        )));
    }
    sqlx::query(
        "UPDATE ticket SET status = 'waiting', assigned_room = $1, room = NULL, called_at = NULL, called_utc = NULL
         WHERE id = $2",
    )
    .bind(to)
    .bind(&p.ticket_id)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            // Took a new ticket meanwhile: that one stands.
            ApiError::domain(code::ALREADY_IN_QUEUE, "У пациента уже есть другой талон в очереди")
        } else {
            e.into()
        }
    })?;
    let ev = waiting_event(&mut tx, lpu, &day).await?;
    tx.commit().await?;
    Ok((json!("OK"), vec![(lpu as u32, ev)]))
}

/// What a doctor's console shows for a cabinet: the ticket called there now, how many wait,
/// and the next tickets in the order they will be called (numbers only: no names).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CabinetView {
    pub room: String,
    pub current: Option<CalledNow>,
    pub waiting: u32,
    pub next: Vec<NextTicket>,
}

/// A ticket the cabinet will call: its number and priority category (no names).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NextTicket {
    pub number: String,
    pub category: Option<duty::Priority>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CalledNow {
    pub ticket_id: String,
    pub ticket_number: String,
}

pub async fn cabinet(st: &Store, lpu: u32, room: &str, now: Now, next: i64) -> Result<CabinetView, ApiError> {
    let lpu = i64::from(lpu);
    let day = now.date.to_string();
    let current = sqlx::query(
        // `called_utc IS NOT NULL` keeps the walk down `ticket_calls` to the day's calls (newest
        // first, so it stops at once), not every ticket of the day.
        "SELECT id, number FROM ticket WHERE lpu_id = $1 AND day = $2 AND called_utc IS NOT NULL
           AND status = 'called' AND room = $3
         ORDER BY called_utc DESC, id DESC LIMIT 1",
    )
    .bind(lpu)
    .bind(&day)
    .bind(room)
    .fetch_optional(&st.pool)
    .await?
    .map(|r| Ok::<_, sqlx::Error>(CalledNow { ticket_id: r.try_get(0)?, ticket_number: r.try_get(1)? }))
    .transpose()?;
    // The order callNext takes them in: the cabinet's own line, then others'.
    let rows = sqlx::query(
        "SELECT number, category FROM ticket WHERE lpu_id = $1 AND day = $2 AND status = 'waiting'
         ORDER BY CASE WHEN assigned_room = $3 OR assigned_room IS NULL THEN 0 ELSE 1 END, rank_utc, id LIMIT $4",
    )
    .bind(lpu)
    .bind(&day)
    .bind(room)
    .bind(next)
    .fetch_all(&st.pool)
    .await?;
    let next = rows
        .iter()
        .map(|r| {
            Ok(NextTicket {
                number: r.try_get(0)?,
                category: r.try_get::<Option<String>, _>(1)?.as_deref().and_then(duty::Priority::parse),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(CabinetView {
        room: room.to_owned(),
        current,
        waiting: waiting_count(&st.pool, lpu, &day).await?,
        next,
    })
}

async fn last_calls(st: &Store, lpu: i64, day: &str, limit: i64) -> Result<Vec<Call>, ApiError> {
    let rows = sqlx::query(
        "SELECT number, room, called_at FROM ticket WHERE lpu_id = $1 AND day = $2 AND called_utc IS NOT NULL
         ORDER BY called_utc DESC, id DESC LIMIT $3",
    )
    .bind(lpu)
    .bind(day)
    .bind(limit)
    .fetch_all(&st.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Call {
                ticket_number: r.try_get(0)?,
                room: r.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                called_at: store::dt(&r.try_get::<String, _>(2)?)?,
            })
        })
        .collect()
}

pub async fn state(st: &Store, p: &LpuParams, now: Now) -> Result<Value, ApiError> {
    let lpu = i64::from(p.lpu_id);
    let day = now.date.to_string();
    let waiting = waiting_count(&st.pool, lpu, &day).await?;
    // A plain walk-in issued now stands behind everyone waiting (three reads, no transaction:
    // an estimate needs no snapshot).
    let mut conn = st.pool.acquire().await?;
    let next_wait = pace(&mut conn, lpu, &day, now).await?.estimate(waiting).wire();
    drop(conn);
    let s = QueueState {
        lpu_id: p.lpu_id,
        waiting,
        called: last_calls(st, lpu, &day, 10).await?,
        average_wait_minutes: average_wait(&st.pool, lpu, &day).await?,
        next_wait: Some(next_wait),
    };
    Ok(serde_json::to_value(s).expect("serialisable"))
}

/// The first frame a display gets: where the queue stands, with the latest sequence number.
pub async fn snapshot(st: &Store, lpu_id: u32, now: Now) -> Result<FeedEvent, ApiError> {
    let lpu = i64::from(lpu_id);
    let day = now.date.to_string();
    let seq = sqlx::query("SELECT n FROM counter WHERE lpu_id = $1 AND day = 'feed-seq'")
        .bind(lpu)
        .fetch_optional(&st.pool)
        .await?
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?
        .map_or(0, |n| u64::try_from(n).unwrap_or(0));
    Ok(FeedEvent::Snapshot {
        seq,
        waiting: waiting_count(&st.pool, lpu, &day).await?,
        called: last_calls(st, lpu, &day, 10).await?,
    })
}

/// Today's events after `seq` (for `resume`); `None` when the client must start over from a
/// snapshot instead: `seq` is not one of today's (yesterday's board, pruned events, a number
/// from a reset database or out of range).
pub async fn events_after(
    st: &Store,
    lpu_id: u32,
    seq: u64,
    today: &str,
) -> Result<Option<Vec<FeedEvent>>, ApiError> {
    let Ok(after) = i64::try_from(seq) else { return Ok(None) };
    // The event the client last saw must be today's and still kept (seq 0: nothing seen yet).
    if after > 0 {
        let day = sqlx::query("SELECT day FROM queue_event WHERE lpu_id = $1 AND seq = $2")
            .bind(i64::from(lpu_id))
            .bind(after)
            .fetch_optional(&st.pool)
            .await?
            .map(|r| r.try_get::<String, _>(0))
            .transpose()?;
        if day.as_deref() != Some(today) {
            return Ok(None);
        }
    }
    let (events, whole) = read_after(st, lpu_id, after, Some(today)).await?;
    Ok(whole.then_some(events))
}

/// Most events read at once; a board further behind starts over from a snapshot.
const READ_AT_MOST: i64 = 1000;

/// Stored events after `after` in sequence order, stopping at the first gap or (with `day`)
/// the first event of another day; `true` when nothing was left out.
async fn read_after(
    st: &Store,
    lpu_id: u32,
    after: i64,
    day: Option<&str>,
) -> Result<(Vec<FeedEvent>, bool), ApiError> {
    let rows = sqlx::query(
        "SELECT seq, day, body FROM queue_event WHERE lpu_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
    )
    .bind(i64::from(lpu_id))
    .bind(after)
    .bind(READ_AT_MOST)
    .fetch_all(&st.pool)
    .await?;
    let mut out = Vec::new();
    let mut expect = after.checked_add(1);
    for r in &rows {
        let (s, d): (i64, String) = (r.try_get(0)?, r.try_get(1)?);
        // A gap (pruned, or not committed yet) or another day's events.
        if Some(s) != expect || day.is_some_and(|day| day != d) {
            return Ok((out, false));
        }
        expect = s.checked_add(1);
        if let Ok(ev) = serde_json::from_str(&r.try_get::<String, _>(2)?) {
            out.push(ev);
        }
    }
    let whole = i64::try_from(rows.len()).unwrap_or(i64::MAX) < READ_AT_MOST;
    Ok((out, whole))
}

/// Stored events right after `seq`, in order, up to the first gap (an event whose transaction
/// has not committed yet): what a node relays from PostgreSQL.
pub async fn events_since(st: &Store, lpu_id: u32, seq: u64) -> Result<Vec<FeedEvent>, ApiError> {
    let Ok(after) = i64::try_from(seq) else { return Ok(Vec::new()) };
    Ok(read_after(st, lpu_id, after, None).await?.0)
}

/// One stored event (a PostgreSQL notification names it by sequence number).
pub async fn event(st: &Store, lpu_id: u32, seq: u64) -> Result<Option<FeedEvent>, ApiError> {
    let Ok(seq) = i64::try_from(seq) else { return Ok(None) };
    let r = sqlx::query("SELECT body FROM queue_event WHERE lpu_id = $1 AND seq = $2")
        .bind(i64::from(lpu_id))
        .bind(seq)
        .fetch_optional(&st.pool)
        .await?;
    Ok(r.and_then(|r| r.try_get::<String, _>(0).ok()).and_then(|b| serde_json::from_str(&b).ok()))
}
