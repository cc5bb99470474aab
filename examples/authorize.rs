//! Installed-app consent: get a refresh token for your own Google account and save it.
//!
//! ```text
//! cargo run --example authorize                      # against the embedded emulator
//! cargo run --example authorize -- --live CLIENT_ID CLIENT_SECRET [--out FILE]
//! ```
//!
//! With `--live`, use the client ID and secret of an OAuth client of type "Desktop app"; the
//! example prints Google's consent URL, waits for the redirect on 127.0.0.1 and saves the refresh
//! token as `authorized_user` JSON (`GOOGLE_APPLICATION_CREDENTIALS=FILE` then finds it). Without
//! it, an emulator plays Google and the example plays the browser, so it runs offline.

use std::path::PathBuf;

use google_people::auth::{CONTACTS_SCOPE, InstalledApp};
use google_people::{Client, PersonField};
use google_people_emulator::Emulator;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("google-people-authorized-user.json"));

    if let Some(i) = args.iter().position(|a| a == "--live") {
        let (Some(id), Some(secret)) = (args.get(i + 1), args.get(i + 2)) else {
            eprintln!(
                "usage: cargo run --example authorize -- --live CLIENT_ID CLIENT_SECRET [--out FILE]"
            );
            std::process::exit(2);
        };
        let app = InstalledApp::new(id.as_str(), secret.as_str(), &[CONTACTS_SCOPE]);
        let authorized = app
            .authorize(|url| println!("Open this URL in your browser and consent:\n\n  {url}\n"))
            .await?;
        authorized.save(&out)?;
        println!(
            "Saved the refresh token to {} (keep it secret).",
            out.display()
        );
        return Ok(());
    }

    println!(
        "No --live: running against the embedded People API emulator (no Google account needed)."
    );
    let emu = Emulator::start().await?;
    emu.register_oauth_client("desktop-client", "desktop-secret");
    emu.set_consent_user("you@example.com");
    let app = InstalledApp::new("desktop-client", "desktop-secret", &[CONTACTS_SCOPE])
        .with_endpoints(&emu.authorize_url(), &emu.token_url())?;
    google_people::runtime::install_crypto_provider();
    let authorized = app
        .authorize(|url| {
            println!("Consent URL: {url}");
            // Play the browser: follow the consent page's redirect back to the listener.
            let url = url.to_string();
            tokio::spawn(async move {
                let _ = reqwest::get(url).await;
            });
        })
        .await?;
    authorized.save(&out)?;
    println!("Saved the refresh token to {}.", out.display());

    let client = Client::builder()
        .base_url(emu.base_url())
        .token_source(authorized.credentials)
        .build()?;
    let me = client
        .people()
        .get("people/me")
        .person_fields([PersonField::Names])
        .send()
        .await?;
    println!(
        "Signed in as {}.",
        me.names.unwrap_or_default()[0]
            .display_name
            .clone()
            .unwrap_or_default()
    );
    Ok(())
}
