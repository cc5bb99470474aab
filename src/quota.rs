//! The People API's per-user quotas, metric by metric, and a client-side budget that keeps a user's
//! requests under them instead of meeting 429s.
//!
//! Google publishes no numbers for the People API: a project's limits are in its Cloud Console
//! (APIs & Services → People API → Quotas). What each method costs comes from Google's guide as
//! quoted by third parties, and [`Quota::default`] holds the lowest limits third parties report
//! for new projects, so a job paced by it stays under a new project's quotas; raise them to your
//! project's figures.
//!
//! | metric | what counts | default per user |
//! |---|---|---|
//! | [`CriticalReads`](QuotaMetric::CriticalReads) | every read, and every contact create or update (a batch: 6) | 60 a minute |
//! | [`CriticalWrites`](QuotaMetric::CriticalWrites) | a contact create or update (a batch: 6) | 30 a minute |
//! | [`GroupReads`](QuotaMetric::GroupReads) | `contactGroups` get, batchGet, list | 90 a minute |
//! | [`DeletesAndGroupWrites`](QuotaMetric::DeletesAndGroupWrites) | a contact delete (a batch: 10), a contact group write | 30 a minute |
//! | [`PhotoWrites`](QuotaMetric::PhotoWrites) | `updateContactPhoto`, `deleteContactPhoto` (and 1 critical read) | 50 a minute |
//! | [`FullSyncFirstPages`](QuotaMetric::FullSyncFirstPages) | the first page of a `connections.list` or `otherContacts.list` without a sync token that asks for one ("fixed and can not be increased") | 30 a minute (assumed) |
//! | [`DailyWrites`](QuotaMetric::DailyWrites) | a contact create or update (a batch: 200, whatever its size) | 100,000 a day |
//!
//! A [`RateLimit`] spends these units per request attempt (a retry costs again, as it does on the
//! server) and waits until a request's units fit. It is attached to a [`Client`](crate::Client)
//! ([`ClientBuilder::rate_limit`](crate::ClientBuilder::rate_limit),
//! [`Client::with_rate_limit`](crate::Client::with_rate_limit)), so every call made through that
//! client is paced: listings, reads, writes, groups and photos alike.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::runtime::{Error, Request};

/// One of the People API's per-user quota metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum QuotaMetric {
    /// "Critical read requests (Contact and Profile Reads)": every read, and writes too.
    CriticalReads,
    /// "Critical write requests (Contact Creates and Updates)".
    CriticalWrites,
    /// "Contact Group Read requests".
    GroupReads,
    /// "Write requests (Contact Deletes and Contact Group Writes)".
    DeletesAndGroupWrites,
    /// "Photo write requests".
    PhotoWrites,
    /// The first pages of full syncs.
    FullSyncFirstPages,
    /// "Daily Contact Writes (Total)", per day.
    DailyWrites,
}

const METRICS: usize = 7;

impl QuotaMetric {
    /// Every metric, in a fixed order.
    pub const ALL: [QuotaMetric; METRICS] = [
        QuotaMetric::CriticalReads,
        QuotaMetric::CriticalWrites,
        QuotaMetric::GroupReads,
        QuotaMetric::DeletesAndGroupWrites,
        QuotaMetric::PhotoWrites,
        QuotaMetric::FullSyncFirstPages,
        QuotaMetric::DailyWrites,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// A short name for reports: `critical_reads`, `daily_writes`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CriticalReads => "critical_reads",
            Self::CriticalWrites => "critical_writes",
            Self::GroupReads => "group_reads",
            Self::DeletesAndGroupWrites => "deletes_and_group_writes",
            Self::PhotoWrites => "photo_writes",
            Self::FullSyncFirstPages => "full_sync_first_pages",
            Self::DailyWrites => "daily_writes",
        }
    }

    /// Whether the metric counts per day (else per minute).
    pub fn is_daily(self) -> bool {
        self == Self::DailyWrites
    }

    /// The metric a 429's `ErrorInfo` names (`metadata.quota_metric`, such as
    /// `people.googleapis.com/critical_read_requests`, or else `metadata.quota_limit`).
    pub fn from_error_info(quota_metric: &str, quota_limit: &str) -> Option<Self> {
        let metric = quota_metric.rsplit('/').next().unwrap_or_default();
        let by_metric = match metric {
            "critical_read_requests" => Some(Self::CriticalReads),
            "critical_write_requests" => Some(Self::CriticalWrites),
            "contact_group_read_requests" => Some(Self::GroupReads),
            "write_requests" => Some(Self::DeletesAndGroupWrites),
            "photo_write_requests" => Some(Self::PhotoWrites),
            "full_sync_requests" => Some(Self::FullSyncFirstPages),
            "daily_contact_writes" => Some(Self::DailyWrites),
            _ => None,
        };
        by_metric.or_else(|| {
            let l = quota_limit.to_ascii_lowercase();
            if l.contains("perday") || l.starts_with("daily") {
                Some(Self::DailyWrites)
            } else if l.starts_with("criticalreads") {
                Some(Self::CriticalReads)
            } else if l.starts_with("criticalwrites") {
                Some(Self::CriticalWrites)
            } else if l.starts_with("contactgroupreads") {
                Some(Self::GroupReads)
            } else if l.starts_with("photowrites") {
                Some(Self::PhotoWrites)
            } else if l.starts_with("fullsync") {
                Some(Self::FullSyncFirstPages)
            } else if l.starts_with("writes") {
                Some(Self::DeletesAndGroupWrites)
            } else {
                None
            }
        })
    }
}

