//! Nothing is lost: real People API payloads survive deserialize → serialize unchanged, including
//! fields and enum values this client does not know; error bodies parse into the right kind.

mod support;

use google_people::runtime::ErrorKind;
use google_people::runtime::json::ToJson;
use google_people::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use support::fixture;

fn round_trip<T: DeserializeOwned + Serialize + ToJson>(json: &str) -> (T, Value) {
    let typed: T = serde_json::from_str(json).unwrap();
    let back = serde_json::to_value(&typed).unwrap();
    same_bytes(&typed);
    (typed, back)
}

/// The library's request-body writer and serde's impls write the same bytes.
#[track_caller]
fn same_bytes<T: Serialize + ToJson>(v: &T) {
    let ours = google_people::runtime::json::to_vec(v);
    let serde = serde_json::to_vec(v).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&serde)
    );
}

#[test]
fn real_success_bodies_round_trip_exactly() {
    type RoundTrip = fn(&str) -> Value;
    let cases: [(&str, RoundTrip); 3] = [
        ("person_get_2.json", |s| round_trip::<Person>(s).1),
        ("connections_list_page_1.json", |s| {
            round_trip::<ListConnectionsResponse>(s).1
        }),
        ("contact_groups_list_1.json", |s| {
            round_trip::<ListContactGroupsResponse>(s).1
        }),
    ];
    for (file, rt) in cases {
        let body = fixture(file);
        let original: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(rt(&body), original, "{file} changed in a round trip");
    }
}

