//! A developer's portal session: the `portalaccesstoken` cookie a sign-in sets, renewed
//! with the `portalrefreshtoken` cookie after a 401, and by signing in again when the
//! refresh is refused.

use dcr_client_core::{Authorizer, BearerToken, Operation};
use futures::FutureExt;
use futures::future::BoxFuture;
use reqwest::Method;
use reqwest::header::{COOKIE, HeaderMap, HeaderName, HeaderValue, SET_COOKIE};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::client::KonnectClient;
use crate::error::{KonnectError, Result};

/// The cookie that authorizes developer API requests.
pub const ACCESS_COOKIE: &str = "portalaccesstoken";
/// The cookie that renews it.
pub const REFRESH_COOKIE: &str = "portalrefreshtoken";

pub(crate) static AUTHENTICATE: Operation =
    Operation::new(Method::POST, "/api/v3/developer/authenticate").keeps_headers();
pub(crate) static REFRESH: Operation = Operation::new(Method::POST, "/api/v3/developer/refresh").keeps_headers();

/// The cookies of a signed-in session.
#[derive(Clone)]
struct Cookies {
    access: BearerToken,
    refresh: Option<SecretString>,
}

/// What signs a developer in, and the session it holds.
pub(crate) struct Session {
    email: String,
    password: SecretString,
    cookies: tokio::sync::Mutex<Option<Cookies>>,
}

#[derive(Serialize)]
struct Credentials<'a> {
    username: &'a str,
    password: &'a str,
}

/// Reads `name`'s value from the `Set-Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<SecretString> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(n, _)| n.trim() == name)
        .map(|(_, value)| SecretString::from(value.trim().to_owned()))
        .filter(|v| !v.expose_secret().is_empty())
}

fn cookies(headers: &HeaderMap, operation: &str) -> Result<Cookies> {
    let access = cookie(headers, ACCESS_COOKIE)
        .and_then(|token| BearerToken::cookie(ACCESS_COOKIE, token))
        .ok_or_else(|| {
            KonnectError::invalid(
                operation.to_owned(),
                format!("the portal answered without a usable {ACCESS_COOKIE} cookie"),
            )
        })?;
    Ok(Cookies {
        access,
        refresh: cookie(headers, REFRESH_COOKIE),
    })
}

impl Session {
    pub(crate) fn new(email: String, password: SecretString) -> Self {
        Session {
            email,
            password,
            cookies: tokio::sync::Mutex::new(None),
        }
    }

    pub(crate) fn email(&self) -> &str {
        &self.email
    }

    pub(crate) fn authorizer<'a>(&'a self, client: &'a KonnectClient) -> SessionAuth<'a> {
        SessionAuth { client, session: self }
    }

    /// Signs in with the password, replacing any session.
    pub(crate) async fn sign_in(&self, client: &KonnectClient) -> Result<()> {
        let mut held = self.cookies.lock().await;
        *held = Some(self.authenticate(client).await?);
        Ok(())
    }

    /// Forgets the session (after a logout).
    pub(crate) async fn forget(&self) {
        *self.cookies.lock().await = None;
    }

    async fn authenticate(&self, client: &KonnectClient) -> Result<Cookies> {
        let body = serde_json::to_vec(&Credentials {
            username: &self.email,
            // Exposed only into the request body that carries it.
            password: self.password.expose_secret(),
        })
        .map_err(|e| KonnectError::invalid("password", format!("cannot be encoded: {e}")))?;
        let request = client
            .request(Method::POST, &["api", "v3", "developer", "authenticate"])
            .header(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )
            .body(body);
        let answer = client.send_anonymous(&AUTHENTICATE, request).await?;
        cookies(&answer.headers, "POST /api/v3/developer/authenticate")
    }

    async fn refresh(&self, client: &KonnectClient, refresh: &SecretString) -> Result<Cookies> {
        let mut value = HeaderValue::try_from(format!("{REFRESH_COOKIE}={}", refresh.expose_secret()))
            .map_err(|_| KonnectError::invalid(REFRESH_COOKIE, "cannot be sent in a header"))?;
        value.set_sensitive(true);
        let request = client
            .request(Method::POST, &["api", "v3", "developer", "refresh"])
            .header(COOKIE, value);
        let answer = client.send_anonymous(&REFRESH, request).await?;
        let mut fresh = cookies(&answer.headers, "POST /api/v3/developer/refresh")?;
        // A refresh that sets no new refresh cookie leaves the old one valid.
        fresh.refresh = fresh.refresh.or_else(|| Some(refresh.clone()));
        Ok(fresh)
    }
}

/// The session as the transport's [`Authorizer`]: the access cookie, and after a 401 a
/// refreshed one (or a new sign-in).
pub(crate) struct SessionAuth<'a> {
    client: &'a KonnectClient,
    session: &'a Session,
}

impl Authorizer<KonnectError> for SessionAuth<'_> {
    fn token<'a>(&'a self, rejected: Option<&'a BearerToken>) -> BoxFuture<'a, Result<(BearerToken, bool)>> {
        async move {
            // One renewal at a time: requests that failed together share its result.
            let mut held = self.session.cookies.lock().await;
            if let Some(current) = held.as_ref()
                && !rejected.is_some_and(|r| r.same_as(&current.access))
            {
                return Ok((current.access.clone(), true));
            }
            let refresh = held.as_ref().and_then(|c| c.refresh.clone());
            let renewed = match refresh {
                Some(refresh) => match self.session.refresh(self.client, &refresh).await {
                    Ok(cookies) => Some(cookies),
                    Err(e) => {
                        tracing::debug!(error = %e, "the portal refused the refresh; signing in again");
                        None
                    }
                },
                None => None,
            };
            let cookies = match renewed {
                Some(cookies) => cookies,
                None => self.session.authenticate(self.client).await?,
            };
            let access = cookies.access.clone();
            *held = Some(cookies);
            Ok((access, false))
        }
        .boxed()
    }

    fn can_refresh(&self) -> bool {
        true
    }

    fn header_name(&self) -> HeaderName {
        COOKIE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookie_headers_yield_both_tokens() {
        let mut headers = HeaderMap::new();
        headers.append(
            SET_COOKIE,
            HeaderValue::from_static("portalaccesstoken=acc123; Path=/; HttpOnly; Secure"),
        );
        headers.append(
            SET_COOKIE,
            HeaderValue::from_static("portalrefreshtoken=ref456; Path=/api/v3/developer/refresh"),
        );
        let found = cookies(&headers, "op").unwrap();
        assert_eq!(found.access.header().to_str().unwrap(), "portalaccesstoken=acc123");
        assert_eq!(found.refresh.unwrap().expose_secret(), "ref456");
        let empty = cookies(&HeaderMap::new(), "op")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(empty.contains("portalaccesstoken"), "{empty}");
    }
}
