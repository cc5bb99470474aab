//! A local Google People API for tests, examples and your own test suites: real HTTP on
//! 127.0.0.1, contacts kept per user as JSON, Google's semantics where clients get them wrong
//! (etags, masks, atomic batches, limits, sync tokens), an OAuth2 token endpoint, and faults you
//! script from tests.
//!
//! ```no_run
//! # async fn example() {
//! use google_people_emulator::{Emulator, Fault, FaultRule};
//!
//! let emu = Emulator::start().await.unwrap();
//! let token = emu.issue_token("alice@example.com");
//! let names = emu.seed_contacts("alice@example.com", 1_000);
//! emu.add_fault(FaultRule::new(Fault::Status(503)).method("people.batchUpdateContacts").nth(2));
//! // Point a client at emu.base_url() with `token`, then assert on emu.contacts(..) and
//! // emu.request_count(..).
//! # let _ = (token, names);
//! # }
//! ```
//!
//! Served: all 24 methods of People v1: contacts, batches, `connections.list` with sync tokens,
//! `searchContacts`, contact photos (whose URLs it serves under `/photos/`), the domain directory
//! (seeded with [`Emulator::add_directory_person`]), every `contactGroups.*` method, and every
//! `otherContacts.*` method (seeded with [`Emulator::insert_other_contact`]).
//!
//! It is an independent oracle of the wire format: it does not use the client's generated types.
//! Behaviour the public record leaves unknown is a knob in [`Config`], with the default the
//! project's research recommends.
#![deny(missing_docs)]

mod auth;
mod derive;
mod directory;
mod errors;
mod faults;
mod groups;
mod iam;
mod other;
mod people;
mod photos;
mod quota;
mod store;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use auth::{CONTACTS_READONLY_SCOPE, CONTACTS_SCOPE};
pub use directory::DirectorySource;
pub use faults::{Fault, FaultRule, Trigger};
pub use iam::{CLOUD_PLATFORM_SCOPE, federated_principal, federated_principal_set};
pub use quota::Quota;

use errors::ApiError;
use people::{Ctx, Semantics};
use store::UserStore;

/// Path of the OAuth2 authorization (consent) endpoint.
pub const AUTHORIZE_PATH: &str = "/o/oauth2/v2/auth";

/// The PEM private key (PKCS#8) of the repository's test service account. Test-only: it protects
/// nothing. Its public key is [`TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM`].
pub const TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM: &str =
    include_str!("../testdata/test-service-account-key.pem");
/// The PEM public key (SPKI) matching [`TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM`].
pub const TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM: &str =
    include_str!("../testdata/test-service-account-pub.pem");

