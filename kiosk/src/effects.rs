//! The one place the session's effects are carried out.
//!
//! [`Effects::run`] turns each [`Effect`] into a job for a port: [`CentralPort`] (the central
//! API, with the offline journal behind it) or [`PrinterPort`] (the ticket printer). A port
//! never answers in the caller's stack frame with a return value: every answer is an [`Event`]
//! sent to the runtime's [`EventSink`], exactly one per job, so the runtime can count what is
//! still on its way ([`Effects::run`] returns how many answers to expect). Production, the
//! headless demo, screenshots and the UI tests all go through this function; they differ only
//! in the ports they plug in (`runtime` for devices and central, `modes::screenshot` for the
//! stand-in clinic).

use std::sync::{Arc, OnceLock, mpsc};
use std::time::Duration;

use crate::session::{CentralCall, Credentials, Effect, Event, PrintDoc, RequestId, ServiceCommand};

/// What arrives at the runtime: an answer to an effect it started, or news it did not ask for
/// (a card read, a scan).
#[derive(Debug)]
pub enum Message {
    Answer(Event),
    News(Event),
}

type Waker = Box<dyn Fn() + Send + Sync>;

/// Where ports and device threads send events; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct EventSink {
    tx: mpsc::Sender<Message>,
    /// Wakes the runtime's loop at once (the window's event loop); without one, the loop finds
    /// the message on its next poll.
    wake: Arc<OnceLock<Waker>>,
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink").field("waker", &self.wake.get().is_some()).finish()
    }
}

impl EventSink {
    fn send(&self, m: Message) -> bool {
        let sent = self.tx.send(m).is_ok();
        if let (true, Some(wake)) = (sent, self.wake.get()) {
            wake();
        }
        sent
    }

    /// The answer to a job; returns false when the runtime is gone (the thread should stop).
    pub fn answer(&self, ev: Event) -> bool {
        self.send(Message::Answer(ev))
    }

    /// Something that happened by itself; false when the runtime is gone.
    pub fn news(&self, ev: Event) -> bool {
        self.send(Message::News(ev))
    }

    /// Sets what wakes the runtime after each message (once; later calls are ignored).
    pub fn set_waker(&self, wake: Waker) {
        let _ = self.wake.set(wake);
    }
}

/// The runtime's end of the event channel.
#[derive(Debug)]
pub struct EventSource(mpsc::Receiver<Message>);

impl EventSource {
    pub fn try_next(&self) -> Option<Message> {
        self.0.try_recv().ok()
    }

    /// Waits up to `timeout` for the next message.
    pub fn next_within(&self, timeout: Duration) -> Option<Message> {
        self.0.recv_timeout(timeout).ok()
    }
}

pub fn channel() -> (EventSink, EventSource) {
    let (tx, rx) = mpsc::channel();
    (EventSink { tx, wake: Arc::new(OnceLock::new()) }, EventSource(rx))
}

/// One session call for central.
#[derive(Debug, Clone)]
pub struct CentralJob {
    pub req: RequestId,
    pub credentials: Credentials,
    pub call: CentralCall,
}

/// Service-screen commands that go to central; answered with one `Event::ServiceReport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CentralService {
    Ping,
    SyncJournal,
}

/// Central as the effect runner sees it.
pub trait CentralPort {
    /// Starts a call; its answer is one `Event::Central` with the same `req`.
    fn call(&self, job: CentralJob);
    fn service(&self, what: CentralService);
}

/// A printer job; each is answered with exactly one event.
#[derive(Debug)]
pub enum PrinterJob {
    /// Answered with `Printed` or `PrintFailed`.
    Print { req: RequestId, doc: Box<PrintDoc> },
    /// Answered with `Printer(health)`.
    Check,
    /// Answered with a `ServiceReport` line.
    TestPage,
    /// Answered with a `ServiceReport` line.
    ReprintLast,
}

pub trait PrinterPort {
    fn submit(&self, job: PrinterJob);
}

