//! The batch helpers and the sync engine trace every request at `debug` with counts, and never
//! put contact data in a span or event above `trace`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use google_people::batch::BatchUpdate;
use google_people::runtime::RetryPolicy;
use google_people::*;
use google_people_emulator::{Emulator, Fault, FaultRule};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Every span and event, as "level name field=value ...".
#[derive(Default, Clone)]
struct Recorder {
    lines: Arc<Mutex<Vec<(Level, String)>>>,
    next: Arc<AtomicU64>,
}

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut line = span.metadata().name().to_string();
        span.record(&mut Line(&mut line));
        self.lines
            .lock()
            .unwrap()
            .push((*span.metadata().level(), line));
        Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = String::from("record");
        values.record(&mut Line(&mut line));
        self.lines.lock().unwrap().push((Level::TRACE, line));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = event.metadata().name().to_string();
        event.record(&mut Line(&mut line));
        self.lines
            .lock()
            .unwrap()
            .push((*event.metadata().level(), line));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn requests_are_traced_with_counts_and_no_contact_data() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());

    let emu = Emulator::start().await.unwrap();
    let user = "traced@example.com";
    let names = emu.seed_contacts(user, 300);
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method("people.batchUpdateContacts")
            .nth(2),
    );
    let client = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(user))
        .retry_policy(RetryPolicy::default().with_delays(
            Duration::from_millis(1),
            Duration::from_millis(1),
            Duration::from_millis(1),
        ))
        .build()
        .unwrap();
    let secret_family = "Zyxwvutsrq";
    let items: Vec<(String, Person)> = names
        .iter()
        .map(|rn| {
            let etag = emu.contact(user, rn).unwrap()["etag"]
                .as_str()
                .unwrap()
                .to_string();
            let p = Person::new()
                .set_etag(etag)
                .set_names([Name::new().set_family_name(secret_family)])
                .set_email_addresses([EmailAddress::new().set_value("private@example.org")]);
            (rn.clone(), p)
        })
        .collect();
    let job = BatchUpdate::new(&client, [PersonField::Names, PersonField::EmailAddresses])
        .unwrap()
        .read_mask([PersonField::Names]);
    let (_, summary) = job.run_all(items).await;
    assert_eq!(summary.succeeded, 300);

    let lines = recorder.lines.lock().unwrap();
    let spans: Vec<&String> = lines
        .iter()
        .filter(|(l, s)| *l == Level::DEBUG && s.starts_with("people_batch"))
        .map(|(_, s)| s)
        .collect();
    assert!(
        spans
            .iter()
            .any(|s| s.contains("batchUpdateContacts") && s.contains("contacts=200")),
        "{spans:?}"
    );
    assert!(spans.iter().any(|s| s.contains("getBatchGet")), "{spans:?}");
    assert!(
        lines.iter().any(|(_, s)| s.contains("retrying")),
        "the retry is traced"
    );
    for (level, line) in lines.iter().filter(|(l, _)| *l > Level::TRACE) {
        for private in [secret_family, "private@example.org", "people/c", "Given"] {
            assert!(!line.contains(private), "{level} {line}");
        }
    }
}

#[tokio::test]
async fn a_sync_is_traced_with_counts_and_no_contact_data() {
    use google_people::sync::{MemoryStore, Record, SyncJob};
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());

    let emu = Emulator::start().await.unwrap();
    let user = "synced@example.com";
    let client = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(user))
        .build()
        .unwrap();
    let secret_family = "Qwertzuiop";
    let records: Vec<Record> = (0..250)
        .map(|i| {
            Record::new(
                format!("secret-id-{i}"),
                Person::new()
                    .set_names([Name::new().set_family_name(secret_family)])
                    .set_email_addresses([EmailAddress::new().set_value("hidden@example.org")]),
            )
        })
        .collect();
    let store = MemoryStore::new();
    let job = SyncJob::new(
        &client,
        "traced",
        [PersonField::Names, PersonField::EmailAddresses],
    )
    .unwrap()
    .store(store.clone())
    .user(user)
    .group("Traced group");
    let report = job.run(records.clone()).await.unwrap();
    assert_eq!(report.summary.created, 250);
    let report = job.run(records).await.unwrap();
    assert_eq!(report.summary.unchanged, 250);

    let lines = recorder.lines.lock().unwrap();
    assert!(
        lines
            .iter()
            .any(|(l, s)| *l == Level::DEBUG && s.contains("planned") && s.contains("create=250")),
        "the plan is traced with its counts"
    );
    assert!(
        lines
            .iter()
            .any(|(_, s)| s.contains("synced") && s.contains("created=250")),
        "the run is traced with its counts"
    );
    for (level, line) in lines.iter().filter(|(l, _)| *l > Level::TRACE) {
        for private in [
            secret_family,
            "hidden@example.org",
            "secret-id",
            "people/c",
            "Traced group",
            user,
        ] {
            assert!(!line.contains(private), "{level} {line}");
        }
    }
}
