//! Malformed and unwelcome SI offers (XEP-0095/0096) and SOCKS5 streamhost offers
//! (XEP-0065) at the real `xft recv`. For each: the stanza error the sender gets, then
//! proof that the receiver is still up (a good file arrives and it exits 0) within a
//! bounded time, with exactly that file left in its directory (issue 8, hostile-peer
//! suite).

mod support;

use std::time::{Duration, Instant};
use xft::ns::SI_NS;
use xft::stanza::Condition;
use xft::stanza::IqType;

use support::{list_dir, pattern, peer_login, scratch_dir, server, Receiver};
use xft::bytestream::ibb::IbbSender;
use xft::bytestream::s5b::{self, StreamHost};

use xft::jid::FullJid;
use xft::session::{IqError, Session};
use xft::si::{self, FileOffer, StreamMethod};
use xft::stanza;
use xft::xml::parse_document;

/// The receiver must be done (hostile case, then the good file) within this.
const BOUNDED: Duration = Duration::from_secs(40);

const FT: &str = "http://jabber.org/protocol/si/profile/file-transfer";

/// What the hostile stanza must get back.
enum Answer {
    /// An error with this defined condition.
    Error(&'static str),
    /// An error carrying this application condition in the SI namespace.
    AppError(&'static str),
}

/// An `<si/>` offer built from `file` (the `<file/>` element's inside) and `methods`
/// (the options), with `sid` as its id.
fn offer_xml(sid: &str, profile: &str, file: &str, methods: &str) -> String {
    format!(
        "<si xmlns='{SI_NS}' id='{sid}' profile='{profile}'>{file}\
         <feature xmlns='http://jabber.org/protocol/feature-neg'><x xmlns='jabber:x:data' type='form'>\
         <field var='stream-method' type='list-single'>{methods}</field></x></feature></si>"
    )
}

const IBB_OPTION: &str = "<option><value>http://jabber.org/protocol/ibb</value></option>";

fn good_file(attrs: &str) -> String {
    format!("<file xmlns='{FT}' {attrs}/>")
}

/// Runs one case: `xft recv` with `args`, the hostile iq payload from `mallory`, the
/// expected answer, then a good file.
fn survives(tag: &str, args: &[&str], payload: &str, answer: Answer) {
    let s = server();
    let (mallory, bob) = (s.account("mallory"), s.account("bob"));
    let dir = scratch_dir(tag);
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--timeout", "10", "--json", "--dir"])
        .arg(&dir)
        .args(args);
    let receiver = Receiver::spawn(recv);
    let target = receiver.target();
    let started = Instant::now();
    let payload = parse_document(payload).expect("the case parses");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &mallory).await;
        let got = peer
            .iq_timeout(
                stanza::iq(IqType::Set, Some(&target.to_string()), payload),
                Duration::from_secs(15),
            )
            .await;
        match (&answer, got) {
            (Answer::Error(condition), Err(IqError::Stanza(e))) => {
                assert!(
                    e.condition.as_str() == *condition,
                    "{tag}: wanted {condition}, got {e}"
                )
            }
            (Answer::AppError(condition), Err(IqError::Stanza(e))) => assert!(
                e.has_app_condition(condition, SI_NS),
                "{tag}: wanted <{condition}/>, got {e}"
            ),
            (_, other) => panic!("{tag}: wanted an error, got {other:?}"),
        }
        send_good_file(&peer, &target).await;
        peer.close().await;
    });
    let done = receiver.finish(BOUNDED);
    assert_eq!(done.code, Some(0), "{tag}: {}", done.stderr);
    assert!(
        started.elapsed() < BOUNDED,
        "{tag}: took {:?}",
        started.elapsed()
    );
    assert_eq!(
        list_dir(&dir),
        ["good.bin"],
        "{tag}: only the good file is left"
    );
}

/// A well-formed offer over IBB, and the bytes.
async fn send_good_file(peer: &Session, target: &FullJid) {
    let data = pattern(5000, 51);
    let offer = FileOffer {
        sid: stanza::new_id(),
        mime_type: None,
        name: "good.bin".into(),
        size: data.len() as u64,
        md5: None,
        date: None,
        desc: None,
        methods: vec![StreamMethod::Ibb],
        ranged: false,
    };
    let answer = peer
        .iq(stanza::iq(
            IqType::Set,
            Some(&target.to_string()),
            offer.to_element(),
        ))
        .await
        .expect("the good offer is accepted");
    si::parse_answer(answer.get_child("si", SI_NS).unwrap(), &offer.methods).unwrap();
    let mut ibb = IbbSender::open(
        peer,
        target.as_jid(),
        &offer.sid,
        4096,
        Duration::from_secs(15),
    )
    .await
    .unwrap();
    ibb.send(&mut &data[..], data.len() as u64, 4)
        .await
        .unwrap();
    ibb.close().await.unwrap();
}

