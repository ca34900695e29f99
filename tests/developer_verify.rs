//! `verify` as the guide's developer ([`VerifyMode::Developer`]): each broken link is
//! named, and what verify created is gone on every path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use dcr_client_core::sandbox::Fault;
use dcr_tests::Sandboxes;
use dcr_workflow::store::MemoryStore;
use dcr_workflow::{DcrConfig, Link, Outcome, VerifyMode, VerifyOptions, VerifyReport, Workflow};
use secrecy::SecretString;

async fn converged(config: impl FnOnce(&mut DcrConfig)) -> (Sandboxes, Workflow) {
    let s = Sandboxes::start().await.unwrap();
    let mut c = s.config();
    config(&mut c);
    let workflow = Workflow::builder(c)
        .shared_store(Arc::new(MemoryStore::new()))
        .build()
        .unwrap();
    workflow.converge().await.unwrap();
    (s, workflow)
}

fn detail(report: &VerifyReport, link: Link) -> (&'static str, String) {
    match report.outcome(link) {
        Some(Outcome::Passed(d)) => ("passed", d.clone()),
        Some(Outcome::Failed(d)) => ("failed", d.clone()),
        Some(Outcome::Skipped(d)) => ("skipped", d.clone()),
        _ => ("absent", String::new()),
    }
}

/// Nothing verify made is left: no application, registration or DCR client.
fn nothing_left(s: &Sandboxes) {
    assert!(s.konnect.applications().is_empty(), "{:?}", s.konnect.applications());
    assert!(s.konnect.registrations().is_empty());
    assert!(
        !s.auth0
            .clients()
            .iter()
            .any(|c| c["client_metadata"]["konnect_application_id"].is_string()),
        "a DCR client is left"
    );
}

#[tokio::test]
async fn every_link_passes_on_the_sandboxes_and_nothing_is_left() {
    let (s, workflow) = converged(|_| {}).await;
    // Auto picks the developer mode when the developer's credentials are configured.
    let report = workflow.verify(&VerifyOptions::new()).await.unwrap();
    assert!(report.is_success(), "{report}");
    for link in [
        Link::ProviderCheck,
        Link::SignIn,
        Link::Application,
        Link::Token,
        Link::Signature,
        Link::Issuer,
        Link::Audience,
        Link::Azp,
        Link::Scopes,
        Link::Unregistered,
        Link::ApiRegistration,
        Link::Approval,
        Link::GatewayBasic,
        Link::GatewayBearer,
        Link::Cleanup,
    ] {
        assert_eq!(detail(&report, link).0, "passed", "{link}: {report}");
    }
    assert!(
        detail(&report, Link::Approval)
            .1
            .contains("approved through the admin API"),
        "{report}"
    );
    assert!(detail(&report, Link::Unregistered).1.contains("403"), "{report}");
    assert_eq!(
        s.konnect.request_count("POST", "/api/v3/developer/logout"),
        1,
        "signed out"
    );
    nothing_left(&s);
}

#[tokio::test]
async fn a_wrong_developer_password_breaks_the_sign_in_and_nothing_is_written() {
    let (s, _) = converged(|_| {}).await;
    let mut c = s.config();
    c.konnect.developer_password = Some(SecretString::from("wrong-password"));
    let workflow = Workflow::builder(c)
        .shared_store(Arc::new(MemoryStore::new()))
        .build()
        .unwrap();
    s.clear_logs();
    let report = workflow.verify(&VerifyOptions::new()).await.unwrap();
    let (status, why) = detail(&report, Link::SignIn);
    assert_eq!(status, "failed", "{report}");
    assert!(
        why.contains("401") && why.contains("DCR_KONNECT_DEVELOPER_PASSWORD"),
        "{why}"
    );
    assert_eq!(report.first_failure().map(|c| c.link), Some(Link::SignIn));
    assert_eq!(detail(&report, Link::GatewayBearer).0, "skipped");
    assert_eq!(s.writes(), 0);
    assert!(!why.contains("wrong-password"));
}

#[tokio::test]
async fn a_pending_registration_whose_approval_is_refused_breaks_the_approval_link() {
    let (s, workflow) = converged(|_| {}).await;
    let portal = konnect_appauth::PortalId::new(s.konnect.portal_id());
    s.konnect.inject(
        Fault::status(403)
            .times(10)
            .on("PATCH", &format!("/v3/portals/{portal}/applications/")),
    );
    let report = workflow
        .verify(&VerifyOptions::new().mode(VerifyMode::Developer))
        .await
        .unwrap();
    let (status, why) = detail(&report, Link::Approval);
    assert_eq!(status, "failed", "{report}");
    assert!(why.contains("pending") && why.contains("refused to approve"), "{why}");
    assert_eq!(detail(&report, Link::ApiRegistration).0, "passed");
    assert_eq!(detail(&report, Link::GatewayBasic).0, "skipped");
    assert_eq!(detail(&report, Link::Cleanup).0, "passed", "{report}");
    nothing_left(&s);
}

#[tokio::test]
async fn an_auto_approving_publication_needs_no_approval() {
    let (s, workflow) = converged(|c| c.konnect.auto_approve_registrations = true).await;
    let report = workflow.verify(&VerifyOptions::new()).await.unwrap();
    assert!(report.is_success(), "{report}");
    assert!(
        detail(&report, Link::Approval).1.contains("approved at once"),
        "{report}"
    );
    assert_eq!(
        s.konnect.request_count(
            "PATCH",
            "/v3/portals/{portalId}/applications/{applicationId}/registrations/{registrationId}"
        ),
        0
    );
}

