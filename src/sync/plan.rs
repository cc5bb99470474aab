//! Planning: compare the desired records with the user's managed contacts, without writing.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{Stream, StreamExt as _};
use serde_json::Value;

use super::contacts::id_hash;
use super::log::Log;
use super::outcome::{PlanCounts, RecordError, SkipReason, SyncError};
use super::refresh::Candidate;
use super::state::{
    Entry, Fingerprint, STATE_VERSION, UserState, fingerprint, fingerprint_of, managed_json,
};
use super::store::{LeaseGuard, Leased};
use super::{ConflictPolicy, Record, SyncJob, lock};
use crate::Person;
use crate::quota::{Quota, QuotaUnits};

/// Where a plan keeps the bodies it will send: a [`Log`], on disk once it grows, so that a plan of
/// 100,000 creates holds their offsets and not their JSON.
pub(super) type Spill = Arc<Mutex<Log>>;

/// A person kept out of memory until it is sent: its JSON, in the plan's spill log.
#[derive(Clone)]
pub(super) struct Packed {
    spill: Spill,
    at: u64,
}

impl Packed {
    fn new(spill: &Spill, value: &Value) -> Self {
        let json = serde_json::to_vec(value).unwrap_or_default();
        let at = lock(spill).append(&json);
        Self {
            spill: spill.clone(),
            at,
        }
    }

    /// The person, or `None` when the spill log cannot give it back (never sent as anything
    /// else).
    pub(super) fn person(&self) -> Option<Person> {
        let json = lock(&self.spill).read(self.at)?;
        // Through the text deserializer responses use (not a second copy for byte slices).
        serde_json::from_str(std::str::from_utf8(&json).ok()?).ok()
    }
}

impl std::fmt::Debug for Packed {
    // Contact data: where it is only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Packed(at {})", self.at)
    }
}

/// A contact to create.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlannedCreate {
    /// The record's id.
    pub id: String,
    /// The record's contact was deleted in Google and is created again.
    pub recreate: bool,
    pub(super) body: Packed,
    pub(super) fingerprint: Fingerprint,
}

impl PlannedCreate {
    /// The person to create: the managed fields and the job's key (`None` if the temporary file
    /// holding it cannot be read back).
    pub fn person(&self) -> Option<Person> {
        self.body.person()
    }
}

/// A contact to update.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlannedUpdate {
    /// The record's id.
    pub id: String,
    /// The contact.
    pub resource_name: String,
    /// The managed fields were edited in Google (and the policy overwrites them).
    pub edited_in_google: bool,
    pub(super) body: Packed,
    pub(super) fingerprint: Fingerprint,
}

impl PlannedUpdate {
    /// The managed fields to write, with the etag they were compared at (`None` if the temporary
    /// file holding them cannot be read back).
    pub fn person(&self) -> Option<Person> {
        self.body.person()
    }
}

/// A contact the user already had, to adopt for a record instead of creating one.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlannedAdoption {
    /// The record's id.
    pub id: String,
    /// The contact.
    pub resource_name: String,
    /// Its etag when listed.
    pub(super) etag: String,
    /// Its `clientData`, kept beside the job's key.
    pub(super) client_data: Vec<crate::ClientData>,
    pub(super) body: Packed,
    pub(super) fingerprint: Fingerprint,
}

impl PlannedAdoption {
    /// What is written: the managed fields, the contact's `clientData` with the job's key added,
    /// and the etag it was listed at (`None` if the temporary file holding the fields cannot be
    /// read back).
    pub fn person(&self) -> Option<Person> {
        let mut person = self.body.person()?;
        let ours = person.client_data.take().unwrap_or_default();
        let mut client_data = self.client_data.clone();
        client_data.extend(ours);
        Some(
            person
                .set_client_data(client_data)
                .set_etag(self.etag.clone()),
        )
    }
}

/// A managed contact to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedDelete {
    /// Its id.
    pub id: String,
    /// The contact.
    pub resource_name: String,
    /// An extra copy of a contact that stays, rather than a contact whose id left the input.
    pub duplicate: bool,
}

/// A record left alone by policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedSkip {
    /// The record's id.
    pub id: String,
    /// Why.
    pub reason: SkipReason,
}

/// The contact group part of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupPlan {
    /// The group's name.
    pub name: String,
    /// Its resource name; `None` when it is to be created.
    pub resource_name: Option<String>,
    /// Contacts to add to it.
    pub add: Vec<String>,
    /// Managed contacts to take out of it (their id left the input and deletes are off).
    pub remove: Vec<String>,
}

