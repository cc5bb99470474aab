//! The HTTP transport under the [`Client`](super::Client) and the token providers: reqwest, over
//! rustls with the crate's (or the application's) crypto provider, proxies from the environment
//! (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, ...) or the builder, as reqwest reads them. An
//! application can hand in its own `reqwest::Client` (pool, proxies, timeouts).
//!
//! What the retry logic rests on is kept: a failure to connect (refused, a failed TLS handshake,
//! a refused proxy tunnel) is `Transport` with `is_connect()`: nothing was sent. Any later
//! failure may have reached the server.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT,
};

use super::{Error, install_crypto_provider};

/// Most a `Content-Length` may make us reserve up front; a larger body grows as it arrives.
const MAX_PREALLOCATION: u64 = 32 << 20;

/// How long an idle pooled connection is kept (reqwest's default).
const POOL_IDLE: Duration = Duration::from_secs(90);

/// Where HTTPS requests go through a proxy.
#[derive(Clone)]
pub(crate) enum Proxies {
    /// What the environment says (`HTTPS_PROXY`/`https_proxy`, `ALL_PROXY`, `NO_PROXY`), as
    /// reqwest reads it.
    FromEnv,
    /// This proxy for every HTTPS request.
    Url(String),
    /// None, whatever the environment says.
    Off,
}

/// A pooled HTTP client with the headers every request of its owner carries.
#[derive(Clone)]
pub(crate) struct Transport {
    client: reqwest::Client,
    headers: HeaderMap,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport").finish_non_exhaustive()
    }
}

/// One request, as the transport sends it.
pub(crate) struct Call {
    method: Method,
    url: String,
    headers: HeaderMap,
    body: Bytes,
    timeout: Duration,
}

