//! The README's examples, run: the same code as its `rust` blocks (which the `dcr-tests`
//! doc-tests compile), so a README example that stops working fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use dcr_sandbox::auth0::Auth0Sandbox;
use dcr_sandbox::konnect::{Fault, KonnectSandbox};
use dcr_workflow::{Action, VerifyOptions, Workflow, sandbox::Sandboxes, store::MemoryStore};
use konnect_appauth::KonnectClient;
use konnect_appauth::resources::dcr_providers::NewDcrProvider;
use secrecy::ExposeSecret;

#[tokio::test]
async fn konnect_reaches_my_auth0_sandbox() -> Result<(), Box<dyn std::error::Error>> {
    let auth0 = Auth0Sandbox::start().await?;
    // DCR traffic for the tenant's issuer goes to the Auth0 sandbox.
    let konnect = KonnectSandbox::builder()
        .route_issuer(format!("https://{}", auth0.domain()), auth0.uri())
        .start()
        .await?;
    let client = KonnectClient::builder()
        .base_url(konnect.uri())
        .token(konnect.token().expose_secret())
        .build()?;
    konnect.inject(Fault::status(503).on("GET", "/v2/dcr-providers"));
    let provider = client
        .dcr_providers()
        .create(&NewDcrProvider::auth0(
            "auth0",
            format!("https://{}", auth0.domain()),
            auth0.bootstrap_client_id(),
            auth0.bootstrap_client_secret().expose_secret().to_owned(),
        ))
        .await?;
    let verdict = client.dcr_providers().verify(&provider.id).await?; // a real token request
    assert!(verdict.is_success(), "{:?}", verdict.errors);
    assert!(!client.dcr_providers().get(&provider.id).await?.active); // retried past the 503; no strategy uses it
    assert_eq!(konnect.request_count("GET", "/v2/dcr-providers/{dcrProviderId}"), 2);
    assert_eq!(auth0.tokens_issued(), 1);
    Ok(())
}

#[tokio::test]
async fn set_up_dcr() -> Result<(), Box<dyn std::error::Error>> {
    let sandboxes = Sandboxes::start().await?; // or DcrConfig::load(Some("dcr.toml".as_ref()))?
    let workflow = Workflow::new(sandboxes.config(), MemoryStore::new())?;

    let plan = workflow.plan().await?; // read requests only
    println!("{plan}"); // `+ Konnect DCR provider "auth0-dcr"` …, secrets as (sensitive)
    assert!(plan.steps.iter().all(|s| matches!(s.action, Action::Create(_))));
    workflow.apply(&plan).await?;

    let report = workflow.verify(&VerifyOptions::new()).await?;
    assert!(report.is_success(), "{report}"); // otherwise: report.first_failure()

    sandboxes.clear_logs();
    workflow.converge().await?; // plan + apply
    assert_eq!(sandboxes.writes(), 0); // a second apply writes nothing

    workflow.rotate_secret().await?; // new secret: store first, then Konnect
    assert!(workflow.audit().await?.is_clean());
    workflow.destroy().await?; // only what it created, newest first
    Ok(())
}