impl std::fmt::Display for QuotaMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::CriticalReads => "critical reads",
            Self::CriticalWrites => "critical writes",
            Self::GroupReads => "contact group reads",
            Self::DeletesAndGroupWrites => "deletes and group writes",
            Self::PhotoWrites => "photo writes",
            Self::FullSyncFirstPages => "full-sync first pages",
            Self::DailyWrites => "daily contact writes",
        })
    }
}

/// Quota units, one count per [`QuotaMetric`]: what a request costs, or a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct QuotaUnits([u64; METRICS]);

impl QuotaUnits {
    /// No units.
    pub const ZERO: QuotaUnits = QuotaUnits([0; METRICS]);

    /// The units of `metric`.
    pub fn get(&self, metric: QuotaMetric) -> u64 {
        self.0[metric.index()]
    }

    /// These units and `n` more of `metric`.
    #[must_use]
    pub fn with(mut self, metric: QuotaMetric, n: u64) -> Self {
        self.0[metric.index()] = self.0[metric.index()].saturating_add(n);
        self
    }

    /// The metrics with a non-zero count, in [`QuotaMetric::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (QuotaMetric, u64)> + '_ {
        QuotaMetric::ALL
            .into_iter()
            .map(|m| (m, self.get(m)))
            .filter(|(_, n)| *n > 0)
    }

    /// Whether every count is zero.
    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|n| *n == 0)
    }

    /// What the People API charges one request of the method `method_id` (a discovery id such
    /// as `people.people.batchUpdateContacts`). `first_page_of_full_sync` is for
    /// `connections.list`/`otherContacts.list` without a sync token or page token that asks for
    /// one. Methods of other APIs cost nothing here.
    pub fn of_method(method_id: &str, first_page_of_full_sync: bool) -> Self {
        use QuotaMetric::*;
        let z = Self::ZERO;
        let Some(m) = method_id.strip_prefix("people.") else {
            return z;
        };
        match m {
            "people.batchCreateContacts" | "people.batchUpdateContacts" => z
                .with(CriticalReads, 6)
                .with(CriticalWrites, 6)
                .with(DailyWrites, 200),
            "people.createContact"
            | "people.updateContact"
            | "otherContacts.copyOtherContactToMyContactsGroup" => z
                .with(CriticalReads, 1)
                .with(CriticalWrites, 1)
                .with(DailyWrites, 1),
            "people.deleteContact" => z.with(DeletesAndGroupWrites, 1),
            "people.batchDeleteContacts" => z.with(DeletesAndGroupWrites, 10),
            "contactGroups.list" | "contactGroups.batchGet" | "contactGroups.get" => {
                z.with(GroupReads, 1)
            }
            "contactGroups.create"
            | "contactGroups.update"
            | "contactGroups.delete"
            | "contactGroups.members.modify" => z.with(DeletesAndGroupWrites, 1),
            "people.updateContactPhoto" | "people.deleteContactPhoto" => {
                z.with(CriticalReads, 1).with(PhotoWrites, 1)
            }
            "people.connections.list" | "otherContacts.list" if first_page_of_full_sync => {
                z.with(CriticalReads, 1).with(FullSyncFirstPages, 1)
            }
            _ => z.with(CriticalReads, 1),
        }
    }

    /// What the People API charges `request`.
    pub fn of_request(request: &Request) -> Self {
        let q = request.query_pairs();
        let has = |name: &str| q.iter().any(|(k, _)| *k == name);
        let first_page = !has("syncToken")
            && !has("pageToken")
            && q.iter()
                .any(|(k, v)| *k == "requestSyncToken" && v == "true");
        Self::of_method(request.method_id(), first_page)
    }
}

