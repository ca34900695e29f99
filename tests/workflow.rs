//! The workflow end to end on the sandboxes: apply, re-apply, drift, destroy, rotate,
//! verify and audit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use auth0_mgmt::oauth::ClientCredentialsRequest;
use auth0_mgmt::resources::client_grants::ClientGrantUpdate;
use auth0_mgmt::resources::clients::NewClient;
use auth0_mgmt::resources::resource_servers::{NewResourceServer, ResourceServerScope, ResourceServerUpdate};
use auth0_mgmt::{ClientId, ClientSecret};
use dcr_tests::{API_AUDIENCE, API_SCOPE, Sandboxes, changed_fields};
use dcr_workflow::store::{EnvStore, MemoryStore, SecretStore, admin_secret_key};
use dcr_workflow::{Action, Link, Outcome, StepId, VerifyMode, VerifyOptions, WorkflowError};
use konnect_appauth::resources::apis::PublicationRequest;
use konnect_appauth::resources::auth_strategies::{AuthStrategyUpdate, OidcConfigUpdate};
use konnect_appauth::resources::dcr_providers::{DcrConfigUpdate, DcrProviderUpdate};
use konnect_appauth::resources::portal_applications::{NewApplication, Owner};
use secrecy::{ExposeSecret, SecretString};

fn store() -> Arc<dyn SecretStore> {
    Arc::new(MemoryStore::new())
}

fn names(values: &[serde_json::Value], key: &str, wanted: &str) -> usize {
    values.iter().filter(|v| v[key] == wanted).count()
}

#[tokio::test]
async fn fresh_apply_then_second_apply_writes_nothing() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let store = store();
    let workflow = s.workflow(store.clone())?;

    let plan = workflow.plan().await?;
    assert_eq!(s.writes(), 0, "plan only reads");
    assert_eq!(plan.counts(), (7, 0, 0), "{plan}");
    let text = plan.to_string();
    assert!(
        text.contains("+ Auth0 DCR admin application \"Konnect Portal DCR Admin\""),
        "{text}"
    );
    assert!(text.contains("client_secret = (sensitive)"), "{text}");
    assert!(text.contains("(known after apply)"), "{text}");

    let applied = workflow.apply(&plan).await?;
    assert!(applied.steps.iter().all(|s| matches!(s.action, Action::Create(_))));
    assert!(
        !applied
            .steps
            .iter()
            .any(|s| s.to_string().contains("known after apply"))
    );
    let secret = store
        .get(&admin_secret_key(applied.admin_client_id.as_str()))
        .await?
        .expect("the admin secret is stored");
    // The admin app has exactly the Management API scopes Konnect needs.
    let grants = s.auth0.client_grants();
    let grant = grants
        .iter()
        .find(|g| g["client_id"] == applied.admin_client_id.as_str())
        .expect("admin grant");
    let mut scopes: Vec<&str> = grant["scope"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    scopes.sort();
    let mut wanted = konnect_appauth::resources::dcr_providers::AUTH0_DCR_SCOPES.to_vec();
    wanted.sort();
    assert_eq!(scopes, wanted);
    // Konnect got the same secret the store holds.
    assert_eq!(
        s.konnect
            .provider_secret(applied.provider.id.as_str())
            .unwrap()
            .expose_secret(),
        secret.expose_secret()
    );
    let report = workflow.verify(&VerifyOptions::new()).await?;
    assert!(report.is_success(), "{report}");
    // No secret in anything printable.
    let printed = format!(
        "{plan}{plan:?}{applied:?}{workflow:?}{report}{report:?}{:?}",
        workflow.config()
    );
    for secret in [
        secret.expose_secret().to_owned(),
        s.auth0.bootstrap_client_secret().expose_secret().to_owned(),
        s.konnect.token().expose_secret().to_owned(),
    ] {
        assert!(!printed.contains(&secret), "a secret leaked into Debug/Display output");
    }

    s.clear_logs();
    let again = workflow.plan().await?;
    assert!(again.is_empty(), "{again}");
    workflow.apply(&again).await?;
    assert_eq!(s.auth0.write_count(), 0, "{:?}", s.auth0.requests());
    assert_eq!(s.konnect.write_count(), 0, "{:?}", s.konnect.requests());
    // Warm: the admin app is found through the provider, not by scanning every client.
    assert_eq!(s.auth0.request_count("GET", "/api/v2/clients"), 0);
    Ok(())
}

