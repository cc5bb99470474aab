//! The batch helper's fault matrix: 10,000 contacts per case against the emulator over HTTP. In
//! every case each contact gets exactly one outcome, and the emulator's final state is checked
//! contact by contact against it: nothing lost, nothing applied twice, nothing reported failed
//! that was applied, nothing reported updated that was not, and an unknown outcome applied at
//! most once. Faults hit the writes and, where a case says so, the read-backs that settle them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use google_people::batch::{BatchUpdate, ContactError, Outcome, UserJob, run_users};
use google_people::quota::{Quota, RateLimit};
use google_people::runtime::RetryPolicy;
use google_people::*;
use google_people_emulator::{Config, Emulator, Fault, FaultRule};
use shape::{SHAPES, Shape, run_all_as};

mod shape;

const N: usize = 10_000;
const USER: &str = "matrix@example.com";
const BATCH: &str = "people.batchUpdateContacts";

fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_delays(
            Duration::from_millis(2),
            Duration::from_millis(20),
            Duration::from_millis(5),
        )
        .with_budget(12, Duration::from_secs(60))
        .with_jitter(true)
}

fn client_for(emu: &Emulator, user: &str, timeout: Option<Duration>) -> Client {
    // Paced to the emulator's default quotas (Google's, a minute lasting a second).
    let mut b = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(user))
        .retry_policy(policy())
        .rate_limit(RateLimit::new(
            Quota::default().time_scale(google_people_emulator::DEFAULT_QUOTA_MINUTE),
        ));
    if let Some(t) = timeout {
        b = b.timeout(t);
    }
    b.build().unwrap()
}

/// The contacts of `user` before the run: resource name, etag and version.
struct Before {
    names: Vec<String>,
    etags: HashMap<String, String>,
    versions: HashMap<String, u64>,
}

fn snapshot(emu: &Emulator, user: &str, names: Vec<String>) -> Before {
    let mut etags = HashMap::new();
    let mut versions = HashMap::new();
    for rn in &names {
        let c = emu.contact(user, rn).unwrap();
        etags.insert(rn.clone(), c["etag"].as_str().unwrap().to_string());
        versions.insert(rn.clone(), emu.contact_version(user, rn).unwrap());
    }
    Before {
        names,
        etags,
        versions,
    }
}

fn family(tag: &str, rn: &str) -> String {
    format!("{tag}-{rn}")
}

fn update(before: &Before, rn: &str, tag: &str) -> (String, Person) {
    let person = Person::new()
        .set_etag(before.etags[rn].clone())
        .set_names([Name::new()
            .set_given_name("Matrix")
            .set_family_name(family(tag, rn))]);
    (rn.to_string(), person)
}

/// External edits made during a run, per contact (they touch `nicknames` only).
type Edits = Arc<Mutex<HashMap<String, u64>>>;

/// Check every outcome against the emulator. `extra` are inputs that are not contacts of the user
/// (invalid names), which must fail as invalid input.
fn verify(
    emu: &Emulator,
    user: &str,
    before: &Before,
    tag: &str,
    outcomes: &[Outcome],
    edits: &HashMap<String, u64>,
    extra: usize,
) -> (usize, usize, usize) {
    assert_eq!(
        outcomes.len(),
        before.names.len() + extra,
        "one outcome per input"
    );
    let mut by_name: HashMap<&str, &Outcome> = HashMap::new();
    let mut invalid = 0;
    for o in outcomes {
        if !before.versions.contains_key(o.requested()) {
            assert!(
                matches!(o.error(), Some(ContactError::InvalidInput(_))),
                "{o:?}"
            );
            invalid += 1;
            continue;
        }
        assert!(
            by_name.insert(o.requested(), o).is_none(),
            "two outcomes for {}",
            o.requested()
        );
    }
    assert_eq!(invalid, extra);
    let (mut updated, mut failed, mut unknown) = (0, 0, 0);
    for rn in &before.names {
        let o = by_name
            .get(rn.as_str())
            .unwrap_or_else(|| panic!("{rn} lost"));
        let writes = emu.contact_version(user, rn).unwrap() - before.versions[rn];
        let external = edits.get(rn).copied().unwrap_or(0);
        let ours = emu.contact(user, rn).unwrap()["names"][0]["familyName"] == family(tag, rn);
        match o {
            Outcome::Updated { .. } => {
                updated += 1;
                assert_eq!(writes, external + 1, "{rn}: updated once, {o:?}");
                if external == 0 {
                    assert!(ours, "{rn}: reported updated but does not hold the values");
                }
            }
            Outcome::Failed { .. } => {
                failed += 1;
                assert_eq!(writes, external, "{rn}: reported failed but applied: {o:?}");
                assert!(!ours, "{rn}: reported failed but holds the values: {o:?}");
            }
            Outcome::Unknown { .. } => {
                unknown += 1;
                assert!(
                    writes == external || writes == external + 1,
                    "{rn}: unknown, but applied {writes} times"
                );
            }
            o => panic!("unexpected {o:?}"),
        }
    }
    (updated, failed, unknown)
}

