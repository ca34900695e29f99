//! A fault-injecting HTTP proxy for driving the real binaries: it forwards every request
//! to the service behind it and, on rules armed by the test, answers in the service's
//! place (a 429 with rate-limit headers) or holds the answer to the n-th write so that
//! the test can kill the process at exactly that point, with the write carried out or
//! not. Two proxies (Auth0, Konnect) share one [`Faults`], so writes are counted across
//! both services in the order they arrive.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

/// A canned answer for matching requests, sent instead of forwarding.
pub(crate) struct Canned {
    pub(crate) method: &'static str,
    pub(crate) path: &'static str,
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: String,
    pub(crate) times: usize,
}

/// Holds the answer to the `nth` write (0-based, counted from when it is armed) forever,
/// forwarding the write first or not, and says so through `reached`.
struct Hold {
    nth: usize,
    forward: bool,
    reached: Option<oneshot::Sender<()>>,
}

#[derive(Default)]
struct State {
    canned: Vec<Canned>,
    hold: Option<Hold>,
    writes: usize,
    /// Writes wait until this window, started by the first write, has passed.
    gate: Option<Gate>,
    /// (method, path) of every write forwarded.
    log: Vec<(String, String)>,
    /// Every answer the service sent through the proxy: method, path, status.
    statuses: Vec<(String, String, u16)>,
}

/// Holds every write until `window` after the first one arrived, then lets them all
/// through: runs started together all observe the state before any of them changes it,
/// however the machine schedules them.
struct Gate {
    window: Duration,
    opens_at: Option<Instant>,
}

/// What the test arms; shared by the proxies.
#[derive(Clone, Default)]
pub(crate) struct Faults(Arc<Mutex<State>>);

impl Faults {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Answers matching requests with `canned` instead of forwarding them.
    pub(crate) fn answer(&self, canned: Canned) {
        self.state().canned.push(canned);
    }

    /// From now on, holds the answer to the `nth` write; `forward`: the service carries it
    /// out first (the answer is lost), else it never reaches the service. The receiver
    /// fires when that write arrives.
    pub(crate) fn hold_write(&self, nth: usize, forward: bool) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let mut state = self.state();
        state.writes = 0;
        state.hold = Some(Hold {
            nth,
            forward,
            reached: Some(tx),
        });
        rx
    }

    /// Disarms everything and forgets the write log.
    pub(crate) fn clear(&self) {
        let mut state = self.state();
        state.canned.clear();
        state.hold = None;
        state.writes = 0;
        state.log.clear();
    }

    /// Holds the writes that arrive within `window` of the first one (counted from
    /// now) until that window has passed; `None` lets writes through at once.
    pub(crate) fn gate_writes(&self, window: Option<Duration>) {
        self.state().gate = window.map(|window| Gate { window, opens_at: None });
    }

    /// The requests the service answered with `status`: method and path.
    pub(crate) fn answered_with(&self, status: u16) -> Vec<(String, String)> {
        let state = self.state();
        state
            .statuses
            .iter()
            .filter(|s| s.2 == status)
            .map(|s| (s.0.clone(), s.1.clone()))
            .collect()
    }

    /// How many canned answers are still to be given (0: every one was delivered).
    pub(crate) fn canned_left(&self) -> usize {
        self.state().canned.iter().map(|c| c.times).sum()
    }

    /// How many requests the service answered.
    pub(crate) fn answers(&self) -> usize {
        self.state().statuses.len()
    }

    /// The writes forwarded since the last [`clear`](Self::clear).
    pub(crate) fn writes(&self) -> Vec<(String, String)> {
        self.state().log.clone()
    }
}

