//! The crate's error type and Konnect's problem+json error body.

use std::fmt;
use std::time::Duration;

use dcr_client_core::{ServiceError, TransportError, truncate};
use serde::{Deserialize, Serialize};

/// Result alias used throughout the crate.
pub type Result<T, E = KonnectError> = std::result::Result<T, E>;

/// One entry of a problem's `invalid_parameters`: which field broke which rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InvalidParameter {
    /// The offending field, e.g. `dcr_config.initial_client_id`.
    pub field: String,
    /// The rule, e.g. `required`, `unknown_property`, `is_label`, `matches_regex`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Where the field was (`body`, `query`, …) when Konnect says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Why it was rejected.
    pub reason: String,
    /// Rule-specific details (`minimum`, `maximum`, `choices`, `dependents`).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Konnect's error body (`application/problem+json`).
///
/// `instance` is Konnect's trace id for the request: quote it when contacting support.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Problem {
    /// HTTP status.
    pub status: u16,
    /// Short summary, e.g. `Bad Request`.
    #[serde(default)]
    pub title: String,
    /// Problem type URI, when given.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Konnect's trace id, e.g. `kong:trace:1234567890`.
    #[serde(default)]
    pub instance: String,
    /// Human-readable explanation.
    #[serde(default)]
    pub detail: String,
    /// Field-level problems of a 400.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid_parameters: Vec<InvalidParameter>,
    /// Other members some endpoints add (e.g. `validation_errors`), kept verbatim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    pub(crate) fn from_body(status: u16, body: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Wire {
            title: Option<String>,
            #[serde(rename = "type")]
            type_: Option<String>,
            instance: Option<String>,
            detail: Option<String>,
            // Older Konnect endpoints answer `{"message": …}`.
            message: Option<String>,
            #[serde(default)]
            invalid_parameters: Vec<InvalidParameter>,
            #[serde(flatten)]
            extra: serde_json::Map<String, serde_json::Value>,
        }
        match serde_json::from_slice::<Wire>(body) {
            Ok(wire) => Problem {
                status,
                title: wire.title.unwrap_or_default(),
                type_: wire.type_,
                instance: wire.instance.unwrap_or_default(),
                detail: wire.detail.or(wire.message).unwrap_or_default(),
                invalid_parameters: wire.invalid_parameters,
                extra: wire.extra,
            },
            Err(_) => Problem {
                status,
                title: String::new(),
                type_: None,
                instance: String::new(),
                detail: truncate(&String::from_utf8_lossy(body), 300),
                invalid_parameters: Vec::new(),
                extra: serde_json::Map::new(),
            },
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if !self.title.is_empty() {
            write!(f, " {}", self.title)?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        for p in &self.invalid_parameters {
            write!(f, "; {}: {}", p.field, p.reason)?;
        }
        if !self.instance.is_empty() {
            write!(f, " (instance {})", self.instance)?;
        }
        Ok(())
    }
}

