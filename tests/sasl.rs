//! The login matrix: what xft chooses against the two servers people run, each started
//! by the harness (Prosody 0.12 and ejabberd 23.01, Debian's packages): SCRAM with the
//! strongest hash offered, bound to the TLS channel (`-PLUS`) where the server can, and
//! the `y` flag where it offers no `-PLUS` (RFC 5802 §6).

mod support;

use support::{assert_exit, run, stdout};

/// The "SASL used" line of `xft probe`.
fn sasl_used(out: &std::process::Output) -> String {
    stdout(out)
        .lines()
        .find(|l| l.trim_start().starts_with("SASL used"))
        .unwrap_or_default()
        .to_owned()
}

/// ejabberd 23.01 offers every SCRAM variant with -PLUS but binds only to
/// `tls-unique` (even over TLS 1.3) and lists no binding types (XEP-0440): xft takes
/// SCRAM-SHA-512 with the `n` flag. A wrong password is exit 5.
#[test]
fn ejabberd_logs_in_with_scram_sha_512() {
    let e = support::ejabberd::ejabberd();
    let alice = e.account("sasl-e");
    let mut probe = e.xft(&alice);
    probe.arg("probe");
    let out = run(probe);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        support::stderr(&out),
        e.log_tail()
    );
    let used = sasl_used(&out);
    assert!(used.ends_with("SCRAM-SHA-512"), "{used}\n{}", stdout(&out));
    let mut wrong = e.xft(&alice);
    wrong.arg("probe").env("XFT_PASSWORD", "not the password");
    let out = run(wrong);
    assert_exit(&out, 5);
}

/// Prosody 0.12 (Debian) offers SCRAM-SHA-1 and no -PLUS: xft uses it with the `y`
/// flag (it could bind, the server offered no binding), which Prosody accepts.
#[test]
fn prosody_logs_in_with_scram_sha_1_flagged_y() {
    let s = support::server();
    let alice = s.account("sasl-p");
    let mut probe = s.xft(&alice);
    probe.arg("probe");
    let out = run(probe);
    assert_exit(&out, 0);
    let used = sasl_used(&out);
    assert!(used.contains("SCRAM-SHA-1"), "{used}");
    assert!(!used.contains("PLUS"), "{used}");
}

/// A scripted server for the `-PLUS` exchanges Debian's servers cannot run (ejabberd
/// 23.01 binds only to `tls-unique`, Prosody 0.12 offers no `-PLUS` over TLS 1.3):
/// STARTTLS with rustls on the server side, SCRAM-SHA-256 checked as a server does it,
/// with the channel binding data taken from its own side of the TLS connection.
mod scripted {
    use std::sync::Arc;

    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine;
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

    pub(crate) const PASSWORD: &str = "pencil";

