//! The typed client against the independent emulator: both sides of the wire agree, including
//! the per-contact error details the public record leaves unspecified.

use futures_util::StreamExt as _;
use google_people::*;
use google_people_emulator::{Emulator, Fault, FaultRule};

const USER: &str = "alice@example.com";

async fn setup() -> (Emulator, Client) {
    let emu = Emulator::start().await.unwrap();
    let client = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(USER))
        .retry_policy(google_people::runtime::RetryPolicy::never())
        .build()
        .unwrap();
    (emu, client)
}

#[tokio::test]
async fn create_batch_update_get_round_trip() {
    let (emu, client) = setup().await;
    let created = client
        .people()
        .create_contact(Person::new().set_names([Name::new().set_given_name("Ada")]))
        .person_fields([PersonField::Names, PersonField::Metadata])
        .send()
        .await
        .unwrap();
    let rn = created.resource_name.clone().unwrap();
    let source = &created.metadata.as_ref().unwrap().sources.as_ref().unwrap()[0];
    assert_eq!(source.r#type, Some(SourceType::Contact));

    let update = Person::new()
        .set_etag(created.etag.clone().unwrap())
        .set_names([Name::new()
            .set_given_name("Ada")
            .set_family_name("Lovelace")]);
    let resp = client
        .people()
        .batch_update_contacts(
            BatchUpdateContactsRequest::new()
                .set_contacts([(rn.clone(), update)])
                .set_update_mask([PersonField::Names])
                .set_read_mask([PersonField::Names]),
        )
        .send()
        .await
        .unwrap();
    let updated = resp.update_result.unwrap()[&rn].person.clone().unwrap();
    assert_ne!(updated.etag, created.etag);
    assert_eq!(
        emu.contact(USER, &rn).unwrap()["names"][0]["familyName"],
        "Lovelace"
    );

    let got = client
        .people()
        .get(&rn)
        .person_fields([PersonField::Names])
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.names.unwrap()[0].family_name.as_deref(),
        Some("Lovelace")
    );
    assert_eq!(
        emu.request_count("people.batchUpdateContacts", Some(USER)),
        1
    );
}

