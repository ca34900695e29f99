//! Every resource operation and error path of the client, against the stateful sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::time::Duration;

use auth0_mgmt::oauth::ClientCredentialsRequest;
use auth0_mgmt::resources::client_grants::{ClientGrantUpdate, NewClientGrant};
use auth0_mgmt::resources::clients::{ClientUpdate, NewClient};
use auth0_mgmt::resources::resource_servers::{NewResourceServer, ResourceServerScope, ResourceServerUpdate};
use auth0_mgmt::{AppType, Auth0Client, Auth0Error, ClientSecret, GrantType, RetryConfig};
use dcr_sandbox::auth0::{Auth0Sandbox, Fault, RateLimit};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};

/// Clients of the sandbox (which depends on no client): the bootstrap application's
/// credentials and a quick retry policy.
trait SandboxClient {
    fn bootstrap_id(&self) -> auth0_mgmt::ClientId;
    fn bootstrap_secret(&self) -> ClientSecret;
    fn client_builder(&self) -> auth0_mgmt::Auth0ClientBuilder;
    fn client(&self) -> auth0_mgmt::Result<Auth0Client> {
        self.client_builder().build()
    }
}

impl SandboxClient for Auth0Sandbox {
    fn bootstrap_id(&self) -> auth0_mgmt::ClientId {
        auth0_mgmt::ClientId::new(self.bootstrap_client_id())
    }

    fn bootstrap_secret(&self) -> ClientSecret {
        ClientSecret::from(self.bootstrap_client_secret())
    }

    fn client_builder(&self) -> auth0_mgmt::Auth0ClientBuilder {
        Auth0Client::builder()
            .domain(self.domain())
            .base_url(self.uri())
            .client_credentials(
                auth0_mgmt::ClientId::new(self.bootstrap_client_id()),
                ClientSecret::from(self.bootstrap_client_secret()),
            )
            .retry(
                RetryConfig::standard()
                    .min_delay(Duration::from_millis(10))
                    .max_delay(Duration::from_millis(200)),
            )
    }
}

async fn sandbox() -> (Auth0Sandbox, Auth0Client) {
    let sandbox = Auth0Sandbox::builder().seed(7).start().await.unwrap();
    let client = sandbox.client().unwrap();
    (sandbox, client)
}

