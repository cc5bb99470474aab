//! Keep contacts in sync with another system: a declarative, crash-safe sync engine on top of the
//! [`batch`](crate::batch) helpers.
//!
//! You give the records you want (an external id and a [`Person`] holding the fields under
//! management); the engine finds which Google contact belongs to which record, creates, updates
//! and (if asked) deletes, and remembers enough to make the next run cheap.
//!
//! - **Ownership.** A managed contact carries its external id in `clientData` under a key naming
//!   the job (`google-people.sync/<job>`), so two jobs never fight. The engine never modifies or
//!   deletes a contact without its key.
//! - **Plan, then apply.** [`SyncJob::plan`] reads the user's contacts and compares: creates,
//!   updates (only where a managed field differs), deletes (managed contacts whose id left the
//!   input; opt-in) and unchanged, without writing (a dry run). [`SyncJob::apply`] executes a plan
//!   through `BatchCreate`/`BatchUpdate`/`BatchDelete` (chunks of 200, one request in flight,
//!   etag-guarded updates) with exactly one [`RecordOutcome`] per record.
//! - **Crash safety.** Killing the process at any point and running again converges: a contact
//!   whose create answer was lost is found by its key (after the uncertain batch, and on the next
//!   run) instead of being created twice, and contacts duplicated by anyone else are resolved
//!   deterministically (the lowest resource name stays) and reported.
//! - **Incremental runs.** Per-user state (sync token, id → contact, fingerprints of the managed
//!   fields) lives in a [`SyncStore`]; the next run reads only the changes, so a user with nothing
//!   to do costs one request and no write. An expired sync token falls back to a full listing.
//!   Contacts edited or deleted in Google are detected: [`ConflictPolicy`] says whether the source
//!   overwrites an edit, and a managed contact deleted in Google is re-created unless told
//!   otherwise.
//! - **Safety valve.** A run that would delete more than a share of the managed contacts (10% by
//!   default) is refused before anything is written: an empty or truncated input never wipes a
//!   user's contacts.
//! - **Many users, many machines.** [`sync_users`] runs users in parallel (bounded), each strictly
//!   sequential; [`Shard`] splits users over K worker processes with no coordination.
//!
//! ```no_run
//! use google_people::sync::{MemoryStore, Record, SyncJob};
//! use google_people::{Client, EmailAddress, Name, Person, PersonField};
//!
//! # async fn demo(client: Client) -> Result<(), Box<dyn std::error::Error>> {
//! let job = SyncJob::new(&client, "directory", [PersonField::Names, PersonField::EmailAddresses])?
//!     .store(MemoryStore::new())
//!     .delete_missing(true);
//! let records = vec![Record::new(
//!     "emp-1",
//!     Person::new()
//!         .set_names([Name::new().set_given_name("Ada").set_family_name("Lovelace")])
//!         .set_email_addresses([EmailAddress::new().set_value("ada@example.com")]),
//! )];
//! let plan = job.plan(records).await?;       // reads only: the dry run
//! println!("{:?}", plan.counts());
//! let report = job.apply(plan).await?;       // writes
//! println!("{:?}", report.summary);
//! # Ok(()) }
//! ```

mod apply;
mod contacts;
mod log;
mod outcome;
mod plan;
mod refresh;
mod shard;
mod state;
mod store;
mod users;

use std::fmt;
use std::sync::Arc;

use futures_util::stream::{self, Stream};

pub use outcome::{
    PlanCounts, RecordError, RecordOutcome, SkipReason, SyncError, SyncProgress, SyncReport,
    SyncSummary,
};
pub use plan::{
    Plan, PlannedAdoption, PlannedCreate, PlannedDelete, PlannedSkip, PlannedUpdate, QuotaPlan,
    domain_floor,
};
pub use shard::{Shard, shard_of};
pub use state::{Contacts, Entry, Fingerprint, STATE_VERSION, UserState};
pub use store::{FileStore, LeaseGuard, Leased, MemoryStore, SyncStore};
pub use users::{UserSync, sync_users};

