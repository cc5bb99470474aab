//! What a sync reports: an outcome per record, the run's totals, progress, and its errors.

use std::fmt;
use std::time::Duration;

use crate::batch::ContactError;
use crate::runtime::Error;

/// What happened to one record (or, for deletes and duplicates, one managed contact).
///
/// `Created`/`Updated`/`Deleted` mean applied; `Failed` means not applied; `Unknown` means the
/// truth could not be read (the next run finds out, by the contact's key, and never creates it
/// twice).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordOutcome {
    /// A new managed contact.
    Created {
        /// The record's id.
        id: String,
        /// The new contact.
        resource_name: String,
    },
    /// The managed fields were written.
    Updated {
        /// The record's id.
        id: String,
        /// The contact.
        resource_name: String,
    },
    /// A contact the user already had (no job managed it; it shares an email address with the
    /// record) now carries the job's key and the managed fields, its other data kept
    /// ([`SyncJob::adopt_by_email`](super::SyncJob::adopt_by_email)).
    Adopted {
        /// The record's id.
        id: String,
        /// The contact.
        resource_name: String,
    },
    /// The contact already holds the record's values: nothing was written.
    Unchanged {
        /// The record's id.
        id: String,
        /// The contact.
        resource_name: String,
    },
    /// A managed contact whose id left the input was deleted.
    Deleted {
        /// Its id.
        id: String,
        /// The contact that was deleted.
        resource_name: String,
    },
    /// An extra copy of a managed contact (two contacts with the same key) was deleted; the
    /// record keeps the contact with the lowest resource name.
    DuplicateRemoved {
        /// The id both copies carried.
        id: String,
        /// The copy that was deleted.
        resource_name: String,
    },
    /// Left alone by policy.
    Skipped {
        /// The record's id.
        id: String,
        /// Why.
        reason: SkipReason,
    },
    /// Not applied.
    Failed {
        /// The record's id.
        id: String,
        /// Why.
        error: ContactError,
    },
    /// May or may not have been applied; the next run settles it.
    Unknown {
        /// The record's id.
        id: String,
        /// What went wrong.
        error: String,
    },
}

impl RecordOutcome {
    /// The record's (or contact's) external id.
    pub fn id(&self) -> &str {
        match self {
            RecordOutcome::Created { id, .. }
            | RecordOutcome::Updated { id, .. }
            | RecordOutcome::Adopted { id, .. }
            | RecordOutcome::Unchanged { id, .. }
            | RecordOutcome::Deleted { id, .. }
            | RecordOutcome::DuplicateRemoved { id, .. }
            | RecordOutcome::Skipped { id, .. }
            | RecordOutcome::Failed { id, .. }
            | RecordOutcome::Unknown { id, .. } => id,
        }
    }

    /// A short name of the outcome: `created`, `updated`, `adopted`, `unchanged`, `deleted`,
    /// `duplicate-removed`, `skipped`, `failed`, `unknown`.
    pub fn kind(&self) -> &'static str {
        match self {
            RecordOutcome::Created { .. } => "created",
            RecordOutcome::Updated { .. } => "updated",
            RecordOutcome::Adopted { .. } => "adopted",
            RecordOutcome::Unchanged { .. } => "unchanged",
            RecordOutcome::Deleted { .. } => "deleted",
            RecordOutcome::DuplicateRemoved { .. } => "duplicate-removed",
            RecordOutcome::Skipped { .. } => "skipped",
            RecordOutcome::Failed { .. } => "failed",
            RecordOutcome::Unknown { .. } => "unknown",
        }
    }
}

