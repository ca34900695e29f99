//! Traces never carry a secret: in a binary of its own, because tracing's callsite
//! interest is global, and a test running beside it without a subscriber could cache "not
//! interested" for the spans this one must see.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use support::{client_for, fixture_client, mount_token};

use std::sync::Arc;

use auth0_mgmt::resources::clients::NewClient;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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
