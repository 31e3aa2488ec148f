//! How long a walk-in will wait, from what central measured today.
//!
//! The formula (docs/OPERATIONS.md, "The wait estimate"): with `ahead` people before the
//! ticket, `doctors` cabinets calling and an average visit of `visit` minutes,
//!
//! ```text
//! free = doctors − busy
//! wait ≈ 0                                     when ahead < free
//! wait ≈ (ahead − free + ½) × visit / doctors  otherwise
//! ```
//!
//! A doctor without a patient calls the next at once; past those, every doctor sees one
//! patient per visit, so the line moves `doctors` people per `visit`, and the half is the
//! visit each busy doctor is in the middle of. `busy` counts the cabinets with a patient called
//! and not yet finished. `visit` is the mean of today's
//! finished visits (call to *Принят*) once there are [`SAMPLES_TRUSTED`]; before that, a
//! clinic-wide default of [`DEFAULT_VISIT_MINUTES`]. `doctors` is the number of cabinets that
//! called someone in the last [`CALLING_WINDOW_MINUTES`]; when none has, one busy doctor is
//! assumed. The estimate comes with a range, wide while it rests on few visits
//! ([`Pace::spread`]).
//!
//! It replaces `position × average wait so far`, whose unit was wrong (a wait per waiting
//! patient, not per person ahead); `simulated_day` below measures both against a day.

use serde::Serialize;

/// Visits needed before their mean replaces the default.
pub const SAMPLES_TRUSTED: u32 = 5;
/// A duty doctor's visit when nothing was measured yet today.
pub const DEFAULT_VISIT_MINUTES: f64 = 12.0;
/// A cabinet that called someone this recently is working.
pub const CALLING_WINDOW_MINUTES: i64 = 60;

/// Today's pace of the queue, as measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Pace {
    /// Finished visits today and their total length in minutes.
    pub visits: u32,
    pub visit_minutes: i64,
    /// Cabinets that called someone within [`CALLING_WINDOW_MINUTES`].
    pub doctors: u32,
    /// Of those, the ones with a patient in now (called, not finished).
    pub busy: u32,
}

/// An estimate in minutes: `minutes`, and the range it may fall in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Estimate {
    pub minutes: u32,
    pub low: u32,
    pub high: u32,
}

impl Estimate {
    /// `[low, high]` as the wire carries it.
    pub fn range(&self) -> Option<[u32; 2]> {
        Some([self.low, self.high])
    }

    pub fn wire(&self) -> protocol::WaitEstimate {
        protocol::WaitEstimate { minutes: self.minutes, low: self.low, high: self.high }
    }
}

impl Pace {
    /// Minutes per visit: today's mean once trusted, else the default.
    pub fn visit(&self) -> f64 {
        if self.visits >= SAMPLES_TRUSTED {
            (self.visit_minutes.max(0) as f64 / f64::from(self.visits)).max(1.0)
        } else {
            DEFAULT_VISIT_MINUTES
        }
    }

    /// The relative spread of the estimate: wide on the default, narrowing as visits are
    /// measured.
    pub fn spread(&self) -> f64 {
        if self.visits < SAMPLES_TRUSTED {
            0.5
        } else {
            (1.0 / f64::from(self.visits).sqrt()).clamp(0.15, 0.45)
        }
    }

