//! Service accounts: a key file, the JWT-bearer grant signed with RS256 (by the rustls crypto
//! provider TLS uses: one crypto library), scopes, and an optional subject for domain-wide
//! delegation.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::authorized_user::GOOGLE_TOKEN_URI;
use super::cache::{DEFAULT_MARGIN, Fetch, Fetched, TokenCache};
use super::http;
use super::iam::IamSigner;
use crate::runtime::crypto::RsaKey;
use crate::runtime::{AccessToken, AuthStep, Error, TokenSource};

/// The contacts scope (read and write).
pub const CONTACTS_SCOPE: &str = "https://www.googleapis.com/auth/contacts";

/// A parsed service account key. `Debug` shows the account and key id, never the key.
#[derive(Clone)]
pub struct ServiceAccountKey {
    client_email: String,
    private_key_id: Option<String>,
    token_uri: String,
    key: RsaKey,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("token_uri", &self.token_uri)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl ServiceAccountKey {
    /// Parse a key file's JSON. Errors say what is wrong without echoing the key.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let v: Value = serde_json::from_str(json).map_err(|e| {
            Error::config(format!(
                "the service account key is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        let ty = v.get("type").and_then(Value::as_str).unwrap_or("");
        if ty != "service_account" {
            return Err(Error::config(format!(
                "the key file's type is {ty:?}, expected \"service_account\""
            )));
        }
        let field = |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
        let client_email = field("client_email")
            .ok_or_else(|| Error::config("the service account key lacks `client_email`"))?
            .to_string();
        let pem = field("private_key")
            .ok_or_else(|| Error::config("the service account key lacks `private_key`"))?;
        let b64: String = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = STANDARD
            .decode(b64)
            .map_err(|_| Error::config("the service account's private_key is not a PEM block"))?;
        let key = RsaKey::from_pkcs8(der).ok_or_else(|| {
            Error::config("the service account's private_key does not parse as an RSA PKCS#8 key")
        })?;
        let token_uri = http::check_endpoint(field("token_uri").unwrap_or(GOOGLE_TOKEN_URI))?;
        Ok(Self {
            client_email,
            private_key_id: field("private_key_id").map(str::to_owned),
            token_uri,
            key,
        })
    }

    /// Read and parse a key file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!(
                "cannot read the service account key {}: {e}",
                path.display()
            ))
        })?;
        Self::from_json(&json)
    }

    /// The service account's email.
    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    /// Use another token endpoint (an emulator); https, or http to loopback only.
    pub fn with_token_uri(mut self, uri: &str) -> Result<Self, Error> {
        self.token_uri = http::check_endpoint(uri)?;
        Ok(self)
    }

    /// A signed JWT-bearer assertion for `scopes`, acting as `subject` when given.
    pub fn assertion(&self, scopes: &[String], subject: Option<&str>) -> Result<String, Error> {
        let claims = claims(&self.client_email, &self.token_uri, scopes, subject);
        let mut header = json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = &self.private_key_id {
            header["kid"] = json!(kid);
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self.key.sign_rs256(input.as_bytes())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

/// The JWT-bearer grant's claims: `iss` the account, `aud` the token endpoint, an hour's life.
fn claims(iss: &str, aud: &str, scopes: &[String], subject: Option<&str>) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut claims =
        json!({"iss": iss, "scope": scopes.join(" "), "aud": aud, "iat": now, "exp": now + 3600});
    if let Some(s) = subject {
        claims["sub"] = json!(s);
    }
    claims
}

/// Who signs the assertion: a local key, or the IAM Credentials API (keyless).
#[derive(Clone, Debug)]
pub(crate) enum Signer {
    Key(ServiceAccountKey),
    Iam(IamSigner),
}

impl Signer {
    fn token_uri(&self) -> &str {
        match self {
            Self::Key(k) => &k.token_uri,
            Self::Iam(s) => s.token_uri(),
        }
    }

    async fn assertion(&self, scopes: &[String], subject: Option<&str>) -> Result<String, Error> {
        match self {
            Self::Key(k) => k.assertion(scopes, subject),
            Self::Iam(s) => {
                s.sign(&claims(s.service_account(), s.token_uri(), scopes, subject))
                    .await
            }
        }
    }
}

struct JwtGrant {
    signer: Signer,
    scopes: Vec<String>,
    subject: Option<String>,
}

impl Fetch for JwtGrant {
    fn fetch(&self) -> BoxFuture<'static, Result<Fetched, Error>> {
        let (signer, scopes, subject) = (
            self.signer.clone(),
            self.scopes.clone(),
            self.subject.clone(),
        );
        async move {
            let assertion = signer.assertion(&scopes, subject.as_deref()).await?;
            let grant = http::post_form(
                signer.token_uri(),
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", &assertion),
                ],
            )
            .await;
            match signer {
                Signer::Iam(_) => grant.map_err(|e| e.at_step(AuthStep::TokenExchange)),
                Signer::Key(_) => grant,
            }
        }
        .boxed()
    }
}

/// Tokens for a service account, or for a user it impersonates (domain-wide delegation).
#[derive(Clone)]
pub struct ServiceAccount {
    cache: Arc<TokenCache<JwtGrant>>,
}

impl fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = self.cache.fetcher();
        f.debug_struct("ServiceAccount")
            .field("signer", &g.signer)
            .field("scopes", &g.scopes)
            .field("subject", &g.subject)
            .finish()
    }
}

impl ServiceAccount {
    /// Tokens with these scopes (default: the contacts scope when empty).
    pub fn new(key: ServiceAccountKey, scopes: &[&str]) -> Self {
        Self::with(
            Signer::Key(key),
            scopes.iter().map(|s| s.to_string()).collect(),
            None,
            DEFAULT_MARGIN,
        )
    }

    /// Tokens with these scopes without a key file: the IAM Credentials API signs the assertion
    /// (see [`IamSigner`]). With [`subject`](Self::subject), this is keyless domain-wide
    /// delegation.
    pub fn keyless(signer: IamSigner, scopes: &[&str]) -> Self {
        Self::with(
            Signer::Iam(signer),
            scopes.iter().map(|s| s.to_string()).collect(),
            None,
            DEFAULT_MARGIN,
        )
    }

    pub(crate) fn with(
        signer: Signer,
        mut scopes: Vec<String>,
        subject: Option<String>,
        margin: Duration,
    ) -> Self {
        if scopes.is_empty() {
            scopes.push(CONTACTS_SCOPE.into());
        }
        Self {
            cache: Arc::new(TokenCache::new(
                JwtGrant {
                    signer,
                    scopes,
                    subject,
                },
                margin,
            )),
        }
    }

    /// Act as this Workspace user (domain-wide delegation must be granted to the account).
    pub fn subject(self, user: impl Into<String>) -> Self {
        let g = self.cache.fetcher();
        Self::with(
            g.signer.clone(),
            g.scopes.clone(),
            Some(user.into()),
            DEFAULT_MARGIN,
        )
    }

    /// Refresh this long before a token expires.
    pub fn with_margin(self, margin: Duration) -> Self {
        let g = self.cache.fetcher();
        Self::with(
            g.signer.clone(),
            g.scopes.clone(),
            g.subject.clone(),
            margin,
        )
    }
}

impl TokenSource for ServiceAccount {
    fn token(&self) -> crate::runtime::BoxFuture<'_, Result<AccessToken, Error>> {
        Box::pin(self.cache.token())
    }
    fn invalidate(&self, token: &AccessToken) {
        self.cache.invalidate(token);
    }
}
