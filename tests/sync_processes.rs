//! The sync engine across processes: a first sync killed with SIGKILL at several points (requests
//! in flight included) converges on the next complete run, with lost create answers too; and a
//! domain split over two concurrent worker processes by shard covers every user exactly once.
//!
//! The workers are this test binary itself, run again with `GP_WORKER` set (the `worker` test
//! below, ignored otherwise), against an emulator that lives in the parent.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use google_people::runtime::RetryPolicy;
use google_people::sync::*;
use google_people::*;
use google_people_emulator::{Emulator, Fault, FaultRule};
use serde_json::Value;

const JOB: &str = "directory";
const KEY: &str = "google-people.sync/directory";
const CREATE: &str = "people.batchCreateContacts";

fn record(user: &str, i: usize) -> Record {
    Record::new(
        format!("emp-{i}"),
        Person::new()
            .set_names([Name::new()
                .set_given_name(format!("Given{i}"))
                .set_family_name(format!("Family{i}-{user}"))])
            .set_email_addresses([EmailAddress::new().set_value(format!("emp{i}@corp.example"))]),
    )
}

fn fields() -> [PersonField; 2] {
    [PersonField::Names, PersonField::EmailAddresses]
}

fn client(base: &str, token: &str) -> Client {
    Client::builder()
        .base_url(base)
        .access_token(token)
        .retry_policy(
            RetryPolicy::default()
                .with_delays(
                    Duration::from_millis(5),
                    Duration::from_millis(50),
                    Duration::from_millis(10),
                )
                .with_budget(6, Duration::from_secs(30)),
        )
        // Paced to the emulator's default quotas (Google's, a minute lasting a second). A
        // restarted worker's budget does not know what its killed predecessor spent: the
        // server's 429 tells it, and it waits out the window.
        .rate_limit(google_people::quota::RateLimit::new(
            google_people::quota::Quota::default()
                .time_scale(google_people_emulator::DEFAULT_QUOTA_MINUTE),
        ))
        .build()
        .unwrap()
}

/// A worker: syncs `GP_RECORDS` records for every `user=token` of `GP_USERS` in its shard
/// (`GP_SHARD`, `I/K`), with its state in `GP_STORE`, and prints one line per user.
#[tokio::test]
#[ignore = "a worker process of the tests below"]
async fn worker() {
    let Ok(base) = std::env::var("GP_WORKER") else {
        return;
    };
    let n: usize = std::env::var("GP_RECORDS").unwrap().parse().unwrap();
    let store = FileStore::new(std::env::var("GP_STORE").unwrap());
    let shard: Shard = std::env::var("GP_SHARD")
        .map(|s| s.parse().unwrap())
        .unwrap_or_else(|_| Shard::all());
    let mut users = Vec::new();
    for pair in std::env::var("GP_USERS").unwrap().split(',') {
        let (user, token) = pair.split_once('=').unwrap();
        if !shard.contains(user) {
            continue;
        }
        let job = SyncJob::new(&client(&base, token), JOB, fields())
            .unwrap()
            .store(store.clone())
            .user(user);
        let records: Vec<Record> = (0..n).map(|i| record(user, i)).collect();
        users.push(UserSync {
            user: user.to_string(),
            job,
            records,
        });
    }
    let mut results = sync_users(users, 4);
    while let Some((user, result)) = futures_util::StreamExt::next(&mut results).await {
        let s = result.unwrap().summary;
        println!("synced {user} created={} unknown={}", s.created, s.unknown);
    }
}

fn spawn_worker(
    emu: &Emulator,
    users: &[(String, String)],
    n: usize,
    store: &str,
    shard: Option<&str>,
) -> Child {
    let pairs: Vec<String> = users.iter().map(|(u, t)| format!("{u}={t}")).collect();
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "worker",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("GP_WORKER", emu.base_url())
    .env("GP_RECORDS", n.to_string())
    .env("GP_STORE", store)
    .env("GP_USERS", pairs.join(","))
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if let Some(s) = shard {
        cmd.env("GP_SHARD", s);
    }
    cmd.spawn().unwrap()
}