/// What a sync would do for one user, computed by [`SyncJob::plan`]: nothing has been written.
/// Give it to [`SyncJob::apply`] to execute it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Plan {
    /// Contacts to create.
    pub creates: Vec<PlannedCreate>,
    /// Contacts to update.
    pub updates: Vec<PlannedUpdate>,
    /// Contacts the user already had, to adopt ([`SyncJob::adopt_by_email`]).
    pub adoptions: Vec<PlannedAdoption>,
    /// Managed contacts to delete.
    pub deletes: Vec<PlannedDelete>,
    /// How many records are already in sync (their contacts are in the state; with
    /// [`keep_all_outcomes`](super::SyncJob::keep_all_outcomes), each gets an outcome).
    pub unchanged: usize,
    /// Records left alone by policy.
    pub skipped: Vec<PlannedSkip>,
    /// Records past a limit of Google's, with why: nothing is sent for them (each is `Failed`).
    pub over_limit: Vec<(String, String)>,
    /// Managed contacts whose id left the input, kept because deletes are off: (id, resource
    /// name).
    pub orphans: Vec<(String, String)>,
    /// The contact group, when the job has one.
    pub group: Option<GroupPlan>,
    /// Whether planning listed every contact (rather than the changes since the last run).
    pub full_listing: bool,
    /// Requests planning made (reads only).
    pub requests: u64,
    /// Their quota units.
    pub(super) listed: QuotaUnits,
    /// Whether applying checks the account before the first write (one read).
    pub(super) checks_account: bool,
    /// This run's lease on the user, released when the plan is applied or dropped.
    pub(super) lease: LeaseGuard,
    /// The ids of the unchanged records, kept only for a job that keeps every outcome.
    pub(super) unchanged_ids: Vec<String>,
    pub(super) state: UserState,
    pub(super) started: Instant,
}

/// The requests and quota units of one user's run, by [`QuotaMetric`](crate::quota::QuotaMetric): those planning made and
/// those applying the plan will make (when no answer is lost and nothing is retried).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QuotaPlan {
    /// Requests planning made.
    pub planning_requests: u64,
    /// Requests applying the plan will make.
    pub apply_requests: u64,
    /// The units of both, by metric.
    pub units: QuotaUnits,
}

impl QuotaPlan {
    /// Requests in all.
    pub fn requests(&self) -> u64 {
        self.planning_requests + self.apply_requests
    }

    /// The least time `quota` allows this user's requests, sent one at a time (see
    /// [`Quota::floor`]); network and server time come on top.
    pub fn floor(&self, quota: &Quota) -> Duration {
        quota.floor(&self.units)
    }

    /// Whether the run's daily units fit in `quota`'s daily limit.
    pub fn fits_today(&self, quota: &Quota) -> bool {
        quota.fits_today(&self.units)
    }
}

impl std::ops::Add for QuotaPlan {
    type Output = QuotaPlan;
    fn add(self, rhs: QuotaPlan) -> QuotaPlan {
        QuotaPlan {
            planning_requests: self.planning_requests + rhs.planning_requests,
            apply_requests: self.apply_requests + rhs.apply_requests,
            units: self.units + rhs.units,
        }
    }
}

/// The least time a domain's users take under `quota` with `concurrency` users at once, given
/// each user's [`QuotaPlan`]: users' floors laid out over the slots, longest first (a user's
/// requests go one at a time, users in parallel, each with its own quota).
pub fn domain_floor<'a>(
    plans: impl IntoIterator<Item = &'a QuotaPlan>,
    quota: &Quota,
    concurrency: usize,
) -> Duration {
    let mut floors: Vec<Duration> = plans.into_iter().map(|p| p.floor(quota)).collect();
    floors.sort_unstable_by(|a, b| b.cmp(a));
    let mut slots = vec![Duration::ZERO; concurrency.max(1)];
    for f in floors {
        if let Some(least) = slots.iter_mut().min() {
            *least += f;
        }
    }
    slots.into_iter().max().unwrap_or_default()
}

