//! Token cache: one token per (client, audience), reused until shortly before it expires,
//! with a single in-flight fetch per key however many callers ask at once.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dcr_client_core::BearerToken;
use tokio::time::Instant;

use crate::error::{Auth0Error, Result};
use crate::oauth::TokenResponse;

pub(crate) struct Cached {
    token: BearerToken,
    valid_until: Instant,
}

/// The cache entry of one (client, audience): its async lock is what makes fetching
/// single-flight. A client keeps the slot of its own credentials, so a request finds its
/// token without hashing or allocating a key.
pub(crate) type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// Cache of access tokens keyed by (client id, audience).
pub(crate) struct TokenCache {
    slots: Mutex<HashMap<(String, String), Slot>>,
    skew: Duration,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("skew", &self.skew)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    pub(crate) fn new(skew: Duration) -> Self {
        TokenCache {
            slots: Mutex::new(HashMap::new()),
            skew,
        }
    }

    /// The slot of a (client, audience), created empty on first use.
    pub(crate) fn slot(&self, client_id: &str, audience: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots
            .entry((client_id.to_owned(), audience.to_owned()))
            .or_default()
            .clone()
    }

    /// Returns the slot's token, or fetches one. `rejected` is a token the server just
    /// refused: it is not returned again, but a newer token that another caller fetched
    /// meanwhile is, so concurrent 401s cause one refresh, not one each.
    pub(crate) async fn get_or_fetch<F, Fut>(
        &self,
        slot: &Slot,
        rejected: Option<&BearerToken>,
        fetch: F,
    ) -> Result<(BearerToken, bool)>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<TokenResponse>>,
    {
        // Holding the slot's async lock across the fetch is what makes it single-flight.
        let mut cached = slot.lock().await;
        if let Some(current) = cached.as_ref() {
            let was_rejected = rejected.is_some_and(|r| r.same_as(&current.token));
            if !was_rejected && Instant::now() < current.valid_until {
                return Ok((current.token.clone(), true));
            }
        }
        *cached = None;
        let response = fetch().await?;
        let lifetime = Duration::from_secs(response.expires_in);
        let valid_until = Instant::now() + lifetime - self.skew.min(lifetime / 2);
        let token = BearerToken::new(response.access_token.into_secret_string()).ok_or_else(|| {
            Auth0Error::invalid(
                "access_token",
                "the token endpoint returned a token that cannot be sent in a header",
            )
        })?;
        *cached = Some(Cached {
            token: token.clone(),
            valid_until,
        });
        Ok((token, false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn response(token: &str, expires_in: u64) -> TokenResponse {
        serde_json::from_value(serde_json::json!({
            "access_token": token, "expires_in": expires_in, "token_type": "Bearer"
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(TokenCache::new(Duration::from_secs(60)));
        let fetches = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let cache = cache.clone();
            let fetches = fetches.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_fetch(&cache.slot("c", "a"), None, || async {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(response("t1", 3600))
                    })
                    .await
                    .map(|(t, _)| t.secret().expose_secret().to_owned())
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), "t1");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn rejected_token_is_replaced_once_and_keys_are_separate() {
        let cache = TokenCache::new(Duration::from_secs(60));
        let (t1, cached) = cache
            .get_or_fetch(&cache.slot("c", "a"), None, || async { Ok(response("t1", 3600)) })
            .await
            .unwrap();
        assert!(!cached);
        let (t2, _) = cache
            .get_or_fetch(&cache.slot("c", "a"), Some(&t1), || async { Ok(response("t2", 3600)) })
            .await
            .unwrap();
        assert_eq!(t2.secret().expose_secret(), "t2");
        // A second caller that also saw t1 rejected gets t2 without a fetch.
        let (t3, cached) = cache
            .get_or_fetch(&cache.slot("c", "a"), Some(&t1), || async { Ok(response("t3", 3600)) })
            .await
            .unwrap();
        assert!(cached);
        assert_eq!(t3.secret().expose_secret(), "t2");
        let (other, _) = cache
            .get_or_fetch(&cache.slot("c", "b"), None, || async { Ok(response("tb", 3600)) })
            .await
            .unwrap();
        assert_eq!(other.secret().expose_secret(), "tb");
    }

    #[tokio::test(start_paused = true)]
    async fn token_is_refetched_before_it_expires() {
        let cache = TokenCache::new(Duration::from_secs(60));
        cache
            .get_or_fetch(&cache.slot("c", "a"), None, || async { Ok(response("t1", 600)) })
            .await
            .unwrap();
        tokio::time::advance(Duration::from_secs(530)).await;
        let (t, cached) = cache
            .get_or_fetch(&cache.slot("c", "a"), None, || async { Ok(response("t2", 600)) })
            .await
            .unwrap();
        assert!(
            cached && t.secret().expose_secret() == "t1",
            "still inside expires_in - skew"
        );
        tokio::time::advance(Duration::from_secs(15)).await;
        let (t, cached) = cache
            .get_or_fetch(&cache.slot("c", "a"), None, || async { Ok(response("t2", 600)) })
            .await
            .unwrap();
        assert!(
            !cached && t.secret().expose_secret() == "t2",
            "within the skew of expiry"
        );
    }
}
