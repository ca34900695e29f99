//! The wiremock glue both sandboxes share: one responder that hands every request to the
//! sandbox's own handler under its lock, and one matcher that carries out injected
//! connection drops (before or after the request is processed).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Match, Mock, MockServer, Request, Respond, ResponseTemplate};

use super::exchange::Exchange;
use super::faults::{FaultKind, Faults};
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

    fn template(self, latency: Option<Duration>) -> ResponseTemplate {
        let mut template = ResponseTemplate::new(self.status);
        for (name, value) in self.headers {
            template = template.insert_header(name, value.as_str());
        }
        if let Some(body) = self.body {
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            template = template.set_body_raw(bytes, self.content_type);
        }
        if let Some(latency) = latency {
            template = template.set_delay(latency);
        }
        template
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
    /// Whether a route belongs to the API whose writes are counted (a token request does not).
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

struct Responder<S>(Arc<Mutex<S>>);

impl<S: Service> Respond for Responder<S> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut service = lock(&self.0);
        let reply = service.handle(request, false);
        let controls = service.controls();
        if let Some(exchanges) = controls.exchanges.as_mut() {
            exchanges.push(Exchange::new(request, &reply));
        }
        let latency = controls.latency;
        reply.template(latency)
    }
}

/// Matches (and so hands to the connection-dropping mock) the requests an armed drop
/// fault applies to. For `DropAfterProcessing` it carries the request out first.
struct DropMatcher<S>(Arc<Mutex<S>>);

impl<S: Service> Match for DropMatcher<S> {
    fn matches(&self, request: &Request) -> bool {
        let mut service = lock(&self.0);
        let method = request.method.as_str().to_owned();
        let kind = service.controls().faults.take(&method, request.url.path(), |k| {
            matches!(k, FaultKind::DropConnection | FaultKind::DropAfterProcessing)
        });
        match kind {
            Some(FaultKind::DropAfterProcessing) => {
                service.handle(request, true);
                true
            }
            Some(_) => {
                let route = service.route_of(request.url.path());
                service.record(request, route, 0, true);
                true
            }
            None => false,
        }
    }
}

/// Starts a wiremock server (on `listener` if given) that serves `state`. Request
/// recording is off: the sandbox keeps its own compact log, and a long benchmark must not
/// hold every body in memory.
pub async fn serve<S: Service>(state: Arc<Mutex<S>>, listener: Option<std::net::TcpListener>) -> MockServer {
    let mut builder = MockServer::builder().disable_request_recording();
    if let Some(listener) = listener {
        builder = builder.listener(listener);
    }
    let server = builder.start().await;
    Mock::given(DropMatcher(state.clone()))
        .respond_with_err(|_: &Request| std::io::Error::from(std::io::ErrorKind::ConnectionReset))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(Responder(state))
        .with_priority(5)
        .mount(&server)
        .await;
    server
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
