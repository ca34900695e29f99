//! Error pieces every client crate needs: the opaque transport error and the helpers that
//! keep secrets out of error messages.

use std::fmt;

/// A failure below HTTP: connect, TLS, timeout, a connection dropped mid-request.
///
/// Opaque so that `reqwest` is not part of the client crates' public API.
#[derive(Debug)]
pub struct TransportError(pub(crate) reqwest::Error);

impl TransportError {
    /// True if the request timed out.
    pub fn is_timeout(&self) -> bool {
        self.0.is_timeout()
    }

    /// True if the connection could not be established (the request was never sent).
    pub fn is_connect(&self) -> bool {
        self.0.is_connect()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_timeout() {
            f.write_str("request timed out")
        } else if self.is_connect() {
            f.write_str("could not connect")
        } else {
            f.write_str("request failed")
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
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
