//! The managed contacts a sync state knows, by external id, kept mostly out of memory: each
//! entry is a record in a [`Log`] (a temporary file once it grows), and memory holds only an
//! index from a hash of the id to the record's offset, about 20 bytes an entry. 100,000 managed
//! contacts cost about 2 MB of memory, where a map of entries took about 50.

use std::collections::HashMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::log::Log;
use super::state::Entry;

/// Managed contacts by external id (a map with the operations a sync needs). Entries are read
/// and returned by value; write one back with [`insert`](Self::insert).
#[derive(Default)]
pub struct Contacts {
    log: Log,
    /// FNV-1a of an id → the offset of its latest record.
    index: HashMap<u64, u64>,
    /// Ids whose hash another id in `index` already has → their offsets.
    overflow: HashMap<String, u64>,
}

/// FNV-1a, 64 bits: stable, and quick for short ids.
pub(crate) fn id_hash(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Contacts {
    /// No contacts.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many contacts.
    pub fn len(&self) -> usize {
        self.index.len() + self.overflow.len()
    }

    /// No contacts.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a read or write of the backing storage failed: then what was read cannot be
    /// trusted, and a sync refuses to commit.
    pub fn failed(&self) -> bool {
        self.log.failed()
    }

    /// Whether `id` is one of the few kept whole because another id has its hash.
    pub(crate) fn in_overflow(&self, id: &str) -> bool {
        self.overflow.contains_key(id)
    }

    fn read(&self, at: u64) -> Option<(String, Entry)> {
        decode(&self.log.read(at)?)
    }

    /// The entry of `id`: one read of the log (the record under its hash names the id it holds).
    pub fn get(&self, id: &str) -> Option<Entry> {
        if let Some(&at) = self.index.get(&id_hash(id))
            && let Some((found, e)) = self.read(at)
            && found == id
        {
            return Some(e);
        }
        self.read(*self.overflow.get(id)?).map(|(_, e)| e)
    }

    /// Whether `id` has an entry.
    pub fn contains_key(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// Set `id`'s entry.
    pub fn insert(&mut self, id: String, entry: Entry) {
        let at = self.log.append(&encode(&id, &entry));
        if let Some(slot) = self.overflow.get_mut(&id) {
            *slot = at;
            return;
        }
        let h = id_hash(&id);
        match self.index.get(&h).copied() {
            Some(old) if self.read(old).is_some_and(|(found, _)| found != id) => {
                self.overflow.insert(id, at);
            }
            _ => {
                self.index.insert(h, at);
            }
        }
    }

    /// Remove `id`'s entry, returning it.
    pub fn remove(&mut self, id: &str) -> Option<Entry> {
        if let Some(at) = self.overflow.remove(id) {
            return self.read(at).map(|(_, e)| e);
        }
        let h = id_hash(id);
        let at = *self.index.get(&h)?;
        let (found, e) = self.read(at)?;
        if found != id {
            return None;
        }
        self.index.remove(&h);
        Some(e)
    }

    /// Change `id`'s entry in place; whether it exists.
    pub fn modify(&mut self, id: &str, f: impl FnOnce(&mut Entry)) -> bool {
        let Some(mut e) = self.get(id) else {
            return false;
        };
        let before = e.clone();
        f(&mut e);
        if e != before {
            self.insert(id.to_string(), e);
        }
        true
    }

    /// The offsets of every entry's record, in the order they were last written.
    fn offsets(&self) -> Vec<u64> {
        let mut all: Vec<u64> = self
            .index
            .values()
            .chain(self.overflow.values())
            .copied()
            .collect();
        all.sort_unstable();
        all
    }

    /// Every entry with its id, read one at a time (in the order they were last written).
    pub fn iter(&self) -> impl Iterator<Item = (String, Entry)> + '_ {
        self.offsets().into_iter().filter_map(|at| self.read(at))
    }

    /// Every id.
    pub fn ids(&self) -> impl Iterator<Item = String> + '_ {
        self.iter().map(|(id, _)| id)
    }
}

/// `[u32 len, id][u32 len, resource name][u32 len, etag][flags][google][source]`.
fn encode(id: &str, e: &Entry) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + id.len() + e.resource_name.len() + e.etag.len() + 1 + 32);
    for s in [id, e.resource_name.as_str(), e.etag.as_str()] {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    let flags = u8::from(e.google.is_some())
        | u8::from(e.source.is_some()) << 1
        | u8::from(e.edited) << 2
        | u8::from(e.in_group) << 3;
    out.push(flags);
    for fp in [e.google, e.source].into_iter().flatten() {
        out.extend_from_slice(&fp.to_le_bytes());
    }
    out
}