#[tokio::test]
async fn a_failed_batch_names_each_contact() {
    let (emu, client) = setup().await;
    let names = emu.seed_contacts(USER, 3);
    let etag = |rn: &str| {
        emu.contact(USER, rn).unwrap()["etag"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let contacts = vec![
        (names[0].clone(), Person::new().set_etag(etag(&names[0]))),
        (names[1].clone(), Person::new().set_etag("%stale")),
        (names[2].clone(), Person::new()),
    ];
    let e = client
        .people()
        .batch_update_contacts(
            BatchUpdateContactsRequest::new()
                .set_contacts(contacts)
                .set_update_mask([PersonField::Names]),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert!(e.is_etag_mismatch(), "{e}");
    let api = e.api_error().unwrap();
    let per_contact = api.contact_errors();
    assert_eq!(per_contact.len(), 2);
    assert_eq!(per_contact[names[1].as_str()].code, 9);
    assert!(
        per_contact[names[2].as_str()]
            .message
            .starts_with("Request must set person.etag")
    );
    assert_eq!(api.field_violations().count(), 2);
}

#[tokio::test]
async fn list_streams_every_contact_across_pages() {
    let (emu, client) = setup().await;
    let names = emu.seed_contacts(USER, 250);
    let listed: Vec<String> = client
        .people()
        .connections()
        .list("people/me")
        .person_fields([PersonField::Names])
        .page_size(100)
        .by_item()
        .map(|p| p.unwrap().resource_name.unwrap())
        .collect()
        .await;
    assert_eq!(listed, names);
    assert_eq!(emu.request_count("people.connections.list", Some(USER)), 3);
}

#[tokio::test]
async fn emulator_faults_surface_as_typed_errors() {
    let (emu, client) = setup().await;
    let names = emu.seed_contacts(USER, 1);
    let get = || {
        client
            .people()
            .get(&names[0])
            .person_fields([PersonField::Names])
            .send()
    };
    emu.add_fault(FaultRule::new(Fault::Status(429)).first(1));
    let e = get().await.unwrap_err();
    assert!(e.is_rate_limited() && e.is_retryable());
    assert_eq!(e.api_error().unwrap().reason(), Some("RATE_LIMIT_EXCEEDED"));
    emu.clear_faults();
    emu.add_fault(FaultRule::new(Fault::Html502).first(1));
    assert_eq!(get().await.unwrap_err().status(), Some(502));
    emu.add_fault(
        FaultRule::new(Fault::TruncatedJson)
            .method("people.get")
            .first(1),
    );
    assert!(get().await.unwrap_err().is_decode());
    emu.add_fault(
        FaultRule::new(Fault::ResetBeforeWrite)
            .method("people.get")
            .first(1),
    );
    assert!(get().await.unwrap_err().is_transport());
    assert!(get().await.is_ok());
}

#[tokio::test]
async fn contact_photos_are_set_served_and_removed() {
    let (emu, client) = setup().await;
    let rn = emu.seed_contacts(USER, 1).remove(0);
    let etag0 = emu.contact(USER, &rn).unwrap()["etag"].clone();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake but well-marked".to_vec();
    let answer = client
        .people()
        .update_contact_photo(
            rn.clone(),
            UpdateContactPhotoRequest::new()
                .set_photo_bytes(png.clone())
                .set_person_fields([PersonField::Photos, PersonField::Metadata]),
        )
        .send()
        .await
        .unwrap();
    let person = answer.person.unwrap();
    let url = person.photos.as_ref().unwrap()[0].url.clone().unwrap();
    assert_ne!(
        person.etag.map(serde_json::Value::from),
        Some(etag0.clone()),
        "the etag changes"
    );
    // The URL serves the photo.
    let served = reqwest::get(&url).await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().to_vec(), png);

    // Not an image: refused, nothing changes.
    let e = client
        .people()
        .update_contact_photo(
            rn.clone(),
            UpdateContactPhotoRequest::new().set_photo_bytes(b"<svg/>".to_vec()),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.rpc_status(), Some("INVALID_ARGUMENT"), "{e}");

    // Deleted: the default photo again, and a new etag.
    let before = emu.contact(USER, &rn).unwrap()["etag"].clone();
    let answer = client
        .people()
        .delete_contact_photo(rn.clone())
        .person_fields([PersonField::Photos])
        .send()
        .await
        .unwrap();
    let photos = answer.person.unwrap().photos.unwrap();
    assert_eq!(photos[0].default, Some(true));
    assert_ne!(emu.contact(USER, &rn).unwrap()["etag"], before);
    assert_eq!(
        reqwest::get(&url).await.unwrap().status(),
        404,
        "the old photo is gone"
    );
    let e = client
        .people()
        .delete_contact_photo("people/c1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404));
}

#[tokio::test]
async fn other_contacts_are_listed_searched_and_copied() {
    let (emu, client) = setup().await;
    let names = emu.seed_other_contacts(USER, 5);
    assert!(names[0].starts_with("otherContacts/c"));

    // Listed page by page, with a sync token at the end.
    let mut pages = client
        .other_contacts()
        .list()
        .read_mask([PersonField::Names, PersonField::EmailAddresses])
        .page_size(2)
        .request_sync_token(true)
        .by_page();
    let (mut seen, mut token) = (Vec::new(), None);
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        seen.extend(page.other_contacts.unwrap_or_default());
        token = page.next_sync_token.or(token);
    }
    assert_eq!(seen.len(), 5);
    assert!(seen[0].names.is_some() && seen[0].phone_numbers.is_none());
    // Only what came since the token.
    emu.insert_other_contact(
        USER,
        &serde_json::json!({"names": [{"displayName": "Newcomer"}], "emailAddresses": [{"value": "new@mail.example"}]}),
    );
    let changes = client
        .other_contacts()
        .list()
        .read_mask([PersonField::Names])
        .sync_token(token.unwrap())
        .send()
        .await
        .unwrap();
    let changed = changes.other_contacts.unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(
        changed[0].names.as_ref().unwrap()[0]
            .display_name
            .as_deref(),
        Some("Newcomer")
    );

    // The read masks the real method allows.
    let e = client
        .other_contacts()
        .list()
        .read_mask([PersonField::Addresses])
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.rpc_status(), Some("INVALID_ARGUMENT"), "{e}");

    // Search: an empty warm-up query, then a prefix.
    let warm = client
        .other_contacts()
        .search()
        .query("")
        .read_mask([PersonField::Names])
        .send()
        .await;
    let found = client
        .other_contacts()
        .search()
        .query("newc")
        .read_mask([PersonField::EmailAddresses])
        .send()
        .await
        .unwrap();
    assert!(warm.unwrap().results.is_none());
    let results = found.results.unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(
        results[0]
            .person
            .as_ref()
            .unwrap()
            .email_addresses
            .as_ref()
            .unwrap()[0]
            .value
            .as_deref(),
        Some("new@mail.example")
    );

    // Copy into my contacts: a new people/c… contact, in myContacts.
    let copied = client
        .other_contacts()
        .copy_other_contact_to_my_contacts_group(
            names[1].clone(),
            CopyOtherContactToMyContactsGroupRequest::new()
                .set_copy_mask([PersonField::Names, PersonField::EmailAddresses]),
        )
        .send()
        .await
        .unwrap();
    let rn = copied.resource_name.unwrap();
    assert!(rn.starts_with("people/c"), "{rn}");
    let stored = emu.contact(USER, &rn).unwrap();
    assert_eq!(
        stored["emailAddresses"][0]["value"],
        "correspondent1@mail.example"
    );
    assert_eq!(
        stored["memberships"][0]["contactGroupMembership"]["contactGroupResourceName"],
        "contactGroups/myContacts"
    );
    let e = client
        .other_contacts()
        .copy_other_contact_to_my_contacts_group(
            names[1].clone(),
            CopyOtherContactToMyContactsGroupRequest::new().set_copy_mask([PersonField::Addresses]),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.rpc_status(), Some("INVALID_ARGUMENT"), "{e}");
}

#[tokio::test]
async fn the_domain_directory_is_listed_and_searched() {
    use google_people_emulator::DirectorySource;
    let (emu, client) = setup().await;
    // alice@example.com's domain.
    for i in 0..5 {
        emu.add_directory_person(
            "example.com",
            DirectorySource::Profile,
            &serde_json::json!({"names": [{"displayName": format!("Colleague {i}")}],
                                "emailAddresses": [{"value": format!("colleague{i}@example.com")}]}),
        );
    }
    emu.add_directory_person(
        "example.com",
        DirectorySource::Contact,
        &serde_json::json!({"names": [{"displayName": "Shared Supplier"}]}),
    );
    emu.add_directory_person(
        "other.example",
        DirectorySource::Profile,
        &serde_json::json!({"names": [{"displayName": "Stranger"}]}),
    );

    let mut pages = client
        .people()
        .list_directory_people()
        .sources([DirectorySourceType::DomainProfile])
        .read_mask([PersonField::Names, PersonField::Metadata])
        .page_size(2)
        .request_sync_token(true)
        .by_page();
    let (mut people, mut token) = (Vec::new(), None);
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        people.extend(page.people.unwrap_or_default());
        token = page.next_sync_token.or(token);
    }
    assert_eq!(people.len(), 5, "profiles of this domain only");
    let changes = client
        .people()
        .list_directory_people()
        .sources([
            DirectorySourceType::DomainProfile,
            DirectorySourceType::DomainContact,
        ])
        .read_mask([PersonField::Names])
        .sync_token(token.unwrap())
        .send()
        .await
        .unwrap();
    assert!(changes.people.is_none(), "nothing changed since the token");

    let found = client
        .people()
        .search_directory_people()
        .query("suppl")
        .sources([DirectorySourceType::DomainContact])
        .read_mask([PersonField::Names])
        .send()
        .await
        .unwrap();
    let found = found.people.unwrap();
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .resource_name
            .as_deref()
            .unwrap()
            .starts_with("people/c")
    );

    // sources is required; a consumer account has no directory.
    let e = client
        .people()
        .list_directory_people()
        .read_mask([PersonField::Names])
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.rpc_status(), Some("INVALID_ARGUMENT"), "{e}");
    let consumer = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token("someone@gmail.com"))
        .build()
        .unwrap();
    let e = consumer
        .people()
        .search_directory_people()
        .query("a")
        .sources([DirectorySourceType::DomainProfile])
        .read_mask([PersonField::Names])
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.rpc_status(), Some("FAILED_PRECONDITION"), "{e}");
}

