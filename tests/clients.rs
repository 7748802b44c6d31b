//! Scripted peers that behave as the clients people carry do, where those clients
//! cannot run here (docs/interop.md §4 says what each one does, read from its code):
//! Conversations as a Jingle sender and receiver, Dino's Stateless File Sharing.
//! Each script names the client and the behaviour it imitates.

mod support;

use support::{session_route, terminate_reason};

use std::time::Duration;

use support::{pattern, peer_login, scratch_dir, server, Receiver};
use xft::jingle::{Action, Jingle, Reason};
use xft::ns::{IBB_NS, JINGLE_NS};
use xft::stanza::{self, IqType};
use xft::xml::{parse_document, Element};

const LONG: Duration = Duration::from_secs(60);

fn digest<D: sha2::Digest>(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(D::digest(data))
}

/// Conversations as a Jingle sender over in-band bytestreams: its offer carries no
/// hash and spells the media type `<mediaType>`; its block size is the smaller of
/// 8192 and the one the receiver accepts; it keeps 3 blocks in flight and numbers them
/// on past 65535 without wrapping; it sends no `<close/>`; after the data it sends a
/// `<checksum/>` with sha-1 and sha-256 and no `creator`, and leaves the end of the
/// session to the receiver. `offered_block_size` is 8192 as Conversations offers it,
/// smaller only to cross seq 65535 with a small file. Returns the receiver's
/// session-terminate reason and the block size used.
async fn conversations_sends(
    s: &support::Prosody,
    from: &support::Account,
    to: &str,
    data: &[u8],
    offered_block_size: usize,
) -> (Option<Reason>, usize) {
    let (peer, _incoming) = peer_login(s, from).await;
    let (sid, ibb_sid) = (stanza::new_id(), stanza::new_id());
    let offer = format!(
        "<jingle xmlns='{JINGLE_NS}' action='session-initiate' sid='{sid}' initiator='{me}'>\
         <content creator='initiator' name='c0' senders='initiator'>\
         <description xmlns='urn:xmpp:jingle:apps:file-transfer:5'><file>\
         <mediaType>application/octet-stream</mediaType><name>from-conversations.bin</name>\
         <size>{size}</size></file></description>\
         <transport xmlns='urn:xmpp:jingle:transports:ibb:1' sid='{ibb_sid}' \
         block-size='{offered_block_size}'/></content></jingle>",
        me = peer.jid(),
        size = data.len(),
    );
    let mut route = session_route(&peer, to, &sid);
    peer.iq(stanza::iq(
        IqType::Set,
        Some(to),
        parse_document(&offer).unwrap(),
    ))
    .await
    .expect("the offer is acknowledged");
    let accept = tokio::time::timeout(LONG, route.next())
        .await
        .unwrap()
        .unwrap();
    peer.reply_result(&accept).await.unwrap();
    let accepted = accept
        .get_child("jingle", JINGLE_NS)
        .and_then(Jingle::from_element)
        .and_then(|j| j.contents.first()?.transport.clone())
        .and_then(|t| xft::jingle::transport::Ibb::from_element(&t))
        .map_or(offered_block_size, |ibb| ibb.block_size as usize);
    let block_size = accepted.min(8192);
    let open = Element::new("open", IBB_NS)
        .attr("sid", &ibb_sid)
        .attr("block-size", block_size.to_string())
        .attr("stanza", "iq");
    peer.iq(stanza::iq(IqType::Set, Some(to), open))
        .await
        .unwrap();
    let block = |seq: usize, chunk: &[u8]| {
        use base64::Engine;
        let text = base64::engine::general_purpose::STANDARD.encode(chunk);
        let data = Element::new("data", IBB_NS)
            .attr("sid", &ibb_sid)
            .attr("seq", seq.to_string())
            .text(text);
        stanza::iq(IqType::Set, Some(to), data)
    };
    let blocks: Vec<&[u8]> = data.chunks(block_size).collect();
    for (n, three) in blocks.chunks(3).enumerate() {
        let sends = three
            .iter()
            .enumerate()
            .map(|(i, chunk)| peer.iq(block(n * 3 + i, chunk)));
        for answer in futures_join_all(sends).await {
            answer.expect("every block is acknowledged");
        }
    }
    let checksum = format!(
        "<jingle xmlns='{JINGLE_NS}' action='session-info' sid='{sid}'>\
         <checksum xmlns='urn:xmpp:jingle:apps:file-transfer:5' name='c0'><file>\
         <hash xmlns='urn:xmpp:hashes:2' algo='sha-1'>{sha1}</hash>\
         <hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>{sha256}</hash>\
         </file></checksum></jingle>",
        sha1 = digest::<sha1::Sha1>(data),
        sha256 = digest::<sha2::Sha256>(data),
    );
    let _ = peer
        .iq(stanza::iq(
            IqType::Set,
            Some(to),
            parse_document(&checksum).unwrap(),
        ))
        .await;
    let reason = terminate_reason(&peer, &mut route).await;
    peer.close().await;
    (reason, block_size)
}

