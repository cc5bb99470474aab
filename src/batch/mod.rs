//! Batch mutations that never lose a contact: `people.batchUpdateContacts` (and
//! `batchCreateContacts`, `batchDeleteContacts`) in chunks, one request at a time per user, with
//! exactly one outcome for every contact.
//!
//! - Input is any iterator ([`run`](BatchUpdate::run)) or [`Stream`]
//!   ([`run_stream`](BatchUpdate::run_stream)); output is a stream of per-contact outcomes. Memory
//!   holds two chunks (the one with the server, and the next, prepared meanwhile) whatever the
//!   number of contacts.
//! - Bad input (an invalid resource name, a contact without an etag, a name twice in a chunk) is
//!   reported as a failure of that contact and never sent; a bad mask is an error before anything.
//! - When the server rejects a batch because of some contacts, those are reported with their
//!   errors and the rest are sent again.
//! - When an attempt may have applied but the outcome is unknown (a lost response, then a replay
//!   answered "etag mismatch"), the contacts are read back with `people:batchGet`: a contact that
//!   holds every value it was sent is reported updated, any other is a conflict.
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
mod limit;
mod modify;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::stream::{self, Stream, StreamExt as _};
use serde_json::Value;
use tracing::Instrument as _;

pub use create::{BatchCreate, CreateOutcome};
pub use delete::{BatchDelete, DeleteOutcome};
pub use limit::RateLimit;

use crate::runtime::{Error, FieldMask, MaskField as _};
use crate::{BatchUpdateContactsRequest, Client, Person, PersonField};

/// Most contacts the API takes in one `batchUpdateContacts` or `batchCreateContacts`.
pub const MAX_CHUNK: usize = 200;

/// Most resource names the API takes in one `batchDeleteContacts`.
pub const MAX_DELETE_CHUNK: usize = 500;

/// What happened to one contact.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Outcome {
    /// The contact holds the requested values.
    Updated {
        /// The resource name it was requested under.
        requested: String,
        /// Its resource name now (it can change when a contact is linked to a profile).
        resource_name: String,
        /// The updated person, projected to the read mask (none without one, or after a re-read).
        person: Option<Box<Person>>,
    },
    /// Nothing to write: [`modify`](BatchUpdate::modify)'s closure left the masked fields as they
    /// were.
    Unchanged {
        /// The resource name it was requested under.
        requested: String,
        /// Its resource name now.
        resource_name: String,
    },
    /// The contact was not updated.
    Failed {
        /// The resource name it was requested under.
        requested: String,
        /// Why.
        error: ContactError,
    },
}

impl Outcome {
    /// The resource name the contact was requested under.
    pub fn requested(&self) -> &str {
        match self {
            Outcome::Updated { requested, .. }
            | Outcome::Unchanged { requested, .. }
            | Outcome::Failed { requested, .. } => requested,
        }
    }

    /// Whether the contact was updated.
    pub fn is_updated(&self) -> bool {
        matches!(self, Outcome::Updated { .. })
    }

    /// The error, for a failed contact.
    pub fn error(&self) -> Option<&ContactError> {
        match self {
            Outcome::Failed { error, .. } => Some(error),
            _ => None,
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Outcome::Updated { .. } => Kind::Succeeded,
            Outcome::Unchanged { .. } => Kind::Unchanged,
            Outcome::Failed { .. } => Kind::Failed,
        }
    }
}

/// Why a contact was not written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContactError {
    /// Rejected before sending: invalid name, no etag, repeated in a chunk.
    InvalidInput(String),
    /// The server rejected this contact (`google.rpc` code and message).
    Rejected {
        /// Canonical code (9 = FAILED_PRECONDITION, 5 = NOT_FOUND, 3 = INVALID_ARGUMENT).
        code: i64,
        /// The server's message.
        message: String,
    },
    /// The contact changed elsewhere: after an unknown outcome it does not hold the sent values.
    Conflict,
    /// The whole request failed (after retries) and the contact was not applied.
    Request(String),
}

impl ContactError {
    /// An etag mismatch or a conflict: the contact changed since it was read.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            ContactError::Conflict | ContactError::Rejected { code: 9, .. }
        )
    }
}

