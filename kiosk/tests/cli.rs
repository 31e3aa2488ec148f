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
    std::fs::write(&file, "[kiosk]\nid = 2\nlpu_id = 1\n[central]\nurl = \"ftp://x\"\ntoken = \"t\"\n")
        .unwrap();
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
fn decode_policy_prints_exactly_the_documented_keys() {
    use domain::{Date, Enp, FullName, Sex};
    use drivers::card::barcode::BarcodeType;
    let bytes = drivers::sim::scanner::policy_barcode(
        BarcodeType::T01,
        Enp::parse("7700000000000016").unwrap(),
        &FullName::new("АЛПАТОВА", "ВАЛЕНТИНА", Some("АЛЕКСАНДРОВНА")),
        Sex::Female,
        Date::from_ymd(1949, 3, 5).unwrap(),
        Some(Date::from_ymd(2030, 1, 1).unwrap()),
    )
    .unwrap();
    let dir = std::env::temp_dir().join(format!("infomat-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("scan.bin");
    // Scanners may append a suffix: the decoder takes the first 130 bytes.
    std::fs::write(&file, [bytes.as_slice(), b"\r\n"].concat()).unwrap();
    let out = kiosk().arg("decode-policy").arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "birth_date",
            "enp",
            "enp_checksum_ok",
            "expiry_date",
            "first_name",
            "last_name",
            "middle_name",
            "ogrn",
            "okato",
            "sex",
            "type"
        ]
    );
    assert_eq!(v["type"], 1);
    assert_eq!(v["enp"], "7700000000000016");
    assert_eq!(v["enp_checksum_ok"], true);
    assert_eq!(v["last_name"], "АЛПАТОВА");
    assert_eq!(v["first_name"], "ВАЛЕНТИНА");
    assert_eq!(v["middle_name"], "АЛЕКСАНДРОВНА");
    assert_eq!(v["sex"], "female");
    assert_eq!(v["birth_date"], "1949-03-05");
    assert_eq!(v["expiry_date"], "2030-01-01");
    assert_eq!(v["ogrn"], "1027739008440");
    assert_eq!(v["okato"], "45000");

    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let out = kiosk().args(["decode-policy", "--hex", &hex]).output().unwrap();
    assert!(out.status.success());

    for bad in ["68656c6c6f", "02", "zz"] {
        let out = kiosk().args(["decode-policy", "--hex", bad]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
