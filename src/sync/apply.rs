//! Applying a plan through the batch helpers, then reading back the changes the run itself made,
//! so that the next run starts after them and a create whose answer was lost is found by its key.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt as _;

use super::outcome::{PlanCounts, RecordOutcome, SyncError, SyncProgress, SyncReport, SyncSummary};
use super::plan::{Plan, PlannedCreate};
use super::state::{Entry, Fingerprint, UserState};
use super::{Callback, SyncJob, lock};
use crate::batch::{BatchCreate, BatchDelete, BatchUpdate, CreateOutcome, DeleteOutcome, Outcome};
use crate::{
    ContactGroup, ContactGroupMembership, CreateContactGroupRequest, Membership,
    ModifyContactGroupMembersRequest, PersonField,
};

/// Most names one `contactGroups.members.modify` takes (adds and removes together).
pub(super) const MEMBERS_PER_MODIFY: usize = 1000;

/// Rounds of creates whose answer was lost and whose contact the read-back did not find.
const CREATE_ROUNDS: usize = 2;

/// Counts outcomes and reports progress.
struct Tally {
    planned: PlanCounts,
    /// Outcomes by kind, in the order of [`KINDS`].
    kinds: [AtomicU64; 9],
    /// Keep every outcome in the report, or only those that need attention.
    keep_all: bool,
    callback: Option<Callback>,
}

/// The outcome kinds, in `Tally::kinds` order.
const KINDS: [&str; 9] = [
    "created",
    "updated",
    "adopted",
    "unchanged",
    "deleted",
    "duplicate-removed",
    "skipped",
    "failed",
    "unknown",
];

impl Tally {
    fn count(&self, kind: &str) -> u64 {
        KINDS
            .iter()
            .position(|k| *k == kind)
            .map_or(0, |i| self.kinds[i].load(Ordering::Relaxed))
    }

    fn record(&self, outcome: &RecordOutcome) {
        self.add(outcome.kind(), 1);
    }

    /// Count `n` outcomes of `kind` that are not kept.
    fn add(&self, kind: &str, n: u64) {
        if let Some(i) = KINDS.iter().position(|k| *k == kind) {
            self.kinds[i].fetch_add(n, Ordering::Relaxed);
        }
    }

    fn report(&self) {
        if let Some(cb) = &self.callback {
            let sum = |kinds: &[&str]| kinds.iter().map(|k| self.count(k)).sum();
            (cb.0)(SyncProgress {
                planned: self.planned,
                done: sum(&KINDS),
                applied: sum(&[
                    "created",
                    "updated",
                    "adopted",
                    "deleted",
                    "duplicate-removed",
                ]),
                failed: sum(&["failed", "unknown"]),
            });
        }
    }
}

/// Add a batch job's requests to the run's.
fn absorb(summary: &mut SyncSummary, batch: &crate::batch::Summary) {
    summary.requests += batch.requests;
    summary.writes += batch.writes;
}

