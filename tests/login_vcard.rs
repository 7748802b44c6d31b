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
