//! HTTP for XEP-0363 uploads and for downloading announced links: one PUT of a file
//! with the slot's headers, one GET into a writer, both streaming (memory stays flat
//! whatever the size) and both under a stall deadline: `--timeout` without a byte
//! moving ends the request.
//!
//! reqwest over hyper, with the same rustls configuration (system roots plus `--ca`, or
//! `--insecure`) as the XMPP connection; no proxy from the environment (xft's XMPP
//! connection does not use one either), at most 5 redirects, HTTP/1.1.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::aesgcm::FileKey;
use crate::gcm::{Gcm, TAG_LEN};
use crate::stall::{StallWatch, FLOOR};
use crate::transport::{tls, TrustSettings};

/// A hash computed over a plain upload's bytes as they are sent (the sha-256 a file
/// share announces, XEP-0447).
pub(crate) type Digest = Arc<std::sync::Mutex<crate::hash::Hasher>>;

/// Called with the number of bytes that just moved.
pub(crate) type OnBytes = Arc<dyn Fn(u64) + Send + Sync>;

/// Bytes read from the file per body chunk.
const CHUNK: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("HTTP setup: {0}")]
    Setup(String),
    #[error("{url}: {reason}")]
    Request { url: String, reason: String },
    #[error("{url}: the server answered {status}{}", hint_of(*status))]
    Status { url: String, status: u16 },
    #[error("{url}: no data moved for {} s after {moved} bytes; giving up", after.as_secs())]
    Stalled {
        url: String,
        moved: u64,
        after: Duration,
    },
    #[error("{url} is {length} bytes, more than the limit of {max}")]
    TooLarge { url: String, length: u64, max: u64 },
    #[error("{url}: the server sent {got} bytes but announced {expected}")]
    Incomplete {
        url: String,
        got: u64,
        expected: u64,
    },
    /// After an upload: the GET URL announces another length than was uploaded.
    #[error("{url} serves {length} bytes, not the {expected} uploaded")]
    WrongLength {
        url: String,
        length: u64,
        expected: u64,
    },
    /// An encrypted download (XEP-0454) whose tag does not match, or that is shorter
    /// than a tag.
    #[error("{url}: the decrypted file does not match its authentication tag (altered, truncated, or the wrong key)")]
    BadTag { url: String },
    #[error("reading the file: {0}")]
    Read(#[source] std::io::Error),
    #[error("writing the file: {0}")]
    Write(#[source] std::io::Error),
}

fn hint_of(status: u16) -> &'static str {
    match status {
        401 | 403 => " (not authorised: the slot's credentials were refused)",
        404 => " (not found: the link is wrong or the file was deleted)",
        409 => " (conflict: the slot was already used)",
        410 => " (gone: the slot or the file expired)",
        413 => " (too large for the service)",
        500..=599 => " (server error)",
        _ => "",
    }
}

impl HttpError {
    /// The HTTP status, when the server answered with one.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// One client per command; it keeps connections for the files that follow.
#[derive(Clone)]
pub(crate) struct Client {
    inner: reqwest::Client,
    /// How long a request may go without moving a byte.
    stall: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("http::Client")
            .field("stall", &self.stall)
            .finish()
    }
}

