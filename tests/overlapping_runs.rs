//! Runs that overlap on two machines: nothing locks them out of each other (each has its
//! own secret store), so each may create a resource under the same natural key. Every
//! later run must find the owned duplicates, keep the one the chain uses, and delete the
//! rest; `audit` reports them meanwhile; `destroy` removes every owned one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use dcr_tests::{API_AUDIENCE, Sandboxes};
use dcr_workflow::store::{MemoryStore, SecretStore};
use dcr_workflow::{Action, VerifyMode, VerifyOptions};
use serde_json::Value;

/// How many resources of each kind carry the workflow's mark: admin applications (with
/// their Management API grants), resource servers, providers, strategies, APIs,
/// publications.
#[derive(Debug, PartialEq, Eq)]
struct Owned {
    admins: usize,
    admin_grants: usize,
    resource_servers: usize,
    providers: usize,
    strategies: usize,
    apis: usize,
    publications: usize,
}

fn marked(labels: &Value) -> bool {
    labels["managed-by"] == "dcr-rs"
}

fn owned(s: &Sandboxes) -> Owned {
    let admins: Vec<String> = s
        .auth0
        .clients()
        .into_iter()
        .filter(|c| c["client_metadata"]["managed_by"] == "dcr-rs")
        .map(|c| c["client_id"].as_str().unwrap().to_owned())
        .collect();
    let management = s.auth0.management_audience();
    Owned {
        admin_grants: s
            .auth0
            .client_grants()
            .iter()
            .filter(|g| g["audience"] == management.as_str() && admins.iter().any(|a| g["client_id"] == a.as_str()))
            .count(),
        admins: admins.len(),
        resource_servers: s
            .auth0
            .resource_servers()
            .iter()
            .filter(|r| r["identifier"] == API_AUDIENCE)
            .count(),
        providers: s
            .konnect
            .dcr_providers()
            .iter()
            .filter(|p| marked(&p["labels"]))
            .count(),
        strategies: s
            .konnect
            .auth_strategies()
            .iter()
            .filter(|p| marked(&p["labels"]))
            .count(),
        apis: s.konnect.apis().iter().filter(|p| marked(&p["labels"])).count(),
        publications: s.konnect.publications().len(),
    }
}

/// `n` secret stores: `n` machines.
fn machines(n: usize) -> Vec<Arc<dyn SecretStore>> {
    (0..n)
        .map(|_| Arc::new(MemoryStore::new()) as Arc<dyn SecretStore>)
        .collect()
}

/// One `converge` per store, all at once.
async fn converge_at_once(
    s: &Sandboxes,
    stores: &[Arc<dyn SecretStore>],
) -> Vec<dcr_workflow::Result<dcr_workflow::Applied>> {
    let runs = stores.iter().map(|store| {
        let workflow = s.workflow(store.clone()).unwrap();
        async move { workflow.converge().await }
    });
    futures::future::join_all(runs).await
}

const ONE_OF_EACH: Owned = Owned {
    admins: 1,
    admin_grants: 1,
    resource_servers: 1,
    providers: 1,
    strategies: 1,
    apis: 1,
    publications: 1,
};

const NOTHING: Owned = Owned {
    admins: 0,
    admin_grants: 0,
    resource_servers: 0,
    providers: 0,
    strategies: 0,
    apis: 0,
    publications: 0,
};

/// Exactly one of each owned resource; a second run finds nothing to do; a developer's
/// application registers and its token checks out; the audit is clean; and after
/// `destroy` nothing owned is left.
async fn one_of_each_that_works_then_nothing(s: &Sandboxes, workflow: &dcr_workflow::Workflow) -> anyhow::Result<()> {
    assert_eq!(owned(s), ONE_OF_EACH);
    assert!(workflow.plan().await?.is_empty(), "a second run finds nothing to do");
    let report = workflow
        .verify(&VerifyOptions::new().mode(VerifyMode::PortalApplication))
        .await?;
    assert!(report.is_success(), "{report}");
    assert!(workflow.audit().await?.is_clean());
    workflow.destroy().await?;
    assert_eq!(owned(s), NOTHING);
    Ok(())
}

