//! Code running on Google Cloud: tokens from the metadata server.

use std::fmt;
use std::sync::Arc;

use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;

use super::cache::{DEFAULT_MARGIN, Fetch, Fetched, TokenCache};
use super::http;
use crate::runtime::transport::Call;
use crate::runtime::{AccessToken, Error, TokenSource};

/// The metadata server's default base URL.
pub const METADATA_BASE: &str = "http://169.254.169.254/";

struct Metadata {
    url: String,
}

impl Fetch for Metadata {
    fn fetch(&self) -> BoxFuture<'static, Result<Fetched, Error>> {
        let url = self.url.clone();
        async move {
            http::token_response(Call::get(url).header("Metadata-Flavor", "Google")?).await
        }
        .boxed()
    }
}

/// Tokens of the VM's or workload's service account, from the metadata server.
#[derive(Clone)]
pub struct MetadataServer {
    cache: Arc<TokenCache<Metadata>>,
}

impl fmt::Debug for MetadataServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetadataServer")
            .field("url", &self.cache.fetcher().url)
            .finish()
    }
}

impl MetadataServer {
    /// The standard metadata server (`GCE_METADATA_HOST` overrides the host).
    pub fn new() -> Self {
        let base = match std::env::var("GCE_METADATA_HOST") {
            Ok(h) if !h.is_empty() => format!("http://{h}/"),
            _ => METADATA_BASE.into(),
        };
        Self::at_base(&base)
    }

    /// A metadata server at another base URL (an emulator).
    pub fn at_base(base: &str) -> Self {
        let base = if base.ends_with('/') {
            base.to_string()
        } else {
            format!("{base}/")
        };
        let url = format!("{base}computeMetadata/v1/instance/service-accounts/default/token");
        Self {
            cache: Arc::new(TokenCache::new(Metadata { url }, DEFAULT_MARGIN)),
        }
    }
}

impl Default for MetadataServer {
    fn default() -> Self {
        Self::new()
    }
}

impl TokenSource for MetadataServer {
    fn token(&self) -> crate::runtime::BoxFuture<'_, Result<AccessToken, Error>> {
        Box::pin(self.cache.token())
    }
    fn invalidate(&self, token: &AccessToken) {
        self.cache.invalidate(token);
    }
}
