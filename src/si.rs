//! Stream Initiation (XEP-0095) with the file-transfer profile (XEP-0096), and the
//! stream-method choice as a data form (XEP-0020 over XEP-0004).
//!
//! Only elements live here: the offer, the answer, and their parsing. Which bytestream
//! then carries the file is the `transfer` module's business, and the bytestreams
//! themselves know nothing of SI, so Jingle can drive them later.
//!
//! Parsing is lenient where peers in the field differ from the XEPs (docs/interop.md
//! §1): a `list-multi` or `text-single` field instead of `list-single`, an empty
//! trailing `<value/>` (gloox), and two `<value/>`s in an answer (Smack up to 4.3).

use crate::ns::{DATA_FORMS_NS, FEATURE_NEG_NS, SI_FILE_TRANSFER_NS, SI_NS};
use std::time::SystemTime;

use crate::forms::{Field, Form, FormKind};
use crate::xml::Element;

const STREAM_METHOD: &str = "stream-method";

/// The bytestreams SI negotiates live with the bytestreams (Jingle's transports use
/// the same enum); re-exported here for SI's offers and answers.
pub use crate::bytestream::StreamMethod;

/// Why an SI offer or answer could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SiError {
    /// XEP-0095 §4.2: the profile is not file transfer (answered with `<bad-profile/>`).
    #[error("the offer uses the unknown SI profile '{0}'")]
    BadProfile(String),
    /// A required part is missing or does not parse.
    #[error("the offer is malformed: {0}")]
    Malformed(&'static str),
    /// XEP-0095 §4.2: none of the offered methods is supported (`<no-valid-streams/>`).
    #[error("the offer lists no stream method xft supports")]
    NoValidStreams,
    /// The answer picks a method that was not offered.
    #[error("the answer to the offer names no stream method xft offered")]
    BadAnswer,
}

/// XEP-0096 §3: the `<si/>` offer for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOffer {
    /// The stream id, reused as the bytestream's `sid` (XEP-0095 §5.2).
    pub sid: String,
    /// The `<si mime-type/>`.
    pub mime_type: Option<String>,
    /// The file name as offered (unsanitised).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// MD5 of the whole file, lowercase hex (XEP-0096 §3).
    pub md5: Option<String>,
    /// XEP-0082 DateTime of last modification.
    pub date: Option<String>,
    /// `<desc/>`: the sender's description.
    pub desc: Option<String>,
    /// Stream methods in the sender's order of preference.
    pub methods: Vec<StreamMethod>,
    /// XEP-0096 §3: an empty `<range/>` in the offer says the sender can start from an
    /// offset the receiver asks for (resume).
    pub ranged: bool,
}

/// XEP-0096 §3: the part of the file the receiver asks for in its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// The first byte wanted.
    pub offset: u64,
    /// Bytes from `offset`; `None` = to the end of the file.
    pub length: Option<u64>,
}

impl Range {
    /// The bytes to send for a file of `size` bytes, or `None` when the range does not
    /// fit in the file.
    pub fn span(&self, size: u64) -> Option<u64> {
        let rest = size.checked_sub(self.offset)?;
        match self.length {
            Some(length) if length > rest => None,
            Some(length) => Some(length),
            None => Some(rest),
        }
    }
}

impl FileOffer {
    /// The `<si/>` element of XEP-0096 §3 Example 1, with an empty `<range/>` when the
    /// sender supports ranged transfers.
    pub fn to_element(&self) -> Element {
        let mut file = Element::new("file", SI_FILE_TRANSFER_NS)
            .attr("name", self.name.as_str())
            .attr("size", self.size.to_string())
            .attr_opt("hash", self.md5.as_deref())
            .attr_opt("date", self.date.as_deref());
        if let Some(desc) = &self.desc {
            file.push_child(Element::new("desc", SI_FILE_TRANSFER_NS).text(desc.as_str()));
        }
        if self.ranged {
            file.push_child(Element::new("range", SI_FILE_TRANSFER_NS));
        }
        let methods: Vec<&str> = self.methods.iter().map(|m| m.namespace()).collect();
        let field = Field::list_single(STREAM_METHOD, &methods);
        Element::new("si", SI_NS)
            .attr("id", self.sid.as_str())
            .attr(
                "mime-type",
                self.mime_type
                    .as_deref()
                    .unwrap_or("application/octet-stream"),
            )
            .attr("profile", SI_FILE_TRANSFER_NS)
            .child(file)
            .child(feature_form(FormKind::Form, field))
    }

