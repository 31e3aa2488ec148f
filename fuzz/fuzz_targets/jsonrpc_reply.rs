//! The kiosk's response parser: every method's result type it reads from central, and feed
//! frames.
#![no_main]
use libfuzzer_sys::fuzz_target;
use protocol::{FeedEvent, Method, MethodVisitor, Rpc, decode_reply};

struct Reply<'a>(&'a [u8]);

impl MethodVisitor for Reply<'_> {
    fn visit<M: Rpc>(&mut self) {
        let _ = decode_reply::<M::Result>(M::METHOD.name(), self.0);
    }
}

fuzz_target!(|data: &[u8]| {
    for &m in Method::ALL {
        m.visit(&mut Reply(data));
    }
    let _ = serde_json::from_slice::<FeedEvent>(data);
});
