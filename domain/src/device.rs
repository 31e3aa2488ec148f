//! The shared vocabulary of device faults.
//!
//! Each driver has its own rich error enum written for technicians; every such error also
//! maps to one of these kinds, and code outside `drivers` (the session, self-test, health)
//! matches only on the kind.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceErrorKind {
    /// The link is gone (unplugged, port closed, peer hung up).
    Disconnected,
    /// The device did not answer in time.
    Timeout,
    /// The device answered with something that cannot be understood.
    BadData,
    PaperOut,
    CoverOpen,
    /// The device reports it is offline or in an error state not covered above.
    DeviceError,
    /// The device is busy (another job, a card being read).
    Busy,
    /// The operation is not supported by this device or model.
    Unsupported,
    /// Configuration or permissions (wrong path, no access to the device node).
    Setup,
}

impl fmt::Display for DeviceErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceErrorKind::Disconnected => "disconnected",
            DeviceErrorKind::Timeout => "timeout",
            DeviceErrorKind::BadData => "bad data",
            DeviceErrorKind::PaperOut => "paper out",
            DeviceErrorKind::CoverOpen => "cover open",
            DeviceErrorKind::DeviceError => "device error",
            DeviceErrorKind::Busy => "busy",
            DeviceErrorKind::Unsupported => "unsupported",
            DeviceErrorKind::Setup => "setup",
        })
    }
}
