//! Adopting a setup made by hand, exactly as Kong's Auth0 DCR guide describes it, through
//! the two services' own APIs (no workflow code): `plan --adopt` shows only adoptions,
//! `apply` marks and corrects, the next run writes nothing, `verify` passes and `destroy`
//! removes what was adopted. Plus the refusals: two unmarked namesakes nothing links, a
//! provider of another type; and a bootstrap that cannot read secrets (rotation).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dcr_workflow::sandbox::Auth0SandboxClients as _;
use std::sync::Arc;

use auth0_mgmt::oauth::ClientCredentialsRequest;
use auth0_mgmt::resources::client_grants::NewClientGrant;
use auth0_mgmt::resources::clients::NewClient;
use auth0_mgmt::{ClientId, ClientSecret};
use dcr_tests::{API_AUDIENCE, API_NAME, Sandboxes, changed_fields};
use dcr_workflow::store::{MemoryStore, SecretStore, admin_secret_key};
use dcr_workflow::{Action, PlanOptions, StepId, VerifyOptions, Workflow, WorkflowError};
use konnect_appauth::resources::apis::PublicationRequest;
use konnect_appauth::resources::auth_strategies::AuthStrategy;
use konnect_appauth::resources::dcr_providers::{AUTH0_DCR_SCOPES, DcrProvider, NewDcrProvider};
use secrecy::ExposeSecret;

fn adopt() -> PlanOptions {
    PlanOptions::new().adopt(true)
}

/// What the guide's reader made by hand.
struct HandMade {
    admin: ClientId,
    admin_secret: ClientSecret,
    provider: DcrProvider,
    strategy: AuthStrategy,
}

async fn by_hand(s: &Sandboxes, admin_name: &str) -> HandMade {
    let (admin, secret) = s.auth0_dcr_setup_named(admin_name, &AUTH0_DCR_SCOPES).await.unwrap();
    let (provider, strategy) = s.konnect_dcr_setup("auth0-dcr", &admin, &secret).await.unwrap();
    HandMade {
        admin,
        admin_secret: secret,
        provider,
        strategy,
    }
}

/// A workflow whose bootstrap application has every Management API scope but
/// `read:client_keys`, so an adopted secret cannot be read and is rotated.
async fn without_read_client_keys(s: &Sandboxes, store: Arc<dyn SecretStore>) -> anyhow::Result<Workflow> {
    let all = s
        .admin_grant(&auth0_mgmt::ClientId::new(s.auth0.bootstrap_client_id()))
        .await?
        .scope;
    let bootstrap = s
        .auth0_client
        .clients()
        .create(&NewClient::machine_to_machine("bootstrap without read:client_keys"))
        .await?;
    s.auth0_client
        .client_grants()
        .create(&NewClientGrant::new(
            bootstrap.client_id.clone(),
            s.auth0.management_audience(),
            all.iter().filter(|scope| *scope != "read:client_keys"),
        ))
        .await?;
    let secret = bootstrap.client_secret.ok_or_else(|| anyhow::anyhow!("no secret"))?;
    let auth0 = s
        .auth0
        .client_builder()
        .client_credentials(bootstrap.client_id.clone(), secret)
        .build()?;
    Ok(Workflow::builder(s.config()).auth0(auth0).shared_store(store).build()?)
}

fn action(plan: &dcr_workflow::Plan, step: StepId) -> &Action {
    &plan.step(step).unwrap().action
}

