//! A personal Google account's refresh token (installed-app consent, or gcloud's
//! `authorized_user` application default credentials).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use serde_json::Value;

use super::cache::{DEFAULT_MARGIN, Fetch, Fetched, TokenCache};
use super::{Secret, http};
use crate::runtime::{AccessToken, Error, TokenSource};

/// Google's OAuth2 token endpoint.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

struct Refresh {
    client_id: String,
    client_secret: Secret,
    refresh_token: Secret,
    token_uri: String,
}

impl Fetch for Refresh {
    fn fetch(&self) -> BoxFuture<'static, Result<Fetched, Error>> {
        let (uri, id, secret, rt) = (
            self.token_uri.clone(),
            self.client_id.clone(),
            self.client_secret.clone(),
            self.refresh_token.clone(),
        );
        async move {
            http::post_form(
                &uri,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", &id),
                    ("client_secret", secret.expose()),
                    ("refresh_token", rt.expose()),
                ],
            )
            .await
        }
        .boxed()
    }
}

/// Tokens from an OAuth client's refresh token, cached and refreshed once for all callers.
#[derive(Clone)]
pub struct AuthorizedUser {
    cache: Arc<TokenCache<Refresh>>,
}

impl fmt::Debug for AuthorizedUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.cache.fetcher();
        f.debug_struct("AuthorizedUser")
            .field("client_id", &r.client_id)
            .field("client_secret", &r.client_secret)
            .field("refresh_token", &r.refresh_token)
            .field("token_uri", &r.token_uri)
            .finish()
    }
}

impl AuthorizedUser {
    /// A refresh-token credential against Google's token endpoint.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        refresh_token: impl Into<Secret>,
    ) -> Self {
        Self::build(
            client_id.into(),
            client_secret.into(),
            refresh_token.into(),
            GOOGLE_TOKEN_URI.into(),
            DEFAULT_MARGIN,
        )
        .expect("Google's token URI is valid")
    }

    fn build(
        client_id: String,
        client_secret: Secret,
        refresh_token: Secret,
        token_uri: String,
        margin: Duration,
    ) -> Result<Self, Error> {
        let token_uri = http::check_endpoint(&token_uri)?;
        Ok(Self {
            cache: Arc::new(TokenCache::new(
                Refresh {
                    client_id,
                    client_secret,
                    refresh_token,
                    token_uri,
                },
                margin,
            )),
        })
    }

    /// Use another token endpoint (an emulator, a proxy); https, or http to loopback only.
    pub fn with_token_uri(self, token_uri: impl Into<String>) -> Result<Self, Error> {
        let r = self.cache.fetcher();
        Self::build(
            r.client_id.clone(),
            r.client_secret.clone(),
            r.refresh_token.clone(),
            token_uri.into(),
            DEFAULT_MARGIN,
        )
    }

    /// Refresh this long before a token expires (default 5 minutes, at most half a token's life).
    pub fn with_margin(self, margin: Duration) -> Self {
        let r = self.cache.fetcher();
        Self::build(
            r.client_id.clone(),
            r.client_secret.clone(),
            r.refresh_token.clone(),
            r.token_uri.clone(),
            margin,
        )
        .expect("already checked")
    }

    /// Read gcloud's `authorized_user` JSON (`client_id`, `client_secret`, `refresh_token`).
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let v: Value = serde_json::from_str(json).map_err(|e| {
            Error::config(format!(
                "authorized_user credentials are not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        let ty = v.get("type").and_then(Value::as_str).unwrap_or("");
        if ty != "authorized_user" {
            return Err(Error::config(format!(
                "credentials of type {ty:?} are not authorized_user credentials"
            )));
        }
        let field = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| Error::config(format!("authorized_user credentials lack `{k}`")))
        };
        let token_uri = v
            .get("token_uri")
            .and_then(Value::as_str)
            .unwrap_or(GOOGLE_TOKEN_URI)
            .to_string();
        Self::build(
            field("client_id")?,
            field("client_secret")?.into(),
            field("refresh_token")?.into(),
            token_uri,
            DEFAULT_MARGIN,
        )
    }
}

impl TokenSource for AuthorizedUser {
    fn token(&self) -> crate::runtime::BoxFuture<'_, Result<AccessToken, Error>> {
        Box::pin(self.cache.token())
    }
    fn invalidate(&self, token: &AccessToken) {
        self.cache.invalidate(token);
    }
}