/// Emulator settings. The defaults are what the research recommends where the real behaviour is
/// unknown.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Lifetime of issued access tokens.
    pub token_ttl: Duration,
    /// Lifetime of sync tokens; an older one gets the real "Sync token is expired" error
    /// (`400 FAILED_PRECONDITION`, `ErrorInfo` reason `EXPIRED_SYNC_TOKEN`). Default 7 days, as
    /// the People API documents.
    pub sync_token_ttl: Duration,
    /// How long a write takes to reach incremental listings (`connections.list` with a sync
    /// token): "Writes may have a propagation delay of several minutes for sync requests.
    /// Incremental syncs are not intended for read-after-write use cases" (the discovery
    /// document). A write shows in every incremental listing after the delay, in order; full
    /// listings, `get` and `batchGet` see it at once. Default 3 minutes ("several minutes"), so
    /// that no test sees its writes in an incremental listing by chance: a test that needs them
    /// there says so with [`Emulator::let_writes_propagate`].
    pub sync_propagation_delay: Duration,
    /// Status for a missing etag: `FAILED_PRECONDITION` (default) or `INVALID_ARGUMENT` (unknown
    /// in public sources).
    pub missing_etag_status: String,
    /// Per-user quotas; `None` means unlimited. Default: Google's ([`Quota::google`]), with a
    /// minute lasting [`DEFAULT_QUOTA_MINUTE`] so that tests meet them in seconds: a client
    /// paced by `google_people::quota::Quota::default().time_scale(DEFAULT_QUOTA_MINUTE)` meets
    /// no 429.
    pub quota: Option<Quota>,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Serve a GCE-style metadata token endpoint issuing tokens for this user.
    pub metadata_user: Option<String>,
    /// For this long after a contact is written, reads (get, batchGet, connections) still return
    /// the previous version and its etag, as the real server sometimes does. Default zero.
    pub read_after_write_lag: Duration,
    /// Writing an email address in this domain links the contact to a profile: its resource name
    /// changes (the old one moves to `metadata.previousResourceNames` and is no longer found),
    /// so batch results carry a `requestedResourceName` different from the person's. Default off.
    pub profile_link_domain: Option<String>,
    /// `searchContacts` answers from a cache that a request with an empty query refreshes, as
    /// the real method documents ("clients should send a warmup request with an empty query to
    /// update the cache"). `false` makes every write visible to search at once.
    pub search_needs_warmup: bool,
    /// The calling code (digits, no `+`) of the accounts' region: Google writes a phone number's
    /// `canonicalForm` (E.164) from the account's region when the number has no country code
    /// (`600 00 00 01` → `+34600000001` for Spain). `None` (the default): only numbers written
    /// with their country code (`+34 ...`, `0034 ...`) get one.
    pub phone_region_code: Option<String>,
    /// Answer a mutation that arrives while another mutation of the same user is in flight with
    /// this HTTP status (409 `ABORTED`, 429 or 503 bodies). `None` (default) serializes them;
    /// what the real server does is unknown.
    pub contention_status: Option<u16>,
    /// A contact created without `memberships` is put in `contactGroups/myContacts` (default).
    /// Google documents no default, and users report created contacts missing from the
    /// Contacts UI and phones (`false` models that: such a contact is in no group).
    pub create_in_my_contacts: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            token_ttl: Duration::from_secs(3600),
            sync_token_ttl: Duration::from_secs(7 * 24 * 3600),
            sync_propagation_delay: Duration::from_secs(180),
            missing_etag_status: "FAILED_PRECONDITION".into(),
            quota: Some(Quota::google().time_scale(DEFAULT_QUOTA_MINUTE)),
            max_body_bytes: 32 << 20,
            metadata_user: None,
            contention_status: None,
            create_in_my_contacts: true,
            read_after_write_lag: Duration::ZERO,
            profile_link_domain: None,
            search_needs_warmup: true,
            phone_region_code: None,
        }
    }
}

struct State {
    config: Config,
    sem: Semantics,
    users: Mutex<HashMap<String, UserStore>>,
    auth: Mutex<auth::Auth>,
    faults: Mutex<Vec<Arc<FaultRule>>>,
    counts: Mutex<HashMap<(String, String), u64>>,
    quota: Mutex<HashMap<String, quota::Usage>>,
    in_flight: Mutex<HashMap<String, u32>>,
    directory: Mutex<HashMap<String, directory::Directory>>,
}

/// How long a quota minute lasts by default (and a day, 1,440 of them): Google's limits, met in
/// seconds.
pub const DEFAULT_QUOTA_MINUTE: Duration = Duration::from_secs(1);

/// The key quota refusals are counted under in `State::counts`.
const THROTTLED: &str = "quota.exceeded";

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<State>,
    stop: watch::Sender<bool>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// The connection is dropped on purpose (a fault).
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

