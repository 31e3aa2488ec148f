//! The binary as a technician meets it: exit codes and messages.

use std::process::Command;

fn kiosk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kiosk"))
}

#[test]
fn a_bad_config_exits_2_naming_file_and_key() {
    let dir = std::env::temp_dir().join(format!("infomat-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("kiosk.toml");
    std::fs::write(&file, "[kiosk]\nid = 2\nlpu_id = 1\n[central]\nurl = \"ftp://x\"\ntoken = \"t\"\n").unwrap();
    let out = kiosk().args(["run", "--config"]).arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}: central.url: an http:// or https:// URL", file.display())), "{err}");
    let out = kiosk().args(["run", "--config", "/nonexistent/kiosk.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_example_config_checks_out() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/kiosk.example.toml");
    let out = kiosk().args(["check-config", "--config", example]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("valid"));
    assert!(!text.contains("example-kiosk-token"), "the token must not be printed");
}

#[test]
fn headless_demo_succeeds_and_masks_patients() {
    let out = kiosk().args(["demo", "--headless"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[ticket]") && text.contains("[booked]") && text.contains("[cancelled]"), "{text}");
    assert!(text.contains("every flow ended where it should"));
    // The demo patients' surnames appear masked only.
    assert!(!text.contains("ПЕТРОВА") && !text.contains("СИДОРОВ"), "{text}");
}
