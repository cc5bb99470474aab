//! Batch updates that never lose a contact: `people.batchUpdateContacts` in chunks of at most 200,
//! one request at a time, with an outcome for every contact.
//!
//! - Bad input (an invalid resource name, a contact without an etag, a name twice in a chunk) is
//!   reported as a failure of that contact and never sent; a bad mask is an error before anything.
//! - When the server rejects a batch because of some contacts, those are reported with their
//!   errors and the rest are sent again.
//! - When an attempt may have applied but the outcome is unknown (a lost response, then a replay
//!   answered "etag mismatch"), the contacts are read back with `people:batchGet`: a contact that
//!   holds every value it was sent is reported updated, any other is a conflict.
//!
//! Transient failures are retried by the client's [`RetryPolicy`](crate::runtime::RetryPolicy);
//! replays are safe because the etag precondition stops a second application.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use futures_util::stream::{self, Stream, StreamExt as _};
use serde_json::Value;

use crate::runtime::{Error, FieldMask, MaskField as _};
use crate::{BatchUpdateContactsRequest, Client, Person, PersonField};

/// Most contacts the API takes in one `batchUpdateContacts`.
pub const MAX_CHUNK: usize = 200;

/// What happened to one contact.
#[derive(Debug)]
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
            Outcome::Updated { requested, .. } | Outcome::Failed { requested, .. } => requested,
        }
    }

    /// Whether the contact was updated.
    pub fn is_updated(&self) -> bool {
        matches!(self, Outcome::Updated { .. })
    }
}

/// Why a contact was not updated.
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

/// Totals of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Contacts updated.
    pub updated: u64,
    /// Contacts failed.
    pub failed: u64,
    /// `batchUpdateContacts` and `people:batchGet` requests sent (retries not counted).
    pub requests: u64,
    /// Retries made by the client during the run.
    pub retries: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// A batch update job: masks and chunk size, then [`run`](Self::run).
