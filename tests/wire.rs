//! What goes over the wire: method, path (reserved expansion keeps `/`), query, headers and body;
//! checks that stop a request before it is sent; how every kind of failure surfaces; pagination.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt as _;
use google_people::runtime::{AccessToken, BoxFuture, ErrorDetail, TokenSource};
use google_people::*;
use support::{Reply, TestServer, fixture};

#[tokio::test]
async fn get_sends_method_path_query_and_headers() {
    let server = TestServer::start().await;
    server.json(200, fixture("person_get_2.json"));
    let person = server
        .client()
        .people()
        .get("people/c2945739795208677217")
        .person_fields([PersonField::Names, PersonField::EmailAddresses])
        .sources([ReadSourceType::Contact, ReadSourceType::Profile])
        .fields("names,etag")
        .quota_user("user-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        person.resource_name.as_deref(),
        Some("people/c2945739795208677217")
    );

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.path(), "/v1/people/c2945739795208677217");
    assert_eq!(
        r.query(),
        [
            ("personFields", "names,emailAddresses"),
            ("sources", "READ_SOURCE_TYPE_CONTACT"),
            ("sources", "READ_SOURCE_TYPE_PROFILE"),
            ("fields", "names,etag"),
            ("quotaUser", "user-1"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    assert_eq!(r.header("authorization"), Some("Bearer test-token"));
    assert!(
        r.header("user-agent")
            .unwrap()
            .starts_with("google-people-rust/")
    );
    assert!(r.header("x-goog-api-client").unwrap().contains("gdcl/"));
    assert!(r.body.is_empty());
}

/// An application's own `reqwest::Client` carries the calls: its default headers go out, and so
/// do this library's headers, token and per-request settings.
#[tokio::test]
async fn an_applications_own_reqwest_client_carries_the_calls() {
    let server = TestServer::start().await;
    server.json(200, r#"{"resourceName": "people/c1"}"#);
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-app", reqwest::header::HeaderValue::from_static("mine"));
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let client = Client::builder()
        .base_url(&server.base_url)
        .access_token("app-token")
        .http_client(http)
        .build()
        .unwrap();
    let p = client
        .people()
        .get("people/c1")
        .person_fields([PersonField::Names])
        .send()
        .await
        .unwrap();
    assert_eq!(p.resource_name.as_deref(), Some("people/c1"));
    let r = &server.requests()[0];
    assert_eq!(r.header("x-app"), Some("mine"));
    assert_eq!(r.header("authorization"), Some("Bearer app-token"));
    assert!(r.header("x-goog-api-client").unwrap().contains("gdcl/"));
    assert!(
        r.header("user-agent")
            .unwrap()
            .starts_with("google-people-rust/")
    );
}

#[tokio::test]
async fn reserved_expansion_keeps_slashes_and_escapes_the_rest() {
    let server = TestServer::start().await;
    server.json(200, "{}");
    let body = ModifyContactGroupMembersRequest::new().set_resource_names_to_add(["people/c1"]);
    server
        .client()
        .contact_groups()
        .members()
        .modify("contactGroups/a b?c#d", body)
        .send()
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path(), "/v1/contactGroups/a%20b%3Fc%23d/members:modify");
    assert_eq!(
        r.json(),
        serde_json::json!({"resourceNamesToAdd": ["people/c1"]})
    );
}

#[tokio::test]
async fn batch_update_posts_the_json_body() {
    let server = TestServer::start().await;
    server.json(200, r#"{"updateResult": {"people/c1": {"requestedResourceName": "people/c1", "httpStatusCode": 200, "person": {"resourceName": "people/c1", "etag": "%new"}}}}"#);
    let person = Person::new().set_etag("%old").set_names([Name::new()
        .set_given_name("Ada")
        .set_family_name("Lovelace")]);
    let body = BatchUpdateContactsRequest::new()
        .set_contacts([("people/c1", person)])
        .set_update_mask([PersonField::Names])
        .set_read_mask([PersonField::Names, PersonField::Metadata])
        .set_sources([ReadSourceType::Contact]);
    let resp = server
        .client()
        .people()
        .batch_update_contacts(body)
        .send()
        .await
        .unwrap();
    let result = &resp.update_result.unwrap()["people/c1"];
    assert_eq!(
        result.person.as_ref().unwrap().etag.as_deref(),
        Some("%new")
    );

    let r = &server.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path(), "/v1/people:batchUpdateContacts");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.json(),
        serde_json::json!({
            "contacts": {"people/c1": {"etag": "%old", "names": [{"familyName": "Lovelace", "givenName": "Ada"}]}},
            "readMask": "names,metadata",
            "sources": ["READ_SOURCE_TYPE_CONTACT"],
            "updateMask": "names"
        })
    );
}

#[tokio::test]
async fn bad_input_is_rejected_before_sending() {
    let server = TestServer::start().await;
    let client = server.client();
    let people = client.people();

    let e = people.get("contactGroups/x").send().await.unwrap_err();
    assert!(e.is_invalid_request(), "{e}");
    assert!(e.to_string().contains("resourceName"), "{e}");
    assert!(
        people
            .get("")
            .send()
            .await
            .unwrap_err()
            .is_invalid_request()
    );
    assert!(
        people
            .get("people/c1/extra")
            .send()
            .await
            .unwrap_err()
            .is_invalid_request()
    );
    assert!(
        people
            .delete_contact("otherContacts/c1")
            .send()
            .await
            .unwrap_err()
            .is_invalid_request()
    );

    let many = (0..201).map(|i| (format!("people/c{i}"), Person::new().set_etag("e")));
    let body = BatchUpdateContactsRequest::new()
        .set_contacts(many)
        .set_update_mask([PersonField::Names]);
    let e = people.batch_update_contacts(body).send().await.unwrap_err();
    assert!(e.is_invalid_request());
    assert!(e.to_string().contains("at most 200"), "{e}");

    let creates = (0..201).map(|_| ContactToCreate::new().set_contact_person(Person::new()));
    let e = people
        .batch_create_contacts(BatchCreateContactsRequest::new().set_contacts(creates))
        .send()
        .await;
    assert!(e.unwrap_err().is_invalid_request());

    let deletes = (0..501).map(|i| format!("people/c{i}"));
    let e = people
        .batch_delete_contacts(BatchDeleteContactsRequest::new().set_resource_names(deletes))
        .send()
        .await;
    assert!(e.unwrap_err().is_invalid_request());

    let e = people
        .get_batch_get()
        .resource_names((0..201).map(|i| format!("people/c{i}")))
        .send()
        .await;
    assert!(e.unwrap_err().is_invalid_request());

    let e = FieldMask::<PersonField>::parse("names,notAField").unwrap_err();
    assert!(e.is_invalid_request());
    assert!(e.to_string().contains("notAField"));

    assert!(
        server.requests().is_empty(),
        "nothing may be sent for bad input"
    );

    // At the limit is fine.
    let ok = (0..200).map(|i| (format!("people/c{i}"), Person::new().set_etag("e")));
    let body = BatchUpdateContactsRequest::new()
        .set_contacts(ok)
        .set_update_mask([PersonField::Names]);
    people.batch_update_contacts(body).send().await.unwrap();
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn google_error_bodies_become_typed_errors() {
    let server = TestServer::start().await;
    server
        .json(400, fixture("error_etag_mismatch_1.json"))
        .json(429, fixture("error_rate_limit_2.json"))
        .json(401, fixture("error_unauthenticated_1.json"))
        .json(401, fixture("error_unauthenticated_1.json")) // the client retries a 401 once
        .json(400, fixture("error_invalid_argument_read_mask_1.json"));
    let people = server.client();
    let people = people.people();

    let e = people.get("people/c1").send().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api);
    assert_eq!(e.status(), Some(400));
    assert!(e.is_etag_mismatch());
    assert!(!e.is_retryable());
    assert_eq!(e.rpc_status(), Some("FAILED_PRECONDITION"));

    let e = people.get("people/c1").send().await.unwrap_err();
    assert!(e.is_rate_limited() && e.is_retryable());
    let api = e.api_error().unwrap();
    assert_eq!(api.reason(), Some("RATE_LIMIT_EXCEEDED"));
    assert!(
        matches!(&api.details[0], ErrorDetail::ErrorInfo(i) if i.metadata["quota_limit"] == "CriticalWritesPerMinutePerProjectPerUser")
    );

    let e = people.get("people/c1").send().await.unwrap_err();
    assert!(e.is_auth());
    assert_eq!(e.rpc_status(), Some("UNAUTHENTICATED"));

    let e = people.get("people/c1").send().await.unwrap_err();
    assert_eq!(e.rpc_status(), Some("INVALID_ARGUMENT"));
    assert!(e.to_string().contains("readMask is required"), "{e}");
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn legacy_errors_details_and_retry_after_are_parsed() {
    let server = TestServer::start().await;
    let body = r#"{"error": {"code": 400, "message": "Request contains an invalid argument.",
        "errors": [{"message": "bad", "domain": "global", "reason": "badRequest"}],
        "status": "INVALID_ARGUMENT",
        "details": [
          {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field": "contacts[people/c2]", "description": "Invalid etag"}]},
          {"@type": "type.googleapis.com/google.people.v1.BatchUpdateContactsErrorDetails", "contactErrors": {"people/c2": {"code": 9, "message": "stale"}}},
          {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"subject": "u", "description": "d"}]},
          {"@type": "type.googleapis.com/google.rpc.DebugInfo", "detail": "x"}
        ]}}"#;
    server.json(400, body);
    server.reply(Reply::Raw(
        503,
        "application/json",
        vec![("retry-after".into(), "7".into())],
        br#"{"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2.5s"}]}}"#
            .to_vec(),
    ));
    server.reply(Reply::Raw(
        429,
        "application/json",
        vec![("retry-after".into(), "30".into())],
        br#"{"error": {"code": 429, "message": "slow down"}}"#.to_vec(),
    ));
    let client = server.client();

    let e = client.people().get("people/c1").send().await.unwrap_err();
    let api = e.api_error().unwrap();
    assert_eq!(api.errors[0].reason.as_deref(), Some("badRequest"));
    assert_eq!(
        api.field_violations().next().unwrap().field,
        "contacts[people/c2]"
    );
    let per_contact = api.contact_errors();
    assert_eq!(per_contact["people/c2"].code, 9);
    assert!(
        matches!(&api.details[2], ErrorDetail::QuotaFailure(q) if q.violations == [("u".to_string(), "d".to_string())])
    );
    assert!(matches!(&api.details[3], ErrorDetail::Other(_)));

    let e = client.people().get("people/c1").send().await.unwrap_err();
    assert!(e.is_retryable());
    assert_eq!(
        e.retry_after(),
        Some(Duration::from_millis(2500)),
        "RetryInfo wins over the header"
    );

    let e = client.people().get("people/c1").send().await.unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
    assert!(e.rpc_status().is_none());
}