/// A raw request with the bootstrap app's token, to send what the typed client never would.
async fn raw(
    sandbox: &Auth0Sandbox,
    client: &Auth0Client,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let token = client
        .oauth()
        .client_credentials_cached(&ClientCredentialsRequest::new(
            sandbox.bootstrap_id(),
            sandbox.bootstrap_secret(),
            sandbox.management_audience(),
        ))
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .request(method, format!("{}{path}", sandbox.uri()))
        .bearer_auth(token.expose_secret())
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Creates `new` and grants it `read:clients` on the Management API.
async fn granted_reader(auth0: &Auth0Client, new: &NewClient) -> auth0_mgmt::resources::clients::Client {
    let app = auth0.clients().create(new).await.unwrap();
    auth0
        .client_grants()
        .create(&NewClientGrant::new(
            app.client_id.clone(),
            auth0.audience().clone(),
            ["read:clients"],
        ))
        .await
        .unwrap();
    app
}

fn assert_api(err: &Auth0Error, status: u16, code: &str) {
    assert_eq!(err.status(), Some(status), "{err}");
    assert_eq!(err.error_code(), Some(code), "{err}");
}

#[tokio::test]
async fn client_lifecycle_create_get_update_rotate_delete() {
    let (_sandbox, auth0) = sandbox().await;
    let app = auth0
        .clients()
        .create(
            &NewClient::machine_to_machine("DCR admin")
                .description("created by a test")
                .metadata("owner", "tests"),
        )
        .await
        .unwrap();
    assert_eq!(app.client_id.as_str().len(), 32);
    assert_eq!(app.app_type, Some(AppType::NonInteractive));
    assert_eq!(app.grant_types, Some(vec![GrantType::ClientCredentials]));
    let first_secret = app.client_secret.clone().expect("confidential apps get a secret");

    let read = auth0.clients().get(&app.client_id).await.unwrap();
    assert_eq!(read.metadata("owner"), Some("tests"));
    assert_eq!(read.description.as_deref(), Some("created by a test"));

    let mut metadata = auth0_mgmt::resources::clients::ClientMetadata::new();
    metadata.insert("konnect_org_id".into(), "org-1".into());
    let updated = auth0
        .clients()
        .update(
            &app.client_id,
            &ClientUpdate::new().name("DCR admin v2").client_metadata(metadata),
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "DCR admin v2");
    assert_eq!(updated.metadata("owner"), Some("tests"), "metadata keys merge");
    assert_eq!(updated.metadata("konnect_org_id"), Some("org-1"));

    let rotated = auth0.clients().rotate_secret(&app.client_id).await.unwrap();
    let second_secret = rotated.client_secret.expect("rotate returns the new secret");
    assert_ne!(first_secret.expose_secret(), second_secret.expose_secret());

    auth0.clients().delete(&app.client_id).await.unwrap();
    assert!(auth0.clients().get_opt(&app.client_id).await.unwrap().is_none());
    let err = auth0.clients().get(&app.client_id).await.unwrap_err();
    assert!(err.is_not_found());
    assert_api(&err, 404, "inexistent_client");
    auth0
        .clients()
        .delete(&app.client_id)
        .await
        .expect("deleting a missing client answers 204");
    let err = auth0.clients().rotate_secret(&app.client_id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

#[tokio::test]
async fn rotated_secret_replaces_the_old_one_at_the_token_endpoint() {
    let (sandbox, auth0) = sandbox().await;
    let app = granted_reader(&auth0, &NewClient::machine_to_machine("m2m")).await;
    let old = app.client_secret.unwrap();
    let request = |secret: ClientSecret| {
        ClientCredentialsRequest::new(app.client_id.clone(), secret, sandbox.management_audience())
    };
    auth0.oauth().client_credentials(&request(old.clone())).await.unwrap();
    let new = auth0
        .clients()
        .rotate_secret(&app.client_id)
        .await
        .unwrap()
        .client_secret
        .unwrap();
    let err = auth0.oauth().client_credentials(&request(old)).await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert_eq!(err.api_error().map(|e| e.error.as_str()), Some("access_denied"));
    let token = auth0.oauth().client_credentials(&request(new)).await.unwrap();
    assert_eq!(token.scopes(), vec!["read:clients"]);
}

#[tokio::test]
async fn bad_client_input_is_rejected_before_sending() {
    let (sandbox, auth0) = sandbox().await;
    let before = sandbox.requests().len();
    let many = NewClient::new("x");
    let many = (0..11).fold(many, |c, i| c.metadata(format!("k{i}"), "v"));
    let err = auth0.clients().create(&many).await.unwrap_err();
    assert!(
        matches!(&err, Auth0Error::InvalidInput { field, .. } if field == "client_metadata"),
        "{err}"
    );
    let err = auth0.clients().create(&NewClient::new("a<b>")).await.unwrap_err();
    assert!(
        matches!(&err, Auth0Error::InvalidInput { field, .. } if field == "name"),
        "{err}"
    );
    let err = auth0.clients().list().per_page(101).send().await.unwrap_err();
    assert!(
        matches!(&err, Auth0Error::InvalidInput { field, .. } if field == "per_page"),
        "{err}"
    );
    let err = auth0.clients().get(&"".into()).await.unwrap_err();
    assert!(matches!(err, Auth0Error::InvalidInput { .. }));
    assert_eq!(sandbox.requests().len(), before, "nothing was sent");
}

#[tokio::test]
async fn sandbox_enforces_the_documents_body_rules() {
    let (sandbox, auth0) = sandbox().await;
    let metadata: serde_json::Map<String, Value> = (0..11).map(|i| (format!("k{i}"), json!("v"))).collect();
    let (status, body) = raw(
        &sandbox,
        &auth0,
        reqwest::Method::POST,
        "/api/v2/clients",
        json!({"name": "x", "client_metadata": metadata}),
    )
    .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("invalid_body")),
        "{body}"
    );
    let (status, body) = raw(
        &sandbox,
        &auth0,
        reqwest::Method::POST,
        "/api/v2/clients",
        json!({"name": "x", "client_metadata": {"n": 5}}),
    )
    .await;
    assert_eq!(status, 400, "metadata values must be strings: {body}");
    let (status, body) = raw(
        &sandbox,
        &auth0,
        reqwest::Method::POST,
        "/api/v2/clients",
        json!({"name": "x", "no_such_field": true}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("no_such_field"));
    let (status, _) = raw(
        &sandbox,
        &auth0,
        reqwest::Method::POST,
        "/api/v2/clients",
        json!({"app_type": "spa"}),
    )
    .await;
    assert_eq!(status, 400, "name is required");
    let (status, body) = raw(
        &sandbox,
        &auth0,
        reqwest::Method::GET,
        "/api/v2/clients?per_page=500",
        Value::Null,
    )
    .await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("invalid_query_string"))
    );
    let (status, body) = raw(
        &sandbox,
        &auth0,
        reqwest::Method::GET,
        "/api/v2/nothing-here",
        Value::Null,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    // A public client gets no secret and cannot use client_credentials.
    let (status, body) = raw(
        &sandbox,
        &auth0,
        reqwest::Method::POST,
        "/api/v2/clients",
        json!({"name": "spa", "app_type": "spa"}),
    )
    .await;
    assert_eq!(status, 201);
    assert!(body.get("client_secret").is_none(), "{body}");
}

#[tokio::test]
async fn grants_are_unique_per_client_and_audience() {
    let (_sandbox, auth0) = sandbox().await;
    let api = auth0
        .resource_servers()
        .create(
            &NewResourceServer::new("https://orders.example.com")
                .name("Orders")
                .scopes([
                    ResourceServerScope::new("read:orders", "Read"),
                    ResourceServerScope::new("write:orders", "Write"),
                ]),
        )
        .await
        .unwrap();
    let app = auth0
        .clients()
        .create(&NewClient::machine_to_machine("orders sync"))
        .await
        .unwrap();
    let new = NewClientGrant::new(app.client_id.clone(), api.identifier.clone(), ["read:orders"]);
    let grant = auth0.client_grants().create(&new).await.unwrap();
    assert!(grant.id.as_str().starts_with("cgr_"));
    assert_eq!(grant.scope, vec!["read:orders"]);

    let err = auth0.client_grants().create(&new).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert_eq!(err.status(), Some(409));

    assert_eq!(auth0.client_grants().get(&grant.id).await.unwrap(), grant);
    let found = auth0
        .client_grants()
        .find(&app.client_id, &api.identifier)
        .await
        .unwrap();
    assert_eq!(found.as_ref().map(|g| &g.id), Some(&grant.id));
    let page = auth0
        .client_grants()
        .list()
        .audience(api.identifier.clone())
        .send()
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (1, Some(1)));

    let updated = auth0
        .client_grants()
        .update(
            &grant.id,
            &ClientGrantUpdate::new().scope(["read:orders", "write:orders"]),
        )
        .await
        .unwrap();
    assert_eq!(updated.scope, vec!["read:orders", "write:orders"]);
    let err = auth0
        .client_grants()
        .update(&grant.id, &ClientGrantUpdate::new().scope(["delete:everything"]))
        .await
        .unwrap_err();
    assert_api(&err, 400, "invalid_body");

    auth0.client_grants().delete(&grant.id).await.unwrap();
    let err = auth0.client_grants().get(&grant.id).await.unwrap_err();
    assert_api(&err, 404, "inexistent_client_grant");
    assert!(auth0.client_grants().get_opt(&grant.id).await.unwrap().is_none());

    let err = auth0
        .client_grants()
        .create(&NewClientGrant::new(
            "no-such-client",
            api.identifier.clone(),
            ["read:orders"],
        ))
        .await
        .unwrap_err();
    assert_api(&err, 404, "inexistent_client");
    let err = auth0
        .client_grants()
        .create(&NewClientGrant::new(
            app.client_id.clone(),
            "https://nowhere.example.com",
            Vec::<String>::new(),
        ))
        .await
        .unwrap_err();
    assert_api(&err, 404, "inexistent_resource_server");
}

