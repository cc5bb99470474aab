//! Per-user contact storage, kept as JSON (the emulator does not use the client's types), with
//! person and source etags that change on every write, and a change log for sync tokens.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

/// Fields a person can be read with (`personFields`, `readMask`).
pub const READ_FIELDS: &[&str] = &[
    "addresses",
    "ageRanges",
    "biographies",
    "birthdays",
    "calendarUrls",
    "clientData",
    "coverPhotos",
    "emailAddresses",
    "events",
    "externalIds",
    "genders",
    "imClients",
    "interests",
    "locales",
    "locations",
    "memberships",
    "metadata",
    "miscKeywords",
    "names",
    "nicknames",
    "occupations",
    "organizations",
    "phoneNumbers",
    "photos",
    "relations",
    "sipAddresses",
    "skills",
    "urls",
    "userDefined",
];

/// Fields a contact update can write (`updateMask`, `updatePersonFields`).
pub const UPDATE_FIELDS: &[&str] = &[
    "addresses",
    "biographies",
    "birthdays",
    "calendarUrls",
    "clientData",
    "emailAddresses",
    "events",
    "externalIds",
    "genders",
    "imClients",
    "interests",
    "locales",
    "locations",
    "memberships",
    "miscKeywords",
    "names",
    "nicknames",
    "occupations",
    "organizations",
    "phoneNumbers",
    "relations",
    "sipAddresses",
    "urls",
    "userDefined",
];

/// Fields a contact source holds at most one of.
pub const SINGLETON_FIELDS: &[&str] = &["names", "biographies", "birthdays", "genders"];

/// One stored contact.
#[derive(Debug, Clone)]
pub struct Contact {
    pub id: u64,
    /// Person fields (only the writable ones), as JSON.
    pub fields: Map<String, Value>,
    pub version: u64,
    pub update_time: String,
    /// Resource names the contact had before it was linked to a profile.
    pub previous_names: Vec<String>,
    /// The contact has been linked to a profile (its name changed once).
    pub linked: bool,
    /// The version reads still see during the read-after-write lag, and when it was replaced.
    pub stale: Option<(Box<Contact>, Instant)>,
}

impl Contact {
    fn new(id: u64) -> Self {
        Self {
            id,
            fields: Map::new(),
            version: 0,
            update_time: now_rfc3339(),
            previous_names: Vec::new(),
            linked: false,
            stale: None,
        }
    }

    /// Keep the current version visible to reads for `lag` after the coming write.
    pub fn remember_for_lag(&mut self, lag: Duration) {
        if !lag.is_zero() {
            let mut snapshot = self.clone();
            snapshot.stale = None;
            self.stale = Some((Box::new(snapshot), Instant::now()));
        }
    }

    /// What a read sees: the previous version during the lag after a write, else this one.
    pub fn visible(&self, lag: Duration) -> &Contact {
        match &self.stale {
            Some((s, at)) if at.elapsed() < lag => s,
            _ => self,
        }
    }

    pub fn resource_name(&self) -> String {
        format!("people/c{}", self.id)
    }
    fn source_id(&self) -> String {
        format!("{:x}", self.id)
    }
    pub fn person_etag(&self) -> String {
        format!(
            "%{}",
            STANDARD.encode(format!("p{}v{}", self.id, self.version))
        )
    }
    pub fn source_etag(&self) -> String {
        format!(
            "#{}",
            STANDARD.encode(format!("s{}v{}", self.id, self.version))
        )
    }

