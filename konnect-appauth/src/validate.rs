//! Input rules checked before a request is sent, each failure naming the field. The limits
//! come from the Application Auth v2 document; the Auth0 issuer rule from Konnect's DCR
//! guide (the issuer is the tenant URL with no trailing slash).

use std::collections::BTreeMap;

use url::Url;

use crate::error::{KonnectError, Result};

/// Label keys may not start with these (reserved by Kong).
pub const RESERVED_LABEL_PREFIXES: [&str; 5] = ["kong", "konnect", "mesh", "kic", "_"];
/// At most this many labels per resource.
pub const MAX_LABELS: usize = 50;

pub(crate) fn len(field: &str, value: &str, min: usize, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n < min || n > max {
        let reason = if min == max {
            format!("must be {min} characters long, got {n}")
        } else {
            format!("must be {min} to {max} characters long, got {n}")
        };
        return Err(KonnectError::invalid(field, reason));
    }
    Ok(())
}

/// Names and display names: 1–256 characters.
pub(crate) fn name(field: &str, value: &str) -> Result<()> {
    len(field, value, 1, 256)
}

/// `^[a-z0-9A-Z]{1}([a-z0-9A-Z-._]*[a-z0-9A-Z]+)?$`: label values, and the same shape is
/// what Konnect accepts for keys. Also the sandbox's rule.
pub(crate) fn label_token(value: &str) -> bool {
    let bytes = value.as_bytes();
    let edge = |b: &u8| b.is_ascii_alphanumeric();
    let inner = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
    match bytes {
        [] => false,
        [only] => edge(only),
        [first, middle @ .., last] => edge(first) && edge(last) && middle.iter().all(inner),
    }
}

/// Checks one label key.
pub(crate) fn label_key(key: &str) -> Result<()> {
    let field = format!("labels.{key}");
    len(&field, key, 1, 63)?;
    let lower = key.to_ascii_lowercase();
    if let Some(prefix) = RESERVED_LABEL_PREFIXES.iter().find(|p| lower.starts_with(*p)) {
        return Err(KonnectError::invalid(
            field,
            format!("label keys must not start with `{prefix}` (reserved by Kong)"),
        ));
    }
    if !label_token(key) {
        return Err(KonnectError::invalid(
            field,
            "label keys are letters and digits, with `-`, `.` or `_` inside",
        ));
    }
    Ok(())
}

/// Checks one label value.
pub(crate) fn label_value(key: &str, value: &str) -> Result<()> {
    let field = format!("labels.{key}");
    len(&field, value, 1, 63)?;
    if !label_token(value) {
        return Err(KonnectError::invalid(
            field,
            "label values must match ^[a-z0-9A-Z]{1}([a-z0-9A-Z-._]*[a-z0-9A-Z]+)?$",
        ));
    }
    Ok(())
}

/// Checks one label against Konnect's rules (key 1–63 characters, not starting with a
/// reserved prefix; key and value of letters and digits with `-`, `.`, `_` inside), so a
/// caller can refuse a bad label before any request. The error names `labels.{key}`.
pub fn check_label(key: &str, value: &str) -> Result<()> {
    label_key(key)?;
    label_value(key, value)
}

/// Checks an Auth0 issuer as Konnect wants it: an https URL (http only on loopback), no
/// trailing slash, no query or fragment. The error names `field`.
pub fn check_auth0_issuer(field: &str, value: &str) -> Result<()> {
    issuer(field, value, true)
}

/// Checks a base URL: absolute, https unless the host is loopback. The error names `field`.
pub fn check_url(field: &str, value: &str) -> Result<()> {
    url(field, value).map(drop)
}

/// Checks a full label set (create bodies).
pub(crate) fn labels(labels: &BTreeMap<String, String>) -> Result<()> {
    if labels.len() > MAX_LABELS {
        return Err(KonnectError::invalid(
            "labels",
            format!("at most {MAX_LABELS} labels, got {}", labels.len()),
        ));
    }
    for (k, v) in labels {
        label_key(k)?;
        label_value(k, v)?;
    }
    Ok(())
}

/// Checks a sparse label update, where `None` deletes the label.
pub(crate) fn label_update(labels: &BTreeMap<String, Option<String>>) -> Result<()> {
    if labels.len() > MAX_LABELS {
        return Err(KonnectError::invalid(
            "labels",
            format!("at most {MAX_LABELS} labels, got {}", labels.len()),
        ));
    }
    for (k, v) in labels {
        label_key(k)?;
        if let Some(v) = v {
            label_value(k, v)?;
        }
    }
    Ok(())
}

