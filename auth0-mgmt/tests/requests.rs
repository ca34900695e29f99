//! What each operation sends: method, path, query and exact JSON body, one strict stub
//! per operation (`expect(1)`), answered with a body shaped like the document's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use auth0_mgmt::resources::client_grants::{ClientGrantUpdate, NewClientGrant};
use auth0_mgmt::resources::clients::{ClientUpdate, JwtConfiguration, NewClient};
use auth0_mgmt::resources::resource_servers::{NewResourceServer, ResourceServerScope, ResourceServerUpdate};
use auth0_mgmt::{AppType, Auth0Client, ClientSecret, OrganizationUsage, SigningAlg, SubjectType, TokenDialect};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client_body() -> Value {
    serde_json::from_str(include_str!("fixtures/client.json")).unwrap()
}

fn grant_body() -> Value {
    json!({"id": "cgr_1", "client_id": "AaiyAPdpYdesoKnqjj8HJqRn4T5titww", "audience": "https://api.example.com", "scope": ["read:orders"]})
}

fn rs_body() -> Value {
    json!({"id": "5f0c0c1b2a3d4e5f6a7b8c9d", "identifier": "https://api.example.com", "name": "Orders", "scopes": [{"value": "read:orders", "description": "Read"}]})
}

async fn setup() -> (MockServer, Auth0Client) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_json(json!({
            "grant_type": "client_credentials",
            "client_id": "m2m",
            "client_secret": "s3cret",
            "audience": "https://acme.us.auth0.com/api/v2/"
        })))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "tok", "expires_in": 86400, "token_type": "Bearer"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = Auth0Client::builder()
        .domain("acme.us.auth0.com")
        .base_url(server.uri())
        .client_credentials("m2m", ClientSecret::new("s3cret"))
        .user_agent("requests-test/1")
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    (server, client)
}

fn stub(verb: &str, route: &str) -> wiremock::MockBuilder {
    Mock::given(method(verb))
        .and(path(route))
        .and(header("authorization", "Bearer tok"))
        .and(header("user-agent", "requests-test/1"))
        .and(header("accept", "application/json"))
}