/// Seed, run with `faults`, verify; returns (updated, failed, batch requests, summary).
async fn case(
    faults: Vec<FaultRule>,
    timeout: Option<Duration>,
) -> (usize, usize, u64, batch::Summary) {
    case_as(faults, timeout, Shape::List).await
}

async fn case_as(
    faults: Vec<FaultRule>,
    timeout: Option<Duration>,
    shape: Shape,
) -> (usize, usize, u64, batch::Summary) {
    let emu = Emulator::start().await.unwrap();
    let before = snapshot(&emu, USER, emu.seed_contacts(USER, N));
    for f in faults {
        emu.add_fault(f);
    }
    let client = client_for(&emu, USER, timeout);
    let input: Vec<_> = before
        .names
        .iter()
        .map(|rn| update(&before, rn, "M"))
        .collect();
    let job = BatchUpdate::new(&client, [PersonField::Names]).unwrap();
    let (outcomes, summary) = run_all_as(&job, shape, input).await;
    emu.clear_faults();
    let (updated, failed, unknown) =
        verify(&emu, USER, &before, "M", &outcomes, &HashMap::new(), 0);
    assert_eq!(
        (summary.succeeded, summary.failed, summary.unknown),
        (updated as u64, failed as u64, unknown as u64)
    );
    assert_eq!(unknown, 0, "every case here can read the truth back");
    (
        updated,
        failed,
        emu.request_count(BATCH, Some(USER)),
        summary,
    )
}

#[tokio::test]
async fn no_faults_exactly_one_request_per_200() {
    let (updated, failed, batches, summary) = case(vec![], None).await;
    assert_eq!((updated, failed), (N, 0));
    assert_eq!(batches, N.div_ceil(200) as u64);
    assert_eq!((summary.requests, summary.retries), (50, 0));
}

#[tokio::test]
async fn a_429_storm() {
    let (updated, failed, _, summary) = case(
        vec![
            FaultRule::new(Fault::Status(429))
                .method(BATCH)
                .random(500, 7),
        ],
        None,
    )
    .await;
    assert!(summary.retries > 20, "{summary:?}");
    assert_eq!((updated, failed), (N, 0), "12 attempts outlast a 50% storm");
}

#[tokio::test]
async fn random_503s() {
    let (updated, failed, _, summary) = case(
        vec![
            FaultRule::new(Fault::Status(503))
                .method(BATCH)
                .random(300, 11),
        ],
        None,
    )
    .await;
    assert!(summary.retries > 5);
    assert_eq!((updated, failed), (N, 0));
}

#[tokio::test]
async fn connection_resets_before_the_write() {
    let (updated, failed, _, summary) = case(
        vec![
            FaultRule::new(Fault::ResetBeforeWrite)
                .method(BATCH)
                .random(250, 3),
        ],
        None,
    )
    .await;
    assert!(summary.retries > 5);
    assert_eq!((updated, failed), (N, 0));
}

#[tokio::test]
async fn responses_lost_after_commit() {
    let (updated, failed, _, summary) = case(
        vec![
            FaultRule::new(Fault::LoseResponseAfterCommit)
                .method(BATCH)
                .random(250, 5),
        ],
        None,
    )
    .await;
    assert!(summary.retries > 5);
    assert_eq!(
        (updated, failed),
        (N, 0),
        "reconciled, none reported failed"
    );
}

#[tokio::test]
async fn truncated_and_html_bodies() {
    let (updated, failed, _, summary) = case(
        vec![
            FaultRule::new(Fault::TruncatedJson)
                .method(BATCH)
                .random(150, 13),
            FaultRule::new(Fault::Html502).method(BATCH).random(150, 17),
        ],
        None,
    )
    .await;
    assert!(summary.retries > 0, "the 502s are retried");
    assert!(
        summary.requests > 55,
        "truncated answers are reconciled by re-reads"
    );
    assert_eq!((updated, failed), (N, 0));
}

