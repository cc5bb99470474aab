//! Scriptable faults: which requests (method, user, request number) fail, and how.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What goes wrong.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer this HTTP status with its real error body (429 with the quota body, 503
    /// `UNAVAILABLE`, ...); nothing is written.
    Status(u16),
    /// Wait this long, then handle the request normally.
    Latency(Duration),
    /// Close the connection before handling the request: nothing is written.
    ResetBeforeWrite,
    /// Handle the request (a mutation is committed), then close the connection without answering.
    LoseResponseAfterCommit,
    /// Handle the request, then send only the first half of the JSON body.
    TruncatedJson,
    /// Answer 502 with an HTML page, as a proxy would; nothing is written.
    Html502,
    /// Handle the request (a mutation is committed), then answer 502 with an HTML page, as a proxy
    /// whose upstream answered too late would.
    Html502AfterCommit,
}

/// When a rule fires, counting only the requests it matches.
#[derive(Clone, Debug, PartialEq)]
pub enum Trigger {
    /// Every matching request.
    Always,
    /// Only the n-th matching request (1-based).
    Nth(u64),
    /// The first n matching requests.
    FirstN(u64),
    /// The matching requests from the first number to the second, both included (1-based):
    /// an outage that starts after some requests went through.
    Between(u64, u64),
    /// Pseudo-randomly, `per_mille`/1000 of matching requests, the same sequence for the same seed.
    Random {
        /// How many in a thousand matching requests fail.
        per_mille: u32,
        /// Seed of the sequence.
        seed: u64,
    },
}

/// A fault rule: which requests, when, and what happens.
#[derive(Debug)]
pub struct FaultRule {
    /// Only requests of this method (`people.batchUpdateContacts`), or every method.
    pub method: Option<String>,
    /// Only requests of this user, or every user.
    pub user: Option<String>,
    /// When the rule fires.
    pub trigger: Trigger,
    /// What happens then.
    pub fault: Fault,
    seen: AtomicU64,
}

impl Clone for FaultRule {
    fn clone(&self) -> Self {
        Self {
            method: self.method.clone(),
            user: self.user.clone(),
            trigger: self.trigger.clone(),
            fault: self.fault.clone(),
            seen: AtomicU64::new(self.seen.load(Ordering::SeqCst)),
        }
    }
}

impl FaultRule {
    /// A rule that fires on every request.
    pub fn new(fault: Fault) -> Self {
        Self {
            method: None,
            user: None,
            trigger: Trigger::Always,
            fault,
            seen: AtomicU64::new(0),
        }
    }
    /// Only requests of this method (`people.batchUpdateContacts`, `people.connections.list`, ...).
    pub fn method(mut self, m: impl Into<String>) -> Self {
        self.method = Some(m.into());
        self
    }
    /// Only requests of this user.
    pub fn user(mut self, u: impl Into<String>) -> Self {
        self.user = Some(u.into());
        self
    }
    /// Only the n-th matching request.
    pub fn nth(mut self, n: u64) -> Self {
        self.trigger = Trigger::Nth(n);
        self
    }
    /// The first n matching requests.
    pub fn first(mut self, n: u64) -> Self {
        self.trigger = Trigger::FirstN(n);
        self
    }
    /// Fire on the `from`-th to the `to`-th matching requests, both included (1-based).
    pub fn between(mut self, from: u64, to: u64) -> Self {
        self.trigger = Trigger::Between(from, to);
        self
    }

    /// A seeded pseudo-random share of matching requests.
    pub fn random(mut self, per_mille: u32, seed: u64) -> Self {
        self.trigger = Trigger::Random { per_mille, seed };
        self
    }

