//! Deterministic, realistic People payloads for benchmarks: contacts shaped like the real
//! `connections.list` fixture (names, emails, phones, organizations, addresses, memberships,
//! source metadata), about 5 KB of JSON each.

use serde_json::{Value, json};

/// A small linear congruential generator: the same seed gives the same data on every machine.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() as usize) % xs.len()]
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit((self.next() % 16) as u32, 16).unwrap())
            .collect()
    }
}

const GIVEN: &[&str] = &[
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances", "Niklaus",
];
const FAMILY: &[&str] = &[
    "Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Allen",
    "Wirth",
];
const ORGS: &[&str] = &[
    "Analytical Engines Ltd",
    "Compiler Works",
    "Bletchley Park",
    "Eindhoven University",
    "MIT",
];
const CITIES: &[&str] = &[
    "London",
    "Arlington",
    "Manchester",
    "Nuenen",
    "Boston",
    "Stanford",
    "Zurich",
];

fn field_meta(source_id: &str, primary: bool) -> Value {
    let mut m = json!({"source": {"type": "CONTACT", "id": source_id}});
    if primary {
        m["primary"] = json!(true);
    }
    m
}

/// One contact as the API returns it with a broad read mask.
pub fn person(i: usize, rng: &mut Lcg) -> Value {
    let given = rng.pick(GIVEN);
    let family = rng.pick(FAMILY);
    let id = rng.hex(16);
    let decimal = u64::from_str_radix(&id, 16).unwrap_or(i as u64);
    let m = |p| field_meta(&id, p);
    json!({
        "resourceName": format!("people/c{decimal}"),
        "etag": format!("%EigBAgMEBQYHCAkKCwwNDg8QERITFBUWFxkfISIjJCUmJy40NTc9Pj9AGgQBAgUHIgx{}", rng.hex(16)),
        "metadata": {"sources": [{"type": "CONTACT", "id": id, "etag": format!("#{}=", rng.hex(11)), "updateTime": "2024-02-24T16:40:20.181599Z"}], "objectType": "PERSON"},
        "names": [{"metadata": m(true), "displayName": format!("{given} {family}"), "familyName": family, "givenName": given,
                   "displayNameLastFirst": format!("{family}, {given}"), "unstructuredName": format!("{given} {family}")}],
        "nicknames": [{"metadata": m(true), "value": format!("{given}{i}")}],
        "emailAddresses": [
            {"metadata": m(true), "value": format!("{}.{}{i}@example.com", given.to_lowercase(), family.to_lowercase()), "type": "work", "formattedType": "Work"},
            {"metadata": m(false), "value": format!("{}{i}@mail.example.org", given.to_lowercase()), "type": "home", "formattedType": "Home"}
        ],
        "phoneNumbers": [
            {"metadata": m(true), "value": format!("+1 555 {:04}", i % 10_000), "canonicalForm": format!("+1555{:07}", i), "type": "mobile", "formattedType": "Mobile"},
            {"metadata": m(false), "value": format!("+44 20 7946 {:04}", rng.next() % 10_000), "type": "work", "formattedType": "Work"}
        ],
        "organizations": [{"metadata": m(true), "name": rng.pick(ORGS), "title": "Engineer", "department": "Research", "type": "work", "formattedType": "Work"}],
        "addresses": [{"metadata": m(true), "formattedValue": format!("{} Example Street\n{}", i, rng.pick(CITIES)), "streetAddress": format!("{i} Example Street"),
                       "city": rng.pick(CITIES), "postalCode": format!("{:05}", rng.next() % 100_000), "country": "United Kingdom", "countryCode": "GB", "type": "home", "formattedType": "Home"}],
        "birthdays": [{"metadata": m(true), "date": {"year": 1900 + (rng.next() % 100) as i64, "month": 1 + (rng.next() % 12) as i64, "day": 1 + (rng.next() % 28) as i64}}],
        "biographies": [{"metadata": m(true), "value": "Met at the conference; interested in compilers, formal methods and the history of computing.", "contentType": "TEXT_PLAIN"}],
        "urls": [{"metadata": m(true), "value": format!("https://example.com/{}", given.to_lowercase()), "type": "homePage", "formattedType": "Home Page"}],
        "userDefined": [{"metadata": m(true), "key": "crm-id", "value": format!("CRM-{:08}", i)}],
        "photos": [{"metadata": m(true), "url": format!("https://lh3.googleusercontent.com/cm/{}=s100", rng.hex(64)), "default": true}],
        "events": [{"metadata": m(true), "date": {"year": 2015, "month": 1 + (rng.next() % 12) as i64, "day": 1 + (rng.next() % 28) as i64}, "type": "anniversary", "formattedType": "Anniversary"}],
        "relations": [{"metadata": m(true), "person": format!("{} {}", rng.pick(GIVEN), family), "type": "spouse", "formattedType": "Spouse"}],
        "externalIds": [{"metadata": m(true), "value": format!("EMP-{:06}", i), "type": "organization", "formattedType": "Organization"}],
        "clientData": [{"metadata": m(true), "key": "sync-source", "value": format!("hr-system:{}", rng.hex(12))}],
        "imClients": [{"metadata": m(true), "username": format!("{}.{i}", given.to_lowercase()), "type": "work", "formattedType": "Work", "protocol": "xmpp", "formattedProtocol": "XMPP"}],
        "occupations": [{"metadata": m(true), "value": "Software engineer"}],
        "locales": [{"metadata": m(true), "value": "en-GB"}],
        "memberships": [
            {"metadata": {"source": {"type": "CONTACT", "id": id}}, "contactGroupMembership": {"contactGroupId": "myContacts", "contactGroupResourceName": "contactGroups/myContacts"}}
        ]
    })
}

/// A `BatchUpdateContactsResponse` with `n` updated contacts.
pub fn batch_update_response(n: usize, seed: u64) -> String {
    let mut rng = Lcg::new(seed);
    let mut results = serde_json::Map::new();
    for i in 0..n {
        let p = person(i, &mut rng);
        let name = p["resourceName"].as_str().unwrap().to_string();
        results.insert(name.clone(), json!({"requestedResourceName": name, "httpStatusCode": 200, "person": p, "status": {}}));
    }
    json!({"updateResult": results}).to_string()
}
