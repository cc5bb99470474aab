//! Service account impersonation: tokens of another service account, from the IAM Credentials
//! API's `generateAccessToken`, called with source credentials that may act as it (directly, or
//! through a chain of delegates). The `impersonated_service_account` ADC type.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;

use super::cache::{DEFAULT_MARGIN, Fetch, Fetched, TokenCache};
use super::http;
use super::iam::{self, IAM_CREDENTIALS_BASE};
use super::service_account::CONTACTS_SCOPE;
use crate::runtime::{AccessToken, Error, TokenSource, check_base_url};

/// The longest token life `generateAccessToken` grants without an organisation policy.
pub const DEFAULT_IMPERSONATION_LIFETIME: Duration = Duration::from_secs(3600);

struct Generate {
    source: Arc<dyn TokenSource>,
    url: String,
    target: String,
    delegates: Vec<String>,
    scopes: Vec<String>,
    lifetime: Duration,
}

impl Fetch for Generate {
    fn fetch(&self) -> BoxFuture<'static, Result<Fetched, Error>> {
        let source = self.source.clone();
        let (url, delegates, scopes, lifetime) = (
            self.url.clone(),
            self.delegates.clone(),
            self.scopes.clone(),
            self.lifetime,
        );
        async move {
            iam::generate_access_token(&*source, &url, &delegates, &scopes, lifetime).await
        }
        .boxed()
    }
}

/// Tokens of an impersonated service account. Build one with
/// [`ImpersonatedServiceAccount::builder`]; ADC builds one from an `impersonated_service_account`
/// file (what `gcloud auth application-default login --impersonate-service-account` writes).
#[derive(Clone)]
pub struct ImpersonatedServiceAccount {
    cache: Arc<TokenCache<Generate>>,
}

impl fmt::Debug for ImpersonatedServiceAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = self.cache.fetcher();
        f.debug_struct("ImpersonatedServiceAccount")
            .field("target", &g.target)
            .field("delegates", &g.delegates)
            .field("scopes", &g.scopes)
            .field("lifetime", &g.lifetime)
            .field("source", &g.source)
            .finish()
    }
}

impl ImpersonatedServiceAccount {
    /// Impersonate `target` (a service account email) with `source`'s tokens, which need the
    /// cloud-platform scope and the Token Creator role on `target` (or on the first delegate).
    pub fn builder(source: Arc<dyn TokenSource>, target: &str) -> ImpersonationBuilder {
        ImpersonationBuilder {
            source,
            target: target.to_string(),
            url: None,
            iam_base: IAM_CREDENTIALS_BASE.into(),
            delegates: Vec::new(),
            scopes: Vec::new(),
            lifetime: DEFAULT_IMPERSONATION_LIFETIME,
        }
    }

    /// The impersonated account.
    pub fn target(&self) -> &str {
        &self.cache.fetcher().target
    }
}

impl TokenSource for ImpersonatedServiceAccount {
    fn token(&self) -> crate::runtime::BoxFuture<'_, Result<AccessToken, Error>> {
        Box::pin(self.cache.token())
    }
    fn invalidate(&self, token: &AccessToken) {
        self.cache.invalidate(token);
    }
}

/// Builds an [`ImpersonatedServiceAccount`].
#[derive(Debug)]
#[must_use]
pub struct ImpersonationBuilder {
    source: Arc<dyn TokenSource>,
    target: String,
    url: Option<String>,
    iam_base: String,
    delegates: Vec<String>,
    scopes: Vec<String>,
    lifetime: Duration,
}

impl ImpersonationBuilder {
    /// Scopes of the impersonated token (default: the contacts scope).
    pub fn scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| s.to_string()).collect();
        self
    }

    /// The delegation chain: each account has the Token Creator role on the next, the source on
    /// the first and the last on the target (emails or `projects/-/serviceAccounts/{email}`).
    pub fn delegates<I, S>(mut self, chain: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.delegates = chain.into_iter().map(|d| d.as_ref().to_string()).collect();
        self
    }

    /// How long each token lives (default and usual maximum: an hour).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Another IAM Credentials endpoint (an emulator): https, or http to loopback only.
    pub fn iam_endpoint(mut self, base: &str) -> Self {
        self.iam_base = base.to_string();
        self
    }

    /// The whole `generateAccessToken` URL, as an ADC file's `service_account_impersonation_url`.
    pub(crate) fn url(mut self, url: &str) -> Self {
        self.url = Some(url.to_string());
        self
    }

    /// Check everything and build: an email, delegate or endpoint that is wrong is a
    /// [`Config`](crate::runtime::ErrorKind::Config) error here, before any request.
    pub fn build(self) -> Result<ImpersonatedServiceAccount, Error> {
        let target = iam::check_email(&self.target)?;
        let url = match self.url {
            Some(u) => http::check_endpoint(&u)?,
            None => iam::method_url(
                &check_base_url(&self.iam_base)?,
                &target,
                "generateAccessToken",
            ),
        };
        let delegates = self
            .delegates
            .iter()
            .map(|d| iam::resource_name(d))
            .collect::<Result<_, _>>()?;
        let secs = self.lifetime.as_secs();
        if !(1..=43_200).contains(&secs) {
            return Err(Error::config(format!(
                "an impersonated token lives from 1 s to 12 h, not {secs} s"
            )));
        }
        let mut scopes = self.scopes;
        if scopes.is_empty() {
            scopes.push(CONTACTS_SCOPE.into());
        }
        Ok(ImpersonatedServiceAccount {
            cache: Arc::new(TokenCache::new(
                Generate {
                    source: self.source,
                    url,
                    target,
                    delegates,
                    scopes,
                    lifetime: self.lifetime,
                },
                DEFAULT_MARGIN,
            )),
        })
    }
}

/// The email in a `…/serviceAccounts/{email}:generateAccessToken` URL.
pub(crate) fn target_of(url: &str) -> Result<String, Error> {
    url.rsplit_once("/serviceAccounts/")
        .and_then(|(_, rest)| rest.strip_suffix(":generateAccessToken"))
        .map(iam::check_email)
        .unwrap_or_else(|| {
            Err(Error::config(
                "service_account_impersonation_url does not end in \
                 /serviceAccounts/{email}:generateAccessToken",
            ))
        })
}
