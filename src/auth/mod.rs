//! Every way a People API user gets a token, cached and safe.
//!
//! - [`StaticToken`](crate::runtime::StaticToken): a token you already have.
//! - [`AuthorizedUser`]: a personal account's refresh token (installed-app consent, or gcloud's
//!   `authorized_user` credentials); [`InstalledApp`] runs the consent flow that produces one.
//! - [`ServiceAccount`]: a key file and the JWT-bearer grant (RS256 signed with ring), with
//!   [`subject`](ServiceAccount::subject) for domain-wide delegation; [`DelegatedPool`] holds one
//!   per user for jobs that act for many users.
//! - [`MetadataServer`]: code running on Google Cloud.
//! - [`Adc::discover`]: Google's order of application default credentials.
//!
//! Every provider caches its token until shortly before expiry and refreshes it once for all
//! concurrent callers; a failed refresh is reported to every waiter and the next call tries
//! again. A 401 from the API drops the token and the request is retried once with a fresh one.
//! Secrets (tokens, client secrets, refresh tokens, private keys) never appear in `Debug`,
//! `Display` or errors.

mod adc;
mod authorized_user;
pub mod cache;
mod http;
mod installed;
mod metadata;
mod pool;
mod secret;
mod service_account;

pub use adc::{Adc, AdcSource, METADATA_PROBE_TIMEOUT};
pub use authorized_user::{AuthorizedUser, GOOGLE_TOKEN_URI};
pub use installed::{Authorized, GOOGLE_AUTH_URI, InstalledApp};
pub use metadata::{METADATA_BASE, MetadataServer};
pub use pool::DelegatedPool;
pub use secret::Secret;
pub use service_account::{CONTACTS_SCOPE, ServiceAccount, ServiceAccountKey};
