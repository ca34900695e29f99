//! The whole DCR loop offline: Auth0 and Konnect set up by hand through the two clients,
//! a developer application created in the Konnect sandbox, which registers an Auth0 client
//! in the Auth0 sandbox; that client's token carries the right `azp`, `aud` and scope.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use auth0_mgmt::oauth::ClientCredentialsRequest;
use auth0_mgmt::{Audience, ClientId, ClientSecret};
use dcr_tests::{API_AUDIENCE, API_SCOPE, Sandboxes};
use konnect_appauth::resources::auth_strategies::{AuthStrategy, NewAuthStrategy, OidcConfig};
use konnect_appauth::resources::dcr_providers::{
    AUTH0_DCR_SCOPES, AUTH0_DEVELOPER_MANAGED_SCOPE, DcrConfigUpdate, DcrProvider, DcrProviderUpdate,
};
use konnect_appauth::resources::portal_applications::{NewApplication, Owner};
use secrecy::ExposeSecret;
use serde_json::Value;

async fn konnect_side(s: &Sandboxes, admin_id: &ClientId, admin_secret: &ClientSecret) -> (DcrProvider, AuthStrategy) {
    s.konnect_dcr_setup("auth0-sandbox", admin_id, admin_secret)
        .await
        .unwrap()
}

async fn verify_token(s: &Sandboxes, token: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(s.auth0.jwks()).unwrap();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[API_AUDIENCE]);
    validation.set_issuer(&[s.auth0.issuer()]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).unwrap().claims
}

#[tokio::test]
async fn a_portal_application_gets_an_auth0_client_whose_token_names_it() {
    let s = Sandboxes::start().await.unwrap();
    let (admin_id, admin_secret) = s.auth0_dcr_setup(&AUTH0_DCR_SCOPES).await.unwrap();
    let (provider, strategy) = konnect_side(&s, &admin_id, &admin_secret).await;

    let verdict = s.konnect_client.dcr_providers().verify(&provider.id).await.unwrap();
    assert!(verdict.is_success(), "{verdict:?}");

    let apps = s.konnect_client.portal_applications(s.konnect.portal_id());
    let created = apps
        .create(
            &NewApplication::new("Billing sync", Owner::developer(s.konnect.developer_id()))
                .auth_strategy(strategy.id.clone()),
        )
        .await
        .unwrap();
    let client_id = created
        .application
        .client_id
        .clone()
        .expect("a DCR application has a client id");
    let client_secret = created.client_secret.clone().expect("the secret is returned once");
    assert_eq!(
        created.application.dcr_provider.as_ref().map(|p| p.id.clone()),
        Some(provider.id.clone())
    );
    assert_eq!(
        created.application.granted_scopes.as_deref(),
        Some(&[API_SCOPE.to_owned()][..])
    );
    // Shown once: reading the application again gives the id, never the secret.
    let (status, body) = {
        let response = reqwest::Client::new()
            .get(format!(
                "{}/v3/portals/{}/applications/{}",
                s.konnect.uri(),
                s.konnect.portal_id(),
                created.application.id
            ))
            .bearer_auth(s.konnect.token().expose_secret())
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 200);
    assert_eq!(body["client_id"], client_id.as_str());
    assert!(body.get("client_secret").is_none());

    // The Auth0 client Konnect created carries the konnect_* metadata.
    let auth0_app = s
        .auth0_client
        .clients()
        .get(&ClientId::new(client_id.clone()))
        .await
        .unwrap();
    assert_eq!(auth0_app.name, "Billing sync");
    assert_eq!(
        auth0_app.metadata("konnect_application_id"),
        Some(created.application.id.as_str())
    );
    assert_eq!(
        auth0_app.metadata("konnect_portal_id"),
        Some(s.konnect.portal_id().as_str())
    );
    assert_eq!(auth0_app.metadata("konnect_org_id"), Some(s.konnect.org_id().as_str()));
    assert_eq!(
        auth0_app.metadata("konnect_developer_id"),
        Some(s.konnect.developer_id().as_str())
    );

    // The developer's token: client_credentials for the strategy's audience.
    let token = s
        .auth0_client
        .oauth()
        .client_credentials(&ClientCredentialsRequest::new(
            ClientId::new(client_id.clone()),
            ClientSecret::new(client_secret.expose_secret()),
            Audience::new(API_AUDIENCE),
        ))
        .await
        .unwrap();
    let claims = verify_token(&s, token.access_token.expose_secret()).await;
    assert_eq!(
        claims["azp"],
        client_id.as_str(),
        "the strategy's credential claim maps the token to the app"
    );
    assert_eq!(claims["aud"], API_AUDIENCE);
    assert_eq!(claims["scope"], API_SCOPE);

    // Deleting the application deletes its Auth0 client.
    apps.delete(&created.application.id).await.unwrap();
    assert!(s.auth0.client_state(&client_id).is_none());
    assert!(s.konnect.dcr_failures().is_empty());
}