/// Runs the futures one after the other's first poll (so the stanzas leave in order)
/// and collects their results.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let handles: Vec<_> = futures.map(Box::pin).collect();
    let mut pending: Vec<_> = handles.into_iter().map(Some).collect();
    let mut out: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (slot, result) in pending.iter_mut().zip(out.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        *result = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn json(text: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(text);
    let line = text.lines().find(|l| l.starts_with('{')).unwrap_or("null");
    serde_json::from_str(line).unwrap()
}

/// Conversations sends in-band: no hash in the offer, no close, its checksum after the
/// data. xft ends the session with success once the sha-256 matched.
#[test]
fn a_file_from_conversations_over_ibb_is_verified_by_its_late_checksum() {
    let s = server();
    let (alice, bob) = (s.account("conv-send-a"), s.account("conv-send-b"));
    let dir = scratch_dir("conv-send");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--json", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let data = pattern(100_003, 41);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (reason, block_size) =
        runtime.block_on(conversations_sends(s, &alice, &receiver.jid, &data, 8192));
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(reason, Some(Reason::Success), "{}", done.stderr);
    assert!(block_size <= 8192);
    let report = json(&done.stdout);
    let want = format!("sha-256:{}", sha256_hex(&data));
    assert_eq!(report["hash"].as_str(), Some(want.as_str()), "{report}");
    assert_eq!(
        std::fs::read(dir.join("from-conversations.bin")).unwrap(),
        data
    );
}

/// Past 512 MiB Conversations numbers its blocks 65536, 65537, ... instead of wrapping
/// to 0 (XEP-0047 §2.2 says wrap); xft takes them in order. Small blocks here, to cross
/// 65535 with a small file.
#[test]
fn conversations_block_numbers_past_65535_are_taken_in_order() {
    let s = server();
    let (alice, bob) = (s.account("conv-seq-a"), s.account("conv-seq-b"));
    let dir = scratch_dir("conv-seq");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--json", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let data = pattern(65_540 * 4, 43);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (reason, block_size) =
        runtime.block_on(conversations_sends(s, &alice, &receiver.jid, &data, 4));
    let done = receiver.finish(LONG);
    assert_eq!(block_size, 4);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(reason, Some(Reason::Success), "{}", done.stderr);
    assert_eq!(
        std::fs::read(dir.join("from-conversations.bin")).unwrap(),
        data
    );
}

/// Logs in as Conversations does, as far as a sender sees it: Jingle file transfer
/// (`:5` only) over S5B or IBB, Jingle Message Initiation, no SI.
async fn conversations_login(
    s: &support::Prosody,
    account: &support::Account,
) -> (xft::session::Session, xft::session::Incoming) {
    use xft::ns::*;
    let mut settings = support::peer_settings(s, account);
    settings.features = [
        DISCO_INFO_NS,
        PING_NS,
        JINGLE_NS,
        JINGLE_FT_NS,
        JINGLE_S5B_NS,
        JINGLE_IBB_NS,
        JINGLE_MESSAGE_NS,
        BYTESTREAMS_NS,
        IBB_NS,
    ]
    .iter()
    .map(|f| f.to_string())
    .collect();
    xft::session::Session::login(&settings, &account.password)
        .await
        .expect("login")
}

/// What the scripted Conversations receiver saw.
struct ConversationsSaw {
    bytes: Vec<u8>,
    proposed: bool,
    candidates_missing: Vec<String>,
}

/// Conversations as a Jingle receiver: it ignores a XEP-0353 `<propose>` for a file (no
/// proceed, no reject); it takes only S5B candidates that carry cid, host, jid, port,
/// priority and type; it connects to the sender's direct candidate and says so; it ends
/// the session with success as soon as `size` bytes are in, before any checksum, and
/// answers later requests of the session as requests for an unknown session.
async fn conversations_receives(
    peer: xft::session::Session,
    mut incoming: xft::session::Incoming,
) -> ConversationsSaw {
    use tokio::io::AsyncReadExt;
    let mut proposed = false;
    let request = loop {
        let el = tokio::time::timeout(LONG, incoming.next())
            .await
            .expect("an offer comes")
            .unwrap();
        if el
            .get_child("propose", xft::ns::JINGLE_MESSAGE_NS)
            .is_some()
        {
            proposed = true; // and ignored
        }
        if el.get_child("jingle", JINGLE_NS).is_some() {
            break el;
        }
    };
    peer.reply_result(&request).await.unwrap();
    let jingle = request.get_child("jingle", JINGLE_NS).unwrap();
    let initiate = Jingle::from_element(jingle).unwrap();
    let sender = xft::jid::Jid::parse(request.get_attr("from").unwrap())
        .unwrap()
        .to_full()
        .unwrap();
    let content = initiate.contents[0].clone();
    let transport = content.transport.clone().unwrap();
    let s5b_sid = xft::jingle::transport::s5b_sid(&transport)
        .unwrap()
        .to_owned();
    let mut candidates_missing = Vec::new();
    let mut usable = Vec::new();
    for c in transport.children().filter(|c| c.name() == "candidate") {
        let missing: Vec<&str> = ["cid", "host", "jid", "port", "priority", "type"]
            .into_iter()
            .filter(|a| c.get_attr(a).is_none())
            .collect();
        match missing.is_empty() {
            true => usable.push(c.clone()),
            false => candidates_missing.push(format!("{}: {missing:?}", c.to_xml())),
        }
    }
    let me = peer.jid().clone();
    let mut accept = Jingle::new(Action::SessionAccept, &initiate.sid);
    accept.responder = Some(me.to_string());
    accept.contents.push(xft::jingle::Content {
        transport: Some(
            Element::new("transport", xft::ns::JINGLE_S5B_NS)
                .attr("sid", s5b_sid.as_str())
                .attr("mode", "tcp"),
        ),
        ..content.clone()
    });
    let to = sender.to_string();
    let mut route = session_route(&peer, &to, &initiate.sid);
    peer.iq(stanza::iq(IqType::Set, Some(&to), accept.to_element()))
        .await
        .unwrap();
    let direct = usable
        .iter()
        .filter(|c| c.get_attr("type") == Some("direct"))
        .max_by_key(|c| c.get_attr("priority").and_then(|p| p.parse::<u64>().ok()))
        .expect("a direct candidate with every attribute");
    let address = format!(
        "{}:{}",
        direct.get_attr("host").unwrap(),
        direct.get_attr("port").unwrap()
    );
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let hash = xft::bytestream::s5b::dst_addr(&s5b_sid, &sender, &me);
    xft::bytestream::socks5::connect(&mut socket, &hash, LONG)
        .await
        .unwrap();
    let mut used = Jingle::new(Action::TransportInfo, &initiate.sid);
    used.contents.push(xft::jingle::Content {
        description: None,
        transport: Some(xft::jingle::transport::s5b_candidate_used(
            &s5b_sid,
            direct.get_attr("cid").unwrap(),
        )),
        ..content.clone()
    });
    let _ = peer
        .iq_start(stanza::iq(IqType::Set, Some(&to), used.to_element()), LONG)
        .await;
    let size = xft::jingle::file::FileDesc::from_description(content.description.as_ref().unwrap())
        .unwrap()
        .size as usize;
    let mut bytes = vec![0u8; size];
    let read = socket.read_exact(&mut bytes);
    tokio::pin!(read);
    loop {
        tokio::select! {
            r = &mut read => { r.unwrap(); break; }
            Some(el) = route.next() => { peer.reply_result(&el).await.unwrap(); }
        }
    }
    // All `size` bytes are in: success, at once.
    let end =
        Jingle::new(Action::SessionTerminate, &initiate.sid).with_reason(Reason::Success, None);
    let _ = peer
        .iq_start(stanza::iq(IqType::Set, Some(&to), end.to_element()), LONG)
        .await;
    // The checksum that follows finds no session.
    while let Ok(Some(el)) = tokio::time::timeout(Duration::from_secs(2), route.next()).await {
        let _ = peer.reply_error(&el, &xft::jingle::unknown_session()).await;
    }
    peer.close().await;
    ConversationsSaw {
        bytes,
        proposed,
        candidates_missing,
    }
}

/// xft sends to Conversations, to its full JID and to its bare JID (a contact): a
/// session-initiate straight away (no propose), candidates Conversations accepts, and
/// a receiver that ends with success before our checksum is a success without a
/// verified hash (`"hash": null`, and stderr says why).
#[test]
fn conversations_receives_without_propose_and_without_checking_our_checksum() {
    let s = server();
    let (alice, bob) = (s.account("conv-recv-a"), s.account("conv-recv-b"));
    s.make_contacts(&alice, &bob);
    let data = pattern(200_001, 42);
    let file = scratch_dir("conv-recv").join("to-conversations.bin");
    std::fs::write(&file, &data).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for bare in [false, true] {
        let (peer, incoming) = runtime.block_on(async {
            let (peer, incoming) = conversations_login(s, &bob).await;
            // Available, as a phone is: a bare JID reaches it through its presence.
            peer.send(Element::new("presence", "jabber:client"))
                .await
                .unwrap();
            (peer, incoming)
        });
        let target = match bare {
            true => bob.jid.clone(),
            false => peer.jid().to_string(),
        };
        let mut send = s.xft(&alice);
        send.args(["send", "--json", "--timeout", "20"])
            .arg(&file)
            .arg(&target);
        let sender = std::thread::spawn(move || support::run(send));
        let saw = runtime.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(30),
                conversations_receives(peer, incoming),
            )
            .await
        });
        let out = sender.join().unwrap();
        let saw = saw.unwrap_or_else(|_| panic!("{}", support::stderr(&out)));
        support::assert_exit(&out, 0);
        assert!(!saw.proposed, "xft proposed to {target}");
        assert!(
            saw.candidates_missing.is_empty(),
            "{:?}",
            saw.candidates_missing
        );
        assert!(saw.bytes == data, "the bytes differ");
        let report = json(&out.stdout);
        assert_eq!(report["hash"], serde_json::Value::Null, "{report}");
        assert_eq!(report["protocol"], "jingle", "{report}");
        assert!(
            support::stderr(&out).contains("without taking our checksum"),
            "{}",
            support::stderr(&out)
        );
    }
}

