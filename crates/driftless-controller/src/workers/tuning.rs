//! How many workers, decided once a second from what the API server's answers looked like:
//! more while it answers quickly and every worker is busy, fewer when it throttles (429) or
//! slows down. Pure: samples in, a limit out.

use std::time::Duration;

/// The range the number of workers moves in, and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The fewest workers, however slow the API server.
    pub min: u16,
    /// The number at start.
    pub start: u16,
    /// The most workers, however fast the API server.
    pub max: u16,
}

impl Bounds {
    /// A fixed number of workers.
    pub fn fixed(workers: u16) -> Bounds {
        let workers = workers.max(1);
        Bounds {
            min: workers,
            start: workers,
            max: workers,
        }
    }

    /// `min ≤ start ≤ max`, all at least 1, or the reason they are not.
    pub fn new(min: u16, start: u16, max: u16) -> Result<Bounds, String> {
        if min == 0 {
            return Err("the minimum number of workers must be at least 1".into());
        }
        if min > max {
            return Err(format!(
                "the minimum number of workers ({min}) exceeds the maximum ({max})"
            ));
        }
        Ok(Bounds {
            min,
            start: start.clamp(min, max),
            max,
        })
    }
}

/// A window's mean latency above this many times the best window's is the API server slowing
/// down under the load: fewer workers.
const SLOWER: u32 = 3;

/// Latencies up to this are never "slow", whatever the best window was (a loopback API server
/// answers in a millisecond; three of them is no congestion).
const FAST_ENOUGH: Duration = Duration::from_millis(100);

/// The state of the decision: the limit, the best window seen, and the current window.
#[derive(Debug, Clone)]
pub struct Tuning {
    bounds: Bounds,
    limit: u16,
    best: Option<Duration>,
    samples: u32,
    total: Duration,
    throttled: u32,
    saturated: bool,
}

impl Tuning {
    /// Starts at `bounds.start`.
    pub fn new(bounds: Bounds) -> Tuning {
        Tuning {
            bounds,
            limit: bounds.start,
            best: None,
            samples: 0,
            total: Duration::ZERO,
            throttled: 0,
            saturated: false,
        }
    }

    /// The current number of workers.
    pub fn limit(&self) -> u16 {
        self.limit
    }

    /// One API request answered after `latency`; `throttled` when the answer was 429.
    pub fn sample(&mut self, latency: Duration, throttled: bool) {
        self.samples = self.samples.saturating_add(1);
        self.total = self.total.saturating_add(latency);
        self.throttled = self.throttled.saturating_add(u32::from(throttled));
    }

    /// Work waited for a worker during this window.
    pub fn saturated(&mut self) {
        self.saturated = true;
    }

    /// Ends the window and returns the new limit. With no request answered in the window,
    /// nothing is known and the limit stays.
    pub fn decide(&mut self) -> u16 {
        let (samples, total, throttled, saturated) =
            (self.samples, self.total, self.throttled, self.saturated);
        self.samples = 0;
        self.total = Duration::ZERO;
        self.throttled = 0;
        self.saturated = false;
        eprintln!(
            "DEBUG decide samples={samples} total={total:?} throttled={throttled} saturated={saturated} limit={}",
            self.limit
        );
        if samples == 0 {
            return self.limit;
        }
        let mean = total / samples;
        let best = *self.best.get_or_insert(mean);
        self.best = Some(best.min(mean));
        let slow = mean > FAST_ENOUGH && mean > best.saturating_mul(SLOWER);
        if throttled > 0 || slow {
            // Multiplicative decrease: a quarter off, at least one.
            let cut = (self.limit / 4).max(1);
            self.limit = self.limit.saturating_sub(cut).max(self.bounds.min);
        } else if saturated {
            // Growth by an eighth (at least one): from 16 to 64 in about a dozen seconds.
            let step = (self.limit / 8).max(1);
            self.limit = self.limit.saturating_add(step).min(self.bounds.max);
        }
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(min: u16, start: u16, max: u16) -> Bounds {
        Bounds::new(min, start, max).unwrap_or_else(|e| panic!("{e}"))
    }

    fn window(t: &mut Tuning, ms: u64, n: u32, throttled: bool, saturated: bool) -> u16 {
        for _ in 0..n {
            t.sample(Duration::from_millis(ms), throttled);
        }
        if saturated {
            t.saturated();
        }
        t.decide()
    }

    #[test]
    fn busy_workers_and_a_fast_api_server_grow_the_limit_up_to_the_maximum() {
        let mut t = Tuning::new(bounds(4, 16, 40));
        assert_eq!(window(&mut t, 5, 50, false, true), 18);
        assert_eq!(window(&mut t, 5, 50, false, true), 20);
        let mut last = 0;
        for _ in 0..50 {
            last = window(&mut t, 5, 50, false, true);
        }
        assert_eq!(last, 40);
    }

    #[test]
    fn idle_workers_do_not_grow_the_limit() {
        let mut t = Tuning::new(bounds(4, 16, 40));
        assert_eq!(window(&mut t, 5, 50, false, false), 16);
    }

    #[test]
    fn a_throttled_window_cuts_a_quarter_down_to_the_minimum() {
        let mut t = Tuning::new(bounds(4, 16, 40));
        assert_eq!(window(&mut t, 5, 50, true, true), 12);
        assert_eq!(window(&mut t, 5, 50, true, true), 9);
        for _ in 0..20 {
            window(&mut t, 5, 50, true, true);
        }
        assert_eq!(t.limit(), 4);
    }

    #[test]
    fn a_window_three_times_slower_than_the_best_cuts_but_fast_answers_never_do() {
        let mut t = Tuning::new(bounds(1, 16, 40));
        assert_eq!(window(&mut t, 50, 20, false, true), 18);
        // 4x the best but under FAST_ENOUGH: still fast.
        assert_eq!(window(&mut t, 90, 20, false, true), 20);
        // Over FAST_ENOUGH and over 3x the best (50 ms).
        assert_eq!(window(&mut t, 400, 20, false, true), 15);
    }

    #[test]
    fn a_window_without_answers_keeps_the_limit() {
        let mut t = Tuning::new(bounds(4, 16, 40));
        t.saturated();
        assert_eq!(t.decide(), 16);
    }

    #[test]
    fn bounds_are_checked_and_the_start_clamped() {
        assert!(Bounds::new(0, 1, 2).is_err());
        assert!(Bounds::new(5, 5, 4).is_err());
        assert_eq!(bounds(2, 99, 8).start, 8);
        assert_eq!(bounds(2, 1, 8).start, 2);
        let fixed = Bounds::fixed(7);
        let mut t = Tuning::new(fixed);
        assert_eq!(window(&mut t, 1, 10, false, true), 7);
        assert_eq!(window(&mut t, 1, 10, true, true), 7);
    }
}
