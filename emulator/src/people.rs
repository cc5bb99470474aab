//! The People methods: routing, validation in the real server's words, and the semantics that
//! clients get wrong (etags, replace-or-clear masks, atomic batches, limits, sync tokens).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::errors::{ApiError, code_of};
use crate::groups;
use crate::store::{
    Contact, READ_FIELDS, SINGLETON_FIELDS, UPDATE_FIELDS, UserStore, contact_id, parse_mask,
};

/// A routed People request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    Get(String),
    BatchGet,
    Create,
    BatchCreate,
    Update(String),
    BatchUpdate,
    Delete(String),
    BatchDelete,
    Connections(String),
    Search,
    GroupsList,
    GroupsBatchGet,
    GroupsGet(String),
    GroupsCreate,
    GroupsUpdate(String),
    GroupsDelete(String),
    GroupsModify(String),
    UpdatePhoto(String),
    DeletePhoto(String),
    OtherList,
    OtherSearch,
    OtherCopy(String),
    DirectoryList,
    DirectorySearch,
}

impl Op {
    /// The method name used for counts and fault rules.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Get(_) => "people.get",
            Op::BatchGet => "people.getBatchGet",
            Op::Create => "people.createContact",
            Op::BatchCreate => "people.batchCreateContacts",
            Op::Update(_) => "people.updateContact",
            Op::BatchUpdate => "people.batchUpdateContacts",
            Op::Delete(_) => "people.deleteContact",
            Op::BatchDelete => "people.batchDeleteContacts",
            Op::Connections(_) => "people.connections.list",
            Op::Search => "people.searchContacts",
            Op::GroupsList => "contactGroups.list",
            Op::GroupsBatchGet => "contactGroups.batchGet",
            Op::GroupsGet(_) => "contactGroups.get",
            Op::GroupsCreate => "contactGroups.create",
            Op::GroupsUpdate(_) => "contactGroups.update",
            Op::GroupsDelete(_) => "contactGroups.delete",
            Op::GroupsModify(_) => "contactGroups.members.modify",
            Op::UpdatePhoto(_) => "people.updateContactPhoto",
            Op::DeletePhoto(_) => "people.deleteContactPhoto",
            Op::OtherList => "otherContacts.list",
            Op::OtherSearch => "otherContacts.search",
            Op::OtherCopy(_) => "otherContacts.copyOtherContactToMyContactsGroup",
            Op::DirectoryList => "people.listDirectoryPeople",
            Op::DirectorySearch => "people.searchDirectoryPeople",
        }
    }

    pub fn is_mutation(&self) -> bool {
        !matches!(
            self,
            Op::Get(_)
                | Op::BatchGet
                | Op::Connections(_)
                | Op::Search
                | Op::GroupsList
                | Op::GroupsBatchGet
                | Op::GroupsGet(_)
                | Op::OtherList
                | Op::OtherSearch
                | Op::DirectoryList
                | Op::DirectorySearch
        )
    }
}

