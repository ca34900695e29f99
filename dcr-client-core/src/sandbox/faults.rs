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
/// // About one request in ten, for as long as it stays armed (the same seed, the same picks).
/// let flaky = Fault::status(503).at_rate(10, 7);
/// # let _ = (fault, lost_write, flaky);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    kind: FaultKind,
    remaining: usize,
    method: Option<String>,
    path_prefix: Option<String>,
    /// Fire on `percent` % of matching requests, drawn from a seeded generator.
    rate: Option<Rate>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rate {
    percent: u8,
    state: u64,
}

impl Rate {
    /// xorshift64*: deterministic per seed, which is all a test needs to replay a run.
    fn fires(&mut self) -> bool {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) % 100 < u64::from(self.percent)
    }
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
            rate: None,
        }
    }

    /// Fires on about `percent` % of the matching requests instead of the next ones,
    /// chosen by a generator seeded with `seed`, until disarmed (or `times` fired).
    pub fn at_rate(mut self, percent: u8, seed: u64) -> Self {
        self.rate = Some(Rate {
            percent: percent.min(100),
            // splitmix64 spreads neighbouring seeds apart; xorshift must not start at 0.
            state: (seed
                .wrapping_add(0x9e37_79b9_7f4a_7c15)
                .wrapping_mul(0xbf58_476d_1ce4_e5b9)
                >> 1)
                | 1,
        });
        self.remaining = usize::MAX;
        self
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
            .filter(|f| wanted(f.kind) && f.matches(method, path))
            .find_map(|f| f.rate.as_mut().is_none_or(Rate::fires).then_some(f))?;
        fault.remaining -= 1;
        let kind = fault.kind;
        self.armed.retain(|f| f.remaining > 0);
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired(seed: u64) -> Vec<bool> {
        let mut faults = Faults::default();
        faults.push(Fault::status(503).at_rate(10, seed).on("GET", "/a"));
        (0..1000)
            .map(|_| faults.take("GET", "/a/b", |_| true).is_some())
            .collect()
    }

    #[test]
    fn a_rate_fault_fires_on_about_that_share_of_requests_and_replays_per_seed() {
        let first = fired(42);
        let count = first.iter().filter(|f| **f).count();
        assert!((60..=140).contains(&count), "{count} of 1000 at 10 %");
        assert_eq!(first, fired(42), "the same seed, the same picks");
        assert_ne!(first, fired(43));
        let mut faults = Faults::default();
        faults.push(Fault::status(503).at_rate(100, 1).times(2));
        let hits = (0..5).filter(|_| faults.take("GET", "/", |_| true).is_some()).count();
        assert_eq!(hits, 2, "times still bounds a rate fault");
    }
}
