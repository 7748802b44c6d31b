//! The SOCKS5 subset XEP-0065 uses (RFC 1928; XEP-0065 §5.3.2, §10.2): no
//! authentication, CONNECT, ATYP = DOMAINNAME holding the 40-character hex hash, port 0.
//!
//! Messages are built and checked by pure functions; the two `async fn` drivers only
//! move bytes with a deadline. Each message is written whole and each reply awaited
//! before the next write: Prosody's proxy65 and gloox accept a message only when it
//! arrives in one read (docs/interop.md §2).

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const NO_ACCEPTABLE_METHOD: u8 = 0xFF;
const CMD_CONNECT: u8 = 1;
const ATYP_IPV4: u8 = 1;
const ATYP_DOMAIN: u8 = 3;
const ATYP_IPV6: u8 = 4;
const REPLY_SUCCEEDED: u8 = 0;
const REPLY_NOT_ALLOWED: u8 = 2;
const REPLY_COMMAND_NOT_SUPPORTED: u8 = 7;

/// XEP-0065 §5.3.2: the hash is 40 hex characters.
pub const HASH_LEN: usize = 40;

/// Why a SOCKS5 handshake failed (RFC 1928, as XEP-0065 §5.3.3 uses it).
#[derive(Debug, thiserror::Error)]
pub enum Socks5Error {
    /// The first byte is not 5.
    #[error("the peer does not speak SOCKS5 (version byte {0:#04x})")]
    NotSocks5(u8),
    /// Answer 0xFF: no method we offered (only "no authentication").
    #[error("the SOCKS5 server accepts no method without authentication")]
    NoAcceptableMethod,
    /// A method we did not offer.
    #[error("the SOCKS5 server chose the unsupported method {0:#04x}")]
    UnexpectedMethod(u8),
    /// A CONNECT reply other than success.
    #[error("the SOCKS5 server refused the connection (reply code {0})")]
    Refused(u8),
    /// A message that does not parse.
    #[error("malformed SOCKS5 message: {0}")]
    Malformed(&'static str),
    /// DST.ADDR is not this stream's hash (XEP-0065 §5.3.2).
    #[error("the peer asked for another stream (wrong hash)")]
    WrongHash,
    /// The handshake took too long.
    #[error("the SOCKS5 peer did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The connection failed.
    #[error("SOCKS5 connection: {0}")]
    Io(#[from] std::io::Error),
}

/// Client greeting: version 5, one method, "no authentication" (RFC 1928 §3).
pub fn client_greeting() -> [u8; 3] {
    [VERSION, 1, NO_AUTH]
}

/// Checks the server's method selection.
pub fn check_method_selection(reply: [u8; 2]) -> Result<(), Socks5Error> {
    match reply {
        [VERSION, NO_AUTH] => Ok(()),
        [VERSION, NO_ACCEPTABLE_METHOD] => Err(Socks5Error::NoAcceptableMethod),
        [VERSION, other] => Err(Socks5Error::UnexpectedMethod(other)),
        [v, _] => Err(Socks5Error::NotSocks5(v)),
    }
}

/// CONNECT to the domain name `hash`, port 0 (XEP-0065 §10.2): 47 bytes.
pub fn connect_request(hash: &str) -> Vec<u8> {
    let mut msg = vec![VERSION, CMD_CONNECT, 0, ATYP_DOMAIN, hash.len() as u8];
    msg.extend_from_slice(hash.as_bytes());
    msg.extend_from_slice(&[0, 0]);
    msg
}

/// The fixed part of a CONNECT reply: VER, REP, RSV, ATYP. Returns how many address
/// and port bytes follow, or the error.
pub fn check_reply_head(head: [u8; 4]) -> Result<ReplyRest, Socks5Error> {
    let [ver, rep, rsv, atyp] = head;
    if ver != VERSION {
        return Err(Socks5Error::NotSocks5(ver));
    }
    if rep != REPLY_SUCCEEDED {
        return Err(Socks5Error::Refused(rep));
    }
    if rsv != 0 {
        return Err(Socks5Error::Malformed("reserved byte is not zero"));
    }
    match atyp {
        ATYP_IPV4 => Ok(ReplyRest::Fixed(4 + 2)),
        ATYP_IPV6 => Ok(ReplyRest::Fixed(16 + 2)),
        ATYP_DOMAIN => Ok(ReplyRest::LengthPrefixed),
        _ => Err(Socks5Error::Malformed("unknown address type")),
    }
}

/// What follows a reply head.
#[derive(Debug, PartialEq, Eq)]
pub enum ReplyRest {
    /// This many bytes (address and port).
    Fixed(usize),
    /// One length byte, that many bytes, then the 2-byte port.
    LengthPrefixed,
}

/// What a streamhost (our own listener) answers to a greeting.
pub fn method_selection_for(greeting_methods: &[u8]) -> [u8; 2] {
    if greeting_methods.contains(&NO_AUTH) {
        [VERSION, NO_AUTH]
    } else {
        [VERSION, NO_ACCEPTABLE_METHOD]
    }
}

/// The CONNECT reply a streamhost sends: success echoes the address (XEP-0065 §5.3.2
/// "MUST set BND.ADDR and BND.PORT to DST.ADDR and DST.PORT").
pub fn connect_reply(code: u8, hash: &str) -> Vec<u8> {
    let mut msg = vec![VERSION, code, 0, ATYP_DOMAIN, hash.len() as u8];
    msg.extend_from_slice(hash.as_bytes());
    msg.extend_from_slice(&[0, 0]);
    msg
}

/// Runs the client side on a connected stream: greeting, method, CONNECT, reply.
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    hash: &str,
    deadline: Duration,
) -> Result<(), Socks5Error> {
    tokio::time::timeout(deadline, client_handshake(stream, hash))
        .await
        .map_err(|_| Socks5Error::Timeout(deadline))?
}

async fn client_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    hash: &str,
) -> Result<(), Socks5Error> {
    stream.write_all(&client_greeting()).await?;
    let mut selection = [0u8; 2];
    stream.read_exact(&mut selection).await?;
    check_method_selection(selection)?;
    stream.write_all(&connect_request(hash)).await?;
    let mut head = [0u8; 4];
    stream.read_exact(&mut head).await?;
    let rest = match check_reply_head(head)? {
        ReplyRest::Fixed(n) => n,
        ReplyRest::LengthPrefixed => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).await?;
            usize::from(len[0]) + 2
        }
    };
    // BND.ADDR/BND.PORT are read and ignored: Pidgin answers with its own IP.
    let mut skip = vec![0u8; rest];
    stream.read_exact(&mut skip).await?;
    Ok(())
}

