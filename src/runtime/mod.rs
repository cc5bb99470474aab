//! The hand-written runtime that generated code calls: the [`Client`] and its one execution path,
//! [`Request`] descriptions, the [`Error`] type, access [`TokenSource`]s, typed [`FieldMask`]s,
//! pagination and JSON wire helpers.
//!
//! Everything generated code needs is public here (helpers for generated code only are
//! `#[doc(hidden)]`), so the output of the generator for *any* discovery document compiles in
//! another crate with `--runtime-path ::google_people::runtime`.

mod client;
mod error;
#[doc(hidden)]
pub mod fill;
pub(crate) mod httpdate;
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

pub use client::{Client, ClientBuilder, DEFAULT_TIMEOUT, decode, install_crypto_provider};
pub(crate) use client::{from_json_value, to_json_value};
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

/// The `Stream` trait list methods return (re-exported from `futures-core`).
pub use futures_util::Stream;

#[doc(hidden)]
pub use serde;
#[doc(hidden)]
pub use serde_json;
