//! TLS for `wss://`, through rustls: the server's certificate and key from PEM files, and the
//! roots a client trusts (the public web's by default, or a private CA's).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate or key that cannot be used, naming its file.
#[derive(Debug)]
pub struct TlsError {
    pub path: PathBuf,
    pub problem: String,
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for TlsError {}

fn error(path: &Path, problem: impl fmt::Display) -> TlsError {
    TlsError { path: path.to_path_buf(), problem: problem.to_string() }
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| error(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(path, e))?;
    if certs.is_empty() {
        return Err(error(path, "no certificate in the file"));
    }
    Ok(certs)
}

/// What a server presents: its certificate chain and private key.
#[derive(Clone)]
pub struct ServerTls(pub(crate) tokio_rustls::TlsAcceptor);

impl ServerTls {
    /// Reads a PEM certificate chain and a PEM private key.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<ServerTls, TlsError> {
        let chain = certificates(cert)?;
        let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| error(key, e))?;
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key_der)
            .map_err(|e| error(cert, e))?;
        Ok(ServerTls(tokio_rustls::TlsAcceptor::from(Arc::new(config))))
    }
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerTls")
    }
}

/// The roots a client trusts for `wss://`, when not the public web's.
#[derive(Clone, Debug)]
pub struct ClientTls(pub(crate) Arc<rustls::ClientConfig>);

impl ClientTls {
    /// Trusts exactly the certificates in a PEM file (a private CA, or a self-signed server).
    pub fn trusting_pem_file(path: &Path) -> Result<ClientTls, TlsError> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in certificates(path)? {
            roots.add(cert).map_err(|e| error(path, e))?;
        }
        let config =
            rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
        Ok(ClientTls(Arc::new(config)))
    }
}
