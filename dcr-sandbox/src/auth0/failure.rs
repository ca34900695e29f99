//! Error answers in Auth0's two shapes: the Management API's
//! `{statusCode, error, message, errorCode}` and the Authentication API's
//! `{error, error_description}`.

use serde_json::{Value, json};

/// A refused request, as the sandbox will answer it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxError {
    /// HTTP status.
    pub status: u16,
    /// Auth0's `errorCode` (Management API) or OAuth `error` (token endpoint).
    pub code: String,
    /// Human-readable message.
    pub message: String,
    pub(crate) oauth: bool,
}

impl std::fmt::Display for SandboxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for SandboxError {}

pub(crate) type Outcome<T> = Result<T, SandboxError>;

impl SandboxError {
    /// A Management API error.
    pub(crate) fn mgmt(status: u16, code: &str, message: impl Into<String>) -> Self {
        SandboxError {
            status,
            code: code.to_owned(),
            message: message.into(),
            oauth: false,
        }
    }

    /// An Authentication API (token endpoint) error.
    pub(crate) fn oauth(status: u16, code: &str, description: impl Into<String>) -> Self {
        SandboxError {
            status,
            code: code.to_owned(),
            message: description.into(),
            oauth: true,
        }
    }

    pub(crate) fn bad_body(message: impl Into<String>) -> Self {
        Self::mgmt(
            400,
            "invalid_body",
            format!("Payload validation error: {}", message.into()),
        )
    }

    pub(crate) fn bad_query(message: impl Into<String>) -> Self {
        Self::mgmt(
            400,
            "invalid_query_string",
            format!("Query validation error: {}", message.into()),
        )
    }

    pub(crate) fn body(&self) -> Value {
        if self.oauth {
            json!({"error": self.code, "error_description": self.message})
        } else {
            json!({
                "statusCode": self.status,
                "error": dcr_client_core::sandbox::status_text(self.status),
                "message": self.message,
                "errorCode": self.code,
            })
        }
    }
}
