//! The generator's own tests: the checked-in snapshots, determinism, every vendored document,
//! `diff`, errors for malformed documents (with JSON paths, never a panic), and the CLI.
//!
//! Re-bless snapshots after an intended change with `BLESS=1 cargo test -p google-people-codegen`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use google_people_codegen::{Options, diff, parse, render};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn foreign() -> Options {
    Options {
        runtime_path: "::google_people::runtime".into(),
        crate_path: None,
    }
}

/// Compare `actual` with the snapshot at `path`, or rewrite it when `BLESS=1`.
fn assert_snapshot(path: &Path, actual: &str) {
    if std::env::var_os("BLESS").is_some_and(|v| v == "1") {
        fs::write(path, actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with BLESS=1 to create it", path.display()));
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "{} differs from the generator's output (first at line {}):\n  snapshot: {:?}\n  output:   {:?}\n\
             Review the change, then re-bless with BLESS=1 cargo test -p google-people-codegen",
            path.display(),
            line + 1,
            expected.lines().nth(line).unwrap_or("<end>"),
            actual.lines().nth(line).unwrap_or("<end>"),
        );
    }
}

fn documents(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

#[test]
fn people_v1_snapshot_is_the_build_output() {
    let json = fs::read_to_string(root().join("../discovery/people.v1.json")).unwrap();
    let code = render(&json, &Options::google_people()).unwrap();
    assert_snapshot(&root().join("tests/output/people_v1.rs"), &code);
}

#[test]
fn construct_snapshots() {
    let docs = documents("tests/constructs");
    assert!(docs.len() >= 5, "construct fixtures are missing");
    for doc in docs {
        let code = render(&fs::read_to_string(&doc).unwrap(), &foreign())
            .unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
        assert_snapshot(&doc.with_extension("rs"), &code);
    }
}

#[test]
fn generation_is_deterministic() {
    let json = fs::read_to_string(root().join("../discovery/people.v1.json")).unwrap();
    let a = render(&json, &Options::google_people()).unwrap();
    let b = render(&json, &Options::google_people()).unwrap();
    assert_eq!(a, b);
    assert!(a.starts_with("// @generated"), "banner missing");
    assert!(a.contains("DO NOT EDIT"));
    assert!(a.contains("pub const DISCOVERY_REVISION: &str = \"20251117\";"));
}

#[test]
fn every_vendored_document_generates() {
    let mut n = 0;
    for dir in [
        "tests/discovery/other-apis",
        "tests/discovery/people-revisions",
    ] {
        for doc in documents(dir) {
            let code = render(&fs::read_to_string(&doc).unwrap(), &foreign())
                .unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
            assert!(
                code.contains("pub struct"),
                "{}: no types generated",
                doc.display()
            );
            n += 1;
        }
    }
    assert_eq!(n, 12, "9 other APIs and 3 People revisions");
}

#[test]
fn people_v1_has_every_schema_and_method() {
    let json = fs::read_to_string(root().join("../discovery/people.v1.json")).unwrap();
    let doc = parse(&json).unwrap();
    assert_eq!(doc.schemas.len(), 72);
    let mut methods = 0;
    doc.for_each_method(|_, _, _| methods += 1);
    assert_eq!(methods, 24);
    let code = render(&json, &Options::google_people()).unwrap();
    for name in doc.schemas.keys() {
        assert!(
            code.contains(&format!("pub struct {name} "))
                || code.contains(&format!("pub enum {name} ")),
            "schema {name} has no type"
        );
    }
    for call in [
        "PeopleBatchUpdateContactsCall",
        "PeopleConnectionsListCall",
        "ContactGroupsMembersModifyCall",
        "OtherContactsCopyOtherContactToMyContactsGroupCall",
    ] {
        assert!(
            code.contains(&format!("pub struct {call} ")),
            "{call} missing"
        );
    }
    assert!(code.contains("Sends `POST v1/people:batchUpdateContacts`."));
    assert!(code.contains("pub enum PersonField"));
    assert!(code.contains("pub enum ContactGroupField"));
}

#[test]
fn diff_lists_the_2024_source_type() {
    let d = |f: &str| {
        parse(&fs::read_to_string(root().join("tests/discovery/people-revisions").join(f)).unwrap())
            .unwrap()
    };
    let lines = diff::diff(&d("people.v1.20210830.json"), &d("people.v1.20240515.json"));
    for schema in [
        "BatchCreateContactsRequest",
        "BatchUpdateContactsRequest",
        "CopyOtherContactToMyContactsGroupRequest",
        "UpdateContactPhotoRequest",
    ] {
        let want = format!("+ enum value {schema}.sources: READ_SOURCE_TYPE_OTHER_CONTACT");
        assert!(lines.contains(&want), "missing {want:?} in {lines:#?}");
    }
    // The revision added the value to the matching `sources` query parameters as well, and
    // changed nothing else in the surface.
    for l in &lines {
        assert!(
            l.starts_with("+ enum value ")
                && l.ends_with(".sources: READ_SOURCE_TYPE_OTHER_CONTACT"),
            "unexpected change {l:?}"
        );
    }
    assert_eq!(lines.len(), 12);
    assert!(diff::diff(&d("people.v1.20240515.json"), &d("people.v1.20240515.json")).is_empty());
}

#[test]
fn diff_reports_each_kind_of_change() {
    let old = parse(include_str!("constructs/methods.json")).unwrap();
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("constructs/methods.json")).unwrap();
    v["schemas"]["Item"]["properties"]["size"]["format"] = "uint64".into();
    v["schemas"]["Item"]["properties"]["color"] = serde_json::json!({"type": "string"});
    v["schemas"].as_object_mut().unwrap().remove("Labels");
    v["resources"]["projects"]["resources"]["items"]["methods"]["get"]["parameters"]["view"] =
        serde_json::json!({"type": "string", "location": "query"});
    v["resources"]["projects"]["resources"]["items"]["methods"]
        .as_object_mut()
        .unwrap()
        .remove("delete");
    let new = parse(&v.to_string()).unwrap();
    let lines = diff::diff(&old, &new);
    assert_eq!(
        lines,
        vec![
            "+ field Item.color",
            "+ parameter methods.projects.items.get.view",
            "- method methods.projects.items.delete",
            "- schema Labels",
            "~ type Item.size: string/int64 -> string/uint64",
        ]
    );
}

