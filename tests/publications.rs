//! Issue 14, many publications: `[[konnect.publications]]` publishes several APIs on
//! several portals, reads them through the portals' lists (requests grow by pages, not
//! per publication), corrects drift in each, keeps or (with `--prune`) removes the
//! strategy's publications that are no longer configured, and is refused field by field
//! when the entries are wrong. Classic (v2) portals get API product versions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use dcr_tests::Sandboxes;
use dcr_workflow::store::{MemoryStore, SecretStore};
use dcr_workflow::{
    Action, DcrConfig, PlanOptions, PublicationSettings, StepId, VerifyMode, VerifyOptions, Workflow, WorkflowError,
};
use futures::TryStreamExt;
use konnect_appauth::PortalId;
use konnect_appauth::resources::api_products::{
    ApiProduct, NewApiProduct, NewProductVersion, PortalProductVersion, PortalProductVersionUpdate,
};
use konnect_appauth::resources::apis::{ListedPublication, NewApi, PublicationRequest, Visibility};

/// Three publications: Orders on both portals, Billing (private, auto-approved) on the
/// second.
fn three(s: &Sandboxes, second: &PortalId) -> DcrConfig {
    let mut config = s.config();
    let first = config.konnect.portal_id.clone();
    config.konnect.portal_id = String::new();
    config.konnect.api_name = None;
    config.konnect.publications = vec![
        PublicationSettings::new(&first, "Orders"),
        PublicationSettings::new(second.as_str(), "Orders"),
        PublicationSettings::new(second.as_str(), "Billing")
            .with_visibility("private")
            .with_auto_approve_registrations(true),
    ];
    config
}

/// An entry changed in ways its constructors do not offer (wrong on purpose).
fn changed(mut entry: PublicationSettings, change: impl FnOnce(&mut PublicationSettings)) -> PublicationSettings {
    change(&mut entry);
    entry
}

fn workflow(config: DcrConfig, store: &Arc<dyn SecretStore>) -> anyhow::Result<Workflow> {
    Ok(Workflow::builder(config).shared_store(store.clone()).build()?)
}

async fn listed(s: &Sandboxes, portal: &PortalId) -> anyhow::Result<Vec<ListedPublication>> {
    Ok(s.konnect_client
        .apis()
        .portal_publications(portal)
        .stream()
        .try_collect()
        .await?)
}

#[tokio::test]
async fn several_apis_on_several_portals_converge_and_a_second_run_only_reads_the_lists() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let second = konnect_appauth::PortalId::new(s.konnect.add_portal("partners"));
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let config = three(&s, &second);
    let wf = workflow(config.clone(), &store)?;
    let plan = wf.plan().await?;
    let text = plan.to_string();
    assert!(text.contains("+ Konnect API \"Orders\""), "{text}");
    assert!(text.contains("+ Konnect API \"Billing\""), "{text}");
    assert_eq!(
        text.matches("+ Konnect API").count(),
        2,
        "one line per distinct API:\n{text}"
    );
    assert!(
        text.contains(&format!("+ Konnect publication \"Billing on portal {second}\"")),
        "{text}"
    );
    let applied = wf.apply(&plan).await?;
    assert_eq!(applied.api_ids.len(), 2);

    let first = konnect_appauth::PortalId::new(s.konnect.portal_id());
    let on_first = listed(&s, &first).await?;
    let on_second = listed(&s, &second).await?;
    assert_eq!((on_first.len(), on_second.len()), (1, 2));
    let strategy = Some(vec![applied.strategy.id.clone()]);
    assert!(
        on_first
            .iter()
            .chain(&on_second)
            .all(|p| p.auth_strategy_ids == strategy)
    );
    let billing = on_second.iter().find(|p| p.api_id == applied.api_ids[1]).unwrap();
    assert_eq!(billing.visibility, Visibility::Private);
    assert_eq!(billing.auto_approve_registrations, Some(true));
    let orders = on_second.iter().find(|p| p.api_id == applied.api_ids[0]).unwrap();
    assert_eq!(orders.visibility, Visibility::Public);

    // A second run writes nothing and never reads a publication one by one: one walk of
    // the APIs, one list per portal.
    s.clear_logs();
    let again = workflow(config, &store)?.converge().await?;
    assert!(
        again.steps.iter().all(|s| s.action == Action::NoOp),
        "{:?}",
        again.steps
    );
    assert_eq!(s.writes(), 0);
    assert_eq!(
        s.konnect
            .request_count("GET", "/v3/apis/{apiId}/publications/{portalId}"),
        0
    );
    assert_eq!(s.konnect.request_count("GET", "/v3/apis/{apiId}"), 0);
    assert_eq!(s.konnect.request_count("GET", "/v3/apis"), 1);
    assert_eq!(
        s.konnect
            .request_count("GET", "/v3/portals/{portalId}/api-publications"),
        2
    );
    Ok(())
}

