//! The IAM Service Account Credentials API, called with a source credential's token:
//! `signJwt` (keyless domain-wide delegation) and `generateAccessToken` (impersonation).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::authorized_user::GOOGLE_TOKEN_URI;
use super::cache::Fetched;
use super::http;
use crate::runtime::transport::Call;
use crate::runtime::{AccessToken, AuthStep, Error, TokenSource, check_base_url};

/// The IAM Service Account Credentials API's base URL.
pub const IAM_CREDENTIALS_BASE: &str = "https://iamcredentials.googleapis.com/";

/// The scope source credentials need to call the IAM Credentials API (and the STS).
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// A service account email, checked before it goes into a URL path: no `/`, `?`, `#`, `%`,
/// whitespace or dot segments can reach the request line.
pub(crate) fn check_email(email: &str) -> Result<String, Error> {
    let ok = !email.is_empty()
        && email.len() <= 320
        && email.contains('@')
        && !email.starts_with('.')
        && !email.contains("..")
        && email
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@._+-".contains(&b));
    if ok {
        Ok(email.to_string())
    } else {
        Err(Error::config(format!(
            "{email:?} is not a service account email (name@project.iam.gserviceaccount.com)"
        )))
    }
}

/// `projects/-/serviceAccounts/{email}`: the form the API takes in `delegates`.
pub(crate) fn resource_name(account: &str) -> Result<String, Error> {
    let email = account
        .strip_prefix("projects/-/serviceAccounts/")
        .unwrap_or(account);
    Ok(format!(
        "projects/-/serviceAccounts/{}",
        check_email(email)?
    ))
}

/// `{base}v1/projects/-/serviceAccounts/{email}:{verb}`.
pub(crate) fn method_url(base: &str, email: &str, verb: &str) -> String {
    format!("{base}v1/projects/-/serviceAccounts/{email}:{verb}")
}

/// POST `body` to an IAM Credentials (or STS) URL with the source's token. A 401 drops that token
/// and tries once more with a fresh one. Errors name `step`.
pub(crate) async fn call(
    source: &dyn TokenSource,
    url: &str,
    body: &Value,
    step: AuthStep,
) -> Result<Value, Error> {
    let mut retried = false;
    loop {
        let token = source
            .token()
            .await
            .map_err(|e| e.at_step(AuthStep::SourceToken))?;
        let call = Call::post(url, "application/json", body.to_string())
            .bearer(token.secret())
            .map_err(|e| e.at_step(step))?;
        let reply = http::send(call).await.map_err(|e| e.at_step(step))?;
        let (status, bytes) = (reply.status, reply.body);
        if status == 401 && !retried {
            source.invalidate(&token);
            retried = true;
            continue;
        }
        if !(200..300).contains(&status) {
            return Err(Error::from_response(status, None, &bytes).at_step(step));
        }
        return serde_json::from_slice(&bytes)
            .map_err(|_| Error::auth("the answer is not JSON", None).at_step(step));
    }
}

/// Signs JWTs as a service account through the IAM Credentials API's `signJwt`, so domain-wide
/// delegation works without a key file: Google holds the key, and the source credentials (the
/// metadata server on Cloud Run, GKE or GCE; a user's ADC; a federated identity) need the
/// Service Account Token Creator role on the account.
///
/// Use it with [`ServiceAccount::keyless`](super::ServiceAccount::keyless) or
/// [`DelegatedPool::keyless`](super::DelegatedPool::keyless).
#[derive(Clone)]
pub struct IamSigner {
    source: Arc<dyn TokenSource>,
    email: String,
    delegates: Vec<String>,
    iam_base: String,
    token_uri: String,
}

impl fmt::Debug for IamSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IamSigner")
            .field("service_account", &self.email)
            .field("delegates", &self.delegates)
            .field("iam_endpoint", &self.iam_base)
            .field("token_uri", &self.token_uri)
            .field("source", &self.source)
            .finish()
    }
}

impl IamSigner {
    /// Sign as `service_account` with `source`'s tokens (which need the cloud-platform or iam
    /// scope, and the Token Creator role on the account).
    pub fn new(source: Arc<dyn TokenSource>, service_account: &str) -> Result<Self, Error> {
        Ok(Self {
            source,
            email: check_email(service_account)?,
            delegates: Vec::new(),
            iam_base: IAM_CREDENTIALS_BASE.into(),
            token_uri: GOOGLE_TOKEN_URI.into(),
        })
    }

    /// A chain of service accounts, each with the Token Creator role on the next, ending at the
    /// signing account (emails, or `projects/-/serviceAccounts/{email}`).
    pub fn delegates<I, S>(mut self, chain: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.delegates = chain
            .into_iter()
            .map(|d| resource_name(d.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(self)
    }

    /// Another IAM Credentials endpoint (an emulator): https, or http to loopback only.
    pub fn with_iam_endpoint(mut self, base: &str) -> Result<Self, Error> {
        self.iam_base = check_base_url(base)?;
        Ok(self)
    }

    /// Another token endpoint for the JWT-bearer exchange: https, or http to loopback only.
    pub fn with_token_uri(mut self, uri: &str) -> Result<Self, Error> {
        self.token_uri = http::check_endpoint(uri)?;
        Ok(self)
    }

    /// The service account that signs.
    pub fn service_account(&self) -> &str {
        &self.email
    }

    pub(crate) fn token_uri(&self) -> &str {
        &self.token_uri
    }

    /// `signJwt` over `claims`; the signed JWT.
    pub(crate) async fn sign(&self, claims: &Value) -> Result<String, Error> {
        let mut body = json!({ "payload": claims.to_string() });
        if !self.delegates.is_empty() {
            body["delegates"] = json!(self.delegates);
        }
        let url = method_url(&self.iam_base, &self.email, "signJwt");
        let v = call(&*self.source, &url, &body, AuthStep::SignJwt).await?;
        v.get("signedJwt")
            .and_then(Value::as_str)
            .filter(|s| s.split('.').count() == 3)
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::auth("the answer has no signedJwt", None).at_step(AuthStep::SignJwt)
            })
    }
}

/// `generateAccessToken` at `url` for `scopes`: a token of the impersonated account.
pub(crate) async fn generate_access_token(
    source: &dyn TokenSource,
    url: &str,
    delegates: &[String],
    scopes: &[String],
    lifetime: Duration,
) -> Result<Fetched, Error> {
    let mut body = json!({
        "scope": scopes,
        "lifetime": format!("{}s", lifetime.as_secs()),
    });
    if !delegates.is_empty() {
        body["delegates"] = json!(delegates);
    }
    let step = AuthStep::GenerateAccessToken;
    let v = call(source, url, &body, step).await?;
    let token = v
        .get("accessToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::auth("the answer has no accessToken", None).at_step(step))?;
    let expires = v
        .get("expireTime")
        .and_then(Value::as_str)
        .and_then(crate::runtime::rfc3339)
        .ok_or_else(|| Error::auth("the answer has no RFC 3339 expireTime", None).at_step(step))?;
    let expires_in = expires
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .min(Duration::from_secs(86_400));
    Ok(Fetched {
        token: AccessToken::new(token),
        expires_in,
    })
}
