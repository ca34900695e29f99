//! The main job: set up Konnect Dev Portal DCR with Auth0 and prove it works.
//!
//! With no `AUTH0_*` variables set it runs against the embedded Auth0 sandbox; with
//! `AUTH0_DOMAIN` plus `AUTH0_CLIENT_ID`/`AUTH0_CLIENT_SECRET` (or `AUTH0_MANAGEMENT_TOKEN`)
//! it runs against that tenant. Likewise `KONNECT_TOKEN` + `KONNECT_PORTAL_ID` (and
//! `KONNECT_REGION` or `KONNECT_BASE_URL`) select a real Konnect organization; without them
//! the embedded Konnect sandbox is used, and it performs DCR against the Auth0 tenant in use.
//! Steps, each idempotent (found by name/identifier first):
//!
//! 1. the "Konnect Portal DCR Admin" M2M application with a Management API grant holding
//!    exactly the scopes Konnect's DCR needs;
//! 2. the API (resource server) whose identifier is the audience portal apps get tokens for;
//! 3. the Konnect DCR provider (type auth0) using the admin application;
//! 4. the openid_connect auth strategy using that provider;
//! 5. the API published on the portal with that strategy;
//! 6. verification: Konnect's provider check, then a portal application is created, which
//!    makes Konnect register an Auth0 client; its token (client_credentials for the
//!    audience) is checked (JWKS signature, `iss`/`aud`/`azp`/`scope`) and the application
//!    removed. Against a real Konnect without `KONNECT_DEVELOPER_ID`, the quickstart does
//!    Konnect's part itself with the admin credentials instead.
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
use konnect_appauth::resources::apis::{NewApi, PublicationRequest, Visibility};
use konnect_appauth::resources::auth_strategies::{
    AuthStrategy, AuthStrategyUpdate, NewAuthStrategy, OidcConfig, OidcConfigUpdate,
};
use konnect_appauth::resources::dcr_providers::{
    DcrConfig, DcrConfigUpdate, DcrProvider, DcrProviderUpdate, NewDcrProvider,
};
use konnect_appauth::resources::portal_applications::{NewApplication, Owner};
use konnect_appauth::sandbox::KonnectSandbox;
use konnect_appauth::{KonnectClient, PortalId, Region};
use secrecy::SecretString;
use serde_json::Value;