impl Client {
    pub(crate) fn new(trust: &TrustSettings, stall: Duration) -> Result<Client, HttpError> {
        let setup = |e: &dyn std::fmt::Display| HttpError::Setup(e.to_string());
        let mut config = (*tls::client_config(trust, false).map_err(|e| setup(&e))?).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let inner = reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .no_proxy()
            .http1_only()
            .redirect(reqwest::redirect::Policy::limited(5))
            .connect_timeout(stall)
            // No read timeout: during a PUT nothing is read until the answer, and a long
            // upload must not fail for that. Stalls are watched per request instead.
            .user_agent(concat!("xft/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| setup(&e))?;
        Ok(Client { inner, stall })
    }

    /// PUTs `size` bytes of `file` to `url` with `headers` (XEP-0363 §5: exactly the
    /// slot's allowed headers, plus Content-Length and Content-Type). Success is any 2xx
    /// (the XEP says 201; some services answer 200). With `key`, the body is the file
    /// encrypted on the fly and its tag (XEP-0454 §3): `size` + 16 bytes.
    pub(crate) async fn put_file(
        &self,
        url: &str,
        headers: &[(String, String)],
        (content_type, key): (&str, Option<&FileKey>),
        (file, size): (std::fs::File, u64),
        (on_bytes, digest): (OnBytes, Option<Digest>),
    ) -> Result<(), HttpError> {
        let moved = Arc::new(AtomicU64::new(0));
        let (body, length) = match key {
            None => (
                file_body(file, size, moved.clone(), (on_bytes, digest)),
                size,
            ),
            Some(key) => {
                let gcm =
                    Gcm::seal(&key.key, &key.iv).map_err(|e| HttpError::Setup(e.to_string()))?;
                let body = encrypted_body(file, size, gcm, moved.clone(), on_bytes);
                (body, size + TAG_LEN as u64)
            }
        };
        let mut request = self
            .inner
            .put(url)
            .header(reqwest::header::CONTENT_LENGTH, length)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let stall = self.stall;
        let response = self
            .unless_stalled(url, (&moved, length), async {
                request.send().await.map_err(|e| {
                    if e.is_timeout() {
                        HttpError::Stalled {
                            url: url.to_owned(),
                            moved: moved.load(Ordering::Relaxed),
                            after: stall,
                        }
                    } else {
                        request_error(url, &e)
                    }
                })
            })
            .await?;
        let status = response.status();
        if !status.is_success() {
            return Err(HttpError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
            });
        }
        let sent = moved.load(Ordering::Relaxed);
        if sent != length {
            return Err(HttpError::Read(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("sent {sent} of {size} bytes: the file changed while being sent"),
            )));
        }
        Ok(())
    }