#[tokio::test]
async fn a_setup_made_by_hand_is_adopted_then_owned_and_destroyed() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let hand = by_hand(&s, "Konnect Portal DCR Admin").await;
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let workflow = s.workflow(store.clone())?;
    s.clear_logs();

    // Without the option: refused, naming the resource and the option.
    let refused = workflow.plan().await.unwrap_err();
    assert!(matches!(refused, WorkflowError::NotOwned { .. }), "{refused}");
    assert!(refused.to_string().contains("--adopt"), "{refused}");

    let plan = workflow.plan_with(&adopt()).await?;
    assert_eq!(s.writes(), 0, "planning writes nothing");
    for step in [
        StepId::AdminApp,
        StepId::ApiAudience,
        StepId::DcrProvider,
        StepId::AuthStrategy,
    ] {
        assert!(matches!(action(&plan, step), Action::Adopt(_)), "{step}: {plan}");
    }
    for step in [StepId::AdminGrant, StepId::KonnectApi, StepId::Publication] {
        assert_eq!(action(&plan, step), &Action::NoOp, "{step}: {plan}");
    }
    assert_eq!(
        (plan.to_adopt(), plan.counts(), plan.to_delete()),
        (4, (0, 0, 3), 0),
        "{plan}"
    );
    let text = plan.to_string();
    assert!(text.contains("~ adopt Auth0 DCR admin application"), "{text}");
    assert!(text.contains("read from Auth0"), "{text}");
    assert!(text.contains("4 to adopt"), "{text}");
    // The differences to the configuration are shown, with the marks.
    assert!(text.contains("display_name: Auth0 DCR (by hand) -> Auth0"), "{text}");
    assert!(text.contains("name: Orders -> Orders (Konnect portal)"), "{text}");
    assert!(text.contains("managed-by=dcr-rs"), "{text}");
    assert!(!text.contains(hand.admin_secret.expose_secret()), "{text}");
    // The plan carries the secret it read to apply, never in what it prints.
    let debug = format!("{plan:?}");
    assert!(!debug.contains(hand.admin_secret.expose_secret()), "{debug}");

    let applied = workflow.apply(&plan).await?;
    assert_eq!(
        applied.admin_client_id, hand.admin,
        "the same application, not a new one"
    );
    assert_eq!(applied.provider.id, hand.provider.id);
    assert_eq!(applied.strategy.id, hand.strategy.id);
    let stored = store.get(&admin_secret_key(hand.admin.as_str())).await?.unwrap();
    assert_eq!(
        stored.expose_secret(),
        hand.admin_secret.expose_secret(),
        "read from Auth0, not rotated"
    );
    assert_eq!(
        s.auth0.client_count(),
        2,
        "bootstrap and the adopted admin: nothing created"
    );

    // Owned now: the plain plan is empty and a second apply writes nothing.
    let again = workflow.plan().await?;
    assert!(again.is_empty(), "{again}");
    s.clear_logs();
    workflow.apply(&again).await?;
    assert_eq!(s.writes(), 0);
    let report = workflow.verify(&VerifyOptions::new()).await?;
    assert!(report.is_success(), "{report}");

    let destroyed = workflow.destroy().await?;
    let removed: Vec<StepId> = destroyed.removed.iter().map(|(step, _)| *step).collect();
    for step in [
        StepId::Publication,
        StepId::AuthStrategy,
        StepId::DcrProvider,
        StepId::ApiAudience,
        StepId::AdminGrant,
        StepId::AdminApp,
    ] {
        assert!(removed.contains(&step), "{step} not removed: {destroyed:?}");
    }
    assert!(s.auth0.client_state(hand.admin.as_str()).is_none());
    assert!(
        s.auth0
            .resource_servers()
            .iter()
            .all(|r| r["identifier"] != API_AUDIENCE)
    );
    assert_eq!(s.konnect.dcr_providers().len(), 0);
    // The API was the team's own: its publication goes, the API stays.
    assert_eq!(destroyed.kept, vec![(StepId::KonnectApi, API_NAME.to_owned())]);
    Ok(())
}

