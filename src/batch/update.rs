//! `people.batchUpdateContacts` for any number of contacts: chunks of at most 200, one request in
//! flight, and the loop that settles a chunk whose answer was lost.

use std::any::Any;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::stream::{self, BoxStream, Stream, StreamExt as _};

use super::reconcile::{Unsettled, Verdict};
use super::{
    Common, ContactError, MAX_CHUNK, NameSet, Outcome, check_chunk, common_builders,
    has_source_etag, name_problem_with, rejected_contacts,
};
use crate::runtime::json::{self, ToJson as _};
use crate::runtime::{Error, FieldMask, MaskField as _, Request};
use crate::{BatchUpdateContactsRequest, Client, Person, PersonField};

/// Sends of a chunk's contacts that a read-back found unwritten, before they are left to the
/// job's final re-read.
const RESENDS: u32 = 3;

/// A batch update job: masks, chunk size and limits, then [`run`](Self::run).
#[derive(Debug, Clone)]
pub struct BatchUpdate {
    pub(super) common: Common,
    pub(super) update_mask: FieldMask<PersonField>,
    pub(super) read_mask: FieldMask<PersonField>,
    pub(super) chunk: usize,
    pub(super) conflict_rounds: u32,
}

/// A contact to write: its resource name and the person to send.
///
/// Persons are held by value where they lie, never boxed nor moved one at a time on the common
/// path: a `Person` is about a kilobyte, and boxing each one (an allocation and a copy to cold
/// memory per contact), then moving each into a chunk list, were in turn the largest cost the
/// helper added over a bare request loop. A `Vec` given to [`run`](BatchUpdate::run) is worked
/// through in place; any other input is moved once, into reused chunk lists.
pub(super) type Contact = (String, Person);

/// Chunk lists whose persons were dropped, kept for the next chunks to fill again.
#[derive(Clone, Default)]
struct Spares(Arc<Mutex<Vec<Vec<Contact>>>>);

impl Spares {
    /// Drop the persons in `spent` and keep the list (two at most: the chunks in memory).
    fn give(&self, mut spent: Vec<Contact>) {
        spent.clear();
        let mut spares = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if spent.capacity() > 0 && spares.len() < 2 {
            spares.push(spent);
        }
    }

    /// A list to fill, if one was given back.
    fn take(&self) -> Option<Vec<Contact>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).pop()
    }
}

/// A validated chunk, with its first request serialized. Its contacts stay where they lie (in
/// the caller's list or in a chunk list): a refused contact's name has been taken for its
/// outcome, and the others, `pending` of them, are the ones the request carries.
struct Prepared {
    outcomes: Vec<Outcome>,
    pending: usize,
    request: Option<Result<Request, Error>>,
}

/// What a chunk came to: outcomes, and the contacts whose outcome is not known yet.
pub(super) struct Settled {
    pub outcomes: Vec<Outcome>,
    pub unsettled: Vec<Unsettled>,
}

/// The contacts of a prepared chunk that its request carries (a refused one's name was taken).
fn pending_in(chunk: &mut [Contact]) -> impl Iterator<Item = &mut Contact> {
    chunk.iter_mut().filter(|(rn, _)| !rn.is_empty())
}

/// The next thing to do with a chunk's pending contacts.
enum Step {
    /// Send them.
    Send,
    /// The send failed with this error: judge what it proves.
    Failed(Error),
    /// Read them back: an attempt may have applied (`cause`); `mismatch` when the server said
    /// their etags changed, which makes a read showing the sent etag stale.
    Read { mismatch: bool, cause: String },
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

    /// Run over `items`, one request in flight at a time; every contact gets exactly one outcome.
    /// An iterator is pulled a chunk ahead (at most two chunks in memory); a `Vec` is worked
    /// through where it lies, no contact moved, and dropped when the job ends.
    pub fn run<I>(&self, items: I) -> impl Stream<Item = Outcome> + Send + Unpin + 'static + use<I>
    where
        I: IntoIterator<Item = (String, Person)>,
        I::IntoIter: Send + 'static,
    {
        self.chunk_outcomes(items).map(stream::iter).flatten()
    }

