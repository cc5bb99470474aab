//! Read-modify-write over `people:batchGet` and `batchUpdateContacts`.

use std::collections::HashSet;

use futures_util::stream::{self, Stream, StreamExt as _};
use serde_json::Value;

use super::{BatchUpdate, ContactError, Outcome, fetch, name_problem};
use crate::Person;
use crate::runtime::{FieldMask, MaskField as _};

impl BatchUpdate {
    /// Read-modify-write: fetch the contacts (200 per `people:batchGet`, the update mask's
    /// fields), keep only those fields and the etag, let `f` change each one, and write back those
    /// it changed (an untouched one is [`Outcome::Unchanged`] and costs no write). A contact that
    /// changed elsewhere in between is fetched and changed again, up to
    /// [`conflict_rounds`](Self::conflict_rounds) times, then reported as a conflict.
    ///
    /// `f` may be called more than once for a contact (once per round), always on a fresh copy.
    pub fn modify<I, F>(
        &self,
        names: I,
        f: F,
    ) -> impl Stream<Item = Outcome> + Send + Unpin + 'static + use<I, F>
    where
        I: IntoIterator<Item = String>,
        I::IntoIter: Send + 'static,
        F: FnMut(&mut Person) + Send + 'static,
    {
        let iter = names.into_iter();
        let job = Self {
            common: self.common.with_hint(iter.size_hint()),
            ..self.clone()
        };
        stream::unfold((job, iter, f), |(job, mut iter, mut f)| async move {
            let names: Vec<String> = iter.by_ref().take(job.chunk).collect();
            if names.is_empty() {
                return None;
            }
            let outcomes = job.modify_chunk(names, &mut f).await;
            job.common.record(outcomes.iter().map(Outcome::kind));
            Some((stream::iter(outcomes), (job, iter, f)))
        })
        .flatten()
        .boxed()
    }

    async fn modify_chunk(
        &self,
        names: Vec<String>,
        f: &mut (dyn FnMut(&mut Person) + Send),
    ) -> Vec<Outcome> {
        let mut out = Vec::with_capacity(names.len());
        let mut seen = HashSet::new();
        let mut todo = Vec::with_capacity(names.len());
        for rn in names {
            match name_problem(&rn, &mut seen) {
                Some(p) => out.push(Outcome::Failed {
                    requested: rn,
                    error: ContactError::InvalidInput(p),
                }),
                None => todo.push(rn),
            }
        }
        let keep: HashSet<&str> = self
            .update_mask
            .fields()
            .iter()
            .map(|f| f.as_str())
            .chain(["etag", "resourceName"])
            .collect();
        let mut round = 0;
        while !todo.is_empty() {
            let mask: FieldMask<_> = self.update_mask.clone();
            let mut fetched = match fetch(&self.common, &todo, mask).await {
                Ok(found) => found,
                Err(e) => {
                    out.extend(todo.into_iter().map(|rn| Outcome::Failed {
                        requested: rn,
                        error: ContactError::Request(e.to_string()),
                    }));
                    break;
                }
            };
            let mut writes = Vec::with_capacity(todo.len());
            for rn in std::mem::take(&mut todo) {
                let person = match fetched.remove(&rn) {
                    Some(Ok(p)) => p,
                    Some(Err(error)) => {
                        out.push(Outcome::Failed {
                            requested: rn,
                            error,
                        });
                        continue;
                    }
                    None => {
                        out.push(Outcome::Failed {
                            requested: rn,
                            error: ContactError::Request(
                                "people:batchGet did not answer for this contact".into(),
                            ),
                        });
                        continue;
                    }
                };
                let (mut person, before) = match writable(person, &keep) {
                    Ok(p) => p,
                    Err(m) => {
                        out.push(Outcome::Failed {
                            requested: rn,
                            error: ContactError::Request(m),
                        });
                        continue;
                    }
                };
                f(&mut person);
                let after = crate::runtime::to_json_value(&person).unwrap_or(Value::Null);
                if after == before {
                    let resource_name = person.resource_name.unwrap_or_else(|| rn.clone());
                    out.push(Outcome::Unchanged {
                        requested: rn,
                        resource_name,
                    });
                } else {
                    writes.push((rn, person));
                }
            }
            for outcome in self.write_chunk(writes).await {
                match outcome {
                    Outcome::Failed { requested, error }
                        if error.is_conflict() && round < self.conflict_rounds =>
                    {
                        todo.push(requested);
                    }
                    o => out.push(o),
                }
            }
            round += 1;
        }
        out
    }
}

/// The person reduced to the masked fields, the etag and the resource name (output-only data
/// such as `metadata` dropped), and its JSON form to compare against after the change.
fn writable(person: Person, keep: &HashSet<&str>) -> Result<(Person, Value), String> {
    let Value::Object(mut map) =
        crate::runtime::to_json_value(&person).map_err(|e| e.to_string())?
    else {
        return Err("a person is not a JSON object".into());
    };
    map.retain(|k, _| keep.contains(k.as_str()));
    let value = Value::Object(map);
    let person: Person = crate::runtime::from_json_value(&value).map_err(|e| e.to_string())?;
    Ok((person, value))
}