/// Execute `plan` for `job`'s user.
pub(super) async fn apply(job: &SyncJob, plan: Plan) -> Result<SyncReport, SyncError> {
    let counts = plan.counts();
    let quota = plan.quota();
    let Plan {
        creates,
        updates,
        adoptions,
        deletes,
        unchanged,
        unchanged_ids,
        skipped,
        over_limit,
        orphans,
        group,
        full_listing,
        requests,
        mut state,
        started,
        lease: _lease,
        ..
    } = plan;
    let tally = Arc::new(Tally {
        planned: counts,
        kinds: Default::default(),
        keep_all: job.keep_all_outcomes,
        callback: job.progress.clone(),
    });
    let mut summary = SyncSummary {
        requests,
        full_listing,
        orphans: orphans.len() as u64,
        ..SyncSummary::default()
    };
    let mut outcomes = Vec::with_capacity(if job.keep_all_outcomes {
        creates.len() + updates.len() + adoptions.len() + unchanged + skipped.len() + deletes.len()
    } else {
        0
    });
    // Before the first write: the credentials must act for the job's user, or the contacts would
    // land in another account (a service account used without a subject writes into its own,
    // invisible one, and every call "succeeds").
    let writes_planned = !creates.is_empty()
        || !updates.is_empty()
        || !adoptions.is_empty()
        || !deletes.is_empty()
        || group
            .as_ref()
            .is_some_and(|g| !g.add.is_empty() || !g.remove.is_empty());
    // A run that would pass the daily write quota is deferred whole, before anything is sent,
    // rather than stopped half way.
    if let Some(limit) = job.client.rate_limit() {
        let needed = quota.units.get(crate::quota::QuotaMetric::DailyWrites);
        let left = limit.daily_left();
        if needed > left {
            return Err(SyncError::DailyQuota { needed, left });
        }
    }
    if writes_planned {
        check_account(job, &mut summary).await?;
    }
    // The first commit: the state brought up to date by the listing, and its sync token. Whatever
    // happens from here on, the next run lists the changes since then, this run's writes
    // included, and finds every contact it created by its key. Creates are marked unsettled
    // first, so that a run stopped while creating is followed by a full listing: an incremental
    // one may not show those creates for minutes.
    if !creates.is_empty() {
        state.creates_unsettled = true;
    }
    commit(job, &state).map_err(SyncError::Store)?;

    // The group, created when missing and needed.
    let mut group_rn = group.as_ref().and_then(|g| g.resource_name.clone());
    if let Some(g) = &group
        && group_rn.is_none()
        && (!creates.is_empty() || !g.add.is_empty())
    {
        let body = CreateContactGroupRequest::new()
            .set_contact_group(ContactGroup::new().set_name(g.name.clone()));
        summary.requests += 1;
        summary.writes += 1;
        let created = job
            .client
            .contact_groups()
            .create(body)
            .send()
            .await
            .map_err(SyncError::Api)?;
        group_rn = created.resource_name;
    }

    // Creates, then, if some answers were lost, a full listing: a create whose answer was lost is
    // found by its key, and only one that a complete, current listing does not show is sent
    // again. An incremental listing would not do: it may lag writes by minutes, and a create it
    // does not show may well exist. When the listing fails, nothing can be concluded: those
    // creates stay unknown (never sent again in this run) and the next run settles them with a
    // full listing.
    let mut pending: Vec<PlannedCreate> = creates;
    let mut round = 0;
    // Creates whose answer was lost while no listing could be read: settled at the end.
    let mut unsettled: Vec<(PlannedCreate, String)> = Vec::new();
    // Some create's outcome stays unknown at the end of the run.
    let mut creates_unknown = false;
    while !pending.is_empty() {
        round += 1;
        let lost = create(
            job,
            &mut state,
            pending,
            group_rn.as_deref(),
            &mut summary,
            &tally,
            &mut outcomes,
        )
        .await;
        if lost.is_empty() {
            break;
        }
        let listed = read_back_full(
            job,
            &mut state,
            group_rn.as_deref(),
            &mut summary,
            &tally,
            &mut outcomes,
        )
        .await;
        if !listed {
            unsettled = lost;
            break;
        }
        pending = settle_lost(
            lost,
            &state,
            round < CREATE_ROUNDS,
            &mut creates_unknown,
            &tally,
            &mut outcomes,
        );
    }

    update(
        job,
        &mut state,
        updates,
        &mut summary,
        &tally,
        &mut outcomes,
    )
    .await;
    let adopted = adopt(
        job,
        &mut state,
        adoptions,
        &mut summary,
        &tally,
        &mut outcomes,
    )
    .await;
    // Adopted contacts join the job's group too.
    let mut group = group;
    if let Some(g) = &mut group {
        g.add.extend(adopted);
    }
    // Each unchanged record is counted; its outcome is kept only by a job that keeps them all
    // (then the plan kept their ids).
    tally.add("unchanged", (unchanged - unchanged_ids.len()) as u64);
    for id in unchanged_ids {
        let resource_name = state
            .contacts
            .get(&id)
            .map(|e| e.resource_name)
            .unwrap_or_default();
        push(
            &tally,
            &mut outcomes,
            RecordOutcome::Unchanged { id, resource_name },
        );
    }
    for s in skipped {
        push(
            &tally,
            &mut outcomes,
            RecordOutcome::Skipped {
                id: s.id,
                reason: s.reason,
            },
        );
    }
    for (id, why) in over_limit {
        push(
            &tally,
            &mut outcomes,
            RecordOutcome::Failed {
                id,
                error: crate::batch::ContactError::InvalidInput(why),
            },
        );
    }
    delete(
        job,
        &mut state,
        deletes,
        &mut summary,
        &tally,
        &mut outcomes,
    )
    .await;
    if let (Some(g), Some(rn)) = (&group, &group_rn) {
        members(job, &mut state, rn, &g.add, &g.remove, &mut summary).await;
    }
    // Creates that no listing could settle earlier: one more full listing, now that the rest of
    // the run has given an outage time to pass. Those it shows were created; those it shows
    // absent are sent once more; without it, they are unknown.
    if !unsettled.is_empty() {
        let listed = read_back_full(
            job,
            &mut state,
            group_rn.as_deref(),
            &mut summary,
            &tally,
            &mut outcomes,
        )
        .await;
        let again = if listed {
            settle_lost(
                unsettled,
                &state,
                true,
                &mut creates_unknown,
                &tally,
                &mut outcomes,
            )
        } else {
            for (create, error) in unsettled {
                creates_unknown = true;
                push(
                    &tally,
                    &mut outcomes,
                    RecordOutcome::Unknown {
                        id: create.id,
                        error: format!(
                            "{error}; reading the contacts back failed too, so whether it was \
                             created is unknown (the next run finds out with a full listing, \
                             and creates it only if it is absent)"
                        ),
                    },
                );
            }
            Vec::new()
        };
        if !again.is_empty() {
            let lost = create(
                job,
                &mut state,
                again,
                group_rn.as_deref(),
                &mut summary,
                &tally,
                &mut outcomes,
            )
            .await;
            creates_unknown |= !lost.is_empty();
            for (create, error) in lost {
                push(
                    &tally,
                    &mut outcomes,
                    RecordOutcome::Unknown {
                        id: create.id,
                        error,
                    },
                );
            }
        }
    }

    // Read back this run's own changes, so that the next run starts after them (an unchanged user
    // then costs one request), and remove any duplicate the read-back shows.
    if summary.writes > 0 {
        catch_up(
            job,
            &mut state,
            group_rn.as_deref(),
            &mut summary,
            &tally,
            &mut outcomes,
        )
        .await;
    }
    // Every create is settled (created, or refused) unless one is unknown.
    state.creates_unsettled = creates_unknown;
    commit(job, &state).map_err(SyncError::Store)?;

    summary.created = tally.count("created");
    summary.updated = tally.count("updated");
    summary.adopted = tally.count("adopted");
    summary.unchanged = tally.count("unchanged");
    summary.deleted = tally.count("deleted");
    summary.duplicates_removed = tally.count("duplicate-removed");
    summary.skipped = tally.count("skipped");
    summary.failed = tally.count("failed");
    summary.unknown = tally.count("unknown");
    summary.elapsed = started.elapsed();
    tally.report();
    tracing::debug!(
        job = job.name.as_str(),
        created = summary.created,
        updated = summary.updated,
        deleted = summary.deleted,
        failed = summary.failed,
        unknown = summary.unknown,
        requests = summary.requests,
        writes = summary.writes,
        "synced"
    );
    Ok(SyncReport { outcomes, summary })
}

