//! JIDs: parsing, normalising and printing `node@domain/resource` (RFC 7622).
//!
//! Parts are prepared with the stringprep profiles RFC 6122 defined (nodeprep, nameprep,
//! resourceprep), which servers in the field still apply, so two spellings of one
//! account compare equal and the S5B hash (XEP-0065 §5.3.2) matches the peer's.

use std::fmt;
use std::str::FromStr;

/// RFC 7622 §3.1: each part is at most 1023 octets.
const MAX_PART: usize = 1023;

/// Why a string is not a JID (each carries the string).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JidError {
    /// Nothing where the domain goes.
    #[error("'{0}' is not a JID: the domain is empty")]
    EmptyDomain(String),
    /// `@` with nothing before it.
    #[error("'{0}' is not a JID: the part before '@' is empty")]
    EmptyNode(String),
    /// `/` with nothing after it.
    #[error("'{0}' is not a JID: the part after '/' is empty")]
    EmptyResource(String),
    /// A part over 1023 octets (RFC 7622 §3.1).
    #[error("'{0}' is not a JID: a part is longer than 1023 bytes")]
    TooLong(String),
    /// A character the part's stringprep profile prohibits.
    #[error("'{0}' is not a JID: it contains characters a JID may not hold")]
    Prohibited(String),
    /// RFC 7622 §3.2: a domain of DNS labels, none empty (only one final dot is
    /// dropped). Found by the `stanzas` fuzz body: "a.." became "a.", then "a".
    #[error("'{0}' is not a JID: the domain has an empty label")]
    EmptyLabel(String),
}

/// A JID, bare (`user@example.org`) or full (`user@example.org/laptop`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Jid {
    node: Option<String>,
    domain: String,
    resource: Option<String>,
}

impl Jid {
    /// Parses and normalises `node@domain/resource` (node and resource optional).
    pub fn parse(s: &str) -> Result<Jid, JidError> {
        let err = |f: fn(String) -> JidError| f(s.to_owned());
        // RFC 7622 §3.1: the resource is everything after the first '/'.
        let (rest, resource) = match s.split_once('/') {
            Some((r, res)) => (r, Some(res)),
            None => (s, None),
        };
        let (node, domain) = match rest.split_once('@') {
            Some((n, d)) => (Some(n), d),
            None => (None, rest),
        };
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        if domain.is_empty() {
            return Err(err(JidError::EmptyDomain));
        }
        let node = match node {
            Some("") => return Err(err(JidError::EmptyNode)),
            Some(n) => Some(stringprep::nodeprep(n).map_err(|_| err(JidError::Prohibited))?),
            None => None,
        };
        let domain = stringprep::nameprep(domain).map_err(|_| err(JidError::Prohibited))?;
        if domain.split('.').any(str::is_empty) {
            return Err(err(JidError::EmptyLabel));
        }
        let resource = match resource {
            Some("") => return Err(err(JidError::EmptyResource)),
            Some(r) => Some(stringprep::resourceprep(r).map_err(|_| err(JidError::Prohibited))?),
            None => None,
        };
        // Preparation can map a part to nothing (a lone soft hyphen, say): the part is
        // then empty (found by the `stanzas` fuzz body: "a@b/\u{ad}" printed as "a@b/").
        if node.as_deref().is_some_and(str::is_empty) {
            return Err(err(JidError::EmptyNode));
        }
        if resource.as_deref().is_some_and(str::is_empty) {
            return Err(err(JidError::EmptyResource));
        }
        let too_long = |p: &str| p.len() > MAX_PART;
        if node.as_deref().is_some_and(too_long)
            || too_long(&domain)
            || resource.as_deref().is_some_and(too_long)
        {
            return Err(err(JidError::TooLong));
        }
        if domain.contains(['@', '/', ' ']) {
            return Err(err(JidError::Prohibited));
        }
        Ok(Jid {
            node: node.map(|n| n.into_owned()),
            domain: domain.into_owned(),
            resource: resource.map(|r| r.into_owned()),
        })
    }

