//! The batch helper against the plainest possible client: 10,000 contacts through
//! [`BatchUpdate`] versus a reqwest loop posting pre-serialized 200-contact bodies, both to the
//! same in-process emulator.
//!
//! `cargo bench --bench batch`. Criterion reports both; the last line comes from a separate loop
//! in the same run that alternates helper and raw runs (so machine noise hits both alike) and
//! takes the median of each (15 runs each; `BATCH_BENCH_SAMPLES=1` prints them all):
//! `batch: contacts=<n> requests=<n> helper_s=<f> raw_s=<f> ratio=<helper/raw>`.
//! The helper's time includes building the typed requests and serializing them; the raw loop's
//! bodies are serialized before the clock starts.

use std::time::{Duration, Instant};

use criterion::Criterion;
use google_people::batch::BatchUpdate;
use google_people::runtime::{RetryPolicy, install_crypto_provider};
use google_people::{Client, Name, Person, PersonField};
use google_people_emulator::Emulator;
use tokio::runtime::Runtime;

const N: usize = 10_000;
const USER: &str = "bench@example.com";

struct Setup {
    rt: Runtime,
    emu: Emulator,
    names: Vec<String>,
    token: String,
    client: Client,
    raw: reqwest::Client,
}

impl Setup {
    fn new() -> Self {
        // One worker for the emulator (and the connections' tasks), the calling thread for the
        // client: on a 2-core machine neither side waits for a core, so the ratio is less noisy.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let emu = rt.block_on(Emulator::start()).unwrap();
        let names = emu.seed_contacts(USER, N);
        let token = emu.issue_token(USER);
        install_crypto_provider();
        let client = Client::builder()
            .base_url(emu.base_url())
            .access_token(token.clone())
            .retry_policy(RetryPolicy::never())
            .build()
            .unwrap();
        let raw = reqwest::Client::builder().build().unwrap();
        Self {
            rt,
            emu,
            names,
            token,
            client,
            raw,
        }
    }

    /// Every contact's current etag with a new family name.
    fn updates(&self, round: u64) -> Vec<(String, Person)> {
        self.names
            .iter()
            .map(|rn| {
                let etag = self.emu.contact(USER, rn).unwrap()["etag"]
                    .as_str()
                    .unwrap()
                    .to_string();
                let person = Person::new().set_etag(etag).set_names([Name::new()
                    .set_given_name("Bench")
                    .set_family_name(format!("Round{round}"))]);
                (rn.clone(), person)
            })
            .collect()
    }

    /// The helper's wall time and request count.
    fn helper(&self, round: u64) -> (Duration, u64) {
        let input = self.updates(round);
        let job = BatchUpdate::new(&self.client, [PersonField::Names]).unwrap();
        let start = Instant::now();
        let (_, summary) = self.rt.block_on(job.run_all(input));
        let took = start.elapsed();
        assert_eq!(summary.succeeded, N as u64, "{summary:?}");
        (took, summary.requests)
    }

    /// The raw loop's wall time: the same updates, serialized up front, posted one after another.
    fn raw(&self, round: u64) -> Duration {
        let bodies: Vec<Vec<u8>> = self
            .updates(round)
            .chunks(200)
            .map(|chunk| {
                let contacts: serde_json::Map<String, serde_json::Value> = chunk
                    .iter()
                    .map(|(rn, p)| (rn.clone(), serde_json::to_value(p).unwrap()))
                    .collect();
                serde_json::to_vec(
                    &serde_json::json!({"contacts": contacts, "updateMask": "names"}),
                )
                .unwrap()
            })
            .collect();
        let url = format!("{}v1/people:batchUpdateContacts", self.emu.base_url());
        let start = Instant::now();
        self.rt.block_on(async {
            for body in bodies {
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
                resp.bytes().await.unwrap();
            }
        });
        start.elapsed()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let setup = Setup::new();
    let mut round = 0u64;
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
                        setup.helper(round).0
                    })
                    .sum()
            })
        });
        g.bench_function("raw_reqwest", |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        round += 1;
                        setup.raw(round)
                    })
                    .sum()
            })
        });
        g.finish();
    }
    c.final_summary();

    let (mut helper, mut raw, mut requests) = (Vec::new(), Vec::new(), 0);
    for i in 0..15 {
        // Alternate which goes first, so neither always runs on a warmer machine.
        for helper_turn in [i % 2 == 0, i % 2 == 1] {
            round += 1;
            if helper_turn {
                let (t, r) = setup.helper(round);
                helper.push(t.as_secs_f64());
                requests = r;
            } else {
                raw.push(setup.raw(round).as_secs_f64());
            }
        }
    }
    if std::env::var_os("BATCH_BENCH_SAMPLES").is_some() {
        eprintln!("helper samples: {helper:.3?}\nraw samples: {raw:.3?}");
    }
    let (h, r) = (median(helper), median(raw));
    println!(
        "batch: contacts={N} requests={requests} helper_s={h:.3} raw_s={r:.3} ratio={:.3}",
        h / r
    );
}
