//! The emulator over real HTTP, driven with plain reqwest and serde_json (no client types): each
//! semantic, each fault, the token grants, concurrency, and bad requests.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use google_people_emulator::*;
use serde_json::{Value, json};

const ALICE: &str = "alice@example.com";

struct T {
    emu: Emulator,
    http: reqwest::Client,
    token: String,
}

impl T {
    async fn new() -> Self {
        Self::with(Config::default()).await
    }
    async fn with(config: Config) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let emu = Emulator::start_with(config).await.unwrap();
        let token = emu.issue_token(ALICE);
        Self {
            emu,
            http: reqwest::Client::new(),
            token,
        }
    }
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.base_url())
    }
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), reqwest::Error> {
        self.call_as(&self.token.clone(), method, path, body).await
    }
    async fn call_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let mut rb = self
            .http
            .request(method.parse().unwrap(), self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = rb.send().await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?;
        Ok((
            status,
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(&bytes)})),
        ))
    }
    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.call(method, path, body).await.unwrap();
        assert_eq!(s, 200, "{method} {path}: {v}");
        v
    }
    async fn err(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let (s, v) = self.call(method, path, body).await.unwrap();
        assert_ne!(s, 200, "{method} {path} should fail: {v}");
        assert_google_error(s, &v);
        (s, v)
    }
    async fn create(&self, given: &str) -> Value {
        self.ok("POST", "v1/people:createContact?personFields=names,emailAddresses,metadata",
            Some(json!({"names": [{"givenName": given}], "emailAddresses": [{"value": format!("{given}@x.test")}]}))).await
    }
}

/// Every error has the real body's shape: code, message, status, and legacy errors[].
fn assert_google_error(http: u16, v: &Value) {
    let e = &v["error"];
    assert_eq!(e["code"], http, "{v}");
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    assert!(e["status"].as_str().is_some(), "{v}");
    assert!(e["errors"][0]["reason"].as_str().is_some(), "{v}");
}

