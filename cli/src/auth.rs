//! Credentials: a service account key (domain-wide delegation: one client per user), keyless
//! delegation (`--service-account`: IAM signs for the account), an `authorized_user` file (your
//! own account) or another credentials file, or application default credentials.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use google_people::auth::{
    Adc, AdcSource, CLOUD_PLATFORM_SCOPE, CONTACTS_SCOPE, DelegatedPool, IamSigner,
    ServiceAccountKey,
};
use google_people::runtime::{AuthStep, StaticToken, TokenSource};
use google_people::{Client, Error};

use crate::Global;

/// How to grant domain-wide delegation, for the message of a run that lacks it.
const DELEGATION_HELP: &str = "  1. Google Cloud console: IAM & Admin > Service accounts: create one (or pick one) and \
     download a JSON key; note its OAuth 2 client ID.\n  2. Admin console (admin.google.com): \
     Security > Access and data control > API controls > Manage Domain Wide Delegation > Add new: \
     that client ID, with the OAuth scope https://www.googleapis.com/auth/contacts\n  3. gpeople \
     sync --credentials key.json --users users.txt ... (changes can take a few minutes to apply)";

/// What to do with no credentials at all.
const NO_CREDENTIALS_HELP: &str = "To sync into the contacts of your Workspace users, give a \
     service account key with domain-wide delegation:\n  gpeople sync --credentials key.json --users \
     users.txt --input FILE --id-column COL\nwhere the key's client ID is granted the scope \
     https://www.googleapis.com/auth/contacts in the Admin console (Security > Access and data \
     control > API controls > Manage Domain Wide Delegation). For your own contacts: `gpeople \
     login`, then --credentials with the file it saves. On Google Cloud without key files: \
     --service-account EMAIL. To try it offline: google-people-emulator -- gpeople sync ... (see \
     the README).";

fn delegation_help(client_id: Option<&str>) -> String {
    match client_id {
        Some(id) => DELEGATION_HELP.replace("that client ID", &format!("client ID {id}")),
        None => DELEGATION_HELP.to_string(),
    }
}

/// Any credentials file, read the way ADC reads `GOOGLE_APPLICATION_CREDENTIALS`.
fn from_file(path: &Path, scopes: &[&str]) -> Result<(Arc<dyn TokenSource>, AdcSource), Error> {
    let path = path.display().to_string();
    Adc::discover_in(
        &|k| (k == "GOOGLE_APPLICATION_CREDENTIALS").then(|| path.clone()),
        scopes,
    )
}

/// Where tokens come from.
pub enum Credentials {
    /// A service account key: acts for each user (`--user`/`--users`) by domain-wide delegation.
    Delegated {
        pool: Arc<DelegatedPool>,
        email: String,
        /// The key's OAuth client ID, the one to authorize in the Admin console (none when
        /// keyless).
        client_id: Option<String>,
    },
    /// One account: an `authorized_user` file or ADC.
    Single {
        tokens: Arc<dyn TokenSource>,
        what: String,
    },
}

