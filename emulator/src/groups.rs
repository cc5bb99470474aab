//! Contact groups and `people:searchContacts`.
//!
//! Membership lives in one place, each contact's `memberships` field, so group member lists and
//! counts can never disagree with the contacts: `members:modify` edits the contacts (bumping
//! their etags), and a contact update of `memberships` moves it between groups.

use serde_json::{Map, Value, json};

use crate::errors::{ApiError, code_of};
use crate::store::{Contact, UserStore, contact_id, now_rfc3339};

/// System groups every user has: (id, formatted name).
const SYSTEM_GROUPS: &[(&str, &str)] = &[
    ("myContacts", "My Contacts"),
    ("starred", "Starred"),
    ("friends", "Friends"),
    ("family", "Family"),
    ("coworkers", "Coworkers"),
];

/// A user-created group.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub version: u64,
    pub update_time: String,
    /// `clientData` as the client wrote it (each item's key and value).
    pub client_data: Option<Value>,
}

/// The fields a group may be read with (`groupFields`, `readGroupFields`).
const GROUP_FIELDS: &[&str] = &["clientData", "groupType", "memberCount", "metadata", "name"];

/// What `contactGroups.get`, `batchGet` and `list` return when `groupFields` is not set.
pub const DEFAULT_READ: &[&str] = &["metadata", "groupType", "memberCount", "name"];

/// What `create` and `update` return when `readGroupFields` is not set: no member count.
pub const DEFAULT_WRITE_READ: &[&str] = &["metadata", "groupType", "name"];

/// Parse a group field mask; empty or missing means `default`.
pub fn group_fields(
    mask: Option<&str>,
    default: &[&str],
    param: &str,
) -> Result<Vec<String>, ApiError> {
    let mask = mask.unwrap_or("").trim();
    if mask.is_empty() {
        return Ok(default.iter().map(|s| s.to_string()).collect());
    }
    mask.split(',')
        .map(str::trim)
        .map(|f| {
            if GROUP_FIELDS.contains(&f) {
                Ok(f.to_string())
            } else {
                Err(ApiError::invalid(format!(
                    "Invalid {param} mask path: \"{f}\". Valid paths are documented at https://developers.google.com/people/api/rest/v1/contactGroups/get."
                )))
            }
        })
        .collect()
}