/// Map an HTTP method and path to an operation.
pub(crate) fn route(method: &str, path: &str) -> Option<Op> {
    let rest = path.strip_prefix("/v1/")?;
    match (method, rest) {
        ("GET", "people:batchGet") => Some(Op::BatchGet),
        ("POST", "people:createContact") => Some(Op::Create),
        ("POST", "people:batchCreateContacts") => Some(Op::BatchCreate),
        ("POST", "people:batchUpdateContacts") => Some(Op::BatchUpdate),
        ("POST", "people:batchDeleteContacts") => Some(Op::BatchDelete),
        ("GET", "people:searchContacts") => Some(Op::Search),
        ("GET", "people:listDirectoryPeople") => Some(Op::DirectoryList),
        ("GET", "people:searchDirectoryPeople") => Some(Op::DirectorySearch),
        ("GET", "contactGroups") => Some(Op::GroupsList),
        ("POST", "contactGroups") => Some(Op::GroupsCreate),
        ("GET", "contactGroups:batchGet") => Some(Op::GroupsBatchGet),
        ("GET", "otherContacts") => Some(Op::OtherList),
        ("GET", "otherContacts:search") => Some(Op::OtherSearch),
        (_, r) if r.starts_with("otherContacts/") => {
            let id = r.strip_suffix(":copyOtherContactToMyContactsGroup")?;
            (method == "POST").then(|| Op::OtherCopy(id.to_string()))
        }
        (_, r) if r.starts_with("contactGroups/") => {
            if let Some(g) = r.strip_suffix("/members:modify") {
                return (method == "POST").then(|| Op::GroupsModify(g.to_string()));
            }
            let g = r.to_string();
            match method {
                "GET" => Some(Op::GroupsGet(g)),
                "PUT" => Some(Op::GroupsUpdate(g)),
                "DELETE" => Some(Op::GroupsDelete(g)),
                _ => None,
            }
        }
        _ => {
            let name = rest.strip_prefix("people/")?;
            if let Some(id) = name.strip_suffix(":updateContact") {
                return (method == "PATCH").then(|| Op::Update(format!("people/{id}")));
            }
            if let Some(id) = name.strip_suffix(":deleteContact") {
                return (method == "DELETE").then(|| Op::Delete(format!("people/{id}")));
            }
            if let Some(id) = name.strip_suffix(":updateContactPhoto") {
                return (method == "PATCH").then(|| Op::UpdatePhoto(format!("people/{id}")));
            }
            if let Some(id) = name.strip_suffix(":deleteContactPhoto") {
                return (method == "DELETE").then(|| Op::DeletePhoto(format!("people/{id}")));
            }
            if let Some(id) = name.strip_suffix("/connections") {
                return (method == "GET").then(|| Op::Connections(format!("people/{id}")));
            }
            (method == "GET" && !name.contains([':', '/']))
                .then(|| Op::Get(format!("people/{name}")))
        }
    }
}

/// Knobs for behaviour the research marks as assumed.
#[derive(Debug, Clone)]
pub(crate) struct Semantics {
    pub missing_etag_status: String,
    pub sync_token_ttl: Duration,
    pub sync_delay: Duration,
    /// How far the emulator's clock is ahead of the machine's ([`crate::Emulator::advance_time`]),
    /// in milliseconds: for sync-token ages (changes are aged directly).
    pub clock_offset_ms: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub read_lag: Duration,
    pub profile_link_domain: Option<String>,
    pub search_needs_warmup: bool,
    pub create_in_my_contacts: bool,
}

/// Create a contact from `person`; one created without memberships is in `myContacts`, or, when
/// the emulator is told Google does not do that, in no group.
fn create(store: &mut UserStore, person: &Map<String, Value>, sem: &Semantics) -> u64 {
    let id = store.create(person);
    if !sem.create_in_my_contacts
        && !person.contains_key("memberships")
        && let Some(c) = store.contacts.get_mut(&id)
    {
        c.fields.remove("memberships");
    }
    id
}

/// After a write: link the contact to a profile when it now carries an email in the configured
/// domain. Returns the contact's (possibly new) id.
fn maybe_relink(store: &mut UserStore, id: u64, sem: &Semantics) -> u64 {
    let Some(domain) = &sem.profile_link_domain else {
        return id;
    };
    let c = &store.contacts[&id];
    let suffix = format!("@{}", domain.to_ascii_lowercase());
    let has_profile_email = c
        .fields
        .get("emailAddresses")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter().any(|e| {
                e["value"]
                    .as_str()
                    .is_some_and(|v| v.to_ascii_lowercase().ends_with(&suffix))
            })
        });
    if c.linked || !has_profile_email {
        return id;
    }
    store.relink(id).unwrap_or(id)
}

pub(crate) struct Ctx<'a> {
    pub user: &'a str,
    /// The emulator's `host:port`, for URLs it hands out.
    pub host: &'a str,
    pub query: &'a [(String, String)],
    pub body: &'a [u8],
    pub sem: &'a Semantics,
}

impl Ctx<'_> {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub(crate) fn params(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub(crate) fn json(&self) -> Result<Map<String, Value>, ApiError> {
        if self.body.is_empty() {
            return Ok(Map::new());
        }
        match serde_json::from_slice::<Value>(self.body) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Err(ApiError::invalid(
                "Invalid JSON payload received. Expected an object.",
            )),
            Err(e) => Err(ApiError::invalid(format!(
                "Invalid JSON payload received. {e}"
            ))),
        }
    }
}

/// A list the request must carry, with at most `max` entries.
fn count_check(len: usize, max: usize, field: &str, noun: &str) -> Result<(), ApiError> {
    if len == 0 {
        return Err(ApiError::invalid(format!("{field} is required.")));
    }
    if len > max {
        return Err(ApiError::invalid(format!(
            "Too many {noun} in the request: at most {max} are allowed."
        )));
    }
    Ok(())
}

