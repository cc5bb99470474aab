//! A service account with domain-wide delegation updating several users' contacts: one key, a
//! token per user (cached in a [`DelegatedPool`]), users in parallel, each user's requests one
//! at a time.
//!
//! ```text
//! cargo run --example delegated                                   # embedded emulator
//! cargo run --example delegated -- --live --credentials key.json --users a@your.domain,b@your.domain
//! cargo run --example delegated -- --keyless                      # no key: IAM signJwt
//! cargo run --example delegated -- --live --keyless sync@project.iam.gserviceaccount.com --users ...
//! ```
//!
//! Live, the service account needs domain-wide delegation for the contacts scope in the Admin
//! console. With `--keyless`, no key file exists: application default credentials (the metadata
//! server on Cloud Run, GKE, GCE) need the Token Creator role on the account, and IAM's `signJwt`
//! signs each user's assertion. Each user's contacts get the nickname given by `--nickname`
//! (default "synced").

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use google_people::auth::{
    Adc, CLOUD_PLATFORM_SCOPE, CONTACTS_SCOPE, DelegatedPool, IamSigner, MetadataServer,
    ServiceAccountKey,
};
use google_people::batch::{BatchUpdate, UserJob, run_users};
use google_people::runtime::TokenSource;
use google_people::{Client, Nickname, Person, PersonField};
use google_people_emulator::{
    Emulator, TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM, TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM,
};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let nickname = arg("--nickname").unwrap_or_else(|| "synced".into());
    let live = std::env::args().any(|a| a == "--live");
    let keyless = std::env::args().any(|a| a == "--keyless");
    let mut emulator = None;
    let (pool, users, base_url) = if live && keyless {
        let sa = arg("--keyless").ok_or("--live --keyless needs the service account's email")?;
        let users: Vec<String> = arg("--users")
            .ok_or("--live needs --users a@your.domain,b@your.domain")?
            .split(',')
            .map(str::to_owned)
            .collect();
        let (source, found) = Adc::discover_checked(&[CLOUD_PLATFORM_SCOPE]).await?;
        println!(
            "Live People API, keyless as {sa} (source: {found:?}): {} users.",
            users.len()
        );
        let signer = IamSigner::new(source, &sa)?;
        (
            DelegatedPool::keyless(signer, &[CONTACTS_SCOPE], 64, Duration::from_secs(3600)),
            users,
            None,
        )
    } else if live {
        let path = arg("--credentials").ok_or("--live needs --credentials KEY.json")?;
        let users: Vec<String> = arg("--users")
            .ok_or("--live needs --users a@your.domain,b@your.domain")?
            .split(',')
            .map(str::to_owned)
            .collect();
        println!("Live People API: {} users.", users.len());
        let key = ServiceAccountKey::from_file(path)?;
        (
            DelegatedPool::new(key, &[CONTACTS_SCOPE], 64, Duration::from_secs(3600)),
            users,
            None,
        )
    } else if keyless {
        println!(
            "No --live: the embedded emulator plays Google: this program runs as \
             runner@project.iam.gserviceaccount.com (its metadata server), which may have IAM sign \
             for sync@, allowed to act for 5 users of 250 contacts each. No key file anywhere."
        );
        let mut config = google_people_emulator::Config::default();
        config.metadata_user = Some("runner@project.iam.gserviceaccount.com".into());
        let emu = Emulator::start_with(config).await?;
        let sa = "sync@project.iam.gserviceaccount.com";
        emu.register_keyless_service_account(sa, true);
        emu.grant_token_creator("runner@project.iam.gserviceaccount.com", sa);
        let users: Vec<String> = (1..=5).map(|i| format!("user{i}@example.com")).collect();
        for u in &users {
            emu.seed_contacts(u, 250);
        }
        let source = Arc::new(MetadataServer::at_base(&emu.base_url()));
        let signer = IamSigner::new(source, sa)?
            .with_iam_endpoint(&emu.base_url())?
            .with_token_uri(&emu.token_url())?;
        let base = emu.base_url();
        emulator = Some(emu);
        (
            DelegatedPool::keyless(signer, &[CONTACTS_SCOPE], 64, Duration::from_secs(3600)),
            users,
            Some(base),
        )
    } else {
        println!(
            "No --live: the embedded People API emulator plays Google, with a test service account \
             allowed to act for 5 users of 250 contacts each."
        );
        let emu = Emulator::start().await?;
        let sa = "sync@project.iam.gserviceaccount.com";
        emu.register_service_account(sa, TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM, true)?;
        let users: Vec<String> = (1..=5).map(|i| format!("user{i}@example.com")).collect();
        for u in &users {
            emu.seed_contacts(u, 250);
        }
        let key = ServiceAccountKey::from_json(
            &serde_json::json!({
                "type": "service_account",
                "private_key": TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM,
                "client_email": sa,
                "token_uri": emu.token_url(),
            })
            .to_string(),
        )?;
        let base = emu.base_url();
        emulator = Some(emu);
        (
            DelegatedPool::new(key, &[CONTACTS_SCOPE], 64, Duration::from_secs(3600)),
            users,
            Some(base),
        )
    };

    let mut jobs = Vec::new();
    for user in &users {
        let tokens: Arc<dyn TokenSource> = pool.for_subject(user);
        let mut builder = Client::builder().token_source_arc(tokens);
        if let Some(base) = &base_url {
            builder = builder.base_url(base);
        }
        let client = builder.build()?;
        // Each user's contacts, as listed with their etags, with the new nickname.
        let mut items: Vec<(String, Person)> = Vec::new();
        let mut listing = client
            .people()
            .connections()
            .list("people/me")
            .person_fields([PersonField::Nicknames])
            .page_size(1000)
            .by_item();
        while let Some(person) = listing.next().await {
            let mut person = person?;
            let rn = person.resource_name.clone().unwrap_or_default();
            person.nicknames = Some(vec![Nickname::new().set_value(nickname.clone())]);
            items.push((rn, person));
        }
        jobs.push(UserJob {
            user: user.clone(),
            job: BatchUpdate::new(&client, [PersonField::Nicknames])?,
            items,
        });
    }

    let mut results = run_users(jobs, 4).await;
    results.sort_by(|a, b| a.0.cmp(&b.0));
    for (user, outcomes, summary) in &results {
        println!(
            "{user}: {} updated, {} failed, {} requests, {} retries",
            summary.succeeded, summary.failed, summary.requests, summary.retries
        );
        for o in outcomes.iter().filter(|o| !o.is_updated()).take(3) {
            println!("  {}: {:?}", o.requested(), o.error());
        }
    }
    if let Some(emu) = &emulator {
        let tokens = emu.request_count("oauth2.token", None);
        println!("Token requests: {tokens} (one per user, then cached).");
        if keyless {
            println!(
                "signJwt requests: {}, metadata token requests: {}.",
                emu.request_count("iam.signJwt", None),
                emu.request_count("metadata.token", None)
            );
        }
    }
    Ok(())
}