macro_rules! hostile_offer {
    ($name:ident, $args:expr, $payload:expr, $answer:expr) => {
        #[test]
        fn $name() {
            let payload: String = $payload.into();
            survives(stringify!($name), $args, &payload, $answer);
        }
    };
}

const ANY: &[&str] = &["--accept-any"];

hostile_offer!(
    unknown_profile,
    ANY,
    offer_xml(
        "p1",
        "urn:example:not-files",
        &good_file("name='a' size='1'"),
        IBB_OPTION
    ),
    Answer::AppError("bad-profile")
);
hostile_offer!(
    no_file_element,
    ANY,
    offer_xml("p2", FT, "", IBB_OPTION),
    Answer::Error("bad-request")
);
hostile_offer!(
    no_name,
    ANY,
    offer_xml("p3", FT, &good_file("size='1'"), IBB_OPTION),
    Answer::Error("bad-request")
);
hostile_offer!(
    no_size,
    ANY,
    offer_xml("p4", FT, &good_file("name='a'"), IBB_OPTION),
    Answer::Error("bad-request")
);
hostile_offer!(
    negative_size,
    ANY,
    offer_xml("p5", FT, &good_file("name='a' size='-1'"), IBB_OPTION),
    Answer::Error("bad-request")
);
hostile_offer!(
    size_beyond_u64,
    ANY,
    offer_xml(
        "p6",
        FT,
        &good_file("name='a' size='18446744073709551616'"),
        IBB_OPTION
    ),
    Answer::Error("bad-request")
);
hostile_offer!(
    size_not_a_number,
    ANY,
    offer_xml("p7", FT, &good_file("name='a' size='1e3'"), IBB_OPTION),
    Answer::Error("bad-request")
);
hostile_offer!(
    no_stream_methods,
    ANY,
    offer_xml("p8", FT, &good_file("name='a' size='1'"), ""),
    Answer::AppError("no-valid-streams")
);
hostile_offer!(
    only_unknown_methods,
    ANY,
    offer_xml(
        "p9",
        FT,
        &good_file("name='a' size='1'"),
        "<option><value>jabber:iq:oob</value></option><option><value>urn:x</value></option>"
    ),
    Answer::AppError("no-valid-streams")
);
hostile_offer!(
    thousands_of_unknown_methods,
    ANY,
    offer_xml(
        "p10",
        FT,
        &good_file("name='a' size='1'"),
        &"<option><value>urn:example:nope</value></option>".repeat(5000)
    ),
    Answer::AppError("no-valid-streams")
);
hostile_offer!(
    sid_with_spaces,
    ANY,
    offer_xml("a b", FT, &good_file("name='a' size='1'"), IBB_OPTION),
    Answer::Error("bad-request")
);
hostile_offer!(
    sid_too_long,
    ANY,
    offer_xml(
        &"s".repeat(300),
        FT,
        &good_file("name='a' size='1'"),
        IBB_OPTION
    ),
    Answer::Error("bad-request")
);
hostile_offer!(
    larger_than_max_size,
    &["--accept-any", "--max-size", "8K"],
    offer_xml("p13", FT, &good_file("name='a' size='8193'"), IBB_OPTION),
    Answer::Error("forbidden")
);
hostile_offer!(
    not_an_offer_at_all,
    ANY,
    "<query xmlns='jabber:iq:version'/>",
    Answer::Error("service-unavailable")
);

