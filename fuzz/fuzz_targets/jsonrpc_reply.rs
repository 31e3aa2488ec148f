//! The kiosk's response parser: every result type it reads from central, and feed frames.
#![no_main]
use domain::wire::{self, *};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wire::decode_reply::<PatientInfo>("getPatientInfo3", data);
    let _ = wire::decode_reply::<Vec<SpecialityInfo>>("getSpecialitiesInfo", data);
    let _ = wire::decode_reply::<Vec<DoctorInfo>>("getDoctorsInfo", data);
    let _ = wire::decode_reply::<ScheduleInfo>("getAvailableResourceScheduleInfo", data);
    let _ = wire::decode_reply::<AppointmentCreated>("createAppointment", data);
    let _ = wire::decode_reply::<Vec<Reception>>("getAppointmentReceptionsByPatient", data);
    let _ = wire::decode_reply::<Vec<ReferralInfo>>("getReferralsInfo", data);
    let _ = wire::decode_reply::<Ticket>("enqueueWalkIn", data);
    let _ = wire::decode_reply::<QueueState>("getQueueState", data);
    let _ = wire::decode_reply::<Vec<SyncedTicket>>("syncOfflineTickets", data);
    let _ = serde_json::from_slice::<FeedEvent>(data);
});