fn decode(mut b: &[u8]) -> Option<(String, Entry)> {
    let mut text = || -> Option<String> {
        let len = u32::from_le_bytes(b.get(..4)?.try_into().ok()?) as usize;
        let s = std::str::from_utf8(b.get(4..4 + len)?).ok()?.to_string();
        b = &b[4 + len..];
        Some(s)
    };
    let (id, resource_name, etag) = (text()?, text()?, text()?);
    let flags = *b.first()?;
    let mut rest = &b[1..];
    let mut fp = |present: bool| -> Option<Option<u128>> {
        if !present {
            return Some(None);
        }
        let v = u128::from_le_bytes(rest.get(..16)?.try_into().ok()?);
        rest = &rest[16..];
        Some(Some(v))
    };
    let google = fp(flags & 1 != 0)?;
    let source = fp(flags & 2 != 0)?;
    Some((
        id,
        Entry {
            resource_name,
            etag,
            google,
            source,
            edited: flags & 4 != 0,
            in_group: flags & 8 != 0,
        },
    ))
}

impl Clone for Contacts {
    fn clone(&self) -> Self {
        let mut out = Self::new();
        for (id, e) in self.iter() {
            out.insert(id, e);
        }
        out
    }
}

impl PartialEq for Contacts {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(id, e)| other.get(&id) == Some(e))
    }
}

impl Eq for Contacts {}

impl fmt::Debug for Contacts {
    // Contact data: the count only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contacts")
            .field("len", &self.len())
            .finish()
    }
}

impl FromIterator<(String, Entry)> for Contacts {
    fn from_iter<I: IntoIterator<Item = (String, Entry)>>(iter: I) -> Self {
        let mut out = Self::new();
        for (id, e) in iter {
            out.insert(id, e);
        }
        out
    }
}

impl Serialize for Contacts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (id, e) in self.iter() {
            map.serialize_entry(&id, &e)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Contacts {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Contacts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("managed contacts by id")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Contacts, A::Error> {
                // Streamed: one entry in memory at a time.
                let mut out = Contacts::new();
                while let Some((id, e)) = map.next_entry::<String, Entry>()? {
                    out.insert(id, e);
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: u32) -> Entry {
        Entry {
            resource_name: format!("people/c{i}"),
            etag: format!("%e{i}"),
            google: i.is_multiple_of(2).then_some(u128::from(i) << 64 | 7),
            source: i.is_multiple_of(3).then_some(u128::from(i)),
            edited: i.is_multiple_of(5),
            in_group: i.is_multiple_of(7),
        }
    }

    #[test]
    fn a_map_of_entries_in_memory_or_on_disk() {
        let mut c = Contacts::new();
        for i in 0..30_000 {
            c.insert(format!("emp-{i}"), entry(i));
        }
        assert_eq!(c.len(), 30_000);
        assert_eq!(c.get("emp-12345"), Some(entry(12_345)));
        assert!(c.modify("emp-4", |e| e.etag = "%new".into()));
        assert_eq!(c.get("emp-4").unwrap().etag, "%new");
        assert_eq!(c.remove("emp-9"), Some(entry(9)));
        assert_eq!(c.get("emp-9"), None);
        assert!(!c.modify("emp-9", |_| {}));
        assert_eq!(c.len(), 29_999);
        assert_eq!(c.iter().count(), 29_999);
        let copy = c.clone();
        assert_eq!(copy, c);
        let json = serde_json::to_string(&c).unwrap();
        let back: Contacts = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        assert!(!c.failed());
    }

    #[test]
    fn ids_with_the_same_hash_stay_apart() {
        let mut c = Contacts::new();
        // Force a collision: put a second id under the first one's hash slot by hand.
        c.insert("a".into(), entry(1));
        let at = c.log.append(&encode("b", &entry(2)));
        c.overflow.insert("b".into(), at);
        c.index.insert(id_hash("b"), c.index[&id_hash("a")]);
        assert_eq!(c.get("a"), Some(entry(1)));
        assert_eq!(c.get("b"), Some(entry(2)));
        c.insert("b".into(), entry(3));
        assert_eq!(c.get("b"), Some(entry(3)));
        assert_eq!(c.remove("b"), Some(entry(3)));
        assert_eq!(c.get("a"), Some(entry(1)));
    }
}
