//! Outcomes never lie, contact by contact, when the write's answer is lost and the read-back
//! that should settle it fails too: `Updated`/`Deleted` means applied, `Failed` means not applied,
//! and `Unknown` is reported only when the truth could not be read at all.

use std::time::Duration;

use google_people::batch::{BatchDelete, BatchUpdate, DeleteOutcome, Outcome};
use google_people::runtime::RetryPolicy;
use google_people::*;
use google_people_emulator::{Emulator, Fault, FaultRule};

const USER: &str = "outcomes@example.com";
const UPDATE: &str = "people.batchUpdateContacts";
const DELETE: &str = "people.batchDeleteContacts";
const READ: &str = "people.getBatchGet";

/// An emulator with `n` contacts, and a client retrying up to 5 attempts.
async fn setup(n: usize) -> (Emulator, Client, Vec<String>) {
    let emu = Emulator::start().await.unwrap();
    let names = emu.seed_contacts(USER, n);
    let policy = RetryPolicy::default()
        .with_delays(
            Duration::from_millis(2),
            Duration::from_millis(10),
            Duration::from_millis(5),
        )
        .with_budget(5, Duration::from_secs(20));
    let client = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(USER))
        .retry_policy(policy)
        .build()
        .unwrap();
    (emu, client, names)
}

fn update(emu: &Emulator, rn: &str) -> (String, Person) {
    let etag = emu.contact(USER, rn).unwrap()["etag"]
        .as_str()
        .unwrap()
        .to_string();
    let person = Person::new()
        .set_etag(etag)
        .set_names([Name::new().set_given_name("New").set_family_name(rn)]);
    (rn.to_string(), person)
}

fn holds_update(emu: &Emulator, rn: &str) -> bool {
    emu.contact(USER, rn).unwrap()["names"][0]["givenName"] == "New"
}

async fn update_one(emu: &Emulator, client: &Client, rn: &str) -> (Outcome, batch::Summary) {
    let job = BatchUpdate::new(client, [PersonField::Names]).unwrap();
    let (mut outcomes, summary) = job.run_all([update(emu, rn)]).await;
    assert_eq!(outcomes.len(), 1);
    (outcomes.remove(0), summary)
}

#[tokio::test]
async fn a_lost_update_whose_read_back_is_truncated_is_updated() {
    let (emu, client, names) = setup(1).await;
    let v0 = emu.contact_version(USER, &names[0]).unwrap();
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method(UPDATE)
            .first(5),
    );
    emu.add_fault(FaultRule::new(Fault::TruncatedJson).method(READ).nth(1));
    let (outcome, summary) = update_one(&emu, &client, &names[0]).await;
    assert!(outcome.is_updated(), "{outcome:?}");
    assert!(holds_update(&emu, &names[0]));
    assert_eq!(
        emu.contact_version(USER, &names[0]).unwrap(),
        v0 + 1,
        "once"
    );
    assert_eq!((summary.succeeded, summary.unknown), (1, 0));
}

#[tokio::test]
async fn a_lost_update_whose_read_back_fails_five_times_is_settled_at_the_end() {
    let (emu, client, names) = setup(1).await;
    let v0 = emu.contact_version(USER, &names[0]).unwrap();
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method(UPDATE)
            .first(5),
    );
    // Five 503s exhaust the client's five attempts of the chunk's own read-back.
    emu.add_fault(FaultRule::new(Fault::Status(503)).method(READ).first(5));
    let (outcome, summary) = update_one(&emu, &client, &names[0]).await;
    assert!(outcome.is_updated(), "{outcome:?}");
    assert_eq!(emu.contact_version(USER, &names[0]).unwrap(), v0 + 1);
    assert_eq!(
        emu.request_count(READ, Some(USER)),
        6,
        "5 failed, then the final re-read"
    );
    assert_eq!(
        (summary.succeeded, summary.failed, summary.unknown),
        (1, 0, 0)
    );
}

#[tokio::test]
async fn an_update_that_was_never_applied_and_cannot_be_read_is_unknown_not_failed() {
    let (emu, client, names) = setup(1).await;
    let v0 = emu.contact_version(USER, &names[0]).unwrap();
    // Every write attempt is turned away with a 503 *after* the exchange may have been processed
    // (the client cannot tell), and no read-back ever succeeds.
    emu.add_fault(FaultRule::new(Fault::Html502).method(UPDATE));
    emu.add_fault(FaultRule::new(Fault::Status(503)).method(READ));
    let (outcome, summary) = update_one(&emu, &client, &names[0]).await;
    match &outcome {
        Outcome::Unknown { requested, error } => {
            assert_eq!(requested, &names[0]);
            assert!(error.contains("read-back failed"), "{error}");
        }
        o => panic!("expected unknown, got {o:?}"),
    }
    assert_eq!(emu.contact_version(USER, &names[0]).unwrap(), v0);
    assert_eq!(
        (summary.succeeded, summary.failed, summary.unknown),
        (0, 0, 1)
    );

    // And once the server answers again, sending the same update is safe and applies it once.
    emu.clear_faults();
    let (outcome, _) = update_one(&emu, &client, &names[0]).await;
    assert!(outcome.is_updated(), "{outcome:?}");
    assert_eq!(emu.contact_version(USER, &names[0]).unwrap(), v0 + 1);
}