impl Plan {
    /// The requests and quota units of this user's run: planning's, and applying's as far as
    /// they can be known before sending (every answer arriving, nothing retried).
    pub fn quota(&self) -> QuotaPlan {
        use crate::batch::{MAX_CHUNK, MAX_DELETE_CHUNK};
        let cost = |method: &str| QuotaUnits::of_method(method, false);
        let mut requests = 0u64;
        let mut units = QuotaUnits::ZERO;
        let mut add = |n: usize, method: &str| {
            requests += n as u64;
            units += cost(method) * n as u64;
        };
        let group = self.group.as_ref();
        let members = group.map_or(0, |g| g.add.len() + g.remove.len());
        let writes = !self.creates.is_empty()
            || !self.updates.is_empty()
            || !self.adoptions.is_empty()
            || !self.deletes.is_empty()
            || members > 0;
        if writes && self.checks_account {
            add(1, "people.people.get");
        }
        if group.is_some_and(|g| {
            g.resource_name.is_none() && (!self.creates.is_empty() || !g.add.is_empty())
        }) {
            add(1, "people.contactGroups.create");
        }
        add(
            self.creates.len().div_ceil(MAX_CHUNK),
            "people.people.batchCreateContacts",
        );
        add(
            self.updates.len().div_ceil(MAX_CHUNK) + self.adoptions.len().div_ceil(MAX_CHUNK),
            "people.people.batchUpdateContacts",
        );
        add(
            self.deletes.len().div_ceil(MAX_DELETE_CHUNK),
            "people.people.batchDeleteContacts",
        );
        add(
            members.div_ceil(super::apply::MEMBERS_PER_MODIFY),
            "people.contactGroups.members.modify",
        );
        if writes {
            // The read-back of the run's own changes: one page, usually.
            add(1, "people.people.connections.list");
        }
        QuotaPlan {
            planning_requests: self.requests,
            apply_requests: requests,
            units: self.listed + units,
        }
    }

    /// How many of each action the plan holds.
    pub fn counts(&self) -> PlanCounts {
        let duplicates = self.deletes.iter().filter(|d| d.duplicate).count();
        PlanCounts {
            create: self.creates.len(),
            update: self.updates.len(),
            adopt: self.adoptions.len(),
            delete: self.deletes.len() - duplicates,
            duplicates,
            unchanged: self.unchanged,
            skipped: self.skipped.len(),
            over_limit: self.over_limit.len(),
            orphans: self.orphans.len(),
            group_add: self.group.as_ref().map_or(0, |g| g.add.len()),
            group_remove: self.group.as_ref().map_or(0, |g| g.remove.len()),
        }
    }
}

/// The most contacts a Google account holds ("You can have up to 25,000 contacts", Google
/// Contacts help).
pub const MAX_CONTACTS: usize = 25_000;

/// The longest value a field may hold, in characters. Assumed: Google documents no figure; 1,024
/// is what third parties report for contact fields.
pub const MAX_VALUE_CHARS: usize = 1_024;

/// The largest contact, its managed fields as JSON. Assumed: Google documents no figure.
pub const MAX_CONTACT_BYTES: usize = 128 * 1024;

/// Fields a contact holds one of ("for contact sources, this field is a singleton": the
/// discovery document's `names`, `biographies`, `birthdays`, `genders`).
const SINGLETONS: &[&str] = &["names", "biographies", "birthdays", "genders"];

/// Why a record's managed fields are past one of Google's limits, if they are.
fn past_limits(managed: &serde_json::Map<String, Value>) -> Option<String> {
    for field in SINGLETONS {
        if let Some(n) = managed.get(*field).and_then(Value::as_array).map(Vec::len)
            && n > 1
        {
            return Some(format!(
                "{field} holds {n} values; a contact holds one (a singleton field)"
            ));
        }
    }
    fn longest(v: &Value) -> usize {
        match v {
            Value::String(s) => s.chars().count(),
            Value::Array(a) => a.iter().map(longest).max().unwrap_or(0),
            Value::Object(m) => m.values().map(longest).max().unwrap_or(0),
            _ => 0,
        }
    }
    for (field, v) in managed {
        let n = longest(v);
        if n > MAX_VALUE_CHARS {
            return Some(format!(
                "{field} has a value of {n} characters; at most {MAX_VALUE_CHARS} are accepted (assumed limit)"
            ));
        }
    }
    let size = serde_json::to_vec(managed).map_or(0, |b| b.len());
    (size > MAX_CONTACT_BYTES).then(|| {
        format!(
            "the contact is {size} bytes; at most {MAX_CONTACT_BYTES} are accepted (assumed limit)"
        )
    })
}

