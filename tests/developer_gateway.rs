//! The developer side of the Konnect sandbox and its gateway, driven through the typed
//! developer client: sign-in and its session, a developer's own applications, their
//! registrations for APIs, and what the gateway lets through (and why it refuses).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dcr_workflow::sandbox::KonnectSandboxClients as _;
use std::sync::Arc;

use auth0_mgmt::oauth::ClientCredentialsRequest;
use auth0_mgmt::{ClientId, ClientSecret};
use dcr_tests::{API_AUDIENCE, Sandboxes};
use dcr_workflow::store::MemoryStore;
use konnect_appauth::developer::{DeveloperClient, NewDeveloperApplication, RegistrationStatus};
use konnect_appauth::resources::auth_strategies::{AuthStrategyUpdate, OidcConfigUpdate};
use konnect_appauth::resources::portal_applications::{NewApplication, Owner};
use konnect_appauth::{ApiId, ApplicationId, AuthStrategyId};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// Both sandboxes, converged on the standard configuration (one API, published without
/// auto-approval), with the developer's client and the API's gateway route.
struct Setup {
    s: Sandboxes,
    developer: DeveloperClient,
    strategy: AuthStrategyId,
    api: ApiId,
    gateway: String,
}

async fn setup() -> Setup {
    let s = Sandboxes::start().await.unwrap();
    let workflow = s.workflow(Arc::new(MemoryStore::new())).unwrap();
    let applied = workflow.converge().await.unwrap();
    let developer = s.konnect.developer_client(&s.konnect.portal_id()).unwrap();
    let strategy = AuthStrategyId::new(s.konnect.auth_strategies()[0]["id"].as_str().unwrap());
    let api = applied.api_id.clone().unwrap();
    let gateway = s.konnect.gateway_url(api.as_str());
    Setup {
        s,
        developer,
        strategy,
        api,
        gateway,
    }
}

/// An application of the developer's for the strategy: id, client id, secret.
async fn application(setup: &Setup, name: &str) -> (ApplicationId, String, SecretString) {
    let created = setup
        .developer
        .applications()
        .create(&NewDeveloperApplication::new(name).auth_strategy(setup.strategy.clone()))
        .await
        .unwrap();
    (
        created.application.id,
        created.application.client_id.unwrap(),
        created.client_secret.unwrap(),
    )
}

/// Registers the application for the API (pending: no auto-approval) and approves it
/// through the admin API.
async fn register_and_approve(setup: &Setup, id: &ApplicationId) {
    let registration = setup.developer.registrations(id).create(&setup.api).await.unwrap();
    setup
        .s
        .konnect_client
        .portal_applications(setup.s.konnect.portal_id())
        .registrations(id)
        .approve(&registration.id)
        .await
        .unwrap();
}

async fn token(setup: &Setup, client_id: &str, secret: &SecretString, audience: &str) -> String {
    let oauth = setup.s.auth0_client.oauth();
    let request = ClientCredentialsRequest::new(
        client_id,
        ClientSecret::from(SecretString::from(secret.expose_secret().to_owned())),
        audience,
    );
    oauth
        .client_credentials(&request)
        .await
        .unwrap()
        .access_token
        .expose_secret()
        .to_owned()
}

