//! What Konnect does with an Auth0 DCR provider, done for real over HTTP: get a Management
//! API token with the initial client, create and delete applications' clients and their
//! grants, and verify the initial client's scopes.
//!
//! The sandbox answers requests synchronously inside wiremock's server runtime, so each
//! call runs on a helper thread with its own small runtime and waits for it.

use std::collections::BTreeSet;

use serde_json::{Value, json};

/// Scopes the DCR admin application needs (Konnect's Auth0 DCR guide).
pub const REQUIRED_SCOPES: [&str; 9] = [
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
/// Needed on top when developer-managed scopes are on.
pub const DEVELOPER_MANAGED_SCOPE: &str = "read:resource_servers";
/// OpenID Connect scopes that are not API permissions and are not put in a client grant.
const OIDC_SCOPES: [&str; 5] = ["openid", "profile", "email", "offline_access", "address"];

/// How to reach an Auth0 tenant and act as the provider's initial client.
#[derive(Clone)]
pub(crate) struct Auth0Link {
    /// Where HTTP goes (the issuer, or the sandbox it is mapped to).
    pub(crate) base_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) audience: String,
    pub(crate) developer_managed_scopes: bool,
}

/// The client Konnect registered for an application.
pub(crate) struct Registered {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) granted_scopes: Vec<String>,
}

/// Runs `f` on a helper thread with its own runtime, so blocking on HTTP never happens on
/// the runtime that serves the sandbox.
fn blocking<T: Send + 'static>(
    f: impl FnOnce(reqwest::Client) -> futures::future::BoxFuture<'static, Result<T, String>> + Send + 'static,
) -> Result<T, String> {
    let handle = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("sandbox runtime: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| format!("sandbox HTTP client: {e}"))?;
        runtime.block_on(f(http))
    });
    handle.join().map_err(|_| "sandbox DCR thread panicked".to_owned())?
}

fn url(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

async fn call(http: &reqwest::Client, request: reqwest::RequestBuilder, what: &str) -> Result<Value, String> {
    let _ = http;
    let response = request
        .send()
        .await
        .map_err(|e| format!("{what}: could not reach the identity provider: {e}"))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body
            .get("message")
            .or_else(|| body.get("error_description"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let code = body
            .get("errorCode")
            .or_else(|| body.get("error"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Err(format!("{what}: Auth0 answered {} {code}: {message}", status.as_u16()));
    }
    Ok(body)
}

async fn management_token(http: &reqwest::Client, link: &Auth0Link) -> Result<(String, Vec<String>), String> {
    let body = json!({
        "grant_type": "client_credentials",
        "client_id": link.client_id,
        "client_secret": link.client_secret,
        "audience": link.audience,
    });
    let token = call(
        http,
        http.post(url(&link.base_url, "oauth/token")).json(&body),
        "token request",
    )
    .await?;
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
    Ok((access, scopes))
}

/// Checks that the initial client can get a Management API token holding the DCR scopes.
/// Returns the problems found (empty = success).
pub(crate) fn verify(link: Auth0Link) -> Vec<String> {
    let outcome = blocking(move |http| {
        Box::pin(async move {
            let (_, scopes) = management_token(&http, &link).await?;
            let have: BTreeSet<&str> = scopes.iter().map(String::as_str).collect();
            let mut missing: Vec<&str> = REQUIRED_SCOPES.iter().copied().filter(|s| !have.contains(s)).collect();
            if link.developer_managed_scopes && !have.contains(DEVELOPER_MANAGED_SCOPE) {
                missing.push(DEVELOPER_MANAGED_SCOPE);
            }
            Ok(missing
                .into_iter()
                .map(|s| format!("the initial client's Management API grant lacks the scope {s}"))
                .collect::<Vec<_>>())
        })
    });
    outcome.unwrap_or_else(|e| vec![e])
}

/// What a new application's client looks like.
pub(crate) struct Registration {
    pub(crate) name: String,
    pub(crate) audience: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) metadata: Value,
}

/// Registers a client for an application and grants it the strategy's audience. A client
/// whose grant fails is deleted again, so nothing is left half-created.
pub(crate) fn register(link: Auth0Link, registration: Registration) -> Result<Registered, String> {
    blocking(move |http| {
        Box::pin(async move {
            let (token, _) = management_token(&http, &link).await?;
            let body = json!({
                "name": registration.name,
                "app_type": "non_interactive",
                "grant_types": ["client_credentials"],
                "token_endpoint_auth_method": "client_secret_post",
                "client_metadata": registration.metadata,
            });
            let client = call(
                &http,
                http.post(url(&link.base_url, "api/v2/clients"))
                    .bearer_auth(&token)
                    .json(&body),
                "client creation",
            )
            .await?;
            let client_id = client
                .get("client_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let client_secret = client
                .get("client_secret")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let granted: Vec<String> = registration
                .scopes
                .into_iter()
                .filter(|s| !OIDC_SCOPES.contains(&s.as_str()))
                .collect();
            let grant = json!({"client_id": client_id, "audience": registration.audience, "scope": granted});
            let granted_result = call(
                &http,
                http.post(url(&link.base_url, "api/v2/client-grants"))
                    .bearer_auth(&token)
                    .json(&grant),
                "client grant",
            )
            .await;
            if let Err(e) = granted_result {
                let _ = http
                    .delete(url(&link.base_url, &format!("api/v2/clients/{client_id}")))
                    .bearer_auth(&token)
                    .send()
                    .await;
                return Err(e);
            }
            Ok(Registered {
                client_id,
                client_secret,
                granted_scopes: granted,
            })
        })
    })
}

/// Deletes an application's client; a client already gone counts as deleted.
pub(crate) fn unregister(link: Auth0Link, client_id: String) -> Result<(), String> {
    blocking(move |http| {
        Box::pin(async move {
            let (token, _) = management_token(&http, &link).await?;
            let response = http
                .delete(url(&link.base_url, &format!("api/v2/clients/{client_id}")))
                .bearer_auth(&token)
                .send()
                .await
                .map_err(|e| format!("client deletion: {e}"))?;
            match response.status().as_u16() {
                200..=299 | 404 => Ok(()),
                status => Err(format!("client deletion: Auth0 answered {status}")),
            }
        })
    })
}
