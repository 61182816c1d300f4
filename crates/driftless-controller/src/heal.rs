//! Self-heal backoff: revert drift at once, but back off when something keeps changing the
//! cluster back (another controller, a person in a loop), so the two do not fight at full speed.

use std::time::{Duration, Instant};

/// The delay before the second correction in a row; doubled for each further one.
const FIRST_DELAY: Duration = Duration::from_secs(1);
/// The longest delay between corrections, as Argo CD's self-heal backoff cap.
const MAX_DELAY: Duration = Duration::from_secs(300);
/// A correction this long after the previous backoff ended starts a new series: the fight is over.
const QUIET: Duration = Duration::from_secs(60);

/// Corrections of one application in the current series.
#[derive(Debug, Default, Clone)]
pub(crate) struct Backoff {
    attempts: u32,
    last: Option<Instant>,
}

impl Backoff {
    /// How long to wait before the next correction at `now`; zero means heal now.
    pub fn wait(&self, now: Instant) -> Duration {
        let Some(last) = self.last else {
            return Duration::ZERO;
        };
        self.delay()
            .saturating_sub(now.saturating_duration_since(last))
    }

    /// Records a correction made at `now`.
    pub fn healed(&mut self, now: Instant) {
        let fresh = self
            .last
            .is_none_or(|last| now.saturating_duration_since(last) >= self.delay() + QUIET);
        self.attempts = if fresh {
            1
        } else {
            self.attempts.saturating_add(1)
        };
        self.last = Some(now);
    }

    /// Ends the current series: the next correction is immediate.
    pub fn new_series(&mut self) {
        *self = Self::default();
    }

    /// How many corrections the current series has made.
    #[cfg(test)]
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The delay after the current number of corrections: none after zero, then 1 s, 2 s, 4 s...
    fn delay(&self) -> Duration {
        match self.attempts {
            0 => Duration::ZERO,
            n => FIRST_DELAY
                .saturating_mul(2u32.saturating_pow(n - 1))
                .min(MAX_DELAY),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_series_heals_at_once_again() {
        let start = Instant::now();
        let mut backoff = Backoff::default();
        for n in 0..6 {
            backoff.healed(start + Duration::from_secs(n));
        }
        assert!(backoff.wait(start + Duration::from_secs(6)) > Duration::from_secs(10));
        backoff.new_series();
        assert_eq!(backoff.wait(start + Duration::from_secs(6)), Duration::ZERO);
        assert_eq!(backoff.attempts(), 0);
    }

    #[test]
    fn the_first_correction_is_immediate_and_a_fight_backs_off_exponentially() {
        let start = Instant::now();
        let mut backoff = Backoff::default();
        assert_eq!(backoff.wait(start), Duration::ZERO);
        backoff.healed(start);
        assert_eq!(backoff.wait(start), Duration::from_secs(1));
        let t1 = start + Duration::from_secs(1);
        assert_eq!(backoff.wait(t1), Duration::ZERO);
        backoff.healed(t1);
        assert_eq!(backoff.wait(t1), Duration::from_secs(2));
        let t2 = t1 + Duration::from_secs(2);
        backoff.healed(t2);
        assert_eq!(backoff.wait(t2), Duration::from_secs(4));
        assert_eq!(backoff.attempts(), 3);
    }

    #[test]
    fn the_delay_is_capped_and_a_quiet_minute_resets_it() {
        let start = Instant::now();
        let mut backoff = Backoff::default();
        let mut now = start;
        for _ in 0..20 {
            now += backoff.wait(now);
            backoff.healed(now);
        }
        assert_eq!(backoff.wait(now), MAX_DELAY);
        let later = now + MAX_DELAY + QUIET;
        assert_eq!(backoff.wait(later), Duration::ZERO);
        backoff.healed(later);
        assert_eq!(backoff.attempts(), 1);
    }
}
