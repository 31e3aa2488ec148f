//! The duty-doctor queue's staff rules: priority categories (declared at the info desk, honoured
//! by every ticket the patient takes, at the desk or at a kiosk) and today's duty cabinets
//! (opened and closed by the head of department; a walk-in is assigned to the open cabinet with
//! the shortest queue).
//!
//! The queue policy, in one place:
//! - Every waiting ticket has a *rank*, a time in UTC minutes: its issue time, less a head start
//!   for a priority category ([`Priority::head_start`]). `callNext` takes the lowest rank (ties:
//!   the earlier ticket id, i.e. issue order).
//! - So a priority patient goes ahead of those who came at most the head start before them,
//!   never of those who have waited longer: nobody waits forever, however many priority
//!   patients come (an ordinary patient is overtaken only by priority patients who arrive
//!   within the head start after them, and the day's arrivals are finite).
//! - With duty cabinets open, a ticket is assigned at issue to the open cabinet with the fewest
//!   waiting tickets; a doctor's `callNext` takes the best-ranked ticket of their cabinet (or
//!   one assigned to none), and only when there is none the best-ranked of another cabinet
//!   (nobody idles while others queue). Closing a cabinet moves its waiting tickets to the
//!   open ones. With no cabinet opened today, the queue is one line for every cabinet.

use serde::Serialize;
use sqlx::Row;

use crate::booking::Now;
use crate::error::ApiError;
use crate::store::{Store, Tx};

/// A priority category a patient declares at the info desk (with a document: a veteran's or a
/// disability certificate, a pregnancy record; urgency is the desk nurse's judgement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Urgent,
    Veteran,
    Disabled,
    Pregnant,
}

impl Priority {
    pub const ALL: [Priority; 4] =
        [Priority::Urgent, Priority::Veteran, Priority::Disabled, Priority::Pregnant];

    /// The name stored and posted.
    pub fn name(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::Veteran => "veteran",
            Priority::Disabled => "disabled",
            Priority::Pregnant => "pregnant",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.name() == s)
    }

    /// Minutes a ticket of this category is ranked ahead of its issue time.
    pub fn head_start(self) -> i64 {
        match self {
            // Seen next in any queue this system will see (two hours of waiting patients).
            Priority::Urgent => 120,
            Priority::Veteran | Priority::Disabled | Priority::Pregnant => 30,
        }
    }

    /// For staff (and the doctor's list of next tickets): no personal detail beyond this.
    pub fn label(self, en: bool) -> &'static str {
        match (self, en) {
            (Priority::Urgent, false) => "неотложно",
            (Priority::Urgent, true) => "urgent",
            (Priority::Veteran, false) => "ветеран",
            (Priority::Veteran, true) => "veteran",
            (Priority::Disabled, false) => "инвалидность",
            (Priority::Disabled, true) => "disability",
            (Priority::Pregnant, false) => "беременность",
            (Priority::Pregnant, true) => "pregnancy",
        }
    }

    /// How long a declaration holds: urgency for the day, a document-backed category a year
    /// (a pregnancy record about as long as it is true); the desk can clear it any time.
    pub fn days_valid(self) -> u32 {
        match self {
            Priority::Urgent => 0,
            Priority::Veteran | Priority::Disabled | Priority::Pregnant => 365,
        }
    }
}

/// A ticket's rank (see the module's policy).
pub fn rank(issued_utc: i64, category: Option<Priority>) -> i64 {
    issued_utc - category.map_or(0, Priority::head_start)
}

