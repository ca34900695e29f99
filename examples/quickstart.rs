//! The main job: set up the Auth0 side of Konnect Dev Portal DCR and prove it works.
//!
//! With no `AUTH0_*` variables set it runs against the embedded Auth0 sandbox; with
//! `AUTH0_DOMAIN` plus `AUTH0_CLIENT_ID`/`AUTH0_CLIENT_SECRET` (or `AUTH0_MANAGEMENT_TOKEN`)
//! it runs against that tenant. Steps, each idempotent (found by name/identifier first):
//!
//! 1. the "Konnect Portal DCR Admin" M2M application with a Management API grant holding
//!    exactly the scopes Konnect's DCR needs;
//! 2. the API (resource server) whose identifier is the audience portal apps get tokens for;
//! 3. verification: acting as Konnect with the admin app's credentials, create an Auth0
//!    client with `konnect_*` metadata and a grant to the audience, fetch a token with
//!    client_credentials, check its signature (JWKS) and `iss`/`aud`/`azp`/`scope`, clean up.
//!
//! The Konnect half (DCR provider, auth strategy, publication) joins once `konnect-appauth`
//! and `dcr-workflow` land.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use anyhow::{Context, bail};
use auth0_mgmt::oauth::ClientCredentialsRequest;
use auth0_mgmt::resources::client_grants::{ClientGrantUpdate, NewClientGrant};
use auth0_mgmt::resources::clients::{Client, NewClient};
use auth0_mgmt::resources::resource_servers::{NewResourceServer, ResourceServerScope};
use auth0_mgmt::sandbox::Auth0Sandbox;
use auth0_mgmt::{Auth0Client, ClientSecret};
use futures::TryStreamExt;
use secrecy::SecretString;
use serde_json::Value;