impl std::ops::Add for QuotaUnits {
    type Output = QuotaUnits;
    fn add(mut self, rhs: QuotaUnits) -> QuotaUnits {
        self += rhs;
        self
    }
}

impl std::ops::AddAssign for QuotaUnits {
    fn add_assign(&mut self, rhs: QuotaUnits) {
        for (a, b) in self.0.iter_mut().zip(rhs.0) {
            *a = a.saturating_add(b);
        }
    }
}

impl std::ops::Mul<u64> for QuotaUnits {
    type Output = QuotaUnits;
    fn mul(mut self, n: u64) -> QuotaUnits {
        for a in &mut self.0 {
            *a = a.saturating_mul(n);
        }
        self
    }
}

/// Per-user quota limits: units per metric per window (a minute, or a day for
/// [`DailyWrites`](QuotaMetric::DailyWrites)). See the [module docs](self) for the defaults and
/// where they come from.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Quota {
    /// Units per window, in [`QuotaMetric::ALL`] order (`u64::MAX`: unlimited).
    limits: [u64; METRICS],
    /// The per-minute metrics' window (a minute, unless time-scaled).
    pub minute: Duration,
    /// The daily metric's window (a day, unless time-scaled).
    pub day: Duration,
}

impl Default for Quota {
    fn default() -> Self {
        Self {
            limits: [60, 30, 90, 30, 50, 30, 100_000],
            minute: Duration::from_secs(60),
            day: Duration::from_secs(86_400),
        }
    }
}

impl Quota {
    /// No limit on any metric.
    pub fn unlimited() -> Self {
        Self {
            limits: [u64::MAX; METRICS],
            ..Self::default()
        }
    }

    /// `metric`'s limit per window.
    pub fn limit(&self, metric: QuotaMetric) -> u64 {
        self.limits[metric.index()]
    }

    /// Set `metric`'s limit per window (a zero limit is taken as 1).
    #[must_use]
    pub fn set(mut self, metric: QuotaMetric, per_window: u64) -> Self {
        self.limits[metric.index()] = per_window.max(1);
        self
    }

    /// Let a minute last `minute` (and a day 1,440 of them): the same limits, met sooner. For
    /// tests against an emulator whose quotas are scaled the same way.
    #[must_use]
    pub fn time_scale(mut self, minute: Duration) -> Self {
        self.minute = minute;
        self.day = minute * 1440;
        self
    }

    /// The window `metric` counts in.
    pub fn window(&self, metric: QuotaMetric) -> Duration {
        if metric.is_daily() {
            self.day
        } else {
            self.minute
        }
    }

    /// The least time one user's requests costing `units` take under these limits when sent one
    /// at a time: the first window's worth goes at once, each further window's worth one window
    /// later. Network and server time come on top. The daily metric is left out (a run that
    /// passes it does not finish today: see [`fits_today`](Self::fits_today)).
    pub fn floor(&self, units: &QuotaUnits) -> Duration {
        QuotaMetric::ALL
            .into_iter()
            .filter(|m| !m.is_daily())
            .map(|m| {
                let (n, limit) = (units.get(m), self.limit(m));
                if n <= limit {
                    return Duration::ZERO;
                }
                let windows = n.div_ceil(limit) - 1;
                self.minute
                    .saturating_mul(u32::try_from(windows).unwrap_or(u32::MAX))
            })
            .max()
            .unwrap_or_default()
    }

    /// Whether `units` fit in one day's daily limit.
    pub fn fits_today(&self, units: &QuotaUnits) -> bool {
        units.get(QuotaMetric::DailyWrites) <= self.limit(QuotaMetric::DailyWrites)
    }
}

