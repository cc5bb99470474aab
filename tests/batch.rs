//! The batch-update helper against the emulator: every contact gets exactly one true outcome.

use std::time::Duration;

use futures_util::StreamExt as _;
use google_people::batch::{BatchUpdate, ContactError, Outcome};
use google_people::runtime::RetryPolicy;
use google_people::*;
use google_people_emulator::{Emulator, Fault, FaultRule};
use shape::{SHAPES, Shape, run_all_as};

mod shape;

const USER: &str = "batch@example.com";

async fn setup() -> (Emulator, Client) {
    let emu = Emulator::start().await.unwrap();
    let policy = RetryPolicy::default()
        .with_delays(
            Duration::from_millis(5),
            Duration::from_millis(20),
            Duration::from_millis(10),
        )
        .with_jitter(false);
    let client = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(USER))
        .retry_policy(policy)
        .rate_limit(budget())
        .build()
        .unwrap();
    (emu, client)
}

/// A user's budget under the emulator's default quotas (Google's, a minute lasting a second).
fn budget() -> google_people::quota::RateLimit {
    google_people::quota::RateLimit::new(
        google_people::quota::Quota::default()
            .time_scale(google_people_emulator::DEFAULT_QUOTA_MINUTE),
    )
}

/// Updates giving every contact a new family name, with its current etag.
fn updates(emu: &Emulator, names: &[String], family: &str) -> Vec<(String, Person)> {
    names
        .iter()
        .map(|rn| {
            let etag = emu.contact(USER, rn).unwrap()["etag"]
                .as_str()
                .unwrap()
                .to_string();
            let person = Person::new().set_etag(etag).set_names([Name::new()
                .set_given_name("G")
                .set_family_name(format!("{family}-{rn}"))]);
            (rn.clone(), person)
        })
        .collect()
}

/// `n` new contacts for `user`, and a job (on a client with no retries) setting every one's
/// nickname to `value`.
fn nickname_job(
    emu: &Emulator,
    user: &str,
    n: usize,
    value: &str,
) -> (Vec<String>, batch::UserJob<Vec<(String, Person)>>) {
    let names = emu.seed_contacts(user, n);
    let client = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(user))
        .retry_policy(RetryPolicy::never())
        .rate_limit(budget())
        .build()
        .unwrap();
    let items = names
        .iter()
        .map(|rn| {
            let etag = emu.contact(user, rn).unwrap()["etag"]
                .as_str()
                .unwrap()
                .to_string();
            let person = Person::new()
                .set_etag(etag)
                .set_nicknames([Nickname::new().set_value(value)]);
            (rn.clone(), person)
        })
        .collect();
    let job = batch::UserJob {
        user: user.to_string(),
        job: BatchUpdate::new(&client, [PersonField::Nicknames]).unwrap(),
        items,
    };
    (names, job)
}

