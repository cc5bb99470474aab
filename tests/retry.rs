//! The retry policy over real HTTP against the emulator: transient failures are retried with
//! backoff, server hints are honoured, creates are never replayed once they may have arrived, and
//! a replayed update that may already have applied says so.

mod support;

use std::time::{Duration, Instant};

use google_people::runtime::RetryPolicy;
use google_people::*;
use google_people_emulator::{Emulator, Fault, FaultRule};
use support::{Reply, TestServer};

const USER: &str = "retry@example.com";

fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .with_delays(
            Duration::from_millis(10),
            Duration::from_millis(40),
            Duration::from_millis(20),
        )
        .with_budget(4, Duration::from_secs(10))
        .with_jitter(false)
}

/// A client of the scripted test server with this policy.
fn client_on(server: &TestServer, policy: RetryPolicy) -> Client {
    Client::builder()
        .base_url(&server.base_url)
        .access_token("t")
        .retry_policy(policy)
        .build()
        .unwrap()
}

async fn setup(policy: RetryPolicy) -> (Emulator, Client) {
    let emu = Emulator::start().await.unwrap();
    let client = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(USER))
        .retry_policy(policy)
        .build()
        .unwrap();
    (emu, client)
}

#[tokio::test]
async fn transient_failures_are_retried_until_success() {
    let (emu, client) = setup(fast()).await;
    let names = emu.seed_contacts(USER, 1);
    emu.add_fault(
        FaultRule::new(Fault::Status(503))
            .method("people.get")
            .first(2),
    );
    let p = client
        .people()
        .get(&names[0])
        .person_fields([PersonField::Names])
        .send()
        .await
        .unwrap();
    assert_eq!(p.resource_name.as_deref(), Some(names[0].as_str()));
    assert_eq!(emu.request_count("people.get", None), 3);
    assert_eq!(client.retry_count(), 2);

    emu.add_fault(
        FaultRule::new(Fault::ResetBeforeWrite)
            .method("people.getBatchGet")
            .first(1),
    );
    client
        .people()
        .get_batch_get()
        .resource_names([names[0].clone()])
        .person_fields([PersonField::Names])
        .send()
        .await
        .unwrap();
    assert_eq!(emu.request_count("people.getBatchGet", None), 2);
}

#[tokio::test]
async fn attempts_and_elapsed_time_are_bounded() {
    let (emu, client) = setup(fast()).await;
    emu.add_fault(FaultRule::new(Fault::Status(503)).method("people.get"));
    let e = client
        .people()
        .get("people/me")
        .person_fields([PersonField::Names])
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert_eq!(emu.request_count("people.get", None), 4, "max_attempts");

    let slow = fast()
        .with_delays(
            Duration::from_millis(300),
            Duration::from_secs(1),
            Duration::ZERO,
        )
        .with_budget(10, Duration::from_millis(100));
    let (emu, client) = setup(slow).await;
    emu.add_fault(FaultRule::new(Fault::Status(503)).method("people.get"));
    client
        .people()
        .get("people/me")
        .person_fields([PersonField::Names])
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        emu.request_count("people.get", None),
        1,
        "no retry past max_elapsed"
    );

    let (emu, client) = setup(RetryPolicy::never()).await;
    emu.add_fault(FaultRule::new(Fault::Status(503)).method("people.get"));
    client
        .people()
        .get("people/me")
        .person_fields([PersonField::Names])
        .send()
        .await
        .unwrap_err();
    assert_eq!(emu.request_count("people.get", None), 1);
}

#[tokio::test]
async fn creates_are_not_replayed_once_they_may_have_arrived() {
    let (emu, client) = setup(fast()).await;
    for fault in [Fault::Status(503), Fault::LoseResponseAfterCommit] {
        emu.clear_faults();
        emu.add_fault(
            FaultRule::new(fault)
                .method("people.createContact")
                .first(1),
        );
        let before = emu.request_count("people.createContact", None);
        let e = client
            .people()
            .create_contact(Person::new())
            .send()
            .await
            .unwrap_err();
        assert!(e.is_retryable());
        assert_eq!(
            emu.request_count("people.createContact", None),
            before + 1,
            "never retried"
        );
    }
    assert_eq!(
        emu.contacts(USER).len(),
        1,
        "the lost-response create applied once, not twice"
    );

    // A 429 is turned away before processing: a create is retried.
    emu.clear_faults();
    emu.add_fault(
        FaultRule::new(Fault::Status(429))
            .method("people.createContact")
            .first(1),
    );
    let before = emu.request_count("people.createContact", None);
    client
        .people()
        .create_contact(Person::new())
        .send()
        .await
        .unwrap();
    assert_eq!(emu.request_count("people.createContact", None), before + 2);
    assert_eq!(emu.contacts(USER).len(), 2, "created once");

    // A connection that never opened is safe to retry even for a create.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = Client::builder()
        .base_url(format!("http://{closed}/"))
        .retry_policy(fast())
        .build()
        .unwrap();
    let e = client
        .people()
        .create_contact(Person::new())
        .send()
        .await
        .unwrap_err();
    assert!(e.is_connect());
    assert_eq!(client.retry_count(), 3);
}

