//! The sandboxes' HTTP/1.1 server: hyper on a thread and runtime of its own, so a handler
//! that blocks (the Konnect sandbox waits for Auth0 during DCR) never stalls the caller's
//! runtime.
//!
//! It keeps nothing per request. The sandboxes used to be served by wiremock, whose mounted
//! mocks keep a copy of every request they match for the life of the server (about 8 KB
//! each): a benchmark of 40,000 calls or a standalone sandbox left running grew without
//! bound, and peak-memory figures measured the server instead of the client.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use tokio::sync::oneshot;

/// One request as a sandbox handler sees it: the whole body already read.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// Full URL, e.g. `http://127.0.0.1:41234/api/v2/clients?take=100`.
    pub url: Url,
    /// HTTP method.
    pub method: Method,
    /// Request headers.
    pub headers: HeaderMap,
    /// Request body.
    pub body: Vec<u8>,
}

/// What the server does with a request.
pub(crate) enum Answer {
    /// Send this status, headers and body after `delay`.
    Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: Option<(Vec<u8>, &'static str)>,
        delay: Option<Duration>,
    },
    /// Close the connection without answering (an injected network failure).
    Drop,
}

/// Turns a request into an answer; called on the server's thread.
pub(crate) type Handler = Arc<dyn Fn(&Request) -> Answer + Send + Sync>;

/// A running server; dropping it stops accepting connections and ends its thread.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Server {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The thread may be gone already; then there is nothing to stop.
            let _ = shutdown.send(());
        }
    }
}

/// Serves `handler` on `listener` (or a free loopback port).
pub(crate) fn start(listener: Option<std::net::TcpListener>, handler: Handler) -> std::io::Result<Server> {
    let listener = match listener {
        Some(listener) => listener,
        None => std::net::TcpListener::bind("127.0.0.1:0")?,
    };
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (shutdown, stop) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name(format!("sandbox-{}", addr.port()))
        .spawn(move || runtime.block_on(accept(listener, handler, stop)))?;
    Ok(Server {
        addr,
        shutdown: Some(shutdown),
    })
}

async fn accept(listener: std::net::TcpListener, handler: Handler, mut stop: oneshot::Receiver<()>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(error = %e, "sandbox server cannot listen");
            return;
        }
    };
    let host = listener
        .local_addr()
        .map_or_else(|_| "127.0.0.1".to_owned(), |a| a.to_string());
    loop {
        let stream = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "sandbox server: accept failed");
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let (handler, host) = (handler.clone(), host.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| respond(request, handler.clone(), host.clone()));
            // A connection that breaks off (or that the sandbox drops on purpose) just ends.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The error a handler returns to make hyper close the connection without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

async fn respond(
    request: hyper::Request<Incoming>,
    handler: Handler,
    host: String,
) -> Result<hyper::Response<Full<Bytes>>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => return Err(Dropped),
    };
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(url) = Url::parse(&format!("http://{host}{target}")) else {
        return Ok(plain(400, "request target is not a valid URL"));
    };
    let request = Request {
        url,
        method: parts.method,
        headers: parts.headers,
        body,
    };
    match handler(&request) {
        Answer::Drop => Err(Dropped),
        Answer::Reply {
            status,
            headers,
            body,
            delay,
        } => {
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            Ok(response(status, headers, body))
        }
    }
}

fn response(
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Option<(Vec<u8>, &'static str)>,
) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let map = response.headers_mut();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::try_from(value)) {
            map.append(name, value);
        }
    }
    if let Some((bytes, content_type)) = body {
        map.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        *response.body_mut() = Full::new(Bytes::from(bytes));
    }
    response
}

fn plain(status: u16, text: &'static str) -> hyper::Response<Full<Bytes>> {
    response(status, Vec::new(), Some((text.as_bytes().to_vec(), "text/plain")))
}
