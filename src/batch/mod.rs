//! Batch mutations that never lose a contact: `people.batchUpdateContacts` (and
//! `batchCreateContacts`, `batchDeleteContacts`) in chunks, one request at a time per user, with
//! exactly one outcome for every contact.
//!
//! - Input is any iterator ([`run`](BatchUpdate::run)) or [`Stream`](futures_util::Stream)
//!   ([`run_stream`](BatchUpdate::run_stream)); output is a stream of per-contact outcomes. Memory
//!   holds two chunks (the one with the server, and the next, prepared meanwhile) whatever the
//!   number of contacts; a `Vec` given whole is worked through where it lies, and freed with its
//!   contacts when the job ends.
//! - Bad input (an invalid resource name, a contact without an etag, a name twice in a chunk) is
//!   reported as a failure of that contact and never sent; a bad mask is an error before anything.
//! - When the server rejects a batch because of some contacts, those are reported with their
//!   errors and the rest are sent again.
//! - When an attempt may have applied but its answer is unknown (a lost response, a 5xx, a
//!   timeout, a mangled body, then a replay answered "etag mismatch"), the contacts are read back
//!   with `people:batchGet`: one that holds every value it was sent is reported updated, one still
//!   at the etag it was sent with is sent again (the etag makes that safe), any other is a
//!   conflict. A contact that cannot be read back is read once more at the end of the job, and
//!   only then reported [`Outcome::Unknown`].
//! - [`BatchUpdate::modify`] is read-modify-write: fetch, change with a closure, write back, and on
//!   a conflict fetch and change again (a bounded number of times).
//! - [`RateLimit`] keeps a user's job under the per-minute quotas; [`stream_users`] and
//!   [`run_users`] run many users in parallel, each strictly sequential.
//! - Progress: a callback after every chunk ([`BatchUpdate::on_progress`]); `tracing` spans at
//!   `debug` per request carry counts only, and contact data is never logged above `trace`.
//!
//! Transient failures are retried by the client's [`RetryPolicy`](crate::runtime::RetryPolicy);
//! replays of updates are safe because the etag precondition stops a second application.
//!
//! ```no_run
//! use futures_util::StreamExt as _;
//! use google_people::batch::{BatchUpdate, Outcome};
//! use google_people::{Client, Name, Person, PersonField};
//!
//! # async fn demo(client: Client, contacts: Vec<(String, String)>) -> Result<(), google_people::runtime::Error> {
//! let job = BatchUpdate::new(&client, [PersonField::Names])?;
//! let updates = contacts.into_iter().map(|(resource_name, etag)| {
//!     let person = Person::new()
//!         .set_etag(etag)
//!         .set_names([Name::new().set_given_name("Ada").set_family_name("Lovelace")]);
//!     (resource_name, person)
//! });
//! let mut outcomes = job.run(updates);
//! while let Some(outcome) = outcomes.next().await {
//!     if let Outcome::Failed { requested, error } = outcome {
//!         eprintln!("{requested}: {error}");
//!     }
//! }
//! println!("{:?}", job.summary());
//! # Ok(()) }
//! ```

mod create;
mod delete;
mod modify;
mod outcome;
mod reconcile;
mod update;
mod users;

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tracing::Instrument as _;

pub use crate::quota::RateLimit;
pub use create::{BatchCreate, CreateOutcome};
pub use delete::{BatchDelete, DeleteOutcome};
pub use outcome::{ContactError, Outcome, Progress, Summary};
pub use update::BatchUpdate;
pub use users::{UserJob, run_users, stream_users};

use crate::runtime::Error;
use crate::{Client, Person};
use outcome::Kind;
use reconcile::fetch;

/// Most contacts the API takes in one `batchUpdateContacts` or `batchCreateContacts`.
pub const MAX_CHUNK: usize = 200;

/// Most resource names the API takes in one `batchDeleteContacts`.
pub const MAX_DELETE_CHUNK: usize = 500;

/// Running totals, shared by a job and its clones.
#[derive(Debug, Default)]
struct Stats {
    counts: [AtomicU64; 4],
    requests: AtomicU64,
    writes: AtomicU64,
    retries: AtomicU64,
    span: Mutex<Option<(Instant, Instant)>>,
    /// Bytes per contact of the last request body: the next body is allocated once at its
    /// likely size instead of grown by doubling (a copy of everything so far at each step).
    body_per_contact: std::sync::atomic::AtomicUsize,
}

impl Stats {
    fn summary(&self) -> Summary {
        let n = |k: Kind| self.counts[k as usize].load(Ordering::Relaxed);
        let span = *self.span.lock().unwrap_or_else(PoisonError::into_inner);
        Summary {
            succeeded: n(Kind::Succeeded),
            unchanged: n(Kind::Unchanged),
            failed: n(Kind::Failed),
            unknown: n(Kind::Unknown),
            requests: self.requests.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            elapsed: span.map(|(a, b)| b - a).unwrap_or_default(),
        }
    }

    fn touch(&self) {
        let now = Instant::now();
        let mut span = self.span.lock().unwrap_or_else(PoisonError::into_inner);
        let start = span.map_or(now, |(a, _)| a);
        *span = Some((start, now));
    }
}

/// A progress callback.
#[derive(Clone)]
struct Callback(Arc<dyn Fn(Progress) + Send + Sync>);

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Callback")
    }
}

/// What every kind of job shares: the client, the rate limit, progress and totals.
#[derive(Clone, Debug)]
struct Common {
    client: Client,
    progress: Option<Callback>,
    total: Option<u64>,
    stats: Arc<Stats>,
}

impl Common {
    fn new(client: &Client) -> Self {
        Self {
            client: client.clone(),
            progress: None,
            total: None,
            stats: Arc::default(),
        }
    }

