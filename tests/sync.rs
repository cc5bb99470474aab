//! The sync engine against the emulator, over HTTP: first sync, incremental runs, changes,
//! deletes, ownership, policies, the safety valve, duplicates, the group, lost answers and bad
//! input. Every check reads the emulator's stored state, contact by contact.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use google_people::runtime::RetryPolicy;
use google_people::sync::*;
use google_people::*;
use google_people_emulator::{Config, Emulator, Fault, FaultRule};
use serde_json::{Value, json};

const USER: &str = "sync@example.com";
const JOB: &str = "directory";
const KEY: &str = "google-people.sync/directory";

fn client(emu: &Emulator, user: &str) -> Client {
    Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(user))
        .rate_limit(budget(emu, user))
        .retry_policy(
            RetryPolicy::default()
                .with_delays(
                    Duration::from_millis(2),
                    Duration::from_millis(20),
                    Duration::from_millis(5),
                )
                .with_budget(8, Duration::from_secs(30)),
        )
        .build()
        .unwrap()
}

/// `user`'s budget under the emulator's default quotas (Google's, a minute lasting a second),
/// one per emulator and user, shared by every client of theirs as a real budget would be.
fn budget(emu: &Emulator, user: &str) -> google_people::quota::RateLimit {
    use google_people::quota::{Quota, RateLimit};
    static BUDGETS: std::sync::Mutex<BTreeMap<(String, String), RateLimit>> =
        std::sync::Mutex::new(BTreeMap::new());
    BUDGETS
        .lock()
        .unwrap()
        .entry((emu.base_url(), user.to_string()))
        .or_insert_with(|| {
            RateLimit::new(
                Quota::default().time_scale(google_people_emulator::DEFAULT_QUOTA_MINUTE),
            )
        })
        .clone()
}

fn fields() -> [PersonField; 3] {
    [
        PersonField::Names,
        PersonField::EmailAddresses,
        PersonField::PhoneNumbers,
    ]
}

fn job(emu: &Emulator, store: &MemoryStore) -> SyncJob {
    SyncJob::new(&client(emu, USER), JOB, fields())
        .unwrap()
        .store(store.clone())
        .user(USER)
}

/// Record `i`, in version `v` (a different version changes the family name).
fn record(i: usize, v: u32) -> Record {
    Record::new(
        format!("emp-{i}"),
        Person::new()
            .set_names([Name::new()
                .set_given_name(format!("Given{i}"))
                .set_family_name(format!("Family{i}-v{v}"))])
            .set_email_addresses([EmailAddress::new().set_value(format!("emp{i}@corp.example"))])
            .set_phone_numbers([PhoneNumber::new().set_value(format!("+1 555 {i:07}"))]),
    )
}

fn records(n: usize) -> Vec<Record> {
    (0..n).map(|i| record(i, 1)).collect()
}

/// The user's managed contacts by external id (every copy), and the unmanaged ones.
fn managed(emu: &Emulator, user: &str) -> (BTreeMap<String, Vec<Value>>, Vec<Value>) {
    let mut by_id: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut others = Vec::new();
    for c in emu.contacts(user) {
        let id = c["clientData"].as_array().and_then(|a| {
            a.iter()
                .find(|d| d["key"] == KEY)
                .and_then(|d| d["value"].as_str().map(str::to_owned))
        });
        match id {
            Some(id) => by_id.entry(id).or_default().push(c),
            None => others.push(c),
        }
    }
    (by_id, others)
}

/// Every record exists exactly once, with its values.
fn assert_converged(emu: &Emulator, user: &str, want: &[Record]) {
    let (by_id, _) = managed(emu, user);
    assert_eq!(by_id.len(), want.len(), "one managed contact per record");
    for r in want {
        let copies = &by_id[&r.id];
        assert_eq!(copies.len(), 1, "{}: {} copies", r.id, copies.len());
        let c = &copies[0];
        let family = r.person.names.as_ref().unwrap()[0].family_name.as_deref();
        assert_eq!(c["names"][0]["familyName"].as_str(), family, "{}", r.id);
        assert_eq!(
            c["names"][0]["givenName"].as_str(),
            r.person.names.as_ref().unwrap()[0].given_name.as_deref()
        );
    }
}

fn mutations(emu: &Emulator) -> u64 {
    [
        "people.batchCreateContacts",
        "people.batchUpdateContacts",
        "people.batchDeleteContacts",
        "contactGroups.create",
        "contactGroups.members.modify",
    ]
    .iter()
    .map(|m| emu.request_count(m, Some(USER)))
    .sum()
}

