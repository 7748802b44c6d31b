//! The data phase of one Jingle file transfer, both roles: over the nominated SOCKS5
//! socket (XEP-0260) by the blocking pump, or in-band (XEP-0261) through the session's
//! route; hashed as it goes (the sender for its checksum, XEP-0234 §8.2; the receiver
//! to check it), under the stall rule, with the session's requests answered meanwhile.

use std::sync::Arc;

use tokio::io::AsyncWriteExt;

use super::session::JingleSession;
use crate::bytestream::ibb::inbound::Inbound;
use crate::bytestream::ibb::IbbSender;
use crate::hash::{Algorithm, Hasher};
use crate::transfer::progress::{Metered, Progress};
use crate::transfer::pump::{self, Check};
use crate::transfer::sink::Output;
use crate::transfer::source::{Source, SourceError};
use crate::transfer::Ends;
use crate::transfer::TransferError;

/// What a sender sends: the source from `offset`, hashed (the bytes before the offset
/// too, so the checksum covers the whole file) when `verify`.
#[derive(Clone, Copy)]
pub(crate) struct Outgoing<'a> {
    pub(crate) source: &'a Source,
    pub(crate) offset: u64,
    pub(crate) verify: bool,
}

/// `source` opened at `offset`, with (when `verify`) a hasher that has seen the bytes
/// before it.
async fn open_at(out: Outgoing<'_>) -> Result<(std::fs::File, Option<Hasher>), TransferError> {
    let (path, offset, verify) = (out.source.path.clone(), out.offset, out.verify);
    let opened = tokio::task::spawn_blocking(move || {
        use std::io::{Seek, SeekFrom};
        let mut file = std::fs::File::open(&path)?;
        if !verify {
            file.seek(SeekFrom::Start(offset))?;
            return Ok((file, None));
        }
        let hasher = crate::hash::hash_prefix(&mut file, offset, super::SENDER_HASH)?;
        Ok((file, Some(hasher)))
    })
    .await
    .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
    opened.map_err(|e| source_error(out.source, e))
}

fn source_error(source: &Source, e: std::io::Error) -> TransferError {
    TransferError::Source(SourceError::Io {
        path: source.path.clone(),
        source: e,
    })
}

/// The S5B data phase as sender: the file into the socket by the blocking pump, hashed
/// beside it. Returns the digest (when verifying).
pub(crate) async fn send_socket(
    js: &mut JingleSession,
    socket: tokio::net::TcpStream,
    out: Outgoing<'_>,
    progress: Arc<dyn Progress>,
) -> Result<Option<Vec<u8>>, TransferError> {
    let size = out.source.size - out.offset;
    let stall = js.timeout;
    let (file, hasher) = open_at(out).await?;
    let gone = crate::bytestream::peer_gone(&js.session, js.peer.as_jid());
    let broken = |source| TransferError::StreamBroken {
        sent: 0,
        size,
        source,
    };
    let (writer, handle) = pump::blocking_socket(socket, stall).map_err(broken)?;
    let ends = Ends::Sending(&out.source.path);
    let copy = async {
        let checked = Check::hash(hasher);
        pump::copy_unless_gone(
            (file, writer),
            size,
            progress,
            checked,
            (&handle, stall),
            gone,
        )
        .await
        .map_err(|e| crate::transfer::transfer_error(e, size, stall, ends))
    };
    let pumped = js.during(copy).await.inspect_err(|_| {
        let _ = handle.shutdown(std::net::Shutdown::Both);
    })?;
    if pumped.bytes < size {
        let e = std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the file shrank while being sent",
        );
        return Err(source_error(out.source, e));
    }
    // The receiver reads exactly the size and closes; our write side ends here.
    let _ = handle.shutdown(std::net::Shutdown::Write);
    Ok(pumped.hash)
}

