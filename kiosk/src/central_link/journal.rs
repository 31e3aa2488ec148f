//! The offline walk-in journal: tickets issued while central is unreachable, on disk before
//! they are printed, until central confirms them.
//!
//! An append-only file of JSON lines, mode 0600, fsync'd after every record: `issue` (what
//! `syncOfflineTickets` needs, nothing more), `synced` (central confirmed it), `rejected`
//! (central will never take it: kept, masked, for staff to see on the service screen and
//! `/health`, because a patient holds that paper), `day` (the last number of the kiosk's series
//! that day, so numbers never repeat after a compaction). On open the file is replayed; a torn
//! last line (a crash mid-write) is cut off and an unreadable line anywhere is skipped: its
//! ticket was never printed, because printing waits for the fsync. A failed append is cut back
//! so the next record starts on a clean line. Once nothing is pending the file is compacted to
//! the day counter and the rejected list (atomically: temp file, fsync, rename, fsync of the
//! directory).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use domain::{Date, DateTime, Enp, KioskId, TicketNumber};
use protocol::OfflineTicket;

pub const FILE_NAME: &str = "offline-journal.jsonl";

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("offline journal {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum Record {
    Issue(OfflineTicket),
    Synced { request_id: String },
    Rejected(RejectedTicket),
    Day { day: Date, last: u32 },
}

/// An offline ticket central refused at sync: what staff need to honour or explain the paper
/// the patient holds, without the birth date and with the policy masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedTicket {
    pub local_number: String,
    pub issued_at: DateTime,
    /// `7700********1234`.
    pub policy: String,
    /// Central's code, e.g. `PATIENT_NOT_FOUND`, `OFFLINE_TICKET_STALE`.
    pub reason: String,
}

/// Rejected tickets kept (the newest); older ones are in the log of the day.
pub const KEEP_REJECTED: usize = 50;

#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    pending: Vec<OfflineTicket>,
    rejected: Vec<RejectedTicket>,
    day: Option<(Date, u32)>,
}

