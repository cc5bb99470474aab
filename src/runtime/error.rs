//! The library's one error type.
//!
//! [`Error`] is opaque with predicates (`is_retryable()`, `is_timeout()`, `status()`) and a
//! [`kind()`](Error::kind). API errors carry Google's JSON error body parsed into [`ApiError`]:
//! both the `status`/`details` form and the legacy `errors[]` form, with typed details
//! (ErrorInfo, BadRequest, QuotaFailure, RetryInfo, per-contact batch errors). No secret ever
//! appears in an error, and a response body is never included whole: at most a short excerpt.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// Which kind of failure an [`Error`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request was rejected before anything was sent: a bad resource name, too many items,
    /// an invalid field mask.
    InvalidRequest,
    /// The client was configured wrongly (for example a plain `http://` URL to a remote host).
    Config,
    /// No access token could be obtained.
    Auth,
    /// The connection failed or broke before a complete response arrived.
    Transport,
    /// The server answered with an error status.
    Api,
    /// A successful response body could not be decoded.
    Decode,
    /// The request did not complete within its timeout.
    Timeout,
    /// The client's own quota budget ([`RateLimit`](crate::quota::RateLimit)) refused the request
    /// (its daily units do not fit today): nothing was sent.
    Quota,
}

/// Which step of getting a token failed, for credentials that take several (keyless delegation,
/// impersonation, workload identity federation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthStep {
    /// Getting the source credentials' own token (the metadata server, a user's refresh token).
    SourceToken,
    /// Reading a workload's subject token (a file or a URL), for workload identity federation.
    SubjectToken,
    /// The Security Token Service exchange of a subject token for a federated token.
    StsExchange,
    /// The IAM Credentials API's `signJwt`: signing the delegation assertion without a key file.
    SignJwt,
    /// The IAM Credentials API's `generateAccessToken`: a token of an impersonated service account.
    GenerateAccessToken,
    /// The token endpoint's exchange of a signed assertion (the JWT-bearer grant).
    TokenExchange,
}

impl fmt::Display for AuthStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SourceToken => "source credentials",
            Self::SubjectToken => "subject token",
            Self::StsExchange => "STS token exchange",
            Self::SignJwt => "IAM signJwt",
            Self::GenerateAccessToken => "IAM generateAccessToken",
            Self::TokenExchange => "token endpoint exchange",
        })
    }
}

/// An error from the People client.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    connect: bool,
    may_have_applied: bool,
    api: Option<ApiError>,
    oauth: Option<OAuthError>,
    step: Option<AuthStep>,
    excerpt: Option<String>,
    json_path: Option<String>,
    quota: Option<crate::quota::QuotaMetric>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

/// Longest body excerpt kept in an error, in characters.
const EXCERPT_CHARS: usize = 160;

