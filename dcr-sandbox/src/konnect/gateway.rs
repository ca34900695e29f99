//! A fake of Kong Gateway in front of a published API, configured from the sandbox's own
//! state (the API's publication and its auth strategy: no second configuration), at
//! `{sandbox}/gateway/{apiId or slug}/…` (the slug Konnect gives an API: its name and
//! version, lowercased, other characters as `-`, e.g. `orders-api`).
//!
//! What it enforces is what Kong's OpenID Connect plugin does with a Konnect DCR strategy:
//! - only the strategy's `auth_methods` are accepted: `bearer` (`Authorization: Bearer
//!   <jwt>`) and `client_credentials` (`Authorization: Basic base64(id:secret)`, which
//!   the gateway exchanges at the issuer's token endpoint for the strategy's audience,
//!   keeping the token per client until it expires);
//! - the token's signature (the issuer's discovery document and JWKS), `exp`, `iss` and
//!   the strategy's audience: 401 otherwise, with a body that says which;
//! - the credential claim (`azp`) must name an application whose registration for this
//!   API is approved: 403 otherwise, saying whether it is unknown, unregistered or which
//!   status its registration has.
//!
//! Its rules are Kong's documented behaviour, written here without the client's code.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use dcr_client_core::sandbox::{Reply, Request};
use serde_json::{Map, Value, json};

use super::server::Shared;
use super::store::str_of;

/// What the gateway keeps between requests: each issuer's JWKS, and the tokens it got
/// for Basic credentials.
#[derive(Default)]
pub(crate) struct GatewayCache {
    jwks: HashMap<String, jsonwebtoken::jwk::JwkSet>,
    tokens: HashMap<(String, String), (String, Instant)>,
    /// Token endpoint calls made, for tests of the cache.
    pub(crate) exchanges: usize,
}

/// A Kong-style answer: `{"message": …}`.
fn refuse(status: u16, message: impl Into<String>) -> Reply {
    let mut reply = Reply::json(status, json!({"message": message.into()}));
    if status == 401 {
        reply.headers.push((
            "www-authenticate",
            "Bearer realm=\"kong\", error=\"invalid_token\"".to_owned(),
        ));
    }
    reply
}