/// Every record of `user` exists exactly once, with its values.
fn assert_converged(emu: &Emulator, user: &str, n: usize) {
    let mut by_id: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for c in emu.contacts(user) {
        if let Some(id) = c["clientData"].as_array().and_then(|a| {
            a.iter()
                .find(|d| d["key"] == KEY)
                .and_then(|d| d["value"].as_str().map(str::to_owned))
        }) {
            by_id.entry(id).or_default().push(c);
        }
    }
    assert_eq!(by_id.len(), n, "{user}: one contact per record");
    for i in 0..n {
        let copies = &by_id[&format!("emp-{i}")];
        assert_eq!(copies.len(), 1, "{user} emp-{i}: {} copies", copies.len());
        assert_eq!(
            copies[0]["names"][0]["familyName"],
            format!("Family{i}-{user}"),
            "{user} emp-{i}"
        );
    }
}

/// Kill workers syncing `n` records for one user with SIGKILL once the emulator has seen each of
/// `kill_after` create requests (a latency fault keeps each one in flight for a while), then run
/// to completion and check.
async fn crash_and_converge(emu: &Emulator, n: usize, kill_after: &[u64]) {
    let user = "crash@example.com".to_string();
    let users = vec![(user.clone(), emu.issue_token(&user))];
    let dir = std::env::temp_dir().join(format!(
        "gp-crash-{}-{}",
        std::process::id(),
        kill_after.len()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let store = dir.to_str().unwrap().to_string();
    emu.add_fault(FaultRule::new(Fault::Latency(Duration::from_millis(150))).method(CREATE));
    let mut killed = 0;
    for &k in kill_after {
        let mut child = spawn_worker(emu, &users, n, &store, None);
        let start = Instant::now();
        while emu.request_count(CREATE, Some(&user)) < k
            && start.elapsed() < Duration::from_secs(60)
        {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // SIGKILL, with the k-th create request in flight.
        if child.try_wait().unwrap().is_none() {
            killed += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    assert_eq!(killed, kill_after.len(), "every worker was killed mid-run");
    // A complete run converges.
    let out = spawn_worker(emu, &users, n, &store, None)
        .wait_with_output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    emu.clear_faults();
    assert_converged(emu, &user, n);
    // And the next run has nothing to do.
    let job = SyncJob::new(&client(&emu.base_url(), &users[0].1), JOB, fields())
        .unwrap()
        .store(FileStore::new(&store))
        .user(&user);
    let report = job
        .run((0..n).map(|i| record(&user, i)).collect::<Vec<_>>())
        .await
        .unwrap();
    assert_eq!(report.summary.unchanged, n as u64, "{:?}", report.summary);
    assert_eq!(report.summary.writes, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_sync_killed_at_any_point_converges() {
    let emu = Emulator::start().await.unwrap();
    crash_and_converge(&emu, 5_000, &[1, 4, 9, 15, 22]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_with_lost_create_answers_too() {
    let emu = Emulator::start().await.unwrap();
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method(CREATE)
            .random(300, 9),
    );
    crash_and_converge(&emu, 5_000, &[2, 7, 13, 20]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_in_two_processes_cover_every_user_once() {
    let emu = Emulator::start().await.unwrap();
    let users: Vec<(String, String)> = (0..20)
        .map(|u| {
            let user = format!("user{u}@example.com");
            let token = emu.issue_token(&user);
            (user, token)
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("gp-shards-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = dir.to_str().unwrap();
    let a = spawn_worker(&emu, &users, 500, store, Some("0/2"));
    let b = spawn_worker(&emu, &users, 500, store, Some("1/2"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let mut synced = Vec::new();
    for out in [&a, &b] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            // libtest's own "test worker ... " may open the line.
            if let Some((_, rest)) = line.split_once("synced ") {
                synced.push(rest.split(' ').next().unwrap().to_string());
            }
        }
    }
    synced.sort();
    let mut all: Vec<String> = users.iter().map(|(u, _)| u.clone()).collect();
    all.sort();
    assert_eq!(synced, all, "every user exactly once across the two shards");
    for (user, _) in &users {
        assert_converged(&emu, user, 500);
        // Exactly the requests one single-process run makes: ceil(500/200) creates.
        assert_eq!(emu.request_count(CREATE, Some(user)), 3, "{user}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
