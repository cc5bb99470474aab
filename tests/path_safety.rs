//! No path parameter can address another endpoint: a `.` or `..` segment (plain or
//! percent-encoded) is refused before anything is sent, for every method of the discovery
//! document that has path parameters. The methods come from the document itself (build.rs
//! generates `path_probes` from it), so a new revision's methods are covered without edits here.

mod support;

use google_people::runtime::{ErrorKind, HttpMethod, Request};
use google_people::*;
use support::TestServer;

include!(concat!(env!("OUT_DIR"), "/path_probes.rs"));

/// Every method of the document with a path parameter: id and the literal prefix of its pattern
/// (`people/` for `^people/[^/]+$`).
fn methods_with_path_params() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for m in support::discovery_methods() {
        let params = m["parameters"].as_object().unwrap();
        for p in params.values().filter(|p| p["location"] == "path") {
            let pattern = p["pattern"].as_str().unwrap_or("");
            let prefix: String = pattern
                .trim_start_matches('^')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
                .collect();
            out.push((m["id"].as_str().unwrap().to_string(), prefix));
        }
    }
    out.sort();
    out
}

fn probe(client: &Client, method: &str, value: &str) -> Result<Request, runtime::Error> {
    path_probes(client, value)
        .into_iter()
        .find(|(id, _)| *id == method)
        .unwrap_or_else(|| panic!("no probe for {method}"))
        .1
}

#[test]
fn every_path_parameter_refuses_dot_segments() {
    let client = Client::builder().build().unwrap();
    let methods = methods_with_path_params();
    assert_eq!(
        methods.len(),
        path_probes(&client, "x").len(),
        "every method with a path parameter has a probe: {methods:?}"
    );
    assert!(methods.len() >= 11, "{methods:?}");
    for (method, prefix) in &methods {
        // A well-formed name builds: the probe reaches the path.
        let ok = probe(&client, method, &format!("{prefix}c123"));
        assert!(ok.is_ok(), "{method}: {ok:?}");
        for segment in [".", "..", "%2e", "%2e%2e", "%2E%2e", ".%2e"] {
            for value in [
                format!("{prefix}{segment}"),
                format!("{prefix}c1/{segment}"),
                segment.to_string(),
            ] {
                let e = probe(&client, method, &value).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::InvalidRequest, "{method} {value}");
                if value.starts_with(prefix.as_str()) && value.matches('/').count() == 1 {
                    // It matches the document's pattern: only the segment check stops it.
                    assert!(e.to_string().contains("segment"), "{method} {value}: {e}");
                }
            }
        }
    }
}

#[tokio::test]
async fn the_reported_traversals_send_nothing() {
    let server = TestServer::start().await;
    let client = server.client();
    let e = client
        .people()
        .get("people/..")
        .person_fields([PersonField::Names])
        .send()
        .await
        .unwrap_err();
    assert!(
        e.is_invalid_request() && e.to_string().contains("segment"),
        "{e}"
    );
    let e = client
        .people()
        .connections()
        .list("people/..")
        .person_fields([PersonField::Names])
        .send()
        .await
        .unwrap_err();
    assert!(e.is_invalid_request(), "{e}");
    let e = client
        .contact_groups()
        .delete("contactGroups/..")
        .send()
        .await
        .unwrap_err();
    assert!(e.is_invalid_request(), "{e}");
    let e = client
        .people()
        .get("people/%2e%2E")
        .person_fields([PersonField::Names])
        .send()
        .await
        .unwrap_err();
    assert!(e.is_invalid_request(), "{e}");
    // A hand-built request is checked where the URL is joined, too.
    let request = Request::new(HttpMethod::Get, BASE_URL, "v1/people/../x".into(), "custom");
    let e = client.execute_empty(request).await.unwrap_err();
    assert!(e.is_invalid_request(), "{e}");
    assert!(server.requests().is_empty(), "{:?}", server.requests());

    // Names that merely contain dots are fine.
    server.json(200, r#"{"resourceName": "people/c1.x"}"#);
    client
        .people()
        .get("people/c1.x")
        .person_fields([PersonField::Names])
        .send()
        .await
        .unwrap();
    assert_eq!(server.requests()[0].path(), "/v1/people/c1.x");
}