#[tokio::test]
async fn first_sync_then_incremental_runs_change_exactly_what_changed() {
    let emu = Emulator::start().await.unwrap();
    // Contacts the job does not own: never touched.
    let unmanaged = emu.seed_contacts(USER, 50);
    let before: HashMap<String, u64> = unmanaged
        .iter()
        .map(|rn| (rn.clone(), emu.contact_version(USER, rn).unwrap()))
        .collect();
    let store = MemoryStore::new();
    let n = 5_000;
    let mut want = records(n);

    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    let s = &report.summary;
    assert_eq!((s.created, s.failed, s.unknown), (n as u64, 0, 0), "{s:?}");
    assert!(s.full_listing);
    assert_eq!(report.outcomes.len(), n);
    assert_eq!(
        emu.request_count("people.batchCreateContacts", Some(USER)),
        n.div_ceil(200) as u64
    );
    assert_converged(&emu, USER, &want);

    // Nothing changed: one request, no write.
    let total = emu.total_requests();
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    assert_eq!(report.summary.unchanged, n as u64);
    assert!(!report.summary.full_listing);
    assert_eq!((report.summary.requests, report.summary.writes), (1, 0));
    assert_eq!(emu.total_requests() - total, 1, "one request in all");

    // 37 records change: exactly those are written.
    let versions = |emu: &Emulator| -> HashMap<String, u64> {
        emu.contacts(USER)
            .iter()
            .map(|c| {
                let rn = c["resourceName"].as_str().unwrap().to_string();
                let v = emu.contact_version(USER, &rn).unwrap();
                (rn, v)
            })
            .collect()
    };
    let v0 = versions(&emu);
    let changed: Vec<usize> = (0..37).map(|k| k * 131 % n).collect();
    for &i in &changed {
        want[i] = record(i, 2);
    }
    let updates_before = emu.request_count("people.batchUpdateContacts", Some(USER));
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    assert_eq!(report.summary.updated, 37, "{:?}", report.summary);
    assert_eq!(report.summary.unchanged, (n - 37) as u64);
    assert_eq!(
        emu.request_count("people.batchUpdateContacts", Some(USER)) - updates_before,
        1
    );
    let v1 = versions(&emu);
    let written = v1.iter().filter(|(rn, v)| v0.get(*rn) != Some(v)).count();
    assert_eq!(written, 37, "only the changed contacts were written");
    assert_converged(&emu, USER, &want);

    // 12 records leave the input, deletes allowed: exactly those are deleted.
    let removed: Vec<Record> = want.drain(100..112).collect();
    let report = job(&emu, &store)
        .delete_missing(true)
        .run(want.clone())
        .await
        .unwrap();
    assert_eq!(report.summary.deleted, 12, "{:?}", report.summary);
    let deleted: Vec<&str> = report
        .outcomes
        .iter()
        .filter(|o| matches!(o, RecordOutcome::Deleted { .. }))
        .map(RecordOutcome::id)
        .collect();
    for r in &removed {
        assert!(deleted.contains(&r.id.as_str()));
    }
    assert_converged(&emu, USER, &want);

    // And the unmanaged contacts were never written.
    for (rn, v) in before {
        assert_eq!(emu.contact_version(USER, &rn), Some(v), "{rn} untouched");
    }
    let (_, others) = managed(&emu, USER);
    assert_eq!(others.len(), 50);

    // Run again: nothing to do.
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    assert_eq!((report.summary.requests, report.summary.writes), (1, 0));
}

#[tokio::test]
async fn a_dry_run_sends_no_write_and_an_expired_token_repeats_nothing() {
    let mut config = Config::default();
    config.sync_token_ttl = Duration::ZERO;
    let emu = Emulator::start_with(config).await.unwrap();
    let store = MemoryStore::new();
    let want = records(300);

    let plan = job(&emu, &store).plan(want.clone()).await.unwrap();
    assert_eq!(plan.counts().create, 300);
    assert_eq!(mutations(&emu), 0, "a plan writes nothing");
    job(&emu, &store).apply(plan).await.unwrap();
    assert_converged(&emu, USER, &want);

    // Every sync token has expired: the run lists everything again, and writes nothing.
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    assert!(report.summary.full_listing);
    assert_eq!(report.summary.unchanged, 300);
    assert_eq!(report.summary.writes, 0, "{:?}", report.summary);
    assert_converged(&emu, USER, &want);
}