/// Everything that can go wrong when talking to Konnect. The problem body is boxed so
/// that `Result<T, KonnectError>` stays small on the happy path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KonnectError {
    /// Konnect answered with an error status not covered by a more specific variant
    /// (400 validation errors among them: see [`Problem::invalid_parameters`]).
    #[error("Konnect API error: {0}")]
    Api(Box<Problem>),
    /// 401: the token is missing, expired or revoked.
    #[error("unauthorized: {0}")]
    Unauthorized(Box<Problem>),
    /// 403: the token's owner lacks the permission.
    #[error("forbidden: {0}")]
    Forbidden(Box<Problem>),
    /// 404: the resource does not exist.
    #[error("not found: {0}")]
    NotFound(Box<Problem>),
    /// 409: conflict, e.g. deleting an auth strategy that a publication still uses.
    #[error("conflict: {0}")]
    Conflict(Box<Problem>),
    /// 429 after the retry policy gave up.
    #[error("rate limited (retry after {retry_after:?}): {problem}")]
    RateLimited {
        /// How long Konnect asked us to wait (`Retry-After`).
        retry_after: Option<Duration>,
        /// Konnect's error body.
        problem: Box<Problem>,
    },
    /// The request did not complete at the HTTP level.
    #[error("transport error")]
    Transport(#[source] TransportError),
    /// The response was a success but its body did not match the expected shape.
    #[error("could not decode the response of {operation} at `{path}`: {reason}")]
    Decode {
        /// Operation whose response failed to decode, e.g. `GET /v2/dcr-providers/{dcrProviderId}`.
        operation: String,
        /// JSON path of the offending value.
        path: String,
        /// What was wrong, with any quoted string values removed (they may be secrets).
        reason: String,
    },
    /// A request parameter was rejected before anything was sent.
    #[error("invalid input: {field}: {reason}")]
    InvalidInput {
        /// The offending field, e.g. `issuer` or `labels.kong-owner`.
        field: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The client could not be built from the given settings.
    #[error("invalid configuration: {field}: {reason}")]
    Config {
        /// The builder setting at fault, e.g. `token`.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
}

impl KonnectError {
    pub(crate) fn from_status(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self {
        let problem = Box::new(Problem::from_body(status, body));
        match status {
            401 => KonnectError::Unauthorized(problem),
            403 => KonnectError::Forbidden(problem),
            404 => KonnectError::NotFound(problem),
            409 => KonnectError::Conflict(problem),
            429 => KonnectError::RateLimited { retry_after, problem },
            _ => KonnectError::Api(problem),
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        KonnectError::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        KonnectError::Config {
            field,
            reason: reason.into(),
        }
    }

    /// Konnect's error body, for every variant that carries one.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            KonnectError::Api(p)
            | KonnectError::Unauthorized(p)
            | KonnectError::Forbidden(p)
            | KonnectError::NotFound(p)
            | KonnectError::Conflict(p)
            | KonnectError::RateLimited { problem: p, .. } => Some(p),
            _ => None,
        }
    }

    /// The HTTP status, when Konnect answered.
    pub fn status(&self) -> Option<u16> {
        self.problem().map(|p| p.status)
    }

    /// Konnect's trace id (`instance`), when it answered.
    pub fn instance(&self) -> Option<&str> {
        self.problem().map(|p| p.instance.as_str()).filter(|i| !i.is_empty())
    }

    /// The field-level problems of a 400.
    pub fn invalid_parameters(&self) -> &[InvalidParameter] {
        self.problem()
            .map(|p| p.invalid_parameters.as_slice())
            .unwrap_or_default()
    }

    /// True for a 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, KonnectError::NotFound(_))
    }

    /// True for a 409.
    pub fn is_conflict(&self) -> bool {
        matches!(self, KonnectError::Conflict(_))
    }

    /// True for a 401.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, KonnectError::Unauthorized(_))
    }

    /// True if trying again later may succeed (rate limits, 5xx, transport failures).
    pub fn is_retryable(&self) -> bool {
        match self {
            KonnectError::RateLimited { .. } | KonnectError::Transport(_) => true,
            KonnectError::Api(p) => p.status >= 500,
            _ => false,
        }
    }
}

impl ServiceError for KonnectError {
    fn from_response(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self {
        KonnectError::from_status(status, body, retry_after)
    }

    fn from_transport(error: TransportError) -> Self {
        KonnectError::Transport(error)
    }

    fn invalid_request(field: &'static str, reason: &'static str) -> Self {
        KonnectError::invalid(field, reason)
    }

    fn decode(operation: String, path: String, reason: String) -> Self {
        KonnectError::Decode {
            operation,
            path,
            reason,
        }
    }

    fn is_not_found(&self) -> bool {
        KonnectError::is_not_found(self)
    }
}

pub(crate) use dcr_client_core::NotFoundAsNone;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_json_is_parsed_with_its_trace_id_and_fields() {
        let body = br#"{"status":400,"title":"Bad Request","instance":"kong:trace:123","detail":"Invalid Parameters",
            "invalid_parameters":[{"field":"name","rule":"required","source":"body","reason":"is a required field"}]}"#;
        let err = KonnectError::from_status(400, body, None);
        assert_eq!(err.instance(), Some("kong:trace:123"));
        assert_eq!(err.invalid_parameters()[0].field, "name");
        assert_eq!(err.invalid_parameters()[0].rule.as_deref(), Some("required"));
        assert_eq!(
            err.to_string(),
            "Konnect API error: HTTP 400 Bad Request: Invalid Parameters; name: is a required field (instance kong:trace:123)"
        );
    }

    #[test]
    fn statuses_map_to_variants_and_non_json_keeps_the_status() {
        assert!(KonnectError::from_status(404, b"{}", None).is_not_found());
        assert!(KonnectError::from_status(409, b"{}", None).is_conflict());
        assert!(KonnectError::from_status(401, b"{}", None).is_unauthorized());
        let err = KonnectError::from_status(502, b"<html>bad gateway</html>", None);
        assert_eq!(err.status(), Some(502));
        assert!(err.is_retryable());
        assert!(err.to_string().contains("bad gateway"));
    }
}