impl Journal {
    /// Opens (creating) the journal in `dir` and replays it.
    pub fn open(dir: &Path) -> Result<Journal, JournalError> {
        let path = dir.join(FILE_NAME);
        let io = |source| JournalError::Io { path: path.clone(), source };
        // Private like the file: who queued offline is nobody else's business on this machine.
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io)?;
        let mut pending: Vec<OfflineTicket> = Vec::new();
        let mut rejected: Vec<RejectedTicket> = Vec::new();
        let mut day = None;
        let existed = path.exists();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(e)),
        };
        // A torn record at the end must not glue itself to the next one: cut it off.
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if keep < bytes.len() {
            log::warn!("offline journal: dropping a torn last record ({} bytes)", bytes.len() - keep);
            OpenOptions::new().write(true).open(&path).and_then(|f| f.set_len(keep as u64)).map_err(io)?;
        }
        let mut skipped = 0;
        for line in bytes[..keep].split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            // Bytes, not text: one damaged line (a bad sector, a stray write) costs that line,
            // never the records after it.
            match serde_json::from_slice::<Record>(line) {
                Ok(Record::Issue(t)) => {
                    // The series counts from tickets too, not only from `day` records: a damaged
                    // `day` line must not let a number be given twice.
                    if let Some(n) = t.local_number.rsplit('-').next().and_then(|n| n.parse::<u32>().ok()) {
                        let d = t.issued_at.date;
                        if day.is_none_or(|(old, last)| (d, n) > (old, last)) {
                            day = Some((d, n));
                        }
                    }
                    if !pending.iter().any(|p| p.request_id == t.request_id) {
                        pending.push(t)
                    }
                }
                Ok(Record::Synced { request_id }) => pending.retain(|p| p.request_id != request_id),
                Ok(Record::Rejected(r)) => push_rejected(&mut rejected, r),
                Ok(Record::Day { day: d, last }) => {
                    if day.is_none_or(|(old, n)| (d, last) > (old, n)) {
                        day = Some((d, last));
                    }
                }
                Err(_) => skipped += 1,
            }
        }
        if skipped > 0 {
            log::warn!("offline journal: skipped {skipped} unreadable record(s)");
        }
        let file = OpenOptions::new().create(true).append(true).mode(0o600).open(&path).map_err(io)?;
        if !existed {
            // The new file's name must survive a power cut as well as its first record.
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        Ok(Journal { path, file, pending, rejected, day })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Tickets central has not confirmed yet.
    pub fn pending(&self) -> &[OfflineTicket] {
        &self.pending
    }

    /// Tickets central refused, newest last (at most [`KEEP_REJECTED`]).
    pub fn rejected(&self) -> &[RejectedTicket] {
        &self.rejected
    }

    fn append(&mut self, records: &[Record]) -> Result<(), JournalError> {
        let mut buf = Vec::new();
        for r in records {
            serde_json::to_writer(&mut buf, r).expect("records serialise");
            buf.push(b'\n');
        }
        let io = |source| JournalError::Io { path: self.path.clone(), source };
        let before = self.file.metadata().map_err(io)?.len();
        if let Err(e) = self.file.write_all(&buf).and_then(|()| self.file.sync_data()) {
            // A part written (disk full mid-record) would glue itself to the next record: cut it.
            let _ = self.file.set_len(before);
            return Err(io(e));
        }
        Ok(())
    }

    /// Issues the next number of the kiosk's own series (`К2-005`, restarting daily) and records
    /// the ticket durably. Returns once it is on disk: only then may it be printed.
    pub fn issue(
        &mut self,
        kiosk: KioskId,
        enp: Enp,
        birth_date: Date,
        now: DateTime,
        request_id: String,
    ) -> Result<OfflineTicket, JournalError> {
        // The same patient again today (the kiosk died before the first paper came out, or they
        // lost it): the same ticket, never a second place in the queue.
        if let Some(t) = self.pending.iter().find(|t| t.oms_number == enp && t.issued_at.date == now.date) {
            return Ok(t.clone());
        }
        // A new day restarts the series. A clock that went back (a dead RTC battery, a bad NTP
        // answer) does not: numbers continue, so no number is ever given twice in a day.
        let (day, n) = match self.day {
            Some((d, last)) if now.date <= d => (d, last + 1),
            _ => (now.date, 1),
        };
        let t = OfflineTicket {
            local_number: TicketNumber::offline(kiosk, n).to_string(),
            oms_number: enp,
            birth_date,
            issued_at: now,
            request_id,
        };
        self.append(&[Record::Day { day, last: n }, Record::Issue(t.clone())])?;
        self.day = Some((day, n));
        self.pending.push(t.clone());
        Ok(t)
    }

    /// Central confirmed these (accepted or duplicate): forget them, durably.
    pub fn confirm(&mut self, request_ids: &[String]) -> Result<(), JournalError> {
        if request_ids.is_empty() {
            return Ok(());
        }
        let records: Vec<Record> =
            request_ids.iter().map(|r| Record::Synced { request_id: r.clone() }).collect();
        self.append(&records)?;
        self.pending.retain(|p| !request_ids.contains(&p.request_id));
        if self.pending.is_empty() {
            self.compact()?;
        }
        Ok(())
    }

    /// Central refused these for good (`(request id, reason)`): no longer pending, kept masked
    /// in the rejected list, durably.
    pub fn reject(&mut self, refused: &[(String, String)]) -> Result<(), JournalError> {
        let mut records = Vec::new();
        for (id, reason) in refused {
            if let Some(t) = self.pending.iter().find(|p| &p.request_id == id) {
                records.push(Record::Rejected(RejectedTicket {
                    local_number: t.local_number.clone(),
                    issued_at: t.issued_at,
                    policy: t.oms_number.masked(),
                    reason: reason.clone(),
                }));
                records.push(Record::Synced { request_id: id.clone() });
            }
        }
        if records.is_empty() {
            return Ok(());
        }
        self.append(&records)?;
        for r in records {
            match r {
                Record::Rejected(r) => push_rejected(&mut self.rejected, r),
                Record::Synced { request_id } => self.pending.retain(|p| p.request_id != request_id),
                _ => {}
            }
        }
        if self.pending.is_empty() {
            self.compact()?;
        }
        Ok(())
    }

    /// Rewrites the file to the day counter and the rejected list: no birth date or full policy
    /// stays once nothing is pending.
    fn compact(&mut self) -> Result<(), JournalError> {
        let io = |source| JournalError::Io { path: self.path.clone(), source };
        let tmp = self.path.with_extension("tmp");
        {
            let mut f = OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(io)?;
            let mut records: Vec<Record> = self.rejected.iter().cloned().map(Record::Rejected).collect();
            if let Some((day, last)) = self.day {
                records.push(Record::Day { day, last });
            }
            for r in &records {
                serde_json::to_writer(&mut f, r).expect("records serialise");
                f.write_all(b"\n").map_err(io)?;
            }
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        self.file = OpenOptions::new().append(true).mode(0o600).open(&self.path).map_err(io)?;
        Ok(())
    }
}

fn push_rejected(list: &mut Vec<RejectedTicket>, r: RejectedTicket) {
    if !list.contains(&r) {
        list.push(r);
    }
    if list.len() > KEEP_REJECTED {
        list.remove(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("infomat-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn at(day: u32, h: u32) -> DateTime {
        DateTime::new(Date::from_ymd(2026, 11, day).unwrap(), h, 0, 180).unwrap()
    }

    #[test]
    fn numbers_survive_restarts_and_restart_daily() {
        let d = dir("numbers");
        let enp = Enp::parse("7700000000000016").unwrap();
        let birth = Date::from_ymd(1948, 3, 5).unwrap();
        let other = Enp::parse("7700000000000024").unwrap();
        let mut j = Journal::open(&d).unwrap();
        assert_eq!(j.issue(KioskId(2), enp, birth, at(23, 9), "r1".into()).unwrap().local_number, "К2-001");
        assert_eq!(j.issue(KioskId(2), other, birth, at(23, 9), "r2".into()).unwrap().local_number, "К2-002");
        // The same patient again: the same ticket.
        let again = j.issue(KioskId(2), enp, birth, at(23, 9), "r9".into()).unwrap();
        assert_eq!((again.local_number.as_str(), again.request_id.as_str()), ("К2-001", "r1"));
        drop(j);
        let mut j = Journal::open(&d).unwrap();
        assert_eq!(j.pending().len(), 2);
        j.confirm(&["r1".into(), "r2".into()]).unwrap();
        assert!(j.pending().is_empty());
        // Compacted: nothing personal left, but the series goes on.
        let text = std::fs::read_to_string(j.path()).unwrap();
        assert!(!text.contains("7700000000000016") && !text.contains("1948"), "{text}");
        drop(j);
        let mut j = Journal::open(&d).unwrap();
        assert_eq!(j.issue(KioskId(2), enp, birth, at(23, 10), "r3".into()).unwrap().local_number, "К2-003");
        assert_eq!(j.issue(KioskId(2), other, birth, at(24, 8), "r4".into()).unwrap().local_number, "К2-001");
        let mode = std::fs::metadata(j.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_clock_that_jumps_back_never_reuses_a_number() {
        let d = dir("clock");
        let birth = Date::from_ymd(1948, 3, 5).unwrap();
        let enps: Vec<Enp> = domain::demo::patients().iter().take(5).map(|p| p.enp).collect();
        let mut j = Journal::open(&d).unwrap();
        let mut issue = |i: usize, when: DateTime| {
            j.issue(KioskId(2), enps[i], birth, when, format!("r{i}")).unwrap().local_number
        };
        assert_eq!(issue(0, at(23, 9)), "К2-001");
        assert_eq!(issue(1, at(23, 9)), "К2-002");
        // The RTC falls back a day, then NTP puts it right.
        assert_eq!(issue(2, at(22, 9)), "К2-003", "the series goes on, it does not restart");
        assert_eq!(issue(3, at(23, 10)), "К2-004", "and К2-001 is not given out twice on the 23rd");
        // A real new day restarts it.
        assert_eq!(issue(4, at(24, 8)), "К2-001");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_full_disk_refuses_the_ticket_rather_than_losing_it() {
        let d = dir("full");
        let mut j = Journal::open(&d).unwrap();
        // From now on every write to the journal fails with ENOSPC, as on a full disk.
        j.file = OpenOptions::new().write(true).open("/dev/full").unwrap();
        let enp = Enp::parse("7700000000000016").unwrap();
        let e = j.issue(KioskId(2), enp, Date::from_ymd(1948, 3, 5).unwrap(), at(23, 9), "r1".into());
        let msg = e.expect_err("no ticket that could not be recorded").to_string();
        assert!(msg.contains("No space left on device"), "{msg}");
        assert!(j.pending().is_empty(), "nothing pending that is not on disk");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_torn_last_line_is_skipped() {
        let d = dir("torn");
        let mut j = Journal::open(&d).unwrap();
        let enp = Enp::parse("7700000000000016").unwrap();
        j.issue(KioskId(2), enp, Date::from_ymd(1948, 3, 5).unwrap(), at(23, 9), "r1".into()).unwrap();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(d.join(FILE_NAME)).unwrap();
        f.write_all(b"{\"op\":\"issue\",\"local_num").unwrap();
        drop(f);
        let mut j = Journal::open(&d).unwrap();
        assert_eq!(j.pending().len(), 1);
        // The next record is whole, not glued to the fragment.
        j.issue(
            KioskId(2),
            Enp::parse("7700000000000024").unwrap(),
            Date::from_ymd(1948, 3, 5).unwrap(),
            at(23, 9),
            "r2".into(),
        )
        .unwrap();
        drop(j);
        assert_eq!(Journal::open(&d).unwrap().pending().len(), 2);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_damaged_line_in_the_middle_costs_that_line_only() {
        let d = dir("damaged");
        let birth = Date::from_ymd(1948, 3, 5).unwrap();
        let enps: Vec<Enp> = domain::demo::patients().iter().take(3).map(|p| p.enp).collect();
        let mut j = Journal::open(&d).unwrap();
        j.issue(KioskId(2), enps[0], birth, at(23, 9), "r0".into()).unwrap();
        drop(j);
        // A bad sector: bytes that are not even text, then a line that is not JSON.
        let mut f = OpenOptions::new().append(true).open(d.join(FILE_NAME)).unwrap();
        f.write_all(b"\xff\xfe\x00garbage\n{not json}\n").unwrap();
        drop(f);
        let mut j = Journal::open(&d).unwrap();
        j.issue(KioskId(2), enps[1], birth, at(23, 9), "r1".into()).unwrap();
        drop(j);
        let mut j = Journal::open(&d).unwrap();
        let pending: Vec<&str> = j.pending().iter().map(|t| t.request_id.as_str()).collect();
        assert_eq!(pending, ["r0", "r1"], "the records after the damage are read");
        // And the day counter after it too: no number twice.
        assert_eq!(
            j.issue(KioskId(2), enps[2], birth, at(23, 9), "r2".into()).unwrap().local_number,
            "К2-003"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// A power cut keeps what was fsync'd and any prefix of what was being written after it.
    /// Cut the file at every byte between two durable states: every ticket that was handed
    /// out (the call returned) is still pending, none that was confirmed comes back, and the
    /// next number is new.
    #[test]
    fn a_power_cut_at_any_byte_loses_no_printed_ticket_and_repeats_no_number() {
        let d = dir("power");
        let birth = Date::from_ymd(1948, 3, 5).unwrap();
        let enps: Vec<Enp> = domain::demo::patients().iter().take(6).map(|p| p.enp).collect();
        let mut j = Journal::open(&d).unwrap();
        // (file after the step, tickets handed out and not confirmed, highest number used)
        let mut states: Vec<(Vec<u8>, Vec<String>, u32)> = vec![(Vec::new(), Vec::new(), 0)];
        let mut out: Vec<String> = Vec::new();
        let mut used = 0;
        for (i, enp) in enps.iter().enumerate() {
            let t = j.issue(KioskId(2), *enp, birth, at(23, 9), format!("r{i}")).unwrap();
            used = used.max(t.local_number.trim_start_matches("К2-").parse().unwrap());
            out.push(t.request_id);
            if i == 2 {
                j.confirm(&["r0".into()]).unwrap();
                out.retain(|r| r != "r0");
            }
            if i == 4 {
                j.reject(&[("r1".into(), "PATIENT_NOT_FOUND".into())]).unwrap();
                out.retain(|r| r != "r1");
            }
            states.push((std::fs::read(j.path()).unwrap(), out.clone(), used));
        }
        drop(j);
        let file = d.join(FILE_NAME);
        for w in states.windows(2) {
            let ((before, was_out, used_before), (after, still_out, _)) = (&w[0], &w[1]);
            // Handed out before the step and not confirmed or rejected by it.
            let must: Vec<&String> = was_out.iter().filter(|r| still_out.contains(r)).collect();
            // Appends grow the file; a compaction replaces it whole (rename), so only its two
            // ends exist.
            let cuts: Vec<Vec<u8>> = if after.starts_with(before) {
                (before.len()..=after.len()).map(|k| after[..k].to_vec()).collect()
            } else {
                vec![before.clone(), after.clone()]
            };
            for bytes in cuts {
                std::fs::write(&file, &bytes).unwrap();
                let mut j = Journal::open(&d).unwrap();
                let pending: Vec<String> = j.pending().iter().map(|t| t.request_id.clone()).collect();
                for r in &must {
                    assert!(
                        pending.contains(r),
                        "{r} was handed out and is gone after a cut at {}",
                        bytes.len()
                    );
                }
                let next = j.issue(KioskId(2), enps[5], birth, at(23, 11), "next".into()).unwrap();
                if !pending.iter().any(|r| r == "r5") {
                    let n: u32 = next.local_number.trim_start_matches("К2-").parse().unwrap();
                    assert!(n > *used_before, "number {n} given twice after a cut at {}", bytes.len());
                }
            }
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_rejected_ticket_is_kept_masked_and_survives_compaction() {
        let d = dir("rejected");
        let enp = Enp::parse("7700000000000016").unwrap();
        let mut j = Journal::open(&d).unwrap();
        j.issue(KioskId(2), enp, Date::from_ymd(1948, 3, 5).unwrap(), at(23, 9), "r1".into()).unwrap();
        j.reject(&[("r1".into(), "PATIENT_NOT_FOUND".into())]).unwrap();
        assert!(j.pending().is_empty());
        drop(j);
        let j = Journal::open(&d).unwrap();
        assert_eq!(
            j.rejected(),
            [RejectedTicket {
                local_number: "К2-001".into(),
                issued_at: at(23, 9),
                policy: enp.masked(),
                reason: "PATIENT_NOT_FOUND".into()
            }]
        );
        let text = std::fs::read_to_string(j.path()).unwrap();
        assert!(!text.contains("7700000000000016") && !text.contains("1948"), "{text}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
