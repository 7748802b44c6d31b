//! Every XML namespace xft reads or writes, in one place, with where it is defined.

/// RFC 6120 §4.8.3: stanzas of a client stream.
pub const CLIENT_NS: &str = "jabber:client";
/// RFC 6120 §4.8.1: the stream element and stream errors.
pub const STREAMS_NS: &str = "http://etherx.jabber.org/streams";
/// RFC 6120 §8.3: defined stanza error conditions.
pub const STANZAS_NS: &str = "urn:ietf:params:xml:ns:xmpp-stanzas";
/// RFC 6120 §5: STARTTLS.
pub const TLS_NS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
/// RFC 6120 §6: SASL.
pub const SASL_NS: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
/// RFC 6120 §7: resource binding.
pub const BIND_NS: &str = "urn:ietf:params:xml:ns:xmpp-bind";
/// RFC 3921 §3 (legacy session establishment, RFC 6121 §1.4).
pub const SESSION_NS: &str = "urn:ietf:params:xml:ns:xmpp-session";
/// RFC 6121 §2: the roster.
pub const ROSTER_NS: &str = "jabber:iq:roster";
/// XEP-0004: data forms.
pub const DATA_FORMS_NS: &str = "jabber:x:data";
/// XEP-0020: feature negotiation.
pub const FEATURE_NEG_NS: &str = "http://jabber.org/protocol/feature-neg";
/// XEP-0030 §3: service discovery, information.
pub const DISCO_INFO_NS: &str = "http://jabber.org/protocol/disco#info";
/// XEP-0030 §4: service discovery, items.
pub const DISCO_ITEMS_NS: &str = "http://jabber.org/protocol/disco#items";
/// XEP-0047: in-band bytestreams.
pub const IBB_NS: &str = "http://jabber.org/protocol/ibb";
/// XEP-0054: vcard-temp.
pub const VCARD_NS: &str = "vcard-temp";
/// XEP-0065: SOCKS5 bytestreams.
pub const BYTESTREAMS_NS: &str = "http://jabber.org/protocol/bytestreams";
/// XEP-0095: stream initiation.
pub const SI_NS: &str = "http://jabber.org/protocol/si";
/// XEP-0096: the SI file-transfer profile.
pub const SI_FILE_TRANSFER_NS: &str = "http://jabber.org/protocol/si/profile/file-transfer";
/// XEP-0066 §3: out-of-band data in messages (the link to an uploaded file).
pub const OOB_NS: &str = "jabber:x:oob";
/// XEP-0363: HTTP File Upload.
pub const HTTP_UPLOAD_NS: &str = "urn:xmpp:http:upload:0";
/// XEP-0478: stream limits advertisement.
pub const STREAM_LIMITS_NS: &str = "urn:xmpp:stream-limits:0";
/// XEP-0092: software version.
pub const VERSION_NS: &str = "jabber:iq:version";
/// XEP-0166: Jingle.
pub const JINGLE_NS: &str = "urn:xmpp:jingle:1";
/// XEP-0166 §8: Jingle-specific error conditions.
pub const JINGLE_ERRORS_NS: &str = "urn:xmpp:jingle:errors:1";
/// XEP-0353: Jingle message initiation.
pub const JINGLE_MESSAGE_NS: &str = "urn:xmpp:jingle-message:0";
/// XEP-0300: hashes (version 2, as XEP-0234 uses them).
pub const HASHES_NS: &str = "urn:xmpp:hashes:2";
/// XEP-0234: Jingle file transfer (version 5, what today's clients speak).
pub const JINGLE_FT_NS: &str = "urn:xmpp:jingle:apps:file-transfer:5";
/// XEP-0260: Jingle SOCKS5 bytestreams transport.
pub const JINGLE_S5B_NS: &str = "urn:xmpp:jingle:transports:s5b:1";
/// XEP-0261: Jingle in-band bytestreams transport.
pub const JINGLE_IBB_NS: &str = "urn:xmpp:jingle:transports:ibb:1";
/// XEP-0199: ping.
pub const PING_NS: &str = "urn:xmpp:ping";
/// RFC 6120 §4.9.3: defined stream error conditions.
pub const STREAM_ERRORS_NS: &str = "urn:ietf:params:xml:ns:xmpp-streams";
/// XEP-0115 §10.1: entity capabilities.
pub const CAPS_NS: &str = "http://jabber.org/protocol/caps";
