//! Secrets never reach `Debug` output or tracing logs. Alone in its test binary: a
//! thread-local subscriber does not see callsites whose interest another test thread
//! cached while no subscriber was set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use konnect_appauth::resources::dcr_providers::{DcrConfigUpdate, DcrProviderUpdate, NewDcrProvider};
use konnect_appauth::{KonnectClient, RetryConfig};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "kpat_test0123456789";

fn provider_json() -> serde_json::Value {
    json!({
        "id": "7e1b7ed4-6c5b-4f4a-8f44-5d1e2f3a4b5c", "name": "auth0", "provider_type": "auth0",
        "issuer": "https://acme.us.auth0.com", "active": false,
        "dcr_config": {"initial_client_id": "admin", "initial_client_audience": null},
        "labels": {}, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
    })
}

fn client(server: &MockServer) -> KonnectClient {
    KonnectClient::builder()
        .base_url(server.uri())
        .token(TOKEN)
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn secrets_never_reach_debug_output_or_logs() {
    use tracing_subscriber::layer::SubscriberExt;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/dcr-providers"))
        .respond_with(ResponseTemplate::new(201).set_body_json(provider_json()))
        .mount(&server)
        .await;
    let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = {
        let buffer = buffer.clone();
        move || BufferWriter(buffer.clone())
    };
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_ansi(false)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE),
    );
    let _guard = tracing::subscriber::set_default(subscriber);
    let request = NewDcrProvider::auth0("a", "https://acme.us.auth0.com", "id", "initial-SECRET-1")
        .developer_managed_scopes(false);
    let update = DcrProviderUpdate::new().dcr_config(DcrConfigUpdate::new().initial_client_secret("rotated-SECRET-2"));
    let konnect = client(&server);
    konnect.dcr_providers().create(&request).await.unwrap();
    let debug = format!("{request:?} {update:?} {konnect:?}");
    let logs = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("/v2/dcr-providers"), "the span was logged: {logs}");
    for text in [&debug, &logs] {
        assert!(!text.contains("SECRET"), "{text}");
        assert!(!text.contains(TOKEN), "{text}");
    }
}

#[derive(Clone)]
struct BufferWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for BufferWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
