//! USB printers over raw bulk transfers (rusb, Debian's libusb), for printers the kernel's
//! `usblp` driver does not expose as `/dev/usb/lp*`. Opening needs the udev rule in
//! `deploy/udev` (the kiosk user, not root).

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use super::{Link, LinkError, Opener};

use rusb::{Direction, TransferType, UsbContext};

const PRINTER_CLASS: u8 = 0x07;

#[derive(Debug, Clone)]
pub struct UsbPrinterOpener {
    pub vid: u16,
    pub pid: u16,
    /// Take the interface from the kernel's usblp driver.
    pub detach_kernel_driver: bool,
}

struct UsbLink {
    handle: rusb::DeviceHandle<rusb::Context>,
    ep_out: u8,
    ep_in: Option<u8>,
    timeout: Duration,
}

fn io(e: rusb::Error) -> std::io::Error {
    let kind = match e {
        rusb::Error::Timeout => ErrorKind::TimedOut,
        rusb::Error::NoDevice => ErrorKind::NotConnected,
        rusb::Error::Access => ErrorKind::PermissionDenied,
        rusb::Error::NotFound => ErrorKind::NotFound,
        _ => ErrorKind::Other,
    };
    std::io::Error::new(kind, e)
}

impl Read for UsbLink {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Printers without a bulk-in endpoint cannot answer status: say so as a timeout.
        let Some(ep) = self.ep_in else { return Err(std::io::Error::from(ErrorKind::TimedOut)) };
        self.handle.read_bulk(ep, buf, self.timeout).map_err(io)
    }
}
impl Write for UsbLink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.handle.write_bulk(self.ep_out, buf, Duration::from_secs(5)).map_err(io)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
impl Link for UsbLink {
    fn set_read_timeout(&mut self, timeout: Duration) -> std::io::Result<()> {
        self.timeout = timeout.max(Duration::from_millis(1));
        Ok(())
    }
}

impl Opener for UsbPrinterOpener {
    fn open(&self) -> Result<Box<dyn Link>, LinkError> {
        let what = self.describe();
        let err = |e: rusb::Error| LinkError::from_io(what.clone(), io(e));
        let ctx = rusb::Context::new().map_err(err)?;
        for dev in ctx.devices().map_err(err)?.iter() {
            let Ok(d) = dev.device_descriptor() else { continue };
            if (d.vendor_id(), d.product_id()) != (self.vid, self.pid) {
                continue;
            }
            let cfg = dev.active_config_descriptor().map_err(err)?;
            for iface in cfg.interfaces() {
                for alt in iface.descriptors().filter(|a| a.class_code() == PRINTER_CLASS) {
                    let mut ep_out = None;
                    let mut ep_in = None;
                    for ep in alt.endpoint_descriptors().filter(|e| e.transfer_type() == TransferType::Bulk) {
                        match ep.direction() {
                            Direction::Out => ep_out = ep_out.or(Some(ep.address())),
                            Direction::In => ep_in = ep_in.or(Some(ep.address())),
                        }
                    }
                    let Some(ep_out) = ep_out else { continue };
                    let handle = dev.open().map_err(err)?;
                    let n = alt.interface_number();
                    if self.detach_kernel_driver && handle.kernel_driver_active(n).unwrap_or(false) {
                        handle.detach_kernel_driver(n).map_err(err)?;
                    }
                    handle.claim_interface(n).map_err(err)?;
                    return Ok(Box::new(UsbLink {
                        handle,
                        ep_out,
                        ep_in,
                        timeout: Duration::from_millis(300),
                    }));
                }
            }
        }
        Err(LinkError::NotFound { what })
    }
    fn describe(&self) -> String {
        format!("usb printer {:04x}:{:04x}", self.vid, self.pid)
    }
}