    /// Reads an offer. Unknown stream methods are skipped; none left is `NoValidStreams`.
    pub fn from_element(si: &Element) -> Result<FileOffer, SiError> {
        if !si.is("si", SI_NS) {
            return Err(SiError::Malformed("not an <si/> element"));
        }
        let profile = si.get_attr("profile").unwrap_or_default();
        if profile != SI_FILE_TRANSFER_NS {
            return Err(SiError::BadProfile(profile.chars().take(100).collect()));
        }
        let sid = si
            .get_attr("id")
            .ok_or(SiError::Malformed("no stream id"))?;
        if !is_nmtoken(sid) {
            return Err(SiError::Malformed("the stream id is not an NMTOKEN"));
        }
        let file = si
            .get_child("file", SI_FILE_TRANSFER_NS)
            .ok_or(SiError::Malformed("no <file/> element"))?;
        let name = file
            .get_attr("name")
            .ok_or(SiError::Malformed("no file name"))?;
        let size = file
            .get_attr("size")
            .ok_or(SiError::Malformed("no file size"))?
            .trim()
            .parse::<u64>()
            .map_err(|_| SiError::Malformed("the file size is not a non-negative integer"))?;
        let methods = offered_methods(si)?;
        Ok(FileOffer {
            sid: sid.to_owned(),
            mime_type: si.get_attr("mime-type").map(str::to_owned),
            name: name.to_owned(),
            size,
            md5: file.get_attr("hash").and_then(normalize_md5),
            date: file.get_attr("date").map(str::to_owned),
            desc: file
                .child_text("desc", SI_FILE_TRANSFER_NS)
                .filter(|d| !d.trim().is_empty()),
            methods,
            ranged: file.get_child("range", SI_FILE_TRANSFER_NS).is_some(),
        })
    }
}

/// XEP-0095 §3.2 Example 2: the answer choosing `method`.
pub fn answer_element(method: StreamMethod) -> Element {
    Element::new("si", SI_NS).child(feature_form(FormKind::Submit, chosen_method_field(method)))
}

fn chosen_method_field(method: StreamMethod) -> Field {
    Field::with_value(STREAM_METHOD, method.namespace())
}

/// XEP-0096 §3: the answer choosing `method` and asking for the file from `offset` on
/// (a resumed transfer).
pub fn answer_with_offset(method: StreamMethod, offset: u64) -> Element {
    let range = Element::new("range", SI_FILE_TRANSFER_NS).attr("offset", offset.to_string());
    let file = Element::new("file", SI_FILE_TRANSFER_NS).child(range);
    Element::new("si", SI_NS)
        .child(file)
        .child(feature_form(FormKind::Submit, chosen_method_field(method)))
}

/// XEP-0096 §3: the range the receiver asked for; `None` (no `<range/>`, or one without
/// attributes) means the whole file.
pub fn parse_range(si: &Element) -> Result<Option<Range>, SiError> {
    let Some(range) = si
        .get_child("file", SI_FILE_TRANSFER_NS)
        .and_then(|f| f.get_child("range", SI_FILE_TRANSFER_NS))
    else {
        return Ok(None);
    };
    let number = |name: &str| -> Result<Option<u64>, SiError> {
        range
            .get_attr(name)
            .map(|v| {
                v.trim().parse::<u64>().map_err(|_| {
                    SiError::Malformed("a range attribute is not a non-negative integer")
                })
            })
            .transpose()
    };
    let (offset, length) = (number("offset")?, number("length")?);
    if offset.is_none() && length.is_none() {
        return Ok(None);
    }
    Ok(Some(Range {
        offset: offset.unwrap_or(0),
        length,
    }))
}

/// The methods named in an answer, in order, restricted to those we offered. "There MUST
/// only be one selected stream" (XEP-0095 §4.1), but Smack sent two: try them in order.
pub fn parse_answer(si: &Element, offered: &[StreamMethod]) -> Result<Vec<StreamMethod>, SiError> {
    let chosen: Vec<StreamMethod> = stream_method_field(si)
        .map(|field| {
            field
                .values
                .iter()
                .filter_map(|v| StreamMethod::from_namespace(v))
                .filter(|m| offered.contains(m))
                .collect()
        })
        .unwrap_or_default();
    if chosen.is_empty() {
        return Err(SiError::BadAnswer);
    }
    Ok(chosen)
}

/// XEP-0020 §2: the feature-negotiation wrapper around one data form.
fn feature_form(kind: FormKind, field: Field) -> Element {
    Element::new("feature", FEATURE_NEG_NS).child(Form::new(kind, vec![field]).to_element())
}

fn stream_method_field(si: &Element) -> Option<Field> {
    let x = si
        .get_child("feature", FEATURE_NEG_NS)?
        .get_child("x", DATA_FORMS_NS)?;
    Form::from_element(x)?
        .fields
        .into_iter()
        .find(|f| f.var == STREAM_METHOD)
}

