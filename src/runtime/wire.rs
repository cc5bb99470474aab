//! JSON wire forms that differ from serde's defaults, for generated (de)serializers.
//!
//! `int64`/`uint64` travel as JSON strings (accepted as numbers too), `byte` as base64 (standard
//! or URL-safe, padded or not, on input; standard padded on output). The formats compose:
//! `VecOf<Int64>` is a list of string-carried integers. [`Key`] reads object keys without
//! allocating when the input allows it.
#![doc(hidden)]

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use base64::Engine as _;
use serde::de::{Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// An object key, borrowed from the input when possible.
pub struct Key<'de>(Cow<'de, str>);

impl Key<'_> {
    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The key, owned.
    pub fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON form of `T`.
pub trait WireFormat<T> {
    /// Write `v`.
    fn serialize<S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error>;
    /// Read a `T`.
    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<T, D::Error>;
    /// Append `v` as JSON, byte for byte as [`serialize`](Self::serialize) writes it with
    /// serde_json (see [`super::json`]).
    fn write_json(v: &T, out: &mut Vec<u8>);
}

/// Serialize `&T` in format `W`.
pub struct SerWith<'a, T, W>(&'a T, PhantomData<W>);

impl<'a, T, W> SerWith<'a, T, W> {
    /// Wrap a value.
    pub fn new(v: &'a T) -> Self {
        Self(v, PhantomData)
    }
}

impl<T, W: WireFormat<T>> Serialize for SerWith<'_, T, W> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        W::serialize(self.0, s)
    }
}

/// Deserialize a `T` in format `W`; the value is `.0`.
pub struct DeWith<T, W>(pub T, PhantomData<W>);

impl<'de, T, W: WireFormat<T>> Deserialize<'de> for DeWith<T, W> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        W::deserialize(d).map(|v| DeWith(v, PhantomData))
    }
}

/// `int64` as a JSON string.
pub struct Int64;
/// `uint64` as a JSON string.
pub struct Uint64;
/// Bytes as base64.
pub struct Base64;
/// A list in the element format `W`.
pub struct VecOf<W>(PhantomData<W>);
/// A map with values in the format `W`.
pub struct MapOf<W>(PhantomData<W>);

macro_rules! int_string {
    ($fmt:ident, $t:ty, $what:literal) => {
        impl WireFormat<$t> for $fmt {
            fn serialize<S: Serializer>(v: &$t, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(v)
            }
            fn write_json(v: &$t, out: &mut Vec<u8>) {
                super::json::quoted_integer(out, *v);
            }
            fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$t, E> {
                        v.parse()
                            .map_err(|_| E::custom(format_args!("invalid {}: {v:?}", $what)))
                    }
                    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<$t, E> {
                        <$t>::try_from(v)
                            .map_err(|_| E::custom(format_args!("{} out of range: {v}", $what)))
                    }
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$t, E> {
                        <$t>::try_from(v)
                            .map_err(|_| E::custom(format_args!("{} out of range: {v}", $what)))
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}
int_string!(Int64, i64, "an int64 (as a string)");
int_string!(Uint64, u64, "a uint64 (as a string)");

impl WireFormat<Vec<u8>> for Base64 {
    fn serialize<S: Serializer>(v: &Vec<u8>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
    }
    fn write_json(v: &Vec<u8>, out: &mut Vec<u8>) {
        // The alphabet needs no escaping.
        out.push(b'"');
        out.extend_from_slice(
            base64::engine::general_purpose::STANDARD
                .encode(v)
                .as_bytes(),
        );
        out.push(b'"');
    }
    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s: Cow<'de, str> = Deserialize::deserialize(d)?;
        decode_base64(&s).ok_or_else(|| D::Error::custom("invalid base64"))
    }
}

/// A `format: byte` path or query parameter: URL-safe base64, as Google's clients send it (no
/// `+` or `/` to escape, and a `/` could never split a path segment).
pub fn bytes_param(v: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(v)
}

/// Decode standard or URL-safe base64, padded or not.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let t = s.trim_end_matches('=');
    STANDARD_NO_PAD
        .decode(t)
        .or_else(|_| URL_SAFE_NO_PAD.decode(t))
        .ok()
}

impl<T, W: WireFormat<T>> WireFormat<Vec<T>> for VecOf<W> {
    fn serialize<S: Serializer>(v: &Vec<T>, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for x in v {
            seq.serialize_element(&SerWith::<T, W>::new(x))?;
        }
        seq.end()
    }
    fn write_json(v: &Vec<T>, out: &mut Vec<u8>) {
        super::json::list(out, v, |out, x| W::write_json(x, out));
    }
    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        struct V<T, W>(PhantomData<(T, W)>);
        impl<'de, T, W: WireFormat<T>> Visitor<'de> for V<T, W> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(x) = seq.next_element::<DeWith<T, W>>()? {
                    out.push(x.0);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V::<T, W>(PhantomData))
    }
}

impl<T, W: WireFormat<T>> WireFormat<BTreeMap<String, T>> for MapOf<W> {
    fn serialize<S: Serializer>(v: &BTreeMap<String, T>, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(v.len()))?;
        for (k, x) in v {
            m.serialize_entry(k, &SerWith::<T, W>::new(x))?;
        }
        m.end()
    }
    fn write_json(v: &BTreeMap<String, T>, out: &mut Vec<u8>) {
        super::json::map(out, v, |out, x| W::write_json(x, out));
    }
    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, T>, D::Error> {
        struct V<T, W>(PhantomData<(T, W)>);
        impl<'de, T, W: WireFormat<T>> Visitor<'de> for V<T, W> {
            type Value = BTreeMap<String, T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(k) = map.next_key::<String>()? {
                    let v = map.next_value::<DeWith<T, W>>()?;
                    out.insert(k, v.0);
                }
                Ok(out)
            }
        }
        d.deserialize_map(V::<T, W>(PhantomData))
    }
}