#[tokio::test]
async fn client_operations_send_what_the_document_describes() {
    let (server, auth0) = setup().await;
    let id = "AaiyAPdpYdesoKnqjj8HJqRn4T5titww";
    stub("POST", "/api/v2/clients")
        .and(body_json(json!({
            "name": "DCR admin",
            "description": "d",
            "app_type": "non_interactive",
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_post",
            "is_first_party": true,
            "client_metadata": {"a": "1"},
            "jwt_configuration": {"alg": "RS256", "lifetime_in_seconds": 3600},
            "organization_usage": "deny"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(client_body()))
        .expect(1)
        .mount(&server)
        .await;
    stub("GET", &format!("/api/v2/clients/{id}"))
        .respond_with(ResponseTemplate::new(200).set_body_json(client_body()))
        .expect(1)
        .mount(&server)
        .await;
    stub("PATCH", &format!("/api/v2/clients/{id}"))
        .and(body_json(json!({"name": "renamed", "app_type": "regular_web"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(client_body()))
        .expect(1)
        .mount(&server)
        .await;
    stub("DELETE", &format!("/api/v2/clients/{id}"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    stub("POST", &format!("/api/v2/clients/{id}/rotate-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(client_body()))
        .expect(1)
        .mount(&server)
        .await;
    stub("GET", "/api/v2/clients")
        .and(query_param("app_type", "non_interactive,spa"))
        .and(query_param("is_first_party", "true"))
        .and(query_param("is_global", "false"))
        .and(query_param("fields", "client_id,name"))
        .and(query_param("include_fields", "true"))
        .and(query_param("page", "2"))
        .and(query_param("per_page", "25"))
        .and(query_param("include_totals", "true"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"start": 50, "limit": 25, "total": 51, "clients": [client_body()]})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let new = NewClient::machine_to_machine("DCR admin")
        .description("d")
        .is_first_party(true)
        .metadata("a", "1")
        .jwt_configuration(JwtConfiguration::new().alg(SigningAlg::Rs256).lifetime_in_seconds(3600))
        .organization_usage(OrganizationUsage::Deny);
    let created = auth0.clients().create(&new).await.unwrap();
    assert_eq!(created.client_id.as_str(), id);
    auth0.clients().get(&id.into()).await.unwrap();
    auth0
        .clients()
        .update(
            &id.into(),
            &ClientUpdate::new().name("renamed").app_type(AppType::RegularWeb),
        )
        .await
        .unwrap();
    auth0.clients().delete(&id.into()).await.unwrap();
    let rotated = auth0.clients().rotate_secret(&id.into()).await.unwrap();
    assert!(rotated.client_secret.is_some());
    let page = auth0
        .clients()
        .list()
        .app_type([AppType::NonInteractive, AppType::Spa])
        .is_first_party(true)
        .is_global(false)
        .fields(["client_id", "name"])
        .page(2)
        .per_page(25)
        .send()
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len()), (Some(51), 1));
    server.verify().await;
}

#[tokio::test]
async fn client_grant_operations_send_what_the_document_describes() {
    let (server, auth0) = setup().await;
    stub("POST", "/api/v2/client-grants")
        .and(body_json(json!({
            "client_id": "AaiyAPdpYdesoKnqjj8HJqRn4T5titww",
            "audience": "https://api.example.com",
            "scope": ["read:orders"],
            "organization_usage": "allow",
            "allow_any_organization": true,
            "subject_type": "client"
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(grant_body()))
        .expect(1)
        .mount(&server)
        .await;
    stub("GET", "/api/v2/client-grants/cgr_1")
        .respond_with(ResponseTemplate::new(200).set_body_json(grant_body()))
        .expect(1)
        .mount(&server)
        .await;
    stub("PATCH", "/api/v2/client-grants/cgr_1")
        .and(body_json(json!({"scope": ["read:orders", "write:orders"]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(grant_body()))
        .expect(1)
        .mount(&server)
        .await;
    stub("DELETE", "/api/v2/client-grants/cgr_1")
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    stub("GET", "/api/v2/client-grants")
        .and(query_param("audience", "https://api.example.com"))
        .and(query_param("client_id", "AaiyAPdpYdesoKnqjj8HJqRn4T5titww"))
        .and(query_param("allow_any_organization", "true"))
        .and(query_param("subject_type", "client"))
        .and(query_param("take", "10"))
        .and(query_param("from", "cp9"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"client_grants": [grant_body()], "next": "cp10"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let new = NewClientGrant::new(
        "AaiyAPdpYdesoKnqjj8HJqRn4T5titww",
        "https://api.example.com",
        ["read:orders"],
    )
    .organization_usage(OrganizationUsage::Allow)
    .allow_any_organization(true)
    .subject_type(SubjectType::Client);
    let grant = auth0.client_grants().create(&new).await.unwrap();
    auth0.client_grants().get(&grant.id).await.unwrap();
    auth0
        .client_grants()
        .update(
            &grant.id,
            &ClientGrantUpdate::new().scope(["read:orders", "write:orders"]),
        )
        .await
        .unwrap();
    auth0.client_grants().delete(&grant.id).await.unwrap();
    let page = auth0
        .client_grants()
        .list()
        .audience("https://api.example.com")
        .client_id("AaiyAPdpYdesoKnqjj8HJqRn4T5titww")
        .allow_any_organization()
        .subject_type(SubjectType::Client)
        .take(10)
        .from("cp9")
        .send()
        .await
        .unwrap();
    assert_eq!(page.next.as_deref(), Some("cp10"));
    server.verify().await;
}

#[tokio::test]
async fn resource_server_operations_send_what_the_document_describes() {
    let (server, auth0) = setup().await;
    stub("POST", "/api/v2/resource-servers")
        .and(body_json(json!({
            "identifier": "https://api.example.com",
            "name": "Orders",
            "scopes": [{"value": "read:orders", "description": "Read"}],
            "token_lifetime": 7200,
            "signing_alg": "RS256",
            "allow_offline_access": false,
            "token_dialect": "access_token",
            "skip_consent_for_verifiable_first_party_clients": true
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(rs_body()))
        .expect(1)
        .mount(&server)
        .await;
    // An identifier is a valid id in the path; it must be percent-encoded as one segment.
    stub("GET", "/api/v2/resource-servers/https:%2F%2Fapi.example.com")
        .respond_with(ResponseTemplate::new(200).set_body_json(rs_body()))
        .expect(1)
        .mount(&server)
        .await;
    stub("PATCH", "/api/v2/resource-servers/5f0c0c1b2a3d4e5f6a7b8c9d")
        .and(body_json(json!({"name": "Orders v2", "scopes": []})))
        .respond_with(ResponseTemplate::new(201).set_body_json(rs_body()))
        .expect(1)
        .mount(&server)
        .await;
    stub("DELETE", "/api/v2/resource-servers/5f0c0c1b2a3d4e5f6a7b8c9d")
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    stub("GET", "/api/v2/resource-servers")
        .and(query_param("identifiers", "https://a.example.com"))
        .and(query_param("page", "0"))
        .and(query_param("per_page", "50"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"start": 0, "limit": 50, "total": 1, "resource_servers": [rs_body()]})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let new = NewResourceServer::new("https://api.example.com")
        .name("Orders")
        .scopes([ResourceServerScope::new("read:orders", "Read")])
        .token_lifetime(7200)
        .signing_alg(SigningAlg::Rs256)
        .allow_offline_access(false)
        .token_dialect(TokenDialect::AccessToken)
        .skip_consent_for_verifiable_first_party_clients(true);
    let rs = auth0.resource_servers().create(&new).await.unwrap();
    assert_eq!(rs.scope_values(), vec!["read:orders"]);
    auth0.resource_servers().get("https://api.example.com").await.unwrap();
    auth0
        .resource_servers()
        .update(&rs.id, &ResourceServerUpdate::new().name("Orders v2").scopes([]))
        .await
        .unwrap();
    auth0.resource_servers().delete(&rs.id).await.unwrap();
    auth0
        .resource_servers()
        .list()
        .identifier("https://a.example.com")
        .send()
        .await
        .unwrap();
    server.verify().await;
}

#[test]
fn secret_holding_types_redact_themselves() {
    use auth0_mgmt::oauth::{ClientCredentialsRequest, TokenResponse};
    let request = ClientCredentialsRequest::new("id", ClientSecret::new("request-secret"), "aud");
    let response: TokenResponse =
        serde_json::from_value(json!({"access_token": "response-token", "expires_in": 1, "token_type": "Bearer"}))
            .unwrap();
    let client: auth0_mgmt::resources::clients::Client = serde_json::from_value(client_body()).unwrap();
    let printed = format!("{request:?} {response:?} {client:?}");
    for secret in ["request-secret", "response-token", "MG_TNT2ver"] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
    // Serializing a request is the one way a secret leaves, on purpose: for the wire.
    assert_eq!(
        serde_json::to_value(&request).unwrap()["client_secret"],
        "request-secret"
    );
}

#[test]
fn streams_are_send_and_static_so_they_can_be_spawned() {
    fn assert_spawnable<T: Send + 'static>(_: &T) {}
    let auth0 = Auth0Client::builder()
        .domain("a.auth0.com")
        .management_token(secrecy::SecretString::from("t"))
        .build()
        .unwrap();
    assert_spawnable(&auth0.clients().list().stream());
    assert_spawnable(&auth0.client_grants().list().stream());
    assert_spawnable(&auth0.resource_servers().list().stream());
}