/// Plan a sync: load the state, bring it up to date with a listing, and compare every record.
/// The job's lease on its user, waiting for it up to the job's `lease_wait`.
async fn take_lease(job: &SyncJob) -> Result<LeaseGuard, SyncError> {
    let deadline = Instant::now() + job.lease_wait;
    loop {
        match job
            .store
            .lease(&job.name, &job.user)
            .map_err(SyncError::Store)?
        {
            Leased::Granted(guard) => return Ok(guard),
            Leased::Held(holder) => {
                let now = Instant::now();
                if now >= deadline {
                    return Err(SyncError::Leased { holder });
                }
                tokio::time::sleep((deadline - now).min(Duration::from_millis(250))).await;
            }
        }
    }
}

pub(super) async fn plan<S>(job: &SyncJob, records: S) -> Result<Plan, SyncError>
where
    S: Stream<Item = Record> + Send,
{
    let started = Instant::now();
    let span = tracing::debug_span!("people_sync_plan", job = job.name.as_str());
    // No other run syncs this user until this one's plan is applied or dropped.
    let lease = take_lease(job).await?;
    let mut state = job
        .store
        .load(&job.name, &job.user)
        .map_err(SyncError::Store)?
        .filter(|s| s.version == STATE_VERSION)
        .unwrap_or_else(UserState::new);
    let fields_now = job.fields.to_string();
    if state.fields != fields_now {
        // Fingerprints over other fields compare with nothing: list everything and take them
        // again (what the job knows of each contact is kept).
        state.sync_token = None;
        state.contacts = state
            .contacts
            .iter()
            .map(|(id, mut e)| {
                e.google = None;
                e.edited = false;
                (id, e)
            })
            .collect();
        state.fields = fields_now;
    }
    if state.creates_unsettled {
        // Creates of an earlier run may have been applied without its knowing: only a full
        // listing is sure to show them (incremental ones lag writes by up to minutes).
        state.sync_token = None;
    }
    let mut requests = 0;
    let mut listed = QuotaUnits::ZERO;
    let group = job.find_group(&mut requests, &mut listed).await?;
    let mut listing = job.refresh(&mut state, group.as_deref()).await?;
    // Every earlier create is settled now: listed, or known not to exist.
    state.creates_unsettled = false;
    requests += listing.requests;
    listed += listing.units;
    let managed_before = state.contacts.len();

    let fields = job.fields.fields();
    let nothing = fingerprint(&Person::new(), fields);
    let mut errors = Vec::new();
    let mut seen = Seen::default();
    let spill: Spill = Arc::default();
    let mut plan = Plan {
        creates: Vec::new(),
        updates: Vec::new(),
        adoptions: Vec::new(),
        deletes: Vec::new(),
        unchanged: 0,
        unchanged_ids: Vec::new(),
        skipped: Vec::new(),
        over_limit: Vec::new(),
        orphans: Vec::new(),
        group: job.group.as_ref().map(|name| GroupPlan {
            name: name.clone(),
            resource_name: group.clone(),
            ..GroupPlan::default()
        }),
        full_listing: listing.full,
        requests,
        listed,
        lease,
        checks_account: job.user != "me" && job.user.contains('@'),
        state: UserState::new(),
        started,
    };
    let mut records = std::pin::pin!(records);
    let mut position = 0u64;
    while let Some(record) = records.next().await {
        let at = position;
        position += 1;
        // One lookup in the state per record: the repeat check and the decision share it.
        let known = state.contacts.get(&record.id);
        let problem = if record.id.is_empty() {
            Some("the id is empty".to_string())
        } else if record.id.len() > 1024 {
            Some("the id is longer than 1024 bytes".to_string())
        } else if seen.contains(
            &state,
            &plan,
            &record.id,
            known.is_some(),
            !errors.is_empty(),
        ) {
            Some("the id appears more than once".to_string())
        } else {
            None
        };
        // Serialized once: the fingerprint, and the body of a create or update, come from it.
        let managed = managed_json(&record.person, fields);
        let fp = fingerprint_of(&managed);
        let problem = problem
            .or_else(|| (fp == nothing).then(|| "none of the managed fields is set".to_string()));
        if let Some(problem) = problem {
            errors.push(RecordError {
                position: at,
                id: record.id,
                problem,
            });
            continue;
        }
        seen.insert(&state, &record.id, known.is_some());
        if !errors.is_empty() {
            // Only validating now: the plan will not be used.
            continue;
        }
        if let Some(why) = past_limits(&managed) {
            // Google would refuse it (or keep part of it): nothing is sent for this record, and
            // its contact, if it has one, is left as it is.
            plan.over_limit.push((record.id, why));
            continue;
        }
        decide(
            job,
            &mut state,
            &mut plan,
            &spill,
            &listing.gone,
            (record.id, known),
            managed,
            fp,
        );
    }
    if !errors.is_empty() {
        return Err(SyncError::InvalidRecords(errors));
    }
    if job.adopt_by_email && !plan.creates.is_empty() {
        // An incremental listing shows changes only: the contacts a create might adopt are read
        // whole.
        let unmanaged = if listing.full {
            std::mem::take(&mut listing.unmanaged)
        } else {
            job.list_candidates(&mut plan.requests, &mut plan.listed)
                .await
                .map_err(SyncError::Api)?
        };
        adopt(&mut plan, unmanaged);
    }
    // "You can have up to 25,000 contacts" (Google Contacts help): a plan that would cross it
    // is refused whole, before anything is written.
    let after = state.contacts.len() + plan.creates.len();
    if !plan.creates.is_empty() && after > job.max_contacts {
        return Err(SyncError::TooManyContacts {
            would_have: after,
            limit: job.max_contacts,
        });
    }

    // Managed contacts whose id left the input.
    for (id, e) in state.contacts.iter() {
        if seen.state_id(&state, &id) {
            continue;
        }
        if job.delete_missing {
            plan.deletes.push(PlannedDelete {
                id,
                resource_name: e.resource_name,
                duplicate: false,
            });
        } else {
            plan.orphans.push((id, e.resource_name.clone()));
            if let Some(g) = &mut plan.group
                && e.in_group
            {
                g.remove.push(e.resource_name.clone());
            }
        }
    }
    let would_delete = plan.deletes.len();
    if would_delete > job.mass_delete_floor
        && !job.allow_mass_delete
        && would_delete as f64 > job.max_delete_share * managed_before as f64
    {
        return Err(SyncError::MassDelete {
            would_delete,
            managed: managed_before,
            max_share: job.max_delete_share,
            floor: job.mass_delete_floor,
        });
    }
    plan.deletes.extend(
        listing
            .duplicates
            .into_iter()
            .map(|(id, resource_name)| PlannedDelete {
                id,
                resource_name,
                duplicate: true,
            }),
    );
    if state.contacts.failed() || lock(&spill).failed() {
        return Err(SyncError::Store(crate::runtime::Error::config(
            "sync state: the temporary file holding this run's contacts could not be written or \
             read back",
        )));
    }
    plan.state = state;
    tracing::debug!(
        parent: &span,
        create = plan.creates.len(),
        update = plan.updates.len(),
        delete = plan.deletes.len(),
        unchanged = plan.unchanged,
        requests = plan.requests,
        full = plan.full_listing,
        "planned"
    );
    Ok(plan)
}

