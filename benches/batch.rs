//! The batch helper against the plainest possible client: 10,000 contacts through
//! [`BatchUpdate`] versus a reqwest loop posting 200-contact bodies, both to the same emulator,
//! which runs in a child process so that the client's CPU time can be measured on its own.
//!
//! `cargo bench --bench batch`. Profile one side with `BATCH_BENCH_SPIN=helper` (or `raw`),
//! sampling only the measured part: `mkfifo /tmp/ctl && BATCH_BENCH_PERF_CTL=/tmp/ctl
//! BATCH_BENCH_SPIN=helper perf record --control fifo:/tmp/ctl -D -1 --no-inherit <bench binary>`.
//! Criterion reports both; the last line comes from a separate loop
//! in the same run that alternates helper and raw runs (so machine noise hits both alike) and
//! takes the median of each (81 runs each, `BATCH_BENCH_RUNS=<n>` to change; a run's CPU time
//! varies by up to 3x on this busy 2-core virtual machine as its host's load comes and goes, and
//! 41 runs left `cpu_ratio` with a standard deviation of about 0.04 between invocations (twice
//! the runs: about 0.03); to compare two builds, interleave their binaries with 150 or more;
//! `BATCH_BENCH_SAMPLES=1` prints every run):
//! `batch: contacts=<n> requests=<n> helper_s=<f> raw_s=<f> ratio=<helper/raw> cpu_ratio=<f>`.
//!
//! Both sides start from the same typed `(resource name, Person)` list and do the same work a
//! client must do: serialize 200-contact bodies (no read mask: the server skips the read-back),
//! post them one after another, and decode each answer into the typed response. `ratio` compares
//! wall time; `cpu_ratio` the client process's CPU time (user + system,
//! `CLOCK_PROCESS_CPUTIME_ID`), which leaves the server's work out (the host's load still moves
//! it, hence the alternation and the medians): what the helper's bookkeeping (validation,
//! outcomes, settling, pacing) costs over the bare loop.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::Criterion;
use futures_util::StreamExt as _;
use google_people::batch::BatchUpdate;
use google_people::runtime::{RetryPolicy, decode, install_crypto_provider};
use google_people::{BatchUpdateContactsResponse, Client, Name, Person, PersonField};
use google_people_emulator::Emulator;
use tokio::runtime::Runtime;

const N: usize = 10_000;
const USER: &str = "bench@example.com";

/// This process's CPU time (user + system, every thread), to the nanosecond
/// (`CLOCK_PROCESS_CPUTIME_ID`): a run costs the client a few milliseconds of CPU, below the
/// 10 ms clock tick of `/proc/self/stat`.
fn cpu_time() -> Duration {
    cpu_time::ProcessTime::now().as_duration()
}

/// One measured run: wall time and client CPU time.
struct Run {
    wall: Duration,
    cpu: Duration,
}

fn measure(rt: &Runtime, work: impl std::future::Future<Output = ()>) -> Run {
    perf_control("enable");
    let (start, cpu) = (Instant::now(), cpu_time());
    rt.block_on(work);
    let run = Run {
        wall: start.elapsed(),
        cpu: cpu_time() - cpu,
    };
    perf_control("disable");
    run
}

/// With `BATCH_BENCH_PERF_CTL=<fifo>`, tell `perf record --control fifo:<fifo> -D -1` to sample
/// the measured part only (not the listing that prepares each run's updates).
fn perf_control(command: &str) {
    if let Some(fifo) = std::env::var_os("BATCH_BENCH_PERF_CTL") {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
        writeln!(f, "{command}").unwrap();
    }
}

struct Setup {
    rt: Runtime,
    server: Child,
    base: String,
    token: String,
    client: Client,
    raw: reqwest::Client,
}

