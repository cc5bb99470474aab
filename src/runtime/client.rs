//! The client: configuration and the one request-execution path.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::header::{HeaderValue, RETRY_AFTER};
use serde::de::DeserializeOwned;

use super::transport::{Call, Proxies, Transport};
use super::urls::{check_base_url, join};
use super::{AccessToken, Error, NoAuth, Request, RetryPolicy, StaticToken, TokenSource};
use crate::quota::{Permit, QuotaMetric, QuotaUnits, RateLimit};

/// Default timeout for one request, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A People API client: cheap to clone (one shared connection pool and token source).
///
/// ```no_run
/// # async fn example() -> Result<(), google_people::Error> {
/// use google_people::{Client, PersonField};
///
/// let client = Client::builder().access_token("ya29.…").build()?;
/// let me = client.people().get("people/me").person_fields([PersonField::Names]).send().await?;
/// # let _ = me;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// The per-user quota budget every attempt spends, if any.
    limit: Option<RateLimit>,
}

struct Inner {
    http: Transport,
    base_url: Option<String>,
    tokens: Arc<dyn TokenSource>,
    timeout: Duration,
    retry: RetryPolicy,
    retries: AtomicU64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("tokens", &self.inner.tokens)
            .field("timeout", &self.inner.timeout)
            .field("rate_limit", &self.limit.as_ref().map(RateLimit::quota))
            .finish()
    }
}