#[test]
fn malformed_documents_name_the_json_path() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"version": "v1", "rootUrl": "x"}"#,
            "missing field `name`",
        ),
        (
            r#"{"name": "a", "version": "v1", "rootUrl": "x", "schemas": {"A": {"properties": []}}}"#,
            "schemas.A.properties",
        ),
        (
            r#"{"name": "a", "version": "v1", "rootUrl": "x", "schemas": {"A": {"type": "object", "properties": {"b": {"$ref": "Nope"}}}}}"#,
            "schemas.A.properties.b.$ref",
        ),
        (
            r#"{"name": "a", "version": "v1", "rootUrl": "x", "schemas": {"A": {"type": "object", "properties": {"b": {"type": "array"}}}}}"#,
            "schemas.A.properties.b",
        ),
        (
            r#"{"name": "a", "version": "v1", "rootUrl": "x", "schemas": {"A": {"type": "object", "properties": {"b": {"type": "tuple"}}}}}"#,
            "schemas.A.properties.b.type",
        ),
        (
            r#"{"name": "a", "version": "v1", "rootUrl": "x", "resources": {"r": {"methods": {"m": {"id": "a.r.m", "path": "v1/x", "httpMethod": "GET", "response": {"$ref": "Gone"}}}}}}"#,
            "resources.r.methods.m.response.$ref",
        ),
        (
            r#"{"name": "a", "version": "v1", "rootUrl": "x", "resources": {"r": {"methods": {"m": {"id": "a.r.m", "path": "v1/x", "httpMethod": "GET", "parameters": {"id": {"type": "string", "location": "path"}}}}}}}"#,
            "resources.r.methods.m.path",
        ),
        (
            r#"{"name": "a", "version": "v1", "rootUrl": "x", "resources": {"r": {"methods": {"m": {"id": "a.r.m", "path": "v1/x", "httpMethod": "GET", "scopes": ["s", 1]}}}}}"#,
            "at `resources.r.methods.m.scopes[1]`: invalid type: integer `1`, expected a string",
        ),
        (
            r#"{"name": "a", "version": "v1", "rootUrl": "x", "schemas": {"A": {"type": "object", "properties": {"b": {"type": "string", "readOnly": "yes"}}}}}"#,
            r#"at `schemas.A.properties.b.readOnly`: invalid type: string "yes", expected a boolean"#,
        ),
        (
            r#"{"name": "a", "version": "v1", "rootUrl": "x", "resources": {"r": {"methods": {"m": {"path": "v1/x", "httpMethod": "GET"}}}}}"#,
            "at `resources.r.methods.m`: missing field `id`",
        ),
        ("not json", "expected"),
    ];
    for (doc, want) in cases {
        let err = render(doc, &foreign()).expect_err(doc);
        assert!(
            err.to_string().contains(want),
            "{doc}: error {err} does not mention {want}"
        );
    }
}

