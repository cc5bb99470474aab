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