fn group_ids(c: &Contact) -> Vec<String> {
    c.fields
        .get("memberships")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| {
                    m["contactGroupMembership"]["contactGroupId"]
                        .as_str()
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn members(store: &UserStore, id: &str) -> Vec<String> {
    store
        .contacts
        .values()
        .filter(|c| group_ids(c).iter().any(|g| g == id))
        .map(Contact::resource_name)
        .collect()
}

/// A group as read with the group fields `fields` (and up to `max_members` member names).
fn group_json(store: &UserStore, id: &str, max_members: usize, fields: &[String]) -> Option<Value> {
    let has = |f: &str| fields.iter().any(|x| x == f);
    let mut g = Map::new();
    g.insert("resourceName".into(), json!(format!("contactGroups/{id}")));
    if let Some((_, formatted)) = SYSTEM_GROUPS.iter().find(|(s, _)| *s == id) {
        if has("groupType") {
            g.insert("groupType".into(), json!("SYSTEM_CONTACT_GROUP"));
        }
        if has("name") {
            g.insert("name".into(), json!(id));
            g.insert("formattedName".into(), json!(formatted));
        }
    } else {
        let group = store.groups.get(id)?;
        g.insert("etag".into(), json!(format!("g{}v{}", id, group.version)));
        if has("metadata") {
            g.insert("metadata".into(), json!({"updateTime": group.update_time}));
        }
        if has("groupType") {
            g.insert("groupType".into(), json!("USER_CONTACT_GROUP"));
        }
        if has("name") {
            g.insert("name".into(), json!(group.name));
            g.insert("formattedName".into(), json!(group.name));
        }
        if has("clientData")
            && let Some(cd) = &group.client_data
        {
            g.insert("clientData".into(), cd.clone());
        }
    }
    if has("memberCount") || max_members > 0 {
        let members = members(store, id);
        if has("memberCount") {
            g.insert("memberCount".into(), json!(members.len()));
        }
        if max_members > 0 && !members.is_empty() {
            g.insert(
                "memberResourceNames".into(),
                json!(members.into_iter().take(max_members).collect::<Vec<_>>()),
            );
        }
    }
    Some(Value::Object(g))
}

/// A group's `clientData` as a client sent it: each item's `key` and `value` (output-only
/// metadata dropped); `None` when empty.
fn client_data(group: &Value) -> Option<Value> {
    let items: Vec<Value> = group["clientData"]
        .as_array()?
        .iter()
        .map(|d| {
            let mut m = Map::new();
            for k in ["key", "value"] {
                if let Some(v) = d.get(k) {
                    m.insert(k.into(), v.clone());
                }
            }
            Value::Object(m)
        })
        .collect();
    (!items.is_empty()).then_some(Value::Array(items))
}

fn group_id(resource_name: &str) -> Result<&str, ApiError> {
    resource_name
        .strip_prefix("contactGroups/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .ok_or_else(|| {
            ApiError::invalid(format!(
                "Resource name \"{resource_name}\" is not a valid contact group resource name."
            ))
        })
}

fn exists(store: &UserStore, id: &str) -> bool {
    SYSTEM_GROUPS.iter().any(|(s, _)| *s == id) || store.groups.contains_key(id)
}

fn max_members(v: Option<&str>) -> Result<usize, ApiError> {
    v.map(|s| {
        s.parse::<usize>()
            .map_err(|_| ApiError::invalid("maxMembers must be a non-negative integer."))
    })
    .transpose()
    .map(|m| m.unwrap_or(0))
}

/// `GET v1/contactGroups`: every group, or with a sync token the groups created, changed or
/// deleted since (a deleted one as its resource name with `metadata.deleted`).
pub fn list(
    store: &UserStore,
    page_size: Option<&str>,
    page_token: Option<&str>,
    sync_token: Option<&str>,
    group_fields: Option<&str>,
) -> Result<Value, ApiError> {
    let fields = self::group_fields(group_fields, DEFAULT_READ, "groupFields")?;
    let size: usize = match page_size {
        None => 30,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => return Err(ApiError::invalid("pageSize must be between 1 and 1000.")),
        },
    };
    let offset: usize = match page_token {
        None | Some("") => 0,
        Some(t) => t
            .parse()
            .map_err(|_| ApiError::invalid("Page token is not valid."))?,
    };
    let since = match sync_token {
        None | Some("") => None,
        Some(t) => Some(
            t.strip_prefix("groups-")
                .and_then(|n| n.parse::<u64>().ok())
                .ok_or_else(|| ApiError::invalid("Sync token is not valid."))?,
        ),
    };
    let ids: Vec<String> = match since {
        None => SYSTEM_GROUPS
            .iter()
            .map(|(s, _)| s.to_string())
            .chain(store.groups.keys().cloned())
            .collect(),
        Some(seq) => store
            .group_changes
            .iter()
            .filter(|(_, (changed, _))| *changed > seq)
            .map(|(id, _)| id.clone())
            .collect(),
    };
    let total = ids.len();
    let page: Vec<Value> = ids
        .iter()
        .skip(offset)
        .take(size)
        .map(|id| {
            group_json(store, id, 0, &fields).unwrap_or_else(|| {
                json!({"resourceName": format!("contactGroups/{id}"), "metadata": {"deleted": true}})
            })
        })
        .collect();
    let mut out = json!({"contactGroups": page, "totalItems": total});
    if offset + size < total {
        out["nextPageToken"] = json!((offset + size).to_string());
    }
    // Google sends the sync token on every page.
    out["nextSyncToken"] = json!(format!("groups-{}", store.seq));
    Ok(out)
}

/// Note a change of group `id` for sync tokens.
fn changed(store: &mut UserStore, id: &str, deleted: bool) {
    store.seq += 1;
    let seq = store.seq;
    store.group_changes.insert(id.to_string(), (seq, deleted));
}

/// `GET v1/contactGroups/{id}`.
pub fn get(
    store: &UserStore,
    resource_name: &str,
    max: Option<&str>,
    group_fields: Option<&str>,
) -> Result<Value, ApiError> {
    let id = group_id(resource_name)?;
    let fields = self::group_fields(group_fields, DEFAULT_READ, "groupFields")?;
    group_json(store, id, max_members(max)?, &fields)
        .ok_or_else(|| ApiError::not_found("Requested entity was not found."))
}

/// `GET v1/contactGroups:batchGet`.
pub fn batch_get(
    store: &UserStore,
    names: &[&str],
    max: Option<&str>,
    group_fields: Option<&str>,
) -> Result<Value, ApiError> {
    let fields = self::group_fields(group_fields, DEFAULT_READ, "groupFields")?;
    if names.is_empty() || names.len() > 200 {
        return Err(ApiError::invalid(
            "resourceNames must name between 1 and 200 contact groups.",
        ));
    }
    let max = max_members(max)?;
    let responses: Vec<Value> = names
        .iter()
        .map(|rn| match group_id(rn).ok().and_then(|id| group_json(store, id, max, &fields)) {
            Some(g) => json!({"requestedResourceName": rn, "status": {}, "contactGroup": g}),
            None => json!({"requestedResourceName": rn, "status": {"code": code_of("NOT_FOUND"), "message": "Requested entity was not found."}}),
        })
        .collect();
    Ok(json!({"responses": responses}))
}