fn push(tally: &Tally, outcomes: &mut Vec<RecordOutcome>, o: RecordOutcome) {
    tally.record(&o);
    let attention = matches!(
        o,
        RecordOutcome::Failed { .. }
            | RecordOutcome::Unknown { .. }
            | RecordOutcome::Skipped { .. }
    );
    if tally.keep_all || attention {
        outcomes.push(o);
    }
}

/// A batch job's progress, forwarded to the sync's callback.
fn forward(tally: &Arc<Tally>) -> impl Fn(crate::batch::Progress) + Send + Sync + 'static {
    let tally = tally.clone();
    move |_| tally.report()
}

/// Create `creates`; returns those whose outcome is unknown, with why.
async fn create(
    job: &SyncJob,
    state: &mut UserState,
    creates: Vec<PlannedCreate>,
    group: Option<&str>,
    summary: &mut SyncSummary,
    tally: &Arc<Tally>,
    outcomes: &mut Vec<RecordOutcome>,
) -> Vec<(PlannedCreate, String)> {
    let creates = Arc::new(creates);
    // Every created contact in My Contacts (what Google Contacts and phones show) unless told
    // otherwise, and in the job's group.
    let memberships: Vec<Membership> = job
        .my_contacts
        .then_some("contactGroups/myContacts")
        .into_iter()
        .chain(group)
        .map(membership)
        .collect();
    // The batch's positions → the plan's; creates whose body cannot be read back are never sent.
    let sent: Arc<Mutex<Vec<u32>>> = Arc::default();
    let unreadable: Arc<Mutex<Vec<u32>>> = Arc::default();
    let persons = {
        let (creates, sent, unreadable) = (creates.clone(), sent.clone(), unreadable.clone());
        // Unpacked one chunk at a time, as the batch helper pulls them.
        (0..creates.len()).filter_map(move |i| {
            let Some(person) = creates[i].person() else {
                lock(&unreadable).push(i as u32);
                return None;
            };
            lock(&sent).push(i as u32);
            Some(if memberships.is_empty() {
                person
            } else {
                person.set_memberships(memberships.clone())
            })
        })
    };
    let batch = BatchCreate::new(&job.client)
        .read_mask([PersonField::Metadata])
        .expect("a non-empty read mask")
        .on_progress(forward(tally));
    // Outcomes are folded in as they come: a created person is dropped at once, whatever the
    // number of creates.
    let mut results = batch.run(persons);
    let mut lost = Vec::new();
    while let Some(r) = results.next().await {
        let at = lock(&sent).get(r.index() as usize).copied();
        let Some(c) = at.and_then(|i| creates.get(i as usize)) else {
            continue;
        };
        match r {
            CreateOutcome::Created {
                resource_name,
                person,
                ..
            } => {
                state.contacts.insert(
                    c.id.clone(),
                    Entry {
                        resource_name: resource_name.clone(),
                        etag: person.etag.clone().unwrap_or_default(),
                        google: Some(c.fingerprint),
                        source: Some(c.fingerprint),
                        edited: false,
                        in_group: group.is_some(),
                    },
                );
                push(
                    tally,
                    outcomes,
                    RecordOutcome::Created {
                        id: c.id.clone(),
                        resource_name,
                    },
                );
            }
            CreateOutcome::Failed { error, .. } => push(
                tally,
                outcomes,
                RecordOutcome::Failed {
                    id: c.id.clone(),
                    error,
                },
            ),
            CreateOutcome::Unknown { error, .. } => lost.push((c.clone(), error)),
        }
    }
    absorb(summary, &batch.summary());
    for i in std::mem::take(&mut *lock(&unreadable)) {
        push(
            tally,
            outcomes,
            RecordOutcome::Failed {
                id: creates[i as usize].id.clone(),
                error: unreadable_body(),
            },
        );
    }
    lost
}