#[tokio::test]
async fn without_client_credentials_basic_is_refused_and_bearer_passes() {
    let (s, workflow) = converged(|c| c.konnect.auth_methods = vec!["bearer".into(), "session".into()]).await;
    let report = workflow.verify(&VerifyOptions::new()).await.unwrap();
    assert!(report.is_success(), "{report}");
    let (status, why) = detail(&report, Link::GatewayBasic);
    assert_eq!(status, "passed");
    assert!(
        why.contains("401") && why.contains("does not enable client_credentials"),
        "{why}"
    );
    assert!(
        detail(&report, Link::GatewayBearer).1.ends_with("answered 200"),
        "{report}"
    );
    nothing_left(&s);
}

#[tokio::test]
async fn a_gateway_that_lets_an_unregistered_application_through_fails_the_negative_check() {
    let (s, workflow) = converged(|_| {}).await;
    // Any URL that answers 200 to everyone stands in for a gateway without the plugin.
    let open = url::Url::parse(&format!("{}/.well-known/jwks.json", s.auth0.uri())).unwrap();
    let report = workflow.verify(&VerifyOptions::new().gateway_url(open)).await.unwrap();
    let (status, why) = detail(&report, Link::Unregistered);
    assert_eq!(status, "failed", "{report}");
    assert!(why.contains("does not enforce registrations"), "{why}");
    assert_eq!(detail(&report, Link::Cleanup).0, "passed");
    nothing_left(&s);
}

#[tokio::test]
async fn a_lost_cleanup_answer_is_repeated_and_counts_as_removed() {
    let (s, workflow) = converged(|_| {}).await;
    s.konnect.inject(Fault::drop_after_processing().on(
        "DELETE",
        &format!("/portal/{}/api/v3/applications/", s.konnect.portal_id()),
    ));
    let report = workflow.verify(&VerifyOptions::new()).await.unwrap();
    assert!(report.is_success(), "{report}");
    assert_eq!(detail(&report, Link::Cleanup), ("passed", "removed".to_owned()));
    assert_eq!(
        s.konnect
            .request_count("DELETE", "/api/v3/applications/{applicationId}"),
        2
    );
    nothing_left(&s);
}

#[tokio::test]
async fn a_failed_registration_at_auth0_is_named_and_leaves_nothing() {
    let (s, workflow) = converged(|_| {}).await;
    // Konnect's DCR call to create the client is throttled (Konnect does not retry it):
    // the portal refuses the application.
    s.auth0.inject(
        dcr_sandbox::auth0::Fault::status(429)
            .times(5)
            .on("POST", "/api/v2/clients"),
    );
    let report = workflow.verify(&VerifyOptions::new()).await.unwrap();
    let (status, why) = detail(&report, Link::Application);
    assert_eq!(status, "failed", "{report}");
    assert!(why.contains("could not create the application"), "{why}");
    assert_eq!(
        detail(&report, Link::Cleanup),
        ("passed", "nothing was created".to_owned())
    );
    nothing_left(&s);
}

#[test]
fn the_developer_password_comes_from_the_environment_only() {
    let err = DcrConfig::from_toml_str("[konnect]\ndeveloper_password = \"hunter2\"\n").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("DCR_KONNECT_DEVELOPER_PASSWORD") && !text.contains("hunter2"),
        "{text}"
    );
    let mut c = DcrConfig::default();
    c.konnect.developer_email = Some("dev@example.com".into());
    let err = c.validate().unwrap_err().to_string();
    assert!(err.contains("konnect.developer_password"), "{err}");
    c.konnect.developer_email = Some("not-an-email".into());
    c.konnect.developer_password = Some(SecretString::from("pw"));
    c.konnect.gateway_url = Some("ftp://gateway".into());
    let err = c.validate().unwrap_err().to_string();
    assert!(
        err.contains("konnect.developer_email") && err.contains("konnect.gateway_url"),
        "{err}"
    );
}

/// A developer-mode verify whose create answer is lost cannot know what it made; the
/// application carries verify's name and description (the developer API takes no
/// labels), so `audit` reports it and `destroy` removes it with its Auth0 client.
#[tokio::test]
async fn a_lost_create_answer_is_reported_and_what_it_left_is_found_by_audit_and_destroy() {
    let (s, workflow) = converged(|_| {}).await;
    s.konnect.inject(Fault::drop_after_processing().on(
        "POST",
        &format!("/portal/{}/api/v3/applications", s.konnect.portal_id()),
    ));
    let report = workflow.verify(&VerifyOptions::new()).await.unwrap();
    assert_eq!(detail(&report, Link::Application).0, "failed", "{report}");
    let (status, why) = detail(&report, Link::Cleanup);
    assert_eq!(status, "failed", "{report}");
    assert!(why.contains("dcr audit") && why.contains("dcr destroy"), "{why}");
    let left = s.konnect.applications();
    assert_eq!(left.len(), 1, "Konnect created it");
    let audit = workflow.audit().await.unwrap();
    let reported: Vec<&str> = audit
        .verify_leftovers
        .iter()
        .filter(|l| l.kind == "portal application")
        .map(|l| l.id.as_str())
        .collect();
    assert_eq!(reported, vec![left[0]["id"].as_str().unwrap()], "{audit}");
    workflow.destroy().await.unwrap();
    nothing_left(&s);
}