const ADMIN_APP_NAME: &str = "Konnect Portal DCR Admin";
const PROVIDER_NAME: &str = "auth0-dcr";
const STRATEGY_NAME: &str = "auth0-client-credentials";
const API_NAME: &str = "Orders API";
const API_SCOPE: &str = "read:orders";
/// Exactly what Konnect's DCR needs from the admin application.
const DCR_SCOPES: [&str; 9] = konnect_appauth::resources::dcr_providers::AUTH0_DCR_SCOPES;

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
                        .scopes([ResourceServerScope::new(API_SCOPE, "Read orders")]),
                )
                .await?;
            println!("  + API {audience}");
        }
    }

    let admin_secret = match admin.client_secret.clone() {
        Some(secret) => secret,
        None => auth0.clients().get(&admin.client_id).await?.client_secret.context(
            "the admin app's secret is not readable (needs read:client_keys); the workflow crate keeps it in a secret store",
        )?,
    };

    // 3-5. The Konnect side.
    let issuer = format!("https://{}", auth0.domain());
    let (konnect_sandbox, konnect, portal, developer) = match std::env::var("KONNECT_TOKEN") {
        Ok(token) => {
            let portal =
                std::env::var("KONNECT_PORTAL_ID").context("KONNECT_PORTAL_ID is required with KONNECT_TOKEN")?;
            let builder = KonnectClient::builder().token(token);
            let builder = match (std::env::var("KONNECT_BASE_URL"), std::env::var("KONNECT_REGION")) {
                (Ok(url), _) => builder.base_url(url),
                (_, Ok(region)) => builder.region(region.parse::<Region>()?),
                _ => builder,
            };
            let konnect = builder.build()?;
            println!("Using the Konnect organization at {}", konnect.base_url());
            (
                None,
                konnect,
                PortalId::new(portal),
                std::env::var("KONNECT_DEVELOPER_ID").ok(),
            )
        }
        Err(_) => {
            let sandbox = KonnectSandbox::builder()
                .route_issuer(&issuer, auth0.base_url().as_str().trim_end_matches('/'))
                .start()
                .await?;
            println!(
                "No KONNECT_TOKEN set: using the embedded Konnect sandbox at {}",
                sandbox.uri()
            );
            let konnect = sandbox.client()?;
            let (portal, developer) = (sandbox.portal_id(), sandbox.developer_id());
            (Some(sandbox), konnect, portal, Some(developer))
        }
    };
    let provider = ensure_provider(&konnect, &issuer, &admin.client_id, &admin_secret).await?;
    let strategy = ensure_strategy(&konnect, &issuer, &provider, &audience).await?;
    ensure_publication(&konnect, &portal, &strategy).await?;

    // 6. Verify.
    let verdict = konnect.dcr_providers().verify(&provider.id).await?;
    if !verdict.is_success() {
        bail!(
            "Konnect cannot use the DCR admin application: {}",
            verdict.errors.join("; ")
        );
    }
    println!("  ✓ Konnect verified the DCR provider");
    let (client_id, secret, cleanup) = match &developer {
        Some(developer) => {
            let apps = konnect.portal_applications(portal.clone());
            let created = apps
                .create(
                    &NewApplication::new("quickstart developer app", Owner::developer(developer))
                        .auth_strategy(strategy.id.clone()),
                )
                .await?;
            let client_id = created
                .application
                .client_id
                .clone()
                .context("Konnect returned no client id")?;
            let secret = created
                .client_secret
                .clone()
                .context("Konnect returned no client secret")?;
            println!(
                "  + portal application {} -> Auth0 client {client_id}",
                created.application.id
            );
            (
                client_id,
                ClientSecret::from(secret),
                Cleanup::Application(apps, created.application.id),
            )
        }
        None => {
            // Do Konnect's part directly: a client with konnect_* metadata and a grant.
            let as_konnect = Auth0Client::builder()
                .domain(auth0.domain())
                .base_url(auth0.base_url().as_str())
                .client_credentials(admin.client_id.clone(), admin_secret.clone())
                .build()?;
            let app = as_konnect
                .clients()
                .create(
                    &NewClient::machine_to_machine("quickstart developer app")
                        .metadata("konnect_portal_id", portal.as_str())
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
                    [API_SCOPE],
                ))
                .await?;
            let secret = app.client_secret.clone().context("a confidential app has a secret")?;
            println!("  + Auth0 client {} (as Konnect would create it)", app.client_id);
            (
                app.client_id.to_string(),
                secret,
                Cleanup::Auth0(as_konnect, app.client_id),
            )
        }
    };
    let token = auth0
        .oauth()
        .client_credentials(&ClientCredentialsRequest::new(
            client_id.as_str(),
            secret,
            audience.as_str(),
        ))
        .await?;
    let claims = verify_token(&auth0, token.access_token.expose_secret(), &audience).await?;
    let azp_ok = claims["azp"] == client_id.as_str();
    println!(
        "  ✓ token for {client_id}: azp={} aud={} scope={} (signature checked against the JWKS)",
        claims["azp"], claims["aud"], claims["scope"]
    );
    match cleanup {
        Cleanup::Application(apps, id) => apps.delete(&id).await?,
        Cleanup::Auth0(client, id) => client.clients().delete(&id).await?,
    }
    println!("  - removed the verification app");
    if !azp_ok {
        bail!("azp {} is not the client id {client_id}", claims["azp"]);
    }
    if let Some(konnect_sandbox) = &konnect_sandbox {
        println!(
            "Konnect sandbox: {} requests ({} writes).",
            konnect_sandbox.requests().len(),
            konnect_sandbox.write_count()
        );
    }

    if let Some(sandbox) = &sandbox {
        println!(
            "Done in {:.2?}. Auth0 sandbox: {} requests ({} writes), {} tokens issued.",
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

/// What the verification created and must remove.
enum Cleanup {
    Application(
        konnect_appauth::resources::portal_applications::PortalApplications,
        konnect_appauth::ApplicationId,
    ),
    Auth0(Auth0Client, auth0_mgmt::ClientId),
}

/// The DCR provider, found by name; the admin credentials are sent when it is created or
/// when its client id changed (the secret itself is write-only and cannot be compared).
async fn ensure_provider(
    konnect: &KonnectClient,
    issuer: &str,
    admin_id: &auth0_mgmt::ClientId,
    admin_secret: &ClientSecret,
) -> anyhow::Result<DcrProvider> {
    let secret = || SecretString::from(admin_secret.expose_secret().to_owned());
    match konnect.dcr_providers().find_by_name(PROVIDER_NAME).await? {
        None => {
            let provider = konnect
                .dcr_providers()
                .create(
                    &NewDcrProvider::auth0(PROVIDER_NAME, issuer, admin_id.as_str(), secret())
                        .display_name("Auth0")
                        .label("managed-by", "dcr-rs"),
                )
                .await?;
            println!("  + DCR provider {PROVIDER_NAME} ({})", provider.id);
            Ok(provider)
        }
        Some(provider) => {
            let same_client =
                matches!(&provider.config, DcrConfig::Auth0(c) if c.initial_client_id == admin_id.as_str());
            if provider.issuer.trim_end_matches('/') == issuer && same_client {
                println!("  = DCR provider {PROVIDER_NAME}");
                return Ok(provider);
            }
            let updated = konnect
                .dcr_providers()
                .update(
                    &provider.id,
                    &DcrProviderUpdate::new().for_auth0().issuer(issuer).dcr_config(
                        DcrConfigUpdate::new()
                            .initial_client_id(admin_id.as_str())
                            .initial_client_secret(secret()),
                    ),
                )
                .await?;
            println!("  ~ DCR provider {PROVIDER_NAME}: issuer/initial client corrected");
            Ok(updated)
        }
    }
}

/// The openid_connect strategy, found by name; drifted settings are corrected.
async fn ensure_strategy(
    konnect: &KonnectClient,
    issuer: &str,
    provider: &DcrProvider,
    audience: &str,
) -> anyhow::Result<AuthStrategy> {
    let scopes = ["openid", API_SCOPE];
    let methods = ["client_credentials", "bearer", "session"];
    let wanted = OidcConfig::new(issuer, ["azp"], scopes, methods).audience(audience);
    match konnect.auth_strategies().find_by_name(STRATEGY_NAME).await? {
        None => {
            let strategy = konnect
                .auth_strategies()
                .create(
                    &NewAuthStrategy::openid_connect(STRATEGY_NAME, "Auth0 client credentials", wanted)
                        .dcr_provider(provider.id.clone())
                        .label("managed-by", "dcr-rs"),
                )
                .await?;
            println!("  + auth strategy {STRATEGY_NAME} ({})", strategy.id);
            Ok(strategy)
        }
        Some(strategy) => {
            let same_provider = strategy.dcr_provider.as_ref().is_some_and(|p| p.id == provider.id);
            if strategy.config.as_openid_connect() == Some(&wanted) && same_provider {
                println!("  = auth strategy {STRATEGY_NAME}");
                return Ok(strategy);
            }
            let updated = konnect
                .auth_strategies()
                .update(
                    &strategy.id,
                    &AuthStrategyUpdate::new()
                        .dcr_provider(Some(provider.id.clone()))
                        .openid_connect(
                            OidcConfigUpdate::new()
                                .issuer(issuer)
                                .credential_claim(["azp"])
                                .scopes(scopes)
                                .auth_methods(methods)
                                .audience(audience),
                        ),
                )
                .await?;
            println!("  ~ auth strategy {STRATEGY_NAME}: settings corrected");
            Ok(updated)
        }
    }
}

/// The API, found by name, published on the portal with the strategy.
async fn ensure_publication(konnect: &KonnectClient, portal: &PortalId, strategy: &AuthStrategy) -> anyhow::Result<()> {
    let api = match konnect.apis().find_by_name(API_NAME).await? {
        Some(api) => {
            println!("  = API {API_NAME} in Konnect");
            api
        }
        None => {
            let api = konnect
                .apis()
                .create(&NewApi::new(API_NAME).label("managed-by", "dcr-rs"))
                .await?;
            println!("  + API {API_NAME} in Konnect ({})", api.id);
            api
        }
    };
    let current = konnect.apis().publication(&api.id, portal).await?;
    if current.is_some_and(|p| p.auth_strategy_ids.as_deref() == Some(std::slice::from_ref(&strategy.id))) {
        println!("  = publication of {API_NAME} on portal {portal}");
        return Ok(());
    }
    konnect
        .apis()
        .publish(
            &api.id,
            portal,
            &PublicationRequest::new()
                .auth_strategy(strategy.id.clone())
                .visibility(Visibility::Public),
        )
        .await?;
    println!("  + publication of {API_NAME} on portal {portal} with {STRATEGY_NAME}");
    Ok(())
}