/// Every fault kind at 10% on every request, writes and the read-backs that settle them alike.
fn everywhere(seed: u64) -> Vec<FaultRule> {
    let kinds = [
        Fault::Status(429),
        Fault::Status(503),
        Fault::ResetBeforeWrite,
        Fault::LoseResponseAfterCommit,
        Fault::TruncatedJson,
        Fault::Html502,
        Fault::Html502AfterCommit,
        Fault::Latency(Duration::from_millis(600)),
    ];
    kinds
        .into_iter()
        .enumerate()
        .map(|(i, f)| FaultRule::new(f).random(100, seed + i as u64))
        .collect()
}

#[tokio::test]
async fn every_fault_at_ten_percent_on_writes_and_read_backs() {
    let (updated, failed, _, summary) =
        case(everywhere(101), Some(Duration::from_millis(300))).await;
    assert!(summary.retries > 20, "{summary:?}");
    assert!(
        summary.requests > 60,
        "uncertain writes were read back: {summary:?}"
    );
    // Nothing here is a real rejection: every contact ends updated, with the truth read back.
    assert_eq!((updated, failed), (N, 0), "{summary:?}");
}

#[tokio::test]
async fn every_fault_at_ten_percent_from_a_lazy_iterator() {
    let (updated, failed, _, summary) = case_as(
        everywhere(202),
        Some(Duration::from_millis(300)),
        Shape::Lazy,
    )
    .await;
    assert!(summary.requests > 60, "{summary:?}");
    assert_eq!((updated, failed), (N, 0), "{summary:?}");
}

#[tokio::test]
async fn read_backs_that_fail_at_first_are_settled_at_the_end() {
    // Every write's answer is lost (after commit) and the first 5 read-backs fail: each chunk's
    // own read-back gives up, and the job's final re-read settles them all.
    let (updated, failed, _, summary) = case(
        vec![
            FaultRule::new(Fault::LoseResponseAfterCommit)
                .method(BATCH)
                .random(300, 41),
            FaultRule::new(Fault::Status(503))
                .method("people.getBatchGet")
                .first(30),
        ],
        None,
    )
    .await;
    assert_eq!((updated, failed), (N, 0), "{summary:?}");
}