#[tokio::test]
async fn resource_server_lifecycle_and_cascades() {
    let (sandbox, auth0) = sandbox().await;
    let new = NewResourceServer::new("https://api.example.com/v1")
        .name("Example")
        .token_lifetime(3600)
        .scopes([ResourceServerScope::new("read:things", "Read things")]);
    let api = auth0.resource_servers().create(&new).await.unwrap();
    assert_eq!(api.id.as_str().len(), 24);
    assert_eq!(api.token_lifetime, Some(3600));
    let err = auth0.resource_servers().create(&new).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");

    assert_eq!(auth0.resource_servers().get(api.id.as_str()).await.unwrap(), api);
    assert_eq!(
        auth0
            .resource_servers()
            .get("https://api.example.com/v1")
            .await
            .unwrap()
            .id,
        api.id,
        "identifier works as id"
    );
    let updated = auth0
        .resource_servers()
        .update(
            &api.id,
            &ResourceServerUpdate::new()
                .name("Example v2")
                .skip_consent_for_verifiable_first_party_clients(false),
        )
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some("Example v2"));
    let page = auth0
        .resource_servers()
        .list()
        .identifier(api.identifier.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let all: Vec<_> = auth0.resource_servers().list().stream().try_collect().await.unwrap();
    assert_eq!(all.len(), 2, "the Management API and ours");
    assert!(all.iter().any(|rs| rs.is_system == Some(true)));

    let app = auth0
        .clients()
        .create(&NewClient::machine_to_machine("x"))
        .await
        .unwrap();
    auth0
        .client_grants()
        .create(&NewClientGrant::new(
            app.client_id.clone(),
            api.identifier.clone(),
            ["read:things"],
        ))
        .await
        .unwrap();
    auth0.resource_servers().delete(&api.id).await.unwrap();
    assert!(
        auth0
            .resource_servers()
            .get_opt(api.id.as_str())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        auth0
            .client_grants()
            .find(&app.client_id, &api.identifier)
            .await
            .unwrap()
            .is_none(),
        "grants cascade"
    );
    assert_eq!(sandbox.client_grants().len(), 1, "only the bootstrap grant is left");

    let system = all.iter().find(|rs| rs.is_system == Some(true)).unwrap();
    let err = auth0.resource_servers().delete(&system.id).await.unwrap_err();
    assert_api(&err, 400, "operation_not_supported");
    let err = auth0
        .resource_servers()
        .update(&api.id, &ResourceServerUpdate::new().token_lifetime(3_000_000))
        .await
        .unwrap_err();
    assert!(matches!(&err, Auth0Error::InvalidInput { field, .. } if field == "token_lifetime"));
}

