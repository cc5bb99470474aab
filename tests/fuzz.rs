//! Deterministic fuzzing of what the server sends back: mutated real payloads for every response
//! type of the document, mutated error bodies, and odd response headers. Nothing may panic; a body
//! that decodes must re-encode and decode to the same value. Seeded, and bounded in count and
//! time, so a failure replays exactly.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use google_people::runtime::{Error, RetryPolicy, decode};
use google_people::*;
use serde_json::{Value, json};
use support::{Reply, TestServer};

/// Mutations per response type (and at most this much time for each).
const ROUNDS: usize = 400;
const BUDGET: Duration = Duration::from_secs(3);

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/real/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A realistic body for each response type, built from the real payloads.
fn seeds() -> Vec<(&'static str, Value)> {
    let person = fixture("person_get_2.json");
    let page = fixture("connections_list_page_1.json");
    let groups = fixture("contact_groups_list_1.json");
    let group = groups["contactGroups"][0].clone();
    let rn = person["resourceName"].clone();
    vec![
        ("Person", person.clone()),
        ("ListConnectionsResponse", page),
        ("ListContactGroupsResponse", groups),
        ("ContactGroup", group.clone()),
        (
            "GetPeopleResponse",
            json!({"responses": [{"requestedResourceName": rn, "httpStatusCode": 200,
                "person": person, "status": {}},
                {"requestedResourceName": "people/c1", "httpStatusCode": 404,
                "status": {"code": 5, "message": "Requested entity was not found."}}]}),
        ),
        (
            "BatchUpdateContactsResponse",
            json!({"updateResult": {rn.as_str().unwrap(): {"person": person,
                "httpStatusCode": 200, "status": {}}}}),
        ),
        (
            "BatchCreateContactsResponse",
            json!({"createdPeople": [{"person": person, "httpStatusCode": 200,
                "requestedResourceName": rn, "status": {}}]}),
        ),
        (
            "BatchGetContactGroupsResponse",
            json!({"responses": [{"contactGroup": group, "requestedResourceName":
                "contactGroups/myContacts", "status": {}}]}),
        ),
        ("SearchResponse", json!({"results": [{"person": person}]})),
        (
            "ListOtherContactsResponse",
            json!({"otherContacts": [person], "nextPageToken": "t", "totalSize": 1}),
        ),
        (
            "ListDirectoryPeopleResponse",
            json!({"people": [person], "nextSyncToken": "s", "nextPageToken": "t"}),
        ),
        (
            "SearchDirectoryPeopleResponse",
            json!({"people": [person], "totalSize": 1, "nextPageToken": "t"}),
        ),
        (
            "ModifyContactGroupMembersResponse",
            json!({"notFoundResourceNames": ["people/c1"],
                "canNotRemoveLastContactGroupResourceNames": ["people/c2"]}),
        ),
        ("UpdateContactPhotoResponse", json!({"person": person})),
        ("DeleteContactPhotoResponse", json!({"person": person})),
        ("Empty", json!({})),
    ]
}