fn family_of(emu: &Emulator, rn: &str) -> String {
    emu.contact(USER, rn).unwrap()["names"][0]["familyName"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn no_faults_means_one_request_per_200_contacts() {
    let (emu, client) = setup().await;
    let names = emu.seed_contacts(USER, 1_000);
    let job = BatchUpdate::new(&client, [PersonField::Names])
        .unwrap()
        .read_mask([PersonField::Names]);
    let (outcomes, summary) = job.run_all(updates(&emu, &names, "New")).await;
    assert_eq!(
        (
            summary.succeeded,
            summary.failed,
            summary.requests,
            summary.retries
        ),
        (1_000, 0, 5, 0)
    );
    assert_eq!(emu.request_count("people.batchUpdateContacts", None), 5);
    assert_eq!(outcomes.len(), 1_000);
    for (o, rn) in outcomes.iter().zip(&names) {
        let Outcome::Updated {
            requested, person, ..
        } = o
        else {
            panic!("{o:?}")
        };
        assert_eq!(requested, rn);
        assert_eq!(
            person.as_ref().unwrap().names.as_ref().unwrap()[0]
                .family_name
                .as_deref(),
            Some(format!("New-{rn}").as_str())
        );
        assert_eq!(family_of(&emu, rn), format!("New-{rn}"));
    }
}

#[tokio::test]
async fn without_a_read_mask_each_outcome_names_its_contact() {
    let (emu, client) = setup().await;
    let names = emu.seed_contacts(USER, 250);
    let mut input = updates(&emu, &names, "Named");
    // A stale etag: that contact is refused and the chunk sent again without it.
    input[0].1.etag = Some("e".into());
    let job = BatchUpdate::new(&client, [PersonField::Names]).unwrap();
    let (outcomes, summary) = job.run_all(input).await;
    assert_eq!((summary.succeeded, summary.failed), (249, 1));
    assert_eq!(outcomes.len(), 250);
    for (o, rn) in outcomes.iter().zip(&names) {
        match o {
            Outcome::Updated {
                requested,
                resource_name,
                person: None,
            } if requested == rn && resource_name == rn => {}
            // The etag `e` is stale: refused, and named as requested.
            Outcome::Failed { requested, .. } if requested == &names[0] => {}
            other => panic!("{rn}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn bad_input_is_never_sent_and_bad_masks_are_refused() {
    for shape in SHAPES {
        bad_input_is_never_sent(shape).await;
    }
    let (_emu, client) = setup().await;
    assert!(
        BatchUpdate::new(&client, FieldMask::<PersonField>::new())
            .unwrap_err()
            .is_invalid_request()
    );
    assert!(
        BatchUpdate::new(&client, [PersonField::Photos])
            .unwrap_err()
            .is_invalid_request()
    );
    assert!(
        BatchUpdate::new(&client, [PersonField::Names])
            .unwrap()
            .chunk_size(201)
            .is_err()
    );
}

async fn bad_input_is_never_sent(shape: Shape) {
    let (emu, client) = setup().await;
    let names = emu.seed_contacts(USER, 2);
    let mut input = updates(&emu, &names, "X");
    input.insert(0, ("contactGroups/x".into(), Person::new().set_etag("e")));
    input.push((names[0].clone(), input[1].1.clone()));
    input.push(("people/c1".into(), Person::new()));
    input.push((String::new(), Person::new().set_etag("e")));
    let job = BatchUpdate::new(&client, [PersonField::Names]).unwrap();
    let (outcomes, summary) = run_all_as(&job, shape, input).await;
    assert_eq!((summary.succeeded, summary.failed), (2, 4), "{shape:?}");
    // Each refused contact's outcome carries the name it was given (the empty one too), and
    // the contacts sent are reported under theirs.
    let mut requested: Vec<&str> = outcomes.iter().map(Outcome::requested).collect();
    requested.sort_unstable();
    let mut expected = vec![
        "",
        "contactGroups/x",
        "people/c1",
        &names[0],
        &names[0],
        &names[1],
    ];
    expected.sort_unstable();
    assert_eq!(requested, expected, "{shape:?}");
    let invalid = outcomes
        .iter()
        .filter(|o| {
            matches!(
                o,
                Outcome::Failed {
                    error: ContactError::InvalidInput(_),
                    ..
                }
            )
        })
        .count();
    assert_eq!(invalid, 4, "{shape:?}");
    assert_eq!(emu.request_count("people.batchUpdateContacts", None), 1);
    for rn in &names {
        assert_eq!(family_of(&emu, rn), format!("X-{rn}"), "{shape:?}");
    }
}

#[tokio::test]
async fn contacts_the_server_rejects_are_reported_and_the_rest_resent() {
    for shape in SHAPES {
        server_rejections(shape).await;
    }
}

async fn server_rejections(shape: Shape) {
    let (emu, client) = setup().await;
    let names = emu.seed_contacts(USER, 10);
    let mut input = updates(&emu, &names, "Ok");
    input[3].1.etag = Some("%stale".into());
    input[7].1.etag = Some("%stale".into());
    emu.edit_contact(
        USER,
        &names[5],
        "nicknames",
        serde_json::json!([{"value": "edited elsewhere"}]),
    );
    let job = BatchUpdate::new(&client, [PersonField::Names]).unwrap();
    let (outcomes, summary) = run_all_as(&job, shape, input).await;
    assert_eq!(
        (summary.succeeded, summary.failed, summary.requests),
        (7, 3, 2),
        "{shape:?}"
    );
    for o in &outcomes {
        let i = names.iter().position(|n| n == o.requested()).unwrap();
        if [3, 5, 7].contains(&i) {
            assert!(
                matches!(
                    o,
                    Outcome::Failed {
                        error: ContactError::Rejected { code: 9, .. },
                        ..
                    }
                ),
                "{o:?}"
            );
            assert_ne!(family_of(&emu, &names[i]), format!("Ok-{}", names[i]));
        } else {
            assert!(o.is_updated(), "{o:?}");
            assert_eq!(family_of(&emu, &names[i]), format!("Ok-{}", names[i]));
        }
    }
}

#[tokio::test]
async fn a_lost_response_is_reconciled_not_reported_failed() {
    for shape in SHAPES {
        lost_response(shape).await;
    }
}

async fn lost_response(shape: Shape) {
    let (emu, client) = setup().await;
    let names = emu.seed_contacts(USER, 400);
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method("people.batchUpdateContacts")
            .nth(2),
    );
    let input = updates(&emu, &names, "Once");
    let job = BatchUpdate::new(&client, [PersonField::Names]).unwrap();
    let (outcomes, summary) = run_all_as(&job, shape, input).await;
    assert_eq!(
        (summary.succeeded, summary.failed),
        (400, 0),
        "nothing applied is reported failed ({shape:?})"
    );
    assert!(summary.retries >= 1);
    assert!(outcomes.iter().all(Outcome::is_updated));
    for rn in &names {
        assert_eq!(family_of(&emu, rn), format!("Once-{rn}"));
    }
    assert_eq!(
        emu.request_count("people.getBatchGet", None),
        1,
        "one re-read for the uncertain chunk"
    );
}

#[tokio::test]
async fn random_503s_and_streams_lose_nothing() {
    let (emu, client) = setup().await;
    let names = emu.seed_contacts(USER, 1_250);
    emu.add_fault(
        FaultRule::new(Fault::Status(503))
            .method("people.batchUpdateContacts")
            .random(300, 11),
    );
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method("people.batchUpdateContacts")
            .nth(4),
    );
    let input = updates(&emu, &names, "Streamed");
    let outcomes: Vec<Outcome> = BatchUpdate::new(&client, [PersonField::Names])
        .unwrap()
        .run(input)
        .collect()
        .await;
    assert_eq!(outcomes.len(), 1_250);
    let mut seen = std::collections::HashSet::new();
    for o in &outcomes {
        assert!(
            seen.insert(o.requested().to_string()),
            "one outcome per contact"
        );
        let applied = family_of(&emu, o.requested()) == format!("Streamed-{}", o.requested());
        assert_eq!(
            o.is_updated(),
            applied,
            "reported {o:?} but applied={applied}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_users_in_parallel_stay_sequential_per_user() {
    use google_people::batch::run_users;
    // Any overlap of two requests of one user would be answered 409 ABORTED.
    let mut config = google_people_emulator::Config::default();
    config.contention_status = Some(409);
    let emu = Emulator::start_with(config).await.unwrap();
    emu.add_fault(
        FaultRule::new(Fault::Latency(Duration::from_millis(5)))
            .method("people.batchUpdateContacts"),
    );
    let mut jobs = Vec::new();
    let mut expected = Vec::new();
    for u in 0..20 {
        let user = format!("user{u}@example.com");
        let (names, job) = nickname_job(&emu, &user, 450, &format!("{u}"));
        jobs.push(job);
        expected.push((user, names));
    }
    let results = run_users(jobs, 5).await;
    assert_eq!(results.len(), 20);
    for (user, outcomes, summary) in &results {
        assert_eq!(
            (summary.succeeded, summary.failed, summary.requests),
            (450, 0, 3),
            "{user}: {summary:?}"
        );
        assert!(outcomes.iter().all(Outcome::is_updated));
    }
    for (u, (user, names)) in expected.iter().enumerate() {
        for rn in names {
            assert_eq!(
                emu.contact(user, rn).unwrap()["nicknames"][0]["value"],
                format!("{u}")
            );
        }
        assert_eq!(
            emu.request_count("people.batchUpdateContacts", Some(user)),
            3
        );
    }
}

fn nickname_of(emu: &Emulator, rn: &str) -> Option<String> {
    emu.contact(USER, rn).unwrap()["nicknames"][0]["value"]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test]
async fn modify_reads_changes_writes_and_refetches_on_conflict() {
    use std::sync::{Arc, Mutex};
    let (emu, client) = setup().await;
    let emu = Arc::new(emu);
    let names = emu.seed_contacts(USER, 450);
    // names[0]: edited elsewhere once, between our read and our write: fetched and changed again.
    // names[1]: edited elsewhere every time: a conflict after the bounded rounds.
    // every third: left alone by the closure (unchanged, no write).
    let calls: Arc<Mutex<Vec<String>>> = Arc::default();
    let f = {
        let (emu, calls, hot) = (emu.clone(), calls.clone(), names[..2].to_vec());
        move |p: &mut Person| {
            let rn = p.resource_name.clone().unwrap();
            assert!(p.metadata.is_none(), "output-only data is stripped");
            assert!(p.etag.is_some() && p.names.is_some() && p.email_addresses.is_none());
            let mut calls = calls.lock().unwrap();
            let seen = calls.iter().filter(|c| **c == rn).count();
            calls.push(rn.clone());
            if (rn == hot[0] && seen == 0) || rn == hot[1] {
                let bio = serde_json::json!([{"value": format!("elsewhere {seen}")}]);
                emu.edit_contact(USER, &rn, "biographies", bio);
            }
            let n: u64 = rn.trim_start_matches("people/c").parse().unwrap();
            if !n.is_multiple_of(3) || hot.contains(&rn) {
                p.nicknames = Some(vec![Nickname::new().set_value("modified")]);
            }
        }
    };
    let mut input = names.clone();
    input.push("people/c999999999".into());
    input.push("not-a-name".into());
    let job = BatchUpdate::new(&client, [PersonField::Names, PersonField::Nicknames])
        .unwrap()
        .conflict_rounds(2);
    let outcomes: Vec<Outcome> = job.modify(input, f).collect().await;
    assert_eq!(outcomes.len(), 452);
    let summary = job.summary();
    let mut unchanged = 0;
    for o in &outcomes {
        let rn = o.requested();
        match o {
            Outcome::Updated { .. } => {
                assert_eq!(nickname_of(&emu, rn).as_deref(), Some("modified"), "{rn}")
            }
            Outcome::Unchanged { .. } => {
                unchanged += 1;
                assert_eq!(nickname_of(&emu, rn), None);
                assert_eq!(
                    emu.contact_version(USER, rn),
                    Some(1),
                    "{rn}: never written after its creation"
                );
            }
            Outcome::Failed { error, .. } if rn == names[1] => {
                assert!(error.is_conflict(), "{error}");
                assert_eq!(calls.lock().unwrap().iter().filter(|c| *c == rn).count(), 3);
            }
            Outcome::Failed { error, .. } if rn == "people/c999999999" => {
                assert!(
                    matches!(error, ContactError::Rejected { code: 5, .. }),
                    "{error}"
                )
            }
            Outcome::Failed { error, .. } if rn == "not-a-name" => {
                assert!(matches!(error, ContactError::InvalidInput(_)), "{error}")
            }
            o => panic!("{o:?}"),
        }
    }
    // names[0] kept the edit made elsewhere and got ours on the second round.
    let c0 = emu.contact(USER, &names[0]).unwrap();
    assert_eq!(c0["biographies"][0]["value"], "elsewhere 0");
    assert_eq!(c0["nicknames"][0]["value"], "modified");
    assert_eq!(unchanged, summary.unchanged as usize);
    assert!(unchanged > 100);
    assert_eq!(
        (summary.succeeded, summary.failed),
        (450 - unchanged as u64 - 1, 3)
    );
}

#[tokio::test]
async fn bulk_create_reports_each_contact_and_never_replays_an_unknown_outcome() {
    use google_people::batch::{BatchCreate, CreateOutcome};
    let (emu, client) = setup().await;
    let persons: Vec<Person> = (0..450)
        .map(|i| {
            let p = Person::new().set_names([Name::new().set_given_name(format!("New {i}"))]);
            if i == 7 {
                // Two names on a contact source: the server rejects this one.
                p.set_names([
                    Name::new().set_given_name("A"),
                    Name::new().set_given_name("B"),
                ])
            } else {
                p
            }
        })
        .collect();
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method("people.batchCreateContacts")
            .nth(3),
    );
    let job = BatchCreate::new(&client);
    let outcomes: Vec<CreateOutcome> = job.run(persons).collect().await;
    assert_eq!(outcomes.len(), 450);
    let mut indices: Vec<u64> = outcomes.iter().map(CreateOutcome::index).collect();
    indices.sort();
    assert_eq!(indices, (0..450).collect::<Vec<_>>());
    let (mut created, mut unknown) = (0, 0);
    for o in &outcomes {
        match o {
            CreateOutcome::Created {
                resource_name,
                index,
                ..
            } => {
                created += 1;
                let c = emu.contact(USER, resource_name).unwrap();
                assert_eq!(c["names"][0]["givenName"], format!("New {index}"));
            }
            CreateOutcome::Failed { index, error } => {
                assert_eq!(*index, 7);
                assert!(
                    matches!(error, ContactError::Rejected { code: 3, .. }),
                    "{error}"
                );
            }
            CreateOutcome::Unknown { index, .. } => {
                unknown += 1;
                assert!((200..400).contains(index), "the third request: {index}");
            }
            o => panic!("{o:?}"),
        }
    }
    assert_eq!((created, unknown), (249, 200));
    // Requests: chunk 1 rejected then resent, chunk 2 lost (not replayed), chunk 3.
    assert_eq!(emu.request_count("people.batchCreateContacts", None), 4);
    assert_eq!(
        emu.contacts(USER).len(),
        449,
        "the lost chunk was created once"
    );
    let s = job.summary();
    assert_eq!((s.succeeded, s.failed, s.unknown), (249, 1, 200));
}

#[tokio::test]
async fn bulk_delete_reconciles_a_lost_answer() {
    use google_people::batch::{BatchDelete, DeleteOutcome};
    let (emu, client) = setup().await;
    let names = emu.seed_contacts(USER, 1_200);
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method("people.batchDeleteContacts")
            .nth(1),
    );
    let mut input = names.clone();
    // (In the second chunk: after the lost answer to the first, a contact that is gone is
    // reported deleted, whether it was there or not.)
    input.insert(700, "people/c424242424".into());
    input.insert(20, "contactGroups/x".into());
    let job = BatchDelete::new(&client);
    let outcomes: Vec<DeleteOutcome> = job.run(input).collect().await;
    assert_eq!(outcomes.len(), 1_202);
    for o in &outcomes {
        match o {
            DeleteOutcome::Deleted { resource_name } => {
                assert!(emu.contact(USER, resource_name).is_none())
            }
            DeleteOutcome::Failed {
                resource_name,
                error,
            } => match resource_name.as_str() {
                "people/c424242424" => {
                    assert!(
                        matches!(error, ContactError::Rejected { code: 5, .. }),
                        "{error}"
                    )
                }
                "contactGroups/x" => assert!(matches!(error, ContactError::InvalidInput(_))),
                r => panic!("{r}: {error}"),
            },
            o => panic!("{o:?}"),
        }
    }
    assert!(emu.contacts(USER).is_empty());
    assert_eq!(job.summary().succeeded, 1_200);
}

#[tokio::test]
async fn a_rate_limited_job_meets_no_429() {
    use google_people::batch::RateLimit;
    use google_people::quota::{Quota as Budget, QuotaMetric};
    use google_people_emulator::{Config, Quota};
    let mut config = Config::default();
    config.quota = Some(Quota {
        window: Duration::from_millis(700),
        ..Quota::per_minute(1_000, 12)
    });
    let emu = Emulator::start_with(config).await.unwrap();
    let client = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(USER))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let names = emu.seed_contacts(USER, 1_000);
    // Without a limit, the third batch in a window is answered 429.
    let (_, unlimited) = BatchUpdate::new(&client, [PersonField::Names])
        .unwrap()
        .run_all(updates(&emu, &names, "Fast"))
        .await;
    assert!(unlimited.failed >= 200, "{unlimited:?}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let job = BatchUpdate::new(&client, [PersonField::Names])
        .unwrap()
        // The server's very window: a spend is dated when its answer arrives, so no window the
        // server counts holds more than the budget.
        .rate_limit(RateLimit::new(
            Budget::default()
                .set(QuotaMetric::CriticalReads, 1_000)
                .set(QuotaMetric::CriticalWrites, 12)
                .time_scale(Duration::from_millis(700)),
        ));
    let (_, limited) = job.run_all(updates(&emu, &names, "Paced")).await;
    assert_eq!(
        (limited.succeeded, limited.failed),
        (1_000, 0),
        "{limited:?}"
    );
    assert!(
        limited.elapsed >= Duration::from_millis(1_400),
        "{limited:?}"
    );
}

#[tokio::test]
async fn streamed_input_with_progress() {
    use google_people::batch::Progress;
    use std::sync::{Arc, Mutex};
    let (emu, client) = setup().await;
    let names = emu.seed_contacts(USER, 1_000);
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let job = BatchUpdate::new(&client, [PersonField::Names])
        .unwrap()
        .total(1_000)
        .on_progress({
            let seen = seen.clone();
            move |p| seen.lock().unwrap().push(p)
        });
    let input = futures_util::stream::iter(updates(&emu, &names, "S"));
    let n = job
        .run_stream(input)
        .filter(|o| std::future::ready(o.is_updated()))
        .count()
        .await;
    assert_eq!(n, 1_000);
    let seen = seen.lock().unwrap();
    let done: Vec<u64> = seen.iter().map(|p| p.done).collect();
    assert_eq!(done, [200, 400, 600, 800, 1_000]);
    assert!(seen.iter().all(|p| p.total == Some(1_000)));
    assert_eq!(seen[4].requests, 5);
}

#[tokio::test]
async fn input_is_pulled_a_chunk_ahead_not_all_at_once() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (emu, client) = setup().await;
    let names = emu.seed_contacts(USER, 1_000);
    let pulled = Arc::new(AtomicUsize::new(0));
    let input = {
        let pulled = pulled.clone();
        updates(&emu, &names, "Lazy").into_iter().inspect(move |_| {
            pulled.fetch_add(1, Ordering::SeqCst);
        })
    };
    let job = BatchUpdate::new(&client, [PersonField::Names]).unwrap();
    let mut outcomes = job.run(input);
    let mut seen = 0usize;
    while let Some(o) = outcomes.next().await {
        assert!(o.is_updated());
        seen += 1;
        // The chunk being reported and at most the next one, prepared while it was sent.
        assert!(pulled.load(Ordering::SeqCst) <= seen.div_ceil(200) * 200 + 200);
    }
    assert_eq!(seen, 1_000);
}

#[tokio::test]
async fn a_contact_relinked_by_its_update_is_found_under_its_new_name() {
    use google_people_emulator::Config;
    let mut config = Config::default();
    config.profile_link_domain = Some("profiles.example".into());
    let emu = Emulator::start_with(config).await.unwrap();
    let client = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(USER))
        .retry_policy(RetryPolicy::default().with_delays(
            Duration::from_millis(1),
            Duration::from_millis(5),
            Duration::from_millis(1),
        ))
        .build()
        .unwrap();
    let names = emu.seed_contacts(USER, 300);
    // The first batch's answer is lost after it committed: the replay finds the relinked
    // contacts gone and the others at a new etag, so all are reconciled by reading back.
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method("people.batchUpdateContacts")
            .nth(1),
    );
    let email = |i: usize| {
        let domain = if i.is_multiple_of(3) {
            "profiles.example"
        } else {
            "other.example"
        };
        format!("x{i}@{domain}")
    };
    let input: Vec<(String, Person)> = names
        .iter()
        .enumerate()
        .map(|(i, rn)| {
            let etag = emu.contact(USER, rn).unwrap()["etag"]
                .as_str()
                .unwrap()
                .to_string();
            let p = Person::new()
                .set_etag(etag)
                .set_email_addresses([EmailAddress::new().set_value(email(i))]);
            (rn.clone(), p)
        })
        .collect();
    let job = BatchUpdate::new(&client, [PersonField::EmailAddresses])
        .unwrap()
        .read_mask([PersonField::EmailAddresses]);
    let outcomes: Vec<Outcome> = job.run(input).collect().await;
    assert_eq!(outcomes.len(), 300);
    for (i, rn) in names.iter().enumerate() {
        let o = outcomes.iter().find(|o| o.requested() == rn).unwrap();
        let Outcome::Updated { resource_name, .. } = o else {
            panic!("{i}: {o:?}")
        };
        if i.is_multiple_of(3) {
            assert_ne!(resource_name, rn, "{i}: relinked");
            assert!(emu.contact(USER, rn).is_none());
        } else {
            assert_eq!(resource_name, rn);
        }
        let now = emu.contact(USER, resource_name).unwrap();
        assert_eq!(now["emailAddresses"][0]["value"], email(i).as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_users_as_one_stream() {
    use google_people::batch::stream_users;
    let mut config = google_people_emulator::Config::default();
    config.contention_status = Some(409);
    let emu = Emulator::start_with(config).await.unwrap();
    emu.add_fault(
        FaultRule::new(Fault::Latency(Duration::from_millis(3)))
            .method("people.batchUpdateContacts"),
    );
    let mut jobs = Vec::new();
    let mut handles = Vec::new();
    for u in 0..12 {
        let user = format!("streamed{u}@example.com");
        let (_, user_job) = nickname_job(&emu, &user, 250, &user);
        let job = user_job.job.clone();
        handles.push((user, job));
        jobs.push(user_job);
    }
    let mut per_user = std::collections::HashMap::<String, usize>::new();
    let mut outcomes = stream_users(jobs, 4);
    while let Some((user, o)) = outcomes.next().await {
        assert!(o.is_updated(), "{user}: {o:?}");
        assert_eq!(
            emu.contact(&user, o.requested()).unwrap()["nicknames"][0]["value"],
            user.as_str()
        );
        *per_user.entry(user).or_default() += 1;
    }
    assert_eq!(per_user.len(), 12);
    for (user, job) in &handles {
        assert_eq!(per_user[user], 250);
        let s = job.summary();
        assert_eq!((s.succeeded, s.requests), (250, 2), "{user}");
    }
}

#[tokio::test]
async fn a_stream_is_polled_only_between_requests() {
    use std::sync::{Arc, Mutex};
    let (emu, client) = setup().await;
    let names = emu.seed_contacts(USER, 600);
    let job = BatchUpdate::new(&client, [PersonField::Names]).unwrap();
    // When each chunk's first contact is pulled, how many requests had completed.
    let seen: Arc<Mutex<Vec<u64>>> = Arc::default();
    let input = {
        let (job, seen) = (job.clone(), seen.clone());
        futures_util::stream::iter(updates(&emu, &names, "Seq").into_iter().enumerate()).map(
            move |(i, item)| {
                if i % 200 == 0 {
                    seen.lock().unwrap().push(job.summary().requests);
                }
                item
            },
        )
    };
    let n = job.run_stream(input).count().await;
    assert_eq!(n, 600);
    // Stream input (which may itself read from the API) waits for each request to finish.
    assert_eq!(*seen.lock().unwrap(), [0, 1, 2]);
}