    /// What the server offers, and what it saw.
    pub(crate) struct Offer {
        pub(crate) mechanisms: &'static [&'static str],
        pub(crate) bindings: &'static [&'static str],
    }

    /// The client's gs2 header and whether its proof (with the binding) held.
    #[derive(Debug, Default)]
    pub(crate) struct Saw {
        pub(crate) gs2_header: String,
        pub(crate) accepted: bool,
    }

    pub(crate) struct Certs {
        pub(crate) ca_pem: String,
        cert: rustls::pki_types::CertificateDer<'static>,
        key: rustls::pki_types::PrivateKeyDer<'static>,
    }

    pub(crate) fn certs() -> Certs {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let params = CertificateParams::new(vec!["xft.test".to_owned()]).unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        Certs {
            ca_pem: ca.pem(),
            cert: cert.der().clone(),
            key: rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        }
    }

    async fn read_until<S: AsyncRead + Unpin>(s: &mut S, buf: &mut String, needle: &str) -> String {
        loop {
            if let Some(i) = buf.find(needle) {
                let end = i + needle.len();
                let taken = buf[..end].to_owned();
                buf.replace_range(..end, "");
                return taken;
            }
            let mut chunk = [0u8; 4096];
            let n = s.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the client closed; so far: {buf}");
            buf.push_str(&String::from_utf8_lossy(&chunk[..n]));
        }
    }

    async fn header<S: AsyncRead + AsyncWrite + Unpin>(
        s: &mut S,
        buf: &mut String,
        features: &str,
    ) {
        let opening = read_until(s, buf, "<stream:stream").await;
        drop(opening);
        read_until(s, buf, ">").await;
        let reply = format!(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
             xmlns:stream='http://etherx.jabber.org/streams' id='s' from='xft.test' \
             version='1.0'><stream:features>{features}</stream:features>"
        );
        s.write_all(reply.as_bytes()).await.unwrap();
    }

    fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    fn attribute<'a>(message: &'a str, key: &str) -> &'a str {
        message
            .split(',')
            .find_map(|p| p.strip_prefix(&format!("{key}=")))
            .unwrap_or_default()
    }

    /// Serves one login on `listener` and returns what it saw.
    pub(crate) async fn serve(
        listener: tokio::net::TcpListener,
        certs: Certs,
        offer: Offer,
    ) -> Saw {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut buf = String::new();
        let starttls = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>";
        header(&mut tcp, &mut buf, starttls).await;
        read_until(&mut tcp, &mut buf, "/>").await;
        tcp.write_all(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            .await
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certs.cert.clone()], certs.key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let mut tls = acceptor.accept(tcp).await.unwrap();
        let mut buf = String::new();
        let mechanisms: String = offer
            .mechanisms
            .iter()
            .map(|m| format!("<mechanism>{m}</mechanism>"))
            .collect();
        let bindings: String = offer
            .bindings
            .iter()
            .map(|b| format!("<channel-binding type='{b}'/>"))
            .collect();
        let features = format!(
            "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{mechanisms}</mechanisms>\
             <sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>{bindings}</sasl-channel-binding>"
        );
        header(&mut tls, &mut buf, &features).await;
        let auth = read_until(&mut tls, &mut buf, "</auth>").await;
        let first = auth
            .split_once('>')
            .map(|(_, p)| p.trim_end_matches("</auth>"))
            .unwrap_or_default();
        let first = String::from_utf8(B64.decode(first).unwrap()).unwrap();
        let mut parts = first.splitn(3, ',');
        let gs2_header = format!("{},{},", parts.next().unwrap(), parts.next().unwrap());
        let first_bare = parts.next().unwrap().to_owned();
        let nonce = format!("{}server", attribute(&first_bare, "r"));
        let salt = b"0123456789abcdef";
        let server_first = format!("r={nonce},s={},i=4096", B64.encode(salt));
        let challenge = format!(
            "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</challenge>",
            B64.encode(&server_first)
        );
        tls.write_all(challenge.as_bytes()).await.unwrap();
        let response = read_until(&mut tls, &mut buf, "</response>").await;
        let text = response
            .split_once('>')
            .map(|(_, p)| p.trim_end_matches("</response>"))
            .unwrap_or_default();
        let last = String::from_utf8(B64.decode(text).unwrap()).unwrap();
        let (without_proof, proof) = last.rsplit_once(",p=").unwrap();
        // The server's own side of the channel.
        let conn = tls.get_ref().1;
        let cb_data = match gs2_header.as_str() {
            "p=tls-exporter,," => conn
                .export_keying_material([0u8; 32], b"EXPORTER-Channel-Binding", None)
                .unwrap()
                .to_vec(),
            "p=tls-server-end-point,," => Sha256::digest(certs.cert.as_ref()).to_vec(),
            _ => Vec::new(),
        };
        let mut expected_c = gs2_header.clone().into_bytes();
        expected_c.extend_from_slice(&cb_data);
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(PASSWORD.as_bytes(), salt, 4096, &mut salted);
        let client_key = hmac(&salted, b"Client Key");
        let stored = Sha256::digest(&client_key).to_vec();
        let auth_message = format!("{first_bare},{server_first},{without_proof}");
        let signature = hmac(&stored, auth_message.as_bytes());
        let proof = B64.decode(proof).unwrap();
        let recovered: Vec<u8> = proof.iter().zip(&signature).map(|(a, b)| a ^ b).collect();
        let binding_holds = attribute(without_proof, "c") == B64.encode(&expected_c);
        // A server that can bind refuses `y`: its -PLUS offer was removed on the way.
        let downgraded = gs2_header.starts_with('y');
        let accepted =
            binding_holds && !downgraded && Sha256::digest(&recovered).to_vec() == stored;
        let saw = Saw {
            gs2_header,
            accepted,
        };
        if !accepted {
            let failure =
                "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>";
            tls.write_all(failure.as_bytes()).await.unwrap();
            return saw;
        }
        let server_signature = hmac(&hmac(&salted, b"Server Key"), auth_message.as_bytes());
        let success = format!(
            "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>{}</success>",
            B64.encode(format!("v={}", B64.encode(server_signature)))
        );
        tls.write_all(success.as_bytes()).await.unwrap();
        let bind = "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>";
        header(&mut tls, &mut buf, bind).await;
        let iq = read_until(&mut tls, &mut buf, "</iq>").await;
        let id = iq
            .split("id='")
            .nth(1)
            .and_then(|r| r.split('\'').next())
            .unwrap_or_default();
        let result = format!(
            "<iq type='result' id='{id}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
             <jid>user@xft.test/r</jid></bind></iq>"
        );
        tls.write_all(result.as_bytes()).await.unwrap();
        tls.flush().await.unwrap();
        // Until the client goes (it has what it needs), at most a few seconds.
        let mut rest = [0u8; 1024];
        let drain = async { while matches!(tls.read(&mut rest).await, Ok(n) if n > 0) {} };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(3), drain).await;
        saw
    }
}