/// The category `enp` declared at the desk, if it still holds on `today` (urgency is kept apart
/// from a document-backed category: an urgent day does not end a veteran's year).
pub async fn declared(
    ex: impl sqlx::Executor<'_, Database = sqlx::Any>,
    enp: &str,
    today: &str,
) -> Result<Option<Priority>, ApiError> {
    let r = sqlx::query("SELECT category, until_day, urgent_day FROM patient_priority WHERE enp = $1")
        .bind(enp)
        .fetch_optional(ex)
        .await?;
    let Some(r) = r else { return Ok(None) };
    let (category, until, urgent): (Option<String>, Option<String>, Option<String>) =
        (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
    if urgent.as_deref() == Some(today) {
        return Ok(Some(Priority::Urgent));
    }
    Ok(category.filter(|_| until.as_deref().is_some_and(|u| u >= today)).as_deref().and_then(Priority::parse))
}

/// Records (or, with `None`, clears) the category `enp` declared at clinic `lpu`, by `who` (a
/// staff key, for the audit trail: no names), and ranks the patient's ticket waiting today
/// accordingly (a patient who took a kiosk ticket before showing their certificate). Returns
/// the feed events to publish (doctors' pages refresh their next tickets).
pub async fn declare(
    st: &Store,
    lpu: u32,
    enp: &str,
    category: Option<Priority>,
    now: Now,
    who: &str,
) -> Result<crate::queue::Events, ApiError> {
    let today = now.date.to_string();
    let (_guard, mut tx) = st.begin_write().await?;
    match category {
        Some(Priority::Urgent) => {
            sqlx::query(
                "INSERT INTO patient_priority (enp, category, until_day, urgent_day, set_by) VALUES ($1, NULL, NULL, $2, $3)
                 ON CONFLICT (enp) DO UPDATE SET urgent_day = $4, set_by = $5",
            )
            .bind(enp)
            .bind(&today)
            .bind(who)
            .bind(&today)
            .bind(who)
            .execute(&mut *tx)
            .await?;
        }
        Some(c) => {
            let until = now.date.add_days(c.days_valid() as i32).unwrap_or(now.date).to_string();
            // The desk's choice for today: no longer urgent, if it was.
            sqlx::query(
                "INSERT INTO patient_priority (enp, category, until_day, urgent_day, set_by) VALUES ($1, $2, $3, NULL, $4)
                 ON CONFLICT (enp) DO UPDATE SET category = $5, until_day = $6, urgent_day = NULL, set_by = $7",
            )
            .bind(enp)
            .bind(c.name())
            .bind(&until)
            .bind(who)
            .bind(c.name())
            .bind(&until)
            .bind(who)
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM patient_priority WHERE enp = $1").bind(enp).execute(&mut *tx).await?;
        }
    }
    let lpu = i64::from(lpu);
    // The head start is a constant of the policy, not user input.
    let rank_from_issue = match category {
        Some(c) => format!("issued_utc - {}", c.head_start()),
        None => "issued_utc".to_owned(),
    };
    let moved = sqlx::query(&format!(
        "UPDATE ticket SET category = $1, rank_utc = {rank_from_issue}
         WHERE lpu_id = $2 AND day = $3 AND enp = $4 AND status = 'waiting'"
    ))
    .bind(category.map(Priority::name))
    .bind(lpu)
    .bind(&today)
    .bind(enp)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let events = if moved > 0 { crate::queue::nudge(&mut tx, lpu, &today).await? } else { Vec::new() };
    tx.commit().await?;
    Ok(events)
}

/// A cabinet number as staff may type it: 1 to 16 letters, digits and dashes (it is shown on
/// boards, printed, written to logs and the CSV).
pub fn valid_room(room: &str) -> bool {
    let n = room.chars().count();
    (1..=16).contains(&n) && room.chars().all(|c| c.is_alphanumeric() || c == '-')
}

/// Takes the clinic's day counter row (the lock every ticket's issue takes first): cabinets
/// open and close between tickets, never under one being issued on another node.
pub(crate) async fn lock_day(tx: &mut Tx, lpu: i64, day: &str) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO counter (lpu_id, day, n) VALUES ($1, $2, 0) ON CONFLICT (lpu_id, day) DO UPDATE SET n = counter.n",
    )
    .bind(lpu)
    .bind(day)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether a ticket of `category` is assigned to a cabinet at all: an urgent patient is not,
/// so that the first doctor free takes them.
pub fn assigned_to_a_cabinet(category: Option<Priority>) -> bool {
    category != Some(Priority::Urgent)
}