/// An absolute URL of at most 256 characters; https unless the host is loopback (tests).
pub(crate) fn url(field: &str, value: &str) -> Result<Url> {
    len(field, value, 1, 256)?;
    let parsed = Url::parse(value).map_err(|e| KonnectError::invalid(field, format!("not an absolute URL: {e}")))?;
    let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
        return Err(KonnectError::invalid(field, "must be an https URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(KonnectError::invalid(field, "must name a host"));
    }
    Ok(parsed)
}

/// An issuer URL. For Auth0 the issuer is `https://{tenant}` exactly: Konnect builds
/// Management API URLs from it, and a trailing slash is a classic cause of failed DCR.
pub(crate) fn issuer(field: &str, value: &str, auth0: bool) -> Result<()> {
    let parsed = url(field, value)?;
    if auth0 && value.ends_with('/') {
        return Err(KonnectError::invalid(
            field,
            format!(
                "an Auth0 issuer must not end with `/`: use {:?}",
                value.trim_end_matches('/')
            ),
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(KonnectError::invalid(field, "must not have a query or fragment"));
    }
    Ok(())
}

/// A string list: item count and per-item length, as the document bounds them.
pub(crate) fn list(field: &str, items: &[String], min_items: usize, max_items: usize, max_len: usize) -> Result<()> {
    if items.len() < min_items || items.len() > max_items {
        return Err(KonnectError::invalid(
            field,
            format!("must hold {min_items} to {max_items} items, got {}", items.len()),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        len(&format!("{field}[{i}]"), item, 1, max_len)?;
    }
    Ok(())
}

/// The HTTP DCR bridge's `api_key`: 12–256 characters of `[a-zA-Z0-9_]`. The value is
/// never quoted in the error.
pub(crate) fn api_key(value: &str) -> Result<()> {
    let field = "dcr_config.api_key";
    len(field, value, 12, 256)?;
    if !api_key_chars(value) {
        return Err(KonnectError::invalid(field, "must match ^[a-zA-Z0-9_]+$"));
    }
    Ok(())
}

/// `^[a-zA-Z0-9_]+$`, the HTTP bridge `api_key`'s character rule (also the sandbox's).
pub(crate) fn api_key_chars(value: &str) -> bool {
    value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A write-only secret: present and at most `max` characters (never quoted).
pub(crate) fn secret(field: &str, value: &str, max: usize) -> Result<()> {
    let n = value.chars().count();
    if value.trim().is_empty() {
        return Err(KonnectError::invalid(field, "must not be empty"));
    }
    if n > max {
        return Err(KonnectError::invalid(
            field,
            format!("must be at most {max} characters long"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result<()>) -> String {
        match r {
            Err(KonnectError::InvalidInput { field, reason }) => format!("{field}: {reason}"),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn labels_follow_the_document() {
        assert!(label_key("owner").is_ok() && label_value("owner", "dcr-rs").is_ok());
        assert!(field_of(label_key("konnect-x")).contains("reserved"));
        assert!(field_of(label_key("Kong")).contains("reserved"));
        assert!(field_of(label_key("_x")).contains("reserved"));
        assert!(field_of(label_key(&"a".repeat(64))).starts_with("labels.aaaa"));
        assert!(field_of(label_value("k", "-bad")).starts_with("labels.k"));
        assert!(field_of(label_value("k", "bad-")).starts_with("labels.k"));
        assert!(label_value("k", "a.b_c-d").is_ok());
        let many: BTreeMap<String, String> = (0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert!(field_of(labels(&many)).starts_with("labels: at most 50"));
    }

    #[test]
    fn issuers_are_absolute_https_and_auth0_ones_have_no_trailing_slash() {
        assert!(issuer("issuer", "https://acme.us.auth0.com", true).is_ok());
        let e = field_of(issuer("issuer", "https://acme.us.auth0.com/", true));
        assert!(
            e.contains("must not end with `/`") && e.contains("https://acme.us.auth0.com"),
            "{e}"
        );
        assert!(issuer("issuer", "https://idp.example.com/", false).is_ok());
        assert!(field_of(issuer("issuer", "http://idp.example.com", false)).contains("https"));
        assert!(field_of(issuer("issuer", "acme.us.auth0.com", true)).contains("absolute"));
        assert!(issuer("issuer", "http://127.0.0.1:8080", true).is_ok());
    }

    #[test]
    fn api_keys_and_lists_are_bounded() {
        assert!(api_key("abcdefghijkl_123").is_ok());
        assert!(field_of(api_key("short")).contains("12 to 256"));
        let e = field_of(api_key("has-dash-and-long-enough"));
        assert!(e.contains("^[a-zA-Z0-9_]+$") && !e.contains("has-dash"), "{e}");
        assert!(list("scopes", &["openid".into()], 0, 50, 128).is_ok());
        let long = vec!["x".repeat(129)];
        assert!(field_of(list("scopes", &long, 0, 50, 128)).starts_with("scopes[0]"));
        let eleven: Vec<String> = (0..11).map(|i| i.to_string()).collect();
        assert!(field_of(list("auth_methods", &eleven, 0, 10, 64)).contains("0 to 10"));
    }
}