    /// The same settings with fresh totals.
    fn fresh(&self) -> Self {
        Self {
            stats: Arc::default(),
            ..self.clone()
        }
    }

    /// Send one request (paced by the client's rate limit, if any), count it and its retries,
    /// and trace it (counts only).
    async fn send<T>(
        &self,
        method: &'static str,
        contacts: usize,
        request: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        self.stats.touch();
        let before = self.client.retry_count();
        let span = tracing::debug_span!("people_batch", method, contacts);
        let result = request.instrument(span.clone()).await;
        let retries = self.client.retry_count().saturating_sub(before);
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        if method != "people.getBatchGet" {
            self.stats.writes.fetch_add(1, Ordering::Relaxed);
        }
        self.stats.retries.fetch_add(retries, Ordering::Relaxed);
        span.in_scope(|| match &result {
            Ok(_) => tracing::debug!(retries, "answered"),
            Err(e) => tracing::debug!(
                retries,
                status = e.status(),
                kind = ?e.kind(),
                may_have_applied = e.may_have_applied(),
                "failed"
            ),
        });
        result
    }

    /// Count a chunk's outcomes and report progress.
    fn record(&self, kinds: impl IntoIterator<Item = Kind>) {
        // Counted here, then added once per kind: not one atomic add per contact.
        let mut counts = [0u64; 4];
        for k in kinds {
            counts[k as usize] += 1;
        }
        for (total, n) in self.stats.counts.iter().zip(counts) {
            if n > 0 {
                total.fetch_add(n, Ordering::Relaxed);
            }
        }
        self.stats.touch();
        if let Some(cb) = &self.progress {
            let s = self.stats.summary();
            (cb.0)(Progress {
                done: s.done(),
                total: self.total,
                succeeded: s.succeeded,
                failed: s.failed,
                unknown: s.unknown,
                requests: s.requests,
            });
        }
    }

    /// The total from an exact-size iterator, unless one was given.
    fn with_hint(&self, hint: (usize, Option<usize>)) -> Self {
        let mut c = self.clone();
        if c.total.is_none()
            && let (lo, Some(hi)) = hint
            && lo == hi
        {
            c.total = Some(lo as u64);
        }
        c
    }
}

/// The builder methods every kind of job has.
macro_rules! common_builders {
    () => {
        /// Keep this job under a per-user rate limit (default: the client's, if any; the retry
        /// policy backs off on 429s): every request it makes is paced, retries included. Give
        /// jobs for the same user clones of one [`RateLimit`](crate::batch::RateLimit).
        pub fn rate_limit(mut self, limit: crate::batch::RateLimit) -> Self {
            self.common.client = self.common.client.with_rate_limit(limit);
            self
        }

        /// Call `f` after every chunk with the totals so far.
        pub fn on_progress(
            mut self,
            f: impl Fn(crate::batch::Progress) + Send + Sync + 'static,
        ) -> Self {
            self.common.progress = Some(crate::batch::Callback(std::sync::Arc::new(f)));
            self
        }

        /// The number of contacts, for progress (taken from an exact-size iterator otherwise).
        pub fn total(mut self, n: u64) -> Self {
            self.common.total = Some(n);
            self
        }

        /// Totals of everything this job (and its clones) has run so far.
        pub fn summary(&self) -> crate::batch::Summary {
            self.common.stats.summary()
        }
    };
}
pub(crate) use common_builders;

/// A chunk size within `1..=max`.
fn check_chunk(n: usize, max: usize) -> Result<usize, Error> {
    if (1..=max).contains(&n) {
        Ok(n)
    } else {
        Err(Error::invalid_request(format!(
            "chunk size {n} is outside 1..={max}"
        )))
    }
}

/// `people/c<digits>`.
pub(crate) fn valid_contact_name(rn: &str) -> bool {
    rn.strip_prefix("people/c")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// The set of names a chunk has seen, for its duplicate check.
pub(crate) type NameSet<'a> = HashSet<&'a str, std::hash::BuildHasherDefault<NameHasher>>;

/// A quick hasher for a chunk's resource names (at most 200, the caller's own input): a word at
/// a time with FxHash's mix, where SipHash's resistance to chosen keys buys nothing. SipHash was
/// a tenth of what the helper cost over a bare request loop.
#[derive(Default)]
pub(crate) struct NameHasher(u64);

impl NameHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            self.add(u64::from_le_bytes(word));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Why a resource name cannot be sent, if it cannot.
fn name_problem(rn: &str, seen: &mut HashSet<String>) -> Option<String> {
    name_problem_with(rn, || seen.insert(rn.to_string()))
}

/// [`name_problem`], with `first` telling (and recording) whether the name is new to the batch.
fn name_problem_with(rn: &str, first: impl FnOnce() -> bool) -> Option<String> {
    if !valid_contact_name(rn) {
        Some(format!(
            "{rn:?} is not a contact resource name (people/c<digits>)"
        ))
    } else if !first() {
        Some(format!("{rn} appears twice in one batch"))
    } else {
        None
    }
}

/// The contacts a failed batch names as the cause, among those `pending` holds.
fn rejected_contacts(e: &Error, pending: impl Fn(&str) -> bool) -> Vec<(String, ContactError)> {
    e.api_error()
        .map(|a| {
            a.contact_errors()
                .into_iter()
                .filter(|(k, _)| pending(k))
                .map(|(k, s)| {
                    (
                        k.to_string(),
                        ContactError::Rejected {
                            code: s.code,
                            message: s.message.clone(),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn has_source_etag(p: &Person) -> bool {
    p.metadata
        .as_ref()
        .and_then(|m| m.sources.as_ref())
        .is_some_and(|s| s.iter().any(|s| s.etag.is_some()))
}
