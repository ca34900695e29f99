//! Fault injection: make the next matching requests fail in a chosen way.

/// How an injected fault breaks a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer with this status and the service's error body, without touching state. A 429
    /// also says when to come back (`x-ratelimit-reset` on Auth0, `Retry-After` on Konnect).
    Status(u16),
    /// Close the connection without answering and without touching state.
    DropConnection,
    /// Carry the request out, then close the connection without answering: the client
    /// cannot know it succeeded. This is how a write gets "lost" in flight.
    DropAfterProcessing,
}

/// A fault for the next `times` requests that match a method and a path prefix.
///
/// ```
/// use dcr_client_core::sandbox::Fault;
/// let fault = Fault::status(503).times(2).on("GET", "/api/v2/clients");
/// let lost_write = Fault::drop_after_processing().on("POST", "/api/v2/client-grants");
/// # let _ = (fault, lost_write);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    kind: FaultKind,
    remaining: usize,
    method: Option<String>,
    path_prefix: Option<String>,
}

impl Fault {
    /// Answer with `status` (429, 500, 503, …).
    pub fn status(status: u16) -> Self {
        Self::new(FaultKind::Status(status))
    }

    /// Drop the connection before doing anything.
    pub fn drop_connection() -> Self {
        Self::new(FaultKind::DropConnection)
    }

    /// Do the work, then drop the connection.
    pub fn drop_after_processing() -> Self {
        Self::new(FaultKind::DropAfterProcessing)
    }

    fn new(kind: FaultKind) -> Self {
        Fault {
            kind,
            remaining: 1,
            method: None,
            path_prefix: None,
        }
    }

    /// Applies to the next `n` matching requests (default 1).
    pub fn times(mut self, n: usize) -> Self {
        self.remaining = n;
        self
    }

    /// Only requests with this method and a path starting with `path_prefix`.
    pub fn on(mut self, method: &str, path_prefix: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self.path_prefix = Some(path_prefix.to_owned());
        self
    }

    /// Only requests with this method (any path).
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.remaining > 0
            && self.method.as_deref().is_none_or(|m| m == method)
            && self.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
    }
}

/// Armed faults, consumed in the order they were injected.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Vec<Fault>,
}

impl Faults {
    /// Arms a fault.
    pub fn push(&mut self, fault: Fault) {
        self.armed.push(fault);
    }

    /// Disarms every fault.
    pub fn clear(&mut self) {
        self.armed.clear();
    }

    /// Consumes one use of the first armed fault matching the request whose kind passes
    /// `wanted`.
    pub fn take(&mut self, method: &str, path: &str, wanted: impl Fn(FaultKind) -> bool) -> Option<FaultKind> {
        let fault = self
            .armed
            .iter_mut()
            .find(|f| wanted(f.kind) && f.matches(method, path))?;
        fault.remaining -= 1;
        let kind = fault.kind;
        self.armed.retain(|f| f.remaining > 0);
        Some(kind)
    }
}