#[test]
fn real_bodies_land_in_typed_fields() {
    let (p, _) = round_trip::<Person>(&fixture("person_get_2.json"));
    assert!(
        p.unknown_fields.is_empty(),
        "every field of a real person is known: {:?}",
        p.unknown_fields.keys()
    );
    assert_eq!(
        p.email_addresses.as_ref().unwrap()[0].value.as_deref(),
        Some("konqui@kde.test")
    );
    let source = &p.metadata.as_ref().unwrap().sources.as_ref().unwrap()[0];
    assert_eq!(source.r#type, Some(SourceType::Contact));
    assert_eq!(source.etag.as_deref(), Some("#WO+g2zDkGQg="));

    let (page, _) = round_trip::<ListConnectionsResponse>(&fixture("connections_list_page_1.json"));
    assert!(page.next_page_token.is_some());
    let (groups, _) =
        round_trip::<ListContactGroupsResponse>(&fixture("contact_groups_list_1.json"));
    let g = &groups.contact_groups.unwrap()[0];
    assert_eq!(
        g.group_type,
        Some(ContactGroupGroupType::SystemContactGroup)
    );
    assert_eq!(g.member_count, Some(296));
}

#[test]
#[allow(deprecated)] // `PersonMetadata.objectType` is deprecated, and a good open-enum example.
fn unknown_fields_and_enum_values_survive_read_modify_write() {
    let mut v: Value = serde_json::from_str(&fixture("person_get_2.json")).unwrap();
    v["futureField"] = json!({"nested": [1, 2, {"x": null}], "flag": true});
    v["names"][0]["pronunciation"] = json!("kon-kwee");
    v["metadata"]["objectType"] = json!("ROBOT");
    v["metadata"]["sources"][0]["type"] = json!("FUTURE_SOURCE");
    let mut p: Person = serde_json::from_value(v.clone()).unwrap();
    assert_eq!(
        p.unknown_fields.value("futureField").unwrap()["flag"],
        json!(true)
    );
    assert_eq!(
        p.names.as_ref().unwrap()[0]
            .unknown_fields
            .value("pronunciation"),
        Some(json!("kon-kwee"))
    );
    let meta = p.metadata.as_ref().unwrap();
    assert_eq!(
        meta.object_type,
        Some(PersonMetadataObjectType::UnknownValue("ROBOT".into()))
    );
    assert_eq!(
        meta.sources.as_ref().unwrap()[0].r#type,
        Some(SourceType::UnknownValue("FUTURE_SOURCE".into()))
    );
    assert_eq!(serde_json::to_value(&p).unwrap(), v);

    // A read-modify-write touches one field and sends everything else back.
    p.names.as_mut().unwrap()[0].given_name = Some("Konqi".into());
    let mut expected = v.clone();
    expected["names"][0]["givenName"] = json!("Konqi");
    assert_eq!(serde_json::to_value(&p).unwrap(), expected);
}

/// Unknown members are kept as the server wrote them: numbers a `serde_json::Value` would rewrite
/// (`-0`, `1E2`, a 20-digit integer) or refuse (`1e400`) go back byte for byte, through the
/// request-body writer and through `Serialize` alike; and one named like a known field is never
/// written twice.
#[test]
fn unknown_members_go_back_byte_for_byte() {
    let body = r#"{"resourceName":"people/c1","etag":"%e","names":[{"givenName":"Ada","future":-0,"big":18446744073709551616}],"odd":1E2,"huge":{"x":[1e400,-0.0,1.000000000000000000001]},"text":"\u00e9\n"}"#;
    let p = Person::decode_response(body.as_bytes()).unwrap();
    // Known fields first (in the schema's order), then the unknown ones by name: every value's
    // text unchanged.
    let expected = r#"{"etag":"%e","names":[{"givenName":"Ada","big":18446744073709551616,"future":-0}],"resourceName":"people/c1","huge":{"x":[1e400,-0.0,1.000000000000000000001]},"odd":1E2,"text":"\u00e9\n"}"#;
    let ours = String::from_utf8(google_people::runtime::json::to_vec(&p)).unwrap();
    assert_eq!(ours, expected, "the body writer");
    assert_eq!(serde_json::to_string(&p).unwrap(), expected, "Serialize");
    assert_eq!(p.unknown_fields.get("odd").map(|r| r.get()), Some("1E2"));

    // A member that shares a name with a known field is left out.
    let mut q = Person::new().set_etag("%e");
    q.unknown_fields.insert_value("etag", &json!("other"));
    q.unknown_fields.insert_value("later", &json!(1));
    let written = String::from_utf8(google_people::runtime::json::to_vec(&q)).unwrap();
    assert_eq!(written, r#"{"etag":"%e","later":1}"#);
    assert_eq!(serde_json::to_string(&q).unwrap(), written);
}

#[test]
fn set_scalars_are_sent_even_when_false_or_zero() {
    let meta = FieldMetadata::new().set_primary(false).set_verified(true);
    assert_eq!(
        serde_json::to_value(&meta).unwrap(),
        json!({"primary": false, "verified": true})
    );
    let group = ContactGroup::new().set_member_count(0);
    assert_eq!(
        serde_json::to_value(&group).unwrap(),
        json!({"memberCount": 0})
    );
    assert_eq!(serde_json::to_value(Person::new()).unwrap(), json!({}));
    same_bytes(&meta);
    same_bytes(&group);
    same_bytes(&Person::new());
}

#[test]
fn bytes_travel_as_base64_and_masks_as_paths() {
    let req = UpdateContactPhotoRequest::new()
        .set_photo_bytes(vec![0u8, 1, 2, 250, 251, 252])
        .set_person_fields([PersonField::Photos, PersonField::Names]);
    let v = serde_json::to_value(&req).unwrap();
    assert_eq!(
        v,
        json!({"personFields": "photos,names", "photoBytes": "AAEC+vv8"})
    );
    same_bytes(&req);
    let back: UpdateContactPhotoRequest = serde_json::from_value(v).unwrap();
    assert_eq!(back, req);
    // URL-safe and unpadded input is accepted too.
    let url_safe: UpdateContactPhotoRequest =
        serde_json::from_value(json!({"photoBytes": "AAEC-vv8"})).unwrap();
    assert_eq!(url_safe.photo_bytes, Some(vec![0u8, 1, 2, 250, 251, 252]));
    assert!(
        serde_json::from_value::<UpdateContactPhotoRequest>(json!({"photoBytes": "***"})).is_err()
    );

    let bad = serde_json::from_value::<BatchUpdateContactsRequest>(
        json!({"updateMask": "names,notAField"}),
    );
    assert!(bad.unwrap_err().to_string().contains("notAField"));
    let mask: FieldMask<PersonField> = FieldMask::parse(" names , emailAddresses,names").unwrap();
    assert_eq!(mask.to_string(), "names,emailAddresses");
    assert!(PersonField::Photos.is_output_only());
    assert!(!PersonField::Names.is_output_only());
    assert!(PersonField::ALL.contains(&PersonField::UserDefined));
}

#[test]
fn open_enums_convert_both_ways() {
    assert_eq!(
        ReadSourceType::from("READ_SOURCE_TYPE_CONTACT"),
        ReadSourceType::Contact
    );
    assert_eq!(ReadSourceType::Contact.as_str(), "READ_SOURCE_TYPE_CONTACT");
    let unknown: ReadSourceType = "READ_SOURCE_TYPE_NEW".parse().unwrap();
    assert_eq!(unknown.to_string(), "READ_SOURCE_TYPE_NEW");
    assert_eq!(
        serde_json::to_value(&unknown).unwrap(),
        json!("READ_SOURCE_TYPE_NEW")
    );
}

#[test]
fn real_error_bodies_parse_into_the_right_kind() {
    let cases = [
        ("error_etag_mismatch_1.json", 400, "FAILED_PRECONDITION"),
        (
            "error_invalid_argument_read_mask_1.json",
            400,
            "INVALID_ARGUMENT",
        ),
        ("error_rate_limit_2.json", 429, "RESOURCE_EXHAUSTED"),
        ("error_unauthenticated_1.json", 401, "UNAUTHENTICATED"),
    ];
    for (file, status, rpc) in cases {
        let e = Error::from_response(status, None, fixture(file).as_bytes());
        assert_eq!(e.kind(), ErrorKind::Api, "{file}");
        assert_eq!(e.status(), Some(status));
        assert_eq!(e.rpc_status(), Some(rpc), "{file}");
        let original: Value = serde_json::from_str(&fixture(file)).unwrap();
        assert_eq!(
            e.api_error().unwrap().message,
            original["error"]["message"].as_str().unwrap()
        );
        assert_eq!(e.api_error().unwrap().code, Some(status as i64));
    }
    assert!(
        Error::from_response(400, None, fixture("error_etag_mismatch_1.json").as_bytes())
            .is_etag_mismatch()
    );
    assert!(
        Error::from_response(429, None, fixture("error_rate_limit_2.json").as_bytes())
            .is_rate_limited()
    );
    assert!(
        Error::from_response(
            401,
            None,
            fixture("error_unauthenticated_1.json").as_bytes()
        )
        .is_auth()
    );
}