#[tokio::test]
async fn publication_visibility_and_auto_approve_drift_is_corrected_both_ways() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let workflow = s.workflow(store())?;
    let applied = workflow.converge().await?;
    let portal = konnect_appauth::PortalId::new(s.konnect.portal_id());
    let publication = || async {
        s.konnect_client
            .apis()
            .publication(&applied.api_ids[0], &portal)
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(
        publication().await.visibility,
        konnect_appauth::resources::apis::Visibility::Public
    );

    // Switched to private and auto-approving by hand, strategy kept.
    s.konnect_client
        .apis()
        .publish(
            &applied.api_ids[0],
            &portal,
            &PublicationRequest::new()
                .auth_strategy(applied.strategy.id.clone())
                .visibility(konnect_appauth::resources::apis::Visibility::Private)
                .auto_approve_registrations(true),
        )
        .await?;
    let plan = workflow.plan().await?;
    assert_eq!(
        changed_fields(&plan, StepId::Publication),
        ["visibility", "auto_approve_registrations"],
        "{plan}"
    );
    assert!(plan.to_string().contains("visibility: private -> public"), "{plan}");
    workflow.apply(&plan).await?;
    let now = publication().await;
    assert_eq!(now.visibility, konnect_appauth::resources::apis::Visibility::Public);
    assert_eq!(now.auto_approve_registrations, Some(false));
    assert!(workflow.plan().await?.is_empty());

    // And the configuration can ask for the other way round.
    let mut config = s.config();
    config.konnect.visibility = "private".into();
    config.konnect.auto_approve_registrations = true;
    let private = dcr_workflow::Workflow::builder(config).shared_store(store()).build()?;
    // A fresh store: the admin secret is not there, so that step rotates; the
    // publication's two settings change.
    let plan = private.plan().await?;
    assert_eq!(
        changed_fields(&plan, StepId::Publication),
        ["visibility", "auto_approve_registrations"],
        "{plan}"
    );
    private.apply(&plan).await?;
    let now = publication().await;
    assert_eq!(now.visibility, konnect_appauth::resources::apis::Visibility::Private);
    assert_eq!(now.auto_approve_registrations, Some(true));
    Ok(())
}

