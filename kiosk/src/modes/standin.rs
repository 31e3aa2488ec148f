//! An in-memory stand-in for central, answering the session's calls the way the real service
//! does: a small clinic with a schedule that shrinks as slots are booked, a queue that numbers
//! tickets, appointments that can be cancelled. Deterministic, so the headless demo prints the
//! same screens every run. (Printing in the demo is real: the virtual printer.)

use std::collections::BTreeMap;

use domain::BirthDate;
use domain::{
    Appointment, AppointmentId, Cabinet, Date, DateTime, Doctor, DoctorId, Enp, LdpKind, LpuId, Patient,
    QueueTicket, Referral, ReferralId, ScheduleDay, Slot, Speciality, TicketNumber, WaitlistOffer,
    WaitlistPlace,
};

use crate::session::{CentralCall, CentralError, Credentials, Reply};

/// The demo clinic.
#[derive(Debug)]
pub struct StandInClinic {
    pub patients: Vec<Patient>,
    specialities: Vec<Speciality>,
    doctors: Vec<Doctor>,
    /// Every patient's referrals: to a cardiologist, a blood test, and an expired one.
    referrals: Vec<Referral>,
    /// A freed slot the waiting list holds for the second patient (until accepted or declined).
    offer: Option<WaitlistOffer>,
    free: BTreeMap<DoctorId, Vec<Slot>>,
    booked: Vec<(Enp, Appointment)>,
    tickets: u32,
    next_appointment: u64,
    today: Date,
}

const LPU: LpuId = LpuId(1);

/// SHA-256 of the demo's service PIN, 1234.
pub const DEMO_PIN_SHA256: [u8; 32] = [
    0x03, 0xac, 0x67, 0x42, 0x16, 0xf3, 0xe1, 0x5c, 0x76, 0x1e, 0xe1, 0xa5, 0xe2, 0x55, 0xf0, 0x67, 0x95,
    0x36, 0x23, 0xc8, 0xb3, 0x88, 0xb4, 0x45, 0x9e, 0x13, 0xf9, 0x78, 0xd7, 0xc8, 0x46, 0xf4,
];

