//! Retrying a failed sync with exponential backoff (`syncPolicy.retry`).

use std::time::Duration;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: never retry).
    pub limit: u32,
    /// Delay before the first retry.
    pub duration: Duration,
    /// Each further delay is the previous one times this.
    pub factor: u32,
    /// No delay exceeds this.
    pub max_duration: Duration,
}

impl Default for RetryPolicy {
    /// Argo CD's defaults for `backoff`: 5 s, doubling, at most 3 minutes; no retries unless a
    /// limit is given.
    fn default() -> Self {
        Self {
            limit: 0,
            duration: Duration::from_secs(5),
            factor: 2,
            max_duration: Duration::from_secs(180),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `retry` (1-based), or `None` when retries are used up.
    pub fn delay(&self, retry: u32) -> Option<Duration> {
        if retry == 0 || retry > self.limit {
            return None;
        }
        let factor = self.factor.max(1).saturating_pow(retry - 1);
        Some(self.duration.saturating_mul(factor).min(self.max_duration))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_by_the_factor_up_to_the_cap() {
        let policy = RetryPolicy {
            limit: 5,
            ..RetryPolicy::default()
        };
        let delays: Vec<u64> = (1..=6)
            .map(|n| policy.delay(n).map_or(0, |d| d.as_secs()))
            .collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 0]);
        let capped = RetryPolicy {
            limit: 20,
            ..RetryPolicy::default()
        };
        assert_eq!(capped.delay(20), Some(Duration::from_secs(180)));
        assert_eq!(RetryPolicy::default().delay(1), None);
    }
}