/// A per-user budget over a [`Quota`]: every request attempt spends its units, and waits until
/// they fit, so that no window of the quota's length (a minute; a day for the daily metric) ever
/// holds more than its limit, and fixed windows on the server are never exceeded either. A spend
/// is dated when its request's answer arrives, so that the server, which counts a request when it
/// arrives, never sees more in any window than the budget allowed.
///
/// - A request whose daily units do not fit is not sent: it fails at once with an error of kind
///   [`ErrorKind::Quota`](crate::ErrorKind::Quota) (waiting a day is never what a caller wants).
/// - A 429 that happens anyway (another tool spending the same user's quota) marks its metric
///   spent for a whole window: the user's next requests wait, and other users, who have their own
///   budgets, are not slowed.
///
/// Clones share one budget: give every client acting for the same user a clone, and each user
/// their own `RateLimit`.
#[derive(Clone, Debug)]
pub struct RateLimit {
    quota: Arc<Quota>,
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    spent: Mutex<Spent>,
    /// Woken when a request in flight finishes (its spend gets a date) or is refunded.
    changed: Notify,
}

#[derive(Debug, Default)]
struct Spent {
    next: u64,
    /// Spends of per-minute metrics; `at` is `None` while the request is in flight.
    minute: Vec<Spend>,
    /// Spends of the daily metric.
    day: Vec<Spend>,
}

#[derive(Debug)]
struct Spend {
    id: u64,
    at: Option<Instant>,
    units: QuotaUnits,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::new(Quota::default())
    }
}

impl RateLimit {
    /// A budget over `quota`.
    pub fn new(quota: Quota) -> Self {
        Self {
            quota: Arc::new(quota),
            shared: Arc::default(),
        }
    }

    /// `reads` critical read units and `writes` critical write units per minute, the other
    /// metrics at their defaults.
    pub fn per_minute(reads: u32, writes: u32) -> Self {
        Self::new(
            Quota::default()
                .set(QuotaMetric::CriticalReads, reads.into())
                .set(QuotaMetric::CriticalWrites, writes.into()),
        )
    }

    /// The quota this budget keeps to.
    pub fn quota(&self) -> &Quota {
        &self.quota
    }

    /// The units spent in the current windows (the last minute, the last day), requests in
    /// flight included.
    pub fn spent(&self) -> QuotaUnits {
        let mut s = lock(&self.shared.spent);
        let now = Instant::now();
        self.expire(&mut s, now);
        s.minute
            .iter()
            .chain(&s.day)
            .fold(QuotaUnits::ZERO, |acc, x| acc + x.units)
    }

    /// The daily units left today, as far as this budget knows.
    pub fn daily_left(&self) -> u64 {
        self.quota
            .limit(QuotaMetric::DailyWrites)
            .saturating_sub(self.spent().get(QuotaMetric::DailyWrites))
    }

    /// Wait until `units` fit, spend them, and return the permit that dates the spend when the
    /// request is answered (or refunds it when nothing was sent). An error when the daily units
    /// do not fit today: nothing should be sent then.
    pub async fn acquire(&self, units: QuotaUnits) -> Result<Permit, Error> {
        let (minute, day) = split(units);
        loop {
            let changed = self.shared.changed.notified();
            let wait = {
                let mut s = lock(&self.shared.spent);
                let now = Instant::now();
                self.expire(&mut s, now);
                let used_day: u64 = s
                    .day
                    .iter()
                    .map(|x| x.units.get(QuotaMetric::DailyWrites))
                    .sum();
                let want_day = day.get(QuotaMetric::DailyWrites);
                let limit_day = self.quota.limit(QuotaMetric::DailyWrites);
                if want_day > 0 && used_day.saturating_add(want_day) > limit_day {
                    return Err(Error::quota(
                        QuotaMetric::DailyWrites,
                        format!(
                            "the daily contact-write quota would be exceeded ({used_day} of \
                             {limit_day} units spent in the last day, this request needs \
                             {want_day}): nothing was sent"
                        ),
                    ));
                }
                match self.wait_for(&s, &minute, now) {
                    None => {
                        s.next += 1;
                        let id = s.next;
                        s.minute.push(Spend {
                            id,
                            at: None,
                            units: minute,
                        });
                        if want_day > 0 {
                            s.day.push(Spend {
                                id,
                                at: None,
                                units: day,
                            });
                        }
                        return Ok(Permit {
                            limit: self.clone(),
                            id,
                            done: false,
                        });
                    }
                    Some(w) => w,
                }
            };
            match wait {
                // Whichever comes first: the spend in the way leaves its window, or a request in
                // flight finishes.
                Some(d) => drop(tokio::time::timeout(d, changed).await),
                None => changed.await,
            }
        }
    }