#[tokio::test]
async fn tokens_are_signed_jwts_with_the_expected_claims() {
    let (sandbox, auth0) = sandbox().await;
    let api = auth0
        .resource_servers()
        .create(&NewResourceServer::new("https://orders.example.com").scopes([
            ResourceServerScope::new("read:orders", "r"),
            ResourceServerScope::new("write:orders", "w"),
        ]))
        .await
        .unwrap();
    let app = auth0
        .clients()
        .create(&NewClient::machine_to_machine("dev app"))
        .await
        .unwrap();
    let secret = app.client_secret.clone().unwrap();
    let request = ClientCredentialsRequest::new(app.client_id.clone(), secret.clone(), api.identifier.clone());
    let err = auth0.oauth().client_credentials(&request).await.unwrap_err();
    assert!(err.is_forbidden(), "no grant yet: {err}");
    auth0
        .client_grants()
        .create(&NewClientGrant::new(
            app.client_id.clone(),
            api.identifier.clone(),
            ["read:orders", "write:orders"],
        ))
        .await
        .unwrap();
    let token = auth0.oauth().client_credentials(&request).await.unwrap();
    assert_eq!(token.token_type, "Bearer");
    assert_eq!(token.expires_in, 86_400);

    // Verify with the JWKS the sandbox serves over HTTP, as a gateway would.
    let jwks: jsonwebtoken::jwk::JwkSet = reqwest::get(format!("{}/.well-known/jwks.json", sandbox.uri()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token.access_token.expose_secret()).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[api.identifier.as_str()]);
    validation.set_issuer(&[sandbox.issuer()]);
    let claims = jsonwebtoken::decode::<Value>(token.access_token.expose_secret(), &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["azp"], app.client_id.as_str());
    assert_eq!(claims["sub"], format!("{}@clients", app.client_id));
    assert_eq!(claims["scope"], "read:orders write:orders");
    assert_eq!(claims["gty"], "client-credentials");
    assert!(claims["exp"].as_u64().unwrap() > claims["iat"].as_u64().unwrap());

    let config: Value = reqwest::get(format!("{}/.well-known/openid-configuration", sandbox.uri()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["issuer"], sandbox.issuer());

    // At most the granted scopes.
    let narrow = auth0
        .oauth()
        .client_credentials(&request.clone().scopes(["read:orders"]))
        .await
        .unwrap();
    assert_eq!(narrow.scopes(), vec!["read:orders"]);
    let err = auth0
        .oauth()
        .client_credentials(&request.clone().scopes(["admin"]))
        .await
        .unwrap_err();
    assert!(err.is_forbidden(), "{err}");
    // Wrong secret, unknown client.
    let bad = ClientCredentialsRequest::new(
        app.client_id.clone(),
        ClientSecret::new("wrong"),
        api.identifier.clone(),
    );
    assert!(
        auth0
            .oauth()
            .client_credentials(&bad)
            .await
            .unwrap_err()
            .is_unauthorized()
    );
    let unknown = ClientCredentialsRequest::new("nobody", secret, api.identifier.clone());
    assert!(
        auth0
            .oauth()
            .client_credentials(&unknown)
            .await
            .unwrap_err()
            .is_unauthorized()
    );
}

#[tokio::test]
async fn management_calls_need_the_operation_scope() {
    let (sandbox, auth0) = sandbox().await;
    let reader = auth0
        .clients()
        .create(&NewClient::machine_to_machine("reader"))
        .await
        .unwrap();
    auth0
        .client_grants()
        .create(&NewClientGrant::new(
            reader.client_id.clone(),
            auth0.audience().clone(),
            ["read:clients"],
        ))
        .await
        .unwrap();
    let limited = sandbox
        .client_builder()
        .client_credentials(reader.client_id.clone(), reader.client_secret.clone().unwrap())
        .build()
        .unwrap();
    let listed = limited.clients().get(&reader.client_id).await.unwrap();
    assert!(listed.client_secret.is_none(), "secrets need read:client_keys");
    let err = limited.clients().create(&NewClient::new("nope")).await.unwrap_err();
    assert!(err.is_forbidden(), "{err}");
    assert_api(&err, 403, "insufficient_scope");
    assert!(err.to_string().contains("create:clients"), "{err}");

    let anonymous = reqwest::get(format!("{}/api/v2/clients", sandbox.uri())).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["statusCode"], 401);
    assert_eq!(body["message"], "Missing authentication");
}

