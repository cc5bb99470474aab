//! A client for the Google People API v1, generated at build time from the API's discovery
//! document, with a small hand-written runtime, auth, and batch helpers that never lose a contact.
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
//! The crate is in four parts:
//!
//! - the generated API (this module's types and call builders), from `discovery/people.v1.json`;
//!   [`DISCOVERY_REVISION`] names its revision. Types are `#[non_exhaustive]` with `new()` and
//!   `set_*` setters, enums are open (an unknown value is kept as `UnknownValue` and sent back
//!   unchanged), and every struct keeps JSON fields it does not know in `unknown_fields`, so a
//!   read-modify-write never drops data a newer server added;
//! - [`runtime`]: the [`Client`], [`Error`], [`FieldMask`], pagination and the
//!   [`RetryPolicy`](runtime::RetryPolicy) every call goes through;
//! - [`auth`]: access tokens, refresh tokens, installed-app consent, service accounts with
//!   domain-wide delegation, application default credentials, the metadata server;
//! - [`batch`]: `batchUpdateContacts` (and bulk create and delete) for any number of contacts, with
//!   an outcome per contact and nothing lost or applied twice under faults.
//!
//! A whole round trip, against the local emulator (`google-people-emulator`, which your tests can
//! use too): update 500 contacts in 3 requests and see every one updated.
//!
//! ```
//! use futures_util::StreamExt as _;
//! use google_people::batch::{BatchUpdate, Outcome};
//! use google_people::{Client, Name, Person, PersonField};
//! use google_people_emulator::Emulator;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let emu = Emulator::start().await?;
//! let names = emu.seed_contacts("ada@example.com", 500);
//! let client = Client::builder()
//!     .base_url(emu.base_url())
//!     .access_token(emu.issue_token("ada@example.com"))
//!     .build()?;
//!
//! // Read the contacts (for their etags), 200 at a time.
//! let mut updates = Vec::new();
//! for chunk in names.chunks(200) {
//!     let read = client
//!         .people()
//!         .get_batch_get()
//!         .resource_names(chunk.iter().cloned())
//!         .person_fields([PersonField::Names])
//!         .send()
//!         .await?;
//!     for r in read.responses.unwrap_or_default() {
//!         let person = r.person.ok_or("missing person")?;
//!         let update = Person::new()
//!             .set_etag(person.etag.clone().unwrap_or_default())
//!             .set_names([Name::new().set_given_name("Ada").set_family_name("Lovelace")]);
//!         updates.push((person.resource_name.clone().unwrap_or_default(), update));
//!     }
//! }
//!
//! // Write them back: 200 a request, an outcome per contact.
//! let job = BatchUpdate::new(&client, [PersonField::Names])?;
//! let outcomes: Vec<Outcome> = job.run(updates).collect().await;
//! assert!(outcomes.iter().all(Outcome::is_updated));
//! assert_eq!(job.summary().requests, 3);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings), allow(dead_code))))]

pub mod auth;
pub mod batch;
pub mod quota;
pub mod runtime;
pub mod sync;

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