fn offered_methods(si: &Element) -> Result<Vec<StreamMethod>, SiError> {
    let field = stream_method_field(si).ok_or(SiError::NoValidStreams)?;
    let mut methods = Vec::new();
    for value in &field.options {
        if let Some(m) = StreamMethod::from_namespace(value) {
            if !methods.contains(&m) {
                methods.push(m);
            }
        }
    }
    if methods.is_empty() {
        return Err(SiError::NoValidStreams);
    }
    Ok(methods)
}

/// XEP-0047 §2.1 wants the sid to be an NMTOKEN; also bound its length.
fn is_nmtoken(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
}

/// A hash attribute that is really 32 hex digits, lowercased; anything else is ignored
/// (XEP-0096 §3: "the MD5 checksum of the file contents", hex-encoded).
fn normalize_md5(s: &str) -> Option<String> {
    let s = s.trim();
    (s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit())).then(|| s.to_ascii_lowercase())
}

/// XEP-0082 §3.2 DateTime in UTC, e.g. `1969-07-21T02:56:15Z`.
pub fn xep0082_datetime(time: SystemTime) -> String {
    format_datetime(time, false)
}

/// XEP-0082 §3.3 with milliseconds (`CCYY-MM-DDThh:mm:ss.sssZ`): a file rewritten
/// within the same second gets another date, which keeps a Jingle resume (keyed on the
/// offer's date) from appending to the part of an older version.
pub fn xep0082_datetime_ms(time: SystemTime) -> String {
    format_datetime(time, true)
}