#[tokio::test]
async fn every_method_of_the_document_is_served() {
    let (emu, _) = setup().await;
    let token = emu.issue_token(USER);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("discovery/people.v1.json").unwrap())
            .unwrap();
    let mut methods = Vec::new();
    let mut stack = vec![&doc];
    while let Some(node) = stack.pop() {
        if let Some(r) = node["resources"].as_object() {
            stack.extend(r.values());
        }
        methods.extend(
            node["methods"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values()),
        );
    }
    assert_eq!(methods.len(), 24);
    let http = reqwest::Client::new();
    for m in methods {
        let path = m["path"].as_str().unwrap().replace(
            "{+resourceName}",
            match m["id"].as_str().unwrap() {
                id if id.starts_with("people.contactGroups") => "contactGroups/x",
                id if id.starts_with("people.otherContacts") => "otherContacts/c1",
                _ => "people/c1",
            },
        );
        let method =
            reqwest::Method::from_bytes(m["httpMethod"].as_str().unwrap().as_bytes()).unwrap();
        let resp = http
            .request(method, format!("{}{path}", emu.base_url()))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body = resp.text().await.unwrap();
        assert!(
            !body.contains("Method not found"),
            "{}: {status} {body}",
            m["id"]
        );
    }
}

#[tokio::test]
async fn contact_groups_sync_tokens_and_search_warm_up() {
    let (emu, client) = setup().await;
    let create = |name: &str| {
        client
            .contact_groups()
            .create(
                CreateContactGroupRequest::new()
                    .set_contact_group(ContactGroup::new().set_name(name)),
            )
            .send()
    };
    let keep = create("Keep").await.unwrap();
    let gone = create("Gone").await.unwrap();
    let token = client
        .contact_groups()
        .list()
        .send()
        .await
        .unwrap()
        .next_sync_token
        .unwrap();
    let fresh = create("Fresh").await.unwrap();
    client
        .contact_groups()
        .delete(gone.resource_name.clone().unwrap())
        .send()
        .await
        .unwrap();
    let changes = client
        .contact_groups()
        .list()
        .sync_token(token)
        .send()
        .await
        .unwrap()
        .contact_groups
        .unwrap();
    let names: Vec<(Option<String>, bool)> = changes
        .iter()
        .map(|g| {
            (
                g.resource_name.clone(),
                g.metadata.as_ref().and_then(|m| m.deleted).unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(changes.len(), 2, "{names:?}");
    assert!(names.contains(&(fresh.resource_name.clone(), false)));
    assert!(names.contains(&(gone.resource_name.clone(), true)));
    assert!(!names.iter().any(|(n, _)| *n == keep.resource_name));

    // searchContacts answers from a cache an empty query refreshes, as documented.
    emu.insert_contact(
        USER,
        &serde_json::json!({"names": [{"givenName": "Searchable"}]}),
    );
    let search = |q: &'static str| {
        client
            .people()
            .search_contacts()
            .query(q)
            .read_mask([PersonField::Names])
            .send()
    };
    assert!(
        search("searchab").await.unwrap().results.is_none(),
        "not before a warm-up"
    );
    search("").await.unwrap();
    assert_eq!(search("searchab").await.unwrap().results.unwrap().len(), 1);
}