impl Error {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                connect: false,
                may_have_applied: false,
                api: None,
                oauth: None,
                step: None,
                excerpt: None,
                json_path: None,
                quota: None,
                source: None,
            }),
        }
    }

    fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// A request rejected before sending.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    /// A configuration error.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// An authentication failure, for [`TokenSource`](super::TokenSource) implementations. The
    /// message must not contain secrets.
    pub fn auth(
        message: impl Into<String>,
        source: Option<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        let mut e = Self::new(ErrorKind::Auth, message);
        e.inner.source = source;
        e
    }

    /// A token endpoint's OAuth2 error (`invalid_grant`, `unauthorized_client`, ...).
    pub fn oauth(oauth: OAuthError) -> Self {
        let msg = match &oauth.description {
            Some(d) => format!(
                "token endpoint answered HTTP {} {}: {d}",
                oauth.http_status, oauth.error
            ),
            None => format!(
                "token endpoint answered HTTP {} {}",
                oauth.http_status, oauth.error
            ),
        };
        let mut e = Self::new(ErrorKind::Auth, msg);
        e.inner.oauth = Some(oauth);
        e
    }

    /// The same failure for another waiter: used when one token refresh fails for every caller
    /// that was waiting for it.
    pub fn shared(source: std::sync::Arc<Error>) -> Self {
        let mut e = Self::new(source.kind(), source.inner.message.clone());
        e.inner.api = source.inner.api.clone();
        e.inner.oauth = source.inner.oauth.clone();
        e.inner.step = source.inner.step;
        e.inner.quota = source.inner.quota;
        e.inner.source = Some(Box::new(SharedError(source)));
        e
    }

    /// An authentication failure at `step`: the message is prefixed with the step, and the kind
    /// becomes [`ErrorKind::Auth`]; an API error body (an IAM `PERMISSION_DENIED`) or OAuth error
    /// it carries stays readable. An error that already names a step keeps it (the innermost step
    /// is the one that failed).
    pub fn at_step(mut self, step: AuthStep) -> Self {
        if self.inner.step.is_some() {
            return self;
        }
        let detail = self.to_string();
        self.inner.message = format!("{step}: {detail}");
        self.inner.kind = ErrorKind::Auth;
        self.inner.step = Some(step);
        self
    }

    /// Which step of a multi-step credential failed, for [`ErrorKind::Auth`] errors from
    /// keyless delegation, impersonation and workload identity federation.
    pub fn auth_step(&self) -> Option<AuthStep> {
        self.inner.step
    }

    /// The token endpoint's OAuth2 error, for [`ErrorKind::Auth`] failures that have one.
    pub fn oauth_error(&self) -> Option<&OAuthError> {
        self.inner.oauth.as_ref()
    }

    /// A failure to connect (`connect`: nothing was sent), or of the connection once the request
    /// was under way. The message names each cause in turn; none of them carries the URL.
    pub(crate) fn transport(
        source: impl Into<Box<dyn StdError + Send + Sync>>,
        connect: bool,
    ) -> Self {
        let source = source.into();
        let mut msg = format!("transport error: {source}");
        let mut cause = source.source();
        while let Some(c) = cause {
            msg.push_str(": ");
            msg.push_str(&c.to_string());
            cause = c.source();
        }
        let mut e = Self::new(ErrorKind::Transport, msg).with_source(source);
        e.inner.connect = connect;
        e
    }

    pub(crate) fn timeout(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(ErrorKind::Timeout, "the request timed out").with_source(source)
    }

    /// An error response: parse Google's JSON error body, or describe a body that is not one.
    pub fn from_response(http_status: u16, retry_after: Option<Duration>, body: &[u8]) -> Self {
        let api = ApiError::parse(http_status, body);
        let mut e = Self::new(ErrorKind::Api, String::new());
        let mut api = match api {
            Some(a) => a,
            None => {
                let excerpt = excerpt(body);
                e.inner.excerpt = Some(excerpt.clone());
                ApiError {
                    http_status,
                    code: None,
                    message: if body.is_empty() {
                        "empty error body".into()
                    } else {
                        format!("error body is not a Google JSON error: {excerpt}")
                    },
                    status: None,
                    details: Vec::new(),
                    errors: Vec::new(),
                    retry_after: None,
                }
            }
        };
        if api.retry_after.is_none() {
            api.retry_after = retry_after.map(|d| d.min(MAX_HINT));
        }
        e.inner.api = Some(api);
        e
    }

    /// A successful response whose body did not decode.
    pub(crate) fn decode(err: serde_json::Error, json_path: Option<String>, body: &[u8]) -> Self {
        let what = if err.is_eof() {
            "the response body is truncated"
        } else {
            "the response body does not decode"
        };
        let at = json_path
            .as_deref()
            .filter(|p| !p.is_empty() && *p != ".")
            .map(|p| format!(" at `{p}`"))
            .unwrap_or_default();
        let mut e = Self::new(ErrorKind::Decode, format!("{what}{at}: {err}"));
        e.inner.json_path = json_path;
        e.inner.excerpt = Some(excerpt(body));
        e.with_source(err)
    }

    /// A request the client's own quota budget refused: nothing was sent.
    pub fn quota(metric: crate::quota::QuotaMetric, message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorKind::Quota, message);
        e.inner.quota = Some(metric);
        e
    }

    /// The quota metric a 429 names (its `ErrorInfo`'s `quota_metric` or `quota_limit`), or the
    /// one the client's own budget refused the request for.
    pub fn exceeded_quota(&self) -> Option<crate::quota::QuotaMetric> {
        if let Some(m) = self.inner.quota {
            return Some(m);
        }
        let api = self.inner.api.as_ref()?;
        api.details.iter().find_map(|d| match d {
            ErrorDetail::ErrorInfo(i) => crate::quota::QuotaMetric::from_error_info(
                i.metadata.get("quota_metric").map_or("", String::as_str),
                i.metadata.get("quota_limit").map_or("", String::as_str),
            ),
            _ => None,
        })
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The parsed error response, for [`ErrorKind::Api`] (and token endpoint errors).
    pub fn api_error(&self) -> Option<&ApiError> {
        self.inner.api.as_ref()
    }

    /// The HTTP status of an error response.
    pub fn status(&self) -> Option<u16> {
        self.inner.api.as_ref().map(|a| a.http_status)
    }

    /// Google's canonical status string (`FAILED_PRECONDITION`, `RESOURCE_EXHAUSTED`, ...).
    pub fn rpc_status(&self) -> Option<&str> {
        self.inner.api.as_ref().and_then(|a| a.status.as_deref())
    }

    /// A short excerpt of a body that was not a Google JSON error or did not decode.
    pub fn body_excerpt(&self) -> Option<&str> {
        self.inner.excerpt.as_deref()
    }

    /// The JSON path at which a body failed to decode.
    pub fn json_path(&self) -> Option<&str> {
        self.inner.json_path.as_deref()
    }

    /// Rejected before sending.
    pub fn is_invalid_request(&self) -> bool {
        self.inner.kind == ErrorKind::InvalidRequest
    }

    /// A timeout.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// A transport failure.
    pub fn is_transport(&self) -> bool {
        self.inner.kind == ErrorKind::Transport
    }

    /// An authentication failure, or an HTTP 401 from the API.
    pub fn is_auth(&self) -> bool {
        self.inner.kind == ErrorKind::Auth || self.status() == Some(401)
    }

    /// The connection could not be established: the request certainly never reached the server.
    pub fn is_connect(&self) -> bool {
        self.inner.connect
    }

    /// Whether the request may have reached the server and been processed although this
    /// attempt failed: a broken connection after sending, a timeout, or a 5xx.
    pub fn may_have_reached_server(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Transport => !self.inner.connect,
            ErrorKind::Timeout | ErrorKind::Decode => true,
            ErrorKind::Api => self.status().is_some_and(|s| s >= 500),
            _ => false,
        }
    }

    /// An earlier attempt of this request failed in a way that may have applied it (see
    /// [`may_have_reached_server`](Self::may_have_reached_server)), so this error (for example an
    /// etag mismatch on the replay) does not prove the change was not made.
    pub fn may_have_applied(&self) -> bool {
        self.inner.may_have_applied
    }

    pub(crate) fn mark_may_have_applied(&mut self) {
        self.inner.may_have_applied = true;
    }

    /// A decode failure of a successful response.
    pub fn is_decode(&self) -> bool {
        self.inner.kind == ErrorKind::Decode
    }

    /// The server rejected a stale or missing etag (`FAILED_PRECONDITION`, or a 400 whose legacy
    /// reason is `failedPrecondition`).
    pub fn is_etag_mismatch(&self) -> bool {
        self.inner.api.as_ref().is_some_and(|a| {
            a.status.as_deref() == Some("FAILED_PRECONDITION")
                || a.errors
                    .iter()
                    .any(|e| e.reason.as_deref() == Some("failedPrecondition"))
        })
    }

    /// Rate limited: HTTP 429 or `RESOURCE_EXHAUSTED`.
    pub fn is_rate_limited(&self) -> bool {
        self.inner.api.as_ref().is_some_and(|a| {
            a.http_status == 429 || a.status.as_deref() == Some("RESOURCE_EXHAUSTED")
        })
    }

    /// Whether trying the same request again may succeed: transport errors, timeouts, 408, 429,
    /// 500, 502, 503, 504, and a successful status whose body was truncated or did not decode (a
    /// proxy or a broken connection mangled it). Whether a retry is *safe* depends on the method
    /// (a create is not idempotent, and a 5xx or a mangled body may come after processing); the
    /// retry policy decides that.
    pub fn is_retryable(&self) -> bool {
        match self.inner.kind {
            ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Decode => true,
            // A daily quota is not back within any retry budget.
            ErrorKind::Api if self.status() == Some(429) => {
                self.exceeded_quota().is_none_or(|m| !m.is_daily())
            }
            ErrorKind::Api => matches!(self.status(), Some(408 | 500 | 502 | 503 | 504)),
            _ => false,
        }
    }

    /// How long the server asked to wait: `Retry-After` or a `RetryInfo` detail.
    pub fn retry_after(&self) -> Option<Duration> {
        let api = self.inner.api.as_ref()?;
        api.details
            .iter()
            .find_map(|d| match d {
                ErrorDetail::RetryInfo(r) => Some(r.retry_delay),
                _ => None,
            })
            .or(api.retry_after)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind);
        if !self.inner.message.is_empty() {
            d.field("message", &self.inner.message);
        }
        if let Some(a) = &self.inner.api {
            d.field("api", a);
        }
        if let Some(o) = &self.inner.oauth {
            d.field("oauth", o);
        }
        if let Some(s) = &self.inner.step {
            d.field("step", s);
        }
        if let Some(s) = &self.inner.source {
            d.field("source", &s.to_string());
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inner.step.is_some() {
            return f.write_str(&self.inner.message);
        }
        match (&self.inner.api, self.inner.kind) {
            (Some(a), ErrorKind::Api) => {
                write!(f, "HTTP {}", a.http_status)?;
                if let Some(s) = &a.status {
                    write!(f, " {s}")?;
                }
                write!(f, ": {}", a.message)
            }
            (Some(a), _) => write!(f, "{}: {}", self.inner.message, a.message),
            _ => f.write_str(&self.inner.message),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// An error shared by several waiters, as a `source()`.
struct SharedError(std::sync::Arc<Error>);

impl fmt::Debug for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl StdError for SharedError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

/// An OAuth2 token endpoint error: `{"error": "invalid_grant", "error_description": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthError {
    /// The HTTP status of the token endpoint's answer.
    pub http_status: u16,
    /// `error`: `invalid_grant`, `invalid_client`, `unauthorized_client`, `invalid_scope`, ...
    pub error: String,
    /// `error_description`, if sent.
    pub description: Option<String>,
}

impl OAuthError {
    /// Parse a token endpoint's error body; `None` when it is not one.
    pub fn parse(http_status: u16, body: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let error = v.get("error")?.as_str()?.to_string();
        Some(Self {
            http_status,
            error,
            description: opt_str(&v, "error_description"),
        })
    }
}

/// A short, printable excerpt of a body: at most [`EXCERPT_CHARS`] characters, control
/// characters replaced.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_CHARS * 4)]);
    let mut out: String = text
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > EXCERPT_CHARS || body.len() > EXCERPT_CHARS * 4 {
        out.push('…');
    }
    out
}

