include!("../../skeleton.rs");

use google_people1::api::{BatchUpdateContactsRequest, Name, Person};
use google_people1::{FieldMask, PeopleService, hyper_rustls, hyper_util};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    own_work(&args).await?;
    // The same call the one-call binaries make: one batch_update_contacts.
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(
            hyper_rustls::HttpsConnectorBuilder::new()
                .with_native_roots()?
                .https_or_http()
                .enable_http2()
                .build(),
        );
    let mut hub = PeopleService::new(client, "ya29.static-token".to_string());
    if let Some(url) = &args.people {
        let url = if url.ends_with('/') { url.clone() } else { format!("{url}/") };
        hub.base_url(url.clone());
        hub.root_url(url);
    }
    let person = Person {
        etag: Some("%EgUBAgMEBQ00000000=".into()),
        names: Some(vec![Name {
            given_name: Some("Given".into()),
            family_name: Some("Family".into()),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let body = BatchUpdateContactsRequest {
        contacts: Some([("people/c1000000000000000000".to_string(), person)].into()),
        update_mask: Some(FieldMask::new(&["names"])),
        read_mask: Some(FieldMask::new(&["names"])),
        sources: None,
    };
    let (_, resp) = hub.people().batch_update_contacts(body).doit().await?;
    println!("{}", resp.update_result.map_or(0, |m| m.len()));
    Ok(())
}
