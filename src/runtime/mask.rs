//! Typed field masks.
//!
//! Generated code makes an enum of each masked schema's fields (`PersonField`) and types every
//! mask parameter and mask body field as `FieldMask<PersonField>`, so a mask naming a field that
//! does not exist cannot be built, and one parsed from text is checked before anything is sent.

use std::fmt;
use std::marker::PhantomData;

use super::Error;

/// A field a mask can name: a generated `…Field` enum, or `String` for masks whose target schema
/// the generator could not determine.
pub trait MaskField: Clone + fmt::Debug + PartialEq + Send + Sync + 'static {
    /// The Rust name of the schema whose fields these are (`Person`).
    const TARGET: &'static str;
    /// The mask path (`emailAddresses`).
    fn as_str(&self) -> &str;
    /// The field for a path, or `None` if the schema has no such field.
    fn from_path(path: &str) -> Option<Self>;
}

impl MaskField for String {
    const TARGET: &'static str = "any";
    fn as_str(&self) -> &str {
        self
    }
    fn from_path(path: &str) -> Option<Self> {
        Some(path.to_owned())
    }
}

/// A list of fields: serialized as the comma-separated paths Google expects.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct FieldMask<F> {
    fields: Vec<F>,
}

impl<F: MaskField> FieldMask<F> {
    /// An empty mask.
    pub fn new() -> Self {
        Self { fields: Vec::new() }
    }

    /// Parse `"names,emailAddresses"` (spaces and repeats are tolerated); an unknown field is an
    /// error.
    pub fn parse(paths: &str) -> Result<Self, Error> {
        let mut mask = Self::new();
        for p in paths.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match F::from_path(p) {
                Some(f) => mask = mask.with(f),
                None => {
                    return Err(Error::invalid_request(format!(
                        "field mask names `{p}`, which is not a field of {}",
                        F::TARGET
                    )));
                }
            }
        }
        Ok(mask)
    }

    /// Add a field (no duplicate is added).
    pub fn with(mut self, field: F) -> Self {
        if !self.fields.contains(&field) {
            self.fields.push(field);
        }
        self
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[F] {
        &self.fields
    }

    /// Whether the mask names `field`.
    pub fn contains(&self, field: &F) -> bool {
        self.fields.contains(field)
    }

    /// No fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }
}

impl<F: MaskField> fmt::Display for FieldMask<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, x) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(x.as_str())?;
        }
        Ok(())
    }
}

impl<F: MaskField> fmt::Debug for FieldMask<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FieldMask({self})")
    }
}

impl<F: MaskField> FromIterator<F> for FieldMask<F> {
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> Self {
        iter.into_iter().fold(Self::new(), Self::with)
    }
}

impl<F: MaskField> IntoIterator for FieldMask<F> {
    type Item = F;
    type IntoIter = std::vec::IntoIter<F>;
    fn into_iter(self) -> Self::IntoIter {
        self.fields.into_iter()
    }
}

impl<F: MaskField, const N: usize> From<[F; N]> for FieldMask<F> {
    fn from(a: [F; N]) -> Self {
        a.into_iter().collect()
    }
}

impl<F: MaskField> From<Vec<F>> for FieldMask<F> {
    fn from(v: Vec<F>) -> Self {
        v.into_iter().collect()
    }
}

impl<F: MaskField> From<&[F]> for FieldMask<F> {
    fn from(v: &[F]) -> Self {
        v.iter().cloned().collect()
    }
}

impl<F: MaskField + Copy> From<F> for FieldMask<F> {
    fn from(f: F) -> Self {
        Self { fields: vec![f] }
    }
}

impl<F: MaskField> serde::Serialize for FieldMask<F> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de, F: MaskField> serde::Deserialize<'de> for FieldMask<F> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<F>(PhantomData<F>);
        impl<F: MaskField> serde::de::Visitor<'_> for V<F> {
            type Value = FieldMask<F>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a comma-separated field mask")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                FieldMask::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V(PhantomData))
    }
}
