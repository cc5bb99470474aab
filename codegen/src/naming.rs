//! The naming layer: discovery names to Rust identifiers.
//!
//! Handles Rust keywords (raw identifiers, or a `_` suffix where a raw identifier is not allowed),
//! dotted and odd names (`requestMask.includeField`, `$.xgafv`, `@type`, `application/json`), names
//! that start with a digit, and case clashes (two names mapping to one identifier get numbered).

use std::collections::BTreeSet;

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// Split a name into words: on any non-alphanumeric character and on case boundaries
/// (`emailAddresses` → `email`, `Addresses`; `HTTPServer` → `HTTP`, `Server`).
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let chars: Vec<char> = chunk.chars().collect();
        let mut cur = String::new();
        for (i, &c) in chars.iter().enumerate() {
            if i > 0 && c.is_ascii_uppercase() {
                let prev = chars[i - 1];
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
                if prev.is_ascii_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_ascii_uppercase() && next_lower)
                {
                    out.push(std::mem::take(&mut cur));
                }
            }
            cur.push(c);
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// `emailAddresses` → `email_addresses`; a keyword becomes a raw identifier (`r#type`), or gets a
/// `_` suffix where Rust forbids the raw form (`self_`). Returns the identifier text.
pub fn snake(name: &str) -> String {
    let mut s = words(name)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    if s.is_empty() {
        s.push_str("value");
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    escape_keyword(s)
}

/// `snake` without keyword escaping, for composing longer names (`set_type`).
pub fn snake_plain(name: &str) -> String {
    let s = snake(name);
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

/// `READ_SOURCE_TYPE_CONTACT` → `ReadSourceTypeContact`; `Person` stays `Person`;
/// `application/json` → `ApplicationJson`; `1` → `V1`; `""` → `Empty`.
pub fn pascal(name: &str) -> String {
    let mut s = String::new();
    for w in words(name) {
        let all_upper = w.chars().all(|c| !c.is_ascii_lowercase());
        let mut cs = w.chars();
        if let Some(first) = cs.next() {
            s.push(first.to_ascii_uppercase());
            let rest: String = cs.collect();
            if all_upper {
                s.push_str(&rest.to_ascii_lowercase());
            } else {
                s.push_str(&rest);
            }
        }
    }
    if s.is_empty() {
        return "Empty".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'V');
    }
    if s == "Self" {
        s.push('_');
    }
    s
}

fn escape_keyword(s: String) -> String {
    if NOT_RAW.contains(&s.as_str()) {
        format!("{s}_")
    } else if KEYWORDS.contains(&s.as_str()) {
        format!("r#{s}")
    } else {
        s
    }
}

/// Hands out unique names within one scope, numbering clashes deterministically
/// (`Foo`, `Foo2`, `Foo3`; `foo`, `foo_2`).
#[derive(Debug, Default, Clone)]
pub struct Namer {
    used: BTreeSet<String>,
}

impl Namer {
    /// A namer with some names already taken.
    pub fn with_reserved(names: &[&str]) -> Self {
        Self {
            used: names.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Take `base`, or the first free numbered variant of it.
    pub fn unique(&mut self, base: &str) -> String {
        let plain = base.strip_prefix("r#").unwrap_or(base);
        let sep = if plain.contains('_') || plain.chars().all(|c| !c.is_ascii_uppercase()) {
            "_"
        } else {
            ""
        };
        let mut candidate = base.to_string();
        let mut n = 2;
        while self
            .used
            .contains(candidate.strip_prefix("r#").unwrap_or(&candidate))
        {
            candidate = format!("{plain}{sep}{n}");
            n += 1;
        }
        self.used.insert(
            candidate
                .strip_prefix("r#")
                .unwrap_or(&candidate)
                .to_string(),
        );
        candidate
    }

    /// Is the name taken?
    pub fn contains(&self, name: &str) -> bool {
        self.used.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases() {
        assert_eq!(snake("emailAddresses"), "email_addresses");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("self"), "self_");
        assert_eq!(
            snake("requestMask.includeField"),
            "request_mask_include_field"
        );
        assert_eq!(snake("$.xgafv"), "xgafv");
        assert_eq!(snake("@type"), "r#type");
        assert_eq!(snake("HTTPServer"), "http_server");
        assert_eq!(snake("int64Value"), "int64_value");
        assert_eq!(snake("3d"), "_3d");
        assert_eq!(snake("move"), "r#move");
        assert_eq!(snake_plain("type"), "type");
    }

    #[test]
    fn pascal_cases() {
        assert_eq!(pascal("READ_SOURCE_TYPE_CONTACT"), "ReadSourceTypeContact");
        assert_eq!(pascal("Person"), "Person");
        assert_eq!(
            pascal("application/vnd.google-apps.folder"),
            "ApplicationVndGoogleAppsFolder"
        );
        assert_eq!(pascal("1"), "V1");
        assert_eq!(pascal(""), "Empty");
        assert_eq!(pascal("Self"), "Self_");
        assert_eq!(pascal("contactGroups"), "ContactGroups");
    }

    #[test]
    fn namer_numbers_clashes() {
        let mut n = Namer::default();
        assert_eq!(n.unique("Foo"), "Foo");
        assert_eq!(n.unique("Foo"), "Foo2");
        assert_eq!(n.unique("foo_bar"), "foo_bar");
        assert_eq!(n.unique("foo_bar"), "foo_bar_2");
        assert_eq!(n.unique("r#type"), "r#type");
        assert_eq!(n.unique("r#type"), "type_2");
    }
}