    /// [`run`](Self::run), a chunk's outcomes at a time.
    fn chunk_outcomes<I>(&self, items: I) -> BoxStream<'static, Vec<Outcome>>
    where
        I: IntoIterator<Item = (String, Person)>,
        I::IntoIter: Send + 'static,
    {
        let items = items.into_iter();
        let job = Self {
            common: self.common.with_hint(items.size_hint()),
            ..self.clone()
        };
        // A `Vec` given whole (the usual input) is settled where it lies, a window at a time.
        // Collecting an unstarted `vec::IntoIter` gives back its own buffer, no element moved.
        let mut items = Some(items);
        let list = (&mut items as &mut dyn Any)
            .downcast_mut::<Option<std::vec::IntoIter<Contact>>>()
            .and_then(Option::take);
        if let Some(list) = list {
            let left: Arc<Mutex<Vec<Unsettled>>> = Arc::default();
            return job.then_left(job.in_place(list.collect(), left.clone()), left);
        }
        let Some(mut iter) = items else {
            // Taken above only when it was a list.
            return stream::empty().boxed();
        };
        // An iterator does no I/O: the next chunk can be pulled while a request is out. Each
        // person is moved once, from the input straight into its chunk's list, and the lists
        // are reused: a chunk is written into memory that the last chunks just used (in cache),
        // not into fresh memory.
        let size = job.chunk;
        let spares = Spares::default();
        let reuse = spares.clone();
        let chunks = std::iter::from_fn(move || {
            let mut chunk = reuse.take().unwrap_or_else(|| Vec::with_capacity(size));
            let room = size.saturating_sub(chunk.len());
            chunk.extend(iter.by_ref().take(room));
            (!chunk.is_empty()).then_some(chunk)
        });
        job.chunked(stream::iter(chunks), true, spares)
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
        self.chunked(input.chunks(self.chunk), false, Spares::default())
            .map(stream::iter)
            .flatten()
    }

