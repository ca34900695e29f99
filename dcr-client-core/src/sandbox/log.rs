//! The compact request log every sandbox keeps for assertions.

/// One request a sandbox received.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Concrete path, e.g. `/api/v2/clients/AaiyAPdp…`.
    pub path: String,
    /// Path template, e.g. `/api/v2/clients/{id}`, or `unknown`.
    pub route: &'static str,
    /// Status answered; 0 if the connection was dropped before an answer existed.
    pub status: u16,
    /// True if the connection was dropped instead of answering.
    pub dropped: bool,
    /// Whether the sandbox counts this route as an API call that can change state.
    write: bool,
}

impl LoggedRequest {
    /// A log entry; `api` says whether the route belongs to the API whose writes are counted
    /// (a token request is not a write even though it is a POST).
    pub fn new(method: &str, path: &str, route: &'static str, status: u16, dropped: bool, api: bool) -> Self {
        LoggedRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            route,
            status,
            dropped,
            write: api && !matches!(method, "GET" | "HEAD" | "OPTIONS"),
        }
    }

    /// True for a request to the API that can change state (not GET/HEAD).
    pub fn is_write(&self) -> bool {
        self.write
    }
}