/// Google's JSON error body, parsed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status of the response.
    pub http_status: u16,
    /// `error.code` as sent (normally equal to the HTTP status).
    pub code: Option<i64>,
    /// `error.message`.
    pub message: String,
    /// `error.status`: the canonical code name (`INVALID_ARGUMENT`, `FAILED_PRECONDITION`, ...).
    pub status: Option<String>,
    /// `error.details`, typed where the type is known.
    pub details: Vec<ErrorDetail>,
    /// The legacy `error.errors[]`.
    pub errors: Vec<LegacyError>,
    /// The `Retry-After` header, if the response had one.
    pub retry_after: Option<Duration>,
}

/// One entry of the legacy `error.errors[]` list.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LegacyError {
    /// `reason` (`badRequest`, `failedPrecondition`, `rateLimitExceeded`, ...).
    pub reason: Option<String>,
    /// `domain` (`global`, `usageLimits`, ...).
    pub domain: Option<String>,
    /// `message`.
    pub message: Option<String>,
}

/// A typed entry of `error.details`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ErrorDetail {
    /// `google.rpc.ErrorInfo`.
    ErrorInfo(ErrorInfo),
    /// `google.rpc.BadRequest`.
    BadRequest(BadRequest),
    /// `google.rpc.QuotaFailure`.
    QuotaFailure(QuotaFailure),
    /// `google.rpc.RetryInfo`.
    RetryInfo(RetryInfo),
    /// Per-contact errors of a batch method (`BatchUpdateContactsErrorDetails`,
    /// `BatchCreateContactsErrorDetails`, ...).
    ContactErrors(ContactErrors),
    /// Any other detail, as sent.
    Other(Value),
}