    /// `None` when `units` fit now; else how long until some spend in the way leaves its window
    /// (`Some(None)`: only requests in flight are in the way, so wait for one to finish).
    fn wait_for(&self, s: &Spent, units: &QuotaUnits, now: Instant) -> Option<Option<Duration>> {
        let mut wait: Option<Option<Duration>> = None;
        for m in QuotaMetric::ALL.into_iter().filter(|m| !m.is_daily()) {
            let want = units.get(m);
            if want == 0 {
                continue;
            }
            let used: u64 = s.minute.iter().map(|x| x.units.get(m)).sum();
            // A cost above the whole limit goes alone, into an empty window.
            if used == 0 || used.saturating_add(want) <= self.quota.limit(m) {
                continue;
            }
            let soonest = s
                .minute
                .iter()
                .filter(|x| x.units.get(m) > 0)
                .filter_map(|x| x.at)
                .map(|at| (at + self.quota.minute).saturating_duration_since(now))
                .min();
            wait = Some(match (wait.flatten(), soonest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            });
        }
        wait
    }

    fn expire(&self, s: &mut Spent, now: Instant) {
        let (minute, day) = (self.quota.minute, self.quota.day);
        s.minute.retain(|x| {
            x.at.is_none_or(|at| now.saturating_duration_since(at) < minute)
        });
        s.day.retain(|x| {
            x.at.is_none_or(|at| now.saturating_duration_since(at) < day)
        });
    }

    /// Mark `metric` spent for a whole window from now: the server said it is (a 429 caused by
    /// another client spending the same user's quota).
    pub fn exhausted(&self, metric: QuotaMetric) {
        let mut s = lock(&self.shared.spent);
        s.next += 1;
        let id = s.next;
        let units = QuotaUnits::ZERO.with(metric, self.quota.limit(metric));
        let spend = Spend {
            id,
            at: Some(Instant::now()),
            units,
        };
        if metric.is_daily() {
            s.day.push(spend);
        } else {
            s.minute.push(spend);
        }
        drop(s);
        self.shared.changed.notify_waiters();
    }

    fn finish(&self, id: u64, refund: bool) {
        let mut guard = lock(&self.shared.spent);
        let s = &mut *guard;
        let now = Instant::now();
        for list in [&mut s.minute, &mut s.day] {
            if refund {
                list.retain(|x| x.id != id);
            } else if let Some(x) = list.iter_mut().find(|x| x.id == id) {
                x.at = Some(now);
            }
        }
        drop(guard);
        self.shared.changed.notify_waiters();
    }
}

/// The per-minute units and the daily ones, apart.
fn split(units: QuotaUnits) -> (QuotaUnits, QuotaUnits) {
    let d = QuotaMetric::DailyWrites;
    let mut minute = units;
    minute.0[d.index()] = 0;
    (minute, QuotaUnits::ZERO.with(d, units.get(d)))
}

/// Units spent for a request in flight. [`finish`](Self::finish) dates the spend when the answer
/// came; [`refund`](Self::refund) gives it back when nothing was sent. Dropped without either, the
/// spend is dated then.
#[derive(Debug)]
#[must_use]
pub struct Permit {
    limit: RateLimit,
    id: u64,
    done: bool,
}

impl Permit {
    /// The request was answered (or may have reached the server): date the spend now.
    pub fn finish(mut self) {
        self.done = true;
        self.limit.finish(self.id, false);
    }

