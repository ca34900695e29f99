//! A token bucket that decides 429s and fills Auth0's `x-ratelimit-*` headers.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Rate limit of the sandbox's Management API: a bucket of `burst` requests refilled at
/// `per_second`. Auth0 limits tenants the same way and reports it in `x-ratelimit-limit`,
/// `x-ratelimit-remaining` and `x-ratelimit-reset` (epoch seconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Requests refilled per second.
    pub per_second: f64,
    /// Bucket size: requests that may be sent at once.
    pub burst: u32,
}

impl RateLimit {
    /// `per_second` requests per second with a burst of the same size.
    pub fn per_second(per_second: u32) -> Self {
        RateLimit {
            per_second: f64::from(per_second.max(1)),
            burst: per_second.max(1),
        }
    }

    /// Sets the bucket size.
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }

    /// So generous that tests never meet it (the default).
    pub fn unlimited() -> Self {
        RateLimit {
            per_second: 100_000.0,
            burst: 100_000,
        }
    }
}

/// What the bucket said about one request.
pub(crate) struct Admission {
    pub(crate) allowed: bool,
    pub(crate) limit: u32,
    pub(crate) remaining: u32,
    pub(crate) reset_epoch: u64,
}

pub(crate) struct Bucket {
    limit: RateLimit,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Bucket {
            limit,
            tokens: f64::from(limit.burst),
            last: Instant::now(),
        }
    }

    pub(crate) fn set(&mut self, limit: RateLimit) {
        *self = Bucket::new(limit);
    }

    pub(crate) fn admit(&mut self) -> Admission {
        let now = Instant::now();
        let burst = f64::from(self.limit.burst);
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.limit.per_second).min(burst);
        self.last = now;
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        let remaining = self.tokens.floor() as u32;
        // When empty: the moment the next request is allowed; otherwise when full again.
        let missing = if remaining == 0 {
            1.0 - self.tokens
        } else {
            burst - self.tokens
        };
        let wait = Duration::from_secs_f64((missing / self.limit.per_second).max(0.0));
        let reset_at = SystemTime::now() + wait;
        let reset_epoch = reset_at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
            .unwrap_or_default();
        Admission {
            allowed,
            limit: self.limit.burst,
            remaining,
            reset_epoch,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refuses_when_empty_and_reports_reset() {
        let mut bucket = Bucket::new(RateLimit::per_second(1).burst(2));
        let a = bucket.admit();
        assert!(a.allowed && a.remaining == 1 && a.limit == 2);
        let b = bucket.admit();
        assert!(b.allowed && b.remaining == 0);
        let c = bucket.admit();
        assert!(!c.allowed && c.remaining == 0);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!(
            c.reset_epoch >= now && c.reset_epoch <= now + 2,
            "{} vs {now}",
            c.reset_epoch
        );
    }
}