/// Why a record was left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// Its contact's managed fields were edited in Google, and the policy is
    /// [`Keep`](super::ConflictPolicy::Keep).
    EditedInGoogle {
        /// The contact.
        resource_name: String,
    },
    /// Its contact was deleted in Google, and re-creating is off.
    DeletedInGoogle,
    /// Adoption by email found no single contact for it: several unmanaged contacts share its
    /// email addresses, or the one that does also matches another record. Nothing was created
    /// or changed.
    AmbiguousMatch {
        /// The contacts that matched.
        candidates: Vec<String>,
    },
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::EditedInGoogle { resource_name } => {
                write!(f, "{resource_name} was edited in Google (policy: keep)")
            }
            SkipReason::DeletedInGoogle => {
                f.write_str("the contact was deleted in Google (re-create is off)")
            }
            SkipReason::AmbiguousMatch { candidates } => write!(
                f,
                "adoption by email is ambiguous: {} match it, or match another record too; \
                 nothing was created or changed (merge the duplicates, then run again)",
                candidates.join(", ")
            ),
        }
    }
}

/// How many of each action a plan holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanCounts {
    /// Contacts to create.
    pub create: usize,
    /// Contacts to update.
    pub update: usize,
    /// Contacts the user already had, to adopt.
    pub adopt: usize,
    /// Managed contacts to delete (their id left the input).
    pub delete: usize,
    /// Extra copies to delete.
    pub duplicates: usize,
    /// Records already in sync.
    pub unchanged: usize,
    /// Records left alone by policy.
    pub skipped: usize,
    /// Records past a limit of Google's (nothing is sent for them).
    pub over_limit: usize,
    /// Managed contacts whose id left the input, kept because deletes are off.
    pub orphans: usize,
    /// Contacts to add to the job's group.
    pub group_add: usize,
    /// Contacts to take out of the job's group.
    pub group_remove: usize,
}

impl PlanCounts {
    /// Whether the plan writes nothing.
    pub fn is_noop(&self) -> bool {
        self.create
            + self.update
            + self.adopt
            + self.delete
            + self.duplicates
            + self.group_add
            + self.group_remove
            == 0
    }
}

/// Totals of one user's run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncSummary {
    /// Contacts created.
    pub created: u64,
    /// Contacts updated.
    pub updated: u64,
    /// Contacts the user already had, adopted.
    pub adopted: u64,
    /// Records already in sync.
    pub unchanged: u64,
    /// Managed contacts deleted.
    pub deleted: u64,
    /// Extra copies deleted.
    pub duplicates_removed: u64,
    /// Records left alone by policy.
    pub skipped: u64,
    /// Records not applied.
    pub failed: u64,
    /// Records whose outcome is unknown.
    pub unknown: u64,
    /// Managed contacts whose id left the input, kept because deletes are off.
    pub orphans: u64,
    /// Requests sent, reads included (the client's retries are not counted).
    pub requests: u64,
    /// Requests that write (creates, updates, deletes, group changes).
    pub writes: u64,
    /// Whether the run listed every contact (first run, lost state or expired sync token) rather
    /// than the changes since the last run.
    pub full_listing: bool,
    /// Wall time of the run, planning included.
    pub elapsed: Duration,
}

impl SyncSummary {
    /// Whether every record was applied or already in sync.
    pub fn is_complete(&self) -> bool {
        self.failed == 0 && self.unknown == 0
    }
}

/// A finished run: one outcome per record, and the totals.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SyncReport {
    /// Outcomes, creates first, then updates, unchanged, skipped, deletes (only failed, unknown
    /// and skipped ones with [`keep_all_outcomes(false)`](super::SyncJob::keep_all_outcomes)).
    pub outcomes: Vec<RecordOutcome>,
    /// Totals.
    pub summary: SyncSummary,
}

/// Where an apply is, passed to the progress callback after every batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncProgress {
    /// What the plan holds.
    pub planned: PlanCounts,
    /// Records and contacts with an outcome so far.
    pub done: u64,
    /// Of which created, updated and deleted.
    pub applied: u64,
    /// Of which failed or unknown.
    pub failed: u64,
}

/// A record refused before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordError {
    /// Its 0-based position in the input.
    pub position: u64,
    /// Its id as given.
    pub id: String,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record {} ({:?}): {}",
            self.position, self.id, self.problem
        )
    }
}

