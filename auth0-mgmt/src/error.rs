//! The crate's error type.

use std::fmt;
use std::time::Duration;

use dcr_client_core::{ServiceError, TransportError, truncate};

/// Result alias used throughout the crate.
pub type Result<T, E = Auth0Error> = std::result::Result<T, E>;

/// What Auth0 said about a failed request: its status and its own error body.
///
/// Management API errors look like `{"statusCode":404,"error":"Not Found","message":"…",
/// "errorCode":"inexistent_client"}`; the Authentication API (`/oauth/token`) answers
/// `{"error":"access_denied","error_description":"…"}`. Both are parsed into this struct; a
/// body that is not JSON keeps the status and a truncated copy of the text as `message`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status code of the response.
    pub status: u16,
    /// Auth0's `error` field: the status text (`"Not Found"`) on the Management API, an
    /// OAuth error code (`"access_denied"`) on the token endpoint.
    pub error: String,
    /// Auth0's human-readable `message` (or `error_description`).
    pub message: String,
    /// Auth0's machine-readable `errorCode`, e.g. `inexistent_client`, `insufficient_scope`.
    pub error_code: Option<String>,
}

impl ApiError {
    pub(crate) fn from_body(status: u16, body: &[u8]) -> Self {
        #[derive(serde::Deserialize)]
        struct Wire {
            error: Option<String>,
            message: Option<String>,
            error_description: Option<String>,
            #[serde(rename = "errorCode")]
            error_code: Option<String>,
        }
        match serde_json::from_slice::<Wire>(body) {
            Ok(wire) => ApiError {
                status,
                error: wire.error.unwrap_or_default(),
                message: wire.message.or(wire.error_description).unwrap_or_default(),
                error_code: wire.error_code,
            },
            Err(_) => ApiError {
                status,
                error: String::new(),
                message: truncate(&String::from_utf8_lossy(body), 300),
                error_code: None,
            },
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if !self.error.is_empty() {
            write!(f, " {}", self.error)?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(code) = &self.error_code {
            write!(f, " [{code}]")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong when talking to Auth0.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Auth0Error {
    /// Auth0 answered with an error status not covered by a more specific variant.
    #[error("Auth0 API error: {0}")]
    Api(ApiError),
    /// 401: the token (or the client credentials, on `/oauth/token`) was rejected.
    #[error("unauthorized: {0}")]
    Unauthorized(ApiError),
    /// 403: authenticated but not allowed, e.g. `insufficient_scope`.
    #[error("forbidden: {0}")]
    Forbidden(ApiError),
    /// 404: the resource does not exist.
    #[error("not found: {0}")]
    NotFound(ApiError),
    /// 409: the resource already exists (e.g. a second grant for the same client and audience).
    #[error("conflict: {0}")]
    Conflict(ApiError),
    /// 429 after the retry policy gave up.
    #[error("rate limited (retry after {retry_after:?}): {error}")]
    RateLimited {
        /// How long Auth0 asked us to wait, from `x-ratelimit-reset` or `Retry-After`.
        retry_after: Option<Duration>,
        /// Auth0's error body.
        error: ApiError,
    },
    /// The request did not complete at the HTTP level.
    #[error("transport error")]
    Transport(#[source] TransportError),
    /// The response was a success but its body did not match the expected shape.
    #[error("could not decode the response of {operation} at `{path}`: {reason}")]
    Decode {
        /// Operation whose response failed to decode, e.g. `GET /api/v2/clients/{id}`.
        operation: String,
        /// JSON path of the offending value.
        path: String,
        /// What was wrong, with any quoted string values removed (they may be secrets).
        reason: String,
    },
    /// A request parameter was rejected before anything was sent.
    #[error("invalid input: {field}: {reason}")]
    InvalidInput {
        /// The offending field, e.g. `client_metadata.konnect_org_id`.
        field: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The client could not be built from the given settings.
    #[error("invalid configuration: {field}: {reason}")]
    Config {
        /// The builder setting at fault, e.g. `domain`.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
}

impl Auth0Error {
    pub(crate) fn from_status(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self {
        let error = ApiError::from_body(status, body);
        match status {
            401 => Auth0Error::Unauthorized(error),
            403 => Auth0Error::Forbidden(error),
            404 => Auth0Error::NotFound(error),
            409 => Auth0Error::Conflict(error),
            429 => Auth0Error::RateLimited { retry_after, error },
            _ => Auth0Error::Api(error),
        }
    }

    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Auth0Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        Auth0Error::Config {
            field,
            reason: reason.into(),
        }
    }

    /// Auth0's error body, for every variant that carries one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Auth0Error::Api(e)
            | Auth0Error::Unauthorized(e)
            | Auth0Error::Forbidden(e)
            | Auth0Error::NotFound(e)
            | Auth0Error::Conflict(e)
            | Auth0Error::RateLimited { error: e, .. } => Some(e),
            _ => None,
        }
    }

    /// The HTTP status, when Auth0 answered.
    pub fn status(&self) -> Option<u16> {
        self.api_error().map(|e| e.status)
    }

    /// Auth0's `errorCode` (or OAuth `error` on the token endpoint), when present.
    pub fn error_code(&self) -> Option<&str> {
        self.api_error().and_then(|e| e.error_code.as_deref())
    }

    /// True for a 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Auth0Error::NotFound(_))
    }

    /// True for a 409.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Auth0Error::Conflict(_))
    }

    /// True for a 429 that outlasted the retry policy.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Auth0Error::RateLimited { .. })
    }

    /// True for a 401.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Auth0Error::Unauthorized(_))
    }

    /// True for a 403.
    pub fn is_forbidden(&self) -> bool {
        matches!(self, Auth0Error::Forbidden(_))
    }

    /// True if trying again later may succeed (rate limits, 5xx, transport failures).
    pub fn is_retryable(&self) -> bool {
        match self {
            Auth0Error::RateLimited { .. } | Auth0Error::Transport(_) => true,
            Auth0Error::Api(e) => e.status >= 500,
            _ => false,
        }
    }
}

impl ServiceError for Auth0Error {
    fn from_response(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self {
        Auth0Error::from_status(status, body, retry_after)
    }

    fn from_transport(error: TransportError) -> Self {
        Auth0Error::Transport(error)
    }

    fn invalid_request(field: &'static str, reason: &'static str) -> Self {
        Auth0Error::invalid(field, reason)
    }

    fn decode(operation: String, path: String, reason: String) -> Self {
        Auth0Error::Decode {
            operation,
            path,
            reason,
        }
    }

    fn is_not_found(&self) -> bool {
        Auth0Error::is_not_found(self)
    }
}

pub(crate) use dcr_client_core::NotFoundAsNone;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn management_error_body_is_parsed() {
        let body = br#"{"statusCode":404,"error":"Not Found","message":"The client does not exist","errorCode":"inexistent_client"}"#;
        let err = Auth0Error::from_status(404, body, None);
        assert!(err.is_not_found());
        assert_eq!(err.error_code(), Some("inexistent_client"));
        assert_eq!(
            err.to_string(),
            "not found: HTTP 404 Not Found: The client does not exist [inexistent_client]"
        );
    }

    #[test]
    fn token_endpoint_error_body_is_parsed() {
        let body = br#"{"error":"access_denied","error_description":"Unauthorized"}"#;
        let err = Auth0Error::from_status(401, body, None);
        let api = err.api_error().cloned();
        assert!(err.is_unauthorized());
        assert_eq!(
            api.map(|a| (a.error, a.message)),
            Some(("access_denied".into(), "Unauthorized".into()))
        );
    }

    #[test]
    fn non_json_error_body_keeps_the_status() {
        let err = Auth0Error::from_status(502, b"<html>Bad gateway</html>", None);
        assert_eq!(err.status(), Some(502));
        assert!(err.is_retryable());
        assert!(err.to_string().contains("Bad gateway"));
    }

    #[test]
    fn decode_errors_never_quote_body_values() {
        let json = r#"{"client_id": 5, "client_secret": "s3cr3t-value"}"#;
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Probe {
            client_secret: u32,
        }
        let success = dcr_client_core::Success {
            status: reqwest::StatusCode::OK,
            body: bytes::Bytes::from_static(json.as_bytes()),
            headers: reqwest::header::HeaderMap::new(),
        };
        let op = dcr_client_core::Operation::new(reqwest::Method::GET, "/x");
        let err = success.json::<Probe, Auth0Error>(&op).err();
        let text = format!("{err:?} {}", err.as_ref().map(|e| e.to_string()).unwrap_or_default());
        assert!(!text.contains("s3cr3t-value"), "{text}");
        assert!(text.contains("client_secret"), "{text}");
    }
}