/// Validate a read mask; `required` names the parameter and its documentation page.
pub(crate) fn read_mask(
    value: Option<&str>,
    param: &str,
    required: Option<&str>,
) -> Result<Vec<String>, ApiError> {
    let mask = parse_mask(value.unwrap_or(""));
    if mask.is_empty() {
        return match required {
            Some(doc) => Err(ApiError::mask_required(param, doc)),
            None => Ok(Vec::new()),
        };
    }
    for f in &mask {
        if !READ_FIELDS.contains(&f.as_str()) {
            return Err(ApiError::invalid(format!(
                "Invalid {param} mask path: \"{f}\". Valid paths are documented at https://developers.google.com/people/api/rest/v1/people/get."
            )));
        }
    }
    Ok(mask)
}

fn update_mask(value: Option<&str>, param: &str) -> Result<Vec<String>, ApiError> {
    let mask = parse_mask(value.unwrap_or(""));
    if mask.is_empty() {
        return Err(ApiError::mask_required(param, "updateContact"));
    }
    for f in &mask {
        if !UPDATE_FIELDS.contains(&f.as_str()) {
            return Err(ApiError::invalid(format!(
                "Invalid {param} mask path: \"{f}\". Valid paths are documented at https://developers.google.com/people/api/rest/v1/people/updateContact."
            )));
        }
    }
    Ok(mask)
}

fn singleton_check(person: &Map<String, Value>, fields: &[&str]) -> Result<(), String> {
    for f in fields.iter().filter(|f| SINGLETON_FIELDS.contains(f)) {
        if person
            .get(*f)
            .and_then(Value::as_array)
            .is_some_and(|a| a.len() > 1)
        {
            return Err(format!("Only one {f} field is allowed per contact source."));
        }
    }
    Ok(())
}

/// Check the request's etag against the stored contact: `(status, message)` on failure.
fn etag_check(
    person: &Map<String, Value>,
    c: &Contact,
    sem: &Semantics,
) -> Result<(), (String, String)> {
    let person_etag = person.get("etag").and_then(Value::as_str);
    let source_etag = person
        .get("metadata")
        .and_then(|m| m.get("sources"))
        .and_then(Value::as_array)
        .and_then(|s| s.iter().find(|s| s["type"] == "CONTACT"))
        .and_then(|s| s.get("etag"))
        .and_then(Value::as_str);
    match (person_etag, source_etag) {
        (None, None) => Err((
            sem.missing_etag_status.clone(),
            "Request must set person.etag or person.metadata.sources.etag for the source that is being updated.".into(),
        )),
        (p, s) if p == Some(c.person_etag().as_str()) || s == Some(c.source_etag().as_str()) => Ok(()),
        (Some(_), _) => Err((
            "FAILED_PRECONDITION".into(),
            "Request person.etag is different than the current person.etag. Clear local cache and get the latest person.".into(),
        )),
        (None, Some(_)) => Err((
            "FAILED_PRECONDITION".into(),
            "Request person.metadata.sources.etag is different than the current person.metadata.sources.etag. Clear local cache and get the latest person".into(),
        )),
    }
}

/// One HTTP error for a batch that failed because of some contacts: BadRequest field violations
/// plus `<kind>ErrorDetails.contactErrors` keyed by resource name (or index).
fn batch_error(kind: &str, errors: &[(String, String, String)]) -> ApiError {
    let statuses: Vec<&str> = errors.iter().map(|e| e.1.as_str()).collect();
    let top = if statuses.iter().all(|s| *s == statuses[0]) {
        statuses[0]
    } else {
        "INVALID_ARGUMENT"
    };
    let violations: Vec<Value> = errors
        .iter()
        .map(|(k, _, m)| json!({"field": format!("contacts[{k}]"), "description": m}))
        .collect();
    let per_contact: Map<String, Value> = errors
        .iter()
        .map(|(k, s, m)| (k.clone(), json!({"code": code_of(s), "message": m})))
        .collect();
    ApiError::with_details(
        400,
        top,
        errors[0].2.clone(),
        vec![
            json!({"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": violations}),
            json!({"@type": format!("type.googleapis.com/google.people.v1.{kind}ErrorDetails"), "contactErrors": per_contact}),
        ],
    )
}