#[tokio::test]
async fn edits_and_deletions_in_google_follow_the_policies() {
    let emu = Emulator::start().await.unwrap();
    let store = MemoryStore::new();
    let want = records(20);
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    let rn_of: HashMap<String, String> = report
        .outcomes
        .iter()
        .filter_map(|o| match o {
            RecordOutcome::Created { id, resource_name } => {
                Some((id.clone(), resource_name.clone()))
            }
            _ => None,
        })
        .collect();
    let edit = |id: &str, family: &str| {
        emu.edit_contact(
            USER,
            &rn_of[id],
            "names",
            json!([{"givenName": "Edited", "familyName": family}]),
        );
    };

    // Keep: the edit stays and is reported, run after run.
    edit("emp-1", "KeepMe");
    // A field the job does not manage: not a conflict, nothing written.
    emu.edit_contact(
        USER,
        &rn_of["emp-2"],
        "nicknames",
        json!([{"value": "Nick"}]),
    );
    // Edits reach incremental listings after Google's propagation delay.
    emu.let_writes_propagate();
    for _ in 0..2 {
        let report = job(&emu, &store)
            .conflict_policy(ConflictPolicy::Keep)
            .run(want.clone())
            .await
            .unwrap();
        assert_eq!(report.summary.skipped, 1, "{:?}", report.summary);
        assert_eq!(report.summary.writes, 0);
        assert!(report.outcomes.iter().any(|o| matches!(o,
            RecordOutcome::Skipped { id, reason: SkipReason::EditedInGoogle { .. } } if id == "emp-1")));
    }
    assert_eq!(
        emu.contact(USER, &rn_of["emp-1"]).unwrap()["names"][0]["familyName"],
        "KeepMe"
    );
    assert_eq!(
        emu.contact(USER, &rn_of["emp-2"]).unwrap()["nicknames"][0]["value"],
        "Nick"
    );

    // Overwrite (the default): the source wins.
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    assert_eq!(report.summary.updated, 1, "{:?}", report.summary);
    assert_converged(&emu, USER, &want);

    // Deleted in Google: skipped when re-creating is off, re-created by default.
    client(&emu, USER)
        .people()
        .delete_contact(rn_of["emp-3"].clone())
        .send()
        .await
        .unwrap();
    emu.let_writes_propagate();
    let report = job(&emu, &store)
        .recreate_deleted(false)
        .run(want.clone())
        .await
        .unwrap();
    assert!(
        report.outcomes.iter().any(|o| matches!(o,
        RecordOutcome::Skipped { id, reason: SkipReason::DeletedInGoogle } if id == "emp-3")),
        "{:?}",
        report.summary
    );
    assert_eq!(report.summary.writes, 0);
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    assert_eq!(report.summary.created, 1, "{:?}", report.summary);
    assert_converged(&emu, USER, &want);
}

