//! Traces never carry a secret: in a binary of its own, because tracing's callsite
//! interest is global, and a test running beside it without a subscriber could cache "not
//! interested" for the spans this one must see.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use auth0_mgmt::resources::clients::NewClient;
use auth0_mgmt::{Auth0Client, ClientSecret, RetryConfig};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fixture_client() -> Value {
    serde_json::from_str(include_str!("fixtures/client.json")).unwrap()
}

fn client_for(server: &MockServer) -> Auth0Client {
    Auth0Client::builder()
        .domain("acme.us.auth0.com")
        .base_url(server.uri())
        .client_credentials("m2m-id", ClientSecret::new("m2m-secret"))
        .retry(RetryConfig::standard().min_delay(Duration::from_millis(10)))
        .build()
        .unwrap()
}

async fn mount_token(server: &MockServer, expected: u64) {
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

#[tokio::test]
async fn tracing_never_sees_a_secret() {
    // Capture every span and event at TRACE level while a client works.
    #[derive(Clone, Default)]
    struct Sink(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Other tests in this binary may have cached "no interest" for these callsites while no
    // subscriber was set; make them ask again now that one is.
    tracing::callsite::rebuild_interest_cache();

    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("POST"))
        .and(path("/api/v2/clients"))
        .respond_with(ResponseTemplate::new(201).set_body_json(fixture_client()))
        .mount(&server)
        .await;
    let app = client_for(&server)
        .clients()
        .create(&NewClient::machine_to_machine("x"))
        .await
        .unwrap();
    assert!(app.client_secret.is_some());
    let logged = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("url.template"), "spans were recorded: {logged}");
    for secret in ["m2m-secret", "mgmt-token", "MG_TNT2ver"] {
        assert!(!logged.contains(secret), "{secret} leaked into traces");
    }
}