#[tokio::test]
async fn html_and_broken_bodies_are_clear_errors() {
    let server = TestServer::start().await;
    let html = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>".repeat(20);
    server.reply(Reply::Raw(502, "text/html", vec![], html));
    server.reply(Reply::Truncated(200, fixture("person_get_2.json")));
    server.json(
        200,
        r#"{"resourceName": "people/c1", "names": [{"givenName": 7}]}"#,
    );
    server.json(200, "");
    let client = server.client();

    let e = client.people().get("people/c1").send().await.unwrap_err();
    assert_eq!(e.status(), Some(502));
    assert!(e.is_retryable());
    let excerpt = e.body_excerpt().unwrap();
    assert!(
        excerpt.contains("502 Bad Gateway") && excerpt.len() < 400,
        "{excerpt}"
    );
    assert!(e.to_string().contains("HTTP 502"), "{e}");

    let e = client.people().get("people/c1").send().await.unwrap_err();
    // A truncated body is either cut by the transport or fails to decode; both say so.
    assert!(e.is_transport() || e.is_decode(), "{e:?}");

    let e = client.people().get("people/c1").send().await.unwrap_err();
    assert!(e.is_decode());
    assert_eq!(e.json_path(), Some("names[0].givenName"));
    assert!(e.to_string().contains("names[0].givenName"), "{e}");

    let e = client.people().get("people/c1").send().await.unwrap_err();
    assert!(e.is_decode());
}

