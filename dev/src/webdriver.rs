//! A W3C WebDriver client just big enough for the browser tests: Debian's `chromedriver`
//! driving headless Chromium (packages `chromium` and `chromium-driver`, installed by
//! `make test`). JSON over plain HTTP on loopback, through [`central::client::request`].

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

use central::client::{ClientError, request};

#[derive(Debug, thiserror::Error)]
pub enum WebDriverError {
    #[error(
        "chromedriver did not start ({0}); install Debian's chromium and chromium-driver (make test does)"
    )]
    Start(String),
    #[error("webdriver: {0}")]
    Http(#[from] ClientError),
    #[error("webdriver {command}: {message}")]
    Command { command: String, message: String },
    #[error("screenshot: {0}")]
    Screenshot(String),
}

/// One browser session; [`Browser::close`] ends it (dropping it kills the driver anyway).
#[derive(Debug)]
pub struct Browser {
    base: String,
    session: String,
    driver: tokio::process::Child,
}

impl Browser {
    /// Starts `chromedriver` on a free loopback port and a headless Chromium window of
    /// `width`×`height` CSS pixels.
    pub async fn start(width: u32, height: u32) -> Result<Browser, WebDriverError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| WebDriverError::Start(e.to_string()))?
            .port();
        let driver = tokio::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            // Its own process group, Chromium included: a test that panics takes them all
            // down in `Drop` instead of leaving browsers running.
            .process_group(0)
            .spawn()
            .map_err(|e| WebDriverError::Start(e.to_string()))?;
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match request("GET", &base, "/status", None, b"").await {
                Ok((200, body))
                    if serde_json::from_slice::<Value>(&body).is_ok_and(|v| v["value"]["ready"] == true) =>
                {
                    break;
                }
                _ if Instant::now() > deadline => {
                    return Err(WebDriverError::Start("no answer on its port within 20 s".into()));
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=ru-RU",
                     format!("--window-size={width},{height}"), "--hide-scrollbars"]}}}});
        let mut b = Browser { base, session: String::new(), driver };
        let v = b.send("POST", "/session", caps).await?;
        b.session = v["sessionId"].as_str().unwrap_or_default().to_owned();
        Ok(b)
    }

    async fn send(&self, method: &str, path: &str, body: Value) -> Result<Value, WebDriverError> {
        let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
        let (status, reply) = request(method, &self.base, path, None, &body).await?;
        let v: Value = serde_json::from_slice(&reply).unwrap_or(Value::Null);
        if status != 200 {
            let message = v["value"]["message"].as_str().unwrap_or("no message").to_owned();
            return Err(WebDriverError::Command { command: format!("{method} {path}"), message });
        }
        Ok(v["value"].clone())
    }

    async fn session(&self, method: &str, path: &str, body: Value) -> Result<Value, WebDriverError> {
        self.send(method, &format!("/session/{}{path}", self.session), body).await
    }

    pub async fn goto(&self, url: &str) -> Result<(), WebDriverError> {
        self.session("POST", "/url", json!({"url": url})).await.map(drop)
    }

    pub async fn url(&self) -> Result<String, WebDriverError> {
        Ok(self.session("GET", "/url", Value::Null).await?.as_str().unwrap_or_default().to_owned())
    }

    async fn find(&self, css: &str) -> Result<String, WebDriverError> {
        let v = self.session("POST", "/element", json!({"using": "css selector", "value": css})).await?;
        // An element reference: an object whose one member (named by a fixed UUID) is the id.
        let id = v.as_object().and_then(|o| o.values().next()).and_then(Value::as_str);
        id.map(str::to_owned)
            .ok_or_else(|| WebDriverError::Command { command: format!("find {css}"), message: v.to_string() })
    }

    /// Types `text` into the element `css` selects.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<(), WebDriverError> {
        let id = self.find(css).await?;
        self.session("POST", &format!("/element/{id}/value"), json!({"text": text})).await.map(drop)
    }

    pub async fn click(&self, css: &str) -> Result<(), WebDriverError> {
        let id = self.find(css).await?;
        self.session("POST", &format!("/element/{id}/click"), json!({})).await.map(drop)
    }

    /// Presses and releases one key, as a person at the keyboard does.
    pub async fn press_key(&self, key: &str) -> Result<(), WebDriverError> {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]});
        self.session("POST", "/actions", actions).await.map(drop)
    }

    /// The rendered text of the element `css` selects.
    pub async fn text(&self, css: &str) -> Result<String, WebDriverError> {
        let id = self.find(css).await?;
        Ok(self
            .session("GET", &format!("/element/{id}/text"), Value::Null)
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Runs `script` (a function body; `arguments[0]` is the callback) in the page and waits
    /// for it to call back.
    pub async fn run_async(&self, script: &str) -> Result<Value, WebDriverError> {
        self.session("POST", "/execute/async", json!({"script": script, "args": []})).await
    }

    /// Waits up to `within` for the JavaScript expression `expr` to be true in the page.
    pub async fn wait_for(&self, expr: &str, within: Duration) -> Result<(), WebDriverError> {
        let deadline = Instant::now() + within;
        let script = format!("return Boolean({expr});");
        while self.session("POST", "/execute/sync", json!({"script": script, "args": []})).await?
            != Value::Bool(true)
        {
            if Instant::now() > deadline {
                return Err(WebDriverError::Command {
                    command: "wait".into(),
                    message: format!("{expr} still false"),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// The cookie `name` as the browser keeps it (`httpOnly`, `secure`, `sameSite`...).
    pub async fn cookie(&self, name: &str) -> Result<Value, WebDriverError> {
        self.session("GET", &format!("/cookie/{name}"), Value::Null).await
    }

    /// Waits up to `within` for `css`'s text to be `want`.
    pub async fn wait_text(&self, css: &str, want: &str, within: Duration) -> Result<(), WebDriverError> {
        let deadline = Instant::now() + within;
        loop {
            // Not there yet is waiting too: a form's answer may still be loading after a click.
            let now = match self.text(css).await {
                Ok(t) => t,
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => String::new(),
            };
            if now == want {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(WebDriverError::Command {
                    command: format!("wait for {css}"),
                    message: format!("shows {now:?}, not {want:?}"),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Writes what the window shows as PNG.
    pub async fn screenshot(&self, to: &Path) -> Result<(), WebDriverError> {
        let b64 = self.session("GET", "/screenshot", Value::Null).await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or_default())
            .map_err(|e| WebDriverError::Screenshot(e.to_string()))?;
        std::fs::write(to, png).map_err(|e| WebDriverError::Screenshot(format!("{}: {e}", to.display())))
    }

    /// Ends the session (Chromium exits) and the driver.
    pub async fn close(self) {
        let _ = self.session("DELETE", "", Value::Null).await;
        // Drop kills the driver's process group (Chromium too, should the DELETE have failed).
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}
