//! HTTP upload against services and web servers that misbehave. The upload service is
//! played by this test as an external component (XEP-0114) of a real Prosody, so xft
//! finds it by ordinary service discovery; its slots point at a scripted HTTP server on
//! 127.0.0.1. The download side gets links from a scripted peer.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::component::{asks, Component};
use support::{
    assert_exit, component_server, list_dir, pattern, run, scratch_dir, server, stderr, stdout,
    Receiver,
};

/// What the scripted web server does with one request.
#[derive(Clone)]
enum Reply {
    /// Reads the whole request body, then answers with this status.
    Status(u16),
    /// Reads the headers, then neither reads nor answers (for 30 s).
    Stall,
    /// Reads the body at this many bytes per second, then answers 201.
    SlowRead(usize),
    /// HEAD: 200 with the length of the last PUT's body; anything else: 404.
    Served,
    /// 200 announcing `length` bytes, then 256 bytes every quarter second.
    Trickle(usize),
    /// HEAD: 200 announcing this length.
    HeadLength(usize),
    /// 200 with `body`, announcing `length` (None: no Content-Length, close-delimited),
    /// then stalls instead of closing when `stall` is set.
    Body {
        length: Option<usize>,
        body: Vec<u8>,
        stall: bool,
    },
}

/// One request as the web server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    /// Header names lower-cased, in order.
    headers: Vec<(String, String)>,
    body_len: usize,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A web server on 127.0.0.1 that answers its N-th connection with `script[N]`.
