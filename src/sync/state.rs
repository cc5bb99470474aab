//! What a sync job knows of one user's managed contacts between runs, and the fingerprints it
//! compares them by.

use std::collections::{HashMap, HashSet};

use std::fmt;

use serde::de::{Error as _, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

pub use super::contacts::Contacts;
use crate::runtime::MaskField as _;
use crate::runtime::wire::Key;
use crate::{Person, PersonField};

/// The version of [`UserState`]'s layout; a state of another version is ignored (a full listing
/// rebuilds it).
pub const STATE_VERSION: u32 = 2;

/// One user's sync state: the sync token of the last listing, and every managed contact the job
/// knows, by external id. It is an optimisation only: losing it costs one full listing, never a
/// duplicate or a lost change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserState {
    /// [`STATE_VERSION`] when written.
    pub version: u32,
    /// The `nextSyncToken` of the last listing this state includes.
    pub sync_token: Option<String>,
    /// The managed fields the fingerprints were taken over (`names,emailAddresses`); when a run
    /// manages others, the fingerprints are taken again from a full listing.
    pub fields: String,
    /// Managed contacts by external id (kept mostly on disk: see [`Contacts`]).
    pub contacts: Contacts,
    /// Creates were sent whose outcome is not known yet (a run was stopped while creating, or a
    /// create's answer was lost and could not be read back). The next listing is then a full
    /// one: incremental listings may not show a write for minutes, and a create they do not show
    /// must not be taken for one that never happened.
    pub creates_unsettled: bool,
}

/// What the job knows of one managed contact.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// Its resource name.
    pub resource_name: String,
    /// Its etag when last seen or written.
    pub etag: String,
    /// Fingerprint of the managed fields Google holds at `etag`, when known.
    pub google: Option<Fingerprint>,
    /// Fingerprint of the source record the job last reconciled it with.
    pub source: Option<Fingerprint>,
    /// The managed fields were changed in Google since the job last wrote them.
    pub edited: bool,
    /// In the job's contact group at `etag`.
    pub in_group: bool,
}

impl UserState {
    /// An empty state of the current version.
    pub fn new() -> Self {
        Self {
            version: STATE_VERSION,
            ..Self::default()
        }
    }

    /// External id by resource name, for the contacts named in `names`.
    pub(crate) fn ids_by_name(&self, names: &HashSet<&str>) -> HashMap<String, String> {
        self.contacts
            .iter()
            .filter(|(_, e)| names.contains(e.resource_name.as_str()))
            .map(|(id, e)| (e.resource_name, id))
            .collect()
    }
}

// The state file's JSON: an object per struct, keys named as the fields. Written by hand, not
// derived, so that the library does not build serde's derive macro (and syn before it) for two
// structs. Unknown keys are ignored; `fields`, `edited` and `in_group` may be missing (older
// states), as may the optional values.