/// Status and `message` of a gateway answer.
async fn call(request: reqwest::RequestBuilder) -> (u16, String) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["message"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_no_request_is_authorized() {
    let setup = setup().await;
    let portal = konnect_appauth::PortalId::new(setup.s.konnect.portal_id());
    let wrong = DeveloperClient::builder()
        .portal_url(setup.s.konnect.portal_url(portal.as_str()))
        .credentials(setup.s.konnect.developer_email(), "not-the-password")
        .build()
        .unwrap();
    let err = wrong.sign_in().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    // A request signs in by itself, and fails the same way.
    let err = wrong.me().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert!(!format!("{wrong:?}").contains("not-the-password"));
    // Every setting is checked before anything is sent.
    for (builder, field) in [
        (
            DeveloperClient::builder().credentials("dev@example.com", "pw"),
            "portal_url",
        ),
        (
            DeveloperClient::builder()
                .portal_url("http://127.0.0.1:9")
                .credentials("not-an-email", "pw"),
            "email",
        ),
        (
            DeveloperClient::builder()
                .portal_url("http://127.0.0.1:9")
                .credentials("dev@example.com", ""),
            "password",
        ),
        (
            DeveloperClient::builder()
                .portal_url("ftp://x")
                .credentials("dev@example.com", "pw"),
            "portal_url",
        ),
    ] {
        let err = builder.build().unwrap_err().to_string();
        assert!(err.contains(field), "{err}");
    }
}

#[tokio::test]
async fn an_expired_session_is_refreshed_once_and_a_revoked_one_signs_in_again() {
    let setup = setup().await;
    let k = &setup.s.konnect;
    let me = setup.developer.me().await.unwrap();
    assert_eq!(me.email, k.developer_email());
    assert_eq!(k.request_count("POST", "/api/v3/developer/authenticate"), 1);

    k.expire_developer_sessions();
    setup.developer.me().await.unwrap();
    assert_eq!(k.request_count("POST", "/api/v3/developer/refresh"), 1);
    assert_eq!(
        k.request_count("POST", "/api/v3/developer/authenticate"),
        1,
        "no new sign-in"
    );

    k.revoke_developer_sessions();
    setup.developer.me().await.unwrap();
    assert_eq!(
        k.request_count("POST", "/api/v3/developer/refresh"),
        2,
        "the refresh was tried"
    );
    assert_eq!(
        k.request_count("POST", "/api/v3/developer/authenticate"),
        2,
        "then a sign-in"
    );
}

#[tokio::test]
async fn a_developer_application_gets_a_dcr_client_and_sees_only_its_own() {
    let setup = setup().await;
    let (id, client_id, secret) = application(&setup, "my app").await;
    // Konnect registered an Auth0 client with the application's konnect_* metadata.
    let client = setup
        .s
        .auth0
        .clients()
        .into_iter()
        .find(|c| c["client_id"] == client_id.as_str())
        .expect("the Auth0 client exists");
    assert_eq!(client["client_metadata"]["konnect_application_id"], id.as_str());
    assert_eq!(
        client["client_metadata"]["konnect_developer_id"],
        setup.s.konnect.developer_id().as_str()
    );
    // The secret is shown once: reads never carry it.
    let read = setup.developer.applications().get(&id).await.unwrap();
    assert_eq!(read.client_id.as_deref(), Some(client_id.as_str()));
    assert_eq!(
        setup.developer.applications().granted_scopes(&id).await.unwrap(),
        vec![dcr_tests::API_SCOPE.to_owned()]
    );
    // Another developer's application (made through the admin API) is not theirs: 404.
    let other = setup
        .s
        .konnect_client
        .portal_applications(setup.s.konnect.portal_id())
        .create(
            &NewApplication::new(
                "someone else's",
                Owner::developer("11111111-1111-4111-8111-111111111111"),
            )
            .auth_strategy(setup.strategy.clone()),
        )
        .await
        .unwrap();
    let err = setup
        .developer
        .applications()
        .get(&other.application.id)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let mine: Vec<_> = setup.developer.applications().list().send().await.unwrap().items;
    assert_eq!(mine.len(), 1);
    // The developer API's lists page and filter like the admin API's.
    let (second, _, _) = application(&setup, "my second app").await;
    let paged: Vec<_> = futures::TryStreamExt::try_collect(setup.developer.applications().list().page_size(1).stream())
        .await
        .unwrap();
    assert_eq!(paged.len(), 2);
    assert_eq!(
        setup.s.konnect.request_count("GET", "/api/v3/applications"),
        3,
        "two pages of one"
    );
    let by_strategy = setup
        .developer
        .applications()
        .list()
        .auth_strategy_id(setup.strategy.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(by_strategy.items.len(), 2);
    let other_strategy = setup
        .developer
        .applications()
        .list()
        .auth_strategy_id("22222222-2222-4222-8222-222222222222")
        .send()
        .await
        .unwrap();
    assert!(other_strategy.items.is_empty());
    setup.developer.applications().delete(&second).await.unwrap();

    // A new secret replaces the old one at Auth0.
    let rotated = setup.developer.applications().regenerate_secret(&id).await.unwrap();
    assert_eq!(rotated.client_id, client_id);
    let old = ClientCredentialsRequest::new(client_id.as_str(), ClientSecret::from(secret), API_AUDIENCE);
    assert!(setup.s.auth0_client.oauth().client_credentials(&old).await.is_err());
    token(&setup, &client_id, &rotated.client_secret, API_AUDIENCE).await;

    // Deleting the application deletes its client.
    setup.developer.applications().delete(&id).await.unwrap();
    assert!(
        !setup
            .s
            .auth0
            .clients()
            .iter()
            .any(|c| c["client_id"] == client_id.as_str())
    );
    let _ = ClientId::new(client_id);
}

#[tokio::test]
async fn a_strategy_the_portal_does_not_offer_is_refused() {
    let setup = setup().await;
    let err = setup
        .developer
        .applications()
        .create(&NewDeveloperApplication::new("x").auth_strategy("22222222-2222-4222-8222-222222222222"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
    assert!(err.to_string().contains("auth_strategy_id"), "{err}");
    assert!(setup.s.konnect.applications().is_empty());
}

#[tokio::test]
async fn the_gateway_lets_an_approved_registration_through_with_basic_and_bearer() {
    let setup = setup().await;
    let http = reqwest::Client::new();
    let (id, client_id, secret) = application(&setup, "gateway app").await;
    let bearer = token(&setup, &client_id, &secret, API_AUDIENCE).await;

    // Unregistered: the application is known, the registration is not.
    let (status, message) = call(http.get(&setup.gateway).bearer_auth(&bearer)).await;
    assert_eq!(
        (status, message.as_str()),
        (403, "the application is not registered for this API")
    );

    // Registered without auto-approval: pending, still refused, and it says so.
    let registrations = setup.developer.registrations(&id);
    let registration = registrations.create(&setup.api).await.unwrap();
    assert_eq!(registration.status, RegistrationStatus::Pending);
    let again = registrations.create(&setup.api).await.unwrap_err();
    assert!(again.is_conflict(), "{again}");
    let (status, message) = call(http.get(&setup.gateway).bearer_auth(&bearer)).await;
    assert_eq!(
        (status, message.as_str()),
        (403, "the application's registration for this API is pending")
    );

    // Approved through the admin API: both methods pass.
    let admin = setup
        .s
        .konnect_client
        .portal_applications(setup.s.konnect.portal_id())
        .registrations(&id);
    let approved = admin.approve(&registration.id).await.unwrap();
    assert_eq!(approved.status, RegistrationStatus::Approved);
    assert_eq!(approved.api.id, setup.api);
    let (status, _) = call(http.get(&setup.gateway).bearer_auth(&bearer)).await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        let (status, _) = call(
            http.get(format!("{}/orders/42", setup.gateway))
                .basic_auth(&client_id, Some(secret.expose_secret())),
        )
        .await;
        assert_eq!(status, 200);
    }
    assert_eq!(
        setup.s.konnect.gateway_token_exchanges(),
        1,
        "the Basic exchange is cached per client"
    );

    // A wrong secret is refused by the issuer: 401.
    let (status, message) = call(http.get(&setup.gateway).basic_auth(&client_id, Some("wrong"))).await;
    assert_eq!(status, 401);
    assert!(message.contains("refused the client credentials"), "{message}");

    // Revoked: refused again, naming the status.
    admin
        .set_status(&registration.id, RegistrationStatus::Revoked)
        .await
        .unwrap();
    let (status, message) = call(http.get(&setup.gateway).bearer_auth(&bearer)).await;
    assert_eq!(
        (status, message.as_str()),
        (403, "the application's registration for this API is revoked")
    );
    let listed = setup
        .s
        .konnect_client
        .portal_applications(setup.s.konnect.portal_id())
        .all_registrations()
        .status(RegistrationStatus::Revoked)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
}

#[tokio::test]
async fn the_gateway_refuses_bad_credentials_with_401_saying_why() {
    let setup = setup().await;
    let http = reqwest::Client::new();
    let (id, client_id, secret) = application(&setup, "audience app").await;
    register_and_approve(&setup, &id).await;

    // A token for another audience: a valid token, the wrong API.
    setup
        .s
        .auth0_client
        .resource_servers()
        .create(&auth0_mgmt::resources::resource_servers::NewResourceServer::new(
            "https://other.example.com",
        ))
        .await
        .unwrap();
    setup
        .s
        .auth0_client
        .client_grants()
        .create(&auth0_mgmt::resources::client_grants::NewClientGrant::new(
            ClientId::new(client_id.clone()),
            "https://other.example.com",
            Vec::<String>::new(),
        ))
        .await
        .unwrap();
    let foreign = token(&setup, &client_id, &secret, "https://other.example.com").await;
    let (status, message) = call(http.get(&setup.gateway).bearer_auth(&foreign)).await;
    assert_eq!(status, 401);
    assert!(message.starts_with("invalid audience"), "{message}");

    for (request, why) in [
        (http.get(&setup.gateway), "no credentials"),
        (http.get(&setup.gateway).bearer_auth("not.a.jwt"), "not a JWT"),
        (
            http.get(&setup.gateway).header("authorization", "Digest abc"),
            "unsupported",
        ),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401);
        assert!(response.headers().contains_key("www-authenticate"));
        let body: Value = response.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains(why), "{body}");
    }
    let (status, message) = call(reqwest::Client::new().get(setup.s.konnect.gateway_url("no-such-api"))).await;
    assert_eq!(status, 404, "{message}");
}

#[tokio::test]
async fn the_gateway_accepts_only_the_strategys_auth_methods() {
    let setup = setup().await;
    let http = reqwest::Client::new();
    let (id, client_id, secret) = application(&setup, "methods app").await;
    register_and_approve(&setup, &id).await;
    let bearer = token(&setup, &client_id, &secret, API_AUDIENCE).await;
    // The strategy without client_credentials: Basic is refused, Bearer passes.
    setup
        .s
        .konnect_client
        .auth_strategies()
        .update(
            &setup.strategy,
            &AuthStrategyUpdate::new().openid_connect(OidcConfigUpdate::new().auth_methods(["bearer", "session"])),
        )
        .await
        .unwrap();
    let (status, message) = call(
        http.get(&setup.gateway)
            .basic_auth(&client_id, Some(secret.expose_secret())),
    )
    .await;
    assert_eq!(
        (status, message.as_str()),
        (401, "the auth method client_credentials is not enabled for this API")
    );
    assert_eq!(call(http.get(&setup.gateway).bearer_auth(&bearer)).await.0, 200);
    // And without bearer: the other way round.
    setup
        .s
        .konnect_client
        .auth_strategies()
        .update(
            &setup.strategy,
            &AuthStrategyUpdate::new().openid_connect(OidcConfigUpdate::new().auth_methods(["client_credentials"])),
        )
        .await
        .unwrap();
    assert_eq!(call(http.get(&setup.gateway).bearer_auth(&bearer)).await.0, 401);
    let (status, _) = call(
        http.get(&setup.gateway)
            .basic_auth(&client_id, Some(secret.expose_secret())),
    )
    .await;
    assert_eq!(status, 200);
}