impl StandInClinic {
    pub fn new(today: Date) -> StandInClinic {
        let patient = |i| {
            let d = domain::demo::patient(i);
            Patient {
                enp: d.enp,
                birth_date: BirthDate(d.birth_date),
                name: d.name,
                sex: Some(d.sex),
                attached_lpu: Some(LPU),
            }
        };
        let spec = |code: &str, name: &str, first_level| Speciality {
            code: code.into(),
            name: name.into(),
            first_level,
            male: true,
            female: true,
            attached_elsewhere: None,
        };
        let cabinet =
            |n: &str| Cabinet { number: n.into(), lpu: LPU, address: "ул. Садовая, 12".into() };
        let doctor = |id, name: &str, code: &str, sname: &str, room: &str| Doctor {
            id: DoctorId(id),
            name: name.into(),
            room_only: code.starts_with('5'),
            speciality_code: code.into(),
            speciality_name: sname.into(),
            lpu: LPU,
            nearest_free: today.add_days(1),
            complex_resource_id: Some(id * 10),
            cabinet: Some(cabinet(room)),
        };
        let doctors = vec![
            doctor(101, "Иванова Мария Петровна", "2011", "Терапевт", "214"),
            doctor(102, "Смирнов Олег Игоревич", "2011", "Терапевт", "215"),
            doctor(201, "Кузнецова Елена Сергеевна", "2019", "Офтальмолог", "310"),
            doctor(301, "Попов Андрей Викторович", "2045", "Кардиолог", "402"),
            doctor(1101, "Процедурный кабинет", "5001", "Общий анализ крови", "105"),
            // Booked up for the fortnight: the waiting list's case.
            Doctor {
                nearest_free: None, ..doctor(302, "Фёдоров Николай Ильич", "2007", "Хирург", "121")
            },
        ];
        let referral = |id: u64, code: &str, name: &str, ldp, until| Referral {
            id: ReferralId(100_000_000_000 + id),
            number: format!("НА-{id:05}"),
            speciality_code: code.into(),
            speciality_name: name.into(),
            valid_from: today.add_days(-5).unwrap_or(today),
            valid_until: today.add_days(until).unwrap_or(today),
            lpu_name: "Городская поликлиника № 1".into(),
            active_appointments: 0,
            ldp,
        };
        let referrals = vec![
            referral(1002, "2045", "Кардиолог", None, 30),
            referral(2002, "5001", "Общий анализ крови", Some(LdpKind::Lab), 40),
            referral(3002, "5004", "Физиотерапия", Some(LdpKind::Procedure), -2),
        ];
        let mut free = BTreeMap::new();
        for d in doctors.iter().filter(|d| d.nearest_free.is_some()) {
            let mut slots = Vec::new();
            for day in 1..=3 {
                let date = today.add_days(day).expect("demo days are in range");
                for i in 0..6u32 {
                    let minute = 9 * 60 + i * 20;
                    let start = DateTime::new(date, minute / 60, minute % 60, 180).expect("valid time");
                    let end =
                        DateTime::new(date, (minute + 20) / 60, (minute + 20) % 60, 180).expect("valid time");
                    let room = d.cabinet.as_ref().map(|c| c.number.clone()).unwrap_or_default();
                    slots.push(Slot { start, end, cabinet: room, complex_resource_id: d.id.0 * 10 });
                }
            }
            free.insert(d.id, slots);
        }
        StandInClinic {
            patients: vec![patient(0), patient(1)],
            specialities: vec![
                spec("2011", "Терапевт", true),
                spec("2019", "Офтальмолог", true),
                spec("2045", "Кардиолог", false),
                spec("2007", "Хирург", true),
                // Her dentist is in another clinic: the list says which.
                Speciality {
                    attached_elsewhere: Some("Стоматологическая поликлиника №\u{a0}9, ул. Зелёная, 5".into()),
                    ..spec("2013", "Стоматолог", true)
                },
            ],
            offer: free.get(&DoctorId(101)).and_then(|s| s.get(1)).map(|slot| WaitlistOffer {
                entry: 7,
                speciality_name: "Терапевт".into(),
                doctor_name: "Иванова Мария Петровна".into(),
                address: "ул. Садовая, 12".into(),
                slot: slot.clone(),
            }),
            doctors,
            referrals,
            free,
            booked: Vec::new(),
            tickets: 0,
            next_appointment: 5001,
            today,
        }
    }

    fn find(&self, c: &Credentials) -> Option<&Patient> {
        self.patients.iter().find(|p| p.enp == c.enp && p.birth_date == c.birth_date)
    }

