//! The backoff of every watch the controller keeps open: short, bounded, and reset once the
//! watch has been healthy for a while.
//!
//! kube's `default_backoff` (0.8 s doubling to 30 s) is reset only when the stream yields an
//! item, or when no error came for 120 s. A watch that reconnects after an API server restart
//! yields nothing until an object changes, so on a quiet kind (a Deployment that is already
//! rolled out) the backoff of one outage carried over into the next: each restart in a row
//! waited longer before the watch came back (#23). This one resets when the watch ran for
//! [`HEALTHY`] without an error since its last retry was due, and never waits more than [`MAX`].

use std::time::{Duration, Instant};

use kube::runtime::utils::Backoff;

/// The first wait after an error: an API server that restarts is back within seconds, and a
/// reconnect costs one request.
pub const FIRST: Duration = Duration::from_millis(200);

/// The longest wait: a watch is back at most this long after the API server is.
pub const MAX: Duration = Duration::from_secs(5);

/// How long a watch must run without an error, after its last retry was due, for the next error
/// to start again from [`FIRST`]. Longer than [`MAX`], so that an outage that keeps refusing
/// never looks healthy between two retries.
pub const HEALTHY: Duration = Duration::from_secs(10);

/// An exponential backoff from [`FIRST`] to [`MAX`], reset after [`HEALTHY`] without errors.
#[derive(Debug, Clone)]
pub struct WatchBackoff {
    next: Duration,
    /// When the last retry was due (the last error's time plus its wait).
    due: Option<Instant>,
}

impl Default for WatchBackoff {
    fn default() -> Self {
        Self {
            next: FIRST,
            due: None,
        }
    }
}

impl WatchBackoff {
    /// The wait after an error seen at `now`.
    pub fn after_error_at(&mut self, now: Instant) -> Duration {
        if self
            .due
            .is_some_and(|due| now.saturating_duration_since(due) >= HEALTHY)
        {
            self.next = FIRST;
        }
        let wait = self.next;
        self.next = self.next.saturating_mul(2).min(MAX);
        self.due = Some(now + wait);
        wait
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        Some(self.after_error_at(Instant::now()))
    }
}

impl Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.next = FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_bound_during_an_outage() {
        let mut backoff = WatchBackoff::default();
        let mut now = Instant::now();
        let mut waits = Vec::new();
        for _ in 0..8 {
            let wait = backoff.after_error_at(now);
            waits.push(wait.as_millis());
            // The retry fails at once: the server is still down.
            now += wait;
        }
        assert_eq!(waits, [200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    }

    #[test]
    fn a_quiet_healthy_watch_starts_again_from_the_first_wait() {
        let mut backoff = WatchBackoff::default();
        let mut now = Instant::now();
        for _ in 0..6 {
            now += backoff.after_error_at(now);
        }
        // Reconnected and ran without an error (and without an item) for the healthy period.
        now += HEALTHY;
        assert_eq!(backoff.after_error_at(now), FIRST);
    }

    #[test]
    fn an_error_before_the_healthy_period_keeps_growing() {
        let mut backoff = WatchBackoff::default();
        let now = Instant::now();
        let first = backoff.after_error_at(now);
        let second = backoff.after_error_at(now + first + HEALTHY / 2);
        assert_eq!(second, FIRST * 2);
    }

    #[test]
    fn an_item_resets_it() {
        let mut backoff = WatchBackoff::default();
        let now = Instant::now();
        for _ in 0..4 {
            backoff.after_error_at(now);
        }
        backoff.reset();
        assert_eq!(backoff.after_error_at(now), FIRST);
    }
}