/// Uploads `bytes` with `xft upload` and returns the URL (what Dino's own upload gives).
fn upload_raw(s: &support::Prosody, account: &support::Account, bytes: &[u8], tag: &str) -> String {
    let file = scratch_dir(tag).join("upload.bin");
    std::fs::write(&file, bytes).unwrap();
    let mut up = s.xft(account);
    up.arg("upload").arg(&file);
    let out = support::run(up);
    support::assert_exit(&out, 0);
    support::stdout(&out).trim().to_owned()
}

/// Dino 0.5 sharing an unencrypted file: first `<file-sharing>` with the metadata
/// (`<media_type>` and `<media-type>` both, a sha-256) and no source, with `<store/>`;
/// then, once uploaded, a message attaching `<sources>` to the first by its id, with
/// the URL as body and in `jabber:x:oob`. `attacher` sends the second message (Dino
/// itself: the same session), `with_fallback` says whether it carries body and oob.
async fn dino_shares(
    (peer, attacher): (&xft::session::Session, &xft::session::Session),
    to: &str,
    (name, data, sha256): (&str, &[u8], &[u8]),
    (url, with_fallback): (&str, bool),
) {
    use base64::Engine;
    let (message_id, share_id) = (stanza::new_id(), stanza::new_id());
    let hash = base64::engine::general_purpose::STANDARD.encode(sha256);
    let first = format!(
        "<message xmlns='jabber:client' to='{to}' type='chat' id='{message_id}'>\
         <file-sharing xmlns='urn:xmpp:sfs:0' id='{share_id}'><file xmlns='urn:xmpp:file:metadata:0'>\
         <name>{name}</name><media_type>application/octet-stream</media_type>\
         <media-type>application/octet-stream</media-type><size>{size}</size>\
         <date>2026-12-03T06:00:00Z</date>\
         <hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>{hash}</hash></file></file-sharing>\
         <store xmlns='urn:xmpp:hints'/></message>",
        size = data.len(),
    );
    peer.send(parse_document(&first).unwrap()).await.unwrap();
    let fallback = match with_fallback {
        true => format!(
            "<body>{url}</body><x xmlns='jabber:x:oob'><url>{url}</url></x>\
             <fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:sfs:0'><body/></fallback>"
        ),
        false => String::new(),
    };
    let second = format!(
        "<message xmlns='jabber:client' to='{to}' type='chat' id='{}'>\
         <attach-to xmlns='urn:xmpp:message-attaching:1' id='{message_id}'/>\
         <sources xmlns='urn:xmpp:sfs:0' id='{share_id}'>\
         <url-data xmlns='http://jabber.org/protocol/url-data' target='{url}'/></sources>\
         {fallback}</message>",
        stanza::new_id()
    );
    attacher
        .send(parse_document(&second).unwrap())
        .await
        .unwrap();
}