impl Emulator {
    /// Start with the default configuration on a free port.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(Config::default()).await
    }

    /// Start with a configuration.
    pub async fn start_with(config: Config) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let sem = Semantics {
            missing_etag_status: config.missing_etag_status.clone(),
            sync_token_ttl: config.sync_token_ttl,
            sync_delay: config.sync_propagation_delay,
            clock_offset_ms: Default::default(),
            read_lag: config.read_after_write_lag,
            profile_link_domain: config.profile_link_domain.clone(),
            search_needs_warmup: config.search_needs_warmup,
            create_in_my_contacts: config.create_in_my_contacts,
        };
        let state = Arc::new(State {
            config,
            sem,
            users: Mutex::default(),
            auth: Mutex::default(),
            faults: Mutex::default(),
            counts: Mutex::default(),
            quota: Mutex::default(),
            in_flight: Mutex::default(),
            directory: Mutex::default(),
        });
        let (stop, mut stopped) = watch::channel(false);
        let st = state.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.changed() => return,
                    accepted = listener.accept() => {
                        let Ok((sock, _)) = accepted else { continue };
                        let st = st.clone();
                        tokio::spawn(async move {
                            let svc = hyper::service::service_fn(move |req| serve(st.clone(), req));
                            let io = hyper_util::rt::TokioIo::new(sock);
                            let _ = hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(io, svc).await;
                        });
                    }
                }
            }
        });
        Ok(Self { addr, state, stop })
    }

    /// `http://127.0.0.1:<port>/`: the base URL for clients.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The OAuth2 token endpoint, `http://127.0.0.1:<port>/token`.
    pub fn token_url(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Issue an access token for `user` with the contacts scope.
    pub fn issue_token(&self, user: &str) -> String {
        self.issue_token_with_scopes(user, &[CONTACTS_SCOPE])
    }

    /// Issue an access token for `user` with these scopes.
    pub fn issue_token_with_scopes(&self, user: &str, scopes: &[&str]) -> String {
        let ttl = self.state.config.token_ttl;
        lock(&self.state.auth)
            .issue(user, scopes.iter().map(|s| s.to_string()).collect(), ttl)
            .0
    }

    /// Make a token invalid from now on (as if revoked or expired).
    pub fn revoke_token(&self, token: &str) {
        lock(&self.state.auth).tokens.remove(token);
    }

    /// Register an OAuth client's refresh token for `user` (the refresh-token grant).
    pub fn register_refresh_token(
        &self,
        client_id: &str,
        client_secret: &str,
        refresh_token: &str,
        user: &str,
        scopes: &[&str],
    ) {
        lock(&self.state.auth).refresh.insert(
            refresh_token.into(),
            auth::RefreshInfo {
                client_id: client_id.into(),
                client_secret: client_secret.into(),
                user: user.into(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
            },
        );
    }

    /// The OAuth2 authorization endpoint, `http://127.0.0.1:<port>/o/oauth2/v2/auth`.
    pub fn authorize_url(&self) -> String {
        format!("http://{}{AUTHORIZE_PATH}", self.addr)
    }

    /// Register an OAuth client (installed app) for the authorization-code grant.
    pub fn register_oauth_client(&self, client_id: &str, client_secret: &str) {
        lock(&self.state.auth)
            .clients
            .insert(client_id.into(), client_secret.into());
    }

    /// The user who consents at the authorization endpoint (as if signed in in the browser).
    pub fn set_consent_user(&self, user: &str) {
        lock(&self.state.auth).consent_user = Some(user.into());
    }

    /// Revoke a refresh token: the grant then answers `invalid_grant`.
    pub fn revoke_refresh_token(&self, refresh_token: &str) {
        lock(&self.state.auth).refresh.remove(refresh_token);
    }

    /// Register a service account by email with its public key (PEM, SPKI or PKCS#1). With
    /// `delegation`, a JWT whose `sub` names a user gets a token for that user (domain-wide
    /// delegation); without it such a JWT gets `unauthorized_client`.
    pub fn register_service_account(
        &self,
        email: &str,
        public_key_pem: &str,
        delegation: bool,
    ) -> Result<(), String> {
        let der = auth::rsa_public_key_der(public_key_pem).ok_or("not a PEM RSA public key")?;
        lock(&self.state.auth).service_accounts.insert(
            email.into(),
            auth::ServiceAccount {
                public_key: der,
                delegation,
            },
        );
        Ok(())
    }

    /// Register a keyless service account: the emulator holds its key (the repository's test key,
    /// as Google holds a real account's), signs for it in `signJwt`, and honours the result at the
    /// token endpoint. With `delegation`, its assertions may name a `sub` (domain-wide delegation).
    pub fn register_keyless_service_account(&self, email: &str, delegation: bool) {
        let b64: String = TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
            .expect("the test key is base64");
        lock(&self.state.auth)
            .add_managed(email, &der, delegation)
            .expect("the test key is an RSA PKCS#8 key");
    }

    /// Let `principal` (a user or service account email, a federated [`federated_principal`], or
    /// a whole pool's [`federated_principal_set`]) act as `service_account`: `signJwt` and `generateAccessToken`
    /// (the Service Account Token Creator role). Without it, both answer 403 `PERMISSION_DENIED`.
    pub fn grant_token_creator(&self, principal: &str, service_account: &str) {
        lock(&self.state.auth)
            .token_creators
            .insert((principal.into(), service_account.into()));
    }

    /// Register a workload identity pool provider: the STS accepts, for `audience`
    /// (`//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X`),
    /// unexpired JWT subject tokens whose `iss` is `issuer`.
    pub fn register_workload_identity_provider(&self, audience: &str, issuer: &str) {
        lock(&self.state.auth).providers.insert(
            audience.into(),
            iam::Provider {
                issuer: issuer.into(),
            },
        );
    }

    /// The STS token endpoint, `http://127.0.0.1:<port>/v1/token`.
    pub fn sts_url(&self) -> String {
        format!("http://{}/v1/token", self.addr)
    }

    /// Add a fault rule; rules are checked in the order added, the first that fires applies.
    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.state.faults).push(Arc::new(rule));
    }

    /// Move the emulator's clock forward by `by`: writes propagate to incremental listings and
    /// sync tokens age as if that much time had passed.
    pub fn advance_time(&self, by: Duration) {
        self.state.sem.clock_offset_ms.fetch_add(
            u64::try_from(by.as_millis()).unwrap_or(u64::MAX),
            std::sync::atomic::Ordering::Relaxed,
        );
        for store in lock(&self.state.users).values_mut() {
            store.age_changes(by);
        }
    }

    /// Let every write made so far reach incremental listings (the clock moves forward by the
    /// propagation delay), as waiting several minutes would against Google.
    pub fn let_writes_propagate(&self) {
        self.advance_time(self.state.config.sync_propagation_delay);
    }

    /// Remove every fault rule.
    pub fn clear_faults(&self) {
        lock(&self.state.faults).clear();
    }

    /// Create `n` generated contacts for `user` directly in the store (fast: 100,000 in about a
    /// second), returning their resource names.
    pub fn seed_contacts(&self, user: &str, n: usize) -> Vec<String> {
        let mut users = lock(&self.state.users);
        let store = users.entry(user.to_string()).or_default();
        (0..n)
            .map(|i| {
                let person = json!({
                    "names": [{"givenName": format!("Given{i}"), "familyName": format!("Family{i}"), "displayName": format!("Given{i} Family{i}")}],
                    "emailAddresses": [{"value": format!("contact{i}@example.com"), "type": "work"}],
                    "phoneNumbers": [{"value": format!("+1 555 {:07}", i), "type": "mobile"}]
                });
                let id = store.create(person.as_object().expect("object"));
                format!("people/c{id}")
            })
            .collect()
    }

    /// Create one contact for `user` from a Person JSON object, returning its resource name.
    pub fn insert_contact(&self, user: &str, person: &Value) -> String {
        let empty = Map::new();
        let mut users = lock(&self.state.users);
        let store = users.entry(user.to_string()).or_default();
        let id = derive::in_region(self.state.config.phone_region_code.as_deref(), || {
            store.create(person.as_object().unwrap_or(&empty))
        });
        format!("people/c{id}")
    }

    /// Add a person to the directory of `domain` (a profile of the domain, or a shared domain
    /// contact), from a Person JSON object; its resource name.
    pub fn add_directory_person(
        &self,
        domain: &str,
        source: DirectorySource,
        person: &Value,
    ) -> String {
        directory::add(&mut lock(&self.state.directory), domain, source, person)
    }

    /// Add an "other contact" (one Gmail collected from an interaction) for `user`, from a Person
    /// JSON object (its `names`, `emailAddresses`, `phoneNumbers`, `photos`); its resource name
    /// (`otherContacts/c…`).
    pub fn insert_other_contact(&self, user: &str, person: &Value) -> String {
        let mut users = lock(&self.state.users);
        other::insert(users.entry(user.to_string()).or_default(), person)
    }

    /// Add `n` generated other contacts for `user`; their resource names.
    pub fn seed_other_contacts(&self, user: &str, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                self.insert_other_contact(
                    user,
                    &json!({
                        "names": [{"displayName": format!("Correspondent {i}"), "givenName": "Correspondent", "familyName": format!("{i}")}],
                        "emailAddresses": [{"value": format!("correspondent{i}@mail.example")}]
                    }),
                )
            })
            .collect()
    }

    /// Every contact of `user` as the API would return it with all fields (including
    /// `metadata`), ordered by resource name id.
    pub fn contacts(&self, user: &str) -> Vec<Value> {
        let mask: Vec<String> = store::READ_FIELDS.iter().map(|s| s.to_string()).collect();
        lock(&self.state.users)
            .get(user)
            .map(|s| s.contacts.values().map(|c| c.to_json(&mask)).collect())
            .unwrap_or_default()
    }

    /// One contact of `user`, with all fields.
    pub fn contact(&self, user: &str, resource_name: &str) -> Option<Value> {
        let mask: Vec<String> = store::READ_FIELDS.iter().map(|s| s.to_string()).collect();
        let id = store::contact_id(resource_name)?;
        lock(&self.state.users)
            .get(user)?
            .contacts
            .get(&id)
            .map(|c| c.to_json(&mask))
    }

    /// How many times a contact has been written since it was created (every update, external
    /// edit and relink counts one), to prove that nothing was applied twice.
    pub fn contact_version(&self, user: &str, resource_name: &str) -> Option<u64> {
        let id = store::contact_id(resource_name)?;
        lock(&self.state.users)
            .get(user)?
            .contacts
            .get(&id)
            .map(|c| c.version)
    }

    /// Change a contact behind the client's back (a concurrent edit elsewhere): replace `field`
    /// with `value` and bump its etags.
    pub fn edit_contact(&self, user: &str, resource_name: &str, field: &str, value: Value) -> bool {
        let Some(id) = store::contact_id(resource_name) else {
            return false;
        };
        let mut users = lock(&self.state.users);
        let Some(store) = users.get_mut(user) else {
            return false;
        };
        let Some(c) = store.contacts.get_mut(&id) else {
            return false;
        };
        let mut person = Map::new();
        person.insert(field.to_string(), value);
        derive::in_region(self.state.config.phone_region_code.as_deref(), || {
            c.apply(&person, &[field.to_string()]);
        });
        store.log(id, false);
        true
    }

    /// How many requests of `method` (`people.batchUpdateContacts`, ...) the emulator received
    /// from `user`, or from everyone with `None`, faulted ones included. Token endpoint requests
    /// count as method `oauth2.token`, metadata server token requests as `metadata.token` and STS
    /// exchanges as `sts.token` (all with no user); IAM Credentials calls as `iam.signJwt` and
    /// `iam.generateAccessToken`, from the calling principal.
    pub fn request_count(&self, method: &str, user: Option<&str>) -> u64 {
        lock(&self.state.counts)
            .iter()
            .filter(|((m, u), _)| m == method && user.is_none_or(|x| x == u))
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests of every method, from everyone (the 429s of [`throttled`](Self::throttled) are
    /// counted once, under their method).
    pub fn total_requests(&self) -> u64 {
        lock(&self.state.counts)
            .iter()
            .filter(|((m, _), _)| m != THROTTLED)
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests answered 429 because a quota ([`Config::quota`]) was exceeded, for `user` or for
    /// everyone with `None`.
    pub fn throttled(&self, user: Option<&str>) -> u64 {
        self.request_count(THROTTLED, user)
    }

    /// Stop serving.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

type Resp = Response<Full<Bytes>>;

fn json_response(status: u16, body: &Value, extra: &[(&'static str, String)]) -> Resp {
    let mut r = Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=UTF-8");
    for (k, v) in extra {
        r = r.header(*k, v);
    }
    r.body(Full::new(Bytes::from(
        serde_json::to_vec(body).unwrap_or_default(),
    )))
    .expect("valid response")
}

fn error_response(e: &ApiError) -> Resp {
    json_response(e.http, &e.body, &[])
}

async fn serve(state: Arc<State>, req: Request<Incoming>) -> Result<Resp, Dropped> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let metadata_flavor = req
        .headers()
        .get("metadata-flavor")
        .is_some_and(|v| v == "Google");
    let host = req
        .headers()
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    let body = match Limited::new(req.into_body(), state.config.max_body_bytes)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Ok(error_response(&ApiError::invalid(format!(
                "Request payload size exceeds the limit: {} bytes.",
                state.config.max_body_bytes
            ))));
        }
    };

    if method == "GET" && path.starts_with("/photos/") {
        let photo = photos::serve(&lock(&state.users), &path);
        return Ok(match photo {
            Some((content_type, bytes)) => Response::builder()
                .status(200)
                .header("content-type", content_type)
                .body(Full::new(Bytes::from(bytes)))
                .expect("valid response"),
            None => error_response(&ApiError::not_found("Not found")),
        });
    }
    if method == "POST" && path == "/token" {
        *lock(&state.counts)
            .entry(("oauth2.token".to_string(), String::new()))
            .or_insert(0) += 1;
        let ttl = state.config.token_ttl;
        let result = lock(&state.auth).token_endpoint(&body, ttl);
        return Ok(match result {
            Ok(v) => json_response(200, &v, &[]),
            Err(e) => json_response(e.http, &e.body, &[]),
        });
    }
    if method == "POST" && path == "/v1/token" {
        *lock(&state.counts)
            .entry(("sts.token".to_string(), String::new()))
            .or_insert(0) += 1;
        let result = lock(&state.auth).sts_token(&body, state.config.token_ttl);
        return Ok(match result {
            Ok(v) => json_response(200, &v, &[]),
            Err(e) => json_response(e.http, &e.body, &[]),
        });
    }
    if let Some((email, verb)) = iam::route(&method, &path) {
        let mut auth = lock(&state.auth);
        let result = auth.iam_caller(bearer.as_deref()).and_then(|caller| {
            *lock(&state.counts)
                .entry((format!("iam.{verb}"), caller.clone()))
                .or_insert(0) += 1;
            match verb.as_str() {
                "signJwt" => auth.sign_jwt(&caller, &email, &body),
                _ => auth.generate_access_token(&caller, &email, &body),
            }
        });
        return Ok(match result {
            Ok(v) => json_response(200, &v, &[]),
            Err(e) => error_response(&e),
        });
    }
    if method == "GET" && path == AUTHORIZE_PATH {
        let result = lock(&state.auth).authorize(&query);
        return Ok(match result {
            Ok(location) => Response::builder()
                .status(302)
                .header("location", location)
                .body(Full::new(Bytes::new()))
                .expect("valid response"),
            Err((status, msg)) => json_response(
                status,
                &json!({"error": "invalid_request", "error_description": msg}),
                &[],
            ),
        });
    }
    if path == "/computeMetadata/v1/instance/service-accounts/default/token" {
        *lock(&state.counts)
            .entry(("metadata.token".to_string(), String::new()))
            .or_insert(0) += 1;
        return Ok(match (&state.config.metadata_user, metadata_flavor) {
            (Some(user), true) => {
                let (token, exp) = lock(&state.auth).issue(
                    user,
                    vec![CONTACTS_SCOPE.into(), CLOUD_PLATFORM_SCOPE.into()],
                    state.config.token_ttl,
                );
                json_response(
                    200,
                    &json!({"access_token": token, "expires_in": exp, "token_type": "Bearer"}),
                    &[],
                )
            }
            (Some(_), false) => json_response(
                403,
                &json!({"error": "Missing Metadata-Flavor: Google header"}),
                &[],
            ),
            (None, _) => error_response(&ApiError::not_found("Not found")),
        });
    }

    let Some(op) = people::route(&method, &path) else {
        return Ok(error_response(&ApiError::not_found(format!(
            "Method not found: {method} {path}"
        ))));
    };
    let user = match bearer.as_deref() {
        None => return Ok(error_response(&ApiError::unauthenticated())),
        Some(t) => {
            let auth = lock(&state.auth);
            match auth.tokens.get(t) {
                Some(info) if info.expires > Instant::now() => {
                    let can_write = info.scopes.iter().any(|s| s == CONTACTS_SCOPE);
                    let can_read =
                        can_write || info.scopes.iter().any(|s| s == CONTACTS_READONLY_SCOPE);
                    if !(can_read && (can_write || !op.is_mutation())) {
                        return Ok(error_response(&ApiError::scope_insufficient()));
                    }
                    info.user.clone()
                }
                _ => return Ok(error_response(&ApiError::invalid_credentials())),
            }
        }
    };
    *lock(&state.counts)
        .entry((op.name().to_string(), user.clone()))
        .or_insert(0) += 1;
    let _in_flight = if op.is_mutation() {
        let guard = InFlight::enter(&state, &user);
        if let (Some(status), true) = (state.config.contention_status, guard.concurrent) {
            return Ok(error_response(&ApiError::for_status(status)));
        }
        Some(guard)
    } else {
        None
    };

    let fault = {
        let rules = lock(&state.faults);
        rules
            .iter()
            .find(|r| r.fires(op.name(), &user))
            .map(|r| r.fault.clone())
    };
    match &fault {
        Some(Fault::Latency(d)) => tokio::time::sleep(*d).await,
        Some(Fault::Status(code)) => return Ok(error_response(&ApiError::for_status(*code))),
        Some(Fault::ResetBeforeWrite) => return Err(Dropped),
        Some(Fault::Html502) => return Ok(html_502()),
        _ => {}
    }

    let first_page_of_full_sync = matches!(op, people::Op::Connections(_) | people::Op::OtherList)
        && query
            .iter()
            .any(|(k, v)| k == "requestSyncToken" && v == "true")
        && !query
            .iter()
            .any(|(k, v)| (k == "syncToken" || k == "pageToken") && !v.is_empty());
    if let Some(q) = &state.config.quota
        && let Some((e, wait)) = quota::charge(
            &mut lock(&state.quota),
            q,
            &user,
            &op,
            first_page_of_full_sync,
        )
    {
        *lock(&state.counts)
            .entry((THROTTLED.to_string(), user.clone()))
            .or_default() += 1;
        let extra = if q.retry_after {
            vec![("retry-after", wait.to_string())]
        } else {
            vec![]
        };
        return Ok(json_response(e.http, &e.body, &extra));
    }

    let result = if matches!(op, people::Op::DirectoryList | people::Op::DirectorySearch) {
        let dirs = lock(&state.directory);
        let cx = Ctx {
            user: &user,
            host: &host,
            query: &query,
            body: &body,
            sem: &state.sem,
        };
        match op {
            people::Op::DirectoryList => directory::list(&dirs, &cx),
            _ => directory::search(&dirs, &cx),
        }
    } else {
        let mut users = lock(&state.users);
        let store = users.entry(user.clone()).or_default();
        let cx = Ctx {
            user: &user,
            host: &host,
            query: &query,
            body: &body,
            sem: &state.sem,
        };
        derive::in_region(state.config.phone_region_code.as_deref(), || {
            people::handle(&op, store, &cx)
        })
    };
    let (status, value) = match result {
        Ok(v) => (200, v),
        Err(e) => (e.http, e.body),
    };
    match fault {
        Some(Fault::LoseResponseAfterCommit) => Err(Dropped),
        Some(Fault::Html502AfterCommit) => Ok(html_502()),
        Some(Fault::TruncatedJson) => {
            let bytes = serde_json::to_vec(&value).unwrap_or_default();
            let cut = Bytes::from(bytes[..bytes.len() / 2].to_vec());
            Ok(Response::builder()
                .status(status)
                .header("content-type", "application/json; charset=UTF-8")
                .body(Full::new(cut))
                .expect("valid response"))
        }
        _ => Ok(json_response(status, &value, &[])),
    }
}

/// A proxy's 502 page.
fn html_502() -> Response<Full<Bytes>> {
    let html = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>The proxy received an invalid response from an upstream server.</p></body></html>";
    Response::builder()
        .status(502)
        .header("content-type", "text/html; charset=UTF-8")
        .body(Full::new(Bytes::from_static(html.as_bytes())))
        .expect("valid response")
}

/// Marks a mutation of a user as in flight until dropped.
struct InFlight {
    state: Arc<State>,
    user: String,
    concurrent: bool,
}

impl InFlight {
    fn enter(state: &Arc<State>, user: &str) -> Self {
        let mut m = lock(&state.in_flight);
        let n = m.entry(user.to_string()).or_insert(0);
        *n += 1;
        Self {
            state: state.clone(),
            user: user.to_string(),
            concurrent: *n > 1,
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(n) = lock(&self.state.in_flight).get_mut(&self.user) {
            *n -= 1;
        }
    }
}
