//! Adaptive concurrency: how many Applications are reconciled at once follows the API
//! server. Reconciliations take a worker from [`Workers`]; the [`Probe`] layer of the
//! controller's client times every API request; once a second [`Tuning`] turns what it saw into
//! the number of workers, within [`Bounds`].

mod probe;
mod tuning;

pub use probe::Probe;
pub use tuning::{Bounds, Tuning};

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How often the number of workers is decided.
pub const WINDOW: Duration = Duration::from_secs(1);

/// The workers of one controller.
#[derive(Debug)]
pub struct Workers {
    permits: Arc<Semaphore>,
    tuning: Mutex<Tuning>,
    bounds: Bounds,
}

/// A worker, held for one reconciliation.
#[derive(Debug)]
pub struct Worker {
    _permit: OwnedSemaphorePermit,
}

impl Workers {
    /// `bounds.start` workers, adapted within `bounds` once [`Workers::tune`] runs.
    pub fn new(bounds: Bounds) -> Arc<Workers> {
        Arc::new(Workers {
            permits: Arc::new(Semaphore::new(usize::from(bounds.start))),
            tuning: Mutex::new(Tuning::new(bounds)),
            bounds,
        })
    }

    /// The bounds the number of workers moves in.
    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// The current number of workers.
    pub fn limit(&self) -> u16 {
        self.lock().limit()
    }

    /// The layer that feeds the API server's latencies and throttling into these workers: give
    /// it to the controller's client (`kube::client::ClientBuilder::with_layer`).
    pub fn probe(self: &Arc<Self>) -> Probe {
        Probe::new(Arc::downgrade(self))
    }

    /// Waits for a free worker.
    pub async fn acquire(&self) -> Worker {
        if self.permits.available_permits() == 0 {
            self.lock().saturated();
        }
        match self.permits.clone().acquire_owned().await {
            Ok(permit) => Worker { _permit: permit },
            // The semaphore is never closed; should it be, this reconciliation waits rather
            // than run beyond the bound.
            Err(_) => {
                tracing::error!("the worker semaphore was closed");
                std::future::pending().await
            }
        }
    }

    /// One API request answered after `latency`, `throttled` when with 429.
    pub(crate) fn sample(&self, latency: Duration, throttled: bool) {
        self.lock().sample(latency, throttled);
    }

    /// Ends a window: decides the number of workers and adds or withdraws workers to match.
    /// Returns the new number when it changed.
    pub fn tune(&self) -> Option<u16> {
        let (before, after) = {
            let mut tuning = self.lock();
            let before = tuning.limit();
            (before, tuning.decide())
        };
        if after > before {
            self.permits.add_permits(usize::from(after - before));
        } else if after < before {
            // Withdrawn as they come free: the busy ones finish their reconciliation.
            let permits = self.permits.clone();
            let n = u32::from(before - after);
            tokio::spawn(async move {
                if let Ok(taken) = permits.acquire_many_owned(n).await {
                    taken.forget();
                }
            });
        }
        (after != before).then_some(after)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tuning> {
        self.tuning.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