/// Creates whose record shares an email address with exactly one unmanaged contact, which shares
/// one with no other create, become adoptions; those with several candidates, or whose candidate
/// another create also matches, are skipped; the rest stay creates.
fn adopt(plan: &mut Plan, unmanaged: Vec<Candidate>) {
    let mut by_email: std::collections::HashMap<&str, Vec<usize>> =
        std::collections::HashMap::new();
    for (i, c) in unmanaged.iter().enumerate() {
        for e in &c.emails {
            let list = by_email.entry(e.as_str()).or_default();
            if !list.contains(&i) {
                list.push(i);
            }
        }
    }
    // Each create's candidates, and how many creates each candidate matches.
    let mut matches: Vec<Vec<usize>> = Vec::with_capacity(plan.creates.len());
    let mut claims = vec![0usize; unmanaged.len()];
    for create in &plan.creates {
        let mut found: Vec<usize> = Vec::new();
        if let Some(person) = create.person() {
            for e in person.email_addresses.iter().flatten() {
                let Some(v) = e.value.as_deref() else {
                    continue;
                };
                for &i in by_email
                    .get(v.trim().to_lowercase().as_str())
                    .into_iter()
                    .flatten()
                {
                    if !found.contains(&i) {
                        found.push(i);
                    }
                }
            }
        }
        for &i in &found {
            claims[i] += 1;
        }
        matches.push(found);
    }
    let creates = std::mem::take(&mut plan.creates);
    for (create, found) in creates.into_iter().zip(matches) {
        match found.as_slice() {
            [] => plan.creates.push(create),
            [i] if claims[*i] == 1 => {
                let c = &unmanaged[*i];
                plan.adoptions.push(PlannedAdoption {
                    id: create.id,
                    resource_name: c.resource_name.clone(),
                    etag: c.etag.clone(),
                    client_data: c.client_data.clone(),
                    body: create.body,
                    fingerprint: create.fingerprint,
                });
            }
            _ => plan.skipped.push(PlannedSkip {
                id: create.id,
                reason: SkipReason::AmbiguousMatch {
                    candidates: found
                        .iter()
                        .map(|i| unmanaged[*i].resource_name.clone())
                        .collect(),
                },
            }),
        }
    }
}

