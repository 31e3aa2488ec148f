//! A scripted link for tests (embedded-hal's mock transactions, for byte streams): the test
//! lists what the device must receive and what it answers; anything unexpected fails, and
//! [`Script::done`] fails if steps were left unused.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{Link, LinkError, Opener};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The host must write exactly these bytes next.
    Expect(Vec<u8>),
    /// The device makes these bytes readable.
    Answer(Vec<u8>),
    /// The next write fails as if the cable were pulled.
    Unplug,
}

#[derive(Debug, Default)]
struct Inner {
    steps: VecDeque<Step>,
    readable: VecDeque<u8>,
    written: Vec<u8>,
    unplugged: bool,
    opens: usize,
}

/// The shared script; clone it into an opener and keep a handle to check it.
#[derive(Debug, Clone, Default)]
pub struct Script(Arc<Mutex<Inner>>);

impl Script {
    pub fn new(steps: impl IntoIterator<Item = Step>) -> Script {
        let s = Script::default();
        s.0.lock().expect("script lock").steps.extend(steps);
        s
    }

    /// Bytes waiting in the link before the test starts (stale answers, noise).
    pub fn preload(&self, bytes: &[u8]) {
        self.0.lock().expect("script lock").readable.extend(bytes);
    }

    /// Everything the host wrote.
    pub fn written(&self) -> Vec<u8> {
        self.0.lock().expect("script lock").written.clone()
    }

    pub fn opens(&self) -> usize {
        self.0.lock().expect("script lock").opens
    }

    /// Panics unless every step was used.
    pub fn done(&self) {
        let inner = self.0.lock().expect("script lock");
        assert!(inner.steps.is_empty(), "script steps left unused: {:?}", inner.steps);
    }

    fn advance(inner: &mut Inner) {
        while let Some(Step::Answer(a)) = inner.steps.front() {
            let a = a.clone();
            inner.readable.extend(a);
            inner.steps.pop_front();
        }
    }
}

#[derive(Debug)]
struct ScriptedLink(Script);

impl Read for ScriptedLink {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut inner = self.0.0.lock().expect("script lock");
        if inner.unplugged {
            return Err(io::Error::from(ErrorKind::BrokenPipe));
        }
        Script::advance(&mut inner);
        if inner.readable.is_empty() {
            // Nothing to read: the read timeout passes at once, tests need not wait.
            return Err(io::Error::from(ErrorKind::TimedOut));
        }
        let n = buf.len().min(inner.readable.len());
        for slot in buf.iter_mut().take(n) {
            *slot = inner.readable.pop_front().expect("checked non-empty");
        }
        Ok(n)
    }
}

impl Write for ScriptedLink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut inner = self.0.0.lock().expect("script lock");
        if inner.unplugged {
            return Err(io::Error::from(ErrorKind::BrokenPipe));
        }
        match inner.steps.pop_front() {
            Some(Step::Expect(want)) => {
                assert!(
                    buf.starts_with(&want) || want.starts_with(buf),
                    "host wrote {buf:02X?}, script expected {want:02X?}"
                );
                if buf.len() < want.len() {
                    inner.steps.push_front(Step::Expect(want[buf.len()..].to_vec()));
                }
                let n = buf.len().min(want.len());
                inner.written.extend_from_slice(&buf[..n]);
                Script::advance(&mut inner);
                Ok(n)
            }
            Some(Step::Unplug) => {
                inner.unplugged = true;
                Err(io::Error::from(ErrorKind::BrokenPipe))
            }
            other => panic!("host wrote {buf:02X?} but the script says {other:?}"),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Link for ScriptedLink {
    fn set_read_timeout(&mut self, _timeout: Duration) -> io::Result<()> {
        Ok(())
    }
}

impl Opener for Script {
    fn open(&self) -> Result<Box<dyn Link>, LinkError> {
        let mut inner = self.0.lock().expect("script lock");
        inner.unplugged = false;
        inner.opens += 1;
        Ok(Box::new(ScriptedLink(self.clone())))
    }
    fn describe(&self) -> String {
        "scripted link".into()
    }
}
