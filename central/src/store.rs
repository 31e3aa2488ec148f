//! Storage: one schema on SQLite (embedded, one file) or PostgreSQL (several nodes), through
//! sqlx's `Any` driver, and every clinic rule that needs the data.
//!
//! Queries use `$1, $2, ...` in order of appearance, which both databases read the same way.
//! Writes run in transactions; on SQLite they are also serialised in-process (one writer, no
//! busy retries); on PostgreSQL unique indexes decide races between nodes (one active
//! appointment per slot, one waiting ticket per patient and day, one response per requestId).

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Row, Transaction};

use domain::{Date, DateTime, Enp};

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct Store {
    pub pool: AnyPool,
    pub backend: Backend,
    /// Serialises writers on SQLite.
    write: tokio::sync::Mutex<()>,
    /// Serialises writers of the limits database on SQLite (its own file and lock).
    limits_write: tokio::sync::Mutex<()>,
    /// Rate counters on SQLite, `(key, window) -> n`: one process owns a SQLite database (its
    /// writers are serialised in process too), so they need not cost a write per lookup.
    pub(crate) rates: std::sync::Mutex<std::collections::HashMap<(String, i64), i64>>,
    /// The sqlx URL, password included: never print it, print [`Store::url_redacted`].
    pub url: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).field("url", &redact(&self.url)).finish()
    }
}

/// `url` with its password (and any `password=` parameter) replaced by `***`: what logs,
/// errors and `Debug` may show of a database URL.
pub fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest = scheme_end + 3;
        let authority_end = out[rest..].find(['/', '?']).map_or(out.len(), |i| rest + i);
        if let Some(at) = out[rest..authority_end].rfind('@') {
            let userinfo = &out[rest..rest + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest + colon + 1..rest + at, "***");
            }
        }
    }
    // Query parameters: password=... (libpq style) anywhere in the URL.
    let lower = out.to_ascii_lowercase();
    if let Some(i) = lower.find("password=") {
        let start = i + "password=".len();
        let end = out[start..].find('&').map_or(out.len(), |j| start + j);
        out.replace_range(start..end, "***");
    }
    out
}

/// Whether the URL carries a password (then it must not come from the command line).
pub fn has_password(url: &str) -> bool {
    redact(url) != url
}

/// Why a store cannot be opened, with the URL redacted.
#[derive(Debug, thiserror::Error)]
#[error("database {url}: {source}")]
pub struct OpenError {
    pub url: String,
    #[source]
    pub source: sqlx::Error,
}

pub type Tx = Transaction<'static, Any>;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lpu (id BIGINT PRIMARY KEY, parent_id BIGINT, name TEXT NOT NULL, short_name TEXT NOT NULL,
  address TEXT NOT NULL, open_min BIGINT NOT NULL, close_min BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS patient (enp TEXT PRIMARY KEY, birth_date TEXT NOT NULL, last_name TEXT NOT NULL,
  first_name TEXT NOT NULL, middle_name TEXT, sex TEXT NOT NULL, lpu_id BIGINT, attach_date TEXT);
CREATE TABLE IF NOT EXISTS speciality (code TEXT PRIMARY KEY, name TEXT NOT NULL, first_level BIGINT NOT NULL,
  male BIGINT NOT NULL, female BIGINT NOT NULL, ldp_kind TEXT, preparation TEXT);
