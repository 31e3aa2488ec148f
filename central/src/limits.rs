//! Abuse resistance kept in the database, so every central node sharing it counts the same:
//! rate limits on identity lookups and bookings (per kiosk and per policy), and when each
//! device was last seen (the window its offline tickets may come from).
//!
//! Counters are fixed one-minute windows (`rate_hit`, keyed by a string and the window's
//! start in UTC minutes of the real clock, not the clinic's, which tests fix). On SQLite, a
//! single node by construction, the same counters are kept in memory. A policy is
//! keyed by an HMAC-like salted SHA-256, never in clear; the salt is made once per database.

use sha2::{Digest, Sha256};
use sqlx::Row;

use domain::Enp;

use crate::store::{Backend, Store};

/// How many of what are allowed. `AppState::ident_per_minute` (the old knob, `central serve
/// --ident-per-minute`) scales them all: [`Limits::scaled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Identity lookups that found nobody, per kiosk per minute (probing for the insured).
    pub failed_per_kiosk: i64,
    /// Every call carrying `omsNumber` + `birthDate`, per kiosk per minute.
    pub lookups_per_kiosk: i64,
    /// Bookings, moves, cancellations and walk-in tickets, per kiosk per minute.
    pub bookings_per_kiosk: i64,
    /// Every call carrying this policy, from all kiosks, per minute.
    pub lookups_per_policy: i64,
    /// Wrong birth dates for this policy, from all kiosks, per hour (guessing a birth date).
    pub failed_per_policy_hour: i64,
    /// Bookings for this policy, from all kiosks, per minute.
    pub bookings_per_policy: i64,
}

impl Limits {
    /// From the per-kiosk budget of failed identifications (default 10): a kiosk serving a
    /// patient every 20 s makes about 30 lookups and 3 bookings a minute, far below.
    pub fn scaled(failed_per_kiosk: usize) -> Limits {
        let n = i64::try_from(failed_per_kiosk).unwrap_or(i64::MAX).max(1);
        Limits {
            failed_per_kiosk: n,
            lookups_per_kiosk: n.saturating_mul(60),
            bookings_per_kiosk: n.saturating_mul(6),
            lookups_per_policy: n.saturating_mul(12),
            failed_per_policy_hour: n,
            bookings_per_policy: n.saturating_mul(3),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    Kiosk,
    Policy,
}

/// Minutes since the epoch on the real clock (rate windows must move even when the clinic's
/// clock is fixed, as in tests).
pub fn wall_minutes() -> i64 {
    let s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    i64::try_from(s / 60).unwrap_or(i64::MAX)
}

/// The salted hash a policy is counted under.
pub fn policy_key(salt: &str, enp: &Enp) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(enp.expose().as_bytes());
    crate::auth::hex(&h.finalize()[..12])
}

/// Adds `add` to each (key, window) and returns the counts after: one statement, keys in a
/// fixed order so that concurrent statements on PostgreSQL lock rows in the same order.
async fn bump(st: &Store, mut hits: Vec<(String, i64, i64)>) -> Result<Vec<(String, i64)>, sqlx::Error> {
    if st.backend == crate::store::Backend::Sqlite {
        // A single node: counting in memory spares every identity lookup a write transaction
        // (it halved read throughput). PostgreSQL nodes share the table below.
        let mut rates = st.rates.lock().expect("rates lock");
        return Ok(hits
            .into_iter()
            .map(|(k, w, n)| {
                let e = rates.entry((k.clone(), w)).or_insert(0);
                *e += n;
                (k, *e)
            })
            .collect());
    }
    hits.sort();
    let mut sql = String::from("INSERT INTO rate_hit (key, win, n) VALUES ");
    for i in 0..hits.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3));
    }
    sql.push_str(" ON CONFLICT (key, win) DO UPDATE SET n = rate_hit.n + excluded.n RETURNING key, n");
    let mut q = sqlx::query(&sql);
    for (k, w, n) in &hits {
        q = q.bind(k.clone()).bind(*w).bind(*n);
    }
    // One statement is its own transaction: no BEGIN/COMMIT round trips, and the hot rows (a
    // busy kiosk's window) are locked only while it runs.
    let rows = q.fetch_all(&st.pool).await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

/// Counts one call of `kiosk` about `policy` (a booking too when `booking`) in the window of
/// `now` ([`wall_minutes`], read once per request: a sync batch that runs across a minute's end
/// must not find a fresh budget halfway through) and says whether it may go ahead.
pub async fn check(
    st: &Store,
    limits: &Limits,
    kiosk: &str,
    policy: &str,
    booking: bool,
    now: i64,
) -> Result<Option<Exceeded>, sqlx::Error> {
    let hour = now - now.rem_euclid(60);
    let mut hits = vec![
        (format!("k:{kiosk}"), now, 1),
        (format!("p:{policy}"), now, 1),
        // Read (add 0) the failure counters in the same statement.
        (format!("kf:{kiosk}"), now, 0),
        (format!("pf:{policy}"), hour, 0),
    ];
    if booking {
        hits.push((format!("kb:{kiosk}"), now, 1));
        hits.push((format!("pb:{policy}"), now, 1));
    }
    let counts = bump(st, hits).await?;
    let over = |prefix: &str, limit: i64| {
        counts.iter().any(|(k, n)| k.split_once(':').is_some_and(|(p, _)| p == prefix) && *n > limit)
    };
    // Failure counters are read before this call's outcome is known: at the limit, stop.
    let failed_kiosk = counts.iter().any(|(k, n)| k.starts_with("kf:") && *n >= limits.failed_per_kiosk);
    let failed_policy =
        counts.iter().any(|(k, n)| k.starts_with("pf:") && *n >= limits.failed_per_policy_hour);
    if failed_kiosk || over("k", limits.lookups_per_kiosk) || over("kb", limits.bookings_per_kiosk) {
        return Ok(Some(Exceeded::Kiosk));
    }
    if failed_policy || over("p", limits.lookups_per_policy) || over("pb", limits.bookings_per_policy) {
        return Ok(Some(Exceeded::Policy));
    }
    Ok(None)
}