#[tokio::test]
async fn an_applied_update_that_cannot_be_read_is_unknown_not_failed() {
    let (emu, client, names) = setup(3).await;
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method(UPDATE)
            .nth(1),
    );
    emu.add_fault(FaultRule::new(Fault::TruncatedJson).method(READ));
    let job = BatchUpdate::new(&client, [PersonField::Names]).unwrap();
    let input: Vec<_> = names.iter().map(|rn| update(&emu, rn)).collect();
    let (outcomes, summary) = job.run_all(input).await;
    assert_eq!(outcomes.len(), 3);
    for o in &outcomes {
        assert!(o.is_unknown(), "{o:?}");
        assert!(
            holds_update(&emu, o.requested()),
            "applied, so never `Failed`"
        );
    }
    assert_eq!(summary.unknown, 3);
}

#[tokio::test]
async fn a_lost_delete_whose_read_back_fails_is_settled_at_the_end() {
    let (emu, client, names) = setup(3).await;
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method(DELETE)
            .nth(1),
    );
    emu.add_fault(FaultRule::new(Fault::Status(503)).method(READ).first(5));
    let job = BatchDelete::new(&client);
    let outcomes: Vec<DeleteOutcome> =
        futures_util::StreamExt::collect(job.run(names.clone())).await;
    assert_eq!(outcomes.len(), 3);
    for o in &outcomes {
        assert!(matches!(o, DeleteOutcome::Deleted { .. }), "{o:?}");
        assert!(emu.contact(USER, o.resource_name()).is_none());
    }
    assert_eq!(job.summary().succeeded, 3);
    assert_eq!(emu.request_count(DELETE, Some(USER)), 1, "deleted once");
}

#[tokio::test]
async fn a_lost_delete_whose_read_back_is_truncated_is_deleted() {
    let (emu, client, names) = setup(1).await;
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method(DELETE)
            .nth(1),
    );
    emu.add_fault(FaultRule::new(Fault::TruncatedJson).method(READ).nth(1));
    let job = BatchDelete::new(&client);
    let outcomes: Vec<DeleteOutcome> =
        futures_util::StreamExt::collect(job.run(names.clone())).await;
    assert!(
        matches!(&outcomes[..], [DeleteOutcome::Deleted { .. }]),
        "{outcomes:?}"
    );
    assert!(emu.contact(USER, &names[0]).is_none());
}

#[tokio::test]
async fn a_delete_that_cannot_be_read_is_unknown_and_a_lost_one_never_failed() {
    let (emu, client, names) = setup(2).await;
    emu.add_fault(FaultRule::new(Fault::LoseResponseAfterCommit).method(DELETE));
    emu.add_fault(FaultRule::new(Fault::Status(503)).method(READ));
    let job = BatchDelete::new(&client);
    let outcomes: Vec<DeleteOutcome> =
        futures_util::StreamExt::collect(job.run(names.clone())).await;
    for o in &outcomes {
        assert!(matches!(o, DeleteOutcome::Unknown { .. }), "{o:?}");
        assert!(
            emu.contact(USER, o.resource_name()).is_none(),
            "it was deleted"
        );
    }
    assert_eq!(job.summary().unknown, 2);
}

#[tokio::test]
async fn a_read_lagging_the_write_is_not_taken_for_the_truth() {
    // Reads show the contact as it was for a while after a write: a read-back right after a lost
    // answer sees the old etag. The update is sent again (its etag stops a second application),
    // refused as stale, read again once the lag has passed, and reported updated.
    let mut config = google_people_emulator::Config::default();
    config.read_after_write_lag = Duration::from_millis(400);
    let emu = Emulator::start_with(config).await.unwrap();
    let names = emu.seed_contacts(USER, 2);
    let client = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(USER))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let input: Vec<_> = names.iter().map(|rn| update(&emu, rn)).collect();
    let v0: Vec<u64> = names
        .iter()
        .map(|rn| emu.contact_version(USER, rn).unwrap())
        .collect();
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method(UPDATE)
            .nth(1),
    );
    let (outcomes, summary) = BatchUpdate::new(&client, [PersonField::Names])
        .unwrap()
        .run_all(input)
        .await;
    for (o, (rn, v)) in outcomes.iter().zip(names.iter().zip(v0)) {
        assert!(o.is_updated(), "{o:?} {summary:?}");
        assert_eq!(emu.contact_version(USER, rn).unwrap(), v + 1);
    }
}
