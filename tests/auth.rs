//! Auth against the emulator's token endpoint, over HTTP: every provider end to end, ADC
//! discovery, single flight, early refresh, 401 → refresh → retry once, revoked credentials and
//! redaction of every secret.

use std::sync::Arc;
use std::time::Duration;

use google_people::auth::*;
use google_people::runtime::{ErrorKind, TokenSource};
use google_people::*;
use google_people_emulator::{
    CONTACTS_SCOPE as EMU_CONTACTS, Config, Emulator, Fault, FaultRule,
    TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM, TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM,
};
use serde_json::json;

const SA: &str = "sync@project.iam.gserviceaccount.com";

fn key_json(emu: &Emulator) -> String {
    json!({
        "type": "service_account",
        "project_id": "project",
        "private_key_id": "k1",
        "private_key": TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM,
        "client_email": SA,
        "token_uri": emu.token_url(),
    })
    .to_string()
}

fn client_for(emu: &Emulator, tokens: Arc<dyn TokenSource>) -> Client {
    Client::builder()
        .base_url(emu.base_url())
        .token_source_arc(tokens)
        .build()
        .unwrap()
}

async fn create(client: &Client, name: &str) -> Result<Person, Error> {
    client
        .people()
        .create_contact(Person::new().set_names([Name::new().set_given_name(name)]))
        .send()
        .await
}

#[tokio::test]
async fn authorized_user_refresh_token() {
    let emu = Emulator::start().await.unwrap();
    emu.register_refresh_token(
        "client-1",
        "s3cr3t-client",
        "1//refresh-secret",
        "bob@example.com",
        &[EMU_CONTACTS],
    );
    let creds = AuthorizedUser::new("client-1", "s3cr3t-client", "1//refresh-secret")
        .with_token_uri(emu.token_url())
        .unwrap();
    let client = client_for(&emu, Arc::new(creds.clone()));
    create(&client, "Via refresh token").await.unwrap();
    create(&client, "Reused token").await.unwrap();
    assert_eq!(emu.contacts("bob@example.com").len(), 2);
    assert_eq!(
        emu.request_count("oauth2.token", None),
        1,
        "the token is cached"
    );

    // Revoked: a typed error with Google's error, for this and every later call.
    emu.revoke_refresh_token("1//refresh-secret");
    creds.invalidate(&creds.token().await.unwrap());
    let e = creds.token().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth);
    let oauth = e.oauth_error().unwrap();
    assert_eq!(
        (oauth.http_status, oauth.error.as_str()),
        (400, "invalid_grant")
    );
    assert_eq!(
        oauth.description.as_deref(),
        Some("Token has been expired or revoked.")
    );
    for shown in [format!("{creds:?}"), format!("{e:?}"), e.to_string()] {
        assert!(
            !shown.contains("s3cr3t-client") && !shown.contains("refresh-secret"),
            "{shown}"
        );
    }

    let wrong = AuthorizedUser::new("client-1", "bad", "1//x")
        .with_token_uri(emu.token_url())
        .unwrap();
    assert!(wrong.token().await.unwrap_err().oauth_error().is_some());
    assert_eq!(
        AuthorizedUser::new("a", "b", "c")
            .with_token_uri("http://example.com/token")
            .unwrap_err()
            .kind(),
        ErrorKind::Config
    );
}

#[tokio::test]
async fn service_account_jwt_with_subject_selects_the_user() {
    let emu = Emulator::start().await.unwrap();
    emu.register_service_account(SA, TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM, true)
        .unwrap();
    let key = ServiceAccountKey::from_json(&key_json(&emu)).unwrap();
    let as_carol = ServiceAccount::new(key.clone(), &[CONTACTS_SCOPE]).subject("carol@example.com");
    create(&client_for(&emu, Arc::new(as_carol)), "For Carol")
        .await
        .unwrap();
    assert_eq!(emu.contacts("carol@example.com").len(), 1);
    let as_itself = ServiceAccount::new(key.clone(), &[]);
    create(&client_for(&emu, Arc::new(as_itself)), "For the account")
        .await
        .unwrap();
    assert_eq!(emu.contacts(SA).len(), 1);

    // A pool of subjects: one key, a cached token per user, bounded.
    let pool = DelegatedPool::new(key.clone(), &[CONTACTS_SCOPE], 2, Duration::from_secs(600));
    for user in [
        "u1@example.com",
        "u2@example.com",
        "u1@example.com",
        "u3@example.com",
    ] {
        create(&client_for(&emu, pool.for_subject(user)), "pooled")
            .await
            .unwrap();
    }
    assert_eq!(
        pool.len(),
        2,
        "bounded: the least recently used subject was evicted"
    );
    assert_eq!(emu.contacts("u1@example.com").len(), 2);

    let shown = format!("{key:?} {pool:?}");
    assert!(
        !shown.contains("PRIVATE KEY")
            && !shown.contains(&TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM[40..80]),
        "{shown}"
    );
}

