//! Retry policy: when a failed attempt may be repeated, and how long to wait first.
//!
//! The keep-or-retry decision is the pure function [`decide`], table-tested without a
//! server. The send loop in `transport.rs` is its only caller.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use backon::BackoffBuilder;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

/// How a client retries failed requests.
///
/// Transient failures are 429, 500, 502, 503, 504 and transport errors. A request that is
/// not idempotent (POST, PATCH) is repeated only when the server cannot have acted on it: a
/// 429, or a connection that was never established. The delay grows exponentially with
/// jitter, is never shorter than what the server asked for (`Retry-After`,
/// `x-ratelimit-reset`), and all retries together stay within a total budget.
#[derive(Clone, Debug)]
pub struct RetryConfig {
    pub(crate) max_attempts: u32,
    pub(crate) min_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) total_budget: Duration,
    pub(crate) jitter: bool,
    pub(crate) deadline: Duration,
    pub(crate) refill_per_second: Option<f64>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self::standard()
    }
}

impl RetryConfig {
    /// Up to 4 attempts, 200 ms to 20 s between them with jitter, 60 s of waiting in
    /// total, and a deadline of 180 s for the whole operation.
    pub fn standard() -> Self {
        RetryConfig {
            max_attempts: 4,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            total_budget: Duration::from_secs(60),
            jitter: true,
            deadline: Duration::from_secs(180),
            refill_per_second: None,
        }
    }

    /// One attempt, no retries.
    pub fn disabled() -> Self {
        RetryConfig {
            max_attempts: 1,
            ..Self::standard()
        }
    }

    /// Total number of attempts, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Delay before the first retry.
    pub fn min_delay(mut self, delay: Duration) -> Self {
        self.min_delay = delay;
        self
    }

    /// Longest single wait, also the cap on a server-requested wait.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Upper bound on the time spent waiting across all retries of one call.
    pub fn total_budget(mut self, budget: Duration) -> Self {
        self.total_budget = budget;
        self
    }

    /// The longest one operation may take, everything included: waiting for the
    /// rate-limit budget, fetching the access token, every attempt and every retry delay.
    /// Past it the operation fails with a transport error naming what it was still
    /// waiting for, so no call can wait forever.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The rate at which the server's rate-limit buckets refill, when its documentation
    /// states it (Auth0 Free: 2 per second). `x-ratelimit-reset` is in whole seconds, so a
    /// client that only reads it waits for the next second boundary where a token is back
    /// sooner; with the documented rate, a spent budget is tried again after `1 / rate`
    /// (never earlier than a token can be back). Give the slowest bucket's rate when
    /// buckets differ.
    pub fn refill_per_second(mut self, rate: f64) -> Self {
        self.refill_per_second = (rate.is_finite() && rate > 0.0).then_some(rate);
        self
    }

    /// Turns jitter off, for deterministic timing in tests.
    pub fn no_jitter(mut self) -> Self {
        self.jitter = false;
        self
    }

    pub(crate) fn schedule(&self) -> Schedule {
        let mut builder = backon::ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize);
        if self.jitter {
            builder = builder.with_jitter();
        }
        Schedule {
            backoff: builder.build(),
            started: Instant::now(),
            budget: self.total_budget,
            max_delay: self.max_delay,
        }
    }
}

/// The delays left for one call.
pub(crate) struct Schedule {
    backoff: backon::ExponentialBackoff,
    started: Instant,
    budget: Duration,
    max_delay: Duration,
}

impl Schedule {
    /// The wait before the next attempt, or `None` when attempts or budget are spent.
    pub(crate) fn next_delay(&mut self, at_least: Option<Duration>) -> Option<Duration> {
        let backoff = self.backoff.next()?;
        let delay = at_least.map_or(backoff, |floor| backoff.max(floor.min(self.max_delay)));
        if self.started.elapsed() + delay > self.budget {
            return None;
        }
        Some(delay)
    }
}

/// What happened to one attempt, as far as the retry decision cares.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome<'a> {
    /// The server answered with a non-success status.
    Status(StatusCode, &'a HeaderMap),
    /// No connection could be made: the request never left.
    ConnectFailed,
    /// The request may have reached the server (timeout, connection dropped mid-flight).
    SentButFailed,
}

/// The decision for one failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Give up and report the failure.
    Fail,
    /// Try again after at least this long (server-requested), and after the backoff.
    Retry {
        at_least: Option<Duration>,
        reason: &'static str,
    },
}

pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// Decides whether a failed attempt may be repeated.
pub(crate) fn decide(idempotent: bool, outcome: Outcome<'_>, now: SystemTime) -> Verdict {
    match outcome {
        Outcome::Status(status, headers) => match status.as_u16() {
            // A 429 means the request was refused before any effect: safe for every method.
            429 => Verdict::Retry {
                at_least: server_wait(headers, now),
                reason: "rate_limited",
            },
            500 | 502 | 503 | 504 if idempotent => Verdict::Retry {
                at_least: server_wait(headers, now),
                reason: "server_error",
            },
            _ => Verdict::Fail,
        },
        Outcome::ConnectFailed => Verdict::Retry {
            at_least: None,
            reason: "connect_failed",
        },
        Outcome::SentButFailed if idempotent => Verdict::Retry {
            at_least: None,
            reason: "transport_failed",
        },
        Outcome::SentButFailed => Verdict::Fail,
    }
}