CREATE TABLE IF NOT EXISTS doctor (id BIGINT PRIMARY KEY, lpu_id BIGINT NOT NULL, last_name TEXT NOT NULL,
  first_name TEXT NOT NULL, middle_name TEXT NOT NULL, speciality_code TEXT NOT NULL, room TEXT NOT NULL,
  complex_resource_id BIGINT NOT NULL, meji_id BIGINT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS slot (id {ID}, doctor_id BIGINT NOT NULL, start_time TEXT NOT NULL, end_time TEXT NOT NULL,
  start_utc BIGINT NOT NULL, end_utc BIGINT NOT NULL, day TEXT NOT NULL, blocked BIGINT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS slot_doctor_start ON slot (doctor_id, start_utc);
CREATE TABLE IF NOT EXISTS appointment (id {ID}, enp TEXT NOT NULL, slot_id BIGINT NOT NULL, doctor_id BIGINT NOT NULL,
  speciality_code TEXT NOT NULL, start_utc BIGINT NOT NULL, end_utc BIGINT NOT NULL, active BIGINT NOT NULL,
  referral_id BIGINT);
CREATE UNIQUE INDEX IF NOT EXISTS appointment_slot_active ON appointment (slot_id) WHERE active = 1;
CREATE INDEX IF NOT EXISTS appointment_enp ON appointment (enp, active);
CREATE TABLE IF NOT EXISTS attachment (enp TEXT NOT NULL, kind BIGINT NOT NULL, lpu_id BIGINT NOT NULL,
  since TEXT NOT NULL, PRIMARY KEY (enp, kind));
CREATE TABLE IF NOT EXISTS waitlist (id {ID}, enp TEXT NOT NULL, speciality_code TEXT NOT NULL, home_lpu BIGINT,
  part TEXT NOT NULL, weekdays TEXT NOT NULL, created_at TEXT NOT NULL, created_utc BIGINT NOT NULL, status TEXT NOT NULL,
  slot_id BIGINT, appointment_id BIGINT);
CREATE UNIQUE INDEX IF NOT EXISTS waitlist_one_active ON waitlist (enp, speciality_code) WHERE status IN ('waiting', 'offered');
CREATE INDEX IF NOT EXISTS waitlist_line ON waitlist (speciality_code, status, created_utc);
CREATE TABLE IF NOT EXISTS referral (id BIGINT PRIMARY KEY, number TEXT NOT NULL, enp TEXT NOT NULL,
  speciality_code TEXT NOT NULL, lpu_id BIGINT NOT NULL, start_date TEXT NOT NULL, end_date TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS request_log (scope TEXT NOT NULL, request_id TEXT NOT NULL, method TEXT NOT NULL,
  params_sha256 TEXT NOT NULL, response TEXT NOT NULL, created_min BIGINT NOT NULL, PRIMARY KEY (scope, request_id));
CREATE TABLE IF NOT EXISTS ticket (id TEXT PRIMARY KEY, lpu_id BIGINT NOT NULL, day TEXT NOT NULL, number TEXT NOT NULL,
  enp TEXT NOT NULL, issued_at TEXT NOT NULL, issued_utc BIGINT NOT NULL, status TEXT NOT NULL, room TEXT,
  called_at TEXT, called_utc BIGINT, kiosk_id BIGINT NOT NULL, request_id TEXT NOT NULL, rank_utc BIGINT,
  category TEXT, assigned_room TEXT, finished_utc BIGINT);
CREATE UNIQUE INDEX IF NOT EXISTS ticket_one_waiting ON ticket (lpu_id, day, enp) WHERE status = 'waiting';
DROP INDEX IF EXISTS ticket_request;
CREATE UNIQUE INDEX IF NOT EXISTS ticket_request_by_kiosk ON ticket (lpu_id, kiosk_id, request_id);
DROP INDEX IF EXISTS ticket_queue;
CREATE INDEX IF NOT EXISTS ticket_calls ON ticket (lpu_id, day, called_utc);
CREATE TABLE IF NOT EXISTS patient_priority (enp TEXT PRIMARY KEY, category TEXT, until_day TEXT, urgent_day TEXT,
  set_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS duty_room (lpu_id BIGINT NOT NULL, day TEXT NOT NULL, room TEXT NOT NULL, doctor_id BIGINT,
  opened_utc BIGINT NOT NULL, closed_utc BIGINT, PRIMARY KEY (lpu_id, day, room));
CREATE TABLE IF NOT EXISTS {LIMITS}device_status (lpu_id BIGINT NOT NULL, role TEXT NOT NULL, device BIGINT NOT NULL,
  name TEXT NOT NULL, last_utc BIGINT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (lpu_id, role, device));
CREATE TABLE IF NOT EXISTS counter (lpu_id BIGINT NOT NULL, day TEXT NOT NULL, n BIGINT NOT NULL,
  PRIMARY KEY (lpu_id, day));
CREATE TABLE IF NOT EXISTS queue_event (lpu_id BIGINT NOT NULL, seq BIGINT NOT NULL, day TEXT NOT NULL,
  body TEXT NOT NULL, PRIMARY KEY (lpu_id, seq));
CREATE INDEX IF NOT EXISTS queue_event_day ON queue_event (day);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {LIMITS}rate_hit (key TEXT NOT NULL, win BIGINT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (key, win));
CREATE TABLE IF NOT EXISTS {LIMITS}device_seen (key TEXT PRIMARY KEY, first_utc BIGINT NOT NULL, last_utc BIGINT NOT NULL,
  gap_from BIGINT, gap_until BIGINT);
";

/// SQLite: rate counters and last-seen times live in a database file of their own beside the
/// main one (`FILE-limits`), written without fsync: they are worth nothing after a power cut,
/// while every ticket commit is fsynced (`synchronous = FULL`), and counting a lookup must not
/// cost a disk flush.
fn limits_file(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") {
        return Some(":memory:".into());
    }
    Some(format!("{path}-limits"))
}

/// Turns `--db` into a sqlx URL: a bare path is a SQLite file.
pub fn db_url(db: &str) -> String {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") || db.starts_with("sqlite:") {
        db.to_owned()
    } else {
        format!("sqlite://{db}?mode=rwc")
    }
}

/// sqlx logs the text of every statement (at debug) and of slow ones (at warn). A walk-in
/// group's batches carry their values as literals (`walk_in`), policy numbers included, and a
/// policy number must never reach a log: statements are not logged at all.
fn quiet(options: sqlx::any::AnyConnectOptions) -> sqlx::any::AnyConnectOptions {
    use sqlx::ConnectOptions;
    options
        .log_statements(log::LevelFilter::Off)
        .log_slow_statements(log::LevelFilter::Off, std::time::Duration::from_secs(1))
}

impl Store {
    /// Opens and migrates `db`; errors name the database with its password hidden.
    pub async fn open_checked(db: &str) -> Result<Store, OpenError> {
        Store::open(db)
            .await
            .map_err(|source| OpenError { url: redact(&db_url(db)), source: scrub(source, db) })
    }

    pub async fn open(db: &str) -> Result<Store, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let url = db_url(db);
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        let limits = limits_file(&url);
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .after_connect(move |conn, _| {
                let limits = limits.clone();
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        use sqlx::Executor;
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;").await?;
                        if let Some(f) = limits {
                            let quoted = f.replace('\'', "''");
                            conn.execute(format!("ATTACH DATABASE '{quoted}' AS limits").as_str()).await?;
                            conn.execute("PRAGMA limits.journal_mode = WAL; PRAGMA limits.synchronous = OFF;").await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(quiet(url.parse()?))
            .await?;
        let store = Store {
            pool,
            backend,
            write: tokio::sync::Mutex::new(()),
            limits_write: tokio::sync::Mutex::new(()),
            rates: Default::default(),
            url,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The URL for logs.
    pub fn url_redacted(&self) -> String {
        redact(&self.url)
    }

    async fn migrate(&self) -> Result<(), sqlx::Error> {
        let id = match self.backend {
            Backend::Sqlite => "INTEGER PRIMARY KEY",
            Backend::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        };
        let limits = match self.backend {
            Backend::Sqlite => "limits.",
            Backend::Postgres => "",
        };
        let schema = SCHEMA.replace("{ID}", id).replace("{LIMITS}", limits);
        let mut tx = self.pool.begin().await?;
        for stmt in schema.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sqlx::query(stmt).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        // Databases made before doctors had a MEJI number (mainDoctor.mejiId) get the column.
        add_column(&self.pool, "doctor", "meji_id", "BIGINT NOT NULL DEFAULT 0").await?;
        // Databases made before tests and procedures (LDP) were booked: every speciality so far
        // is a doctor's, on the general attachment.
        // And before own attachments (dental, gynaecological: `attach_kind` 1, 2).
        // And before age limits (a children's clinic: a paediatrician to 17, a therapist from 18).
        for (column, kind) in [
            ("ldp_kind", "TEXT"),
            ("preparation", "TEXT"),
            ("attach_kind", "BIGINT"),
            ("min_age", "BIGINT"),
            ("max_age", "BIGINT"),
        ] {
            add_column(&self.pool, "speciality", column, kind).await?;
        }
        // Databases made before priority categories and duty cabinets: every ticket so far is
        // ordinary (its rank is its issue time) and was assigned to no cabinet.
        for (column, kind) in [
            ("rank_utc", "BIGINT"),
            ("category", "TEXT"),
            ("assigned_room", "TEXT"),
            ("finished_utc", "BIGINT"),
        ] {
            add_column(&self.pool, "ticket", column, kind).await?;
        }
        sqlx::query("UPDATE ticket SET rank_utc = issued_utc WHERE rank_utc IS NULL")
            .execute(&self.pool)
            .await?;
        // After the columns exist: the order callNext takes tickets in.
        sqlx::query("CREATE INDEX IF NOT EXISTS ticket_rank ON ticket (lpu_id, day, status, rank_utc)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A write transaction (serialised on SQLite). The guard must live as long as the
    /// transaction.
    pub async fn begin_write(&self) -> Result<(Option<tokio::sync::MutexGuard<'_, ()>>, Tx), sqlx::Error> {
        let guard = match self.backend {
            Backend::Sqlite => Some(self.write.lock().await),
            Backend::Postgres => None,
        };
        Ok((guard, self.pool.begin().await?))
    }

    /// A write transaction on the rate counters and last-seen times (on SQLite their own file,
    /// so these writes never wait for a ticket's fsync).
    pub async fn begin_limits(&self) -> Result<(Option<tokio::sync::MutexGuard<'_, ()>>, Tx), sqlx::Error> {
        let guard = match self.backend {
            Backend::Sqlite => Some(self.limits_write.lock().await),
            Backend::Postgres => None,
        };
        Ok((guard, self.pool.begin().await?))
    }

    /// A write transaction that holds `key` until it ends: on PostgreSQL an advisory lock, so
    /// that a retry of a request still running (on any node) waits for it and then finds its
    /// answer instead of racing it (and, booking, reporting its own slot as taken).
    pub async fn begin_keyed(
        &self,
        key: &str,
    ) -> Result<(Option<tokio::sync::MutexGuard<'_, ()>>, Tx), sqlx::Error> {
        let (guard, mut tx) = self.begin_write().await?;
        self.hold_key(&mut tx, key).await?;
        Ok((guard, tx))
    }

    /// Holds `key` until `tx` ends (PostgreSQL: an advisory lock, reentrant within the
    /// transaction; SQLite: its one writer already excludes everyone).
    pub async fn hold_key(&self, tx: &mut Tx, key: &str) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(lock_id(key)).execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// A statement (text, for a batch) that holds these keys as [`Store::hold_key`] does, in
    /// a fixed order so that two writers holding some of the same keys wait instead of
    /// deadlocking. Empty on SQLite.
    pub fn hold_keys_sql(&self, keys: &[String]) -> String {
        if self.backend != Backend::Postgres || keys.is_empty() {
            return String::new();
        }
        let mut ids: Vec<i64> = keys.iter().map(|k| lock_id(k)).collect();
        ids.sort_unstable();
        ids.dedup();
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        format!(
            "DO $hold$ BEGIN PERFORM pg_advisory_xact_lock(k) FROM unnest(ARRAY[{}]::bigint[]) AS k; END $hold$;\n",
            ids.join(", ")
        )
    }

    /// `s` as an SQL string literal, for statements sent as text (a batch of several, which
    /// cannot carry parameters). PostgreSQL: dollar-quoted with a tag `s` does not contain, so
    /// no character of `s` is special whatever `standard_conforming_strings` says; SQLite:
    /// single quotes doubled (it has no other escape).
    pub fn literal(&self, s: &str) -> String {
        literal_for(self.backend, s)
    }
}

/// [`Store::literal`].
fn literal_for(backend: Backend, s: &str) -> String {
    match backend {
        Backend::Postgres => {
            // The literal ends at the first tag after the opening one: that must be ours. A tag
            // made from the text's own hash cannot be in the text (short of a hash fixed point),
            // so one check almost always settles it; trying tags one by one would let a caller
            // who fills a request id with `$vN$` make every quoting cost its square.
            let h = crate::auth::hex(&crate::auth::hash(s)[..8]);
            let mut tag = format!("$h{h}$");
            let mut i = 0u32;
            while format!("{s}{tag}").find(&tag) != Some(s.len()) {
                i += 1;
                tag = format!("$h{h}x{i}$");
            }
            format!("{tag}{s}{tag}")
        }
        Backend::Sqlite => format!("'{}'", s.replace('\'', "''")),
    }
}

/// The advisory lock a key is held under on PostgreSQL.
fn lock_id(key: &str) -> i64 {
    let h: [u8; 32] =
        sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(key.as_bytes())).into();
    i64::from_be_bytes(h[..8].try_into().expect("8 bytes"))
}

/// Marks the start of a write's attempt inside its transaction (a savepoint), so that
/// [`undo_attempt`] can drop its partial writes and keep the transaction.
pub async fn begin_attempt(tx: &mut Tx) -> Result<(), sqlx::Error> {
    sqlx::query("SAVEPOINT attempt").execute(&mut **tx).await.map(|_| ())
}

/// Drops what the attempt wrote since [`begin_attempt`]; on PostgreSQL this also clears a
/// failed statement's abort state.
pub async fn undo_attempt(tx: &mut Tx) -> Result<(), sqlx::Error> {
    sqlx::query("ROLLBACK TO SAVEPOINT attempt").execute(&mut **tx).await.map(|_| ())
}

impl Store {
    /// `sql` with `FOR UPDATE` on PostgreSQL (SQLite has one writer and no such clause).
    pub fn for_update(&self, sql: &str) -> String {
        match self.backend {
            Backend::Postgres => format!("{sql} FOR UPDATE"),
            Backend::Sqlite => sql.to_owned(),
        }
    }
}

/// A connection error may quote what it was given; keep the password out of it.
fn scrub(e: sqlx::Error, db: &str) -> sqlx::Error {
    let text = e.to_string();
    let url = db_url(db);
    let password = password_of(&url);
    match password {
        Some(p) if !p.is_empty() && text.contains(&p) => {
            sqlx::Error::Configuration(text.replace(&p, "***").into())
        }
        _ => e,
    }
}

fn password_of(url: &str) -> Option<String> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    Some(userinfo.split_once(':')?.1.to_owned())
}

/// Adds `column` to `table` if it is missing. Probed outside a transaction (a failed statement
/// aborts one on PostgreSQL); another node starting at the same moment may add it first, which
/// is fine as long as it is there afterwards.
async fn add_column(pool: &AnyPool, table: &str, column: &str, kind: &str) -> Result<(), sqlx::Error> {
    let probe = format!("SELECT {column} FROM {table} WHERE 1 = 0");
    if sqlx::query(&probe).execute(pool).await.is_err() {
        let added =
            sqlx::query(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind}")).execute(pool).await;
        if let Err(e) = added
            && sqlx::query(&probe).execute(pool).await.is_err()
        {
            return Err(e);
        }
    }
    Ok(())
}

// ---- Rows -------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct PatientRow {
    pub enp: String,
    pub birth_date: String,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub sex: String,
    pub lpu_id: Option<i64>,
    pub attach_date: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DoctorRow {
    pub id: i64,
    pub lpu_id: i64,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: String,
    pub speciality_code: String,
    pub room: String,
    pub complex_resource_id: i64,
    /// The doctor's number in the city's register of medical staff (`mainDoctor.mejiId`).
    pub meji_id: i64,
}

impl DoctorRow {
    pub fn full_name(&self) -> String {
        format!("{} {} {}", self.last_name, self.first_name, self.middle_name).trim().to_owned()
    }
    fn from_row(r: &AnyRow) -> Result<DoctorRow, sqlx::Error> {
        Ok(DoctorRow {
            id: r.try_get(0)?,
            lpu_id: r.try_get(1)?,
            last_name: r.try_get(2)?,
            first_name: r.try_get(3)?,
            middle_name: r.try_get(4)?,
            speciality_code: r.try_get(5)?,
            room: r.try_get(6)?,
            complex_resource_id: r.try_get(7)?,
            meji_id: r.try_get(8)?,
        })
    }
}

pub const DOCTOR_COLS: &str = "d.id, d.lpu_id, d.last_name, d.first_name, d.middle_name, d.speciality_code, d.room, d.complex_resource_id, d.meji_id";

#[derive(Debug, Clone)]
pub struct SpecialityRow {
    pub code: String,
    pub name: String,
    pub first_level: bool,
    pub male: bool,
    pub female: bool,
    /// A test or procedure (an LDP type: its resources are rooms, not doctors), `None` for a
    /// doctor's speciality.
    pub ldp: Option<domain::LdpKind>,
    /// For a test or procedure: how to prepare (printed on the ticket); may be empty.
    pub preparation: String,
    /// Booked on an attachment of its own kind (EMIAS `typeAttach`: 1 dental, 2
    /// gynaecological) when the patient has one; `None`: the general attachment.
    pub attach_kind: Option<i64>,
    /// Ages (in whole years) the speciality sees, when limited: a paediatrician to 17.
    pub min_age: Option<i64>,
    pub max_age: Option<i64>,
}

/// The columns [`speciality_row`] reads, in order.
pub const SPECIALITY_COLS: &str =
    "code, name, first_level, male, female, ldp_kind, preparation, attach_kind, min_age, max_age";

/// A patient's attachment of `kind` (1 dental, 2 gynaecological): (clinic, since).
pub async fn attachment(
    ex: impl sqlx::Executor<'_, Database = Any>,
    enp: &str,
    kind: i64,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    let r = sqlx::query("SELECT lpu_id, since FROM attachment WHERE enp = $1 AND kind = $2")
        .bind(enp)
        .bind(kind)
        .fetch_optional(ex)
        .await?;
    r.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
}

#[derive(Debug, Clone)]
pub struct LpuRow {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub short_name: String,
    pub address: String,
    pub open_min: i64,
    pub close_min: i64,
}

#[derive(Debug, Clone)]
pub struct SlotRow {
    pub id: i64,
    pub doctor_id: i64,
    pub start_time: String,
    pub end_time: String,
    pub start_utc: i64,
    pub end_utc: i64,
    pub day: String,
}

#[derive(Debug, Clone)]
pub struct ReferralRow {
    pub id: i64,
    pub number: String,
    pub speciality_code: String,
    pub lpu_id: i64,
    pub start_date: String,
    pub end_date: String,
}

/// Reads a patient by the pair the EMIAS dialect identifies with. Unknown policy and wrong
/// birth date are the same "not found".
pub async fn patient(
    ex: impl sqlx::Executor<'_, Database = Any>,
    enp: &Enp,
    birth: Date,
) -> Result<PatientRow, ApiError> {
    let row =
        sqlx::query(&format!("{PATIENT_COLS} WHERE enp = $1")).bind(enp.expose()).fetch_optional(ex).await?;
    let Some(r) = row else { return Err(ApiError::not_found()) };
    identified(patient_row(&r, 0)?, birth)
}

/// The patient if the birth date matches, else the same "not found" as an unknown policy.
pub fn identified(p: PatientRow, birth: Date) -> Result<PatientRow, ApiError> {
    if p.birth_date != birth.to_string() {
        return Err(ApiError::not_found());
    }
    Ok(p)
}

pub(crate) const PATIENT_COLS: &str =
    "SELECT enp, birth_date, last_name, first_name, middle_name, sex, lpu_id, attach_date FROM patient";

/// A [`PATIENT_COLS`] row whose columns start at `from`.
pub(crate) fn patient_row(r: &AnyRow, from: usize) -> Result<PatientRow, sqlx::Error> {
    Ok(PatientRow {
        enp: r.try_get(from)?,
        birth_date: r.try_get(from + 1)?,
        last_name: r.try_get(from + 2)?,
        first_name: r.try_get(from + 3)?,
        middle_name: r.try_get(from + 4)?,
        sex: r.try_get(from + 5)?,
        lpu_id: r.try_get(from + 6)?,
        attach_date: r.try_get(from + 7)?,
    })
}

pub(crate) const LPU_COLS: &str =
    "SELECT id, parent_id, name, short_name, address, open_min, close_min FROM lpu";

fn lpu_row(r: &AnyRow) -> Result<LpuRow, sqlx::Error> {
    lpu_row_at(r, 0)
}

/// An [`LPU_COLS`] row whose columns start at `from`.
pub(crate) fn lpu_row_at(r: &AnyRow, from: usize) -> Result<LpuRow, sqlx::Error> {
    Ok(LpuRow {
        id: r.try_get(from)?,
        parent_id: r.try_get(from + 1)?,
        name: r.try_get(from + 2)?,
        short_name: r.try_get(from + 3)?,
        address: r.try_get(from + 4)?,
        open_min: r.try_get(from + 5)?,
        close_min: r.try_get(from + 6)?,
    })
}

pub async fn lpu(
    ex: impl sqlx::Executor<'_, Database = Any>,
    id: i64,
) -> Result<Option<LpuRow>, sqlx::Error> {
    let r = sqlx::query(&format!("{LPU_COLS} WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    r.as_ref().map(lpu_row).transpose()
}

/// Whether doctor `doctor_id` works in clinic `lpu` (what a head may open a cabinet or extra
/// time for).
pub async fn doctor_in_clinic(
    ex: impl sqlx::Executor<'_, Database = Any>,
    doctor_id: i64,
    lpu: u32,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query("SELECT 1 FROM doctor WHERE id = $1 AND lpu_id = $2")
        .bind(doctor_id)
        .bind(i64::from(lpu))
        .fetch_optional(ex)
        .await?;
    Ok(row.is_some())
}

/// Adds a slot `start`..`end` (same local day) to a doctor's schedule; its id.
pub async fn insert_slot(
    ex: impl sqlx::Executor<'_, Database = Any>,
    doctor_id: i64,
    start: DateTime,
    end: DateTime,
    blocked: bool,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO slot (doctor_id, start_time, end_time, start_utc, end_utc, day, blocked)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(doctor_id)
    .bind(start.to_string())
    .bind(end.to_string())
    .bind(start.utc_minutes())
    .bind(end.utc_minutes())
    .bind(start.date.to_string())
    .bind(i64::from(blocked))
    .fetch_one(ex)
    .await?
    .try_get(0)
}

pub async fn all_lpus(ex: impl sqlx::Executor<'_, Database = Any>) -> Result<Vec<LpuRow>, sqlx::Error> {
    let rows = sqlx::query(&format!("{LPU_COLS} ORDER BY id")).fetch_all(ex).await?;
    rows.iter().map(lpu_row).collect()
}

pub async fn speciality(
    ex: impl sqlx::Executor<'_, Database = Any>,
    code: &str,
) -> Result<Option<SpecialityRow>, sqlx::Error> {
    let r = sqlx::query(&format!("SELECT {SPECIALITY_COLS} FROM speciality WHERE code = $1"))
        .bind(code)
        .fetch_optional(ex)
        .await?;
    r.map(|r| speciality_row(&r)).transpose()
}

pub fn speciality_row(r: &AnyRow) -> Result<SpecialityRow, sqlx::Error> {
    Ok(SpecialityRow {
        code: r.try_get(0)?,
        name: r.try_get(1)?,
        first_level: r.try_get::<i64, _>(2)? != 0,
        male: r.try_get::<i64, _>(3)? != 0,
        female: r.try_get::<i64, _>(4)? != 0,
        ldp: r.try_get::<Option<String>, _>(5)?.as_deref().and_then(domain::LdpKind::parse),
        preparation: r.try_get::<Option<String>, _>(6)?.unwrap_or_default(),
        attach_kind: r.try_get(7)?,
        min_age: r.try_get(8)?,
        max_age: r.try_get(9)?,
    })
}

pub async fn doctor(
    ex: impl sqlx::Executor<'_, Database = Any>,
    id: i64,
) -> Result<Option<DoctorRow>, sqlx::Error> {
    let r = sqlx::query(&format!("SELECT {DOCTOR_COLS} FROM doctor d WHERE d.id = $1"))
        .bind(id)
        .fetch_optional(ex)
        .await?;
    r.map(|r| DoctorRow::from_row(&r)).transpose()
}

pub async fn doctors_by_speciality(
    ex: impl sqlx::Executor<'_, Database = Any>,
    code: &str,
) -> Result<Vec<DoctorRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {DOCTOR_COLS} FROM doctor d WHERE d.speciality_code = $1 ORDER BY d.id"
    ))
    .bind(code)
    .fetch_all(ex)
    .await?;
    rows.iter().map(DoctorRow::from_row).collect()
}

/// Free future slots of a doctor, in time order.
pub async fn free_slots(
    ex: impl sqlx::Executor<'_, Database = Any>,
    doctor_id: i64,
    after_utc: i64,
) -> Result<Vec<SlotRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT s.id, s.doctor_id, s.start_time, s.end_time, s.start_utc, s.end_utc, s.day FROM slot s
         WHERE s.doctor_id = $1 AND s.start_utc > $2 AND s.blocked = 0
           AND NOT EXISTS (SELECT 1 FROM appointment a WHERE a.slot_id = s.id AND a.active = 1)
         ORDER BY s.start_utc",
    )
    .bind(doctor_id)
    .bind(after_utc)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SlotRow {
                id: r.try_get(0)?,
                doctor_id: r.try_get(1)?,
                start_time: r.try_get(2)?,
                end_time: r.try_get(3)?,
                start_utc: r.try_get(4)?,
                end_utc: r.try_get(5)?,
                day: r.try_get(6)?,
            })
        })
        .collect()
}

