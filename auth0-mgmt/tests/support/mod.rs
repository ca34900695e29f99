//! What the wiremock-based test binaries share: a client pointed at the mock server,
//! the token endpoint, and a client fixture.
#![allow(dead_code)]

use std::time::Duration;

use auth0_mgmt::{Auth0Client, ClientSecret, RetryConfig};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub(crate) fn fixture_client() -> Value {
    serde_json::from_str(include_str!("../fixtures/client.json")).unwrap()
}

pub(crate) fn client_for(server: &MockServer) -> Auth0Client {
    Auth0Client::builder()
        .domain("acme.us.auth0.com")
        .base_url(server.uri())
        .client_credentials("m2m-id", ClientSecret::new("m2m-secret"))
        .retry(RetryConfig::standard().min_delay(Duration::from_millis(10)))
        .build()
        .unwrap()
}

pub(crate) async fn mount_token(server: &MockServer, expected: u64) {
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_partial_json(json!({
            "grant_type": "client_credentials",
            "client_id": "m2m-id",
            "client_secret": "m2m-secret",
            "audience": "https://acme.us.auth0.com/api/v2/"
        })))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "mgmt-token", "expires_in": 86400, "token_type": "Bearer", "scope": "read:clients"}))
                .set_delay(Duration::from_millis(50)),
        )
        .expect(expected)
        .named("token")
        .mount(server)
        .await;
}
