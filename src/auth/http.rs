//! The token endpoint exchange every provider uses.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use super::cache::Fetched;
use crate::runtime::{AccessToken, Error, OAuthError, check_base_url, install_crypto_provider};

/// One HTTP client for every token request of the process.
pub(crate) fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        install_crypto_provider();
        reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!(
                "google-people-rust/",
                env!("CARGO_PKG_VERSION"),
                " auth"
            ))
            .build()
            .unwrap_or_default()
    })
}

/// A token endpoint URL must be https, or http to a loopback host (an emulator).
pub(crate) fn check_endpoint(url: &str) -> Result<String, Error> {
    check_base_url(url).map(|mut u| {
        // check_base_url adds a trailing slash for joining; an endpoint is used as given.
        if !url.ends_with('/') {
            u.pop();
        }
        u
    })
}

/// Send a token endpoint request and return its JSON body, or the endpoint's OAuth error.
pub(crate) async fn token_json(req: reqwest::RequestBuilder) -> Result<Value, Error> {
    let resp = req.send().await.map_err(|e| {
        Error::auth(
            format!("cannot reach the token endpoint: {}", e.without_url()),
            None,
        )
    })?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.map_err(|e| {
        Error::auth(
            format!("token endpoint response broke off: {}", e.without_url()),
            None,
        )
    })?;
    if !(200..300).contains(&status) {
        return Err(match OAuthError::parse(status, &body) {
            Some(o) => Error::oauth(o),
            None => Error::auth(
                format!("token endpoint answered HTTP {status} without an OAuth error body"),
                None,
            ),
        });
    }
    serde_json::from_slice(&body)
        .map_err(|_| Error::auth("token endpoint answered with a body that is not JSON", None))
}

/// Parse a token response: `{"access_token", "expires_in", ...}` or an OAuth error.
pub(crate) async fn token_response(req: reqwest::RequestBuilder) -> Result<Fetched, Error> {
    let v = token_json(req).await?;
    let token = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::auth("token endpoint answered without an access_token", None))?;
    // Google's tokens last an hour; a server's figure is trusted up to a day (a huge one must
    // neither overflow the cache's clock nor keep a token forever).
    let expires_in = v
        .get("expires_in")
        .and_then(Value::as_u64)
        .unwrap_or(3600)
        .min(86_400);
    Ok(Fetched {
        token: AccessToken::new(token),
        expires_in: Duration::from_secs(expires_in),
    })
}

/// POST a form to a token endpoint.
pub(crate) async fn post_form(url: &str, form: &[(&str, &str)]) -> Result<Fetched, Error> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    token_response(
        client()
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await
}
