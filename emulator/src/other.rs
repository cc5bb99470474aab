//! "Other contacts": the people Gmail collects from a user's interactions. `otherContacts.list`
//! (with page and sync tokens), `otherContacts.search` and
//! `otherContacts.copyOtherContactToMyContactsGroup`, with the read masks the real methods allow.
//!
//! Seed them with [`Emulator::insert_other_contact`](crate::Emulator::insert_other_contact) or the
//! binary's `--seed-other N`. Choices where the documentation is silent: other contacts are
//! listed in the order they were added; `search` matches a prefix of any name, email or phone
//! word, case-insensitively, and is immediate (no warm-up needed); a copy gets a new
//! `people/c…` contact in `myContacts` and leaves the other contact in place.

use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::people::{Ctx, decode_token, encode_token, read_mask};
use crate::store::UserStore;

/// What `otherContacts.list` and `search` may read (with the default CONTACT source).
const READABLE: &[&str] = &[
    "emailAddresses",
    "metadata",
    "names",
    "phoneNumbers",
    "photos",
];
/// What `search` may read.
const SEARCHABLE: &[&str] = &["emailAddresses", "metadata", "names", "phoneNumbers"];
/// What a copy may copy.
const COPYABLE: &[&str] = &["emailAddresses", "names", "phoneNumbers"];

