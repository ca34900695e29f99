//! Proactive rate-limit handling: the client spends the budget the server reports
//! (`x-ratelimit-remaining`) and, once it is spent, waits for `x-ratelimit-reset` instead
//! of earning 429s.
//!
//! Concurrent requests share one budget. Each request takes a permit; the budget the last
//! answer reported, less the requests still in flight, is what may be sent. When it is
//! spent, nobody goes until an answer tells more: requests still in flight will report
//! the budget, and once nothing is in flight everyone waits for the reset, after which a
//! single request (the probe) goes first while the others wait for its answer. Before,
//! every waiter woke at the reset second and went at once: with 8 requests in flight
//! against a bucket of 10 per second, a third of all requests were refused.

use std::pin::pin;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use reqwest::header::HeaderMap;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::retry::ratelimit_reset;

/// Shared by all clones of one client.
#[derive(Debug, Default)]
pub(crate) struct RateLimitGate {
    state: Mutex<Budget>,
    /// Signalled whenever an answer (or a failure) changes what may be sent.
    changed: Notify,
}

#[derive(Debug, Default)]
struct Budget {
    /// Requests that may still be sent before the reset: the last reported
    /// `x-ratelimit-remaining` less the requests sent since. `None` until a server reports
    /// one (a server without rate-limit headers is never held back).
    remaining: Option<u64>,
    /// When a spent budget refills.
    reset_at: Option<Instant>,
    /// Requests sent and not answered yet.
    in_flight: u64,
}

/// What a request that may not go yet waits for.
#[derive(Debug, PartialEq, Eq)]
enum Wait {
    /// The budget refills at this instant.
    Reset(Instant),
    /// An answer to a request in flight, which will tell the budget.
    Answer,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// One request's share of the budget. Give it the answer's headers with
/// [`Permit::observe`]; dropping it without (a transport failure, a cancelled call) just
/// returns the slot.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    gate: &'a RateLimitGate,
    /// Sent with a spent budget to learn the new one (after a reset, or with no reset known).
    probe: bool,
    settled: bool,
}

impl RateLimitGate {
    fn try_acquire(&self) -> Result<Permit<'_>, Wait> {
        let mut budget = lock(&self.state);
        let probe = match budget.remaining {
            None => false,
            Some(0) => {
                if budget.in_flight > 0 {
                    return Err(Wait::Answer);
                }
                if let Some(at) = budget.reset_at
                    && at > Instant::now()
                {
                    return Err(Wait::Reset(at));
                }
                true
            }
            Some(n) => {
                budget.remaining = Some(n - 1);
                false
            }
        };
        budget.in_flight += 1;
        Ok(Permit {
            gate: self,
            probe,
            settled: false,
        })
    }

    /// Waits until the budget allows one more request, and takes it.
    pub(crate) async fn acquire(&self) -> Permit<'_> {
        loop {
            // Registered before looking, so an answer that lands in between is not missed.
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            match self.try_acquire() {
                Ok(permit) => return permit,
                Err(Wait::Reset(at)) => {
                    tracing::debug!(
                        delay_ms = at.saturating_duration_since(Instant::now()).as_millis() as u64,
                        reason = "ratelimit_reset",
                        "waiting before sending"
                    );
                    // Boxed: a timer is large, and almost no request waits.
                    Box::pin(tokio::time::sleep_until(at)).await;
                }
                Err(Wait::Answer) => changed.await,
            }
        }
    }

    fn settle(&self, probe: bool, headers: Option<&HeaderMap>) {
        {
            let mut budget = lock(&self.state);
            budget.in_flight = budget.in_flight.saturating_sub(1);
            if let Some(h) = headers
                && let Some(reported) = header_number(h, "x-ratelimit-remaining")
            {
                // Requests still in flight may or may not be counted in this figure;
                // counting them as spent errs on the side of waiting.
                let fresh = reported.saturating_sub(budget.in_flight);
                // Answers on different connections arrive out of order, so a figure may
                // be older than the last one seen: only a probe's answer (nothing else was
                // in flight) may raise the budget; any other can only lower it.
                budget.remaining = Some(match budget.remaining {
                    Some(current) if !probe => current.min(fresh),
                    _ => fresh,
                });
                if reported == 0 {
                    budget.reset_at = ratelimit_reset(h, SystemTime::now()).map(|wait| Instant::now() + wait);
                } else if probe {
                    budget.reset_at = None;
                }
            }
        }
        self.changed.notify_waiters();
    }
}