/// Which record ids planning has seen: those of managed contacts by their hash (an id in the
/// state's index owns its hash there; the few whose hash another id has are kept whole), and new
/// ids by their hash, checked against the planned creates and skips on a match.
#[derive(Default)]
struct Seen {
    state: HashSet<u64>,
    state_overflow: HashSet<String>,
    new: HashSet<u64>,
}

impl Seen {
    /// Whether `id` is in the state and was seen.
    fn state_id(&self, state: &UserState, id: &str) -> bool {
        if state.contacts.in_overflow(id) {
            self.state_overflow.contains(id)
        } else {
            self.state.contains(&id_hash(id))
        }
    }

    /// Whether `id` was seen before. A new id whose hash matches is looked up among the planned
    /// creates and skips; while only `validating` (after an invalid record, nothing more is
    /// planned) a match is taken as a repeat: the run fails either way.
    fn contains(
        &self,
        state: &UserState,
        plan: &Plan,
        id: &str,
        in_state: bool,
        validating: bool,
    ) -> bool {
        if in_state {
            return self.state_id(state, id);
        }
        if !self.new.contains(&id_hash(id)) {
            return false;
        }
        validating
            || plan.creates.iter().any(|c| c.id == id)
            || plan.skipped.iter().any(|s| s.id == id)
    }

    fn insert(&mut self, state: &UserState, id: &str, in_state: bool) {
        if state.contacts.in_overflow(id) {
            self.state_overflow.insert(id.to_string());
        } else if in_state {
            self.state.insert(id_hash(id));
        } else {
            self.new.insert(id_hash(id));
        }
    }
}

/// Decide what one valid record needs, given its managed contact as the state knows it.
#[allow(clippy::too_many_arguments)]
fn decide(
    job: &SyncJob,
    state: &mut UserState,
    plan: &mut Plan,
    spill: &Spill,
    gone: &HashSet<String>,
    (id, known): (String, Option<Entry>),
    mut body: serde_json::Map<String, Value>,
    fp: Fingerprint,
) {
    let Some(mut e) = known else {
        let recreate = gone.contains(&id);
        if recreate && !job.recreate_deleted {
            plan.skipped.push(PlannedSkip {
                id,
                reason: SkipReason::DeletedInGoogle,
            });
            return;
        }
        body.insert(
            "clientData".into(),
            serde_json::json!([{"key": job.key, "value": id}]),
        );
        plan.creates.push(PlannedCreate {
            id,
            recreate,
            body: Packed::new(spill, &Value::Object(body)),
            fingerprint: fp,
        });
        return;
    };
    let before = e.clone();
    let rn = e.resource_name.clone();
    if let Some(g) = &mut plan.group
        && !e.in_group
    {
        g.add.push(rn.clone());
    }
    let key = id.clone();
    if e.google == Some(fp) {
        e.source = Some(fp);
        e.edited = false;
        plan.unchanged += 1;
        if job.keep_all_outcomes {
            plan.unchanged_ids.push(id);
        }
    } else if e.edited && job.policy == ConflictPolicy::Keep {
        e.source = Some(fp);
        plan.skipped.push(PlannedSkip {
            id,
            reason: SkipReason::EditedInGoogle { resource_name: rn },
        });
    } else {
        body.insert("etag".into(), Value::String(e.etag.clone()));
        plan.updates.push(PlannedUpdate {
            id,
            resource_name: rn,
            edited_in_google: e.edited,
            body: Packed::new(spill, &Value::Object(body)),
            fingerprint: fp,
        });
    }
    if e != before {
        state.contacts.insert(key, e);
    }
}