#[tokio::test]
async fn drift_in_any_publication_is_corrected_in_that_one_only() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let second = konnect_appauth::PortalId::new(s.konnect.add_portal("partners"));
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let wf = workflow(three(&s, &second), &store)?;
    let applied = wf.converge().await?;
    // By hand: Billing made public and no longer auto-approved, Orders on the first
    // portal made private.
    let apis = s.konnect_client.apis();
    apis.publish(
        &applied.api_ids[1],
        &second,
        &PublicationRequest::new()
            .auth_strategy(applied.strategy.id.clone())
            .visibility(Visibility::Public),
    )
    .await?;
    apis.publish(
        &applied.api_ids[0],
        &konnect_appauth::PortalId::new(s.konnect.portal_id()),
        &PublicationRequest::new()
            .auth_strategy(applied.strategy.id.clone())
            .visibility(Visibility::Private),
    )
    .await?;
    let plan = wf.plan().await?;
    let updates: Vec<(&str, Vec<&str>)> = plan
        .steps
        .iter()
        .filter(|s| s.step == StepId::Publication && matches!(s.action, Action::Update(_)))
        .map(|s| (s.key.as_str(), s.fields().iter().map(|f| f.field.as_str()).collect()))
        .collect();
    let billing = format!("Billing on portal {second}");
    let orders = format!("Orders on portal {}", s.konnect.portal_id());
    assert_eq!(
        updates,
        vec![
            (orders.as_str(), vec!["visibility"]),
            (billing.as_str(), vec!["visibility", "auto_approve_registrations"]),
        ],
        "{plan}"
    );
    s.clear_logs();
    wf.apply(&plan).await?;
    assert_eq!(
        s.konnect
            .request_count("PUT", "/v3/apis/{apiId}/publications/{portalId}"),
        2,
        "only the two that drifted are written"
    );
    assert!(wf.plan().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn an_unconfigured_publication_of_the_strategy_is_kept_unless_pruned() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let second = konnect_appauth::PortalId::new(s.konnect.add_portal("partners"));
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let config = three(&s, &second);
    let applied = workflow(config.clone(), &store)?.converge().await?;
    // Someone also publishes a third API of theirs with the strategy, on a portal the
    // configuration does not name.
    let third_portal = konnect_appauth::PortalId::new(s.konnect.add_portal("elsewhere"));
    let theirs = s.konnect_client.apis().create(&NewApi::new("Theirs")).await?;
    s.konnect_client
        .apis()
        .publish(
            &theirs.id,
            &third_portal,
            &PublicationRequest::new().auth_strategy(applied.strategy.id.clone()),
        )
        .await?;
    // The configuration drops Billing.
    let mut fewer = config.clone();
    fewer.konnect.publications.pop();
    let wf = workflow(fewer.clone(), &store)?;
    let plan = wf.plan().await?;
    let text = plan.to_string();
    assert!(plan.is_empty(), "kept without --prune:\n{text}");
    assert!(
        text.contains(&format!(
            "= Konnect publication \"{} on portal {second}\"",
            applied.api_ids[1]
        )),
        "{text}"
    );
    assert!(text.contains("--prune removes it"), "{text}");
    assert!(
        !text.contains(theirs.id.as_str()),
        "without --prune only the configured portals are read:\n{text}"
    );

    let pruning = PlanOptions::new().prune(true);
    let plan = wf.plan_with(&pruning).await?;
    let text = plan.to_string();
    let deletes: Vec<&str> = plan
        .steps
        .iter()
        .filter(|s| s.action == Action::Delete)
        .map(|s| s.key.as_str())
        .collect();
    let billing = format!("{} on portal {second}", applied.api_ids[1]);
    let elsewhere = format!("{} on portal {third_portal}", theirs.id);
    assert_eq!(deletes.len(), 2, "{text}");
    assert!(
        deletes.contains(&billing.as_str()) && deletes.contains(&elsewhere.as_str()),
        "{text}"
    );
    assert!(text.contains(&format!("- Konnect publication \"{billing}\"")), "{text}");
    wf.apply(&plan).await?;
    assert!(listed(&s, &third_portal).await?.is_empty());
    assert_eq!(listed(&s, &second).await?.len(), 1, "Orders stays on the second portal");
    let again = wf.plan_with(&pruning).await?;
    assert!(again.is_empty() && again.to_delete() == 0, "{again}");

    // Destroy removes every publication of its strategy and the APIs it created.
    let destroyed = workflow(config, &store)?.destroy().await?;
    let removed: Vec<_> = destroyed
        .removed
        .iter()
        .filter(|(s, _)| *s == StepId::Publication)
        .collect();
    assert_eq!(removed.len(), 2, "{destroyed:?}");
    assert!(
        listed(&s, &konnect_appauth::PortalId::new(s.konnect.portal_id()))
            .await?
            .is_empty()
    );
    assert!(listed(&s, &second).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn wrong_entries_are_refused_naming_each_field_before_any_request() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let mut config = s.config();
    config.konnect.publications = vec![
        PublicationSettings::new("", "Orders"),
        // Both an id and a name, and no such visibility.
        changed(PublicationSettings::new("p", "Orders").with_visibility("secret"), |e| {
            e.api_id = Some("x".into());
        }),
        changed(PublicationSettings::new("p", ""), |e| e.api_name = None),
        PublicationSettings::new("p", "Billing"),
        PublicationSettings::new("p", "Billing"),
    ];
    let err = Workflow::builder(config).store(MemoryStore::new()).build().unwrap_err();
    let problems = err.config_problems().unwrap();
    for field in [
        // The single keys and the list are one or the other.
        "konnect.publications",
        "konnect.publications[0].portal_id",
        "konnect.publications[1].visibility",
        "konnect.publications[1].api_name",
        "konnect.publications[2].api_name",
        "konnect.publications[4]",
    ] {
        assert!(problems.names(field), "{field} missing from {problems}");
    }
    assert!(
        err.to_string().contains("konnect.publications[3] does already"),
        "{err}"
    );
    assert_eq!(s.konnect.requests().len(), 0);
    Ok(())
}

#[tokio::test]
async fn a_missing_second_portal_is_refused_naming_its_entry() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let config = three(&s, &PortalId::new("00000000-0000-4000-8000-00000000beef"));
    let err = Workflow::builder(config)
        .store(MemoryStore::new())
        .build()?
        .converge()
        .await
        .unwrap_err();
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
    assert!(err.to_string().contains("konnect.publications[1].portal_id"), "{err}");
    assert_eq!(s.writes(), 0);
    Ok(())
}