/// Configures a [`Client`].
#[must_use]
pub struct ClientBuilder {
    retry: RetryPolicy,
    base_url: Option<String>,
    tokens: Option<Arc<dyn TokenSource>>,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: Option<String>,
    proxies: Proxies,
    http_client: Option<reqwest::Client>,
    limit: Option<RateLimit>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("tokens", &self.tokens)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Start configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            retry: RetryPolicy::default(),
            base_url: None,
            tokens: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: Duration::from_secs(10),
            user_agent: None,
            proxies: Proxies::FromEnv,
            http_client: None,
            limit: None,
        }
    }

    /// The same client (pool, token source, policies) with every request paced by `limit`, the
    /// budget of the user this client acts for (see [`RateLimit`]).
    #[must_use]
    pub fn with_rate_limit(&self, limit: RateLimit) -> Client {
        Client {
            inner: self.inner.clone(),
            limit: Some(limit),
        }
    }

    /// The per-user quota budget requests are paced by, if any.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.limit.as_ref()
    }

    /// The base URL requests go to when it was overridden (an emulator, a proxy).
    pub fn base_url(&self) -> Option<&str> {
        self.inner.base_url.as_deref()
    }

    /// The token source.
    pub fn token_source(&self) -> &Arc<dyn TokenSource> {
        &self.inner.tokens
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Retries this client (and its clones) has made so far.
    pub fn retry_count(&self) -> u64 {
        self.inner.retries.load(Ordering::Relaxed)
    }

    /// Send a request and decode the JSON response. The body is decoded within the retry loop:
    /// a truncated or undecodable success body of a request that is safe to replay (a read, an
    /// etag-guarded update) is retried like a 5xx; for a create it is an error that says the
    /// request may have been applied.
    pub async fn execute<T: DeserializeOwned + Send>(&self, request: Request) -> Result<T, Error> {
        self.execute_with(request, decode::<T>).await
    }

    /// [`execute`](Self::execute), decoding with `decode`. Generated calls pass their response
    /// type's `decode_response`, a plain function compiled once in the crate that defines the
    /// type: a release build does not share generic instances between crates, so decoding
    /// through a generic here would compile the type's whole deserializer again in every crate
    /// that makes the call.
    #[doc(hidden)]
    pub async fn execute_with<T: Send>(
        &self,
        request: Request,
        decode: fn(&[u8]) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut out = None;
        self.send_boxed(&request, &mut |body: bytes::Bytes| {
            out = Some(decode(&body)?);
            Ok(())
        })
        .await?;
        out.ok_or_else(|| Error::invalid_request("the response was not decoded"))
    }

    /// Send a request whose response has no body to decode.
    pub async fn execute_empty(&self, request: Request) -> Result<(), Error> {
        self.send_raw(&request).await.map(drop)
    }

    /// Send a request and return the body of a successful response. Failures are retried as the
    /// [`RetryPolicy`] allows for the request's [`Replay`](super::Replay) safety; a 401
    /// invalidates the token and the request is sent once more with a fresh one.
    pub async fn send_raw(&self, request: &Request) -> Result<bytes::Bytes, Error> {
        let mut out = None;
        self.send_boxed(request, &mut |body: bytes::Bytes| {
            out = Some(body);
            Ok(())
        })
        .await?;
        Ok(out.unwrap_or_default())
    }

    /// [`send_checked`](Self::send_checked)'s future, boxed by a plain function of this crate.
    /// The crate that awaits a call (the caller's) then polls it through a vtable: otherwise it
    /// compiles the retry loop, every HTTP-client call under it and their drop glue again, as
    /// a release build does not share those between crates. One allocation per call.
    #[inline(never)]
    fn send_boxed<'a>(
        &'a self,
        request: &'a Request,
        accept: &'a mut (dyn FnMut(bytes::Bytes) -> Result<(), Error> + Send),
    ) -> futures_util::future::BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.send_checked(request, accept))
    }

    /// The one execution path: send, hand a successful body to `accept` (which decodes it), and
    /// retry a failure of either as the policy allows. Not generic, so the retry loop is compiled
    /// once whatever the response types.
    async fn send_checked(
        &self,
        request: &Request,
        accept: &mut (dyn FnMut(bytes::Bytes) -> Result<(), Error> + Send),
    ) -> Result<(), Error> {
        let start = std::time::Instant::now();
        let mut attempts = 0;
        let mut may_have_applied = false;
        loop {
            attempts += 1;
            let result = match self.pace(request).await {
                Err(e) => Err(e),
                Ok(permit) => {
                    let sent = self.send_authorized(request).await;
                    self.settle(permit, request, &sent);
                    match sent {
                        Ok(body) => accept(body),
                        Err(e) => Err(e),
                    }
                }
            };
            let Err(mut e) = result else {
                return Ok(());
            };
            if may_have_applied {
                e.mark_may_have_applied();
            }
            match self
                .inner
                .retry
                .next_delay(attempts, start.elapsed(), &e, request.replay())
            {
                Some(delay) => {
                    // Counts and codes only: an error's text may quote contact data.
                    tracing::debug!(
                        method = request.method_id(),
                        attempt = attempts,
                        status = e.status(),
                        kind = ?e.kind(),
                        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                        "retrying"
                    );
                    may_have_applied |= e.may_have_reached_server();
                    self.inner.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(delay).await;
                }
                None => return Err(e),
            }
        }
    }

    /// Wait until the attempt's quota units fit the budget, if there is one.
    async fn pace(&self, request: &Request) -> Result<Option<Permit>, Error> {
        match &self.limit {
            None => Ok(None),
            Some(limit) => {
                let units = QuotaUnits::of_request(request);
                if units.is_zero() {
                    return Ok(None);
                }
                limit.acquire(units).await.map(Some)
            }
        }
    }

    /// Date or refund an attempt's spend; a 429 marks its metric spent for a window, so that
    /// this user's next requests wait (another client may be spending the same quota).
    fn settle(
        &self,
        permit: Option<Permit>,
        request: &Request,
        sent: &Result<bytes::Bytes, Error>,
    ) {
        let (Some(permit), Some(limit)) = (permit, &self.limit) else {
            return;
        };
        match sent {
            // Nothing reached the People API: no units were spent.
            Err(e) if e.is_connect() || e.is_auth() && e.status().is_none() => permit.refund(),
            Err(e) if e.status() == Some(429) => {
                permit.finish();
                match e.exceeded_quota() {
                    Some(m) => limit.exhausted(m),
                    None => QuotaUnits::of_request(request)
                        .iter()
                        .filter(|(m, _)| !m.is_daily())
                        .for_each(|(m, _): (QuotaMetric, u64)| limit.exhausted(m)),
                }
            }
            _ => permit.finish(),
        }
    }

    /// One attempt, with its 401 handling: a 401 means the server rejected the token before doing
    /// anything, so the token is dropped and the request sent once more with a fresh one.
    async fn send_authorized(&self, request: &Request) -> Result<bytes::Bytes, Error> {
        let mut retried_auth = false;
        loop {
            let token = self.inner.tokens.token().await?;
            match self.send_once(request, &token).await {
                Err(e)
                    if e.status() == Some(401) && !retried_auth && !token.secret().is_empty() =>
                {
                    self.inner.tokens.invalidate(&token);
                    retried_auth = true;
                }
                Err(e) => {
                    if e.status() == Some(401) {
                        self.inner.tokens.invalidate(&token);
                    }
                    return Err(e);
                }
                ok => return ok,
            }
        }
    }

    async fn send_once(
        &self,
        request: &Request,
        token: &AccessToken,
    ) -> Result<bytes::Bytes, Error> {
        let url = self.url_for(request)?;
        let mut call = Call::new(to_method(request.method()), url).timeout(self.inner.timeout);
        if !token.secret().is_empty() {
            call = call.bearer(token.secret())?;
        }
        if let Some(b) = request.body_bytes() {
            call = call.body("application/json", b);
        }
        let reply = self.inner.http.call(call).await?;
        if (200..300).contains(&reply.status) {
            return Ok(reply.body);
        }
        let retry_after = reply.headers.get(RETRY_AFTER).and_then(parse_retry_after);
        Err(Error::from_response(reply.status, retry_after, &reply.body))
    }

    fn url_for(&self, request: &Request) -> Result<String, Error> {
        // Generated calls refuse these before building the request; a hand-built one is checked
        // here, since a server would resolve them to another endpoint.
        if request
            .path()
            .split('/')
            .any(super::request::is_dot_segment)
        {
            return Err(Error::invalid_request(
                "the request path has a `.` or `..` segment: it would address another endpoint",
            ));
        }
        let base = self
            .inner
            .base_url
            .as_deref()
            .unwrap_or(request.default_base());
        Ok(join(base, request.path(), request.query_pairs()))
    }
}

