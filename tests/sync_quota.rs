//! Quotas, planned and paced: a sync against the emulator with Google's per-user quotas on (a
//! minute scaled down to a fraction of a second) meets no 429, the plan predicts the requests
//! and units the server counts, a 429 caused by another client slows only its user, and a run
//! past the daily write quota is deferred before anything is written.

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use google_people::quota::{Quota, QuotaMetric, RateLimit};
use google_people::runtime::RetryPolicy;
use google_people::sync::*;
use google_people::*;
use google_people_emulator::{Config, Emulator, Quota as ServerQuota};

const JOB: &str = "directory";
/// How long a quota "minute" lasts in these tests, on both sides.
const MINUTE: Duration = Duration::from_millis(1_500);

fn strict() -> Config {
    let mut config = Config::default();
    config.quota = Some(ServerQuota::google().time_scale(MINUTE));
    config
}

/// A client for `user` paced by `limit` (one per user, kept across runs: a new budget does not
/// know what the server's current window already holds).
fn paced(emu: &Emulator, user: &str, retry: RetryPolicy, limit: &RateLimit) -> Client {
    Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(user))
        .retry_policy(retry)
        .rate_limit(limit.clone())
        .build()
        .unwrap()
}

fn budget() -> RateLimit {
    RateLimit::new(Quota::default().time_scale(MINUTE))
}

fn records(n: usize, v: u32) -> Vec<Record> {
    (0..n)
        .map(|i| {
            Record::new(
                format!("emp-{i}"),
                Person::new()
                    .set_names([Name::new()
                        .set_given_name(format!("Given{i}"))
                        .set_family_name(format!("Family{i}-v{v}"))])
                    .set_email_addresses([
                        EmailAddress::new().set_value(format!("emp{i}@corp.example"))
                    ]),
            )
        })
        .collect()
}

fn job(client: &Client, user: &str, store: &MemoryStore) -> SyncJob {
    SyncJob::new(
        client,
        JOB,
        [PersonField::Names, PersonField::EmailAddresses],
    )
    .unwrap()
    .store(store.clone())
    .user(user)
    .group("Directory")
    .keep_all_outcomes(false)
}

/// Requests the emulator received from `user`, all methods.
fn served(emu: &Emulator, user: &str) -> u64 {
    [
        "people.get",
        "people.connections.list",
        "people.getBatchGet",
        "people.batchCreateContacts",
        "people.batchUpdateContacts",
        "people.batchDeleteContacts",
        "contactGroups.list",
        "contactGroups.create",
        "contactGroups.members.modify",
    ]
    .iter()
    .map(|m| emu.request_count(m, Some(user)))
    .sum()
}

#[tokio::test]
async fn a_paced_domain_sync_meets_no_429_and_does_what_its_plan_said() {
    let emu = Emulator::start_with(strict()).await.unwrap();
    let users: Vec<String> = (0..4).map(|i| format!("u{i}@example.com")).collect();
    let stores: Vec<MemoryStore> = users.iter().map(|_| MemoryStore::new()).collect();
    let limits: Vec<RateLimit> = users.iter().map(|_| budget()).collect();
    // 1,300 records a user: 7 batch creates, 42 critical-write units where a minute allows 30.
    for (round, (n, v)) in [(1_300, 1), (1_300, 2)].into_iter().enumerate() {
        let mut plans = Vec::new();
        let mut work = Vec::new();
        for ((user, store), limit) in users.iter().zip(&stores).zip(&limits) {
            let client = paced(&emu, user, RetryPolicy::never(), limit);
            let job = job(&client, user, store);
            let before = served(&emu, user);
            let plan = job.plan(records(n, v)).await.unwrap();
            let quota = plan.quota();
            assert_eq!(
                served(&emu, user) - before,
                quota.planning_requests,
                "{user}: planning's requests"
            );
            plans.push(quota);
            work.push((user.clone(), job, plan, quota, before));
        }
        let floor = domain_floor(&plans, &Quota::default().time_scale(MINUTE), users.len());
        let start = Instant::now();
        let reports = futures_util::stream::iter(work)
            .map(|(user, job, plan, quota, before)| async move {
                let report = job.apply(plan).await.unwrap();
                (user, report, quota, before)
            })
            .buffer_unordered(users.len())
            .collect::<Vec<_>>()
            .await;
        let elapsed = start.elapsed();
        for (user, report, quota, before) in reports {
            let s = &report.summary;
            assert_eq!(
                (s.failed, s.unknown),
                (0, 0),
                "{user}: {s:?} {:?}",
                report.outcomes.first()
            );
            if round == 0 {
                assert_eq!(s.created, n as u64, "{user}");
            } else {
                assert_eq!(s.updated, n as u64, "{user}");
            }
            // The plan said what the server counted.
            assert_eq!(
                served(&emu, &user) - before,
                quota.requests(),
                "{user}: the plan's requests, round {round}"
            );
            assert_eq!(
                quota.units.get(QuotaMetric::CriticalWrites),
                6 * n.div_ceil(200) as u64,
                "{user}"
            );
        }
        assert_eq!(
            emu.throttled(None),
            0,
            "round {round}: no request met a 429"
        );
        // Pacing waited: 42 write units at 30 a minute need a second window.
        assert!(floor >= MINUTE, "{floor:?}");
        assert!(elapsed >= floor, "{elapsed:?} < {floor:?}");
    }
}

