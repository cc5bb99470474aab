//! Writing generated types as JSON bytes, for the library's own request bodies.
//!
//! Every generated type also implements serde's `Serialize`, for callers. But a `Serialize` impl
//! is generic over the serializer, so serializing a `Person` compiled a copy of each generated
//! impl together with serde_json's per-type list, map and entry machinery: about a tenth of
//! the library's code in a release build. [`ToJson`] is one plain function per type that
//! appends to a byte buffer, with each field's key escaped at generation time. It writes exactly
//! the bytes `serde_json::to_vec` writes for the same value (tests compare them), so a body is
//! the same whichever way it was made.
#![doc(hidden)]

use std::collections::BTreeMap;

use serde_json::Value;

use super::mask::{FieldMask, MaskField};
use super::unknown::UnknownFields;

/// A value that writes itself as compact JSON, byte for byte as `serde_json::to_vec` would.
pub trait ToJson {
    /// Append `self` as JSON to `out`.
    fn write_json(&self, out: &mut Vec<u8>);
}

/// `value` as JSON bytes.
pub fn to_vec<T: ToJson + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.write_json(&mut out);
    out
}

/// A comma before a member or element, unless it is the first one after `open` (`{` or `[`):
/// no value ends in either, so the last byte tells.
fn separate(out: &mut Vec<u8>, open: u8) {
    if out.last() != Some(&open) {
        out.push(b',');
    }
}

/// Start an object member: a comma unless it is the object's first, then `key`, already
/// quoted, escaped and followed by its colon (`"displayName":`).
pub fn key(out: &mut Vec<u8>, key: &str) {
    separate(out, b'{');
    out.extend_from_slice(key.as_bytes());
}

/// Start an object member whose key is known only at run time (a map's, or an unknown field's).
pub fn member(out: &mut Vec<u8>, key: &str) {
    separate(out, b'{');
    string(out, key);
    out.push(b':');
}

/// The unknown fields of a struct, after its `known` ones, in order, each as the server wrote
/// it; one named like a known field is left out.
pub fn unknown(out: &mut Vec<u8>, fields: &UnknownFields, known: &[&str]) {
    for (k, v) in fields.except(known) {
        member(out, k);
        out.extend_from_slice(v.get().as_bytes());
    }
}

/// A JSON string: `"`, the contents escaped as serde_json escapes them (quote, backslash and
/// control characters; `\b \t \n \f \r` by name, the others as `\u00xx`), then `"`.
pub fn string(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = ESCAPE[usize::from(b)];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        if escape == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// For each byte, the letter of its escape (`\n`, `\u00xx`, ...), or 0 when it is written as
/// it is: one load per byte decides.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// An integer carried as a JSON string (`format: int64`/`uint64`).
pub fn quoted_integer(out: &mut Vec<u8>, v: impl itoa::Integer) {
    out.push(b'"');
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    out.push(b'"');
}

/// A JSON array of `items`, each written by `write`.
pub fn list<T>(out: &mut Vec<u8>, items: &[T], mut write: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for x in items {
        separate(out, b'[');
        write(out, x);
    }
    out.push(b']');
}

/// A JSON object of `entries`, each value written by `write`.
pub fn map<T>(
    out: &mut Vec<u8>,
    entries: &BTreeMap<String, T>,
    mut write: impl FnMut(&mut Vec<u8>, &T),
) {
    out.push(b'{');
    for (k, v) in entries {
        member(out, k);
        write(out, v);
    }
    out.push(b'}');
}

impl ToJson for str {
    fn write_json(&self, out: &mut Vec<u8>) {
        string(out, self);
    }
}

impl ToJson for String {
    fn write_json(&self, out: &mut Vec<u8>) {
        string(out, self);
    }
}

impl ToJson for bool {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(if *self { b"true" } else { b"false" });
    }
}

macro_rules! integers {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn write_json(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(itoa::Buffer::new().format(*self).as_bytes());
            }
        }
    )*};
}
integers!(i32, u32, i64, u64);

macro_rules! floats {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn write_json(&self, out: &mut Vec<u8>) {
                // serde_json's own formatting (shortest round-trip form; `null` when not
                // finite): writing to a `Vec` cannot fail.
                let _ = serde_json::to_writer(&mut *out, self);
            }
        }
    )*};
}
floats!(f32, f64);

impl ToJson for Value {
    fn write_json(&self, out: &mut Vec<u8>) {
        let _ = serde_json::to_writer(&mut *out, self);
    }
}

impl<T: ToJson + ?Sized> ToJson for Box<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        (**self).write_json(out);
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn write_json(&self, out: &mut Vec<u8>) {
        (**self).write_json(out);
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        list(out, self, |out, x| x.write_json(out));
    }
}

impl<T: ToJson> ToJson for BTreeMap<String, T> {
    fn write_json(&self, out: &mut Vec<u8>) {
        map(out, self, |out, x| x.write_json(out));
    }
}

impl<F: MaskField> ToJson for FieldMask<F> {
    fn write_json(&self, out: &mut Vec<u8>) {
        string(out, &self.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_serde<T: ToJson + serde::Serialize + ?Sized>(v: &T) {
        let ours = to_vec(v);
        let serde = serde_json::to_vec(v).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&serde)
        );
    }

    #[test]
    fn strings_escape_as_serde_json_does() {
        let every_ascii: String = (0u8..=0x7f).map(char::from).collect();
        same_as_serde(every_ascii.as_str());
        for s in [
            "",
            "plain",
            "é ü 漢字 🎉",
            "\u{2028}\u{2029}",
            "a\"b\\c/d",
            "\u{7f}\0",
        ] {
            same_as_serde(s);
        }
    }

    #[test]
    fn numbers_and_values_write_as_serde_json_does() {
        for v in [0i64, -1, i64::MIN, i64::MAX] {
            same_as_serde(&v);
        }
        same_as_serde(&u64::MAX);
        same_as_serde(&i32::MIN);
        for v in [0.0f64, -0.0, 1.5, 1e300, 5e-324, f64::NAN, f64::INFINITY] {
            same_as_serde(&v);
        }
        for v in [0.1f32, f32::MAX, f32::NEG_INFINITY] {
            same_as_serde(&v);
        }
        same_as_serde(&true);
        let v: Value =
            serde_json::from_str(r#"{"b":[1,2.5,"x\n",null,{"a":{}}],"a":false}"#).unwrap();
        same_as_serde(&v);
        let m: BTreeMap<String, Vec<String>> =
            [("k\"1".into(), vec!["a".into()]), ("k2".into(), vec![])].into();
        same_as_serde(&m);
    }

    #[test]
    fn members_are_separated_by_commas() {
        let mut out = b"{".to_vec();
        key(&mut out, "\"a\":");
        true.write_json(&mut out);
        key(&mut out, "\"b\":");
        map::<u32>(&mut out, &BTreeMap::new(), |o, x| x.write_json(o));
        key(&mut out, "\"c\":");
        out.push(b'}');
        assert_eq!(out, br#"{"a":true,"b":{},"c":}"#);
        let lists: Vec<Vec<u32>> = vec![vec![], vec![1], vec![1, 2, 3]];
        same_as_serde(&lists);
        let mut l = Vec::new();
        list(&mut l, &[1u64, 2], |o, x| quoted_integer(o, *x));
        list(&mut l, &[0u64; 0], |o, x| quoted_integer(o, *x));
        assert_eq!(l, br#"["1","2"][]"#);
        let mut q = Vec::new();
        quoted_integer(&mut q, -42i64);
        assert_eq!(q, br#""-42""#);
    }
}