/// Decode a JSON response body the way every generated call does: validate UTF-8 once for the
/// whole body (faster than serde_json's per-string checks), parse, and on failure name the JSON
/// path at fault. Only the parse is generic: the error paths are shared by every response type,
/// so each type's `Deserialize` is compiled once.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text).map_err(|e| decode_failure(text, e)),
        Err(e) => Err(invalid_utf8(body, e.valid_up_to())),
    }
}

/// `value` as a JSON tree, through the writer request bodies use ([`super::json`]). serde_json's
/// `to_value` would instantiate every generated `Serialize` impl, for serde_json's `Value`
/// serializer (the library's compile time and binary size); this costs a parse instead.
pub(crate) fn to_json_value<T: super::json::ToJson + ?Sized>(
    value: &T,
) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::from_slice(&super::json::to_vec(value))
}

/// A typed value from a JSON tree, through the text deserializer responses use (not a second
/// copy of every generated `Deserialize` impl for `Value`'s deserializer): see [`to_json_value`].
pub(crate) fn from_json_value<T: DeserializeOwned>(
    value: &serde_json::Value,
) -> Result<T, serde_json::Error> {
    serde_json::from_str(&value.to_string())
}

/// A body that parsed as UTF-8 but not as the expected type: the error, with the JSON path of
/// the value at fault.
#[inline(never)]
fn decode_failure(text: &str, e: serde_json::Error) -> Error {
    let at = super::jsonpath::offset_of(text, e.line(), e.column());
    let path = super::jsonpath::path_at(text, at);
    Error::decode(e, Some(path), text.as_bytes())
}

/// A body that is not UTF-8 from byte `valid` on: where, and in which value.
#[inline(never)]
fn invalid_utf8(body: &[u8], valid: usize) -> Error {
    let prefix = std::str::from_utf8(&body[..valid]).unwrap_or_default();
    let path = super::jsonpath::path_at(prefix, prefix.len());
    let e =
        <serde_json::Error as serde::de::Error>::custom(format!("invalid UTF-8 at byte {valid}"));
    Error::decode(e, Some(path), body)
}