/// Four cold applies at once, each with its own store (four machines), on sandboxes that
/// answer in 20 ms: they all see nothing and all create. Then one more apply converges
/// on exactly one of each, verification passes, and destroy leaves nothing owned.
#[tokio::test]
async fn overlapping_applies_on_separate_machines_leave_one_of_each_after_the_next_run() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    s.auth0.set_latency(Some(Duration::from_millis(20)));
    s.konnect.set_latency(Some(Duration::from_millis(20)));
    let stores = machines(4);
    let results = converge_at_once(&s, &stores).await;
    s.auth0.set_latency(None);
    s.konnect.set_latency(None);
    let raced = owned(&s);
    assert!(
        raced.admins > 1 && raced.providers > 1 && raced.strategies > 1,
        "the race must leave duplicates for this test to prove anything: {raced:?}; {results:?}"
    );

    // Each later run works from its own store: the last machine's, which may not hold
    // the kept admin application's secret.
    let workflow = s.workflow(stores[3].clone())?;
    let audit = workflow.audit().await?;
    let expected = (raced.admins - 1) + (raced.providers - 1) + (raced.strategies - 1) + raced.apis.saturating_sub(1);
    assert_eq!(audit.duplicates.len(), expected, "{audit}");
    assert!(!audit.is_clean());
    let plan = workflow.plan().await?;
    assert_eq!(plan.to_delete(), expected, "{plan}");
    let text = plan.to_string();
    assert!(text.contains("  - Auth0 DCR admin application \""), "{text}");
    assert!(text.contains("duplicate: an overlapping run created it"), "{text}");
    assert!(plan.steps.iter().any(|s| s.action == Action::Delete));

    workflow.apply(&plan).await?;
    one_of_each_that_works_then_nothing(&s, &workflow).await
}