/// The open duty cabinet with the fewest waiting tickets, for a ticket issued now (`None`: no
/// cabinet opened today, one line for all).
pub async fn assign(tx: &mut Tx, lpu: i64, day: &str) -> Result<Option<String>, ApiError> {
    let r = sqlx::query(
        "SELECT d.room, (SELECT COUNT(*) FROM ticket w WHERE w.lpu_id = d.lpu_id AND w.day = d.day
           AND w.status = 'waiting' AND w.assigned_room = d.room) AS n
         FROM duty_room d WHERE d.lpu_id = $1 AND d.day = $2 AND d.closed_utc IS NULL
         ORDER BY n, d.opened_utc, d.room LIMIT 1",
    )
    .bind(lpu)
    .bind(day)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(r.map(|r| r.try_get::<String, _>(0)).transpose()?)
}

/// Today's open duty cabinets, in name order.
pub async fn rooms_open(tx: &mut Tx, lpu: i64, day: &str) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query(
        "SELECT room FROM duty_room WHERE lpu_id = $1 AND day = $2 AND closed_utc IS NULL ORDER BY room",
    )
    .bind(lpu)
    .bind(day)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
}

/// A duty cabinet of today, as the head of department sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DutyRoom {
    pub room: String,
    pub doctor_id: Option<i64>,
    pub open: bool,
}

pub async fn rooms(st: &Store, lpu: u32, now: Now) -> Result<Vec<DutyRoom>, ApiError> {
    let rows = sqlx::query(
        "SELECT room, doctor_id, closed_utc FROM duty_room WHERE lpu_id = $1 AND day = $2 ORDER BY room",
    )
    .bind(i64::from(lpu))
    .bind(now.date.to_string())
    .fetch_all(&st.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DutyRoom {
                room: r.try_get(0)?,
                doctor_id: r.try_get(1)?,
                open: r.try_get::<Option<i64>, _>(2)?.is_none(),
            })
        })
        .collect()
}

/// Opens `room` for today's duty (again, if it was closed): tickets issued from now on may be
/// assigned to it, and its doctor calls from it at once.
pub async fn open(
    st: &Store,
    lpu: u32,
    room: &str,
    doctor_id: Option<i64>,
    now: Now,
) -> Result<(), ApiError> {
    let room = room.trim();
    if !valid_room(room) {
        return Err(ApiError::InvalidParams(
            "room: a cabinet number of 1 to 16 letters, digits or dashes".into(),
        ));
    }
    let day = now.date.to_string();
    let (_guard, mut tx) = st.begin_write().await?;
    if let Some(d) = doctor_id
        && !crate::store::doctor_in_clinic(&mut *tx, d, lpu).await?
    {
        return Err(ApiError::InvalidParams(format!("doctor: no doctor {d} in this clinic")));
    }
    lock_day(&mut tx, i64::from(lpu), &day).await?;
    sqlx::query(
        "INSERT INTO duty_room (lpu_id, day, room, doctor_id, opened_utc, closed_utc) VALUES ($1, $2, $3, $4, $5, NULL)
         ON CONFLICT (lpu_id, day, room) DO UPDATE SET closed_utc = NULL, doctor_id = COALESCE($6, duty_room.doctor_id)",
    )
    .bind(i64::from(lpu))
    .bind(&day)
    .bind(room)
    .bind(doctor_id)
    .bind(now.utc_minutes())
    .bind(doctor_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Closes `room` for the rest of today; its waiting tickets go to the open cabinets, each in
/// rank order to the one with the fewest waiting then (to none, if none is open). Returns how
/// many moved and the feed events to publish.
pub async fn close(
    st: &Store,
    lpu: u32,
    room: &str,
    now: Now,
) -> Result<(u32, crate::queue::Events), ApiError> {
    let lpu = i64::from(lpu);
    let day = now.date.to_string();
    let (_guard, mut tx) = st.begin_write().await?;
    // No ticket is being assigned to this cabinet on another node meanwhile.
    lock_day(&mut tx, lpu, &day).await?;
    let n = sqlx::query(
        "UPDATE duty_room SET closed_utc = $1 WHERE lpu_id = $2 AND day = $3 AND room = $4 AND closed_utc IS NULL",
    )
    .bind(now.utc_minutes())
    .bind(lpu)
    .bind(&day)
    .bind(room)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        tx.rollback().await?;
        return Err(ApiError::InvalidParams(format!("room: cabinet {room} is not open today")));
    }
    let moving: Vec<String> = sqlx::query(
        "SELECT id FROM ticket WHERE lpu_id = $1 AND day = $2 AND status = 'waiting' AND assigned_room = $3
         ORDER BY rank_utc, id",
    )
    .bind(lpu)
    .bind(&day)
    .bind(room)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<Result<_, _>>()?;
    for id in &moving {
        let to = assign(&mut tx, lpu, &day).await?;
        sqlx::query("UPDATE ticket SET assigned_room = $1 WHERE id = $2")
            .bind(to)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    // Doctors' pages show their new next tickets.
    let events = if moving.is_empty() { Vec::new() } else { crate::queue::nudge(&mut tx, lpu, &day).await? };
    tx.commit().await?;
    Ok((moving.len() as u32, events))
}

/// One cabinet's day, for the head of department (minutes).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomLoad {
    pub room: String,
    /// Waiting tickets assigned to this cabinet.
    pub waiting: u32,
    /// Called today and finished (done or no-show) or still in the cabinet.
    pub served: u32,
    pub no_shows: u32,
    pub average_wait: Option<u32>,
    pub p90_wait: Option<u32>,
    /// From the call to done, over the tickets marked done.
    pub average_visit: Option<u32>,
    /// Minutes since the cabinet last called or finished someone, when nobody is in it now.
    pub idle: Option<u32>,
    pub open: Option<bool>,
    /// The doctor the head put on duty there, as surname and initials.
    pub doctor: Option<String>,
}

/// What the head of department's view and CSV report show for today.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayReport {
    pub rooms: Vec<RoomLoad>,
    /// Waiting tickets assigned to no cabinet.
    pub unassigned: u32,
    /// Patients waiting at each quarter hour since the queue opened (`(local minute, n)`).
    pub waiting_over_day: Vec<(u32, u32)>,
}

