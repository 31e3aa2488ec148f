//! TLS served by central itself (rustls with the ring provider, as the whole workspace), the
//! certificate and key read from PEM files, and a self-signed lab CA (`central cert
//! self-signed`).
//!
//! Handshakes run on their own tasks, each with a deadline, so a client that connects and
//! says nothing delays nobody else's connection.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS certificate {path}: {message}")]
    Cert { path: PathBuf, message: String },
    #[error("TLS key {path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("TLS certificate and key do not go together: {0}")]
    Config(String),
    #[error("cannot make a certificate: {0}")]
    Generate(String),
    #[error("{path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Installs ring as rustls' process-wide provider (the workspace never uses aws-lc); harmless
/// when already installed.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The server configuration from a PEM certificate chain and a PEM private key.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    install_crypto();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| TlsError::Cert { path: cert.into(), message: e.to_string() })?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Cert { path: cert.into(), message: e.to_string() })?;
    if chain.is_empty() {
        return Err(TlsError::Cert { path: cert.into(), message: "no CERTIFICATE block".into() });
    }
    // The key's own error text never quotes the key.
    let key_der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsError::Key { path: key.into(), message: format!("no readable private key ({e})") })?;
    let mut cfg = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// How long a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A listener that hands axum finished TLS connections.
#[derive(Debug)]
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    accept_task: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> TlsListener {
        let local = listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let (tx, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let accept_task = tokio::spawn(async move {
            loop {
                let (tcp, peer) = match listener.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little, as axum does.
                        log::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        // A client that does not trust us, a port scan, plain HTTP: nothing to serve.
                        Ok(Err(e)) => log::debug!("TLS handshake with {peer} failed: {e}"),
                        Err(_) => log::debug!("TLS handshake with {peer} timed out"),
                    }
                });
            }
        });
        TlsListener { local, ready, accept_task }
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // The accept task only ends when the listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// A lab certificate authority and a server certificate it signed, as PEM.
#[derive(Clone)]
pub struct LabCert {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for LabCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabCert").field("key_pem", &"<hidden>").finish_non_exhaustive()
    }
}

/// Makes a CA (its key is thrown away: it signs this one certificate only) and a server
/// certificate for `names` (host names or IP addresses) plus localhost and 127.0.0.1.
pub fn self_signed(names: &[String]) -> Result<LabCert, TlsError> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
    let g = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let ca_key = KeyPair::generate().map_err(g)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(g)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name.push(DnType::CommonName, "Infomat central lab CA");
    let ca_cert = ca.self_signed(&ca_key).map_err(g)?;
    let key = KeyPair::generate().map_err(g)?;
    let mut leaf = CertificateParams::new(Vec::<String>::new()).map_err(g)?;
    leaf.distinguished_name.push(DnType::CommonName, names.first().map_or("localhost", String::as_str));
    let mut all: Vec<String> = vec!["localhost".into(), "127.0.0.1".into()];
    all.extend(names.iter().cloned());
    all.dedup();
    for n in all {
        let san = match n.parse::<std::net::IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(n.clone().try_into().map_err(g)?),
        };
        if !leaf.subject_alt_names.contains(&san) {
            leaf.subject_alt_names.push(san);
        }
    }
    let cert = leaf.signed_by(&key, &ca_cert, &ca_key).map_err(g)?;
    Ok(LabCert { ca_pem: ca_cert.pem(), cert_pem: cert.pem(), key_pem: key.serialize_pem() })
}

impl LabCert {
    /// Writes `ca.pem` (for kiosks' `central.ca_file`), `cert.pem` and `key.pem` (mode 0600)
    /// into `dir`; returns their paths.
    pub fn write(&self, dir: &Path) -> Result<[PathBuf; 3], TlsError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let w = |name: &str, text: &str, mode: u32| -> Result<PathBuf, TlsError> {
            let path = dir.join(name);
            let err = |source| TlsError::Write { path: path.clone(), source };
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(mode)
                .open(&path)
                .map_err(err)?;
            f.write_all(text.as_bytes()).map_err(err)?;
            Ok(path)
        };
        std::fs::create_dir_all(dir).map_err(|source| TlsError::Write { path: dir.into(), source })?;
        Ok([
            w("ca.pem", &self.ca_pem, 0o644)?,
            w("cert.pem", &self.cert_pem, 0o644)?,
            w("key.pem", &self.key_pem, 0o600)?,
        ])
    }
}