pub async fn referral(
    ex: impl sqlx::Executor<'_, Database = Any>,
    id: i64,
    enp: &str,
) -> Result<Option<ReferralRow>, sqlx::Error> {
    let r = sqlx::query(
        "SELECT id, number, speciality_code, lpu_id, start_date, end_date FROM referral WHERE id = $1 AND enp = $2",
    )
    .bind(id)
    .bind(enp)
    .fetch_optional(ex)
    .await?;
    r.map(|r| {
        Ok(ReferralRow {
            id: r.try_get(0)?,
            number: r.try_get(1)?,
            speciality_code: r.try_get(2)?,
            lpu_id: r.try_get(3)?,
            start_date: r.try_get(4)?,
            end_date: r.try_get(5)?,
        })
    })
    .transpose()
}

/// A write's idempotency key: scoped to the caller (its token's device or person), bound to
/// the method and a hash of its params.
#[derive(Debug, Clone)]
pub struct RequestKey {
    pub scope: String,
    pub request_id: String,
    pub method: &'static str,
    pub params_sha256: String,
}

impl RequestKey {
    pub fn new(
        scope: &str,
        request_id: &str,
        method: &'static str,
        params: &impl serde::Serialize,
    ) -> RequestKey {
        let canonical = serde_json::to_vec(params).unwrap_or_default();
        let h: [u8; 32] =
            sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&canonical)).into();
        RequestKey {
            scope: scope.to_owned(),
            request_id: request_id.to_owned(),
            method,
            params_sha256: crate::auth::hex(&h),
        }
    }

    /// What the PostgreSQL advisory lock is taken on.
    pub fn lock_name(&self) -> String {
        format!("{}\u{1f}{}", self.scope, self.request_id)
    }
}

