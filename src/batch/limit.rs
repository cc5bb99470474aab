//! Client-side, per-user rate limiting in the units the People API counts.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// A per-user budget of critical read and write units in a sliding window, so that a job stays
/// under the server's per-minute quotas instead of meeting 429s.
///
/// The People API charges a `batchUpdateContacts`, `batchCreateContacts` or
/// `batchDeleteContacts` 6 critical reads and 6 critical writes, a `people:batchGet` 1 read, and
/// a single-contact mutation 1 of each. [`RateLimit::default`] is 60 reads and 30 writes a minute,
/// the per-user figures reported for new projects (Google publishes none; your project's are in
/// the Cloud Console under Quotas). No window of the given length ever holds more than the
/// budget, so fixed per-minute windows on the server are never exceeded either.
///
/// Clones share one budget: give every job acting for the same user a clone, and each user their
/// own `RateLimit`.
#[derive(Clone, Debug)]
pub struct RateLimit {
    reads: u32,
    writes: u32,
    window: Duration,
    spent: Arc<Mutex<VecDeque<(Instant, u32, u32)>>>,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::per_minute(60, 30)
    }
}

impl RateLimit {
    /// `reads` critical read units and `writes` critical write units per minute.
    pub fn per_minute(reads: u32, writes: u32) -> Self {
        Self::new(reads, writes, Duration::from_secs(60))
    }

    /// `reads` and `writes` units in any `window` (a zero budget is taken as 1).
    pub fn new(reads: u32, writes: u32, window: Duration) -> Self {
        Self {
            reads: reads.max(1),
            writes: writes.max(1),
            window,
            spent: Arc::default(),
        }
    }

    /// The budget: (reads, writes, window).
    pub fn budget(&self) -> (u32, u32, Duration) {
        (self.reads, self.writes, self.window)
    }

    /// Wait until `reads` and `writes` units fit in the window, then spend them. A cost larger
    /// than the whole budget waits for an empty window.
    pub async fn acquire(&self, reads: u32, writes: u32) {
        loop {
            let wait = {
                let mut spent = self.spent.lock().unwrap_or_else(PoisonError::into_inner);
                let now = Instant::now();
                while spent
                    .front()
                    .is_some_and(|(t, _, _)| now.duration_since(*t) >= self.window)
                {
                    spent.pop_front();
                }
                let (r, w) = spent
                    .iter()
                    .fold((0u32, 0u32), |(r, w), (_, a, b)| (r + a, w + b));
                let fits = |used: u32, cost: u32, cap: u32| used == 0 || used + cost <= cap;
                if fits(r, reads, self.reads) && fits(w, writes, self.writes) {
                    spent.push_back((now, reads, writes));
                    return;
                }
                // The oldest spend leaves the window first; try again then.
                spent
                    .front()
                    .map(|(t, _, _)| self.window.saturating_sub(now.duration_since(*t)))
                    .unwrap_or_default()
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// Units a batch mutation costs: (reads, writes).
pub(crate) const BATCH_MUTATION: (u32, u32) = (6, 6);
/// Units a `people:batchGet` costs.
pub(crate) const BATCH_GET: (u32, u32) = (1, 0);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn no_window_holds_more_than_the_budget() {
        let limit = RateLimit::new(12, 12, Duration::from_secs(10));
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..6 {
            limit.acquire(6, 6).await;
            times.push(start.elapsed());
        }
        // Two batches per window: at 0 s, 0 s, 10 s, 10 s, 20 s, 20 s.
        let secs: Vec<u64> = times.iter().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [0, 0, 10, 10, 20, 20]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cost_above_the_budget_waits_for_an_empty_window() {
        let limit = RateLimit::new(60, 4, Duration::from_secs(60));
        let start = Instant::now();
        limit.acquire(6, 6).await;
        limit.acquire(6, 6).await;
        assert_eq!(start.elapsed().as_secs(), 60);
    }
}