/// Counts a lookup that found nobody (unknown policy or wrong birth date) in the window of
/// `now`, the same minute its [`check`] used.
pub async fn failed(st: &Store, kiosk: &str, policy: &str, now: i64) -> Result<(), sqlx::Error> {
    let hour = now - now.rem_euclid(60);
    bump(st, vec![(format!("kf:{kiosk}"), now, 1), (format!("pf:{policy}"), hour, 1)]).await?;
    Ok(())
}

/// The salt policies are counted under: made by the first node, read by the others.
pub async fn salt(st: &Store) -> Result<String, sqlx::Error> {
    let fresh = crate::auth::generate().unwrap_or_else(|_| format!("{:?}", std::time::SystemTime::now()));
    sqlx::query("INSERT INTO meta (key, value) VALUES ('rate-salt', $1) ON CONFLICT (key) DO NOTHING")
        .bind(fresh)
        .execute(&st.pool)
        .await?;
    sqlx::query("SELECT value FROM meta WHERE key = 'rate-salt'").fetch_one(&st.pool).await?.try_get(0)
}

/// A silence longer than this between a device's calls is a gap (central unreachable).
pub const GAP_MINUTES: i64 = 2;
/// Offline tickets synced this soon after a gap ended may come from the whole gap.
pub const RECONNECT_GRACE_MINUTES: i64 = 30;

/// Records that device `key` called at `now` (clinic clock, UTC minutes); a silence longer
/// than [`GAP_MINUTES`] is remembered as the last gap.
pub async fn seen(st: &Store, key: &str, now: i64) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO device_seen (key, first_utc, last_utc, gap_from, gap_until) VALUES ($1, $2, $3, NULL, NULL)
        ON CONFLICT (key) DO UPDATE SET
          gap_from = CASE WHEN $4 - device_seen.last_utc > $5 THEN device_seen.last_utc ELSE device_seen.gap_from END,
          gap_until = CASE WHEN $6 - device_seen.last_utc > $7 THEN $8 ELSE device_seen.gap_until END,
          last_utc = CASE WHEN $9 > device_seen.last_utc THEN $10 ELSE device_seen.last_utc END";
    let q = sqlx::query(sql)
        .bind(key)
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(GAP_MINUTES)
        .bind(now)
        .bind(GAP_MINUTES)
        .bind(now)
        .bind(now)
        .bind(now);
    match st.backend {
        Backend::Sqlite => {
            let (_guard, mut tx) = st.begin_limits().await?;
            q.execute(&mut *tx).await?;
            tx.commit().await
        }
        Backend::Postgres => q.execute(&st.pool).await.map(|_| ()),
    }
}

/// The earliest time (UTC minutes) an offline ticket synced by device `key` now may claim:
/// the start of its last gap if that gap ended recently; else a moment ago (a kiosk in
/// continuous contact was offline at most briefly); `None` for a device never seen before this
/// call (then the queue's opening bounds it).
pub async fn offline_window_start(st: &Store, key: &str, now: i64) -> Result<Option<i64>, sqlx::Error> {
    let r = sqlx::query("SELECT first_utc, gap_from, gap_until FROM device_seen WHERE key = $1")
        .bind(key)
        .fetch_optional(&st.pool)
        .await?;
    let Some(r) = r else { return Ok(None) };
    let (first, gap_from, gap_until): (i64, Option<i64>, Option<i64>) =
        (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
    if let (Some(from), Some(until)) = (gap_from, gap_until)
        && now - until <= RECONNECT_GRACE_MINUTES
    {
        return Ok(Some(from));
    }
    if now - first <= GAP_MINUTES && gap_from.is_none() {
        return Ok(None);
    }
    Ok(Some(now - GAP_MINUTES))
}

/// Drops what is no longer needed: rate windows older than two hours, the stored answers of
/// requests older than a week, and feed events of past days.
pub async fn prune(st: &Store, today: &str) -> Result<u64, sqlx::Error> {
    // Through the write locks like every other write: on SQLite a delete from outside them can
    // make a patient's transaction fail at once (a stale WAL snapshot is not retried).
    let mut n = 0;
    let old_window = wall_minutes() - 120;
    {
        let mut rates = st.rates.lock().expect("rates lock");
        let before = rates.len();
        rates.retain(|(_, w), _| *w >= old_window);
        n += (before - rates.len()) as u64;
    }
    {
        let (_guard, mut tx) = st.begin_limits().await?;
        n += sqlx::query("DELETE FROM rate_hit WHERE win < $1")
            .bind(old_window)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
    }
    let week = wall_minutes() - 7 * 24 * 60;
    let (_guard, mut tx) = st.begin_write().await?;
    n += sqlx::query("DELETE FROM request_log WHERE created_min < $1")
        .bind(week)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    n += sqlx::query("DELETE FROM queue_event WHERE day < $1")
        .bind(today)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(n)
}