/// Save `state`, unless what it holds could not be read back (then the last commit stands, and
/// the next run lists the changes since it).
fn commit(job: &SyncJob, state: &UserState) -> Result<(), crate::runtime::Error> {
    if state.contacts.failed() {
        return Err(crate::runtime::Error::config(
            "sync state: the temporary file holding this run's contacts failed; the state is \
             not saved",
        ));
    }
    job.store.save(&job.name, &job.user, state)
}

/// A planned body the spill log could not give back: nothing was sent for it.
fn unreadable_body() -> crate::batch::ContactError {
    crate::batch::ContactError::InvalidInput(
        "the planned contact could not be read back from the temporary file; nothing was sent"
            .into(),
    )
}

fn membership(group: &str) -> Membership {
    Membership::new().set_contact_group_membership(
        ContactGroupMembership::new().set_contact_group_resource_name(group),
    )
}

/// Adopt contacts the user already had: the managed fields and the job's key written, their
/// other `clientData` kept, guarded by the etag they were listed at (a contact changed since is
/// a conflict, left alone, and the next run looks again). Returns the adopted contacts.
async fn adopt(
    job: &SyncJob,
    state: &mut UserState,
    adoptions: Vec<super::plan::PlannedAdoption>,
    summary: &mut SyncSummary,
    tally: &Arc<Tally>,
    outcomes: &mut Vec<RecordOutcome>,
) -> Vec<String> {
    let mut adopted = Vec::new();
    if adoptions.is_empty() {
        return adopted;
    }
    let mut by_name: HashMap<String, (String, Fingerprint)> =
        HashMap::with_capacity(adoptions.len());
    let mut items = Vec::with_capacity(adoptions.len());
    for a in &adoptions {
        match a.person() {
            Some(p) => {
                by_name.insert(a.resource_name.clone(), (a.id.clone(), a.fingerprint));
                items.push((a.resource_name.clone(), p));
            }
            None => push(
                tally,
                outcomes,
                RecordOutcome::Failed {
                    id: a.id.clone(),
                    error: unreadable_body(),
                },
            ),
        }
    }
    drop(adoptions);
    let mask = job.fields.clone().with(PersonField::ClientData);
    let batch = match BatchUpdate::new(&job.client, mask) {
        Ok(b) => b
            .read_mask([PersonField::Metadata])
            .on_progress(forward(tally)),
        Err(e) => {
            for (_, (id, _)) in by_name {
                push(
                    tally,
                    outcomes,
                    RecordOutcome::Failed {
                        id,
                        error: crate::batch::ContactError::InvalidInput(e.to_string()),
                    },
                );
            }
            return adopted;
        }
    };
    let mut results = batch.run(items);
    while let Some(r) = results.next().await {
        let Some((id, fp)) = by_name.remove(r.requested()) else {
            continue;
        };
        let (resource_name, etag) = match r {
            Outcome::Updated {
                resource_name,
                person,
                ..
            } => (
                resource_name,
                person.and_then(|p| p.etag).unwrap_or_default(),
            ),
            // Read back holding what was sent: the key and the fields are there. Without its
            // etag, the next listing shows it as a change, which compares equal.
            Outcome::Unchanged { resource_name, .. } => (resource_name, String::new()),
            Outcome::Failed { error, .. } => {
                push(tally, outcomes, RecordOutcome::Failed { id, error });
                continue;
            }
            Outcome::Unknown { error, .. } => {
                push(
                    tally,
                    outcomes,
                    RecordOutcome::Unknown {
                        id,
                        error: error.to_string(),
                    },
                );
                continue;
            }
        };
        state.contacts.insert(
            id.clone(),
            Entry {
                resource_name: resource_name.clone(),
                etag,
                google: Some(fp),
                source: Some(fp),
                edited: false,
                in_group: false,
            },
        );
        adopted.push(resource_name.clone());
        let outcome = RecordOutcome::Adopted { id, resource_name };
        push(tally, outcomes, outcome);
    }
    absorb(summary, &batch.summary());
    adopted
}

