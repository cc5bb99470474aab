//! [`UnknownFields`]: the JSON fields a generated struct does not know, kept as the server wrote
//! them so that a read-modify-write sends them back byte for byte.

use std::collections::BTreeMap;
use std::collections::btree_map;
use std::fmt;
use std::ops::{Deref, DerefMut};

use serde_json::Value;
use serde_json::value::RawValue;

/// The JSON fields a response carried that this version of the client does not know (a newer
/// API revision's), kept in order and sent back unchanged.
///
/// Each value is kept as its raw JSON text ([`RawValue`]), not parsed into a [`Value`]: a number
/// such as `-0`, `1E2`, `18446744073709551616` or `1e400` goes back exactly as it came (a `Value`
/// would rewrite the first three and refuse the last). [`value`](Self::value) parses one when you
/// want to look inside, and [`insert_value`](Self::insert_value) adds one from a `Value`.
///
/// A member whose name is also one of the struct's known fields is never written: the known
/// field is the one that counts, and a JSON object holds each name once.
///
/// It reads and writes as a `BTreeMap<String, Box<RawValue>>` (it dereferences to one), but takes
/// one pointer in every struct and allocates only when there is something to keep: nearly always
/// nothing, so decoding a large response moves and allocates less.
#[derive(Clone, Default)]
// The box is the point: one pointer in every struct instead of a map's three words.
#[allow(clippy::box_collection)]
pub struct UnknownFields(Option<Box<BTreeMap<String, Box<RawValue>>>>);

static EMPTY: BTreeMap<String, Box<RawValue>> = BTreeMap::new();

impl UnknownFields {
    /// No fields.
    pub const fn new() -> Self {
        Self(None)
    }

    /// The member `key`, parsed (`None` when absent, or when its text is valid JSON that a
    /// [`Value`] cannot hold, such as `1e400`).
    pub fn value(&self, key: &str) -> Option<Value> {
        serde_json::from_str(self.get(key)?.get()).ok()
    }

    /// Add (or replace) the member `key` with `value`'s JSON text.
    pub fn insert_value(&mut self, key: impl Into<String>, value: &Value) {
        if let Ok(raw) = serde_json::value::to_raw_value(value) {
            self.insert(key.into(), raw);
        }
    }

    /// The members to write after a struct's `known` fields: every one whose name is not among
    /// them.
    pub fn except<'a>(
        &'a self,
        known: &'a [&'a str],
    ) -> impl Iterator<Item = (&'a String, &'a RawValue)> + 'a {
        self.iter()
            .filter(move |(k, _)| !known.contains(&k.as_str()))
            .map(|(k, v)| (k, &**v))
    }
}

impl Deref for UnknownFields {
    type Target = BTreeMap<String, Box<RawValue>>;

    fn deref(&self) -> &Self::Target {
        self.0.as_deref().unwrap_or(&EMPTY)
    }
}

impl DerefMut for UnknownFields {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0.get_or_insert_with(Default::default)
    }
}

/// Equal when they hold the same names with the same JSON text.
impl PartialEq for UnknownFields {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|((a, x), (b, y))| a == b && x.get() == y.get())
    }
}

impl fmt::Debug for UnknownFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// A member's JSON text, shown as it is.
        struct Raw<'a>(&'a str);
        impl fmt::Debug for Raw<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }
        f.debug_map()
            .entries(self.iter().map(|(k, v)| (k, Raw(v.get()))))
            .finish()
    }
}

impl From<BTreeMap<String, Value>> for UnknownFields {
    fn from(map: BTreeMap<String, Value>) -> Self {
        map.into_iter().collect()
    }
}

impl FromIterator<(String, Value)> for UnknownFields {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut out = Self::new();
        for (k, v) in iter {
            out.insert_value(k, &v);
        }
        if out.is_empty() { Self::new() } else { out }
    }
}

impl FromIterator<(String, Box<RawValue>)> for UnknownFields {
    fn from_iter<I: IntoIterator<Item = (String, Box<RawValue>)>>(iter: I) -> Self {
        let map = BTreeMap::from_iter(iter);
        Self((!map.is_empty()).then(|| Box::new(map)))
    }
}

impl<'a> IntoIterator for &'a UnknownFields {
    type Item = (&'a String, &'a Box<RawValue>);
    type IntoIter = btree_map::Iter<'a, String, Box<RawValue>>;

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
        u.insert_value("future", &Value::Bool(true));
        assert_eq!(u.value("future"), Some(Value::Bool(true)));
        assert_eq!(u.iter().count(), 1);
        u.remove("future");
        // Emptied after use is equal to never used.
        assert_eq!(u, UnknownFields::new());
        let v: UnknownFields = [("a".to_string(), Value::Null)].into_iter().collect();
        assert_eq!(format!("{v:?}"), "{\"a\": null}");
    }

    #[test]
    fn numbers_keep_their_text_and_known_names_are_left_out() {
        let text = r#"{"a":-0,"b":1E2,"c":18446744073709551616,"d":1e400,"names":1}"#;
        let map: BTreeMap<String, Box<RawValue>> = serde_json::from_str(text).unwrap();
        let u: UnknownFields = map.into_iter().collect();
        let written: Vec<String> = u
            .except(&["names"])
            .map(|(k, v)| format!("{k}={}", v.get()))
            .collect();
        assert_eq!(
            written,
            ["a=-0", "b=1E2", "c=18446744073709551616", "d=1e400"]
        );
        assert_eq!(u.value("d"), None, "a Value cannot hold 1e400");
    }
}
