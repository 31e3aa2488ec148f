//! Storage: one schema on SQLite (embedded, one file) or PostgreSQL (several nodes), through
//! sqlx's `Any` driver, and every clinic rule that needs the data.
//!
//! Queries use `$1, $2, ...` in order of appearance, which both databases read the same way.
//! Writes run in transactions; on SQLite they are also serialised in-process (one writer, no
//! busy retries); on PostgreSQL unique indexes decide races between nodes (one active
//! appointment per slot, one waiting ticket per patient and day, one response per requestId).

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Row, Transaction};

use domain::wire::code;
use domain::{Date, DateTime, Enp};

use crate::error::{ApiError, is_unique_violation};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug)]
pub struct Store {
    pub pool: AnyPool,
    pub backend: Backend,
    /// Serialises writers on SQLite.
    write: tokio::sync::Mutex<()>,
    pub url: String,
}

pub type Tx = Transaction<'static, Any>;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lpu (id BIGINT PRIMARY KEY, parent_id BIGINT, name TEXT NOT NULL, short_name TEXT NOT NULL,
  address TEXT NOT NULL, open_min BIGINT NOT NULL, close_min BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS patient (enp TEXT PRIMARY KEY, birth_date TEXT NOT NULL, last_name TEXT NOT NULL,
  first_name TEXT NOT NULL, middle_name TEXT, sex TEXT NOT NULL, lpu_id BIGINT, attach_date TEXT);
