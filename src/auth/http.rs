//! The token endpoint exchange every provider uses.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use super::cache::Fetched;
use crate::runtime::transport::{Call, Proxies, Reply, Transport};
use crate::runtime::{AccessToken, Error, OAuthError, check_base_url, urls};

/// One HTTP client for every token request of the process: the environment's proxy settings,
/// 30 s per request.
fn transport() -> Result<&'static Transport, Error> {
    static TRANSPORT: OnceLock<Result<Transport, String>> = OnceLock::new();
    TRANSPORT
        .get_or_init(|| {
            Transport::new(
                concat!("google-people-rust/", env!("CARGO_PKG_VERSION"), " auth"),
                &[],
                Duration::from_secs(10),
                Proxies::FromEnv,
            )
            .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::config(format!("cannot set up HTTP for token requests: {e}")))
}

/// Send a token-related request (a failure to connect is an [`ErrorKind::Transport`] error).
///
/// [`ErrorKind::Transport`]: crate::ErrorKind::Transport
pub(crate) async fn send(call: Call) -> Result<Reply, Error> {
    transport()?.call(call).await
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
pub(crate) async fn token_json(call: Call) -> Result<Value, Error> {
    let reply = send(call).await.map_err(|e| {
        let what = if e.kind() == crate::ErrorKind::Transport && !e.is_connect() {
            "the token endpoint's answer broke off"
        } else {
            "cannot reach the token endpoint"
        };
        Error::auth(format!("{what}: {e}"), None)
    })?;
    let (status, body) = (reply.status, reply.body);
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
pub(crate) async fn token_response(call: Call) -> Result<Fetched, Error> {
    let v = token_json(call).await?;
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
    token_response(Call::post(url, FORM, urls::form(form))).await
}

/// The content type of a form body.
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";
