//! Behaviour of generated code for the constructs People itself does not use, through the
//! per-construct documents and real other-API documents compiled in this crate.

use google_people::runtime::{Client, FieldMask, HttpMethod, MaskField};
use google_people_compat_tests::{
    drive_v3, enums, formats, methods, names, oauth2_v2, params, recursion,
};
use serde_json::{Value, json};

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> T {
    let t: T = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(
        &serde_json::to_value(&t).unwrap(),
        v,
        "round trip changed the JSON"
    );
    t
}

#[test]
fn every_format_has_its_wire_form() {
    let v = json!({
        "str": "s", "i32": -5, "u32": 4000000000u32, "i64": "-9007199254740993", "u64": "18446744073709551615",
        "f32": 1.5, "f64": 0.1, "flag": false, "blob": "aGk=", "day": "2024-02-29", "when": "2024-01-01T00:00:00Z",
        "stamp": "2024-01-01T00:00:00.123Z", "wait": "3.5s", "mask": "a.b,c", "anything": {"x": [1, "two", null]},
        "bigList": ["1", "-2"], "bigMap": {"k": "9223372036854775807"}, "blobs": ["AA==", "/w=="],
        "children": {"b": {"name": "B"}, "a": {"name": "A"}}, "matrix": [[1, 2], [3]],
        "inline": {"x": 1, "nested": {"y": true}}, "inlineList": [{"z": "q"}], "readOnlyField": "r", "old": "o"
    });
    let e: formats::Everything = round_trip(&v);
    assert_eq!(e.i64, Some(-9_007_199_254_740_993));
    assert_eq!(e.u64, Some(u64::MAX));
    assert_eq!(e.u32, Some(4_000_000_000));
    assert_eq!(e.blob.as_deref(), Some(&b"hi"[..]));
    assert_eq!(e.blobs, Some(vec![vec![0], vec![255]]));
    assert_eq!(e.big_map.as_ref().unwrap()["k"], i64::MAX);
    assert_eq!(e.flag, Some(false));
    assert_eq!(
        e.inline.as_ref().unwrap().nested.as_ref().unwrap().y,
        Some(true)
    );
    assert_eq!(e.mask.as_ref().unwrap().to_string(), "a.b,c");
    // Maps serialize in key order, whatever order they arrived in.
    let text = serde_json::to_string(&e).unwrap();
    assert!(text.find("\"a\":").unwrap() < text.find("\"b\":").unwrap());
    // int64 also arrives as a JSON number from some servers.
    let n: formats::Everything =
        serde_json::from_value(json!({"i64": 42, "bigList": [1, "2"]})).unwrap();
    assert_eq!((n.i64, n.big_list), (Some(42), Some(vec![1, 2])));
    assert!(serde_json::from_value::<formats::Everything>(json!({"i64": "12x"})).is_err());
    assert!(serde_json::from_value::<formats::Everything>(json!({"u64": "-1"})).is_err());
    // An empty schema keeps whatever it is sent.
    let _: formats::Empty = round_trip(&json!({"anything": [1]}));
}