/// Write the planned updates.
async fn update(
    job: &SyncJob,
    state: &mut UserState,
    updates: Vec<super::plan::PlannedUpdate>,
    summary: &mut SyncSummary,
    tally: &Arc<Tally>,
    outcomes: &mut Vec<RecordOutcome>,
) {
    if updates.is_empty() {
        return;
    }
    let mut by_name: HashMap<String, (String, Fingerprint)> = HashMap::with_capacity(updates.len());
    for u in &updates {
        by_name.insert(u.resource_name.clone(), (u.id.clone(), u.fingerprint));
    }
    // Unpacked one chunk at a time, as the batch helper pulls them; a body that cannot be read
    // back is never sent.
    let unreadable: Arc<Mutex<Vec<String>>> = Arc::default();
    let items = {
        let unreadable = unreadable.clone();
        updates.into_iter().filter_map(move |u| match u.person() {
            Some(p) => Some((u.resource_name, p)),
            None => {
                lock(&unreadable).push(u.resource_name);
                None
            }
        })
    };
    let batch = match BatchUpdate::new(&job.client, job.fields.clone()) {
        Ok(b) => b
            .read_mask([PersonField::Metadata])
            .on_progress(forward(tally)),
        Err(e) => {
            // The mask was checked when the job was built; this cannot happen.
            for (_, (id, _)) in by_name {
                push(
                    tally,
                    outcomes,
                    RecordOutcome::Failed {
                        id,
                        error: crate::batch::ContactError::InvalidInput(e.to_string()),
                    },
                );
            }
            return;
        }
    };
    let mut results = batch.run(items);
    while let Some(r) = results.next().await {
        let Some((id, fp)) = by_name.remove(r.requested()) else {
            continue;
        };
        match r {
            Outcome::Updated {
                resource_name,
                person,
                ..
            } => {
                let etag = person.and_then(|p| p.etag).unwrap_or_default();
                state.contacts.modify(&id, |e| {
                    e.resource_name = resource_name.clone();
                    // Without the answer's etag, the next listing shows this write as a change,
                    // which compares equal.
                    e.etag = etag;
                    e.google = Some(fp);
                    e.source = Some(fp);
                    e.edited = false;
                });
                push(
                    tally,
                    outcomes,
                    RecordOutcome::Updated { id, resource_name },
                );
            }
            Outcome::Failed { error, .. } => {
                push(tally, outcomes, RecordOutcome::Failed { id, error })
            }
            Outcome::Unknown { error, .. } => {
                push(tally, outcomes, RecordOutcome::Unknown { id, error })
            }
            other => push(
                tally,
                outcomes,
                RecordOutcome::Unknown {
                    id,
                    error: format!("an outcome this version does not know: {other:?}"),
                },
            ),
        }
    }
    absorb(summary, &batch.summary());
    for rn in std::mem::take(&mut *lock(&unreadable)) {
        if let Some((id, _)) = by_name.remove(&rn) {
            push(
                tally,
                outcomes,
                RecordOutcome::Failed {
                    id,
                    error: unreadable_body(),
                },
            );
        }
    }
}

