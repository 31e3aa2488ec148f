//! The waiting-zone board: what it shows, decided from the feed's [`Board`] and the clock
//! ([`BoardState`], [`board_view`], pure), how a call is announced ([`announcement`],
//! [`chime_wav`] and the [`Announcer`] thread that plays them), and the Slint binding
//! ([`apply`]). The runtime that wires these to the feed is `modes::display`.

use std::sync::mpsc;

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use protocol::Call;

use crate::central_link::queue_feed::{Board, FeedUpdate, KEEP_CALLS};
use crate::config::DisplayConfig;
use crate::speech::{find_program, quietly, speak_to};

/// Calls listed beside the newest one (all of them readable from 5 m on a 1080-line panel).
pub const RECENT_ROWS: usize = 8;

/// A new call blinks this long.
pub const HIGHLIGHT_MS: u64 = 10_000;

/// The board plus what the screen needs beyond the feed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoardState {
    pub board: Board,
    /// When the newest call was received (for the blinking).
    latest_at_ms: Option<u64>,
    /// From `getQueueState`, polled: the feed does not carry it.
    pub average_wait_minutes: Option<u32>,
}

impl BoardState {
    /// Applies a feed update received at `now_ms`; returns a call to announce.
    pub fn update(&mut self, u: FeedUpdate, now_ms: u64) -> Option<Call> {
        let call = self.board.update(u, now_ms);
        if call.is_some() {
            self.latest_at_ms = Some(now_ms);
        }
        call
    }
}

/// What the board shows (plain data, no Slint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardView {
    /// The newest call: (ticket number, room).
    pub latest: Option<(String, String)>,
    pub highlight: bool,
    /// The calls before it, newest first.
    pub calls: Vec<(String, String)>,
    pub waiting: u32,
    pub average_wait: Option<u32>,
    pub stale: bool,
    /// When the feed went down, on the clinic's clock (`10:42`), while it is stale.
    pub stale_since: Option<String>,
    pub night: bool,
    /// Outside duty hours: when the duty doctor starts again (`08:00`); the calls of the day
    /// are not shown then.
    pub opens_at: Option<String>,
    /// Burn-in shift in pixels.
    pub shift: (i32, i32),
}

/// Offsets the layout cycles through, a few pixels each way: static edges never stay on the
/// same pixels for hours.
const SHIFTS: [(i32, i32); 8] = [(0, 0), (4, 0), (4, 4), (0, 4), (-4, 4), (-4, 0), (-4, -4), (0, -4)];

/// The board at `now_ms` (monotonic) and `minute_of_day` (the clinic's wall clock).
pub fn board_view(s: &BoardState, now_ms: u64, minute_of_day: u32, cfg: &DisplayConfig) -> BoardView {
    let b = &s.board;
    let mut calls = b.calls.iter().map(|c| (c.ticket_number.clone(), c.room.clone()));
    let latest = calls.next();
    let every = cfg.shift_every.as_millis().max(1) as u64;
    let hhmm = |m: u32| format!("{:02}:{:02}", (m / 60) % 24, m % 60);
    let stale = b.stale(now_ms);
    // The wall clock minus how long the link has been down, on a 24-hour dial.
    let down_for = u32::try_from(now_ms.saturating_sub(b.link_changed_ms) / 60_000).unwrap_or(0) % 1440;
    let night = cfg.duty_hours.is_some_and(|(from, to)| {
        let on_duty = if from < to {
            (from..to).contains(&minute_of_day)
        } else {
            minute_of_day >= from || minute_of_day < to
        };
        !on_duty
    });
    BoardView {
        highlight: latest.is_some()
            && s.latest_at_ms.is_some_and(|t| now_ms.saturating_sub(t) < HIGHLIGHT_MS),
        latest,
        calls: calls.take(RECENT_ROWS.min(KEEP_CALLS - 1)).collect(),
        waiting: b.waiting,
        average_wait: s.average_wait_minutes,
        stale,
        stale_since: stale.then(|| hhmm((minute_of_day + 1440 - down_for) % 1440)),
        night,
        opens_at: cfg.duty_hours.filter(|_| night).map(|(from, _)| hhmm(from)),
        shift: SHIFTS[((now_ms / every) % SHIFTS.len() as u64) as usize],
    }
}

/// What the board says aloud: «Талон Д 17, пройдите в кабинет 214». Numbers lose their
/// leading zeros and dashes so the voice reads "семнадцать", not "ноль-один-семь".
pub fn announcement(call: &Call) -> String {
    let spoken: Vec<String> = call
        .ticket_number
        .split(['-', ' '])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let split = p.find(|c: char| c.is_ascii_digit()).unwrap_or(p.len());
            let (letters, digits) = p.split_at(split);
            let digits = digits.trim_start_matches('0');
            match (letters.is_empty(), digits.is_empty()) {
                (_, true) if split < p.len() => format!("{letters}0").trim().to_owned(),
                (true, _) => digits.to_owned(),
                (false, true) => letters.to_owned(),
                (false, false) => format!("{letters}{digits}"),
            }
        })
        .collect();
    format!("Талон {}, пройдите в кабинет {}", spoken.join(" "), call.room)
}

