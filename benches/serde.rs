//! Decoding and encoding People payloads: the generated types against `serde_json::Value`.
//!
//! `cargo bench --bench serde`. Criterion reports each case; the last line is a summary from a
//! separate loop in the same run that alternates typed and `Value` decodes (so machine noise hits
//! both alike), each through the client's own decode path (`runtime::decode`: one UTF-8 check,
//! then parse), for tracking over time:
//! `serde: typed_mb_s=<f> value_mb_s=<f> ratio=<typed/value>`.

mod support {
    pub mod people_gen;
}

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use google_people::runtime::decode;
use google_people::{BatchUpdateContactsRequest, BatchUpdateContactsResponse, Person, PersonField};
use support::people_gen::batch_update_response;

fn request_of(resp: &BatchUpdateContactsResponse) -> BatchUpdateContactsRequest {
    let contacts = resp
        .update_result
        .as_ref()
        .unwrap()
        .iter()
        .map(|(k, r)| (k.clone(), r.person.clone().unwrap_or_else(Person::new)));
    BatchUpdateContactsRequest::new()
        .set_contacts(contacts)
        .set_update_mask([
            PersonField::Names,
            PersonField::EmailAddresses,
            PersonField::PhoneNumbers,
        ])
        .set_read_mask([PersonField::Names, PersonField::Metadata])
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median throughputs in MB/s of `a` and `b` over `bytes`, alternating them for about `budget`.
fn interleaved_mb_per_s(
    bytes: usize,
    budget: Duration,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (f64, f64) {
    let (mut sa, mut sb) = (Vec::new(), Vec::new());
    let start = Instant::now();
    while start.elapsed() < budget || sa.len() < 5 {
        let t = Instant::now();
        a();
        sa.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        b();
        sb.push(t.elapsed().as_secs_f64());
    }
    let mb = bytes as f64 / 1e6;
    (mb / median(sa), mb / median(sb))
}

fn main() {
    let body = batch_update_response(200, 42);
    let bytes = body.len();
    let typed: BatchUpdateContactsResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(
        serde_json::to_value(&typed).unwrap(),
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        "fixture must round-trip"
    );
    let request = request_of(&typed);
    let request_bytes = serde_json::to_vec(&request).unwrap().len();
    let discovery = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/discovery/people.v1.json"
    ))
    .unwrap();

    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    {
        let mut g = c.benchmark_group("decode_batch_update_response_200");
        g.throughput(Throughput::Bytes(bytes as u64));
        g.bench_function("typed", |b| {
            b.iter(|| black_box(decode::<BatchUpdateContactsResponse>(body.as_bytes()).unwrap()))
        });
        g.bench_function("value", |b| {
            b.iter(|| black_box(decode::<serde_json::Value>(body.as_bytes()).unwrap()))
        });
        g.bench_function("typed_from_slice", |b| {
            b.iter(|| {
                black_box(
                    serde_json::from_slice::<BatchUpdateContactsResponse>(body.as_bytes()).unwrap(),
                )
            })
        });
        g.bench_function("value_from_slice", |b| {
            b.iter(|| {
                black_box(serde_json::from_slice::<serde_json::Value>(body.as_bytes()).unwrap())
            })
        });
        g.finish();
    }
    {
        let value: serde_json::Value = serde_json::to_value(&request).unwrap();
        let mut g = c.benchmark_group("encode_batch_update_request_200");
        g.throughput(Throughput::Bytes(request_bytes as u64));
        g.bench_function("typed_to_vec", |b| {
            b.iter(|| black_box(serde_json::to_vec(&request).unwrap()))
        });
        // What the library's own calls send: the generated body writer (same bytes).
        g.bench_function("typed_write_json", |b| {
            b.iter(|| black_box(google_people::runtime::json::to_vec(&request)))
        });
        g.bench_function("value_to_vec", |b| {
            b.iter(|| black_box(serde_json::to_vec(&value).unwrap()))
        });
        g.bench_function("typed_via_value", |b| {
            b.iter(|| {
                black_box(serde_json::to_vec(&serde_json::to_value(&request).unwrap()).unwrap())
            })
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("codegen");
        g.sample_size(10);
        let opts = google_people_codegen::Options::google_people();
        g.bench_function("render_people_v1", |b| {
            b.iter(|| black_box(google_people_codegen::render(&discovery, &opts).unwrap()))
        });
        g.finish();
    }
    c.final_summary();

    let budget = Duration::from_secs(4);
    let value = serde_json::to_value(&request).unwrap();
    let (enc_mb_s, via_value_mb_s) = interleaved_mb_per_s(
        request_bytes,
        budget,
        || drop(black_box(serde_json::to_vec(&request).unwrap())),
        || {
            drop(black_box(
                serde_json::to_vec(&serde_json::to_value(&request).unwrap()).unwrap(),
            ))
        },
    );
    drop(value);
    let (typed_mb_s, value_mb_s) = interleaved_mb_per_s(
        bytes,
        budget,
        || {
            drop(black_box(
                decode::<BatchUpdateContactsResponse>(body.as_bytes()).unwrap(),
            ))
        },
        || {
            drop(black_box(
                decode::<serde_json::Value>(body.as_bytes()).unwrap(),
            ))
        },
    );
    println!("fixture: {bytes} bytes response, {request_bytes} bytes request, 200 contacts");
    println!(
        "encode: typed_to_vec_mb_s={enc_mb_s:.1} typed_via_value_mb_s={via_value_mb_s:.1} ratio={:.2}",
        enc_mb_s / via_value_mb_s
    );
    println!(
        "serde: typed_mb_s={typed_mb_s:.1} value_mb_s={value_mb_s:.1} ratio={:.2}",
        typed_mb_s / value_mb_s
    );
}