/// XEP-0261 §2.2-§2.3 as sender: opens IBB under the transport's sid with this block
/// size and sends the file, hashing it; returns the digest.
pub(crate) async fn send_ibb(
    js: &mut JingleSession,
    out: Outgoing<'_>,
    (ibb_sid, block_size, window): (&str, usize, usize),
    progress: Arc<dyn Progress>,
) -> Result<Option<Vec<u8>>, TransferError> {
    let (file, hasher) = open_at(out).await?;
    let mut reader = Metered::new(
        tokio::io::BufReader::with_capacity(256 * 1024, tokio::fs::File::from_std(file)),
        progress,
        hasher,
    );
    let (session, peer, timeout) = (js.session.clone(), js.peer.clone(), js.timeout);
    let size = out.source.size - out.offset;
    let sending = async {
        let mut ibb =
            IbbSender::open(&session, peer.as_jid(), ibb_sid, block_size, timeout).await?;
        match ibb.send(&mut reader, size, window).await {
            Ok(_) => Ok(ibb.close().await?),
            Err(e) => {
                ibb.abort().await;
                Err(TransferError::from(e))
            }
        }
    };
    js.during(sending).await?;
    Ok(reader.take_hash().map(Hasher::finalize))
}

/// The S5B data into `output` by the blocking pump, hashed when `hasher` is given.
/// Returns the bytes and the digest.
pub(crate) async fn receive_socket(
    js: &mut JingleSession,
    socket: tokio::net::TcpStream,
    output: &Output,
    (size, hasher): (u64, Option<Hasher>),
    progress: Arc<dyn Progress>,
) -> Result<(u64, Option<Vec<u8>>), TransferError> {
    let stall = js.timeout;
    let gone = crate::bytestream::peer_gone(&js.session, js.peer.as_jid());
    let broken = |source| TransferError::StreamBroken {
        sent: 0,
        size,
        source,
    };
    let (reader, handle) = pump::blocking_socket(socket, stall).map_err(broken)?;
    let writer = output.blocking_writer().map_err(|e| output.sink_error(e))?;
    let ends = Ends::Receiving(output);
    let copy = async {
        let checked = Check::hash(hasher);
        pump::copy_unless_gone(
            (reader, writer),
            size,
            progress,
            checked,
            (&handle, stall),
            gone,
        )
        .await
        .map_err(|e| crate::transfer::transfer_error(e, size, stall, ends))
    };
    let pumped = js.during(copy).await.inspect_err(|_| {
        let _ = handle.shutdown(std::net::Shutdown::Both);
    })?;
    Ok((pumped.bytes, pumped.hash))
}

/// The in-band data (XEP-0261) into `output`, hashed with `hasher`: the open, the blocks
/// and the close on the session's route, in order. Returns the bytes and the digest.
pub(crate) async fn receive_ibb(
    js: &mut JingleSession,
    output: &Output,
    (size, hasher): (u64, Hasher),
    progress: Arc<dyn Progress>,
) -> Result<(u64, Vec<u8>), TransferError> {
    let mut inbound = Inbound::new(size);
    js.ibb_open(&mut inbound).await?;
    let writer = output.async_writer().map_err(|e| output.sink_error(e))?;
    let mut writer = Metered::new(writer, progress, Some(hasher));
    let close = match js.ibb_receive(&mut inbound, &mut writer, size).await {
        Ok(close) => close,
        Err(e) => {
            // Keep what did arrive in the .part: it is the user's, to inspect or resume.
            let _ = writer.flush().await;
            return Err(e);
        }
    };
    if let Err(e) = writer.flush().await {
        if let Some(close) = close {
            close
                .refuse(&format!("the receiver cannot write the file: {e}"))
                .await;
        }
        return Err(output.sink_error(e));
    }
    let digest = writer.take_hash().map(Hasher::finalize).unwrap_or_default();
    if let Some(close) = close {
        close.acknowledge().await;
    }
    Ok((inbound.received(), digest))
}

/// The hash of the file `output` holds (read back from its start), for a checksum that
/// came although the copy computed none. An error reading our own file is the sink's.
pub(crate) async fn hash_written(
    output: &Output,
    algorithm: Algorithm,
) -> Result<Vec<u8>, TransferError> {
    let Some(file) = output.reread() else {
        return Err(output.sink_error(std::io::Error::other("the file cannot be read back")));
    };
    let hashed = tokio::task::spawn_blocking(move || {
        let mut file = file;
        let mut hasher = Hasher::new(algorithm);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = std::io::Read::read(&mut file, &mut buf)?;
            if n == 0 {
                return Ok(hasher.finalize());
            }
            hasher.update(&buf[..n]);
        }
    })
    .await
    .map_err(|e| std::io::Error::other(e.to_string()));
    hashed
        .and_then(|r| r)
        .map_err(|e: std::io::Error| output.sink_error(e))
}
