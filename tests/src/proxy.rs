//! A fault-injecting TCP proxy for HTTP/1.1 between a client and a server on loopback.
//!
//! Each accepted connection reads one request and then behaves as the current [`Fault`] says.
//! The fault can be changed at any time; `forwarded()` counts requests that reached the server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Pass everything through.
    None,
    /// Close the connection without answering (and without forwarding).
    Drop,
    /// Forward, then hold the answer back for this long (past the client's timeout).
    Delay(Duration),
    /// Forward, then send only the first half of the answer and close.
    Cut,
    /// Answer HTTP 500 without forwarding.
    ServerError,
    /// Answer HTTP 200 with a body that is not JSON, without forwarding.
    Garbage,
    /// Forward, then answer HTTP 200 with garbage instead of the server's answer.
    GarbageAfterForward,
}

#[derive(Debug, Clone)]
pub struct Proxy {
    pub addr: String,
    fault: Arc<Mutex<Fault>>,
    forwarded: Arc<AtomicUsize>,
}

impl Proxy {
    /// Starts a proxy to `upstream` on a free loopback port.
    pub async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address").to_string();
        let fault = Arc::new(Mutex::new(Fault::None));
        let forwarded = Arc::new(AtomicUsize::new(0));
        let p = Proxy { addr, fault: fault.clone(), forwarded: forwarded.clone() };
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, fault, forwarded) = (upstream.clone(), fault.clone(), forwarded.clone());
                tokio::spawn(async move {
                    let f = *fault.lock().expect("fault lock");
                    let _ = handle(client, &upstream, f, &forwarded).await;
                });
            }
        });
        p
    }

    pub fn set(&self, f: Fault) {
        *self.fault.lock().expect("fault lock") = f;
    }

    pub fn forwarded(&self) -> usize {
        self.forwarded.load(Ordering::SeqCst)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Reads one HTTP request (head + Content-Length body).
async fn read_request(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Ok(buf);
            }
        }
    }
}

/// Forwards one request with `Connection: close` and returns the whole answer.
async fn forward(request: &[u8], upstream: &str) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).await?;
    let text = String::from_utf8_lossy(request);
    // One request per upstream connection keeps the proxy simple and the answer bounded.
    let patched = if text.to_ascii_lowercase().contains("\r\nconnection:") {
        request.to_vec()
    } else {
        text.replacen("\r\n", "\r\nConnection: close\r\n", 1).into_bytes()
    };
    up.write_all(&patched).await?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).await?;
    Ok(answer)
}

async fn handle(
    mut client: TcpStream,
    upstream: &str,
    fault: Fault,
    forwarded: &AtomicUsize,
) -> std::io::Result<()> {
    let request = read_request(&mut client).await?;
    if request.is_empty() {
        return Ok(());
    }
    let garbage = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\nConnection: close\r\n\r\n<html>oops</html>";
    match fault {
        Fault::Drop => Ok(()),
        Fault::ServerError => {
            client
                .write_all(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await
        }
        Fault::Garbage => client.write_all(garbage).await,
        Fault::None | Fault::Delay(_) | Fault::Cut | Fault::GarbageAfterForward => {
            let answer = forward(&request, upstream).await?;
            forwarded.fetch_add(1, Ordering::SeqCst);
            match fault {
                Fault::Delay(d) => {
                    tokio::time::sleep(d).await;
                    client.write_all(&answer).await
                }
                Fault::Cut => client.write_all(&answer[..answer.len() / 2]).await,
                Fault::GarbageAfterForward => client.write_all(garbage).await,
                _ => client.write_all(&answer).await,
            }
        }
    }
}
