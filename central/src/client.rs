//! A minimal HTTP/1.1 client for loopback tools (`central call-next`) and tests (the browser
//! tests' WebDriver client too): one request per connection, plain `http://` only. Kiosks use
//! a real client (TLS, pooling, retries).

use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("only plain http://HOST:PORT is supported here, got {0}")]
    Url(String),
    #[error("cannot reach {0}: {1}")]
    Connect(String, std::io::Error),
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("central answered {0}")]
    Status(String),
    #[error("central's answer is not JSON-RPC: {0}")]
    Reply(String),
    #[error("central refused: {} ({})", .0.message, .0.string_code().unwrap_or("-"))]
    Refused(Box<protocol::RpcError>),
}

/// One typed call (`call::<protocol::call::CallNext>(...)`).
pub async fn call<M: protocol::Rpc>(
    base: &str,
    token: &str,
    params: &M::Params,
) -> Result<M::Result, ClientError> {
    let method = M::METHOD;
    let body = serde_json::to_vec(&protocol::Request::new(1, method.name(), params))
        .map_err(|e| ClientError::Reply(e.to_string()))?;
    let reply = post_json(base, method.endpoint().path(), token, &body).await?;
    protocol::decode_reply(method.name(), &reply).map_err(|e| match e {
        protocol::ReplyError::Rpc(e) => ClientError::Refused(e),
        protocol::ReplyError::Garbage(e) | protocol::ReplyError::BadResult(e) => ClientError::Reply(e),
    })
}

/// POSTs `body` and returns the response body of a 200 answer.
pub async fn post_json(base: &str, path: &str, token: &str, body: &[u8]) -> Result<Vec<u8>, ClientError> {
    let (status, body) = post(base, path, Some(token), body).await?;
    if status != 200 {
        return Err(ClientError::Status(status.to_string()));
    }
    Ok(body)
}

/// POSTs `body`, returning the status code and body whatever the status.
pub async fn post(
    base: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Result<(u16, Vec<u8>), ClientError> {
    request("POST", base, path, token, body).await
}

/// `method` (GET, POST, DELETE) with a JSON `body` (empty: none), returning the status code
/// and body whatever the status.
pub async fn request(
    method: &str,
    base: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> Result<(u16, Vec<u8>), ClientError> {
    let host =
        base.strip_prefix("http://").ok_or_else(|| ClientError::Url(base.to_owned()))?.trim_end_matches('/');
    let mut s =
        tokio::net::TcpStream::connect(host).await.map_err(|e| ClientError::Connect(host.to_owned(), e))?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    // Read to the end of the answer, not of the connection: a server may keep it open despite
    // `Connection: close` (chromedriver does).
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let split = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(ClientError::Status("no HTTP response".into()));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let lower = head.to_ascii_lowercase();
    let length = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    loop {
        let have = buf.len() - (split + 4);
        let complete = match length {
            Some(len) => have >= len,
            None if lower.contains("transfer-encoding: chunked") => buf.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if complete {
            break;
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let status: u16 = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let mut payload = buf[split + 4..].to_vec();
    if let Some(len) = length {
        if payload.len() < len {
            return Err(ClientError::Status(format!("answer cut short ({} of {len} bytes)", payload.len())));
        }
        payload.truncate(len);
    }
    if lower.contains("transfer-encoding: chunked") {
        payload = dechunk(&payload);
    }
    Ok((status, payload))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 || b.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[(eol + 4 + size).min(b.len())..];
    }
    out
}
