//! Emulator throughput for `batchUpdateContacts` of 200 contacts over loopback, so client
//! benchmarks can show how much of their time is the server.
//!
//! `cargo bench -p google-people-emulator --bench throughput`; the last line is
//! `emulator: contacts_per_request=200 req_s=<f> contacts_s=<f>`.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use google_people_emulator::Emulator;
use serde_json::{Map, Value, json};

const USER: &str = "bench@example.com";

/// `n` request bodies, each updating 200 fresh contacts with their current etags.
fn bodies(emu: &Emulator, n: usize) -> Vec<String> {
    let names = emu.seed_contacts(USER, n * 200);
    names
        .chunks(200)
        .map(|chunk| {
            let contacts: Map<String, Value> = chunk
                .iter()
                .map(|rn| {
                    let etag = emu.contact(USER, rn).unwrap()["etag"].clone();
                    (rn.clone(), json!({"etag": etag, "names": [{"givenName": "Bench", "familyName": rn}], "emailAddresses": [{"value": "b@example.com"}]}))
                })
                .collect();
            json!({"contacts": contacts, "updateMask": "names,emailAddresses", "readMask": "names,metadata"}).to_string()
        })
        .collect()
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(Emulator::start()).unwrap();
    let token = emu.issue_token(USER);
    let http = reqwest::Client::new();
    let url = format!("{}v1/people:batchUpdateContacts", emu.base_url());
    let send_all = |bodies: Vec<String>| {
        rt.block_on(async {
            let start = Instant::now();
            for b in bodies {
                let resp = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(b)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200);
                resp.bytes().await.unwrap();
            }
            start.elapsed()
        })
    };

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    let mut g = c.benchmark_group("emulator");
    g.throughput(Throughput::Elements(200));
    g.bench_function("batch_update_200", |b| {
        b.iter_custom(|iters| send_all(bodies(&emu, iters as usize)))
    });
    g.finish();
    c.final_summary();

    let n = 50;
    let elapsed = send_all(bodies(&emu, n));
    let req_s = n as f64 / elapsed.as_secs_f64();
    println!(
        "emulator: contacts_per_request=200 req_s={req_s:.1} contacts_s={:.0}",
        req_s * 200.0
    );
}
