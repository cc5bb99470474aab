include!("../../skeleton.rs");

use google_people::{BatchUpdateContactsRequest, Client, Name, Person, PersonField};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    own_work(&args).await?;
    // The same call the one-call binaries make: one batch_update_contacts.
    let mut builder = Client::builder().access_token("ya29.static-token");
    if let Some(url) = &args.people {
        builder = builder.base_url(url);
    }
    let client = builder.build()?;
    let person = Person::new()
        .set_etag("%EgUBAgMEBQ00000000=")
        .set_names([Name::new().set_given_name("Given").set_family_name("Family")]);
    let body = BatchUpdateContactsRequest::new()
        .set_contacts([("people/c1000000000000000000".to_string(), person)])
        .set_update_mask([PersonField::Names])
        .set_read_mask([PersonField::Names]);
    let resp = client.people().batch_update_contacts(body).send().await?;
    println!("{}", resp.update_result.map_or(0, |m| m.len()));
    Ok(())
}