/// The stored response for this request, if it was seen before. The same requestId with
/// another method or other params is refused: answering it with the first request's result
/// would tell a caller something it did not ask (and hide that its own request never ran).
pub async fn idempotent(tx: &mut Tx, key: &RequestKey) -> Result<Option<serde_json::Value>, ApiError> {
    let r = sqlx::query(
        "SELECT method, params_sha256, response FROM request_log WHERE scope = $1 AND request_id = $2",
    )
    .bind(&key.scope)
    .bind(&key.request_id)
    .fetch_optional(&mut **tx)
    .await?;
    match r {
        None => Ok(None),
        Some(r) => key
            .answered(&r.try_get::<String, _>(0)?, &r.try_get::<String, _>(1)?, &r.try_get::<String, _>(2)?)
            .map(Some),
    }
}

impl RequestKey {
    /// The answer stored under this key's request id (`method`, `params_sha256`, `response`
    /// as `request_log` keeps them), if it was for this very request.
    pub fn answered(
        &self,
        method: &str,
        params_sha256: &str,
        response: &str,
    ) -> Result<serde_json::Value, ApiError> {
        if method != self.method || params_sha256 != self.params_sha256 {
            return Err(ApiError::RequestIdReused);
        }
        Ok(serde_json::from_str(response).unwrap_or(serde_json::Value::Null))
    }
}

