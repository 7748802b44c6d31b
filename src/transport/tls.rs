//! TLS for the client stream (RFC 6120 §5; XEP-0368 §3 for direct TLS).
//!
//! Trust comes from the system store plus whatever `--ca` names, read lazily (see
//! [`LayeredWebPki`]). `--insecure` swaps in a
//! verifier that accepts any certificate; the CLI warns loudly when it is used.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
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
    let check = if trust.insecure {
        CertificateCheck {
            pinned: Vec::new(),
            chain: None,
            provider,
        }
    } else {
        let extra = match &trust.ca_file {
            Some(path) => load_pem_certificates(path)?,
            None => Vec::new(),
        };
        let chain = LayeredWebPki::new(system_layers(extra.clone()), provider.clone());
        // The first set is read now, on this blocking thread, while the connection
        // is being made; the others only if a certificate fails against it.
        chain.prepare_first();
        CertificateCheck {
            pinned: extra,
            chain: Some(chain),
            provider,
        }
    };
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(check))
        .with_no_client_auth();
    if direct_tls {
        config.alpn_protocols = vec![b"xmpp-client".to_vec()];
    }
    Ok(Arc::new(config))
}

/// The anchor sets of the system store, cheapest first, each holding the one before:
/// the `--ca` certificates, then with the system's bundle file, then with everything
/// the system store holds (the bundle and its certificate directory).
fn system_layers(extra: Vec<CertificateDer<'static>>) -> Vec<Layer> {
    let with_extra = |mut certs: Vec<CertificateDer<'static>>,
                      extra: &[CertificateDer<'static>]| {
        certs.extend(extra.iter().cloned());
        certs
    };
    let (bundle_extra, store_extra) = (extra.clone(), extra.clone());
    vec![
        Layer::new("the --ca certificates", move || extra.clone()),
        Layer::new("the system's bundle file", move || {
            let certs = system_bundle_file()
                .map(|file| rustls_native_certs::load_certs_from_paths(Some(&file), None).certs)
                .unwrap_or_default();
            with_extra(certs, &bundle_extra)
        }),
        Layer::new("the whole system trust store", move || {
            with_extra(rustls_native_certs::load_native_certs().certs, &store_extra)
        }),
    ]
}

/// The file part of the system trust store, as rustls-native-certs reads it: exactly
/// `SSL_CERT_FILE` when it or `SSL_CERT_DIR` is set (OpenSSL's rule), otherwise the
/// distribution's bundle (`/etc/ssl/certs/ca-certificates.crt` on Debian).
fn system_bundle_file() -> Option<std::path::PathBuf> {
    let file = std::env::var_os("SSL_CERT_FILE");
    let dirs_set = std::env::var_os("SSL_CERT_DIR")
        .is_some_and(|dirs| std::env::split_paths(&dirs).any(|d| !d.as_os_str().is_empty()));
    match (file, dirs_set) {
        (Some(file), _) => Some(file.into()),
        (None, true) => None,
        (None, false) => openssl_probe::probe().cert_file,
    }
}

/// One set of trust anchors, read the first time a certificate is checked against it.
struct Layer {
    name: &'static str,
    load: Box<dyn Fn() -> Vec<CertificateDer<'static>> + Send + Sync>,
    verifier: OnceLock<Option<Arc<WebPkiServerVerifier>>>,
}

impl Layer {
    fn new(
        name: &'static str,
        load: impl Fn() -> Vec<CertificateDer<'static>> + Send + Sync + 'static,
    ) -> Layer {
        Layer {
            name,
            load: Box::new(load),
            verifier: OnceLock::new(),
        }
    }

    /// The verifier for this set; `None` when it holds no usable anchor.
    fn verifier(&self, provider: &Arc<CryptoProvider>) -> Option<&Arc<WebPkiServerVerifier>> {
        self.verifier
            .get_or_init(|| {
                let started = std::time::Instant::now();
                let mut roots = RootCertStore::empty();
                roots.add_parsable_certificates((self.load)());
                tracing::debug!(
                    "read {} ({} anchors) in {:?}",
                    self.name,
                    roots.len(),
                    started.elapsed()
                );
                if roots.is_empty() {
                    return None;
                }
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .ok()
            })
            .as_ref()
    }
}

/// Checks a certificate against anchor sets from the cheapest up, the way OpenSSL reads
/// its certificate directory only on demand. Each set holds the one before, so a chain
/// that one accepts, the whole store accepts: the verdict is the whole store's, but a
/// login whose server the first set vouches for never reads the rest. Reading the
/// certificate directory (one file per authority, which the bundle holds again) took 3
/// to 5 of a login's 15 ms of CPU here, and the bundle 2 to 3 more, on the two cores
/// the handshake needs: a login with `--ca` now reads neither.
struct LayeredWebPki {
    layers: Vec<Layer>,
    provider: Arc<CryptoProvider>,
}

