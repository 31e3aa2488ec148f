//! What a patient's fingers can reach. The screens offer buttons and a digit keypad only: no
//! text field (nothing to inject), no file dialog, no way out of the program. The program runs
//! no other program except the board's audio tools and the demo's own helpers, never a shell.
//! (Tokens, the identification rate limit and internals-free errors are central's tests; the PIN
//! lockout is in ui_flow.rs; TLS in tls.rs; docs/SECURITY.md has the threat model.)

use std::path::Path;

fn sources(dir: &Path, ext: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(sources(&p, ext));
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push((p.display().to_string(), std::fs::read_to_string(&p).unwrap()));
        }
    }
    out
}

#[test]
fn the_screens_have_no_text_entry_no_file_dialog_and_no_exit_to_a_desktop() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/ui");
    let files = sources(&ui, "slint");
    assert!(files.len() >= 2, "the screens were found: {}", files.len());
    for (path, text) in &files {
        for element in ["TextInput", "LineEdit", "TextEdit", "FileDialog", "PopupWindow", "ContextMenu"] {
            let used = text.lines().any(|l| {
                let l = l.trim_start();
                !l.starts_with("//")
                    && (l.starts_with(&format!("{element} "))
                        || l.contains(&format!(": {element} "))
                        || l.contains(&format!("{element} {{")))
            });
            assert!(!used, "{path} uses {element}: patients may only press buttons");
        }
    }
    // Every patient-facing callback becomes a session action or a demo scan (off in production).
    let bind = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui_bind.rs")).unwrap();
    assert!(bind.contains("pub enum Input {"));
    let variants: Vec<&str> = bind
        .split("pub enum Input {")
        .nth(1)
        .unwrap()
        .split('}')
        .next()
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .collect();
    assert_eq!(variants, ["Action(Action),", "InfoButton(usize),", "ScanDemo(usize),"], "{variants:?}");
}

#[test]
fn no_shell_is_ever_started() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    // Where another program is started, and which.
    // (The demo's board window and the soak's central are started by `infomat-dev`, which is
    // never packaged.)
    let allowed = [
        ("board.rs", "the board's chime: aplay"),
        ("speech.rs", "the board's calls and the kiosk's guidance: espeak-ng, aplay"),
    ];
    for (path, text) in sources(&src, "rs") {
        // Unit tests may name a shell (to look one up on PATH); the program may not.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        for shell in ["\"sh\"", "\"bash\"", "\"/bin/sh\"", "\"-c\""] {
            assert!(!text.contains(shell), "{path} mentions {shell}");
        }
        if text.contains("Command::new") {
            assert!(
                allowed.iter().any(|(f, _)| path.ends_with(f)),
                "{path} starts a program; allowed only in {allowed:?}"
            );
        }
    }
    for file in ["board.rs", "speech.rs"] {
        let text = std::fs::read_to_string(src.join(file)).unwrap();
        for l in text.lines().filter(|l| l.contains("Command::new(")) {
            assert!(l.contains("aplay") || l.contains("espeak"), "{file} starts something else: {l}");
        }
    }
}