#[tokio::test]
async fn a_revoked_token_is_refreshed_once_and_the_call_replayed() {
    let (sandbox, auth0) = sandbox().await;
    let id = sandbox.bootstrap_id();
    auth0.clients().get(&id).await.unwrap();
    assert_eq!(sandbox.tokens_issued(), 1);
    sandbox.revoke_tokens();
    auth0.clients().get(&id).await.unwrap();
    assert_eq!(sandbox.tokens_issued(), 2, "exactly one refresh");
    assert_eq!(
        sandbox.request_count("GET", "/api/v2/clients/{id}"),
        3,
        "one 401, one replay"
    );

    // A fixed token cannot be refreshed: the 401 is reported.
    let token = auth0
        .oauth()
        .client_credentials(&ClientCredentialsRequest::new(
            id.clone(),
            sandbox.bootstrap_secret(),
            sandbox.management_audience(),
        ))
        .await
        .unwrap();
    let fixed = Auth0Client::builder()
        .domain(sandbox.domain())
        .base_url(sandbox.uri())
        .management_token(token.access_token.into_secret_string())
        .build()
        .unwrap();
    fixed.clients().get(&id).await.unwrap();
    sandbox.revoke_tokens();
    let err = fixed.clients().get(&id).await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
}

#[tokio::test]
async fn listing_2500_clients_walks_every_page_lazily_and_once() {
    let (sandbox, auth0) = sandbox().await;
    for i in 0..2_500 {
        sandbox
            .insert_client(json!({"name": format!("app-{i}"), "app_type": "non_interactive"}))
            .unwrap();
    }
    let mut seen = HashSet::new();
    let mut stream = std::pin::pin!(auth0.clients().list().stream());
    while let Some(client) = stream.try_next().await.unwrap() {
        assert!(seen.insert(client.client_id), "returned twice");
    }
    assert_eq!(seen.len(), 2_501, "2,500 plus the bootstrap app");
    assert_eq!(
        sandbox.request_count("GET", "/api/v2/clients"),
        26,
        "26 pages of at most 100"
    );

    // Lazy: taking 150 items fetches two pages only.
    sandbox.clear_request_log();
    let first: Vec<_> = auth0.clients().list().stream().take(150).try_collect().await.unwrap();
    assert_eq!(first.len(), 150);
    assert_eq!(sandbox.request_count("GET", "/api/v2/clients"), 2);

    // Offset paging with totals, and the offset walk.
    let page = auth0.clients().list().page(3).per_page(10).send().await.unwrap();
    assert_eq!(
        (page.items.len(), page.total, page.start, page.limit),
        (10, Some(2_501), Some(30), Some(10))
    );
    let by_offset: Vec<_> = auth0
        .clients()
        .list()
        .per_page(100)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(by_offset.len(), 2_501);
    let unique: HashSet<_> = by_offset.iter().map(|c| c.client_id.clone()).collect();
    assert_eq!(unique.len(), 2_501);

    // Filters apply on every page.
    sandbox
        .insert_client(json!({"name": "spa", "app_type": "spa"}))
        .unwrap();
    let spas: Vec<_> = auth0
        .clients()
        .list()
        .app_type([AppType::Spa])
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(spas.len(), 1);
    let checkpoint = auth0.clients().list().take(5).send().await.unwrap();
    assert_eq!(checkpoint.items.len(), 5);
    let next = auth0
        .clients()
        .list()
        .from(checkpoint.next.clone().unwrap())
        .take(5)
        .send()
        .await
        .unwrap();
    assert_ne!(next.items[0].client_id, checkpoint.items[0].client_id);
}

