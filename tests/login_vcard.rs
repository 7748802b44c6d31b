//! Logging in (TLS, SASL, credentials, config) and `xft vcard`, against a real Prosody.

mod support;

use std::os::unix::fs::PermissionsExt;

use support::{assert_exit, run, run_with_stdin, server, stderr, stdout};

#[test]
fn vcard_set_then_get_round_trip() {
    let s = server();
    let alice = s.account("alice");
    let mut set = s.xft(&alice);
    set.args(["vcard", "set", "--fn", "Alice Liddell", "--nickname", "ali"])
        .args(["--email", "alice@example.org", "--email", "al@example.net"])
        .args([
            "--url",
            "https://example.org/~alice",
            "--note",
            "Down the rabbit hole & <back>",
        ]);
    assert_exit(&run(set), 0);

    let mut get = s.xft(&alice);
    get.args(["vcard", "get"]);
    let out = run(get);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains(&format!("vCard of {}", alice.jid)), "{text}");
    assert!(
        text.contains("Alice Liddell") && text.contains("al@example.net"),
        "{text}"
    );
    assert!(text.contains("Down the rabbit hole & <back>"), "{text}");

    let mut get = s.xft(&alice);
    get.args(["vcard", "get", "--json"]);
    let out = run(get);
    assert_exit(&out, 0);
    let json: serde_json::Value =
        serde_json::from_str(stdout(&out).trim()).expect("one JSON object");
    assert_eq!(json["fn"], "Alice Liddell");
    assert_eq!(json["nickname"], "ali");
    assert_eq!(json["jid"], alice.jid.as_str());
    assert_eq!(json["email"].as_array().map(Vec::len), Some(2));

    // Another account reads it too (vCards are public), by bare JID.
    let bob = s.account("bob");
    let mut get = s.xft(&bob);
    get.args(["vcard", "get", &alice.jid, "--xml"]);
    let out = run(get);
    assert_exit(&out, 0);
    let xml = stdout(&out);
    assert!(xml.starts_with("<vCard xmlns='vcard-temp'>"), "{xml}");
    assert!(
        xml.contains("<URL>https://example.org/~alice</URL>"),
        "{xml}"
    );
}

#[test]
fn vcard_set_merges_and_xml_replaces() {
    let s = server();
    let a = s.account("merge");
    let mut set = s.xft(&a);
    set.args(["vcard", "set", "--fn", "First Name", "--note", "keep me"]);
    assert_exit(&run(set), 0);
    let mut set = s.xft(&a);
    set.args(["vcard", "set", "--fn", "Second Name"]);
    assert_exit(&run(set), 0);
    let mut get = s.xft(&a);
    get.args(["vcard", "get", "--json"]);
    let json: serde_json::Value = serde_json::from_str(stdout(&run(get)).trim()).unwrap();
    assert_eq!(json["fn"], "Second Name");
    assert_eq!(json["note"], "keep me", "fields not named are kept");

    let mut set = s.xft(&a);
    set.args(["vcard", "set", "--xml", "-"]);
    let out = run_with_stdin(
        set,
        b"<?xml version='1.0'?>\n<vCard xmlns='vcard-temp'><FN>From XML</FN><TITLE>Queen</TITLE></vCard>\n",
    );
    assert_exit(&out, 0);
    let mut get = s.xft(&a);
    get.args(["vcard", "get", "--json"]);
    let json: serde_json::Value = serde_json::from_str(stdout(&run(get)).trim()).unwrap();
    assert_eq!(json["fn"], "From XML");
    assert_eq!(json["title"], "Queen");
    assert!(
        json.get("note").is_none(),
        "--xml replaces the whole vCard: {json}"
    );
}

