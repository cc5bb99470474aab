//! `people.batchDeleteContacts` in chunks of at most 500, with an outcome for every name.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::stream::{self, Stream, StreamExt as _};

use super::outcome::Kind;
use super::{
    Common, ContactError, MAX_CHUNK, MAX_DELETE_CHUNK, check_chunk, common_builders, fetch,
    name_problem, rejected_contacts,
};
use crate::runtime::{Error, FieldMask};
use crate::{BatchDeleteContactsRequest, Client, PersonField};

/// Sends of names that a read-back found still present, before they are left to the job's final
/// re-read.
const RESENDS: u32 = 3;

/// What happened to one contact to delete. `Deleted` means it is gone (this job deleted it, or,
/// after an attempt of this job that may have deleted it, it was found gone); `Failed` means this
/// job did not delete it; `Unknown` means the truth could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeleteOutcome {
    /// The contact is gone.
    Deleted {
        /// Its resource name.
        resource_name: String,
    },
    /// The contact was not deleted.
    Failed {
        /// Its resource name.
        resource_name: String,
        /// Why.
        error: ContactError,
    },
    /// The delete may or may not have been applied: its answer was lost and the contact could not
    /// be read back, during the chunk nor once more at the end of the job. Deleting it again is
    /// harmless (a second delete is refused as NOT_FOUND).
    Unknown {
        /// Its resource name.
        resource_name: String,
        /// What went wrong: the delete's failure and the read's.
        error: String,
    },
}

impl DeleteOutcome {
    /// The resource name.
    pub fn resource_name(&self) -> &str {
        match self {
            DeleteOutcome::Deleted { resource_name }
            | DeleteOutcome::Failed { resource_name, .. }
            | DeleteOutcome::Unknown { resource_name, .. } => resource_name,
        }
    }

    fn kind(&self) -> Kind {
        match self {
            DeleteOutcome::Deleted { .. } => Kind::Succeeded,
            DeleteOutcome::Failed { .. } => Kind::Failed,
            DeleteOutcome::Unknown { .. } => Kind::Unknown,
        }
    }
}

/// A bulk delete job: chunk size, then [`run`](Self::run).
///
/// `batchDeleteContacts` is a POST the client does not replay once it may have arrived; when its
/// answer is lost the contacts are read back: those gone are deleted, those still present are sent
/// again, and those that cannot be read are read once more at the end of the job.
#[derive(Debug, Clone)]
pub struct BatchDelete {
    common: Common,
    chunk: usize,
}

/// The next thing to do with a chunk's pending names.
enum Step {
    Send,
    Read(String),
}

impl BatchDelete {
    /// Delete contacts, 500 per request.
    pub fn new(client: &Client) -> Self {
        Self {
            common: Common::new(client),
            chunk: MAX_DELETE_CHUNK,
        }
    }

    common_builders!();

    /// Resource names per request, 1 to 500.
    pub fn chunk_size(mut self, n: usize) -> Result<Self, Error> {
        self.chunk = check_chunk(n, MAX_DELETE_CHUNK)?;
        Ok(self)
    }

    /// Delete `names`, one chunk in memory and one request in flight at a time.
    pub fn run<I>(
        &self,
        names: I,
    ) -> impl Stream<Item = DeleteOutcome> + Send + Unpin + 'static + use<I>
    where
        I: IntoIterator<Item = String>,
        I::IntoIter: Send + 'static,
    {
        let iter = names.into_iter();
        let job = Self {
            common: self.common.with_hint(iter.size_hint()),
            ..self.clone()
        };
        job.run_stream(stream::iter(iter))
    }

    /// Delete from a stream of resource names.
    pub fn run_stream<S>(
        &self,
        input: S,
    ) -> impl Stream<Item = DeleteOutcome> + Send + Unpin + 'static + use<S>
    where
        S: Stream<Item = String> + Send + 'static,
    {
        let job = self.clone();
        let left: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let chunk_left = left.clone();
        let main = input
            .chunks(self.chunk)
            .then(move |names| {
                let job = job.clone();
                let left = chunk_left.clone();
                async move {
                    let pending = job.check(names);
                    let (outcomes, unsettled) = job.settle(pending.1, Step::Send).await;
                    let outcomes = [pending.0, outcomes].concat();
                    left.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .extend(unsettled);
                    job.common.record(outcomes.iter().map(DeleteOutcome::kind));
                    stream::iter(outcomes)
                }
            })
            .flatten();
        let job = self.clone();
        let end = stream::once(async move {
            let left = std::mem::take(&mut *left.lock().unwrap_or_else(PoisonError::into_inner));
            let mut outcomes = Vec::with_capacity(left.len());
            for group in left.chunks(MAX_DELETE_CHUNK) {
                let cause = group.first().map(|u| u.1.clone()).unwrap_or_default();
                let names = group.iter().map(|u| u.0.clone()).collect();
                let (done, unsettled) = job.settle(names, Step::Read(cause)).await;
                outcomes.extend(done);
                outcomes.extend(unsettled.into_iter().map(|(resource_name, error)| {
                    DeleteOutcome::Unknown {
                        resource_name,
                        error,
                    }
                }));
            }
            if !outcomes.is_empty() {
                job.common.record(outcomes.iter().map(DeleteOutcome::kind));
            }
            stream::iter(outcomes)
        })
        .flatten();
        main.chain(end).boxed()
    }

