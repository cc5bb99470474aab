//! A client for the Google People API v1, generated at build time from the API's discovery
//! document, with a small hand-written runtime.
//!
//! Every schema of the API is a type here ([`Person`], [`BatchUpdateContactsRequest`], ...) and
//! every method a typed call builder reached from the [`Client`]:
//!
//! ```no_run
//! # async fn example() -> Result<(), google_people::Error> {
//! use google_people::{Client, PersonField};
//!
//! let client = Client::builder().access_token("ya29.…").build()?;
//! let person = client
//!     .people()
//!     .get("people/me")
//!     .person_fields([PersonField::Names, PersonField::EmailAddresses])
//!     .send()
//!     .await?;
//! println!("{:?}", person.names);
//! # Ok(())
//! # }
//! ```
//!
//! The generated code comes from `discovery/people.v1.json`; [`DISCOVERY_REVISION`] names its
//! revision. Types are `#[non_exhaustive]` with `new()` and `set_*` setters, enums are open (an
//! unknown value is kept as `UnknownValue` and sent back unchanged), and every struct keeps JSON
//! fields it does not know in `unknown_fields`, so a read-modify-write never drops data a newer
//! server added.
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings), allow(dead_code))))]

pub mod auth;
pub mod batch;
pub mod runtime;

pub use runtime::{Client, ClientBuilder, Error, ErrorKind, FieldMask};

/// The generated People v1 API.
mod generated {
    include!(concat!(env!("OUT_DIR"), "/people_v1.rs"));
}

pub use generated::*;

/// The README's Rust examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