impl Serialize for UserState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("UserState", 5)?;
        s.serialize_field("version", &self.version)?;
        s.serialize_field("sync_token", &self.sync_token)?;
        s.serialize_field("fields", &self.fields)?;
        s.serialize_field("creates_unsettled", &self.creates_unsettled)?;
        s.serialize_field("contacts", &self.contacts)?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for UserState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UserState;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sync state")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UserState, A::Error> {
                let mut out = UserState::default();
                let (mut version, mut contacts) = (None, None);
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match key.as_str() {
                        "version" => version = Some(map.next_value()?),
                        "sync_token" => out.sync_token = map.next_value()?,
                        "fields" => out.fields = map.next_value()?,
                        "creates_unsettled" => out.creates_unsettled = map.next_value()?,
                        "contacts" => contacts = Some(map.next_value()?),
                        _ => drop(map.next_value::<IgnoredAny>()?),
                    }
                }
                out.version = version.ok_or_else(|| A::Error::missing_field("version"))?;
                out.contacts = contacts.ok_or_else(|| A::Error::missing_field("contacts"))?;
                Ok(out)
            }
        }
        deserializer.deserialize_map(V)
    }
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Entry", 6)?;
        s.serialize_field("resource_name", &self.resource_name)?;
        s.serialize_field("etag", &self.etag)?;
        s.serialize_field("google", &self.google)?;
        s.serialize_field("source", &self.source)?;
        s.serialize_field("edited", &self.edited)?;
        s.serialize_field("in_group", &self.in_group)?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a managed contact")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry, A::Error> {
                let (mut resource_name, mut etag) = (None, None);
                let (mut google, mut source, mut edited, mut in_group) = (None, None, false, false);
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    match key.as_str() {
                        "resource_name" => resource_name = Some(map.next_value()?),
                        "etag" => etag = Some(map.next_value()?),
                        "google" => google = map.next_value()?,
                        "source" => source = map.next_value()?,
                        "edited" => edited = map.next_value()?,
                        "in_group" => in_group = map.next_value()?,
                        _ => drop(map.next_value::<IgnoredAny>()?),
                    }
                }
                Ok(Entry {
                    resource_name: resource_name
                        .ok_or_else(|| A::Error::missing_field("resource_name"))?,
                    etag: etag.ok_or_else(|| A::Error::missing_field("etag"))?,
                    google,
                    source,
                    edited,
                    in_group,
                })
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// Keys the server fills in, which a source never sets: left out of fingerprints so that what was
/// written and what is read back compare equal.
const DERIVED: &[&str] = &[
    "metadata",
    "displayName",
    "displayNameLastFirst",
    "formattedType",
    "formattedProtocol",
    "formattedValue",
    "canonicalForm",
];

/// A fingerprint of a person's managed fields: the first 128 bits of a SHA-256 of their
/// canonical JSON (16 bytes a contact, where a hex string would take 56).
pub type Fingerprint = u128;

/// `person`'s JSON reduced to the managed `fields`: what a create or update sends, and what a
/// fingerprint is taken of.
pub(crate) fn managed_json(person: &Person, fields: &[PersonField]) -> Map<String, Value> {
    let Ok(Value::Object(mut map)) = crate::runtime::to_json_value(person) else {
        return Map::new();
    };
    map.retain(|k, _| fields.iter().any(|f| f.as_str() == k));
    map
}

/// The fingerprint of `person`'s managed fields, without server-filled keys, empty values or
/// field metadata.
pub(crate) fn fingerprint(person: &Person, fields: &[PersonField]) -> Fingerprint {
    fingerprint_of(&managed_json(person, fields))
}

/// The fingerprint of managed fields already reduced by [`managed_json`].
pub(crate) fn fingerprint_of(managed: &Map<String, Value>) -> Fingerprint {
    let normal: Map<String, Value> = managed
        .iter()
        .filter_map(|(k, v)| {
            let v = if k == "names" {
                &without_derived_unstructured_name(v)
            } else {
                v
            };
            normalized(v).map(|v| (k.clone(), v))
        })
        .collect();
    let bytes = serde_json::to_vec(&Value::Object(normal)).unwrap_or_default();
    let digest = crate::runtime::crypto::sha256(&bytes);
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    u128::from_be_bytes(first)
}

/// Names without the `unstructuredName` Google fills in when a client sends none: the name's own
/// `displayName`, or its parts joined. One a client set to something else counts.
fn without_derived_unstructured_name(names: &Value) -> Value {
    let Value::Array(items) = names else {
        return names.clone();
    };
    Value::Array(
        items
            .iter()
            .map(|item| {
                let Value::Object(m) = item else {
                    return item.clone();
                };
                let Some(free) = m.get("unstructuredName").and_then(Value::as_str) else {
                    return item.clone();
                };
                let part = |k: &str| m.get(k).and_then(Value::as_str).map(str::trim);
                let joined = [
                    "honorificPrefix",
                    "givenName",
                    "middleName",
                    "familyName",
                    "honorificSuffix",
                ]
                .iter()
                .filter_map(|k| part(k).filter(|p| !p.is_empty()))
                .collect::<Vec<_>>()
                .join(" ");
                if free.trim() == joined || Some(free) == part("displayName") {
                    let mut m = m.clone();
                    m.remove("unstructuredName");
                    Value::Object(m)
                } else {
                    item.clone()
                }
            })
            .collect(),
    )
}