#[tokio::test]
async fn the_safety_valve_has_a_floor_for_small_counts() {
    let emu = Emulator::start().await.unwrap();
    let store = MemoryStore::new();
    let want = records(2);
    job(&emu, &store).run(want.clone()).await.unwrap();
    // 1 of 2 is half the managed contacts, but one deletion is under the floor (default 5).
    let report = job(&emu, &store)
        .delete_missing(true)
        .run(want[..1].to_vec())
        .await
        .unwrap();
    assert_eq!(report.summary.deleted, 1);
    // With no floor, the share alone decides.
    job(&emu, &store).run(want.clone()).await.unwrap();
    let e = job(&emu, &store)
        .delete_missing(true)
        .mass_delete_floor(0)
        .run(want[..1].to_vec())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            SyncError::MassDelete {
                would_delete: 1,
                managed: 2,
                floor: 0,
                ..
            }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn the_safety_valve_refuses_a_mass_delete() {
    let emu = Emulator::start().await.unwrap();
    let store = MemoryStore::new();
    let want = records(100);
    job(&emu, &store).run(want.clone()).await.unwrap();
    let writes = mutations(&emu);

    // An empty input with deletes on: refused, nothing written.
    let e = job(&emu, &store)
        .delete_missing(true)
        .run(Vec::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            SyncError::MassDelete {
                would_delete: 100,
                managed: 100,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string().contains("refusing to delete 100 of 100"),
        "{e}"
    );
    // A truncated input (the first half): refused too.
    let e = job(&emu, &store)
        .delete_missing(true)
        .run(want[..50].to_vec())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            SyncError::MassDelete {
                would_delete: 50,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(mutations(&emu), writes);
    assert_converged(&emu, USER, &want);

    // Under the share: allowed. Beyond it, when explicitly allowed.
    let report = job(&emu, &store)
        .delete_missing(true)
        .run(want[..95].to_vec())
        .await
        .unwrap();
    assert_eq!(report.summary.deleted, 5);
    let report = job(&emu, &store)
        .delete_missing(true)
        .allow_mass_delete(true)
        .run(Vec::new())
        .await
        .unwrap();
    assert_eq!(report.summary.deleted, 95);
    assert!(managed(&emu, USER).0.is_empty());
}

#[tokio::test]
async fn duplicates_left_by_another_tool_are_resolved_deterministically() {
    let emu = Emulator::start().await.unwrap();
    let store = MemoryStore::new();
    let want = records(10);
    let copy = |i: usize| {
        json!({"names": [{"givenName": format!("Given{i}"), "familyName": "Other"}],
               "clientData": [{"key": KEY, "value": format!("emp-{i}")}]})
    };
    let first = emu.insert_contact(USER, &copy(4));
    let second = emu.insert_contact(USER, &copy(4));
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    let removed: Vec<&RecordOutcome> = report
        .outcomes
        .iter()
        .filter(|o| matches!(o, RecordOutcome::DuplicateRemoved { .. }))
        .collect();
    assert_eq!(removed.len(), 1, "{:?}", report.outcomes);
    // The lowest resource name stays, and is updated to the record's values.
    assert!(
        matches!(removed[0], RecordOutcome::DuplicateRemoved { resource_name, .. } if *resource_name == second)
    );
    assert!(emu.contact(USER, &first).is_some());
    assert_eq!(report.summary.created, 9);
    assert_eq!(report.summary.updated, 1);
    assert_converged(&emu, USER, &want);

    // A copy made between runs is found by the incremental listing, once it has propagated.
    emu.insert_contact(USER, &copy(7));
    emu.let_writes_propagate();
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    assert_eq!(report.summary.duplicates_removed, 1, "{:?}", report.summary);
    assert_converged(&emu, USER, &want);
}

#[tokio::test]
async fn the_group_holds_every_managed_contact() {
    let emu = Emulator::start().await.unwrap();
    let store = MemoryStore::new();
    let want = records(30);
    let with_group = || job(&emu, &store).group("Company directory");
    let report = with_group().run(want.clone()).await.unwrap();
    assert_eq!(report.summary.created, 30);
    let client = client(&emu, USER);
    let groups = client.contact_groups().list().send().await.unwrap();
    let group = groups
        .contact_groups
        .unwrap_or_default()
        .into_iter()
        .find(|g| g.name.as_deref() == Some("Company directory"))
        .expect("the group was created");
    let members = |emu: &Emulator| -> usize {
        emu.contacts(USER)
            .iter()
            .filter(|c| {
                c["memberships"].as_array().is_some_and(|ms| {
                    ms.iter().any(|m| {
                        m["contactGroupMembership"]["contactGroupResourceName"]
                            == json!(group.resource_name.clone().unwrap())
                    })
                })
            })
            .count()
    };
    assert_eq!(members(&emu), 30);

    // Someone takes a contact out of the group: it is put back. Records leave the input (no
    // deletes): they leave the group.
    client
        .contact_groups()
        .members()
        .modify(
            group.resource_name.clone().unwrap(),
            ModifyContactGroupMembersRequest::new().set_resource_names_to_remove([emu
                .contacts(USER)[0]["resourceName"]
                .as_str()
                .unwrap()
                .to_string()]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(members(&emu), 29);
    emu.let_writes_propagate();
    let report = with_group().run(want[..28].to_vec()).await.unwrap();
    assert_eq!(report.summary.orphans, 2);
    assert_eq!(members(&emu), 28, "{:?}", report.summary);
    // And a run with nothing to do writes nothing.
    let report = with_group().run(want[..28].to_vec()).await.unwrap();
    assert_eq!(report.summary.writes, 0, "{:?}", report.summary);
}

#[tokio::test]
async fn lost_create_answers_are_found_by_key_not_created_twice() {
    let emu = Emulator::start().await.unwrap();
    let store = MemoryStore::new();
    let want = records(1_000);
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method("people.batchCreateContacts")
            .random(400, 3),
    );
    emu.add_fault(
        FaultRule::new(Fault::Status(503))
            .method("people.batchCreateContacts")
            .random(200, 5),
    );
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    emu.clear_faults();
    let s = &report.summary;
    assert_eq!(s.created + s.unknown, 1_000, "{s:?}");
    assert_converged(&emu, USER, &want);
    // Whatever was unknown is settled by the next run, without a duplicate.
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    assert_eq!(
        report.summary.created + report.summary.unchanged,
        1_000,
        "{:?}",
        report.summary
    );
    assert_converged(&emu, USER, &want);
}

/// A create committed whose answer was lost, then an outage of the listings: the create is never
/// sent again until a full, current listing shows it absent; while none can be read it is
/// unknown, and the next run settles it. The emulator's incremental listings lag writes by
/// minutes, as Google's do: relying on one would create every record twice.
#[tokio::test]
async fn a_lost_create_is_never_sent_again_while_no_listing_can_be_read() {
    // (listing requests that fail after the first, which plans the run; what the run reports)
    for (failing, unknown) in [(6, 0), (10, 0), (40, 50)] {
        let emu = Emulator::start().await.unwrap();
        let store = MemoryStore::new();
        let want = records(50);
        emu.add_fault(
            FaultRule::new(Fault::LoseResponseAfterCommit)
                .method("people.batchCreateContacts")
                .nth(1),
        );
        emu.add_fault(
            FaultRule::new(Fault::Status(503))
                .method("people.connections.list")
                .between(2, 1 + failing),
        );
        let report = job(&emu, &store).run(want.clone()).await.unwrap();
        let s = &report.summary;
        assert_eq!(
            (s.created, s.unknown, s.deleted, s.duplicates_removed),
            (50 - unknown, unknown, 0, 0),
            "{failing} failing listings: {s:?}"
        );
        assert_eq!(
            emu.request_count("people.batchCreateContacts", None),
            1,
            "{failing}: never sent again"
        );
        assert_converged(&emu, USER, &want);
        emu.clear_faults();
        // The next run settles whatever was unknown, with a full listing.
        let report = job(&emu, &store).run(want.clone()).await.unwrap();
        let s = &report.summary;
        assert_eq!((s.created, s.unchanged, s.unknown), (0, 50, 0), "{s:?}");
        assert_eq!(s.full_listing, unknown > 0, "{s:?}");
        assert_converged(&emu, USER, &want);
    }
}

/// Google derives values from what is written (`formattedType`, `canonicalForm`, display and
/// free-form names, a default photo, field metadata): none of them is an edit. An unmanaged
/// field edited in Google costs no write; a managed value changed, or an email removed, in Google
/// is still an edit.
#[tokio::test]
async fn derived_fields_are_not_edits_and_real_edits_are_found() {
    let emu = Emulator::start().await.unwrap();
    let store = MemoryStore::new();
    let typed = |i: usize| {
        Record::new(
            format!("emp-{i}"),
            Person::new()
                .set_names([Name::new()
                    .set_honorific_prefix("Dr.")
                    .set_given_name(format!("Given{i}"))
                    .set_family_name(format!("Family{i}"))
                    .set_honorific_suffix("III")])
                .set_email_addresses([
                    EmailAddress::new()
                        .set_value(format!("emp{i}@corp.example"))
                        .set_type("work"),
                    EmailAddress::new()
                        .set_value(format!("emp{i}@home.example"))
                        .set_type("home"),
                ])
                .set_phone_numbers([PhoneNumber::new()
                    .set_value(format!("+34 666 {i:06}"))
                    .set_type("mobile")]),
        )
    };
    let want: Vec<Record> = (0..20).map(typed).collect();
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    assert_eq!(report.summary.created, 20);
    let contacts = emu.contacts(USER);
    let c = &contacts[0];
    assert_eq!(c["emailAddresses"][0]["formattedType"], "Work", "{c}");
    assert!(c["phoneNumbers"][0]["canonicalForm"].is_string(), "{c}");
    assert!(c["names"][0]["displayNameLastFirst"].is_string(), "{c}");

    // An unmanaged field edited in Google on 10 managed contacts: their etags change, nothing
    // managed does.
    let names: Vec<String> = contacts
        .iter()
        .map(|c| c["resourceName"].as_str().unwrap().to_string())
        .collect();
    for rn in &names[..10] {
        emu.edit_contact(USER, rn, "occupations", json!([{"value": "Astronaut"}]));
    }
    emu.let_writes_propagate();
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    let s = &report.summary;
    assert_eq!((s.updated, s.writes, s.unchanged), (0, 0, 20), "{s:?}");

    // A managed value changed, and an email removed, in Google: both are edits, overwritten.
    let email_of = |rn: &str| emu.contact(USER, rn).unwrap()["emailAddresses"].clone();
    let mut one = email_of(&names[10]);
    one.as_array_mut().unwrap().truncate(1);
    emu.edit_contact(USER, &names[10], "emailAddresses", one);
    emu.edit_contact(
        USER,
        &names[11],
        "phoneNumbers",
        json!([{"value": "+34 600 000000", "type": "mobile"}]),
    );
    emu.let_writes_propagate();
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    let s = &report.summary;
    assert_eq!((s.updated, s.unchanged), (2, 18), "{s:?}");
    assert_eq!(email_of(&names[10]).as_array().unwrap().len(), 2);
    // And after that, nothing to do: one request, no write.
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    assert_eq!((report.summary.requests, report.summary.writes), (1, 0));
}

/// A list entry carries at most 100 emails: a contact with more is read in full before it is
/// compared, so it is neither taken for an edit nor rewritten with what the listing cut.
#[tokio::test]
async fn a_contact_cut_short_in_a_listing_is_read_in_full() {
    let emu = Emulator::start().await.unwrap();
    let store = MemoryStore::new();
    let mut want = records(3);
    want[0].person.email_addresses = Some(
        (0..150)
            .map(|k| EmailAddress::new().set_value(format!("emp0-{k}@corp.example")))
            .collect(),
    );
    job(&emu, &store).run(want.clone()).await.unwrap();
    // A first run of a new job lists everything: 100 of the 150 emails are listed.
    let other = MemoryStore::new();
    let report = job(&emu, &other)
        .conflict_policy(ConflictPolicy::Keep)
        .run(want.clone())
        .await
        .unwrap();
    let s = &report.summary;
    assert_eq!((s.unchanged, s.skipped, s.writes), (3, 0, 0), "{s:?}");
    assert_eq!(emu.request_count("people.getBatchGet", Some(USER)), 1);
    // An unmanaged edit in Google shows it in the incremental listing, cut again: still nothing.
    let rn = emu
        .contacts(USER)
        .iter()
        .find(|c| {
            c["emailAddresses"]
                .as_array()
                .is_some_and(|a| a.len() == 150)
        })
        .unwrap()["resourceName"]
        .as_str()
        .unwrap()
        .to_string();
    emu.edit_contact(USER, &rn, "nicknames", json!([{"value": "Many"}]));
    emu.let_writes_propagate();
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    assert_eq!((report.summary.updated, report.summary.writes), (0, 0));
    assert_eq!(
        emu.contact(USER, &rn).unwrap()["emailAddresses"]
            .as_array()
            .unwrap()
            .len(),
        150
    );
}

/// Before the first write for a user, the engine checks that the credentials act for that user:
/// one account's token (or a service account without a subject) is refused for another user,
/// and nothing is written anywhere. A run with nothing to write does not ask.
#[tokio::test]
async fn credentials_for_another_account_are_refused_before_any_write() {
    let emu = Emulator::start().await.unwrap();
    let store = MemoryStore::new();
    // Alice's token, a job for Bob.
    let job_for = |user: &str| {
        SyncJob::new(&client(&emu, "alice@example.com"), JOB, fields())
            .unwrap()
            .store(store.clone())
            .user(user)
    };
    let e = job_for("bob@example.com")
        .run(records(5))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, SyncError::WrongAccount { user, acting_as }
            if user == "bob@example.com" && acting_as == &["alice@example.com".to_string()]),
        "{e}"
    );
    assert!(e.to_string().contains("nothing was written"), "{e}");
    assert_eq!(mutations(&emu), 0);
    assert!(emu.contacts("alice@example.com").is_empty());
    // The right user (any case): written.
    let report = job_for("Alice@Example.com").run(records(5)).await.unwrap();
    assert_eq!(report.summary.created, 5);
    assert_eq!(
        emu.request_count("people.get", Some("alice@example.com")),
        2
    );
    // Nothing to write: not asked again, one request.
    let report = job_for("Alice@Example.com").run(records(5)).await.unwrap();
    assert_eq!((report.summary.requests, report.summary.writes), (1, 0));
    assert_eq!(
        emu.request_count("people.get", Some("alice@example.com")),
        2
    );
}

/// Google's limits are checked before anything is sent: a record with two names (a singleton)
/// or a value longer than 1,024 characters fails with its reason and is not sent, the others
/// go on; a run that would go past the contacts an account holds is refused whole.
#[tokio::test]
async fn records_past_googles_limits_fail_alone_and_nothing_is_sent_for_them() {
    let emu = Emulator::start().await.unwrap();
    let store = MemoryStore::new();
    let mut want = records(5);
    let mut two_names = want[1].person.names.clone().unwrap();
    two_names.push(Name::new().set_given_name("Second"));
    want[1].person.names = Some(two_names);
    want[2].person.email_addresses = Some(vec![
        EmailAddress::new().set_value(format!("{}@corp.example", "a".repeat(1_100))),
    ]);
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    let s = &report.summary;
    assert_eq!((s.created, s.failed), (3, 2), "{s:?}");
    let reasons: Vec<String> = report
        .outcomes
        .iter()
        .filter_map(|o| match o {
            RecordOutcome::Failed { id, error } => Some(format!("{id}: {error}")),
            _ => None,
        })
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("emp-1") && r.contains("singleton")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("emp-2") && r.contains("1024")),
        "{reasons:?}"
    );
    assert_eq!(managed(&emu, USER).0.len(), 3);

    // Past the account's contacts: refused whole, by how many, nothing written.
    let writes = mutations(&emu);
    let e = job(&emu, &store)
        .max_contacts(6)
        .run(records(10))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            SyncError::TooManyContacts {
                would_have: 10,
                limit: 6
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("4 too many"), "{e}");
    assert_eq!(mutations(&emu), writes);
}