/// A two-note chime (E5 then C5, decaying), 16-bit mono WAV at 22,050 Hz: generated, so the
/// package carries no sound files.
pub fn chime_wav() -> Vec<u8> {
    const RATE: u32 = 22_050;
    let mut samples: Vec<i16> = Vec::new();
    for (freq, secs) in [(659.25f32, 0.35f32), (523.25, 0.6)] {
        let n = (RATE as f32 * secs) as usize;
        for i in 0..n {
            let t = i as f32 / RATE as f32;
            let envelope = (-4.0 * t / secs).exp() * (i.min(200) as f32 / 200.0);
            let v = (2.0 * std::f32::consts::PI * freq * t).sin() * envelope * 0.5;
            samples.push((v * i16::MAX as f32) as i16);
        }
    }
    let data_len = (samples.len() * 2) as u32;
    let mut w = Vec::with_capacity(44 + data_len as usize);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&RATE.to_le_bytes());
    w.extend_from_slice(&(RATE * 2).to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        w.extend_from_slice(&s.to_le_bytes());
    }
    w
}

/// Plays calls on its own thread, one after another, so the UI never waits for audio. With no
/// `aplay`/`espeak-ng` or no sound card it stays silent and says so once in the log.
#[derive(Debug)]
pub struct Announcer {
    tx: mpsc::Sender<Call>,
}

impl Announcer {
    pub fn start(cfg: &DisplayConfig) -> Announcer {
        let (tx, rx) = mpsc::channel::<Call>();
        let aplay = find_program("aplay");
        let espeak = find_program("espeak-ng");
        let chime = match (&aplay, cfg.chime) {
            (Some(_), true) => {
                let path = std::env::temp_dir().join(format!("infomat-chime-{}.wav", std::process::id()));
                match std::fs::write(&path, chime_wav()) {
                    Ok(()) => Some(path),
                    Err(e) => {
                        log::warn!("display: cannot write the chime: {e}; calls will not chime");
                        None
                    }
                }
            }
            (None, true) => {
                log::info!("display: aplay is not installed: calls will not chime");
                None
            }
            (_, false) => None,
        };
        let speak = match (&espeak, cfg.speak) {
            (Some(e), true) => Some(e.clone()),
            (None, true) => {
                log::info!("display: espeak-ng is not installed: calls will not be spoken");
                None
            }
            (_, false) => None,
        };
        let (device, voice) = (cfg.audio_device.clone(), cfg.voice.clone());
        let spawned = std::thread::Builder::new().name("announcer".into()).spawn(move || {
            let mut failing = false;
            for call in rx {
                let mut ok = true;
                if let (Some(aplay), Some(wav)) = (&aplay, &chime) {
                    let mut c = std::process::Command::new(aplay);
                    c.arg("-q");
                    if let Some(d) = &device {
                        c.args(["-D", d]);
                    }
                    ok &= quietly(c.arg(wav));
                }
                if let Some(espeak) = &speak {
                    let text = announcement(&call);
                    ok &= match (&device, &aplay) {
                        // A named device: espeak renders, aplay plays there.
                        (Some(d), Some(aplay)) => speak_to(espeak, &voice, &text, aplay, d),
                        _ => quietly(
                            std::process::Command::new(espeak).args(["-v", &voice, "-s", "140", &text]),
                        ),
                    };
                }
                if !ok && !failing {
                    log::warn!("display: the announcement could not be played (no sound device?)");
                }
                failing = !ok;
            }
            if let Some(wav) = chime {
                let _ = std::fs::remove_file(wav);
            }
        });
        if let Err(e) = spawned {
            log::warn!("display: no announcer thread: {e}");
        }
        Announcer { tx }
    }

    pub fn announce(&self, call: Call) {
        let _ = self.tx.send(call);
    }
}

fn s(x: &str) -> SharedString {
    SharedString::from(x)
}