CREATE TABLE IF NOT EXISTS speciality (code TEXT PRIMARY KEY, name TEXT NOT NULL, first_level BIGINT NOT NULL,
  male BIGINT NOT NULL, female BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS doctor (id BIGINT PRIMARY KEY, lpu_id BIGINT NOT NULL, last_name TEXT NOT NULL,
  first_name TEXT NOT NULL, middle_name TEXT NOT NULL, speciality_code TEXT NOT NULL, room TEXT NOT NULL,
  complex_resource_id BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS slot (id {ID}, doctor_id BIGINT NOT NULL, start_time TEXT NOT NULL, end_time TEXT NOT NULL,
  start_utc BIGINT NOT NULL, end_utc BIGINT NOT NULL, day TEXT NOT NULL, blocked BIGINT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS slot_doctor_start ON slot (doctor_id, start_utc);
CREATE TABLE IF NOT EXISTS appointment (id {ID}, enp TEXT NOT NULL, slot_id BIGINT NOT NULL, doctor_id BIGINT NOT NULL,
  speciality_code TEXT NOT NULL, start_utc BIGINT NOT NULL, end_utc BIGINT NOT NULL, active BIGINT NOT NULL,
  referral_id BIGINT);
CREATE UNIQUE INDEX IF NOT EXISTS appointment_slot_active ON appointment (slot_id) WHERE active = 1;
CREATE INDEX IF NOT EXISTS appointment_enp ON appointment (enp, active);
CREATE TABLE IF NOT EXISTS referral (id BIGINT PRIMARY KEY, number TEXT NOT NULL, enp TEXT NOT NULL,
  speciality_code TEXT NOT NULL, lpu_id BIGINT NOT NULL, start_date TEXT NOT NULL, end_date TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (request_id TEXT PRIMARY KEY, method TEXT NOT NULL, response TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ticket (id TEXT PRIMARY KEY, lpu_id BIGINT NOT NULL, day TEXT NOT NULL, number TEXT NOT NULL,
  enp TEXT NOT NULL, issued_at TEXT NOT NULL, issued_utc BIGINT NOT NULL, status TEXT NOT NULL, room TEXT,
  called_at TEXT, called_utc BIGINT, kiosk_id BIGINT NOT NULL, request_id TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS ticket_one_waiting ON ticket (lpu_id, day, enp) WHERE status = 'waiting';
CREATE UNIQUE INDEX IF NOT EXISTS ticket_request ON ticket (request_id);
CREATE INDEX IF NOT EXISTS ticket_queue ON ticket (lpu_id, day, status, issued_utc);
CREATE INDEX IF NOT EXISTS ticket_calls ON ticket (lpu_id, day, called_utc);
CREATE TABLE IF NOT EXISTS counter (lpu_id BIGINT NOT NULL, day TEXT NOT NULL, n BIGINT NOT NULL,
  PRIMARY KEY (lpu_id, day));
CREATE TABLE IF NOT EXISTS queue_event (lpu_id BIGINT NOT NULL, seq BIGINT NOT NULL, day TEXT NOT NULL,
  body TEXT NOT NULL, PRIMARY KEY (lpu_id, seq));
";

/// Turns `--db` into a sqlx URL: a bare path is a SQLite file.
pub fn db_url(db: &str) -> String {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") || db.starts_with("sqlite:") {
        db.to_owned()
    } else {
        format!("sqlite://{db}?mode=rwc")
    }
}

impl Store {
    pub async fn open(db: &str) -> Result<Store, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let url = db_url(db);
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        use sqlx::Executor;
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        let store = Store { pool, backend, write: tokio::sync::Mutex::new(()), url };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), sqlx::Error> {
        let id = match self.backend {
            Backend::Sqlite => "INTEGER PRIMARY KEY",
            Backend::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        };
        let schema = SCHEMA.replace("{ID}", id);
        let mut tx = self.pool.begin().await?;
        for stmt in schema.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sqlx::query(stmt).execute(&mut *tx).await?;
        }
        tx.commit().await
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
        })
    }
}

pub const DOCTOR_COLS: &str = "d.id, d.lpu_id, d.last_name, d.first_name, d.middle_name, d.speciality_code, d.room, d.complex_resource_id";

#[derive(Debug, Clone)]
pub struct SpecialityRow {
    pub code: String,
    pub name: String,
    pub first_level: bool,
    pub male: bool,
    pub female: bool,
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
    let row = sqlx::query(
        "SELECT enp, birth_date, last_name, first_name, middle_name, sex, lpu_id, attach_date FROM patient WHERE enp = $1",
    )
    .bind(enp.expose())
    .fetch_optional(ex)
    .await?;
    let Some(r) = row else { return Err(ApiError::not_found()) };
    let p = PatientRow {
        enp: r.try_get(0)?,
        birth_date: r.try_get(1)?,
        last_name: r.try_get(2)?,
        first_name: r.try_get(3)?,
        middle_name: r.try_get(4)?,
        sex: r.try_get(5)?,
        lpu_id: r.try_get(6)?,
        attach_date: r.try_get(7)?,
    };
    if p.birth_date != birth.to_string() {
        return Err(ApiError::not_found());
    }
    Ok(p)
}

const LPU_COLS: &str = "SELECT id, parent_id, name, short_name, address, open_min, close_min FROM lpu";

fn lpu_row(r: &AnyRow) -> Result<LpuRow, sqlx::Error> {
    Ok(LpuRow {
        id: r.try_get(0)?,
        parent_id: r.try_get(1)?,
        name: r.try_get(2)?,
        short_name: r.try_get(3)?,
        address: r.try_get(4)?,
        open_min: r.try_get(5)?,
        close_min: r.try_get(6)?,
    })
}

pub async fn lpu(
    ex: impl sqlx::Executor<'_, Database = Any>,
    id: i64,
) -> Result<Option<LpuRow>, sqlx::Error> {
    let r = sqlx::query(&format!("{LPU_COLS} WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    r.as_ref().map(lpu_row).transpose()
}

pub async fn all_lpus(ex: impl sqlx::Executor<'_, Database = Any>) -> Result<Vec<LpuRow>, sqlx::Error> {
    let rows = sqlx::query(&format!("{LPU_COLS} ORDER BY id")).fetch_all(ex).await?;
    rows.iter().map(lpu_row).collect()
}

pub async fn speciality(
    ex: impl sqlx::Executor<'_, Database = Any>,
    code: &str,
) -> Result<Option<SpecialityRow>, sqlx::Error> {
    let r = sqlx::query("SELECT code, name, first_level, male, female FROM speciality WHERE code = $1")
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

/// The stored response for a requestId, if this request was seen before.
pub async fn idempotent(
    tx: &mut Tx,
    request_id: &str,
    method: &str,
) -> Result<Option<serde_json::Value>, ApiError> {
    let r = sqlx::query("SELECT method, response FROM idempotency WHERE request_id = $1")
        .bind(request_id)
        .fetch_optional(&mut **tx)
        .await?;
    match r {
        None => Ok(None),
        Some(r) => {
            let m: String = r.try_get(0)?;
            if m != method {
                return Err(ApiError::InvalidParams(format!(
                    "requestId: already used for {m}, a different method"
                )));
            }
            let body: String = r.try_get(1)?;
            Ok(Some(serde_json::from_str(&body).unwrap_or(serde_json::Value::Null)))
        }
    }
}

/// Records the response (success or domain error) of a write so a retry gets the same.
pub async fn remember(
    tx: &mut Tx,
    request_id: &str,
    method: &str,
    response: &serde_json::Value,
) -> Result<(), ApiError> {
    sqlx::query("INSERT INTO idempotency (request_id, method, response) VALUES ($1, $2, $3)")
        .bind(request_id)
        .bind(method)
        .bind(response.to_string())
        .execute(&mut **tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                // Another node answered the same requestId first; the client retries and gets it.
                ApiError::domain(code::SLOT_TAKEN, "Повторный запрос обрабатывается, повторите")
            } else {
                ApiError::Store(e)
            }
        })?;
    Ok(())
}

/// Parses a stored date/time (written by us, so failures are storage faults).
pub fn dt(s: &str) -> Result<DateTime, ApiError> {
    DateTime::parse_iso(s).map_err(|e| ApiError::Store(sqlx::Error::Decode(Box::new(e))))
}

pub fn date(s: &str) -> Result<Date, ApiError> {
    Date::parse_iso(s).map_err(|e| ApiError::Store(sqlx::Error::Decode(Box::new(e))))
}
