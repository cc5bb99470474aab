//! Reading generated structs in place, for generated `Deserialize` impls.
//!
//! serde's usual way returns each value up the call chain: a nested struct is built in its
//! visitor, returned in a `Result`, wrapped in an `Option`, then moved into its parent's field,
//! and a list element is returned the same way and then pushed. For the People API's wide
//! structs (a `Person` is about a kilobyte, a `Name` half that) those moves were the largest
//! single cost of decoding a response. Here a struct field is set to its default and filled
//! member by member where it lives, and a list element is pushed first and filled in the list.
//!
//! Lists are also grown exactly for their first two elements (most of a contact's lists hold
//! one or two): a one-element list holds one element, not the four serde's `Vec` grows to.
#![doc(hidden)]

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// A generated struct that reads a JSON object's members into itself.
pub trait Fill: Default {
    /// What the input should have been, for "invalid type" errors: `a Source JSON object`.
    const EXPECTING: &'static str;

    /// Read every member of `map` into `self`: known fields replace their value, others are
    /// kept in `unknown_fields`.
    fn fill<'de, A: MapAccess<'de>>(&mut self, map: A) -> Result<(), A::Error>;
}

/// Read a `T` (the body of a generated `Deserialize` impl).
pub fn deserialize<'de, T: Fill, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    let mut out = T::default();
    d.deserialize_map(Place(&mut out))?;
    Ok(out)
}

/// Fills the struct it points at from a JSON object.
struct Place<'a, T>(&'a mut T);

impl<'de, T: Fill> Visitor<'de> for Place<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.0.fill(map)
    }
}

/// `a list of Name JSON objects` from `a Name JSON object`: one function for every element
/// type (formatting is the largest part of a generic `expecting`).
fn collection(f: &mut fmt::Formatter<'_>, what: &str, element: &str) -> fmt::Result {
    write!(f, "{what} {}s", element.trim_start_matches("a "))
}

/// A seed that reads an optional struct field in place: `null` unsets it, an object replaces
/// it (a repeated key keeps the last value, as serde's own structs do).
pub struct Field<'a, T>(pub &'a mut Option<T>);

impl<'de, T: Fill> DeserializeSeed<'de> for Field<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, T: Fill> Visitor<'de> for Field<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(Place(self.0.insert(T::default())))
    }
}

/// A seed that reads an optional map of structs in place: `null` unsets it, an object
/// replaces it; each value is filled where it lies in the map.
pub struct MapField<'a, T>(pub &'a mut Option<BTreeMap<String, T>>);

impl<'de, T: Fill> DeserializeSeed<'de> for MapField<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, T: Fill> Visitor<'de> for MapField<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        collection(f, "a map of", T::EXPECTING)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(Map(self.0.insert(BTreeMap::new())))
    }
}

/// Adds the members of a JSON object to the map it points at.
struct Map<'a, T>(&'a mut BTreeMap<String, T>);

impl<'de, T: Fill> Visitor<'de> for Map<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        collection(f, "a map of", T::EXPECTING)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let value = match self.0.entry(key) {
                Entry::Vacant(e) => e.insert(T::default()),
                Entry::Occupied(e) => {
                    // A repeated key keeps the last value, whole.
                    let v = e.into_mut();
                    *v = T::default();
                    v
                }
            };
            map.next_value_seed(Value(value))?;
        }
        Ok(())
    }
}

/// Fills the struct it points at (a map's value).
struct Value<'a, T>(&'a mut T);

impl<'de, T: Fill> DeserializeSeed<'de> for Value<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(Place(self.0))
    }
}

/// A string-valued type: `String`, or a generated open enum.
pub trait Text: Sized {
    /// What the input should have been, for "invalid type" errors.
    const EXPECTING: &'static str;
    /// The value a JSON string stands for (an open enum keeps any string).
    fn from_json_str(v: &str) -> Self;
}

impl Text for String {
    const EXPECTING: &'static str = "a string";
    fn from_json_str(v: &str) -> Self {
        v.to_owned()
    }
}

/// Read a `T` from a JSON string (the body of a generated enum's `Deserialize` impl).
pub fn text<'de, T: Text, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    struct V<T>(PhantomData<T>);
    impl<T: Text> Visitor<'_> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(T::EXPECTING)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            Ok(T::from_json_str(v))
        }
    }
    d.deserialize_str(V(PhantomData))
}

/// A seed that reads an optional string-valued field in place: one look at the input decides
/// between `null` and a string (serde's `Option` looks for `null`, then for a string).
pub struct TextField<'a, T>(pub &'a mut Option<T>);

impl<'de, T: Text> DeserializeSeed<'de> for TextField<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Text> Visitor<'de> for TextField<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        *self.0 = Some(T::from_json_str(v));
        Ok(())
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        *self.0 = Some(text(d)?);
        Ok(())
    }
}