use crate::batch::RateLimit;
use crate::runtime::{Error, FieldMask, MaskField as _};
use crate::{Client, Person, PersonField};

/// One record of the desired state: a stable external id and the person holding the managed
/// fields (other fields are ignored).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Record {
    /// The id in the other system: stable, unique, not empty.
    pub id: String,
    /// The managed fields' values.
    pub person: Person,
}

impl Record {
    /// A record.
    pub fn new(id: impl Into<String>, person: Person) -> Self {
        Self {
            id: id.into(),
            person,
        }
    }
}

/// What happens to a managed contact whose managed fields were edited in Google since the job
/// last wrote them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConflictPolicy {
    /// The source wins: the managed fields are written again (the default).
    #[default]
    Overwrite,
    /// The edit made in Google wins: the contact is left alone and reported
    /// ([`SkipReason::EditedInGoogle`]) until the source and Google agree again.
    Keep,
}

/// A progress callback.
#[derive(Clone)]
struct Callback(Arc<dyn Fn(SyncProgress) + Send + Sync>);

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Callback")
    }
}

/// A sync job for one user: its name (part of the ownership key), the managed fields, where its
/// state lives, and its policies. Build it, then [`plan`](Self::plan) and [`apply`](Self::apply),
/// or [`run`](Self::run) both.
#[derive(Debug, Clone)]
pub struct SyncJob {
    client: Client,
    name: String,
    key: String,
    fields: FieldMask<PersonField>,
    user: String,
    store: Arc<dyn SyncStore>,
    delete_missing: bool,
    max_delete_share: f64,
    mass_delete_floor: usize,
    max_contacts: usize,
    allow_mass_delete: bool,
    policy: ConflictPolicy,
    recreate_deleted: bool,
    group: Option<String>,
    my_contacts: bool,
    adopt_by_email: bool,
    lease_wait: std::time::Duration,
    progress: Option<Callback>,
    keep_all_outcomes: bool,
}

/// The prefix of every job's `clientData` key.
pub const KEY_PREFIX: &str = "google-people.sync/";

impl SyncJob {
    /// A job named `name` (letters, digits, `.`, `_`, `-`, starting with a letter or digit; at
    /// most 64) managing `fields` of the
    /// contacts of the user `client` acts for. Refused: an empty mask, and fields the job cannot
    /// own (output-only fields, `clientData`, which carries the ownership key, and `memberships`,
    /// which [`group`](Self::group) manages).
    pub fn new(
        client: &Client,
        name: &str,
        fields: impl Into<FieldMask<PersonField>>,
    ) -> Result<Self, Error> {
        let valid = name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !valid {
            return Err(Error::invalid_request(format!(
                "the sync job name {name:?} must be 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit"
            )));
        }
        let fields = fields.into();
        if fields.is_empty() {
            return Err(Error::invalid_request("the sync job manages no field"));
        }
        if let Some(f) = fields.fields().iter().find(|f| {
            f.is_output_only()
                || matches!(
                    f,
                    PersonField::ResourceName
                        | PersonField::Etag
                        | PersonField::Metadata
                        | PersonField::ClientData
                        | PersonField::Memberships
                )
        }) {
            return Err(Error::invalid_request(format!(
                "a sync job cannot manage `{}`: {}",
                f.as_str(),
                match f {
                    PersonField::ClientData => "it carries the job's ownership key",
                    PersonField::Memberships => "use SyncJob::group for a contact group",
                    _ => "it cannot be written",
                }
            )));
        }
        Ok(Self {
            client: client.clone(),
            key: format!("{KEY_PREFIX}{name}"),
            name: name.to_string(),
            fields,
            user: "me".into(),
            store: Arc::new(MemoryStore::new()),
            delete_missing: false,
            max_delete_share: 0.10,
            mass_delete_floor: 5,
            max_contacts: plan::MAX_CONTACTS,
            allow_mass_delete: false,
            policy: ConflictPolicy::Overwrite,
            recreate_deleted: true,
            group: None,
            my_contacts: true,
            adopt_by_email: false,
            lease_wait: std::time::Duration::ZERO,
            progress: None,
            keep_all_outcomes: true,
        })
    }