#[tokio::test]
async fn links_beat_names_the_provider_names_the_admin_and_the_strategy_names_the_provider() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    // The admin application and the provider under other names than the configuration's,
    // and an unrelated unmarked application that does carry the configured name.
    let (admin, secret) = s
        .auth0_dcr_setup_named("DCR admin (made by hand)", &AUTH0_DCR_SCOPES)
        .await?;
    let (provider, _) = s.konnect_dcr_setup("my-auth0", &admin, &secret).await?;
    let namesake = s
        .auth0_client
        .clients()
        .create(&NewClient::machine_to_machine("Konnect Portal DCR Admin"))
        .await?;
    let workflow = s.workflow(Arc::new(MemoryStore::new()))?;

    let plan = workflow.plan_with(&adopt()).await?;
    let text = plan.to_string();
    assert_eq!(plan.to_adopt(), 4, "{text}");
    assert!(
        text.contains("name: DCR admin (made by hand) -> Konnect Portal DCR Admin"),
        "{text}"
    );
    assert!(text.contains("name: my-auth0 -> auth0-dcr"), "{text}");
    let applied = workflow.apply(&plan).await?;
    assert_eq!(applied.admin_client_id, admin, "the provider's initial client wins");
    assert_eq!(applied.provider.id, provider.id, "the strategy's provider wins");
    assert_eq!(applied.provider.name, "auth0-dcr");
    let untouched = s.auth0.client_state(namesake.client_id.as_str()).unwrap();
    assert!(untouched["client_metadata"].get("managed_by").is_none(), "{untouched}");
    assert!(workflow.plan().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn two_unmarked_namesakes_that_nothing_links_are_refused_naming_both() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let app = s
            .auth0_client
            .clients()
            .create(&NewClient::machine_to_machine("Konnect Portal DCR Admin"))
            .await?;
        ids.push(app.client_id.to_string());
    }
    let workflow = s.workflow(Arc::new(MemoryStore::new()))?;
    s.clear_logs();
    let refused = workflow.plan_with(&adopt()).await.unwrap_err();
    let WorkflowError::Ambiguous {
        resource, ids: named, ..
    } = &refused
    else {
        panic!("not refused as ambiguous: {refused}");
    };
    assert_eq!(*resource, "Auth0 application");
    let mut named = named.clone();
    named.sort();
    ids.sort();
    assert_eq!(named, ids);
    for id in &ids {
        assert!(refused.to_string().contains(id.as_str()), "{refused}");
    }
    assert!(workflow.converge_with(&adopt()).await.is_err());
    assert_eq!(s.writes(), 0, "nothing written");
    Ok(())
}

#[tokio::test]
async fn a_provider_of_another_type_is_refused_never_converted() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let okta = s
        .konnect_client
        .dcr_providers()
        .create(&NewDcrProvider::okta(
            "auth0-dcr",
            "https://acme.okta.com/oauth2/default",
            "okta-dcr-token",
        ))
        .await?;
    let workflow = s.workflow(Arc::new(MemoryStore::new()))?;
    s.clear_logs();
    let refused = workflow.converge_with(&adopt()).await.unwrap_err();
    let WorkflowError::NotAdoptable { id, .. } = &refused else {
        panic!("not refused as the wrong kind: {refused}");
    };
    assert_eq!(id, okta.id.as_str());
    assert!(refused.to_string().contains("okta"), "{refused}");
    assert_eq!(s.writes(), 0, "nothing written");
    Ok(())
}

#[tokio::test]
async fn without_read_client_keys_the_adopted_secret_is_rotated_and_konnect_gets_it() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let hand = by_hand(&s, "Konnect Portal DCR Admin").await;
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let workflow = without_read_client_keys(&s, store.clone()).await?;

    let plan = workflow.plan_with(&adopt()).await?;
    let text = plan.to_string();
    assert!(text.contains("no read:client_keys"), "{text}");
    assert!(text.contains("rotated"), "{text}");
    assert!(
        changed_fields(&plan, StepId::DcrProvider).contains(&"dcr_config.initial_client_secret"),
        "Konnect's provider gets the new secret in the same run: {text}"
    );
    workflow.apply(&plan).await?;

    let stored = store.get(&admin_secret_key(hand.admin.as_str())).await?.unwrap();
    assert_ne!(stored.expose_secret(), hand.admin_secret.expose_secret(), "rotated");
    let old = ClientCredentialsRequest::new(
        hand.admin.clone(),
        hand.admin_secret.clone(),
        s.auth0.management_audience(),
    );
    let refused = s.auth0_client.oauth().client_credentials(&old).await.unwrap_err();
    assert!(refused.is_unauthorized(), "the hand-made secret is dead: {refused}");
    let check = s.konnect_client.dcr_providers().verify(&hand.provider.id).await?;
    assert!(check.is_success(), "Konnect holds the new secret: {check:?}");
    assert!(workflow.plan().await?.is_empty());
    let report = workflow.verify(&VerifyOptions::new()).await?;
    assert!(report.is_success(), "{report}");
    Ok(())
}

