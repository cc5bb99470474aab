//! Many users: the same engine per user, users in parallel (bounded), each strictly sequential.

use futures_util::stream::{self, Stream, StreamExt as _};
use tracing::Instrument as _;

use super::{Record, SyncError, SyncJob, SyncReport};

/// One user's share of a many-user sync: who, the job (on a client acting for that user, for
/// example from [`DelegatedPool`](crate::auth::DelegatedPool), with
/// [`user`](SyncJob::user) set), and the user's records.
#[derive(Debug)]
pub struct UserSync<R> {
    /// The user, for reporting.
    pub user: String,
    /// The job, built on a client that acts for this user.
    pub job: SyncJob,
    /// The user's desired records.
    pub records: R,
}

/// Sync many users, at most `concurrency` at once, each user's requests strictly sequential; one
/// `(user, result)` per user, as they finish. A user whose token is refused (delegation not
/// granted) gets its error and the others go on.
pub fn sync_users<U, R>(
    users: U,
    concurrency: usize,
) -> impl Stream<Item = (String, Result<SyncReport, SyncError>)> + Send + Unpin + 'static + use<U, R>
where
    U: IntoIterator<Item = UserSync<R>>,
    U::IntoIter: Send + 'static,
    R: IntoIterator<Item = Record> + Send + 'static,
    R::IntoIter: Send,
{
    stream::iter(users)
        .map(|u| {
            async move {
                let result = u.job.run(u.records).await;
                (u.user, result)
            }
            .instrument(tracing::debug_span!("people_sync_user"))
        })
        .buffer_unordered(concurrency.max(1))
        .boxed()
}
