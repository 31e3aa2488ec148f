//! From the session's print documents and the configuration to the printer driver's terms.

use std::time::Duration;

use domain::{DateTime, DeviceErrorKind};
use drivers::link::{FileOpener, Opener, SerialOpener, TcpOpener};
use drivers::printer::codepage::CodePage;
use drivers::printer::driver::usb::UsbPrinterOpener;
use drivers::printer::layout::{
    self, AppointmentTicket, LayoutConfig, Paper, TextMode, TicketDoc, WalkInTicket,
};
use drivers::printer::status::PrinterStatus;

use crate::config::{CodePageName, KioskConfig, LinkConfig, PrinterConfig};
use crate::session::{PrintDoc, PrinterHealth};

pub fn layout_config(p: &PrinterConfig) -> LayoutConfig {
    LayoutConfig {
        // Validation admits only 58 and 80.
        paper: Paper::from_mm(p.paper_width_mm).unwrap_or(Paper::Mm80),
        text: match p.codepage.name {
            CodePageName::Cp866 => TextMode::CodePage { page: CodePage::Pc866, number: p.codepage.number },
            CodePageName::Wpc1251 => {
                TextMode::CodePage { page: CodePage::Wpc1251, number: p.codepage.number }
            }
            CodePageName::Raster => TextMode::Raster,
        },
    }
}

/// The opener for a configured link; `None` for `sim`, which the caller provides itself.
pub fn opener(link: &LinkConfig) -> Option<Box<dyn Opener>> {
    Some(match link {
        LinkConfig::Usb(id) => {
            Box::new(UsbPrinterOpener { vid: id.vid, pid: id.pid, detach_kernel_driver: true })
        }
        LinkConfig::Serial { path, baud } => Box::new(SerialOpener { path: path.clone(), baud: *baud }),
        LinkConfig::Tcp { address } => {
            Box::new(TcpOpener { address: address.clone(), connect_timeout: Duration::from_secs(2) })
        }
        LinkConfig::File { path } => Box::new(FileOpener { path: path.clone() }),
        LinkConfig::Sim => return None,
    })
}

fn when(t: DateTime) -> String {
    format!("{} {}", t.date.to_ru_string(), t.hhmm())
}

/// What goes on paper for a session's document. Only surname and initials of the patient.
pub fn ticket_doc(doc: &PrintDoc, kiosk: &KioskConfig) -> TicketDoc {
    match doc {
        PrintDoc::WalkIn(t) => TicketDoc::WalkIn(WalkInTicket {
            clinic: kiosk.clinic_name.clone(),
            number: t.number.to_string(),
            issued: when(t.issued_at),
            ahead: t.position,
            ticket_id: t.ticket_id.clone(),
            offline: t.offline,
        }),
        PrintDoc::Appointment { appointment: a, patient } => TicketDoc::Appointment(AppointmentTicket {
            clinic: a.lpu_name.clone(),
            address: a.lpu_address.clone(),
            speciality: a.speciality_name.clone(),
            doctor: layout::surname_with_initials(&a.doctor_name),
            cabinet: a.room.clone(),
            when: when(a.start),
            number: a.number.clone(),
            patient: patient.surname_and_initials(),
            appointment_id: a.id.0,
            cancel_hint: if kiosk.registry_phone.is_empty() {
                "в инфомате".to_owned()
            } else {
                format!("в инфомате или по телефону {}", kiosk.registry_phone)
            },
        }),
    }
}

/// What the session needs to know of a printer status (warn the patient before confirming).
pub fn printer_health(s: PrinterStatus) -> PrinterHealth {
    match s {
        PrinterStatus::Ready => PrinterHealth::Ready,
        PrinterStatus::PaperNearEnd => PrinterHealth::PaperLow,
        PrinterStatus::Unknown => PrinterHealth::Unknown,
        PrinterStatus::PaperOut => PrinterHealth::Unavailable(DeviceErrorKind::PaperOut),
        PrinterStatus::CoverOpen => PrinterHealth::Unavailable(DeviceErrorKind::CoverOpen),
        PrinterStatus::Offline | PrinterStatus::Error => {
            PrinterHealth::Unavailable(DeviceErrorKind::DeviceError)
        }
    }
}