#[derive(Debug, Clone)]
pub struct BatchUpdate {
    client: Client,
    update_mask: FieldMask<PersonField>,
    read_mask: FieldMask<PersonField>,
    chunk: usize,
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

/// `people/c<digits>`.
fn valid_contact_name(rn: &str) -> bool {
    rn.strip_prefix("people/c")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
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
            client: client.clone(),
            update_mask,
            read_mask: FieldMask::new(),
            chunk: MAX_CHUNK,
        })
    }

    /// Return the updated persons projected to this mask (default: none, which saves the
    /// server's post-update read).
    pub fn read_mask(mut self, mask: impl Into<FieldMask<PersonField>>) -> Self {
        self.read_mask = mask.into();
        self
    }

    /// Contacts per request, 1 to 200.
    pub fn chunk_size(mut self, n: usize) -> Result<Self, Error> {
        if !(1..=MAX_CHUNK).contains(&n) {
            return Err(Error::invalid_request(format!(
                "chunk size {n} is outside 1..=200"
            )));
        }
        self.chunk = n;
        Ok(self)
    }

    /// Run over `items`, one chunk in memory and one request in flight at a time; every contact
    /// gets exactly one outcome.
    pub fn run<I>(self, items: I) -> impl Stream<Item = Outcome> + Send
    where
        I: IntoIterator<Item = (String, Person)>,
        I::IntoIter: Send,
    {
        let iter = items.into_iter();
        stream::unfold((self, iter), |(job, mut iter)| async move {
            let chunk: Vec<(String, Person)> = iter.by_ref().take(job.chunk).collect();
            if chunk.is_empty() {
                return None;
            }
            let outcomes = job.chunk_outcomes(chunk).await.0;
            Some((stream::iter(outcomes), (job, iter)))
        })
        .flatten()
    }

    /// Run and collect every outcome with the totals.
    pub async fn run_all<I>(self, items: I) -> (Vec<Outcome>, Summary)
    where
        I: IntoIterator<Item = (String, Person)>,
    {
        let start = Instant::now();
        let retries_before = self.client.retry_count();
        let mut all = Vec::new();
        let mut requests = 0;
        let mut iter = items.into_iter();
        loop {
            let chunk: Vec<(String, Person)> = iter.by_ref().take(self.chunk).collect();
            if chunk.is_empty() {
                break;
            }
            let (outcomes, sent) = self.chunk_outcomes(chunk).await;
            requests += sent;
            all.extend(outcomes);
        }
        let updated = all.iter().filter(|o| o.is_updated()).count() as u64;
        let summary = Summary {
            updated,
            failed: all.len() as u64 - updated,
            requests,
            retries: self.client.retry_count() - retries_before,
            elapsed: start.elapsed(),
        };
        (all, summary)
    }

    /// Outcomes of one chunk, and how many requests it took.
    async fn chunk_outcomes(&self, chunk: Vec<(String, Person)>) -> (Vec<Outcome>, u64) {
        let mut outcomes = Vec::with_capacity(chunk.len());
        let mut seen = HashSet::new();
        let mut pending: BTreeMap<String, Person> = BTreeMap::new();
        for (rn, person) in chunk {
            let problem = if !valid_contact_name(&rn) {
                Some(format!(
                    "{rn:?} is not a contact resource name (people/c<digits>)"
                ))
            } else if !seen.insert(rn.clone()) {
                Some(format!("{rn} appears twice in one batch"))
            } else if person.etag.is_none() && !has_source_etag(&person) {
                Some(format!("{rn} has no etag: read the contact first"))
            } else {
                None
            };
            match problem {
                Some(p) => outcomes.push(Outcome::Failed {
                    requested: rn,
                    error: ContactError::InvalidInput(p),
                }),
                None => {
                    pending.insert(rn, person);
                }
            }
        }
        let mut requests = 0;
        while !pending.is_empty() {
            requests += 1;
            let body = BatchUpdateContactsRequest::new()
                .set_contacts(pending.iter().map(|(k, v)| (k.clone(), v.clone())))
                .set_update_mask(self.update_mask.clone())
                .set_read_mask(self.read_mask.clone());
            match self
                .client
                .people()
                .batch_update_contacts(body)
                .send()
                .await
            {
                Ok(resp) => {
                    let mut results = resp.update_result.unwrap_or_default();
                    for rn in std::mem::take(&mut pending).into_keys() {
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
                Err(e) if e.may_have_applied() => {
                    let (reread, sent) = self.reconcile(std::mem::take(&mut pending)).await;
                    requests += sent;
                    outcomes.extend(reread);
                }
                Err(e) => {
                    let per_contact: Vec<(String, i64, String)> = e
                        .api_error()
                        .map(|a| {
                            a.contact_errors()
                                .into_iter()
                                .map(|(k, s)| (k.to_string(), s.code, s.message.clone()))
                                .collect()
                        })
                        .unwrap_or_default();
                    let named: Vec<_> = per_contact
                        .into_iter()
                        .filter(|(k, _, _)| pending.contains_key(k))
                        .collect();
                    if named.is_empty() {
                        // The request failed as a whole: nothing was applied.
                        for rn in std::mem::take(&mut pending).into_keys() {
                            outcomes.push(Outcome::Failed {
                                requested: rn,
                                error: ContactError::Request(e.to_string()),
                            });
                        }
                    } else {
                        // Some contacts were at fault; the batch is atomic, so resend the rest.
                        for (rn, code, message) in named {
                            pending.remove(&rn);
                            outcomes.push(Outcome::Failed {
                                requested: rn,
                                error: ContactError::Rejected { code, message },
                            });
                        }
                    }
                }
            }
        }
        (outcomes, requests)
    }

    /// After an unknown outcome: read the contacts back and compare them with what was sent.
    async fn reconcile(&self, pending: BTreeMap<String, Person>) -> (Vec<Outcome>, u64) {
        let mask = self.update_mask.clone().with(PersonField::Metadata);
        let names: Vec<String> = pending.keys().cloned().collect();
        let read = self
            .client
            .people()
            .get_batch_get()
            .resource_names(names)
            .person_fields(mask)
            .send()
            .await;
        let mut stored: BTreeMap<String, Person> = BTreeMap::new();
        let failure = match read {
            Ok(resp) => {
                for r in resp.responses.unwrap_or_default() {
                    if let (Some(rn), Some(p)) = (r.requested_resource_name, r.person) {
                        stored.insert(rn, p);
                    }
                }
                None
            }
            Err(e) => Some(e.to_string()),
        };
        let outcomes = pending
            .into_iter()
            .map(|(rn, sent)| match (stored.get(&rn), &failure) {
                (Some(now), _) if self.holds(now, &sent) => Outcome::Updated {
                    resource_name: now.resource_name.clone().unwrap_or_else(|| rn.clone()),
                    requested: rn,
                    person: None,
                },
                (Some(_), _) => Outcome::Failed {
                    requested: rn,
                    error: ContactError::Conflict,
                },
                (None, Some(f)) => Outcome::Failed {
                    requested: rn,
                    error: ContactError::Request(format!(
                        "outcome unknown and the re-read failed: {f}"
                    )),
                },
                (None, None) => Outcome::Failed {
                    requested: rn,
                    error: ContactError::Conflict,
                },
            })
            .collect();
        (outcomes, 1)
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