fn restrict(mask: &[String], allowed: &[&str], param: &str) -> Result<(), ApiError> {
    match mask.iter().find(|f| !allowed.contains(&f.as_str())) {
        Some(f) => Err(ApiError::invalid(format!(
            "Invalid {param} mask path: \"{f}\". Valid paths for this method are: {}.",
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

/// An other contact as the API shows it, projected to `mask`.
fn render(id: u64, fields: &Map<String, Value>, mask: &[String]) -> Value {
    let mut p = Map::new();
    p.insert("resourceName".into(), json!(format!("otherContacts/c{id}")));
    p.insert("etag".into(), json!(format!("%other{id}")));
    for f in mask {
        if f == "metadata" {
            p.insert(
                "metadata".into(),
                json!({"sources": [{"type": "OTHER_CONTACT", "id": format!("{id:x}")}], "objectType": "PERSON"}),
            );
        } else if let Some(v) = fields.get(f) {
            p.insert(f.clone(), v.clone());
        }
    }
    Value::Object(p)
}

fn page_size(cx: &Ctx<'_>, default: usize, max: usize) -> Result<usize, ApiError> {
    match cx.param("pageSize") {
        None => Ok(default),
        Some(s) => match s.parse::<i64>() {
            Ok(0) => Ok(default),
            Ok(n) if n > 0 && n as usize <= max => Ok(n as usize),
            _ => Err(ApiError::invalid(format!(
                "pageSize must be between 1 and {max}."
            ))),
        },
    }
}

pub(crate) fn list(store: &UserStore, cx: &Ctx<'_>) -> Result<Value, ApiError> {
    let mask = read_mask(cx.param("readMask"), "readMask", Some("otherContacts/list"))?;
    restrict(&mask, READABLE, "readMask")?;
    for s in cx.params("sources") {
        if !matches!(s, "READ_SOURCE_TYPE_CONTACT" | "READ_SOURCE_TYPE_PROFILE") {
            return Err(ApiError::invalid(format!("Invalid sources value: {s}.")));
        }
    }
    let size = page_size(cx, 100, 1000)?;
    let since = match cx.param("syncToken") {
        None | Some("") => None,
        Some(t) => Some(
            decode_token(t)
                .and_then(|s| s.strip_prefix("other=").and_then(|n| n.parse::<u64>().ok()))
                .ok_or_else(|| ApiError::invalid("Sync token is not valid."))?,
        ),
    };
    let offset: usize = match cx.param("pageToken") {
        None | Some("") => 0,
        Some(t) => decode_token(t)
            .and_then(|s| s.strip_prefix("oo=").and_then(|n| n.parse().ok()))
            .ok_or_else(|| ApiError::invalid("Page token is not valid."))?,
    };
    let items: Vec<u64> = store
        .other
        .iter()
        .filter(|(_, (_, seq))| since.is_none_or(|s| *seq > s))
        .map(|(id, _)| *id)
        .collect();
    let total = items.len();
    let page: Vec<Value> = items
        .iter()
        .skip(offset)
        .take(size)
        .map(|id| crate::people::truncated_for_list(render(*id, &store.other[id].0, &mask)))
        .collect();
    let mut out = json!({"totalSize": total});
    if !page.is_empty() {
        out["otherContacts"] = json!(page);
    }
    if offset + size < total {
        out["nextPageToken"] = json!(encode_token(&format!("oo={}", offset + size)));
    } else if cx.param("requestSyncToken") == Some("true") || since.is_some() {
        let latest = store.other.values().map(|(_, s)| *s).max().unwrap_or(0);
        out["nextSyncToken"] = json!(encode_token(&format!("other={latest}")));
    }
    Ok(out)
}

/// Whether `query` is a prefix (case-insensitive) of a value, or of a word of a value, that
/// `fields` holds under one of `paths` (field, keys of its items). Shared with the directory.
pub(crate) fn prefix_match(
    fields: &Map<String, Value>,
    query: &str,
    paths: &[(&str, &[&str])],
) -> bool {
    let q = query.to_lowercase();
    if q.is_empty() {
        return false;
    }
    paths.iter().any(|(field, keys)| {
        fields
            .get(*field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|item| {
                keys.iter().any(|k| {
                    item.get(*k).and_then(Value::as_str).is_some_and(|v| {
                        let v = v.to_lowercase();
                        v.starts_with(&q) || v.split([' ', '@', '.']).any(|w| w.starts_with(&q))
                    })
                })
            })
    })
}

/// Whether a name, email or phone of `fields` starts with `query`.
fn matches(fields: &Map<String, Value>, query: &str) -> bool {
    prefix_match(
        fields,
        query,
        &[
            ("names", &["displayName", "givenName", "familyName"]),
            ("emailAddresses", &["value"]),
            ("phoneNumbers", &["value"]),
        ],
    )
}

pub(crate) fn search(store: &UserStore, cx: &Ctx<'_>) -> Result<Value, ApiError> {
    let query = cx
        .param("query")
        .ok_or_else(|| ApiError::invalid("query is required."))?;
    let mask = read_mask(
        cx.param("readMask"),
        "readMask",
        Some("otherContacts/search"),
    )?;
    restrict(&mask, SEARCHABLE, "readMask")?;
    let size = page_size(cx, 10, 30)?;
    if query.is_empty() {
        // The warm-up request the documentation asks for: no results.
        return Ok(json!({}));
    }
    let results: Vec<Value> = store
        .other
        .iter()
        .filter(|(_, (fields, _))| matches(fields, query))
        .take(size)
        .map(|(id, (fields, _))| json!({"person": render(*id, fields, &mask)}))
        .collect();
    Ok(if results.is_empty() {
        json!({})
    } else {
        json!({"results": results})
    })
}

pub(crate) fn copy(store: &mut UserStore, rn: &str, cx: &Ctx<'_>) -> Result<Value, ApiError> {
    let id: u64 = rn
        .strip_prefix("otherContacts/c")
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "Resource name \"{rn}\" is not a valid other contact resource name."
            ))
        })?;
    let body = cx.json()?;
    let copy_mask = read_mask(
        body.get("copyMask").and_then(Value::as_str),
        "copyMask",
        Some("otherContacts/copyOtherContactToMyContactsGroup"),
    )?;
    restrict(&copy_mask, COPYABLE, "copyMask")?;
    let read = read_mask(
        body.get("readMask").and_then(Value::as_str),
        "readMask",
        None,
    )?;
    let (fields, _) = store
        .other
        .get(&id)
        .ok_or_else(|| ApiError::not_found("Requested entity was not found."))?;
    let person: Map<String, Value> = fields
        .iter()
        .filter(|(k, _)| copy_mask.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let new_id = store.create(&person);
    let mut read = if read.is_empty() { copy_mask } else { read };
    for extra in ["metadata", "memberships"] {
        if !read.iter().any(|f| f == extra) && body.get("readMask").is_none() {
            read.push(extra.to_string());
        }
    }
    Ok(store.contacts[&new_id].to_json(&read))
}

/// Add an other contact to `store` from a Person JSON object; its resource name.
pub(crate) fn insert(store: &mut UserStore, person: &Value) -> String {
    let fields: Map<String, Value> = person
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| READABLE.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let id = store.new_id();
    store.seq += 1;
    let seq = store.seq;
    store.other.insert(id, (fields, seq));
    format!("otherContacts/c{id}")
}
