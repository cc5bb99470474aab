//! Access tokens and where they come from.
//!
//! The runtime asks a [`TokenSource`] for a token before every request and tells it when the API
//! rejected one (HTTP 401), so a caching source can drop it. This module has the trait and the
//! simplest source, a fixed token; refreshing sources live in `google_people::auth`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::Error;

/// A boxed, sendable future, as [`TokenSource`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An OAuth2 access token. Its `Debug` and `Display` never show the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(Arc<str>);

impl AccessToken {
    /// Wrap a token string.
    pub fn new(token: impl Into<String>) -> Self {
        Self(Arc::from(token.into()))
    }

    /// The secret itself, for the `Authorization` header. Never log it.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

impl fmt::Display for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Something that hands out access tokens: a fixed token, a refreshing OAuth2 credential, a
/// service account impersonating a user, the metadata server.
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A token valid for the next request.
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, Error>>;

    /// The API rejected `token` (HTTP 401): stop handing it out. The default does nothing.
    fn invalidate(&self, token: &AccessToken) {
        let _ = token;
    }
}

/// A fixed access token, for tokens obtained elsewhere and for tests.
#[derive(Clone, Debug)]
pub struct StaticToken(AccessToken);

impl StaticToken {
    /// Use `token` for every request.
    pub fn new(token: impl Into<String>) -> Self {
        Self(AccessToken::new(token))
    }
}

impl TokenSource for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, Error>> {
        let t = self.0.clone();
        Box::pin(async move { Ok(t) })
    }
}

/// No credentials at all: requests are sent without an `Authorization` header.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoAuth;

impl TokenSource for NoAuth {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, Error>> {
        Box::pin(async { Ok(AccessToken::new(String::new())) })
    }
}