#[tokio::test]
async fn verify_names_what_the_initial_client_lacks() {
    let s = Sandboxes::start().await.unwrap();
    let partial: Vec<&str> = AUTH0_DCR_SCOPES
        .iter()
        .copied()
        .filter(|s| *s != "update:client_keys")
        .collect();
    let (admin_id, admin_secret) = s.auth0_dcr_setup(&partial).await.unwrap();
    let (provider, _) = konnect_side(&s, &admin_id, &admin_secret).await;
    let verdict = s.konnect_client.dcr_providers().verify(&provider.id).await.unwrap();
    assert_eq!(verdict.status, "failed");
    assert_eq!(verdict.errors.len(), 1, "{:?}", verdict.errors);
    assert!(verdict.errors[0].contains("update:client_keys"));

    // Developer-managed scopes need read:resource_servers on top.
    s.konnect_client
        .dcr_providers()
        .update(
            &provider.id,
            &DcrProviderUpdate::new().dcr_config(DcrConfigUpdate::new().use_developer_managed_scopes(true)),
        )
        .await
        .unwrap();
    let verdict = s.konnect_client.dcr_providers().verify(&provider.id).await.unwrap();
    assert!(
        verdict.errors.iter().any(|e| e.contains(AUTH0_DEVELOPER_MANAGED_SCOPE)),
        "{verdict:?}"
    );

    // A wrong secret: no token at all, and Auth0's own words are passed on.
    s.konnect_client
        .dcr_providers()
        .update(
            &provider.id,
            &DcrProviderUpdate::new().dcr_config(DcrConfigUpdate::new().initial_client_secret("wrong")),
        )
        .await
        .unwrap();
    let verdict = s.konnect_client.dcr_providers().verify(&provider.id).await.unwrap();
    assert_eq!(verdict.status, "failed");
    assert!(verdict.errors[0].contains("401"), "{verdict:?}");
}

#[tokio::test]
async fn a_failed_registration_leaves_no_half_created_client() {
    let s = Sandboxes::start().await.unwrap();
    let (admin_id, admin_secret) = s.auth0_dcr_setup(&AUTH0_DCR_SCOPES).await.unwrap();
    let (provider, _) = konnect_side(&s, &admin_id, &admin_secret).await;
    // A strategy whose audience is no API in the tenant: the grant fails.
    let strategy = s
        .konnect_client
        .auth_strategies()
        .create(
            &NewAuthStrategy::openid_connect(
                "wrong-audience",
                "Wrong audience",
                OidcConfig::new(s.issuer(), ["azp"], ["openid", API_SCOPE], ["client_credentials"])
                    .audience("https://api.example.com/nope"),
            )
            .dcr_provider(provider.id.clone()),
        )
        .await
        .unwrap();
    let clients_before = s.auth0.client_count();
    let err = s
        .konnect_client
        .portal_applications(s.konnect.portal_id())
        .create(&NewApplication::new("Doomed", Owner::developer(s.konnect.developer_id())).auth_strategy(strategy.id))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("client grant"), "{err}");
    assert_eq!(
        s.auth0.client_count(),
        clients_before,
        "the client whose grant failed was deleted again"
    );
    assert!(s.konnect.applications().is_empty());
}

#[tokio::test]
async fn konnect_keeps_its_management_token_and_replaces_a_revoked_one() {
    let s = Sandboxes::start().await.unwrap();
    let (admin_id, admin_secret) = s.auth0_dcr_setup(&AUTH0_DCR_SCOPES).await.unwrap();
    let (_, strategy) = konnect_side(&s, &admin_id, &admin_secret).await;
    let apps = s.konnect_client.portal_applications(s.konnect.portal_id());
    let new_app = |name: &str| {
        NewApplication::new(name, Owner::developer(s.konnect.developer_id())).auth_strategy(strategy.id.clone())
    };
    let before = s.auth0.tokens_issued();
    let mut created = Vec::new();
    for i in 0..3 {
        created.push(apps.create(&new_app(&format!("app-{i}"))).await.unwrap().application.id);
    }
    assert_eq!(
        s.auth0.tokens_issued() - before,
        1,
        "one Management API token for three registrations"
    );

    // Tokens revoked (or expired early): the kept token is refused, a new one is fetched once.
    s.auth0.revoke_tokens();
    apps.delete(&created[0]).await.unwrap();
    assert_eq!(s.auth0.tokens_issued() - before, 2);
    assert!(s.konnect.dcr_failures().is_empty());
    apps.delete(&created[1]).await.unwrap();
    assert_eq!(s.auth0.tokens_issued() - before, 2, "the new token is kept in turn");
    assert_eq!(
        s.auth0.request_count("DELETE", "/api/v2/clients/{id}"),
        3,
        "one refused, two done"
    );
}

#[tokio::test]
async fn an_application_outliving_its_provider_leaves_a_recorded_orphan() {
    let s = Sandboxes::start().await.unwrap();
    let (admin_id, admin_secret) = s.auth0_dcr_setup(&AUTH0_DCR_SCOPES).await.unwrap();
    let (provider, strategy) = konnect_side(&s, &admin_id, &admin_secret).await;
    let apps = s.konnect_client.portal_applications(s.konnect.portal_id());
    let app = apps
        .create(
            &NewApplication::new("Orphan-to-be", Owner::developer(s.konnect.developer_id()))
                .auth_strategy(strategy.id.clone()),
        )
        .await
        .unwrap()
        .application;
    let client_id = app.client_id.clone().unwrap();
    // Tear the Konnect side down under the application.
    let api = s
        .konnect_client
        .apis()
        .find_by_name(dcr_tests::API_NAME)
        .await
        .unwrap()
        .unwrap();
    s.konnect_client
        .apis()
        .unpublish(&api.id, &konnect_appauth::PortalId::new(s.konnect.portal_id()))
        .await
        .unwrap();
    s.konnect_client.auth_strategies().delete(&strategy.id).await.unwrap();
    s.konnect_client.dcr_providers().delete(&provider.id).await.unwrap();

    apps.delete(&app.id).await.unwrap();
    assert!(
        s.auth0.client_state(&client_id).is_some(),
        "nobody could delete the Auth0 client"
    );
    let failures = s.konnect.dcr_failures();
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].starts_with(&client_id) && failures[0].contains("no longer exists"),
        "{failures:?}"
    );
}