/// `google.rpc.ErrorInfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorInfo {
    /// `reason`, e.g. `RATE_LIMIT_EXCEEDED`, `ACCESS_TOKEN_SCOPE_INSUFFICIENT`.
    pub reason: String,
    /// `domain`, e.g. `googleapis.com`.
    pub domain: String,
    /// `metadata`.
    pub metadata: BTreeMap<String, String>,
}

/// `google.rpc.BadRequest`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BadRequest {
    /// `fieldViolations`.
    pub field_violations: Vec<FieldViolation>,
}

/// One `google.rpc.BadRequest.FieldViolation`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldViolation {
    /// The field at fault, e.g. `contacts[people/c123]` or `update_mask`.
    pub field: String,
    /// What is wrong with it.
    pub description: String,
}

/// `google.rpc.QuotaFailure`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct QuotaFailure {
    /// `violations`: (subject, description).
    pub violations: Vec<(String, String)>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryInfo {
    /// `retryDelay`.
    pub retry_delay: Duration,
}

/// Per-contact errors of a batch method, keyed by resource name (or by 0-based index, as a
/// string, where the API keys them by position).
///
/// Google documents that these details exist but publishes no example body; the shape parsed
/// here is `{"@type": "…ContactsErrorDetails", "contactErrors": {key: google.rpc.Status}}` or
/// with `contactErrors` as a list (keys `"0"`, `"1"`, ...).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ContactErrors {
    /// The detail's type name, e.g. `BatchUpdateContactsErrorDetails`.
    pub type_name: String,
    /// The error of each failed contact.
    pub errors: BTreeMap<String, RpcStatus>,
}

