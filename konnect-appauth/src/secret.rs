//! The single place where a write-only secret becomes plain text for a request body.

use secrecy::{ExposeSecret, SecretString};

/// `SecretString` deliberately has no `Serialize`; request types name this helper
/// (`#[serde(serialize_with = "crate::secret::expose")]`) for each secret field.
pub(crate) fn expose<S: serde::Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// The same for an optional secret (sparse PATCH bodies).
pub(crate) fn expose_opt<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_str(secret.expose_secret()),
        None => serializer.serialize_none(),
    }
}