#[tokio::test]
async fn slow_responses_past_the_timeout() {
    let (updated, failed, _, summary) = case(
        vec![
            FaultRule::new(Fault::Latency(Duration::from_millis(600)))
                .method(BATCH)
                .random(200, 19),
        ],
        Some(Duration::from_millis(300)),
    )
    .await;
    assert!(summary.retries > 3);
    assert_eq!((updated, failed), (N, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_external_edits_cause_real_conflicts() {
    let emu = Arc::new(Emulator::start().await.unwrap());
    let before = snapshot(&emu, USER, emu.seed_contacts(USER, N));
    let edits: Edits = Arc::default();
    // Edited after the etags were read: these must all be conflicts.
    for rn in before.names.iter().step_by(97) {
        emu.edit_contact(
            USER,
            rn,
            "nicknames",
            serde_json::json!([{"value": "early"}]),
        );
        *edits.lock().unwrap().entry(rn.clone()).or_default() += 1;
    }
    let early: Vec<String> = edits.lock().unwrap().keys().cloned().collect();
    // And edits racing the run.
    let editor = {
        let (emu, names, edits) = (emu.clone(), before.names.clone(), edits.clone());
        tokio::spawn(async move {
            for i in 0..400usize {
                let rn = &names[(i * 7_919) % names.len()];
                emu.edit_contact(USER, rn, "nicknames", serde_json::json!([{"value": i}]));
                *edits.lock().unwrap().entry(rn.clone()).or_default() += 1;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method(BATCH)
            .random(100, 23),
    );
    let client = client_for(&emu, USER, None);
    let input: Vec<_> = before
        .names
        .iter()
        .map(|rn| update(&before, rn, "C"))
        .collect();
    let outcomes: Vec<Outcome> = BatchUpdate::new(&client, [PersonField::Names])
        .unwrap()
        .run(input)
        .collect()
        .await;
    editor.await.unwrap();
    emu.clear_faults();
    let edits = edits.lock().unwrap().clone();
    let (updated, failed, unknown) = verify(&emu, USER, &before, "C", &outcomes, &edits, 0);
    assert_eq!(unknown, 0);
    assert!(failed >= early.len(), "{failed}");
    assert_eq!(updated + failed, N);
    let by_name: HashMap<&str, &Outcome> = outcomes.iter().map(|o| (o.requested(), o)).collect();
    for rn in &early {
        assert!(
            by_name[rn.as_str()]
                .error()
                .is_some_and(ContactError::is_conflict),
            "{rn}: {:?}",
            by_name[rn.as_str()]
        );
    }
}

#[tokio::test]
async fn a_batch_with_some_invalid_contacts() {
    for shape in SHAPES {
        some_invalid_contacts(shape).await;
    }
}

async fn some_invalid_contacts(shape: Shape) {
    let emu = Emulator::start().await.unwrap();
    let before = snapshot(&emu, USER, emu.seed_contacts(USER, N));
    let client = client_for(&emu, USER, None);
    let mut input = Vec::with_capacity(N + 60);
    let mut server_rejects = Vec::new();
    for (i, rn) in before.names.iter().enumerate() {
        let (rn, mut p) = update(&before, rn, "I");
        match i % 250 {
            // A stale etag: the server rejects that contact alone.
            10 => {
                p.etag = Some("%stale".into());
                server_rejects.push(rn.clone());
            }
            // Two names on a contact source: INVALID_ARGUMENT for that contact.
            20 => {
                p.names = Some(vec![
                    Name::new().set_given_name("One"),
                    Name::new().set_given_name("Two"),
                ]);
                server_rejects.push(rn.clone());
            }
            // Not a contact resource name; no etag: caught before sending.
            30 => input.push(("people/me".to_string(), p.clone())),
            40 => input.push((format!("{rn}x"), p.clone())),
            _ => {}
        }
        input.push((rn, p));
    }
    let extra = input.len() - N;
    let job = BatchUpdate::new(&client, [PersonField::Names]).unwrap();
    let (outcomes, summary) = run_all_as(&job, shape, input).await;
    let (updated, failed, unknown) =
        verify(&emu, USER, &before, "I", &outcomes, &HashMap::new(), extra);
    assert_eq!(unknown, 0);
    assert_eq!(failed, server_rejects.len());
    assert_eq!(updated, N - server_rejects.len());
    assert_eq!(summary.failed as usize, failed + extra);
    for o in &outcomes {
        if server_rejects.iter().any(|r| r == o.requested()) {
            assert!(
                matches!(o.error(), Some(ContactError::Rejected { code: 9 | 3, .. })),
                "{o:?}"
            );
        }
    }
    // A chunk with rejected contacts is sent again without them (once more per kind of error
    // the server reports first).
    assert!(
        (90..=130).contains(&summary.requests),
        "{shape:?}: {summary:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_users_in_parallel() {
    // Two requests of one user in flight at once would be answered 409.
    let mut config = Config::default();
    config.contention_status = Some(409);
    let emu = Emulator::start_with(config).await.unwrap();
    emu.add_fault(
        FaultRule::new(Fault::Status(503))
            .method(BATCH)
            .random(150, 29),
    );
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method(BATCH)
            .random(100, 31),
    );
    let mut jobs = Vec::new();
    let mut befores = Vec::new();
    for u in 0..100 {
        let user = format!("user{u}@example.com");
        let before = snapshot(&emu, &user, emu.seed_contacts(&user, N / 100));
        let items: Vec<_> = before
            .names
            .iter()
            .map(|rn| update(&before, rn, "U"))
            .collect();
        let client = client_for(&emu, &user, None);
        jobs.push(UserJob {
            user: user.clone(),
            job: BatchUpdate::new(&client, [PersonField::Names])
                .unwrap()
                .chunk_size(40)
                .unwrap(),
            items,
        });
        befores.push((user, before));
    }
    let results = run_users(jobs, 16).await;
    emu.clear_faults();
    assert_eq!(results.len(), 100);
    let mut total = 0;
    for (user, before) in &befores {
        let (_, outcomes, summary) = results.iter().find(|r| &r.0 == user).unwrap();
        let (updated, failed, unknown) =
            verify(&emu, user, before, "U", outcomes, &HashMap::new(), 0);
        assert_eq!(
            (updated, failed, unknown),
            (N / 100, 0, 0),
            "{user}: {summary:?}"
        );
        total += updated;
    }
    assert_eq!(total, N, "and never two requests of one user at once (409)");
}