/// A v3 publication plus two product versions on a classic (v2) portal.
fn with_classic(s: &Sandboxes, classic: &PortalId) -> DcrConfig {
    let mut config = s.config();
    let first = config.konnect.portal_id.clone();
    config.konnect.portal_id = String::new();
    config.konnect.api_name = None;
    config.konnect.publications = vec![
        PublicationSettings::new(&first, "Orders"),
        PublicationSettings::classic(classic.as_str(), "Orders", "v1"),
        PublicationSettings::classic(classic.as_str(), "Billing", "v2").with_auto_approve_registrations(true),
    ];
    config
}

async fn on_classic(s: &Sandboxes, portal: &PortalId) -> anyhow::Result<Vec<PortalProductVersion>> {
    Ok(s.konnect_client
        .api_products()
        .on_portal(portal)
        .stream()
        .try_collect()
        .await?)
}

#[tokio::test]
async fn classic_portals_get_product_versions_with_the_strategy_drift_and_prune_included() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let classic = konnect_appauth::PortalId::new(s.konnect.add_classic_portal("classic"));
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    // The team's own product, made by hand, published by the workflow too (first, so
    // that the entries of the other tests keep their places).
    let legacy = s
        .konnect_client
        .api_products()
        .create(&NewApiProduct::new("Legacy"))
        .await?;
    s.konnect_client
        .api_products()
        .create_version(&legacy.id, &NewProductVersion::new("v1"))
        .await?;
    let mut config = with_classic(&s, &classic);
    config
        .konnect
        .publications
        .insert(1, PublicationSettings::classic(classic.as_str(), "Legacy", "v1"));
    let wf = workflow(config.clone(), &store)?;
    let plan = wf.plan().await?;
    let text = plan.to_string();
    assert!(text.contains("+ Konnect API product version \"Orders v1\""), "{text}");
    assert!(text.contains("+ Konnect API product version \"Billing v2\""), "{text}");
    assert!(
        text.contains(&format!(
            "+ Konnect publication \"Billing v2 on classic portal {classic}\""
        )),
        "{text}"
    );
    assert!(
        plan.to_string().contains("= Konnect API product version \"Legacy v1\""),
        "{plan}"
    );
    let applied = wf.apply(&plan).await?;
    // In configuration order of the products: Legacy, Orders, Billing.
    assert_eq!(applied.product_version_ids.len(), 3);
    let listed = on_classic(&s, &classic).await?;
    assert_eq!(listed.len(), 3);
    for p in &listed {
        assert_eq!(p.auth_strategy_ids(), vec![applied.strategy.id.clone()]);
        assert_eq!(p.publish_status, "published");
        assert!(p.application_registration_enabled && !p.deprecated);
        let billing = p.product_version_id == applied.product_version_ids[2];
        assert_eq!(p.auto_approve_registration, billing);
    }

    // Warm: no write; the products in one walk, each product's versions in one list,
    // the classic portal in one list.
    s.clear_logs();
    let warm = workflow(config.clone(), &store)?.plan().await?;
    assert!(warm.is_empty(), "{warm}");
    assert_eq!(s.konnect.request_count("GET", "/v2/api-products"), 1);
    assert_eq!(
        s.konnect
            .request_count("GET", "/v2/api-products/{apiProductId}/product-versions"),
        3
    );
    assert_eq!(
        s.konnect
            .request_count("GET", "/v2/portals/{portalId}/product-versions"),
        1
    );

    // Drift by hand: Orders deprecated, unpublished, registration switched off.
    let orders = listed
        .iter()
        .find(|p| p.product_version_id == applied.product_version_ids[1])
        .unwrap();
    s.konnect_client
        .api_products()
        .update_on_portal(
            &classic,
            &orders.id,
            &PortalProductVersionUpdate::new()
                .deprecated(true)
                .published(false)
                .application_registration_enabled(false),
        )
        .await?;
    let plan = wf.plan().await?;
    let key = format!("Orders v1 on classic portal {classic}");
    let step = plan.steps.iter().find(|s| s.key == key).unwrap();
    let fields: Vec<&str> = step.fields().iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        fields,
        ["publish_status", "application_registration_enabled", "deprecated"],
        "{plan}"
    );
    wf.apply(&plan).await?;
    assert!(wf.plan().await?.is_empty());

    // Billing dropped from the configuration: kept, or pruned.
    let mut fewer = config.clone();
    fewer.konnect.publications.pop();
    let wf = workflow(fewer, &store)?;
    let plan = wf.plan().await?;
    assert!(
        plan.is_empty() && plan.to_string().contains("--prune removes it"),
        "{plan}"
    );
    let plan = wf.plan_with(&PlanOptions::new().prune(true)).await?;
    assert_eq!(plan.to_delete(), 1, "{plan}");
    wf.apply(&plan).await?;
    assert_eq!(on_classic(&s, &classic).await?.len(), 2);

    // Destroy (with the configuration that still names Billing, whose product the
    // workflow created): the classic publication goes first, so the strategy can go too,
    // and the products the workflow created go with their versions.
    let destroyed = workflow(config, &store)?.destroy().await?;
    assert!(
        destroyed
            .removed
            .iter()
            .any(|(s, k)| *s == StepId::AuthStrategy && k == "auth0-dcr"),
        "{destroyed:?}"
    );
    assert!(on_classic(&s, &classic).await?.is_empty());
    let left: Vec<ApiProduct> = s.konnect_client.api_products().list().stream().try_collect().await?;
    let left: Vec<&str> = left.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(left, ["Legacy"], "the team's product is kept, unpublished");
    Ok(())
}