/// How long the server asked us to wait: `Retry-After` (seconds or HTTP date),
/// `retry-after-ms`, or `x-ratelimit-reset` (epoch seconds) when the budget is spent.
pub(crate) fn server_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let mut wait: Option<Duration> = None;
    let mut raise = |d: Duration| wait = Some(wait.map_or(d, |w| w.max(d)));
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<u64>().ok()) {
        raise(Duration::from_millis(ms));
    }
    if let Some(value) = text("retry-after") {
        if let Ok(secs) = value.parse::<u64>() {
            raise(Duration::from_secs(secs));
        } else if let Ok(at) = httpdate::parse_http_date(value) {
            raise(at.duration_since(now).unwrap_or_default());
        }
    }
    if let Some(reset) = ratelimit_reset(headers, now) {
        raise(reset);
    }
    wait
}

/// Time until `x-ratelimit-reset` when `x-ratelimit-remaining` is 0 (or absent on a 429).
pub(crate) fn ratelimit_reset(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let remaining = number("x-ratelimit-remaining");
    if remaining.is_some_and(|r| r > 0) {
        return None;
    }
    let reset = number("x-ratelimit-reset")?;
    let now_secs = now.duration_since(UNIX_EPOCH).ok()?;
    Some(Duration::from_secs(reset).saturating_sub(now_secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn decision_table() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let none = HeaderMap::new();
        let reset = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1003")]);
        let s = |c: u16| StatusCode::from_u16(c).unwrap();
        let cases: Vec<(bool, Outcome<'_>, Verdict)> = vec![
            (
                false,
                Outcome::Status(s(429), &reset),
                Verdict::Retry {
                    at_least: Some(Duration::from_secs(3)),
                    reason: "rate_limited",
                },
            ),
            (
                true,
                Outcome::Status(s(429), &none),
                Verdict::Retry {
                    at_least: None,
                    reason: "rate_limited",
                },
            ),
            (
                true,
                Outcome::Status(s(503), &none),
                Verdict::Retry {
                    at_least: None,
                    reason: "server_error",
                },
            ),
            (
                true,
                Outcome::Status(s(500), &none),
                Verdict::Retry {
                    at_least: None,
                    reason: "server_error",
                },
            ),
            (false, Outcome::Status(s(503), &none), Verdict::Fail),
            (false, Outcome::Status(s(500), &none), Verdict::Fail),
            (true, Outcome::Status(s(400), &none), Verdict::Fail),
            (true, Outcome::Status(s(404), &none), Verdict::Fail),
            (true, Outcome::Status(s(409), &none), Verdict::Fail),
            (
                false,
                Outcome::ConnectFailed,
                Verdict::Retry {
                    at_least: None,
                    reason: "connect_failed",
                },
            ),
            (
                true,
                Outcome::SentButFailed,
                Verdict::Retry {
                    at_least: None,
                    reason: "transport_failed",
                },
            ),
            (false, Outcome::SentButFailed, Verdict::Fail),
        ];
        for (idempotent, outcome, expected) in cases {
            assert_eq!(decide(idempotent, outcome, now), expected, "{idempotent} {outcome:?}");
        }
    }

    #[test]
    fn server_wait_takes_the_longest_hint() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let h = headers(&[
            ("retry-after", "2"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1005"),
        ]);
        assert_eq!(server_wait(&h, now), Some(Duration::from_secs(5)));
        let h = headers(&[("retry-after-ms", "1500")]);
        assert_eq!(server_wait(&h, now), Some(Duration::from_millis(1500)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        let h = headers(&[("retry-after", &date)]);
        assert_eq!(server_wait(&h, now), Some(Duration::from_secs(7)));
        // Budget left: the reset time is not a reason to wait.
        let h = headers(&[("x-ratelimit-remaining", "3"), ("x-ratelimit-reset", "1005")]);
        assert_eq!(server_wait(&h, now), None);
        // A reset in the past means no wait.
        let h = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "900")]);
        assert_eq!(server_wait(&h, now), Some(Duration::ZERO));
    }

    #[test]
    fn schedule_is_bounded_by_attempts_and_budget() {
        let mut s = RetryConfig::standard().no_jitter().max_attempts(3).schedule();
        let ms = |d: Option<Duration>| d.map(|d| d.as_millis());
        assert_eq!(ms(s.next_delay(None)), Some(200));
        assert_eq!(ms(s.next_delay(None)), Some(400));
        assert_eq!(s.next_delay(None), None);

        let mut s = RetryConfig::standard()
            .no_jitter()
            .total_budget(Duration::from_secs(1))
            .schedule();
        assert_eq!(
            s.next_delay(Some(Duration::from_secs(5))),
            None,
            "a wait past the budget gives up"
        );

        let mut s = RetryConfig::standard()
            .no_jitter()
            .max_delay(Duration::from_secs(2))
            .schedule();
        assert_eq!(
            s.next_delay(Some(Duration::from_secs(30))),
            Some(Duration::from_secs(2)),
            "server hint clamped"
        );
        assert_eq!(RetryConfig::disabled().schedule().next_delay(None), None);
    }
}
