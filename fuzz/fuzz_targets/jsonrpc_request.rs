//! Central's request parser: the envelope, then every method's parameters.
#![no_main]
use libfuzzer_sys::fuzz_target;
use protocol::{FeedRequest, Method, MethodVisitor, Rpc, parse_request};

struct Params<'a>(&'a serde_json::Value);

impl MethodVisitor for Params<'_> {
    fn visit<M: Rpc>(&mut self) {
        let _ = serde_json::from_value::<M::Params>(self.0.clone());
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = parse_request(data) {
        for &m in Method::ALL {
            m.visit(&mut Params(&req.params));
        }
    }
    let _ = serde_json::from_slice::<FeedRequest>(data);
});
