//! The hand-written runtime that generated code calls: the [`Client`] and its one execution path,
//! [`Request`] descriptions, the [`Error`] type, access [`TokenSource`]s, typed [`FieldMask`]s,
//! pagination and JSON wire helpers.
//!
//! Everything generated code needs is public here (helpers for generated code only are
//! `#[doc(hidden)]`), so the output of the generator for *any* discovery document compiles in
//! another crate with `--runtime-path ::google_people::runtime`.

mod client;
pub(crate) mod crypto;
mod error;
#[doc(hidden)]
pub mod fill;
#[doc(hidden)]
pub mod json;
mod jsonpath;
mod mask;
#[doc(hidden)]
pub mod paginate;
mod pattern;
mod request;
mod retry;
mod token;
pub(crate) mod transport;
mod unknown;
pub(crate) mod urls;
#[doc(hidden)]
pub mod wire;

pub use client::{Client, ClientBuilder, DEFAULT_TIMEOUT, decode};
pub(crate) use client::{from_json_value, to_json_value};
pub use crypto::install_crypto_provider;
pub use error::{
    ApiError, AuthStep, BadRequest, ContactErrors, Error, ErrorDetail, ErrorInfo, ErrorKind,
    FieldViolation, LegacyError, OAuthError, QuotaFailure, RetryInfo, RpcStatus,
};
pub use mask::{FieldMask, MaskField};
pub use request::{HttpMethod, Request};
#[doc(hidden)]
pub use request::{check_max_items, check_not_empty, check_pattern, push_path_param};
pub use retry::{Replay, RetryPolicy};
pub use token::{AccessToken, BoxFuture, NoAuth, StaticToken, TokenSource};
pub use unknown::UnknownFields;
pub use urls::check_base_url;

/// The instant an RFC 3339 timestamp names (`2014-10-02T15:01:23Z`, `...T15:01:23.123456789Z`,
/// `...T17:01:23+02:00`: any offset, any number of fraction digits, as RFC 3339 allows), as
/// Google's APIs send `google.protobuf.Timestamp`; `None` for anything else.
pub(crate) fn rfc3339(text: &str) -> Option<std::time::SystemTime> {
    let t = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(t.into())
}

/// The `Stream` trait list methods return (re-exported from `futures-core`).
pub use futures_util::Stream;

#[doc(hidden)]
pub use serde;
#[doc(hidden)]
pub use serde_json;

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use http::HeaderValue;

    fn secs(t: std::time::SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    #[test]
    fn rfc3339_as_the_rfc_writes_it() {
        let at = |s: &str| super::rfc3339(s).map(secs);
        assert_eq!(at("2014-10-02T15:01:23Z"), Some(1_412_262_083));
        assert_eq!(at("2014-10-02T15:01:23.045123456Z"), Some(1_412_262_083));
        // Offsets, and more fraction digits than nanoseconds hold.
        assert_eq!(at("2014-10-02T15:01:23+00:00"), Some(1_412_262_083));
        assert_eq!(at("2014-10-02T20:31:23+05:30"), Some(1_412_262_083));
        assert_eq!(
            at("2014-10-02T15:01:23.1234567891234Z"),
            Some(1_412_262_083)
        );
        for bad in [
            "2014-10-02T15:01:23.Z",
            "2014-10-02 15:01:23",
            "2014-13-02T15:01:23Z",
            "2014-10-02T15:01:23",
            "",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }

    #[test]
    fn retry_after_dates_are_http_dates() {
        let wait = |s: &str| super::client::parse_retry_after(&HeaderValue::from_str(s).unwrap());
        // A date in the past: no wait.
        assert_eq!(wait("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(wait("Sunday, 06-Nov-94 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(wait("Sun Nov  6 08:49:37 1994"), Some(Duration::ZERO));
        for bad in [
            "Funday, 06 Nov 1994 08:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun,  06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:60 GMT",
            "-1",
            "1.5",
        ] {
            assert_eq!(wait(bad), None, "{bad}");
        }
        assert_eq!(wait("120"), Some(Duration::from_secs(120)));
    }
}
