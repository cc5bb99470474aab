//! `people.batchUpdateContacts` for any number of contacts: chunks of at most 200, one request in
//! flight, and the loop that settles a chunk whose answer was lost.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::stream::{self, Stream, StreamExt as _};

use super::reconcile::{Unsettled, Verdict};
use super::{
    Common, ContactError, MAX_CHUNK, Outcome, check_chunk, common_builders, has_source_etag, limit,
    name_problem_with, rejected_contacts,
};
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

/// A validated chunk, with its first request serialized.
struct Prepared {
    outcomes: Vec<Outcome>,
    pending: Vec<(String, Box<Person>)>,
    request: Option<Result<Request, Error>>,
}

/// What a chunk came to: outcomes, the persons (for the caller to drop), and the contacts whose
/// outcome is not known yet.
pub(super) struct Settled {
    pub outcomes: Vec<Outcome>,
    // Boxes, as they came: unboxing would move every person once more just to drop it.
    #[allow(clippy::vec_box)]
    pub spent: Vec<Box<Person>>,
    pub unsettled: Vec<Unsettled>,
}

/// The next thing to do with a chunk's pending contacts.
enum Step {
    /// Send them.
    Send,
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
        // An iterator does no I/O: the next chunk can be pulled while a request is out. Boxed
        // as it leaves the iterator, so that a person is moved once, not through every adapter.
        job.chunked(stream::iter(iter.map(|(rn, p)| (rn, Box::new(p)))), true)
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
        self.chunked(input.map(|(rn, p)| (rn, Box::new(p))), false)
    }

    /// The outcome stream over `input`; with `overlap`, the next chunk is pulled, validated and
    /// serialized while the current request is with the server. Contacts whose outcome a chunk
    /// could not settle are read once more after the last chunk.
    fn chunked<S>(
        &self,
        input: S,
        overlap: bool,
    ) -> impl Stream<Item = Outcome> + Send + Unpin + 'static + use<S>
    where
        S: Stream<Item = (String, Box<Person>)> + Send + 'static,
    {
        // Boxed, so that a chunk is 200 pointers and not 200 large structs moved around.
        let chunks = input.chunks(self.chunk).boxed();
        let left: Arc<Mutex<Vec<Unsettled>>> = Arc::default();
        let state = (
            self.clone(),
            chunks,
            None::<Prepared>,
            Vec::new(),
            left.clone(),
        );
        let main = stream::unfold(
            state,
            move |(job, mut chunks, ready, spent, left)| async move {
                let current = match ready {
                    Some(p) => p,
                    None => job.prepare(chunks.next().await?),
                };
                // While this chunk's request is with the server, drop the last chunk's persons
                // and validate and serialize the next chunk: client work overlaps server work,
                // and the batch requests stay strictly one at a time.
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
                let Settled {
                    outcomes,
                    spent,
                    unsettled,
                } = done;
                left.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend(unsettled);
                job.common.record(outcomes.iter().map(Outcome::kind));
                Some((stream::iter(outcomes), (job, chunks, next, spent, left)))
            },
        )
        .flatten();
        let job = self.clone();
        let end = stream::once(async move {
            let left = std::mem::take(&mut *left.lock().unwrap_or_else(PoisonError::into_inner));
            let outcomes = job.settle_left(left).await;
            if !outcomes.is_empty() {
                job.common.record(outcomes.iter().map(Outcome::kind));
            }
            stream::iter(outcomes)
        })
        .flatten();
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
        let outcomes: Vec<Outcome> = job.run(items).collect().await;
        (outcomes, job.summary())
    }

    /// Outcomes of one chunk, settled completely (its unsettled contacts read once more now).
    pub(super) async fn write_chunk(&self, chunk: Vec<(String, Box<Person>)>) -> Vec<Outcome> {
        let Settled {
            mut outcomes,
            unsettled,
            ..
        } = self.finish(self.prepare(chunk)).await;
        outcomes.extend(self.settle_left(unsettled).await);
        outcomes
    }

    /// Validate a chunk and serialize its first request.
    fn prepare(&self, chunk: Vec<(String, Box<Person>)>) -> Prepared {
        let mut outcomes = Vec::new();
        // Checked over borrowed names first (no copy of each name for the duplicate check).
        let problems: Vec<Option<String>> = {
            let mut seen: HashSet<&str> = HashSet::with_capacity(chunk.len());
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
        let mut pending: Vec<(String, Box<Person>)> = Vec::with_capacity(chunk.len());
        for ((rn, person), problem) in chunk.into_iter().zip(problems) {
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
            request,
        }
    }

    /// Send a prepared chunk and settle every contact in it.
    async fn finish(&self, prepared: Prepared) -> Settled {
        let Prepared {
            outcomes,
            pending,
            request,
        } = prepared;
        let mut settled = self.settle(pending, request, Step::Send).await;
        let mut all = outcomes;
        all.append(&mut settled.outcomes);
        settled.outcomes = all;
        settled
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
        mut pending: Vec<(String, Box<Person>)>,
        mut request: Option<Result<Request, Error>>,
        mut step: Step,
    ) -> Settled {
        let mut done = Settled {
            outcomes: Vec::new(),
            spent: Vec::with_capacity(pending.len()),
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
                    let e = match sent {
                        Ok(resp) => {
                            let mut results = resp.update_result.unwrap_or_default();
                            for (rn, sent) in pending.drain(..) {
                                done.spent.push(sent);
                                let person = results.remove(&rn).and_then(|r| r.person);
                                let resource_name = person
                                    .as_ref()
                                    .and_then(|p| p.resource_name.clone())
                                    .unwrap_or_else(|| rn.clone());
                                done.outcomes.push(Outcome::Updated {
                                    requested: rn,
                                    resource_name,
                                    person: person.map(Box::new),
                                });
                            }
                            continue;
                        }
                        Err(e) => e,
                    };
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
                                done.spent.push(person);
                                done.outcomes.push(Outcome::Updated {
                                    requested: rn,
                                    resource_name,
                                    person: None,
                                });
                            }
                            Verdict::Conflict => {
                                done.spent.push(person);
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
        let mut body = serde_json::to_vec(&Body {
            contacts: Contacts(contacts),
            update_mask: &self.update_mask,
            read_mask: &self.read_mask,
        })
        .map_err(|e| Error::invalid_request(format!("a contact does not serialize: {e}")))?;
        // Kept for replays until the batch settles: without the growth slack.
        body.shrink_to_fit();
        request.raw_json_body(body);
        Ok(request)
    }
}

/// Every pending contact refused as a whole by `error`, in a way that proves this attempt applied
/// nothing: failed with `kind` of its message, unless an earlier attempt may have applied (then
/// the refusal proves nothing, and they are unsettled).
fn refuse_all(
    pending: &mut Vec<(String, Box<Person>)>,
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
            done.spent.push(person);
            done.outcomes.push(Outcome::Failed {
                requested: rn,
                error: kind(why.clone()),
            });
        }
    }
}