fn profile(user: &str, mask: &[String]) -> Value {
    let mut p = json!({"resourceName": format!("people/{}", 100_000_000_000_000_000u64 + (user.len() as u64)), "etag": "%profile"});
    if mask.iter().any(|f| f == "names") {
        p["names"] = json!([{"displayName": user, "metadata": {"primary": true, "source": {"type": "PROFILE"}}}]);
    }
    if mask.iter().any(|f| f == "emailAddresses") {
        p["emailAddresses"] =
            json!([{"value": user, "metadata": {"primary": true, "source": {"type": "PROFILE"}}}]);
    }
    p
}

fn lookup<'s>(store: &'s UserStore, rn: &str) -> Result<&'s Contact, ApiError> {
    let id = contact_id(rn).ok_or_else(|| {
        ApiError::invalid(format!(
            "Resource name \"{rn}\" is not a valid contact resource name."
        ))
    })?;
    store
        .contacts
        .get(&id)
        .ok_or_else(|| ApiError::not_found("Requested entity was not found."))
}

/// Handle an operation for a user's store; a 200 JSON body or an error.
pub(crate) fn handle(op: &Op, store: &mut UserStore, cx: &Ctx<'_>) -> Result<Value, ApiError> {
    match op {
        Op::OtherList => crate::other::list(store, cx),
        Op::OtherSearch => crate::other::search(store, cx),
        Op::OtherCopy(rn) => crate::other::copy(store, rn, cx),
        // The directory is the domain's, not the user's: served before this (lib.rs).
        Op::DirectoryList | Op::DirectorySearch => Err(ApiError::not_found("Not found")),
        Op::UpdatePhoto(rn) | Op::DeletePhoto(rn) => {
            let id = lookup(store, rn)?.id;
            let body = cx.json()?;
            let mask_value = match op {
                Op::UpdatePhoto(_) => body
                    .get("personFields")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                _ => cx.param("personFields").map(str::to_owned),
            };
            let mask = read_mask(mask_value.as_deref(), "personFields", None)?;
            if let Op::UpdatePhoto(_) = op {
                crate::photos::update(store, id, &body, cx.user, cx.host)?;
            } else {
                crate::photos::delete(store, id, cx.host)?;
            }
            // Without personFields the answer holds no person (as the real server).
            if mask.is_empty() {
                return Ok(json!({}));
            }
            Ok(json!({"person": store.contacts[&id].to_json(&mask)}))
        }
        Op::Get(rn) => {
            let mask = read_mask(cx.param("personFields"), "personFields", Some("get"))?;
            if rn == "people/me" {
                return Ok(profile(cx.user, &mask));
            }
            Ok(lookup(store, rn)?.visible(cx.sem.read_lag).to_json(&mask))
        }
        Op::BatchGet => {
            let names = cx.params("resourceNames");
            count_check(names.len(), 200, "resourceNames", "resource names")?;
            let mask = read_mask(
                cx.param("personFields"),
                "personFields",
                Some("getBatchGet"),
            )?;
            let responses: Vec<Value> = names
                .iter()
                .map(|rn| match lookup(store, rn) {
                    Ok(c) => json!({"requestedResourceName": rn, "httpStatusCode": 200, "person": c.visible(cx.sem.read_lag).to_json(&mask), "status": {}}),
                    Err(e) => json!({"requestedResourceName": rn, "httpStatusCode": e.http,
                                     "status": {"code": code_of(e.body["error"]["status"].as_str().unwrap_or("")), "message": e.body["error"]["message"]}}),
                })
                .collect();
            Ok(json!({"responses": responses}))
        }
        Op::Create => {
            let person = cx.json()?;
            singleton_check(&person, UPDATE_FIELDS).map_err(ApiError::invalid)?;
            let mask = read_mask(cx.param("personFields"), "personFields", None)?;
            let mask = if mask.is_empty() {
                READ_FIELDS.iter().map(|s| s.to_string()).collect()
            } else {
                mask
            };
            let id = create(store, &person, cx.sem);
            Ok(store.contacts[&id].to_json(&mask))
        }
        Op::BatchCreate => {
            let body = cx.json()?;
            let contacts = body
                .get("contacts")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            count_check(contacts.len(), 200, "contacts", "contacts")?;
            let mask = read_mask(
                body.get("readMask").and_then(Value::as_str),
                "readMask",
                None,
            )?;
            let mut errors = Vec::new();
            let persons: Vec<Map<String, Value>> = contacts
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let p = c
                        .get("contactPerson")
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    if let Err(m) = singleton_check(&p, UPDATE_FIELDS) {
                        errors.push((i.to_string(), "INVALID_ARGUMENT".to_string(), m));
                    }
                    p
                })
                .collect();
            if !errors.is_empty() {
                return Err(batch_error("BatchCreateContacts", &errors));
            }
            let created: Vec<Value> = persons
                .iter()
                .map(|p| {
                    let id = create(store, p, cx.sem);
                    json!({"httpStatusCode": 200, "person": store.contacts[&id].to_json(&mask), "status": {}})
                })
                .collect();
            Ok(if mask.is_empty() {
                json!({})
            } else {
                json!({"createdPeople": created})
            })
        }
        Op::Update(rn) => {
            let person = cx.json()?;
            let umask = update_mask(cx.param("updatePersonFields"), "updatePersonFields")?;
            let rmask = read_mask(cx.param("personFields"), "personFields", None)?;
            let rmask = if rmask.is_empty() {
                READ_FIELDS.iter().map(|s| s.to_string()).collect()
            } else {
                rmask
            };
            let id = lookup(store, rn)?.id;
            if person
                .get("resourceName")
                .and_then(Value::as_str)
                .is_some_and(|r| r != rn)
            {
                return Err(ApiError::invalid(
                    "person.resourceName does not match the resource name in the URL.",
                ));
            }
            let c = &store.contacts[&id];
            etag_check(&person, c, cx.sem).map_err(|(s, m)| ApiError::new(400, &s, m))?;
            let fields: Vec<&str> = umask.iter().map(String::as_str).collect();
            singleton_check(&person, &fields).map_err(ApiError::invalid)?;
            let c = store.contacts.get_mut(&id).expect("looked up");
            c.remember_for_lag(cx.sem.read_lag);
            c.apply(&person, &umask);
            store.log(id, false);
            let id = maybe_relink(store, id, cx.sem);
            Ok(store.contacts[&id].to_json(&rmask))
        }
        Op::BatchUpdate => {
            let body = cx.json()?;
            let contacts = body
                .get("contacts")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            count_check(contacts.len(), 200, "contacts", "contacts")?;
            let umask = update_mask(body.get("updateMask").and_then(Value::as_str), "updateMask")?;
            let rmask = read_mask(
                body.get("readMask").and_then(Value::as_str),
                "readMask",
                None,
            )?;
            let fields: Vec<&str> = umask.iter().map(String::as_str).collect();
            // Validate every contact first: the batch is atomic.
            let mut errors = Vec::new();
            let mut plan = Vec::new();
            for (rn, p) in &contacts {
                let Some(person) = p.as_object() else {
                    errors.push((
                        rn.clone(),
                        "INVALID_ARGUMENT".into(),
                        "The person must be a JSON object.".into(),
                    ));
                    continue;
                };
                let result = lookup(store, rn)
                    .map_err(|e| {
                        (
                            e.body["error"]["status"]
                                .as_str()
                                .unwrap_or("INVALID_ARGUMENT")
                                .to_string(),
                            e.body["error"]["message"]
                                .as_str()
                                .unwrap_or("")
                                .to_string(),
                        )
                    })
                    .and_then(|c| etag_check(person, c, cx.sem).map(|()| c.id))
                    .and_then(|id| {
                        singleton_check(person, &fields)
                            .map(|()| id)
                            .map_err(|m| ("INVALID_ARGUMENT".into(), m))
                    });
                match result {
                    Ok(id) => plan.push((rn.clone(), id, person.clone())),
                    Err((s, m)) => errors.push((rn.clone(), s, m)),
                }
            }
            if !errors.is_empty() {
                return Err(batch_error("BatchUpdateContacts", &errors));
            }
            let mut results = Map::new();
            for (rn, id, person) in plan {
                let c = store.contacts.get_mut(&id).expect("validated");
                c.remember_for_lag(cx.sem.read_lag);
                c.apply(&person, &umask);
                store.log(id, false);
                let id = maybe_relink(store, id, cx.sem);
                if !rmask.is_empty() {
                    results.insert(
                        rn.clone(),
                        json!({"requestedResourceName": rn, "httpStatusCode": 200, "person": store.contacts[&id].to_json(&rmask), "status": {}}),
                    );
                }
            }
            Ok(if rmask.is_empty() {
                json!({})
            } else {
                json!({"updateResult": results})
            })
        }
        Op::Delete(rn) => {
            let id = lookup(store, rn)?.id;
            store.contacts.remove(&id);
            store.log(id, true);
            Ok(json!({}))
        }
        Op::BatchDelete => {
            let body = cx.json()?;
            let names: Vec<String> = body
                .get("resourceNames")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            count_check(names.len(), 500, "resourceNames", "resource names")?;
            let mut errors = Vec::new();
            let mut ids = Vec::new();
            for rn in &names {
                match lookup(store, rn) {
                    Ok(c) => ids.push(c.id),
                    Err(e) => errors.push((
                        rn.clone(),
                        e.body["error"]["status"].as_str().unwrap_or("").to_string(),
                        e.body["error"]["message"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                    )),
                }
            }
            if !errors.is_empty() {
                return Err(batch_error("BatchDeleteContacts", &errors));
            }
            for id in ids {
                if store.contacts.remove(&id).is_some() {
                    store.log(id, true);
                }
            }
            Ok(json!({}))
        }
        Op::Connections(rn) => connections(rn, store, cx),
        Op::Search => {
            let mask = read_mask(cx.param("readMask"), "readMask", Some("searchContacts"))?;
            let query = cx.param("query").unwrap_or("");
            if !cx.sem.search_needs_warmup {
                return groups::search(&store.contacts, query, &mask, cx.param("pageSize"));
            }
            // The warm-up request refreshes the cache searches answer from.
            if query.trim().is_empty() {
                store.search_index = Some(store.contacts.clone());
            }
            let empty = BTreeMap::new();
            let index = store.search_index.as_ref().unwrap_or(&empty);
            groups::search(index, query, &mask, cx.param("pageSize"))
        }
        Op::GroupsList => groups::list(
            store,
            cx.param("pageSize"),
            cx.param("pageToken"),
            cx.param("syncToken"),
            cx.param("groupFields"),
        ),
        Op::GroupsBatchGet => groups::batch_get(
            store,
            &cx.params("resourceNames"),
            cx.param("maxMembers"),
            cx.param("groupFields"),
        ),
        Op::GroupsGet(rn) => {
            groups::get(store, rn, cx.param("maxMembers"), cx.param("groupFields"))
        }
        Op::GroupsCreate => groups::create(store, &cx.json()?),
        Op::GroupsUpdate(rn) => groups::update(store, rn, &cx.json()?),
        Op::GroupsDelete(rn) => {
            groups::delete(store, rn, cx.param("deleteContacts") == Some("true"))
        }
        Op::GroupsModify(rn) => groups::modify_members(store, rn, &cx.json()?),
    }
}