#[tokio::test]
async fn drift_in_each_resource_is_detected_and_corrected() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let workflow = s.workflow(store())?;
    let applied = workflow.converge().await?;
    let a = &s.auth0_client;
    let k = &s.konnect_client;

    // Someone narrows the admin grant, edits the API, flips provider and strategy
    // settings and unpublishes the strategy.
    let grant = s.admin_grant(&applied.admin_client_id).await?;
    a.client_grants()
        .update(&grant.id, &ClientGrantUpdate::new().scope(["read:clients"]))
        .await?;
    let server = a.resource_servers().get(API_AUDIENCE).await?;
    a.resource_servers()
        .update(
            &server.id,
            &ResourceServerUpdate::new()
                .name("renamed")
                .scopes([ResourceServerScope::new("other", "Other")]),
        )
        .await?;
    k.dcr_providers()
        .update(
            &applied.provider.id,
            &DcrProviderUpdate::new()
                .for_auth0()
                .dcr_config(DcrConfigUpdate::new().use_developer_managed_scopes(true)),
        )
        .await?;
    k.auth_strategies()
        .update(
            &applied.strategy.id,
            &AuthStrategyUpdate::new()
                .openid_connect(OidcConfigUpdate::new().scopes(["openid"]).audience("https://wrong")),
        )
        .await?;
    k.apis()
        .publish(
            &applied.api_ids[0],
            &konnect_appauth::PortalId::new(s.konnect.portal_id()),
            &PublicationRequest::new().no_auth_strategy(),
        )
        .await?;

    a.clients()
        .update(
            &applied.admin_client_id,
            &auth0_mgmt::resources::clients::ClientUpdate::new().grant_types([
                auth0_mgmt::GrantType::ClientCredentials,
                auth0_mgmt::GrantType::Implicit,
            ]),
        )
        .await?;

    let plan = workflow.plan().await?;
    let fields = |step| changed_fields(&plan, step);
    assert_eq!(fields(StepId::AdminGrant), ["scope"], "{plan}");
    assert_eq!(fields(StepId::ApiAudience), ["name", "scopes"], "{plan}");
    // Konnect's provider check fails too (the grant lost its scopes), so the stored
    // secret, which still works, is sent again with the correction.
    assert_eq!(
        fields(StepId::DcrProvider),
        [
            "dcr_config.use_developer_managed_scopes",
            "dcr_config.initial_client_secret"
        ],
        "{plan}"
    );
    assert_eq!(fields(StepId::AuthStrategy), ["scopes", "audience"], "{plan}");
    // The PUT without a visibility also made it private (Konnect's default).
    assert_eq!(
        fields(StepId::Publication),
        ["auth_strategy_ids", "visibility"],
        "{plan}"
    );
    assert_eq!(fields(StepId::AdminApp), ["grant_types"], "{plan}");
    assert_eq!(plan.counts(), (0, 6, 1), "{plan}");

    let servers_before = s.auth0.resource_servers().len();
    workflow.apply(&plan).await?;
    assert!(workflow.plan().await?.is_empty());
    assert_eq!(s.auth0.resource_servers().len(), servers_before, "corrected in place");
    let server = a.resource_servers().get(API_AUDIENCE).await?;
    assert_eq!(server.scope_values(), [API_SCOPE]);
    assert!(workflow.verify(&VerifyOptions::new()).await?.is_success());
    Ok(())
}

#[tokio::test]
async fn destroy_removes_what_it_owns_and_nothing_else() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let a = &s.auth0_client;
    // Things that were there before: an unrelated app, and the API itself.
    let bystander = a.clients().create(&NewClient::machine_to_machine("billing")).await?;
    a.resource_servers()
        .create(
            &NewResourceServer::new(API_AUDIENCE)
                .name("Orders (hand-made)")
                .scopes([ResourceServerScope::new("write:orders", "Write orders")]),
        )
        .await?;
    let store = store();
    let workflow = s.workflow(store.clone())?;
    let plan = workflow.plan().await?;
    let api_step = plan.step(StepId::ApiAudience).unwrap();
    assert!(
        api_step.note.as_deref().unwrap().contains("not created by dcr-rs"),
        "{plan}"
    );
    let applied = workflow.apply(&plan).await?;
    let server = a.resource_servers().get(API_AUDIENCE).await?;
    assert_eq!(server.name.as_deref(), Some("Orders (hand-made)"), "name untouched");
    assert_eq!(
        server.scope_values(),
        ["write:orders", API_SCOPE],
        "only the missing scope added"
    );

    // The preview (what a confirmation shows) writes nothing and says exactly what
    // destroy then does.
    s.clear_logs();
    let preview = workflow.destroy_preview().await?;
    assert_eq!(s.writes(), 0, "a preview only reads");
    let destroyed = workflow.destroy().await?;
    assert_eq!(preview.removed, destroyed.removed);
    assert_eq!(preview.kept, destroyed.kept);
    let removed: Vec<StepId> = destroyed.removed.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        removed,
        [
            StepId::Publication,
            StepId::KonnectApi,
            StepId::AuthStrategy,
            StepId::DcrProvider,
            StepId::AdminGrant,
            StepId::AdminApp
        ]
    );
    assert_eq!(destroyed.kept, [(StepId::ApiAudience, API_AUDIENCE.to_owned())]);
    assert!(a.clients().get_opt(&applied.admin_client_id).await?.is_none());
    assert!(a.clients().get_opt(&bystander.client_id).await?.is_some());
    assert!(a.resource_servers().get_opt(API_AUDIENCE).await?.is_some());
    assert!(s.konnect.dcr_providers().is_empty());
    assert!(s.konnect.auth_strategies().is_empty());
    assert!(s.konnect.apis().is_empty());
    assert!(
        store
            .get(&admin_secret_key(applied.admin_client_id.as_str()))
            .await?
            .is_none()
    );

    s.clear_logs();
    let twice = workflow.destroy().await?;
    assert!(twice.removed.is_empty());
    assert_eq!(s.writes(), 0);
    Ok(())
}

