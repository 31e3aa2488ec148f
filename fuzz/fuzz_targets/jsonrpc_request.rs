//! Central's request parser: the envelope, then every method's parameters.
#![no_main]
use domain::wire::{self, *};
use libfuzzer_sys::fuzz_target;

fn params<T: serde::de::DeserializeOwned>(v: &serde_json::Value) {
    let _ = serde_json::from_value::<T>(v.clone());
}

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = wire::parse_request(data) {
        let p = &req.params;
        params::<PatientParams>(p);
        params::<DoctorsParams>(p);
        params::<ScheduleParams>(p);
        params::<BookParams>(p);
        params::<CancelParams>(p);
        params::<EnqueueParams>(p);
        params::<LpuParams>(p);
        params::<CallNextParams>(p);
        params::<TicketParams>(p);
        params::<SyncParams>(p);
    }
    let _ = serde_json::from_slice::<FeedRequest>(data);
});