/// Delete managed contacts (and extra copies).
async fn delete(
    job: &SyncJob,
    state: &mut UserState,
    deletes: Vec<super::plan::PlannedDelete>,
    summary: &mut SyncSummary,
    tally: &Arc<Tally>,
    outcomes: &mut Vec<RecordOutcome>,
) {
    if deletes.is_empty() {
        return;
    }
    let mut by_name: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for d in deletes {
        by_name.insert(d.resource_name, (d.id, d.duplicate));
    }
    let batch = BatchDelete::new(&job.client).on_progress(forward(tally));
    let results: Vec<DeleteOutcome> = batch
        .run(by_name.keys().cloned().collect::<Vec<_>>())
        .collect()
        .await;
    absorb(summary, &batch.summary());
    for r in results {
        let Some((id, duplicate)) = by_name.remove(r.resource_name()) else {
            continue;
        };
        let outcome = match r {
            DeleteOutcome::Deleted { resource_name } => {
                if state
                    .contacts
                    .get(&id)
                    .is_some_and(|e| e.resource_name == resource_name)
                {
                    state.contacts.remove(&id);
                }
                if duplicate {
                    RecordOutcome::DuplicateRemoved { id, resource_name }
                } else {
                    RecordOutcome::Deleted { id, resource_name }
                }
            }
            DeleteOutcome::Failed { error, .. } => RecordOutcome::Failed { id, error },
            DeleteOutcome::Unknown { error, .. } => RecordOutcome::Unknown { id, error },
        };
        push(tally, outcomes, outcome);
    }
}

/// Put `add` into the group and take `remove` out of it. A failure is left for the next run (the
/// state still says the contacts are not members).
async fn members(
    job: &SyncJob,
    state: &mut UserState,
    group: &str,
    add: &[String],
    remove: &[String],
    summary: &mut SyncSummary,
) {
    let names: std::collections::HashSet<&str> =
        add.iter().chain(remove).map(String::as_str).collect();
    let by_name = state.ids_by_name(&names);
    let changes: Vec<(&String, bool)> = add
        .iter()
        .map(|rn| (rn, true))
        .chain(remove.iter().map(|rn| (rn, false)))
        .collect();
    for part in changes.chunks(MEMBERS_PER_MODIFY) {
        let body = ModifyContactGroupMembersRequest::new()
            .set_resource_names_to_add(part.iter().filter(|c| c.1).map(|c| c.0.clone()))
            .set_resource_names_to_remove(part.iter().filter(|c| !c.1).map(|c| c.0.clone()));
        summary.requests += 1;
        summary.writes += 1;
        let sent = job
            .client
            .contact_groups()
            .members()
            .modify(group, body)
            .send()
            .await;
        let Ok(resp) = sent else {
            tracing::debug!(
                job = job.name.as_str(),
                "group membership change failed; the next run retries"
            );
            continue;
        };
        let missing: Vec<String> = resp
            .not_found_resource_names
            .unwrap_or_default()
            .into_iter()
            .chain(
                resp.can_not_remove_last_contact_group_resource_names
                    .unwrap_or_default(),
            )
            .collect();
        for (rn, member) in part {
            if missing.contains(rn) {
                continue;
            }
            if let Some(id) = by_name.get(*rn) {
                state.contacts.modify(id, |e| e.in_group = *member);
            }
        }
    }
}