fn format_datetime(time: SystemTime, millis: bool) -> String {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let fraction = if millis {
        format!(".{:03}", since.subsec_millis())
    } else {
        String::new()
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{fraction}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ns::BYTESTREAMS_NS;
    use crate::xml::parse_document;

    /// XEP-0096 §4 Example 1 (the empty `<range/>`: the sender can resume).
    const EXAMPLE_1: &str =
        "<si xmlns='http://jabber.org/protocol/si' id='a0' mime-type='text/plain'
          profile='http://jabber.org/protocol/si/profile/file-transfer'>
        <file xmlns='http://jabber.org/protocol/si/profile/file-transfer'
              name='test.txt' size='1022' hash='552da749930852c69ae5d2141d3766b1'
              date='1969-07-21T02:56:15Z'>
          <desc>This is a test. If this were a real file...</desc>
          <range/>
        </file>
        <feature xmlns='http://jabber.org/protocol/feature-neg'>
          <x xmlns='jabber:x:data' type='form'>
            <field var='stream-method' type='list-single'>
              <option><value>http://jabber.org/protocol/bytestreams</value></option>
              <option><value>jabber:iq:oob</value></option>
              <option><value>http://jabber.org/protocol/ibb</value></option>
            </field>
          </x>
        </feature>
      </si>";

    #[test]
    fn parses_the_xep_offer() {
        let offer = FileOffer::from_element(&parse_document(EXAMPLE_1).unwrap()).unwrap();
        assert_eq!(offer.sid, "a0");
        assert_eq!(offer.name, "test.txt");
        assert_eq!(offer.size, 1022);
        assert_eq!(
            offer.md5.as_deref(),
            Some("552da749930852c69ae5d2141d3766b1")
        );
        assert_eq!(offer.date.as_deref(), Some("1969-07-21T02:56:15Z"));
        assert_eq!(
            offer.desc.as_deref(),
            Some("This is a test. If this were a real file...")
        );
        assert_eq!(
            offer.methods,
            [StreamMethod::Socks5, StreamMethod::Ibb],
            "oob is skipped"
        );
        assert!(offer.ranged);
    }

    /// XEP-0096 §5 (Implementation Notes): the range examples, in an answer.
    #[test]
    fn parses_ranges_in_answers() {
        let answer = |range: &str| {
            parse_document(&format!(
                "<si xmlns='http://jabber.org/protocol/si'>
                   <file xmlns='http://jabber.org/protocol/si/profile/file-transfer'>{range}</file>
                 </si>"
            ))
            .unwrap()
        };
        let r = |offset, length| Some(Range { offset, length });
        assert_eq!(
            parse_range(&answer("<range length='256'/>")),
            Ok(r(0, Some(256)))
        );
        assert_eq!(
            parse_range(&answer("<range offset='128' length='256'/>")),
            Ok(r(128, Some(256)))
        );
        assert_eq!(
            parse_range(&answer("<range offset='128'/>")),
            Ok(r(128, None))
        );
        assert_eq!(parse_range(&answer("<range/>")), Ok(None));
        assert_eq!(parse_range(&answer("")), Ok(None));
        assert!(parse_range(&answer("<range offset='-1'/>")).is_err());
        // Offsets are u64: past 2 GiB and 4 GiB.
        let big = 5u64 << 30;
        let ours = answer_with_offset(StreamMethod::Ibb, big);
        assert_eq!(parse_range(&ours), Ok(r(big, None)));
        assert_eq!(
            parse_answer(&ours, &[StreamMethod::Ibb]),
            Ok(vec![StreamMethod::Ibb])
        );
        // What the sender sends, and ranges that do not fit.
        assert_eq!(
            Range {
                offset: 10,
                length: None
            }
            .span(100),
            Some(90)
        );
        assert_eq!(
            Range {
                offset: 10,
                length: Some(5)
            }
            .span(100),
            Some(5)
        );
        assert_eq!(
            Range {
                offset: 101,
                length: None
            }
            .span(100),
            None
        );
        assert_eq!(
            Range {
                offset: 90,
                length: Some(11)
            }
            .span(100),
            None
        );
    }

    #[test]
    fn offer_round_trips() {
        let offer = FileOffer::from_element(&parse_document(EXAMPLE_1).unwrap()).unwrap();
        let again = FileOffer::from_element(&parse_document(&offer.to_element().to_xml()).unwrap())
            .unwrap();
        assert_eq!(again, offer);
    }

    /// XEP-0095 §3.2 Example 2: the receiver's answer.
    #[test]
    fn parses_the_xep_answer_and_lenient_variants() {
        let answer = parse_document(
            "<si xmlns='http://jabber.org/protocol/si'>
              <feature xmlns='http://jabber.org/protocol/feature-neg'>
                <x xmlns='jabber:x:data' type='submit'>
                  <field var='stream-method'>
                    <value>http://jabber.org/protocol/bytestreams</value>
                  </field></x></feature></si>",
        )
        .unwrap();
        let both = [StreamMethod::Socks5, StreamMethod::Ibb];
        assert_eq!(
            parse_answer(&answer, &both).unwrap(),
            [StreamMethod::Socks5]
        );
        assert_eq!(
            parse_answer(&answer, &[StreamMethod::Ibb]),
            Err(SiError::BadAnswer)
        );
        // Smack <= 4.3: two values.
        let two = answer_element(StreamMethod::Ibb);
        let mut two = two;
        let field = two
            .get_child_mut("feature", FEATURE_NEG_NS)
            .and_then(|f| f.get_child_mut("x", DATA_FORMS_NS))
            .and_then(|x| x.get_child_mut("field", DATA_FORMS_NS))
            .unwrap();
        field.push_child(Element::new("value", DATA_FORMS_NS).text(BYTESTREAMS_NS));
        assert_eq!(
            parse_answer(&two, &both).unwrap(),
            [StreamMethod::Ibb, StreamMethod::Socks5]
        );
    }

    #[test]
    fn gloox_style_offer_with_empty_value_and_list_multi() {
        let text = EXAMPLE_1
            .replace("list-single", "list-multi")
            .replace("<option><value>jabber:iq:oob</value></option>", "<value/>");
        let offer = FileOffer::from_element(&parse_document(&text).unwrap()).unwrap();
        assert_eq!(offer.methods.len(), 2);
    }

    #[test]
    fn refuses_bad_offers() {
        let cases = [
            (
                EXAMPLE_1.replace("si/profile/file-transfer'\n", "si/profile/other'\n"),
                "profile",
            ),
            (EXAMPLE_1.replace("size='1022'", "size='-5'"), "size"),
            (EXAMPLE_1.replace("size='1022'", "size='1e9'"), "size"),
            (EXAMPLE_1.replace("id='a0'", "id='a b'"), "sid"),
            (EXAMPLE_1.replace("name='test.txt' ", ""), "name"),
            (
                EXAMPLE_1
                    .replace("http://jabber.org/protocol/bytestreams", "x")
                    .replace("http://jabber.org/protocol/ibb", "y"),
                "methods",
            ),
        ];
        for (text, what) in cases {
            let el = parse_document(&text).unwrap();
            assert!(FileOffer::from_element(&el).is_err(), "{what} accepted");
        }
        let no_methods = parse_document(
            &EXAMPLE_1
                .replace("http://jabber.org/protocol/bytestreams", "x")
                .replace("http://jabber.org/protocol/ibb", "y"),
        )
        .unwrap();
        assert_eq!(
            FileOffer::from_element(&no_methods),
            Err(SiError::NoValidStreams)
        );
        let bad_hash =
            parse_document(&EXAMPLE_1.replace("552da749930852c69ae5d2141d3766b1", "zz")).unwrap();
        assert_eq!(FileOffer::from_element(&bad_hash).unwrap().md5, None);
    }

    #[test]
    fn datetime_format() {
        let leap = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400 + 86_399);
        assert_eq!(xep0082_datetime(leap), "2000-02-29T23:59:59Z");
        assert_eq!(
            xep0082_datetime(SystemTime::UNIX_EPOCH),
            "1970-01-01T00:00:00Z"
        );
        let later = leap + std::time::Duration::from_micros(7_500);
        assert_eq!(xep0082_datetime_ms(later), "2000-02-29T23:59:59.007Z");
    }
}
