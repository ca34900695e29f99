//! A bearer token shared by every request that sends it.

use std::fmt;
use std::sync::Arc;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// An access token together with its `Authorization: Bearer …` header value, built once.
///
/// Cloning is a reference-count increment. A token used to be cloned as a `SecretString`
/// for every request (and zeroized on every drop) and formatted into a new header value
/// each time: with an 800-byte JWT that was most of the client's own cost per request
/// (cachegrind: about 7,000 of 12,000 extra instructions over raw reqwest per call).
///
/// The header form is what goes on the wire; hyper copies it into its write buffer, which
/// is not zeroized either, so the secret's exposure is unchanged (and one header value per
/// token now lingers in freed memory instead of one per request). `Debug` is redacted.
#[derive(Clone)]
pub struct BearerToken(Arc<Inner>);

struct Inner {
    secret: SecretString,
    header: HeaderValue,
}

impl BearerToken {
    /// Wraps a token; `None` when it cannot be sent in a header (control characters).
    pub fn new(secret: SecretString) -> Option<Self> {
        let mut header = HeaderValue::try_from(format!("Bearer {}", secret.expose_secret())).ok()?;
        header.set_sensitive(true);
        Some(BearerToken(Arc::new(Inner { secret, header })))
    }

    /// Wraps a session token sent as the cookie `name` (`Cookie: {name}={token}`), for an
    /// [`Authorizer`](crate::Authorizer) whose `header_name` is `Cookie`; `None` when it
    /// cannot be sent in a header.
    pub fn cookie(name: &str, secret: SecretString) -> Option<Self> {
        let mut header = HeaderValue::try_from(format!("{name}={}", secret.expose_secret())).ok()?;
        header.set_sensitive(true);
        Some(BearerToken(Arc::new(Inner { secret, header })))
    }

    /// The token.
    pub fn secret(&self) -> &SecretString {
        &self.0.secret
    }

    /// The `Authorization` header value (marked sensitive, so HTTP/2 never indexes it).
    pub fn header(&self) -> HeaderValue {
        self.0.header.clone()
    }

    /// Whether both hold the same token.
    pub fn same_as(&self, other: &BearerToken) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.secret.expose_secret() == other.0.secret.expose_secret()
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_built_once_and_debug_is_redacted() {
        let token = BearerToken::new(SecretString::from("abc.def")).unwrap();
        assert_eq!(token.header().to_str().unwrap(), "Bearer abc.def");
        assert!(token.header().is_sensitive());
        assert!(!format!("{token:?}").contains("abc"));
        let again = BearerToken::new(SecretString::from("abc.def")).unwrap();
        assert!(token.same_as(&token.clone()) && token.same_as(&again));
        assert!(!token.same_as(&BearerToken::new(SecretString::from("other")).unwrap()));
        assert!(BearerToken::new(SecretString::from("a\nb")).is_none());
        let cookie = BearerToken::cookie("portalaccesstoken", SecretString::from("abc")).unwrap();
        assert_eq!(cookie.header().to_str().unwrap(), "portalaccesstoken=abc");
        assert!(cookie.header().is_sensitive() && !format!("{cookie:?}").contains("abc"));
    }
}