#[tokio::test]
async fn a_replayed_update_that_may_have_applied_says_so() {
    let (emu, client) = setup(fast()).await;
    let names = emu.seed_contacts(USER, 1);
    let etag = emu.contact(USER, &names[0]).unwrap()["etag"]
        .as_str()
        .unwrap()
        .to_string();
    emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method("people.batchUpdateContacts")
            .first(1),
    );
    let body = BatchUpdateContactsRequest::new()
        .set_contacts([(
            names[0].clone(),
            Person::new()
                .set_etag(etag)
                .set_names([Name::new().set_given_name("Once")]),
        )])
        .set_update_mask([PersonField::Names]);
    let e = client
        .people()
        .batch_update_contacts(body)
        .send()
        .await
        .unwrap_err();
    assert!(
        e.is_etag_mismatch(),
        "the replay meets the etag the first attempt changed: {e}"
    );
    assert!(
        e.may_have_applied(),
        "and says the first attempt may have applied"
    );
    assert_eq!(emu.request_count("people.batchUpdateContacts", None), 2);
    let stored = emu.contact(USER, &names[0]).unwrap();
    assert_eq!(
        stored["names"][0]["givenName"], "Once",
        "applied exactly once"
    );

    // A plain stale etag, with no earlier doubt, is not marked.
    let body = BatchUpdateContactsRequest::new()
        .set_contacts([(names[0].clone(), Person::new().set_etag("%stale"))])
        .set_update_mask([PersonField::Names]);
    let e = client
        .people()
        .batch_update_contacts(body)
        .send()
        .await
        .unwrap_err();
    assert!(e.is_etag_mismatch() && !e.may_have_applied());
}

#[tokio::test]
async fn server_hints_and_429_minimums_are_honoured() {
    let server = TestServer::start().await;
    server.reply(Reply::Raw(
        429,
        "application/json",
        vec![("retry-after".into(), "1".into())],
        br#"{"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}"#
            .to_vec(),
    ));
    server.json(200, "{}");
    let client = Client::builder()
        .base_url(&server.base_url)
        .access_token("t")
        .retry_policy(fast())
        .build()
        .unwrap();
    let start = Instant::now();
    client.people().get("people/me").send().await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured ({:?})",
        start.elapsed()
    );

    let policy = fast().with_delays(
        Duration::from_millis(1),
        Duration::from_millis(1),
        Duration::from_millis(300),
    );
    server.json(
        429,
        r#"{"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}"#,
    );
    server.json(200, "{}");
    let client = Client::builder()
        .base_url(&server.base_url)
        .access_token("t")
        .retry_policy(policy)
        .build()
        .unwrap();
    let start = Instant::now();
    client.people().get("people/me").send().await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "a 429 waits at least the minimum"
    );
}

/// A 503 with these headers and this body.
fn unavailable(headers: &[(&str, &str)], body: &str) -> Reply {
    Reply::Raw(
        503,
        "application/json",
        headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body.as_bytes().to_vec(),
    )
}

const UNAVAILABLE: &str =
    r#"{"error": {"code": 503, "message": "later", "status": "UNAVAILABLE"}}"#;