    /// Starts a GET of `url`: the status must be 200; the body is read by
    /// [`Download::copy_to`].
    pub(crate) async fn get(&self, url: &str) -> Result<Download, HttpError> {
        let response = self.headers_of(self.inner.get(url), url).await?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(HttpError::Status {
                url: url.to_owned(),
                status: response.status().as_u16(),
            });
        }
        Ok(Download {
            length: response.content_length(),
            url: url.to_owned(),
            response,
            stall: self.stall,
        })
    }

    /// Whether `url` serves `size` bytes, asked cheaply after an upload and before the
    /// link is announced (issue 19, item 10: a service that accepted the PUT but
    /// answered the GET with 404 had a dead link sent as a success): a HEAD, on the
    /// PUT's connection when the server keeps it, must answer 200 with that length. A
    /// server that does not do HEAD (405, 501) is asked with a GET whose body is not
    /// read.
    pub(crate) async fn check_served(&self, url: &str, size: u64) -> Result<(), HttpError> {
        let mut response = self.headers_of(self.inner.head(url), url).await?;
        let status = response.status().as_u16();
        if matches!(status, 405 | 501) {
            response = self.headers_of(self.inner.get(url), url).await?;
        }
        if response.status() != reqwest::StatusCode::OK {
            return Err(HttpError::Status {
                url: url.to_owned(),
                status: response.status().as_u16(),
            });
        }
        let length = response
            .headers()
            .get(reqwest::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        match length {
            Some(length) if length != size => Err(HttpError::WrongLength {
                url: url.to_owned(),
                length,
                expected: size,
            }),
            _ => Ok(()),
        }
    }

    /// Sends `request` and returns the response once its headers are in, within the
    /// stall deadline.
    async fn headers_of(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<reqwest::Response, HttpError> {
        let stalled = || HttpError::Stalled {
            url: url.to_owned(),
            moved: 0,
            after: self.stall,
        };
        tokio::time::timeout(self.stall, request.send())
            .await
            .map_err(|_| stalled())?
            .map_err(|e| match e.is_timeout() {
                true => stalled(),
                false => request_error(url, &e),
            })
    }

    /// Runs `request` until it finishes, or until `moved` (of `total`) stalls (see
    /// `stall`: a trickle counts as nothing); then the request is dropped, which closes
    /// its connection.
    async fn unless_stalled<T>(
        &self,
        url: &str,
        (moved, total): (&AtomicU64, u64),
        request: impl std::future::Future<Output = Result<T, HttpError>>,
    ) -> Result<T, HttpError> {
        tokio::pin!(request);
        let mut watch = StallWatch::new(self.stall, FLOOR, total, 0);
        loop {
            tokio::select! {
                done = &mut request => return done,
                _ = tokio::time::sleep(watch.tick()) => {
                    let now = moved.load(Ordering::Relaxed);
                    if watch.stalled(now, tokio::time::Instant::now()) {
                        return Err(HttpError::Stalled { url: url.to_owned(), moved: now, after: self.stall });
                    }
                }
            }
        }
    }
}

/// A GET whose status was 200, its body still to read.
pub(crate) struct Download {
    /// Content-Length, when the server sent one.
    pub length: Option<u64>,
    pub url: String,
    response: reqwest::Response,
    stall: Duration,
}

impl Download {
    /// Copies the body into `writer`, at most `max` bytes (more fails at once), each
    /// chunk within the stall deadline; the byte count must match Content-Length. With
    /// `key` the body is an encrypted file (XEP-0454 §3): it is decrypted on the way,
    /// and the last 16 bytes must be its tag (checked before `Ok`; the caller must not
    /// use what was written otherwise). Returns the bytes written.
    pub(crate) async fn copy_to(
        mut self,
        writer: &mut (dyn AsyncWrite + Unpin + Send),
        (max, key): (Option<u64>, Option<&FileKey>),
        on_bytes: OnBytes,
    ) -> Result<u64, HttpError> {
        let overhead = if key.is_some() { TAG_LEN as u64 } else { 0 };
        let limit = max.map(|m| m.saturating_add(overhead));
        if let (Some(length), Some(max)) = (self.length, limit) {
            if length > max {
                return Err(HttpError::TooLarge {
                    url: self.url,
                    length: length - overhead,
                    max: max - overhead,
                });
            }
        }
        let mut decrypting = match key {
            Some(key) => Some(Decrypting::new(key).map_err(|e| HttpError::Setup(e.to_string()))?),
            None => None,
        };
        let (mut got, mut written) = (0u64, 0u64);
        let mut watch = StallWatch::new(self.stall, FLOOR, self.length.unwrap_or(u64::MAX), 0);
        while let Some(chunk) = self.next_chunk(&watch, got).await? {
            got += chunk.len() as u64;
            if limit.is_some_and(|limit| got > limit) {
                let max = limit.unwrap_or_default() - overhead;
                return Err(HttpError::TooLarge {
                    url: self.url,
                    length: got - overhead,
                    max,
                });
            }
            let plain = match &mut decrypting {
                Some(d) => std::borrow::Cow::Owned(d.push(&chunk)),
                None => std::borrow::Cow::Borrowed(&chunk[..]),
            };
            writer.write_all(&plain).await.map_err(HttpError::Write)?;
            written += plain.len() as u64;
            on_bytes(chunk.len() as u64);
            if watch.stalled(got, tokio::time::Instant::now()) {
                return Err(HttpError::Stalled {
                    url: self.url,
                    moved: got,
                    after: self.stall,
                });
            }
        }
        writer.flush().await.map_err(HttpError::Write)?;
        if let Some(expected) = self.length.filter(|expected| *expected != got) {
            return Err(HttpError::Incomplete {
                url: self.url,
                got,
                expected,
            });
        }
        match decrypting.map(Decrypting::finish) {
            Some(Err(())) => Err(HttpError::BadTag { url: self.url }),
            _ => Ok(written),
        }
    }

    /// The next chunk of the body within the stall deadline; `None` at its end.
    async fn next_chunk(
        &mut self,
        watch: &StallWatch,
        got: u64,
    ) -> Result<Option<bytes::Bytes>, HttpError> {
        tokio::time::timeout_at(watch.deadline(), self.response.chunk())
            .await
            .map_err(|_| HttpError::Stalled {
                url: self.url.clone(),
                moved: got,
                after: self.stall,
            })?
            .map_err(|e| self.body_error(&e, got))
    }
}

/// Decryption of a body whose last 16 bytes are the tag: everything but the newest 16
/// bytes is decrypted as it comes; those are the tag at the end.
struct Decrypting {
    gcm: Gcm,
    held: Vec<u8>,
}

impl Decrypting {
    fn new(key: &FileKey) -> Result<Decrypting, crate::gcm::GcmError> {
        Ok(Decrypting {
            gcm: Gcm::open(&key.key, &key.iv)?,
            held: Vec::with_capacity(TAG_LEN),
        })
    }

    /// The plaintext of what `chunk` completes.
    fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.held.extend_from_slice(chunk);
        let ready = self.held.len().saturating_sub(TAG_LEN);
        let mut plain: Vec<u8> = self.held.drain(..ready).collect();
        self.gcm.update(&mut plain);
        plain
    }

    /// Whether the held bytes are the tag of all that came before.
    fn finish(self) -> Result<(), ()> {
        if self.held.len() != TAG_LEN {
            return Err(());
        }
        self.gcm.finish_open(&self.held).map_err(|_| ())
    }
}