#[test]
fn mutated_documents_never_panic() {
    // Break the People document in many small ways; each must generate or fail cleanly.
    let base: serde_json::Value =
        serde_json::from_str(include_str!("../../discovery/people.v1.json")).unwrap();
    let schemas: Vec<String> = base["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mutations: &[fn(&mut serde_json::Value)] = &[
        |p| *p = serde_json::json!({"type": "array"}),
        |p| *p = serde_json::json!({"$ref": "Missing"}),
        |p| *p = serde_json::json!({"type": "string", "enum": []}),
        |p| *p = serde_json::json!({"type": "object", "additionalProperties": {"type": "weird"}}),
        |p| *p = serde_json::json!({}),
        |p| *p = serde_json::json!({"type": "integer", "format": "int128"}),
    ];
    let mut outcomes = (0, 0);
    for (i, name) in schemas.iter().enumerate() {
        let mut doc = base.clone();
        let props = doc["schemas"][name]["properties"].as_object_mut();
        let Some(props) = props else { continue };
        let Some(key) = props.keys().next().cloned() else {
            continue;
        };
        mutations[i % mutations.len()](props.get_mut(&key).unwrap());
        let result = std::panic::catch_unwind(|| render(&doc.to_string(), &foreign()));
        match result {
            Ok(Ok(_)) => outcomes.0 += 1,
            Ok(Err(e)) => {
                assert!(
                    e.path().starts_with(&format!("schemas.{name}")),
                    "{name}: error path {:?}",
                    e.path()
                );
                outcomes.1 += 1;
            }
            Err(_) => panic!("generator panicked on a mutation of {name}"),
        }
    }
    assert!(outcomes.0 > 0 && outcomes.1 > 0, "{outcomes:?}");
}

#[test]
fn cli_generate_and_diff() {
    let bin = env!("CARGO_BIN_EXE_google-people-codegen");
    let out = Command::new(bin)
        .args([
            "generate",
            "tests/constructs/methods.json",
            "--runtime-path",
            "::google_people::runtime",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        fs::read_to_string(root().join("tests/constructs/methods.rs")).unwrap()
    );

    let out = Command::new(bin)
        .args([
            "diff",
            "tests/discovery/people-revisions/people.v1.20210830.json",
            "tests/discovery/people-revisions/people.v1.20240515.json",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(
        "+ enum value BatchUpdateContactsRequest.sources: READ_SOURCE_TYPE_OTHER_CONTACT\n"
    ));

    let out = Command::new(bin)
        .args(["generate", "missing.json"])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json"));

    let out = Command::new(bin).arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}
