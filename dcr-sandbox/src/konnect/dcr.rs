//! What Konnect does with an Auth0 DCR provider, done for real over HTTP: get a Management
//! API token with the initial client, create and delete applications' clients and their
//! grants, and verify the initial client's scopes.
//!
//! The sandbox answers requests synchronously on its server's runtime, so each operation
//! runs on the helper thread (`helper.rs`) while the sandbox waits for it.
//!
//! Management API tokens are metered by Auth0, so like any careful client the sandbox
//! keeps one per provider until shortly before it expires, and fetches a new one when the
//! kept one is refused. `verify` always asks for a fresh one: it checks the credentials.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::rules::{AUTH0_DCR_SCOPES, AUTH0_DEVELOPER_MANAGED_SCOPE};

/// OpenID Connect scopes that are not API permissions and are not put in a client grant.
const OIDC_SCOPES: [&str; 5] = ["openid", "profile", "email", "offline_access", "address"];

/// How to reach an Auth0 tenant and act as the provider's initial client.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Auth0Link {
    /// Where HTTP goes (the issuer, or the sandbox it is mapped to).
    pub(crate) base_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) audience: String,
    pub(crate) developer_managed_scopes: bool,
}

/// A Management API token kept between operations, for the link it was issued to.
#[derive(Clone)]
pub(crate) struct CachedToken {
    link: Auth0Link,
    token: String,
    valid_until: Instant,
}

impl CachedToken {
    /// Kept until a minute before expiry, or halfway through a short lifetime.
    fn new(link: Auth0Link, token: String, lifetime: Duration) -> Self {
        let margin = Duration::from_secs(60).min(lifetime / 2);
        CachedToken {
            link,
            token,
            valid_until: Instant::now() + lifetime - margin,
        }
    }

    /// The token, if it belongs to `link` and is still fresh.
    fn usable(&self, link: &Auth0Link) -> Option<&str> {
        (self.link == *link && Instant::now() < self.valid_until).then_some(self.token.as_str())
    }
}

/// The client Konnect registered for an application.
pub(crate) struct Registered {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) granted_scopes: Vec<String>,
}

/// What a new application's client looks like.
pub(crate) struct Registration {
    pub(crate) name: String,
    pub(crate) audience: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) metadata: Value,
}