/// Replace a random node of `v` with a value of another shape.
fn mutate_tree(v: &mut Value, rng: &mut Rng) {
    let replacements = [
        Value::Null,
        json!(true),
        json!(-1),
        json!(18446744073709551615u64),
        json!(1e308),
        json!(-0.5),
        json!(""),
        json!("%2e%2e"),
        json!("\u{0}\u{fffd}\u{1F600}"),
        json!([]),
        json!({}),
        json!([[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]),
        json!({"unknownField": {"nested": [1, "x", null]}}),
        json!("NOT_A_KNOWN_ENUM_VALUE"),
        json!("9223372036854775808"),
    ];
    // Choose a random path (read-only), then change the node at its end.
    let mut pointer = String::new();
    let mut at = &*v;
    for _ in 0..rng.below(8) {
        let (step, next) = match at {
            Value::Object(m) if !m.is_empty() => {
                let (k, n) = m.iter().nth(rng.below(m.len())).unwrap();
                (k.replace('~', "~0").replace('/', "~1"), n)
            }
            Value::Array(a) if !a.is_empty() => {
                let i = rng.below(a.len());
                (i.to_string(), &a[i])
            }
            _ => break,
        };
        pointer.push('/');
        pointer.push_str(&step);
        at = next;
    }
    let node = v.pointer_mut(&pointer).unwrap();
    match rng.below(4) {
        0 => {
            if let Value::Object(m) = node {
                m.insert(
                    format!("k{}", rng.below(5)),
                    replacements[rng.below(replacements.len())].clone(),
                );
                return;
            }
            *node = replacements[rng.below(replacements.len())].clone();
        }
        1 => {
            if let Value::Object(m) = node
                && let Some(k) = m.keys().nth(rng.below(m.len().max(1))).cloned()
            {
                m.remove(&k);
            }
        }
        _ => *node = replacements[rng.below(replacements.len())].clone(),
    }
}

/// Damage the bytes: cut, flip, insert, splice in invalid UTF-8 or duplicate a span.
fn mutate_bytes(b: &mut Vec<u8>, rng: &mut Rng) {
    if b.is_empty() {
        b.push(b'{');
        return;
    }
    match rng.below(6) {
        0 => b.truncate(rng.below(b.len())),
        1 => {
            let i = rng.below(b.len());
            b[i] ^= 1 << rng.below(8);
        }
        2 => {
            let i = rng.below(b.len());
            let junk: &[u8] = [
                &b"\xff\xfe"[..],
                b"\"",
                b",",
                b"}",
                b"]",
                b"\\u",
                b"1e999",
                b"\xc3",
            ][rng.below(8)];
            b.splice(i..i, junk.iter().copied());
        }
        3 => {
            let i = rng.below(b.len());
            b.remove(i);
        }
        4 => {
            let (i, j) = (rng.below(b.len()), rng.below(b.len()));
            let (lo, hi) = (i.min(j), i.max(j).min(i.min(j) + 64));
            let span = b[lo..hi].to_vec();
            b.splice(lo..lo, span);
        }
        _ => b.extend_from_slice(b" trailing"),
    }
}

/// Decode `bytes` as `T`: it may fail, never panic; what decodes survives a round trip.
fn check<T>(name: &str, bytes: &[u8])
where
    T: serde::de::DeserializeOwned
        + serde::Serialize
        + google_people::runtime::json::ToJson
        + PartialEq
        + std::fmt::Debug,
{
    match decode::<T>(bytes) {
        Ok(v) => {
            let again = serde_json::to_vec(&v).unwrap();
            // The library's own body writer writes the same bytes as serde's impls.
            let ours = google_people::runtime::json::to_vec(&v);
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&again),
                "{name}: the body writer and serde disagree"
            );
            let back: T = decode(&again)
                .unwrap_or_else(|e| panic!("{name}: re-encoded value does not decode: {e}"));
            assert_eq!(back, v, "{name}: round trip changed the value");
        }
        Err(e) => {
            assert!(e.is_decode(), "{name}: {e:?}");
            // The message names what went wrong without quoting the whole body.
            assert!(
                e.to_string().len() < 2_000,
                "{name}: {} bytes of message",
                e.to_string().len()
            );
        }
    }
}

macro_rules! fuzz_types {
    ($name:expr, $bytes:expr, $($t:ident),* $(,)?) => {{
        const NAMES: &[&str] = &[$(stringify!($t)),*];
        match $name {
            $(stringify!($t) => check::<$t>($name, $bytes),)*
            other => panic!("no decoder listed for {other}"),
        }
        NAMES
    }};
}

fn check_any(name: &str, bytes: &[u8]) -> &'static [&'static str] {
    fuzz_types!(
        name,
        bytes,
        Person,
        ListConnectionsResponse,
        ListContactGroupsResponse,
        ContactGroup,
        GetPeopleResponse,
        BatchUpdateContactsResponse,
        BatchCreateContactsResponse,
        BatchGetContactGroupsResponse,
        SearchResponse,
        ListOtherContactsResponse,
        ListDirectoryPeopleResponse,
        SearchDirectoryPeopleResponse,
        ModifyContactGroupMembersResponse,
        UpdateContactPhotoResponse,
        DeleteContactPhotoResponse,
        Empty,
    )
}

