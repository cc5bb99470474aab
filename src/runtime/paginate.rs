//! Page and item streams for list methods, following `nextPageToken`.
#![doc(hidden)]

use std::future::Future;

use futures_util::stream::{self, Stream, StreamExt as _, TryStreamExt as _};

use super::Error;

enum State<C, F> {
    Next(C, F, Option<String>),
    Fail(Error),
    Done,
}

/// Pages of a list call: `fetch(call, token)` sends one page request and returns the page with
/// its next page token. Ends after a page without a token; a server that repeats the token it was
/// given ends the stream with an error instead of looping.
pub fn pages<C, P, F, Fut>(
    call: C,
    fetch: F,
) -> impl Stream<Item = Result<P, Error>> + Send + Unpin + 'static
where
    C: Clone + Send + 'static,
    P: Send + 'static,
    F: FnMut(C, Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(P, Option<String>), Error>> + Send + 'static,
{
    stream::unfold(State::Next(call, fetch, None), |state| async move {
        let (call, mut fetch, token) = match state {
            State::Next(c, f, t) => (c, f, t),
            State::Fail(e) => return Some((Err(e), State::Done)),
            State::Done => return None,
        };
        match fetch(call.clone(), token.clone()).await {
            Ok((page, next)) => {
                let next = next.filter(|t| !t.is_empty());
                let state = match next {
                    None => State::Done,
                    // The page is good; the loop it would start is not.
                    Some(t) if Some(&t) == token.as_ref() => State::Fail(Error::invalid_request(
                        "the server returned the page token it was sent; stopping to avoid a loop",
                    )),
                    Some(t) => State::Next(call, fetch, Some(t)),
                };
                Some((Ok(page), state))
            }
            Err(e) => Some((Err(e), State::Done)),
        }
    })
    // Boxed once per listing, so callers can `.next().await` without pinning.
    .boxed()
}

/// The items of every page, in order.
pub fn items<P, T, S, F>(
    pages: S,
    mut items_of: F,
) -> impl Stream<Item = Result<T, Error>> + Send + Unpin + 'static
where
    S: Stream<Item = Result<P, Error>> + Send + 'static,
    F: FnMut(P) -> Vec<T> + Send + 'static,
    T: Send + 'static,
    P: Send + 'static,
{
    pages
        .map_ok(move |p| stream::iter(items_of(p).into_iter().map(Ok)))
        .try_flatten()
        .boxed()
}
