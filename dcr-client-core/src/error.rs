//! Error pieces every client crate needs: the opaque transport error and the helpers that
//! keep secrets out of error messages.

use std::fmt;
use std::time::Duration;

/// A failure below HTTP: connect, TLS, timeout, a connection dropped mid-request, or an
/// operation that did not finish within its deadline.
///
/// Opaque so that `reqwest` is not part of the client crates' public API.
#[derive(Debug)]
pub struct TransportError(pub(crate) Inner);

#[derive(Debug)]
pub(crate) enum Inner {
    Http(reqwest::Error),
    Deadline {
        operation: String,
        waiting_for: &'static str,
        after: Duration,
    },
}

impl TransportError {
    pub(crate) fn http(error: reqwest::Error) -> Self {
        TransportError(Inner::Http(error))
    }

    pub(crate) fn deadline(operation: String, waiting_for: &'static str, after: Duration) -> Self {
        TransportError(Inner::Deadline {
            operation,
            waiting_for,
            after,
        })
    }

    /// True if the request timed out, or the whole operation passed its deadline.
    pub fn is_timeout(&self) -> bool {
        match &self.0 {
            Inner::Http(e) => e.is_timeout(),
            Inner::Deadline { .. } => true,
        }
    }

    /// True if the connection could not be established (the request was never sent).
    pub fn is_connect(&self) -> bool {
        matches!(&self.0, Inner::Http(e) if e.is_connect())
    }

    /// What the operation was still waiting for when its deadline
    /// ([`RetryConfig::deadline`](crate::RetryConfig::deadline)) passed: `"the rate-limit
    /// budget"`, `"an access token"`, `"the response"` or `"the retry delay"`.
    pub fn deadline_waiting_for(&self) -> Option<&'static str> {
        match &self.0 {
            Inner::Deadline { waiting_for, .. } => Some(waiting_for),
            Inner::Http(_) => None,
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Inner::Deadline {
                operation,
                waiting_for,
                after,
            } => write!(
                f,
                "{operation} did not finish within its deadline of {} s: it was still waiting for {waiting_for} \
                 (the service is throttling or unreachable; try again later, or raise RetryConfig::deadline)",
                after.as_secs_f64()
            ),
            Inner::Http(e) if e.is_timeout() => f.write_str("request timed out"),
            Inner::Http(e) if e.is_connect() => f.write_str("could not connect"),
            Inner::Http(_) => f.write_str("request failed"),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            Inner::Http(e) => Some(e),
            Inner::Deadline { .. } => None,
        }
    }
}

/// Replaces every `"…"` in a serde message with `"<redacted>"`: decode errors name the
/// path and the kind of mismatch, never a value (a response body may hold a secret).
pub fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut inside = false;
    for ch in message.chars() {
        if ch == '"' {
            if inside {
                out.push_str("<redacted>\"");
            } else {
                out.push('"');
            }
            inside = !inside;
        } else if !inside {
            out.push(ch);
        }
    }
    out
}

/// Cuts `text` to at most `max` bytes on a character boundary, marking the cut with `…`.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_redacted_and_truncation_respects_characters() {
        assert_eq!(
            redact_quoted(r#"invalid type: string "s3cr3t", expected u32"#),
            r#"invalid type: string "<redacted>", expected u32"#
        );
        assert_eq!(truncate("héllo", 2), "h…");
        assert_eq!(truncate("abc", 5), "abc");
    }
}
