//! Bringing a user's state up to date: the job's contact group, then the changes since the last
//! sync token (or every contact, on a first run, a lost state or an expired token).

use std::collections::{BTreeMap, HashSet};

use futures_util::StreamExt as _;

use super::state::{Entry, UserState, fingerprint};
use super::{SyncError, SyncJob};
use crate::runtime::Error;
use crate::{ContactGroupGroupType, Person};

/// What a listing found beyond the state it updated.
#[derive(Debug, Default)]
pub(super) struct Listing {
    /// Every contact was listed (no usable sync token).
    pub full: bool,
    /// Ids whose managed contact was deleted in Google (or lost the job's key).
    pub gone: HashSet<String>,
    /// Extra copies of managed contacts: (id, resource name) to delete.
    pub duplicates: Vec<(String, String)>,
    /// Requests made.
    pub requests: u64,
}

/// One managed contact as a listing showed it.
struct Seen {
    resource_name: String,
    etag: String,
    /// Computed only when the etag differs from the state's (otherwise nothing changed).
    fingerprint: Option<String>,
    in_group: bool,
}

/// Page size of listings: the API's maximum.
const PAGE: i32 = 1000;

impl SyncJob {
    /// The resource name of the job's group, if it has one and it exists.
    pub(super) async fn find_group(&self, requests: &mut u64) -> Result<Option<String>, SyncError> {
        let Some(name) = &self.group else {
            return Ok(None);
        };
        let mut pages = self
            .client
            .contact_groups()
            .list()
            .page_size(1000)
            .by_page();
        while let Some(page) = pages.next().await {
            *requests += 1;
            let page = page.map_err(SyncError::Api)?;
            for g in page.contact_groups.unwrap_or_default() {
                let user_group = g.group_type == Some(ContactGroupGroupType::UserContactGroup);
                if user_group && (g.name.as_deref() == Some(name)) {
                    return Ok(g.resource_name);
                }
            }
        }
        Ok(None)
    }

    /// Update `state` from the user's contacts: the changes since its sync token, or, without a
    /// usable one, every contact. Leaves the new sync token in `state`.
    pub(super) async fn refresh(
        &self,
        state: &mut UserState,
        group: Option<&str>,
    ) -> Result<Listing, SyncError> {
        if let Some(token) = state.sync_token.clone() {
            let mut listing = Listing::default();
            match self.list(Some(&token), state, group, &mut listing).await {
                Ok(()) => return Ok(listing),
                Err(e) if is_expired_token(&e) => {
                    tracing::debug!(
                        job = self.name.as_str(),
                        "sync token expired: listing every contact"
                    );
                    let requests = listing.requests;
                    let mut listing = Listing {
                        requests,
                        ..Listing::default()
                    };
                    self.list(None, state, group, &mut listing)
                        .await
                        .map_err(SyncError::Api)?;
                    return Ok(listing);
                }
                Err(e) => return Err(SyncError::Api(e)),
            }
        }
        let mut listing = Listing::default();
        self.list(None, state, group, &mut listing)
            .await
            .map_err(SyncError::Api)?;
        Ok(listing)
    }

