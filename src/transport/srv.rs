//! Finding the server: DNS SRV records for the JID's domain (RFC 6120 §3.2, XEP-0368 §3).
//!
//! `_xmpps-client._tcp` (TLS from the first byte) and `_xmpp-client._tcp` (STARTTLS)
//! records are merged into one RFC 2782 set and ordered by priority, then by weighted
//! random choice within a priority. The ordering is a pure function so it can be tested
//! on record lists without a resolver.

use rand::Rng;

/// One place to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS from the first byte (XEP-0368) instead of STARTTLS.
    pub direct_tls: bool,
}

/// An SRV record as the resolver returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvRecord {
    /// Lower is tried first (RFC 2782).
    pub priority: u16,
    /// Relative chance within a priority (RFC 2782).
    pub weight: u16,
    /// TCP port.
    pub port: u16,
    /// Host name ("." = no service).
    pub target: String,
    /// From `_xmpps-client` (XEP-0368), not `_xmpp-client`.
    pub direct_tls: bool,
}

/// What the SRV lookups found.
#[derive(Debug, PartialEq, Eq)]
pub enum SrvPlan {
    /// Connect to these, in order.
    Endpoints(Vec<Endpoint>),
    /// No records: RFC 6120 §3.2.2 falls back to the domain itself on 5222.
    Fallback(Endpoint),
    /// Every record's target is ".": the domain says it offers no XMPP service
    /// (RFC 2782; XEP-0368 §3 forbids the A/AAAA fallback then).
    NotOffered,
}

/// Orders records per RFC 2782 and turns them into endpoints.
pub fn plan(domain: &str, records: Vec<SrvRecord>, rng: &mut impl Rng) -> SrvPlan {
    if records.is_empty() {
        return SrvPlan::Fallback(Endpoint {
            host: domain.to_owned(),
            port: 5222,
            direct_tls: false,
        });
    }
    let usable: Vec<SrvRecord> = records
        .into_iter()
        .filter(|r| r.target != "." && !r.target.is_empty())
        .collect();
    if usable.is_empty() {
        return SrvPlan::NotOffered;
    }
    let endpoints = order(usable, rng)
        .into_iter()
        .map(|r| Endpoint {
            host: r.target.trim_end_matches('.').to_owned(),
            port: r.port,
            direct_tls: r.direct_tls,
        })
        .collect();
    SrvPlan::Endpoints(endpoints)
}

/// RFC 2782 "Usage rules": lowest priority first; within one priority, pick by running
/// sum of weights against a random number, zero weights having a small chance.
fn order(mut records: Vec<SrvRecord>, rng: &mut impl Rng) -> Vec<SrvRecord> {
    records.sort_by_key(|r| (r.priority, r.weight != 0));
    let mut out = Vec::with_capacity(records.len());
    while !records.is_empty() {
        let priority = records[0].priority;
        let end = records
            .iter()
            .take_while(|r| r.priority == priority)
            .count();
        let mut group: Vec<SrvRecord> = records.drain(..end).collect();
        while !group.is_empty() {
            let total: u32 = group.iter().map(|r| u32::from(r.weight)).sum();
            let pick = rng.random_range(0..=total);
            let mut running = 0u32;
            let index = group
                .iter()
                .position(|r| {
                    running += u32::from(r.weight);
                    running >= pick
                })
                .unwrap_or(0);
            out.push(group.remove(index));
        }
    }
    out
}

/// Looks up both SRV names through the system resolver.
pub async fn lookup(domain: &str) -> Result<Vec<SrvRecord>, hickory_resolver::ResolveError> {
    let resolver = hickory_resolver::Resolver::builder_tokio()?.build();
    let mut records = Vec::new();
    for (service, direct_tls) in [("_xmpps-client._tcp", true), ("_xmpp-client._tcp", false)] {
        let name = format!("{service}.{domain}.");
        match resolver.srv_lookup(name).await {
            Ok(found) => records.extend(found.iter().map(|srv| SrvRecord {
                priority: srv.priority(),
                weight: srv.weight(),
                port: srv.port(),
                target: srv.target().to_utf8(),
                direct_tls,
            })),
            Err(e) if e.is_no_records_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn rec(priority: u16, weight: u16, target: &str, direct_tls: bool) -> SrvRecord {
        SrvRecord {
            priority,
            weight,
            port: 5222,
            target: target.into(),
            direct_tls,
        }
    }

    fn hosts(plan: SrvPlan) -> Vec<String> {
        match plan {
            SrvPlan::Endpoints(e) => e.into_iter().map(|e| e.host).collect(),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn lower_priority_always_first() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..100 {
            let records = vec![
                rec(20, 100, "c.example.", false),
                rec(10, 0, "b.example.", true),
                rec(5, 1, "a.example.", false),
            ];
            assert_eq!(
                hosts(plan("example", records, &mut rng)),
                ["a.example", "b.example", "c.example"]
            );
        }
    }

    #[test]
    fn weights_share_out_one_priority() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut heavy_first = 0;
        for _ in 0..2000 {
            let records = vec![rec(0, 10, "light.", false), rec(0, 90, "heavy.", false)];
            if hosts(plan("x", records, &mut rng))[0] == "heavy" {
                heavy_first += 1;
            }
        }
        // Expect about 90 %; allow wide margins, the point is "weighted, not fixed".
        assert!((1600..1950).contains(&heavy_first), "{heavy_first}");
    }

    #[test]
    fn no_records_falls_back_and_dot_means_no_service() {
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(
            plan("example.org", vec![], &mut rng),
            SrvPlan::Fallback(Endpoint {
                host: "example.org".into(),
                port: 5222,
                direct_tls: false
            })
        );
        assert_eq!(
            plan("example.org", vec![rec(0, 0, ".", false)], &mut rng),
            SrvPlan::NotOffered
        );
    }

    #[test]
    fn keeps_the_tls_mode_of_each_record() {
        let mut rng = StdRng::seed_from_u64(3);
        let SrvPlan::Endpoints(e) = plan(
            "x",
            vec![rec(1, 0, "starttls.", false), rec(0, 0, "direct.", true)],
            &mut rng,
        ) else {
            panic!()
        };
        assert!(e[0].direct_tls && e[0].host == "direct");
        assert!(!e[1].direct_tls);
    }
}
