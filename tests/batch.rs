//! The batch-update helper against the emulator: every contact gets exactly one true outcome.

use std::time::Duration;

use futures_util::StreamExt as _;
use google_people::batch::{BatchUpdate, ContactError, Outcome};
use google_people::runtime::RetryPolicy;
use google_people::*;
use google_people_emulator::{Emulator, Fault, FaultRule};

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
        .build()
        .unwrap();
    (emu, client)
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
async fn bad_input_is_never_sent_and_bad_masks_are_refused() {
    let (emu, client) = setup().await;
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
    let names = emu.seed_contacts(USER, 2);
    let mut input = updates(&emu, &names, "X");
    input.push(("contactGroups/x".into(), Person::new().set_etag("e")));
    input.push((names[0].clone(), input[0].1.clone()));
    input.push(("people/c1".into(), Person::new()));
    let (outcomes, summary) = BatchUpdate::new(&client, [PersonField::Names])
        .unwrap()
        .run_all(input)
        .await;
    assert_eq!((summary.succeeded, summary.failed), (2, 3));
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
    assert_eq!(invalid, 3);
    assert_eq!(emu.request_count("people.batchUpdateContacts", None), 1);
}

#[tokio::test]
async fn contacts_the_server_rejects_are_reported_and_the_rest_resent() {
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
    let (outcomes, summary) = BatchUpdate::new(&client, [PersonField::Names])
        .unwrap()
        .run_all(input)
        .await;
    assert_eq!(
        (summary.succeeded, summary.failed, summary.requests),
        (7, 3, 2)
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
    let (emu, client) = setup().await;
    let names = emu.seed_contacts(USER, 400);
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method("people.batchUpdateContacts")
            .nth(2),
    );
    let input = updates(&emu, &names, "Once");
    let (outcomes, summary) = BatchUpdate::new(&client, [PersonField::Names])
        .unwrap()
        .run_all(input)
        .await;
    assert_eq!(
        (summary.succeeded, summary.failed),
        (400, 0),
        "nothing applied is reported failed"
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
    use google_people::batch::{UserJob, run_users};
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
        let names = emu.seed_contacts(&user, 450);
        let client = Client::builder()
            .base_url(emu.base_url())
            .access_token(emu.issue_token(&user))
            .retry_policy(RetryPolicy::never())
            .build()
            .unwrap();
        let items: Vec<(String, Person)> = names
            .iter()
            .map(|rn| {
                let etag = emu.contact(&user, rn).unwrap()["etag"]
                    .as_str()
                    .unwrap()
                    .to_string();
                (
                    rn.clone(),
                    Person::new()
                        .set_etag(etag)
                        .set_nicknames([Nickname::new().set_value(format!("{u}"))]),
                )
            })
            .collect();
        jobs.push(UserJob {
            user: user.clone(),
            job: BatchUpdate::new(&client, [PersonField::Nicknames]).unwrap(),
            items,
        });
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
