//! The one function that sends every request of a client: authorization, proactive
//! rate-limit wait, retries, one tracing span per attempt, and mapping of error responses
//! into the calling crate's own error type through [`ServiceError`].

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{AUTHORIZATION, HeaderMap};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::bearer::BearerToken;
use crate::error::{TransportError, redact_quoted};
use crate::ratelimit::RateLimitGate;
use crate::retry::{Outcome, RetryConfig, Verdict, decide, is_idempotent, server_wait};

/// Names an operation for spans and errors: method plus path template, never a concrete id.
#[derive(Clone, Debug)]
pub struct Operation {
    /// HTTP method.
    pub method: Method,
    /// Path template as the API document spells it, e.g. `/v2/dcr-providers/{dcrProviderId}`.
    pub template: &'static str,
    repeatable: bool,
    headers: bool,
}

impl Operation {
    /// An operation; declare them as `static`s next to the handler that sends them.
    pub const fn new(method: Method, template: &'static str) -> Self {
        Operation {
            method,
            template,
            repeatable: false,
            headers: false,
        }
    }

    /// Keeps a success's response headers in [`Success::headers`] (e.g. the `Set-Cookie`
    /// of a sign-in). Off by default: copying every answer's headers costs each call.
    pub const fn keeps_headers(mut self) -> Self {
        self.headers = true;
        self
    }

    /// Marks a POST or PATCH whose repetition has the same effect as one send (a PATCH
    /// that sets absolute values), so it is retried after a 5xx or a lost answer like a
    /// GET. Only for requests whose every body has that property.
    pub const fn repeatable(mut self) -> Self {
        self.repeatable = true;
        self
    }

    /// Whether a failed attempt may be sent again when the server may have acted on it.
    pub fn is_repeatable(&self) -> bool {
        self.repeatable || is_idempotent(&self.method)
    }

    /// `METHOD /template`, as used in spans and decode errors.
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.template)
    }
}

/// How a client crate turns transport outcomes into its own error enum.
pub trait ServiceError: Sized {
    /// An error status with the service's body; `retry_after` is the server's requested wait.
    fn from_response(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self;
    /// A failure below HTTP.
    fn from_transport(error: TransportError) -> Self;
    /// A request that could not be sent as built (e.g. a body that cannot be replayed).
    fn invalid_request(field: &'static str, reason: &'static str) -> Self;
    /// A success body that did not decode: operation name, JSON path, reason with quoted
    /// values already redacted.
    fn decode(operation: String, path: String, reason: String) -> Self;
    /// True for a 404.
    fn is_not_found(&self) -> bool;
}

/// Turns a 404 into `Ok(None)`: the `get_opt` of every handler.
pub trait NotFoundAsNone<T, E> {
    /// `Ok(Some(v))` for a success, `Ok(None)` for a 404, the error otherwise.
    fn optional(self) -> Result<Option<T>, E>;
}

impl<T, E: ServiceError> NotFoundAsNone<T, E> for Result<T, E> {
    fn optional(self) -> Result<Option<T>, E> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Supplies the bearer token for a request, and a fresh one after a 401.
pub trait Authorizer<E>: Sync {
    /// Returns a token and whether it came from a cache; `rejected` is a token the server
    /// just refused, which must not be returned again.
    fn token<'a>(
        &'a self,
        rejected: Option<&'a BearerToken>,
    ) -> futures::future::BoxFuture<'a, Result<(BearerToken, bool), E>>;

    /// Whether a rejected token can be replaced by fetching a new one.
    fn can_refresh(&self) -> bool;

    /// The header the token goes in: `Authorization` unless the service takes a session
    /// cookie (Konnect's developer API: `Cookie: portalaccesstoken=…`, see
    /// [`BearerToken::cookie`]).
    fn header_name(&self) -> reqwest::header::HeaderName {
        AUTHORIZATION
    }
}

/// A successful response: status and body.
#[derive(Debug)]
pub struct Success {
    /// HTTP status (2xx).
    pub status: StatusCode,
    /// The whole body.
    pub body: bytes::Bytes,
    /// The response headers, for operations declared with [`Operation::keeps_headers`]
    /// (empty otherwise).
    pub headers: HeaderMap,
}

impl Success {
    /// Decodes the body, reporting the JSON path of a mismatch without quoting any value
    /// (a response body may hold a secret).
    pub fn json<T: DeserializeOwned, E: ServiceError>(&self, op: &Operation) -> Result<T, E> {
        // Tracking the path costs a third more on every decode (a 100-item page pays it
        // 100 times), and it is only needed to explain a failure: decode plainly, and
        // decode again with the path only when that fails.
        serde_json::from_slice(&self.body).map_err(|_| {
            let de = &mut serde_json::Deserializer::from_slice(&self.body);
            match serde_path_to_error::deserialize::<_, T>(de) {
                Err(e) => E::decode(op.name(), e.path().to_string(), redact_quoted(&e.inner().to_string())),
                Ok(_) => E::decode(op.name(), String::new(), "the body did not decode".to_owned()),
            }
        })
    }
}

/// What a request is waiting for, so a deadline error can say it.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Waiting {
    Budget,
    Token,
    Response,
    RetryDelay,
}

impl Waiting {
    fn from_u8(value: u8) -> Self {
        match value {
            1 => Waiting::Token,
            2 => Waiting::Response,
            3 => Waiting::RetryDelay,
            _ => Waiting::Budget,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Waiting::Budget => "the rate-limit budget (x-ratelimit-reset)",
            Waiting::Token => "an access token",
            Waiting::Response => "the response",
            Waiting::RetryDelay => "the retry delay",
        }
    }
}