fn name_taken(store: &UserStore, name: &str, except: Option<&str>) -> bool {
    SYSTEM_GROUPS.iter().any(|(s, f)| *s == name || *f == name)
        || store
            .groups
            .iter()
            .any(|(id, g)| g.name == name && Some(id.as_str()) != except)
}

/// `POST v1/contactGroups`.
pub fn create(store: &mut UserStore, body: &Map<String, Value>) -> Result<Value, ApiError> {
    // A `Map` panics on a missing key: look it up as a `Value`.
    let name = body.get("contactGroup").unwrap_or(&Value::Null)["name"]
        .as_str()
        .unwrap_or_default()
        .trim()
        .to_string();
    if name.is_empty() {
        return Err(ApiError::invalid("contactGroup.name is required."));
    }
    if name_taken(store, &name, None) {
        return Err(ApiError::new(
            409,
            "ALREADY_EXISTS",
            "Contact group name already exists.",
        ));
    }
    let read = group_fields(
        body.get("readGroupFields").and_then(Value::as_str),
        DEFAULT_WRITE_READ,
        "readGroupFields",
    )?;
    store.seq += 1;
    let id = format!("{:x}", 0x19cb_37f6_0aed_8000_u64 + store.seq);
    let client_data = client_data(body.get("contactGroup").unwrap_or(&Value::Null));
    store.groups.insert(
        id.clone(),
        Group {
            name,
            version: 1,
            update_time: now_rfc3339(),
            client_data,
        },
    );
    changed(store, &id, false);
    Ok(group_json(store, &id, 0, &read).expect("just created"))
}

