//! `people.batchDeleteContacts` in chunks of at most 500, with an outcome for every name.

use std::collections::{BTreeSet, HashSet};

use futures_util::stream::{self, Stream, StreamExt as _};

use super::{
    Common, ContactError, Kind, MAX_DELETE_CHUNK, check_chunk, common_builders, fetch, limit,
    name_problem, rejected_contacts,
};
use crate::runtime::{Error, FieldMask};
use crate::{BatchDeleteContactsRequest, Client, PersonField};

/// What happened to one contact to delete.
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
}

impl DeleteOutcome {
    /// The resource name.
    pub fn resource_name(&self) -> &str {
        match self {
            DeleteOutcome::Deleted { resource_name }
            | DeleteOutcome::Failed { resource_name, .. } => resource_name,
        }
    }

    fn kind(&self) -> Kind {
        match self {
            DeleteOutcome::Deleted { .. } => Kind::Succeeded,
            DeleteOutcome::Failed { .. } => Kind::Failed,
        }
    }
}

/// A bulk delete job: chunk size, then [`run`](Self::run).
///
/// `batchDeleteContacts` is a POST the client does not replay once it may have arrived; when its
/// answer is lost the contacts are read back and those still present are sent again.
#[derive(Debug, Clone)]
pub struct BatchDelete {
    common: Common,
    chunk: usize,
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
        input
            .chunks(self.chunk)
            .then(move |names| {
                let job = job.clone();
                async move {
                    let outcomes = job.delete_chunk(names).await;
                    job.common.record(outcomes.iter().map(DeleteOutcome::kind));
                    stream::iter(outcomes)
                }
            })
            .flatten()
            .boxed()
    }

    async fn delete_chunk(&self, names: Vec<String>) -> Vec<DeleteOutcome> {
        let mut out = Vec::with_capacity(names.len());
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
        let mut unknown_rounds = 0;
        while !pending.is_empty() {
            let body =
                BatchDeleteContactsRequest::new().set_resource_names(pending.iter().cloned());
            let call = self.common.client.people().batch_delete_contacts(body);
            let sent = self
                .common
                .send(
                    "people.batchDeleteContacts",
                    pending.len(),
                    limit::BATCH_MUTATION,
                    call.send(),
                )
                .await;
            match sent {
                Ok(_) => out.extend(
                    std::mem::take(&mut pending)
                        .into_iter()
                        .map(|resource_name| DeleteOutcome::Deleted { resource_name }),
                ),
                Err(e) if e.may_have_reached_server() || e.may_have_applied() => {
                    // Read back: a contact that is gone was deleted; one still there is sent
                    // again (a bounded number of times).
                    unknown_rounds += 1;
                    let names: Vec<String> = pending.iter().cloned().collect();
                    let mut gone = Vec::new();
                    let mut failure = None;
                    for part in names.chunks(super::MAX_CHUNK) {
                        let mask = FieldMask::from([PersonField::Metadata]);
                        match fetch(&self.common, part, mask).await {
                            Ok(found) => gone.extend(
                                part.iter()
                                    .filter(|rn| {
                                        matches!(
                                            found.get(*rn),
                                            Some(Err(ContactError::Rejected { code: 5, .. }))
                                        )
                                    })
                                    .cloned(),
                            ),
                            Err(read) => failure = Some(read),
                        }
                    }
                    for rn in gone {
                        pending.remove(&rn);
                        out.push(DeleteOutcome::Deleted { resource_name: rn });
                    }
                    if failure.is_some() || unknown_rounds > 3 {
                        let why = match failure {
                            Some(read) => {
                                format!("outcome unknown ({e}) and the re-read failed: {read}")
                            }
                            None => e.to_string(),
                        };
                        out.extend(std::mem::take(&mut pending).into_iter().map(|rn| {
                            DeleteOutcome::Failed {
                                resource_name: rn,
                                error: ContactError::Request(why.clone()),
                            }
                        }));
                    }
                }
                Err(e) => {
                    let named = rejected_contacts(&e, |k| pending.contains(k));
                    if named.is_empty() {
                        out.extend(std::mem::take(&mut pending).into_iter().map(|rn| {
                            DeleteOutcome::Failed {
                                resource_name: rn,
                                error: ContactError::Request(e.to_string()),
                            }
                        }));
                    } else {
                        // The batch is atomic: nothing was deleted; resend the others.
                        for (rn, error) in named {
                            pending.remove(&rn);
                            out.push(DeleteOutcome::Failed {
                                resource_name: rn,
                                error,
                            });
                        }
                    }
                }
            }
        }
        out
    }
}