    /// The part before `@`, if any.
    pub fn node(&self) -> Option<&str> {
        self.node.as_deref()
    }

    /// The domain (lowercased, without a final dot).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The part after `/`, if any.
    pub fn resource(&self) -> Option<&str> {
        self.resource.as_deref()
    }

    /// The same JID without its resource.
    pub fn bare(&self) -> Jid {
        Jid {
            resource: None,
            ..self.clone()
        }
    }

    /// True without a resource.
    pub fn is_bare(&self) -> bool {
        self.resource.is_none()
    }

    /// A JID for just the domain (the server itself).
    pub fn domain_jid(&self) -> Jid {
        Jid {
            node: None,
            domain: self.domain.clone(),
            resource: None,
        }
    }

    /// The full JID, when this one has a resource.
    pub fn to_full(&self) -> Option<FullJid> {
        self.resource.as_ref().map(|_| FullJid(self.clone()))
    }

    /// The same account with another resource.
    pub fn with_resource(&self, resource: &str) -> Result<FullJid, JidError> {
        let s = format!("{}/{resource}", self.bare());
        Jid::parse(&s)?.to_full().ok_or(JidError::EmptyResource(s))
    }
}

impl fmt::Display for Jid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(node) = &self.node {
            write!(f, "{node}@")?;
        }
        f.write_str(&self.domain)?;
        if let Some(res) = &self.resource {
            write!(f, "/{res}")?;
        }
        Ok(())
    }
}

impl FromStr for Jid {
    type Err = JidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Jid::parse(s)
    }
}

/// A JID that certainly has a resource: what SI and S5B need (XEP-0095 §3, XEP-0065 §5.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FullJid(Jid);

impl FullJid {
    /// The same JID as a [`Jid`].
    pub fn as_jid(&self) -> &Jid {
        &self.0
    }

    /// The account, without the resource.
    pub fn bare(&self) -> Jid {
        self.0.bare()
    }

    /// The resource.
    pub fn resource(&self) -> &str {
        self.0.resource().unwrap_or_default()
    }
}

impl fmt::Display for FullJid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<FullJid> for Jid {
    fn from(j: FullJid) -> Jid {
        j.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let j = Jid::parse("Juliet@Example.COM/Balcony Room").unwrap();
        assert_eq!(j.node(), Some("juliet"));
        assert_eq!(j.domain(), "example.com");
        assert_eq!(j.resource(), Some("Balcony Room"));
        assert_eq!(j.to_string(), "juliet@example.com/Balcony Room");
        assert_eq!(j.bare().to_string(), "juliet@example.com");
        // RFC 7622 §3.1: the first '/' starts the resource, which may hold '@' and '/'.
        let j = Jid::parse("a@b/c@d/e").unwrap();
        assert_eq!(j.resource(), Some("c@d/e"));
        assert_eq!(
            Jid::parse("example.com.").unwrap().to_string(),
            "example.com"
        );
    }

    #[test]
    fn refuses_invalid() {
        for bad in ["", "@a", "a@", "a@b/", "a b@c", "x@a/b\u{0}"] {
            assert!(Jid::parse(bad).is_err(), "{bad:?}");
        }
        for bad in [
            "24.24.24..",
            "a@.example",
            "a..b",
            "a@b..c/r",
            ".",
            "a@b/\u{ad}",
            "\u{ad}@b",
            "\u{200b}@b/r",
        ] {
            assert!(Jid::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Jid::parse("example.org.").unwrap().to_string(),
            "example.org"
        );
        assert!(matches!(
            Jid::parse(&format!("{}@x", "a".repeat(1024))),
            Err(JidError::TooLong(_))
        ));
    }

    #[test]
    fn full_jid_only_with_resource() {
        assert!(Jid::parse("a@b").unwrap().to_full().is_none());
        let full = Jid::parse("a@b/r").unwrap().to_full().unwrap();
        assert_eq!(full.resource(), "r");
        assert_eq!(
            Jid::parse("a@b")
                .unwrap()
                .with_resource("x")
                .unwrap()
                .to_string(),
            "a@b/x"
        );
    }
}