/// Records the response (success or domain error) of a write so a retry gets the same.
pub async fn remember(tx: &mut Tx, key: &RequestKey, response: &serde_json::Value) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO request_log (scope, request_id, method, params_sha256, response, created_min)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&key.scope)
    .bind(&key.request_id)
    .bind(key.method)
    .bind(&key.params_sha256)
    .bind(response.to_string())
    .bind(crate::limits::wall_minutes())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Parses a stored date/time (written by us, so failures are storage faults).
pub fn dt(s: &str) -> Result<DateTime, ApiError> {
    DateTime::parse_iso(s).map_err(|e| ApiError::Store(sqlx::Error::Decode(Box::new(e))))
}

pub fn date(s: &str) -> Result<Date, ApiError> {
    Date::parse_iso(s).map_err(|e| ApiError::Store(sqlx::Error::Decode(Box::new(e))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PostgreSQL literal ends where it should whatever the text holds (the lexer's rule:
    /// the first closing tag after the opening one ends it).
    #[test]
    fn a_dollar_quoted_literal_ends_at_its_own_tag() {
        for s in ["", "$", "$v", "abc$v", "$v$", "x$v$y$v1$", "v$", "'; DROP TABLE ticket; --", "a$v1"] {
            let quoted = literal_for(Backend::Postgres, s);
            let tag = &quoted[..quoted[1..].find('$').unwrap() + 2];
            assert!(quoted.starts_with(tag) && quoted.ends_with(tag), "{quoted}");
            let body = &quoted[tag.len()..];
            assert_eq!(&body[..body.find(tag).unwrap()], s, "{quoted}");
        }
        assert_eq!(literal_for(Backend::Sqlite, "it's"), "'it''s'");
    }
}