enum Decision {
    Canned(u16, Vec<(&'static str, String)>, String),
    Forward {
        hold_after: bool,
        not_before: Option<Instant>,
    },
    HoldForever,
}

impl State {
    fn decide(&mut self, method: &str, path: &str) -> (Decision, Option<oneshot::Sender<()>>) {
        if let Some(c) = self
            .canned
            .iter_mut()
            .find(|c| c.times > 0 && c.method == method && path.starts_with(c.path))
        {
            c.times -= 1;
            return (Decision::Canned(c.status, c.headers.clone(), c.body.clone()), None);
        }
        // Token requests and Konnect's provider check are POSTs that change nothing.
        let write =
            !matches!(method, "GET" | "HEAD" | "OPTIONS") && path != "/oauth/token" && !path.ends_with("/verify");
        if !write {
            return (
                Decision::Forward {
                    hold_after: false,
                    not_before: None,
                },
                None,
            );
        }
        let not_before = self.gate.as_mut().map(|gate| {
            let window = gate.window;
            *gate.opens_at.get_or_insert_with(|| Instant::now() + window)
        });
        let index = self.writes;
        self.writes += 1;
        match &mut self.hold {
            Some(hold) if hold.nth == index => {
                let reached = hold.reached.take();
                if hold.forward {
                    self.log.push((method.to_owned(), path.to_owned()));
                    (
                        Decision::Forward {
                            hold_after: true,
                            not_before,
                        },
                        reached,
                    )
                } else {
                    (Decision::HoldForever, reached)
                }
            }
            _ => {
                self.log.push((method.to_owned(), path.to_owned()));
                (
                    Decision::Forward {
                        hold_after: false,
                        not_before,
                    },
                    None,
                )
            }
        }
    }
}

/// A running proxy; it stops when dropped.
pub(crate) struct Proxy {
    pub(crate) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Proxy {
    /// `http://127.0.0.1:port`.
    pub(crate) fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Forwards to `upstream` (`http://host:port`) under `faults`.
    pub(crate) async fn start(upstream: String, faults: Faults) -> anyhow::Result<Proxy> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let client = reqwest::Client::builder().build()?;
        let (stop, mut stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            loop {
                let stream = tokio::select! {
                    _ = &mut stopped => return,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => stream,
                        Err(_) => continue,
                    },
                };
                let (client, upstream, faults) = (client.clone(), upstream.clone(), faults.clone());
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request| forward(request, client.clone(), upstream.clone(), faults.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Proxy { addr, stop: Some(stop) })
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn forward(
    request: hyper::Request<Incoming>,
    client: reqwest::Client,
    upstream: String,
    faults: Faults,
) -> Result<hyper::Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(std::io::Error::other)?.to_bytes();
    let method = parts.method.as_str().to_owned();
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let path = parts.uri.path().to_owned();
    let (decision, reached) = faults.state().decide(&method, &path);
    let respond = |status: u16, headers: Vec<(String, String)>, body: Bytes| {
        let mut response = hyper::Response::new(Full::new(body));
        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
        for (k, v) in headers {
            if let (Ok(k), Ok(v)) = (
                hyper::header::HeaderName::from_bytes(k.as_bytes()),
                hyper::header::HeaderValue::from_str(&v),
            ) {
                response.headers_mut().append(k, v);
            }
        }
        response
    };
    let (hold_after, not_before) = match decision {
        Decision::Canned(status, headers, body) => {
            let mut headers: Vec<(String, String)> = headers.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            headers.push(("content-type".into(), "application/json".into()));
            return Ok(respond(status, headers, Bytes::from(body)));
        }
        Decision::HoldForever => {
            if let Some(reached) = reached {
                let _ = reached.send(());
            }
            std::future::pending::<()>().await;
            unreachable!()
        }
        Decision::Forward { hold_after, not_before } => (hold_after, not_before),
    };
    if let Some(at) = not_before {
        tokio::time::sleep_until(at.into()).await;
    }
    let method_name = method.clone();
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(std::io::Error::other)?;
    let mut outgoing = client.request(method, format!("{upstream}{target}")).body(body);
    for (k, v) in &parts.headers {
        if k != hyper::header::HOST && k != hyper::header::CONTENT_LENGTH {
            outgoing = outgoing.header(k.as_str(), v.as_bytes());
        }
    }
    let answer = outgoing.send().await.map_err(std::io::Error::other)?;
    if hold_after {
        if let Some(reached) = reached {
            let _ = reached.send(());
        }
        std::future::pending::<()>().await;
    }
    let status = answer.status().as_u16();
    faults
        .state()
        .statuses
        .push((method_name.clone(), path.clone(), status));
    let headers: Vec<(String, String)> = answer
        .headers()
        .iter()
        .filter(|(k, _)| *k != reqwest::header::CONTENT_LENGTH && *k != reqwest::header::TRANSFER_ENCODING)
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_owned(), v.to_owned())))
        .collect();
    let body = answer.bytes().await.map_err(std::io::Error::other)?;
    Ok(respond(status, headers, body))
}
