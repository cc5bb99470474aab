//! Settling an update whose answer was lost: read the contacts back and tell, contact by
//! contact, whether the change is there.
//!
//! A read-back is a safe GET, retried by the client's policy (5xx, mangled bodies, timeouts). A
//! contact that still cannot be read is left unsettled: its job reads it once more at the end,
//! and only then reports it unknown.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::stream::StreamExt as _;
use serde_json::Value;

use super::{BatchUpdate, Common, ContactError};
use crate::runtime::{Error, FieldMask, MaskField as _};
use crate::{Person, PersonField};

/// Re-reads of a contact whose read shows the etag it was sent with although the server said its
/// etag changed (reads can lag writes).
const STALE_READS: u32 = 3;

/// What a read-back says about one contact.
#[derive(Debug)]
pub(super) enum Verdict {
    /// It holds every value that was sent: the change is applied.
    Updated {
        /// Its resource name now.
        resource_name: String,
    },
    /// It is still at the etag it was sent with: the change is not applied (or the read lags);
    /// sending it again is safe.
    Unwritten,
    /// It changed otherwise, or no longer exists.
    Conflict,
    /// It could not be read (why).
    Unread(String),
}

/// A contact whose outcome is not known yet, with what was sent.
#[derive(Debug)]
pub(super) struct Unsettled {
    pub requested: String,
    pub sent: Person,
    /// What went wrong, for the outcome if it stays unknown.
    pub cause: String,
    /// The server said its etag changed.
    pub mismatch: bool,
}

impl Unsettled {
    pub fn new(requested: String, sent: Person, cause: String, mismatch: bool) -> Self {
        Self {
            requested,
            sent,
            cause,
            mismatch,
        }
    }
}

impl BatchUpdate {
    /// Read `pending` back and judge each contact against what was sent. With `mismatch` (the
    /// server said the etags changed), a read still showing the sent etag is stale: it is read
    /// again a bounded number of times, and stays unread if it never moves. A contact no longer
    /// found under its name may have been relinked to a profile by this very update, so it is
    /// looked up by its previous resource names.
    pub(super) async fn reconcile(
        &self,
        pending: &[super::update::Contact],
        mismatch: bool,
    ) -> BTreeMap<String, Verdict> {
        let mask = self.update_mask.clone().with(PersonField::Metadata);
        let sent: HashMap<&str, &Person> = pending.iter().map(|(rn, p)| (rn.as_str(), p)).collect();
        let at_sent_etag = |rn: &str, now: &Person| now.etag.is_some() && now.etag == sent[rn].etag;
        let mut stored: BTreeMap<String, Person> = BTreeMap::new();
        let mut gone: HashSet<String> = HashSet::new();
        let mut unread: BTreeMap<String, String> = BTreeMap::new();
        for round in 0..=STALE_READS {
            let todo: Vec<String> = pending
                .iter()
                .map(|(rn, _)| rn)
                .filter(|rn| match stored.get(*rn) {
                    None => round == 0,
                    Some(now) => mismatch && at_sent_etag(rn, now),
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
                Ok(mut found) => {
                    for rn in todo {
                        match found.remove(&rn) {
                            Some(Ok(p)) => {
                                unread.remove(&rn);
                                stored.insert(rn, p);
                            }
                            Some(Err(ContactError::Rejected { code: 5, .. })) => {
                                stored.remove(&rn);
                                gone.insert(rn);
                            }
                            Some(Err(e)) => {
                                if !stored.contains_key(&rn) {
                                    unread.insert(rn, e.to_string());
                                }
                            }
                            None => {
                                if !stored.contains_key(&rn) {
                                    unread
                                        .insert(rn, "people:batchGet did not answer for it".into());
                                }
                            }
                        }
                    }
                }
                Err(e) => {
                    for rn in todo {
                        if !stored.contains_key(&rn) {
                            unread.insert(rn, e.to_string());
                        }
                    }
                    break;
                }
            }
        }
        // A contact relinked to a profile by this very update has a new resource name, and the
        // old one is no longer found: look for it by its previous names.
        if !gone.is_empty() {
            let old: Vec<String> = gone.iter().cloned().collect();
            match self.find_moved(&old, mask).await {
                Ok(found) => {
                    for (rn, person) in found {
                        gone.remove(&rn);
                        stored.insert(rn, person);
                    }
                }
                Err(e) => {
                    for rn in gone.drain() {
                        unread.insert(rn, format!("not found, and listing for it failed: {e}"));
                    }
                }
            }
        }
        pending
            .iter()
            .map(|(rn, sent)| {
                let verdict = match stored.get(rn) {
                    Some(now) if at_sent_etag(rn, now) => {
                        if mismatch {
                            Verdict::Unread(
                                "every read still shows the etag that was sent, which the server said had changed"
                                    .into(),
                            )
                        } else {
                            Verdict::Unwritten
                        }
                    }
                    Some(now) if self.holds(now, sent) => Verdict::Updated {
                        resource_name: now.resource_name.clone().unwrap_or_else(|| rn.clone()),
                    },
                    Some(_) => Verdict::Conflict,
                    None if gone.contains(rn) => Verdict::Conflict,
                    None => Verdict::Unread(
                        unread
                            .remove(rn)
                            .unwrap_or_else(|| "not read back".into()),
                    ),
                };
                (rn.clone(), verdict)
            })
            .collect()
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
        let to_value = crate::runtime::to_json_value::<Person>;
        let (Ok(now), Ok(sent)) = (to_value(now), to_value(sent)) else {
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
/// Read contacts with `people:batchGet` (at most 200): each one's person or per-contact error.
pub(super) async fn fetch(
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
        .send("people.getBatchGet", names.len(), call.send())
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