impl fmt::Display for ContactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContactError::InvalidInput(m) => write!(f, "invalid input: {m}"),
            ContactError::Rejected { code, message } => {
                write!(f, "rejected by the server (code {code}): {message}")
            }
            ContactError::Conflict => f.write_str("the contact changed elsewhere (conflict)"),
            ContactError::Request(m) => write!(f, "the request failed: {m}"),
        }
    }
}

impl std::error::Error for ContactError {}

/// Totals of a job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Contacts applied: updated, created or deleted.
    pub succeeded: u64,
    /// Contacts left as they were (nothing to write).
    pub unchanged: u64,
    /// Contacts failed.
    pub failed: u64,
    /// Creates whose outcome is unknown (the request may have reached the server and creates are
    /// never replayed).
    pub unknown: u64,
    /// Requests sent (mutations and reads; the client's retries are counted in `retries`).
    pub requests: u64,
    /// Retries made by the client during the job.
    pub retries: u64,
    /// Wall time from the first request to the last outcome.
    pub elapsed: Duration,
}

impl Summary {
    /// Contacts with an outcome.
    pub fn done(&self) -> u64 {
        self.succeeded + self.unchanged + self.failed + self.unknown
    }
}

/// Where a job is, passed to the [`on_progress`](BatchUpdate::on_progress) callback after every
/// chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Contacts with an outcome so far.
    pub done: u64,
    /// Contacts in all, when known (an exact-size iterator, or [`total`](BatchUpdate::total)).
    pub total: Option<u64>,
    /// Contacts applied so far.
    pub succeeded: u64,
    /// Contacts failed so far.
    pub failed: u64,
    /// Requests sent so far.
    pub requests: u64,
}

#[derive(Clone, Copy)]
enum Kind {
    Succeeded,
    Unchanged,
    Failed,
    Unknown,
}

/// Running totals, shared by a job and its clones.
#[derive(Debug, Default)]
struct Stats {
    counts: [AtomicU64; 4],
    requests: AtomicU64,
    retries: AtomicU64,
    span: Mutex<Option<(Instant, Instant)>>,
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
    limit: Option<RateLimit>,
    progress: Option<Callback>,
    total: Option<u64>,
    stats: Arc<Stats>,
}