#[tokio::test]
async fn a_429_with_reset_is_waited_out_and_the_call_succeeds() {
    let (sandbox, auth0) = sandbox().await;
    let id = sandbox.bootstrap_id();
    auth0.clients().get(&id).await.unwrap();
    sandbox.inject(Fault::status(429).on("GET", "/api/v2/clients/"));
    // The fault advertises `x-ratelimit-reset: now + 1` in whole epoch seconds (as Auth0
    // does), so the honest check is that the retry came no earlier than that second.
    let epoch = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
    };
    let reset_at_least = epoch().as_secs() + 1;
    auth0.clients().get(&id).await.unwrap();
    assert!(epoch().as_secs() >= reset_at_least, "retried before x-ratelimit-reset");
    let statuses: Vec<u16> = sandbox
        .requests()
        .iter()
        .filter(|r| r.route == "/api/v2/clients/{id}")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![200, 429, 200]);
}

#[tokio::test]
async fn the_client_slows_down_before_the_rate_limit_refuses() {
    let (sandbox, auth0) = sandbox().await;
    let id = sandbox.bootstrap_id();
    auth0.clients().get(&id).await.unwrap();
    sandbox.set_rate_limit(RateLimit::per_second(4).burst(2));
    for _ in 0..6 {
        auth0.clients().get(&id).await.unwrap();
    }
    let refused = sandbox.requests().iter().filter(|r| r.status == 429).count();
    assert_eq!(refused, 0, "x-ratelimit-remaining: 0 made the client wait instead");
}

#[tokio::test]
async fn server_errors_are_retried_only_when_safe() {
    let (sandbox, auth0) = sandbox().await;
    sandbox.inject(Fault::status(503).times(2).on("GET", "/api/v2/resource-servers"));
    auth0.resource_servers().list().send().await.unwrap();
    assert_eq!(sandbox.request_count("GET", "/api/v2/resource-servers"), 3);

    sandbox.inject(Fault::status(503).on("POST", "/api/v2/clients"));
    let err = auth0.clients().create(&NewClient::new("x")).await.unwrap_err();
    assert_eq!(err.status(), Some(503), "{err}");
    assert!(err.is_retryable());
    assert_eq!(
        sandbox.request_count("POST", "/api/v2/clients"),
        1,
        "a POST is not repeated after a 503"
    );

    sandbox.inject(Fault::status(500).times(10).on("GET", "/api/v2/client-grants"));
    let err = auth0.client_grants().list().send().await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(
        sandbox.request_count("GET", "/api/v2/client-grants"),
        4,
        "bounded by max_attempts"
    );
    sandbox.clear_faults();
}

#[tokio::test]
async fn a_post_whose_connection_dropped_is_not_sent_twice() {
    let (sandbox, auth0) = sandbox().await;
    auth0.clients().get(&sandbox.bootstrap_id()).await.unwrap();
    sandbox.inject(Fault::drop_after_processing().on("POST", "/api/v2/clients"));
    let err = auth0
        .clients()
        .create(&NewClient::new("lost in flight"))
        .await
        .unwrap_err();
    assert!(matches!(err, Auth0Error::Transport(_)), "{err}");
    assert_eq!(sandbox.request_count("POST", "/api/v2/clients"), 1);
    assert_eq!(sandbox.client_count(), 2, "the server did create it");

    // An idempotent GET with a dropped connection is retried.
    sandbox.inject(Fault::drop_connection().on("GET", "/api/v2/clients/"));
    auth0.clients().get(&sandbox.bootstrap_id()).await.unwrap();
    let dropped = sandbox.requests().iter().filter(|r| r.dropped).count();
    assert_eq!(dropped, 2);
}

#[tokio::test]
async fn latency_is_added_to_every_response() {
    let (sandbox, auth0) = sandbox().await;
    auth0.clients().get(&sandbox.bootstrap_id()).await.unwrap();
    sandbox.set_latency(Some(Duration::from_millis(120)));
    let started = std::time::Instant::now();
    auth0.clients().get(&sandbox.bootstrap_id()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(120));
    sandbox.set_latency(None);
}

