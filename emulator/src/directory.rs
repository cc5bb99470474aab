//! A Workspace domain's directory: `people.listDirectoryPeople` (page and sync tokens) and
//! `people.searchDirectoryPeople`, over the profiles and domain contacts of the caller's domain
//! (the part of its address after `@`).
//!
//! Seed it with [`Emulator::add_directory_person`](crate::Emulator::add_directory_person).
//! Choices where the documentation is silent: people are listed in the order they were added;
//! search matches a prefix of any name or email word, case-insensitively; `mergeSources` is
//! accepted and changes nothing (the emulator keeps no contact linked to a profile); a consumer
//! account (`gmail.com`) gets the real `400 FAILED_PRECONDITION "Must be a G Suite domain
//! user."`.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};

use crate::errors::ApiError;
use crate::people::{Ctx, decode_token, encode_token, read_mask};

/// Where a directory person comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectorySource {
    /// A user's profile in the domain (`DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE`).
    Profile,
    /// A shared contact of the domain (`DIRECTORY_SOURCE_TYPE_DOMAIN_CONTACT`).
    Contact,
}

impl DirectorySource {
    fn param(self) -> &'static str {
        match self {
            DirectorySource::Profile => "DIRECTORY_SOURCE_TYPE_DOMAIN_PROFILE",
            DirectorySource::Contact => "DIRECTORY_SOURCE_TYPE_DOMAIN_CONTACT",
        }
    }

    fn source_type(self) -> &'static str {
        match self {
            DirectorySource::Profile => "DOMAIN_PROFILE",
            DirectorySource::Contact => "DOMAIN_CONTACT",
        }
    }
}

/// One domain's directory.
#[derive(Debug, Default)]
pub(crate) struct Directory {
    people: BTreeMap<u64, (Map<String, Value>, DirectorySource, u64)>,
    next: u64,
    seq: u64,
}

/// Add a person to `domain`'s directory; its resource name.
pub(crate) fn add(
    dirs: &mut HashMap<String, Directory>,
    domain: &str,
    source: DirectorySource,
    person: &Value,
) -> String {
    let d = dirs.entry(domain.to_ascii_lowercase()).or_default();
    if d.next == 0 {
        d.next = 200_000_000_000_000_001;
    }
    let id = d.next;
    d.next += 104_729;
    d.seq += 1;
    let fields = person.as_object().cloned().unwrap_or_default();
    d.people.insert(id, (fields, source, d.seq));
    name(id, source)
}

fn name(id: u64, source: DirectorySource) -> String {
    match source {
        DirectorySource::Profile => format!("people/{id}"),
        DirectorySource::Contact => format!("people/c{id}"),
    }
}

fn render(id: u64, fields: &Map<String, Value>, source: DirectorySource, mask: &[String]) -> Value {
    let mut p = Map::new();
    p.insert("resourceName".into(), json!(name(id, source)));
    p.insert("etag".into(), json!(format!("%dir{id}")));
    for f in mask {
        if f == "metadata" {
            p.insert(
                "metadata".into(),
                json!({"sources": [{"type": source.source_type(), "id": format!("{id:x}")}], "objectType": "PERSON"}),
            );
        } else if let Some(v) = fields.get(f) {
            p.insert(f.clone(), v.clone());
        }
    }
    Value::Object(p)
}

/// The domain of the caller, or the real error for a consumer account.
fn domain_of(user: &str) -> Result<String, ApiError> {
    let domain = user
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    if domain.is_empty() || domain == "gmail.com" || domain == "googlemail.com" {
        return Err(ApiError::new(
            400,
            "FAILED_PRECONDITION",
            "Must be a G Suite domain user.",
        ));
    }
    Ok(domain)
}

/// The `sources` asked for (required).
fn sources(cx: &Ctx<'_>) -> Result<Vec<DirectorySource>, ApiError> {
    let mut out = Vec::new();
    for s in cx.params("sources") {
        let source = [DirectorySource::Profile, DirectorySource::Contact]
            .into_iter()
            .find(|d| d.param() == s)
            .ok_or_else(|| ApiError::invalid(format!("Invalid sources value: {s}.")))?;
        out.push(source);
    }
    if out.is_empty() {
        return Err(ApiError::invalid("sources is required."));
    }
    for m in cx.params("mergeSources") {
        if m != "DIRECTORY_MERGE_SOURCE_TYPE_CONTACT" {
            return Err(ApiError::invalid(format!(
                "Invalid mergeSources value: {m}."
            )));
        }
    }
    Ok(out)
}

