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

    /// `per_minute` requests per minute with a burst of `burst` (how Auth0's per-endpoint
    /// buckets are documented).
    pub fn per_minute(per_minute: u32, burst: u32) -> Self {
        RateLimit {
            per_second: f64::from(per_minute.max(1)) / 60.0,
            burst: burst.max(1),
        }
    }

    /// So generous that tests never meet it (the default).
    pub fn unlimited() -> Self {
        RateLimit {
            per_second: 100_000.0,
            burst: 100_000,
        }
    }
}

/// Auth0 subscription plans, as their documented rate limits (research notes, §7:
/// Auth0's "rate limit configurations" pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tier {
    /// Free: Management API 2 burst / 2 per second, one bucket for every endpoint.
    Free,
    /// Essentials and Professional: per-endpoint buckets, e.g. reading clients 5 burst /
    /// 100 per minute, "all other endpoints combined" 10 burst / 150 per minute.
    Essentials,
    /// Enterprise, production tenant: 50 burst / 16 per second.
    Enterprise,
    /// No limit a test would meet (the in-process default).
    Unlimited,
}

impl std::str::FromStr for Tier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "free" => Ok(Tier::Free),
            "essentials" | "professional" => Ok(Tier::Essentials),
            "enterprise" => Ok(Tier::Enterprise),
            "unlimited" => Ok(Tier::Unlimited),
            other => Err(format!(
                "unknown Auth0 tier {other:?}: free, essentials, enterprise or unlimited"
            )),
        }
    }
}

/// A bucket of its own for some Management API operations.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointLimit {
    /// The bucket's name in Auth0's table, e.g. "Read Clients".
    pub name: &'static str,
    /// HTTP method.
    pub method: &'static str,
    /// Route templates it covers, e.g. `/api/v2/clients/{id}`.
    pub routes: &'static [&'static str],
    /// The limit.
    pub limit: RateLimit,
}

/// Every limit of the sandbox: the Management API's buckets (a global one checked first,
/// then per endpoint, then "all other endpoints combined") and the token endpoint's.
/// Answers carry the `x-ratelimit-*` headers of the bucket that decided them.
#[derive(Clone, Debug, PartialEq)]
pub struct RateLimits {
    /// Checked first for every Management API request.
    pub global: Option<RateLimit>,
    /// Buckets of their own for some operations.
    pub endpoints: Vec<EndpointLimit>,
    /// Every Management API operation no endpoint bucket covers.
    pub other: Option<RateLimit>,
    /// `POST /oauth/token` (the Authentication API's own bucket).
    pub token: Option<RateLimit>,
}

impl RateLimits {
    /// One bucket for the whole Management API, none for the token endpoint (what
    /// [`Auth0SandboxBuilder::rate_limit`](super::Auth0SandboxBuilder::rate_limit) sets).
    pub fn single(limit: RateLimit) -> Self {
        RateLimits {
            global: Some(limit),
            endpoints: Vec::new(),
            other: None,
            token: None,
        }
    }

    /// A plan's documented limits.
    pub fn tier(tier: Tier) -> Self {
        // Authentication API, token requests: 30 burst / 30 per second on Free (and the
        // smallest figure of the paid plans, used for all of them here).
        let token = Some(RateLimit::per_second(30));
        match tier {
            Tier::Free => RateLimits {
                token,
                ..RateLimits::single(RateLimit::per_second(2))
            },
            Tier::Enterprise => RateLimits {
                token,
                ..RateLimits::single(RateLimit::per_second(16).burst(50))
            },
            Tier::Essentials => RateLimits {
                global: None,
                endpoints: vec![EndpointLimit {
                    name: "Read Clients",
                    method: "GET",
                    routes: &["/api/v2/clients", "/api/v2/clients/{id}"],
                    limit: RateLimit::per_minute(100, 5),
                }],
                other: Some(RateLimit::per_minute(150, 10)),
                token,
            },
            Tier::Unlimited => RateLimits::single(RateLimit::unlimited()),
        }
    }
}

/// The buckets of [`RateLimits`], full at the start.
pub(crate) struct Limiter {
    global: Option<Bucket>,
    endpoints: Vec<(EndpointLimit, Bucket)>,
    other: Option<Bucket>,
    token: Option<Bucket>,
}

impl Limiter {
    pub(crate) fn new(limits: &RateLimits) -> Self {
        Limiter {
            global: limits.global.map(Bucket::new),
            endpoints: limits
                .endpoints
                .iter()
                .map(|e| (e.clone(), Bucket::new(e.limit)))
                .collect(),
            other: limits.other.map(Bucket::new),
            token: limits.token.map(Bucket::new),
        }
    }

    /// Admits a Management API request: the global bucket first, then the endpoint's own
    /// (or "all other endpoints"). `None`: no bucket applies.
    pub(crate) fn management(&mut self, method: &str, route: &str) -> Option<Admission> {
        if let Some(global) = &mut self.global {
            let admission = global.admit();
            if !admission.allowed {
                return Some(admission);
            }
            let specific = self.specific(method, route);
            return Some(specific.unwrap_or(admission));
        }
        self.specific(method, route)
    }

    fn specific(&mut self, method: &str, route: &str) -> Option<Admission> {
        let own = self
            .endpoints
            .iter_mut()
            .find(|(e, _)| e.method == method && e.routes.contains(&route))
            .map(|(_, bucket)| bucket);
        own.or(self.other.as_mut()).map(Bucket::admit)
    }

    /// Admits a token request; `None` when the token endpoint has no limit.
    pub(crate) fn token(&mut self) -> Option<Admission> {
        self.token.as_mut().map(Bucket::admit)
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