#[tokio::test]
async fn bad_input_is_refused_whole_and_nothing_is_sent() {
    let emu = Emulator::start().await.unwrap();
    let store = MemoryStore::new();
    let mut bad = records(10);
    bad.push(record(3, 1)); // a repeated id
    bad.push(Record::new("", record(1, 1).person)); // an empty id
    bad.push(Record::new(
        "no-fields",
        Person::new().set_nicknames([Nickname::new().set_value("x")]),
    ));
    let e = job(&emu, &store).run(bad).await.unwrap_err();
    let SyncError::InvalidRecords(errors) = &e else {
        panic!("{e}")
    };
    let problems: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| (e.position, e.problem.as_str()))
        .collect();
    assert_eq!(
        problems,
        [
            (10, "the id appears more than once"),
            (11, "the id is empty"),
            (12, "none of the managed fields is set")
        ]
    );
    assert_eq!(mutations(&emu), 0);
    assert!(emu.contacts(USER).is_empty());

    // Repeats are found among managed contacts (the state) as among new ids.
    let first = job(&emu, &store).run(records(10)).await.unwrap();
    assert_eq!(first.summary.created, 10);
    let mut again = records(12); // 10 managed, 2 new
    again.push(record(4, 1)); // a managed id again
    again.push(record(11, 1)); // a new id again
    let writes = mutations(&emu);
    let e = job(&emu, &store).run(again).await.unwrap_err();
    let SyncError::InvalidRecords(errors) = &e else {
        panic!("{e}")
    };
    let problems: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| (e.position, e.problem.as_str()))
        .collect();
    assert_eq!(
        problems,
        [
            (12, "the id appears more than once"),
            (13, "the id appears more than once")
        ]
    );
    assert_eq!(mutations(&emu), writes, "nothing sent");

    let c = client(&emu, USER);
    for bad in [
        vec![PersonField::Names, PersonField::Metadata],
        vec![PersonField::ClientData],
        vec![PersonField::Memberships],
        vec![PersonField::Photos],
        vec![],
    ] {
        assert!(SyncJob::new(&c, JOB, bad.clone()).is_err(), "{bad:?}");
    }
    for name in ["", "a/b", "..", &"x".repeat(65)] {
        assert!(SyncJob::new(&c, name, fields()).is_err(), "{name:?}");
    }
}