fn sha256_of(data: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(data).to_vec()
}

/// A share from Dino in two messages arrives under its announced name, its sha-256
/// checked; sources that another account attaches to it are not taken; a share whose
/// hash does not match leaves no file and exits 11.
#[test]
fn dino_shares_a_file_in_two_messages_and_xft_checks_its_hash() {
    let s = support::upload_server();
    let (alice, bob, mallory) = (
        s.account("dino-a"),
        s.account("dino-b"),
        s.account("dino-m"),
    );
    let data = pattern(150_001, 44);
    let url = upload_raw(s, &alice, &data, "dino-up");
    let other = upload_raw(s, &mallory, b"not the file", "dino-up-m");
    let dir = scratch_dir("dino-recv");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--json", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (dino, _incoming) = peer_login(s, &alice).await;
        let (thief, _incoming2) = peer_login(s, &mallory).await;
        let file = ("Summit photo.jpg", &data[..], &sha256_of(&data)[..]);
        // mallory attaches her URL to alice's share first (no fallback: only the share
        // could make it a file): ignored.
        dino_shares((&dino, &thief), &receiver.jid, file, (&other, false)).await;
        dino_shares((&dino, &dino), &receiver.jid, file, (&url, true)).await;
        dino.close().await;
        thief.close().await;
    });
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let report = json(&done.stdout);
    let want = format!("sha-256:{}", sha256_hex(&data));
    assert_eq!(report["hash"].as_str(), Some(want.as_str()), "{report}");
    assert_eq!(support::list_dir(&dir), ["Summit photo.jpg"]);
    assert!(std::fs::read(dir.join("Summit photo.jpg")).unwrap() == data);

    // The same share announcing another file's hash.
    let dir = scratch_dir("dino-recv-bad");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--json", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    runtime.block_on(async {
        let (dino, _incoming) = peer_login(s, &alice).await;
        let file = ("bad.bin", &data[..], &sha256_of(b"something else")[..]);
        dino_shares((&dino, &dino), &receiver.jid, file, (&url, true)).await;
        dino.close().await;
    });
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(11), "{}", done.stderr);
    assert!(
        support::list_dir(&dir).is_empty(),
        "{:?}",
        support::list_dir(&dir)
    );
}