#[tokio::test]
async fn retries_can_be_disabled() {
    let sandbox = Auth0Sandbox::start().await.unwrap();
    let auth0 = sandbox.client_builder().retry(RetryConfig::disabled()).build().unwrap();
    sandbox.inject(Fault::status(503).on("GET", "/api/v2/resource-servers"));
    assert_eq!(
        auth0.resource_servers().list().send().await.unwrap_err().status(),
        Some(503)
    );
}

/// The example in the workspace README, verbatim.
#[tokio::test]
async fn my_code_survives_a_flaky_auth0() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Auth0Sandbox::builder()
        .rate_limit(RateLimit::per_second(10))
        .start()
        .await?;
    let auth0 = sandbox.client()?; // authenticated as the seeded bootstrap M2M app
    sandbox.inject(Fault::status(503).times(2).on("GET", "/api/v2/clients"));
    let page = auth0.clients().list().send().await?; // your code; here, retried through two 503s
    assert_eq!(page.items.len(), 1); // the bootstrap app
    assert_eq!(sandbox.request_count("GET", "/api/v2/clients"), 3); // the request log
    assert_eq!(sandbox.write_count(), 0);
    assert_eq!(sandbox.tokens_issued(), 1);
    Ok(())
}

/// A 429 from `/oauth/token` reporting a spent budget (`x-ratelimit-remaining: 0`) used to
/// hang every call: the request held a rate-limit permit while its token fetch waited on
/// the same gate for that permit's answer.
#[tokio::test]
async fn a_429_from_the_token_endpoint_with_a_spent_budget_is_waited_out() {
    let (sandbox, auth0) = sandbox().await;
    sandbox.inject(Fault::status(429).on("POST", "/oauth/token"));
    let id = sandbox.bootstrap_id();
    tokio::time::timeout(Duration::from_secs(20), auth0.clients().get(&id))
        .await
        .expect("the call completes instead of hanging")
        .unwrap();
    assert_eq!(sandbox.tokens_issued(), 1);
}

#[tokio::test]
async fn an_operation_past_its_deadline_says_what_it_was_waiting_for() {
    let sandbox = Auth0Sandbox::start().await.unwrap();
    let auth0 = sandbox
        .client_builder()
        .retry(RetryConfig::standard().deadline(Duration::from_millis(300)))
        .build()
        .unwrap();
    sandbox.set_latency(Some(Duration::from_secs(5)));
    let id = sandbox.bootstrap_id();
    let err = auth0.clients().get(&id).await.unwrap_err();
    let Auth0Error::Transport(transport) = &err else {
        panic!("a transport error, not {err}");
    };
    assert!(transport.is_timeout());
    // The token is fetched first, so the error names it: the token request's own deadline
    // or the call's, whichever timer fires first.
    let text = transport.to_string();
    assert!(
        text.contains("POST /oauth/token") || transport.deadline_waiting_for() == Some("an access token"),
        "{text}"
    );
    assert!(text.contains("RetryConfig::deadline"), "{text}");
}

