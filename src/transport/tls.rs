//! TLS for the client stream (RFC 6120 §5; XEP-0368 §3 for direct TLS).
//!
//! Trust comes from the system store plus whatever `--ca` names. `--insecure` swaps in a
//! verifier that accepts any certificate; the CLI warns loudly when it is used.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::client::TlsStream;

use super::TransportError;

/// How the server's certificate is checked.
#[derive(Debug, Clone, Default)]
pub struct TrustSettings {
    /// Extra PEM certificates (a self-hosted server's own certificate or its CA).
    pub ca_file: Option<std::path::PathBuf>,
    /// Accept any certificate.
    pub insecure: bool,
}

/// Builds the rustls configuration; `alpn` is set for direct TLS (XEP-0368 §3: `xmpp-client`).
pub fn client_config(
    trust: &TrustSettings,
    direct_tls: bool,
) -> Result<Arc<ClientConfig>, TransportError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::TlsSetup(e.to_string()))?;
    let mut config = if trust.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let extra = match &trust.ca_file {
            Some(path) => load_pem_certificates(path)?,
            None => Vec::new(),
        };
        let roots = Arc::new(root_store(&extra));
        let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
            .build()
            .map_err(|e| TransportError::TlsSetup(e.to_string()))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedOrWebPki {
                pinned: extra,
                webpki,
            }))
            .with_no_client_auth()
    };
    if direct_tls {
        config.alpn_protocols = vec![b"xmpp-client".to_vec()];
    }
    Ok(Arc::new(config))
}

/// The system's trust store plus the `--ca` certificates (those that can be anchors).
fn root_store(extra: &[CertificateDer<'static>]) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let started = std::time::Instant::now();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    tracing::debug!("loaded the system trust store in {:?}", started.elapsed());
    roots.add_parsable_certificates(extra.iter().cloned());
    roots
}

fn load_pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let ca_error = |reason: String| TransportError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| ca_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ca_error(e.to_string()))?;
    if certs.is_empty() {
        return Err(ca_error("no PEM certificate in the file".into()));
    }
    Ok(certs)
}

/// Runs the TLS handshake; SNI is the JID's domain (XEP-0368 §3 "MUST").
pub async fn handshake(
    tcp: super::QuickAck,
    domain: &str,
    config: Arc<ClientConfig>,
) -> Result<TlsStream<super::QuickAck>, TransportError> {
    let name = ServerName::try_from(domain.to_owned()).map_err(|_| {
        TransportError::TlsSetup(format!("'{domain}' is not a valid TLS server name"))
    })?;
    let connector = tokio_rustls::TlsConnector::from(config);
    connector
        .connect(name, tcp)
        .await
        .map_err(|e| classify_tls_error(e, domain))
}

/// Certificate problems get their own variant: the user can fix them with `--ca`.
fn classify_tls_error(e: std::io::Error, domain: &str) -> TransportError {
    let rustls_error = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(reason)) => TransportError::Certificate {
            domain: domain.to_owned(),
            reason: describe_certificate_error(reason, domain),
        },
        _ => TransportError::Tls(e),
    }
}

fn describe_certificate_error(e: &rustls::CertificateError, domain: &str) -> String {
    use rustls::CertificateError as E;
    match e {
        E::UnknownIssuer => "issued by an unknown authority, or self-signed".into(),
        E::NotValidForName | E::NotValidForNameContext { .. } => format!("not issued for {domain}"),
        E::Expired | E::ExpiredContext { .. } => "expired".into(),
        E::NotValidYet | E::NotValidYetContext { .. } => "not valid yet".into(),
        E::Revoked => "revoked".into(),
        E::BadSignature => "bad signature".into(),
        E::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            "self-signed: a CA certificate presented as the server's own".into()
        }
        other => other.to_string(),
    }
}

/// Trusts a certificate given with `--ca` when the server presents exactly it (a
/// self-signed certificate pinned by the user), and otherwise verifies normally.
#[derive(Debug)]
struct PinnedOrWebPki {
    pinned: Vec<CertificateDer<'static>>,
    webpki: Arc<rustls::client::WebPkiServerVerifier>,
}

impl ServerCertVerifier for PinnedOrWebPki {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            return Ok(ServerCertVerified::assertion());
        }
        self.webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// `--insecure`: accepts any certificate but still checks handshake signatures, so the
/// connection is encrypted, just not authenticated.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
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
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