    /// Whether this rule fires for a request, advancing its count when the request matches.
    pub(crate) fn fires(&self, method: &str, user: &str) -> bool {
        if self.method.as_deref().is_some_and(|m| m != method)
            || self.user.as_deref().is_some_and(|u| u != user)
        {
            return false;
        }
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        match self.trigger {
            Trigger::Always => true,
            Trigger::Nth(k) => n == k,
            Trigger::FirstN(k) => n <= k,
            Trigger::Between(from, to) => (from..=to).contains(&n),
            Trigger::Random { per_mille, seed } => {
                splitmix(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) % 1000 < u64::from(per_mille)
            }
        }
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl FaultRule {
    /// Parse a rule from the binary's `--fault` syntax:
    /// `KIND[,method=M][,user=U][,nth=N|first=N|between=FROM:TO|random=PERMILLE:SEED]`, where KIND is an HTTP
    /// status (`503`), `latency=MS`, `reset`, `lost`, `truncated`, `html502` or
    /// `html502-after` (after the request was handled).
    /// Example: `503,method=people.batchUpdateContacts,nth=2`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut parts = spec.split(',').map(str::trim);
        let kind = parts
            .next()
            .filter(|k| !k.is_empty())
            .ok_or("empty fault spec")?;
        let fault = match kind {
            "reset" => Fault::ResetBeforeWrite,
            "lost" => Fault::LoseResponseAfterCommit,
            "truncated" => Fault::TruncatedJson,
            "html502" => Fault::Html502,
            "html502-after" => Fault::Html502AfterCommit,
            k if k.starts_with("latency=") => {
                let ms: u64 = k["latency=".len()..]
                    .parse()
                    .map_err(|_| format!("bad latency in {spec:?}"))?;
                Fault::Latency(Duration::from_millis(ms))
            }
            k => match k.parse::<u16>() {
                Ok(code) if (400..600).contains(&code) => Fault::Status(code),
                _ => {
                    return Err(format!(
                        "unknown fault kind {k:?}: use an HTTP status (400-599), latency=MS, reset, lost, truncated, html502 or html502-after"
                    ));
                }
            },
        };
        let mut rule = FaultRule::new(fault);
        for p in parts {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| format!("expected key=value, got {p:?}"))?;
            let num = |v: &str| {
                v.parse::<u64>()
                    .map_err(|_| format!("{k} needs a number, got {v:?}"))
            };
            rule = match k {
                "method" => rule.method(v),
                "user" => rule.user(v),
                "nth" => rule.nth(num(v)?),
                "first" => rule.first(num(v)?),
                "between" => {
                    let (from, to) = v
                        .split_once(':')
                        .ok_or_else(|| format!("between={v}: FROM:TO"))?;
                    rule.between(num(from)?, num(to)?)
                }
                "random" => {
                    let (pm, seed) = v.split_once(':').unwrap_or((v, "0"));
                    let pm = num(pm)?;
                    if pm > 1000 {
                        return Err(format!("random takes per mille (0-1000), got {pm}"));
                    }
                    rule.random(pm as u32, num(seed)?)
                }
                other => return Err(format!("unknown fault option {other:?}")),
            };
        }
        Ok(rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_fault_specs() {
        let r = FaultRule::parse("503,method=people.batchUpdateContacts,user=a@b.c,nth=2").unwrap();
        assert_eq!(
            (
                r.fault.clone(),
                r.method.as_deref(),
                r.user.as_deref(),
                r.trigger.clone()
            ),
            (
                Fault::Status(503),
                Some("people.batchUpdateContacts"),
                Some("a@b.c"),
                Trigger::Nth(2)
            )
        );
        assert_eq!(
            FaultRule::parse("latency=250,first=3").unwrap().fault,
            Fault::Latency(Duration::from_millis(250))
        );
        assert_eq!(
            FaultRule::parse("lost,random=100:7").unwrap().trigger,
            Trigger::Random {
                per_mille: 100,
                seed: 7
            }
        );
        for bad in [
            "",
            "200",
            "teapot",
            "503,nth",
            "503,nth=x",
            "503,when=now",
            "reset,random=2000:1",
        ] {
            assert!(FaultRule::parse(bad).is_err(), "{bad:?}");
        }
    }
}