impl Credentials {
    /// From `--credentials FILE` (a service account key, or any other credentials file: an
    /// `authorized_user` file, `impersonated_service_account`, `external_account`), or
    /// application default credentials; with `--service-account`, those are the source of keyless
    /// delegation.
    pub async fn load(global: &Global) -> Result<Self, String> {
        let scopes = [CONTACTS_SCOPE];
        let file = global.credentials.as_deref();
        if let Some(token) = &global.access_token {
            if file.is_some() || global.service_account.is_some() {
                return Err(
                    "--access-token is one account's token: give it alone, without --credentials \
                     or --service-account"
                        .into(),
                );
            }
            return Ok(Credentials::Single {
                tokens: Arc::new(StaticToken::new(token.0.clone())),
                what: "an access token (--access-token)".into(),
            });
        }
        if let Some(email) = &global.service_account {
            return Self::keyless(global, email, file).await;
        }
        let Some(path) = file else {
            // Probed: off Google Cloud with no credentials file, this fails at once, saying what
            // it tried.
            let (tokens, source) = Adc::discover_checked(&scopes)
                .await
                .map_err(|e| format!("no credentials: {e}.\n{NO_CREDENTIALS_HELP}"))?;
            return Ok(Credentials::Single {
                tokens,
                what: format!("application default credentials ({source:?})"),
            });
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--credentials {}: {e}", path.display()))?;
        let kind = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["type"].as_str().map(str::to_owned))
            .unwrap_or_default();
        if kind == "service_account" {
            let mut key = ServiceAccountKey::from_json(&text)
                .map_err(|e| format!("--credentials {}: {e}", path.display()))?;
            if let Some(url) = &global.token_uri {
                key = key
                    .with_token_uri(url)
                    .map_err(|e| format!("--token-uri: {e}"))?;
            }
            let client_id = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["client_id"].as_str().map(str::to_owned));
            let email = key.client_email().to_string();
            let pool = DelegatedPool::new(key, &scopes, 10_000, Duration::from_secs(3600));
            return Ok(Credentials::Delegated {
                pool: Arc::new(pool),
                email,
                client_id,
            });
        }
        let (tokens, _) = from_file(path, &scopes)
            .map_err(|e| format!("--credentials {}: {e}", path.display()))?;
        Ok(Credentials::Single {
            tokens,
            what: format!("{kind} {}", path.display()),
        })
    }

    /// Keyless domain-wide delegation: `signJwt` as `email`, with the file or ADC as the source.
    async fn keyless(global: &Global, email: &str, file: Option<&Path>) -> Result<Self, String> {
        let scopes = [CLOUD_PLATFORM_SCOPE];
        let (source, what) = match file {
            Some(path) => {
                let (tokens, _) = from_file(path, &scopes)
                    .map_err(|e| format!("--credentials {}: {e}", path.display()))?;
                (tokens, path.display().to_string())
            }
            None => {
                let (tokens, source) = Adc::discover_checked(&scopes)
                    .await
                    .map_err(|e| format!("--service-account needs source credentials: {e}"))?;
                (
                    tokens,
                    format!("application default credentials ({source:?})"),
                )
            }
        };
        let mut signer =
            IamSigner::new(source, email).map_err(|e| format!("--service-account: {e}"))?;
        if let Some(url) = &global.iam_endpoint {
            signer = signer
                .with_iam_endpoint(url)
                .map_err(|e| format!("--iam-endpoint: {e}"))?;
        }
        if let Some(url) = &global.token_uri {
            signer = signer
                .with_token_uri(url)
                .map_err(|e| format!("--token-uri: {e}"))?;
        }
        let pool =
            DelegatedPool::keyless(signer, &[CONTACTS_SCOPE], 10_000, Duration::from_secs(3600));
        Ok(Credentials::Delegated {
            pool: Arc::new(pool),
            email: format!("{email} (keyless, signed by IAM for {what})"),
            client_id: None,
        })
    }

    /// Before anything is read or sent: whether these credentials can act for `users` at all.
    /// One account's credentials (an `authorized_user` file, ADC, an access token) act only for
    /// that account, so a users file is refused; a service account whose token request for the
    /// first user is refused as `unauthorized_client` has no domain-wide delegation, and the
    /// message says where to grant it. Any other failure is left to each user's own report.
    pub async fn check_acts_for(&self, users: &[String], users_file: bool) -> Result<(), String> {
        match self {
            Credentials::Single { what, .. } if users_file => Err(format!(
                "{what} acts only for its own account, so it cannot sync into the users of \
                 --users. For the users of a Workspace domain, give --credentials with a service \
                 account key that has domain-wide delegation:\n{DELEGATION_HELP}"
            )),
            Credentials::Delegated {
                pool,
                email,
                client_id,
            } => {
                let Some(first) = users.first() else {
                    return Ok(());
                };
                match pool.for_subject(first).token().await {
                    Err(e)
                        if e.oauth_error()
                            .is_some_and(|o| o.error == "unauthorized_client") =>
                    {
                        Err(format!(
                            "the service account {email} may not act for {first}: it has no \
                             domain-wide delegation for the contacts scope ({e}).\n{}",
                            delegation_help(client_id.as_deref())
                        ))
                    }
                    // Keyless delegation whose source cannot sign: the same for every user.
                    Err(e)
                        if matches!(
                            e.auth_step(),
                            Some(AuthStep::SignJwt | AuthStep::SourceToken)
                        ) =>
                    {
                        Err(format!(
                            "the credentials cannot sign as {email} for {first}: {e}. Keyless \
                             delegation needs the Service Account Token Creator role \
                             (roles/iam.serviceAccountTokenCreator) on the service account for \
                             the identity running gpeople, and the service account's client ID \
                             granted the scope in the Admin console.\n{}",
                            delegation_help(client_id.as_deref())
                        ))
                    }
                    _ => Ok(()),
                }
            }
            Credentials::Single { .. } => Ok(()),
        }
    }

    /// Whether this acts for many users (a service account) rather than one account.
    pub fn delegates(&self) -> bool {
        matches!(self, Credentials::Delegated { .. })
    }

    /// What the credentials are, for the first line of output.
    pub fn describe(&self) -> String {
        match self {
            Credentials::Delegated { email, .. } => {
                format!("service account {email}, domain-wide delegation")
            }
            Credentials::Single { what, .. } => what.clone(),
        }
    }

    /// A client acting for `user` (the subject, with a service account; ignored otherwise).
    pub fn client(&self, user: &str, base_url: Option<&str>) -> Result<Client, Error> {
        let tokens: Arc<dyn TokenSource> = match self {
            Credentials::Delegated { pool, .. } => pool.for_subject(user),
            Credentials::Single { tokens, .. } => tokens.clone(),
        };
        let mut b = Client::builder()
            .token_source_arc(tokens)
            .user_agent(concat!("gpeople/", env!("CARGO_PKG_VERSION")));
        if let Some(url) = base_url {
            b = b.base_url(url);
        }
        b.build()
    }
}