#[tokio::test]
async fn destroy_removes_a_resource_server_it_created() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let workflow = s.workflow(store())?;
    workflow.converge().await?;
    let destroyed = workflow.destroy().await?;
    assert!(destroyed.kept.is_empty(), "{destroyed:?}");
    assert!(s.auth0_client.resource_servers().get_opt(API_AUDIENCE).await?.is_none());
    assert_eq!(names(&s.auth0.clients(), "name", "Konnect Portal DCR Admin"), 0);
    Ok(())
}

#[tokio::test]
async fn rotation_gives_konnect_the_new_secret_and_kills_the_old_one() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let store = store();
    let workflow = s.workflow(store.clone())?;
    let applied = workflow.converge().await?;
    let key = admin_secret_key(applied.admin_client_id.as_str());
    let old = store.get(&key).await?.unwrap();

    let rotated = workflow.rotate_secret().await?;
    assert!(rotated.provider_updated);
    let new = store.get(&key).await?.unwrap();
    assert_ne!(new.expose_secret(), old.expose_secret());
    assert_eq!(
        s.konnect
            .provider_secret(applied.provider.id.as_str())
            .unwrap()
            .expose_secret(),
        new.expose_secret()
    );
    let token = |secret: &SecretString| {
        ClientCredentialsRequest::new(
            applied.admin_client_id.clone(),
            ClientSecret::from(SecretString::from(secret.expose_secret().to_owned())),
            s.auth0.management_audience(),
        )
    };
    let refused = s
        .auth0_client
        .oauth()
        .client_credentials(&token(&old))
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(401), "{refused}");
    s.auth0_client.oauth().client_credentials(&token(&new)).await?;
    // Konnect can still register developers' applications.
    let report = workflow
        .verify(&VerifyOptions::new().mode(VerifyMode::PortalApplication))
        .await?;
    assert!(report.is_success(), "{report}");
    assert!(workflow.plan().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn verify_names_the_broken_link() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let workflow = s.workflow(store())?;
    let applied = workflow.converge().await?;
    for mode in [VerifyMode::PortalApplication, VerifyMode::Auth0Client] {
        let report = workflow.verify(&VerifyOptions::new().mode(mode)).await?;
        assert!(report.is_success(), "{mode:?}: {report}");
        assert_eq!(report.outcome(Link::Cleanup), Some(&Outcome::Passed("removed".into())));
    }
    let k = &s.konnect_client;

    // Wrong audience on the strategy: Konnect cannot grant the registered client.
    k.auth_strategies()
        .update(
            &applied.strategy.id,
            &AuthStrategyUpdate::new().openid_connect(OidcConfigUpdate::new().audience("https://wrong.example.com")),
        )
        .await?;
    let report = workflow
        .verify(&VerifyOptions::new().mode(VerifyMode::PortalApplication))
        .await?;
    assert_eq!(
        report.first_failure().map(|c| c.link),
        Some(Link::Registration),
        "{report}"
    );
    // As a developer, the same failure breaks the application link.
    let report = workflow.verify(&VerifyOptions::new()).await?;
    assert_eq!(
        report.first_failure().map(|c| c.link),
        Some(Link::Application),
        "{report}"
    );
    workflow.converge().await?;

    // A missing scope on the admin grant: Konnect's own check names it.
    let grant = s.admin_grant(&applied.admin_client_id).await?;
    s.auth0_client
        .client_grants()
        .update(
            &grant.id,
            &ClientGrantUpdate::new().scope(["read:clients", "create:clients", "update:clients", "delete:clients"]),
        )
        .await?;
    let report = workflow.verify(&VerifyOptions::new()).await?;
    let failure = report.first_failure().expect("a failure");
    assert_eq!(failure.link, Link::ProviderCheck, "{report}");
    assert!(
        format!("{:?}", failure.outcome).contains("create:client_grants"),
        "{report}"
    );
    workflow.converge().await?;

    // A wrong secret in Konnect.
    k.dcr_providers()
        .update(
            &applied.provider.id,
            &DcrProviderUpdate::new()
                .for_auth0()
                .dcr_config(DcrConfigUpdate::new().initial_client_secret(SecretString::from("wrong"))),
        )
        .await?;
    let report = workflow.verify(&VerifyOptions::new()).await?;
    assert_eq!(
        report.first_failure().map(|c| c.link),
        Some(Link::ProviderCheck),
        "{report}"
    );
    assert!(!report.to_string().contains("wrong\""), "{report}");
    // Rotation repairs it.
    workflow.rotate_secret().await?;
    assert!(workflow.verify(&VerifyOptions::new()).await?.is_success());
    Ok(())
}

