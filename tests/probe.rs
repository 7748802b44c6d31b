//! `xft probe` against a real Prosody, with xft and slixmpp peers (the slixmpp case is
//! in tests/interop_slixmpp.rs).

mod support;

use support::{assert_exit, run, scratch_dir, server, stdout, upload_server, Receiver};

fn probe(s: &support::Prosody, account: &support::Account, args: &[&str]) -> std::process::Output {
    let mut cmd = s.xft(account);
    cmd.arg("probe").args(args);
    run(cmd)
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(stdout(out).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn the_server_alone() {
    let s = upload_server();
    let alice = s.account("probe-srv");
    let out = probe(s, &alice, &["--json"]);
    assert_exit(&out, 0);
    let v = json(&out);
    let login = &v["server"]["login"];
    assert_eq!(login["endpoint"], format!("127.0.0.1:{}", s.c2s_port));
    assert_eq!(login["tls_version"], "TLSv1.3");
    assert!(login["sasl_offered"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m == "SCRAM-SHA-1"));
    assert_eq!(login["sasl_used"], "SCRAM-SHA-1");
    let proxy = &v["server"]["proxies"][0];
    assert_eq!(proxy["jid"], support::PROXY);
    assert_eq!(proxy["port"], s.proxy_port);
    assert_eq!(proxy["reachable"], true);
    assert_eq!(v["server"]["upload"]["jid"], support::UPLOAD);
    assert_eq!(
        v["server"]["upload"]["max_file_size"],
        support::UPLOAD_LIMIT
    );
    assert_eq!(v["server"]["vcard"], true);
    assert_eq!(v["verdict"]["streams"], serde_json::json!(["s5b", "ibb"]));
    assert_eq!(
        v["verdict"]["direct_addresses"],
        serde_json::json!(["127.0.0.1"])
    );
    // The terminal form says the same in words.
    let out = probe(s, &alice, &[]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("SOCKS5 proxy") && text.contains("reachable"),
        "{text}"
    );
    assert!(
        text.contains("HTTP upload") && text.contains(support::UPLOAD),
        "{text}"
    );
}

#[test]
fn an_xft_receiver_gets_jingle_over_s5b_then_ibb() {
    let s = server();
    let (alice, bob) = (s.account("probe-a"), s.account("probe-b"));
    s.make_contacts(&alice, &bob);
    let dir = scratch_dir("probe-recv");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--dir"]).arg(&dir);
    let receiver = Receiver::spawn(recv);
    let out = probe(s, &alice, &["--json", &bob.jid]);
    assert_exit(&out, 0);
    let v = json(&out);
    assert_eq!(v["peer"]["subscription"], "both");
    let r = &v["peer"]["resources"][0];
    assert_eq!(r["jid"], receiver.jid.as_str());
    assert_eq!(r["client"], format!("xft {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(
        (
            r["si_file_transfer"].clone(),
            r["s5b"].clone(),
            r["ibb"].clone()
        ),
        (true.into(), true.into(), true.into())
    );
    assert_eq!(
        (
            r["jingle_file_transfer"].clone(),
            r["jingle_s5b"].clone(),
            r["jingle_ibb"].clone()
        ),
        (true.into(), true.into(), true.into())
    );
    assert_eq!(v["verdict"]["method"], "jingle");
    assert_eq!(v["verdict"]["to"], receiver.jid.as_str());
    assert_eq!(v["verdict"]["streams"], serde_json::json!(["s5b", "ibb"]));
    drop(receiver);
}

#[test]
fn a_stranger_is_reached_by_upload_or_not_at_all() {
    // With upload: the verdict is upload, with advice to add the contact.
    let s = upload_server();
    let (alice, carol) = (s.account("probe-u"), s.account("probe-c"));
    let out = probe(s, &alice, &["--json", "--presence-wait", "0", &carol.jid]);
    assert_exit(&out, 0);
    let v = json(&out);
    assert_eq!(v["peer"]["subscription"], serde_json::Value::Null);
    assert_eq!(v["verdict"]["method"], "upload");
    let advice = v["verdict"]["advice"].to_string();
    assert!(advice.contains("xft contact add"), "{advice}");
    // Without upload: nothing would work, exit 7, and the text says what to change.
    let s = server();
    let (alice, carol) = (s.account("probe-n"), s.account("probe-m"));
    let out = probe(s, &alice, &["--presence-wait", "0", &carol.jid]);
    assert_exit(&out, 7);
    let text = stdout(&out);
    assert!(text.contains("nothing would work"), "{text}");
    assert!(text.contains("mod_http_file_share"), "{text}");
}

/// libervia 0.9 advertises Jingle file transfer with both transports, and SI file
/// transfer too (checked here: its disco lists the XEP-0096 profile); the verdict is
/// Jingle to its resource, as `xft send` would choose. Everything runs in a network namespace with only `lo`
/// (libervia probes the network by itself).
#[test]
fn a_libervia_peer_is_seen_with_jingle_and_si() {
    let s = support::netns_server();
    let (alice, bob) = (s.account("probelva"), s.account("probelvb"));
    s.make_contacts(&alice, &bob);
    let libervia = support::libervia::backend(s);
    let full = libervia.connect(s, &bob);
    let out = probe(s, &alice, &["--json", "--presence-wait", "5", &bob.jid]);
    assert_exit(&out, 0);
    let v = json(&out);
    let r = &v["peer"]["resources"][0];
    assert_eq!(r["jid"], full.as_str(), "{v}");
    assert!(
        r["client"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("libervia"),
        "{r}"
    );
    assert_eq!(r["jingle_file_transfer"], true, "{r}");
    assert_eq!(r["jingle_s5b"], true, "{r}");
    assert_eq!(r["jingle_ibb"], true, "{r}");
    assert_eq!(r["si_file_transfer"], true, "{r}");
    assert_eq!(v["verdict"]["method"], "jingle", "{v}");
    assert_eq!(v["verdict"]["to"], full.as_str(), "{v}");
}

/// Issue 19, item 6: each proxy's address was tried one after the other, 3 s each, so a
/// server listing six unreachable proxies made `xft probe` take 18 s. They are tried at
/// once now, under the one 3 s bound. The proxy is played by a component whose
/// streamhosts are addresses where connections hang.
#[test]
fn unreachable_proxies_are_tried_at_once() {
    use support::component::{asks, BlackHole, Component};
    let holes: Vec<BlackHole> = (0..6).map(|_| BlackHole::new()).collect();
    let hosts: String = holes
        .iter()
        .map(|h| {
            format!(
                "<streamhost jid='{}' host='127.0.0.1' port='{}'/>",
                support::COMPONENT,
                h.port
            )
        })
        .collect();
    let _proxy = Component::start(move |iq| {
        Some(if asks(iq, "query", xft::ns::DISCO_INFO_NS) {
            "<query xmlns='http://jabber.org/protocol/disco#info'>\
             <identity category='proxy' type='bytestreams'/>\
             <feature var='http://jabber.org/protocol/bytestreams'/></query>"
                .to_owned()
        } else if asks(iq, "query", xft::ns::BYTESTREAMS_NS) {
            format!("<query xmlns='http://jabber.org/protocol/bytestreams'>{hosts}</query>")
        } else {
            "<query xmlns='http://jabber.org/protocol/disco#items'/>".to_owned()
        })
    });
    let s = support::component_server();
    let alice = s.account("probe-px");
    let started = std::time::Instant::now();
    let out = probe(s, &alice, &["--json"]);
    let elapsed = started.elapsed();
    assert_exit(&out, 0);
    let v = json(&out);
    let proxies = v["server"]["proxies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let unreachable = proxies.iter().filter(|p| p["reachable"] == false).count();
    assert_eq!(unreachable, 6, "{v}");
    assert!(
        proxies
            .iter()
            .any(|p| p["jid"] == support::PROXY && p["reachable"] == true),
        "{v}"
    );
    // One 3 s bound, plus the login and a loaded machine; 18 s before.
    assert!(
        elapsed < std::time::Duration::from_secs(9),
        "took {elapsed:?}"
    );
}
