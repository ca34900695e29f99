//! What both sandboxes share around their handlers: the reply type, the controls a test
//! steers (faults, log, latency, recording), and the glue that hands every request to the
//! sandbox under its lock and carries out injected connection drops.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

use super::exchange::Exchange;
use super::faults::FaultKind;
use super::faults::Faults;
use super::http::{Answer, Request, Server};
use super::log::LoggedRequest;

/// A response before it becomes a `ResponseTemplate`.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// JSON body, if any.
    pub body: Option<Value>,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// `Content-Type` of the body.
    pub content_type: &'static str,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: Value) -> Self {
        Reply {
            status,
            body: Some(body),
            headers: Vec::new(),
            content_type: "application/json",
        }
    }

    /// An answer without a body (204).
    pub fn empty(status: u16) -> Self {
        Reply {
            status,
            body: None,
            headers: Vec::new(),
            content_type: "application/json",
        }
    }

    /// Adds a header unless one of that name is already set.
    pub fn header_if_absent(&mut self, name: &'static str, value: String) {
        if !self.headers.iter().any(|(n, _)| *n == name) {
            self.headers.push((name, value));
        }
    }

    fn answer(self, delay: Option<Duration>) -> Answer {
        let body = self
            .body
            .map(|body| (serde_json::to_vec(&body).unwrap_or_default(), self.content_type));
        Answer::Reply {
            status: self.status,
            headers: self.headers,
            body,
            delay,
        }
    }
}

/// What a test steers and inspects on any sandbox: armed faults, the request log and
/// the latency added to every answer.
#[derive(Debug, Default)]
pub struct Controls {
    /// Armed faults.
    pub faults: Faults,
    /// Every request received, in order.
    pub log: Vec<LoggedRequest>,
    /// Latency added to every answer.
    pub latency: Option<Duration>,
    /// Full exchanges, when recording is on (`Some`).
    pub exchanges: Option<Vec<Exchange>>,
}

impl Controls {
    /// How many logged requests had this method and route template.
    pub fn request_count(&self, method: &str, route: &str) -> usize {
        self.log
            .iter()
            .filter(|r| r.method == method && r.route == route)
            .count()
    }

    /// How many logged requests could change state.
    pub fn write_count(&self) -> usize {
        self.log.iter().filter(|r| r.is_write()).count()
    }
}

/// What a sandbox provides to be served.
pub trait Service: Send + 'static {
    /// Answers one request and logs it (with [`Service::record`]); `dropped` says the
    /// answer will never reach the client (an injected drop after processing).
    fn handle(&mut self, request: &Request, dropped: bool) -> Reply;
    /// Its faults, log and latency.
    fn controls(&mut self) -> &mut Controls;
    /// The route template of a path, e.g. `/api/v2/clients/{id}`, or `unknown`.
    fn route_of(&self, path: &str) -> &'static str;
    /// Whether a POST, PATCH, PUT or DELETE to this route counts as a write: API routes
    /// that can change state (a token request or a provider check does not).
    fn is_api_route(&self, route: &'static str) -> bool;

    /// Logs one exchange.
    fn record(&mut self, request: &Request, route: &'static str, status: u16, dropped: bool) {
        let api = self.is_api_route(route);
        self.controls().log.push(LoggedRequest::new(
            request.method.as_str(),
            request.url.path(),
            route,
            status,
            dropped,
            api,
        ));
    }
}

/// Locks a sandbox's state, recovering from a poisoned lock (a panicking test must not
/// take every later request down with it).
pub fn lock<S>(state: &Mutex<S>) -> MutexGuard<'_, S> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Answers one request: an armed drop fault first (carrying the request out before
/// dropping for `DropAfterProcessing`), else the sandbox's reply after its latency.
fn answer<S: Service>(state: &Mutex<S>, request: &Request) -> Answer {
    let mut service = lock(state);
    let method = request.method.as_str().to_owned();
    let kind = service.controls().faults.take(&method, request.url.path(), |k| {
        matches!(k, FaultKind::DropConnection | FaultKind::DropAfterProcessing)
    });
    match kind {
        Some(FaultKind::DropAfterProcessing) => {
            service.handle(request, true);
            return Answer::Drop;
        }
        Some(_) => {
            let route = service.route_of(request.url.path());
            service.record(request, route, 0, true);
            return Answer::Drop;
        }
        None => {}
    }
    let reply = service.handle(request, false);
    let controls = service.controls();
    if let Some(exchanges) = controls.exchanges.as_mut() {
        exchanges.push(Exchange::new(request, &reply));
    }
    let latency = controls.latency;
    reply.answer(latency)
}

/// Serves `state` on `listener` (or a free loopback port) until the returned server is
/// dropped. Nothing is kept per request beyond the sandbox's own compact log.
pub fn serve<S: Service>(state: Arc<Mutex<S>>, listener: Option<std::net::TcpListener>) -> std::io::Result<Server> {
    super::http::start(listener, Arc::new(move |request: &Request| answer(&state, request)))
}

/// The reason phrase of the statuses the sandboxes answer with.
pub fn status_text(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}