/// RFC 6749 §2.3.1 and Auth0: a client may authenticate at `/oauth/token` with HTTP Basic
/// (`client_secret_basic`); the typed request then sends no secret in its body. Using
/// Basic and the body at once is refused; a wrong Basic secret is a 401.
#[tokio::test]
async fn the_token_endpoint_accepts_http_basic_client_authentication() {
    use auth0_mgmt::TokenEndpointAuthMethod;
    let (sandbox, auth0) = sandbox().await;
    let app = granted_reader(
        &auth0,
        &NewClient::machine_to_machine("basic m2m")
            .token_endpoint_auth_method(TokenEndpointAuthMethod::ClientSecretBasic),
    )
    .await;
    let secret = app.client_secret.unwrap();
    sandbox.record_exchanges();
    let request = ClientCredentialsRequest::new(app.client_id.clone(), secret.clone(), sandbox.management_audience())
        .auth_method(TokenEndpointAuthMethod::ClientSecretBasic);
    let token = auth0.oauth().client_credentials(&request).await.unwrap();
    assert_eq!(token.scopes(), ["read:clients"]);
    let exchange = sandbox.exchanges().pop().unwrap();
    assert!(
        exchange
            .request_header("authorization")
            .is_some_and(|a| a.starts_with("Basic ")),
        "{exchange:?}"
    );
    let body = exchange.request_body.clone().unwrap();
    assert!(
        body.get("client_secret").is_none() && body.get("client_id").is_none(),
        "{body}"
    );

    // A client built for Basic credentials uses them for its own Management API token.
    let as_app = Auth0Client::builder()
        .domain(sandbox.domain())
        .base_url(sandbox.uri())
        .client_credentials(app.client_id.clone(), secret.clone())
        .token_auth_method(TokenEndpointAuthMethod::ClientSecretBasic)
        .build()
        .unwrap();
    as_app.clients().get(&app.client_id).await.unwrap();

    let wrong = ClientCredentialsRequest::new(
        app.client_id.clone(),
        ClientSecret::new("not-the-secret"),
        sandbox.management_audience(),
    )
    .auth_method(TokenEndpointAuthMethod::ClientSecretBasic);
    let err = auth0.oauth().client_credentials(&wrong).await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");

    let both = reqwest::Client::new()
        .post(format!("{}/oauth/token", sandbox.uri()))
        .basic_auth(
            app.client_id.as_str(),
            Some(secrecy::ExposeSecret::expose_secret(&secret)),
        )
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": app.client_id.as_str(),
            "client_secret": secrecy::ExposeSecret::expose_secret(&secret),
            "audience": sandbox.management_audience().as_str(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(both.status().as_u16(), 400);
    let body: Value = both.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

/// `GET /api/v2/clients` until the first 429 (checking its body): the burst, plus what the
/// bucket refilled meanwhile (a loaded machine may take longer than one refill between
/// two requests). Returns the statuses and the time taken.
async fn until_refused(sandbox: &Auth0Sandbox, limit: &str) -> (Vec<u16>, std::time::Duration) {
    let started = std::time::Instant::now();
    let mut statuses = Vec::new();
    for _ in 0..50 {
        let r = reqwest::Client::new()
            .get(format!("{}/api/v2/clients", sandbox.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["x-ratelimit-limit"].to_str().unwrap(), limit);
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["statusCode"], 429);
            assert_eq!(body["error"], "Too Many Requests");
            assert_eq!(body["errorCode"], "too_many_requests");
            break;
        }
    }
    (statuses, started.elapsed())
}

/// Auth0's documented plans as sandbox presets: each answer carries the headers of the
/// bucket that decided it, a spent bucket answers 429 as Auth0 does, and buckets are
/// separate (Essentials: reading clients does not spend the bucket of everything else;
/// the token endpoint has its own on every plan).
#[tokio::test]
async fn plans_limit_each_bucket_and_answer_with_its_headers() {
    use dcr_sandbox::auth0::Tier;
    let send = |sandbox: &Auth0Sandbox, method: reqwest::Method, path: &str| {
        let url = format!("{}{path}", sandbox.uri());
        async move { reqwest::Client::new().request(method, url).send().await.unwrap() }
    };
    let limit = |r: &reqwest::Response| r.headers()["x-ratelimit-limit"].to_str().unwrap().to_owned();

    let refilled =
        |elapsed: std::time::Duration, per_second: f64| (elapsed.as_secs_f64() * per_second).floor() as usize;

    let free = Auth0Sandbox::builder().tier(Tier::Free).start().await.unwrap();
    let (statuses, elapsed) = until_refused(&free, "2").await;
    assert_eq!(
        statuses.last(),
        Some(&429),
        "refused once the burst is spent: {statuses:?}"
    );
    let passed = statuses.len() - 1;
    assert!(
        passed >= 2 && passed <= 2 + refilled(elapsed, 2.0),
        "2 burst (plus {} refilled in {elapsed:?}), then refused: {statuses:?}",
        refilled(elapsed, 2.0)
    );
    let token = send(&free, reqwest::Method::POST, "/oauth/token").await;
    assert_eq!(limit(&token), "30", "the token endpoint's own bucket");
    assert_ne!(token.status().as_u16(), 429);

    let essentials = Auth0Sandbox::builder().tier(Tier::Essentials).start().await.unwrap();
    let (reads, elapsed) = until_refused(&essentials, "5").await;
    assert_eq!(reads.last(), Some(&429), "{reads:?}");
    let passed = reads.len() - 1;
    let extra = refilled(elapsed, 100.0 / 60.0);
    assert!(
        passed >= 5 && passed <= 5 + extra,
        "5 burst (plus {extra} refilled in {elapsed:?}), then refused: {reads:?}"
    );
    let other = send(&essentials, reqwest::Method::GET, "/api/v2/client-grants").await;
    assert_eq!(limit(&other), "10", "all other endpoints combined");
    assert_eq!(
        other.status().as_u16(),
        401,
        "a spent read bucket does not stall the rest"
    );
}
