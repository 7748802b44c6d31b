//! xft: move files between XMPP accounts.
//!
//! # How the code is laid out
//!
//! One module per protocol, each layer knowing only the ones below it. Follow one byte
//! of a received file from the socket to the disk:
//!
//! 1. [`transport`] finds the server (SRV, RFC 2782 / XEP-0368), connects over TCP
//!    (with `TCP_QUICKACK` while reading) and wraps the stream in TLS (STARTTLS or
//!    direct TLS, system roots plus `--ca`, read from the cheapest set up).
//! 2. [`xml`] turns the bytes of the stream into whole first-level elements: the
//!    incremental, sans-IO framer refuses what RFC 6120 §11 forbids, oversize stanzas
//!    and nesting past [`xml::MAX_DEPTH`]; [`xml::Element`] is the owned tree.
//! 3. [`session`] negotiates the stream (RFC 6120 §4-§7, with [`sasl`]: SCRAM and
//!    PLAIN as pure state machines) under one login deadline, then runs a reader task
//!    that hands each stanza to exactly one place: an iq waiter, a [`session::Route`]
//!    a protocol registered, a built-in answer (ping, disco#info), or the command's
//!    incoming queue. Every queue is bounded in bytes. Its `delivery` part knows when
//!    the server has answered all that matters, so the stream can end without waiting.
//! 4. [`stanza`], [`jid`], [`disco`] (XEP-0030), [`roster`] (RFC 6121) and [`vcard`]
//!    (XEP-0054) are the typed pieces commands use.
//! 5. [`si`] is the negotiation front-end of today (XEP-0095 stream initiation with the
//!    XEP-0096 file profile and XEP-0020 feature negotiation): the offer, the answer,
//!    the range of a resumed transfer.
//!    [`jingle`] is the front-end of today's clients (XEP-0166 sessions as a state
//!    machine, XEP-0234 file offers and checksums, XEP-0261 and XEP-0260 transports,
//!    XEP-0353 proposals).
//!    [`upload`] is the front-end that needs no online peer (XEP-0363: find the
//!    service, ask for a slot), [`oob`] the link in a message (XEP-0066), and [`http`]
//!    the streaming PUT and GET under a stall deadline.
//! 6. [`bytestream`] moves the bytes and knows nothing of SI: [`bytestream::ibb`]
//!    (XEP-0047, base64 blocks in iqs) and [`bytestream::s5b`] (XEP-0065: requester,
//!    target, candidates, proxy discovery) over [`bytestream::socks5`] (RFC 1928).
//! 7. [`transfer`] is one file's life: `send` and `recv` wire an SI offer to a
//!    bytestream; `pump` is the S5B byte loop (hashing on a thread beside it, or
//!    `kernel_copy`'s sendfile/splice when nothing is hashed), `sink` the `.part` file
//!    renamed into place only when verified, `source` what is sent (its MD5 perhaps
//!    remembered by `hash_cache`), `resume` the registry of resumable `.part` files
//!    (both kept by `json_list`), `progress` the bars and events;
//!    `jingle` is one file's life over Jingle (both roles); `upload` and `download`
//!    over HTTP upload.
//! 8. [`cli`] parses the command line and config, prints results and maps every error
//!    to an exit code through [`error`]. [`text`] escapes network text for terminals.
//!
//! [`probe`] gathers what the server and a peer advertise and says what `xft send`
//! would do (`xft probe`).
//!
//! [`fuzzing`] holds the fuzz bodies that `fuzz/` and `tests/fuzz_corpus.rs` run.
//!
//! What is public: the protocol layers (transport to XML, session, stanzas, disco,
//! SI, Jingle, bytestreams, upload, links) and the CLI entry points, which the tests
//! use to play peers, servers and services. `transfer`, `probe`, `http`, `roster`,
//! `vcard`, `forms`, `sasl` and `text` serve the binary only and are crate-private
//! (`unreachable_pub` keeps them so); every public item is documented (`missing_docs`,
//! both lints in `Cargo.toml`).

pub mod bytestream;
pub mod cli;
pub mod disco;
pub mod error;
pub(crate) mod forms;
#[doc(hidden)]
pub mod fuzzing;
pub mod hash;
pub(crate) mod http;
pub mod jid;
pub mod jingle;
pub mod ns;
pub mod oob;
pub(crate) mod probe;
pub(crate) mod roster;
pub(crate) mod sasl;
pub mod session;
pub mod si;
pub(crate) mod stall;
pub mod stanza;
pub(crate) mod text;
pub(crate) mod transfer;
pub mod transport;
pub mod upload;
pub(crate) mod vcard;
pub mod xml;
