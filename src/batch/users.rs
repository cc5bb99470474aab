//! Many users at once: each user's job strictly sequential, users in parallel (bounded).

use futures_util::stream::{self, Stream, StreamExt as _};

use super::{BatchUpdate, Outcome, Summary};
use crate::Person;

/// One user's share of a many-user job: who, the job (with that user's client, for example from
/// [`auth::DelegatedPool`](crate::auth::DelegatedPool)), and the contacts to update.
#[derive(Debug)]
pub struct UserJob<I> {
    /// The user, for reporting.
    pub user: String,
    /// The job, built on a client that acts for this user.
    pub job: BatchUpdate,
    /// The contacts.
    pub items: I,
}

/// Run many users' jobs, at most `concurrency` users at once; each user's requests stay strictly
/// sequential, as the API asks. Results come back per user as they finish.
pub async fn run_users<U, I>(users: U, concurrency: usize) -> Vec<(String, Vec<Outcome>, Summary)>
where
    U: IntoIterator<Item = UserJob<I>>,
    I: IntoIterator<Item = (String, Person)>,
    I::IntoIter: Send + 'static,
{
    stream::iter(users)
        .map(|u| async move {
            let (outcomes, summary) = u.job.run_all(u.items).await;
            (u.user, outcomes, summary)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// Run many users' jobs as one stream of `(user, outcome)`, at most `concurrency` users at once,
/// each user's requests strictly sequential; memory stays bounded by the users in progress
/// whatever the number of contacts. Keep a clone of a user's job to read its
/// [`summary`](BatchUpdate::summary) afterwards.
pub fn stream_users<U, I>(
    users: U,
    concurrency: usize,
) -> impl Stream<Item = (String, Outcome)> + Send + Unpin + 'static + use<U, I>
where
    U: IntoIterator<Item = UserJob<I>>,
    U::IntoIter: Send + 'static,
    I: IntoIterator<Item = (String, Person)>,
    I::IntoIter: Send + 'static,
{
    stream::iter(users)
        .map(|u| {
            let user = u.user;
            u.job.run(u.items).map(move |o| (user.clone(), o))
        })
        .flatten_unordered(concurrency.max(1))
        .boxed()
}