#[tokio::test]
async fn a_429_caused_elsewhere_slows_that_user_only() {
    let emu = Emulator::start_with(strict()).await.unwrap();
    let (busy, calm) = ("busy@example.com", "calm@example.com");
    // Another tool spends the busy user's critical reads, unpaced, until the server says 429.
    let other = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(busy))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    loop {
        let r = other
            .people()
            .get("people/me")
            .person_fields([PersonField::Names])
            .send()
            .await;
        if let Err(e) = r {
            assert_eq!(e.exceeded_quota(), Some(QuotaMetric::CriticalReads), "{e}");
            break;
        }
    }
    let throttled_before = emu.throttled(Some(busy));
    let retry = RetryPolicy::default()
        .with_delays(
            Duration::from_millis(10),
            Duration::from_millis(50),
            Duration::from_millis(10),
        )
        .with_budget(10, Duration::from_secs(30));
    let run = |user: &'static str| {
        let client = paced(&emu, user, retry.clone(), &budget());
        async move {
            let start = Instant::now();
            let report = job(&client, user, &MemoryStore::new())
                .run(records(200, 1))
                .await
                .unwrap();
            (report, start.elapsed())
        }
    };
    let ((busy_report, busy_time), (calm_report, calm_time)) = tokio::join!(run(busy), run(calm));
    assert_eq!(busy_report.summary.created, 200);
    assert_eq!(calm_report.summary.created, 200);
    assert_eq!(emu.throttled(Some(calm)), 0);
    // The busy user met the other tool's 429, then waited out the window, once.
    let met = emu.throttled(Some(busy)) - throttled_before;
    assert!((1..=2).contains(&met), "{met} 429s");
    assert!(busy_time > calm_time, "{busy_time:?} <= {calm_time:?}");
}

#[tokio::test]
async fn a_run_past_the_daily_write_quota_is_deferred_before_writing() {
    let emu = Emulator::start().await.unwrap();
    let user = "daily@example.com";
    let small = RateLimit::new(Quota::default().set(QuotaMetric::DailyWrites, 400));
    let client = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(user))
        .rate_limit(small.clone())
        .build()
        .unwrap();
    let store = MemoryStore::new();
    // 450 creates: 3 batches, 600 daily units, where 400 are left.
    let plan = job(&client, user, &store)
        .plan(records(450, 1))
        .await
        .unwrap();
    assert_eq!(plan.quota().units.get(QuotaMetric::DailyWrites), 600);
    let e = job(&client, user, &store).apply(plan).await.unwrap_err();
    assert!(
        matches!(
            e,
            SyncError::DailyQuota {
                needed: 600,
                left: 400
            }
        ),
        "{e}"
    );
    assert!(e.to_string().starts_with("deferred:"), "{e}");
    assert!(emu.contacts(user).is_empty(), "nothing was written");
    assert_eq!(emu.request_count("people.batchCreateContacts", None), 0);
    // 350 fit: 2 batches.
    let report = job(&client, user, &store)
        .run(records(350, 1))
        .await
        .unwrap();
    assert_eq!(report.summary.created, 350);
    assert_eq!(small.daily_left(), 0);
}
