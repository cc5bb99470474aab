//! Per-user quotas, metric by metric, as the People API counts them.
//!
//! Google publishes no numbers for the People API (a project's are in its Cloud Console); the
//! costs per method come from Google's guide as quoted by third parties, and the default limits
//! (`Quota::google`) are the lowest third parties report for new projects, the same as the
//! client library's `google_people::quota::Quota::default()`: reports disagree (90 critical reads
//! a minute in one), and a strict emulator takes the stricter figure. Every number is a setting,
//! and a "minute" and a "day" can be shortened ([`Quota::time_scale`]) so that tests meet them in
//! seconds.
//!
//! | metric | counted | default limit |
//! |---|---|---|
//! | critical reads (Contact and Profile Reads) | every read, and every contact create or update (a batch: 6) | 60 a minute |
//! | critical writes (Contact Creates and Updates) | a create or update (a batch: 6) | 30 a minute |
//! | contact group reads | `contactGroups` get, batchGet, list | 90 a minute |
//! | writes (Contact Deletes and Contact Group Writes) | a delete (a batch: 10), a group write | 30 a minute |
//! | photo writes | `updateContactPhoto`, `deleteContactPhoto` (and 1 critical read) | 50 a minute |
//! | daily contact writes | a create or update (a batch: 200, whatever its size) | 100,000 a day |
//! | full-sync first pages | the first page of a `connections.list` or `otherContacts.list` without a sync token that asks for one ("this quota is fixed and can not be increased") | 30 a minute (assumed) |

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::errors::ApiError;
use crate::people::Op;

/// Per-user quotas in fixed windows (a minute and a day, as on the real server, unless
/// [`time_scale`](Quota::time_scale) shortens them).
#[derive(Debug, Clone, PartialEq)]
pub struct Quota {
    /// Critical read units per user per window.
    pub reads_per_minute: u32,
    /// Critical write units per user per window.
    pub writes_per_minute: u32,
    /// Contact group reads per user per window.
    pub group_reads_per_minute: u32,
    /// Contact deletes and contact group writes per user per window.
    pub deletes_and_group_writes_per_minute: u32,
    /// Photo writes per user per window.
    pub photo_writes_per_minute: u32,
    /// Contact writes per user per day.
    pub daily_writes: u32,
    /// First pages of full syncs per user per window.
    pub full_sync_first_pages_per_minute: u32,
    /// Send `Retry-After` and a `RetryInfo` detail with the 429 (the real server's habit is
    /// unknown: none was ever captured).
    pub retry_after: bool,
    /// The window of the per-minute metrics (one minute on the real server).
    pub window: Duration,
    /// The window of the daily metric (one day on the real server).
    pub day: Duration,
}

impl Quota {
    /// Only critical `reads` and `writes` units per user per minute, without `Retry-After`; the
    /// other metrics unlimited.
    pub fn per_minute(reads: u32, writes: u32) -> Self {
        Self {
            reads_per_minute: reads,
            writes_per_minute: writes,
            group_reads_per_minute: u32::MAX,
            deletes_and_group_writes_per_minute: u32::MAX,
            photo_writes_per_minute: u32::MAX,
            daily_writes: u32::MAX,
            full_sync_first_pages_per_minute: u32::MAX,
            retry_after: false,
            window: Duration::from_secs(60),
            day: Duration::from_secs(24 * 3600),
        }
    }

    /// Every metric at the limits third parties report for new projects (see the module docs).
    pub fn google() -> Self {
        Self {
            reads_per_minute: 60,
            writes_per_minute: 30,
            group_reads_per_minute: 90,
            deletes_and_group_writes_per_minute: 30,
            photo_writes_per_minute: 50,
            daily_writes: 100_000,
            full_sync_first_pages_per_minute: 30,
            retry_after: false,
            window: Duration::from_secs(60),
            day: Duration::from_secs(24 * 3600),
        }
    }

    /// Let a minute last `minute` (and a day 1,440 of them): the same limits, met sooner.
    #[must_use]
    pub fn time_scale(mut self, minute: Duration) -> Self {
        self.window = minute;
        self.day = minute * 1440;
        self
    }
}

/// The metrics, in the order of [`Usage::spent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    Reads,
    Writes,
    GroupReads,
    DeletesAndGroupWrites,
    PhotoWrites,
    FullSyncFirstPages,
    DailyWrites,
}

const METRICS: usize = 7;

impl Metric {
    fn limit(self, q: &Quota) -> u32 {
        match self {
            Metric::Reads => q.reads_per_minute,
            Metric::Writes => q.writes_per_minute,
            Metric::GroupReads => q.group_reads_per_minute,
            Metric::DeletesAndGroupWrites => q.deletes_and_group_writes_per_minute,
            Metric::PhotoWrites => q.photo_writes_per_minute,
            Metric::FullSyncFirstPages => q.full_sync_first_pages_per_minute,
            Metric::DailyWrites => q.daily_writes,
        }
    }