#[test]
fn vcard_photo_is_typed_and_sized() {
    let s = server();
    let a = s.account("photo");
    let png = s.dir.join(format!("{}.png", a.user));
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(std::iter::repeat_n(7u8, 1000));
    std::fs::write(&png, &bytes).unwrap();
    let mut set = s.xft(&a);
    set.args(["vcard", "set", "--photo"]).arg(&png);
    assert_exit(&run(set), 0);
    let mut get = s.xft(&a);
    get.args(["vcard", "get", "--json"]);
    let json: serde_json::Value = serde_json::from_str(stdout(&run(get)).trim()).unwrap();
    assert_eq!(json["photo"]["type"], "image/png");
    assert_eq!(json["photo"]["bytes"], 1008);

    let not_image = s.dir.join("not-image.txt");
    std::fs::write(&not_image, "hello").unwrap();
    let mut set = s.xft(&a);
    set.args(["vcard", "set", "--photo"]).arg(&not_image);
    let out = run(set);
    assert_exit(&out, 3);
    assert!(
        stderr(&out).contains("not a PNG, JPEG, GIF or WebP"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_vcard_and_unknown_user_exit_13() {
    let s = server();
    let a = s.account("lonely");
    let b = s.account("novcard");
    for target in [b.jid.clone(), format!("nobody-here@{}", support::DOMAIN)] {
        let mut get = s.xft(&a);
        get.args(["vcard", "get", &target]);
        let out = run(get);
        assert_exit(&out, 13);
        assert!(stderr(&out).contains("has no vCard"), "{}", stderr(&out));
        assert!(stdout(&out).is_empty());
    }
}

#[test]
fn wrong_password_exits_5() {
    let s = server();
    let mut a = s.account("wrongpw");
    a.password = "not the password".into();
    let mut get = s.xft(&a);
    get.args(["vcard", "get"]);
    let out = run(get);
    assert_exit(&out, 5);
    assert!(
        stderr(&out).contains("authentication failed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn untrusted_certificate_exits_4_and_names_the_fix() {
    let s = server();
    let a = s.account("tls");
    let mut get = s.xft_bare();
    get.args([
        "--jid",
        &a.jid,
        "--server",
        &format!("127.0.0.1:{}", s.c2s_port),
        "vcard",
        "get",
    ])
    .env("XFT_PASSWORD", &a.password);
    let out = run(get);
    assert_exit(&out, 4);
    let err = stderr(&out);
    assert!(err.contains("not trusted") && err.contains("--ca"), "{err}");

    // --insecure gets through, with a warning.
    let mut get = s.xft_bare();
    get.args([
        "--jid",
        &a.jid,
        "--server",
        &format!("127.0.0.1:{}", s.c2s_port),
        "--insecure",
    ])
    .args(["vcard", "set", "--fn", "x"])
    .env("XFT_PASSWORD", &a.password);
    let out = run(get);
    assert_exit(&out, 0);
    assert!(stderr(&out).contains("NOT verified"), "{}", stderr(&out));
}

#[test]
fn ca_flag_can_pin_the_servers_own_certificate() {
    let s = server();
    let a = s.account("pinned");
    let mut get = s.xft_bare();
    get.args([
        "--jid",
        &a.jid,
        "--server",
        &format!("127.0.0.1:{}", s.c2s_port),
        "--ca",
    ])
    .arg(s.dir.join("server.pem"))
    .args(["vcard", "set", "--nickname", "pinned"])
    .env("XFT_PASSWORD", &a.password);
    assert_exit(&run(get), 0);
}

#[test]
fn unrelated_ca_is_refused() {
    // A CA file that does not match the server's chain is still refused.
    let s = server();
    let a = s.account("pin");
    let other = s.dir.join("other-ca.pem");
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["other.test".to_owned()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    std::fs::write(&other, params.self_signed(&key).unwrap().pem()).unwrap();
    let mut get = s.xft_bare();
    get.args([
        "--jid",
        &a.jid,
        "--server",
        &format!("127.0.0.1:{}", s.c2s_port),
        "--ca",
    ])
    .arg(&other)
    .args(["vcard", "get"])
    .env("XFT_PASSWORD", &a.password);
    assert_exit(&run(get), 4);
}

#[test]
fn the_system_trust_store_is_read_from_ssl_cert_file_and_ssl_cert_dir() {
    // Without --ca, the server's CA must come from the system store. The store's bundle
    // file is read first and its directory only when the bundle does not vouch for the
    // server: the answer must still be the whole store's.
    let s = server();
    let a = s.account("store");
    let dir = s.dir.join("trust-store");
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    let other = {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    };
    let ours = std::fs::read_to_string(&s.ca_pem).unwrap();
    let (with_ours, without) = (dir.join("with-ours.crt"), dir.join("without.crt"));
    std::fs::write(&with_ours, format!("{other}{ours}")).unwrap();
    std::fs::write(&without, &other).unwrap();
    std::fs::write(certs.join("ours.pem"), &ours).unwrap();
    let login = |file: &std::path::Path, cert_dir: Option<&std::path::Path>| {
        let mut get = s.xft_bare();
        get.args([
            "--jid",
            &a.jid,
            "--server",
            &format!("127.0.0.1:{}", s.c2s_port),
            "vcard",
            "set",
            "--nickname",
            "trusting",
        ])
        .env("XFT_PASSWORD", &a.password)
        .env("SSL_CERT_FILE", file)
        .env_remove("SSL_CERT_DIR");
        if let Some(cert_dir) = cert_dir {
            get.env("SSL_CERT_DIR", cert_dir);
        }
        run(get)
    };
    assert_exit(&login(&with_ours, None), 0);
    assert_exit(&login(&without, Some(&certs)), 0);
    let refused = login(&without, None);
    assert_exit(&refused, 4);
    assert!(
        stderr(&refused).contains("not trusted"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn the_stream_ends_without_waiting_only_when_the_server_answered_what_mattered() {
    // RFC 6120 §10.1: the answer to our last request proves the server processed all
    // we sent before it, so `vcard set` can go at once; `contact approve` ends with a
    // subscription presence nothing answers, so it waits for the server's closing tag.
    let s = server();
    let (alice, bob) = (s.account("closer"), s.account("asker"));
    let mut set = s.xft(&alice);
    set.args(["-v", "vcard", "set", "--nickname", "quick"]);
    let out = run(set);
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("closed: the server has answered everything that matters"),
        "{}",
        stderr(&out)
    );
    let mut approve = s.xft(&alice);
    approve.args(["-v", "contact", "approve", &bob.jid]);
    let out = run(approve);
    assert_exit(&out, 0);
    let log = stderr(&out);
    assert!(
        log.contains("waiting for the server to process what we sent last"),
        "{log}"
    );
}

#[test]
fn direct_tls_logs_in() {
    let s = server();
    let a = s.account("direct");
    let mut set = s.xft_bare();
    set.args([
        "--jid",
        &a.jid,
        "--server",
        &format!("127.0.0.1:{}", s.tls_port),
        "--direct-tls",
        "--ca",
    ])
    .arg(&s.ca_pem)
    .args(["vcard", "set", "--nickname", "direct"])
    .env("XFT_PASSWORD", &a.password);
    assert_exit(&run(set), 0);
}

#[test]
fn password_sources_and_config_file() {
    let s = server();
    let a = s.account("creds");
    let base = s.dir.join(&a.user);
    std::fs::create_dir_all(&base).unwrap();

    // --password-file must be private.
    let pw = base.join("pw");
    std::fs::write(&pw, format!("{}\nignored second line\n", a.password)).unwrap();
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
    let login = |extra: &[&str]| {
        let mut c = s.xft_bare();
        c.args([
            "--jid",
            &a.jid,
            "--server",
            &format!("127.0.0.1:{}", s.c2s_port),
            "--ca",
        ])
        .arg(&s.ca_pem)
        .args(extra)
        .args(["vcard", "set", "--nickname", "c"]);
        run(c)
    };
    let out = login(&["--password-file", pw.to_str().unwrap()]);
    assert_exit(&out, 3);
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_exit(&login(&["--password-file", pw.to_str().unwrap()]), 0);

    // --password-command: first line of its output.
    let cmd = format!("head -n 1 '{}'", pw.display());
    assert_exit(&login(&["--password-command", &cmd]), 0);
    assert_exit(&login(&["--password-command", "exit 1"]), 3);

    // No password and no terminal: a clear error, no prompt, no hang.
    let out = login(&[]);
    assert_exit(&out, 3);
    assert!(stderr(&out).contains("no password"), "{}", stderr(&out));

    // Everything from the config file.
    let config = base.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "jid = '{}'\nserver = '127.0.0.1:{}'\nca = '{}'\npassword-command = \"{}\"\n",
            a.jid,
            s.c2s_port,
            s.ca_pem.display(),
            cmd
        ),
    )
    .unwrap();
    let mut c = s.xft_bare();
    c.arg("--config")
        .arg(&config)
        .args(["vcard", "get", "--json"]);
    let out = run(c);
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("\"nickname\":\"c\""),
        "{}",
        stdout(&out)
    );

    // The same file found through XDG_CONFIG_HOME.
    let xdg = base.join("xdg");
    std::fs::create_dir_all(xdg.join("xft")).unwrap();
    std::fs::copy(&config, xdg.join("xft").join("config.toml")).unwrap();
    let mut c = s.xft_bare();
    c.env("XDG_CONFIG_HOME", &xdg).args(["vcard", "get", "-q"]);
    assert_exit(&run(c), 0);

    // A plain password in the config is refused with a hint.
    std::fs::write(&config, "password = 'x'\n").unwrap();
    let mut c = s.xft_bare();
    c.arg("--config").arg(&config).args(["vcard", "get"]);
    let out = run(c);
    assert_exit(&out, 3);
    assert!(
        stderr(&out).contains("password-command"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn very_verbose_logs_xml_but_never_the_password() {
    let s = server();
    let a = s.account("verbose");
    let mut get = s.xft(&a);
    get.args(["-vv", "vcard", "set", "--nickname", "v"]);
    let out = run(get);
    assert_exit(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("SEND <iq"), "XML is logged at -vv:\n{err}");
    assert!(err.contains("[redacted]"), "{err}");
    assert!(!err.contains(&a.password), "password leaked:\n{err}");
    // Nor the SCRAM proof or PLAIN blob: no base64 of the SASL exchange appears.
    assert!(!err.contains("<auth "), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let s = server();
    let mut c = s.xft_bare();
    c.args(["vcard", "frobnicate"]);
    assert_exit(&run(c), 2);
    let mut c = s.xft_bare();
    c.args(["vcard", "get", "not a jid@@"]);
    let out = run(c);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("is not a JID"), "{}", stderr(&out));
}

/// Issue 8, item 6: durations that overflow the clock panicked (exit 101).
#[test]
fn out_of_range_durations_are_usage_errors() {
    let s = server();
    let huge = "18446744073709551615";
    for args in [
        vec!["send", "--presence-wait", huge, "f", "a@b"],
        vec!["--timeout", huge, "vcard", "get"],
        vec!["--timeout", "0", "vcard", "get"],
        vec!["recv", "--timeout", "-1"],
    ] {
        let mut c = s.xft_bare();
        c.args(&args);
        let out = run(c);
        assert_exit(&out, 2);
        assert!(
            !stderr(&out).contains("panicked"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

/// Issue 8, item 13: `-o DIR --overwrite` accepted the offer, received everything and
/// only then failed at the rename. It is refused before logging in.
#[test]
fn output_onto_a_directory_is_refused_up_front() {
    let s = server();
    let bob = s.account("bob");
    let dir = support::scratch_dir("o-is-dir");
    let mut c = s.xft(&bob);
    c.args(["recv", "--overwrite", "-o"]).arg(&dir);
    let out = run(c);
    assert_exit(&out, 3);
    assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));
}

/// Issue 8, item 15: vCard fields are printed escaped (the JSON output is for programs).
#[test]
fn vcard_fields_are_escaped_on_the_terminal() {
    let s = server();
    let alice = s.account("alice");
    let mut set = s.xft(&alice);
    set.args([
        "vcard",
        "set",
        "--fn",
        "Eve\u{202E}lirpA",
        "--note",
        "line one\nline\u{9b}2J two",
    ]);
    assert_exit(&run(set), 0);
    let mut get = s.xft(&alice);
    get.args(["vcard", "get"]);
    let out = run(get);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("Eve\\u{202e}lirpA"), "{text}");
    assert!(text.contains("line\\u{009b}2J two"), "{text}");
    assert!(
        !text.contains('\u{202E}') && !text.contains('\u{9b}'),
        "{text}"
    );
}

/// A loopback "server" that accepts one connection and plays `script`, then holds the
/// connection open; returns its port.
fn fake_server(script: FakeScript) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((mut socket, _)) = listener.accept() else {
            return;
        };
        use std::io::{Read, Write};
        let header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' \
            xmlns:stream='http://etherx.jabber.org/streams' id='f1' from='xft.test' version='1.0'>";
        let mut buf = [0u8; 4096];
        match script {
            FakeScript::Silent => {}
            FakeScript::HeaderOnly => {
                let _ = socket.read(&mut buf);
                let _ = socket.write_all(header.as_bytes());
            }
            FakeScript::Text(text) => {
                let _ = socket.read(&mut buf);
                let _ = socket.write_all(header.as_bytes());
                let _ = socket.write_all(text.as_bytes());
            }
            FakeScript::SilentAfterTls => {
                // The header and <starttls/> (xft sends them together, XEP-0305).
                let mut got = Vec::new();
                while !String::from_utf8_lossy(&got).contains("starttls") {
                    match socket.read(&mut buf) {
                        Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
                        _ => return,
                    }
                }
                let _ = socket.write_all(header.as_bytes());
                let _ = socket.write_all(
                    b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>",
                );
                let _ = socket.write_all(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
                let tls = tls_server_config();
                let mut conn = rustls::ServerConnection::new(tls).unwrap();
                let mut stream = rustls::Stream::new(&mut conn, &mut socket);
                // Finish the handshake, read the client's stream header, say nothing.
                let _ = stream.read(&mut buf);
                std::thread::sleep(std::time::Duration::from_secs(30));
                return;
            }
        }
        std::thread::sleep(std::time::Duration::from_secs(30));
    });
    port
}

enum FakeScript {
    Silent,
    HeaderOnly,
    Text(String),
    SilentAfterTls,
}

fn tls_server_config() -> std::sync::Arc<rustls::ServerConfig> {
    use rustls_pki_types::pem::PemObject;
    let dir = &server().dir;
    let certs = rustls_pki_types::CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    std::sync::Arc::new(config)
}

fn login_against(port: u16) -> (std::process::Output, std::time::Duration) {
    let s = server();
    let mut c = s.xft_bare();
    c.args([
        "--jid",
        "alice@xft.test",
        "--server",
        &format!("127.0.0.1:{port}"),
    ])
    .arg("--ca")
    .arg(&s.ca_pem)
    .args(["--timeout", "2", "vcard", "get"])
    .env("XFT_PASSWORD", "x");
    let started = std::time::Instant::now();
    let out = run(c);
    (out, started.elapsed())
}

/// Issue 8, item 3: every step of login has a deadline (`--timeout`). Before the fix
/// each of these servers held xft until Ctrl-C.
#[test]
fn login_gives_up_on_a_silent_server_at_every_step() {
    for (script, step) in [
        (FakeScript::Silent, "stream header"),
        (FakeScript::HeaderOnly, "stream header and features"),
        (FakeScript::SilentAfterTls, "after TLS"),
    ] {
        let (out, elapsed) = login_against(fake_server(script));
        assert_exit(&out, 10);
        let err = stderr(&out);
        assert!(err.contains("login did not finish within 2 s"), "{err}");
        assert!(err.contains(step), "{step}: {err}");
        assert!(elapsed < std::time::Duration::from_secs(10), "{elapsed:?}");
    }
}

/// Issue 8, item 4: a server's text before STARTTLS with a multibyte character across
/// byte 200 of the quoted excerpt panicked (exit 101).
#[test]
fn multibyte_text_in_an_unexpected_element_does_not_panic() {
    // Place the é on bytes 199-200 of the element as xft serialises it for the message.
    let probe = xft::xml::Element::new("weird", "jabber:client")
        .text("x")
        .to_xml();
    let prefix = probe.find(">x<").unwrap() + 1;
    let body = format!("<weird>{}é and more</weird>", "x".repeat(199 - prefix));
    let (out, _) = login_against(fake_server(FakeScript::Text(body)));
    assert_exit(&out, 15);
    assert!(
        stderr(&out).contains("wanted stream features"),
        "{}",
        stderr(&out)
    );
}

/// Issue 13: go-sendxmpp's users switch with no setup; its config is refused, like a
/// password file, when it holds a password others can read; ours wins when present.
#[test]
fn go_sendxmpp_config_is_used_when_xft_has_none() {
    use std::os::unix::fs::PermissionsExt;
    let s = server();
    let a = s.account("gosend");
    let xdg = support::scratch_dir("go-sendxmpp-xdg");
    let dir = xdg.join("go-sendxmpp");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "username: {}\npassword: {}\njserver: 127.0.0.1\nport: {}\n",
            a.jid, a.password, s.c2s_port
        ),
    )
    .unwrap();
    let vcard = |xdg: &std::path::Path| {
        let mut c = s.xft_bare();
        c.env("XDG_CONFIG_HOME", xdg)
            .arg("--ca")
            .arg(&s.ca_pem)
            .args(["vcard", "get", "-q"]);
        run(c)
    };
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = vcard(&xdg);
    // A fresh account has no vCard: exit 13 proves the login worked.
    assert_exit(&out, 13);

    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = vcard(&xdg);
    assert_exit(&out, 3);
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));

    // eval_password works as a password command.
    std::fs::write(
        &config,
        format!(
            "username: {}\neval_password: echo '{}'\njserver: 127.0.0.1\nport: {}\n",
            a.jid, a.password, s.c2s_port
        ),
    )
    .unwrap();
    assert_exit(&vcard(&xdg), 13);

    // xft's own config, when there is one, is the only one read.
    std::fs::create_dir_all(xdg.join("xft")).unwrap();
    std::fs::write(xdg.join("xft").join("config.toml"), "resource = 'x'\n").unwrap();
    let out = vcard(&xdg);
    assert_exit(&out, 3);
    assert!(
        stderr(&out).contains("no JID") || stderr(&out).contains("jid"),
        "{}",
        stderr(&out)
    );
}

/// Issue 19, item 7: go-sendxmpp's `eval_password` ran without a deadline (a command
/// that sleeps kept xft waiting forever), and a config path that is a FIFO blocked in
/// `open`. Without a terminal, a password command now runs under `--timeout`; settings
/// files are opened without blocking, and anything but a regular file is refused.
#[test]
fn settings_that_would_hang_fail_within_the_timeout() {
    let s = server();
    let a = s.account("hang");
    let xdg = support::scratch_dir("hanging-settings");
    let go = xdg.join("go-sendxmpp");
    std::fs::create_dir_all(&go).unwrap();
    let fifo = |path: &std::path::Path| {
        let made = std::process::Command::new("mkfifo").arg(path).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
    };
    let timed = |mut c: std::process::Command| {
        let started = std::time::Instant::now();
        c.args(["--timeout", "2", "vcard", "get", "-q"]);
        let out = run(c);
        (out, started.elapsed())
    };
    let base = |xdg: &std::path::Path| {
        let mut c = s.xft_bare();
        c.env("XDG_CONFIG_HOME", xdg).arg("--ca").arg(&s.ca_pem);
        c
    };

    // eval_password that never finishes.
    std::fs::write(
        go.join("config"),
        format!(
            "username: {}\neval_password: sleep 60\njserver: 127.0.0.1\nport: {}\n",
            a.jid, s.c2s_port
        ),
    )
    .unwrap();
    let (out, took) = timed(base(&xdg));
    assert_exit(&out, 3);
    assert!(
        stderr(&out).contains("did not finish within 2 s"),
        "{}",
        stderr(&out)
    );
    assert!(took < std::time::Duration::from_secs(8), "took {took:?}");

    // The same for --password-command, whose sleeping child is killed with it.
    let mut c = base(&xdg);
    c.args(["--password-command", "sleep 60; echo late"]);
    let (out, took) = timed(c);
    assert_exit(&out, 3);
    assert!(took < std::time::Duration::from_secs(8), "took {took:?}");

    // A FIFO where a config or password file is expected: refused at once.
    std::fs::remove_file(go.join("config")).unwrap();
    fifo(&go.join("config"));
    let (out, took) = timed(base(&xdg));
    assert_exit(&out, 3);
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    assert!(took < std::time::Duration::from_secs(8), "took {took:?}");
    std::fs::create_dir_all(xdg.join("xft")).unwrap();
    fifo(&xdg.join("xft").join("config.toml"));
    let (out, _) = timed(base(&xdg));
    assert_exit(&out, 3);
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    let explicit = xdg.join("explicit.toml");
    fifo(&explicit);
    let mut c = base(&support::scratch_dir("no-xdg-config"));
    c.arg("--config").arg(&explicit);
    let (out, _) = timed(c);
    assert_exit(&out, 3);
    let password = xdg.join("password");
    fifo(&password);
    let mut c = base(&support::scratch_dir("no-xdg-config-2"));
    c.args([
        "--jid",
        &a.jid,
        "--server",
        &format!("127.0.0.1:{}", s.c2s_port),
    ])
    .arg("--password-file")
    .arg(&password);
    let (out, took) = timed(c);
    assert_exit(&out, 3);
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    assert!(took < std::time::Duration::from_secs(8), "took {took:?}");
}