    /// The outcomes, a window's at a time, over windows of the caller's own list: each is
    /// validated, serialized and settled where it lies, and the next window is prepared while the
    /// current request is with the server. No person is moved (a `Person` is about a kilobyte,
    /// and moving each into a chunk list was the largest cost the helper added over a bare
    /// request loop); the list is dropped when the job ends, as the caller would have dropped it.
    /// Contacts a window could not settle go to `left`.
    ///
    /// Not boxed here: the caller (generic) boxes it, so the library, which has no call to
    /// `run`, does not compile the whole settling machinery for every build that never uses it.
    fn in_place(
        &self,
        list: Vec<Contact>,
        left: Arc<Mutex<Vec<Unsettled>>>,
    ) -> impl Stream<Item = Vec<Outcome>> + Send + 'static {
        let size = self.chunk;
        let state = (self.clone(), list, 0usize, None::<Prepared>, left);
        stream::unfold(state, move |(job, mut list, at, ready, left)| async move {
            let end = list.len().min(at.saturating_add(size));
            if at >= end {
                return None;
            }
            let (current, rest) = list[at..].split_at_mut(end - at);
            let current_ready = match ready {
                Some(p) => p,
                None => job.prepare(current),
            };
            let next_len = rest.len().min(size);
            let next = &mut rest[..next_len];
            let (done, next) =
                futures_util::future::join(job.finish(current, current_ready), async {
                    (!next.is_empty()).then(|| job.prepare(next))
                })
                .await;
            let outcomes = job.absorb(done, &left);
            Some((outcomes, (job, list, end, next, left)))
        })
    }

    /// The outcomes, a chunk's at a time, over the chunks of `input`; with `overlap`, the next
    /// chunk is pulled, validated and serialized while the current request is with the server.
    fn chunked<S>(
        &self,
        input: S,
        overlap: bool,
        spares: Spares,
    ) -> BoxStream<'static, Vec<Outcome>>
    where
        S: Stream<Item = Vec<Contact>> + Send + 'static,
    {
        let chunks = input.boxed();
        let left: Arc<Mutex<Vec<Unsettled>>> = Arc::default();
        let state = (
            self.clone(),
            chunks,
            None::<(Vec<Contact>, Prepared)>,
            Vec::new(),
            left.clone(),
        );
        let main = stream::unfold(state, move |(job, mut chunks, ready, spent, left)| {
            let spares = spares.clone();
            async move {
                let (mut current, current_ready) = match ready {
                    Some(r) => r,
                    None => {
                        let mut chunk = chunks.next().await?;
                        let prepared = job.prepare(&mut chunk);
                        (chunk, prepared)
                    }
                };
                // While this chunk's request is with the server, drop the last chunk's persons
                // and validate and serialize the next chunk: client work overlaps server work,
                // and the batch requests stay strictly one at a time.
                let (done, next) = if overlap {
                    futures_util::future::join(job.finish(&mut current, current_ready), async {
                        spares.give(spent);
                        let mut chunk = chunks.next().await?;
                        let prepared = job.prepare(&mut chunk);
                        Some((chunk, prepared))
                    })
                    .await
                } else {
                    spares.give(spent);
                    (job.finish(&mut current, current_ready).await, None)
                };
                let outcomes = job.absorb(done, &left);
                Some((outcomes, (job, chunks, next, current, left)))
            }
        });
        self.then_left(main, left)
    }

    /// A chunk's outcomes, counted; its unsettled contacts are kept for the end of the job.
    fn absorb(&self, done: Settled, left: &Mutex<Vec<Unsettled>>) -> Vec<Outcome> {
        left.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(done.unsettled);
        self.common.record(done.outcomes.iter().map(Outcome::kind));
        done.outcomes
    }

    /// `main`'s outcomes, then those of the contacts its chunks could not settle (`left`), read
    /// once more after the last chunk.
    fn then_left(
        &self,
        main: impl Stream<Item = Vec<Outcome>> + Send + 'static,
        left: Arc<Mutex<Vec<Unsettled>>>,
    ) -> BoxStream<'static, Vec<Outcome>> {
        let job = self.clone();
        let end = stream::once(async move {
            let left = std::mem::take(&mut *left.lock().unwrap_or_else(PoisonError::into_inner));
            let outcomes = job.settle_left(left).await;
            if !outcomes.is_empty() {
                job.common.record(outcomes.iter().map(Outcome::kind));
            }
            outcomes
        });
        main.chain(end).boxed()
    }

    /// Run and collect every outcome with the totals of this run.
    pub async fn run_all<I>(&self, items: I) -> (Vec<Outcome>, crate::batch::Summary)
    where
        I: IntoIterator<Item = (String, Person)>,
        I::IntoIter: Send + 'static,
    {
        let job = Self {
            common: self.common.fresh(),
            ..self.clone()
        };
        let items = items.into_iter();
        // One outcome per contact: sized once, not grown (and copied) by doubling.
        let mut outcomes = Vec::with_capacity(items.size_hint().0);
        let mut chunks = job.chunk_outcomes(items);
        while let Some(mut chunk) = chunks.next().await {
            outcomes.append(&mut chunk);
        }
        (outcomes, job.summary())
    }

    /// Outcomes of one chunk, settled completely (its unsettled contacts read once more now).
    pub(super) async fn write_chunk(&self, mut chunk: Vec<Contact>) -> Vec<Outcome> {
        let prepared = self.prepare(&mut chunk);
        let Settled {
            mut outcomes,
            unsettled,
        } = self.finish(&mut chunk, prepared).await;
        outcomes.extend(self.settle_left(unsettled).await);
        outcomes
    }

    /// Validate a chunk and serialize its first request: a refused contact gets its outcome
    /// (and gives it its name), the others are left where they are for the request.
    fn prepare(&self, chunk: &mut [Contact]) -> Prepared {
        let mut outcomes = Vec::new();
        // Checked over borrowed names first (no copy of each name for the duplicate check).
        let problems: Vec<Option<String>> = {
            let mut seen = NameSet::with_capacity_and_hasher(chunk.len(), Default::default());
            chunk
                .iter()
                .map(|(rn, person)| {
                    name_problem_with(rn, || seen.insert(rn)).or_else(|| {
                        (person.etag.is_none() && !has_source_etag(person))
                            .then(|| format!("{rn} has no etag: read the contact first"))
                    })
                })
                .collect()
        };
        // In input order: a sorted map would cost a comparison-ordered insert per contact.
        let mut pending = chunk.len();
        if problems.iter().any(Option::is_some) {
            for ((rn, _), problem) in chunk.iter_mut().zip(problems) {
                if let Some(p) = problem {
                    pending -= 1;
                    outcomes.push(Outcome::Failed {
                        requested: std::mem::take(rn),
                        error: ContactError::InvalidInput(p),
                    });
                }
            }
        }
        let request = (pending > 0).then(|| self.request_for(chunk));
        Prepared {
            outcomes,
            pending,
            request,
        }
    }

    /// Send a prepared chunk and settle every contact in it. Answered at the first send (the
    /// usual case), the outcomes take the contacts' names and nothing else moves; otherwise the
    /// pending contacts are moved out of the chunk to be settled.
    async fn finish(&self, chunk: &mut [Contact], prepared: Prepared) -> Settled {
        let Prepared {
            outcomes,
            pending,
            request,
        } = prepared;
        let take = |chunk: &mut [Contact]| pending_in(chunk).map(std::mem::take).collect();
        let mut settled = match request {
            None => Settled {
                outcomes: Vec::new(),
                unsettled: Vec::new(),
            },
            Some(Ok(request)) => match self.send_batch(pending, request).await {
                Ok(answer) => {
                    let mut done = Vec::with_capacity(pending);
                    updated(answer, pending_in(chunk), &mut done);
                    Settled {
                        outcomes: done,
                        unsettled: Vec::new(),
                    }
                }
                Err(e) => self.settle(take(chunk), None, Step::Failed(e)).await,
            },
            Some(Err(e)) => self.settle(take(chunk), Some(Err(e)), Step::Send).await,
        };
        // The refused contacts first; usually there are none, and the chunk's outcomes are not
        // copied.
        if !outcomes.is_empty() {
            let mut all = outcomes;
            all.append(&mut settled.outcomes);
            settled.outcomes = all;
        }
        settled
    }

    /// One `batchUpdateContacts` request for `contacts` contacts, through the job's rate limit
    /// and counters.
    async fn send_batch(
        &self,
        contacts: usize,
        request: Request,
    ) -> Result<crate::BatchUpdateContactsResponse, Error> {
        let client = &self.common.client;
        self.common
            .send(
                "people.batchUpdateContacts",
                contacts,
                client.execute(request),
            )
            .await
    }

    /// Contacts left unsettled by their chunks, read back once more (and sent again where the read
    /// shows them unwritten); those still unsettled are [`Outcome::Unknown`].
    pub(super) async fn settle_left(&self, left: Vec<Unsettled>) -> Vec<Outcome> {
        let mut out = Vec::new();
        // Those the server said had changed are judged apart: for them a read showing the sent
        // etag is stale, for the others it means "not written".
        let (changed, other): (Vec<_>, Vec<_>) = left.into_iter().partition(|u| u.mismatch);
        for (mismatch, mut left) in [(true, changed), (false, other)] {
            while !left.is_empty() {
                let rest = left.split_off(left.len().min(MAX_CHUNK));
                let group = std::mem::replace(&mut left, rest);
                let cause = group.first().map(|u| u.cause.clone()).unwrap_or_default();
                let pending = group.into_iter().map(|u| (u.requested, u.sent)).collect();
                let settled = self
                    .settle(pending, None, Step::Read { mismatch, cause })
                    .await;
                out.extend(settled.outcomes);
                out.extend(settled.unsettled.into_iter().map(|u| Outcome::Unknown {
                    requested: u.requested,
                    error: u.cause,
                }));
            }
        }
        out
    }

    /// Drive a chunk's contacts to an outcome each: send them (again without the contacts the
    /// server rejects), and after an attempt that may have applied, read them back and send again
    /// those still unwritten. What cannot be settled this way is returned unsettled.
    async fn settle(
        &self,
        mut pending: Vec<Contact>,
        mut request: Option<Result<Request, Error>>,
        mut step: Step,
    ) -> Settled {
        let mut done = Settled {
            // One outcome per contact, nearly always: sized once rather than grown by doubling.
            outcomes: Vec::with_capacity(pending.len()),
            unsettled: Vec::new(),
        };
        // Whether an earlier attempt for these contacts may have applied: then an etag mismatch
        // or a refusal proves nothing about them.
        let mut doubt = matches!(step, Step::Read { .. });
        let mut resends = 0;
        while !pending.is_empty() {
            match std::mem::replace(&mut step, Step::Send) {
                Step::Send => {
                    let next = request.take().unwrap_or_else(|| self.request_for(&pending));
                    let request = match next {
                        Ok(r) => r,
                        Err(e) => {
                            refuse_all(
                                &mut pending,
                                doubt,
                                &e,
                                ContactError::InvalidInput,
                                &mut done,
                            );
                            break;
                        }
                    };
                    match self.send_batch(pending.len(), request).await {
                        Ok(answer) => {
                            updated(answer, pending.iter_mut(), &mut done.outcomes);
                            pending.clear();
                        }
                        Err(e) => step = Step::Failed(e),
                    }
                }
                Step::Failed(e) => {
                    let named = {
                        let keys: HashSet<&str> =
                            pending.iter().map(|(rn, _)| rn.as_str()).collect();
                        rejected_contacts(&e, |k| keys.contains(k))
                    };
                    let uncertain = e.may_have_applied() || e.may_have_reached_server();
                    let stale = e.is_etag_mismatch()
                        || named
                            .iter()
                            .any(|(_, c)| matches!(c, ContactError::Rejected { code: 9, .. }));
                    if (uncertain && (named.is_empty() || named.len() == pending.len()))
                        || (doubt && stale)
                    {
                        // An attempt that applied would have changed every contact's etag, so a
                        // replay naming only some contacts proves it did not: those are genuine
                        // rejections (below). Naming all, or none, leaves it to a read-back; so
                        // does an etag mismatch for contacts an earlier attempt may have written.
                        doubt = true;
                        step = Step::Read {
                            mismatch: stale,
                            cause: e.to_string(),
                        };
                    } else if named.is_empty() {
                        // Refused as a whole, in a way that proves this attempt applied nothing.
                        refuse_all(&mut pending, doubt, &e, ContactError::Request, &mut done);
                    } else {
                        // Some contacts were at fault (a rejection that every attempt would have
                        // met); the batch is atomic, so resend the rest.
                        let named: std::collections::BTreeMap<String, ContactError> =
                            named.into_iter().collect();
                        pending.retain(|(rn, _)| !named.contains_key(rn));
                        done.outcomes.extend(
                            named
                                .into_iter()
                                .map(|(requested, error)| Outcome::Failed { requested, error }),
                        );
                    }
                }
                Step::Read { mismatch, cause } => {
                    let mut verdicts = self.reconcile(&pending, mismatch).await;
                    let mut resend = Vec::new();
                    for (rn, person) in pending.drain(..) {
                        let verdict = verdicts
                            .remove(&rn)
                            .unwrap_or_else(|| Verdict::Unread("not read back".into()));
                        match verdict {
                            Verdict::Updated { resource_name } => {
                                done.outcomes.push(Outcome::Updated {
                                    requested: rn,
                                    resource_name,
                                    person: None,
                                });
                            }
                            Verdict::Conflict => {
                                done.outcomes.push(Outcome::Failed {
                                    requested: rn,
                                    error: ContactError::Conflict,
                                });
                            }
                            Verdict::Unwritten => resend.push((rn, person)),
                            Verdict::Unread(why) => done.unsettled.push(Unsettled::new(
                                rn,
                                person,
                                format!(
                                    "outcome unknown ({cause}) and the read-back failed: {why}"
                                ),
                                mismatch,
                            )),
                        }
                    }
                    if resend.is_empty() {
                        continue;
                    }
                    if resends < RESENDS {
                        // Still at the etag they were sent with: not written (or the read lags
                        // the write, and the etag stops a second application). Send again.
                        resends += 1;
                        pending = resend;
                    } else {
                        done.unsettled.extend(resend.into_iter().map(|(rn, p)| {
                            Unsettled::new(
                                rn,
                                p,
                                format!("outcome unknown ({cause}) after {RESENDS} sends"),
                                mismatch,
                            )
                        }));
                    }
                }
            }
        }
        done
    }

    /// The `batchUpdateContacts` request for the contacts in `chunk` that still have their names
    /// (a refused one gave its name to its outcome), serialized straight from the slice:
    /// `{"contacts": {...}, "updateMask": ..., "readMask": ...}`, the read mask only when set.
    fn request_for(&self, chunk: &[Contact]) -> Result<crate::runtime::Request, Error> {
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
        let contacts = || chunk.iter().filter(|(rn, _)| !rn.is_empty());
        let n = contacts().count();
        if n > MAX_CHUNK {
            return Err(Error::invalid_request(
                "more than 200 contacts in one request",
            ));
        }
        let stats = &self.common.stats;
        let per_contact = stats.body_per_contact.load(Ordering::Relaxed);
        // A little more than the last chunk's size: one allocation for a like chunk.
        let mut body = Vec::with_capacity(per_contact.saturating_mul(n) / 8 * 9);
        body.push(b'{');
        json::key(&mut body, "\"contacts\":{");
        for (rn, person) in contacts() {
            json::member(&mut body, rn);
            person.write_json(&mut body);
        }
        body.push(b'}');
        json::key(&mut body, "\"updateMask\":");
        self.update_mask.write_json(&mut body);
        if !self.read_mask.is_empty() {
            json::key(&mut body, "\"readMask\":");
            self.read_mask.write_json(&mut body);
        }
        body.push(b'}');
        stats
            .body_per_contact
            .store(body.len() / n.max(1), Ordering::Relaxed);
        // Kept for replays until the batch settles: without the growth slack.
        body.shrink_to_fit();
        request.raw_json_body(body);
        Ok(request)
    }
}

