//! Token caching with single-flight refresh.
//!
//! A token is reused until `margin` before it expires. When many tasks ask at once and no fresh
//! token is cached, exactly one request goes to the token endpoint and every caller waits for it;
//! if it fails, every waiter gets the failure and the next call tries again (nothing is poisoned).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};

use crate::runtime::{AccessToken, Error};

/// A token from a token endpoint and how long it lives.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// The access token.
    pub token: AccessToken,
    /// Its lifetime from now.
    pub expires_in: Duration,
}

/// Fetches a new token (one request to a token endpoint).
pub trait Fetch: Send + Sync + 'static {
    /// Get a new token.
    fn fetch(&self) -> BoxFuture<'static, Result<Fetched, Error>>;
}

type SharedFetch = Shared<BoxFuture<'static, Result<Fetched, Arc<Error>>>>;

enum Slot {
    Empty,
    Ready {
        token: AccessToken,
        refresh_at: Instant,
    },
    Pending {
        generation: u64,
        fetch: SharedFetch,
    },
}

/// Default: refresh this long before a token expires.
pub const DEFAULT_MARGIN: Duration = Duration::from_secs(300);

/// A cached, single-flight token source around a [`Fetch`].
///
/// Typed for its owner (who reads the fetcher's settings back); the caching itself is one
/// non-generic `Slots`, compiled once for every kind of credential.
pub struct TokenCache<F> {
    fetcher: Arc<F>,
    slots: Slots,
}

impl<F: Fetch> TokenCache<F> {
    /// Cache tokens from `fetcher`, refreshing `margin` before expiry (at most half a token's life).
    pub fn new(fetcher: F, margin: Duration) -> Self {
        Self {
            fetcher: Arc::new(fetcher),
            slots: Slots {
                slot: Mutex::new(Slot::Empty),
                generation: Mutex::new(0),
                margin,
            },
        }
    }

    /// The fetcher.
    pub fn fetcher(&self) -> &F {
        &self.fetcher
    }

    /// A fresh token: the cached one, the one being fetched, or a new fetch.
    pub fn token(&self) -> impl Future<Output = Result<AccessToken, Error>> + Send + '_ {
        self.slots.token(self.fetcher.clone())
    }

    /// Drop `token` if it is the cached one (the API rejected it).
    pub fn invalidate(&self, token: &AccessToken) {
        self.slots.invalidate(token);
    }
}

/// The cached token or the fetch under way, for any [`Fetch`].
struct Slots {
    slot: Mutex<Slot>,
    generation: Mutex<u64>,
    margin: Duration,
}

impl Slots {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn token(&self, fetcher: Arc<dyn Fetch>) -> Result<AccessToken, Error> {
        let (generation, fetch) = {
            let mut slot = self.lock();
            match &*slot {
                Slot::Ready { token, refresh_at } if Instant::now() < *refresh_at => {
                    return Ok(token.clone());
                }
                Slot::Pending { generation, fetch } => (*generation, fetch.clone()),
                _ => {
                    let mut g = self.generation.lock().unwrap_or_else(|p| p.into_inner());
                    *g += 1;
                    // Started on first poll, outside this lock.
                    let fetch = async move { fetcher.fetch().await.map_err(Arc::new) }
                        .boxed()
                        .shared();
                    *slot = Slot::Pending {
                        generation: *g,
                        fetch: fetch.clone(),
                    };
                    (*g, fetch)
                }
            }
        };
        let result = fetch.await;
        let mut slot = self.lock();
        if matches!(&*slot, Slot::Pending { generation: g, .. } if *g == generation) {
            *slot = match &result {
                Ok(f) => {
                    let early = self.margin.min(f.expires_in / 2);
                    Slot::Ready {
                        token: f.token.clone(),
                        // Saturating: a source's `expires_in` must not overflow the clock.
                        refresh_at: Instant::now()
                            .checked_add(f.expires_in.saturating_sub(early))
                            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400)),
                    }
                }
                Err(_) => Slot::Empty,
            };
        }
        result.map(|f| f.token).map_err(Error::shared)
    }

    fn invalidate(&self, token: &AccessToken) {
        let mut slot = self.lock();
        if matches!(&*slot, Slot::Ready { token: t, .. } if t == token) {
            *slot = Slot::Empty;
        }
    }
}
