//! The one function that sends every request: authorization, proactive rate-limit wait,
//! retries, one tracing span per attempt, and mapping of error responses.

use std::time::{Instant, SystemTime};

use reqwest::header::{AUTHORIZATION, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::error::{Auth0Error, Result, TransportError, decode_error};
use crate::ratelimit::RateLimitGate;
use crate::retry::{Outcome, RetryConfig, Verdict, decide, is_idempotent, server_wait};
use crate::secret::AccessToken;

/// Names an operation for spans and errors: method plus path template, never a concrete id.
#[derive(Clone, Debug)]
pub(crate) struct Operation {
    pub(crate) method: Method,
    pub(crate) template: &'static str,
}

impl Operation {
    pub(crate) const fn new(method: Method, template: &'static str) -> Self {
        Operation { method, template }
    }

    pub(crate) fn name(&self) -> String {
        format!("{} {}", self.method, self.template)
    }
}

/// Supplies the bearer token for a request, and a fresh one after a 401.
pub(crate) trait Authorizer: Sync {
    /// Returns a token and whether it came from the cache; `rejected` is a token the server
    /// just refused, which must not be returned again.
    fn token<'a>(
        &'a self,
        rejected: Option<&'a AccessToken>,
    ) -> futures::future::BoxFuture<'a, Result<(AccessToken, bool)>>;

    /// Whether a rejected token can be replaced by fetching a new one.
    fn can_refresh(&self) -> bool;
}

/// A successful response: status and body.
pub(crate) struct Success {
    pub(crate) status: StatusCode,
    pub(crate) body: bytes::Bytes,
}

impl Success {
    pub(crate) fn json<T: DeserializeOwned>(&self, op: &Operation) -> Result<T> {
        let de = &mut serde_json::Deserializer::from_slice(&self.body);
        serde_path_to_error::deserialize(de).map_err(|e| decode_error(&op.name(), e))
    }
}

/// HTTP plumbing shared by all clones of a client.
#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    pub(crate) retry: RetryConfig,
    pub(crate) gate: RateLimitGate,
}

impl Transport {
    /// Sends `request` (built without an `Authorization` header), retrying as the policy
    /// allows, and returns the successful response or the mapped error.
    pub(crate) async fn send(
        &self,
        op: &Operation,
        request: reqwest::Request,
        auth: Option<&dyn Authorizer>,
    ) -> Result<Success> {
        let idempotent = is_idempotent(&op.method);
        let mut schedule = self.retry.schedule();
        let mut rejected: Option<AccessToken> = None;
        let mut refreshed = false;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            self.gate.wait().await;
            let mut req = request
                .try_clone()
                .ok_or_else(|| Auth0Error::invalid("body", "request body cannot be replayed"))?;
            let span = tracing::debug_span!(
                "http",
                http.request.method = %op.method,
                url.template = op.template,
                attempt,
                http.response.status_code = tracing::field::Empty,
                token.cached = tracing::field::Empty,
                latency_ms = tracing::field::Empty,
                otel.kind = "client",
            );
            let mut used_token = None;
            if let Some(auth) = auth {
                let (token, cached) = auth.token(rejected.as_ref()).instrument(span.clone()).await?;
                span.record("token.cached", cached);
                let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))
                    .map_err(|_| Auth0Error::invalid("access_token", "not a valid header value"))?;
                value.set_sensitive(true);
                req.headers_mut().insert(AUTHORIZATION, value);
                used_token = Some(token);
            }

            let started = Instant::now();
            let result = self.http.execute(req).instrument(span.clone()).await;
            span.record("latency_ms", started.elapsed().as_millis() as u64);

            // A body that breaks off mid-read is a transport failure like any other.
            let result = match result {
                Ok(response) => {
                    let status = response.status();
                    span.record("http.response.status_code", status.as_u16());
                    let headers = response.headers().clone();
                    self.gate.observe(&headers);
                    let body = response.bytes().instrument(span.clone()).await;
                    body.map(|body| (status, headers, body))
                }
                Err(e) => Err(e),
            };
            let (verdict, failure) = match result {
                Ok((status, headers, body)) => {
                    if status.is_success() {
                        return Ok(Success { status, body });
                    }
                    if status == StatusCode::UNAUTHORIZED && !refreshed && auth.is_some_and(|a| a.can_refresh()) {
                        // The token expired or was revoked early: fetch one new token and
                        // replay once. A second 401 is reported as is.
                        span.in_scope(|| tracing::debug!("token rejected; refreshing once and replaying"));
                        refreshed = true;
                        rejected = used_token;
                        continue;
                    }
                    let now = SystemTime::now();
                    let verdict = decide(idempotent, Outcome::Status(status, &headers), now);
                    let error = Auth0Error::from_status(status.as_u16(), &body, server_wait(&headers, now));
                    (verdict, error)
                }
                Err(e) => {
                    let outcome = if e.is_connect() {
                        Outcome::ConnectFailed
                    } else {
                        Outcome::SentButFailed
                    };
                    (
                        decide(idempotent, outcome, SystemTime::now()),
                        Auth0Error::Transport(TransportError(e)),
                    )
                }
            };
            match verdict {
                Verdict::Retry { at_least, reason } => match schedule.next_delay(at_least) {
                    Some(delay) => {
                        span.in_scope(|| tracing::debug!(delay_ms = delay.as_millis() as u64, reason, "retrying"));
                        tokio::time::sleep(delay).await;
                    }
                    None => {
                        span.in_scope(|| tracing::warn!(attempt, reason, "giving up after retries"));
                        return Err(failure);
                    }
                },
                Verdict::Fail => return Err(failure),
            }
        }
    }
}