#[tokio::test]
async fn timeouts_and_refused_connections() {
    let server = TestServer::start().await;
    server.reply(Reply::Delay(
        Duration::from_secs(3),
        Box::new(Reply::Json(200, "{}".into())),
    ));
    let client = Client::builder()
        .base_url(&server.base_url)
        .access_token("t")
        .timeout(Duration::from_millis(200))
        .retry_policy(runtime::RetryPolicy::never())
        .build()
        .unwrap();
    let e = client.people().get("people/c1").send().await.unwrap_err();
    assert!(e.is_timeout() && e.is_retryable(), "{e:?}");

    server.reply(Reply::Close);
    let e = server
        .client()
        .people()
        .get("people/c1")
        .send()
        .await
        .unwrap_err();
    assert!(e.is_transport() && e.is_retryable(), "{e:?}");

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let client = Client::builder()
        .base_url(format!("http://{closed}/"))
        .retry_policy(runtime::RetryPolicy::never())
        .build()
        .unwrap();
    let e = client.people().get("people/c1").send().await.unwrap_err();
    assert!(e.is_transport(), "{e:?}");
}

#[test]
fn plain_http_is_refused_except_for_loopback() {
    for bad in [
        "http://people.example.com/",
        "ftp://127.0.0.1/",
        "not a url",
        "https://x.test/?q=1",
    ] {
        let e = Client::builder().base_url(bad).build().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{bad}");
    }
    for ok in [
        "https://people.googleapis.com/",
        "http://127.0.0.1:8080",
        "http://localhost:1/",
        "http://[::1]:9/",
        "http://127.0.0.2/",
    ] {
        Client::builder()
            .base_url(ok)
            .build()
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
}

#[tokio::test]
async fn list_streams_follow_page_tokens() {
    let server = TestServer::start().await;
    let page = |names: &[&str], next: Option<&str>| {
        let connections: Vec<_> = names
            .iter()
            .map(|n| serde_json::json!({"resourceName": n}))
            .collect();
        let mut v = serde_json::json!({"connections": connections, "totalItems": 5});
        if let Some(t) = next {
            v["nextPageToken"] = t.into();
        }
        v.to_string()
    };
    server.json(200, page(&["people/c1", "people/c2"], Some("t1")));
    server.json(200, page(&["people/c3"], Some("t2")));
    server.json(200, page(&["people/c4", "people/c5"], None));
    let people: Vec<Person> = server
        .client()
        .people()
        .connections()
        .list("people/me")
        .person_fields([PersonField::Names])
        .page_size(2)
        .by_item()
        .map(|p| p.unwrap())
        .collect()
        .await;
    let names: Vec<_> = people
        .iter()
        .map(|p| p.resource_name.clone().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "people/c1",
            "people/c2",
            "people/c3",
            "people/c4",
            "people/c5"
        ]
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].path(), "/v1/people/me/connections");
    let token = |r: &support::Recorded| {
        r.query()
            .into_iter()
            .find(|(k, _)| k == "pageToken")
            .map(|(_, v)| v)
    };
    assert_eq!(token(&reqs[0]), None);
    assert_eq!(token(&reqs[1]).as_deref(), Some("t1"));
    assert_eq!(token(&reqs[2]).as_deref(), Some("t2"));
    assert!(
        reqs.iter()
            .all(|r| r.query().contains(&("pageSize".into(), "2".into())))
    );
}