impl Setup {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        install_crypto_provider();
        let mut server = Command::new(std::env::current_exe().unwrap())
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
        let client = Client::builder()
            .base_url(base)
            .access_token(token)
            .retry_policy(RetryPolicy::never())
            .build()
            .unwrap();
        Self {
            rt,
            server,
            base: base.to_string(),
            token: token.to_string(),
            client,
            raw: reqwest::Client::builder().build().unwrap(),
        }
    }

    /// Every contact with its current etag and a new family name (read before the clock starts).
    fn updates(&self, round: u64) -> Vec<(String, Person)> {
        self.rt.block_on(async {
            let mut pages = self
                .client
                .people()
                .connections()
                .list("people/me")
                .person_fields([PersonField::Names])
                .page_size(1000)
                .by_item();
            let mut out = Vec::with_capacity(N);
            while let Some(p) = pages.next().await {
                let p = p.unwrap();
                let person = Person::new()
                    .set_etag(p.etag.unwrap())
                    .set_names([Name::new()
                        .set_given_name("Bench")
                        .set_family_name(format!("Round{round}"))]);
                out.push((p.resource_name.unwrap(), person));
            }
            assert_eq!(out.len(), N);
            out
        })
    }

    /// The helper: a run and its request count.
    fn helper(&self, round: u64) -> (Run, u64) {
        let input = self.updates(round);
        let job = BatchUpdate::new(&self.client, [PersonField::Names]).unwrap();
        let mut summary = None;
        let run = measure(&self.rt, async {
            summary = Some(job.run_all(input).await.1);
        });
        let summary = summary.unwrap();
        assert_eq!(summary.succeeded, N as u64, "{summary:?}");
        (run, summary.requests)
    }

    /// The bare loop: the same typed updates serialized 200 at a time, posted one after another,
    /// each answer decoded into the typed response.
    fn raw(&self, round: u64) -> Run {
        let input = self.updates(round);
        let url = format!("{}v1/people:batchUpdateContacts", self.base);
        // The input is consumed inside the clock, as the helper consumes its own.
        measure(&self.rt, async move {
            let mut updated = 0;
            for chunk in input.chunks(200) {
                #[derive(serde::Serialize)]
                struct Body<'a> {
                    contacts: BTreeMap<&'a str, &'a Person>,
                    #[serde(rename = "updateMask")]
                    update_mask: &'static str,
                }
                let contacts = chunk.iter().map(|(rn, p)| (rn.as_str(), p)).collect();
                let body = serde_json::to_vec(&Body {
                    contacts,
                    update_mask: "names",
                })
                .unwrap();
                let resp = self
                    .raw
                    .post(&url)
                    .bearer_auth(&self.token)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert!(resp.status().is_success(), "{}", resp.status());
                let bytes = resp.bytes().await.unwrap();
                let decoded: BatchUpdateContactsResponse = decode(&bytes).unwrap();
                assert!(decoded.update_result.is_none_or(|m| m.is_empty()));
                updated += chunk.len();
            }
            assert_eq!(updated, N);
            drop(input);
        })
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        drop(self.server.stdin.take());
        let _ = self.server.wait();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The emulator, in a process of its own, until stdin closes.
fn serve() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Without quotas: the client's own cost is measured, not the pacing.
        let mut config = google_people_emulator::Config::default();
        config.quota = None;
        let emu = Emulator::start_with(config).await.unwrap();
        emu.seed_contacts(USER, N);
        println!("{} {}", emu.base_url(), emu.issue_token(USER));
        tokio::task::spawn_blocking(|| {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
        })
        .await
        .unwrap();
    });
}

fn main() {
    if std::env::args().any(|a| a == "--serve") {
        return serve();
    }
    let setup = Setup::new();
    let mut round = 0u64;
    if let Ok(side) = std::env::var("BATCH_BENCH_SPIN") {
        // One side only, in a loop, for `perf record` (`helper` or `raw`).
        for round in 1..=30 {
            match side.as_str() {
                "helper" => drop(setup.helper(round)),
                _ => drop(setup.raw(round)),
            }
        }
        return;
    }
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    {
        let mut g = c.benchmark_group("batch_update_10000");
        g.bench_function("helper", |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        round += 1;
                        setup.helper(round).0.wall
                    })
                    .sum()
            })
        });
        g.bench_function("raw_reqwest", |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        round += 1;
                        setup.raw(round).wall
                    })
                    .sum()
            })
        });
        g.finish();
    }
    c.final_summary();

    let (mut helper, mut raw, mut requests) = (Vec::new(), Vec::new(), 0);
    let runs: usize = std::env::var("BATCH_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(81);
    for i in 0..runs {
        // Alternate which goes first, so neither always runs on a warmer machine.
        for helper_turn in [i % 2 == 0, i % 2 == 1] {
            round += 1;
            if helper_turn {
                let (run, r) = setup.helper(round);
                helper.push(run);
                requests = r;
            } else {
                raw.push(setup.raw(round));
            }
        }
    }
    let secs = |runs: &[Run], f: fn(&Run) -> Duration| {
        runs.iter().map(|r| f(r).as_secs_f64()).collect::<Vec<_>>()
    };
    if std::env::var_os("BATCH_BENCH_SAMPLES").is_some() {
        eprintln!(
            "helper wall {:.3?} cpu {:.3?}\nraw wall {:.3?} cpu {:.3?}",
            secs(&helper, |r| r.wall),
            secs(&helper, |r| r.cpu),
            secs(&raw, |r| r.wall),
            secs(&raw, |r| r.cpu)
        );
    }
    let (h, r) = (
        median(secs(&helper, |r| r.wall)),
        median(secs(&raw, |r| r.wall)),
    );
    let (hc, rc) = (
        median(secs(&helper, |r| r.cpu)),
        median(secs(&raw, |r| r.cpu)),
    );
    println!(
        "batch: contacts={N} requests={requests} helper_s={h:.3} raw_s={r:.3} ratio={:.3} cpu_ratio={:.3}",
        h / r,
        hc / rc
    );
}