fn url(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

/// The body of a success, or Auth0's own words about the failure.
fn checked(status: u16, body: Value, what: &str) -> Result<Value, String> {
    if (200..300).contains(&status) {
        return Ok(body);
    }
    let text = |keys: [&str; 2]| {
        keys.iter()
            .find_map(|k| body.get(*k).and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned()
    };
    let (code, message) = (text(["errorCode", "error"]), text(["message", "error_description"]));
    Err(format!("{what}: Auth0 answered {status} {code}: {message}"))
}

/// A fresh Management API token: the token, its scopes and its lifetime.
async fn fresh_token(http: &reqwest::Client, link: &Auth0Link) -> Result<(String, Vec<String>, Duration), String> {
    let body = json!({
        "grant_type": "client_credentials",
        "client_id": link.client_id,
        "client_secret": link.client_secret,
        "audience": link.audience,
    });
    let response = http
        .post(url(&link.base_url, "oauth/token"))
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("token request: could not reach the identity provider: {e}"))?;
    let status = response.status().as_u16();
    let token = checked(status, response.json().await.unwrap_or(Value::Null), "token request")?;
    let access = token
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or("token request: no access_token in the answer")?
        .to_owned();
    let scopes = token
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let lifetime = Duration::from_secs(token.get("expires_in").and_then(Value::as_u64).unwrap_or(0));
    Ok((access, scopes, lifetime))
}

/// Management API calls as the initial client, reusing a kept token.
struct Session {
    link: Auth0Link,
    cached: Option<CachedToken>,
}

impl Session {
    async fn token(&mut self, http: &reqwest::Client) -> Result<String, String> {
        if let Some(token) = self.cached.as_ref().and_then(|c| c.usable(&self.link)) {
            return Ok(token.to_owned());
        }
        let (token, _, lifetime) = fresh_token(http, &self.link).await?;
        self.cached = Some(CachedToken::new(self.link.clone(), token.clone(), lifetime));
        Ok(token)
    }

    /// Sends a request built around the bearer token; a 401 on a kept token fetches a new
    /// one and tries once more.
    async fn send(
        &mut self,
        http: &reqwest::Client,
        build: impl Fn(&str) -> reqwest::RequestBuilder,
        what: &str,
    ) -> Result<(u16, Value), String> {
        let mut retried = false;
        loop {
            let was_cached = self.cached.as_ref().is_some_and(|c| c.usable(&self.link).is_some());
            let token = self.token(http).await?;
            let response = build(&token)
                .send()
                .await
                .map_err(|e| format!("{what}: could not reach the identity provider: {e}"))?;
            let status = response.status().as_u16();
            if status == 401 && was_cached && !retried {
                self.cached = None;
                retried = true;
                continue;
            }
            return Ok((status, response.json().await.unwrap_or(Value::Null)));
        }
    }
}

/// Checks that the initial client can get a Management API token holding the DCR scopes.
/// Returns the problems found (empty = success) and the fresh token, worth keeping.
pub(crate) fn verify(link: Auth0Link) -> (Option<CachedToken>, Vec<String>) {
    let outcome = super::helper::run(move |http| {
        Box::pin(async move {
            let (token, scopes, lifetime) = fresh_token(&http, &link).await?;
            let kept = CachedToken::new(link.clone(), token, lifetime);
            let have: BTreeSet<&str> = scopes.iter().map(String::as_str).collect();
            let mut missing: Vec<&str> = AUTH0_DCR_SCOPES.iter().copied().filter(|s| !have.contains(s)).collect();
            if link.developer_managed_scopes && !have.contains(AUTH0_DEVELOPER_MANAGED_SCOPE) {
                missing.push(AUTH0_DEVELOPER_MANAGED_SCOPE);
            }
            let errors: Vec<String> = missing
                .into_iter()
                .map(|s| format!("the initial client's Management API grant lacks the scope {s}"))
                .collect();
            Ok::<_, String>((Some(kept), errors))
        })
    });
    match outcome {
        Ok(Ok(result)) => result,
        Ok(Err(e)) | Err(e) => (None, vec![e]),
    }
}

/// Registers a client for an application and grants it the strategy's audience. A client
/// whose grant fails is deleted again, so nothing is left half-created. Returns the token
/// to keep alongside the result.
pub(crate) fn register(
    link: Auth0Link,
    cached: Option<CachedToken>,
    registration: Registration,
) -> (Option<CachedToken>, Result<Registered, String>) {
    let outcome = super::helper::run(move |http| {
        Box::pin(async move {
            let mut session = Session { link, cached };
            let result = register_with(&http, &mut session, registration).await;
            (session.cached, result)
        })
    });
    outcome.unwrap_or_else(|e| (None, Err(e)))
}

async fn register_with(
    http: &reqwest::Client,
    session: &mut Session,
    registration: Registration,
) -> Result<Registered, String> {
    let base = session.link.base_url.clone();
    let body = json!({
        "name": registration.name,
        "app_type": "non_interactive",
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_post",
        "client_metadata": registration.metadata,
    });
    let clients = url(&base, "api/v2/clients");
    let (status, client) = session
        .send(
            http,
            |t| http.post(&clients).bearer_auth(t).json(&body),
            "client creation",
        )
        .await?;
    let client = checked(status, client, "client creation")?;
    let field = |k: &str| client.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let (client_id, client_secret) = (field("client_id"), field("client_secret"));
    let granted: Vec<String> = registration
        .scopes
        .into_iter()
        .filter(|s| !OIDC_SCOPES.contains(&s.as_str()))
        .collect();
    let grant = json!({"client_id": client_id, "audience": registration.audience, "scope": granted});
    let grants = url(&base, "api/v2/client-grants");
    let granted_result = session
        .send(http, |t| http.post(&grants).bearer_auth(t).json(&grant), "client grant")
        .await
        .and_then(|(status, body)| checked(status, body, "client grant"));
    if let Err(e) = granted_result {
        let client_url = url(&base, &format!("api/v2/clients/{client_id}"));
        let _ = session
            .send(http, |t| http.delete(&client_url).bearer_auth(t), "client deletion")
            .await;
        return Err(e);
    }
    Ok(Registered {
        client_id,
        client_secret,
        granted_scopes: granted,
    })
}

/// Deletes an application's client; a client already gone counts as deleted.
pub(crate) fn unregister(
    link: Auth0Link,
    cached: Option<CachedToken>,
    client_id: String,
) -> (Option<CachedToken>, Result<(), String>) {
    let outcome = super::helper::run(move |http| {
        Box::pin(async move {
            let mut session = Session { link, cached };
            let client_url = url(&session.link.base_url, &format!("api/v2/clients/{client_id}"));
            let result = match session
                .send(&http, |t| http.delete(&client_url).bearer_auth(t), "client deletion")
                .await
            {
                Ok((200..=299 | 404, _)) => Ok(()),
                Ok((status, body)) => checked(status, body, "client deletion").map(|_| ()),
                Err(e) => Err(e),
            };
            (session.cached, result)
        })
    });
    outcome.unwrap_or_else(|e| (None, Err(e)))
}

/// Rotates an application's client secret (`regenerate-secret`); returns the new secret.
pub(crate) fn rotate(
    link: Auth0Link,
    cached: Option<CachedToken>,
    client_id: String,
) -> (Option<CachedToken>, Result<String, String>) {
    let outcome = super::helper::run(move |http| {
        Box::pin(async move {
            let mut session = Session { link, cached };
            let rotate_url = url(
                &session.link.base_url,
                &format!("api/v2/clients/{client_id}/rotate-secret"),
            );
            let result = session
                .send(&http, |t| http.post(&rotate_url).bearer_auth(t), "secret rotation")
                .await
                .and_then(|(status, body)| checked(status, body, "secret rotation"))
                .and_then(|client| {
                    client
                        .get("client_secret")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| "secret rotation: no client_secret in the answer".to_owned())
                });
            (session.cached, result)
        })
    });
    outcome.unwrap_or_else(|e| (None, Err(e)))
}