#[test]
fn odd_names_map_to_valid_identifiers_and_back() {
    let v = json!({
        "type": "t", "@type": "at", "match": "m", "move": true, "async": "a", "gen": "g", "a.b": "dot", "x-y": "dash",
        "$count": 3, "fooBar": "camel", "foo_bar": "snake", "3d": true, "unknownFields": "clash", "HTTPServer": "h",
        "option": {"some": "s"}, "self_ref": {"self": "1", "super": "2", "crate": "3"}
    });
    let k: names::Keywords = round_trip(&v);
    assert_eq!(k.r#type.as_deref(), Some("t"));
    assert_eq!(k.type_2.as_deref(), Some("at"));
    assert_eq!(
        (k.foo_bar.as_deref(), k.foo_bar_2.as_deref()),
        (Some("snake"), Some("camel"))
    );
    assert_eq!(k.unknown_fields_2.as_deref(), Some("clash"));
    assert!(k.unknown_fields.is_empty());
    assert_eq!(k._3d, Some(true));
    assert_eq!(k.self_ref.as_ref().unwrap().crate_.as_deref(), Some("3"));
    let built = names::Keywords::new()
        .set_type("t")
        .set_move(true)
        .set_3d(false)
        .set_option(names::Option2::new().set_some("x"));
    assert_eq!(
        serde_json::to_value(&built).unwrap(),
        json!({"type": "t", "move": true, "3d": false, "option": {"some": "x"}})
    );

    let kinds = [
        "1",
        "a-b",
        "",
        "UnknownValue",
        "lower",
        "LOWER",
        "application/json",
        "brand-new",
    ];
    for k in kinds {
        let o: names::OddValues = round_trip(&json!({"kind": k}));
        assert_eq!(o.kind.as_ref().unwrap().as_str(), k);
    }
    assert!(matches!(
        names::OddValuesKind::from("brand-new"),
        names::OddValuesKind::UnknownValue(_)
    ));
    assert!(!matches!(
        names::OddValuesKind::from("UnknownValue"),
        names::OddValuesKind::UnknownValue(_)
    ));
}

#[test]
fn recursive_schemas_nest() {
    let v = json!({"value": "1", "next": {"value": "2", "next": {"value": "3"}, "children": [{"value": "4"}]}});
    let n: recursion::Node = round_trip(&v);
    assert_eq!(
        n.next
            .as_ref()
            .unwrap()
            .next
            .as_ref()
            .unwrap()
            .value
            .as_deref(),
        Some("3")
    );
    let _: recursion::Ping =
        round_trip(&json!({"pong": {"ping": {"pong": {}}, "byName": {"x": {"pong": {}}}}}));
    let n = recursion::Node::new().set_next(recursion::Node::new().set_value("x"));
    assert_eq!(
        serde_json::to_value(&n).unwrap(),
        json!({"next": {"value": "x"}})
    );
}

#[test]
fn enums_are_shared_open_and_keep_deprecations() {
    use enums::ReadSourceType as R;
    let t: enums::Thing = round_trip(&json!({
        "color": "GREEN", "source": "READ_SOURCE_TYPE_PROFILE", "sources": ["READ_SOURCE_TYPE_CONTACT", "READ_SOURCE_TYPE_LATER"],
        "state": "RETIRED", "otherState": "ACTIVE"
    }));
    assert_eq!(t.color, Some(enums::Color::Green));
    assert_eq!(t.source, Some(R::Profile));
    assert_eq!(
        t.sources.as_ref().unwrap()[1],
        R::UnknownValue("READ_SOURCE_TYPE_LATER".into())
    );
    // One enum serves the field, the list items and the query parameter (which adds OTHER).
    assert_eq!(R::from("READ_SOURCE_TYPE_OTHER"), R::Other);
    #[allow(deprecated)]
    let retired = enums::ThingOtherState::Retired;
    assert_eq!(t.state, Some(retired));
}

#[test]
fn methods_build_requests_without_sending() {
    let client = Client::builder().build().unwrap();
    use methods::MethodsApi as _;
    let items = client.projects().items();

    let r = items
        .get("projects/p1/items/i 1")
        .read_mask([methods::ItemField::Name, methods::ItemField::Size])
        .request()
        .unwrap();
    assert_eq!(r.method(), HttpMethod::Get);
    assert_eq!(r.default_base(), "https://methods.example.com/methods/v2/");
    assert_eq!(r.path(), "v2/projects/p1/items/i%201");
    assert_eq!(r.query_pairs(), &[("readMask", "name,size".to_string())]);
    assert!(
        items
            .get("projects/p1")
            .request()
            .unwrap_err()
            .is_invalid_request()
    );

    // Simple expansion escapes slashes; required query parameters are positional.
    let r = items
        .list("a/b", "size > 3")
        .page_size(10)
        .ids([1i64, 2])
        .request()
        .unwrap();
    assert_eq!(r.path(), "v2/projects/a%2Fb/items");
    let q: Vec<_> = r
        .query_pairs()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    assert_eq!(q, ["filter=size > 3", "ids=1", "ids=2", "pageSize=10"]);
    assert!(
        items
            .list("p", "f")
            .ids(0..6)
            .request()
            .unwrap_err()
            .to_string()
            .contains("at most 5")
    );
    assert!(
        items
            .list("", "f")
            .request()
            .unwrap_err()
            .is_invalid_request()
    );

    let body = methods::BatchRequest::new().set_items((0..4).map(|_| methods::Item::new()));
    assert!(
        items
            .batch_update("p", body)
            .request()
            .unwrap_err()
            .is_invalid_request()
    );
    let body = methods::BatchRequest::new()
        .set_items([methods::Item::new().set_size(5)])
        .set_update_mask([methods::ItemField::Size]);
    let r = items.batch_update("p", body).request().unwrap();
    assert_eq!(r.method(), HttpMethod::Post);
    assert_eq!(
        serde_json::from_slice::<Value>(r.body().unwrap()).unwrap(),
        json!({"items": [{"size": "5"}], "updateMask": "size"})
    );

    let r = items
        .versions()
        .patch("projects/p/items/i/versions/v", methods::Item::new())
        .request()
        .unwrap();
    assert_eq!(
        (r.method(), r.path()),
        (HttpMethod::Patch, "v2/projects/p/items/i/versions/v")
    );
    let r = items.delete("projects/p/items/i").request().unwrap();
    assert_eq!(r.method(), HttpMethod::Delete);
    let r = client.ping().quota_user("q").request().unwrap();
    assert_eq!(
        (r.path(), r.query_pairs()),
        ("ping", &[("quotaUser", "q".to_string())][..])
    );

    assert_eq!(<methods::ItemField as MaskField>::TARGET, "Item");
    assert!(FieldMask::<methods::ItemField>::parse("name,nope").is_err());
}

#[test]
fn other_apis_work_through_the_same_runtime() {
    use drive_v3::DriveApi as _;
    use oauth2_v2::Oauth2Api as _;
    let client = Client::builder().build().unwrap();
    let r = client
        .files()
        .get("file/1")
        .supports_all_drives(true)
        .request()
        .unwrap();
    assert_eq!(r.default_base(), "https://www.googleapis.com/drive/v3/");
    assert_eq!(r.path(), "files/file%2F1");
    assert_eq!(
        r.query_pairs(),
        &[("supportsAllDrives", "true".to_string())]
    );
    let f: drive_v3::File = round_trip(
        &json!({"id": "1", "name": "n", "size": "123456789012", "capabilities": {"canEdit": true}, "appProperties": {"k": "v"}}),
    );
    assert_eq!(f.size, Some(123_456_789_012));
    let r = client.tokeninfo().access_token("x").request().unwrap();
    assert_eq!(r.method(), HttpMethod::Post);
}

#[test]
fn every_type_and_format_is_a_parameter() {
    use params::{AllTypes, AllTypesField, AllTypesKind, ParamsApi as _};
    let client = Client::builder().build().unwrap();
    // Bytes travel as URL-safe base64 (0xfb 0xff is `+/8=` in standard base64).
    let r = client
        .things()
        .reserved(vec![0xfb, 0xff])
        .request()
        .unwrap();
    assert_eq!(r.path(), "v1/-_8=:reserved");
    let r = client
        .things()
        .path(
            "a b",
            vec![0xfb],
            "2025-01-01",
            "2025-01-01T00:00:00Z",
            "2025-01-01T00:00:00.5Z",
            "3.5s",
            -7i64,
            7u64,
            AllTypesKind::B,
            -1,
            1u32,
            2i64,
            3i64,
            4u64,
            1.5f32,
            2.5,
            3.5,
            true,
            AllTypes::new(),
        )
        .request()
        .unwrap();
    assert_eq!(
        r.path(),
        "v1/things/a%20b/-w%3D%3D/2025-01-01/2025-01-01T00%3A00%3A00Z/2025-01-01T00%3A00%3A00.5Z/3.5s/-7/7/B/-1/1/2/3/4/1.5/2.5/3.5/true"
    );
    let r = client
        .things()
        .query(
            "s",
            vec![0xfb, 0xff],
            "2025-01-01",
            "t",
            "u",
            "1s",
            FieldMask::from([AllTypesField::I32, AllTypesField::BytesList]),
            -9i64,
            9u64,
            AllTypesKind::A,
            1,
            2u32,
            3i64,
            4i64,
            5u64,
            0.5f32,
            0.25,
            0.125,
            false,
        )
        .r_bytes([vec![0u8], vec![0xff]])
        .q_bytes(vec![0xfa])
        .r_i64_str([1i64, -2])
        .r_kind([AllTypesKind::B, AllTypesKind::UnknownValue("NEW".into())])
        .q_f32(1.25f32)
        .request()
        .unwrap();
    let q: Vec<(&str, &str)> = r
        .query_pairs()
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    for want in [
        ("reqBytes", "-_8="),
        ("reqGFieldMask", "i32,bytesList"),
        ("reqI64Str", "-9"),
        ("reqKind", "A"),
        ("reqFlag", "false"),
        ("qBytes", "-g=="),
        ("rBytes", "AA=="),
        ("rBytes", "_w=="),
        ("rI64Str", "-2"),
        ("rKind", "NEW"),
        ("qF32", "1.25"),
    ] {
        assert!(q.contains(&want), "{want:?} in {q:?}");
    }
}