/// A `google.rpc.Status`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RpcStatus {
    /// Numeric canonical code (3 = INVALID_ARGUMENT, 5 = NOT_FOUND, 9 = FAILED_PRECONDITION).
    pub code: i64,
    /// Message.
    pub message: String,
    /// Details, as sent.
    pub details: Vec<Value>,
}

impl RpcStatus {
    fn parse(v: &Value) -> Self {
        Self {
            code: v.get("code").and_then(Value::as_i64).unwrap_or(0),
            message: str_of(v, "message"),
            details: v
                .get("details")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
        }
    }
}

fn str_of(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn opt_str(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// The longest delay a server hint is read as: a year (more is the same as "not within any retry
/// budget", and keeps every later addition far from overflow).
const MAX_HINT: Duration = Duration::from_secs(86_400 * 365);

/// Parse a protobuf JSON duration: `"1.5s"`. Negative, non-finite or malformed values are
/// `None`; huge ones saturate at [`MAX_HINT`].
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let secs = s.strip_suffix('s')?;
    let f: f64 = secs.parse().ok()?;
    (f.is_finite() && f >= 0.0).then(|| Duration::from_secs_f64(f.min(MAX_HINT.as_secs_f64())))
}

/// A `google.protobuf.Duration` as sent: the JSON string form, or the `{seconds, nanos}` object
/// some servers and proxies emit (seconds as a number or a string). Saturates at [`MAX_HINT`].
fn duration_value(v: &Value) -> Option<Duration> {
    match v {
        Value::String(s) => parse_duration(s),
        Value::Object(o) => {
            let secs = match o.get("seconds") {
                None => 0.0,
                Some(Value::String(s)) => s.parse::<f64>().ok()?,
                Some(n) => n.as_f64()?,
            };
            let nanos = o.get("nanos").map_or(Some(0.0), Value::as_f64)?;
            let total = secs + nanos / 1e9;
            (total.is_finite() && total >= 0.0)
                .then(|| Duration::from_secs_f64(total.min(MAX_HINT.as_secs_f64())))
        }
        _ => None,
    }
}

impl ApiError {
    /// Parse `{"error": {...}}`; `None` when the body is not a Google JSON error.
    pub fn parse(http_status: u16, body: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let e = v.get("error")?;
        if !e.is_object() {
            return None;
        }
        let errors = e
            .get("errors")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|x| LegacyError {
                        reason: opt_str(x, "reason"),
                        domain: opt_str(x, "domain"),
                        message: opt_str(x, "message"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let details = e
            .get("details")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(ErrorDetail::parse).collect())
            .unwrap_or_default();
        Some(Self {
            http_status,
            code: e.get("code").and_then(Value::as_i64),
            message: str_of(e, "message"),
            status: opt_str(e, "status"),
            details,
            errors,
            retry_after: None,
        })
    }

    /// The `ErrorInfo` reason, if any (`RATE_LIMIT_EXCEEDED`, ...).
    pub fn reason(&self) -> Option<&str> {
        self.details.iter().find_map(|d| match d {
            ErrorDetail::ErrorInfo(i) => Some(i.reason.as_str()),
            _ => None,
        })
    }

    /// The per-contact errors, merged from `ContactErrors` details.
    pub fn contact_errors(&self) -> BTreeMap<&str, &RpcStatus> {
        let mut out = BTreeMap::new();
        for d in &self.details {
            if let ErrorDetail::ContactErrors(c) = d {
                for (k, v) in &c.errors {
                    out.insert(k.as_str(), v);
                }
            }
        }
        out
    }

    /// `BadRequest` field violations.
    pub fn field_violations(&self) -> impl Iterator<Item = &FieldViolation> {
        self.details.iter().flat_map(|d| match d {
            ErrorDetail::BadRequest(b) => b.field_violations.as_slice(),
            _ => &[],
        })
    }
}

impl ErrorDetail {
    fn parse(v: &Value) -> Self {
        let ty = v.get("@type").and_then(Value::as_str).unwrap_or_default();
        let name = ty.rsplit(['/', '.']).next().unwrap_or_default();
        match name {
            "ErrorInfo" => Self::ErrorInfo(ErrorInfo {
                reason: str_of(v, "reason"),
                domain: str_of(v, "domain"),
                metadata: v
                    .get("metadata")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            "BadRequest" => Self::BadRequest(BadRequest {
                field_violations: v
                    .get("fieldViolations")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|f| FieldViolation {
                                field: str_of(f, "field"),
                                description: str_of(f, "description"),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            "QuotaFailure" => Self::QuotaFailure(QuotaFailure {
                violations: v
                    .get("violations")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|x| (str_of(x, "subject"), str_of(x, "description")))
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            "RetryInfo" => match v.get("retryDelay").and_then(duration_value) {
                Some(d) => Self::RetryInfo(RetryInfo { retry_delay: d }),
                None => Self::Other(v.clone()),
            },
            n if n.ends_with("ContactsErrorDetails") => {
                let errors = match v.get("contactErrors") {
                    Some(Value::Object(m)) => m
                        .iter()
                        .map(|(k, s)| (k.clone(), RpcStatus::parse(s)))
                        .collect(),
                    Some(Value::Array(a)) => a
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (i.to_string(), RpcStatus::parse(s)))
                        .collect(),
                    _ => BTreeMap::new(),
                };
                Self::ContactErrors(ContactErrors {
                    type_name: n.to_string(),
                    errors,
                })
            }
            _ => Self::Other(v.clone()),
        }
    }
}