fn connections(rn: &str, store: &UserStore, cx: &Ctx<'_>) -> Result<Value, ApiError> {
    if rn != "people/me" {
        return Err(ApiError::invalid(
            "Only people/me is supported for connections.",
        ));
    }
    let mask = read_mask(cx.param("personFields"), "personFields", Some("get"))?;
    let page_size: usize = match cx.param("pageSize") {
        None => 100,
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (0..=1000).contains(&n) => {
                if n == 0 {
                    100
                } else {
                    n as usize
                }
            }
            _ => return Err(ApiError::invalid("pageSize must be between 1 and 1000.")),
        },
    };
    let offset = match cx.param("pageToken") {
        None | Some("") => 0,
        Some(t) => decode_token(t)
            .and_then(|s| s.strip_prefix("o=").and_then(|n| n.parse().ok()))
            .ok_or_else(|| ApiError::invalid("Page token is not valid."))?,
    };
    let ahead = Duration::from_millis(
        cx.sem
            .clock_offset_ms
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    let now = unix_now() + ahead.as_secs();
    // What incremental listings can see: writes propagate to them after a delay ("Writes may
    // have a propagation delay of several minutes for sync requests"). A full listing is current.
    let visible = store.visible_seq(cx.sem.sync_delay);
    // The items of this listing: every contact, or the changes since a sync token. Only the
    // page is rendered, so paging through N contacts costs O(N), not O(N^2).
    // The token a listing ends with: a full listing is current, so it covers every write so
    // far; an incremental one covers what it could see.
    let (total, page, next_seq): (usize, Vec<Value>, u64) = match cx.param("syncToken") {
        None | Some("") => (
            store.contacts.len(),
            store
                .contacts
                .values()
                .skip(offset)
                .take(page_size)
                .map(|c| truncated_for_list(c.visible(cx.sem.read_lag).to_json(&mask)))
                .collect(),
            store.seq,
        ),
        Some(t) => {
            let (seq, issued, bound) = decode_token(t)
                .and_then(|s| {
                    let mut parts = s.strip_prefix("s=")?.splitn(3, ':');
                    Some((
                        parts.next()?.parse::<u64>().ok()?,
                        parts.next()?.parse::<u64>().ok()?,
                        parts.next().unwrap_or("").to_string(),
                    ))
                })
                .ok_or_else(|| ApiError::invalid("Sync token is not valid."))?;
            if now.saturating_sub(issued) >= cx.sem.sync_token_ttl.as_secs() {
                return Err(ApiError::with_details(
                    400,
                    "FAILED_PRECONDITION",
                    "Sync token is expired. Clear local cache and retry call without the sync token.",
                    vec![
                        json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "EXPIRED_SYNC_TOKEN", "domain": "people.googleapis.com"}),
                    ],
                ));
            }
            // "When the syncToken is specified, all other parameters provided to
            // people.connections.list must match the first call that provided the sync token."
            if bound != request_binding(cx) {
                return Err(ApiError::invalid(
                    "The sync token was issued for a request with other parameters (personFields, \
                     sources): all other parameters must match the call that provided the sync \
                     token.",
                ));
            }
            let mut latest: BTreeMap<u64, bool> = BTreeMap::new();
            for ch in store
                .changes
                .iter()
                .filter(|c| c.seq > seq && c.seq <= visible)
            {
                latest.insert(ch.id, ch.deleted);
            }
            let total = latest.len();
            let page = latest
                .into_iter()
                .skip(offset)
                .take(page_size)
                .map(|(id, deleted)| match store.contacts.get(&id) {
                    Some(c) if !deleted => truncated_for_list(c.to_json(&mask)),
                    _ => json!({"resourceName": format!("people/c{id}"), "etag": "%deleted", "metadata": {"deleted": true, "objectType": "PERSON"}}),
                })
                .collect();
            (total, page, visible.max(seq))
        }
    };
    let mut out = json!({"connections": page, "totalPeople": total, "totalItems": total});
    if offset + page_size < total {
        out["nextPageToken"] = json!(encode_token(&format!("o={}", offset + page_size)));
    } else if cx.param("requestSyncToken") == Some("true") || cx.param("syncToken").is_some() {
        out["nextSyncToken"] = json!(encode_token(&format!(
            "s={next_seq}:{now}:{}",
            request_binding(cx)
        )));
    }
    if out["connections"].as_array().is_some_and(Vec::is_empty) {
        out.as_object_mut().expect("object").remove("connections");
    }
    Ok(out)
}