/// Every response type the document's methods return.
fn response_types() -> BTreeSet<String> {
    support::discovery_methods()
        .iter()
        .filter_map(|m| m["response"]["$ref"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn mutated_payloads_of_every_response_type_never_panic() {
    let seeds = seeds();
    let seeded: BTreeSet<String> = seeds.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        seeded,
        response_types(),
        "a seed payload for every response type"
    );
    let listed: BTreeSet<String> = check_any("Empty", b"{}")
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        listed,
        response_types(),
        "a decoder for every response type"
    );

    let mut rng = Rng(0x5EED_2026);
    for (name, seed) in &seeds {
        let start = Instant::now();
        check_any(name, &serde_json::to_vec(seed).unwrap());
        for round in 0..ROUNDS {
            if start.elapsed() > BUDGET {
                break;
            }
            let bytes = if round % 2 == 0 {
                let mut v = seed.clone();
                for _ in 0..=rng.below(3) {
                    mutate_tree(&mut v, &mut rng);
                }
                serde_json::to_vec(&v).unwrap()
            } else {
                let mut b = serde_json::to_vec_pretty(seed).unwrap();
                for _ in 0..=rng.below(3) {
                    mutate_bytes(&mut b, &mut rng);
                }
                b
            };
            check_any(name, &bytes);
        }
    }
}

#[test]
fn mutated_error_bodies_never_panic() {
    let mut rng = Rng(0xE770);
    let bodies = [
        fixture("error_etag_mismatch_1.json"),
        fixture("error_invalid_argument_read_mask_1.json"),
        fixture("error_rate_limit_2.json"),
        fixture("error_unauthenticated_1.json"),
        json!({"error": {"code": 503, "status": "UNAVAILABLE", "details": [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"},
            {"@type": "type.googleapis.com/google.people.v1.BatchUpdateContactsErrorDetails",
             "contactErrors": {"people/c1": {"code": 9, "message": "stale"}}}]}}),
    ];
    let start = Instant::now();
    for round in 0..4_000 {
        if start.elapsed() > BUDGET {
            break;
        }
        let seed = &bodies[round % bodies.len()];
        let bytes = if round % 2 == 0 {
            let mut v = seed.clone();
            mutate_tree(&mut v, &mut rng);
            serde_json::to_vec(&v).unwrap()
        } else {
            let mut b = serde_json::to_vec(seed).unwrap();
            mutate_bytes(&mut b, &mut rng);
            b
        };
        let status = [400, 401, 403, 404, 409, 429, 500, 502, 503, 504, 599][rng.below(11)];
        let hint = [None, Some(Duration::ZERO), Some(Duration::MAX)][rng.below(3)];
        let e = Error::from_response(status, hint, &bytes);
        // Every accessor answers.
        let _ = (
            e.to_string(),
            format!("{e:?}"),
            e.retry_after(),
            e.is_retryable(),
            e.is_etag_mismatch(),
            e.is_rate_limited(),
            e.api_error().map(|a| a.contact_errors().len()),
        );
        let policy = RetryPolicy::default();
        let _ = policy.next_delay(2, Duration::from_secs(3), &e, runtime::Replay::Safe);
    }
}

#[tokio::test]
async fn odd_response_headers_never_panic() {
    let server = TestServer::start().await;
    let client = Client::builder()
        .base_url(&server.base_url)
        .access_token("t")
        .timeout(Duration::from_secs(2))
        .retry_policy(
            RetryPolicy::default()
                .with_delays(
                    Duration::from_millis(1),
                    Duration::from_millis(5),
                    Duration::from_millis(1),
                )
                .with_budget(3, Duration::from_millis(500)),
        )
        .build()
        .unwrap();
    let retry_after = [
        "0",
        "-1",
        "1.5",
        "18446744073709551615",
        "99999999999999999999999999",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 31 Feb 2026 08:49:37 GMT",
        "soon",
        "",
        "  7  ",
        "\u{00e9}",
    ];
    let content_type = [
        "application/json",
        "text/html",
        "application/json; charset=ISO-8859-1",
        "",
        "application/octet-stream",
    ];
    let person = serde_json::to_string(&fixture("person_get_2.json")).unwrap();
    let error = serde_json::to_string(&fixture("error_rate_limit_2.json")).unwrap();
    let mut rng = Rng(0x4EAD);
    let start = Instant::now();
    for i in 0..120 {
        if start.elapsed() > Duration::from_secs(20) {
            break;
        }
        let status = [200, 429, 503, 500, 400][rng.below(5)];
        let body = if status == 200 { &person } else { &error };
        let reply = match rng.below(3) {
            0 => Reply::Truncated(status, body.clone()),
            _ => Reply::Raw(
                status,
                content_type[rng.below(content_type.len())],
                vec![(
                    "retry-after".into(),
                    retry_after[rng.below(retry_after.len())].into(),
                )],
                body.as_bytes().to_vec(),
            ),
        };
        server.reply(reply);
        let outcome = client
            .people()
            .get("people/c1")
            .person_fields([PersonField::Names])
            .send()
            .await;
        if let Err(e) = outcome {
            let _ = (e.to_string(), e.retry_after(), e.is_retryable());
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "round {i} waited"
        );
    }
}