/// Why a sync did not run (nothing was written).
#[derive(Debug)]
#[non_exhaustive]
pub enum SyncError {
    /// Records that cannot be synced, every one of them.
    InvalidRecords(Vec<RecordError>),
    /// The plan would delete more than the allowed share of the managed contacts, and more
    /// than the floor under which any count is allowed.
    MassDelete {
        /// Contacts it would delete.
        would_delete: usize,
        /// Managed contacts before the run.
        managed: usize,
        /// The allowed share.
        max_share: f64,
        /// The count always allowed.
        floor: usize,
    },
    /// Reading the user's contacts or groups failed (after retries), or the user's token was
    /// refused.
    Api(Error),
    /// The state store failed.
    Store(Error),
    /// The plan would take the user past the number of contacts an account holds.
    TooManyContacts {
        /// Contacts the user would have (the managed ones and the creates).
        would_have: usize,
        /// The limit.
        limit: usize,
    },
    /// The credentials act for another account than the job's user (`people/me` is not that
    /// user): nothing was written. A service account without a subject acts as itself, an
    /// `authorized_user` file only as its own account.
    WrongAccount {
        /// The user the job syncs into.
        user: String,
        /// Who the credentials act as (`people/me`'s email addresses).
        acting_as: Vec<String>,
    },
    /// The run's contact writes would pass the user's daily quota
    /// ([`QuotaMetric::DailyWrites`](crate::quota::QuotaMetric::DailyWrites), as far as the
    /// client's [`RateLimit`](crate::quota::RateLimit) knows): the user is deferred, nothing was
    /// written, and a later run (after the day's window) picks it up.
    DailyQuota {
        /// Daily units the run needs.
        needed: u64,
        /// Daily units left.
        left: u64,
    },
    /// Another run holds the lease on this user ([`SyncStore::lease`](super::SyncStore::lease)):
    /// nothing was listed or written.
    Leased {
        /// Who holds it, as it described itself.
        holder: String,
    },
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncError::InvalidRecords(errors) => {
                write!(f, "{} invalid record(s), nothing sent", errors.len())?;
                for e in errors.iter().take(20) {
                    write!(f, "\n  {e}")?;
                }
                if errors.len() > 20 {
                    write!(f, "\n  … and {} more", errors.len() - 20)?;
                }
                Ok(())
            }
            SyncError::MassDelete {
                would_delete,
                managed,
                max_share,
                floor,
            } => write!(
                f,
                "refusing to delete {would_delete} of {managed} managed contacts (more than {:.0}% \
                 and more than {floor}): an empty or truncated input? Allow it explicitly to go on",
                max_share * 100.0
            ),
            SyncError::Api(e) => write!(f, "reading the user's contacts failed: {e}"),
            SyncError::Store(e) => write!(f, "the sync state store failed: {e}"),
            SyncError::TooManyContacts { would_have, limit } => write!(
                f,
                "refusing to go past {limit} contacts: this run would leave {would_have} managed \
                 contacts, {} too many; nothing was written",
                would_have - limit
            ),
            SyncError::WrongAccount { user, acting_as } => write!(
                f,
                "the credentials act for {}, not for {user}: nothing was written (a service \
                 account acts for a Workspace user only with domain-wide delegation and that \
                 user as its subject; an authorized_user file acts only for its own account)",
                if acting_as.is_empty() {
                    "an account with no email address".to_string()
                } else {
                    acting_as.join(", ")
                }
            ),
            SyncError::Leased { holder } => write!(
                f,
                "skipped: another run is syncing this user ({holder}); nothing was listed or \
                 written"
            ),
            SyncError::DailyQuota { needed, left } => write!(
                f,
                "deferred: this run needs {needed} daily contact-write units and {left} are left                  today; nothing was written, and a later run picks it up"
            ),
        }
    }
}

impl std::error::Error for SyncError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SyncError::Api(e) | SyncError::Store(e) => Some(e),
            _ => None,
        }
    }
}
