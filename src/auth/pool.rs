//! One service account, many users: a token source per subject, bounded, evicting idle entries.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{ServiceAccount, ServiceAccountKey};

/// Token sources per impersonated user (domain-wide delegation), so a job can act for 1,000
/// users with one key. Each subject's tokens are cached and refreshed separately.
pub struct DelegatedPool {
    key: ServiceAccountKey,
    scopes: Vec<String>,
    max: usize,
    idle: Duration,
    entries: Mutex<HashMap<String, (ServiceAccount, Instant)>>,
}

impl fmt::Debug for DelegatedPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DelegatedPool")
            .field("key", &self.key)
            .field("scopes", &self.scopes)
            .field("max", &self.max)
            .field("subjects", &self.len())
            .finish()
    }
}

impl DelegatedPool {
    /// A pool of at most `max` subjects; entries unused for `idle` are evicted first.
    pub fn new(key: ServiceAccountKey, scopes: &[&str], max: usize, idle: Duration) -> Self {
        Self {
            key,
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
        let scopes: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
        let sa = ServiceAccount::new(self.key.clone(), &scopes).subject(subject);
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
