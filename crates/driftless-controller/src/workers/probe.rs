//! A client layer that times every API request (watches excepted: they stay open by design)
//! and notes 429 answers, for [`Workers`](super::Workers).

use std::future::Future;
use std::pin::Pin;
use std::sync::Weak;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, Response, StatusCode};
use tower::{Layer, Service};

use super::Workers;

/// The layer; a clone feeds the same workers.
#[derive(Debug, Clone)]
pub struct Probe {
    workers: Weak<Workers>,
}

impl Probe {
    pub(super) fn new(workers: Weak<Workers>) -> Probe {
        Probe { workers }
    }
}

impl<S> Layer<S> for Probe {
    type Service = Probed<S>;

    fn layer(&self, inner: S) -> Probed<S> {
        Probed {
            inner,
            workers: self.workers.clone(),
        }
    }
}

/// A service whose requests are timed.
#[derive(Debug, Clone)]
pub struct Probed<S> {
    inner: S,
    workers: Weak<Workers>,
}

impl<S, B, R> Service<Request<B>> for Probed<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    R: 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<R>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let watch = request
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p == "watch=true" || p == "watch=1"));
        let workers = (!watch).then(|| self.workers.clone());
        let started = Instant::now();
        let answer = self.inner.call(request);
        Box::pin(async move {
            let result = answer.await;
            if let Some(workers) = workers.and_then(|w| w.upgrade()) {
                let throttled = result
                    .as_ref()
                    .is_ok_and(|r| r.status() == StatusCode::TOO_MANY_REQUESTS);
                workers.sample(started.elapsed(), throttled);
            }
            result
        })
    }
}