impl Permit<'_> {
    /// Records what the answer said about the budget.
    pub(crate) fn observe(mut self, headers: &HeaderMap) {
        self.settled = true;
        self.gate.settle(self.probe, Some(headers));
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.gate.settle(self.probe, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::time::{Duration, UNIX_EPOCH};

    fn answer(remaining: u64, reset_in_secs: u64) -> HeaderMap {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        h.insert("x-ratelimit-reset", HeaderValue::from(now + reset_in_secs));
        h
    }

    #[test]
    fn a_server_without_limits_is_never_held_back() {
        let gate = RateLimitGate::default();
        let permits: Vec<_> = (0..100).map(|_| gate.try_acquire().unwrap()).collect();
        for p in permits {
            p.observe(&HeaderMap::new());
        }
        assert!(gate.try_acquire().is_ok());
    }

    #[test]
    fn the_reported_budget_less_what_is_in_flight_may_go() {
        let gate = RateLimitGate::default();
        let first = gate.try_acquire().unwrap();
        let others: Vec<_> = (0..3).map(|_| gate.try_acquire().unwrap()).collect();
        // 5 left when the first was counted; 3 others are still out.
        first.observe(&answer(5, 1));
        let two: Vec<_> = (0..2).map(|_| gate.try_acquire().unwrap()).collect();
        assert!(two.iter().all(|p| !p.probe));
        // Spent locally: the answers still out will tell the budget, so nobody goes.
        assert_eq!(gate.try_acquire().err(), Some(Wait::Answer));
        two.into_iter().for_each(|p| p.observe(&answer(1, 1)));
        // The last answer: 1 left, 3 still out, so still nothing may go; once they are
        // answered (without headers) and nothing is in flight, one probe may go.
        assert_eq!(gate.try_acquire().err(), Some(Wait::Answer));
        drop(others);
        let probe = gate.try_acquire().unwrap();
        assert!(probe.probe, "{probe:?}");
        assert_eq!(gate.try_acquire().err(), Some(Wait::Answer));
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_reset_one_probe_goes_first_then_its_budget_is_shared() {
        use futures::FutureExt;
        let gate = RateLimitGate::default();
        gate.try_acquire().unwrap().observe(&answer(0, 2));
        let mut waiters: Vec<_> = (0..5).map(|_| Box::pin(gate.acquire())).collect();
        for w in waiters.iter_mut() {
            assert!(w.as_mut().now_or_never().is_none(), "nobody goes before the reset");
        }
        tokio::time::advance(Duration::from_secs(3)).await;
        let mut granted = Vec::new();
        let mut pending = Vec::new();
        for mut w in waiters.drain(..) {
            match w.as_mut().now_or_never() {
                Some(permit) => granted.push(permit),
                None => pending.push(w),
            }
        }
        assert_eq!(granted.len(), 1, "exactly one waiter probes after the reset");
        assert!(granted[0].probe);
        // The probe's answer reports a budget of 10: the others go at once.
        granted.pop().unwrap().observe(&answer(10, 1));
        for w in pending.iter_mut() {
            let permit = w
                .as_mut()
                .now_or_never()
                .expect("the probe's answer lets the others go");
            assert!(!permit.probe);
        }
    }

    #[test]
    fn a_late_answer_cannot_raise_the_budget_only_a_probe_can() {
        let gate = RateLimitGate::default();
        let early = gate.try_acquire().unwrap();
        let late = gate.try_acquire().unwrap();
        // The later-processed answer arrives first: 2 left, the other still out.
        late.observe(&answer(2, 1));
        // The earlier-processed one arrives last, claiming 3: stale, ignored.
        early.observe(&answer(3, 1));
        let _one = gate.try_acquire().unwrap();
        assert_eq!(gate.try_acquire().err(), Some(Wait::Answer));
    }

    #[test]
    fn a_probe_that_never_answers_lets_the_next_one_try() {
        let gate = RateLimitGate::default();
        gate.try_acquire().unwrap().observe(&answer(0, 0));
        let probe = gate.try_acquire().unwrap();
        assert!(probe.probe);
        assert_eq!(gate.try_acquire().err(), Some(Wait::Answer));
        drop(probe);
        assert!(gate.try_acquire().is_ok_and(|p| p.probe));
    }
}
