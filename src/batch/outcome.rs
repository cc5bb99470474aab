//! What a job reports: one outcome per contact, the job's totals, and progress.

use std::fmt;
use std::time::Duration;

use crate::Person;

/// What happened to one contact to update.
///
/// Each variant is a promise: `Updated` means the contact holds the change and it was applied
/// once; `Failed` means it was not applied (the contact does not hold the change because of this
/// job); `Unknown` means the truth could not be read (the write's answer was lost and every
/// attempt to read the contact back failed), so the change may or may not have been applied.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Outcome {
    /// The contact holds the requested values.
    Updated {
        /// The resource name it was requested under.
        requested: String,
        /// Its resource name now (it can change when a contact is linked to a profile).
        resource_name: String,
        /// The updated person, projected to the read mask (none without one, or after a re-read).
        person: Option<Box<Person>>,
    },
    /// Nothing to write: [`modify`](super::BatchUpdate::modify)'s closure left the masked fields
    /// as they were.
    Unchanged {
        /// The resource name it was requested under.
        requested: String,
        /// Its resource name now.
        resource_name: String,
    },
    /// The contact was not updated.
    Failed {
        /// The resource name it was requested under.
        requested: String,
        /// Why.
        error: ContactError,
    },
    /// The update may or may not have been applied: its answer was lost and the contact could not
    /// be read back, during the chunk nor once more at the end of the job. Read the contact before
    /// acting on it; sending the same update again is safe (its etag stops a second application).
    Unknown {
        /// The resource name it was requested under.
        requested: String,
        /// What went wrong: the write's failure and the read's.
        error: String,
    },
}

impl Outcome {
    /// The resource name the contact was requested under.
    pub fn requested(&self) -> &str {
        match self {
            Outcome::Updated { requested, .. }
            | Outcome::Unchanged { requested, .. }
            | Outcome::Failed { requested, .. }
            | Outcome::Unknown { requested, .. } => requested,
        }
    }

    /// Whether the contact was updated.
    pub fn is_updated(&self) -> bool {
        matches!(self, Outcome::Updated { .. })
    }

    /// Whether the outcome is unknown (may or may not have been applied).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Outcome::Unknown { .. })
    }

    /// The error, for a failed contact.
    pub fn error(&self) -> Option<&ContactError> {
        match self {
            Outcome::Failed { error, .. } => Some(error),
            _ => None,
        }
    }

    pub(crate) fn kind(&self) -> Kind {
        match self {
            Outcome::Updated { .. } => Kind::Succeeded,
            Outcome::Unchanged { .. } => Kind::Unchanged,
            Outcome::Failed { .. } => Kind::Failed,
            Outcome::Unknown { .. } => Kind::Unknown,
        }
    }
}

/// Why a contact was not written. Every variant means the same thing: this job did not apply the
/// change (an outcome that cannot be known is reported as `Unknown`, never as a `ContactError`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContactError {
    /// Rejected before sending: invalid name, no etag, repeated in a chunk.
    InvalidInput(String),
    /// The server rejected this contact (`google.rpc` code and message).
    Rejected {
        /// Canonical code (9 = FAILED_PRECONDITION, 5 = NOT_FOUND, 3 = INVALID_ARGUMENT).
        code: i64,
        /// The server's message.
        message: String,
    },
    /// The contact changed elsewhere: read back after an uncertain write, it does not hold the
    /// sent values (or it no longer exists).
    Conflict,
    /// The whole request was refused (after retries) in a way that proves nothing was applied: a
    /// 4xx, an authentication failure, or a failure before the request left the machine.
    Request(String),
}

impl ContactError {
    /// An etag mismatch or a conflict: the contact changed since it was read.
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            ContactError::Conflict | ContactError::Rejected { code: 9, .. }
        )
    }
}

impl fmt::Display for ContactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContactError::InvalidInput(m) => write!(f, "invalid input: {m}"),
            ContactError::Rejected { code, message } => {
                write!(f, "rejected by the server (code {code}): {message}")
            }
            ContactError::Conflict => f.write_str("the contact changed elsewhere (conflict)"),
            ContactError::Request(m) => write!(f, "the request failed: {m}"),
        }
    }
}

impl std::error::Error for ContactError {}

/// Totals of a job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Contacts applied: updated, created or deleted.
    pub succeeded: u64,
    /// Contacts left as they were (nothing to write).
    pub unchanged: u64,
    /// Contacts not applied.
    pub failed: u64,
    /// Contacts whose outcome is unknown: they may or may not have been applied (the answer was
    /// lost and, for updates and deletes, the contact could not be read back; creates are never
    /// replayed, so a lost answer leaves them unknown).
    pub unknown: u64,
    /// Requests sent (mutations and reads; the client's retries are counted in `retries`).
    pub requests: u64,
    /// Of those, the requests that write (creates, updates, deletes), not the read-backs.
    pub writes: u64,
    /// Retries made by the client during the job.
    pub retries: u64,
    /// Wall time from the first request to the last outcome.
    pub elapsed: Duration,
}

impl Summary {
    /// Contacts with an outcome.
    pub fn done(&self) -> u64 {
        self.succeeded + self.unchanged + self.failed + self.unknown
    }
}

/// Where a job is, passed to the [`on_progress`](super::BatchUpdate::on_progress) callback after
/// every chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Contacts with an outcome so far.
    pub done: u64,
    /// Contacts in all, when known (an exact-size iterator, or
    /// [`total`](super::BatchUpdate::total)).
    pub total: Option<u64>,
    /// Contacts applied so far.
    pub succeeded: u64,
    /// Contacts failed so far.
    pub failed: u64,
    /// Contacts whose outcome is unknown so far.
    pub unknown: u64,
    /// Requests sent so far.
    pub requests: u64,
}

/// An outcome's class, for the totals.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Succeeded,
    Unchanged,
    Failed,
    Unknown,
}
