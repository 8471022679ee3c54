//! TLS for the database connection, with libpq's meaning of `sslmode`.
//!
//! Hosted Postgres (Heroku's among them) accepts TLS connections only, with
//! certificates that no public root vouches for. libpq, which the agent
//! uses, encrypts without checking the certificate unless told to verify
//! it, and so does heapsift: `disable` never uses TLS, `prefer` (the
//! default) and `require` encrypt without checking, `verify-ca` checks the
//! chain and `verify-full` the chain and the host name, against the CA
//! file in `sslrootcert` or else the system's roots. tokio-postgres knows
//! only the first three modes, so the others, and `sslrootcert`, are taken
//! out of the connection string here.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::SignalError;

/// How the server's certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verification {
    /// Encrypt, check nothing (libpq's `prefer` and `require`).
    None,
    /// Check the chain against `roots` (`verify-ca`), and the host name
    /// too when `host_name` is set (`verify-full`).
    Chain {
        roots: Option<PathBuf>,
        host_name: bool,
    },
}

/// A connection string with the TLS options tokio-postgres does not know
/// taken out, and what they asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsSettings {
    pub(crate) connection_string: String,
    pub(crate) verification: Verification,
}

impl TlsSettings {
    /// Reads `sslmode` and `sslrootcert` from a URL (`postgres://...?sslmode=verify-full`)
    /// or a key/value string (`host=db sslmode=verify-full`).
    pub(crate) fn from_connection_string(text: &str) -> Self {
        let is_url = text.starts_with("postgres://") || text.starts_with("postgresql://");
        let (base, options, separator) = if is_url {
            let (base, query) = text.split_once('?').unwrap_or((text, ""));
            (base, query.split('&').collect::<Vec<_>>(), "&")
        } else {
            ("", text.split_whitespace().collect(), " ")
        };
        let mut mode = None;
        let mut roots = None;
        let mut kept = Vec::new();
        for option in options.into_iter().filter(|o| !o.is_empty()) {
            let (key, value) = option.split_once('=').unwrap_or((option, ""));
            let value = if is_url {
                percent_decode(value)
            } else {
                value.to_owned()
            };
            match key {
                "sslrootcert" => roots = (value != "system").then(|| PathBuf::from(value)),
                "sslmode" if value.starts_with("verify-") => mode = Some(value),
                _ => kept.push(option),
            }
        }
        let verification = match mode.as_deref() {
            Some(mode) => {
                kept.push("sslmode=require");
                Verification::Chain {
                    roots,
                    host_name: mode == "verify-full",
                }
            }
            None => Verification::None,
        };
        let kept = kept.join(separator);
        let connection_string = match (is_url, kept.is_empty()) {
            (true, true) => base.to_owned(),
            (true, false) => format!("{base}?{kept}"),
            (false, _) => kept,
        };
        TlsSettings {
            connection_string,
            verification,
        }
    }

    /// The rustls configuration that checks what was asked for.
    pub(crate) fn client_config(&self) -> Result<ClientConfig, SignalError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error(e.to_string()))?;
        let verifier: Arc<dyn ServerCertVerifier> = match &self.verification {
            Verification::None => Arc::new(EncryptOnly(provider.signature_verification_algorithms)),
            Verification::Chain { roots, host_name } => {
                let roots = Arc::new(root_store(roots.as_ref())?);
                let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider)
                    .build()
                    .map_err(|e| tls_error(e.to_string()))?;
                if *host_name {
                    webpki
                } else {
                    Arc::new(ChainOnly(webpki))
                }
            }
        };
        Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth())
    }
}

fn tls_error(message: String) -> SignalError {
    SignalError::Usage(format!("TLS: {message}"))
}

/// The CA certificates in `path`, or the system's.
fn root_store(path: Option<&PathBuf>) -> Result<RootCertStore, SignalError> {
    let mut store = RootCertStore::empty();
    let certificates: Vec<CertificateDer<'static>> = match path {
        Some(path) => CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect())
            .map_err(|e| tls_error(format!("sslrootcert {}: {e}", path.display())))?,
        None => rustls_native_certs::load_native_certs().certs,
    };
    let (added, _ignored) = store.add_parsable_certificates(certificates);
    if added == 0 {
        let source = path.map_or_else(|| "the system".to_owned(), |p| p.display().to_string());
        return Err(tls_error(format!("no CA certificate found in {source}")));
    }
    Ok(store)
}

/// libpq's `prefer` and `require`: the session is encrypted and the
/// server's handshake signature checked, but not who signed its
/// certificate.
#[derive(Debug)]
struct EncryptOnly(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// libpq's `verify-ca`: the chain must lead to a trusted root; the name in
/// the certificate need not match the host.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `%XX` escapes decoded (as in a file path given in a URL's query).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = || std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok();
        match (bytes[i], hex().and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> (String, Verification) {
        let s = TlsSettings::from_connection_string(text);
        (s.connection_string, s.verification)
    }

    #[test]
    fn prefer_and_require_pass_through_unchecked() {
        for url in [
            "postgres://u:p@db:5432/app",
            "postgres://u:p@db/app?sslmode=require&application_name=x",
            "host=db user=u sslmode=prefer",
        ] {
            assert_eq!(settings(url), (url.to_owned(), Verification::None), "{url}");
        }
    }

    #[test]
    fn verify_modes_become_require_with_a_chain_check() {
        assert_eq!(
            settings(
                "postgres://u@db/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=5"
            ),
            (
                "postgres://u@db/app?connect_timeout=5&sslmode=require".to_owned(),
                Verification::Chain {
                    roots: Some("/etc/ca.pem".into()),
                    host_name: true
                }
            )
        );
        assert_eq!(
            settings("host=db sslmode=verify-ca sslrootcert=system"),
            (
                "host=db sslmode=require".to_owned(),
                Verification::Chain {
                    roots: None,
                    host_name: false
                }
            )
        );
    }
}
