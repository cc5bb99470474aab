//! Real People API exchanges replayed against the emulator: each recorded response
//! (`tests/fixtures/real/`) whose request can be reconstructed is asked of the emulator, and the
//! two answers are compared field by field. Values that differ by nature (resource names, ids,
//! etags, update times, photo URLs) are compared by presence only; every other field Google
//! sent must be there with the same value (what Google derives included: `formattedType`,
//! `canonicalForm`, display names, the default photo, an address's `formattedValue`), and the
//! emulator may add nothing Google does not send.

use std::fmt::Write as _;

use google_people_emulator::{Config, Emulator};
use serde_json::{Map, Value, json};

const USER: &str = "recorded@example.com";

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/real/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Keys whose values are the server's own names for things: compared by presence.
const VOLATILE: &[&str] = &[
    "resourceName",
    "etag",
    "id",
    "updateTime",
    "url",
    "nextPageToken",
    "nextSyncToken",
    "contactGroupId",
    "contactGroupResourceName",
];

/// Differences between what Google sent and what the emulator sent.
#[derive(Default)]
struct Diff {
    compared: usize,
    missing: Vec<String>,
    extra: Vec<String>,
    wrong: Vec<String>,
}

impl Diff {
    fn walk(&mut self, path: &str, google: &Value, emulator: &Value) {
        match (google, emulator) {
            (Value::Object(g), Value::Object(e)) => {
                for (k, gv) in g {
                    let p = format!("{path}.{k}");
                    match e.get(k) {
                        None => self.missing.push(p),
                        Some(_) if VOLATILE.contains(&k.as_str()) => self.compared += 1,
                        Some(ev) => self.walk(&p, gv, ev),
                    }
                }
                for k in e.keys().filter(|k| !g.contains_key(*k)) {
                    self.extra.push(format!("{path}.{k}"));
                }
            }
            (Value::Array(g), Value::Array(e)) if g.len() == e.len() => {
                for (i, (gv, ev)) in g.iter().zip(e).enumerate() {
                    self.walk(&format!("{path}[{i}]"), gv, ev);
                }
            }
            (g, e) => {
                self.compared += 1;
                if g != e {
                    self.wrong.push(format!("{path}: Google {g}, emulator {e}"));
                }
            }
        }
    }

    fn assert_none(&self, what: &str) {
        let mut report = String::new();
        for (kind, list) in [
            ("missing", &self.missing),
            ("extra", &self.extra),
            ("wrong", &self.wrong),
        ] {
            for item in list {
                let _ = writeln!(report, "  {kind}: {item}");
            }
        }
        assert!(
            report.is_empty(),
            "{what}: {} fields compared\n{report}",
            self.compared
        );
        println!("{what}: {} fields compared, all as Google", self.compared);
    }
}

/// What a client would have sent to create the recorded person: its writable fields, without
/// field metadata and what Google derives.
fn writable(person: &Value) -> Value {
    let derived = [
        "metadata",
        "formattedType",
        "formattedProtocol",
        "canonicalForm",
        "displayName",
        "displayNameLastFirst",
    ];
    let mut out = Map::new();
    for (field, items) in person.as_object().unwrap() {
        let Some(items) = items.as_array() else {
            continue;
        };
        if field == "photos" {
            continue;
        }
        let items: Vec<Value> = items
            .iter()
            .map(|item| {
                let mut m = item.as_object().unwrap().clone();
                for k in derived {
                    m.remove(k);
                }
                // Google fills these in when the client sends none.
                if field == "names" && m.get("unstructuredName") == item.get("displayName") {
                    m.remove("unstructuredName");
                }
                if field == "addresses" {
                    m.remove("formattedValue");
                }
                if field == "memberships" {
                    let rn = item["contactGroupMembership"]["contactGroupResourceName"].clone();
                    return json!({"contactGroupMembership": {"contactGroupResourceName": rn}});
                }
                Value::Object(m)
            })
            .collect();
        out.insert(field.clone(), Value::Array(items));
    }
    Value::Object(out)
}