/// A response, body read whole.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Call {
    /// A request with no body; times out after 30 s unless [`timeout`](Self::timeout) says.
    pub(crate) fn new(method: Method, url: impl Into<String>) -> Self {
        Call {
            method,
            url: url.into(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            timeout: Duration::from_secs(30),
        }
    }

    /// A GET.
    pub(crate) fn get(url: impl Into<String>) -> Self {
        Self::new(Method::GET, url)
    }

    /// A POST of `body`, of type `content_type`.
    pub(crate) fn post(
        url: impl Into<String>,
        content_type: &'static str,
        body: impl Into<Bytes>,
    ) -> Self {
        Self::new(Method::POST, url).body(content_type, body)
    }

    /// The body, of type `content_type`.
    pub(crate) fn body(mut self, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        self.body = body.into();
        self
    }

    /// Add a header; a name or value HTTP cannot carry is a configuration error (it names the
    /// header, never the value).
    pub(crate) fn header(mut self, name: &str, value: &str) -> Result<Self, Error> {
        let name = HeaderName::try_from(name)
            .map_err(|_| Error::config(format!("{name:?} is not a valid HTTP header name")))?;
        let value = HeaderValue::try_from(value).map_err(|_| {
            Error::config(format!(
                "the value of header {name} is not a valid header value"
            ))
        })?;
        self.headers.append(name, value);
        Ok(self)
    }

    /// `Authorization: Bearer <token>`, marked sensitive.
    pub(crate) fn bearer(self, token: &str) -> Result<Self, Error> {
        self.authorization(format!("Bearer {token}"), "the access token")
    }

    /// `Authorization: Basic …` (RFC 7617), marked sensitive.
    pub(crate) fn basic_auth(self, user: &str, password: &str) -> Result<Self, Error> {
        use base64::Engine as _;
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.authorization(format!("Basic {encoded}"), "the client credentials")
    }

    fn authorization(mut self, value: String, what: &str) -> Result<Self, Error> {
        let mut value = HeaderValue::try_from(value).map_err(|_| {
            Error::auth(
                format!("{what} contains characters not allowed in a header"),
                None,
            )
        })?;
        value.set_sensitive(true);
        self.headers.insert(AUTHORIZATION, value);
        Ok(self)
    }

    /// Give up on the request (connection, sending, and reading the whole answer) after `timeout`.
    pub(crate) fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// The headers every request of a transport carries: the user agent, and `headers`.
fn default_headers(
    user_agent: &str,
    headers: &[(&'static str, String)],
) -> Result<HeaderMap, Error> {
    let mut out = HeaderMap::new();
    out.insert(
        USER_AGENT,
        HeaderValue::try_from(user_agent)
            .map_err(|_| Error::config("the user agent is not a valid header value"))?,
    );
    for (name, value) in headers {
        out.insert(
            *name,
            HeaderValue::try_from(value.as_str())
                .map_err(|_| Error::config(format!("invalid {name} header")))?,
        );
    }
    Ok(out)
}

impl Transport {
    /// A transport whose requests carry `user_agent` and `headers`; connecting gives up after
    /// `connect_timeout`.
    pub(crate) fn new(
        user_agent: &str,
        headers: &[(&'static str, String)],
        connect_timeout: Duration,
        proxies: Proxies,
    ) -> Result<Self, Error> {
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .pool_idle_timeout(POOL_IDLE)
            .tcp_nodelay(true)
            // Google's APIs do not redirect; following one could carry the token elsewhere.
            .redirect(reqwest::redirect::Policy::none());
        builder = match proxies {
            Proxies::FromEnv => builder,
            Proxies::Off => builder.no_proxy(),
            Proxies::Url(url) => {
                let parsed = url::Url::parse(&url)
                    .map_err(|_| Error::config("the proxy URL is not a URL"))?;
                if parsed.scheme() != "http" || parsed.host().is_none() {
                    return Err(Error::config(
                        "the proxy URL must be http://host:port (HTTPS goes through it in a \
                         CONNECT tunnel)",
                    ));
                }
                let proxy = reqwest::Proxy::https(parsed)
                    .map_err(|_| Error::config("the proxy URL is not usable"))?;
                builder.proxy(proxy)
            }
        };
        #[cfg(not(feature = "http2"))]
        {
            builder = builder.http1_only();
        }
        let client = builder
            .build()
            .map_err(|e| Error::config(format!("cannot set up HTTP: {}", e.without_url())))?;
        Self::with_client(client, user_agent, headers)
    }

    /// A transport over an application's own client (its pool, proxies and timeouts); requests
    /// still carry `user_agent` and `headers` unless the client sets them.
    pub(crate) fn with_client(
        client: reqwest::Client,
        user_agent: &str,
        headers: &[(&'static str, String)],
    ) -> Result<Self, Error> {
        Ok(Transport {
            client,
            headers: default_headers(user_agent, headers)?,
        })
    }

    /// Send `call` and read the whole answer, within its timeout.
    pub(crate) async fn call(&self, call: Call) -> Result<Reply, Error> {
        let url = url::Url::parse(&call.url)
            .map_err(|e| Error::invalid_request(format!("cannot build the request URL: {e}")))?;
        let mut headers = call.headers;
        for (name, value) in &self.headers {
            if !headers.contains_key(name) {
                headers.insert(name, value.clone());
            }
        }
        if call.body.is_empty() && matches!(call.method, Method::POST | Method::PUT | Method::PATCH)
        {
            headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
        }
        let request = self
            .client
            .request(call.method, url)
            .headers(headers)
            .body(call.body)
            .timeout(call.timeout);
        let exchange = async {
            let response = request.send().await.map_err(classify)?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = read_body(response).await?;
            Ok(Reply {
                status,
                headers,
                body,
            })
        };
        // reqwest's timeout covers the whole exchange; this one also covers an application's
        // client built without one.
        tokio::time::timeout(call.timeout, exchange)
            .await
            .map_err(Error::timeout)?
    }
}

/// A reqwest error as this crate's: a timeout, a failure to connect (nothing was sent), or one
/// after the request may have reached the server. The URL is left out (it may carry a query).
fn classify(e: reqwest::Error) -> Error {
    let e = e.without_url();
    if e.is_timeout() {
        Error::timeout(e)
    } else {
        let connect = e.is_connect();
        Error::transport(e, connect)
    }
}

/// A response body, whole. One chunk is returned as is; more are copied, as they arrive, into one
/// buffer sized by `Content-Length`, so a large body is held about once rather than twice (all
/// chunks, then their concatenation): the client's peak memory.
async fn read_body(mut response: reqwest::Response) -> Result<Bytes, Error> {
    let reserve = response
        .content_length()
        .unwrap_or(0)
        .min(MAX_PREALLOCATION) as usize;
    let Some(first) = response.chunk().await.map_err(classify)? else {
        return Ok(Bytes::new());
    };
    let Some(second) = response.chunk().await.map_err(classify)? else {
        return Ok(first);
    };
    let mut buf = Vec::with_capacity(reserve.max(first.len() + second.len()));
    buf.extend_from_slice(&first);
    drop(first);
    buf.extend_from_slice(&second);
    drop(second);
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}