/// `PUT v1/contactGroups/{id}`.
pub fn update(
    store: &mut UserStore,
    resource_name: &str,
    body: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let id = group_id(resource_name)?.to_string();
    if SYSTEM_GROUPS.iter().any(|(s, _)| *s == id) {
        return Err(ApiError::invalid(
            "System contact groups cannot be modified.",
        ));
    }
    let read = group_fields(
        body.get("readGroupFields").and_then(Value::as_str),
        DEFAULT_WRITE_READ,
        "readGroupFields",
    )?;
    // `updateGroupFields`: `name` (the default) and `clientData` may be written.
    let update: Vec<String> = match body.get("updateGroupFields").and_then(Value::as_str) {
        None | Some("") => vec!["name".into()],
        Some(m) => m.split(',').map(|f| f.trim().to_string()).collect(),
    };
    if let Some(bad) = update.iter().find(|f| *f != "name" && *f != "clientData") {
        return Err(ApiError::invalid(format!(
            "Invalid updateGroupFields mask path: \"{bad}\"."
        )));
    }
    let current = group_json(store, &id, 0, &["name".to_string()])
        .ok_or_else(|| ApiError::not_found("Requested entity was not found."))?;
    let group = body.get("contactGroup").unwrap_or(&Value::Null);
    if group["etag"].as_str() != current["etag"].as_str() {
        return Err(ApiError::new(
            400,
            "FAILED_PRECONDITION",
            "Request contact group etag is different than the current contact group etag.",
        ));
    }
    let name = if update.iter().any(|f| f == "name") {
        group["name"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_string()
    } else {
        store.groups[&id].name.clone()
    };
    if name.is_empty() {
        return Err(ApiError::invalid("contactGroup.name is required."));
    }
    if name_taken(store, &name, Some(&id)) {
        return Err(ApiError::new(
            409,
            "ALREADY_EXISTS",
            "Contact group name already exists.",
        ));
    }
    let client_data = client_data(group);
    let g = store.groups.get_mut(&id).expect("exists");
    g.name = name;
    if update.iter().any(|f| f == "clientData") {
        g.client_data = client_data;
    }
    g.version += 1;
    g.update_time = now_rfc3339();
    changed(store, &id, false);
    Ok(group_json(store, &id, 0, &read).expect("exists"))
}

/// `DELETE v1/contactGroups/{id}`: removes the group from its members, or deletes them too.
pub fn delete(
    store: &mut UserStore,
    resource_name: &str,
    delete_contacts: bool,
) -> Result<Value, ApiError> {
    let id = group_id(resource_name)?.to_string();
    if SYSTEM_GROUPS.iter().any(|(s, _)| *s == id) {
        return Err(ApiError::invalid(
            "System contact groups cannot be deleted.",
        ));
    }
    if store.groups.remove(&id).is_none() {
        return Err(ApiError::not_found("Requested entity was not found."));
    }
    changed(store, &id, true);
    let member_ids: Vec<u64> = store
        .contacts
        .values()
        .filter(|c| group_ids(c).contains(&id))
        .map(|c| c.id)
        .collect();
    for cid in member_ids {
        if delete_contacts {
            store.contacts.remove(&cid);
            store.log(cid, true);
        } else {
            set_membership(store, cid, &id, false);
        }
    }
    Ok(json!({}))
}

/// Add or remove one group in a contact's `memberships`, bumping its etag when it changes.
fn set_membership(store: &mut UserStore, cid: u64, group: &str, member: bool) -> bool {
    let Some(c) = store.contacts.get_mut(&cid) else {
        return false;
    };
    let mut items: Vec<Value> = c
        .fields
        .get("memberships")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let has = items
        .iter()
        .any(|m| m["contactGroupMembership"]["contactGroupId"] == group);
    if has == member {
        return false;
    }
    if member {
        items.push(json!({"contactGroupMembership": {"contactGroupId": group, "contactGroupResourceName": format!("contactGroups/{group}")}}));
    } else {
        items.retain(|m| m["contactGroupMembership"]["contactGroupId"] != group);
    }
    let mut person = Map::new();
    person.insert("memberships".into(), Value::Array(items));
    c.apply(&person, &["memberships".to_string()]);
    store.log(cid, false);
    true
}

/// `POST v1/contactGroups/{id}/members:modify`.
pub fn modify_members(
    store: &mut UserStore,
    resource_name: &str,
    body: &Map<String, Value>,
) -> Result<Value, ApiError> {
    let id = group_id(resource_name)?.to_string();
    if !exists(store, &id) {
        return Err(ApiError::not_found("Requested entity was not found."));
    }
    let list = |k: &str| -> Vec<String> {
        body.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (add, remove) = (list("resourceNamesToAdd"), list("resourceNamesToRemove"));
    if add.len() + remove.len() > 1000 {
        return Err(ApiError::invalid(
            "At most 1000 resource names can be added or removed in a single request.",
        ));
    }
    let mut not_found = Vec::new();
    let mut last_group = Vec::new();
    for (names, member) in [(&add, true), (&remove, false)] {
        for rn in names {
            match contact_id(rn).filter(|cid| store.contacts.contains_key(cid)) {
                None => not_found.push(rn.clone()),
                Some(cid) => {
                    // A contact must stay in at least one user group or myContacts.
                    if !member && id == "myContacts" && group_ids(&store.contacts[&cid]).len() <= 1
                    {
                        last_group.push(rn.clone());
                        continue;
                    }
                    set_membership(store, cid, &id, member);
                }
            }
        }
    }
    let mut out = json!({});
    if !not_found.is_empty() {
        out["notFoundResourceNames"] = json!(not_found);
    }
    if !last_group.is_empty() {
        out["canNotRemoveLastContactGroupResourceNames"] = json!(last_group);
    }
    Ok(out)
}

/// `GET v1/people:searchContacts`: case-insensitive prefix match on any word of names, emails,
/// phone numbers and organizations.
pub fn search(
    contacts: &std::collections::BTreeMap<u64, Contact>,
    query: &str,
    mask: &[String],
    page_size: Option<&str>,
) -> Result<Value, ApiError> {
    let size: usize = match page_size {
        None => 10,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n <= 30 => n.max(1),
            _ => return Err(ApiError::invalid("pageSize must be between 0 and 30.")),
        },
    };
    let q = query.trim().to_lowercase();
    let matches = |c: &Contact| {
        ["names", "emailAddresses", "phoneNumbers", "organizations"]
            .iter()
            .any(|f| {
                c.fields
                    .get(*f)
                    .and_then(Value::as_array)
                    .is_some_and(|items| {
                        items.iter().any(|item| {
                            item.as_object().is_some_and(|o| {
                                o.iter().filter(|(k, _)| *k != "metadata").any(|(_, v)| {
                                    v.as_str().is_some_and(|s| {
                                        let s = s.to_lowercase();
                                        s.starts_with(&q)
                                            || s.split(|ch: char| !ch.is_alphanumeric())
                                                .any(|w| w.starts_with(&q))
                                    })
                                })
                            })
                        })
                    })
            })
    };
    let results: Vec<Value> = if q.is_empty() {
        Vec::new()
    } else {
        contacts
            .values()
            .filter(|c| matches(c))
            .take(size)
            .map(|c| json!({"person": c.to_json(mask)}))
            .collect()
    };
    Ok(if results.is_empty() {
        json!({})
    } else {
        json!({"results": results})
    })
}
