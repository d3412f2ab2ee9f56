//! Name resolution that a stuck DNS server cannot hold up: each lookup runs on a thread of its
//! own that nothing ever joins, and its answer is awaited at most [`RESOLVE_TIMEOUT`] (the
//! request's own timeout, bounded by the run's budget, also ends the wait).
//!
//! reqwest's default resolver runs `getaddrinfo` on the runtime's blocking pool, and dropping
//! the client waits for that pool: a lookup that never returns held a hook past its budget
//! when the run ended. A detached thread ends with the process instead.

use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The longest a lookup is waited for.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

type Answer = Result<Vec<SocketAddr>, String>;

/// The resolver of every HTTP client: the system's (`getaddrinfo`), on detached threads.
#[derive(Debug)]
pub struct DetachedResolver {
    pub timeout: Duration,
}

impl Resolve for DetachedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let shared: Arc<Mutex<Shared>> = Arc::default();
        let answer = Arc::clone(&shared);
        let timeout = self.timeout;
        let started = std::thread::Builder::new()
            .name("deploylink-resolve".into())
            .spawn(move || {
                let result = lookup_within(host, timeout);
                if let Ok(mut shared) = answer.lock() {
                    shared.answer = Some(result);
                    if let Some(waker) = shared.waker.take() {
                        waker.wake();
                    }
                }
            });
        if let Err(e) = started {
            return Box::pin(std::future::ready(Err(format!(
                "cannot start a name lookup: {e}"
            )
            .into())));
        }
        Box::pin(Lookup(shared))
    }
}

/// `host` resolved on one more detached thread, waited for at most `timeout`.
fn lookup_within(host: String, timeout: Duration) -> Answer {
    let (send, receive) = mpsc::channel();
    let name = host.clone();
    let started = std::thread::Builder::new()
        .name("deploylink-getaddrinfo".into())
        .spawn(move || {
            let found = (name.as_str(), 0)
                .to_socket_addrs()
                .map(Iterator::collect)
                .map_err(|e| e.to_string());
            let _ = send.send(found);
        });
    if let Err(e) = started {
        return Err(format!("cannot start a name lookup: {e}"));
    }
    match receive.recv_timeout(timeout) {
        Ok(found) => found,
        Err(_) => Err(format!(
            "the name lookup of {host} took longer than {}",
            humantime::format_duration(timeout)
        )),
    }
}

#[derive(Default)]
struct Shared {
    answer: Option<Answer>,
    waker: Option<Waker>,
}

struct Lookup(Arc<Mutex<Shared>>);

impl Future for Lookup {
    type Output = Result<Addrs, Box<dyn std::error::Error + Send + Sync>>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(mut shared) = self.0.lock() else {
            return Poll::Ready(Err("the name lookup failed".into()));
        };
        match shared.answer.take() {
            Some(Ok(addrs)) => Poll::Ready(Ok(Box::new(addrs.into_iter()))),
            Some(Err(reason)) => Poll::Ready(Err(reason.into())),
            None => {
                shared.waker = Some(context.waker().clone());
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_literal_address_resolves_and_a_slow_lookup_is_given_up() {
        let found = lookup_within("127.0.0.1".into(), Duration::from_secs(5)).unwrap();
        assert_eq!(found[0].ip().to_string(), "127.0.0.1");
        let error = lookup_within("localhost".into(), Duration::ZERO);
        // Zero time: either the answer was already there or the wait gave up; never a hang.
        if let Err(reason) = error {
            assert!(reason.contains("took longer than"), "{reason}");
        }
    }
}