    /// Refuse invalid and repeated names; the rest, to send.
    fn check(&self, names: Vec<String>) -> (Vec<DeleteOutcome>, BTreeSet<String>) {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut pending = BTreeSet::new();
        for rn in names {
            match name_problem(&rn, &mut seen) {
                Some(p) => out.push(DeleteOutcome::Failed {
                    resource_name: rn,
                    error: ContactError::InvalidInput(p),
                }),
                None => {
                    pending.insert(rn);
                }
            }
        }
        (out, pending)
    }

    /// Drive names to an outcome each: send them (again without those the server rejects), and
    /// after an attempt that may have applied, read them back and send again those still present.
    /// Returns the outcomes and the names not settled, with why.
    async fn settle(
        &self,
        mut pending: BTreeSet<String>,
        mut step: Step,
    ) -> (Vec<DeleteOutcome>, Vec<(String, String)>) {
        let mut out = Vec::with_capacity(pending.len());
        let mut unsettled = Vec::new();
        // Whether an earlier attempt for these names may have applied: then a NOT_FOUND means
        // gone, and a refusal proves nothing.
        let mut doubt = matches!(step, Step::Read(_));
        let mut resends = 0;
        while !pending.is_empty() {
            match std::mem::replace(&mut step, Step::Send) {
                Step::Send => {
                    let body = BatchDeleteContactsRequest::new()
                        .set_resource_names(pending.iter().cloned());
                    let call = self.common.client.people().batch_delete_contacts(body);
                    let sent = self
                        .common
                        .send("people.batchDeleteContacts", pending.len(), call.send())
                        .await;
                    let e = match sent {
                        Ok(_) => {
                            out.extend(
                                std::mem::take(&mut pending)
                                    .into_iter()
                                    .map(|resource_name| DeleteOutcome::Deleted { resource_name }),
                            );
                            continue;
                        }
                        Err(e) => e,
                    };
                    let named = rejected_contacts(&e, |k| pending.contains(k));
                    let uncertain = e.may_have_applied() || e.may_have_reached_server();
                    if uncertain && (named.is_empty() || named.len() == pending.len()) {
                        doubt = true;
                        step = Step::Read(e.to_string());
                    } else if named.is_empty() {
                        let why = e.to_string();
                        if doubt {
                            unsettled.extend(
                                std::mem::take(&mut pending)
                                    .into_iter()
                                    .map(|rn| (rn, why.clone())),
                            );
                        } else {
                            out.extend(std::mem::take(&mut pending).into_iter().map(|rn| {
                                DeleteOutcome::Failed {
                                    resource_name: rn,
                                    error: ContactError::Request(why.clone()),
                                }
                            }));
                        }
                    } else {
                        // The batch is atomic: nothing was deleted; resend the others. A name an
                        // earlier attempt may have deleted that is now NOT_FOUND is gone.
                        for (rn, error) in named {
                            pending.remove(&rn);
                            out.push(match error {
                                ContactError::Rejected { code: 5, .. } if doubt => {
                                    DeleteOutcome::Deleted { resource_name: rn }
                                }
                                error => DeleteOutcome::Failed {
                                    resource_name: rn,
                                    error,
                                },
                            });
                        }
                    }
                }
                Step::Read(cause) => {
                    let names: Vec<String> = std::mem::take(&mut pending).into_iter().collect();
                    let mut present = BTreeSet::new();
                    for part in names.chunks(MAX_CHUNK) {
                        let mask = FieldMask::from([PersonField::Metadata]);
                        match fetch(&self.common, part, mask).await {
                            Ok(mut found) => {
                                for rn in part {
                                    match found.remove(rn) {
                                        Some(Err(ContactError::Rejected { code: 5, .. })) => out
                                            .push(DeleteOutcome::Deleted {
                                                resource_name: rn.clone(),
                                            }),
                                        Some(Ok(_)) => {
                                            present.insert(rn.clone());
                                        }
                                        other => unsettled.push((
                                            rn.clone(),
                                            format!(
                                                "outcome unknown ({cause}) and the read-back failed: {}",
                                                other
                                                    .and_then(Result::err)
                                                    .map_or("no answer for it".into(), |e| e
                                                        .to_string())
                                            ),
                                        )),
                                    }
                                }
                            }
                            Err(read) => unsettled.extend(part.iter().map(|rn| {
                                (
                                    rn.clone(),
                                    format!(
                                        "outcome unknown ({cause}) and the read-back failed: {read}"
                                    ),
                                )
                            })),
                        }
                    }
                    if present.is_empty() {
                        continue;
                    }
                    if resends < RESENDS {
                        resends += 1;
                        pending = present;
                    } else {
                        unsettled.extend(present.into_iter().map(|rn| {
                            (
                                rn,
                                format!("outcome unknown ({cause}) after {RESENDS} sends"),
                            )
                        }));
                    }
                }
            }
        }
        (out, unsettled)
    }
}