/// Logs in to a scripted server offering `offer`; returns what the client reported
/// ("SASL used", or the error) and what the server saw.
fn login_to_scripted(offer: scripted::Offer) -> (Result<String, String>, scripted::Saw) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let certs = scripted::certs();
        let dir = support::scratch_dir("sasl-scripted");
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, &certs.ca_pem).unwrap();
        let server = tokio::spawn(scripted::serve(listener, certs, offer));
        let settings = xft::session::Settings {
            jid: "user@xft.test".parse().unwrap(),
            server: Some(format!("127.0.0.1:{port}")),
            direct_tls: false,
            trust: xft::transport::TrustSettings {
                ca_file: Some(ca),
                insecure: false,
            },
            resource: None,
            features: Vec::new(),
            iq_timeout: std::time::Duration::from_secs(10),
            server_cache: false,
        };
        let login = xft::session::Session::login(&settings, scripted::PASSWORD).await;
        let used = match login {
            Ok((session, _incoming)) => {
                let used = session.login_details().sasl_used.clone();
                drop(session);
                Ok(used)
            }
            Err(e) => Err(e.to_string()),
        };
        let saw = tokio::time::timeout(std::time::Duration::from_secs(10), server)
            .await
            .map(|r| r.unwrap())
            .unwrap_or_default();
        (used, saw)
    })
}

/// A server that lists `tls-exporter` (XEP-0440): SCRAM-SHA-256-PLUS bound with the
/// data exported from TLS 1.3, equal on both sides of the connection.
#[test]
fn plus_with_tls_exporter_binds_to_the_same_channel() {
    let (used, saw) = login_to_scripted(scripted::Offer {
        mechanisms: &["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "PLAIN"],
        bindings: &["tls-unique", "tls-exporter"],
    });
    assert_eq!(saw.gs2_header, "p=tls-exporter,,");
    assert!(saw.accepted);
    assert_eq!(used.unwrap(), "SCRAM-SHA-256-PLUS (tls-exporter)");
}

/// A server that lists only `tls-server-end-point`: the hash of its certificate.
#[test]
fn plus_with_tls_server_end_point() {
    let (used, saw) = login_to_scripted(scripted::Offer {
        mechanisms: &["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"],
        bindings: &["tls-server-end-point"],
    });
    assert_eq!(saw.gs2_header, "p=tls-server-end-point,,");
    assert_eq!(used.unwrap(), "SCRAM-SHA-256-PLUS (tls-server-end-point)");
}

/// An offer without -PLUS from a server that can bind (as if someone removed -PLUS on
/// the way): xft says `y`, the server refuses, and the login fails.
#[test]
fn a_stripped_plus_offer_is_caught_by_the_y_flag() {
    let (used, saw) = login_to_scripted(scripted::Offer {
        mechanisms: &["SCRAM-SHA-256"],
        bindings: &["tls-exporter"],
    });
    assert_eq!(saw.gs2_header, "y,,");
    assert!(!saw.accepted);
    assert!(used.unwrap_err().contains("not-authorized"));
}

/// The file where xft remembers what a server offered (XEP-0305 pipelining).
fn server_cache(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join("cache/xft/servers.json")
}

/// Makes `file` say the server offered `mechanisms` (a JSON list) last time.
fn remember_offer(file: &std::path::Path, mechanisms: &str) {
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let text = format!(
        "[{{\"domain\": \"{}\", \"mechanisms\": {mechanisms}, \"bindings\": []}}]",
        support::DOMAIN
    );
    std::fs::write(file, text).unwrap();
}

/// After a login xft remembers the server's offer and sends the next SASL request
/// behind the stream header; a remembered offer that is out of date or weaker than the
/// live one never decides: a cache that names only SCRAM-SHA-1 for ejabberd still ends
/// in SCRAM-SHA-512, one naming a mechanism Prosody does not offer still logs in, and a
/// damaged file is ignored. Each time the file ends up holding the live offer.
#[test]
fn the_server_cache_speeds_up_logins_but_never_decides() {
    let e = support::ejabberd::ejabberd();
    let alice = e.account("sasl-cache");
    let file = server_cache(&e.dir);
    for cached in [
        None,
        Some("[\"SCRAM-SHA-1\"]"),
        Some("[\"SCRAM-SHA-1-PLUS\", \"SCRAM-SHA-1\"]"),
        Some("[\"PLAIN\"]"),
        Some("{not json"),
    ] {
        match cached {
            Some(m) if m.starts_with('{') => std::fs::write(&file, m).unwrap(),
            Some(m) => remember_offer(&file, m),
            None => {}
        }
        let mut probe = e.xft(&alice);
        probe.arg("probe");
        let out = run(probe);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{cached:?}: {}",
            support::stderr(&out)
        );
        assert!(
            sasl_used(&out).ends_with("SCRAM-SHA-512"),
            "{cached:?}: {}",
            sasl_used(&out)
        );
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("SCRAM-SHA-512-PLUS"), "{cached:?}: {text}");
    }
    let s = support::server();
    let bob = s.account("sasl-cache-p");
    let file = server_cache(&s.dir);
    remember_offer(&file, "[\"SCRAM-SHA-256\"]");
    let mut probe = s.xft(&bob);
    probe.arg("probe");
    let out = run(probe);
    assert_exit(&out, 0);
    assert!(
        sasl_used(&out).ends_with("SCRAM-SHA-1"),
        "{}",
        sasl_used(&out)
    );
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("SCRAM-SHA-1"));
}
