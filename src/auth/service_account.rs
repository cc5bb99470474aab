//! Service accounts: a key file, the JWT-bearer grant signed with RS256 (ring, the same crypto
//! library as TLS), scopes, and an optional subject for domain-wide delegation.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Value, json};

use super::authorized_user::GOOGLE_TOKEN_URI;
use super::cache::{DEFAULT_MARGIN, Fetch, Fetched, TokenCache};
use super::http;
use crate::runtime::{AccessToken, Error, TokenSource};

/// The contacts scope (read and write).
pub const CONTACTS_SCOPE: &str = "https://www.googleapis.com/auth/contacts";

/// A parsed service account key. `Debug` shows the account and key id, never the key.
#[derive(Clone)]
pub struct ServiceAccountKey {
    client_email: String,
    private_key_id: Option<String>,
    token_uri: String,
    key: Arc<RsaKeyPair>,
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
        let key = RsaKeyPair::from_pkcs8(&der).map_err(|_| {
            Error::config("the service account's private_key does not parse as an RSA PKCS#8 key")
        })?;
        let token_uri = http::check_endpoint(field("token_uri").unwrap_or(GOOGLE_TOKEN_URI))?;
        Ok(Self {
            client_email,
            private_key_id: field("private_key_id").map(str::to_owned),
            token_uri,
            key: Arc::new(key),
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
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mut header = json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = &self.private_key_id {
            header["kid"] = json!(kid);
        }
        let mut claims = json!({"iss": self.client_email, "scope": scopes.join(" "), "aud": self.token_uri, "iat": now, "exp": now + 3600});
        if let Some(s) = subject {
            claims["sub"] = json!(s);
        }
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| Error::auth("signing the JWT assertion failed", None))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

struct JwtGrant {
    key: ServiceAccountKey,
    scopes: Vec<String>,
    subject: Option<String>,
}

impl Fetch for JwtGrant {
    fn fetch(&self) -> BoxFuture<'static, Result<Fetched, Error>> {
        let assertion = self.key.assertion(&self.scopes, self.subject.as_deref());
        let uri = self.key.token_uri.clone();
        async move {
            let assertion = assertion?;
            http::post_form(
                &uri,
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", &assertion),
                ],
            )
            .await
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
            .field("key", &g.key)
            .field("scopes", &g.scopes)
            .field("subject", &g.subject)
            .finish()
    }
}

impl ServiceAccount {
    /// Tokens with these scopes (default: the contacts scope when empty).
    pub fn new(key: ServiceAccountKey, scopes: &[&str]) -> Self {
        Self::with(
            key,
            scopes.iter().map(|s| s.to_string()).collect(),
            None,
            DEFAULT_MARGIN,
        )
    }

    fn with(
        key: ServiceAccountKey,
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
                    key,
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
            g.key.clone(),
            g.scopes.clone(),
            Some(user.into()),
            DEFAULT_MARGIN,
        )
    }

    /// Refresh this long before a token expires.
    pub fn with_margin(self, margin: Duration) -> Self {
        let g = self.cache.fetcher();
        Self::with(g.key.clone(), g.scopes.clone(), g.subject.clone(), margin)
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