/// Carries out effects through the ports.
pub struct Effects {
    central: Box<dyn CentralPort>,
    printer: Box<dyn PrinterPort>,
    /// The service screen's "restart": production exits for systemd to restart the unit.
    restart: Box<dyn Fn()>,
}

impl std::fmt::Debug for Effects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Effects").finish_non_exhaustive()
    }
}

impl Effects {
    pub fn new(
        central: Box<dyn CentralPort>,
        printer: Box<dyn PrinterPort>,
        restart: Box<dyn Fn()>,
    ) -> Effects {
        Effects { central, printer, restart }
    }

    /// Starts every effect; returns how many answers will come back to the sink.
    pub fn run(&self, effects: Vec<Effect>) -> usize {
        let mut answers = 0;
        for e in effects {
            match e {
                Effect::Central { req, credentials, call } => {
                    self.central.call(CentralJob { req, credentials, call });
                    answers += 1;
                }
                Effect::Print { req, doc, .. } => {
                    self.printer.submit(PrinterJob::Print { req, doc: Box::new(doc) });
                    answers += 1;
                }
                Effect::CheckPrinter => {
                    self.printer.submit(PrinterJob::Check);
                    answers += 1;
                }
                Effect::Service(ServiceCommand::TestPage) => {
                    self.printer.submit(PrinterJob::TestPage);
                    answers += 1;
                }
                Effect::Service(ServiceCommand::ReprintLast) => {
                    self.printer.submit(PrinterJob::ReprintLast);
                    answers += 1;
                }
                Effect::Service(ServiceCommand::SelfTest) => {
                    self.printer.submit(PrinterJob::Check);
                    self.central.service(CentralService::Ping);
                    answers += 2;
                }
                Effect::Service(ServiceCommand::SyncJournal) => {
                    self.central.service(CentralService::SyncJournal);
                    answers += 1;
                }
                Effect::Service(ServiceCommand::Restart) => {
                    log::warn!("restart requested from the service screen");
                    (self.restart)();
                }
                // Both are the core's own business (counters, the heartbeat), not a device's.
                Effect::SessionEnded | Effect::CallStaff => {}
            }
        }
        answers
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::session::{CentralError, PrinterHealth};

    /// Ports that answer at once, and remember what they were asked.
    struct Recorder {
        sink: EventSink,
        seen: Rc<RefCell<Vec<String>>>,
    }

    impl CentralPort for Recorder {
        fn call(&self, job: CentralJob) {
            self.seen.borrow_mut().push(format!("central {:?}", job.call));
            self.sink.answer(Event::Central { req: job.req, result: Err(CentralError::Unreachable) });
        }
        fn service(&self, what: CentralService) {
            self.seen.borrow_mut().push(format!("central {what:?}"));
            self.sink.answer(Event::ServiceReport(format!("{what:?}")));
        }
    }

    impl PrinterPort for Recorder {
        fn submit(&self, job: PrinterJob) {
            self.seen.borrow_mut().push(format!("printer {job:?}"));
            self.sink.answer(Event::Printer(PrinterHealth::Ready));
        }
    }

    #[test]
    fn every_effect_reaches_its_port_and_the_answers_are_counted() {
        let (sink, source) = channel();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let restarted = Rc::new(RefCell::new(false));
        let r = restarted.clone();
        let fx = Effects::new(
            Box::new(Recorder { sink: sink.clone(), seen: seen.clone() }),
            Box::new(Recorder { sink, seen: seen.clone() }),
            Box::new(move || *r.borrow_mut() = true),
        );
        let n = fx.run(vec![
            Effect::CheckPrinter,
            Effect::Service(ServiceCommand::SelfTest),
            Effect::Service(ServiceCommand::SyncJournal),
            Effect::Service(ServiceCommand::Restart),
            Effect::SessionEnded,
        ]);
        assert_eq!(n, 4);
        let mut answered = 0;
        while source.try_next().is_some() {
            answered += 1;
        }
        assert_eq!(answered, n, "one answer per job: {:?}", seen.borrow());
        assert!(*restarted.borrow());
        assert_eq!(seen.borrow().len(), 4);
    }
}
