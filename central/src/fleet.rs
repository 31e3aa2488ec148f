//! The fleet: each kiosk's and board's last heartbeat (`reportDeviceStatus`), for the staff
//! console's fleet view. One row per machine, overwritten: the latest state is what IT needs;
//! history belongs to the monitoring system scraping each kiosk's `/metrics`. On SQLite the
//! rows live beside the rate counters (the `-limits` file, written without fsync: a heartbeat
//! is worth nothing after a power cut and must not cost a ticket's flush).

use serde::Serialize;
use sqlx::Row;

use protocol::{DeviceStatusParams, Role};

use crate::auth::Identity;
use crate::booking::Now;
use crate::error::ApiError;
use crate::store::Store;

/// Longest device state or version kept: a state is a word or two, not a log.
const FIELD_MAX: usize = 40;

/// A machine is shown as silent after this many minutes without a heartbeat (at least four
/// missed: heartbeats come every 30 s, and this clock counts whole minutes).
pub const SILENT_AFTER_MIN: i64 = 3;

fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(FIELD_MAX).collect()
}

/// Stores `who`'s heartbeat (the token says which machine and clinic; a `kioskId` other than
/// the token's is refused).
pub async fn report(st: &Store, who: &Identity, p: &DeviceStatusParams, now: Now) -> Result<(), ApiError> {
    let Some(device) = who.device.filter(|d| p.kiosk_id == 0 || *d == p.kiosk_id) else {
        return Err(ApiError::Forbidden(crate::metrics::Refusal::Device));
    };
    let body = DeviceStatusParams {
        kiosk_id: device,
        version: clean(&p.version),
        printer: clean(&p.printer),
        scanner: clean(&p.scanner),
        card_reader: clean(&p.card_reader),
        ..p.clone()
    };
    let (_guard, mut tx) = st.begin_limits().await?;
    sqlx::query(
        "INSERT INTO device_status (lpu_id, role, device, name, last_utc, body) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (lpu_id, role, device) DO UPDATE SET name = $7, last_utc = $8, body = $9",
    )
    .bind(i64::from(who.lpu))
    .bind(who.role.name())
    .bind(i64::from(device))
    .bind(&who.name)
    .bind(now.utc_minutes())
    .bind(serde_json::to_string(&body).expect("serialisable"))
    .bind(&who.name)
    .bind(now.utc_minutes())
    .bind(serde_json::to_string(&body).expect("serialisable"))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One machine as the fleet view shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    pub role: Role,
    pub device: u32,
    pub name: String,
    /// Minutes since its last heartbeat.
    pub silent_for: i64,
    pub status: DeviceStatusParams,
}

impl Machine {
    /// Whether something needs a person: silent, a device not `ok`, tickets stuck or refused,
    /// or a patient asking for help.
    pub fn needs_attention(&self) -> bool {
        // `unknown`: a printer that never answers status (some never do) is not a fault.
        let bad = |s: &str| !matches!(s, "" | "ok" | "none" | "unknown");
        self.silent_for >= SILENT_AFTER_MIN
            || bad(&self.status.printer)
            || bad(&self.status.scanner)
            || bad(&self.status.card_reader)
            || self.status.journal_rejected > 0
            || self.status.help_requested
    }
}

/// Every machine of the clinic that ever reported, those needing attention first.
pub async fn machines(st: &Store, lpu: u32, now: Now) -> Result<Vec<Machine>, ApiError> {
    let rows = sqlx::query("SELECT role, device, name, last_utc, body FROM device_status WHERE lpu_id = $1")
        .bind(i64::from(lpu))
        .fetch_all(&st.pool)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let role: String = r.try_get(0)?;
        let Ok(role) = role.parse::<Role>() else { continue };
        let Ok(status) = serde_json::from_str(&r.try_get::<String, _>(4)?) else { continue };
        out.push(Machine {
            role,
            device: u32::try_from(r.try_get::<i64, _>(1)?).unwrap_or(0),
            name: r.try_get(2)?,
            silent_for: (now.utc_minutes() - r.try_get::<i64, _>(3)?).max(0),
            status,
        });
    }
    out.sort_by_key(|m| (!m.needs_attention(), m.role.name(), m.device));
    Ok(out)
}