impl Common {
    fn new(client: &Client) -> Self {
        Self {
            client: client.clone(),
            limit: None,
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

    /// Send one request: wait for the rate limit, count it and its retries, and trace it (counts
    /// only).
    async fn send<T>(
        &self,
        method: &'static str,
        contacts: usize,
        cost: (u32, u32),
        request: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        if let Some(limit) = &self.limit {
            limit.acquire(cost.0, cost.1).await;
        }
        self.stats.touch();
        let before = self.client.retry_count();
        let span = tracing::debug_span!("people_batch", method, contacts);
        let result = request.instrument(span.clone()).await;
        let retries = self.client.retry_count().saturating_sub(before);
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
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
        for k in kinds {
            self.stats.counts[k as usize].fetch_add(1, Ordering::Relaxed);
        }
        self.stats.touch();
        if let Some(cb) = &self.progress {
            let s = self.stats.summary();
            (cb.0)(Progress {
                done: s.done(),
                total: self.total,
                succeeded: s.succeeded,
                failed: s.failed,
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

/// A validated chunk, with its first request serialized.
struct Prepared {
    outcomes: Vec<Outcome>,
    pending: Vec<(String, Box<Person>)>,
    seen: HashSet<String>,
    request: Option<Result<crate::runtime::Request, Error>>,
}

/// The builder methods every kind of job has.
macro_rules! common_builders {
    () => {
        /// Keep this job under a per-user rate limit (default: none; the client's retry policy
        /// backs off on 429s). Give jobs for the same user clones of one
        /// [`RateLimit`](crate::batch::RateLimit).
        pub fn rate_limit(mut self, limit: crate::batch::RateLimit) -> Self {
            self.common.limit = Some(limit);
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

/// A batch update job: masks, chunk size and limits, then [`run`](Self::run).
#[derive(Debug, Clone)]
pub struct BatchUpdate {
    common: Common,
    update_mask: FieldMask<PersonField>,
    read_mask: FieldMask<PersonField>,
    chunk: usize,
    conflict_rounds: u32,
}

/// One user's share of a many-user job: who, the job (with that user's client, for example from
/// [`auth::DelegatedPool`](crate::auth::DelegatedPool)), and the contacts to update.
#[derive(Debug)]
pub struct UserJob<I> {
    /// The user, for reporting.
    pub user: String,
    /// The job, built on a client that acts for this user.
    pub job: BatchUpdate,
    /// The contacts.
    pub items: I,
}

/// Run many users' jobs, at most `concurrency` users at once; each user's requests stay strictly
/// sequential, as the API asks. Results come back per user as they finish.
pub async fn run_users<U, I>(users: U, concurrency: usize) -> Vec<(String, Vec<Outcome>, Summary)>
where
    U: IntoIterator<Item = UserJob<I>>,
    I: IntoIterator<Item = (String, Person)>,
    I::IntoIter: Send + 'static,
{
    stream::iter(users)
        .map(|u| async move {
            let (outcomes, summary) = u.job.run_all(u.items).await;
            (u.user, outcomes, summary)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// Run many users' jobs as one stream of `(user, outcome)`, at most `concurrency` users at once,
/// each user's requests strictly sequential; memory stays bounded by the users in progress
/// whatever the number of contacts. Keep a clone of a user's job to read its
/// [`summary`](BatchUpdate::summary) afterwards.
pub fn stream_users<U, I>(
    users: U,
    concurrency: usize,
) -> impl Stream<Item = (String, Outcome)> + Send + Unpin + 'static + use<U, I>
where
    U: IntoIterator<Item = UserJob<I>>,
    U::IntoIter: Send + 'static,
    I: IntoIterator<Item = (String, Person)>,
    I::IntoIter: Send + 'static,
{
    stream::iter(users)
        .map(|u| {
            let user = u.user;
            u.job.run(u.items).map(move |o| (user.clone(), o))
        })
        .flatten_unordered(concurrency.max(1))
        .boxed()
}

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

/// Why a resource name cannot be sent, if it cannot.
fn name_problem(rn: &str, seen: &mut HashSet<String>) -> Option<String> {
    if !valid_contact_name(rn) {
        Some(format!(
            "{rn:?} is not a contact resource name (people/c<digits>)"
        ))
    } else if !seen.insert(rn.to_string()) {
        Some(format!("{rn} appears twice in one batch"))
    } else {
        None
    }
}

impl BatchUpdate {
    /// Update the fields in `update_mask` (replaced, or cleared when a person lacks them).
    /// An empty mask, or one naming an output-only field, is an error.
    pub fn new(
        client: &Client,
        update_mask: impl Into<FieldMask<PersonField>>,
    ) -> Result<Self, Error> {
        let update_mask = update_mask.into();
        if update_mask.is_empty() {
            return Err(Error::invalid_request("the update mask is empty"));
        }
        if let Some(f) = update_mask.fields().iter().find(|f| {
            f.is_output_only() || matches!(f, PersonField::ResourceName | PersonField::Etag)
        }) {
            return Err(Error::invalid_request(format!(
                "the update mask names `{}`, which cannot be written",
                f.as_str()
            )));
        }
        Ok(Self {
            common: Common::new(client),
            update_mask,
            read_mask: FieldMask::new(),
            chunk: MAX_CHUNK,
            conflict_rounds: 3,
        })
    }

    common_builders!();

    /// Return the updated persons projected to this mask (default: none, which saves the
    /// server's post-update read).
    pub fn read_mask(mut self, mask: impl Into<FieldMask<PersonField>>) -> Self {
        self.read_mask = mask.into();
        self
    }

    /// Contacts per request, 1 to 200.
    pub fn chunk_size(mut self, n: usize) -> Result<Self, Error> {
        self.chunk = check_chunk(n, MAX_CHUNK)?;
        Ok(self)
    }

    /// How many times [`modify`](Self::modify) fetches and changes a contact again after a
    /// conflict (default 3).
    pub fn conflict_rounds(mut self, n: u32) -> Self {
        self.conflict_rounds = n;
        self
    }

    /// Run over `items`, at most two chunks in memory and one request in flight at a time; every contact
    /// gets exactly one outcome.
    pub fn run<I>(&self, items: I) -> impl Stream<Item = Outcome> + Send + Unpin + 'static + use<I>
    where
        I: IntoIterator<Item = (String, Person)>,
        I::IntoIter: Send + 'static,
    {
        let iter = items.into_iter();
        let job = Self {
            common: self.common.with_hint(iter.size_hint()),
            ..self.clone()
        };
        // An iterator does no I/O: the next chunk can be pulled while a request is out.
        job.chunked(stream::iter(iter), true)
    }

    /// Run over a stream of contacts (for example pages of a listing, mapped to updates), with
    /// the same guarantees as [`run`](Self::run). The stream is polled only between requests, so
    /// a stream that reads from the API (the user's own listing) never has a request in flight
    /// at the same time as a batch.
    pub fn run_stream<S>(
        &self,
        input: S,
    ) -> impl Stream<Item = Outcome> + Send + Unpin + 'static + use<S>
    where
        S: Stream<Item = (String, Person)> + Send + 'static,
    {
        self.chunked(input, false)
    }

    /// The outcome stream over `input`; with `overlap`, the next chunk is pulled, validated and
    /// serialized while the current request is with the server.
    fn chunked<S>(
        &self,
        input: S,
        overlap: bool,
    ) -> impl Stream<Item = Outcome> + Send + Unpin + 'static + use<S>
    where
        S: Stream<Item = (String, Person)> + Send + 'static,
    {
        // Boxed, so that a chunk is 200 pointers and not 200 large structs moved around.
        let chunks = input
            .map(|(rn, p)| (rn, Box::new(p)))
            .chunks(self.chunk)
            .boxed();
        let state = (self.clone(), chunks, None::<Prepared>, Vec::new());
        stream::unfold(state, move |(job, mut chunks, ready, spent)| async move {
            let current = match ready {
                Some(p) => p,
                None => job.prepare(chunks.next().await?),
            };
            // While this chunk's request is with the server, drop the last chunk's persons and
            // validate and serialize the next chunk: client work overlaps server work, and the
            // batch requests stay strictly one at a time.
            let (done, next) = if overlap {
                futures_util::future::join(job.finish(current), async {
                    drop(spent);
                    chunks.next().await.map(|c| job.prepare(c))
                })
                .await
            } else {
                drop(spent);
                (job.finish(current).await, None)
            };
            let (outcomes, spent) = done;
            job.common.record(outcomes.iter().map(Outcome::kind));
            Some((stream::iter(outcomes), (job, chunks, next, spent)))
        })
        .flatten()
        .boxed()
    }

    /// Run and collect every outcome with the totals of this run.
    pub async fn run_all<I>(&self, items: I) -> (Vec<Outcome>, Summary)
    where
        I: IntoIterator<Item = (String, Person)>,
        I::IntoIter: Send + 'static,
    {
        let job = Self {
            common: self.common.fresh(),
            ..self.clone()
        };
        let outcomes: Vec<Outcome> = job.run(items).collect().await;
        (outcomes, job.summary())
    }

    /// Outcomes of one chunk.
    async fn write_chunk(&self, chunk: Vec<(String, Box<Person>)>) -> Vec<Outcome> {
        self.finish(self.prepare(chunk)).await.0
    }

    /// Validate a chunk and serialize its first request.
    fn prepare(&self, chunk: Vec<(String, Box<Person>)>) -> Prepared {
        let mut outcomes = Vec::new();
        let mut seen: HashSet<String> = HashSet::with_capacity(chunk.len());
        // In input order: a sorted map would cost a comparison-ordered insert per contact.
        let mut pending: Vec<(String, Box<Person>)> = Vec::with_capacity(chunk.len());
        for (rn, person) in chunk {
            let problem = name_problem(&rn, &mut seen).or_else(|| {
                (person.etag.is_none() && !has_source_etag(&person))
                    .then(|| format!("{rn} has no etag: read the contact first"))
            });
            match problem {
                Some(p) => outcomes.push(Outcome::Failed {
                    requested: rn,
                    error: ContactError::InvalidInput(p),
                }),
                None => pending.push((rn, person)),
            }
        }
        let request = (!pending.is_empty()).then(|| self.request_for(&pending));
        Prepared {
            outcomes,
            pending,
            seen,
            request,
        }
    }

    /// Send a prepared chunk (and again without the contacts the server rejects): its outcomes,
    /// and the persons, for the caller to drop.
    async fn finish(&self, prepared: Prepared) -> (Vec<Outcome>, Vec<Box<Person>>) {
        let Prepared {
            mut outcomes,
            mut pending,
            mut seen,
            mut request,
        } = prepared;
        let mut spent = Vec::with_capacity(pending.len());
        while !pending.is_empty() {
            let next = request.take().unwrap_or_else(|| self.request_for(&pending));
            let request = match next {
                Ok(r) => r,
                Err(e) => {
                    outcomes.extend(pending.drain(..).map(|(rn, _)| Outcome::Failed {
                        requested: rn,
                        error: ContactError::InvalidInput(e.to_string()),
                    }));
                    break;
                }
            };
            let client = &self.common.client;
            let sent: Result<crate::BatchUpdateContactsResponse, Error> = self
                .common
                .send(
                    "people.batchUpdateContacts",
                    pending.len(),
                    limit::BATCH_MUTATION,
                    client.execute(request),
                )
                .await;
            match sent {
                Ok(resp) => {
                    let mut results = resp.update_result.unwrap_or_default();
                    for (rn, sent) in pending.drain(..) {
                        spent.push(sent);
                        let person = results.remove(&rn).and_then(|r| r.person);
                        let resource_name = person
                            .as_ref()
                            .and_then(|p| p.resource_name.clone())
                            .unwrap_or_else(|| rn.clone());
                        outcomes.push(Outcome::Updated {
                            requested: rn,
                            resource_name,
                            person: person.map(Box::new),
                        });
                    }
                }
                Err(e) => {
                    let named = rejected_contacts(&e, |k| seen.contains(k));
                    let uncertain = e.may_have_applied() || e.may_have_reached_server();
                    // An earlier attempt that applied would have changed every contact's etag, so
                    // a replay naming only some contacts proves it did not: those are genuine
                    // rejections. Naming all, or none, leaves the outcome to a re-read.
                    if uncertain && (named.is_empty() || named.len() == pending.len()) {
                        let named: BTreeMap<String, ContactError> = named.into_iter().collect();
                        let chunk = pending.drain(..).map(|(rn, p)| (rn, *p)).collect();
                        outcomes.extend(self.reconcile(chunk, &e, named).await);
                    } else if named.is_empty() {
                        // The request failed as a whole: nothing was applied.
                        outcomes.extend(pending.drain(..).map(|(rn, _)| Outcome::Failed {
                            requested: rn,
                            error: ContactError::Request(e.to_string()),
                        }));
                    } else {
                        // Some contacts were at fault; the batch is atomic, so resend the rest.
                        let named: BTreeMap<String, ContactError> = named.into_iter().collect();
                        pending.retain(|(rn, _)| !named.contains_key(rn));
                        for (rn, error) in named {
                            seen.remove(&rn);
                            outcomes.push(Outcome::Failed {
                                requested: rn,
                                error,
                            });
                        }
                    }
                }
            }
        }
        (outcomes, spent)
    }

    /// The `batchUpdateContacts` request for `contacts`, serialized straight from the slice.
    fn request_for(
        &self,
        contacts: &[(String, Box<Person>)],
    ) -> Result<crate::runtime::Request, Error> {
        struct Contacts<'a>(&'a [(String, Box<Person>)]);
        impl serde::Serialize for Contacts<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
            }
        }
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            contacts: Contacts<'a>,
            update_mask: &'a FieldMask<PersonField>,
            #[serde(skip_serializing_if = "FieldMask::is_empty")]
            read_mask: &'a FieldMask<PersonField>,
        }
        // The generated call supplies the method, path and checks; the body is ours.
        let empty = BatchUpdateContactsRequest::new()
            .set_update_mask(self.update_mask.clone())
            .set_read_mask(self.read_mask.clone());
        let mut request = self
            .common
            .client
            .people()
            .batch_update_contacts(empty)
            .request()?;
        if contacts.len() > MAX_CHUNK {
            return Err(Error::invalid_request(
                "more than 200 contacts in one request",
            ));
        }
        let body = serde_json::to_vec(&Body {
            contacts: Contacts(contacts),
            update_mask: &self.update_mask,
            read_mask: &self.read_mask,
        })
        .map_err(|e| Error::invalid_request(format!("a contact does not serialize: {e}")))?;
        request.raw_json_body(body);
        Ok(request)
    }

    /// After an unknown outcome (`error`): read the contacts back and compare them with what was
    /// sent. A contact still at the etag that was sent was not written; one that holds every sent
    /// value was; any other changed elsewhere (a conflict). When the last answer was an etag
    /// mismatch, a read still showing the sent etag is stale (the mismatch proves the contact
    /// changed), so it is read again, a bounded number of times.
    async fn reconcile(
        &self,
        pending: BTreeMap<String, Person>,
        error: &Error,
        mut named: BTreeMap<String, ContactError>,
    ) -> Vec<Outcome> {
        let mask = self.update_mask.clone().with(PersonField::Metadata);
        let names: Vec<String> = pending.keys().cloned().collect();
        let mut stored: BTreeMap<String, Person> = BTreeMap::new();
        let unwritten =
            |rn: &String, now: &Person| now.etag.is_some() && now.etag == pending[rn].etag;
        let mut failure = None;
        for round in 0..4u32 {
            let todo: Vec<String> = names
                .iter()
                .filter(|rn| match stored.get(*rn) {
                    None => round == 0,
                    Some(now) => error.is_etag_mismatch() && unwritten(rn, now),
                })
                .cloned()
                .collect();
            if todo.is_empty() {
                break;
            }
            if round > 0 {
                tokio::time::sleep(Duration::from_millis(250 << round)).await;
            }
            match fetch(&self.common, &todo, mask.clone()).await {
                Ok(found) => stored.extend(
                    found
                        .into_iter()
                        .filter_map(|(rn, p)| p.ok().map(|p| (rn, p))),
                ),
                Err(e) => {
                    failure = Some(e.to_string());
                    break;
                }
            }
        }
        // A contact linked to a profile by this very update has a new resource name, and the old
        // one is no longer found: look for it by its previous names.
        let moved: Vec<String> = names
            .iter()
            .filter(|rn| !stored.contains_key(*rn))
            .cloned()
            .collect();
        if failure.is_none() && !moved.is_empty() {
            match self.find_moved(&moved, mask).await {
                Ok(found) => stored.extend(found),
                Err(e) => failure = Some(e.to_string()),
            }
        }
        let outcomes: Vec<Outcome> = pending
            .iter()
            .map(move |(rn, sent)| {
                let requested = rn.clone();
                match (stored.get(rn), &failure) {
                    (Some(now), _) if unwritten(rn, now) => Outcome::Failed {
                        error: named
                            .remove(rn)
                            .unwrap_or_else(|| ContactError::Request(error.to_string())),
                        requested,
                    },
                    (Some(now), _) if self.holds(now, sent) => Outcome::Updated {
                        resource_name: now.resource_name.clone().unwrap_or_else(|| rn.clone()),
                        requested,
                        person: None,
                    },
                    (Some(_), _) | (None, None) => Outcome::Failed {
                        requested,
                        error: ContactError::Conflict,
                    },
                    (None, Some(f)) => Outcome::Failed {
                        requested,
                        error: ContactError::Request(format!(
                            "outcome unknown ({error}) and the re-read failed: {f}"
                        )),
                    },
                }
            })
            .collect();
        outcomes
    }

    /// Contacts now known under another resource name, found by listing the user's contacts
    /// and reading `metadata.previousResourceNames`; keyed by the old name. Costs a full listing,
    /// so it runs only for contacts an uncertain write may have relinked.
    async fn find_moved(
        &self,
        old: &[String],
        mask: FieldMask<PersonField>,
    ) -> Result<BTreeMap<String, Person>, Error> {
        let wanted: HashSet<&str> = old.iter().map(String::as_str).collect();
        let mut found = BTreeMap::new();
        let mut pages = self
            .common
            .client
            .people()
            .connections()
            .list("people/me")
            .person_fields(mask)
            .page_size(1000)
            .by_page();
        loop {
            if let Some(limit) = &self.common.limit {
                limit.acquire(limit::BATCH_GET.0, limit::BATCH_GET.1).await;
            }
            let Some(page) = pages.next().await else {
                break;
            };
            self.common.stats.requests.fetch_add(1, Ordering::Relaxed);
            for person in page?.connections.unwrap_or_default() {
                let previous = person
                    .metadata
                    .as_ref()
                    .and_then(|m| m.previous_resource_names.clone())
                    .unwrap_or_default();
                for name in previous {
                    if wanted.contains(name.as_str()) {
                        found.insert(name, person.clone());
                    }
                }
            }
            if found.len() == wanted.len() {
                break;
            }
        }
        Ok(found)
    }

    /// Whether `now` holds every value `sent` carries for the masked fields (keys the server adds,
    /// such as `metadata` or formatted values, are ignored).
    fn holds(&self, now: &Person, sent: &Person) -> bool {
        let (Ok(now), Ok(sent)) = (serde_json::to_value(now), serde_json::to_value(sent)) else {
            return false;
        };
        self.update_mask.fields().iter().all(|f| {
            let key = f.as_str();
            match (sent.get(key), now.get(key)) {
                (None, None) => true,
                (Some(Value::Array(a)), None) | (None, Some(Value::Array(a))) => a.is_empty(),
                (Some(s), Some(n)) => subset(s, n),
                _ => false,
            }
        })
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

/// Read contacts with `people:batchGet` (at most 200): each one's person or per-contact error.
async fn fetch(
    common: &Common,
    names: &[String],
    mask: FieldMask<PersonField>,
) -> Result<BTreeMap<String, Result<Person, ContactError>>, Error> {
    let call = common
        .client
        .people()
        .get_batch_get()
        .resource_names(names.iter().cloned())
        .person_fields(mask);
    let resp = common
        .send(
            "people.getBatchGet",
            names.len(),
            limit::BATCH_GET,
            call.send(),
        )
        .await?;
    let mut out = BTreeMap::new();
    for r in resp.responses.unwrap_or_default() {
        let Some(rn) = r.requested_resource_name else {
            continue;
        };
        let status = r.status.as_ref().and_then(|s| s.code).unwrap_or(0);
        let result = match r.person {
            Some(p) if status == 0 => Ok(p),
            _ => Err(ContactError::Rejected {
                code: i64::from(status),
                message: r
                    .status
                    .and_then(|s| s.message)
                    .unwrap_or_else(|| "not returned".into()),
            }),
        };
        out.insert(rn, result);
    }
    Ok(out)
}

fn has_source_etag(p: &Person) -> bool {
    p.metadata
        .as_ref()
        .and_then(|m| m.sources.as_ref())
        .is_some_and(|s| s.iter().any(|s| s.etag.is_some()))
}

/// `sent` is contained in `now`: equal scalars, arrays item by item, objects key by key (ignoring
/// `metadata`, which the server fills in).
fn subset(sent: &Value, now: &Value) -> bool {
    match (sent, now) {
        (Value::Object(s), Value::Object(n)) => s
            .iter()
            .filter(|(k, _)| *k != "metadata")
            .all(|(k, v)| n.get(k).is_some_and(|nv| subset(v, nv))),
        (Value::Array(s), Value::Array(n)) => {
            s.len() == n.len() && s.iter().zip(n).all(|(a, b)| subset(a, b))
        }
        _ => sent == now,
    }
}