    /// The person as the API returns it, projected to `mask` (resource name and etag always).
    pub fn to_json(&self, mask: &[String]) -> Value {
        let mut p = Map::new();
        p.insert("resourceName".into(), json!(self.resource_name()));
        p.insert("etag".into(), json!(self.person_etag()));
        for f in mask {
            if f == "metadata" {
                let mut meta = json!({
                    "sources": [{"type": "CONTACT", "id": self.source_id(), "etag": self.source_etag(), "updateTime": self.update_time}],
                    "objectType": "PERSON"
                });
                if !self.previous_names.is_empty() {
                    meta["previousResourceNames"] = json!(self.previous_names);
                }
                p.insert("metadata".into(), meta);
            } else if let Some(v) = self.fields.get(f) {
                p.insert(f.clone(), v.clone());
            } else if f == "photos" {
                // A contact without a photo of its own has Google's default one.
                p.insert(
                    "photos".into(),
                    json!([{
                        "metadata": {"primary": true, "source": {"type": "CONTACT", "id": self.source_id()}},
                        "url": format!("https://lh3.googleusercontent.com/cm/emulator-{:x}=s100", self.id),
                        "default": true
                    }]),
                );
            }
        }
        Value::Object(p)
    }

    /// Store the writable fields of `person` named by `mask`: a listed field is replaced, or
    /// cleared when the person does not carry it.
    pub fn apply(&mut self, person: &Map<String, Value>, mask: &[String]) {
        for f in mask {
            match person.get(f) {
                Some(Value::Array(items)) if !items.is_empty() => {
                    let items = items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            let mut item = if f == "memberships" {
                                with_group_id(item)
                            } else {
                                item.clone()
                            };
                            if let Value::Object(m) = &mut item
                                && f != "photos"
                            {
                                crate::derive::item(f, m);
                            }
                            // Google marks no membership primary.
                            self.with_field_metadata(&item, i == 0 && f != "memberships")
                        })
                        .collect();
                    self.fields.insert(f.clone(), Value::Array(items));
                }
                _ => {
                    self.fields.remove(f);
                }
            }
        }
        self.version += 1;
        self.update_time = now_rfc3339();
    }

    fn with_field_metadata(&self, item: &Value, primary: bool) -> Value {
        let mut item = item.clone();
        if let Value::Object(m) = &mut item {
            let mut meta = json!({"source": {"type": "CONTACT", "id": self.source_id()}});
            if primary {
                meta["primary"] = json!(true);
            }
            m.insert("metadata".into(), meta);
        }
        item
    }
}

/// A membership as the server stores it: a client names the group by `contactGroupResourceName`
/// (`contactGroupId` is deprecated and output only), and the server fills in the other.
fn with_group_id(item: &Value) -> Value {
    let mut item = item.clone();
    if let Some(m) = item
        .get_mut("contactGroupMembership")
        .and_then(Value::as_object_mut)
    {
        match (
            m.get("contactGroupResourceName").and_then(Value::as_str),
            m.get("contactGroupId").and_then(Value::as_str),
        ) {
            (Some(rn), None) => {
                let id = rn.strip_prefix("contactGroups/").unwrap_or(rn).to_string();
                m.insert("contactGroupId".into(), json!(id));
            }
            (None, Some(id)) => {
                let rn = format!("contactGroups/{id}");
                m.insert("contactGroupResourceName".into(), json!(rn));
            }
            _ => {}
        }
    }
    item
}

/// A change for sync tokens: the contact's resource name and whether it was deleted.
#[derive(Debug, Clone)]
pub struct Change {
    pub seq: u64,
    pub id: u64,
    pub deleted: bool,
    /// When it was written (moved back by [`crate::Emulator::advance_time`]; `None` once further
    /// back than the clock goes): incremental listings see it only after the propagation delay.
    pub at: Option<std::time::Instant>,
}