/// `xft send --method upload` shares the file in one message, as Dino reads it: a
/// `<file-sharing>` with name, size, media type, date and the sha-256 of the file, the
/// `url-data` source, and the URL as body and in `jabber:x:oob` for other clients.
#[test]
fn an_upload_is_shared_as_dino_reads_it() {
    let s = support::upload_server();
    let (alice, bob) = (s.account("dino-send-a"), s.account("dino-send-b"));
    let data = pattern(70_001, 45);
    let file = scratch_dir("dino-send").join("notes.txt");
    std::fs::write(&file, &data).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (peer, mut incoming) = runtime.block_on(async {
        let (peer, incoming) = peer_login(s, &bob).await;
        peer.send(Element::new("presence", "jabber:client"))
            .await
            .unwrap();
        (peer, incoming)
    });
    s.make_contacts(&alice, &bob);
    let mut send = s.xft(&alice);
    send.args(["send", "--method", "upload", "--json"])
        .arg(&file)
        .arg(&bob.jid);
    let out = support::run(send);
    support::assert_exit(&out, 0);
    let message = runtime.block_on(async {
        loop {
            let el = tokio::time::timeout(LONG, incoming.next())
                .await
                .unwrap()
                .unwrap();
            if el.name() == "message" {
                break el;
            }
        }
    });
    runtime.block_on(peer.close());
    let share = xft::sfs::share_of(&message).expect("a file share");
    let url = share.urls.first().expect("a url-data source").clone();
    assert_eq!(share.file.name.as_deref(), Some("notes.txt"));
    assert_eq!(share.file.size, Some(data.len() as u64));
    assert_eq!(share.file.media_type.as_deref(), Some("text/plain"));
    assert!(share.file.date.is_some());
    assert_eq!(
        share.file.hashes,
        [("sha-256".to_owned(), sha256_of(&data))]
    );
    assert_eq!(
        message.child_text("body", "jabber:client"),
        Some(url.clone())
    );
    let oob = message.get_child("x", "jabber:x:oob").unwrap();
    assert_eq!(oob.child_text("url", "jabber:x:oob"), Some(url.clone()));
    assert_eq!(json(&out.stdout)["url"].as_str(), Some(url.as_str()));
}

