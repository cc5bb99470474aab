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
use google_people::runtime::TokenSource;
use google_people::{Client, Error};

use crate::Global;

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
        if let Some(email) = &global.service_account {
            return Self::keyless(global, email, file).await;
        }
        let Some(path) = file else {
            // Probed: off Google Cloud with no credentials file, this fails at once, saying what
            // it tried.
            let (tokens, source) = Adc::discover_checked(&scopes).await.map_err(|e| {
                format!(
                    "no credentials: {e}. Give --credentials FILE (a service account key with \
                     domain-wide delegation, or an authorized_user file from `gpeople login`), \
                     --service-account EMAIL (keyless delegation from Google Cloud), or set \
                     GOOGLE_APPLICATION_CREDENTIALS"
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
        if kind == "service_account" {
            let key = ServiceAccountKey::from_json(&text)
                .map_err(|e| format!("--credentials {}: {e}", path.display()))?;
            let email = key.client_email().to_string();
            let pool = DelegatedPool::new(key, &scopes, 10_000, Duration::from_secs(3600));
            return Ok(Credentials::Delegated {
                pool: Arc::new(pool),
                email,
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
        })
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