/// One user's data.
#[derive(Debug, Default)]
pub struct UserStore {
    pub contacts: BTreeMap<u64, Contact>,
    /// User-created contact groups by id.
    pub groups: BTreeMap<String, crate::groups::Group>,
    pub next_id: u64,
    pub seq: u64,
    pub changes: Vec<Change>,
    /// Contact photos by (contact id, contact version): content type and bytes.
    pub photos: BTreeMap<(u64, u64), (&'static str, Vec<u8>)>,
    /// "Other contacts" (the people Gmail collects from interactions) by id: their fields, and
    /// the sequence number of their creation (for sync tokens).
    pub other: BTreeMap<u64, (Map<String, Value>, u64)>,
    /// What `searchContacts` sees: the contacts as they were at the last warm-up request.
    pub search_index: Option<BTreeMap<u64, Contact>>,
    /// Contact groups changed since creation, for `contactGroups.list` sync tokens: id →
    /// (sequence number of the change, deleted).
    pub group_changes: BTreeMap<String, (u64, bool)>,
}

impl UserStore {
    /// A fresh id for a contact or an other contact.
    pub fn new_id(&mut self) -> u64 {
        if self.next_id == 0 {
            self.next_id = 1_000_000_000_000_000_001;
        }
        let id = self.next_id;
        self.next_id += 7_919;
        id
    }

    /// Create a contact from `person` (its writable fields).
    pub fn create(&mut self, person: &Map<String, Value>) -> u64 {
        let id = self.new_id();
        let mut c = Contact::new(id);
        let mask: Vec<String> = UPDATE_FIELDS
            .iter()
            .map(|s| s.to_string())
            .filter(|f| person.contains_key(f))
            .collect();
        c.apply(person, &mask);
        if !c.fields.contains_key("memberships") {
            c.fields.insert(
                "memberships".into(),
                json!([{"contactGroupMembership": {"contactGroupId": "myContacts", "contactGroupResourceName": "contactGroups/myContacts"},
                        "metadata": {"source": {"type": "CONTACT", "id": format!("{id:x}")}}}]),
            );
        }
        self.contacts.insert(id, c);
        self.log(id, false);
        id
    }

    /// Link a contact to a profile: it gets a new resource name, and the old one is listed in
    /// `metadata.previousResourceNames` and no longer found. Returns the new id.
    pub fn relink(&mut self, id: u64) -> Option<u64> {
        let mut c = self.contacts.remove(&id)?;
        let new_id = self.next_id;
        self.next_id += 7_919;
        c.previous_names.push(c.resource_name());
        c.id = new_id;
        c.linked = true;
        c.stale = None;
        c.version += 1;
        self.contacts.insert(new_id, c);
        self.log(id, true);
        self.log(new_id, false);
        Some(new_id)
    }

    pub fn log(&mut self, id: u64, deleted: bool) {
        self.seq += 1;
        self.changes.push(Change {
            seq: self.seq,
            id,
            deleted,
            at: Some(std::time::Instant::now()),
        });
    }

    /// Age every change by `by`, as if written that much earlier.
    pub fn age_changes(&mut self, by: std::time::Duration) {
        for c in &mut self.changes {
            c.at = c.at.and_then(|at| at.checked_sub(by));
        }
    }

    /// The last sequence number an incremental listing can see now: every change up to it was
    /// written at least `delay` ago. Changes are logged in time order, so with one delay for all
    /// they become visible in sequence order, and a sync token can stand for a sequence number.
    pub fn visible_seq(&self, delay: std::time::Duration) -> u64 {
        if delay.is_zero() {
            return self.seq;
        }
        let now = std::time::Instant::now();
        // The first change still propagating; everything before it is visible.
        let first_hidden = self
            .changes
            .iter()
            .rev()
            .take_while(|c| {
                c.at.is_some_and(|at| now.saturating_duration_since(at) < delay)
            })
            .last();
        match first_hidden {
            Some(c) => c.seq - 1,
            None => self.seq,
        }
    }
}

/// Parse `people/c<digits>`.
pub fn contact_id(resource_name: &str) -> Option<u64> {
    let digits = resource_name.strip_prefix("people/c")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Current time as RFC 3339 with microseconds, like the real `updateTime`.
pub fn now_rfc3339() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Parse a mask: comma-separated paths, `person.` prefixes tolerated.
pub fn parse_mask(mask: &str) -> Vec<String> {
    mask.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.strip_prefix("person.").unwrap_or(s).to_string())
        .collect()
}