#[tokio::test]
async fn two_jobs_never_touch_each_others_contacts() {
    let emu = Emulator::start().await.unwrap();
    let store = MemoryStore::new();
    let hr = records(20);
    job(&emu, &store).run(hr.clone()).await.unwrap();
    let crm = SyncJob::new(&client(&emu, USER), "crm", fields())
        .unwrap()
        .store(store.clone())
        .user(USER)
        .delete_missing(true)
        .allow_mass_delete(true);
    let crm_records: Vec<Record> = (100..105).map(|i| record(i, 1)).collect();
    let report = crm.run(crm_records).await.unwrap();
    assert_eq!(report.summary.created, 5);
    // The CRM job, deleting everything it owns, leaves the directory job's contacts alone.
    let report = crm.run(Vec::new()).await.unwrap();
    assert_eq!(report.summary.deleted, 5);
    assert_converged(&emu, USER, &hr);
}

#[tokio::test]
async fn many_users_one_stream_and_a_refused_user_does_not_stop_the_others() {
    let emu = Emulator::start().await.unwrap();
    let store = MemoryStore::new();
    let mut users = Vec::new();
    for u in 0..6 {
        let user = format!("u{u}@example.com");
        let client = if u == 3 {
            // Delegation not granted: every call is refused.
            Client::builder()
                .base_url(emu.base_url())
                .access_token("not-a-token")
                .build()
                .unwrap()
        } else {
            client(&emu, &user)
        };
        let job = SyncJob::new(&client, JOB, fields())
            .unwrap()
            .store(store.clone())
            .user(&user);
        users.push(UserSync {
            user,
            job,
            records: records(50),
        });
    }
    let results: Vec<_> = futures_util::StreamExt::collect(sync_users(users, 3)).await;
    assert_eq!(results.len(), 6);
    for (user, result) in results {
        if user == "u3@example.com" {
            let e = result.unwrap_err();
            assert!(matches!(&e, SyncError::Api(a) if a.is_auth()), "{e}");
        } else {
            assert_eq!(result.unwrap().summary.created, 50, "{user}");
            assert_converged(&emu, &user, &records(50));
        }
    }
}

