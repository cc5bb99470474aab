//! Application default credentials, in Google's order: `GOOGLE_APPLICATION_CREDENTIALS`, the
//! gcloud well-known file, then the metadata server.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::impersonated::target_of;
use super::{
    AuthorizedUser, CLOUD_PLATFORM_SCOPE, ExternalAccount, ImpersonatedServiceAccount,
    MetadataServer, ServiceAccount, ServiceAccountKey,
};
use crate::runtime::transport::Call;
use crate::runtime::{Error, TokenSource};

/// Where credentials were found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdcSource {
    /// The file named by `GOOGLE_APPLICATION_CREDENTIALS`.
    EnvVar(PathBuf),
    /// gcloud's `application_default_credentials.json`.
    WellKnownFile(PathBuf),
    /// The metadata server.
    MetadataServer,
}

/// Application default credentials.
#[derive(Debug)]
pub struct Adc;

impl Adc {
    /// Find credentials the way Google's libraries do, with `scopes` for service accounts.
    pub fn discover(scopes: &[&str]) -> Result<(Arc<dyn TokenSource>, AdcSource), Error> {
        Self::discover_in(&|k| std::env::var(k).ok(), scopes)
    }

    /// [`discover`](Self::discover) with the environment given as a function (for tests).
    pub fn discover_in(
        env: &dyn Fn(&str) -> Option<String>,
        scopes: &[&str],
    ) -> Result<(Arc<dyn TokenSource>, AdcSource), Error> {
        if let Some(path) = env("GOOGLE_APPLICATION_CREDENTIALS").filter(|p| !p.is_empty()) {
            let path = PathBuf::from(path);
            let json = std::fs::read_to_string(&path).map_err(|e| {
                Error::config(format!(
                    "GOOGLE_APPLICATION_CREDENTIALS names {}, which cannot be read: {e}",
                    path.display()
                ))
            })?;
            return Ok((from_json(&json, scopes)?, AdcSource::EnvVar(path)));
        }
        let config_dir = env("CLOUDSDK_CONFIG")
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".config").join("gcloud")));
        if let Some(dir) = config_dir {
            let path = dir.join("application_default_credentials.json");
            if let Ok(json) = std::fs::read_to_string(&path) {
                return Ok((from_json(&json, scopes)?, AdcSource::WellKnownFile(path)));
            }
        }
        let metadata = match env("GCE_METADATA_HOST") {
            Some(h) if !h.is_empty() => MetadataServer::at_base(&format!("http://{h}/")),
            _ => MetadataServer::new(),
        };
        Ok((Arc::new(metadata), AdcSource::MetadataServer))
    }
}

/// How long the metadata server has to answer before ADC decides this is not Google Cloud (as
/// Google's libraries).
pub const METADATA_PROBE_TIMEOUT: Duration = Duration::from_millis(500);

impl Adc {
    /// [`discover`](Self::discover), but the metadata server is chosen only if it answers within
    /// [`METADATA_PROBE_TIMEOUT`]: off Google Cloud, with no credentials file, this fails at once
    /// with an error listing what was tried, instead of a transport error on the first call.
    pub async fn discover_checked(
        scopes: &[&str],
    ) -> Result<(Arc<dyn TokenSource>, AdcSource), Error> {
        Self::discover_checked_in(&|k| std::env::var(k).ok(), scopes).await
    }

    /// [`discover_checked`](Self::discover_checked) with the environment given as a function.
    pub async fn discover_checked_in(
        env: &dyn Fn(&str) -> Option<String>,
        scopes: &[&str],
    ) -> Result<(Arc<dyn TokenSource>, AdcSource), Error> {
        let found = Self::discover_in(env, scopes)?;
        if found.1 != AdcSource::MetadataServer {
            return Ok(found);
        }
        let host = env("GCE_METADATA_HOST")
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "169.254.169.254".into());
        let probe = Call::get(format!("http://{host}/"))
            .header("Metadata-Flavor", "Google")?
            .timeout(METADATA_PROBE_TIMEOUT);
        let answered = super::http::send(probe).await.is_ok();
        if answered {
            return Ok(found);
        }
        let gcloud = env("CLOUDSDK_CONFIG")
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".config").join("gcloud")))
            .map(|d| {
                d.join("application_default_credentials.json")
                    .display()
                    .to_string()
            })
            .unwrap_or_else(|| "gcloud's application_default_credentials.json (no HOME)".into());
        Err(Error::auth(
            format!(
                "no application default credentials: tried GOOGLE_APPLICATION_CREDENTIALS (not \
                 set), {gcloud} (not found), and the metadata server at {host} (no answer within \
                 {} ms: not on Google Cloud)",
                METADATA_PROBE_TIMEOUT.as_millis()
            ),
            None,
        ))
    }
}

/// A credentials file of any supported type.
fn from_json(json: &str, scopes: &[&str]) -> Result<Arc<dyn TokenSource>, Error> {
    let v: Value = serde_json::from_str(json)
        .map_err(|_| Error::config("the credentials file is not JSON with a `type`"))?;
    from_value(&v, scopes)
}

fn from_value(v: &Value, scopes: &[&str]) -> Result<Arc<dyn TokenSource>, Error> {
    let ty = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::config("the credentials file is not JSON with a `type`"))?;
    let json = v.to_string();
    match ty {
        "authorized_user" => Ok(Arc::new(AuthorizedUser::from_json(&json)?)),
        "service_account" => Ok(Arc::new(ServiceAccount::new(
            ServiceAccountKey::from_json(&json)?,
            scopes,
        ))),
        "external_account" => Ok(Arc::new(ExternalAccount::from_json(&json, scopes)?)),
        "impersonated_service_account" => {
            let source = v.get("source_credentials").ok_or_else(|| {
                Error::config("the impersonated_service_account file lacks `source_credentials`")
            })?;
            if source.get("type").and_then(Value::as_str) == Some("impersonated_service_account") {
                return Err(Error::config(
                    "source_credentials cannot themselves be impersonated (use `delegates`)",
                ));
            }
            let url = v
                .get("service_account_impersonation_url")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    Error::config(
                        "the impersonated_service_account file lacks \
                         `service_account_impersonation_url`",
                    )
                })?;
            let target = target_of(url)?;
            let delegates: Vec<&str> = v
                .get("delegates")
                .and_then(Value::as_array)
                .map(|d| d.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let source = from_value(source, &[CLOUD_PLATFORM_SCOPE])?;
            Ok(Arc::new(
                ImpersonatedServiceAccount::builder(source, &target)
                    .url(url)
                    .delegates(delegates)
                    .scopes(scopes)
                    .build()?,
            ))
        }
        "external_account_authorized_user" => Err(Error::config(
            "credentials of type \"external_account_authorized_user\" (workforce identity \
             federation sign-in) are not supported yet",
        )),
        other => Err(Error::config(format!(
            "credentials of type {other:?} are not supported"
        ))),
    }
}
