//! The retry policy every generated call goes through: exponential backoff with full jitter,
//! capped, bounded in attempts and elapsed time, honouring `Retry-After` and `RetryInfo`, with a
//! longer minimum wait after a 429, and aware of which requests are safe to replay.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Error, HttpMethod};

/// Whether a request may be sent again after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Replay {
    /// Safe to replay: reads, idempotent writes, and writes guarded by an etag precondition
    /// (`updateContact`, `batchUpdateContacts`), which can never apply twice.
    Safe,
    /// Only when the request was certainly not processed (the connection was not established,
    /// or the server answered 429 or 408): creates, which would otherwise make duplicates.
    BeforeSendOnly,
}

/// POST methods that are safe to replay.
const SAFE_POSTS: &[&str] = &[
    ".batchUpdateContacts",
    ".members.modify",
    ":batchGet",
    ".searchContacts",
];

impl Replay {
    /// The replay safety of a discovery method.
    pub fn of(method: HttpMethod, method_id: &str) -> Self {
        match method {
            HttpMethod::Get | HttpMethod::Put | HttpMethod::Patch => Replay::Safe,
            // A replayed delete of a deleted contact fails; the batch helper reconciles it.
            HttpMethod::Delete => Replay::Safe,
            HttpMethod::Post if SAFE_POSTS.iter().any(|s| method_id.ends_with(s)) => Replay::Safe,
            HttpMethod::Post => Replay::BeforeSendOnly,
        }
    }
}

/// How failed requests are retried. The defaults follow Google's client libraries: 1 s initial
/// delay, ×2, 60 s cap, full jitter; at most 5 attempts and 2 minutes; at least 5 s after a 429.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Delay before the first retry (before jitter).
    pub initial_delay: Duration,
    /// Growth of the delay per retry.
    pub multiplier: f64,
    /// Largest delay (before jitter).
    pub max_delay: Duration,
    /// Attempts in all, the first included; 1 disables retries.
    pub max_attempts: u32,
    /// No retry starts after this much time since the first attempt.
    pub max_elapsed: Duration,
    /// Shortest wait after a 429 (quota windows are per minute).
    pub rate_limit_min_delay: Duration,
    /// Full jitter: wait a uniformly random time in `[0, delay]` (a server's `Retry-After` is
    /// honoured as given).
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(1),
            multiplier: 2.0,
            max_delay: Duration::from_secs(60),
            max_attempts: 5,
            max_elapsed: Duration::from_secs(120),
            rate_limit_min_delay: Duration::from_secs(5),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Set the delays: initial, cap, and the minimum after a 429.
    pub fn with_delays(
        mut self,
        initial: Duration,
        max: Duration,
        rate_limit_min: Duration,
    ) -> Self {
        self.initial_delay = initial;
        self.max_delay = max;
        self.rate_limit_min_delay = rate_limit_min;
        self
    }

    /// Set the attempt and time budgets.
    pub fn with_budget(mut self, max_attempts: u32, max_elapsed: Duration) -> Self {
        self.max_attempts = max_attempts.max(1);
        self.max_elapsed = max_elapsed;
        self
    }

    /// Turn jitter on or off.
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// The capped backoff before retry number `retry` (0-based), before jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = self.multiplier.max(1.0).powi(retry.min(64) as i32);
        let secs = (self.initial_delay.as_secs_f64() * factor).min(self.max_delay.as_secs_f64());
        // Saturating: a policy with a huge `max_delay` must not panic here.
        Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(self.max_delay)
    }

    /// Whether to retry after `attempts` attempts that took `elapsed`, failing last with `err`,
    /// for a request of the given replay safety; and how long to wait first.
    ///
    /// A server's hint (`Retry-After`, `RetryInfo`) is honoured as given, but never past the
    /// policy's budget: a hint that would start the next attempt after `max_elapsed` ends the
    /// retries with the server's error. All arithmetic saturates, so no hint can overflow.
    pub fn next_delay(
        &self,
        attempts: u32,
        elapsed: Duration,
        err: &Error,
        replay: Replay,
    ) -> Option<Duration> {
        if attempts >= self.max_attempts || !err.is_retryable() {
            return None;
        }
        // A 429 or 408 was turned away before processing; a 5xx or a broken exchange may have
        // been processed.
        if replay == Replay::BeforeSendOnly && err.may_have_reached_server() {
            return None;
        }
        let mut delay = match err.retry_after() {
            Some(hint) => hint,
            None => {
                let cap = self.backoff(attempts.saturating_sub(1));
                if self.jitter {
                    cap.mul_f64(unit_random())
                } else {
                    cap
                }
            }
        };
        if err.is_rate_limited() {
            delay = delay.max(self.rate_limit_min_delay);
        }
        let start_next = elapsed.checked_add(delay)?;
        (start_next <= self.max_elapsed).then_some(delay)
    }
}

/// A uniform random number in `[0, 1)` (splitmix64 over time and a counter; jitter needs no
/// cryptographic quality).
fn unit_random() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    let mut x = nanos ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let p = RetryPolicy::default();
        let got: Vec<u64> = (0..8).map(|r| p.backoff(r).as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn replay_safety_by_method() {
        assert_eq!(
            Replay::of(HttpMethod::Post, "people.people.batchUpdateContacts"),
            Replay::Safe
        );
        assert_eq!(
            Replay::of(HttpMethod::Patch, "people.people.updateContact"),
            Replay::Safe
        );
        assert_eq!(
            Replay::of(HttpMethod::Get, "people.people.get"),
            Replay::Safe
        );
        assert_eq!(
            Replay::of(HttpMethod::Post, "people.people.createContact"),
            Replay::BeforeSendOnly
        );
        assert_eq!(
            Replay::of(HttpMethod::Post, "people.people.batchCreateContacts"),
            Replay::BeforeSendOnly
        );
        assert_eq!(
            Replay::of(HttpMethod::Post, "people.contactGroups.members.modify"),
            Replay::Safe
        );
    }

    #[test]
    fn jitter_stays_in_range() {
        for _ in 0..1000 {
            let u = unit_random();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
