//! From the session's print documents and the configuration to the printer driver's terms.

use domain::{DateTime, DeviceErrorKind, LdpKind};
use drivers::link::Opener;
use drivers::printer::codepage::CodePage;
use drivers::printer::layout::{
    self, AppointmentTicket, LayoutConfig, Paper, TextMode, TicketDoc, WalkInTicket,
};
use drivers::printer::status::PrinterStatus;

use crate::config::{CodePageName, KioskConfig, PrinterConfig};
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
            estimate_minutes: t.estimated_wait_minutes,
            estimate_range: t.wait_range,
            room: t.room.clone(),
            ticket_id: t.ticket_id.clone(),
            offline: t.offline,
        }),
        PrintDoc::Appointment { appointment: a, patient } => TicketDoc::Appointment(AppointmentTicket {
            clinic: a.lpu_name.clone(),
            address: a.lpu_address.clone(),
            heading: match a.ldp {
                None => "ЗАПИСЬ К ВРАЧУ",
                Some(LdpKind::Lab) => "ЗАПИСЬ НА АНАЛИЗ",
                Some(LdpKind::Diagnostic) => "ЗАПИСЬ НА ИССЛЕДОВАНИЕ",
                Some(LdpKind::Procedure) => "ЗАПИСЬ НА ПРОЦЕДУРУ",
            }
            .to_owned(),
            speciality: a.speciality_name.clone(),
            // A doctor by surname and initials; a room by its name ("Процедурный кабинет").
            doctor: match a.ldp {
                None => layout::surname_with_initials(&a.doctor_name),
                Some(_) => a.doctor_name.clone(),
            },
            cabinet: a.room.clone(),
            // The weekday first, as on screen: "is that my Thursday?"; the date in figures to
            // fit one double-size line on 80 mm (24 characters) with the year paper outlives.
            when: format!(
                "{}, {}, {}",
                a.start.date.weekday_ru(),
                a.start.date.to_ru_string(),
                a.start.hhmm()
            ),
            number: a.number.clone(),
            patient: patient.surname_and_initials(),
            appointment_id: a.id.0,
            cancel_hint: if kiosk.registry_phone.is_empty() {
                "в инфомате".to_owned()
            } else {
                format!("в инфомате или по телефону {}", kiosk.registry_phone)
            },
            preparation: a.preparation.clone(),
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

/// The printer's side of the session: one blocking driver, the documents laid out with the
/// configured paper and code page, and the last ticket's bytes kept in memory (only) for the
/// technician's "reprint last ticket". The kiosk runtime owns one on its printer thread; the
/// headless rig calls it directly.
pub struct PrinterWorker {
    driver: drivers::printer::driver::PrinterDriver,
    layout: LayoutConfig,
    model: String,
    kiosk: KioskConfig,
    last: Option<Vec<u8>>,
}

impl std::fmt::Debug for PrinterWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrinterWorker").field("model", &self.model).finish_non_exhaustive()
    }
}

impl PrinterWorker {
    pub fn new(opener: Box<dyn Opener>, layout: LayoutConfig, model: String, kiosk: KioskConfig) -> Self {
        let driver = drivers::printer::driver::PrinterDriver::new(
            opener,
            drivers::printer::driver::DriverConfig::default(),
        );
        PrinterWorker { driver, layout, model, kiosk, last: None }
    }

    /// Prints a session document; the answer is the event the session waits for.
    pub fn print(&mut self, req: crate::session::RequestId, doc: &PrintDoc) -> crate::session::Event {
        use crate::session::Event;
        let ticket = ticket_doc(doc, &self.kiosk);
        let outcome =
            layout::encode(&ticket, self.layout).map_err(|_| DeviceErrorKind::BadData).and_then(|bytes| {
                self.last = Some(bytes.clone());
                self.driver.print(&bytes).map_err(|e| {
                    log::warn!("printer: {e}");
                    e.kind()
                })
            });
        match outcome {
            Ok(_) => Event::Printed { req },
            Err(kind) => Event::PrintFailed { req, kind },
        }
    }

    pub fn health(&mut self) -> PrinterHealth {
        match self.driver.status() {
            Ok((s, _)) => printer_health(s),
            Err(e) => PrinterHealth::Unavailable(e.kind()),
        }
    }

    /// The code-page test page (service screen); a line for the technician.
    pub fn test_page(&mut self) -> String {
        let page = TicketDoc::TestPage(layout::TestPage {
            model: self.model.clone(),
            candidates: vec![(CodePage::Pc866, 17), (CodePage::Pc866, 7), (CodePage::Wpc1251, 46)],
        });
        match layout::encode(&page, self.layout).map(|b| self.driver.print(&b)) {
            Ok(Ok(_)) => "test page printed".to_owned(),
            Ok(Err(e)) => format!("test page failed: {e}"),
            Err(e) => format!("test page failed: {e}"),
        }
    }

    /// The last ticket again, byte for byte (service screen); a line for the technician.
    pub fn reprint_last(&mut self) -> String {
        match &self.last {
            None => "nothing printed since start".to_owned(),
            Some(b) => match self.driver.print(b) {
                Ok(_) => "last ticket reprinted".to_owned(),
                Err(e) => format!("reprint failed: {e}"),
            },
        }
    }
}
