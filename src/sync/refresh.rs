//! Bringing a user's state up to date: the job's contact group, then the changes since the last
//! sync token (or every contact, on a first run, a lost state or an expired token).

use std::collections::{BTreeMap, HashSet};

use super::contacts::Contacts;

use futures_util::StreamExt as _;

use super::state::{Entry, Fingerprint, UserState, fingerprint};
use super::{SyncError, SyncJob};
use crate::quota::QuotaUnits;
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
    /// Their quota units.
    pub units: QuotaUnits,
    /// Contacts no job manages, with their email addresses, for adoption (a full listing of a
    /// job that adopts by email only).
    pub unmanaged: Vec<Candidate>,
}

/// A contact managed by no job that a record may adopt.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub resource_name: String,
    pub etag: String,
    /// Its email addresses, lowercased.
    pub emails: Vec<String>,
    /// Its `clientData` (other applications' entries, kept when the job's key is added).
    pub client_data: Vec<crate::ClientData>,
}

/// One managed contact as a listing showed it.
struct Seen {
    resource_name: String,
    etag: String,
    /// Computed only when the etag differs from the state's (otherwise nothing changed).
    fingerprint: Option<Fingerprint>,
    in_group: bool,
}

/// Page size of listings: the API's maximum.
const PAGE: i32 = 1000;