#[tokio::test]
async fn server_hints_of_any_size_or_shape_never_panic() {
    let server = TestServer::start().await;
    let client = client_on(&server, fast());
    let retry_info = |delay: &str| {
        format!(
            r#"{{"error": {{"code": 503, "message": "later", "status": "UNAVAILABLE", "details": [
              {{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": {delay}}}]}}}}"#
        )
    };
    // Hints beyond the policy's budget (10 s): the server's error at once, no panic, no sleep.
    let beyond = [
        unavailable(&[("retry-after", "18446744073709551615")], UNAVAILABLE),
        unavailable(&[("retry-after", "99999999999999999999999")], UNAVAILABLE),
        unavailable(
            &[("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT")],
            UNAVAILABLE,
        ),
        unavailable(&[], &retry_info(r#""18446744073709551615.999999999s""#)),
        unavailable(&[], &retry_info(r#""1e300s""#)),
        unavailable(
            &[],
            &retry_info(r#"{"seconds": "18446744073709551615", "nanos": 2000000000}"#),
        ),
        unavailable(
            &[],
            &retry_info(r#"{"seconds": 9.3e18, "nanos": 999999999}"#),
        ),
    ];
    for (i, reply) in beyond.into_iter().enumerate() {
        // The first attempt answers late, so `elapsed` is not zero when the hint is added.
        server.reply(Reply::Delay(Duration::from_millis(1100), Box::new(reply)));
        let start = Instant::now();
        let e = client.people().get("people/me").send().await.unwrap_err();
        assert_eq!(e.status(), Some(503), "case {i}: {e}");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "case {i}: gave up at once"
        );
        assert_eq!(server.requests().len(), i + 1, "case {i}: not retried");
    }

    // Hints that mean "now" or nothing: retried with the policy's own backoff.
    let now = [
        unavailable(&[("retry-after", "0")], UNAVAILABLE),
        unavailable(&[("retry-after", "-5")], UNAVAILABLE),
        unavailable(&[("retry-after", "soon")], UNAVAILABLE),
        unavailable(&[("retry-after", "1.5")], UNAVAILABLE),
        unavailable(
            &[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")],
            UNAVAILABLE,
        ),
        unavailable(&[], &retry_info(r#""-3s""#)),
        unavailable(&[], &retry_info(r#"{"seconds": -1}"#)),
        unavailable(&[], &retry_info(r#"[]"#)),
    ];
    for (i, reply) in now.into_iter().enumerate() {
        let before = server.requests().len();
        server.reply(reply).json(200, "{}");
        let start = Instant::now();
        client.people().get("people/me").send().await.unwrap();
        assert_eq!(server.requests().len(), before + 2, "case {i}: one retry");
        assert!(start.elapsed() < Duration::from_secs(2), "case {i}");
    }
}

#[tokio::test]
async fn a_hint_within_the_budget_is_waited_for() {
    let server = TestServer::start().await;
    let client = client_on(&server, fast());
    let soon = httpdate_in(2);
    server
        .reply(unavailable(&[("retry-after", &soon)], UNAVAILABLE))
        .json(200, "{}");
    let start = Instant::now();
    client.people().get("people/me").send().await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "an HTTP-date two seconds ahead was honoured ({:?})",
        start.elapsed()
    );
}

/// An IMF-fixdate `secs` seconds from now.
fn httpdate_in(secs: u64) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + secs;
    let (days, rem) = (t / 86_400, t % 86_400);
    // Civil from days (Howard Hinnant).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    format!(
        "{weekday}, {d:02} {} {y} {:02}:{:02}:{:02} GMT",
        months[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[tokio::test]
async fn mangled_success_bodies_are_retried_only_when_replay_is_safe() {
    let server = TestServer::start().await;
    let client = client_on(&server, fast().with_budget(6, Duration::from_secs(10)));
    let person = r#"{"resourceName": "people/c1", "etag": "%e1"}"#;
    // Cut with a matching Content-Length (the transport sees nothing wrong), an HTML 502, a body
    // cut by the transport, and one that is not JSON at all: a read retries through all four.
    server
        .json(200, &person[..20])
        .reply(Reply::Raw(
            502,
            "text/html",
            vec![],
            b"<html><body>Bad Gateway</body></html>".to_vec(),
        ))
        .reply(Reply::Truncated(200, person.into()))
        .reply(Reply::Raw(200, "text/html", vec![], b"<html>".to_vec()))
        .json(200, person);
    let p = client
        .people()
        .get("people/c1")
        .person_fields([PersonField::Names])
        .send()
        .await
        .unwrap();
    assert_eq!(p.etag.as_deref(), Some("%e1"));
    assert_eq!(server.requests().len(), 5);

    // A create whose success body is mangled was applied: it is not sent again, and the error
    // says it may have been.
    server.json(200, &person[..20]);
    let e = client
        .people()
        .create_contact(Person::new())
        .send()
        .await
        .unwrap_err();
    assert!(e.is_decode() && e.may_have_reached_server(), "{e:?}");
    assert_eq!(server.requests().len(), 6);
}