/// A seed that reads an optional `bool` field in place, with one look at the input.
pub struct BoolField<'a>(pub &'a mut Option<bool>);

impl<'de> DeserializeSeed<'de> for BoolField<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for BoolField<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean")
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        *self.0 = Some(v);
        Ok(())
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        *self.0 = Some(serde::Deserialize::deserialize(d)?);
        Ok(())
    }
}

/// A seed that reads an optional list of structs in place: `null` unsets it, an array
/// replaces it.
pub struct ListField<'a, T>(pub &'a mut Option<Vec<T>>);

impl<'de, T: Fill> DeserializeSeed<'de> for ListField<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, T: Fill> Visitor<'de> for ListField<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        collection(f, "a list of", T::EXPECTING)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.visit_none()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(List(self.0.insert(Vec::new())))
    }
}

/// Appends the elements of a JSON array to the list it points at.
struct List<'a, T>(&'a mut Vec<T>);

impl<'de, T: Fill> Visitor<'de> for List<'_, T> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        collection(f, "a list of", T::EXPECTING)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(()) = seq.next_element_seed(Element(&mut *self.0))? {}
        Ok(())
    }
}

/// Reads one element at the end of the list: pushed as a default, then filled where it lies.
struct Element<'a, T>(&'a mut Vec<T>);

impl<'de, T: Fill> DeserializeSeed<'de> for Element<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let list = self.0;
        if list.len() == list.capacity() && list.len() < 2 {
            // Exact for one and two elements; doubling from then on.
            list.reserve_exact(1);
        }
        list.push(T::default());
        let last = list.len() - 1;
        d.deserialize_map(Place(&mut list[last]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Debug, PartialEq)]
    struct Pair {
        a: Option<String>,
        inner: Option<Box<Pair>>,
        extra: usize,
    }

    impl Fill for Pair {
        const EXPECTING: &'static str = "a Pair JSON object";
        fn fill<'de, A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
            while let Some(k) = map.next_key::<String>()? {
                match k.as_str() {
                    "a" => self.a = map.next_value()?,
                    _ => {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        self.extra += 1;
                    }
                }
            }
            Ok(())
        }
    }

    #[derive(Default, Debug)]
    struct Holder {
        one: Option<Pair>,
        many: Option<Vec<Pair>>,
    }

    impl Fill for Holder {
        const EXPECTING: &'static str = "a Holder JSON object";
        fn fill<'de, A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
            while let Some(k) = map.next_key::<String>()? {
                match k.as_str() {
                    "one" => map.next_value_seed(Field(&mut self.one))?,
                    "many" => map.next_value_seed(ListField(&mut self.many))?,
                    _ => map.next_value::<serde::de::IgnoredAny>().map(drop)?,
                }
            }
            Ok(())
        }
    }

    fn read(json: &str) -> Result<Holder, serde_json::Error> {
        let mut d = serde_json::Deserializer::from_str(json);
        deserialize(&mut d)
    }

    #[test]
    fn a_repeated_key_keeps_the_last_value_whole() {
        let h = read(r#"{"one": {"a": "x", "b": 1}, "one": {"c": 2}}"#).unwrap();
        assert_eq!(
            h.one,
            Some(Pair {
                extra: 1,
                ..Pair::default()
            })
        );
        let h = read(r#"{"many": [{"a": "x"}, {}], "many": [{"a": "y"}]}"#).unwrap();
        assert_eq!(h.many.unwrap().len(), 1);
    }

    #[test]
    fn null_unsets_and_lists_are_sized_exactly_for_two() {
        let h = read(r#"{"one": {"a": "x"}, "one": null, "many": null}"#).unwrap();
        assert!(h.one.is_none() && h.many.is_none());
        for n in 0..7 {
            let items = vec![r#"{"a": "v"}"#; n].join(",");
            let many = read(&format!(r#"{{"many": [{items}]}}"#))
                .unwrap()
                .many
                .unwrap();
            assert_eq!(many.len(), n);
            assert!(many.iter().all(|p| p.a.as_deref() == Some("v")));
            if n <= 2 {
                assert_eq!(many.capacity(), n);
            }
        }
    }

    #[test]
    fn wrong_types_say_what_was_expected() {
        let e = read(r#"{"one": "x"}"#).unwrap_err().to_string();
        assert!(e.contains("expected a Pair JSON object"), "{e}");
        let e = read(r#"{"many": {}}"#).unwrap_err().to_string();
        assert!(e.contains("expected a list of Pair JSON objects"), "{e}");
        let e = read(r#"{"many": [1]}"#).unwrap_err().to_string();
        assert!(e.contains("expected a Pair JSON object"), "{e}");
        let e = read("[]").unwrap_err().to_string();
        assert!(e.contains("expected a Holder JSON object"), "{e}");
    }
}