/// `v` without server-filled keys and empty values; `None` when nothing is left. Object keys are
/// sorted (serde_json's map), array order is kept.
fn normalized(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::Object(m) => {
            let out: Map<String, Value> = m
                .iter()
                .filter(|(k, _)| !DERIVED.contains(&k.as_str()))
                .filter_map(|(k, v)| normalized(v).map(|v| (k.clone(), v)))
                .collect();
            (!out.is_empty()).then_some(Value::Object(out))
        }
        Value::Array(a) => {
            let out: Vec<Value> = a.iter().filter_map(normalized).collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        other => Some(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EmailAddress, FieldMetadata, Name};

    #[test]
    fn state_files_read_and_write_the_same_json() {
        // As earlier versions wrote it (serde's derive), with a key this version does not know.
        let text = r#"{"version":2,"sync_token":"tok","fields":"names","creates_unsettled":true,"contacts":{"emp-1":{"resource_name":"people/c1","etag":"%e1","google":340282366920938463463374607431768211455,"source":null,"edited":true,"in_group":false,"later":[1]}},"later":{}}"#;
        let state: UserState = serde_json::from_str(text).unwrap();
        assert_eq!(state.sync_token.as_deref(), Some("tok"));
        assert!(state.creates_unsettled);
        let entry = state.contacts.get("emp-1").unwrap();
        assert_eq!(entry.google, Some(u128::MAX));
        assert!(entry.edited && !entry.in_group && entry.source.is_none());
        let back = serde_json::to_string(&state).unwrap();
        assert_eq!(
            back,
            text.replace(r#","later":[1]"#, "")
                .replace(r#","later":{}"#, "")
        );
        assert_eq!(serde_json::from_str::<UserState>(&back).unwrap(), state);

        // Older states lack the later fields; required ones are named when missing.
        let old: UserState = serde_json::from_str(
            r#"{"version":1,"contacts":{"x":{"resource_name":"people/c2","etag":"%e"}}}"#,
        )
        .unwrap();
        assert_eq!((old.version, old.fields.as_str()), (1, ""));
        let x = old.contacts.get("x").unwrap();
        assert!(!x.edited && !x.in_group && x.google.is_none());
        let e = serde_json::from_str::<UserState>(r#"{"version":2}"#).unwrap_err();
        assert!(e.to_string().contains("missing field `contacts`"), "{e}");
        let e = serde_json::from_str::<Entry>(r#"{"etag":"%e"}"#).unwrap_err();
        assert!(
            e.to_string().contains("missing field `resource_name`"),
            "{e}"
        );
    }

    #[test]
    fn server_filled_keys_and_empty_values_do_not_count() {
        let fields = [PersonField::Names, PersonField::EmailAddresses];
        let sent = Person::new()
            .set_names([Name::new()
                .set_given_name("Ada")
                .set_family_name("Lovelace")])
            .set_email_addresses([EmailAddress::new().set_value("ada@example.com")]);
        let mut read = sent.clone();
        read.names.as_mut().unwrap()[0].display_name = Some("Ada Lovelace".into());
        read.names.as_mut().unwrap()[0].metadata = Some(FieldMetadata::new().set_primary(true));
        read.email_addresses.as_mut().unwrap()[0].formatted_type = Some("Work".into());
        // Google fills in the free-form name when a client sends none.
        read.names.as_mut().unwrap()[0].unstructured_name = Some("Ada Lovelace".into());
        read.etag = Some("%abc".into());
        read.nicknames = Some(vec![]);
        assert_eq!(fingerprint(&sent, &fields), fingerprint(&read, &fields));

        let other = Person::new()
            .set_names([Name::new().set_given_name("Ada").set_family_name("Byron")])
            .set_email_addresses([EmailAddress::new().set_value("ada@example.com")]);
        assert_ne!(fingerprint(&sent, &fields), fingerprint(&other, &fields));
        // An unmanaged field does not count.
        assert_eq!(
            fingerprint(&sent, &[PersonField::EmailAddresses]),
            fingerprint(&other, &[PersonField::EmailAddresses])
        );
    }
}