/// The groups (resource names) a stored contact is in.
fn groups_of(contact: &Value) -> Vec<String> {
    contact["memberships"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .filter_map(|m| {
                    m["contactGroupMembership"]["contactGroupResourceName"]
                        .as_str()
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn created_contacts_are_in_my_contacts_and_memberships_made_elsewhere_stay() {
    // Google documents no group for a contact created without memberships (users report such
    // contacts missing from the Contacts UI and phones): this emulator puts them in none.
    let mut config = Config::default();
    config.create_in_my_contacts = false;
    let emu = Emulator::start_with(config).await.unwrap();
    let store = MemoryStore::new();
    let want = records(5);
    let report = job(&emu, &store).run(want.clone()).await.unwrap();
    assert_eq!(report.summary.created, 5);
    for c in emu.contacts(USER) {
        assert_eq!(groups_of(&c), ["contactGroups/myContacts"], "{c}");
    }

    // The user files one of them under a group of their own; the job adds its group and
    // updates the record: the user's group and My Contacts stay.
    let client = client(&emu, USER);
    let book_club = client
        .contact_groups()
        .create(
            CreateContactGroupRequest::new()
                .set_contact_group(ContactGroup::new().set_name("Book club")),
        )
        .send()
        .await
        .unwrap()
        .resource_name
        .unwrap();
    let rn = emu.contacts(USER)[0]["resourceName"]
        .as_str()
        .unwrap()
        .to_string();
    client
        .contact_groups()
        .members()
        .modify(
            book_club.clone(),
            ModifyContactGroupMembersRequest::new().set_resource_names_to_add([rn.clone()]),
        )
        .send()
        .await
        .unwrap();
    emu.let_writes_propagate();
    let mut changed = want.clone();
    for r in &mut changed {
        *r = record(r.id["emp-".len()..].parse().unwrap(), 2);
    }
    let report = job(&emu, &store)
        .group("Company directory")
        .run(changed)
        .await
        .unwrap();
    assert_eq!(report.summary.updated, 5, "{:?}", report.summary);
    let contact = emu.contact(USER, &rn).unwrap();
    let groups = groups_of(&contact);
    assert_eq!(groups.len(), 3, "{groups:?}");
    assert!(groups.contains(&book_club), "{groups:?}");
    assert!(
        groups.contains(&"contactGroups/myContacts".to_string()),
        "{groups:?}"
    );

    // Told otherwise, a job creates its contacts only in its group.
    let other = SyncJob::new(&client, "elsewhere", fields())
        .unwrap()
        .user(USER)
        .my_contacts(false)
        .group("Elsewhere");
    let report = other.run(records(1)).await.unwrap();
    let RecordOutcome::Created { resource_name, .. } = &report.outcomes[0] else {
        panic!("{:?}", report.outcomes);
    };
    let groups = groups_of(&emu.contact(USER, resource_name).unwrap());
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_ne!(groups[0], "contactGroups/myContacts");
}

#[tokio::test]
async fn adoption_by_email_takes_the_users_own_contacts_and_never_guesses() {
    let emu = Emulator::start().await.unwrap();
    // The user's own contacts, before any sync.
    let own = emu.insert_contact(
        USER,
        &json!({
            "names": [{"givenName": "Old name"}],
            "emailAddresses": [{"value": "EMP0@corp.example"}],
            "biographies": [{"value": "met at the conference"}],
            "clientData": [{"key": "crm", "value": "c-17"}]
        }),
    );
    let twins: Vec<String> = (0..2)
        .map(|_| {
            emu.insert_contact(
                USER,
                &json!({"emailAddresses": [{"value": "emp1@corp.example"}]}),
            )
        })
        .collect();
    let shared = emu.insert_contact(
        USER,
        &json!({"emailAddresses": [{"value": "emp2@corp.example"}, {"value": "emp3@corp.example"}]}),
    );
    let other_job = emu.insert_contact(
        USER,
        &json!({
            "emailAddresses": [{"value": "emp4@corp.example"}],
            "clientData": [{"key": "google-people.sync/crm", "value": "x"}]
        }),
    );
    let store = MemoryStore::new();
    let adopting = || job(&emu, &store).adopt_by_email(true);
    let want = records(10);
    let report = adopting().run(want.clone()).await.unwrap();
    let s = &report.summary;
    assert_eq!((s.adopted, s.created, s.skipped), (1, 6, 3), "{s:?}");
    // Adopted: the job's key and fields, the user's other data kept.
    let c = emu.contact(USER, &own).unwrap();
    assert_eq!(c["names"][0]["givenName"], "Given0");
    assert_eq!(c["biographies"][0]["value"], "met at the conference");
    let keys: Vec<&str> = c["clientData"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["key"].as_str())
        .collect();
    assert_eq!(keys, ["crm", KEY]);
    // Ambiguous: reported with the candidates, nothing created or changed.
    for o in &report.outcomes {
        if let RecordOutcome::Skipped { id, reason } = o {
            let SkipReason::AmbiguousMatch { candidates } = reason else {
                panic!("{o:?}");
            };
            match id.as_str() {
                "emp-1" => assert_eq!(candidates, &twins),
                "emp-2" | "emp-3" => assert_eq!(candidates, std::slice::from_ref(&shared)),
                _ => panic!("{o:?}"),
            }
        }
    }
    let (by_id, others) = managed(&emu, USER);
    assert_eq!(by_id.len(), 7, "emp-0 adopted, 4..9 created");
    assert!(!by_id.contains_key("emp-1") && !by_id.contains_key("emp-2"));
    assert_eq!(
        others.len(),
        4,
        "the twins, the shared one and the other job's"
    );
    assert!(
        emu.contact(USER, &other_job).unwrap()["clientData"]
            .to_string()
            .contains("crm")
    );

    // The next run (incremental) still never creates beside the ambiguous ones, and the adopted
    // contact is simply in sync.
    emu.let_writes_propagate();
    let report = adopting().run(want.clone()).await.unwrap();
    let s = &report.summary;
    assert_eq!(
        (s.adopted, s.created, s.skipped, s.unchanged, s.full_listing),
        (0, 0, 3, 7, false),
        "{s:?}"
    );
    // Once the user merges the twins, the record adopts the one left.
    client(&emu, USER)
        .people()
        .delete_contact(twins[1].clone())
        .send()
        .await
        .unwrap();
    emu.let_writes_propagate();
    let report = adopting().run(want).await.unwrap();
    assert_eq!(report.summary.adopted, 1, "{:?}", report.summary);
    assert_eq!(
        managed(&emu, USER).0["emp-1"][0]["resourceName"],
        json!(twins[0])
    );
}