#[tokio::test]
async fn audit_finds_planted_orphans_on_both_sides() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let workflow = s.workflow(store())?;
    let applied = workflow.converge().await?;
    let apps = s.konnect_client.portal_applications(s.konnect.portal_id());
    let mut created = Vec::new();
    for i in 0..4 {
        let app = apps
            .create(
                &NewApplication::new(format!("app {i}"), Owner::developer(s.konnect.developer_id()))
                    .auth_strategy(applied.strategy.id.clone()),
            )
            .await?;
        created.push(app.application);
    }
    assert!(workflow.audit().await?.is_clean());
    // Orphan client: the application vanishes without Konnect deleting its client.
    s.konnect.remove_application(created[0].id.as_str());
    // Orphan application: its Auth0 client is deleted behind Konnect's back.
    let lost_client = created[1].client_id.clone().unwrap();
    s.auth0_client
        .clients()
        .delete(&ClientId::new(lost_client.clone()))
        .await?;

    let report = workflow.audit().await?;
    assert_eq!(report.applications, 3, "{report}");
    assert_eq!(report.orphan_clients.len(), 1, "{report}");
    assert_eq!(report.orphan_clients[0].application_id, created[0].id.as_str());
    assert_eq!(
        report.orphan_clients[0].client_id,
        created[0].client_id.clone().unwrap()
    );
    assert_eq!(report.orphan_applications.len(), 1, "{report}");
    assert_eq!(report.orphan_applications[0].application_id, created[1].id.as_str());
    assert_eq!(report.orphan_applications[0].client_id, lost_client);
    Ok(())
}

#[tokio::test]
async fn bad_configuration_is_refused_before_any_request() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let mut config = s.config();
    config.auth0.domain = format!("{}/", config.auth0.domain);
    config.konnect.scopes = Some(vec![API_SCOPE.to_owned()]);
    config.konnect.auth_methods = vec!["client_credentials".into(), "telepathy".into()];
    let err = dcr_workflow::Workflow::new(config, MemoryStore::new()).unwrap_err();
    let problems = err.config_problems().expect("config error");
    assert!(problems.names("auth0.domain"), "{err}");
    assert!(problems.names("konnect.scopes"), "{err}");
    assert!(problems.names("konnect.auth_methods[1]"), "{err}");
    assert_eq!(s.auth0.requests().len() + s.konnect.requests().len(), 0);
    Ok(())
}

#[tokio::test]
async fn a_same_named_app_it_did_not_create_is_left_alone() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    s.auth0_client
        .clients()
        .create(&NewClient::machine_to_machine("Konnect Portal DCR Admin"))
        .await?;
    let workflow = s.workflow(store())?;
    s.clear_logs();
    let err = workflow.plan().await.unwrap_err();
    assert!(matches!(err, WorkflowError::NotOwned { .. }), "{err}");
    assert!(err.to_string().contains("managed_by=dcr-rs"), "{err}");
    assert_eq!(s.writes(), 0);
    Ok(())
}

#[tokio::test]
async fn a_read_only_store_fails_before_creating_anything() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let workflow = s.workflow(Arc::new(EnvStore::new("DCR_TEST_NEVER_SET_")))?;
    let plan = workflow.plan().await?;
    let err = workflow.apply(&plan).await.unwrap_err();
    assert!(matches!(err, WorkflowError::ReadOnlyStore { .. }), "{err}");
    assert_eq!(s.writes(), 0);
    Ok(())
}

