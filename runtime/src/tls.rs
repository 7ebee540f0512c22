//! TLS for database connections, with rustls (feature `tls`).
//!
//! Build a connector from the certificate authorities to trust and hand it
//! to [`Pool::connect_with_tls`](crate::pool::Pool::connect_with_tls) (or to
//! `tokio_postgres::Config::connect`). Set `sslmode=require` on the config so
//! a server that does not offer TLS is refused instead of used in the clear.
//! The server's certificate must be signed by one of the given authorities
//! and name the host connected to.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use ordinance::pool::{Pool, PoolOptions};
//!
//! let ca = std::fs::read("/etc/ssl/db-ca.pem")?;
//! let config = "host=db.internal user=app dbname=app sslmode=require".parse()?;
//! let tls = ordinance::tls::connector_from_pem(&ca)?;
//! let pool = Pool::connect_with_tls(config, PoolOptions::default(), tls).await?;
//! # let _ = pool;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

pub use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Error, Result};

/// A connector trusting exactly the authorities in `roots`.
///
/// Uses rustls's `ring` provider explicitly, so it works whatever other
/// rustls providers the application enables.
pub fn connector(roots: RootCertStore) -> Result<MakeRustlsConnect> {
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::TlsSetup(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// A connector trusting the authorities in a PEM file's contents (one or
/// more `CERTIFICATE` blocks). Input without a usable certificate is
/// [`Error::TlsSetup`].
pub fn connector_from_pem(pem: &[u8]) -> Result<MakeRustlsConnect> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| Error::TlsSetup(format!("reading the PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| Error::TlsSetup(format!("a certificate is unusable: {e}")))?;
    }
    if roots.is_empty() {
        return Err(Error::TlsSetup(
            "the PEM holds no CERTIFICATE block".to_owned(),
        ));
    }
    connector(roots)
}