impl Download {
    /// A body that broke off: a stall, a body shorter than announced, or another error.
    fn body_error(&self, e: &reqwest::Error, got: u64) -> HttpError {
        let url = self.url.clone();
        match self.length {
            _ if e.is_timeout() => HttpError::Stalled {
                url,
                moved: got,
                after: self.stall,
            },
            Some(expected) if got < expected => HttpError::Incomplete { url, got, expected },
            _ => request_error(&self.url, e),
        }
    }
}

/// The file as a body stream of `size` bytes at most, counting what hyper takes.
fn file_body(
    file: std::fs::File,
    size: u64,
    moved: Arc<AtomicU64>,
    (on_bytes, digest): (OnBytes, Option<Digest>),
) -> reqwest::Body {
    use tokio::io::AsyncReadExt;
    let reader = tokio::fs::File::from_std(file).take(size);
    let stream = tokio_util::io::ReaderStream::with_capacity(reader, CHUNK).map(move |chunk| {
        if let Ok(bytes) = &chunk {
            moved.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            on_bytes(bytes.len() as u64);
            if let Some(mut hasher) = digest.as_ref().and_then(|d| d.lock().ok()) {
                hasher.update(bytes);
            }
        }
        chunk
    });
    reqwest::Body::wrap_stream(stream)
}

/// The file encrypted as it is read, then the tag: `size` + 16 bytes.
fn encrypted_body(
    file: std::fs::File,
    size: u64,
    gcm: Gcm,
    moved: Arc<AtomicU64>,
    on_bytes: OnBytes,
) -> reqwest::Body {
    use tokio::io::AsyncReadExt;
    let reader = tokio::fs::File::from_std(file).take(size);
    let state = Some((reader, gcm));
    let stream = futures_util::stream::unfold(state, |state| async move {
        let (mut reader, mut gcm) = state?;
        let mut buf = bytes::BytesMut::zeroed(CHUNK);
        match reader.read(&mut buf).await {
            Ok(0) => Some((Ok(bytes::Bytes::copy_from_slice(&gcm.finish_seal())), None)),
            Ok(n) => {
                buf.truncate(n);
                gcm.update(&mut buf);
                Some((Ok(buf.freeze()), Some((reader, gcm))))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
    .map(move |chunk: std::io::Result<bytes::Bytes>| {
        if let Ok(bytes) = &chunk {
            moved.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            on_bytes(bytes.len() as u64);
        }
        chunk
    });
    reqwest::Body::wrap_stream(stream)
}

/// reqwest's error with its causes, which hold the useful part ("connection refused").
fn request_error(url: &str, e: &reqwest::Error) -> HttpError {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !reason.contains(&text) {
            reason = format!("{reason}: {text}");
        }
        source = cause.source();
    }
    HttpError::Request {
        url: url.to_owned(),
        reason,
    }
}

/// The file name a URL points at: its last path segment, percent-decoded (lossily) and
/// without any query or fragment; `None` when there is none.
pub(crate) fn file_name_of(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let last = parsed.path_segments()?.rev().find(|s| !s.is_empty())?;
    let decoded = percent_encoding::percent_decode_str(last).decode_utf8_lossy();
    Some(decoded.into_owned()).filter(|n| !n.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_last_segment() {
        assert_eq!(
            file_name_of(
                "https://download.montague.tld/4a771ac1-f0b2-4a4a-9700-f2a26fa2bb67/tr%C3%A8s%20cool.jpg"
            )
            .as_deref(),
            Some("très cool.jpg")
        );
        assert_eq!(
            file_name_of("http://127.0.0.1:1/file_share/x/a.txt?token=1#f").as_deref(),
            Some("a.txt")
        );
        assert_eq!(file_name_of("https://x.example/").as_deref(), None);
        assert_eq!(
            file_name_of("https://x.example/dir/").as_deref(),
            Some("dir")
        );
        assert_eq!(file_name_of("not a url"), None);
    }
}
