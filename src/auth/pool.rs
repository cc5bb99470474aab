//! One service account, many users: a token source per subject, bounded, evicting idle entries.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::cache::DEFAULT_MARGIN;
use super::service_account::Signer;
use super::{IamSigner, ServiceAccount, ServiceAccountKey};

/// Token sources per impersonated user (domain-wide delegation), so a job can act for 1,000
/// users with one key, or with none ([`keyless`](Self::keyless)). Each subject's tokens are
/// cached and refreshed separately; keyless subjects share one source credential.
pub struct DelegatedPool {
    signer: Signer,
    scopes: Vec<String>,
    max: usize,
    idle: Duration,
    entries: Mutex<HashMap<String, (ServiceAccount, Instant)>>,
}

impl fmt::Debug for DelegatedPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DelegatedPool")
            .field("signer", &self.signer)
            .field("scopes", &self.scopes)
            .field("max", &self.max)
            .field("subjects", &self.len())
            .finish()
    }
}

impl DelegatedPool {
    /// A pool of at most `max` subjects; entries unused for `idle` are evicted first.
    pub fn new(key: ServiceAccountKey, scopes: &[&str], max: usize, idle: Duration) -> Self {
        Self::with(Signer::Key(key), scopes, max, idle)
    }

    /// A pool that signs each subject's assertion with the IAM Credentials API's `signJwt`
    /// instead of a key file: one source credential (the metadata server, say) for every
    /// subject, one `signJwt` and one token request per subject and token lifetime.
    pub fn keyless(signer: IamSigner, scopes: &[&str], max: usize, idle: Duration) -> Self {
        Self::with(Signer::Iam(signer), scopes, max, idle)
    }

    fn with(signer: Signer, scopes: &[&str], max: usize, idle: Duration) -> Self {
        Self {
            signer,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            max: max.max(1),
            idle,
            entries: Mutex::default(),
        }
    }

    /// The token source for `subject` (created on first use).
    pub fn for_subject(&self, subject: &str) -> Arc<ServiceAccount> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if let Some((sa, used)) = entries.get_mut(subject) {
            *used = now;
            return Arc::new(sa.clone());
        }
        entries.retain(|_, (_, used)| now.duration_since(*used) < self.idle);
        if entries.len() >= self.max
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            entries.remove(&oldest);
        }
        let sa = ServiceAccount::with(
            self.signer.clone(),
            self.scopes.clone(),
            Some(subject.to_string()),
            DEFAULT_MARGIN,
        );
        entries.insert(subject.to_string(), (sa.clone(), now));
        Arc::new(sa)
    }

    /// Subjects currently held.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// No subjects held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
