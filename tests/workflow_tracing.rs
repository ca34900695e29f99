//! The workflow logs each step and every request, and never a secret. Alone in its test
//! binary because it installs a global subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use dcr_tests::Sandboxes;
use dcr_workflow::VerifyOptions;
use dcr_workflow::store::{MemoryStore, SecretStore, admin_secret_key};
use secrecy::ExposeSecret;

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

#[tokio::test]
async fn steps_are_logged_and_secrets_are_not() -> anyhow::Result<()> {
    let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = {
        let buffer = buffer.clone();
        move || BufferWriter(buffer.clone())
    };
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(writer)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .init();

    let s = Sandboxes::start().await?;
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let workflow = s.workflow(store.clone())?;
    let applied = workflow.converge().await?;
    let first = store
        .get(&admin_secret_key(applied.admin_client_id.as_str()))
        .await?
        .unwrap();
    workflow.rotate_secret().await?;
    let second = store
        .get(&admin_secret_key(applied.admin_client_id.as_str()))
        .await?
        .unwrap();
    assert!(workflow.verify(&VerifyOptions::new()).await?.is_success());

    let logs = String::from_utf8(buffer.lock().unwrap().clone())?;
    for step in [
        "Auth0 DCR admin application",
        "Konnect DCR provider",
        "Konnect publication",
        "verification",
    ] {
        assert!(logs.contains(&format!("step={step}")), "no span for {step}");
    }
    assert!(logs.contains("/v2/dcr-providers"), "requests are logged");
    for secret in [
        first.expose_secret().to_owned(),
        second.expose_secret().to_owned(),
        s.auth0.bootstrap_client_secret().expose_secret().to_owned(),
        s.konnect.token().expose_secret().to_owned(),
    ] {
        assert!(!logs.contains(&secret), "a secret reached the logs");
    }
    Ok(())
}