    /// List (since `token`, or everything) and fold what is seen into `state`. On an error the
    /// state is left as it was.
    async fn list(
        &self,
        token: Option<&str>,
        state: &mut UserState,
        group: Option<&str>,
        listing: &mut Listing,
    ) -> Result<(), Error> {
        let mut call = self
            .client
            .people()
            .connections()
            .list("people/me")
            .person_fields(self.listing_mask())
            .page_size(PAGE)
            .request_sync_token(true);
        if let Some(t) = token {
            call = call.sync_token(t);
        }
        let by_name = state.ids_by_name();
        let mut seen: BTreeMap<String, Vec<Seen>> = BTreeMap::new();
        let mut deleted: HashSet<String> = HashSet::new();
        let mut disowned: HashSet<String> = HashSet::new();
        let mut next_token = None;
        let mut pages = call.by_page();
        loop {
            if let Some(limit) = &self.limit {
                limit.acquire(1, 0).await;
            }
            let Some(page) = pages.next().await else {
                break;
            };
            listing.requests += 1;
            let page = page?;
            if page.next_sync_token.is_some() {
                next_token = page.next_sync_token.clone();
            }
            for person in page.connections.unwrap_or_default() {
                let Some(rn) = person.resource_name.clone() else {
                    continue;
                };
                let is_deleted = person
                    .metadata
                    .as_ref()
                    .and_then(|m| m.deleted)
                    .unwrap_or(false);
                if is_deleted {
                    deleted.insert(rn);
                    continue;
                }
                match self.id_of(&person) {
                    Some(id) => {
                        let id = id.to_string();
                        let known = state.contacts.get(&id);
                        let etag = person.etag.clone().unwrap_or_default();
                        let fingerprint = match known {
                            Some(e)
                                if e.resource_name == rn
                                    && e.etag == etag
                                    && e.google.is_some() =>
                            {
                                None
                            }
                            _ => Some(fingerprint(&person, self.fields.fields())),
                        };
                        let in_group = group.is_some_and(|g| in_group(&person, g));
                        seen.entry(id).or_default().push(Seen {
                            resource_name: rn,
                            etag,
                            fingerprint,
                            in_group,
                        });
                    }
                    // A contact the job knew that no longer carries its key is no longer its own.
                    None if by_name.contains_key(&rn) => {
                        disowned.insert(rn);
                    }
                    None => {}
                }
            }
        }
        // The whole listing arrived: fold it into the state.
        let full = token.is_none();
        listing.full = full;
        let mut old = if full {
            std::mem::take(&mut state.contacts)
        } else {
            BTreeMap::new()
        };
        let contacts = &mut state.contacts;
        for rn in deleted.iter().chain(&disowned) {
            if let Some(id) = by_name.get(rn)
                && contacts.get(id).is_some_and(|e| &e.resource_name == rn)
            {
                contacts.remove(id);
                listing.gone.insert(id.clone());
            }
        }
        for (id, mut copies) in seen {
            let known = contacts.remove(&id).or_else(|| old.remove(&id));
            // The copy to keep: the one the state knows, if it is still there; else the lowest.
            copies.sort_by(|a, b| name_order(&a.resource_name, &b.resource_name));
            let keep_known = known.as_ref().is_some_and(|e| {
                copies.iter().any(|c| c.resource_name == e.resource_name)
                    || (!full && !deleted.contains(&e.resource_name))
            });
            let keeper_name = match (&known, keep_known) {
                (Some(e), true) => e.resource_name.clone(),
                _ => copies[0].resource_name.clone(),
            };
            let mut entry = if keep_known { known } else { None };
            for copy in copies {
                if copy.resource_name != keeper_name {
                    listing.duplicates.push((id.clone(), copy.resource_name));
                    continue;
                }
                entry = Some(match entry {
                    Some(mut e) => {
                        if let Some(fp) = copy.fingerprint {
                            // Google's managed fields changed since the job last knew them.
                            if e.google.as_deref().is_some_and(|g| g != fp) {
                                e.edited = true;
                            }
                            e.google = Some(fp);
                        }
                        e.etag = copy.etag;
                        e.in_group = copy.in_group;
                        e
                    }
                    None => Entry {
                        resource_name: copy.resource_name,
                        etag: copy.etag,
                        google: copy.fingerprint,
                        source: None,
                        edited: false,
                        in_group: copy.in_group,
                    },
                });
            }
            if let Some(e) = entry {
                listing.gone.remove(&id);
                contacts.insert(id, e);
            }
        }
        // A full listing shows every contact: a managed one it did not show is gone.
        listing.gone.extend(old.into_keys());
        state.sync_token = next_token;
        Ok(())
    }
}

/// Whether a person is in the contact group `group`.
fn in_group(person: &Person, group: &str) -> bool {
    person.memberships.as_ref().is_some_and(|ms| {
        ms.iter().any(|m| {
            m.contact_group_membership
                .as_ref()
                .and_then(|c| c.contact_group_resource_name.as_deref())
                == Some(group)
        })
    })
}

/// Resource names in a stable order: shorter first (`people/c9` before `people/c10`), then by
/// text.
pub(super) fn name_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The sync token is too old: `400 FAILED_PRECONDITION` with `ErrorInfo.reason`
/// `EXPIRED_SYNC_TOKEN` (or, from older servers, only the message).
fn is_expired_token(e: &Error) -> bool {
    e.api_error().is_some_and(|a| {
        a.reason() == Some("EXPIRED_SYNC_TOKEN")
            || (a.http_status == 400 && a.message.contains("Sync token is expired"))
            || a.http_status == 410
    })
}