/// `Updated` outcomes for the contacts a batch answered, in order: each takes its contact's name.
fn updated<'a>(
    answer: crate::BatchUpdateContactsResponse,
    contacts: impl Iterator<Item = &'a mut Contact>,
    out: &mut Vec<Outcome>,
) {
    let mut results = answer.update_result.unwrap_or_default();
    for (rn, sent) in contacts {
        let rn = std::mem::take(rn);
        let person = results.remove(&rn).and_then(|r| r.person);
        let resource_name = match person.as_ref().and_then(|p| p.resource_name.clone()) {
            Some(name) => name,
            // Without a read mask the answer is `{}`: the name is the requested one, copied into
            // the sent etag's buffer (about as long, and no longer needed) rather than into a
            // new allocation per contact.
            None => copied_into(sent.etag.take(), &rn),
        };
        out.push(Outcome::Updated {
            requested: rn,
            resource_name,
            person: person.map(Box::new),
        });
    }
}

/// `text` in `buf`'s allocation (grown if it is too short), or in a new one without a buffer.
fn copied_into(buf: Option<String>, text: &str) -> String {
    let mut s = buf.unwrap_or_default();
    s.clear();
    s.push_str(text);
    s
}

/// Every pending contact refused as a whole by `error`, in a way that proves this attempt applied
/// nothing: failed with `kind` of its message, unless an earlier attempt may have applied (then
/// the refusal proves nothing, and they are unsettled).
fn refuse_all(
    pending: &mut Vec<Contact>,
    doubt: bool,
    error: &Error,
    kind: fn(String) -> ContactError,
    done: &mut Settled,
) {
    let why = error.to_string();
    for (rn, person) in pending.drain(..) {
        if doubt {
            done.unsettled
                .push(Unsettled::new(rn, person, why.clone(), false));
        } else {
            done.outcomes.push(Outcome::Failed {
                requested: rn,
                error: kind(why.clone()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Contact;
    use crate::Person;

    /// `run` settles a `Vec` where it lies because collecting its unstarted `IntoIter` gives the
    /// same buffer back. Should std ever copy instead, each person would be moved once (as for
    /// any other iterator): slower, not wrong, and this says so.
    #[test]
    fn an_unstarted_list_collects_into_its_own_buffer() {
        let list: Vec<Contact> = (0..300)
            .map(|i| (format!("people/c{i}"), Person::new()))
            .collect();
        let at = list.as_ptr();
        let back: Vec<Contact> = list.into_iter().collect();
        assert_eq!(back.as_ptr(), at);
        assert_eq!(back[299].0, "people/c299");
    }
}