/// The parameters a sync token is bound to: the read mask and the sources, in any order.
fn request_binding(cx: &Ctx<'_>) -> String {
    let mut fields: Vec<&str> = cx
        .param("personFields")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    fields.sort_unstable();
    fields.dedup();
    let mut sources = cx.params("sources");
    sources.sort_unstable();
    format!("{}/{}", fields.join(","), sources.join(","))
}

/// "`connections.list` and `otherContacts.list` return a limited number of items per person:
/// up to 100 email addresses and 100 phone numbers" (the discovery document). `get` and
/// `batchGet` return them all.
pub(crate) const LIST_ITEM_LIMIT: usize = 100;

/// A person as a list response carries it: at most [`LIST_ITEM_LIMIT`] email addresses and
/// phone numbers.
pub(crate) fn truncated_for_list(mut person: Value) -> Value {
    for field in ["emailAddresses", "phoneNumbers"] {
        if let Some(items) = person.get_mut(field).and_then(Value::as_array_mut) {
            items.truncate(LIST_ITEM_LIMIT);
        }
    }
    person
}

pub(crate) fn encode_token(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

pub(crate) fn decode_token(t: &str) -> Option<String> {
    String::from_utf8(URL_SAFE_NO_PAD.decode(t).ok()?).ok()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}
