//! Every way a People API user gets a token, cached and safe.
//!
//! - [`StaticToken`](crate::runtime::StaticToken): a token you already have.
//! - [`AuthorizedUser`]: a personal account's refresh token (installed-app consent, or gcloud's
//!   `authorized_user` credentials); [`InstalledApp`] runs the consent flow that produces one.
//! - [`ServiceAccount`]: a key file and the JWT-bearer grant (RS256 signed with ring), with
//!   [`subject`](ServiceAccount::subject) for domain-wide delegation; [`DelegatedPool`] holds one
//!   per user for jobs that act for many users.
//! - [`IamSigner`]: domain-wide delegation without a key file. The IAM Credentials API's
//!   `signJwt` signs the assertion with the source credentials' token (the metadata server on
//!   Cloud Run, GKE or GCE); use it with [`ServiceAccount::keyless`] or
//!   [`DelegatedPool::keyless`].
//! - [`ImpersonatedServiceAccount`]: another service account's tokens via `generateAccessToken`,
//!   with an optional delegate chain (the `impersonated_service_account` ADC type).
//! - [`ExternalAccount`]: workload identity federation (the `external_account` ADC type): a
//!   file- or URL-sourced subject token exchanged at the STS, then optional impersonation.
//! - [`MetadataServer`]: code running on Google Cloud.
//! - [`Adc::discover`]: Google's order of application default credentials.
//!
//! Every provider caches its token until shortly before expiry and refreshes it once for all
//! concurrent callers; a failed refresh is reported to every waiter and the next call tries
//! again. A 401 from the API drops the token and the request is retried once with a fresh one.
//! Secrets (tokens, client secrets, refresh tokens, private keys, signed assertions, subject
//! tokens) never appear in `Debug`, `Display` or errors. Credentials that take several steps name
//! the one that failed in [`Error::auth_step`](crate::runtime::Error::auth_step).

mod adc;
mod authorized_user;
pub mod cache;
mod external;
mod http;
mod iam;
mod impersonated;
mod installed;
mod metadata;
mod pool;
mod secret;
mod service_account;

pub use adc::{Adc, AdcSource, METADATA_PROBE_TIMEOUT};
pub use authorized_user::{AuthorizedUser, GOOGLE_TOKEN_URI};
pub use external::{ExternalAccount, STS_TOKEN_URL};
pub use iam::{CLOUD_PLATFORM_SCOPE, IAM_CREDENTIALS_BASE, IamSigner};
pub use impersonated::{
    DEFAULT_IMPERSONATION_LIFETIME, ImpersonatedServiceAccount, ImpersonationBuilder,
};
pub use installed::{Authorized, GOOGLE_AUTH_URI, InstalledApp};
pub use metadata::{METADATA_BASE, MetadataServer};
pub use pool::DelegatedPool;
pub use secret::Secret;
pub use service_account::{CONTACTS_SCOPE, ServiceAccount, ServiceAccountKey};
