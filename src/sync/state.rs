//! What a sync job knows of one user's managed contacts between runs, and the fingerprints it
//! compares them by.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use super::contacts::Contacts;
use crate::runtime::MaskField as _;
use crate::{Person, PersonField};

/// The version of [`UserState`]'s layout; a state of another version is ignored (a full listing
/// rebuilds it).
pub const STATE_VERSION: u32 = 2;

/// One user's sync state: the sync token of the last listing, and every managed contact the job
/// knows, by external id. It is an optimisation only: losing it costs one full listing, never a
/// duplicate or a lost change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserState {
    /// [`STATE_VERSION`] when written.
    pub version: u32,
    /// The `nextSyncToken` of the last listing this state includes.
    pub sync_token: Option<String>,
    /// The managed fields the fingerprints were taken over (`names,emailAddresses`); when a run
    /// manages others, the fingerprints are taken again from a full listing.
    #[serde(default)]
    pub fields: String,
    /// Managed contacts by external id (kept mostly on disk: see [`Contacts`]).
    pub contacts: Contacts,
}

/// What the job knows of one managed contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(default)]
    pub edited: bool,
    /// In the job's contact group at `etag`.
    #[serde(default)]
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

/// Keys the server fills in, which a source never sets: left out of fingerprints so that what was
/// written and what is read back compare equal.
const DERIVED: &[&str] = &[
    "metadata",
    "displayName",
    "displayNameLastFirst",
    "formattedType",
    "formattedProtocol",
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
        .filter_map(|(k, v)| normalized(v).map(|v| (k.clone(), v)))
        .collect();
    let bytes = serde_json::to_vec(&Value::Object(normal)).unwrap_or_default();
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest.as_ref()[..16]);
    u128::from_be_bytes(first)
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
