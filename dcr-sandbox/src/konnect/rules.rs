//! Konnect's rules the sandbox enforces, written from the documents and Kong's guides
//! (not taken from the client it tests, so a client bug cannot be mirrored here).

use serde_json::{Map, Value};

/// Label keys may not start with these (application auth v2 document, `Labels`).
pub(crate) const RESERVED_LABEL_PREFIXES: [&str; 5] = ["kong", "konnect", "mesh", "kic", "_"];

/// The Management API scopes Konnect's Auth0 DCR needs of the initial client (Kong's
/// Auth0 DCR guide).
pub(crate) const AUTH0_DCR_SCOPES: [&str; 9] = [
    "read:clients",
    "create:clients",
    "update:clients",
    "delete:clients",
    "read:client_grants",
    "create:client_grants",
    "update:client_grants",
    "delete:client_grants",
    "update:client_keys",
];

/// Needed too when developer-managed scopes are on (the same guide).
pub(crate) const AUTH0_DEVELOPER_MANAGED_SCOPE: &str = "read:resource_servers";

/// `^[a-z0-9A-Z]{1}([a-z0-9A-Z-._]*[a-z0-9A-Z]+)?$`: a label value, and a key's shape.
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

/// `^[\w]+$` (ASCII): what the HTTP DCR provider's API key may hold.
pub(crate) fn api_key_chars(value: &str) -> bool {
    value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The audience an OpenID Connect strategy sends to the token endpoint: the value paired
/// with `audience` in `token_post_args_names` / `token_post_args_values` (Kong's Auth0
/// DCR guide).
pub(crate) fn audience_in(settings: &Map<String, Value>) -> Option<&str> {
    let names = settings.get("token_post_args_names")?.as_array()?;
    let values = settings.get("token_post_args_values")?.as_array()?;
    let index = names.iter().position(|n| n.as_str() == Some("audience"))?;
    values.get(index)?.as_str()
}