#[tokio::test]
async fn delegation_without_permission_is_a_typed_error() {
    let emu = Emulator::start().await.unwrap();
    emu.register_service_account(SA, TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM, false)
        .unwrap();
    let key = ServiceAccountKey::from_json(&key_json(&emu)).unwrap();
    let e = ServiceAccount::new(key, &[CONTACTS_SCOPE])
        .subject("dave@example.com")
        .token()
        .await
        .unwrap_err();
    assert_eq!(e.oauth_error().unwrap().error, "unauthorized_client");
}

#[test]
fn bad_key_files_are_clear_and_never_echo_the_key() {
    let pem = TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM;
    let cases = [
        ("{not json", "not valid JSON"),
        (r#"{"type": "authorized_user"}"#, "expected \"service_account\""),
        (r#"{"type": "service_account", "private_key": "x"}"#, "client_email"),
        (&*json!({"type": "service_account", "client_email": "a@b", "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}).to_string(), "does not parse"),
        (&*json!({"type": "service_account", "client_email": "a@b", "private_key": pem.replace('M', "*")}).to_string(), "not a PEM block"),
    ];
    for (json, want) in cases {
        let e = ServiceAccountKey::from_json(json).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        let shown = format!("{e} {e:?}");
        assert!(shown.contains(want), "{shown}");
        assert!(
            !shown.contains("BEGIN PRIVATE KEY") && !shown.contains(&pem[40..70]),
            "{shown}"
        );
    }
}

#[tokio::test]
async fn metadata_server_provider() {
    let mut c = Config::default();
    c.metadata_user = Some("vm@example.com".into());
    let emu = Emulator::start_with(c).await.unwrap();
    let md = MetadataServer::at_base(&emu.base_url());
    create(&client_for(&emu, Arc::new(md)), "From a VM")
        .await
        .unwrap();
    assert_eq!(emu.contacts("vm@example.com").len(), 1);
}

#[tokio::test]
async fn adc_follows_googles_order() {
    let emu = Emulator::start().await.unwrap();
    emu.register_service_account(SA, TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM, true)
        .unwrap();
    emu.register_refresh_token(
        "cid",
        "cs",
        "rt",
        "gcloud-user@example.com",
        &[EMU_CONTACTS],
    );
    let dir = std::env::temp_dir().join(format!("gp-adc-{}", std::process::id()));
    let gcloud = dir.join("home/.config/gcloud");
    std::fs::create_dir_all(&gcloud).unwrap();
    let sa_file = dir.join("sa.json");
    std::fs::write(&sa_file, key_json(&emu)).unwrap();
    std::fs::write(
        gcloud.join("application_default_credentials.json"),
        json!({"type": "authorized_user", "client_id": "cid", "client_secret": "cs", "refresh_token": "rt", "token_uri": emu.token_url()}).to_string(),
    )
    .unwrap();
    let home = dir.join("home").display().to_string();
    let sa = sa_file.display().to_string();

    let env = |k: &str| match k {
        "GOOGLE_APPLICATION_CREDENTIALS" => Some(sa.clone()),
        "HOME" => Some(home.clone()),
        _ => None,
    };
    let (tokens, source) = Adc::discover_in(&env, &[CONTACTS_SCOPE]).unwrap();
    assert_eq!(source, AdcSource::EnvVar(sa_file.clone()));
    create(&client_for(&emu, tokens), "env").await.unwrap();
    assert_eq!(emu.contacts(SA).len(), 1);

    let env = |k: &str| (k == "HOME").then(|| home.clone());
    let (tokens, source) = Adc::discover_in(&env, &[CONTACTS_SCOPE]).unwrap();
    assert!(matches!(source, AdcSource::WellKnownFile(_)));
    create(&client_for(&emu, tokens), "gcloud").await.unwrap();
    assert_eq!(emu.contacts("gcloud-user@example.com").len(), 1);

    let host = emu.addr().to_string();
    let env = |k: &str| (k == "GCE_METADATA_HOST").then(|| host.clone());
    let (_, source) = Adc::discover_in(&env, &[]).unwrap();
    assert_eq!(source, AdcSource::MetadataServer);

    let env = |k: &str| {
        (k == "GOOGLE_APPLICATION_CREDENTIALS").then(|| "/nonexistent/creds.json".to_string())
    };
    assert_eq!(
        Adc::discover_in(&env, &[]).err().unwrap().kind(),
        ErrorKind::Config
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refresh_for_a_hundred_concurrent_callers() {
    let emu = Emulator::start().await.unwrap();
    emu.register_refresh_token("cid", "cs", "rt", "eve@example.com", &[EMU_CONTACTS]);
    let creds = Arc::new(
        AuthorizedUser::new("cid", "cs", "rt")
            .with_token_uri(emu.token_url())
            .unwrap(),
    );
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let c = creds.clone();
            tokio::spawn(async move { c.token().await.map(|t| t.secret().to_string()) })
        })
        .collect();
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.unwrap().unwrap());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "everyone got the same token");
    assert_eq!(
        emu.request_count("oauth2.token", None),
        1,
        "one token request for 100 callers"
    );

    // A failing refresh is reported to all waiters, then the next call tries again.
    emu.revoke_refresh_token("rt");
    creds.invalidate(&google_people::runtime::AccessToken::new(tokens[0].clone()));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let c = creds.clone();
            tokio::spawn(async move { c.token().await })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().is_err());
    }
    let failed_requests = emu.request_count("oauth2.token", None) - 1;
    assert!(
        failed_requests < 20,
        "waiters shared refreshes: {failed_requests} requests for 20 callers"
    );
    emu.register_refresh_token("cid", "cs", "rt", "eve@example.com", &[EMU_CONTACTS]);
    creds
        .token()
        .await
        .expect("not poisoned: a later call succeeds");
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire() {
    let mut c = Config::default();
    c.token_ttl = Duration::from_secs(2);
    let emu = Emulator::start_with(c).await.unwrap();
    emu.register_refresh_token("cid", "cs", "rt", "f@example.com", &[EMU_CONTACTS]);
    let creds = AuthorizedUser::new("cid", "cs", "rt")
        .with_token_uri(emu.token_url())
        .unwrap()
        .with_margin(Duration::from_millis(1500));
    let first = creds.token().await.unwrap();
    assert_eq!(creds.token().await.unwrap(), first, "reused while fresh");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = creds.token().await.unwrap();
    assert_ne!(
        second, first,
        "refreshed at half the lifetime, before expiry"
    );
    assert_eq!(emu.request_count("oauth2.token", None), 2);
}

#[tokio::test]
async fn an_api_401_refreshes_and_retries_once() {
    let emu = Emulator::start().await.unwrap();
    emu.register_refresh_token("cid", "cs", "rt", "g@example.com", &[EMU_CONTACTS]);
    let creds = Arc::new(
        AuthorizedUser::new("cid", "cs", "rt")
            .with_token_uri(emu.token_url())
            .unwrap(),
    );
    let client = client_for(&emu, creds.clone());
    create(&client, "first").await.unwrap();
    // The server forgets the token (revoked, or expired early): one 401, a refresh, one retry.
    emu.revoke_token(creds.token().await.unwrap().secret());
    create(&client, "second").await.unwrap();
    assert_eq!(emu.contacts("g@example.com").len(), 2);
    assert_eq!(emu.request_count("oauth2.token", None), 2);

    // A server that always says 401: exactly two attempts, then the error.
    emu.add_fault(FaultRule::new(Fault::Status(401)).method("people.get"));
    let e = client
        .people()
        .get("people/me")
        .person_fields([PersonField::Names])
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert_eq!(
        emu.request_count("people.get", None),
        2,
        "retried once, not twice"
    );
}

#[tokio::test]
async fn installed_app_flow_checks_state_and_pkce() {
    let emu = Emulator::start().await.unwrap();
    emu.register_oauth_client("desktop-id", "desktop-secret");
    emu.set_consent_user("henry@example.com");
    let app = InstalledApp::new("desktop-id", "desktop-secret", &[CONTACTS_SCOPE])
        .with_endpoints(&emu.authorize_url(), &emu.token_url())
        .unwrap();
    assert!(!format!("{app:?}").contains("desktop-secret"));
    let (tx, rx) = tokio::sync::oneshot::channel::<String>();
    let flow = tokio::spawn(async move {
        app.authorize(move |url| tx.send(url.to_string()).unwrap())
            .await
    });
    let consent_url = rx.await.unwrap();
    let parsed = reqwest::Url::parse(&consent_url).unwrap();
    let param = |k: &str| {
        parsed
            .query_pairs()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.to_string())
    };
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert!(param("state").is_some_and(|s| s.len() >= 20));
    let redirect = param("redirect_uri").unwrap();
    assert!(redirect.starts_with("http://127.0.0.1:"));

    // Playing the browser: a forged redirect with a wrong state is refused and the flow goes on...
    google_people::runtime::install_crypto_provider();
    let browser = reqwest::Client::new();
    let forged = browser
        .get(format!("{redirect}?code=4/evil&state=wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert!(!flow.is_finished());
    // ...and consent (the emulator redirects back with the code and the right state) completes it.
    let page = browser.get(&consent_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let authorized = flow.await.unwrap().unwrap();
    create(
        &client_for(&emu, Arc::new(authorized.credentials.clone())),
        "consented",
    )
    .await
    .unwrap();
    assert_eq!(emu.contacts("henry@example.com").len(), 1);
    assert!(!format!("{authorized:?}").contains(authorized.refresh_token.expose()));

    // The saved file is gcloud's authorized_user format, owner-only, and works with ADC.
    let path = std::env::temp_dir().join(format!("gp-authorized-{}.json", std::process::id()));
    authorized.save(&path).unwrap();
    #[cfg(unix)]
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions())
            & 0o777,
        0o600
    );
    let saved = path.display().to_string();
    let env = |k: &str| (k == "GOOGLE_APPLICATION_CREDENTIALS").then(|| saved.clone());
    let (tokens, _) = Adc::discover_in(&env, &[]).unwrap();
    create(&client_for(&emu, tokens), "from the saved file")
        .await
        .unwrap();
    assert_eq!(emu.contacts("henry@example.com").len(), 2);
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn a_token_endpoints_huge_or_odd_lifetime_never_panics() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    // A token endpoint answering one body per connection, in order.
    let bodies = [
        r#"{"access_token": "ya29.a", "expires_in": 18446744073709551615}"#,
        r#"{"access_token": "ya29.b", "expires_in": -5}"#,
        r#"{"access_token": "ya29.c", "expires_in": "soon"}"#,
        r#"{"access_token": "ya29.d", "expires_in": 0}"#,
    ];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    tokio::spawn(async move {
        for body in bodies {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0; 4096];
            let _ = sock.read(&mut buf).await;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(reply.as_bytes()).await;
        }
    });
    for expected in ["ya29.a", "ya29.b", "ya29.c", "ya29.d"] {
        let creds = AuthorizedUser::new("c", "s", "r")
            .with_token_uri(&url)
            .unwrap();
        let token = creds.token().await.unwrap();
        assert_eq!(token.secret(), expected);
        // Cached, and asked again without a panic in the cache's clock.
        let _ = creds.token().await;
    }
}

#[tokio::test]
async fn adc_off_google_cloud_fails_fast_and_says_what_it_tried() {
    // A "metadata server" that accepts connections and never answers (as a black hole would).
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = silent.local_addr().unwrap().to_string();
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            held.push(sock);
        }
    });
    let home = std::env::temp_dir().join(format!("adc-home-{}", std::process::id()));
    let (home_s, host_s) = (home.display().to_string(), host.clone());
    let env = move |k: &str| match k {
        "HOME" => Some(home_s.clone()),
        "GCE_METADATA_HOST" => Some(host_s.clone()),
        _ => None,
    };
    let start = std::time::Instant::now();
    let e = Adc::discover_checked_in(&env, &[CONTACTS_SCOPE])
        .await
        .expect_err("no credentials anywhere");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(e.kind(), ErrorKind::Auth);
    let msg = e.to_string();
    for tried in [
        "GOOGLE_APPLICATION_CREDENTIALS",
        "application_default_credentials.json",
        "metadata server",
        host.as_str(),
    ] {
        assert!(msg.contains(tried), "{tried}: {msg}");
    }

    // On Google Cloud (the emulator's metadata endpoint answers), the metadata server is chosen.
    let mut config = Config::default();
    config.metadata_user = Some("vm@example.com".into());
    let emu = Emulator::start_with(config).await.unwrap();
    let meta = emu
        .base_url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let env = move |k: &str| (k == "GCE_METADATA_HOST").then(|| meta.clone());
    let (tokens, source) = Adc::discover_checked_in(&env, &[CONTACTS_SCOPE])
        .await
        .unwrap();
    assert_eq!(source, AdcSource::MetadataServer);
    assert!(!tokens.token().await.unwrap().secret().is_empty());
}
