//! Credentials: a service account key (domain-wide delegation: one client per user), an
//! `authorized_user` file (your own account), or application default credentials.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use google_people::auth::{Adc, AuthorizedUser, CONTACTS_SCOPE, DelegatedPool, ServiceAccountKey};
use google_people::runtime::TokenSource;
use google_people::{Client, Error};

/// Where tokens come from.
pub enum Credentials {
    /// A service account key: acts for each user (`--user`/`--users`) by domain-wide delegation.
    Delegated {
        pool: Arc<DelegatedPool>,
        email: String,
    },
    /// One account: an `authorized_user` file or ADC.
    Single {
        tokens: Arc<dyn TokenSource>,
        what: String,
    },
}

impl Credentials {
    /// From `--credentials FILE` (a service account key or an `authorized_user` file), or
    /// application default credentials.
    pub async fn load(file: Option<&Path>) -> Result<Self, String> {
        let scopes = [CONTACTS_SCOPE];
        let Some(path) = file else {
            // Probed: off Google Cloud with no credentials file, this fails at once, saying what
            // it tried.
            let (tokens, source) = Adc::discover_checked(&scopes).await.map_err(|e| {
                format!(
                    "no credentials: {e}. Give --credentials FILE (a service account key with \
                     domain-wide delegation, or an authorized_user file from `gpeople login`), \
                     or set GOOGLE_APPLICATION_CREDENTIALS"
                )
            })?;
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
        match kind.as_str() {
            "service_account" => {
                let key = ServiceAccountKey::from_json(&text)
                    .map_err(|e| format!("--credentials {}: {e}", path.display()))?;
                let email = key.client_email().to_string();
                let pool = DelegatedPool::new(key, &scopes, 10_000, Duration::from_secs(3600));
                Ok(Credentials::Delegated {
                    pool: Arc::new(pool),
                    email,
                })
            }
            "authorized_user" => {
                let user = AuthorizedUser::from_json(&text)
                    .map_err(|e| format!("--credentials {}: {e}", path.display()))?;
                Ok(Credentials::Single {
                    tokens: Arc::new(user),
                    what: format!("authorized_user {}", path.display()),
                })
            }
            other => Err(format!(
                "--credentials {}: type {other:?} is not supported (service_account or authorized_user)",
                path.display()
            )),
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