impl std::fmt::Debug for LayeredWebPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.layers.iter().map(|l| l.name).collect();
        f.debug_struct("LayeredWebPki")
            .field("layers", &names)
            .finish()
    }
}

impl LayeredWebPki {
    fn new(layers: Vec<Layer>, provider: Arc<CryptoProvider>) -> LayeredWebPki {
        LayeredWebPki { layers, provider }
    }

    /// Reads the first set that has an anchor.
    fn prepare_first(&self) {
        let _ = self.layers.iter().find_map(|l| l.verifier(&self.provider));
    }

    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut last_error = None;
        for layer in &self.layers {
            let Some(webpki) = layer.verifier(&self.provider) else {
                continue;
            };
            match webpki.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Ok(verified) => {
                    tracing::debug!("certificate trusted by {}", layer.name);
                    return Ok(verified);
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer,
        )))
    }
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

/// The server's certificate check. With a chain verifier: a certificate given with
/// `--ca` is trusted when the server presents exactly it (a self-signed certificate
/// pinned by the user), any other must chain to a trusted anchor. Without one
/// (`--insecure`): any certificate is accepted. Handshake signatures are checked
/// either way, so an insecure connection is encrypted, just not authenticated.
#[derive(Debug)]
struct CertificateCheck {
    pinned: Vec<CertificateDer<'static>>,
    chain: Option<LayeredWebPki>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for CertificateCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        if self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            return Ok(ServerCertVerified::assertion());
        }
        chain.verify(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn authority(name: &str) -> CertifiedIssuer<'static, KeyPair> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
    }

    fn server_certificate(issuer: &CertifiedIssuer<'static, KeyPair>) -> CertificateDer<'static> {
        let params = CertificateParams::new(vec!["xft.test".to_owned()]).unwrap();
        let key = KeyPair::generate().unwrap();
        params.signed_by(&key, issuer).unwrap().der().clone()
    }

    /// A layer holding `anchors` that counts how often it is read.
    fn counted(anchors: Vec<CertificateDer<'static>>) -> (Layer, Arc<AtomicUsize>) {
        let reads = Arc::new(AtomicUsize::new(0));
        let counter = reads.clone();
        let layer = Layer::new("test set", move || {
            counter.fetch_add(1, Ordering::SeqCst);
            anchors.clone()
        });
        (layer, reads)
    }

    fn check(verifier: &LayeredWebPki, cert: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        let name = ServerName::try_from("xft.test").unwrap();
        verifier
            .verify(cert, &[], &name, &[], UnixTime::now())
            .map(|_| ())
    }

    fn provider() -> Arc<CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    #[test]
    fn a_certificate_the_first_set_vouches_for_never_reads_the_others() {
        let ours = authority("ours");
        let (first, first_reads) = counted(vec![ours.der().clone()]);
        let (second, second_reads) = counted(vec![authority("public").der().clone()]);
        let verifier = LayeredWebPki::new(vec![first, second], provider());
        verifier.prepare_first();
        assert!(check(&verifier, &server_certificate(&ours)).is_ok());
        assert!(check(&verifier, &server_certificate(&ours)).is_ok());
        assert_eq!(first_reads.load(Ordering::SeqCst), 1);
        assert_eq!(second_reads.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn a_certificate_only_a_later_set_vouches_for_is_trusted_once_it_is_read() {
        let (ours, public) = (authority("ours"), authority("public"));
        let (first, _) = counted(vec![ours.der().clone()]);
        let (empty, _) = counted(Vec::new());
        let (last, last_reads) = counted(vec![ours.der().clone(), public.der().clone()]);
        let verifier = LayeredWebPki::new(vec![first, empty, last], provider());
        assert!(check(&verifier, &server_certificate(&public)).is_ok());
        assert!(check(&verifier, &server_certificate(&public)).is_ok());
        assert_eq!(
            last_reads.load(Ordering::SeqCst),
            1,
            "each set is read once"
        );
    }

    #[test]
    fn a_certificate_no_set_vouches_for_is_refused_as_unknown() {
        let (first, _) = counted(vec![authority("ours").der().clone()]);
        let (last, _) = counted(vec![authority("public").der().clone()]);
        let verifier = LayeredWebPki::new(vec![first, last], provider());
        let stranger = server_certificate(&authority("stranger"));
        assert_eq!(
            check(&verifier, &stranger),
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            ))
        );
        let nothing = LayeredWebPki::new(vec![counted(Vec::new()).0], provider());
        assert!(check(&nothing, &stranger).is_err());
    }
}