impl SyncJob {
    /// The resource name of the job's group, if it has one and it exists.
    pub(super) async fn find_group(
        &self,
        requests: &mut u64,
        units: &mut QuotaUnits,
    ) -> Result<Option<String>, SyncError> {
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
            *units += QuotaUnits::of_method("people.contactGroups.list", false);
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
                Err(e) if is_refused_token(&e) => {
                    tracing::debug!(
                        job = self.name.as_str(),
                        error = %e,
                        "sync token expired or refused: listing every contact"
                    );
                    let mut listing = Listing {
                        requests: listing.requests,
                        units: listing.units,
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

    /// List (since `token`, or everything) and fold what is seen into `state`, page by page, so
    /// memory holds one page and the state, whatever the number of contacts.
    ///
    /// An incremental listing folds into the state as it goes: if it fails half way, the state
    /// keeps its old sync token, and folding the same changes again the next time is harmless. A
    /// full listing builds a new map and replaces the old one only once it is complete.
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
        let full = token.is_none();
        listing.full = full;
        // Full: the map being built (the old one is the baseline). Incremental: the state itself.
        let mut fresh = Contacts::new();
        // Ids seen under more than one contact, with the copies beyond the first.
        let mut conflicts: BTreeMap<String, Vec<Seen>> = BTreeMap::new();
        // Entries this listing created (an incremental listing), to tell them from known ones.
        let mut new_ids: HashSet<String> = HashSet::new();
        let mut deleted: HashSet<String> = HashSet::new();
        let mut unkeyed: HashSet<String> = HashSet::new();
        let mut next_token = None;
        // (id, resource name) of entries whose listing may have been truncated.
        let mut read_in_full: Vec<(String, String)> = Vec::new();
        let mut pages = call.by_page();
        let first_request = listing.requests + 1;
        loop {
            let Some(page) = pages.next().await else {
                break;
            };
            listing.requests += 1;
            listing.units += QuotaUnits::of_method(
                "people.people.connections.list",
                full && listing.requests == first_request,
            );
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
                let Some(id) = self.id_of(&person).map(str::to_owned) else {
                    // A contact the job knew that no longer carries its key is no longer its
                    // own (checked against the state below).
                    if !full {
                        unkeyed.insert(rn);
                    } else if self.adopt_by_email && !managed_by_any_job(&person) {
                        listing.unmanaged.push(candidate(person, rn));
                    }
                    continue;
                };
                let etag = person.etag.clone().unwrap_or_default();
                // What the job knew of it: the old state (full) or the state itself.
                let baseline = state.contacts.get(&id);
                let unchanged = baseline
                    .as_ref()
                    .is_some_and(|e| e.resource_name == rn && e.etag == etag && e.google.is_some());
                let (contacts, current, carried) = if full {
                    let current = fresh.get(&id);
                    let carried = baseline.filter(|b| b.resource_name == rn);
                    (&mut fresh, current, carried)
                } else {
                    (&mut state.contacts, baseline, None)
                };
                // A list entry carries at most 100 emails and 100 phones: one that may have been
                // cut is fingerprinted from a full read, below, never from what was listed.
                let cut = !unchanged && may_be_truncated(&person);
                if cut {
                    read_in_full.push((id.clone(), rn.clone()));
                }
                let fingerprint =
                    (!unchanged && !cut).then(|| fingerprint(&person, self.fields.fields()));
                let seen = Seen {
                    resource_name: rn,
                    etag,
                    fingerprint,
                    in_group: group.is_some_and(|g| in_group(&person, g)),
                };
                match current {
                    Some(mut e) if e.resource_name == seen.resource_name => {
                        let before = e.clone();
                        observe(&mut e, seen);
                        if e != before {
                            contacts.insert(id, e);
                        }
                    }
                    Some(_) => conflicts.entry(id).or_default().push(seen),
                    None => {
                        let mut e = match carried {
                            Some(b) => b,
                            None => Entry {
                                resource_name: seen.resource_name.clone(),
                                etag: seen.etag.clone(),
                                google: None,
                                source: None,
                                edited: false,
                                in_group: false,
                            },
                        };
                        observe(&mut e, seen);
                        if !full {
                            new_ids.insert(id.clone());
                        }
                        contacts.insert(id, e);
                    }
                }
            }
        }
        // The whole listing arrived.
        if full {
            // Every managed contact was shown: one it did not show is gone.
            let old = std::mem::replace(&mut state.contacts, fresh);
            for id in old.ids() {
                if !state.contacts.contains_key(&id) {
                    listing.gone.insert(id);
                }
            }
        } else {
            let contacts = &mut state.contacts;
            let gone: Vec<String> = if deleted.is_empty() && unkeyed.is_empty() {
                Vec::new()
            } else {
                contacts
                    .iter()
                    .filter(|(_, e)| {
                        deleted.contains(&e.resource_name) || unkeyed.contains(&e.resource_name)
                    })
                    .map(|(id, _)| id)
                    .collect()
            };
            for id in gone {
                contacts.remove(&id);
                // A copy of it may still be listed (a conflict below keeps it).
                listing.gone.insert(id);
            }
        }
        for (id, copies) in conflicts {
            let current = state.contacts.remove(&id);
            // Known from before this listing and still there: it stays. Otherwise the lowest
            // resource name among the copies stays.
            let known = current
                .as_ref()
                .filter(|_| full || !new_ids.contains(&id))
                .map(|e| e.resource_name.clone());
            let mut candidates: Vec<String> =
                copies.iter().map(|c| c.resource_name.clone()).collect();
            if let Some(e) = &current {
                candidates.push(e.resource_name.clone());
            }
            candidates.sort_by(|a, b| name_order(a, b));
            let keeper = known.unwrap_or_else(|| candidates[0].clone());
            let mut entry = current.filter(|e| e.resource_name == keeper);
            for copy in copies {
                if copy.resource_name == keeper {
                    let e = entry.get_or_insert_with(|| Entry {
                        resource_name: copy.resource_name.clone(),
                        etag: copy.etag.clone(),
                        google: None,
                        source: None,
                        edited: false,
                        in_group: false,
                    });
                    observe(e, copy);
                } else {
                    listing.duplicates.push((id.clone(), copy.resource_name));
                }
            }
            for name in candidates {
                if name != keeper && !listing.duplicates.iter().any(|(_, d)| *d == name) {
                    listing.duplicates.push((id.clone(), name));
                }
            }
            if let Some(e) = entry {
                listing.gone.remove(&id);
                state.contacts.insert(id, e);
            }
        }
        if !read_in_full.is_empty() {
            self.fingerprint_in_full(state, &read_in_full, listing)
                .await?;
        }
        state.sync_token = next_token;
        Ok(())
    }

    /// Fingerprint the entries `names` from `people:batchGet` (200 a request), which returns
    /// every email and phone, where a listing returns 100 of each.
    async fn fingerprint_in_full(
        &self,
        state: &mut UserState,
        names: &[(String, String)],
        listing: &mut Listing,
    ) -> Result<(), Error> {
        let id_of: std::collections::HashMap<&str, &str> = names
            .iter()
            .map(|(id, rn)| (rn.as_str(), id.as_str()))
            .collect();
        for chunk in names.chunks(200) {
            listing.requests += 1;
            listing.units += QuotaUnits::of_method("people.people.getBatchGet", false);
            let resp = self
                .client
                .people()
                .get_batch_get()
                .resource_names(chunk.iter().map(|(_, rn)| rn.clone()))
                .person_fields(self.listing_mask())
                .send()
                .await?;
            for r in resp.responses.unwrap_or_default() {
                let Some(person) = r.person else { continue };
                let Some(rn) = person.resource_name.as_deref() else {
                    continue;
                };
                let Some(id) = id_of.get(rn) else { continue };
                let Some(mut e) = state.contacts.get(id) else {
                    continue;
                };
                if e.resource_name != rn {
                    continue;
                }
                let fp = fingerprint(&person, self.fields.fields());
                if e.google.is_some_and(|g| g != fp) {
                    e.edited = true;
                }
                e.google = Some(fp);
                state.contacts.insert(id.to_string(), e);
            }
        }
        Ok(())
    }
}

/// Whether a listed person may have been cut to the 100 email addresses or 100 phone numbers
/// a list response carries.
fn may_be_truncated(person: &Person) -> bool {
    const LIMIT: usize = 100;
    person
        .email_addresses
        .as_ref()
        .is_some_and(|v| v.len() >= LIMIT)
        || person
            .phone_numbers
            .as_ref()
            .is_some_and(|v| v.len() >= LIMIT)
}

/// Fold one listed copy into its entry.
fn observe(e: &mut Entry, seen: Seen) {
    if let Some(fp) = seen.fingerprint {
        // Google's managed fields changed since the job last knew them.
        if e.google.is_some_and(|g| g != fp) {
            e.edited = true;
        }
        e.google = Some(fp);
    }
    e.etag = seen.etag;
    e.in_group = seen.in_group;
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

/// The sync token cannot be used: too old (`400 FAILED_PRECONDITION` with `ErrorInfo.reason`
/// `EXPIRED_SYNC_TOKEN`, or from older servers only the message, or 410), or refused because the
/// request's other parameters differ from the call that issued it ("all other parameters ...
/// must match the first call that provided the sync token": any other 400 of an incremental
/// listing). A full listing repeats nothing, so falling back to one is always safe.
fn is_refused_token(e: &Error) -> bool {
    e.api_error().is_some_and(|a| {
        a.reason() == Some("EXPIRED_SYNC_TOKEN") || a.http_status == 400 || a.http_status == 410
    })
}

impl SyncJob {
    /// The contacts no job manages, for adoption, when the listing was incremental (it shows only
    /// changes): a plain listing of every contact (no sync token asked for, so not a full sync's
    /// first page), reading only emails and `clientData`.
    pub(super) async fn list_candidates(
        &self,
        requests: &mut u64,
        units: &mut QuotaUnits,
    ) -> Result<Vec<Candidate>, Error> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .people()
            .connections()
            .list("people/me")
            .person_fields([
                crate::PersonField::EmailAddresses,
                crate::PersonField::ClientData,
                crate::PersonField::Metadata,
            ])
            .page_size(PAGE)
            .by_page();
        while let Some(page) = pages.next().await {
            *requests += 1;
            *units += QuotaUnits::of_method("people.people.connections.list", false);
            for person in page?.connections.unwrap_or_default() {
                let Some(rn) = person.resource_name.clone() else {
                    continue;
                };
                if !managed_by_any_job(&person) {
                    out.push(candidate(person, rn));
                }
            }
        }
        Ok(out)
    }
}

/// Whether some job's key (`google-people.sync/...`) marks `person`.
fn managed_by_any_job(person: &Person) -> bool {
    person.client_data.iter().flatten().any(|c| {
        c.key
            .as_deref()
            .is_some_and(|k| k.starts_with(super::KEY_PREFIX))
    })
}

fn candidate(person: Person, resource_name: String) -> Candidate {
    Candidate {
        resource_name,
        etag: person.etag.unwrap_or_default(),
        emails: person
            .email_addresses
            .iter()
            .flatten()
            .filter_map(|e| e.value.as_deref())
            .map(|v| v.trim().to_lowercase())
            .filter(|v| !v.is_empty())
            .collect(),
        client_data: person.client_data.unwrap_or_default(),
    }
}