/// Only what connects to the services: no names, no audience, no portal.
fn connection(s: &Sandboxes) -> dcr_workflow::DcrConfig {
    let full = s.config();
    let mut c = dcr_workflow::DcrConfig::default();
    c.auth0 = full.auth0.clone();
    c.konnect.base_url = full.konnect.base_url.clone();
    c.konnect.token = full.konnect.token.clone();
    c
}

#[tokio::test]
async fn an_imported_hand_made_setup_needs_only_the_marks() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let hand = by_hand(&s, "Konnect Portal DCR Admin").await;
    // A second API, published privately on a second portal with the same strategy.
    let partners = konnect_appauth::PortalId::new(s.konnect.add_portal("partners"));
    let billing = s
        .konnect_client
        .apis()
        .create(&konnect_appauth::resources::apis::NewApi::new("Billing"))
        .await?;
    s.konnect_client
        .apis()
        .publish(
            &billing.id,
            &partners,
            &PublicationRequest::new()
                .auth_strategy(hand.strategy.id.clone())
                .visibility(konnect_appauth::resources::apis::Visibility::Private)
                .auto_approve_registrations(true),
        )
        .await?;
    s.clear_logs();
    let imported = dcr_workflow::import(&connection(&s), &dcr_workflow::ImportOptions::new()).await?;
    assert_eq!(s.writes(), 0, "import only reads");
    assert!(imported.notes.is_empty(), "{:?}", imported.notes);
    let text = imported.config.to_toml()?;
    let full = s.config();
    for secret in [
        hand.admin_secret.expose_secret(),
        full.auth0.client_secret.as_ref().unwrap().expose_secret(),
        full.konnect.token.as_ref().unwrap().expose_secret(),
    ] {
        assert!(!text.contains(secret), "a secret was written:\n{text}");
    }
    assert!(
        text.contains("strategy_display_name = \"Auth0 DCR (by hand)\""),
        "{text}"
    );
    assert!(
        text.contains(&format!("portal_id = \"{}\"", s.konnect.portal_id())),
        "{text}"
    );
    // Both publications, each with its own settings.
    assert_eq!(text.matches("[[konnect.publications]]").count(), 2, "{text}");
    let written = dcr_workflow::DcrConfig::from_toml_str(&text)?;
    let entries = written.publications();
    assert_eq!(entries.len(), 2, "{text}");
    let partners_entry = entries.iter().find(|e| e.portal_id == partners.as_str()).unwrap();
    assert_eq!(
        (
            partners_entry.api_key(),
            partners_entry.visibility(),
            partners_entry.auto_approve_registrations
        ),
        ("Billing", "private", Some(true)),
        "{text}"
    );

    // Read back as a user would, with the secrets from the environment.
    let mut config = dcr_workflow::DcrConfig::load_with(
        None,
        "DCR_",
        [
            (
                "DCR_AUTH0_CLIENT_SECRET".to_owned(),
                full.auth0.client_secret.as_ref().unwrap().expose_secret().to_owned(),
            ),
            (
                "DCR_KONNECT_TOKEN".to_owned(),
                full.konnect.token.as_ref().unwrap().expose_secret().to_owned(),
            ),
        ],
    )?;
    let written = dcr_workflow::DcrConfig::from_toml_str(&text)?;
    // The written settings, with the secrets the environment gave.
    let (secret, token) = (config.auth0.client_secret.take(), config.konnect.token.take());
    config.auth0 = written.auth0.clone();
    config.auth0.client_secret = secret;
    config.api = written.api.clone();
    config.konnect = written.konnect.clone();
    config.konnect.token = token;
    let workflow = Workflow::new(config, MemoryStore::new())?;
    let plan = workflow.plan_with(&adopt()).await?;
    assert_eq!(plan.to_adopt(), 4, "{plan}");
    for step in &plan.steps {
        match &step.action {
            Action::NoOp => {}
            Action::Adopt(fields) => {
                // The marks, and the secret taken into the store and handed to Konnect:
                // no setting differs.
                for f in fields {
                    assert!(
                        f.sensitive || ["labels", "client_metadata"].contains(&f.field.as_str()),
                        "{}: {} is not a mark:\n{plan}",
                        step.step,
                        f.field
                    );
                }
            }
            other => panic!("{}: {other:?}\n{plan}", step.step),
        }
    }
    workflow.apply(&plan).await?;
    assert!(workflow.plan().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn import_lists_several_providers_and_takes_the_one_named() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let hand = by_hand(&s, "Konnect Portal DCR Admin").await;
    s.konnect_client
        .dcr_providers()
        .create(&NewDcrProvider::auth0(
            "auth0-staging",
            s.issuer(),
            hand.admin.as_str(),
            hand.admin_secret.expose_secret().to_owned(),
        ))
        .await?;
    let refused = dcr_workflow::import(&connection(&s), &dcr_workflow::ImportOptions::new())
        .await
        .unwrap_err();
    let WorkflowError::ImportChoice { candidates, .. } = &refused else {
        panic!("not a choice: {refused}");
    };
    assert_eq!(candidates.len(), 2, "{refused}");
    let message = refused.to_string();
    assert!(message.contains("auth0-dcr") && message.contains("auth0-staging") && message.contains("--provider"));

    let imported = dcr_workflow::import(
        &connection(&s),
        &dcr_workflow::ImportOptions::new().provider("auth0-dcr"),
    )
    .await?;
    assert_eq!(imported.config.konnect.provider_name, "auth0-dcr");
    assert_eq!(imported.config.konnect.strategy_name, "auth0-dcr");
    assert_eq!(imported.config.api.audience, API_AUDIENCE);
    Ok(())
}

