//! `people.batchCreateContacts` in chunks of at most 200, never replayed once a request may have
//! reached the server.

use std::collections::BTreeMap;

use futures_util::stream::{self, Stream, StreamExt as _};

use super::{
    Common, ContactError, Kind, MAX_CHUNK, check_chunk, common_builders, rejected_contacts,
};
use crate::runtime::{Error, FieldMask};
use crate::{BatchCreateContactsRequest, Client, ContactToCreate, Person, PersonField};

/// What happened to one contact to create, by its 0-based position in the input.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CreateOutcome {
    /// Created.
    Created {
        /// Position in the input.
        index: u64,
        /// The new contact's resource name.
        resource_name: String,
        /// The new contact, projected to the read mask.
        person: Box<Person>,
    },
    /// Not created.
    Failed {
        /// Position in the input.
        index: u64,
        /// Why.
        error: ContactError,
    },
    /// The request may have reached the server and its answer was lost. Creates are not
    /// idempotent, so it was not sent again: look for the contact before creating it again.
    Unknown {
        /// Position in the input.
        index: u64,
        /// What went wrong.
        error: String,
    },
}

impl CreateOutcome {
    /// Position in the input.
    pub fn index(&self) -> u64 {
        match self {
            CreateOutcome::Created { index, .. }
            | CreateOutcome::Failed { index, .. }
            | CreateOutcome::Unknown { index, .. } => *index,
        }
    }

    fn kind(&self) -> Kind {
        match self {
            CreateOutcome::Created { .. } => Kind::Succeeded,
            CreateOutcome::Failed { .. } => Kind::Failed,
            CreateOutcome::Unknown { .. } => Kind::Unknown,
        }
    }
}

/// A bulk create job: read mask and chunk size, then [`run`](Self::run).
#[derive(Debug, Clone)]
pub struct BatchCreate {
    common: Common,
    read_mask: FieldMask<PersonField>,
    chunk: usize,
}

impl BatchCreate {
    /// Create contacts, reading back their `metadata` (resource name and etag included).
    pub fn new(client: &Client) -> Self {
        Self {
            common: Common::new(client),
            read_mask: FieldMask::from([PersonField::Metadata]),
            chunk: MAX_CHUNK,
        }
    }

    common_builders!();

    /// The fields to return for each created person (never empty: without a read mask the API
    /// does not say which resource names it created).
    pub fn read_mask(mut self, mask: impl Into<FieldMask<PersonField>>) -> Result<Self, Error> {
        let mask = mask.into();
        if mask.is_empty() {
            return Err(Error::invalid_request(
                "the read mask of a create cannot be empty: the new resource names come back only with one",
            ));
        }
        self.read_mask = mask;
        Ok(self)
    }

    /// Contacts per request, 1 to 200.
    pub fn chunk_size(mut self, n: usize) -> Result<Self, Error> {
        self.chunk = check_chunk(n, MAX_CHUNK)?;
        Ok(self)
    }

    /// Create `persons`, one chunk in memory and one request in flight at a time; every contact
    /// gets exactly one outcome.
    pub fn run<I>(
        &self,
        persons: I,
    ) -> impl Stream<Item = CreateOutcome> + Send + Unpin + 'static + use<I>
    where
        I: IntoIterator<Item = Person>,
        I::IntoIter: Send + 'static,
    {
        let iter = persons.into_iter();
        let job = Self {
            common: self.common.with_hint(iter.size_hint()),
            ..self.clone()
        };
        job.run_stream(stream::iter(iter))
    }

    /// Create from a stream of persons.
    pub fn run_stream<S>(
        &self,
        input: S,
    ) -> impl Stream<Item = CreateOutcome> + Send + Unpin + 'static + use<S>
    where
        S: Stream<Item = Person> + Send + 'static,
    {
        let job = self.clone();
        let chunk = self.chunk;
        input
            .chunks(chunk)
            .enumerate()
            .then(move |(n, persons)| {
                let job = job.clone();
                async move {
                    let outcomes = job.create_chunk((n * chunk) as u64, persons).await;
                    job.common.record(outcomes.iter().map(CreateOutcome::kind));
                    stream::iter(outcomes)
                }
            })
            .flatten()
            .boxed()
    }

    async fn create_chunk(&self, first: u64, persons: Vec<Person>) -> Vec<CreateOutcome> {
        let mut out = Vec::with_capacity(persons.len());
        let mut pending: BTreeMap<u64, Person> = persons
            .into_iter()
            .enumerate()
            .map(|(i, p)| (first + i as u64, p))
            .collect();
        while !pending.is_empty() {
            // The request's own positions, to map the server's index-keyed errors back.
            let order: Vec<u64> = pending.keys().copied().collect();
            let body = BatchCreateContactsRequest::new()
                .set_contacts(
                    pending
                        .values()
                        .map(|p| ContactToCreate::new().set_contact_person(p.clone())),
                )
                .set_read_mask(self.read_mask.clone());
            let call = self.common.client.people().batch_create_contacts(body);
            let sent = self
                .common
                .send("people.batchCreateContacts", order.len(), call.send())
                .await;
            match sent {
                Ok(resp) => {
                    let created = resp.created_people.unwrap_or_default();
                    let mut created = created.into_iter();
                    for index in order {
                        pending.remove(&index);
                        match created.next().and_then(|r| r.person) {
                            Some(p) => out.push(CreateOutcome::Created {
                                index,
                                resource_name: p.resource_name.clone().unwrap_or_default(),
                                person: Box::new(p),
                            }),
                            None => out.push(CreateOutcome::Unknown {
                                index,
                                error: "the server answered without this contact".into(),
                            }),
                        }
                    }
                }
                Err(e) if e.may_have_reached_server() || e.may_have_applied() => {
                    for index in order {
                        pending.remove(&index);
                        out.push(CreateOutcome::Unknown {
                            index,
                            error: e.to_string(),
                        });
                    }
                }
                Err(e) => {
                    let named = rejected_contacts(&e, |k| {
                        k.parse::<usize>().is_ok_and(|i| i < order.len())
                    });
                    if named.is_empty() {
                        for index in order {
                            pending.remove(&index);
                            out.push(CreateOutcome::Failed {
                                index,
                                error: ContactError::Request(e.to_string()),
                            });
                        }
                    } else {
                        // The batch is atomic: nothing was created; resend the others.
                        for (k, error) in named {
                            let Ok(i) = k.parse::<usize>() else { continue };
                            let index = order[i];
                            pending.remove(&index);
                            out.push(CreateOutcome::Failed { index, error });
                        }
                    }
                }
            }
        }
        out
    }
}
