//! The output-only values Google derives from what a client writes, and the ones it drops.
//!
//! From real responses (`tests/fixtures/real/`, the recorded exchanges) and the discovery
//! document's "Output only" fields:
//! - `formattedType`, the type in words (`"Work"` for `work`, `"Home Fax"` for `homeFax`; a custom
//!   type is echoed), on every item that has a `type`;
//! - `formattedProtocol` on instant-messaging clients (`"Google Talk"`), `formattedValue` on
//!   genders (`"Male"`);
//! - `canonicalForm` on phone numbers: E.164 (`+34666123490`) when the number is written in
//!   international form;
//! - on names, `displayName` (`"Dr. John Jay Doe III"`), `displayNameLastFirst` (`"Doe, Dr. John
//!   Jay, III"`) and, when the client sent none, `unstructuredName`.
//!
//! Output-only values a client sends are not stored: Google ignores them and derives its own.

use serde_json::{Map, Value};

/// Keys of an item that only the server sets.
const OUTPUT_ONLY: &[&str] = &[
    "formattedType",
    "formattedProtocol",
    "canonicalForm",
    "displayName",
    "displayNameLastFirst",
    "metadata",
];

thread_local! {
    /// The calling code of the account whose request is being handled ([`in_region`]).
    static REGION: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Run `f` with `code` as the accounts' calling code, for phone numbers written without one.
pub fn in_region<R>(code: Option<&str>, f: impl FnOnce() -> R) -> R {
    let before = REGION.with(|r| r.replace(code.map(str::to_owned)));
    let out = f();
    REGION.with(|r| *r.borrow_mut() = before);
    out
}

/// Strip what a client may not set from one item of person field `field`, and derive what Google
/// derives.
pub fn item(field: &str, item: &mut Map<String, Value>) {
    for k in OUTPUT_ONLY {
        // A name's display name is output only; elsewhere (`Organization.name`, ...) these keys
        // do not occur, so stripping them everywhere is safe.
        item.remove(*k);
    }
    if let Some(t) = item.get("type").and_then(Value::as_str)
        && !t.is_empty()
    {
        let formatted = words(t);
        item.insert("formattedType".into(), Value::String(formatted));
    }
    match field {
        "imClients" => {
            if let Some(p) = item.get("protocol").and_then(Value::as_str)
                && !p.is_empty()
            {
                let formatted = protocol(p);
                item.insert("formattedProtocol".into(), Value::String(formatted));
            }
        }
        "genders" => {
            // Output only on a gender (on an address it is the client's, or derived below).
            item.remove("formattedValue");
            if let Some(v) = item.get("value").and_then(Value::as_str)
                && !v.is_empty()
            {
                let formatted = words(v);
                item.insert("formattedValue".into(), Value::String(formatted));
            }
        }
        "phoneNumbers" => {
            if let Some(c) = item
                .get("value")
                .and_then(Value::as_str)
                .and_then(canonical_phone)
            {
                item.insert("canonicalForm".into(), Value::String(c));
            }
        }
        "names" => name(item),
        "addresses" => address(item),
        _ => {}
    }
}

/// An address's `formattedValue`, when the client sent none: its parts, a line each.
fn address(item: &mut Map<String, Value>) {
    let has = |k: &str| {
        item.get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    if has("formattedValue") {
        return;
    }
    let lines: Vec<&str> = [
        "streetAddress",
        "extendedAddress",
        "poBox",
        "city",
        "region",
        "postalCode",
        "country",
    ]
    .iter()
    .filter_map(|k| item.get(*k).and_then(Value::as_str))
    .map(str::trim)
    .filter(|s| !s.is_empty())
    .collect();
    if !lines.is_empty() {
        let formatted = lines.join("\n");
        item.insert("formattedValue".into(), Value::String(formatted));
    }
}

/// `homeFax` → `Home Fax`, `work` → `Work`; a custom type (anything with a space, or not camel
/// case ASCII) is echoed as written.
pub fn words(t: &str) -> String {
    if !t.bytes().all(|b| b.is_ascii_alphabetic()) || !t.starts_with(|c: char| c.is_lowercase()) {
        return t.to_string();
    }
    let mut out = String::with_capacity(t.len() + 4);
    for (i, c) in t.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if c.is_uppercase() {
            out.push(' ');
            out.push(c);
        } else {
            out.push(c);
        }
    }
    out
}

/// The protocols Google names itself; others are echoed.
fn protocol(p: &str) -> String {
    match p {
        "aim" => "AIM".into(),
        "msn" => "MSN".into(),
        "yahoo" => "Yahoo".into(),
        "skype" => "Skype".into(),
        "qq" => "QQ".into(),
        "googleTalk" => "Google Talk".into(),
        "icq" => "ICQ".into(),
        "jabber" => "Jabber".into(),
        "netMeeting" => "Net Meeting".into(),
        other => other.to_string(),
    }
}

/// E.164 for a number written internationally (`+34 666 12 34 90`, `0034 ...`), or nationally
/// when the account's region is known ([`in_region`]; a leading trunk `0` dropped); `None` for
/// one that does not parse.
pub fn canonical_phone(v: &str) -> Option<String> {
    let v = v.trim();
    if !v
        .bytes()
        .all(|b| b.is_ascii_digit() || b" +-().".contains(&b))
    {
        return None;
    }
    let international = v.strip_prefix('+').or_else(|| v.strip_prefix("00"));
    let digits: String = match international {
        Some(rest) => rest.chars().filter(char::is_ascii_digit).collect(),
        None => {
            let code = REGION.with(|r| r.borrow().clone())?;
            let national: String = v.chars().filter(char::is_ascii_digit).collect();
            format!("{code}{}", national.trim_start_matches('0'))
        }
    };
    ((8..=15).contains(&digits.len()) && !digits.starts_with('0')).then(|| format!("+{digits}"))
}

fn name(item: &mut Map<String, Value>) {
    let get = |k: &str| {
        item.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (prefix, given, middle, family, suffix) = (
        get("honorificPrefix"),
        get("givenName"),
        get("middleName"),
        get("familyName"),
        get("honorificSuffix"),
    );
    let join = |parts: &[&Option<String>]| {
        parts
            .iter()
            .filter_map(|p| p.as_deref())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let display = join(&[&prefix, &given, &middle, &family, &suffix]);
    let display = if display.is_empty() {
        get("unstructuredName").unwrap_or_default()
    } else {
        display
    };
    if display.is_empty() {
        return;
    }
    let first = join(&[&prefix, &given, &middle]);
    let mut last_first = family.clone().unwrap_or_default();
    if !first.is_empty() {
        if !last_first.is_empty() {
            last_first.push_str(", ");
        }
        last_first.push_str(&first);
    }
    if let Some(s) = &suffix {
        if !last_first.is_empty() {
            last_first.push_str(", ");
        }
        last_first.push_str(s);
    }
    if last_first.is_empty() {
        last_first = display.clone();
    }
    if get("unstructuredName").is_none() {
        item.insert("unstructuredName".into(), Value::String(display.clone()));
    }
    item.insert("displayName".into(), Value::String(display));
    item.insert("displayNameLastFirst".into(), Value::String(last_first));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn derived(field: &str, v: Value) -> Value {
        let Value::Object(mut m) = v else { panic!() };
        item(field, &mut m);
        Value::Object(m)
    }

    #[test]
    fn names_as_google_writes_them() {
        let n = derived(
            "names",
            json!({"honorificPrefix": "Dr.", "givenName": "John", "middleName": "Jay", "familyName": "Doe", "honorificSuffix": "III", "displayName": "sent by a client"}),
        );
        assert_eq!(n["displayName"], "Dr. John Jay Doe III");
        assert_eq!(n["displayNameLastFirst"], "Doe, Dr. John Jay, III");
        assert_eq!(n["unstructuredName"], "Dr. John Jay Doe III");
        let n = derived("names", json!({"givenName": "Konqui"}));
        assert_eq!(n["displayNameLastFirst"], "Konqui");
    }

    #[test]
    fn types_protocols_and_phones() {
        assert_eq!(words("work"), "Work");
        assert_eq!(words("homeFax"), "Home Fax");
        assert_eq!(words("Team lead"), "Team lead");
        let p = derived(
            "phoneNumbers",
            json!({"value": "+34 666 12 34 90", "type": "mobile", "formattedType": "x"}),
        );
        assert_eq!(p["canonicalForm"], "+34666123490");
        assert_eq!(p["formattedType"], "Mobile");
        assert_eq!(canonical_phone("555 0101"), None);
        assert_eq!(
            in_region(Some("34"), || canonical_phone("600 00 00 01")),
            Some("+34600000001".into())
        );
        assert_eq!(canonical_phone("+1 555 0101 ext"), None);
        let im = derived(
            "imClients",
            json!({"username": "a", "protocol": "googleTalk"}),
        );
        assert_eq!(im["formattedProtocol"], "Google Talk");
        let e = derived("emailAddresses", json!({"value": "a@b.c"}));
        assert!(e.get("formattedType").is_none());
    }
}