fn to_method(m: super::HttpMethod) -> http::Method {
    use super::HttpMethod::*;
    match m {
        Get => http::Method::GET,
        Post => http::Method::POST,
        Put => http::Method::PUT,
        Patch => http::Method::PATCH,
        Delete => http::Method::DELETE,
    }
}

/// `Retry-After`: delay-seconds, or an HTTP-date (a date in the past means no wait). Anything
/// else (negative, fractional, garbage) is ignored. Huge values saturate; the retry policy's budget
/// decides whether such a wait is made at all.
pub(crate) fn parse_retry_after(v: &HeaderValue) -> Option<Duration> {
    let text = v.to_str().ok()?.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // Longer than u64: as long as it gets.
        return Some(Duration::from_secs(text.parse::<u64>().unwrap_or(u64::MAX)));
    }
    // IMF-fixdate and the two obsolete forms recipients must accept (RFC 9110 §5.6.7).
    let at = httpdate::parse_http_date(text).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

impl ClientBuilder {
    /// Send requests to this base URL instead of the API's (an emulator, a proxy). `http://` is
    /// accepted only for loopback hosts.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Use this token source.
    pub fn token_source(mut self, source: impl TokenSource + 'static) -> Self {
        self.tokens = Some(Arc::new(source));
        self
    }

    /// Use this shared token source.
    pub fn token_source_arc(mut self, source: Arc<dyn TokenSource>) -> Self {
        self.tokens = Some(source);
        self
    }

    /// Use a fixed access token.
    pub fn access_token(self, token: impl Into<String>) -> Self {
        self.token_source(StaticToken::new(token))
    }

    /// How failed requests are retried (default [`RetryPolicy::default`]; `RetryPolicy::never()`
    /// turns retries off).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Timeout for each request (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Timeout for establishing a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Text put before this library's own `User-Agent` (`my-app/1.0`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Send requests with the application's own `reqwest::Client` (its connection pool, proxies,
    /// TLS settings and timeouts). The requests still carry this library's `User-Agent` and
    /// `x-goog-api-client` headers (unless the client sets its own), its per-request timeout and
    /// retry policy; [`proxy`](Self::proxy), [`no_proxy`](Self::no_proxy) and
    /// [`connect_timeout`](Self::connect_timeout) are the client's business then.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Send HTTPS requests through this proxy (`http://[user:password@]host:port`, in a CONNECT
    /// tunnel), whatever the environment says. By default reqwest reads the environment:
    /// `HTTPS_PROXY` (or `https_proxy`, then `ALL_PROXY`) and `NO_PROXY`, as curl and Google's
    /// other clients do.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxies = Proxies::Url(url.into());
        self
    }

    /// Connect directly, ignoring `HTTPS_PROXY` and the like.
    pub fn no_proxy(mut self) -> Self {
        self.proxies = Proxies::Off;
        self
    }

    /// Pace every request by `limit`, the quota budget of the user the client acts for (see
    /// [`RateLimit`]; default: none, and the retry policy backs off on 429s).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Build the client. Fails on an invalid or insecure base URL.
    pub fn build(self) -> Result<Client, Error> {
        let base_url = self.base_url.as_deref().map(check_base_url).transpose()?;
        let ua = match &self.user_agent {
            Some(u) => format!("{u} google-people-rust/{VERSION}"),
            None => format!("google-people-rust/{VERSION}"),
        };
        let headers = [(
            "x-goog-api-client",
            format!("gdcl/{VERSION} gl-rust/unknown"),
        )];
        let http = match self.http_client {
            Some(client) => Transport::with_client(client, &ua, &headers)?,
            None => Transport::new(&ua, &headers, self.connect_timeout, self.proxies)?,
        };
        let tokens = self.tokens.unwrap_or_else(|| Arc::new(NoAuth));
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                tokens,
                timeout: self.timeout,
                retry: self.retry,
                retries: AtomicU64::new(0),
            }),
            limit: self.limit,
        })
    }
}

impl From<AccessToken> for StaticToken {
    fn from(t: AccessToken) -> Self {
        StaticToken::new(t.secret())
    }
}