#[tokio::test]
async fn verify_calls_the_gateway_with_the_token() -> anyhow::Result<()> {
    use wiremock::matchers::{header_regex, method};
    let s = Sandboxes::start().await?;
    let workflow = s.workflow(store())?;
    workflow.converge().await?;
    let gateway = wiremock::MockServer::start().await;
    // Like a gateway's OIDC plugin: a bearer JWT gets through, anything else is refused.
    wiremock::Mock::given(method("GET"))
        .and(header_regex("authorization", r"^Bearer [\w-]+\.[\w-]+\.[\w-]+$"))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&gateway)
        .await;
    wiremock::Mock::given(method("GET"))
        .respond_with(wiremock::ResponseTemplate::new(401))
        .mount(&gateway)
        .await;
    let url: url::Url = format!("{}/orders", gateway.uri()).parse()?;
    // This mock does not enforce registrations, which the developer mode checks: the
    // admin API's portal application is enough to prove the token reaches it.
    let report = workflow
        .verify(
            &VerifyOptions::new()
                .gateway_url(url)
                .mode(VerifyMode::PortalApplication),
        )
        .await?;
    assert!(report.is_success(), "{report}");
    assert!(
        matches!(report.outcome(Link::Gateway), Some(Outcome::Passed(t)) if t.contains("200")),
        "{report}"
    );

    // A gateway that refuses the token is the broken link.
    let refusing = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("GET"))
        .respond_with(wiremock::ResponseTemplate::new(403))
        .mount(&refusing)
        .await;
    let report = workflow
        .verify(
            &VerifyOptions::new()
                .gateway_url(refusing.uri().parse()?)
                .mode(VerifyMode::PortalApplication),
        )
        .await?;
    assert_eq!(report.first_failure().map(|c| c.link), Some(Link::Gateway), "{report}");
    Ok(())
}

