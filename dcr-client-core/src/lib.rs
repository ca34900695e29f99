//! The HTTP plumbing shared by [`auth0-mgmt`](https://docs.rs/auth0-mgmt) and
//! [`konnect-appauth`](https://docs.rs/konnect-appauth), so both clients retry, wait and
//! log the same way from one tested implementation:
//!
//! - [`RetryConfig`]: exponential backoff with jitter (from `backon`), a total budget, and
//!   the rule that a POST/PATCH is repeated only when the server cannot have acted on it;
//!   `Retry-After`, `retry-after-ms` and `x-ratelimit-reset` set the floor of each wait.
//! - [`Transport::send`]: the one loop that authorizes, waits for a spent rate-limit
//!   budget to reset, sends, retries, refreshes a rejected token once, opens one `http`
//!   tracing span per attempt and maps failures into the caller's error through
//!   [`ServiceError`].
//! - [`BearerToken`]: a token and its header value, shared by every request that sends it.
//! - [`id_type!`] and [`string_enum!`]: typed ids and forward-compatible enums.
//! - `sandbox` feature: fault injection and request logs for the in-process sandboxes.
//!
//! Most users never name this crate: both clients re-export [`RetryConfig`].
//!
//! ```
//! use std::time::Duration;
//! use dcr_client_core::RetryConfig;
//!
//! // How either client retries: at most 4 attempts, waits between 100 ms and 2 s
//! // (jittered), and never more than 20 s in all; a free Auth0 tenant refills 2 per second.
//! let retry = RetryConfig::standard()
//!     .max_attempts(4)
//!     .min_delay(Duration::from_millis(100))
//!     .max_delay(Duration::from_secs(2))
//!     .total_budget(Duration::from_secs(20))
//!     .refill_per_second(2.0);
//! # let _ = retry;
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod bearer;
mod error;
mod http;
mod macros;
mod ratelimit;
mod retry;
mod transport;

#[cfg(feature = "sandbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "sandbox")))]
pub mod sandbox;

pub use bearer::BearerToken;
pub use error::{TransportError, redact_quoted, truncate};
pub use http::{HttpParts, HttpSettings};
pub use retry::RetryConfig;
pub use transport::{Authorizer, NotFoundAsNone, Operation, ServiceError, Success, Transport};

/// Re-exports the macros' expansions rely on; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use tracing;
}
