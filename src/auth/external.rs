//! Workload identity federation: the `external_account` ADC type. A workload outside Google Cloud
//! (GitHub Actions, Azure, an on-premises OIDC provider) reads its own subject token from a file
//! or a URL, exchanges it at the Security Token Service for a federated token, and optionally
//! impersonates a service account with it.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::cache::{DEFAULT_MARGIN, Fetch, Fetched, TokenCache};
use super::http;
use super::iam::{self, CLOUD_PLATFORM_SCOPE};
use super::impersonated::{DEFAULT_IMPERSONATION_LIFETIME, target_of};
use super::secret::Secret;
use super::service_account::CONTACTS_SCOPE;
use crate::runtime::transport::Call;
use crate::runtime::{AccessToken, AuthStep, Error, StaticToken, TokenSource, urls};

/// Google's Security Token Service endpoint.
pub const STS_TOKEN_URL: &str = "https://sts.googleapis.com/v1/token";

/// How a subject token is stored in its file or URL answer.
#[derive(Clone, Debug)]
enum Format {
    Text,
    Json(String),
}

/// Where the workload's own subject token comes from.
#[derive(Clone)]
enum SubjectSource {
    File(PathBuf),
    Url {
        url: String,
        headers: Vec<(String, Secret)>,
    },
}

impl fmt::Debug for SubjectSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => f.debug_tuple("File").field(p).finish(),
            Self::Url { url, headers } => f
                .debug_struct("Url")
                .field("url", url)
                .field(
                    "headers",
                    &headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
                )
                .finish(),
        }
    }
}

#[derive(Debug)]
struct Federated {
    audience: String,
    subject_token_type: String,
    token_url: String,
    source: SubjectSource,
    format: Format,
    client: Option<(String, Secret)>,
    user_project: Option<String>,
    impersonation: Option<(String, Duration)>,
    scopes: Vec<String>,
}

impl Federated {
    async fn subject_token(&self) -> Result<String, Error> {
        let step = AuthStep::SubjectToken;
        let raw = match &self.source {
            SubjectSource::File(path) => std::fs::read_to_string(path).map_err(|e| {
                Error::auth(
                    format!("cannot read the subject token file {}: {e}", path.display()),
                    None,
                )
                .at_step(step)
            })?,
            SubjectSource::Url { url, headers } => {
                let mut call = Call::get(url);
                for (k, v) in headers {
                    call = call.header(k, v.expose()).map_err(|e| e.at_step(step))?;
                }
                let reply = http::send(call).await.map_err(|e| e.at_step(step))?;
                let status = reply.status;
                let body = String::from_utf8(reply.body.to_vec()).map_err(|_| {
                    Error::auth(
                        "the subject token URL answered with text that is not UTF-8",
                        None,
                    )
                    .at_step(step)
                })?;
                if !(200..300).contains(&status) {
                    return Err(Error::auth(
                        format!("the subject token URL answered HTTP {status}"),
                        None,
                    )
                    .at_step(step));
                }
                body
            }
        };
        let token = match &self.format {
            Format::Text => raw.trim().to_string(),
            Format::Json(field) => serde_json::from_str::<Value>(&raw)
                .ok()
                .and_then(|v| v.get(field)?.as_str().map(str::to_owned))
                .ok_or_else(|| {
                    Error::auth(
                        format!("the subject token is not JSON with a string field `{field}`"),
                        None,
                    )
                    .at_step(step)
                })?,
        };
        if token.is_empty() {
            return Err(Error::auth("the subject token is empty", None).at_step(step));
        }
        Ok(token)
    }

    async fn exchange(&self) -> Result<Fetched, Error> {
        let subject = self.subject_token().await?;
        let scope = match self.impersonation {
            Some(_) => CLOUD_PLATFORM_SCOPE.to_string(),
            None => self.scopes.join(" "),
        };
        let mut form = vec![
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange".to_string(),
            ),
            ("audience", self.audience.clone()),
            ("scope", scope),
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:access_token".to_string(),
            ),
            ("subject_token", subject),
            ("subject_token_type", self.subject_token_type.clone()),
        ];
        if let (Some(project), None) = (&self.user_project, &self.impersonation) {
            form.push(("options", json!({ "userProject": project }).to_string()));
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut call = Call::post(&self.token_url, http::FORM, urls::form(&pairs));
        if let Some((id, secret)) = &self.client {
            call = call
                .basic_auth(id, secret.expose())
                .map_err(|e| e.at_step(AuthStep::StsExchange))?;
        }
        let federated = http::token_response(call)
            .await
            .map_err(|e| e.at_step(AuthStep::StsExchange))?;
        match &self.impersonation {
            None => Ok(federated),
            Some((url, lifetime)) => {
                let source = StaticToken::new(federated.token.secret());
                iam::generate_access_token(&source, url, &[], &self.scopes, *lifetime).await
            }
        }
    }
}

struct Exchange(Arc<Federated>);

impl Fetch for Exchange {
    fn fetch(&self) -> BoxFuture<'static, Result<Fetched, Error>> {
        let f = self.0.clone();
        async move { f.exchange().await }.boxed()
    }
}

/// Workload identity federation credentials, from an `external_account` configuration file
/// (what `gcloud iam workload-identity-pools create-cred-config` writes), with file- or
/// URL-sourced subject tokens. AWS- and executable-sourced configurations are refused with a
/// clear "not supported yet" error.
#[derive(Clone)]
pub struct ExternalAccount {
    cache: Arc<TokenCache<Exchange>>,
}

impl fmt::Debug for ExternalAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let x = &self.cache.fetcher().0;
        f.debug_struct("ExternalAccount")
            .field("audience", &x.audience)
            .field("token_url", &x.token_url)
            .field("source", &x.source)
            .field(
                "impersonation_url",
                &x.impersonation.as_ref().map(|(u, _)| u),
            )
            .field("scopes", &x.scopes)
            .finish()
    }
}