/// The person fields a recorded person carries (its read mask).
fn mask_of(person: &Value) -> String {
    let mut fields: Vec<&str> = person
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|k| !matches!(*k, "resourceName" | "etag"))
        .collect();
    fields.sort_unstable();
    fields.join(",")
}

async fn emulator() -> (Emulator, reqwest::Client, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // The recorded account is in Spain: national numbers get a +34 canonical form.
    let mut config = Config::default();
    config.phone_region_code = Some("34".into());
    let emu = Emulator::start_with(config).await.unwrap();
    let token = emu.issue_token(USER);
    (emu, reqwest::Client::new(), token)
}

async fn call(
    http: &reqwest::Client,
    token: &str,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> Value {
    let mut rb = http.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        rb = rb
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status();
    let v: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert!(status.is_success(), "{status}: {v}");
    v
}

#[tokio::test]
async fn people_get_as_google_answered_it() {
    let (emu, http, token) = emulator().await;
    let recorded = fixture("person_get_2.json");
    let created = call(
        &http,
        &token,
        reqwest::Method::POST,
        format!(
            "{}v1/people:createContact?personFields=names",
            emu.base_url()
        ),
        Some(writable(&recorded)),
    )
    .await;
    let got = call(
        &http,
        &token,
        reqwest::Method::GET,
        format!(
            "{}v1/{}?personFields={}",
            emu.base_url(),
            created["resourceName"].as_str().unwrap(),
            mask_of(&recorded)
        ),
        None,
    )
    .await;
    let mut diff = Diff::default();
    diff.walk("person", &recorded, &got);
    diff.assert_none("people.get");
}

#[tokio::test]
async fn connections_list_as_google_answered_it() {
    let (emu, http, token) = emulator().await;
    let recorded = fixture("connections_list_page_1.json");
    let person = &recorded["connections"][0];
    // The recorded account holds two contacts; the page shows the first.
    for p in [person, &json!({"names": [{"givenName": "Second"}]})] {
        call(
            &http,
            &token,
            reqwest::Method::POST,
            format!(
                "{}v1/people:createContact?personFields=names",
                emu.base_url()
            ),
            Some(writable(p)),
        )
        .await;
    }
    let got = call(
        &http,
        &token,
        reqwest::Method::GET,
        format!(
            "{}v1/people/me/connections?pageSize=1&personFields={}",
            emu.base_url(),
            mask_of(person)
        ),
        None,
    )
    .await;
    let mut diff = Diff::default();
    diff.walk("page", &recorded, &got);
    diff.assert_none("people.connections.list");
}

#[tokio::test]
async fn contact_groups_list_as_google_answered_it() {
    let (emu, http, token) = emulator().await;
    let recorded = fixture("contact_groups_list_1.json");
    let base = emu.base_url();
    let group = call(
        &http,
        &token,
        reqwest::Method::POST,
        format!("{base}v1/contactGroups"),
        Some(json!({"contactGroup": {"name": "test1"}})),
    )
    .await;
    let grn = group["resourceName"].as_str().unwrap().to_string();
    // 296 contacts in My Contacts, one of them in test1.
    emu.seed_contacts(USER, 295);
    emu.insert_contact(
        USER,
        &json!({"names": [{"givenName": "Member"}], "memberships": [
            {"contactGroupMembership": {"contactGroupResourceName": "contactGroups/myContacts"}},
            {"contactGroupMembership": {"contactGroupResourceName": grn}}]}),
    );
    let got = call(
        &http,
        &token,
        reqwest::Method::GET,
        format!("{base}v1/contactGroups"),
        None,
    )
    .await;
    // The groups the recording holds, each against the emulator's of the same name.
    let mut diff = Diff::default();
    for (i, g) in recorded["contactGroups"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let ours = got["contactGroups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == g["name"])
            .unwrap_or_else(|| panic!("no group {} in {got}", g["name"]));
        diff.walk(&format!("contactGroups[{i}]"), g, ours);
    }
    // Google sends the sync token with every page.
    assert!(got["nextSyncToken"].is_string(), "{got}");
    diff.assert_none("contactGroups.list");
}
