//! xft: move files between XMPP accounts.
//!
//! # How the code is laid out
//!
//! One module per protocol, each layer knowing only the ones below it (no module
//! imports one that imports it back). Follow one byte of a received file from the
//! socket to the disk:
//!
//! 1. [`transport`] finds the server (SRV, RFC 2782 / XEP-0368), connects over TCP and
//!    wraps the stream in TLS (STARTTLS or direct TLS, system roots plus `--ca`).
//! 2. [`xml`] turns the bytes of the stream into whole first-level elements: the
//!    incremental, sans-IO framer refuses what RFC 6120 §11 forbids and oversize
//!    stanzas, and skips (without building) one nested past [`xml::MAX_DEPTH`].
//! 3. [`session`] negotiates the stream (RFC 6120 §4-§7, pipelined as XEP-0305 says,
//!    with `sasl`: SCRAM, its channel binding and PLAIN as pure state machines, and
//!    `session::cache`: what the server offered last time, checked against what it
//!    offers now), then a reader task hands each stanza to exactly one
//!    place: an iq waiter, a [`session::Route`] a protocol registered, a built-in answer
//!    (ping, disco#info), or the command's incoming queue. Every queue is bounded in
//!    bytes.
//! 4. [`stanza`], [`jid`], [`disco`] (XEP-0030), [`caps`] (XEP-0115: our own `ver`,
//!    and checking a peer's), `roster` (RFC 6121) and `vcard` (XEP-0054) are the typed
//!    pieces commands use; [`hash`] the XEP-0300 algorithms
//!    (and MD5 for SI); `stall` the one rule that says when a data phase has stalled.
//! 5. The negotiation elements: [`si`] (XEP-0095/0096 offers and answers), [`jingle`]
//!    (XEP-0166 elements and the session state machine, XEP-0234 files and checksums,
//!    XEP-0260/0261 transports, XEP-0353 proposals), [`upload`] (XEP-0363 slots),
//!    [`oob`] (XEP-0066 links), [`sfs`] (XEP-0447 file shares), and `http` (the
//!    streaming PUT and GET, with [`gcm`] and [`aesgcm`] for XEP-0454 files).
//!    [`omemo`] is end-to-end encryption (XEP-0384 v0.3): keys, X3DH, the ratchet, the
//!    message elements, the device's store, trust and PEP.
//! 6. [`bytestream`] moves bytes and knows nothing of SI or Jingle:
//!    [`bytestream::ibb`] (XEP-0047: the receiving side as a pure state machine, a
//!    driver reading a route, a windowed sender) and [`bytestream::s5b`] (XEP-0065:
//!    requester, target, candidates and what a party offers, proxy discovery) over
//!    [`bytestream::socks5`] (RFC 1928).
//! 7. `transfer` is one file's life. `transfer::receive` is the receiving side: one
//!    dispatcher judges every offer (policy once), runs accepted ones side by side
//!    through their front-ends (`receive::si`, `receive::jingle`, `receive::link`) and
//!    writes through `receive::destination` into the `sink` (`.part`, renamed only when
//!    verified; `resume` keeps resumable `.part` files). `transfer::send` is the sending
//!    side (`send::si`, `send::jingle`, `send::upload`), the way chosen by
//!    `transfer::policy` (also what `probe` reports) for a resource `recipient` found
//!    (its features asked, or known from its XEP-0115 `ver`: `known_clients`).
//!    `transfer::jingle` is the Jingle machinery both roles share: a session as a value,
//!    the XEP-0260 negotiation, the data phases. The SOCKS5 data runs through the `pump`
//!    (a blocking copy hashed on a thread beside it, or the kernel's sendfile/splice),
//!    IBB data through the bytestream driver; both report progress as events.
//! 8. [`cli`] parses the command line and config, shows progress, prints results and
//!    maps every error to an exit code through [`error`]. `text` escapes network text
//!    for terminals.
//!
//! What each peer and server actually does, beyond the XEPs, is in `docs/interop.md`.
//!
//! [`fuzzing`] holds the fuzz bodies that `fuzz/` and `tests/fuzz_corpus.rs` run.
//!
//! What is public: the protocol layers (transport to XML, session, stanzas, disco,
//! SI, Jingle, bytestreams, upload, links, hashes) and the CLI entry points, which the
//! tests use to play peers, servers and services. The rest serves the binary only and
//! is crate-private (`unreachable_pub` keeps it so); every public item is documented
//! (`missing_docs`, both lints in `Cargo.toml`).

pub mod aesgcm;
pub mod bytestream;
pub mod caps;
pub mod cli;
pub mod disco;
pub mod error;
pub(crate) mod forms;
#[doc(hidden)]
pub mod fuzzing;
pub mod gcm;
pub mod hash;
pub(crate) mod http;
pub mod jid;
pub mod jingle;
pub(crate) mod json_list;
pub mod ns;
pub mod omemo;
pub mod oob;
pub(crate) mod probe;
pub(crate) mod roster;
pub(crate) mod sasl;
pub mod session;
pub mod sfs;
pub mod si;
pub(crate) mod stall;
pub mod stanza;
pub(crate) mod text;
pub(crate) mod transfer;
pub mod transport;
pub mod upload;
pub(crate) mod vcard;
pub mod xml;