#[tokio::test]
async fn verify_on_classic_portals_only_registers_an_auth0_client() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let classic = konnect_appauth::PortalId::new(s.konnect.add_classic_portal("classic"));
    let mut config = s.config();
    config.konnect.portal_id = String::new();
    config.konnect.api_name = None;
    config.konnect.publications = vec![PublicationSettings::classic(classic.as_str(), "Orders", "v1")];
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let wf = workflow(config, &store)?;
    let applied = wf.converge().await?;
    assert!(applied.api_id.is_none() && applied.api_ids.is_empty());
    // The sandbox's configuration names a developer, yet the automatic mode registers an
    // Auth0 client: the classic admin API cannot create applications.
    let report = wf.verify(&VerifyOptions::new()).await?;
    assert!(report.is_success(), "{report}");
    let forced = wf
        .verify(&VerifyOptions::new().mode(VerifyMode::PortalApplication))
        .await?;
    let failure = format!("{:?}", forced.first_failure());
    assert!(failure.contains("--mode auth0-client"), "{forced}");
    Ok(())
}

#[tokio::test]
async fn wrong_classic_entries_are_refused_naming_the_field() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let mut config = s.config();
    config.konnect.portal_id = String::new();
    config.konnect.api_name = None;
    config.konnect.publications = vec![
        PublicationSettings::classic("c", "Orders", "v1").with_visibility("public"),
        changed(PublicationSettings::new("p", "Orders"), |e| {
            e.product_version = Some("v1".into());
        }),
        changed(PublicationSettings::classic("c", "Billing", ""), |e| {
            e.api_name = Some("Orders".into());
        }),
    ];
    let err = Workflow::builder(config).store(MemoryStore::new()).build().unwrap_err();
    let problems = err.config_problems().unwrap();
    for field in [
        "konnect.publications[0].visibility",
        "konnect.publications[1].product_version",
        "konnect.publications[2].product_version",
        "konnect.publications[2].api_product_name",
    ] {
        assert!(problems.names(field), "{field} missing from {problems}");
    }

    // A v3 portal is no classic portal: refused before any write, naming the entry.
    let mut config = s.config();
    let v3 = config.konnect.portal_id.clone();
    config.konnect.portal_id = String::new();
    config.konnect.api_name = None;
    config.konnect.publications = vec![PublicationSettings::classic(v3, "Orders", "v1")];
    let err = Workflow::builder(config)
        .store(MemoryStore::new())
        .build()?
        .converge()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            WorkflowError::Missing {
                resource: "Konnect classic portal",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("konnect.publications[0].portal_id"), "{err}");
    assert_eq!(s.writes(), 0);
    Ok(())
}
