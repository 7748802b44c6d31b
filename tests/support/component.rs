//! A scripted external component (XEP-0114) of [`super::component_server`]: the test
//! plays a service (an upload service, a SOCKS5 proxy) that a real Prosody lists in its
//! disco#items, so xft finds it by ordinary service discovery. One component connection
//! per server at a time: callers serialise.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{component_server, COMPONENT, COMPONENT_SECRET};
use xft::xml::{Element, Frame, Framer};

/// The connected component; dropped, it leaves (so the next test can connect).
pub struct Component {
    stream: TcpStream,
}

impl Drop for Component {
    fn drop(&mut self) {
        let _ = self.stream.write_all(b"</stream:stream>");
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

impl Component {
    /// Connects as [`COMPONENT`] (retrying while the server still holds the previous
    /// test's connection) and answers every iq request with `<iq type='result'>` around
    /// what `answer` returns for it (raw XML, possibly empty), or not at all for `None`.
    pub fn start(
        answer: impl Fn(&Element) -> Option<String> + Send + Clone + 'static,
    ) -> Component {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match Component::try_start(answer.clone()) {
                Ok(component) => return component,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("component: {e}; retrying");
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("component handshake refused: {e}"),
            }
        }
    }

    fn try_start(
        answer: impl Fn(&Element) -> Option<String> + Send + 'static,
    ) -> Result<Component, String> {
        let s = component_server();
        let port = s.component_port.expect("component port");
        let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
        write!(
            stream,
            "<stream:stream xmlns='jabber:component:accept' \
             xmlns:stream='http://etherx.jabber.org/streams' to='{COMPONENT}'>"
        )
        .map_err(|e| e.to_string())?;
        let mut framer = Framer::new(1 << 20);
        let id = match next_frame(&mut stream, &mut framer) {
            Frame::StreamOpen(header) => header.id.ok_or("no stream id")?,
            other => return Err(format!("{other:?}")),
        };
        use sha1::{Digest, Sha1};
        let digest: String = Sha1::digest(format!("{id}{COMPONENT_SECRET}"))
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        write!(stream, "<handshake>{digest}</handshake>").map_err(|e| e.to_string())?;
        match next_frame(&mut stream, &mut framer) {
            Frame::Stanza(el) if el.name() == "handshake" => {}
            other => return Err(format!("{other:?}")),
        }
        let kept = stream.try_clone().map_err(|e| e.to_string())?;
        std::thread::spawn(move || loop {
            let Frame::Stanza(iq) = next_frame(&mut stream, &mut framer) else {
                return;
            };
            if iq.name() != "iq" || !matches!(iq.get_attr("type"), Some("get" | "set")) {
                continue;
            }
            let (from, id) = (
                iq.get_attr("from").unwrap_or_default().to_owned(),
                iq.get_attr("id").unwrap_or_default().to_owned(),
            );
            let Some(body) = answer(&iq) else { continue };
            let me = iq.get_attr("to").unwrap_or(COMPONENT).to_owned();
            let head = format!("<iq type='result' from='{me}' to='{from}' id='{id}'>");
            if write!(stream, "{head}{body}</iq>").is_err() {
                return;
            }
        });
        Ok(Component { stream: kept })
    }
}

/// The next frame of a component stream (blocking); the end of the connection is a
/// stream close.
pub fn next_frame(stream: &mut TcpStream, framer: &mut Framer) -> Frame {
    loop {
        if let Some(frame) = framer.next_frame().expect("well-formed XML") {
            return frame;
        }
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).unwrap_or(0);
        if n == 0 {
            return Frame::StreamClose;
        }
        framer.feed(&buf[..n]);
    }
}

/// A TCP address on 127.0.0.1 where connections hang: a listener with a backlog of one
/// that never accepts, its queue already full, so the kernel drops further SYNs (a
/// firewalled host, without a firewall). Kept open while the value lives.
pub struct BlackHole {
    pub port: u16,
    _listener: socket2::Socket,
    _fillers: Vec<TcpStream>,
}

impl BlackHole {
    pub fn new() -> BlackHole {
        use socket2::{Domain, Socket, Type};
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        let addr: std::net::SocketAddr = "127.0.0.1:0".parse().expect("address");
        listener.bind(&addr.into()).expect("bind");
        listener.listen(0).expect("listen");
        let port = listener
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .map(|a| a.port())
            .expect("port");
        // Fill the accept queue; the attempts that no longer complete are the point.
        let mut fillers = Vec::new();
        for _ in 0..4 {
            match TcpStream::connect_timeout(&addr_of(port), Duration::from_millis(300)) {
                Ok(s) => fillers.push(s),
                Err(_) => break,
            }
        }
        BlackHole {
            port,
            _listener: listener,
            _fillers: fillers,
        }
    }
}

impl Default for BlackHole {
    fn default() -> Self {
        BlackHole::new()
    }
}

fn addr_of(port: u16) -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], port))
}

/// The iq's first child is `name` in `ns`.
pub fn asks(iq: &Element, name: &str, ns: &str) -> bool {
    iq.children().next().is_some_and(|c| c.is(name, ns))
}