    /// Nothing was sent (the connection was refused): the units are not spent.
    pub fn refund(mut self) {
        self.done = true;
        self.limit.finish(self.id, true);
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.done {
            self.limit.finish(self.id, false);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> QuotaUnits {
        QuotaUnits::of_method("people.people.batchUpdateContacts", false)
    }

    #[tokio::test(start_paused = true)]
    async fn no_window_holds_more_than_the_limit() {
        let limit = RateLimit::per_minute(1000, 12);
        let start = Instant::now();
        let mut secs = Vec::new();
        for _ in 0..6 {
            limit.acquire(batch()).await.unwrap().finish();
            secs.push(start.elapsed().as_secs());
        }
        // Two batches per minute.
        assert_eq!(secs, [0, 0, 60, 60, 120, 120]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_spend_is_dated_when_its_answer_arrives() {
        let limit = RateLimit::per_minute(1000, 6);
        let start = Instant::now();
        let p = limit.acquire(batch()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await;
        p.finish();
        limit.acquire(batch()).await.unwrap().finish();
        assert_eq!(start.elapsed().as_secs(), 70);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refund_gives_the_units_back() {
        let limit = RateLimit::per_minute(1000, 6);
        let start = Instant::now();
        limit.acquire(batch()).await.unwrap().refund();
        limit.acquire(batch()).await.unwrap().finish();
        assert_eq!(start.elapsed().as_secs(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cost_above_the_limit_waits_for_an_empty_window() {
        let limit = RateLimit::per_minute(60, 4);
        let start = Instant::now();
        limit.acquire(batch()).await.unwrap().finish();
        limit.acquire(batch()).await.unwrap().finish();
        assert_eq!(start.elapsed().as_secs(), 60);
    }

    #[tokio::test(start_paused = true)]
    async fn metrics_have_their_own_buckets() {
        let limit = RateLimit::new(Quota::default().set(QuotaMetric::DeletesAndGroupWrites, 10));
        let start = Instant::now();
        let delete = QuotaUnits::of_method("people.people.batchDeleteContacts", false);
        limit.acquire(delete).await.unwrap().finish();
        // Reads are not held up by the spent deletes...
        limit
            .acquire(QuotaUnits::of_method("people.people.get", false))
            .await
            .unwrap()
            .finish();
        assert_eq!(start.elapsed().as_secs(), 0);
        // ...another delete is.
        limit.acquire(delete).await.unwrap().finish();
        assert_eq!(start.elapsed().as_secs(), 60);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_holds_its_metric_for_a_window() {
        let limit = RateLimit::default();
        let start = Instant::now();
        limit.exhausted(QuotaMetric::CriticalWrites);
        limit
            .acquire(QuotaUnits::of_method("people.people.get", false))
            .await
            .unwrap()
            .finish();
        assert_eq!(start.elapsed().as_secs(), 0);
        limit.acquire(batch()).await.unwrap().finish();
        assert_eq!(start.elapsed().as_secs(), 60);
    }

    #[tokio::test(start_paused = true)]
    async fn the_daily_cap_refuses_at_once() {
        let limit = RateLimit::new(Quota::default().set(QuotaMetric::DailyWrites, 400));
        limit.acquire(batch()).await.unwrap().finish();
        limit.acquire(batch()).await.unwrap().finish();
        let start = Instant::now();
        let e = limit.acquire(batch()).await.unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Quota);
        assert_eq!(e.exceeded_quota(), Some(QuotaMetric::DailyWrites));
        assert!(!e.is_retryable() && !e.may_have_reached_server());
        assert_eq!(start.elapsed().as_secs(), 0);
        assert_eq!(limit.daily_left(), 0);
    }

    #[test]
    fn the_floor_is_the_windows_past_the_first() {
        let q = Quota::default();
        assert_eq!(q.floor(&(batch() * 5)), Duration::ZERO);
        assert_eq!(q.floor(&(batch() * 6)), Duration::from_secs(60));
        assert_eq!(q.floor(&(batch() * 50)), Duration::from_secs(9 * 60));
        assert!(q.fits_today(&(batch() * 500)) && !q.fits_today(&(batch() * 501)));
    }

    #[test]
    fn metrics_are_named_by_google_error_info() {
        assert_eq!(
            QuotaMetric::from_error_info("people.googleapis.com/critical_read_requests", ""),
            Some(QuotaMetric::CriticalReads)
        );
        assert_eq!(
            QuotaMetric::from_error_info("", "CriticalWritesPerMinutePerProjectPerUser"),
            Some(QuotaMetric::CriticalWrites)
        );
        assert_eq!(
            QuotaMetric::from_error_info("", "DailyContactWritesPerProjectPerUser"),
            Some(QuotaMetric::DailyWrites)
        );
        assert_eq!(QuotaMetric::from_error_info("x", "y"), None);
    }
}
