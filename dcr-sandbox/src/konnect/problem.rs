//! Refusals in Konnect's problem+json shape.

use serde_json::{Value, json};

/// A refused request, as the sandbox will answer it.
#[derive(Clone, Debug, PartialEq)]
pub struct SandboxProblem {
    /// HTTP status.
    pub status: u16,
    /// Short summary (`Bad Request`, …).
    pub title: String,
    /// Explanation.
    pub detail: String,
    /// Field-level problems (400).
    pub invalid_parameters: Vec<Value>,
}

impl std::fmt::Display for SandboxProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.title, self.detail)
    }
}

impl std::error::Error for SandboxProblem {}

pub(crate) type Outcome<T> = Result<T, SandboxProblem>;

impl SandboxProblem {
    pub(crate) fn new(status: u16, detail: impl Into<String>) -> Self {
        SandboxProblem {
            status,
            title: dcr_client_core::sandbox::status_text(status).to_owned(),
            detail: detail.into(),
            invalid_parameters: Vec::new(),
        }
    }

    pub(crate) fn not_found(what: &str) -> Self {
        Self::new(404, format!("{what} not found"))
    }

    pub(crate) fn invalid(params: Vec<Value>) -> Self {
        SandboxProblem {
            invalid_parameters: params,
            ..Self::new(400, "Invalid Parameters")
        }
    }

    /// One field broke one rule.
    pub(crate) fn field(field: &str, rule: &str, reason: impl Into<String>) -> Self {
        Self::invalid(vec![param(field, rule, reason)])
    }

    /// The body, with `instance` as a trace id like Konnect's.
    pub(crate) fn body(&self, trace: u64) -> Value {
        let mut body = json!({
            "status": self.status,
            "title": self.title,
            "type": format!("https://httpstatuses.com/{}", self.status),
            "instance": format!("kong:trace:{trace}"),
            "detail": self.detail,
        });
        if self.status == 400
            && let Some(map) = body.as_object_mut()
        {
            map.insert(
                "invalid_parameters".into(),
                Value::Array(self.invalid_parameters.clone()),
            );
        }
        body
    }
}

/// One `invalid_parameters` entry.
pub(crate) fn param(field: &str, rule: &str, reason: impl Into<String>) -> Value {
    json!({"field": field, "rule": rule, "source": "body", "reason": reason.into()})
}