/// Read the changes since the last commit into the state (this run's own writes, and anything
/// done meanwhile), remove duplicate copies it shows, and commit the state with the new token. A
/// failure leaves the state at its last commit, so the next run reads the same changes.
/// Refuse to write unless the client acts for `job`'s user: one of `people/me`'s email addresses
/// is the user's (any case). A job for `me` acts for whoever the credentials are.
async fn check_account(job: &SyncJob, summary: &mut SyncSummary) -> Result<(), SyncError> {
    if job.user == "me" || !job.user.contains('@') {
        return Ok(());
    }
    summary.requests += 1;
    let me = job
        .client
        .people()
        .get("people/me")
        .person_fields([PersonField::EmailAddresses])
        .send()
        .await
        .map_err(SyncError::Api)?;
    let emails: Vec<String> = me
        .email_addresses
        .iter()
        .flatten()
        .filter_map(|e| e.value.clone())
        .collect();
    if emails.iter().any(|e| e.eq_ignore_ascii_case(&job.user)) {
        Ok(())
    } else {
        Err(SyncError::WrongAccount {
            user: job.user.clone(),
            acting_as: emails,
        })
    }
}

/// Lost creates against a complete, current listing: those it shows were created; those it does
/// not were not, and are returned to be sent again (or, with `again` false, reported unknown).
fn settle_lost(
    lost: Vec<(PlannedCreate, String)>,
    state: &UserState,
    again: bool,
    unknown: &mut bool,
    tally: &Tally,
    outcomes: &mut Vec<RecordOutcome>,
) -> Vec<PlannedCreate> {
    let mut resend = Vec::new();
    for (create, error) in lost {
        match state.contacts.get(&create.id) {
            Some(e) => push(
                tally,
                outcomes,
                RecordOutcome::Created {
                    id: create.id,
                    resource_name: e.resource_name,
                },
            ),
            None if again => resend.push(create),
            None => {
                *unknown = true;
                push(
                    tally,
                    outcomes,
                    RecordOutcome::Unknown {
                        id: create.id,
                        error,
                    },
                );
            }
        }
    }
    resend
}

/// List every contact (a full listing, current unlike an incremental one) into `state`, and
/// remove any duplicate it shows. `false` when the listing failed: `state` is as it was, and
/// nothing may be concluded from what it does not hold.
async fn read_back_full(
    job: &SyncJob,
    state: &mut UserState,
    group: Option<&str>,
    summary: &mut SyncSummary,
    tally: &Arc<Tally>,
    outcomes: &mut Vec<RecordOutcome>,
) -> bool {
    let token = state.sync_token.take();
    match job.refresh(state, group).await {
        Ok(listing) => {
            summary.requests += listing.requests;
            remove_duplicates(job, state, listing.duplicates, summary, tally, outcomes).await;
            if let Err(e) = commit(job, state) {
                tracing::debug!(job = job.name.as_str(), error = %e, "saving the sync state failed");
            }
            true
        }
        Err(e) => {
            state.sync_token = token;
            tracing::debug!(job = job.name.as_str(), error = %e, "reading back the contacts failed");
            false
        }
    }
}

/// Delete extra copies a listing found.
async fn remove_duplicates(
    job: &SyncJob,
    state: &mut UserState,
    duplicates: Vec<(String, String)>,
    summary: &mut SyncSummary,
    tally: &Arc<Tally>,
    outcomes: &mut Vec<RecordOutcome>,
) {
    if duplicates.is_empty() {
        return;
    }
    let deletes = duplicates
        .into_iter()
        .map(|(id, resource_name)| super::plan::PlannedDelete {
            id,
            resource_name,
            duplicate: true,
        })
        .collect();
    delete(job, state, deletes, summary, tally, outcomes).await;
}

async fn catch_up(
    job: &SyncJob,
    state: &mut UserState,
    group: Option<&str>,
    summary: &mut SyncSummary,
    tally: &Arc<Tally>,
    outcomes: &mut Vec<RecordOutcome>,
) {
    // A listing that fails leaves the state as it was.
    let listing = match job.refresh(state, group).await {
        Ok(l) => l,
        Err(e) => {
            tracing::debug!(job = job.name.as_str(), error = %e, "reading back this run's changes failed; the next run reads them");
            return;
        }
    };
    summary.requests += listing.requests;
    remove_duplicates(job, state, listing.duplicates, summary, tally, outcomes).await;
    if let Err(e) = commit(job, state) {
        tracing::debug!(job = job.name.as_str(), error = %e, "saving the sync state failed");
    }
}