/// The nearest-rank percentile `p` (0..=100) of sorted `v`.
fn percentile(v: &[i64], p: usize) -> Option<u32> {
    if v.is_empty() {
        return None;
    }
    let i = (v.len() * p).div_ceil(100).clamp(1, v.len()) - 1;
    Some(v[i].max(0) as u32)
}

fn average(v: &[i64]) -> Option<u32> {
    (!v.is_empty()).then(|| (v.iter().sum::<i64>().max(0) / v.len() as i64) as u32)
}

pub async fn day_report(st: &Store, lpu: u32, now: Now) -> Result<DayReport, ApiError> {
    let lpu = i64::from(lpu);
    let day = now.date.to_string();
    let rows = sqlx::query(
        "SELECT status, room, assigned_room, issued_utc, called_utc, finished_utc FROM ticket
         WHERE lpu_id = $1 AND day = $2",
    )
    .bind(lpu)
    .bind(&day)
    .fetch_all(&st.pool)
    .await?;
    let duty = sqlx::query(
        "SELECT d.room, d.closed_utc, doc.last_name, doc.first_name, doc.middle_name FROM duty_room d
         LEFT JOIN doctor doc ON doc.id = d.doctor_id WHERE d.lpu_id = $1 AND d.day = $2",
    )
    .bind(lpu)
    .bind(&day)
    .fetch_all(&st.pool)
    .await?;
    #[derive(Default)]
    struct Acc {
        waiting: u32,
        served: u32,
        no_shows: u32,
        waits: Vec<i64>,
        visits: Vec<i64>,
        last: Option<i64>,
        busy: bool,
        open: Option<bool>,
        doctor: Option<String>,
    }
    let mut by_room: std::collections::BTreeMap<String, Acc> = Default::default();
    for r in &duty {
        let room: String = r.try_get(0)?;
        let a = by_room.entry(room).or_default();
        a.open = Some(r.try_get::<Option<i64>, _>(1)?.is_none());
        let names: [Option<String>; 3] = [r.try_get(2)?, r.try_get(3)?, r.try_get(4)?];
        a.doctor = names[0].is_some().then(|| {
            let [last, first, middle] = names.map(Option::unwrap_or_default);
            domain::FullName::new(&last, &first, Some(&middle).filter(|m| !m.is_empty()).map(|m| m.as_str()))
                .surname_and_initials()
        });
    }
    let mut unassigned = 0;
    let mut spans = Vec::with_capacity(rows.len());
    for r in &rows {
        let status: String = r.try_get(0)?;
        let room: Option<String> = r.try_get(1)?;
        let assigned: Option<String> = r.try_get(2)?;
        let (issued, called, finished): (i64, Option<i64>, Option<i64>) =
            (r.try_get(3)?, r.try_get(4)?, r.try_get(5)?);
        // A ticket finished without a call (closed by a doctor from the list) waited until then.
        spans.push((issued, called.or(finished)));
        if status == "waiting" {
            match assigned {
                Some(a) => by_room.entry(a).or_default().waiting += 1,
                None => unassigned += 1,
            }
            continue;
        }
        let (Some(room), Some(called)) = (room, called) else { continue };
        let a = by_room.entry(room).or_default();
        a.served += 1;
        a.waits.push(called - issued);
        match status.as_str() {
            "noshow" => a.no_shows += 1,
            "done" => {
                if let Some(f) = finished {
                    a.visits.push(f - called);
                }
            }
            "called" => a.busy = true,
            _ => {}
        }
        a.last = a.last.max(Some(finished.unwrap_or(called)));
    }
    let now_utc = now.utc_minutes();
    let rooms = by_room
        .into_iter()
        .map(|(room, mut a)| {
            a.waits.sort_unstable();
            RoomLoad {
                room,
                waiting: a.waiting,
                served: a.served,
                no_shows: a.no_shows,
                average_wait: average(&a.waits),
                p90_wait: percentile(&a.waits, 90),
                average_visit: average(&a.visits),
                idle: (!a.busy).then_some(a.last).flatten().map(|l| (now_utc - l).max(0) as u32),
                open: a.open,
                doctor: a.doctor,
            }
        })
        .collect();
    Ok(DayReport { rooms, unassigned, waiting_over_day: waiting_curve(&spans, now) })
}