#[tokio::test]
async fn page_streams_stop_on_errors_and_repeated_tokens() {
    let server = TestServer::start().await;
    server.json(
        200,
        r#"{"contactGroups": [{"resourceName": "contactGroups/a"}], "nextPageToken": "same"}"#,
    );
    server.json(
        200,
        r#"{"contactGroups": [{"resourceName": "contactGroups/b"}], "nextPageToken": "same"}"#,
    );
    let pages: Vec<_> = server
        .client()
        .contact_groups()
        .list()
        .by_page()
        .collect()
        .await;
    assert_eq!(pages.len(), 3);
    assert!(pages[0].is_ok() && pages[1].is_ok());
    assert!(
        pages[2]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("page token")
    );

    server.json(500, r#"{"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}}"#);
    let items: Vec<_> = server
        .client()
        .other_contacts()
        .list()
        .by_item()
        .collect()
        .await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap_err().status(), Some(500));
}

#[derive(Debug, Default)]
struct CountingTokens {
    invalidated: AtomicUsize,
}

impl TokenSource for CountingTokens {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, Error>> {
        Box::pin(async { Ok(AccessToken::new("secret-token-value")) })
    }
    fn invalidate(&self, _: &AccessToken) {
        self.invalidated.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_401_invalidates_the_token_and_is_retried_once() {
    let server = TestServer::start().await;
    let tokens = Arc::new(CountingTokens::default());
    let client = Client::builder()
        .base_url(&server.base_url)
        .token_source_arc(tokens.clone())
        .retry_policy(runtime::RetryPolicy::never())
        .build()
        .unwrap();

    // One 401: the token is dropped and the request sent again, which succeeds.
    server.json(401, fixture("error_unauthenticated_1.json"));
    server.json(200, fixture("person_get_2.json"));
    client.people().get("people/me").send().await.unwrap();
    assert_eq!(tokens.invalidated.load(Ordering::SeqCst), 1);
    assert_eq!(server.requests().len(), 2);

    // Two 401s in a row: the error is reported after exactly one retry.
    server.json(401, fixture("error_unauthenticated_1.json"));
    server.json(401, fixture("error_unauthenticated_1.json"));
    let e = client.people().get("people/me").send().await.unwrap_err();
    assert!(e.is_auth());
    assert_eq!(server.requests().len(), 4, "not retried twice");
    assert_eq!(tokens.invalidated.load(Ordering::SeqCst), 3);

    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer secret-token-value")
    );
    for shown in [
        format!("{client:?}"),
        format!("{e:?}"),
        e.to_string(),
        format!("{:?}", AccessToken::new("secret-token-value")),
    ] {
        assert!(!shown.contains("secret-token-value"), "{shown}");
    }
    let req = client.people().get("people/me").request().unwrap();
    assert_eq!(req.method(), runtime::HttpMethod::Get);
    assert_eq!(req.path(), "v1/people/me");
}

#[tokio::test]
async fn delete_returns_empty_and_calls_are_reusable() {
    let server = TestServer::start().await;
    server.json(200, "{}");
    let call = server.client().people().delete_contact("people/c9");
    let again = call.clone();
    let _: Empty = call.send().await.unwrap();
    again.send().await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].method, "DELETE");
    assert_eq!(reqs[0].path(), "/v1/people/c9:deleteContact");
}

