//! How often, and after how long, a transaction that lost a serialization
//! conflict or a deadlock runs again.

use std::time::Duration;

/// The retry policy of [`transaction_with`](super::transaction_with): at
/// most [`attempts`](Self::attempts) runs in all, waiting between them a
/// random time up to an exponentially growing bound ("full jitter": the
/// `n`-th wait is uniform in `0..=min(cap, base × 2ⁿ⁻¹)`), so transactions
/// that collided once do not collide again in lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    attempts: u32,
    base: Duration,
    cap: Duration,
}

impl Retry {
    /// Run once; never retry.
    pub const NEVER: Retry = Retry {
        attempts: 1,
        base: Duration::ZERO,
        cap: Duration::ZERO,
    };

    /// Up to `attempts` runs in all (at least 1), with waits from 5 ms up
    /// to 500 ms.
    pub const fn attempts(attempts: u32) -> Retry {
        Retry {
            attempts: if attempts == 0 { 1 } else { attempts },
            base: Duration::from_millis(5),
            cap: Duration::from_millis(500),
        }
    }

    /// Sets the first wait's bound (`base`) and the largest (`cap`).
    pub const fn backoff(mut self, base: Duration, cap: Duration) -> Retry {
        self.base = base;
        self.cap = cap;
        self
    }

    /// The most runs, the first included.
    pub const fn max_attempts(&self) -> u32 {
        self.attempts
    }

    /// How long to wait after failed run number `attempt` (counting from 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(20);
        let bound = self
            .base
            .saturating_mul(1u32 << doublings)
            .min(self.cap)
            .as_micros();
        let bound = u64::try_from(bound).unwrap_or(u64::MAX);
        Duration::from_micros(fastrand::u64(0..=bound))
    }
}

/// Ten runs at most, waits from 5 ms to 500 ms.
impl Default for Retry {
    fn default() -> Self {
        Retry::attempts(10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_and_stay_under_the_cap() {
        let retry =
            Retry::attempts(20).backoff(Duration::from_millis(2), Duration::from_millis(50));
        for attempt in 1..20 {
            let bound =
                Duration::from_millis(2 * (1 << (attempt - 1))).min(Duration::from_millis(50));
            for _ in 0..100 {
                assert!(retry.delay(attempt) <= bound, "attempt {attempt}");
            }
        }
        // Jittered: 100 draws under a 50 ms bound are not all equal.
        let draws: std::collections::HashSet<Duration> =
            (0..100).map(|_| retry.delay(10)).collect();
        assert!(draws.len() > 10, "{draws:?}");
        assert_eq!(Retry::attempts(0).max_attempts(), 1);
        assert_eq!(Retry::NEVER.delay(3), Duration::ZERO);
    }
}