fn strings(oidc: &Map<String, Value>, key: &str) -> Vec<String> {
    oidc.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// How the caller presented credentials.
enum Presented {
    Bearer(String),
    Basic(String, String),
}

fn presented(request: &Request) -> Result<Presented, String> {
    let header = request
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .ok_or("no credentials: send Authorization: Bearer <token> or Basic <client_id:client_secret>")?;
    let (scheme, value) = header.split_once(' ').ok_or("malformed Authorization header")?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Presented::Bearer(value.trim().to_owned()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or("Basic credentials are not base64 of client_id:client_secret")?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or("Basic credentials are not client_id:client_secret")?;
        return Ok(Presented::Basic(id.to_owned(), secret.to_owned()));
    }
    Err(format!("unsupported Authorization scheme {scheme}"))
}

/// `url` with an issuer's origin replaced by the base URL that serves it (unchanged when
/// no route names it).
fn routed(routes: &HashMap<String, String>, url: &str) -> String {
    for (issuer, base) in routes {
        if let Some(rest) = url.strip_prefix(issuer.as_str()) {
            return format!("{}{rest}", base.trim_end_matches('/'));
        }
    }
    url.to_owned()
}

impl Shared {
    /// Answers a request sent through the gateway to `api`.
    pub(crate) fn gateway(&mut self, request: &Request, route: &str) -> Reply {
        let api_row = self.store.apis.get(route).cloned().or_else(|| {
            self.store
                .apis
                .iter_from(0)
                .map(|(_, a)| a)
                .find(|a| str_of(a, "slug") == Some(route))
                .cloned()
        });
        let Some(api_row) = api_row else {
            return refuse(404, "no Route matched with those values");
        };
        let api_name = str_of(&api_row, "name").unwrap_or_default().to_owned();
        let api_id = str_of(&api_row, "id").unwrap_or_default().to_owned();
        let api = api_id.as_str();
        let strategy_id = self.store.publications.iter_from(0).find_map(|(_, p)| {
            (str_of(p, "_api_id") == Some(api))
                .then(|| {
                    p.get("auth_strategy_ids")
                        .and_then(Value::as_array)
                        .and_then(|ids| ids.first())
                })
                .flatten()
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let Some(strategy_id) = strategy_id else {
            return refuse(
                404,
                "no Route matched with those values (the API is not published with an auth strategy)",
            );
        };
        let Some(strategy) = self.store.strategies.get(&strategy_id).cloned() else {
            return refuse(500, "the API's auth strategy does not exist");
        };
        let Some(oidc) = strategy
            .get("configs")
            .and_then(|c| c.get("openid-connect"))
            .and_then(Value::as_object)
            .cloned()
        else {
            return refuse(501, "the sandbox gateway serves openid_connect strategies only");
        };
        let methods = strings(&oidc, "auth_methods");
        let issuer = str_of(&oidc, "issuer")
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned();
        let audience = super::rules::audience_in(&oidc).map(str::to_owned);
        let claim = strings(&oidc, "credential_claim")
            .into_iter()
            .next()
            .unwrap_or_else(|| "sub".to_owned());
        let (token, method) = match presented(request) {
            Err(reason) => return refuse(401, reason),
            Ok(Presented::Bearer(token)) => {
                if !methods.iter().any(|m| m == "bearer") {
                    return refuse(401, "the auth method bearer is not enabled for this API");
                }
                (token, "bearer")
            }
            Ok(Presented::Basic(id, secret)) => {
                if !methods.iter().any(|m| m == "client_credentials") {
                    return refuse(401, "the auth method client_credentials is not enabled for this API");
                }
                match self.exchange(&issuer, &id, &secret, audience.as_deref()) {
                    Ok(token) => (token, "client_credentials"),
                    Err(reason) => return refuse(401, reason),
                }
            }
        };
        let claims = match self.checked_claims(&issuer, &token) {
            Ok(claims) => claims,
            Err(reason) => return refuse(401, reason),
        };
        if let Some(audience) = &audience {
            let has = match &claims["aud"] {
                Value::String(a) => a == audience,
                Value::Array(list) => list.iter().any(|a| a.as_str() == Some(audience.as_str())),
                _ => false,
            };
            if !has {
                return refuse(
                    401,
                    format!(
                        "invalid audience: the token is for {}, this API wants {audience}",
                        claims["aud"]
                    ),
                );
            }
        }
        let Some(client_id) = claims.get(&claim).and_then(Value::as_str).map(str::to_owned) else {
            return refuse(
                403,
                format!("the token has no {claim} claim to find the application by"),
            );
        };
        match self.store.gateway_access(api, &client_id) {
            Ok(application) => Reply::json(
                200,
                json!({
                    "api": {"id": api, "name": api_name},
                    "application_id": application,
                    "client_id": client_id,
                    "auth_method": method,
                    "path": request.url.path(),
                }),
            ),
            Err(reason) => refuse(403, reason),
        }
    }

    /// A token for Basic credentials: kept per client until shortly before it expires.
    fn exchange(&mut self, issuer: &str, id: &str, secret: &str, audience: Option<&str>) -> Result<String, String> {
        let key = (id.to_owned(), secret.to_owned());
        if let Some((token, until)) = self.gateway_cache.tokens.get(&key)
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let url = routed(&self.issuer_routes, &format!("{issuer}/oauth/token"));
        let mut body = json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret});
        if let Some(audience) = audience {
            body["audience"] = json!(audience);
        }
        self.gateway_cache.exchanges += 1;
        let answer = super::helper::run(move |http| {
            Box::pin(async move {
                let response = http.post(&url).json(&body).send().await.map_err(|e| e.to_string())?;
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                Ok::<_, String>((status, body))
            })
        });
        let (status, body) = answer
            .and_then(|r| r)
            .map_err(|e| format!("the identity provider could not be reached: {e}"))?;
        if status != 200 {
            let said = body
                .get("error_description")
                .or_else(|| body.get("error"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Err(format!(
                "the identity provider refused the client credentials ({status}: {said})"
            ));
        }
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or("the identity provider returned no access_token")?
            .to_owned();
        let lifetime = Duration::from_secs(body.get("expires_in").and_then(Value::as_u64).unwrap_or(0));
        let until = Instant::now() + lifetime.saturating_sub(Duration::from_secs(60).min(lifetime / 2));
        self.gateway_cache.tokens.insert(key, (token.clone(), until));
        Ok(token)
    }

    /// The issuer's keys, from its discovery document's `jwks_uri`.
    fn fetch_jwks(&self, issuer: &str) -> Result<jsonwebtoken::jwk::JwkSet, String> {
        let discovery = routed(
            &self.issuer_routes,
            &format!("{issuer}/.well-known/openid-configuration"),
        );
        let routes = self.issuer_routes.clone();
        let fetched = super::helper::run(move |http| {
            Box::pin(async move {
                let get = |url: String| {
                    let http = http.clone();
                    async move {
                        let response = http.get(&url).send().await.map_err(|e| format!("{url}: {e}"))?;
                        if !response.status().is_success() {
                            return Err(format!("{url} answered {}", response.status()));
                        }
                        response.json::<Value>().await.map_err(|e| format!("{url}: {e}"))
                    }
                };
                let document = get(discovery).await?;
                let jwks_uri = document
                    .get("jwks_uri")
                    .and_then(Value::as_str)
                    .ok_or("the discovery document has no jwks_uri")?;
                get(routed(&routes, jwks_uri)).await
            })
        });
        let jwks = fetched.and_then(|r| r)?;
        serde_json::from_value(jwks).map_err(|e| format!("the JWKS does not decode: {e}"))
    }

    /// Checks signature, `exp` and `iss`; returns the claims.
    fn checked_claims(&mut self, issuer: &str, token: &str) -> Result<Value, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| "the bearer token is not a JWT".to_owned())?;
        let kid = header.kid.ok_or("the token names no signing key (kid)")?;
        // A kid not in the kept set may be a rotated key: fetch the set once more.
        let known = self
            .gateway_cache
            .jwks
            .get(issuer)
            .is_some_and(|set| set.find(&kid).is_some());
        if !known {
            let jwks = self
                .fetch_jwks(issuer)
                .map_err(|e| format!("the issuer's keys could not be fetched: {e}"))?;
            self.gateway_cache.jwks.insert(issuer.to_owned(), jwks);
        }
        let jwk = self
            .gateway_cache
            .jwks
            .get(issuer)
            .and_then(|set| set.find(&kid))
            .ok_or_else(|| format!("the token's key {kid} is not one of the issuer's"))?;
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| format!("the issuer's key is unusable: {e}"))?;
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iss"]);
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| format!("the token is not valid: {e}"))?;
        let iss = claims["iss"].as_str().unwrap_or_default();
        if iss.trim_end_matches('/') != issuer {
            return Err(format!(
                "the token's issuer {iss} is not the strategy's issuer {issuer}"
            ));
        }
        Ok(claims)
    }
}