#[tokio::test]
async fn a_custom_domain_is_the_issuer_and_the_management_api_the_client_audience() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    s.konnect.route_issuer("https://login.example.com", &s.auth0.uri());
    let mut config = s.config();
    config.auth0.custom_domain = Some("login.example.com".into());
    let workflow = dcr_workflow::Workflow::new(config, MemoryStore::new())?;
    let applied = workflow.converge().await?;
    let provider = s.konnect_client.dcr_providers().get(&applied.provider.id).await?;
    assert_eq!(provider.issuer, "https://login.example.com");
    let konnect_appauth::resources::dcr_providers::DcrConfig::Auth0(auth0) = &provider.config else {
        panic!("not an auth0 provider");
    };
    assert_eq!(
        auth0.initial_client_audience.as_deref(),
        Some(s.auth0.management_audience().as_str())
    );
    let oidc = applied.strategy.config.as_openid_connect().unwrap();
    assert_eq!(oidc.issuer, "https://login.example.com");
    assert!(workflow.plan().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn renaming_the_admin_app_in_the_config_renames_it_in_place() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let store = store();
    let applied = s.workflow(store.clone())?.converge().await?;
    let mut config = s.config();
    config.auth0.admin_app_name = "DCR admin (renamed)".into();
    let workflow = dcr_workflow::Workflow::builder(config).shared_store(store).build()?;
    let plan = workflow.plan().await?;
    assert_eq!(changed_fields(&plan, StepId::AdminApp), ["name"], "{plan}");
    assert_eq!(plan.counts(), (0, 1, 6), "{plan}");
    workflow.apply(&plan).await?;
    let admin = s.auth0_client.clients().get(&applied.admin_client_id).await?;
    assert_eq!(admin.name, "DCR admin (renamed)");
    assert_eq!(
        names(&s.auth0.clients(), "name", "Konnect Portal DCR Admin"),
        0,
        "no second app"
    );
    assert!(workflow.plan().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn audit_walks_every_page_on_both_sides() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let workflow = s.workflow(store())?;
    let applied = workflow.converge().await?;
    let apps = s.konnect_client.portal_applications(s.konnect.portal_id());
    for i in 0..105 {
        apps.create(
            &NewApplication::new(format!("app {i}"), Owner::developer(s.konnect.developer_id()))
                .auth_strategy(applied.strategy.id.clone()),
        )
        .await?;
    }
    // 60 clients Konnect registered for applications that no longer exist.
    let portal = s.konnect.portal_id().to_string();
    for i in 0..60 {
        s.auth0
            .insert_client(serde_json::json!({
                "name": format!("gone {i}"),
                "app_type": "non_interactive",
                "client_metadata": {
                    "konnect_portal_id": portal,
                    "konnect_application_id": format!("gone-{i}"),
                    "konnect_developer_id": "d",
                    "konnect_org_id": "o"
                }
            }))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    s.clear_logs();
    let report = workflow.audit().await?;
    assert_eq!(report.applications, 105, "{report}");
    assert_eq!(report.orphan_clients.len(), 60, "{report}");
    assert!(report.orphan_applications.is_empty(), "{report}");
    // 105 applications in pages of 100; 167+ clients in pages of Auth0's default size.
    assert_eq!(s.konnect.request_count("GET", "/v3/portals/{portalId}/applications"), 2);
    assert!(s.auth0.request_count("GET", "/api/v2/clients") >= 2);
    assert!(report.auth0_clients >= 167, "{report}");
    Ok(())
}

/// Each cause is said once in the printed chain (it was "X: Y: X: Y").
#[tokio::test]
async fn an_error_chain_says_each_cause_once() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let mut config = s.config();
    config.auth0.client_secret = Some(SecretString::from("not the bootstrap secret"));
    let workflow = dcr_workflow::Workflow::new(config, MemoryStore::new())?;
    let err = anyhow::Error::from(workflow.converge().await.unwrap_err());
    let chain: Vec<String> = err.chain().map(ToString::to_string).collect();
    for (i, cause) in chain.iter().enumerate() {
        for later in &chain[i + 1..] {
            assert!(
                !cause.contains(later.as_str()),
                "repeated cause {later:?} in {chain:#?}"
            );
        }
    }
    let printed = format!("{err:#}");
    // Said as what it is, with what to do: not "DCR admin application: unauthorized".
    assert!(
        printed.starts_with("Auth0 refused the bootstrap credentials") && printed.contains("DCR_AUTH0_CLIENT_SECRET"),
        "{printed}"
    );
    assert!(printed.contains("401"), "{printed}");
    Ok(())
}

/// A portal id that names no portal, or an API id that names no API, is refused by
/// `plan`'s reads before the first write, naming the config field.
#[tokio::test]
async fn a_missing_portal_or_api_is_refused_before_any_write() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let mut config = s.config();
    config.konnect.portal_id = "00000000-0000-4000-8000-000000000000".into();
    let workflow = dcr_workflow::Workflow::builder(config)
        .store(MemoryStore::new())
        .build()?;
    let err = workflow.converge().await.unwrap_err();
    assert!(
        matches!(
            err,
            WorkflowError::Missing {
                resource: "Konnect portal",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("konnect.portal_id"), "{err}");
    // Known from the portal's publication list (404), which a run reads anyway.
    assert_eq!(
        s.konnect
            .request_count("GET", "/v3/portals/{portalId}/api-publications"),
        1
    );
    let mut config = s.config();
    config.konnect.api_name = None;
    config.konnect.api_id = Some("00000000-0000-4000-8000-000000000001".into());
    let workflow = dcr_workflow::Workflow::builder(config)
        .store(MemoryStore::new())
        .build()?;
    let err = workflow.converge().await.unwrap_err();
    assert!(err.to_string().contains("konnect.api_id"), "{err}");
    assert_eq!(s.writes(), 0, "nothing was written");
    // A warm run does not ask for the portal: its publication exists.
    let workflow = s.workflow(store())?;
    workflow.converge().await?;
    s.clear_logs();
    assert!(workflow.plan().await?.is_empty());
    assert_eq!(s.konnect.request_count("GET", "/v3/portals/{portalId}"), 0);
    Ok(())
}