    /// (quota metric, limit name, the message's words, per what).
    fn names(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Metric::Reads => (
                "critical_read_requests",
                "CriticalReadsPerMinutePerProjectPerUser",
                "Critical read requests (Contact and Profile Reads)",
                "per minute per user",
            ),
            Metric::Writes => (
                "critical_write_requests",
                "CriticalWritesPerMinutePerProjectPerUser",
                "Critical write requests",
                "per minute per user",
            ),
            Metric::GroupReads => (
                "contact_group_read_requests",
                "ContactGroupReadsPerMinutePerProjectPerUser",
                "Contact Group Read requests",
                "per minute per user",
            ),
            Metric::DeletesAndGroupWrites => (
                "write_requests",
                "WritesPerMinutePerProjectPerUser",
                "Write requests (Contact Deletes and Contact Group Writes)",
                "per minute per user",
            ),
            Metric::PhotoWrites => (
                "photo_write_requests",
                "PhotoWritesPerMinutePerProjectPerUser",
                "Photo write requests",
                "per minute per user",
            ),
            Metric::FullSyncFirstPages => (
                "full_sync_requests",
                "FullSyncRequestsPerMinutePerProjectPerUser",
                "Full sync requests",
                "per minute per user",
            ),
            Metric::DailyWrites => (
                "daily_contact_writes",
                "DailyContactWritesPerProjectPerUser",
                "Daily Contact Writes (Total)",
                "per day per user",
            ),
        }
    }

    fn daily(self) -> bool {
        self == Metric::DailyWrites
    }
}

/// What one request costs, metric by metric.
fn cost(op: &Op, first_page_of_full_sync: bool) -> Vec<(Metric, u32)> {
    use Metric::*;
    match op {
        Op::BatchCreate | Op::BatchUpdate => vec![(Reads, 6), (Writes, 6), (DailyWrites, 200)],
        Op::Create | Op::Update(_) | Op::OtherCopy(_) => {
            vec![(Reads, 1), (Writes, 1), (DailyWrites, 1)]
        }
        Op::Delete(_) => vec![(DeletesAndGroupWrites, 1)],
        Op::BatchDelete => vec![(DeletesAndGroupWrites, 10)],
        Op::GroupsList | Op::GroupsBatchGet | Op::GroupsGet(_) => vec![(GroupReads, 1)],
        Op::GroupsCreate | Op::GroupsUpdate(_) | Op::GroupsDelete(_) | Op::GroupsModify(_) => {
            vec![(DeletesAndGroupWrites, 1)]
        }
        Op::UpdatePhoto(_) | Op::DeletePhoto(_) => vec![(Reads, 1), (PhotoWrites, 1)],
        Op::Connections(_) | Op::OtherList if first_page_of_full_sync => {
            vec![(Reads, 1), (FullSyncFirstPages, 1)]
        }
        _ => vec![(Reads, 1)],
    }
}

/// One user's spending: the start of its minute and day windows and the units spent in each.
pub(crate) struct Usage {
    minute: Instant,
    day: Instant,
    spent: [u32; METRICS],
}

/// Charge a request to `user`'s windows: the 429 and the seconds to wait when a metric is over,
/// and nothing is spent then.
pub(crate) fn charge(
    windows: &mut HashMap<String, Usage>,
    q: &Quota,
    user: &str,
    op: &Op,
    first_page_of_full_sync: bool,
) -> Option<(ApiError, u64)> {
    let now = Instant::now();
    let u = windows.entry(user.to_string()).or_insert(Usage {
        minute: now,
        day: now,
        spent: [0; METRICS],
    });
    if now.duration_since(u.minute) >= q.window {
        u.minute = now;
        for (i, s) in u.spent.iter_mut().enumerate() {
            if i != Metric::DailyWrites as usize {
                *s = 0;
            }
        }
    }
    if now.duration_since(u.day) >= q.day {
        u.day = now;
        u.spent[Metric::DailyWrites as usize] = 0;
    }
    let costs = cost(op, first_page_of_full_sync);
    for &(metric, units) in &costs {
        let spent = u.spent[metric as usize];
        if spent.saturating_add(units) > metric.limit(q) {
            let (start, window) = if metric.daily() {
                (u.day, q.day)
            } else {
                (u.minute, q.window)
            };
            let wait = window
                .saturating_sub(now.duration_since(start))
                .as_secs()
                .max(1);
            return Some((exceeded(metric, q.retry_after.then_some(wait)), wait));
        }
    }
    for (metric, units) in costs {
        u.spent[metric as usize] += units;
    }
    None
}

/// The 429 a `Status(429)` fault answers with: the critical-writes quota, as captured.
pub(crate) fn critical_writes_exceeded() -> ApiError {
    exceeded(Metric::Writes, None)
}

/// Google's 429 for `metric`, with its quota `ErrorInfo` (and a `RetryInfo` when asked).
fn exceeded(metric: Metric, retry_delay_s: Option<u64>) -> ApiError {
    let (name, limit, words, per) = metric.names();
    let mut details = vec![serde_json::json!({
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "RATE_LIMIT_EXCEEDED",
        "domain": "googleapis.com",
        "metadata": {
            "consumer": "projects/000000000000",
            "quota_limit": limit,
            "service": "people.googleapis.com",
            "quota_metric": format!("people.googleapis.com/{name}")
        }
    })];
    if let Some(s) = retry_delay_s {
        details.push(serde_json::json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{s}s")}));
    }
    ApiError::with_details(
        429,
        "RESOURCE_EXHAUSTED",
        format!(
            "Quota exceeded for quota metric '{words}' and limit '{words} {per}' of service 'people.googleapis.com' for consumer 'project_number:000000000000'."
        ),
        details,
    )
}
