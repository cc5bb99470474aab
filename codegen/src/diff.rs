//! The API surface change between two discovery documents, for release notes.
//!
//! Compares schemas, their fields (type and format), enum values (of fields, array items and
//! parameters), methods (HTTP verb and path) and parameters. Descriptions are ignored: they change
//! in nearly every revision and do not change the surface.

use std::collections::BTreeMap;

use crate::model::{Document, Method, Schema};

/// One line a change, sorted: `+ schema Foo`, `- field Foo.bar`, `~ field Foo.bar: string -> integer`,
/// `+ enum value Foo.bar: VALUE`, `+ method people.people.get`, `+ parameter people.people.get.x`.
pub fn diff(old: &Document, new: &Document) -> Vec<String> {
    let mut out = Vec::new();
    diff_maps(
        &old.schemas,
        &new.schemas,
        "schema",
        &mut out,
        |name, a, b, out| {
            diff_schema(name, a, b, out);
        },
    );
    let methods = |d: &Document| {
        let mut m: BTreeMap<String, Method> = BTreeMap::new();
        d.for_each_method(|_, _, x| {
            m.insert(x.id.clone(), x.clone());
        });
        m
    };
    diff_maps(
        &methods(old),
        &methods(new),
        "method",
        &mut out,
        |id, a, b, out| {
            if a.http_method != b.http_method || a.path != b.path {
                out.push(format!(
                    "~ method {id}: {} {} -> {} {}",
                    a.http_method, a.path, b.http_method, b.path
                ));
            }
            let r = |x: &Option<crate::model::Reference>| {
                x.as_ref().map(|r| r.reference.clone()).unwrap_or_default()
            };
            if r(&a.request) != r(&b.request) {
                out.push(format!(
                    "~ method {id}: request {} -> {}",
                    r(&a.request),
                    r(&b.request)
                ));
            }
            if r(&a.response) != r(&b.response) {
                out.push(format!(
                    "~ method {id}: response {} -> {}",
                    r(&a.response),
                    r(&b.response)
                ));
            }
            diff_maps(
                &a.parameters,
                &b.parameters,
                &format!("parameter {id}."),
                out,
                |pname, pa, pb, out| {
                    let at = format!("{id}.{pname}");
                    if type_of(pa) != type_of(pb) || pa.repeated != pb.repeated {
                        out.push(format!(
                            "~ parameter {at}: {} -> {}",
                            type_of(pa),
                            type_of(pb)
                        ));
                    }
                    diff_enum(&at, pa, pb, out);
                },
            );
        },
    );
    out.sort();
    out.dedup();
    out
}

fn diff_maps<T>(
    a: &BTreeMap<String, T>,
    b: &BTreeMap<String, T>,
    what: &str,
    out: &mut Vec<String>,
    mut both: impl FnMut(&str, &T, &T, &mut Vec<String>),
) {
    let sep = if what.ends_with('.') { "" } else { " " };
    for (k, va) in a {
        match b.get(k) {
            None => out.push(format!("- {what}{sep}{k}")),
            Some(vb) => both(k, va, vb, out),
        }
    }
    for k in b.keys().filter(|k| !a.contains_key(*k)) {
        out.push(format!("+ {what}{sep}{k}"));
    }
}

fn diff_schema(at: &str, a: &Schema, b: &Schema, out: &mut Vec<String>) {
    if type_of(a) != type_of(b) {
        out.push(format!("~ type {at}: {} -> {}", type_of(a), type_of(b)));
    }
    diff_enum(at, a, b, out);
    if let (Some(ia), Some(ib)) = (&a.items, &b.items) {
        diff_schema(at, ia, ib, out);
    }
    if let (Some(ia), Some(ib)) = (&a.additional_properties, &b.additional_properties) {
        diff_schema(&format!("{at}{{}}"), ia, ib, out);
    }
    diff_maps(
        &a.properties,
        &b.properties,
        &format!("field {at}."),
        out,
        |k, pa, pb, out| {
            diff_schema(&format!("{at}.{k}"), pa, pb, out);
        },
    );
}

fn diff_enum(at: &str, a: &Schema, b: &Schema, out: &mut Vec<String>) {
    let va = a.enum_values.clone().unwrap_or_default();
    let vb = b.enum_values.clone().unwrap_or_default();
    for v in va.iter().filter(|v| !vb.contains(v)) {
        out.push(format!("- enum value {at}: {v}"));
    }
    for v in vb.iter().filter(|v| !va.contains(v)) {
        out.push(format!("+ enum value {at}: {v}"));
    }
}

/// A short type description: `string/int64`, `array<Person>`, `map<string>`, `Person`.
fn type_of(s: &Schema) -> String {
    if let Some(r) = &s.reference {
        return r.clone();
    }
    let t = s.ty.clone().unwrap_or_else(|| "any".into());
    match t.as_str() {
        "array" => format!(
            "array<{}>",
            s.items.as_deref().map(type_of).unwrap_or_default()
        ),
        "object" if s.properties.is_empty() => match &s.additional_properties {
            Some(ap) => format!("map<{}>", type_of(ap)),
            None => "object".into(),
        },
        _ => match &s.format {
            Some(f) => format!("{t}/{f}"),
            None => t,
        },
    }
}