struct WebServer {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl WebServer {
    fn start(script: Vec<Reply>) -> WebServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            // Past the script, a connection is served as a working service would: the
            // check after an upload (HEAD) finds the file it took.
            let mut script = script.into_iter();
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let reply = script.next().unwrap_or(Reply::Served);
                let log = log.clone();
                std::thread::spawn(move || serve(stream, reply, &log));
            }
        });
        WebServer { port, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(stream: TcpStream, reply: Reply, log: &Mutex<Vec<Seen>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut seen = Seen {
        method,
        path,
        headers,
        body_len: 0,
    };
    let mut out = stream;
    let last_put = || {
        log.lock()
            .unwrap()
            .iter()
            .rev()
            .find(|s| s.method == "PUT")
            .map_or(0, |s| s.body_len)
    };
    match reply {
        Reply::Trickle(length) => {
            log.lock().unwrap().push(seen);
            let _ = write!(out, "HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n");
            for _ in 0..(length / 256) {
                std::thread::sleep(Duration::from_millis(250));
                if out.write_all(&[3; 256]).and_then(|()| out.flush()).is_err() {
                    break;
                }
            }
        }
        Reply::Served | Reply::HeadLength(_) => {
            let head = match (&reply, seen.method.as_str()) {
                (Reply::HeadLength(n), _) => format!("200 OK\r\nContent-Length: {n}"),
                (_, "HEAD") => format!("200 OK\r\nContent-Length: {}", last_put()),
                _ => "404 Not Found\r\nContent-Length: 0".to_owned(),
            };
            log.lock().unwrap().push(seen);
            let _ = write!(out, "HTTP/1.1 {head}\r\nConnection: close\r\n\r\n");
        }
        Reply::Stall => {
            log.lock().unwrap().push(seen);
            std::thread::sleep(Duration::from_secs(30));
        }
        Reply::SlowRead(rate) => {
            let started = Instant::now();
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = 0usize;
            while got < length {
                let want = buf.len().min(length - got);
                match reader.read(&mut buf[..want]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got += n,
                }
                let due = Duration::from_secs_f64(got as f64 / rate as f64);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
            seen.body_len = got;
            log.lock().unwrap().push(seen);
            let _ = write!(
                out,
                "HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
        Reply::Status(code) => {
            let mut body = vec![0u8; length];
            seen.body_len = reader.read_exact(&mut body).map(|_| length).unwrap_or(0);
            log.lock().unwrap().push(seen);
            let _ = write!(
                out,
                "HTTP/1.1 {code} Scripted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
        Reply::Body {
            length,
            body,
            stall,
        } => {
            log.lock().unwrap().push(seen);
            let head = match length {
                Some(n) => format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n"),
                None => "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_owned(),
            };
            let _ = out.write_all(head.as_bytes());
            let _ = out.write_all(&body);
            let _ = out.flush();
            if stall {
                std::thread::sleep(Duration::from_secs(30));
            }
        }
    }
}

/// The upload service, played over XEP-0114: answers disco#info with the feature and
/// each slot request with a slot on `web` whose headers include ones a client must
/// not send (and a newline injection).
struct FakeService {
    slots: Arc<Mutex<u32>>,
    _component: Component,
}

impl FakeService {
    fn start(web_port: u16) -> FakeService {
        let slots = Arc::new(Mutex::new(0));
        let counter = slots.clone();
        let component = Component::start(move |iq| {
            Some(
                if asks(iq, "query", "http://jabber.org/protocol/disco#info") {
                    "<query xmlns='http://jabber.org/protocol/disco#info'>\
                 <identity category='store' type='file'/>\
                 <feature var='urn:xmpp:http:upload:0'/></query>"
                        .to_owned()
                } else if asks(iq, "request", "urn:xmpp:http:upload:0") {
                    let mut n = counter.lock().unwrap();
                    *n += 1;
                    let url = format!("http://127.0.0.1:{web_port}/slot{n}/file");
                    format!(
                        "<slot xmlns='urn:xmpp:http:upload:0'><put url='{url}'>\
                     <header name='Authorization'>Bearer tok{n}</header>\
                     <header name='Host'>evil.example</header>\
                     <header name='X-Evil'>1</header>\
                     <header name='Cookie'>c=1&#10;X-Injected: yes</header>\
                     </put><get url='{url}'/></slot>"
                    )
                } else {
                    "<query xmlns='http://jabber.org/protocol/disco#items'/>".to_owned()
                },
            )
        });
        FakeService {
            slots,
            _component: component,
        }
    }

    fn slots(&self) -> u32 {
        *self.slots.lock().unwrap()
    }
}

/// Both scripts run against one server: one upload at a time, since the component
/// connection (one per test) is the server's only upload service.
static SERIAL: Mutex<()> = Mutex::new(());

fn upload_with(script: Vec<Reply>, extra: &[&str]) -> (std::process::Output, WebServer, u32) {
    upload_sized(script, extra, 100_000)
}

fn upload_sized(
    script: Vec<Reply>,
    extra: &[&str],
    size: usize,
) -> (std::process::Output, WebServer, u32) {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let web = WebServer::start(script);
    let service = FakeService::start(web.port);
    let s = component_server();
    let alice = s.account("hup");
    let file = scratch_dir("hostile-upload").join("f.bin");
    std::fs::write(&file, pattern(size, 5)).unwrap();
    let mut cmd = s.xft(&alice);
    cmd.args(extra).arg("upload").arg(&file);
    let out = run(cmd);
    let slots = service.slots();
    (out, web, slots)
}

#[test]
fn an_expired_slot_is_replaced_once_and_only_allowed_headers_are_sent() {
    let (out, web, slots) = upload_with(vec![Reply::Status(410), Reply::Status(201)], &[]);
    assert_exit(&out, 0);
    assert_eq!(slots, 2, "a second slot after the 410");
    assert!(stderr(&out).contains("410"), "{}", stderr(&out));
    let seen = web.seen();
    assert_eq!(seen.len(), 3, "two PUTs and the check: {seen:?}");
    assert_eq!(
        seen[2].method, "HEAD",
        "the link is checked before it is given"
    );
    let second = &seen[1];
    assert_eq!(
        (second.method.as_str(), second.path.as_str()),
        ("PUT", "/slot2/file")
    );
    assert_eq!(second.body_len, 100_000);
    assert_eq!(second.header("authorization"), Some("Bearer tok2"));
    assert_eq!(second.header("content-length"), Some("100000"));
    assert_eq!(second.header("cookie"), Some("c=1X-Injected: yes"));
    assert_eq!(second.header("x-evil"), None);
    assert_eq!(second.header("x-injected"), None);
    assert_eq!(
        second.header("host"),
        Some(format!("127.0.0.1:{}", web.port).as_str())
    );
    assert_eq!(stdout(&out).trim(), web.url("slot2/file"));
}

#[test]
fn server_errors_fail_after_one_retry() {
    let (out, web, slots) = upload_with(vec![Reply::Status(500), Reply::Status(503)], &[]);
    assert_exit(&out, 14);
    assert_eq!((slots, web.seen().len()), (2, 2));
    assert!(stderr(&out).contains("503"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
}

#[test]
fn too_large_for_the_web_server_is_not_retried() {
    let (out, web, slots) = upload_with(vec![Reply::Status(413), Reply::Status(201)], &[]);
    assert_exit(&out, 8);
    assert_eq!((slots, web.seen().len()), (1, 1));
}

#[test]
fn a_stalled_put_times_out() {
    let started = Instant::now();
    let (out, web, _) = upload_with(vec![Reply::Stall, Reply::Stall], &["--timeout", "2"]);
    assert_exit(&out, 10);
    assert_eq!(web.seen().len(), 2, "retried once");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        stderr(&out).contains("no data moved for 2 s"),
        "{}",
        stderr(&out)
    );
}

/// An upload that takes longer than `--timeout` while its bytes keep moving must not
/// time out: a 256 MiB PUT through a stock Prosody (3-4 MB/s) failed with exit 10
/// after 60 s, because the HTTP client's read timeout counted the whole upload.
#[test]
fn a_long_upload_that_keeps_moving_is_not_a_stall() {
    let size = 24 << 20;
    let (out, web, slots) = upload_sized(vec![Reply::SlowRead(8 << 20)], &["--timeout", "2"], size);
    assert_exit(&out, 0);
    assert_eq!(slots, 1);
    assert_eq!(web.seen()[0].body_len, size);
}

/// A scripted contact sends `url` to an `xft recv` (with `extra` arguments); returns
/// the receiver's outcome and its directory.
fn receive_link(tag: &str, url: &str, extra: &[&str]) -> (support::Finished, std::path::PathBuf) {
    let s = server();
    let (alice, bob) = (s.account(&format!("{tag}a")), s.account(&format!("{tag}b")));
    s.make_contacts(&alice, &bob);
    let dir = scratch_dir(tag);
    let mut recv = s.xft(&bob);
    recv.args(["recv", "--json"])
        .args(extra)
        .arg("--dir")
        .arg(&dir);
    let receiver = Receiver::spawn(recv);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (peer, _incoming) = support::peer_login(s, &alice).await;
        let message = xft::oob::announcement(&receiver.jid, url);
        peer.send(message).await.unwrap();
        peer.close().await;
    });
    (receiver.finish(Duration::from_secs(60)), dir)
}

#[test]
fn a_short_body_is_an_integrity_failure_and_leaves_nothing() {
    let web = WebServer::start(vec![Reply::Body {
        length: Some(1000),
        body: vec![7; 500],
        stall: false,
    }]);
    let (done, dir) = receive_link("hshort", &web.url("x/short.bin"), &[]);
    assert_eq!(done.code, Some(11), "{}", done.stderr);
    assert!(list_dir(&dir).is_empty(), "{:?}", list_dir(&dir));
}

#[test]
fn a_download_that_stalls_times_out_and_leaves_nothing() {
    let web = WebServer::start(vec![Reply::Body {
        length: Some(100_000),
        body: vec![1; 10_000],
        stall: true,
    }]);
    let started = Instant::now();
    let (done, dir) = receive_link("hstall", &web.url("x/stall.bin"), &["--timeout", "2"]);
    assert_eq!(done.code, Some(10), "{}", done.stderr);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(list_dir(&dir).is_empty(), "{:?}", list_dir(&dir));
}

/// Issue 19, item 2, for HTTP: a body that comes a little at a time (1 KiB a second,
/// under the 16 KiB that must move in every `--timeout`) reset the per-chunk deadline
/// each time. It is a stall after one `--timeout`.
#[test]
fn a_download_that_trickles_times_out_and_leaves_nothing() {
    let web = WebServer::start(vec![Reply::Trickle(1 << 20)]);
    let started = Instant::now();
    let (done, dir) = receive_link("htrickle", &web.url("x/trickle.bin"), &["--timeout", "2"]);
    assert_eq!(done.code, Some(10), "{}", done.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(list_dir(&dir).is_empty(), "{:?}", list_dir(&dir));
}

#[test]
fn a_body_without_length_is_cut_at_max_size() {
    let web = WebServer::start(vec![Reply::Body {
        length: None,
        body: vec![2; 300_000],
        stall: false,
    }]);
    let (done, dir) = receive_link("hmax", &web.url("x/big.bin"), &["--max-size", "100K"]);
    assert_eq!(done.code, Some(8), "{}", done.stderr);
    assert!(
        done.stderr.contains("more than the limit of 102400"),
        "{}",
        done.stderr
    );
    assert!(list_dir(&dir).is_empty(), "{:?}", list_dir(&dir));
}

#[test]
fn a_missing_file_is_not_found() {
    let web = WebServer::start(vec![Reply::Status(404)]);
    let (done, dir) = receive_link("h404", &web.url("x/gone.bin"), &[]);
    assert_eq!(done.code, Some(13), "{}", done.stderr);
    assert!(list_dir(&dir).is_empty());
}

#[test]
fn a_hostile_name_in_the_url_lands_inside_the_directory() {
    let web = WebServer::start(vec![Reply::Body {
        length: Some(3),
        body: b"abc".to_vec(),
        stall: false,
    }]);
    let (done, dir) = receive_link("hname", &web.url("x/..%2F..%2Fetc%2Fpasswd"), &[]);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let names = list_dir(&dir);
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(!names[0].contains('/'), "{names:?}");
    assert_eq!(std::fs::read(dir.join(&names[0])).unwrap(), b"abc");
}

/// Issue 19, item 10: a service that accepts the PUT but does not serve the file had
/// its dead link announced, "Sent", exit 0. The GET URL is checked first (a HEAD):
/// 404 fails with 13 after one retry with a new slot, a wrong length with 11, and
/// nothing is announced.
#[test]
fn a_link_that_does_not_serve_the_file_is_not_announced() {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let s = component_server();
    let (alice, bob) = (s.account("hupdead"), s.account("hupdeadb"));
    let file = scratch_dir("hostile-upload-dead").join("f.bin");
    std::fs::write(&file, pattern(10_000, 9)).unwrap();
    let cases = [
        (
            vec![
                Reply::Status(201),
                Reply::Status(404),
                Reply::Status(201),
                Reply::Status(404),
            ],
            (13, "404", 2),
        ),
        (
            vec![Reply::Status(201), Reply::HeadLength(3)],
            (11, "serves 3 bytes", 1),
        ),
    ];
    for (script, (code, says, checks)) in cases {
        let web = WebServer::start(script);
        let _service = FakeService::start(web.port);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let (out, heard) = rt.block_on(async {
            let (peer, mut incoming) = support::peer_login(s, &bob).await;
            let mut send = s.xft(&alice);
            send.args(["send", "--method", "upload"])
                .arg(&file)
                .arg(peer.jid().to_string());
            let out = tokio::process::Command::from(send).output().await.unwrap();
            // xft closed its stream only once the server had processed what it sent:
            // a link it sent is already on its way to us, before this marker.
            let marker = xft::xml::Element::new("message", xft::ns::CLIENT_NS)
                .attr("to", peer.jid().to_string())
                .attr("id", "marker");
            peer.send(marker).await.unwrap();
            let mut heard = Vec::new();
            while let Some(el) = incoming.next().await {
                if el.get_attr("id") == Some("marker") {
                    break;
                }
                if el.name() == "message" {
                    heard.push(el);
                }
            }
            peer.close().await;
            (out, heard)
        });
        assert_exit(&out, code);
        assert!(stderr(&out).contains(says), "{}", stderr(&out));
        assert!(!stderr(&out).contains("Sent"), "{}", stderr(&out));
        assert!(heard.is_empty(), "a link was announced: {heard:?}");
        let heads = web.seen().iter().filter(|s| s.method == "HEAD").count();
        assert_eq!(heads, checks);
    }
}
