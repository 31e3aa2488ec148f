//! Speech through `espeak-ng`, and the tools it needs found on `$PATH`: the board announces
//! calls with it ([`crate::board::Announcer`]); the kiosk, when `kiosk.speak` is on, reads each
//! screen's main instruction aloud ([`Guide`]). No `espeak-ng`, no sound card: silence, said
//! once in the log, never an error a patient sees.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;

/// `name` on `$PATH`, if installed.
pub fn find_program(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

/// Runs `c` with no input or output; whether it succeeded.
pub fn quietly(c: &mut Command) -> bool {
    c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// `text` rendered by espeak-ng and played by `aplay` on `device`.
pub fn speak_to(espeak: &Path, voice: &str, text: &str, aplay: &Path, device: &str) -> bool {
    let Ok(mut e) = Command::new(espeak)
        .args(["-v", voice, "-s", "140", "--stdout", text])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let Some(out) = e.stdout.take() else { return false };
    let played = quietly(Command::new(aplay).args(["-q", "-D", device]).stdin(out));
    e.wait().is_ok_and(|s| s.success()) && played
}

/// Reads screens' instructions aloud on its own thread, so the UI never waits for audio. A
/// patient tapping on faster than speech hears the screen they are on, not a backlog: what
/// waited while a phrase was spoken is dropped for the newest.
#[derive(Debug)]
pub struct Guide {
    tx: mpsc::Sender<(String, String)>,
}

impl Guide {
    /// Speaks with `espeak` (`None`: espeak-ng from `$PATH`); `None` (and a line in the log)
    /// when it is not installed.
    pub fn start(espeak: Option<PathBuf>) -> Option<Guide> {
        let Some(espeak) = espeak.or_else(|| find_program("espeak-ng")) else {
            log::info!("kiosk: kiosk.speak is on but espeak-ng is not installed: screens stay silent");
            return None;
        };
        let (tx, rx) = mpsc::channel::<(String, String)>();
        let spawned = std::thread::Builder::new().name("guide".into()).spawn(move || {
            let mut failing = false;
            while let Ok(mut next) = rx.recv() {
                while let Ok(newer) = rx.try_recv() {
                    next = newer;
                }
                let (voice, text) = next;
                let ok = quietly(Command::new(&espeak).args(["-v", &voice, "-s", "130", &text]));
                if !ok && !failing {
                    log::warn!("kiosk: spoken guidance could not be played (no sound device?)");
                }
                failing = !ok;
            }
        });
        if let Err(e) = spawned {
            log::warn!("kiosk: no guide thread: {e}");
            return None;
        }
        Some(Guide { tx })
    }

    /// Says `text` in `voice` (`ru`, `en`) after what is being said now.
    pub fn say(&self, voice: &str, text: &str) {
        let _ = self.tx.send((voice.to_owned(), text.to_owned()));
    }
}