/// Shows `v` on the board, with the clinic's name and the clock.
pub fn apply(w: &ui::BoardWindow, v: &BoardView, clinic: &str, clock: &str) {
    let a = w.global::<ui::BoardAdapter>();
    a.set_clinic(s(clinic));
    a.set_clock(s(clock));
    a.set_has_latest(v.latest.is_some());
    let (n, r) = v.latest.clone().unwrap_or_default();
    a.set_latest_number(s(&n));
    a.set_latest_room(s(&r));
    a.set_highlight(v.highlight);
    a.set_calls(ModelRc::from(std::rc::Rc::new(VecModel::from(
        v.calls.iter().map(|(n, r)| ui::BoardCall { number: s(n), room: s(r) }).collect::<Vec<_>>(),
    ))));
    a.set_waiting(v.waiting as i32);
    a.set_average_wait(s(&v.average_wait.map(|m| m.to_string()).unwrap_or_default()));
    a.set_stale(v.stale);
    a.set_stale_since(s(v.stale_since.as_deref().unwrap_or_default()));
    a.set_night(v.night);
    a.set_opens_at(s(v.opens_at.as_deref().unwrap_or_default()));
    a.set_shift_x(v.shift.0 as f32);
    a.set_shift_y(v.shift.1 as f32);
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{Date, DateTime};
    use protocol::FeedEvent;

    fn called(seq: u64, n: &str, room: &str) -> FeedUpdate {
        let at = DateTime::new(Date::from_ymd(2026, 11, 23).unwrap(), 10, 0, 180).unwrap();
        FeedUpdate::Frame(FeedEvent::Called {
            seq,
            ticket_number: n.into(),
            room: room.into(),
            called_at: at,
        })
    }

    #[test]
    fn a_new_call_blinks_for_ten_seconds_and_older_ones_move_aside() {
        let cfg = DisplayConfig::default();
        let mut st = BoardState::default();
        st.update(FeedUpdate::Connected, 0);
        st.update(FeedUpdate::Frame(FeedEvent::Snapshot { seq: 1, waiting: 4, called: vec![] }), 0);
        assert_eq!(board_view(&st, 0, 600, &cfg).latest, None);
        assert!(st.update(called(2, "Д-001", "214"), 1_000).is_some());
        assert!(st.update(called(3, "Д-002", "215"), 2_000).is_some());
        let v = board_view(&st, 2_000, 600, &cfg);
        assert_eq!(v.latest, Some(("Д-002".into(), "215".into())));
        assert_eq!(v.calls, vec![("Д-001".to_owned(), "214".to_owned())]);
        assert!(v.highlight);
        assert!(!board_view(&st, 12_000, 600, &cfg).highlight, "steady after 10 s");
        assert!(!v.stale);
    }

    #[test]
    fn night_outside_duty_hours_and_the_layout_wanders() {
        let cfg = DisplayConfig { duty_hours: Some((8 * 60, 20 * 60)), ..DisplayConfig::default() };
        let st = BoardState::default();
        assert!(!board_view(&st, 0, 9 * 60, &cfg).night);
        assert!(board_view(&st, 0, 21 * 60, &cfg).night);
        assert!(board_view(&st, 0, 7 * 60 + 59, &cfg).night);
        let overnight = DisplayConfig { duty_hours: Some((20 * 60, 8 * 60)), ..DisplayConfig::default() };
        assert!(!board_view(&st, 0, 23 * 60, &overnight).night);
        assert!(board_view(&st, 0, 12 * 60, &overnight).night);
        assert!(!board_view(&st, 0, 12 * 60, &DisplayConfig::default()).night, "no hours: always day");
        assert_eq!(
            board_view(&st, 0, 21 * 60, &cfg).opens_at.as_deref(),
            Some("08:00"),
            "says when it opens"
        );
        assert_eq!(board_view(&st, 0, 9 * 60, &cfg).opens_at, None);
        let every = cfg.shift_every.as_millis() as u64;
        let shifts: std::collections::HashSet<_> =
            (0..8).map(|i| board_view(&st, i * every, 600, &cfg).shift).collect();
        assert_eq!(shifts.len(), 8);
        assert!(shifts.iter().all(|(x, y)| x.abs() <= 6 && y.abs() <= 6), "a few pixels only");
    }

    #[test]
    fn announcements_read_naturally() {
        let at = DateTime::new(Date::from_ymd(2026, 11, 23).unwrap(), 10, 0, 180).unwrap();
        let call = |n: &str| Call { ticket_number: n.into(), room: "214".into(), called_at: at };
        assert_eq!(announcement(&call("Д-017")), "Талон Д 17, пройдите в кабинет 214");
        assert_eq!(announcement(&call("Д-100")), "Талон Д 100, пройдите в кабинет 214");
        assert_eq!(announcement(&call("К2-005")), "Талон К2 5, пройдите в кабинет 214");
        assert_eq!(announcement(&call("Д-000")), "Талон Д 0, пройдите в кабинет 214");
    }

    #[test]
    fn the_chime_is_a_valid_wav() {
        let w = chime_wav();
        assert_eq!(&w[..4], b"RIFF");
        assert_eq!(&w[8..16], b"WAVEfmt ");
        let data = u32::from_le_bytes(w[40..44].try_into().unwrap()) as usize;
        assert_eq!(w.len(), 44 + data);
        assert!(data > 22_050, "about a second of sound");
        let peak = w[44..].chunks(2).map(|c| i16::from_le_bytes([c[0], c[1]]).unsigned_abs()).max().unwrap();
        assert!(peak > 8_000 && peak < i16::MAX as u16, "audible, not clipped: {peak}");
    }

    #[test]
    fn programs_are_found_on_the_path_or_not_at_all() {
        assert!(find_program("sh").is_some());
        assert!(find_program("infomat-no-such-program").is_none(), "absent tools mean silence, not an error");
    }
}