const ADMIN_APP_NAME: &str = "Konnect Portal DCR Admin";
const DCR_SCOPES: [&str; 9] = [
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .init();
    let started = Instant::now();
    let audience = std::env::var("DCR_API_AUDIENCE").unwrap_or_else(|_| "https://api.example.com/orders".into());

    let (sandbox, auth0) = match std::env::var("AUTH0_DOMAIN") {
        Ok(domain) => {
            println!("Using the Auth0 tenant {domain}");
            let builder = Auth0Client::builder().domain(&domain);
            let builder = match (
                std::env::var("AUTH0_MANAGEMENT_TOKEN"),
                std::env::var("AUTH0_CLIENT_ID"),
            ) {
                (Ok(token), _) => builder.management_token(SecretString::from(token)),
                (_, Ok(id)) => {
                    let secret = std::env::var("AUTH0_CLIENT_SECRET")
                        .context("AUTH0_CLIENT_SECRET is required with AUTH0_CLIENT_ID")?;
                    builder.client_credentials(id, ClientSecret::new(secret))
                }
                _ => bail!("set AUTH0_CLIENT_ID + AUTH0_CLIENT_SECRET or AUTH0_MANAGEMENT_TOKEN with AUTH0_DOMAIN"),
            };
            let builder = match std::env::var("AUTH0_BASE_URL") {
                Ok(url) => builder.base_url(url),
                Err(_) => builder,
            };
            (None, builder.build()?)
        }
        Err(_) => {
            let sandbox = Auth0Sandbox::start().await?;
            println!(
                "No AUTH0_DOMAIN set: using the embedded Auth0 sandbox at {} ({})",
                sandbox.uri(),
                sandbox.domain()
            );
            let client = sandbox.client()?;
            (Some(sandbox), client)
        }
    };

    // 1. The DCR admin application and its Management API grant.
    let admin = find_or_create_admin(&auth0).await?;
    let management_audience = auth0.audience().clone();
    match auth0
        .client_grants()
        .find(&admin.client_id, &management_audience)
        .await?
    {
        None => {
            auth0
                .client_grants()
                .create(&NewClientGrant::new(
                    admin.client_id.clone(),
                    management_audience.clone(),
                    DCR_SCOPES,
                ))
                .await?;
            println!(
                "  + grant {ADMIN_APP_NAME} -> Management API ({} scopes)",
                DCR_SCOPES.len()
            );
        }
        Some(grant) if sorted(&grant.scope) != sorted(&DCR_SCOPES) => {
            auth0
                .client_grants()
                .update(&grant.id, &ClientGrantUpdate::new().scope(DCR_SCOPES))
                .await?;
            println!("  ~ grant {ADMIN_APP_NAME}: scopes corrected");
        }
        Some(_) => println!("  = grant {ADMIN_APP_NAME} -> Management API"),
    }

    // 2. The API audience.
    match auth0.resource_servers().get_opt(&audience).await? {
        Some(_) => println!("  = API {audience}"),
        None => {
            auth0
                .resource_servers()
                .create(
                    &NewResourceServer::new(audience.as_str())
                        .name("Orders API (Konnect portal)")
                        .scopes([ResourceServerScope::new("read:orders", "Read orders")]),
                )
                .await?;
            println!("  + API {audience}");
        }
    }

    // 3. Verify: do what Konnect does for a developer, with the admin app's credentials.
    let admin_secret = match admin.client_secret.clone() {
        Some(secret) => secret,
        None => auth0.clients().get(&admin.client_id).await?.client_secret.context(
            "the admin app's secret is not readable (needs read:client_keys); the workflow crate keeps it in a secret store",
        )?,
    };
    let as_konnect = Auth0Client::builder()
        .domain(auth0.domain())
        .base_url(auth0.base_url().as_str())
        .client_credentials(admin.client_id.clone(), admin_secret)
        .build()?;
    let app = as_konnect
        .clients()
        .create(
            &NewClient::machine_to_machine("quickstart developer app")
                .metadata("konnect_portal_id", "quickstart-portal")
                .metadata("konnect_developer_id", "quickstart-developer")
                .metadata("konnect_org_id", "quickstart-org")
                .metadata("konnect_application_id", "quickstart-application"),
        )
        .await?;
    as_konnect
        .client_grants()
        .create(&NewClientGrant::new(
            app.client_id.clone(),
            audience.as_str(),
            ["read:orders"],
        ))
        .await?;
    let secret = app.client_secret.clone().context("a confidential app has a secret")?;
    let token = as_konnect
        .oauth()
        .client_credentials(&ClientCredentialsRequest::new(
            app.client_id.clone(),
            secret,
            audience.as_str(),
        ))
        .await?;
    let claims = verify_token(&auth0, token.access_token.expose_secret(), &audience).await?;
    let azp_ok = claims["azp"] == app.client_id.as_str();
    println!(
        "  ✓ token for {}: azp={} aud={} scope={} (signature checked against the JWKS)",
        app.client_id, claims["azp"], claims["aud"], claims["scope"]
    );
    as_konnect.clients().delete(&app.client_id).await?;
    println!("  - removed the verification app");
    if !azp_ok {
        bail!("azp {} is not the client id {}", claims["azp"], app.client_id);
    }

    if let Some(sandbox) = &sandbox {
        println!(
            "Done in {:.2?}: {} requests ({} writes), {} tokens issued.",
            started.elapsed(),
            sandbox.requests().len(),
            sandbox.write_count(),
            sandbox.tokens_issued()
        );
    } else {
        println!("Done in {:.2?}.", started.elapsed());
    }
    Ok(())
}

async fn find_or_create_admin(auth0: &Auth0Client) -> anyhow::Result<Client> {
    let mut apps = std::pin::pin!(auth0.clients().list().stream());
    while let Some(app) = apps.try_next().await? {
        if app.name == ADMIN_APP_NAME {
            println!("  = application {ADMIN_APP_NAME} ({})", app.client_id);
            return Ok(app);
        }
    }
    let app = auth0
        .clients()
        .create(
            &NewClient::machine_to_machine(ADMIN_APP_NAME)
                .description("Konnect Dev Portal dynamic client registration"),
        )
        .await?;
    println!("  + application {ADMIN_APP_NAME} ({})", app.client_id);
    Ok(app)
}

fn sorted<S: AsRef<str>>(scopes: &[S]) -> Vec<String> {
    let mut v: Vec<String> = scopes.iter().map(|s| s.as_ref().to_owned()).collect();
    v.sort();
    v
}

/// Checks the token's signature with the tenant's JWKS and returns its claims.
async fn verify_token(auth0: &Auth0Client, token: &str, audience: &str) -> anyhow::Result<Value> {
    let jwks_url = auth0.base_url().join(".well-known/jwks.json")?;
    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(jwks_url).await?.error_for_status()?.json().await?;
    let header = jsonwebtoken::decode_header(token)?;
    let kid = header.kid.context("token has no kid")?;
    let jwk = jwks.find(&kid).context("kid not in the JWKS")?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[format!("https://{}/", auth0.domain())]);
    let data = jsonwebtoken::decode::<Value>(token, &jsonwebtoken::DecodingKey::from_jwk(jwk)?, &validation)?;
    Ok(data.claims)
}
