//! Auth without key files, against the emulator's metadata server, IAM Credentials API, STS and
//! token endpoint over HTTP: keyless domain-wide delegation (signJwt), a pool of subjects sharing
//! one source credential, impersonation through delegates, workload identity federation, typed
//! errors naming the failed step, and redaction.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use google_people::auth::*;
use google_people::runtime::{AuthStep, ErrorKind, StaticToken, TokenSource};
use google_people::*;
use google_people_emulator::{
    CLOUD_PLATFORM_SCOPE as EMU_CLOUD, Config, Emulator, federated_principal,
};
use serde_json::json;

const RUNNER: &str = "runner@project.iam.gserviceaccount.com";
const SYNC_SA: &str = "sync@project.iam.gserviceaccount.com";
const AUDIENCE: &str =
    "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/ci/providers/github";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const CI_SUBJECT: &str = "repo:acme/sync:ref:refs/heads/main";

/// An emulator whose metadata server hands out tokens of `RUNNER` (Cloud Run's identity).
async fn on_cloud_run() -> Emulator {
    let mut c = Config::default();
    c.metadata_user = Some(RUNNER.into());
    Emulator::start_with(c).await.unwrap()
}

fn signer(emu: &Emulator, source: Arc<dyn TokenSource>, account: &str) -> IamSigner {
    IamSigner::new(source, account)
        .unwrap()
        .with_iam_endpoint(&emu.base_url())
        .unwrap()
        .with_token_uri(&emu.token_url())
        .unwrap()
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

/// A CI provider's OIDC token (the emulator's STS checks issuer, subject and expiry).
fn oidc_token(issuer: &str, subject: &str) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.c2lnbmF0dXJl",
        part(json!({"alg": "RS256", "typ": "JWT"})),
        part(json!({"iss": issuer, "sub": subject, "aud": AUDIENCE, "exp": exp}))
    )
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gp-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn keyless_delegation_end_to_end() {
    let emu = on_cloud_run().await;
    emu.register_keyless_service_account(SYNC_SA, true);
    emu.grant_token_creator(RUNNER, SYNC_SA);
    let metadata: Arc<dyn TokenSource> = Arc::new(MetadataServer::at_base(&emu.base_url()));
    let alice = ServiceAccount::keyless(signer(&emu, metadata, SYNC_SA), &[CONTACTS_SCOPE])
        .subject("alice@example.com");
    let client = client_for(&emu, Arc::new(alice));
    create(&client, "Keyless").await.unwrap();
    create(&client, "Again").await.unwrap();

    assert_eq!(emu.contacts("alice@example.com").len(), 2);
    assert!(emu.contacts(SYNC_SA).is_empty() && emu.contacts(RUNNER).is_empty());
    assert_eq!(emu.request_count("metadata.token", None), 1);
    assert_eq!(emu.request_count("iam.signJwt", Some(RUNNER)), 1);
    assert_eq!(emu.request_count("oauth2.token", None), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_of_fifty_subjects_signs_once_per_subject() {
    let emu = on_cloud_run().await;
    emu.register_keyless_service_account(SYNC_SA, true);
    emu.grant_token_creator(RUNNER, SYNC_SA);
    let metadata: Arc<dyn TokenSource> = Arc::new(MetadataServer::at_base(&emu.base_url()));
    let pool = Arc::new(DelegatedPool::keyless(
        signer(&emu, metadata, SYNC_SA),
        &[CONTACTS_SCOPE],
        100,
        Duration::from_secs(600),
    ));
    let base = emu.base_url();
    let mut tasks = Vec::new();
    for u in 0..50 {
        // Four concurrent callers per subject share its token.
        for _ in 0..4 {
            let (pool, base) = (pool.clone(), base.clone());
            tasks.push(tokio::spawn(async move {
                let user = format!("user{u}@example.com");
                let client = Client::builder()
                    .base_url(base)
                    .token_source_arc(pool.for_subject(&user))
                    .build()
                    .unwrap();
                create(&client, "Pooled").await.map(|_| ())
            }));
        }
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    for u in 0..50 {
        assert_eq!(emu.contacts(&format!("user{u}@example.com")).len(), 4);
    }
    assert_eq!(pool.len(), 50);
    assert_eq!(emu.request_count("metadata.token", None), 1);
    assert_eq!(emu.request_count("iam.signJwt", None), 50);
    assert_eq!(emu.request_count("oauth2.token", None), 50);
}

#[tokio::test]
async fn each_failed_step_is_named() {
    let emu = on_cloud_run().await;
    emu.register_keyless_service_account(SYNC_SA, true);
    emu.register_keyless_service_account("nodelegation@project.iam.gserviceaccount.com", false);
    emu.grant_token_creator(RUNNER, "nodelegation@project.iam.gserviceaccount.com");
    emu.grant_token_creator(RUNNER, "ghost@project.iam.gserviceaccount.com");
    let metadata: Arc<dyn TokenSource> = Arc::new(MetadataServer::at_base(&emu.base_url()));
    let token_of = |account: &str| {
        ServiceAccount::keyless(signer(&emu, metadata.clone(), account), &[])
            .subject("alice@example.com")
    };

    // The runner has no Token Creator grant on SYNC_SA.
    let err = token_of(SYNC_SA).token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.auth_step(), Some(AuthStep::SignJwt));
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.rpc_status(), Some("PERMISSION_DENIED"));
    assert!(err.to_string().starts_with("IAM signJwt: "), "{err}");

    // An account that does not exist.
    let err = token_of("ghost@project.iam.gserviceaccount.com")
        .token()
        .await
        .unwrap_err();
    assert_eq!(err.auth_step(), Some(AuthStep::SignJwt));
    assert_eq!(err.status(), Some(404));

    // Signed, but the account is not allowed domain-wide delegation for this subject.
    let err = token_of("nodelegation@project.iam.gserviceaccount.com")
        .token()
        .await
        .unwrap_err();
    assert_eq!(err.auth_step(), Some(AuthStep::TokenExchange));
    assert_eq!(err.oauth_error().unwrap().error, "unauthorized_client");

    // The source credentials themselves fail (no metadata server here).
    let off_cloud = Emulator::start().await.unwrap();
    let md: Arc<dyn TokenSource> = Arc::new(MetadataServer::at_base(&off_cloud.base_url()));
    let err = ServiceAccount::keyless(signer(&emu, md, SYNC_SA), &[])
        .token()
        .await
        .unwrap_err();
    assert_eq!(err.auth_step(), Some(AuthStep::SourceToken));

    // Bad emails are refused before anything is sent.
    for bad in ["", "a/b@x", "../x@y", "x@y?z", "a b@c"] {
        let md: Arc<dyn TokenSource> = Arc::new(MetadataServer::at_base(&emu.base_url()));
        assert_eq!(
            IamSigner::new(md, bad).unwrap_err().kind(),
            ErrorKind::Config,
            "{bad:?}"
        );
    }
    assert_eq!(emu.request_count("metadata.token", None), 1);
}

#[tokio::test]
async fn impersonation_through_a_delegate_chain() {
    let emu = Emulator::start().await.unwrap();
    let (hop, target) = (
        "hop@project.iam.gserviceaccount.com",
        "target@project.iam.gserviceaccount.com",
    );
    emu.register_keyless_service_account(target, false);
    emu.grant_token_creator("admin@example.com", hop);
    emu.grant_token_creator(hop, target);
    let admin: Arc<dyn TokenSource> = Arc::new(StaticToken::new(
        emu.issue_token_with_scopes("admin@example.com", &[EMU_CLOUD]),
    ));
    let build = |delegates: &[&str]| {
        ImpersonatedServiceAccount::builder(admin.clone(), target)
            .delegates(delegates)
            .scopes(&[CONTACTS_SCOPE])
            .iam_endpoint(&emu.base_url())
            .build()
            .unwrap()
    };
    let creds = build(&[hop]);
    assert_eq!(creds.target(), target);
    create(&client_for(&emu, Arc::new(creds)), "As target")
        .await
        .unwrap();
    assert_eq!(emu.contacts(target).len(), 1);
    assert_eq!(
        emu.request_count("iam.generateAccessToken", Some("admin@example.com")),
        1
    );

    // Without the hop the admin may not act as the target.
    let err = build(&[]).token().await.unwrap_err();
    assert_eq!(err.auth_step(), Some(AuthStep::GenerateAccessToken));
    assert_eq!(err.rpc_status(), Some("PERMISSION_DENIED"));

    // A source token without the cloud-platform scope cannot call IAM.
    let contacts_only: Arc<dyn TokenSource> =
        Arc::new(StaticToken::new(emu.issue_token("admin@example.com")));
    let err = ImpersonatedServiceAccount::builder(contacts_only, target)
        .delegates([hop])
        .iam_endpoint(&emu.base_url())
        .build()
        .unwrap()
        .token()
        .await
        .unwrap_err();
    assert_eq!(err.auth_step(), Some(AuthStep::GenerateAccessToken));
    assert_eq!(err.status(), Some(403));

    // Wrong input is refused at build time.
    let plain = || Arc::new(StaticToken::new("t")) as Arc<dyn TokenSource>;
    assert!(
        ImpersonatedServiceAccount::builder(plain(), "not-an-email")
            .build()
            .is_err()
    );
    assert!(
        ImpersonatedServiceAccount::builder(plain(), target)
            .delegates(["a/../b@x"])
            .build()
            .is_err()
    );
    assert!(
        ImpersonatedServiceAccount::builder(plain(), target)
            .iam_endpoint("http://iam.example.com/")
            .build()
            .is_err()
    );
    assert!(
        ImpersonatedServiceAccount::builder(plain(), target)
            .lifetime(Duration::ZERO)
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn adc_impersonated_service_account_file() {
    let emu = Emulator::start().await.unwrap();
    let target = "target@project.iam.gserviceaccount.com";
    emu.register_keyless_service_account(target, false);
    emu.register_refresh_token("cid", "cs", "rt", "dev@example.com", &[EMU_CLOUD]);
    emu.grant_token_creator("dev@example.com", target);
    let dir = temp_dir("adc-impersonated");
    let file = dir.join("adc.json");
    std::fs::write(
        &file,
        json!({
            "type": "impersonated_service_account",
            "service_account_impersonation_url": format!(
                "{}v1/projects/-/serviceAccounts/{target}:generateAccessToken",
                emu.base_url()
            ),
            "delegates": [],
            "source_credentials": {"type": "authorized_user", "client_id": "cid", "client_secret": "cs", "refresh_token": "rt", "token_uri": emu.token_url()}
        })
        .to_string(),
    )
    .unwrap();
    let path = file.display().to_string();
    let env = |k: &str| (k == "GOOGLE_APPLICATION_CREDENTIALS").then(|| path.clone());
    let (tokens, _) = Adc::discover_in(&env, &[CONTACTS_SCOPE]).unwrap();
    let shown = format!("{tokens:?}");
    assert!(
        shown.contains(target) && !shown.contains("\"rt\""),
        "{shown}"
    );
    create(&client_for(&emu, tokens), "Via ADC").await.unwrap();
    assert_eq!(emu.contacts(target).len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn external_account(
    emu: &Emulator,
    source: serde_json::Value,
    impersonate: Option<&str>,
) -> String {
    let mut v = json!({
        "type": "external_account",
        "audience": AUDIENCE,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": emu.sts_url(),
        "credential_source": source,
    });
    if let Some(sa) = impersonate {
        v["service_account_impersonation_url"] = json!(format!(
            "{}v1/projects/-/serviceAccounts/{sa}:generateAccessToken",
            emu.base_url()
        ));
    }
    v.to_string()
}

#[tokio::test]
async fn workload_identity_federation_with_a_file_sourced_token() {
    let emu = Emulator::start().await.unwrap();
    emu.register_workload_identity_provider(AUDIENCE, ISSUER);
    emu.register_keyless_service_account(SYNC_SA, false);
    emu.grant_token_creator(&federated_principal(AUDIENCE, CI_SUBJECT), SYNC_SA);
    let dir = temp_dir("wif-file");
    let token_file = dir.join("token.json");
    let subject_token = oidc_token(ISSUER, CI_SUBJECT);
    std::fs::write(&token_file, json!({"value": subject_token}).to_string()).unwrap();
    let config = dir.join("wif.json");
    std::fs::write(
        &config,
        external_account(
            &emu,
            json!({"file": token_file, "format": {"type": "json", "subject_token_field_name": "value"}}),
            Some(SYNC_SA),
        ),
    )
    .unwrap();

    let path = config.display().to_string();
    let env = |k: &str| (k == "GOOGLE_APPLICATION_CREDENTIALS").then(|| path.clone());
    let (tokens, source) = Adc::discover_in(&env, &[CONTACTS_SCOPE]).unwrap();
    assert_eq!(source, AdcSource::EnvVar(config.clone()));
    create(&client_for(&emu, tokens.clone()), "From CI")
        .await
        .unwrap();
    assert_eq!(emu.contacts(SYNC_SA).len(), 1);
    assert_eq!(emu.request_count("sts.token", None), 1);
    let shown = format!("{tokens:?}");
    assert!(!shown.contains(&subject_token[..40]), "{shown}");

    // Without impersonation the federated token itself is used.
    let plain = ExternalAccount::from_json(
        &external_account(&emu, json!({"file": token_file, "format": {"type": "json", "subject_token_field_name": "value"}}), None),
        &[CONTACTS_SCOPE],
    )
    .unwrap();
    create(&client_for(&emu, Arc::new(plain)), "Federated")
        .await
        .unwrap();
    assert_eq!(
        emu.contacts(&federated_principal(AUDIENCE, CI_SUBJECT))
            .len(),
        1
    );

    // A token from another issuer is refused by the STS; a missing file before it.
    std::fs::write(
        &token_file,
        json!({"value": oidc_token("https://evil.example", CI_SUBJECT)}).to_string(),
    )
    .unwrap();
    let err = ExternalAccount::from_file(&config, &[])
        .unwrap()
        .token()
        .await
        .unwrap_err();
    assert_eq!(err.auth_step(), Some(AuthStep::StsExchange));
    assert_eq!(err.oauth_error().unwrap().error, "invalid_grant");
    assert!(!err.to_string().contains("ZXZpbC5leGFtcGxl"), "{err}");
    std::fs::remove_file(&token_file).unwrap();
    let err = ExternalAccount::from_file(&config, &[])
        .unwrap()
        .token()
        .await
        .unwrap_err();
    assert_eq!(err.auth_step(), Some(AuthStep::SubjectToken));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn workload_identity_federation_with_a_url_sourced_token() {
    let emu = Emulator::start().await.unwrap();
    emu.register_workload_identity_provider(AUDIENCE, ISSUER);
    let subject_token = oidc_token(ISSUER, CI_SUBJECT);
    // A minimal token endpoint (Azure's IMDS shape): answers only with the right header.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let body = json!({"access_token": subject_token}).to_string();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0; 4096];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
            let (status, body) = if req.contains("metadata: true") {
                ("200 OK", body.clone())
            } else {
                ("400 Bad Request", String::new())
            };
            let _ = sock
                .write_all(
                    format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
                        .as_bytes(),
                )
                .await;
        }
    });
    let config = external_account(
        &emu,
        json!({"url": format!("http://{addr}/token"), "headers": {"Metadata": "True"}, "format": {"type": "json", "subject_token_field_name": "access_token"}}),
        None,
    );
    let creds = ExternalAccount::from_json(&config, &[CONTACTS_SCOPE]).unwrap();
    assert!(format!("{creds:?}").contains("Metadata") && !format!("{creds:?}").contains("True"));
    create(&client_for(&emu, Arc::new(creds)), "From Azure")
        .await
        .unwrap();
    assert_eq!(
        emu.contacts(&federated_principal(AUDIENCE, CI_SUBJECT))
            .len(),
        1
    );

    // Without the header the URL refuses, and the error names the step.
    let config = external_account(&emu, json!({"url": format!("http://{addr}/token")}), None);
    let err = ExternalAccount::from_json(&config, &[])
        .unwrap()
        .token()
        .await
        .unwrap_err();
    assert_eq!(err.auth_step(), Some(AuthStep::SubjectToken));
}

#[test]
fn unsupported_or_unsafe_external_accounts_are_refused_clearly() {
    let fake = |source: serde_json::Value| {
        json!({"type": "external_account", "audience": AUDIENCE, "subject_token_type": "urn:ietf:params:aws:token-type:aws4_request", "token_url": "https://sts.googleapis.com/v1/token", "credential_source": source}).to_string()
    };
    let aws = fake(
        json!({"environment_id": "aws1", "region_url": "http://169.254.169.254/latest/meta-data/placement/availability-zone"}),
    );
    let exe = fake(json!({"executable": {"command": "/bin/get-token", "timeout_millis": 5000}}));
    for (json, what) in [(aws, "AWS"), (exe, "executable")] {
        let err = ExternalAccount::from_json(&json, &[]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(
            err.to_string().contains(what) && err.to_string().contains("not supported yet"),
            "{err}"
        );
    }
    // Plain http to a remote host would leak the subject token.
    let remote = fake(json!({"url": "http://tokens.example.com/token"}));
    assert_eq!(
        ExternalAccount::from_json(&remote, &[]).unwrap_err().kind(),
        ErrorKind::Config
    );
    let link_local = fake(json!({"url": "http://169.254.169.254/metadata/identity/oauth2/token"}));
    assert!(ExternalAccount::from_json(&link_local, &[]).is_ok());
    let mut bad_sts: serde_json::Value =
        serde_json::from_str(&fake(json!({"file": "/t"}))).unwrap();
    bad_sts["token_url"] = json!("http://sts.example.com/v1/token");
    assert!(ExternalAccount::from_json(&bad_sts.to_string(), &[]).is_err());
    let mut bad_url: serde_json::Value =
        serde_json::from_str(&fake(json!({"file": "/t"}))).unwrap();
    bad_url["service_account_impersonation_url"] = json!(
        "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/x/../y:generateAccessToken"
    );
    assert!(ExternalAccount::from_json(&bad_url.to_string(), &[]).is_err());
}

#[tokio::test]
async fn nothing_secret_is_shown() {
    let emu = on_cloud_run().await;
    emu.register_keyless_service_account(SYNC_SA, true);
    emu.grant_token_creator(RUNNER, SYNC_SA);
    let metadata = Arc::new(MetadataServer::at_base(&emu.base_url()));
    let source: Arc<dyn TokenSource> = metadata.clone();
    let sa = ServiceAccount::keyless(signer(&emu, source.clone(), SYNC_SA), &[])
        .subject("alice@example.com");
    let token = sa.token().await.unwrap();
    let source_token = metadata.token().await.unwrap();
    let pool = DelegatedPool::keyless(
        signer(&emu, source, SYNC_SA),
        &[],
        10,
        Duration::from_secs(60),
    );
    pool.for_subject("bob@example.com").token().await.unwrap();
    let secret_config = json!({
        "type": "external_account", "audience": AUDIENCE,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": emu.sts_url(), "client_id": "cid", "client_secret": "sts-client-s3cret",
        "credential_source": {"url": "https://idp.example.com/token", "headers": {"Authorization": "Bearer idp-s3cret"}}
    })
    .to_string();
    let external = ExternalAccount::from_json(&secret_config, &[]).unwrap();
    for shown in [
        format!("{sa:?}"),
        format!("{pool:?}"),
        format!("{external:?}"),
        format!("{:?}", signer(&emu, metadata.clone(), SYNC_SA)),
    ] {
        for secret in [token.secret(), source_token.secret(), "s3cret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(!shown.contains("ya29."), "{shown}");
    }
}
