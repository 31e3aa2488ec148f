//! `kiosk run`: the patient kiosk from its configuration file, on the screen (or offscreen).

use std::path::Path;

use crate::clock::Clock;
use crate::config::{Config, ConfigError};
use crate::devices::{DeviceSetupError, Devices};
use crate::runtime::{Runtime, RuntimeError, Setup};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Devices(#[from] DeviceSetupError),
    #[error("{0}")]
    Runtime(#[from] RuntimeError),
    #[error("offscreen: {0}")]
    Offscreen(#[from] crate::offscreen::OffscreenError),
}

impl super::Failure for RunError {
    fn exit_code(&self) -> u8 {
        match self {
            RunError::Config(_) | RunError::Devices(_) => 2,
            _ => 1,
        }
    }
}

/// The production setup from a validated configuration.
pub fn setup(cfg: &Config) -> Result<Setup, DeviceSetupError> {
    Ok(Setup {
        kiosk: cfg.kiosk.clone(),
        central: cfg.central.clone(),
        session: cfg.session.clone(),
        devices: Devices::from_config(cfg)?,
        journal_dir: cfg.journal_dir.clone(),
        clock: Clock::system(cfg.timezone.clone()),
        health_listen: Some(cfg.health_listen.clone()),
        demo_scan: None,
        restart: None,
        espeak: None,
    })
}

/// Runs the kiosk until its window closes.
pub fn main(config: &Path, offscreen: bool) -> Result<(), RunError> {
    let cfg = crate::config::load(config)?;
    common::logging::init(cfg.log_level);
    log::info!(
        "configuration {} is valid: kiosk {} of clinic {}, central {}, time zone {}",
        config.display(),
        cfg.kiosk.id,
        cfg.kiosk.lpu.0,
        cfg.central.url,
        cfg.timezone.name()
    );
    let setup = setup(&cfg)?;
    let _screen = if offscreen {
        Some(crate::offscreen::Offscreen::install(cfg.screen.width, cfg.screen.height)?)
    } else {
        None
    };
    Ok(Runtime::start(setup)?.run()?)
}
