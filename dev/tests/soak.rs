//! The 1,000-visit soak `make test` runs (`make soak` runs 10,000 in release): `infomat-dev
//! soak` as a process, central as another (`central serve`, built beside it by `cargo test
//! --workspace`), the virtual printer and scanner. It fails on a stuck session, a ticket or
//! booking unaccounted for on either side, or more than 2 MB of growth after warm-up.

#[test]
fn a_thousand_visits_end_clean_and_account_for_every_ticket() {
    let exe = std::path::PathBuf::from(env!("CARGO_BIN_EXE_infomat-dev"));
    if !exe.with_file_name("central").exists() {
        panic!(
            "{} is missing: the soak runs central as its own process; build it with `cargo build -p central` \
             (`cargo test --workspace` does)",
            exe.with_file_name("central").display()
        );
    }
    let out = std::process::Command::new(exe).args(["soak", "--sessions", "1000"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("soak: 1000 visits"), "{text}");
    eprintln!("{text}");
}