    /// The user this job's state is saved under (default `me`): the Workspace user the client
    /// acts for.
    #[must_use]
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = user.into();
        self
    }

    /// Where the state lives between runs (default: in memory, so every run lists fully).
    #[must_use]
    pub fn store(mut self, store: impl SyncStore + 'static) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// Share a store between jobs (for example all users of a domain).
    #[must_use]
    pub fn store_arc(mut self, store: Arc<dyn SyncStore>) -> Self {
        self.store = store;
        self
    }

    /// Delete managed contacts whose id is no longer in the input (default: no; they are left
    /// and counted as orphans).
    #[must_use]
    pub fn delete_missing(mut self, yes: bool) -> Self {
        self.delete_missing = yes;
        self
    }

    /// The largest share of the managed contacts one run may delete (default 0.10); a plan that
    /// would delete more, and more than [`mass_delete_floor`](Self::mass_delete_floor)
    /// contacts, is refused with [`SyncError::MassDelete`].
    #[must_use]
    pub fn max_delete_share(mut self, share: f64) -> Self {
        self.max_delete_share = if share.is_finite() {
            share.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self
    }

    /// A run that deletes at most `n` contacts is never refused for its share (default 5): a
    /// share alone would refuse 1 deletion out of 2 managed contacts. A plan is refused with
    /// [`SyncError::MassDelete`] only when it deletes more than this many contacts *and* more
    /// than [`max_delete_share`](Self::max_delete_share) of them.
    #[must_use]
    pub fn mass_delete_floor(mut self, n: usize) -> Self {
        self.mass_delete_floor = n;
        self
    }

    /// The most managed contacts a run may leave the user with (default 25,000, the number a
    /// Google account holds): a plan that would create past it is refused with
    /// [`SyncError::TooManyContacts`] before anything is written.
    #[must_use]
    pub fn max_contacts(mut self, n: usize) -> Self {
        self.max_contacts = n;
        self
    }

    /// Allow a run to delete more than [`max_delete_share`](Self::max_delete_share).
    #[must_use]
    pub fn allow_mass_delete(mut self, yes: bool) -> Self {
        self.allow_mass_delete = yes;
        self
    }

    /// What to do with managed contacts edited in Google (default [`ConflictPolicy::Overwrite`]).
    #[must_use]
    pub fn conflict_policy(mut self, policy: ConflictPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Re-create a managed contact deleted in Google while its record is still in the input
    /// (default: yes).
    #[must_use]
    pub fn recreate_deleted(mut self, yes: bool) -> Self {
        self.recreate_deleted = yes;
        self
    }

    /// Keep every managed contact in the contact group with this name (created if missing), and
    /// managed contacts that left the input out of it.
    #[must_use]
    pub fn group(mut self, name: impl Into<String>) -> Self {
        self.group = Some(name.into());
        self
    }

    /// Create contacts in `contactGroups/myContacts` (default: yes), the group Google Contacts
    /// and phones show; with `false`, a created contact is only in the job's
    /// [`group`](Self::group), or wherever Google puts a contact created without memberships.
    /// Memberships are never managed fields: the sync never removes one it did not add.
    #[must_use]
    pub fn my_contacts(mut self, yes: bool) -> Self {
        self.my_contacts = yes;
        self
    }

    /// Adopt, instead of creating, a contact the user already has for a record: a contact that
    /// no job manages and that shares an email address (case aside) with a record that would be
    /// created gets the job's key and the managed fields ([`RecordOutcome::Adopted`]), its other
    /// data kept. A run with creates to make reads every contact's emails for it (on an
    /// incremental run, one more listing). A record matching two such
    /// contacts, or a contact matching two records, is skipped
    /// ([`SkipReason::AmbiguousMatch`]), never guessed: nothing is created for it either, so
    /// resolve the duplicate and run again. Default: off.
    #[must_use]
    pub fn adopt_by_email(mut self, yes: bool) -> Self {
        self.adopt_by_email = yes;
        self
    }

    /// How long [`plan`](Self::plan) waits for the lease on the user when another run holds it
    /// (default: not at all, [`SyncError::Leased`] at once). Two runs of a job never sync the
    /// same user at the same time: each plan takes the store's lease
    /// ([`SyncStore::lease`]) and holds it until it is applied or dropped.
    #[must_use]
    pub fn lease_wait(mut self, wait: std::time::Duration) -> Self {
        self.lease_wait = wait;
        self
    }

    /// Keep the job under a per-user rate limit (see [`RateLimit`]): every request it makes is
    /// paced, listings, retries and group writes included. Default: the client's, if any.
    #[must_use]
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.client = self.client.with_rate_limit(limit);
        self
    }

    /// Call `f` as the apply phase progresses.
    #[must_use]
    pub fn on_progress(mut self, f: impl Fn(SyncProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Callback(Arc::new(f)));
        self
    }

    /// Keep every outcome in [`SyncReport::outcomes`] (the default), or, with `false`, only
    /// those that need attention (failed, unknown, skipped): for runs of many records, whose
    /// totals are in the summary either way.
    #[must_use]
    pub fn keep_all_outcomes(mut self, yes: bool) -> Self {
        self.keep_all_outcomes = yes;
        self
    }

    /// The job's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `clientData` key that marks this job's contacts.
    pub fn client_data_key(&self) -> &str {
        &self.key
    }

    /// The managed fields.
    pub fn fields(&self) -> &FieldMask<PersonField> {
        &self.fields
    }

    /// Plan a sync of `records` (see [`plan_stream`](Self::plan_stream)).
    pub async fn plan<I>(&self, records: I) -> Result<Plan, SyncError>
    where
        I: IntoIterator<Item = Record>,
        I::IntoIter: Send,
    {
        self.plan_stream(stream::iter(records)).await
    }

    /// Read the user's contacts (the changes since the last run, or all of them) and compare them
    /// with `records`: nothing is written. Bad records (an empty or repeated id, no managed
    /// field set) are all reported in one [`SyncError::InvalidRecords`]; a plan that would delete
    /// too many contacts is [`SyncError::MassDelete`]. The plan holds the persons to write, not
    /// the unchanged ones.
    pub async fn plan_stream<S>(&self, records: S) -> Result<Plan, SyncError>
    where
        S: Stream<Item = Record> + Send,
    {
        plan::plan(self, records).await
    }

    /// Execute a plan: every record gets exactly one outcome, and the state is saved for the
    /// next run.
    pub async fn apply(&self, plan: Plan) -> Result<SyncReport, SyncError> {
        apply::apply(self, plan).await
    }

    /// Plan and apply.
    pub async fn run<I>(&self, records: I) -> Result<SyncReport, SyncError>
    where
        I: IntoIterator<Item = Record>,
        I::IntoIter: Send,
    {
        let plan = self.plan(records).await?;
        self.apply(plan).await
    }

    /// Plan and apply a stream of records.
    pub async fn run_stream<S>(&self, records: S) -> Result<SyncReport, SyncError>
    where
        S: Stream<Item = Record> + Send,
    {
        let plan = self.plan_stream(records).await?;
        self.apply(plan).await
    }

    /// The fields the listing reads: the managed ones, the key, the metadata, the groups.
    fn listing_mask(&self) -> FieldMask<PersonField> {
        let mut mask = self
            .fields
            .clone()
            .with(PersonField::ClientData)
            .with(PersonField::Metadata);
        if self.group.is_some() {
            mask = mask.with(PersonField::Memberships);
        }
        if self.adopt_by_email {
            mask = mask.with(PersonField::EmailAddresses);
        }
        mask
    }

    /// This job's external id in a person's `clientData`, if it carries the key.
    fn id_of<'p>(&self, person: &'p Person) -> Option<&'p str> {
        person
            .client_data
            .as_ref()?
            .iter()
            .find(|c| c.key.as_deref() == Some(self.key.as_str()))
            .and_then(|c| c.value.as_deref())
    }
}

/// A lock that a panic elsewhere does not poison for good (the data stays usable).
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