/// Runs the server side (our own streamhost, XEP-0065 §5.3.2): accepts only a CONNECT
/// for `expected_hash`, port 0.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    expected_hash: &str,
    deadline: Duration,
) -> Result<(), Socks5Error> {
    tokio::time::timeout(deadline, server_handshake(stream, expected_hash))
        .await
        .map_err(|_| Socks5Error::Timeout(deadline))?
}

async fn server_handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    expected: &str,
) -> Result<(), Socks5Error> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).await?;
    if head[0] != VERSION {
        return Err(Socks5Error::NotSocks5(head[0]));
    }
    let mut methods = vec![0u8; usize::from(head[1])];
    stream.read_exact(&mut methods).await?;
    let selection = method_selection_for(&methods);
    stream.write_all(&selection).await?;
    if selection[1] != NO_AUTH {
        return Err(Socks5Error::NoAcceptableMethod);
    }
    let mut request = [0u8; 5];
    stream.read_exact(&mut request).await?;
    let [ver, cmd, _rsv, atyp, len] = request;
    if ver != VERSION {
        return Err(Socks5Error::NotSocks5(ver));
    }
    if cmd != CMD_CONNECT || atyp != ATYP_DOMAIN {
        stream
            .write_all(&connect_reply(REPLY_COMMAND_NOT_SUPPORTED, expected))
            .await?;
        return Err(Socks5Error::Malformed("not a CONNECT to a domain name"));
    }
    let mut addr = vec![0u8; usize::from(len) + 2];
    stream.read_exact(&mut addr).await?;
    let (name, port) = addr.split_at(usize::from(len));
    if name != expected.as_bytes() || port != [0, 0] {
        stream
            .write_all(&connect_reply(REPLY_NOT_ALLOWED, expected))
            .await?;
        return Err(Socks5Error::WrongHash);
    }
    stream
        .write_all(&connect_reply(REPLY_SUCCEEDED, expected))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn message_layouts() {
        assert_eq!(client_greeting(), [5, 1, 0]);
        let req = connect_request(HASH);
        assert_eq!(req.len(), 47, "Prosody's proxy65 wants exactly 47 bytes");
        assert_eq!(&req[..5], &[5, 1, 0, 3, 40]);
        assert_eq!(&req[45..], &[0, 0]);
    }

    #[test]
    fn validates_every_reply_byte() {
        assert!(check_method_selection([5, 0]).is_ok());
        assert!(matches!(
            check_method_selection([5, 0xFF]),
            Err(Socks5Error::NoAcceptableMethod)
        ));
        assert!(matches!(
            check_method_selection([5, 2]),
            Err(Socks5Error::UnexpectedMethod(2))
        ));
        assert!(matches!(
            check_method_selection([4, 0]),
            Err(Socks5Error::NotSocks5(4))
        ));
        assert_eq!(
            check_reply_head([5, 0, 0, 3]).unwrap(),
            ReplyRest::LengthPrefixed
        );
        assert_eq!(check_reply_head([5, 0, 0, 1]).unwrap(), ReplyRest::Fixed(6));
        assert!(matches!(
            check_reply_head([5, 2, 0, 3]),
            Err(Socks5Error::Refused(2))
        ));
        assert!(matches!(
            check_reply_head([5, 0, 1, 3]),
            Err(Socks5Error::Malformed(_))
        ));
        assert!(matches!(
            check_reply_head([5, 0, 0, 9]),
            Err(Socks5Error::Malformed(_))
        ));
        assert!(matches!(
            check_reply_head([b'H', b'T', b'T', b'P']),
            Err(Socks5Error::NotSocks5(_))
        ));
    }

    #[tokio::test]
    async fn client_and_server_agree() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        let server =
            tokio::spawn(async move { accept(&mut b, HASH, Duration::from_secs(5)).await });
        connect(&mut a, HASH, Duration::from_secs(5)).await.unwrap();
        server.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn server_refuses_a_wrong_hash_and_client_sees_it() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        let server =
            tokio::spawn(async move { accept(&mut b, HASH, Duration::from_secs(5)).await });
        let wrong = "f".repeat(40);
        let client = connect(&mut a, &wrong, Duration::from_secs(5)).await;
        assert!(matches!(client, Err(Socks5Error::Refused(2))));
        assert!(matches!(server.await.unwrap(), Err(Socks5Error::WrongHash)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_host_times_out() {
        let (mut a, _b) = tokio::io::duplex(1024);
        let r = connect(&mut a, HASH, Duration::from_secs(3)).await;
        assert!(matches!(r, Err(Socks5Error::Timeout(_))));
    }

    #[tokio::test]
    async fn a_host_that_speaks_http_is_refused() {
        let (mut a, mut b) = tokio::io::duplex(1024);
        tokio::spawn(async move {
            let mut buf = [0u8; 3];
            let _ = b.read_exact(&mut buf).await;
            let _ = b.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        });
        let r = connect(&mut a, HASH, Duration::from_secs(5)).await;
        assert!(matches!(r, Err(Socks5Error::NotSocks5(b'H'))));
    }

    #[tokio::test]
    async fn a_host_that_closes_early_fails_cleanly() {
        let (mut a, b) = tokio::io::duplex(1024);
        drop(b);
        assert!(matches!(
            connect(&mut a, HASH, Duration::from_secs(5)).await,
            Err(Socks5Error::Io(_))
        ));
    }
}