#[tokio::test]
async fn requests_need_a_valid_token_with_the_right_scope() {
    let t = T::new().await;
    let resp = t
        .http
        .get(t.url("v1/people/me?personFields=names"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_google_error(401, &v);
    assert_eq!(v["error"]["status"], "UNAUTHENTICATED");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Request is missing required authentication credential")
    );

    let (s, v) = t
        .call_as("ya29.bogus", "GET", "v1/people/me?personFields=names", None)
        .await
        .unwrap();
    assert_eq!(
        (s, v["error"]["status"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );

    let ro = t
        .emu
        .issue_token_with_scopes(ALICE, &[CONTACTS_READONLY_SCOPE]);
    let (s, _) = t
        .call_as(&ro, "GET", "v1/people/me?personFields=names", None)
        .await
        .unwrap();
    assert_eq!(s, 200);
    let (s, v) = t
        .call_as(&ro, "POST", "v1/people:createContact", Some(json!({})))
        .await
        .unwrap();
    assert_eq!(s, 403);
    assert_eq!(
        v["error"]["details"][0]["reason"],
        "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    );

    t.emu.revoke_token(&t.token);
    let (s, _) = t
        .call("GET", "v1/people/me?personFields=names", None)
        .await
        .unwrap();
    assert_eq!(s, 401);
}

#[tokio::test]
async fn contacts_have_resource_names_and_etags_that_change_on_write() {
    let t = T::new().await;
    let p = t.create("Ada").await;
    let rn = p["resourceName"].as_str().unwrap().to_string();
    assert!(
        rn.strip_prefix("people/c")
            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit())),
        "{rn}"
    );
    let etag = p["etag"].as_str().unwrap().to_string();
    assert!(etag.starts_with('%'));
    let source = &p["metadata"]["sources"][0];
    assert_eq!(source["type"], "CONTACT");
    assert!(source["etag"].as_str().unwrap().starts_with('#'));
    assert_eq!(p["names"][0]["metadata"]["primary"], true);

    let got = t
        .ok("GET", &format!("v1/{rn}?personFields=names"), None)
        .await;
    assert_eq!(got["etag"], etag.as_str());
    assert!(got.get("emailAddresses").is_none(), "projected to the mask");
    assert!(got.get("metadata").is_none());

    let (s, v) = t.err("GET", &format!("v1/{rn}"), None).await;
    assert_eq!(s, 400);
    assert_eq!(
        v["error"]["message"],
        "personFields mask is required. Please specify one or more valid paths. Valid paths are documented at https://developers.google.com/people/api/rest/v1/people/get."
    );
    let (s, _) = t
        .err("GET", "v1/people/c999?personFields=names", None)
        .await;
    assert_eq!(s, 404);
    let (s, _) = t
        .err("GET", "v1/people/c1?personFields=names,bogus", None)
        .await;
    assert_eq!(s, 400);

    // updateContact: mask required, etag required and checked, replace-or-clear.
    let path = format!(
        "v1/{rn}:updateContact?updatePersonFields=names,emailAddresses&personFields=names,emailAddresses"
    );
    let (_, v) = t
        .err(
            "PATCH",
            &format!("v1/{rn}:updateContact"),
            Some(json!({"etag": etag})),
        )
        .await;
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("updatePersonFields mask is required")
    );
    let (s, v) = t
        .err("PATCH", &path, Some(json!({"names": [{"givenName": "X"}]})))
        .await;
    assert_eq!(
        (s, v["error"]["status"].as_str()),
        (400, Some("FAILED_PRECONDITION"))
    );
    assert_eq!(
        v["error"]["message"],
        "Request must set person.etag or person.metadata.sources.etag for the source that is being updated."
    );
    let updated = t
        .ok(
            "PATCH",
            &path,
            Some(json!({"etag": etag, "names": [{"givenName": "Ada", "familyName": "Lovelace"}]})),
        )
        .await;
    assert_ne!(updated["etag"], etag.as_str());
    assert_eq!(updated["names"][0]["familyName"], "Lovelace");
    assert!(
        updated.get("emailAddresses").is_none(),
        "a masked field the person does not carry is cleared"
    );
    let (s, v) = t
        .err(
            "PATCH",
            &path,
            Some(json!({"etag": etag, "names": [{"givenName": "Stale"}]})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["status"].as_str()),
        (400, Some("FAILED_PRECONDITION"))
    );
    assert_eq!(v["error"]["errors"][0]["reason"], "failedPrecondition");
    assert_eq!(
        v["error"]["message"],
        "Request person.etag is different than the current person.etag. Clear local cache and get the latest person."
    );
    // The source etag is accepted too.
    let fresh = t.emu.contact(ALICE, &rn).unwrap();
    let src = fresh["metadata"]["sources"][0]["etag"].clone();
    t.ok("PATCH", &path, Some(json!({"metadata": {"sources": [{"type": "CONTACT", "etag": src}]}, "names": [{"givenName": "B"}]}))).await;
    // Singletons.
    let now = t.emu.contact(ALICE, &rn).unwrap();
    let (s, _) = t
        .err(
            "PATCH",
            &path,
            Some(json!({"etag": now["etag"], "names": [{"givenName": "A"}, {"givenName": "B"}]})),
        )
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn batch_update_is_atomic_and_reports_each_failed_contact() {
    // Many batches of one user in a second: the validation is under test, not the quotas.
    let mut config = Config::default();
    config.quota = None;
    let t = T::with(config).await;
    let names = t.emu.seed_contacts(ALICE, 5);
    let etag = |rn: &str| t.emu.contact(ALICE, rn).unwrap()["etag"].clone();
    let update = |rn: &str, etag: Value, given: &str| {
        (
            rn.to_string(),
            json!({"etag": etag, "names": [{"givenName": given}]}),
        )
    };

    let contacts: serde_json::Map<String, Value> =
        names.iter().map(|rn| update(rn, etag(rn), "New")).collect();
    let v = t
        .ok(
            "POST",
            "v1/people:batchUpdateContacts",
            Some(json!({"contacts": contacts, "updateMask": "names", "readMask": "names"})),
        )
        .await;
    let result = &v["updateResult"][&names[0]];
    assert_eq!(result["requestedResourceName"], names[0].as_str());
    assert_eq!(result["person"]["names"][0]["givenName"], "New");
    assert!(result["person"].get("emailAddresses").is_none());
    assert_eq!(
        t.emu.contact(ALICE, &names[4]).unwrap()["names"][0]["givenName"],
        "New"
    );
    assert!(
        t.emu.contact(ALICE, &names[4]).unwrap()["emailAddresses"].is_array(),
        "fields outside the mask are untouched"
    );

    // Empty readMask: the body is {}.
    let contacts: serde_json::Map<String, Value> = names
        .iter()
        .take(2)
        .map(|rn| update(rn, etag(rn), "Quiet"))
        .collect();
    let v = t
        .ok(
            "POST",
            "v1/people:batchUpdateContacts",
            Some(json!({"contacts": contacts, "updateMask": "names"})),
        )
        .await;
    assert_eq!(v, json!({}));

    // One stale etag and one unknown contact: nothing is written, both are reported.
    let before: Vec<Value> = t.emu.contacts(ALICE);
    let mut contacts: serde_json::Map<String, Value> = names
        .iter()
        .map(|rn| update(rn, etag(rn), "Atomic"))
        .collect();
    contacts.insert(
        names[1].clone(),
        json!({"etag": "%stale", "names": [{"givenName": "Atomic"}]}),
    );
    contacts.insert("people/c42".into(), json!({"etag": "%x", "names": []}));
    let (s, v) = t
        .err(
            "POST",
            "v1/people:batchUpdateContacts",
            Some(json!({"contacts": contacts, "updateMask": "names"})),
        )
        .await;
    assert_eq!(s, 400);
    let details = v["error"]["details"].as_array().unwrap();
    let violations: Vec<&str> = details[0]["fieldViolations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        violations.contains(&format!("contacts[{}]", names[1]).as_str())
            && violations.contains(&"contacts[people/c42]")
    );
    assert_eq!(
        details[1]["@type"],
        "type.googleapis.com/google.people.v1.BatchUpdateContactsErrorDetails"
    );
    assert_eq!(details[1]["contactErrors"][&names[1]]["code"], 9);
    assert_eq!(details[1]["contactErrors"]["people/c42"]["code"], 5);
    assert_eq!(
        t.emu.contacts(ALICE),
        before,
        "an atomic batch writes nothing when it fails"
    );

    // Limits and masks.
    let many: serde_json::Map<String, Value> = (0..201)
        .map(|i| (format!("people/c{i}"), json!({"etag": "e"})))
        .collect();
    let (s, _) = t
        .err(
            "POST",
            "v1/people:batchUpdateContacts",
            Some(json!({"contacts": many, "updateMask": "names"})),
        )
        .await;
    assert_eq!(s, 400);
    let one: serde_json::Map<String, Value> = names
        .iter()
        .take(1)
        .map(|rn| update(rn, etag(rn), "P"))
        .collect();
    for mask in ["photos", "metadata", "bogus"] {
        let (s, _) = t
            .err(
                "POST",
                "v1/people:batchUpdateContacts",
                Some(json!({"contacts": one, "updateMask": mask})),
            )
            .await;
        assert_eq!(s, 400, "{mask}");
    }
    let (_, v) = t
        .err(
            "POST",
            "v1/people:batchUpdateContacts",
            Some(json!({"contacts": one})),
        )
        .await;
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("updateMask is required")
    );
}

#[tokio::test]
async fn batch_get_create_and_delete() {
    let t = T::new().await;
    let names = t.emu.seed_contacts(ALICE, 3);
    let q: String = names
        .iter()
        .chain(["people/c1".to_string()].iter())
        .map(|n| format!("resourceNames={n}&"))
        .collect();
    let v = t
        .ok(
            "GET",
            &format!("v1/people:batchGet?{q}personFields=names"),
            None,
        )
        .await;
    let r = v["responses"].as_array().unwrap();
    assert_eq!(r.len(), 4);
    assert_eq!(r[0]["person"]["resourceName"], names[0].as_str());
    assert_eq!(r[3]["status"]["code"], 5);
    let too_many: String = (0..201)
        .map(|i| format!("resourceNames=people/c{i}&"))
        .collect();
    t.err(
        "GET",
        &format!("v1/people:batchGet?{too_many}personFields=names"),
        None,
    )
    .await;

    let v = t.ok("POST", "v1/people:batchCreateContacts", Some(json!({"contacts": [{"contactPerson": {"names": [{"givenName": "A"}]}}, {"contactPerson": {"names": [{"givenName": "B"}]}}], "readMask": "names"}))).await;
    assert_eq!(v["createdPeople"].as_array().unwrap().len(), 2);
    let (s, v) = t.err("POST", "v1/people:batchCreateContacts", Some(json!({"contacts": [{"contactPerson": {"names": [{"givenName": "A"}, {"givenName": "B"}]}}]}))).await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["details"][1]["contactErrors"]["0"]["code"], 3);
    assert_eq!(t.emu.contacts(ALICE).len(), 5);

    t.ok(
        "POST",
        "v1/people:batchDeleteContacts",
        Some(json!({"resourceNames": [names[0], names[1]]})),
    )
    .await;
    t.ok("DELETE", &format!("v1/{}:deleteContact", names[2]), None)
        .await;
    assert_eq!(t.emu.contacts(ALICE).len(), 2);
    let (s, _) = t
        .err("DELETE", &format!("v1/{}:deleteContact", names[2]), None)
        .await;
    assert_eq!(s, 404);
    let (s, _) = t.err("POST", "v1/people:batchDeleteContacts", Some(json!({"resourceNames": (0..501).map(|i| format!("people/c{i}")).collect::<Vec<_>>()}))).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn connections_page_and_sync_with_tombstones() {
    let t = T::new().await;
    let names = t.emu.seed_contacts(ALICE, 25);
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let sync = loop {
        let pt = token
            .as_ref()
            .map(|t| format!("&pageToken={t}"))
            .unwrap_or_default();
        let v = t.ok("GET", &format!("v1/people/me/connections?personFields=names&pageSize=10&requestSyncToken=true{pt}"), None).await;
        assert_eq!(v["totalPeople"], 25);
        seen.extend(
            v["connections"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["resourceName"].as_str().unwrap().to_string()),
        );
        match v["nextPageToken"].as_str() {
            Some(n) => {
                assert!(
                    v.get("nextSyncToken").is_none(),
                    "the sync token comes on the last page only"
                );
                token = Some(n.to_string());
            }
            None => break v["nextSyncToken"].as_str().unwrap().to_string(),
        }
    };
    assert_eq!(seen, names);

    t.emu
        .edit_contact(ALICE, &names[3], "names", json!([{"givenName": "Edited"}]));
    t.ok("DELETE", &format!("v1/{}:deleteContact", names[7]), None)
        .await;
    // "Writes may have a propagation delay of several minutes for sync requests": not there yet,
    // while a full listing and a get see them at once.
    let incremental = format!("v1/people/me/connections?personFields=names&syncToken={sync}");
    let v = t.ok("GET", &incremental, None).await;
    assert!(v.get("connections").is_none(), "{v}");
    let full = t
        .ok("GET", "v1/people/me/connections?personFields=names", None)
        .await;
    assert_eq!(full["totalPeople"], 24);
    // Minutes later, the same token lists both changes.
    t.emu.let_writes_propagate();
    let v = t.ok("GET", &incremental, None).await;
    let changed = v["connections"].as_array().unwrap();
    assert_eq!(changed.len(), 2, "{v}");
    assert_eq!(changed[0]["names"][0]["givenName"], "Edited");
    assert_eq!(changed[1]["resourceName"], names[7].as_str());
    assert_eq!(changed[1]["metadata"]["deleted"], true);
    assert!(v["nextSyncToken"].is_string());

    // "All other parameters provided to people.connections.list must match the first call that
    // provided the sync token."
    let (s, v) = t
        .err(
            "GET",
            &format!("v1/people/me/connections?personFields=names,emailAddresses&syncToken={sync}"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["error"]["status"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
    // Seven days later the token has expired, with Google's ErrorInfo.
    t.emu.advance_time(Duration::from_secs(7 * 24 * 3600));
    let (s, v) = t.err("GET", &incremental, None).await;
    assert_eq!(s, 400);
    assert_eq!(
        v["error"]["details"][0]["reason"], "EXPIRED_SYNC_TOKEN",
        "{v}"
    );

    let mut c = Config::default();
    c.sync_token_ttl = Duration::ZERO;
    let t2 = T::with(c).await;
    let v = t2
        .ok(
            "GET",
            "v1/people/me/connections?personFields=names&requestSyncToken=true",
            None,
        )
        .await;
    let sync = v["nextSyncToken"].as_str().unwrap();
    let (s, v) = t2
        .err(
            "GET",
            &format!("v1/people/me/connections?personFields=names&syncToken={sync}"),
            None,
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        v["error"]["message"],
        "Sync token is expired. Clear local cache and retry call without the sync token."
    );
}

#[tokio::test]
async fn faults_fire_by_method_user_and_request_number() {
    let t = T::new().await;
    let names = t.emu.seed_contacts(ALICE, 2);
    let body = |given: &str| {
        let etag = t.emu.contact(ALICE, &names[0]).unwrap()["etag"].clone();
        Some(
            json!({"contacts": {names[0].clone(): {"etag": etag, "names": [{"givenName": given}]}}, "updateMask": "names"}),
        )
    };
    let path = "v1/people:batchUpdateContacts";
    let given = || t.emu.contact(ALICE, &names[0]).unwrap()["names"][0]["givenName"].clone();

    t.emu.add_fault(
        FaultRule::new(Fault::Status(503))
            .method("people.batchUpdateContacts")
            .nth(1),
    );
    let (s, v) = t.err("POST", path, body("A")).await;
    assert_eq!(
        (s, v["error"]["status"].as_str()),
        (503, Some("UNAVAILABLE"))
    );
    assert_ne!(given(), "A", "nothing is written on a 503 fault");
    t.ok("POST", path, body("B")).await;
    assert_eq!(given(), "B");
    t.emu.clear_faults();

    t.emu
        .add_fault(FaultRule::new(Fault::ResetBeforeWrite).first(1));
    assert!(
        t.call("POST", path, body("C")).await.is_err(),
        "the connection is dropped"
    );
    assert_eq!(given(), "B", "reset before the write: not applied");

    t.emu.add_fault(
        FaultRule::new(Fault::LoseResponseAfterCommit)
            .method("people.batchUpdateContacts")
            .first(1),
    );
    assert!(t.call("POST", path, body("D")).await.is_err());
    assert_eq!(given(), "D", "response lost after commit: applied");

    t.emu.add_fault(
        FaultRule::new(Fault::TruncatedJson)
            .method("people.get")
            .first(1),
    );
    let resp = t
        .http
        .get(t.url(&format!("v1/{}?personFields=names", names[1])))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(serde_json::from_slice::<Value>(&resp.bytes().await.unwrap()).is_err());

    t.emu.add_fault(
        FaultRule::new(Fault::Html502)
            .method("people.get")
            .user(ALICE)
            .first(1),
    );
    let resp = t
        .http
        .get(t.url(&format!("v1/{}?personFields=names", names[1])))
        .bearer_auth(&t.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    assert!(resp.text().await.unwrap().contains("Bad Gateway"));

    t.emu.add_fault(
        FaultRule::new(Fault::Latency(Duration::from_millis(300)))
            .method("people.get")
            .first(1),
    );
    let start = Instant::now();
    t.ok("GET", &format!("v1/{}?personFields=names", names[1]), None)
        .await;
    assert!(start.elapsed() >= Duration::from_millis(300));

    t.emu.add_fault(
        FaultRule::new(Fault::Status(429))
            .method("people.getBatchGet")
            .user("bob@example.com"),
    );
    t.ok(
        "GET",
        &format!(
            "v1/people:batchGet?resourceNames={}&personFields=names",
            names[1]
        ),
        None,
    )
    .await;

    assert_eq!(
        t.emu
            .request_count("people.batchUpdateContacts", Some(ALICE)),
        4
    );
    assert_eq!(t.emu.request_count("people.get", None), 3);
    assert_eq!(
        t.emu
            .request_count("people.getBatchGet", Some("bob@example.com")),
        0
    );
}

#[test]
fn random_faults_are_deterministic_per_seed() {
    let runs: Vec<Vec<bool>> = (0..2)
        .map(|_| {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let t = T::new().await;
                t.emu
                    .add_fault(FaultRule::new(Fault::Status(503)).random(300, 7));
                let mut out = Vec::new();
                for _ in 0..40 {
                    out.push(
                        t.call("GET", "v1/people/me?personFields=names", None)
                            .await
                            .unwrap()
                            .0
                            == 503,
                    );
                }
                out
            })
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    let failures = runs[0].iter().filter(|f| **f).count();
    assert!((4..=20).contains(&failures), "{failures} of 40 at 30%");
}

#[tokio::test]
async fn quotas_answer_the_real_429() {
    let mut c = Config::default();
    c.quota = Some(Quota {
        retry_after: true,
        ..Quota::per_minute(1000, 12)
    });
    let t = T::with(c).await;
    let names = t.emu.seed_contacts(ALICE, 1);
    let req = || {
        let etag = t.emu.contact(ALICE, &names[0]).unwrap()["etag"].clone();
        Some(
            json!({"contacts": {names[0].clone(): {"etag": etag, "names": [{"givenName": "Q"}]}}, "updateMask": "names"}),
        )
    };
    t.ok("POST", "v1/people:batchUpdateContacts", req()).await;
    t.ok("POST", "v1/people:batchUpdateContacts", req()).await;
    let resp = t
        .http
        .post(t.url("v1/people:batchUpdateContacts"))
        .bearer_auth(&t.token)
        .body(req().unwrap().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_some());
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(v["error"]["status"], "RESOURCE_EXHAUSTED");
    assert_eq!(v["error"]["details"][0]["reason"], "RATE_LIMIT_EXCEEDED");
    assert_eq!(
        v["error"]["details"][0]["metadata"]["quota_limit"],
        "CriticalWritesPerMinutePerProjectPerUser"
    );
    assert_eq!(
        v["error"]["details"][1]["@type"],
        "type.googleapis.com/google.rpc.RetryInfo"
    );
}

/// Each metric has its own per-user bucket, with Google's quota ErrorInfo when it is spent; a
/// "minute" can be shortened so that tests meet it, and it starts afresh after.
#[tokio::test]
async fn every_quota_metric_has_its_own_bucket() {
    let mut c = Config::default();
    let mut q = Quota::google().time_scale(Duration::from_secs(3));
    q.daily_writes = 400;
    q.day = Duration::from_secs(3600);
    c.quota = Some(q);
    let t = T::with(c).await;
    let limit_of = |v: &Value| {
        v["error"]["details"][0]["metadata"]["quota_limit"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    // Contact group reads: 90 a "minute"; contact reads are another bucket.
    for _ in 0..90 {
        t.ok("GET", "v1/contactGroups", None).await;
    }
    let (s, v) = t.err("GET", "v1/contactGroups", None).await;
    assert_eq!(
        (s, limit_of(&v)),
        (429, "ContactGroupReadsPerMinutePerProjectPerUser".into())
    );
    t.ok("GET", "v1/people/me/connections?personFields=names", None)
        .await;
    // The first page of a full sync has a fixed quota of its own.
    let full = "v1/people/me/connections?personFields=names&requestSyncToken=true";
    let mut refused = None;
    for i in 0..40 {
        let (s, v) = t.call("GET", full, None).await.unwrap();
        if s == 429 {
            refused = Some((i, limit_of(&v)));
            break;
        }
    }
    assert_eq!(
        refused,
        Some((30, "FullSyncRequestsPerMinutePerProjectPerUser".into()))
    );
    // A minute later (here 3 s), the buckets are full again.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    t.ok("GET", "v1/contactGroups", None).await;
    t.ok("GET", full, None).await;
    // Daily contact writes: a batch costs 200, whatever its size.
    let create = || Some(json!({"contacts": [{"contactPerson": {"names": [{"givenName": "D"}]}}]}));
    t.ok("POST", "v1/people:batchCreateContacts", create())
        .await;
    t.ok("POST", "v1/people:batchCreateContacts", create())
        .await;
    let (s, v) = t
        .err("POST", "v1/people:batchCreateContacts", create())
        .await;
    assert_eq!(
        (s, limit_of(&v)),
        (429, "DailyContactWritesPerProjectPerUser".into())
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("per day per user"),
        "{v}"
    );
    assert_eq!(
        t.emu.contacts(ALICE).len(),
        2,
        "nothing written past the cap"
    );
}

/// List responses carry at most 100 email addresses and 100 phone numbers per person; `get`
/// returns them all.
#[tokio::test]
async fn list_responses_carry_at_most_100_emails_and_phones() {
    let t = T::new().await;
    let emails: Vec<Value> = (0..150)
        .map(|i| json!({"value": format!("a{i}@example.com")}))
        .collect();
    let rn = t.emu.insert_contact(
        ALICE,
        &json!({"names": [{"givenName": "Many"}], "emailAddresses": emails}),
    );
    let listed = t
        .ok(
            "GET",
            "v1/people/me/connections?personFields=emailAddresses",
            None,
        )
        .await;
    assert_eq!(
        listed["connections"][0]["emailAddresses"]
            .as_array()
            .unwrap()
            .len(),
        100
    );
    let got = t
        .ok("GET", &format!("v1/{rn}?personFields=emailAddresses"), None)
        .await;
    assert_eq!(got["emailAddresses"].as_array().unwrap().len(), 150);
}

async fn post_form(t: &T, form: &[(&str, &str)]) -> (u16, Value) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let resp = t
        .http
        .post(t.emu.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let s = resp.status().as_u16();
    (
        s,
        serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn refresh_token_grant() {
    let t = T::new().await;
    t.emu.register_refresh_token(
        "cid",
        "csecret",
        "1//rt",
        "bob@example.com",
        &[CONTACTS_SCOPE],
    );
    let (s, v) = post_form(
        &t,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "cid"),
            ("client_secret", "csecret"),
            ("refresh_token", "1//rt"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_u64().unwrap() > 0);
    let token = v["access_token"].as_str().unwrap();
    t.call_as(
        token,
        "POST",
        "v1/people:createContact",
        Some(json!({"names": [{"givenName": "Bob's"}]})),
    )
    .await
    .unwrap();
    assert_eq!(
        t.emu.contacts("bob@example.com").len(),
        1,
        "the token acts for the refresh token's user"
    );

    let (s, v) = post_form(
        &t,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "cid"),
            ("client_secret", "wrong"),
            ("refresh_token", "1//rt"),
        ],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
    t.emu.revoke_refresh_token("1//rt");
    let (s, v) = post_form(
        &t,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "cid"),
            ("client_secret", "csecret"),
            ("refresh_token", "1//rt"),
        ],
    )
    .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    let (s, v) = post_form(&t, &[("grant_type", "password")]).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
}

fn sign_jwt(claims: &Value) -> String {
    let pem = TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM;
    let der = STANDARD
        .decode(
            pem.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    let key = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{body}");
    let mut sig = vec![0; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[tokio::test]
async fn jwt_bearer_grant_with_delegation() {
    let t = T::new().await;
    let sa = "sync@project.iam.gserviceaccount.com";
    t.emu
        .register_service_account(sa, TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM, true)
        .unwrap();
    t.emu
        .register_service_account(
            "nodwd@project.iam.gserviceaccount.com",
            TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM,
            false,
        )
        .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = |iss: &str, sub: Option<&str>| {
        let mut c = json!({"iss": iss, "scope": CONTACTS_SCOPE, "aud": t.emu.token_url(), "iat": now, "exp": now + 3600});
        if let Some(s) = sub {
            c["sub"] = json!(s);
        }
        c
    };
    let grant = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    let jwt = sign_jwt(&claims(sa, Some("carol@example.com")));
    let (s, v) = post_form(&t, &[("grant_type", grant), ("assertion", &jwt)]).await;
    assert_eq!(s, 200, "{v}");
    let token = v["access_token"].as_str().unwrap().to_string();
    t.call_as(
        &token,
        "POST",
        "v1/people:createContact",
        Some(json!({"names": [{"givenName": "Via DWD"}]})),
    )
    .await
    .unwrap();
    assert_eq!(
        t.emu.contacts("carol@example.com").len(),
        1,
        "sub selects the user"
    );

    let jwt = sign_jwt(&claims(
        "nodwd@project.iam.gserviceaccount.com",
        Some("carol@example.com"),
    ));
    let (s, v) = post_form(&t, &[("grant_type", grant), ("assertion", &jwt)]).await;
    assert_eq!((s, v["error"].as_str()), (401, Some("unauthorized_client")));

    let mut tampered = sign_jwt(&claims(sa, None));
    tampered.replace_range(tampered.len() - 6.., "AAAAAA");
    let (s, v) = post_form(&t, &[("grant_type", grant), ("assertion", &tampered)]).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));

    let mut expired = claims(sa, None);
    expired["iat"] = json!(now - 7200);
    expired["exp"] = json!(now - 3600);
    let (s, _) = post_form(
        &t,
        &[("grant_type", grant), ("assertion", &sign_jwt(&expired))],
    )
    .await;
    assert_eq!(s, 400);

    let unknown = sign_jwt(&claims("other@project.iam.gserviceaccount.com", None));
    let (s, _) = post_form(&t, &[("grant_type", grant), ("assertion", &unknown)]).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn metadata_server_behind_a_flag() {
    let mut c = Config::default();
    c.metadata_user = Some("vm@example.com".into());
    let t = T::with(c).await;
    let url = t.url("computeMetadata/v1/instance/service-accounts/default/token");
    let resp = t.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let v: Value = serde_json::from_slice(
        &t.http
            .get(&url)
            .header("Metadata-Flavor", "Google")
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    let (s, _) = t
        .call_as(
            v["access_token"].as_str().unwrap(),
            "GET",
            "v1/people/me?personFields=names",
            None,
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    let plain = T::new().await;
    assert_eq!(
        plain
            .http
            .get(plain.url("computeMetadata/v1/instance/service-accounts/default/token"))
            .header("Metadata-Flavor", "Google")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn bad_requests_get_google_shaped_400s_and_the_server_keeps_serving() {
    let mut c = Config::default();
    c.max_body_bytes = 10_000;
    let t = T::with(c).await;
    for raw in ["{not json", "[1, 2]", "\"str\""] {
        let resp = t
            .http
            .post(t.url("v1/people:createContact"))
            .bearer_auth(&t.token)
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{raw}");
        let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
        assert_google_error(400, &v);
    }
    let (s, v) = t
        .call(
            "POST",
            "v1/people:createContact",
            Some(json!({"names": [{"givenName": "x".repeat(20_000)}]})),
        )
        .await
        .unwrap();
    assert_eq!(s, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("exceeds the limit")
    );
    let (s, _) = t
        .call(
            "POST",
            "v1/people:batchUpdateContacts",
            Some(json!({"contacts": [1, 2], "updateMask": "names"})),
        )
        .await
        .unwrap();
    assert_eq!(s, 400);
    let (s, v) = t.call("GET", "v1/nothing/here", None).await.unwrap();
    assert_eq!(s, 404);
    assert_google_error(404, &v);
    t.create("still-serving").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_users_in_parallel_lose_no_writes() {
    let t = std::sync::Arc::new(T::new().await);
    let mut tasks = Vec::new();
    for u in 0..20 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let user = format!("user{u}@example.com");
            let token = t.emu.issue_token(&user);
            for i in 0..10 {
                let (s, _) = t
                    .call_as(
                        &token,
                        "POST",
                        "v1/people:createContact",
                        Some(json!({"names": [{"givenName": format!("{u}-{i}")}]})),
                    )
                    .await
                    .unwrap();
                assert_eq!(s, 200);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    for u in 0..20 {
        assert_eq!(t.emu.contacts(&format!("user{u}@example.com")).len(), 10);
    }
    assert_eq!(t.emu.request_count("people.createContact", None), 200);
}

#[tokio::test]
async fn seeding_is_fast_enough_for_large_tests() {
    let t = T::new().await;
    let start = Instant::now();
    let names = t.emu.seed_contacts(ALICE, 100_000);
    eprintln!("seeded 100000 contacts in {:?}", start.elapsed());
    assert_eq!(names.len(), 100_000);
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 100_000);
    let v = t
        .ok(
            "GET",
            "v1/people/me/connections?personFields=names&pageSize=1000",
            None,
        )
        .await;
    assert_eq!(v["totalPeople"], 100_000);
}

#[tokio::test]
async fn contact_groups_and_memberships_stay_consistent() {
    let t = T::new().await;
    let names = t.emu.seed_contacts(ALICE, 3);
    let v = t.ok("GET", "v1/contactGroups", None).await;
    let groups = v["contactGroups"].as_array().unwrap();
    assert_eq!(groups[0]["resourceName"], "contactGroups/myContacts");
    assert_eq!(
        groups[0]["memberCount"], 3,
        "seeded contacts are in My Contacts"
    );

    let g = t
        .ok(
            "POST",
            "v1/contactGroups",
            Some(json!({"contactGroup": {"name": "Friends of Ada"}})),
        )
        .await;
    let grn = g["resourceName"].as_str().unwrap().to_string();
    // A create returns metadata, groupType and name unless readGroupFields asks for more.
    assert_eq!(
        (g["groupType"].as_str(), g.get("memberCount")),
        (Some("USER_CONTACT_GROUP"), None)
    );
    let read = t
        .ok(
            "GET",
            &format!("v1/{grn}?groupFields=name,memberCount"),
            None,
        )
        .await;
    assert_eq!(
        (read["memberCount"].as_i64(), read.get("groupType")),
        (Some(0), None)
    );
    let (s, v) = t
        .err(
            "POST",
            "v1/contactGroups",
            Some(json!({"contactGroup": {"name": "Friends of Ada"}})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["status"].as_str()),
        (409, Some("ALREADY_EXISTS"))
    );

    let etag_before = t.emu.contact(ALICE, &names[0]).unwrap()["etag"].clone();
    let v = t
        .ok(
            "POST",
            &format!("v1/{grn}/members:modify"),
            Some(json!({"resourceNamesToAdd": [names[0], names[1], "people/c1"]})),
        )
        .await;
    assert_eq!(v["notFoundResourceNames"], json!(["people/c1"]));
    let c0 = t.emu.contact(ALICE, &names[0]).unwrap();
    assert_ne!(
        c0["etag"], etag_before,
        "a membership change is a write to the contact"
    );
    let ids: Vec<&str> = c0["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["contactGroupMembership"]["contactGroupId"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(ids.contains(&grn.trim_start_matches("contactGroups/")));
    let g = t.ok("GET", &format!("v1/{grn}?maxMembers=10"), None).await;
    assert_eq!(g["memberCount"], 2);
    assert_eq!(g["memberResourceNames"], json!([names[0], names[1]]));

    // Updating a contact's memberships moves it out of the group.
    let path = format!(
        "v1/{}:updateContact?updatePersonFields=memberships&personFields=memberships",
        names[1]
    );
    let my = json!([{"contactGroupMembership": {"contactGroupResourceName": "contactGroups/myContacts", "contactGroupId": "myContacts"}}]);
    t.ok(
        "PATCH",
        &path,
        Some(json!({"etag": t.emu.contact(ALICE, &names[1]).unwrap()["etag"], "memberships": my})),
    )
    .await;
    assert_eq!(
        t.ok("GET", &format!("v1/{grn}"), None).await["memberCount"],
        1
    );

    // Rename with the etag; delete keeps the contacts but drops the membership.
    let g = t.ok("GET", &format!("v1/{grn}"), None).await;
    let (s, _) = t
        .err(
            "PUT",
            &format!("v1/{grn}"),
            Some(json!({"contactGroup": {"name": "Renamed", "etag": "stale"}})),
        )
        .await;
    assert_eq!(s, 400);
    let g = t
        .ok(
            "PUT",
            &format!("v1/{grn}"),
            Some(json!({"contactGroup": {"name": "Renamed", "etag": g["etag"]}})),
        )
        .await;
    assert_eq!(g["name"], "Renamed");
    let v = t
        .ok(
            "GET",
            &format!(
                "v1/contactGroups:batchGet?resourceNames={grn}&resourceNames=contactGroups/nope"
            ),
            None,
        )
        .await;
    assert_eq!(v["responses"][0]["contactGroup"]["name"], "Renamed");
    assert_eq!(v["responses"][1]["status"]["code"], 5);
    t.ok("DELETE", &format!("v1/{grn}"), None).await;
    assert_eq!(t.emu.contacts(ALICE).len(), 3);
    let ids: Vec<String> = t.emu.contact(ALICE, &names[0]).unwrap()["memberships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["contactGroupMembership"]["contactGroupId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["myContacts"]);
    let (s, _) = t.err("DELETE", "v1/contactGroups/myContacts", None).await;
    assert_eq!(s, 400);

    // The last group cannot be removed.
    let v = t
        .ok(
            "POST",
            "v1/contactGroups/myContacts/members:modify",
            Some(json!({"resourceNamesToRemove": [names[2]]})),
        )
        .await;
    assert_eq!(
        v["canNotRemoveLastContactGroupResourceNames"],
        json!([names[2]])
    );
}

#[tokio::test]
async fn search_matches_word_prefixes() {
    let t = T::new().await;
    t.create("Ada").await;
    t.create("Grace").await;
    t.emu.insert_contact(ALICE, &json!({"names": [{"givenName": "Alan", "familyName": "Turing"}], "organizations": [{"name": "Bletchley Park"}]}));
    // The warm-up request the method documents: searches answer from what it cached.
    t.ok(
        "GET",
        "v1/people:searchContacts?query=&readMask=names",
        None,
    )
    .await;
    let found = |v: &Value| {
        v["results"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| {
                        r["person"]["names"][0]["givenName"]
                            .as_str()
                            .unwrap()
                            .to_string()
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        found(
            &t.ok(
                "GET",
                "v1/people:searchContacts?query=gra&readMask=names",
                None
            )
            .await
        ),
        ["Grace"]
    );
    assert_eq!(
        found(
            &t.ok(
                "GET",
                "v1/people:searchContacts?query=bletch&readMask=names",
                None
            )
            .await
        ),
        ["Alan"]
    );
    assert_eq!(
        found(
            &t.ok(
                "GET",
                "v1/people:searchContacts?query=a&readMask=names&pageSize=2",
                None
            )
            .await
        )
        .len(),
        2
    );
    assert_eq!(
        t.ok(
            "GET",
            "v1/people:searchContacts?query=zzz&readMask=names",
            None
        )
        .await,
        json!({})
    );
    let (_, v) = t.err("GET", "v1/people:searchContacts?query=a", None).await;
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("readMask is required")
    );
    let (s, _) = t
        .err(
            "GET",
            "v1/people:searchContacts?query=a&readMask=names&pageSize=31",
            None,
        )
        .await;
    assert_eq!(s, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_mutations_of_one_user_can_be_made_to_conflict() {
    let mut c = Config::default();
    c.contention_status = Some(409);
    let t = std::sync::Arc::new(T::with(c).await);
    t.emu.add_fault(
        FaultRule::new(Fault::Latency(Duration::from_millis(400)))
            .method("people.createContact")
            .nth(1),
    );
    let slow = {
        let t = t.clone();
        tokio::spawn(async move {
            t.call(
                "POST",
                "v1/people:createContact",
                Some(json!({"names": [{"givenName": "slow"}]})),
            )
            .await
            .unwrap()
            .0
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (s, v) = t
        .call(
            "POST",
            "v1/people:createContact",
            Some(json!({"names": [{"givenName": "fast"}]})),
        )
        .await
        .unwrap();
    assert_eq!((s, v["error"]["status"].as_str()), (409, Some("ABORTED")));
    assert_eq!(slow.await.unwrap(), 200);
    // Reads are never in conflict, and sequential writes are fine.
    t.ok("GET", "v1/people/me/connections?personFields=names", None)
        .await;
    t.create("after").await;
    assert_eq!(t.emu.contacts(ALICE).len(), 2);
}

#[tokio::test]
async fn read_after_write_lag_serves_the_previous_etag() {
    let mut c = Config::default();
    c.read_after_write_lag = Duration::from_millis(400);
    let t = T::with(c).await;
    let p = t.create("Lag").await;
    let rn = p["resourceName"].as_str().unwrap().to_string();
    let path = format!("v1/{rn}:updateContact?updatePersonFields=names&personFields=names");
    let updated = t
        .ok(
            "PATCH",
            &path,
            Some(json!({"etag": p["etag"], "names": [{"givenName": "New"}]})),
        )
        .await;
    let read = t
        .ok("GET", &format!("v1/{rn}?personFields=names"), None)
        .await;
    assert_eq!(
        read["etag"], p["etag"],
        "a fresh read still sees the old version"
    );
    assert_eq!(read["names"][0]["givenName"], "Lag");
    let (s, v) = t
        .err(
            "PATCH",
            &path,
            Some(json!({"etag": read["etag"], "names": [{"givenName": "Again"}]})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["status"].as_str()),
        (400, Some("FAILED_PRECONDITION"))
    );
    // Chaining the etag the update returned works, as Google advises.
    let chained = t
        .ok(
            "PATCH",
            &path,
            Some(json!({"etag": updated["etag"], "names": [{"givenName": "Chained"}]})),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(450)).await;
    let read = t
        .ok("GET", &format!("v1/{rn}?personFields=names"), None)
        .await;
    assert_eq!(read["etag"], chained["etag"]);
}

#[tokio::test]
async fn linking_a_profile_changes_the_resource_name() {
    let mut c = Config::default();
    c.profile_link_domain = Some("profile.test".into());
    let t = T::with(c).await;
    let names = t.emu.seed_contacts(ALICE, 2);
    let old = names[0].clone();
    let etag = t.emu.contact(ALICE, &old).unwrap()["etag"].clone();
    let body = json!({"contacts": {old.clone(): {"etag": etag, "emailAddresses": [{"value": "ada@PROFILE.test"}]}}, "updateMask": "emailAddresses", "readMask": "emailAddresses,metadata"});
    let v = t
        .ok("POST", "v1/people:batchUpdateContacts", Some(body))
        .await;
    let r = &v["updateResult"][&old];
    assert_eq!(r["requestedResourceName"], old.as_str());
    let new = r["person"]["resourceName"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(
        r["person"]["metadata"]["previousResourceNames"],
        json!([old])
    );
    let (s, _) = t
        .err("GET", &format!("v1/{old}?personFields=names"), None)
        .await;
    assert_eq!(s, 404);
    t.ok("GET", &format!("v1/{new}?personFields=names"), None)
        .await;
    assert_eq!(t.emu.contacts(ALICE).len(), 2);
}

#[tokio::test]
async fn authorization_code_grant_checks_pkce_redirect_and_single_use() {
    let t = T::new().await;
    t.emu.register_oauth_client("app", "app-secret");
    let verifier = "a-verifier-of-enough-length-0123456789";
    let challenge = URL_SAFE_NO_PAD
        .encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()).as_ref());
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authorize = |redirect: &str| {
        format!(
            "{}?response_type=code&client_id=app&redirect_uri={}&scope={}&code_challenge={challenge}&code_challenge_method=S256&state=xyz",
            t.emu.authorize_url(),
            url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>(),
            url::form_urlencoded::byte_serialize(CONTACTS_SCOPE.as_bytes()).collect::<String>(),
        )
    };
    // Nobody has consented yet.
    assert_eq!(
        no_redirects
            .get(authorize("http://127.0.0.1:9/"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    t.emu.set_consent_user("ivy@example.com");
    assert_eq!(
        no_redirects
            .get(authorize("https://evil.example/"))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    let resp = no_redirects
        .get(authorize("http://127.0.0.1:9/cb"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    let location = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with("http://127.0.0.1:9/cb?"));
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "xyz");
    let code = q["code"].clone();

    let exchange = |code: &str, verifier: &str, redirect: &str| {
        let (code, verifier, redirect) =
            (code.to_string(), verifier.to_string(), redirect.to_string());
        let t = &t;
        async move {
            post_form(
                t,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("client_id", "app"),
                    ("client_secret", "app-secret"),
                    ("redirect_uri", &redirect),
                    ("code_verifier", &verifier),
                ],
            )
            .await
        }
    };
    let (s, v) = exchange(&code, "wrong-verifier", "http://127.0.0.1:9/cb").await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    // A code is single-use, even after a failed exchange.
    let (s, _) = exchange(&code, verifier, "http://127.0.0.1:9/cb").await;
    assert_eq!(s, 400);

    let resp = no_redirects
        .get(authorize("http://127.0.0.1:9/cb"))
        .send()
        .await
        .unwrap();
    let code = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .to_string();
    let (s, v) = exchange(&code, verifier, "http://127.0.0.1:9/other").await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("redirect_uri_mismatch"))
    );

    let resp = no_redirects
        .get(authorize("http://127.0.0.1:9/cb"))
        .send()
        .await
        .unwrap();
    let code = reqwest::Url::parse(resp.headers()["location"].to_str().unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .to_string();
    let (s, v) = exchange(&code, verifier, "http://127.0.0.1:9/cb").await;
    assert_eq!(s, 200, "{v}");
    assert!(v["refresh_token"].as_str().unwrap().starts_with("1//"));
    let (s, _) = t
        .call_as(
            v["access_token"].as_str().unwrap(),
            "POST",
            "v1/people:createContact",
            Some(json!({})),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(t.emu.contacts("ivy@example.com").len(), 1);
    // The refresh token works with the refresh grant.
    let (s, _) = post_form(
        &t,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "app"),
            ("client_secret", "app-secret"),
            ("refresh_token", v["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn iam_credentials_and_sts_answer_like_google() {
    let t = T::new().await;
    let sa = "keyless@project.iam.gserviceaccount.com";
    t.emu.register_keyless_service_account(sa, true);
    let caller = t
        .emu
        .issue_token_with_scopes(ALICE, &[CLOUD_PLATFORM_SCOPE]);
    let sign = format!("v1/projects/-/serviceAccounts/{sa}:signJwt");
    let generate = format!("v1/projects/-/serviceAccounts/{sa}:generateAccessToken");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"iss": sa, "sub": "bob@example.com", "scope": CONTACTS_SCOPE, "aud": t.emu.token_url(), "iat": now, "exp": now + 3600});
    let body = json!({"payload": claims.to_string()});

    // No grant yet: 403 PERMISSION_DENIED with the IAM permission named.
    let (s, v) = t
        .call_as(&caller, "POST", &sign, Some(body.clone()))
        .await
        .unwrap();
    assert_eq!(s, 403, "{v}");
    assert_google_error(s, &v);
    assert_eq!(
        v["error"]["details"][0]["metadata"]["permission"],
        "iam.serviceAccounts.signJwt"
    );
    // A token without the cloud-platform scope cannot call IAM at all; no token is a 401.
    t.emu.grant_token_creator(ALICE, sa);
    let (s, _) = t.call("POST", &sign, Some(body.clone())).await.unwrap();
    assert_eq!(s, 403);
    let (s, _) = t
        .call_as("", "POST", &sign, Some(body.clone()))
        .await
        .unwrap();
    assert_eq!(s, 401);

    // Granted: a JWT signed with the account's key, which the token endpoint honours.
    let (s, v) = t.call_as(&caller, "POST", &sign, Some(body)).await.unwrap();
    assert_eq!(s, 200, "{v}");
    let jwt = v["signedJwt"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], v["keyId"]);
    let (s, grant) = post_form(
        &t,
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", jwt),
        ],
    )
    .await;
    assert_eq!(s, 200, "{grant}");
    let bob = grant["access_token"].as_str().unwrap().to_string();
    let (s, _) = t
        .call_as(
            &bob,
            "POST",
            "v1/people:createContact?personFields=names",
            Some(json!({"names": [{"givenName": "B"}]})),
        )
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(t.emu.contacts("bob@example.com").len(), 1);

    // A payload that lives longer than 12 hours is refused.
    let long = json!({"payload": json!({"iss": sa, "exp": now + 13 * 3600}).to_string()});
    let (s, _) = t.call_as(&caller, "POST", &sign, Some(long)).await.unwrap();
    assert_eq!(s, 400);

    // generateAccessToken: an RFC 3339 expireTime, a lifetime within bounds.
    let (s, v) = t
        .call_as(
            &caller,
            "POST",
            &generate,
            Some(json!({"scope": [CONTACTS_SCOPE], "lifetime": "600s"})),
        )
        .await
        .unwrap();
    assert_eq!(s, 200, "{v}");
    let expire = v["expireTime"].as_str().unwrap();
    assert!(
        expire.len() == 20 && expire.ends_with('Z') && expire.as_bytes()[10] == b'T',
        "{expire}"
    );
    let (s, _) = t
        .call_as(
            &caller,
            "POST",
            &generate,
            Some(json!({"scope": [CONTACTS_SCOPE], "lifetime": "99999s"})),
        )
        .await
        .unwrap();
    assert_eq!(s, 400);
    let (s, _) = t
        .call_as(&caller, "POST", &generate, Some(json!({"scope": []})))
        .await
        .unwrap();
    assert_eq!(s, 400);

    // STS: only registered audiences and issuers.
    let aud =
        "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x";
    t.emu
        .register_workload_identity_provider(aud, "https://issuer.example");
    let subject = |iss: &str| {
        let c = json!({"iss": iss, "sub": "s1", "exp": now + 600});
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(c.to_string()))
    };
    let sts = |audience: &str, token: String| {
        let form = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ),
                ("audience", audience),
                ("scope", CLOUD_PLATFORM_SCOPE),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:access_token",
                ),
                ("subject_token", &token),
                ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
            ])
            .finish();
        t.http
            .post(t.emu.sts_url())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
    };
    let r = sts(aud, subject("https://issuer.example")).await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(
        v["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    let r = sts(aud, subject("https://other.example")).await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(v["error"], "invalid_grant");
    let r = sts(
        "//iam.googleapis.com/unknown",
        subject("https://issuer.example"),
    )
    .await
    .unwrap();
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(v["error"], "invalid_target");
}
