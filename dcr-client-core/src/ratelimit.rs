//! Proactive rate-limit handling: once the server says the budget is spent
//! (`x-ratelimit-remaining: 0`), later requests wait for `x-ratelimit-reset` instead of
//! being refused with a 429.

use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use tokio::time::Instant;

use reqwest::header::HeaderMap;

use crate::retry::ratelimit_reset;

/// Shared by all clones of one client: the instant before which no request is sent.
#[derive(Debug, Default)]
pub(crate) struct RateLimitGate {
    blocked_until: Mutex<Option<Instant>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RateLimitGate {
    /// The instant to wait for, if the budget was spent and the reset is still ahead.
    pub(crate) fn blocked_until(&self) -> Option<Instant> {
        let until = (*lock(&self.blocked_until))?;
        (until > Instant::now()).then_some(until)
    }

    /// Waits until `until` (from [`blocked_until`](Self::blocked_until)).
    pub(crate) async fn wait_until(&self, until: Instant) {
        let now = Instant::now();
        tracing::debug!(
            delay_ms = until.saturating_duration_since(now).as_millis() as u64,
            reason = "ratelimit_reset",
            "waiting before sending"
        );
        tokio::time::sleep_until(until).await;
    }

    /// Records what a response said about the remaining budget.
    pub(crate) fn observe(&self, headers: &HeaderMap) {
        if let Some(wait) = ratelimit_reset(headers, SystemTime::now())
            && !wait.is_zero()
        {
            let until = Instant::now() + wait;
            let mut guard = lock(&self.blocked_until);
            if guard.is_none_or(|current| current < until) {
                *guard = Some(until);
            }
        }
    }
}