/// A run killed between creating its admin application and granting it leaves an owned
/// application that no provider names and no grant lists: `audit`, which walks every
/// client, reports it, and `destroy` removes it. Namesakes without the mark (an
/// application, a strategy) are neither reported nor touched.
#[tokio::test]
async fn an_ungranted_duplicate_is_reported_by_audit_and_removed_by_destroy() -> anyhow::Result<()> {
    use auth0_mgmt::resources::clients::NewClient;
    use konnect_appauth::resources::auth_strategies::{NewAuthStrategy, OidcConfig};
    let s = Sandboxes::start().await?;
    let workflow = s.workflow(Arc::new(MemoryStore::new()))?;
    workflow.converge().await?;
    let name = &workflow.config().auth0.admin_app_name;
    let orphan = s
        .auth0_client
        .clients()
        .create(&NewClient::machine_to_machine(name).metadata("managed_by", "dcr-rs"))
        .await?;
    let stranger = s
        .auth0_client
        .clients()
        .create(&NewClient::machine_to_machine(name))
        .await?;
    let config = OidcConfig::new(s.issuer(), ["azp"], ["openid"], ["bearer"]);
    let strategy_name = &workflow.config().konnect.strategy_name;
    let foreign = s
        .konnect_client
        .auth_strategies()
        .create(&NewAuthStrategy::openid_connect(strategy_name, "not ours", config))
        .await?;

    let audit = workflow.audit().await?;
    let ids: Vec<&str> = audit.duplicates.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, [orphan.client_id.as_str()], "{audit}");
    assert!(
        audit.to_string().contains("duplicate Auth0 DCR admin application"),
        "{audit}"
    );
    assert!(
        workflow.plan().await?.is_empty(),
        "unmarked namesakes are not the plan's business"
    );

    let destroyed = workflow.destroy().await?;
    assert_eq!(owned(&s), NOTHING, "{destroyed:?}");
    let left: Vec<String> = s
        .auth0
        .clients()
        .iter()
        .filter(|c| c["name"] == name.as_str())
        .map(|c| c["client_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(left, [stranger.client_id.to_string()]);
    let strategies = s.konnect.auth_strategies();
    assert_eq!(strategies.len(), 1);
    assert_eq!(strategies[0]["id"], foreign.id.as_str());
    Ok(())
}

/// A run killed between creating its admin application (secret recorded in its store)
/// and granting it leaves an application no provider names and no grant lists. The next
/// run on that machine finds it through its store, shows it as a duplicate and removes
/// it; a recorded secret whose application is gone is forgotten. Nothing else is asked
/// for when the store records nothing more than the kept application.
#[tokio::test]
async fn the_next_run_on_the_same_machine_removes_what_a_killed_run_recorded() -> anyhow::Result<()> {
    use auth0_mgmt::resources::clients::NewClient;
    use dcr_workflow::store::admin_secret_key;
    let s = Sandboxes::start().await?;
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let workflow = s.workflow(store.clone())?;
    workflow.converge().await?;
    s.clear_logs();
    assert!(workflow.plan().await?.is_empty());
    assert_eq!(
        s.auth0.request_count("GET", "/api/v2/clients/{id}"),
        1,
        "only the kept one"
    );

    let name = &workflow.config().auth0.admin_app_name;
    let killed = s
        .auth0_client
        .clients()
        .create(&NewClient::machine_to_machine(name).metadata("managed_by", "dcr-rs"))
        .await?;
    let secret = killed.client_secret.clone().unwrap().into_secret_string();
    store.put(&admin_secret_key(killed.client_id.as_str()), &secret).await?;
    store.put(&admin_secret_key("gone-long-ago"), &secret).await?;

    let plan = workflow.plan().await?;
    assert_eq!(plan.to_delete(), 1, "{plan}");
    assert!(plan.to_string().contains(killed.client_id.as_str()), "{plan}");
    workflow.apply(&plan).await?;
    assert_eq!(owned(&s), ONE_OF_EACH);
    assert_eq!(
        store
            .get(&admin_secret_key(killed.client_id.as_str()))
            .await?
            .map(|_| ()),
        None
    );
    assert_eq!(store.get(&admin_secret_key("gone-long-ago")).await?.map(|_| ()), None);
    s.clear_logs();
    assert!(workflow.plan().await?.is_empty());
    assert_eq!(
        s.auth0.request_count("GET", "/api/v2/clients/{id}"),
        1,
        "the stale entry is forgotten"
    );
    Ok(())
}

/// Eight rounds of two overlapping applies (two machines) while 10 % of the requests to
/// either service fail (half answered 503, half carried out with the answer lost), each
/// round from the state the last one left. Then one clean apply: exactly one of each,
/// verification passes, destroy leaves nothing owned.
#[tokio::test]
async fn overlapping_applies_under_ten_percent_faults_converge_on_the_next_clean_run() -> anyhow::Result<()> {
    use dcr_sandbox::auth0::Fault;
    let s = Sandboxes::start().await?;
    let stores = machines(2);
    for round in 0..8_u64 {
        s.auth0.inject(Fault::status(503).at_rate(5, round));
        s.auth0.inject(Fault::drop_after_processing().at_rate(5, 100 + round));
        s.konnect.inject(Fault::status(503).at_rate(5, 200 + round));
        s.konnect.inject(Fault::drop_after_processing().at_rate(5, 300 + round));
        // A run may fail under faults; what matters is what the next one finds.
        let _ = converge_at_once(&s, &stores).await;
        s.auth0.clear_faults();
        s.konnect.clear_faults();
    }
    let workflow = s.workflow(stores[0].clone())?;
    workflow.converge().await?;
    one_of_each_that_works_then_nothing(&s, &workflow).await
}

/// Two machines apply at once; the answer to one's admin application create is lost, so
/// that run fails knowing no id, while the other completes the chain. The failed
/// machine's next run knows a create was in flight (its store says so), scans the
/// tenant's applications by name once, and removes the application nothing recorded.
#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_by_that_machine_s_next_run() -> anyhow::Result<()> {
    use dcr_sandbox::auth0::Fault;
    let s = Sandboxes::start().await?;
    s.auth0.set_latency(Some(Duration::from_millis(20)));
    s.konnect.set_latency(Some(Duration::from_millis(20)));
    s.auth0
        .inject(Fault::drop_after_processing().on("POST", "/api/v2/clients"));
    let stores = machines(2);
    let results = converge_at_once(&s, &stores).await;
    s.auth0.set_latency(None);
    s.konnect.set_latency(None);
    let failed = results
        .iter()
        .position(Result::is_err)
        .expect("one create lost its answer");
    assert!(results.iter().filter(|r| r.is_ok()).count() == 1, "{results:?}");
    assert_eq!(owned(&s).admins, 2, "the lost create made an application");

    let workflow = s.workflow(stores[failed].clone())?;
    let plan = workflow.plan().await?;
    assert_eq!(plan.to_delete(), 1, "{plan}");
    workflow.apply(&plan).await?;
    assert_eq!(owned(&s), ONE_OF_EACH);
    s.clear_logs();
    assert!(workflow.plan().await?.is_empty());
    assert_eq!(
        s.auth0.request_count("GET", "/api/v2/clients"),
        0,
        "the scan happened once, not on every run"
    );
    Ok(())
}