/// An offer from a sender `--from` does not name is refused, and the named sender's
/// file still arrives.
#[test]
fn from_a_stranger_then_from_the_allowed_sender() {
    let s = server();
    let (friend, mallory, bob) = (s.account("friend"), s.account("mallory"), s.account("bob"));
    let dir = scratch_dir("stranger-then-friend");
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--timeout", "10", "--from", &friend.jid, "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let target = receiver.target();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (stranger, _i) = peer_login(s, &mallory).await;
        let offer = parse_document(&offer_xml(
            "st1",
            FT,
            &good_file("name='a' size='1'"),
            IBB_OPTION,
        ))
        .unwrap();
        let refused = stranger
            .iq(stanza::iq(IqType::Set, Some(&target.to_string()), offer))
            .await;
        assert!(
            matches!(refused, Err(IqError::Stanza(ref e)) if e.is(Condition::Forbidden)),
            "{refused:?}"
        );
        stranger.close().await;
        let (allowed, _i) = peer_login(s, &friend).await;
        send_good_file(&allowed, &target).await;
        allowed.close().await;
    });
    let done = receiver.finish(BOUNDED);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert_eq!(list_dir(&dir), ["good.bin"]);
}

/// A SOCKS5 streamhost offer for a session that does not exist is refused, and the
/// receiver goes on.
#[test]
fn streamhost_offer_for_an_unknown_session() {
    let hosts = [StreamHost {
        jid: "proxy.xft.test".parse().unwrap(),
        host: "127.0.0.1".into(),
        port: 9,
    }];
    let payload = s5b::offer_element("no-such-sid", &hosts).to_xml();
    survives(
        "s5b-unknown-sid",
        ANY,
        &payload,
        Answer::Error("service-unavailable"),
    );
}

/// A scripted requester's streamhost offers that xft recv must turn down, each after
/// the SI offer was accepted: the receiver answers the streamhost offer with an error,
/// then waits for an in-band fallback that never comes, and ends with exit 10 within
/// its `--timeout`, leaving no file.
fn bad_streamhosts(tag: &str, hosts_xml: &str, answer: &'static str) {
    let s = server();
    let (mallory, bob) = (s.account("mallory"), s.account("bob"));
    let dir = scratch_dir(tag);
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--accept-any", "--timeout", "3", "--dir"])
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let target = receiver.target();
    let started = Instant::now();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (peer, _incoming) = peer_login(s, &mallory).await;
        let data = pattern(100, 52);
        let sid = support::offer_to(&peer, &target, &data, &[StreamMethod::Socks5, StreamMethod::Ibb]).await;
        let query = parse_document(&format!(
            "<query xmlns='http://jabber.org/protocol/bytestreams' sid='{sid}' mode='tcp'>{hosts_xml}</query>"
        ))
        .unwrap();
        let got = peer
            .iq_timeout(stanza::iq(IqType::Set, Some(&target.to_string()), query), Duration::from_secs(20))
            .await;
        match got {
            Err(IqError::Stanza(e)) => assert!(e.condition.as_str() == answer, "{tag}: wanted {answer}, got {e}"),
            other => panic!("{tag}: wanted {answer}, got {other:?}"),
        }
        let done = tokio::task::spawn_blocking(move || receiver.finish(BOUNDED))
            .await
            .unwrap();
        assert_eq!(done.code, Some(10), "{tag}: {}", done.stderr);
        peer.close().await;
    });
    assert!(
        started.elapsed() < BOUNDED,
        "{tag}: took {:?}",
        started.elapsed()
    );
    assert_eq!(list_dir(&dir), Vec::<String>::new(), "{tag}");
}

#[test]
fn streamhost_offer_with_no_hosts() {
    bad_streamhosts("s5b-no-hosts", "", "bad-request");
}

#[test]
fn streamhost_offer_with_only_unusable_hosts() {
    bad_streamhosts(
        "s5b-unusable",
        "<streamhost jid='a.example' host='127.0.0.1' port='0'/>\
         <streamhost jid='b.example' host='' port='5000'/>\
         <streamhost jid='not a jid@@' host='127.0.0.1' port='5000'/>\
         <streamhost jid='c.example' host='127.0.0.1' port='99999'/>",
        "bad-request",
    );
}

#[test]
fn streamhost_offer_with_a_hundred_dead_hosts() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let hosts: String = (0..100)
        .map(|i| format!("<streamhost jid='dead{i}.example' host='127.0.0.1' port='{port}'/>"))
        .collect();
    bad_streamhosts("s5b-hundred", &hosts, "item-not-found");
}

#[test]
fn streamhost_that_answers_http() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        while let Ok((mut socket, _)) = listener.accept() {
            let mut buf = [0u8; 64];
            let _ = socket.read(&mut buf);
            let _ = socket.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        }
    });
    bad_streamhosts(
        "s5b-http",
        &format!("<streamhost jid='http.example' host='127.0.0.1' port='{port}'/>"),
        "item-not-found",
    );
}