/// Patients waiting at each quarter hour of today up to `now`, from each ticket's issue and
/// call times (`called`: `None` while it waits), starting at the first ticket's quarter.
pub fn waiting_curve(spans: &[(i64, Option<i64>)], now: Now) -> Vec<(u32, u32)> {
    let now_utc = now.utc_minutes();
    let midnight = now_utc - i64::from(now.minute_of_day);
    let Some(first) = spans.iter().map(|s| s.0).min() else { return Vec::new() };
    let start = midnight + (first - midnight).div_euclid(15) * 15;
    if start > now_utc {
        return Vec::new();
    }
    let quarters = usize::try_from((now_utc - start) / 15 + 1).unwrap_or(0);
    // The first quarter at or after minute `t`.
    let at_or_after = |t: i64| usize::try_from((t - start + 14).div_euclid(15).max(0)).unwrap_or(0);
    // A ticket waits at the quarters from its issue up to (not including) its call: +1 where
    // that starts, -1 where it ends, then running sums; linear in tickets and quarters.
    let mut change = vec![0i64; quarters + 1];
    for (issued, called) in spans {
        let from = at_or_after(*issued).min(quarters);
        let to = called.map_or(quarters, |c| at_or_after(c).min(quarters));
        if from < to {
            change[from] += 1;
            change[to] -= 1;
        }
    }
    let mut n = 0i64;
    (0..quarters)
        .map(|k| {
            n += change[k];
            ((start + 15 * k as i64 - midnight) as u32, n.max(0) as u32)
        })
        .collect()
}