    pub fn estimate(&self, ahead: u32) -> Estimate {
        // Nobody has called for an hour (the morning, a break): one doctor, expected busy.
        let (doctors, busy) = if self.doctors == 0 { (1, 1) } else { (self.doctors, self.busy) };
        let free = doctors.saturating_sub(busy);
        let wait = if ahead < free {
            0.0
        } else {
            (f64::from(ahead - free) + 0.5) * self.visit() / f64::from(doctors)
        };
        let spread = self.spread();
        // Rounded to what a person reads: whole minutes, a range's ends to 5 minutes.
        let round5 = |m: f64| ((m / 5.0).round() * 5.0).max(0.0) as u32;
        Estimate {
            minutes: wait.round() as u32,
            low: round5(wait * (1.0 - spread)),
            high: round5(wait * (1.0 + spread)).max(round5(wait * (1.0 - spread)) + 5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formula_on_its_own() {
        let measured = Pace { visits: 20, visit_minutes: 200, doctors: 2, busy: 2 };
        // Three ahead, two doctors both seeing someone, 10-minute visits: (3 + ½) × 10 / 2.
        assert_eq!(measured.estimate(3).minutes, 18);
        assert_eq!(measured.estimate(0).minutes, 3, "next in line: half a visit, shared by two");
        let one_free = Pace { busy: 1, ..measured };
        assert_eq!(one_free.estimate(0).minutes, 0, "a free doctor calls the next at once");
        assert_eq!(one_free.estimate(1).minutes, 3);
        let unmeasured = Pace { visits: 1, visit_minutes: 40, doctors: 0, busy: 0 };
        assert_eq!(unmeasured.visit(), DEFAULT_VISIT_MINUTES);
        assert_eq!(unmeasured.estimate(2).minutes, 30, "nobody calling yet: one doctor, busy: (2 + ½) × 12");
        let e = unmeasured.estimate(2);
        assert!(e.low < e.minutes && e.minutes < e.high, "{e:?}");
        assert!(measured.spread() < unmeasured.spread());
    }

    /// A duty morning: arrivals and visit lengths from a fixed seed, `doctors` cabinets
    /// calling the next patient whenever they are free. Returns, for each ticket, the
    /// estimate central would have given at issue (by `estimate`) and the wait it got.
    fn simulate(doctors: usize, estimate: impl Fn(u32, &Pace, i64) -> Estimate) -> Vec<(Estimate, u32)> {
        let mut x = 0x5eed_u64;
        let mut rnd = move |n: u64| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        // (issued, called, estimate at issue)
        let mut tickets: Vec<(i64, Option<i64>, Estimate)> = Vec::new();
        let mut free_at = vec![0i64; doctors];
        let mut last_call = vec![i64::MIN / 2; doctors];
        let mut visits: Vec<i64> = Vec::new();
        let mut finishing: Vec<(i64, i64)> = Vec::new(); // (ends at, length)
        let mut waits_so_far: Vec<i64> = Vec::new();
        for minute in 0..8 * 60_i64 {
            // Finished visits are measured when they end.
            finishing.retain(|(end, len)| {
                if *end <= minute {
                    visits.push(*len);
                    false
                } else {
                    true
                }
            });
            // About what the doctors can take (a visit is 12 minutes on average: 5 an hour
            // each), with a rush at opening that builds a queue the rest of the day works off.
            let per_doctor = if minute < 90 { 15 } else { 8 };
            let chance = per_doctor * doctors as i64;
            if (rnd(100) as i64) < chance {
                let ahead = tickets.iter().filter(|t| t.1.is_none()).count() as u32;
                let pace = Pace {
                    visits: visits.len() as u32,
                    visit_minutes: visits.iter().sum(),
                    doctors: last_call.iter().filter(|c| minute - **c <= CALLING_WINDOW_MINUTES).count()
                        as u32,
                    busy: free_at.iter().filter(|f| **f > minute).count() as u32,
                };
                let avg_wait = if waits_so_far.is_empty() {
                    -1
                } else {
                    waits_so_far.iter().sum::<i64>() / waits_so_far.len() as i64
                };
                tickets.push((minute, None, estimate(ahead, &pace, avg_wait)));
            }
            for d in 0..doctors {
                if free_at[d] > minute {
                    continue;
                }
                if let Some(t) = tickets.iter_mut().find(|t| t.1.is_none()) {
                    t.1 = Some(minute);
                    waits_so_far.push(minute - t.0);
                    let len = 7 + rnd(11) as i64; // 7 to 17 minutes
                    free_at[d] = minute + len;
                    last_call[d] = minute;
                    finishing.push((minute + len, len));
                }
            }
        }
        tickets.iter().filter_map(|t| Some((t.2, (t.1? - t.0) as u32))).collect()
    }

    fn median_abs_error(pairs: &[(Estimate, u32)]) -> u32 {
        let mut e: Vec<u32> = pairs.iter().map(|(est, got)| est.minutes.abs_diff(*got)).collect();
        e.sort_unstable();
        e[e.len() / 2]
    }

    fn mean_abs_error(pairs: &[(Estimate, u32)]) -> f64 {
        pairs.iter().map(|(est, got)| f64::from(est.minutes.abs_diff(*got))).sum::<f64>() / pairs.len() as f64
    }

    /// The figures docs/PERFORMANCE.md reports: the median absolute error of the estimate on a
    /// simulated day, for this formula and the one it replaced, and how often the real wait
    /// fell inside the range shown.
    #[test]
    fn simulated_day() {
        for doctors in [1, 2, 3] {
            let new = simulate(doctors, |ahead, pace, _| pace.estimate(ahead));
            let old = simulate(doctors, |ahead, _, avg| {
                let m = ahead * if avg < 0 { 10 } else { avg.max(1) as u32 };
                Estimate { minutes: m, low: m, high: m }
            });
            let (new_mae, old_mae) = (median_abs_error(&new), median_abs_error(&old));
            let (new_mean, old_mean) = (mean_abs_error(&new), mean_abs_error(&old));
            let waits: Vec<u32> = new.iter().map(|p| p.1).collect();
            let inside = new.iter().filter(|(e, got)| (e.low..=e.high).contains(got)).count();
            println!(
                "{doctors} doctor(s), {} tickets, mean wait {:.0} min: median absolute error {new_mae} min, mean \
                 {new_mean:.1} (the old formula: {old_mae}, {old_mean:.1}); the wait inside the range shown: {} %",
                new.len(),
                f64::from(waits.iter().sum::<u32>()) / waits.len() as f64,
                inside * 100 / new.len()
            );
            assert!(new.len() > 25 * doctors, "a day's tickets: {}", new.len());
            assert!(new_mae <= 6, "{doctors} doctors: {new_mae} min");
            assert!(new_mae <= old_mae && new_mean < old_mean, "{doctors} doctors: {new_mae} vs {old_mae}");
        }
    }
}