    pub fn answer(&mut self, c: &Credentials, call: &CentralCall) -> Result<Reply, CentralError> {
        // Like the real service: an unknown policy and a wrong birth date look the same.
        let patient = self.find(c).cloned().ok_or(CentralError::PatientNotFound)?;
        Ok(match call {
            CentralCall::Identify => match &self.offer {
                Some(o) if patient.enp == self.patients[1].enp => {
                    Reply::IdentifiedWithOffer(patient, o.clone())
                }
                _ => Reply::Identified(patient),
            },
            CentralCall::JoinWaitlist { speciality_code, .. } => Reply::Joined(WaitlistPlace {
                entry: 8,
                speciality_name: self
                    .specialities
                    .iter()
                    .find(|s| &s.code == speciality_code)
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                position: 3,
            }),
            CentralCall::AcceptOffer { .. } => {
                let o = self.offer.take().ok_or(CentralError::SlotTaken)?;
                Reply::Booked(self.book(&patient, DoctorId(101), &o.slot, None)?)
            }
            CentralCall::DeclineOffer { .. } => {
                self.offer = None;
                Reply::Declined
            }
            CentralCall::Specialities => Reply::Specialities(self.specialities.clone()),
            CentralCall::Doctors { query, .. } => {
                let code = match query {
                    crate::session::DoctorQuery::Speciality { code, .. } => code.clone(),
                    crate::session::DoctorQuery::Referral { id, .. } => {
                        let r = self.referrals.iter().find(|r| r.id == *id);
                        match r.filter(|r| r.valid_on(self.today)) {
                            Some(r) => r.speciality_code.clone(),
                            None => return Err(CentralError::ReferralExpired),
                        }
                    }
                };
                Reply::Doctors(self.doctors.iter().filter(|d| d.speciality_code == code).cloned().collect())
            }
            CentralCall::Schedule { doctor, .. } => {
                let mut days: BTreeMap<Date, Vec<Slot>> = BTreeMap::new();
                for s in self.free.get(doctor).into_iter().flatten() {
                    days.entry(s.start.date).or_default().push(s.clone());
                }
                Reply::Schedule(days.into_iter().map(|(date, slots)| ScheduleDay { date, slots }).collect())
            }
            CentralCall::CreateAppointment { doctor, slot, .. } => {
                Reply::Booked(self.book(&patient, *doctor, slot, None)?)
            }
            CentralCall::ShiftAppointment { appointment, doctor, slot } => {
                Reply::Booked(self.book(&patient, *doctor, slot, Some(*appointment))?)
            }
            CentralCall::CancelAppointment { appointment } => {
                let before = self.booked.len();
                self.booked.retain(|(enp, a)| !(*enp == patient.enp && a.id == *appointment));
                if self.booked.len() == before {
                    return Err(CentralError::AppointmentNotFound);
                }
                Reply::Cancelled
            }
            CentralCall::Appointments => Reply::Appointments(
                self.booked.iter().filter(|(e, _)| *e == patient.enp).map(|(_, a)| a.clone()).collect(),
            ),
            CentralCall::Referrals => Reply::Referrals(self.referrals.clone()),
            // A morning queue: three waiting, about twenty minutes.
            CentralCall::QueueOutlook => Reply::Outlook(crate::session::QueueOutlook {
                waiting: self.tickets + 3,
                wait: Some((18, 10, 25)),
            }),
            CentralCall::EnqueueWalkIn => {
                self.tickets += 1;
                let issued_at = DateTime::new(self.today, 8, 30, 180).expect("valid time");
                Reply::Ticket(QueueTicket {
                    ticket_id: format!("T{}", self.tickets),
                    number: TicketNumber::central(self.tickets),
                    issued_at,
                    // A morning queue: three ahead of the first ticket, a duty cabinet open.
                    position: self.tickets + 2,
                    estimated_wait_minutes: Some(6 * (self.tickets + 2)),
                    wait_range: Some((10, 25)),
                    offline: false,
                    room: Some("214".into()),
                })
            }
        })
    }

    fn book(
        &mut self,
        patient: &Patient,
        doctor: DoctorId,
        slot: &Slot,
        replacing: Option<AppointmentId>,
    ) -> Result<Appointment, CentralError> {
        let d = self.doctors.iter().find(|d| d.id == doctor).cloned().ok_or(CentralError::SlotTaken)?;
        let free = self.free.entry(doctor).or_default();
        let at = free.iter().position(|s| s == slot).ok_or(CentralError::SlotTaken)?;
        free.remove(at);
        if let Some(old) = replacing {
            self.booked.retain(|(_, a)| a.id != old);
        }
        self.next_appointment += 1;
        let a = Appointment {
            id: AppointmentId(self.next_appointment),
            number: format!("{}", self.next_appointment),
            start: slot.start,
            end: slot.end,
            doctor_name: d.name,
            speciality_code: d.speciality_code,
            speciality_name: d.speciality_name,
            room: slot.cabinet.clone(),
            lpu_name: "Городская поликлиника № 1".into(),
            lpu_address: "ул. Садовая, 12".into(),
            ldp: d.room_only.then_some(LdpKind::Lab),
            preparation: if d.room_only {
                "Натощак, воду пить можно.".into()
            } else {
                String::new()
            },
        };
        self.booked.push((patient.enp, a.clone()));
        Ok(a)
    }
}