/// HTTP plumbing shared by all clones of a client.
#[derive(Debug)]
pub struct Transport {
    http: reqwest::Client,
    retry: RetryConfig,
    gate: RateLimitGate,
}

impl Transport {
    /// A transport over `http` with this retry policy and its own rate-limit gate.
    pub fn new(http: reqwest::Client, retry: RetryConfig) -> Self {
        Transport {
            http,
            gate: RateLimitGate::with_refill_rate(retry.refill_per_second),
            retry,
        }
    }

    /// Waits until every rate-limit bucket the answers described has room for `requests`
    /// more (at most `limit`): for requests that someone else sends on the same account,
    /// such as Konnect's DCR calls to the Auth0 tenant.
    pub async fn wait_for_headroom(&self, requests: u64, limit: std::time::Duration) {
        if let Some(at) = self.gate.headroom_at(requests) {
            let at = at.min(tokio::time::Instant::now() + limit);
            tracing::debug!(
                delay_ms = at.saturating_duration_since(tokio::time::Instant::now()).as_millis() as u64,
                requests,
                "waiting for rate-limit headroom"
            );
            tokio::time::sleep_until(at).await;
        }
    }

    /// Records that someone else sent `requests` requests against the same rate limits
    /// (Konnect's DCR on the Auth0 tenant), so that this transport waits for them to be
    /// added back instead of earning a 429.
    pub fn spent_elsewhere(&self, requests: u64) {
        self.gate.spent_elsewhere(requests);
    }

    /// Whether any answer so far described a rate-limit bucket.
    pub fn rate_limits_known(&self) -> bool {
        self.gate.knows_buckets()
    }

    /// The underlying reqwest client, for building requests.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends `request` (built without an `Authorization` header), retrying as the policy
    /// allows, and returns the successful response or the mapped error.
    pub fn send<'a, E: ServiceError + Send + 'a>(
        &'a self,
        op: &'a Operation,
        request: reqwest::Request,
        auth: Option<&'a dyn Authorizer<E>>,
    ) -> futures::future::BoxFuture<'a, Result<Success, E>> {
        // Boxed once here: the send loop's state is over 2 KB, and every async layer above
        // it (resource method, `send_json`, tracing's `Instrumented`) would otherwise move
        // that much memory on each call. Measured with cachegrind: a third of the typed
        // client's extra memory traffic over raw reqwest.
        Box::pin(async move {
            let waiting = AtomicU8::new(Waiting::Budget as u8);
            let deadline = self.retry.deadline;
            match tokio::time::timeout(deadline, self.send_loop(op, request, auth, &waiting)).await {
                Ok(result) => result,
                Err(_) => {
                    let waiting_for = Waiting::from_u8(waiting.load(Ordering::Relaxed)).describe();
                    tracing::warn!(operation = %op.name(), waiting_for, "operation deadline passed");
                    Err(E::from_transport(TransportError::deadline(
                        op.name(),
                        waiting_for,
                        deadline,
                    )))
                }
            }
        })
    }

    async fn send_loop<E: ServiceError>(
        &self,
        op: &Operation,
        request: reqwest::Request,
        auth: Option<&dyn Authorizer<E>>,
        waiting: &AtomicU8,
    ) -> Result<Success, E> {
        let wait_for = |what: Waiting| waiting.store(what as u8, Ordering::Relaxed);
        let idempotent = op.is_repeatable();
        let mut schedule = self.retry.schedule();
        let mut rejected: Option<BearerToken> = None;
        let mut refreshed = false;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let mut req = request
                .try_clone()
                .ok_or_else(|| E::invalid_request("body", "request body cannot be replayed"))?;
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
            // The token first, the rate-limit permit after: fetching a token is a request of
            // its own that may have to wait on the gate, and a request that waits on the
            // gate while holding a permit can wait for itself forever (a 429 from the token
            // endpoint reporting a spent budget did exactly that).
            if let Some(auth) = auth {
                wait_for(Waiting::Token);
                let (token, cached) = auth.token(rejected.as_ref()).instrument(span.clone()).await?;
                span.record("token.cached", cached);
                req.headers_mut().insert(auth.header_name(), token.header());
                used_token = Some(token);
            }
            wait_for(Waiting::Budget);
            let permit = self.gate.acquire(crate::ratelimit::OpKey::of(op)).await;

            wait_for(Waiting::Response);
            let started = Instant::now();
            let result = self.http.execute(req).instrument(span.clone()).await;
            span.record("latency_ms", started.elapsed().as_millis() as u64);

            // A body that breaks off mid-read is a transport failure like any other.
            let result = match result {
                Ok(response) => {
                    let status = response.status();
                    span.record("http.response.status_code", status.as_u16());
                    permit.observe(response.headers());
                    // Only a failure needs the headers afterwards (Retry-After and friends),
                    // and a success only when the operation asks for them.
                    let headers = if status.is_success() && !op.headers {
                        HeaderMap::new()
                    } else {
                        response.headers().clone()
                    };
                    let body = response.bytes().instrument(span.clone()).await;
                    body.map(|body| (status, headers, body))
                }
                Err(e) => Err(e),
            };
            let (verdict, failure) = match result {
                Ok((status, headers, body)) => {
                    if status.is_success() {
                        return Ok(Success { status, body, headers });
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
                    let error = E::from_response(status.as_u16(), &body, server_wait(&headers, now));
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
                        E::from_transport(TransportError::http(e)),
                    )
                }
            };
            match verdict {
                Verdict::Retry { at_least, reason } => match schedule.next_delay(at_least) {
                    Some(delay) => {
                        span.in_scope(|| tracing::debug!(delay_ms = delay.as_millis() as u64, reason, "retrying"));
                        wait_for(Waiting::RetryDelay);
                        Box::pin(tokio::time::sleep(delay)).await;
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