impl ExternalAccount {
    /// Parse an `external_account` configuration; tokens get `scopes` (default: contacts).
    pub fn from_json(json: &str, scopes: &[&str]) -> Result<Self, Error> {
        let v: Value = serde_json::from_str(json)
            .map_err(|_| Error::config("the external_account configuration is not JSON"))?;
        let str_of = |o: &Value, k: &str| {
            o.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        if str_of(&v, "type").as_deref() != Some("external_account") {
            return Err(Error::config(
                "the configuration's type is not \"external_account\"",
            ));
        }
        let need = |k: &str| {
            str_of(&v, k).ok_or_else(|| {
                Error::config(format!("the external_account configuration lacks `{k}`"))
            })
        };
        let audience = need("audience")?;
        let subject_token_type = need("subject_token_type")?;
        let token_url =
            http::check_endpoint(&str_of(&v, "token_url").unwrap_or(STS_TOKEN_URL.into()))?;
        let cs = v
            .get("credential_source")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                Error::config("the external_account configuration lacks `credential_source`")
            })?;
        let source = credential_source(cs)?;
        let format = match cs.get("format") {
            None => Format::Text,
            Some(f) => match str_of(f, "type").as_deref() {
                None | Some("text") => Format::Text,
                Some("json") => {
                    Format::Json(str_of(f, "subject_token_field_name").ok_or_else(|| {
                        Error::config(
                            "a json credential_source format needs subject_token_field_name",
                        )
                    })?)
                }
                Some(other) => {
                    return Err(Error::config(format!(
                        "credential_source format {other:?} is not text or json"
                    )));
                }
            },
        };
        let impersonation = match str_of(&v, "service_account_impersonation_url") {
            None => None,
            Some(url) => {
                target_of(&url)?;
                let secs = v
                    .pointer("/service_account_impersonation/token_lifetime_seconds")
                    .and_then(Value::as_u64)
                    .unwrap_or(DEFAULT_IMPERSONATION_LIFETIME.as_secs());
                if !(600..=43_200).contains(&secs) {
                    return Err(Error::config(format!(
                        "token_lifetime_seconds must be from 600 to 43200, not {secs}"
                    )));
                }
                Some((http::check_endpoint(&url)?, Duration::from_secs(secs)))
            }
        };
        let client = match (str_of(&v, "client_id"), str_of(&v, "client_secret")) {
            (Some(id), Some(secret)) => Some((id, Secret::new(secret))),
            _ => None,
        };
        let mut scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        if scopes.is_empty() {
            scopes.push(CONTACTS_SCOPE.into());
        }
        Ok(Self {
            cache: Arc::new(TokenCache::new(
                Exchange(Arc::new(Federated {
                    audience,
                    subject_token_type,
                    token_url,
                    source,
                    format,
                    client,
                    user_project: str_of(&v, "workforce_pool_user_project"),
                    impersonation,
                    scopes,
                })),
                DEFAULT_MARGIN,
            )),
        })
    }

    /// Read and parse a configuration file.
    pub fn from_file(path: impl AsRef<std::path::Path>, scopes: &[&str]) -> Result<Self, Error> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!(
                "cannot read the external_account configuration {}: {e}",
                path.display()
            ))
        })?;
        Self::from_json(&json, scopes)
    }
}

/// A `credential_source`: a file or a URL; AWS and executables are named and refused.
fn credential_source(cs: &Map<String, Value>) -> Result<SubjectSource, Error> {
    if let Some(env) = cs.get("environment_id").and_then(Value::as_str)
        && env.starts_with("aws")
    {
        return Err(Error::config(
            "AWS-sourced external_account credentials are not supported yet (file- and \
             URL-sourced ones are)",
        ));
    }
    if cs.contains_key("executable") {
        return Err(Error::config(
            "executable-sourced external_account credentials are not supported yet (file- and \
             URL-sourced ones are)",
        ));
    }
    if let Some(file) = cs.get("file").and_then(Value::as_str) {
        return Ok(SubjectSource::File(PathBuf::from(file)));
    }
    if let Some(url) = cs.get("url").and_then(Value::as_str) {
        let headers = cs
            .get("headers")
            .and_then(Value::as_object)
            .map(|h| {
                h.iter()
                    .filter_map(|(k, v)| Some((k.clone(), Secret::new(v.as_str()?))))
                    .collect()
            })
            .unwrap_or_default();
        return Ok(SubjectSource::Url {
            url: subject_url(url)?,
            headers,
        });
    }
    Err(Error::config(
        "credential_source names neither a file nor a url (nor a supported environment)",
    ))
}

/// A subject token URL: https; plain http only to loopback or link-local hosts (the metadata
/// endpoints of Azure and other clouds live at 169.254.169.254).
fn subject_url(url: &str) -> Result<String, Error> {
    let parsed = urls::Url::parse(url)
        .map_err(|e| Error::config(format!("credential_source url is not usable: {e}")))?;
    let local = parsed.host.is_local();
    match parsed.scheme.as_str() {
        "https" => Ok(url.to_string()),
        "http" if local => Ok(url.to_string()),
        _ => Err(Error::config(format!(
            "credential_source url {url:?} must be https (http only to loopback or link-local hosts)"
        ))),
    }
}

impl TokenSource for ExternalAccount {
    fn token(&self) -> crate::runtime::BoxFuture<'_, Result<AccessToken, Error>> {
        Box::pin(self.cache.token())
    }
    fn invalidate(&self, token: &AccessToken) {
        self.cache.invalidate(token);
    }
}
