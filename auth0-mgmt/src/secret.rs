//! Secret values: every secret this crate handles is one of these types, which redact
//! themselves in `Debug` and are serialized through the one audited helper below.

use secrecy::{ExposeSecret, SecretString};

/// The single place where a secret is turned into plain text for a request body.
///
/// `SecretString` deliberately has no `Serialize`; this helper is what request types use
/// (`#[serde(serialize_with = "crate::secret::expose")]` or through the secret newtypes).
pub(crate) fn expose<S: serde::Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

secret_type!(
    /// An Auth0 application's client secret.
    ClientSecret
);

secret_type!(
    /// An access token: a Management API token or any token from `/oauth/token`.
    AccessToken
);
