//! Deduplication: the same event for the same Application and revision, through the same
//! Alert, is sent once per window. Time is handed in, so this is pure.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// How long an event is remembered: the controller reports an unchanged state again on every
/// poll and every restart, and a chat should hear of it once. Five minutes is the window Flux's
/// event recorder uses for the same purpose.
pub const WINDOW: Duration = Duration::from_secs(300);

/// How many events are remembered at most; when full, the oldest are forgotten first (a
/// duplicate may then be sent again, never an event lost).
pub const CAPACITY: usize = 10_000;

/// Remembers the events sent in the last window.
#[derive(Debug)]
pub struct Dedup<K> {
    window: Duration,
    capacity: usize,
    seen: HashMap<K, Instant>,
}

impl<K: Hash + Eq + Clone> Dedup<K> {
    /// Remembers events for `window`, at most `capacity` of them.
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity: capacity.max(1),
            seen: HashMap::new(),
        }
    }

    /// Whether `key` was not seen in the window before `now`; remembers it if so.
    pub fn first(&mut self, key: &K, now: Instant) -> bool {
        if let Some(at) = self.seen.get(key)
            && now.saturating_duration_since(*at) < self.window
        {
            return false;
        }
        if self.seen.len() >= self.capacity {
            let window = self.window;
            self.seen
                .retain(|_, at| now.saturating_duration_since(*at) < window);
        }
        if self.seen.len() >= self.capacity
            && let Some(oldest) = self
                .seen
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(k, _)| k.clone())
        {
            self.seen.remove(&oldest);
        }
        self.seen.insert(key.clone(), now);
        true
    }

    /// How many events are remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_sent_once_per_window() {
        let start = Instant::now();
        let mut dedup = Dedup::new(Duration::from_secs(60), 100);
        assert!(dedup.first(&"a", start));
        assert!(!dedup.first(&"a", start + Duration::from_secs(59)));
        assert!(dedup.first(&"b", start + Duration::from_secs(1)));
        assert!(dedup.first(&"a", start + Duration::from_secs(60)));
        assert!(!dedup.first(&"a", start + Duration::from_secs(61)));
    }

    #[test]
    fn memory_is_bounded_and_forgets_the_oldest() {
        let start = Instant::now();
        let mut dedup = Dedup::new(Duration::from_secs(600), 3);
        for (i, key) in ["a", "b", "c", "d"].iter().enumerate() {
            assert!(dedup.first(key, start + Duration::from_secs(i as u64)));
        }
        assert_eq!(dedup.len(), 3);
        // "a" was forgotten, so it may be sent again; "d" is remembered.
        assert!(!dedup.first(&"d", start + Duration::from_secs(5)));
        assert!(dedup.first(&"a", start + Duration::from_secs(5)));
    }
}
