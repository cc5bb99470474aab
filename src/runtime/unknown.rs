//! [`UnknownFields`]: the JSON fields a generated struct does not know, kept so that a
//! read-modify-write sends them back unchanged.

use std::collections::BTreeMap;
use std::collections::btree_map;
use std::fmt;
use std::ops::{Deref, DerefMut};

use serde_json::Value;

/// The JSON fields a response carried that this version of the client does not know (a newer
/// API revision's), kept in order and sent back unchanged.
///
/// It reads and writes as a `BTreeMap<String, Value>` (it dereferences to one), but takes one
/// pointer in every struct and allocates only when there is something to keep: nearly always
/// nothing, so decoding a large response moves and allocates less.
#[derive(Clone, Default)]
// The box is the point: one pointer in every struct instead of a map's three words.
#[allow(clippy::box_collection)]
pub struct UnknownFields(Option<Box<BTreeMap<String, Value>>>);

static EMPTY: BTreeMap<String, Value> = BTreeMap::new();

impl UnknownFields {
    /// No fields.
    pub const fn new() -> Self {
        Self(None)
    }
}

impl Deref for UnknownFields {
    type Target = BTreeMap<String, Value>;

    fn deref(&self) -> &Self::Target {
        self.0.as_deref().unwrap_or(&EMPTY)
    }
}

impl DerefMut for UnknownFields {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0.get_or_insert_with(Default::default)
    }
}

impl PartialEq for UnknownFields {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl fmt::Debug for UnknownFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl From<BTreeMap<String, Value>> for UnknownFields {
    fn from(map: BTreeMap<String, Value>) -> Self {
        Self((!map.is_empty()).then(|| Box::new(map)))
    }
}

impl FromIterator<(String, Value)> for UnknownFields {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        BTreeMap::from_iter(iter).into()
    }
}

impl<'a> IntoIterator for &'a UnknownFields {
    type Item = (&'a String, &'a Value);
    type IntoIter = btree_map::Iter<'a, String, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.deref().iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_that_costs_a_pointer_until_used() {
        assert_eq!(std::mem::size_of::<UnknownFields>(), 8);
        let mut u = UnknownFields::new();
        assert!(u.is_empty() && u.0.is_none());
        u.insert("future".into(), Value::Bool(true));
        assert_eq!(u["future"], Value::Bool(true));
        assert_eq!(u.iter().count(), 1);
        u.remove("future");
        // Emptied after use is equal to never used.
        assert_eq!(u, UnknownFields::new());
        let v: UnknownFields = [("a".to_string(), Value::Null)].into_iter().collect();
        assert_eq!(format!("{v:?}"), "{\"a\": Null}");
    }
}
