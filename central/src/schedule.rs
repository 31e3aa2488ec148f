//! Extra appointment time a head of department opens for a doctor (an evening session, a
//! Saturday): new slots in the doctor's schedule. Each goes first to the speciality's waiting
//! list, in line order ([`crate::waitlist::offer_freed`], as a cancelled slot does); what nobody
//! in line can use is free to everyone at once.

use domain::{Date, DateTime};

use crate::booking::Now;
use crate::error::ApiError;
use crate::store::Store;

/// Shortest and longest slot a head may open, in minutes.
const SLOT_MINUTES: std::ops::RangeInclusive<u32> = 5..=120;
/// How far ahead extra time may be opened, in days (the kiosk's booking screens look two weeks
/// ahead; a clinic plans a quarter at most).
const DAYS_AHEAD: i32 = 90;

/// What opening a session did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    /// New slots in the schedule.
    pub slots: usize,
    /// Of them, held for patients on the waiting list (they see the offer at their next visit).
    pub offered: usize,
    /// Slots of the session that overlap the doctor's existing ones and were left out.
    pub overlapping: usize,
}

/// A session to open: `from` and `to` are minutes after local midnight.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    pub doctor_id: i64,
    pub day: Date,
    pub from: u32,
    pub to: u32,
    pub minutes: u32,
}

/// Why a session was not opened; the console says each in the head's words.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("slot length must be 5 to 120 minutes")]
    SlotLength,
    #[error("the session must start before it ends and hold at least one slot")]
    Times,
    #[error("the day must be from today to 90 days ahead")]
    Day,
    #[error("no doctor {0} in this clinic")]
    UnknownDoctor(i64),
    #[error("the doctor already has slots at that time")]
    Overlaps,
    #[error("that time has already passed")]
    Passed,
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<sqlx::Error> for ScheduleError {
    fn from(e: sqlx::Error) -> Self {
        ScheduleError::Api(e.into())
    }
}

/// Opens `session` in the schedule of a doctor of clinic `lpu`: one slot every `minutes` from
/// `from` until `to`, none that has already begun, none overlapping a slot the doctor has.
pub async fn open_session(st: &Store, lpu: u32, session: Session, now: Now) -> Result<Opened, ScheduleError> {
    let Session { doctor_id, day, from, to, minutes } = session;
    if !SLOT_MINUTES.contains(&minutes) {
        return Err(ScheduleError::SlotLength);
    }
    // A session ends by 23:59: a slot is within one local day (`DateTime` has no 24:00).
    if from >= to || to >= 24 * 60 || from + minutes > to {
        return Err(ScheduleError::Times);
    }
    if day < now.date || now.date.add_days(DAYS_AHEAD).is_some_and(|last| day > last) {
        return Err(ScheduleError::Day);
    }
    let (_guard, mut tx) = st.begin_write().await?;
    // Two heads opening time for one doctor at once would each miss the other's slots in the
    // overlap check.
    st.hold_key(&mut tx, &format!("schedule:{doctor_id}")).await?;
    if !crate::store::doctor_in_clinic(&mut *tx, doctor_id, lpu).await? {
        return Err(ScheduleError::UnknownDoctor(doctor_id));
    }
    let mut opened = Opened { slots: 0, offered: 0, overlapping: 0 };
    let mut m = from;
    while m + minutes <= to {
        let at =
            |t: u32| DateTime::new(day, t / 60, t % 60, now.offset_minutes).expect("minutes within the day");
        let (s, e) = (at(m), at(m + minutes));
        m += minutes;
        if s.utc_minutes() <= now.utc_minutes() {
            continue;
        }
        let overlaps =
            sqlx::query("SELECT 1 FROM slot WHERE doctor_id = $1 AND start_utc < $2 AND end_utc > $3")
                .bind(doctor_id)
                .bind(e.utc_minutes())
                .bind(s.utc_minutes())
                .fetch_optional(&mut *tx)
                .await?;
        if overlaps.is_some() {
            opened.overlapping += 1;
            continue;
        }
        let id = crate::store::insert_slot(&mut *tx, doctor_id, s, e, false).await?;
        opened.slots += 1;
        if crate::waitlist::offer_freed(&mut tx, id, now).await? {
            opened.offered += 1;
        }
    }
    if opened.slots == 0 {
        return Err(if opened.overlapping > 0 { ScheduleError::Overlaps } else { ScheduleError::Passed });
    }
    tx.commit().await?;
    Ok(opened)
}
