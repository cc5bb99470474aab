//! The HTTP transport under the [`Client`](super::Client) and the token providers: hyper's
//! pooled client over rustls (certificates checked by the platform's verifier), HTTPS through a
//! proxy when the environment (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`) or the builder names one.
//!
//! reqwest wraps this same client. Using it directly keeps reqwest's own layers and the `url`
//! crate's Unicode (IDNA) tables out of every user's build: they were a fifth of the CPU time of
//! a clean debug build of a one-call binary.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{
    AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT,
};
use http::{Method, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Body as _, Incoming};
use hyper_util::client::legacy::Client as Pool;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tower_service::Service;

use super::{Error, install_crypto_provider};

type BoxError = Box<dyn StdError + Send + Sync>;

/// Most a `Content-Length` may make us reserve up front; a larger body grows as it arrives.
const MAX_PREALLOCATION: u64 = 32 << 20;

/// How long an idle pooled connection is kept (as reqwest does).
const POOL_IDLE: Duration = Duration::from_secs(90);

/// Where HTTPS requests go through a proxy.
#[derive(Clone)]
pub(crate) enum Proxies {
    /// `HTTPS_PROXY`/`https_proxy`, `ALL_PROXY`, `NO_PROXY`, read when the transport is built.
    FromEnv,
    /// This proxy for every HTTPS request.
    Url(String),
    /// None, whatever the environment says.
    Off,
}

/// A pooled HTTP/1.1 client (HTTP/2 too with the `http2` feature) with the headers every request
/// of its owner carries.
#[derive(Clone)]
pub(crate) struct Transport {
    pool: Pool<hyper_rustls::HttpsConnector<Connect>, Full<Bytes>>,
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
        let mut default_headers = HeaderMap::new();
        default_headers.insert(
            USER_AGENT,
            HeaderValue::try_from(user_agent)
                .map_err(|_| Error::config("the user agent is not a valid header value"))?,
        );
        for (name, value) in headers {
            default_headers.insert(
                *name,
                HeaderValue::try_from(value.as_str())
                    .map_err(|_| Error::config(format!("invalid {name} header")))?,
            );
        }
        let proxies = match proxies {
            Proxies::FromEnv => Matcher::from_env(),
            Proxies::Off => Matcher::builder().build(),
            Proxies::Url(url) => {
                let parsed = url
                    .parse::<Uri>()
                    .map_err(|_| Error::config("the proxy URL is not a URL"))?;
                if parsed.scheme_str() != Some("http") || parsed.host().is_none() {
                    return Err(Error::config(
                        "the proxy URL must be http://host:port (HTTPS goes through it in a \
                         CONNECT tunnel)",
                    ));
                }
                Matcher::builder().https(url).build()
            }
        };
        let mut http = HttpConnector::new();
        // The TLS layer hands https URLs down to this connector.
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        let connect = Connect {
            direct: http,
            proxies: Arc::new(proxies),
        };
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .try_with_platform_verifier()
            .map_err(|e| Error::config(format!("cannot set up TLS certificate checks: {e}")))?
            .https_or_http();
        #[cfg(feature = "http2")]
        let connector = tls.enable_all_versions().wrap_connector(connect);
        #[cfg(not(feature = "http2"))]
        let connector = tls.enable_http1().wrap_connector(connect);
        let pool = Pool::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(Transport {
            pool,
            headers: default_headers,
        })
    }

    /// Send `call` and read the whole answer, within its timeout.
    pub(crate) async fn call(&self, call: Call) -> Result<Reply, Error> {
        let uri: Uri = call
            .url
            .parse()
            .map_err(|e| Error::invalid_request(format!("cannot build the request URL: {e}")))?;
        let mut request = http::Request::new(Full::new(call.body));
        *request.method_mut() = call.method;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        *headers = call.headers;
        for (name, value) in &self.headers {
            if !headers.contains_key(name) {
                headers.insert(name, value.clone());
            }
        }
        if request.body().size_hint().exact() == Some(0)
            && matches!(
                *request.method(),
                Method::POST | Method::PUT | Method::PATCH
            )
        {
            request
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
        }
        let exchange = async {
            let response = self.pool.request(request).await.map_err(|e| {
                let connect = e.is_connect();
                Error::transport(e, connect)
            })?;
            let (head, body) = response.into_parts();
            let body = read_body(body).await?;
            Ok(Reply {
                status: head.status.as_u16(),
                headers: head.headers,
                body,
            })
        };
        tokio::time::timeout(call.timeout, exchange)
            .await
            .map_err(Error::timeout)?
    }
}

/// A response body, whole. One chunk is returned as is; more are copied, as they arrive, into one
/// buffer sized by `Content-Length`, so a large body is held about once rather than twice (all
/// chunks, then their concatenation): the client's peak memory.
async fn read_body(mut body: Incoming) -> Result<Bytes, Error> {
    // The lower bound is the `Content-Length` when there is one, else 0.
    let reserve = body.size_hint().lower().min(MAX_PREALLOCATION) as usize;
    let Some(first) = next_chunk(&mut body).await? else {
        return Ok(Bytes::new());
    };
    let Some(second) = next_chunk(&mut body).await? else {
        return Ok(first);
    };
    let mut buf = Vec::with_capacity(reserve.max(first.len() + second.len()));
    buf.extend_from_slice(&first);
    drop(first);
    buf.extend_from_slice(&second);
    drop(second);
    while let Some(chunk) = next_chunk(&mut body).await? {
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// The next data chunk of a body (trailers are skipped), or `None` at its end.
async fn next_chunk(body: &mut Incoming) -> Result<Option<Bytes>, Error> {
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Error::transport(e, false))?;
        if let Ok(data) = frame.into_data() {
            return Ok(Some(data));
        }
    }
    Ok(None)
}

/// The connector under TLS: straight to the host, or, for HTTPS when a proxy applies, through a
/// CONNECT tunnel (with the proxy's credentials when its URL has them). Plain http (loopback
/// emulators, the metadata server) never goes through a proxy.
#[derive(Clone)]
pub(crate) struct Connect {
    direct: HttpConnector,
    proxies: Arc<Matcher>,
}

impl Service<Uri> for Connect {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.direct.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let proxy = if dst.scheme() == Some(&http::uri::Scheme::HTTPS) {
            self.proxies.intercept(&dst)
        } else {
            None
        };
        let mut direct = self.direct.clone();
        match proxy {
            None => Box::pin(async move { direct.call(dst).await.map_err(Into::into) }),
            Some(proxy) => Box::pin(async move {
                if proxy.uri().scheme() != Some(&http::uri::Scheme::HTTP) {
                    return Err(
                        "only http:// proxies are supported (HTTPS goes through them in \
                                a CONNECT tunnel)"
                            .into(),
                    );
                }
                let mut tunnel = Tunnel::new(proxy.uri().clone(), direct);
                if let Some(auth) = proxy.basic_auth() {
                    tunnel = tunnel.with_auth(auth.clone());
                }
                std::future::poll_fn(|cx| tunnel.poll_ready(cx)).await?;
                Ok(tunnel.call(dst).await?)
            }),
        }
    }
}
