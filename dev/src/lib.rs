//! Infomat's development harness: never packaged, never on a kiosk.
//!
//! Map of the crate:
//! - [`rig`]: the kiosk's real peers on loopback ([`rig::Peers`]): central in-process on
//!   SQLite with the demo seed, the virtual printer on TCP, the virtual scanner on a
//!   pseudo-terminal, the virtual CCID reader; and a production `Setup` pointed at them.
//! - [`script`]: scripted visits through the production runtime without a window.
//! - [`demo`]: `infomat-dev demo` (headless script, or the window with the board beside it).
//! - [`soak`]: `infomat-dev soak`, thousands of visits with accounting at the end.
//! - [`webdriver`]: a W3C WebDriver client for the staff console's browser tests.
//!
//! The UI flow tests (`dev/tests/`) start `kiosk::runtime::Runtime` on these peers and press
//! its buttons by accessible label.

pub mod demo;
pub mod rig;
pub mod script;
pub mod soak;
pub mod webdriver;

/// The `kiosk` binary of the same build: beside this program, or one level up from a test's
/// or benchmark's `deps/` directory. `cargo build -p kiosk` (or any workspace build) makes it.
pub fn kiosk_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    let beside = dir.join("kiosk");
    if beside.exists() || dir.file_name().is_none_or(|n| n != "deps") {
        return beside;
    }
    dir.parent().map_or(beside, |up| up.join("kiosk"))
}
