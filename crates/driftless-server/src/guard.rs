//! What keeps the webhook receiver from being abused: a rate limit per source address, a much
//! stricter one on refused requests (so nobody can try signatures or tokens at speed), and a
//! memory of delivery ids, so an authentic request replayed is refused.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// How much a source may send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Webhook requests per second from one address, sustained.
    pub per_second: NonZeroU32,
    /// Requests from one address at once before the rate applies.
    pub burst: NonZeroU32,
    /// Refused requests (bad signature, malformed, replayed...) one address may make per
    /// minute, sustained; past them, every request from it is refused until the quota refills.
    pub refusals_per_minute: NonZeroU32,
    /// Refused requests at once before that rate applies.
    pub refusal_burst: NonZeroU32,
    /// How many delivery ids are remembered against replays (the oldest are forgotten first).
    pub deliveries: usize,
}

impl Default for Limits {
    /// 20 requests a second (100 at once), 6 refusals a minute (20 at once), 10,000 deliveries:
    /// far above what a Git host sends for one installation, far below what guessing needs.
    fn default() -> Self {
        Self {
            per_second: NonZeroU32::MIN.saturating_add(19),
            burst: NonZeroU32::MIN.saturating_add(99),
            refusals_per_minute: NonZeroU32::MIN.saturating_add(5),
            refusal_burst: NonZeroU32::MIN.saturating_add(19),
            deliveries: 10_000,
        }
    }
}

/// The rate limits and the replay memory, shared by every request.
pub struct Guard {
    requests: DefaultKeyedRateLimiter<IpAddr>,
    refusals: DefaultKeyedRateLimiter<IpAddr>,
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    deliveries: Mutex<Deliveries>,
    clock: DefaultClock,
    admitted: AtomicU64,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard").finish_non_exhaustive()
    }
}

impl Default for Guard {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

/// How often (in admitted requests) the per-address state of quiet addresses is dropped.
const SWEEP_EVERY: u64 = 1024;

impl Guard {
    /// A guard with these limits.
    pub fn new(limits: Limits) -> Self {
        let requests = Quota::per_second(limits.per_second).allow_burst(limits.burst);
        let refusals =
            Quota::per_minute(limits.refusals_per_minute).allow_burst(limits.refusal_burst);
        Self {
            requests: RateLimiter::keyed(requests),
            refusals: RateLimiter::keyed(refusals),
            blocked: Mutex::new(HashMap::new()),
            deliveries: Mutex::new(Deliveries::new(limits.deliveries)),
            clock: DefaultClock::default(),
            admitted: AtomicU64::new(0),
        }
    }

    /// Whether a request from `source` may be handled now; else how long it should wait.
    pub fn admit(&self, source: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        {
            let mut blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
            match blocked.get(&source) {
                Some(until) if *until > now => return Err(*until - now),
                Some(_) => {
                    blocked.remove(&source);
                }
                None => {}
            }
        }
        self.sweep();
        self.requests
            .check_key(&source)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Counts a refused request from `source`; past the refusal quota the address is blocked
    /// until the quota has room again.
    pub fn refused(&self, source: IpAddr) {
        if let Err(not_until) = self.refusals.check_key(&source) {
            let wait = not_until.wait_time_from(self.clock.now());
            let mut blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            if blocked.len() > 4 * SWEEP_EVERY as usize {
                blocked.retain(|_, until| *until > now);
            }
            blocked.insert(source, now + wait);
        }
    }

    /// Records the delivery `id` of an authentic request from `provider`; `false` when it was
    /// seen before (a replay).
    pub fn first_delivery(&self, provider: &str, id: &str) -> bool {
        self.deliveries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(format!("{provider}\n{id}"))
    }

    /// Drops the rate-limit state of addresses that have been quiet long enough to be back at
    /// full quota, every [`SWEEP_EVERY`] admitted requests.
    fn sweep(&self) {
        if self
            .admitted
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SWEEP_EVERY)
        {
            self.requests.retain_recent();
            self.refusals.retain_recent();
        }
    }
}

/// The last delivery ids, bounded.
struct Deliveries {
    seen: HashSet<String>,
    order: VecDeque<String>,
    capacity: usize,
}

impl Deliveries {
    fn new(capacity: usize) -> Self {
        Self {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    fn insert(&mut self, key: String) -> bool {
        if self.seen.contains(&key) {
            return false;
        }
        if self.order.len() >= self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.seen.insert(key.clone());
        self.order.push_back(key);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_second: u32, burst: u32, refusals: u32, deliveries: usize) -> Limits {
        let n = |v: u32| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
        Limits {
            per_second: n(per_second),
            burst: n(burst),
            refusals_per_minute: n(1),
            refusal_burst: n(refusals),
            deliveries,
        }
    }

    #[test]
    fn each_address_has_its_own_burst() {
        let guard = Guard::new(limits(1, 3, 100, 10));
        let (a, b): (IpAddr, IpAddr) = ([127, 0, 0, 1].into(), [127, 0, 0, 2].into());
        for _ in 0..3 {
            assert_eq!(guard.admit(a), Ok(()));
        }
        let wait = guard.admit(a).err().unwrap_or_default();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert_eq!(guard.admit(b), Ok(()));
    }

    #[test]
    fn too_many_refusals_block_the_address_even_for_good_requests() {
        let guard = Guard::new(limits(100, 100, 2, 10));
        let (a, b): (IpAddr, IpAddr) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        guard.refused(a);
        guard.refused(a);
        assert_eq!(guard.admit(a), Ok(()), "within the refusal burst");
        guard.refused(a);
        let wait = guard.admit(a).err().unwrap_or_default();
        // One refusal a minute refills the quota.
        assert!(
            wait > Duration::from_secs(30) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert_eq!(guard.admit(b), Ok(()));
    }

    #[test]
    fn a_delivery_is_accepted_once_and_the_memory_is_bounded() {
        let guard = Guard::new(limits(1, 1, 1, 2));
        assert!(guard.first_delivery("github", "d1"));
        assert!(!guard.first_delivery("github", "d1"));
        // Another provider's id space.
        assert!(guard.first_delivery("gitea", "d1"));
        // d1 of github is forgotten once two newer ids are remembered.
        assert!(guard.first_delivery("github", "d2"));
        assert!(guard.first_delivery("github", "d1"));
    }
}