/// The day report as CSV (`;`-separated, as Russian-locale spreadsheets open it).
pub fn csv(report: &DayReport, en: bool) -> String {
    let head = if en {
        "cabinet;open;waiting;served;no-shows;average wait, min;p90 wait, min;average visit, min;idle, min\n"
    } else {
        "кабинет;открыт;ждут;принято;не явились;среднее ожидание, мин;ожидание p90, мин;средний приём, мин;простой, мин\n"
    };
    let mut out = String::from(head);
    let n = |v: Option<u32>| v.map_or_else(String::new, |v| v.to_string());
    for r in &report.rooms {
        let open = match (r.open, en) {
            (Some(true), false) => "да",
            (Some(false), false) => "закрыт",
            (Some(true), true) => "yes",
            (Some(false), true) => "closed",
            (None, _) => "",
        };
        // A cabinet number is typed by staff: a cell a spreadsheet would read as a formula is
        // quoted as text (its characters kept).
        let mut room = r.room.replace([';', '\n', '\r', '"'], " ");
        if room.starts_with(['=', '+', '-', '@', '\t']) {
            room.insert(0, '\'');
        }
        out += &format!(
            "{room};{open};{};{};{};{};{};{};{}\n",
            r.waiting,
            r.served,
            r.no_shows,
            n(r.average_wait),
            n(r.p90_wait),
            n(r.average_visit),
            n(r.idle)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_priority_patient_goes_ahead_of_recent_arrivals_only() {
        // 09:00 ordinary, 09:20 ordinary, 09:25 veteran (rank 08:55), 09:40 ordinary,
        // 10:00 urgent (rank 08:00).
        let mut q = [
            ("К-001", rank(540, None)),
            ("К-002", rank(560, None)),
            ("К-003", rank(565, Some(Priority::Veteran))),
            ("К-004", rank(580, None)),
            ("К-005", rank(600, Some(Priority::Urgent))),
        ];
        q.sort_by_key(|t| t.1);
        let order: Vec<_> = q.iter().map(|t| t.0).collect();
        assert_eq!(order, ["К-005", "К-003", "К-001", "К-002", "К-004"]);
    }

    #[test]
    fn nobody_who_waited_longer_than_the_head_start_is_overtaken() {
        // An ordinary ticket at minute 0; a priority ticket every minute after, all day.
        let ordinary = rank(0, None);
        assert!(
            (1..30).all(|t| rank(t, Some(Priority::Veteran)) < ordinary),
            "those within 30 minutes go first"
        );
        assert!(
            (30..600).all(|t| rank(t, Some(Priority::Veteran)) >= ordinary),
            "nobody arriving 30 minutes or more later goes first (a tie goes to the earlier ticket)"
        );
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v, 100), Some(10));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 90), None);
        assert_eq!(average(&[1, 2, 4]), Some(2));
    }

    #[test]
    fn the_waiting_curve_counts_each_quarter() {
        let now = domain::DateTime::parse_iso("2026-12-03T09:31:00+03:00").unwrap();
        let at = |h: i64, m: i64| now.utc_minutes() - i64::from(now.minute_of_day) + h * 60 + m;
        let spans = [(at(8, 5), Some(at(8, 40))), (at(8, 20), None), (at(9, 10), Some(at(9, 12)))];
        let curve = waiting_curve(&spans, now);
        assert_eq!(curve, [(480, 0), (495, 1), (510, 2), (525, 1), (540, 1), (555, 1), (570, 1)]);
    }

    #[test]
    fn the_waiting_curve_agrees_with_counting_each_quarter() {
        let now = domain::DateTime::parse_iso("2026-12-03T13:07:00+03:00").unwrap();
        let midnight = now.utc_minutes() - i64::from(now.minute_of_day);
        let mut x = 12345u64;
        let mut rnd = |n: u64| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        let spans: Vec<(i64, Option<i64>)> = (0..500)
            .map(|_| {
                let issued = midnight + 480 + rnd(300) as i64;
                let called = (rnd(4) > 0).then(|| issued + rnd(120) as i64);
                (issued, called)
            })
            .collect();
        let curve = waiting_curve(&spans, now);
        assert!(!curve.is_empty());
        for (minute, n) in curve {
            let t = midnight + i64::from(minute);
            let naive = spans.iter().filter(|(i, c)| *i <= t && c.is_none_or(|c| c > t)).count();
            assert_eq!(n as usize, naive, "at minute {minute}");
        }
    }

    #[test]
    fn csv_cells_cannot_become_formulas() {
        let report = DayReport {
            rooms: vec![RoomLoad {
                room: "=HYPERLINK(\"x\";1)".into(),
                waiting: 1,
                served: 2,
                no_shows: 0,
                average_wait: Some(12),
                p90_wait: Some(20),
                average_visit: None,
                idle: None,
                open: Some(true),
                doctor: None,
            }],
            unassigned: 0,
            waiting_over_day: Vec::new(),
        };
        let text = csv(&report, false);
        let line = text.lines().nth(1).unwrap();
        assert!(line.starts_with("'=HYPERLINK"), "quoted as text, characters kept: {line}");
        assert_eq!(line.split(';').count(), 9, "{line}");
    }
}
