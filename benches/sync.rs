//! The sync engine's cost in requests, time and memory: a first sync of n records into an empty
//! account, a re-sync with nothing changed, and a sync with c changed records, against the
//! emulator; then the client's peak resident memory for a first sync and a re-sync of 10,000 and
//! of 100,000 records (the emulator in a child process, so only the client is measured).
//!
//! `cargo bench --bench sync` ends with one line (`SYNC_BENCH_RECORDS`, `SYNC_BENCH_CHANGED`
//! override n and c; `SYNC_BENCH_RSS=0` skips the memory part):
//! `sync: records=<n> first_requests=<r> first_s=<t> resync_requests=<r> resync_writes=<w>
//! resync_s=<t> changed=<c> changed_requests=<r>`

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::Instant;

use google_people::runtime::{RetryPolicy, install_crypto_provider};
use google_people::sync::{FileStore, MemoryStore, Record, SyncJob, SyncStore};
use google_people::{Client, EmailAddress, Name, Person, PersonField, PhoneNumber};
use google_people_emulator::Emulator;

const USER: &str = "bench@example.com";

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

fn records(n: usize, changed: usize) -> impl Iterator<Item = Record> + Send {
    // The first `changed` records in their second version.
    (0..n).map(move |i| record(i, if i < changed { 2 } else { 1 }))
}

fn job(client: &Client, store: impl SyncStore + 'static) -> SyncJob {
    SyncJob::new(
        client,
        "bench",
        [
            PersonField::Names,
            PersonField::EmailAddresses,
            PersonField::PhoneNumbers,
        ],
    )
    .unwrap()
    .store(store)
    .user(USER)
    .keep_all_outcomes(false)
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The emulator without quotas: this measures the engine's own cost (pacing to the quotas is
/// the domain benchmark's subject, and would make a 100,000-record user take minutes).
fn unlimited() -> google_people_emulator::Config {
    let mut config = google_people_emulator::Config::default();
    config.quota = None;
    config
}

/// Peak resident set size of this process, from `/proc/self/status`.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_string();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    install_crypto_provider();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        // The emulator for the memory part, until stdin closes.
        rt.block_on(async {
            let emu = Emulator::start_with(unlimited()).await.unwrap();
            println!("{} {}", emu.base_url(), emu.issue_token(USER));
            let _ = args.get(i + 1);
            tokio::task::spawn_blocking(|| {
                let mut sink = Vec::new();
                let _ = std::io::stdin().read_to_end(&mut sink);
            })
            .await
            .unwrap();
        });
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--client") {
        // The memory part's client: one phase (a first sync, or a re-sync from the state the first
        // left), in a process of its own; print the peak.
        let n: usize = args[i + 1].parse().unwrap();
        let (base, token, phase, dir) = (&args[i + 2], &args[i + 3], &args[i + 4], &args[i + 5]);
        rt.block_on(async {
            let client = Client::builder()
                .base_url(base)
                .access_token(token)
                .build()
                .unwrap();
            let report = job(&client, FileStore::new(dir))
                .run(records(n, 0))
                .await
                .unwrap();
            let s = report.summary;
            match phase.as_str() {
                "first" => assert_eq!(s.created, n as u64),
                _ => assert_eq!((s.unchanged, s.requests), (n as u64, 1)),
            }
        });
        println!("{}", peak_rss_kib());
        return;
    }

    let n = env("SYNC_BENCH_RECORDS", 10_000);
    let changed = env("SYNC_BENCH_CHANGED", 137);
    if env("SYNC_BENCH_RSS", 1) == 1 {
        let (first_s, resync_s) = measure_rss(10_000);
        let (first_l, resync_l) = measure_rss(100_000);
        println!(
            "sync_rss: first_kib(10000)={first_s} first_kib(100000)={first_l} first_ratio={:.2} \
             resync_kib(10000)={resync_s} resync_kib(100000)={resync_l} resync_ratio={:.2}",
            first_l as f64 / first_s.max(1) as f64,
            resync_l as f64 / resync_s.max(1) as f64
        );
    }

    let emu = rt.block_on(Emulator::start_with(unlimited())).unwrap();
    let client = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(USER))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let store = MemoryStore::new();
    let start = Instant::now();
    let first = rt
        .block_on(job(&client, store.clone()).run(records(n, 0)))
        .unwrap();
    let first_s = start.elapsed().as_secs_f64();
    assert_eq!(first.summary.created, n as u64);
    let start = Instant::now();
    let again = rt
        .block_on(job(&client, store.clone()).run(records(n, 0)))
        .unwrap();
    let resync_s = start.elapsed().as_secs_f64();
    let changes = rt
        .block_on(job(&client, store.clone()).run(records(n, changed)))
        .unwrap();
    assert_eq!(changes.summary.updated, changed as u64);
    println!(
        "sync: records={n} first_requests={} first_s={first_s:.3} resync_requests={} resync_writes={} resync_s={resync_s:.3} changed={changed} changed_requests={}",
        first.summary.requests,
        again.summary.requests,
        again.summary.writes,
        changes.summary.requests
    );
}

/// The client's peak RSS (KiB) for a first sync, and for a re-sync from the state it left, of
/// `n` records, each phase in a process of its own.
fn measure_rss(n: usize) -> (u64, u64) {
    let exe = std::env::current_exe().unwrap();
    let mut server = Command::new(&exe)
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let (base, token) = first.trim().split_once(' ').unwrap();
    let dir = std::env::temp_dir().join(format!("gp-sync-bench-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let phase = |name: &str| -> u64 {
        let out = Command::new(&exe)
            .args(["--client", &n.to_string(), base, token, name])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .lines()
            .last()
            .and_then(|l| l.parse().ok())
            .unwrap_or(0)
    };
    let result = (phase("first"), phase("resync"));
    if let Some(mut stdin) = server.stdin.take() {
        let _ = stdin.flush();
    }
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