/// An adoption cut short at each of its writes, by a service that keeps failing it (503)
/// or that carries it out and loses the answer, both with the secret readable (read and
/// stored) and not (rotated: Auth0 may hold the new secret while Konnect's provider still
/// holds the dead one): the next `apply --adopt` finishes it, the plain plan is empty,
/// Konnect's provider check and `verify` pass.
#[tokio::test]
async fn an_adoption_cut_short_at_any_write_is_finished_by_the_next_one() -> anyhow::Result<()> {
    use dcr_sandbox::auth0::Fault;
    let writes = [
        ("PATCH", "/api/v2/clients/"),
        ("PATCH", "/api/v2/resource-servers/"),
        ("PATCH", "/v2/dcr-providers/"),
        ("PATCH", "/v2/application-auth-strategies/"),
    ];
    for readable in [true, false] {
        for (method, path) in writes {
            for lost in [false, true] {
                let what = format!("{method} {path}, answer lost: {lost}, secret readable: {readable}");
                let s = Sandboxes::start().await?;
                let hand = by_hand(&s, "Konnect Portal DCR Admin").await;
                let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
                let workflow = if readable {
                    s.workflow(store.clone())?
                } else {
                    without_read_client_keys(&s, store.clone()).await?
                };
                let fault = if lost {
                    Fault::drop_after_processing()
                } else {
                    Fault::status(503)
                }
                .times(20)
                .on(method, path);
                if path.starts_with("/api/") {
                    s.auth0.inject(fault);
                } else {
                    s.konnect.inject(fault);
                }
                assert!(workflow.converge_with(&adopt()).await.is_err(), "{what}: not cut short");
                s.auth0.clear_faults();
                s.konnect.clear_faults();

                workflow
                    .converge_with(&adopt())
                    .await
                    .map_err(|e| anyhow::anyhow!("{what}: {e:#}"))?;
                let plan = workflow.plan().await?;
                assert!(plan.is_empty(), "{what}:\n{plan}");
                let check = s.konnect_client.dcr_providers().verify(&hand.provider.id).await?;
                assert!(check.is_success(), "{what}: Konnect's provider: {check:?}");
                let report = workflow.verify(&VerifyOptions::new()).await?;
                assert!(report.is_success(), "{what}: {report}");
            }
        }
    }
    Ok(())
}
