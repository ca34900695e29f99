//! What the parts measure with: peak heap above a baseline, and the traffic the sandboxes
//! saw, sorted into reads, writes, token requests and 429s.

use dcr_workflow::sandbox::Sandboxes;
use peak_alloc::PeakAlloc;

/// Counts every allocation of the process, so a part can read its peak heap.
#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Peak heap use since [`Peak::start`], above what was in use then. The sandboxes live in
/// the same process, so their stored data is part of the baseline; what they allocate per
/// request is counted, and is the same for every page whatever the total.
pub(crate) struct Peak {
    baseline: usize,
}

impl Peak {
    pub(crate) fn start() -> Self {
        ALLOCATOR.reset_peak_usage();
        Peak {
            baseline: ALLOCATOR.current_usage(),
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        ALLOCATOR.peak_usage().saturating_sub(self.baseline)
    }
}

/// Requests both sandboxes answered since their logs were last cleared.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Traffic {
    /// Management API and Konnect API requests that can change state.
    pub(crate) writes: usize,
    /// API requests that cannot.
    pub(crate) reads: usize,
    /// `POST /oauth/token` on the Auth0 sandbox.
    pub(crate) tokens: usize,
    /// Answers with status 429.
    pub(crate) throttled: usize,
    /// Requests to the Auth0 sandbox, tokens included.
    pub(crate) auth0: usize,
    /// Requests to the Konnect sandbox.
    pub(crate) konnect: usize,
}

impl Traffic {
    pub(crate) fn of(s: &Sandboxes) -> Self {
        let auth0 = s.auth0.requests();
        let konnect = s.konnect.requests();
        let mut t = Traffic {
            auth0: auth0.len(),
            konnect: konnect.len(),
            ..Traffic::default()
        };
        for r in auth0.iter().chain(konnect.iter()) {
            if r.status == 429 {
                t.throttled += 1;
            }
            if r.route == "/oauth/token" {
                t.tokens += 1;
            } else if r.is_write() {
                t.writes += 1;
            } else {
                t.reads += 1;
            }
        }
        // Konnect's provider check (`POST /v2/dcr-providers/{id}/verify`) makes Konnect
        // fetch a token of its own at Auth0, as the real Konnect does: that request and
        // token are Konnect's, not the client's, so they are not counted as ours.
        let checks = konnect
            .iter()
            .filter(|r| r.route == "/v2/dcr-providers/{dcrProviderId}/verify")
            .count();
        t.tokens = t.tokens.saturating_sub(checks);
        t.auth0 = t.auth0.saturating_sub(checks);
        t
    }

    pub(crate) fn total(&self) -> usize {
        self.auth0 + self.konnect
    }
}