fn page_size(cx: &Ctx<'_>, max: usize) -> Result<usize, ApiError> {
    match cx.param("pageSize") {
        None => Ok(100),
        Some(s) => match s.parse::<i64>() {
            Ok(0) => Ok(100),
            Ok(n) if n > 0 && n as usize <= max => Ok(n as usize),
            _ => Err(ApiError::invalid(format!(
                "pageSize must be between 1 and {max}."
            ))),
        },
    }
}

fn offset(cx: &Ctx<'_>) -> Result<usize, ApiError> {
    match cx.param("pageToken") {
        None | Some("") => Ok(0),
        Some(t) => decode_token(t)
            .and_then(|s| s.strip_prefix("do=").and_then(|n| n.parse().ok()))
            .ok_or_else(|| ApiError::invalid("Page token is not valid.")),
    }
}

/// `people.listDirectoryPeople`.
pub(crate) fn list(dirs: &HashMap<String, Directory>, cx: &Ctx<'_>) -> Result<Value, ApiError> {
    let domain = domain_of(cx.user)?;
    let wanted = sources(cx)?;
    let mask = read_mask(
        cx.param("readMask"),
        "readMask",
        Some("listDirectoryPeople"),
    )?;
    let size = page_size(cx, 1000)?;
    let start = offset(cx)?;
    let since = match cx.param("syncToken") {
        None | Some("") => None,
        Some(t) => Some(
            decode_token(t)
                .and_then(|s| s.strip_prefix("dir=").and_then(|n| n.parse::<u64>().ok()))
                .ok_or_else(|| ApiError::invalid("Sync token is not valid."))?,
        ),
    };
    let empty = Directory::default();
    let dir = dirs.get(&domain).unwrap_or(&empty);
    let items: Vec<u64> = dir
        .people
        .iter()
        .filter(|(_, (_, s, seq))| wanted.contains(s) && since.is_none_or(|t| *seq > t))
        .map(|(id, _)| *id)
        .collect();
    let page = page_of(dir, &items, start, size, &mask);
    let mut out = json!({});
    if !page.is_empty() {
        out["people"] = json!(page);
    }
    if start + size < items.len() {
        out["nextPageToken"] = json!(encode_token(&format!("do={}", start + size)));
    } else if cx.param("requestSyncToken") == Some("true") || since.is_some() {
        out["nextSyncToken"] = json!(encode_token(&format!("dir={}", dir.seq)));
    }
    Ok(out)
}

/// `people.searchDirectoryPeople`.
pub(crate) fn search(dirs: &HashMap<String, Directory>, cx: &Ctx<'_>) -> Result<Value, ApiError> {
    let domain = domain_of(cx.user)?;
    let query = cx
        .param("query")
        .ok_or_else(|| ApiError::invalid("query is required."))?
        .to_lowercase();
    let wanted = sources(cx)?;
    let mask = read_mask(
        cx.param("readMask"),
        "readMask",
        Some("searchDirectoryPeople"),
    )?;
    let size = page_size(cx, 500)?;
    let start = offset(cx)?;
    let empty = Directory::default();
    let dir = dirs.get(&domain).unwrap_or(&empty);
    let hits: Vec<u64> = dir
        .people
        .iter()
        .filter(|(_, (fields, s, _))| wanted.contains(s) && matches(fields, &query))
        .map(|(id, _)| *id)
        .collect();
    let page = page_of(dir, &hits, start, size, &mask);
    let mut out = json!({"totalSize": hits.len()});
    if !page.is_empty() {
        out["people"] = json!(page);
    }
    if start + size < hits.len() {
        out["nextPageToken"] = json!(encode_token(&format!("do={}", start + size)));
    }
    Ok(out)
}

fn matches(fields: &Map<String, Value>, query: &str) -> bool {
    crate::other::prefix_match(
        fields,
        query,
        &[
            ("names", &["displayName", "givenName", "familyName"]),
            ("emailAddresses", &["value"]),
        ],
    )
}

/// Page `start..start + size` of `ids`, rendered.
fn page_of(dir: &Directory, ids: &[u64], start: usize, size: usize, mask: &[String]) -> Vec<Value> {
    ids.iter()
        .skip(start)
        .take(size)
        .map(|id| {
            let (fields, source, _) = &dir.people[id];
            render(*id, fields, *source, mask)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_accounts_have_no_directory() {
        assert!(domain_of("someone@gmail.com").is_err());
        assert_eq!(domain_of("ada@Example.com").unwrap(), "example.com");
        assert_eq!(
            DirectorySource::Contact.param(),
            "DIRECTORY_SOURCE_TYPE_DOMAIN_CONTACT"
        );
    }
}