/// Serve one raw HTTP/1.1 answer (whatever the request) on a fresh port.
async fn raw_server(answer: Vec<Vec<u8>>) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0; 8192];
        let _ = sock.read(&mut buf).await;
        for part in answer {
            sock.write_all(&part).await.unwrap();
            sock.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    format!("http://{addr}/")
}

#[tokio::test]
async fn bodies_arriving_in_many_chunks_decode_whole() {
    // A chunked body in five pieces, one cut inside a multi-byte character.
    let json = r#"{"resourceName": "people/c1", "names": [{"givenName": "Zoë", "familyName": "Ångström"}]}"#;
    let bytes = json.as_bytes();
    let cut = json.find('ë').unwrap() + 1; // inside the two bytes of ë
    let pieces = [
        &bytes[..10],
        &bytes[10..cut],
        &bytes[cut..cut + 8],
        &bytes[cut + 8..70],
        &bytes[70..],
    ];
    let mut answer = vec![b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec()];
    for p in pieces {
        let mut chunk = format!("{:x}\r\n", p.len()).into_bytes();
        chunk.extend_from_slice(p);
        chunk.extend_from_slice(b"\r\n");
        answer.push(chunk);
    }
    answer.push(b"0\r\n\r\n".to_vec());
    let client = Client::builder()
        .base_url(raw_server(answer).await)
        .access_token("t")
        .build()
        .unwrap();
    let p = client.people().get("people/c1").send().await.unwrap();
    let name = &p.names.unwrap()[0];
    assert_eq!(name.given_name.as_deref(), Some("Zoë"));
    assert_eq!(name.family_name.as_deref(), Some("Ångström"));

    // A Content-Length far beyond what arrives: a transport error, and nothing reserved for it.
    let answer = vec![
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 999999999999\r\nconnection: close\r\n\r\n{\"resourceName\":".to_vec(),
        b" \"people/c1\"}".to_vec(),
    ];
    let client = Client::builder()
        .base_url(raw_server(answer).await)
        .access_token("t")
        .retry_policy(runtime::RetryPolicy::never())
        .build()
        .unwrap();
    let e = client.people().get("people/c1").send().await.unwrap_err();
    assert!(e.is_transport(), "{e:?}");
}

/// Generated structs are read in place (no moves of wide values): the result must be what
/// serde's own structs give, member for member, whatever order, repeats and nulls the server
/// sends, and a wrong type must still name its place.
#[tokio::test]
async fn in_place_reading_keeps_serde_semantics() {
    let server = TestServer::start().await;
    server.json(
        200,
        r#"{"resourceName": "people/c1",
            "names": [{"givenName": "Old"}, {"givenName": "Older"}],
            "names": [{"givenName": "Ada", "metadata": {"primary": true, "source": {"type": "CONTACT", "id": "1"}},
                       "metadata": {"source": {"type": "NEW_KIND"}}}],
            "biographies": [{"value": "x"}], "biographies": null,
            "etag": "e1", "etag": null,
            "metadata": {"sources": [{"type": "CONTACT", "id": "a"}, {"type": "PROFILE", "id": "b"}, {"id": "c"}]},
            "emailAddresses": [{"value": "a@example.com", "displayName": null, "metadata": null}]}"#,
    );
    server.json(
        200,
        r#"{"resourceName": "people/c1", "names": [{"metadata": "x"}]}"#,
    );
    server.json(
        200,
        r#"{"resourceName": "people/c1", "names": {"givenName": "x"}}"#,
    );
    server.json(
        200,
        r#"{"resourceName": "people/c1", "metadata": {"sources": [{}, 7]}}"#,
    );
    server.json(200, r#"{"resourceName": 7}"#);
    let client = server.client();

    let p = client.people().get("people/c1").send().await.unwrap();
    let names = p.names.as_deref().unwrap();
    assert_eq!(names.len(), 1, "a repeated key keeps the last value, whole");
    assert_eq!(names[0].given_name.as_deref(), Some("Ada"));
    let meta = names[0].metadata.as_ref().unwrap();
    assert_eq!(
        meta.primary, None,
        "a repeated struct member replaces, not merges"
    );
    let source = meta.source.as_ref().unwrap();
    assert_eq!(
        source.r#type,
        Some(SourceType::UnknownValue("NEW_KIND".into()))
    );
    assert_eq!(source.id, None);
    assert!(p.biographies.is_none() && p.etag.is_none(), "null unsets");
    let sources = p.metadata.as_ref().unwrap().sources.as_deref().unwrap();
    let ids: Vec<_> = sources.iter().map(|s| s.id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(sources[1].r#type, Some(SourceType::Profile));
    let email = &p.email_addresses.as_deref().unwrap()[0];
    assert_eq!(email.value.as_deref(), Some("a@example.com"));
    assert!(email.display_name.is_none() && email.metadata.is_none());

    for (path, expected) in [
        ("names[0].metadata", "expected a FieldMetadata JSON object"),
        ("names", "expected a list of Name JSON objects"),
        ("metadata.sources[1]", "expected a Source JSON object"),
        ("resourceName", "expected a string"),
    ] {
        let e = client.people().get("people/c1").send().await.unwrap_err();
        assert!(e.is_decode(), "{e:?}");
        assert_eq!(e.json_path(), Some(path), "{e}");
        assert!(e.to_string().contains(expected), "{e}");
    }
}
