//! Central in this process, on a loopback port: the demo's clinic and the peer that kiosk tests,
//! the soak and benchmarks talk to. The same router, store and feed as `central serve`; only
//! the process is shared. It can be stopped and started again on the same port over the same
//! database, which is how tests play "central went down" and "central restarted".

use std::net::SocketAddr;
use std::sync::Arc;

use domain::Date;

use crate::app::{AppState, Clock};
use crate::auth::Tokens;
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("embedded central: database: {0}")]
    Store(#[from] sqlx::Error),
    #[error("embedded central: loopback listener: {0}")]
    Listen(#[from] std::io::Error),
}

/// Adjusts the state before it serves (rate limits, default clinic).
pub type Tune = Arc<dyn Fn(&mut AppState) + Send + Sync>;

/// A running (or stopped) central on loopback. Needs a tokio runtime with IO and time enabled.
pub struct Embedded {
    addr: SocketAddr,
    db: String,
    tokens: Tokens,
    clock: Clock,
    tune: Tune,
    state: Option<Arc<AppState>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl std::fmt::Debug for Embedded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedded").field("addr", &self.addr).field("running", &self.is_running()).finish()
    }
}

impl Embedded {
    /// Opens (creating and seeding with the demo clinic for `today`) the database at `db` — a
    /// path or an sqlx URL — and serves it on a fresh loopback port. It accepts `tokens` (a
    /// map of kiosk tokens to kiosk ids are kiosks of clinic 1) and, being the demo clinic, the
    /// demo tokens of [`crate::auth::demo_tokens`] (`demo-board`, `demo-doctor`, ...).
    pub async fn start(
        db: &str,
        today: Date,
        tokens: impl Into<Tokens>,
        clock: Clock,
        tune: Tune,
    ) -> Result<Embedded, EmbeddedError> {
        let mut tokens: Tokens = tokens.into();
        for (token, who) in crate::auth::demo_tokens_in_clear() {
            // The caller's own binding of a demo token wins.
            let _ = tokens.add(token, who);
        }
        let store = Store::open(db).await?;
        crate::seed::seed(&store, today).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let mut e = Embedded {
            addr: listener.local_addr()?,
            db: db.to_owned(),
            tokens,
            clock,
            tune,
            state: None,
            stop: None,
            task: None,
        };
        e.serve(listener, store);
        Ok(e)
    }

    fn serve(&mut self, listener: tokio::net::TcpListener, store: Store) {
        let mut state = AppState::new(store, self.tokens.clone(), self.clock.clone());
        (self.tune)(&mut state);
        let state = Arc::new(state);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        self.task = Some(tokio::spawn(crate::app::serve(listener, state.clone(), async move {
            let _ = rx.await;
        })));
        self.state = Some(state);
        self.stop = Some(tx);
    }

    /// `http://127.0.0.1:PORT`, the base URL kiosks are configured with.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn is_running(&self) -> bool {
        self.task.is_some()
    }

    /// The serving state (store, feed), while running.
    pub fn state(&self) -> Option<&Arc<AppState>> {
        self.state.as_ref()
    }

    /// Stops as `central serve` does on SIGTERM: open requests finish, feed sockets close, the
    /// port stops accepting.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.state = None;
    }

    /// Starts again on the same port over the same database, as a restarted process would.
    pub async fn restart(&mut self) -> Result<(), EmbeddedError> {
        self.stop().await;
        let store = Store::open(&self.db).await?;
        let listener = tokio::net::TcpListener::bind(self.addr).await?;
        self.serve(listener, store);
        Ok(())
    }
}