/// Runs `cmd` to its end, or kills it after `limit` (then `None`).
fn run_within(mut cmd: std::process::Command, limit: Duration) -> Option<std::process::Output> {
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().ok();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A server answers our initial presence with its own users' presence before it
/// handles our next stanza: once the message xft sends itself behind that presence is
/// back, xft knows which local contacts are online and need not wait out
/// `--presence-wait` (600 s here): an online contact gets the file, an offline one is
/// reported offline (exit 6), both long before that deadline.
#[test]
fn local_contacts_are_resolved_once_the_server_has_said_all() {
    let s = server();
    let (alice, bob, carol) = (
        s.account("settle-a"),
        s.account("settle-b"),
        s.account("settle-c"),
    );
    s.make_contacts(&alice, &bob);
    s.make_contacts(&alice, &carol);
    let dir = scratch_dir("settle-recv");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--json", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let file = scratch_dir("settle-src").join("f.txt");
    std::fs::write(&file, b"settled").unwrap();
    for (to, code) in [(&bob.jid, 0), (&carol.jid, 6)] {
        let mut send = s.xft(&alice);
        send.args(["send", "--presence-wait", "600", "--method", "s5b"])
            .arg(&file)
            .arg(to);
        let out = run_within(send, LONG).expect("xft waited for presence it had heard all of");
        assert_eq!(
            out.status.code(),
            Some(code),
            "{to}: {}",
            support::stderr(&out)
        );
    }
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(std::fs::read(dir.join("f.txt")).unwrap(), b"settled");
}

/// XEP-0115: `xft recv` announces a `ver` of its features in its presence. The first
/// send to its bare JID asks the resource for its features and remembers the answer
/// under that `ver` (it hashes to it); the second takes them from there, with no
/// disco#info round trip through both servers. Both files arrive, and each sender's
/// stream ends without waiting for the server's closing tag.
#[test]
fn a_known_client_is_not_asked_for_its_features_again() {
    let s = server();
    let (alice, bob) = (s.account("caps-a"), s.account("caps-b"));
    s.make_contacts(&alice, &bob);
    let dir = scratch_dir("caps-recv");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--json", "--count", "2", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let cache = scratch_dir("caps-cache");
    let src = scratch_dir("caps-src");
    let mut logs = Vec::new();
    for name in ["one.txt", "two.txt"] {
        let file = src.join(name);
        std::fs::write(&file, name).unwrap();
        let mut send = s.xft(&alice);
        send.env("XDG_CACHE_HOME", &cache)
            .args(["-v", "send", "--method", "s5b"])
            .arg(&file)
            .arg(&bob.jid);
        let out = run_within(send, LONG).expect("send ended");
        let log = support::stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{log}");
        logs.push(log);
    }
    let from_caps = "from its capabilities";
    assert!(
        !logs[0].contains(from_caps),
        "nothing known yet: {}",
        logs[0]
    );
    assert!(logs[1].contains(from_caps), "{}", logs[1]);
    // The receiver's session-terminate was answered as a courtesy: the stream ended
    // without a round trip for the server's proof that it forwarded the answer.
    for log in &logs {
        assert!(
            log.contains("closed: the server has answered everything that matters"),
            "{log}"
        );
    }
    let remembered = std::fs::read_to_string(cache.join("xft/caps.json")).unwrap();
    assert!(remembered.contains(xft::ns::JINGLE_FT_NS), "{remembered}");
    let done = receiver.finish(LONG);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    for name in ["one.txt", "two.txt"] {
        assert_eq!(std::fs::read(dir.join(name)).unwrap(), name.as_bytes());
    }
}
