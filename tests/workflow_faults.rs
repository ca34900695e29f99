//! Crash safety: the workflow is interrupted after every single write of a cold apply in
//! turn (a lost response, or the future dropped), then run again. It must converge with
//! exactly one of each resource and a stored secret that works.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use auth0_mgmt::ClientSecret;
use auth0_mgmt::oauth::ClientCredentialsRequest;
use dcr_sandbox::auth0::Fault;
use dcr_tests::{API_AUDIENCE, Sandboxes};
use dcr_workflow::VerifyOptions;
use dcr_workflow::store::{MemoryStore, SecretStore, admin_secret_key};
use serde_json::Value;

/// One write of a cold apply: which sandbox, method and the route's fixed prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Write {
    konnect: bool,
    method: String,
    prefix: String,
}

/// The writes of a cold apply, read from the sandboxes' logs (not hard-coded).
async fn cold_apply_writes() -> anyhow::Result<Vec<Write>> {
    let s = Sandboxes::start().await?;
    s.workflow(Arc::new(MemoryStore::new()))?.converge().await?;
    let mut writes = Vec::new();
    for (konnect, log) in [(false, s.auth0.requests()), (true, s.konnect.requests())] {
        for r in log.iter().filter(|r| r.is_write()) {
            let prefix = r.route.split('{').next().unwrap_or(r.route).to_owned();
            writes.push(Write {
                konnect,
                method: r.method.clone(),
                prefix,
            });
        }
    }
    Ok(writes)
}

/// Exactly one of each resource, and the stored secret authenticates the admin app.
async fn assert_converged(s: &Sandboxes, store: &Arc<dyn SecretStore>, what: &str) -> anyhow::Result<()> {
    let admins: Vec<_> = s
        .auth0
        .clients()
        .into_iter()
        .filter(|c| c["name"] == "Konnect Portal DCR Admin")
        .collect();
    assert_eq!(admins.len(), 1, "{what}: admin apps");
    let admin_id = admins[0]["client_id"].as_str().unwrap().to_owned();
    let management = s.auth0.management_audience();
    let grants = s
        .auth0
        .client_grants()
        .into_iter()
        .filter(|g| g["client_id"] == admin_id.as_str() && g["audience"] == management.as_str())
        .count();
    assert_eq!(grants, 1, "{what}: admin grants");
    let servers = s
        .auth0
        .resource_servers()
        .into_iter()
        .filter(|r| r["identifier"] == API_AUDIENCE)
        .count();
    assert_eq!(servers, 1, "{what}: resource servers");
    assert_eq!(s.konnect.dcr_providers().len(), 1, "{what}: providers");
    assert_eq!(s.konnect.auth_strategies().len(), 1, "{what}: strategies");
    assert_eq!(s.konnect.apis().len(), 1, "{what}: apis");
    assert_eq!(s.konnect.publications().len(), 1, "{what}: publications");
    let secret = store
        .get(&admin_secret_key(&admin_id))
        .await?
        .unwrap_or_else(|| panic!("{what}: no stored secret"));
    s.auth0_client
        .oauth()
        .client_credentials(&ClientCredentialsRequest::new(
            admin_id.as_str(),
            ClientSecret::from(secret),
            management,
        ))
        .await
        .unwrap_or_else(|e| panic!("{what}: the stored secret does not work: {e}"));
    Ok(())
}

/// A new process (nothing survives but the store) converges, and a third run changes
/// nothing.
async fn rerun_converges(
    s: &Sandboxes,
    store: &Arc<dyn SecretStore>,
    what: &str,
) -> anyhow::Result<dcr_workflow::Workflow> {
    let workflow = s.workflow(store.clone())?;
    workflow
        .converge()
        .await
        .unwrap_or_else(|e| panic!("{what}: second run: {e}"));
    assert_converged(s, store, what).await?;
    assert!(workflow.plan().await?.is_empty(), "{what}: a third run changes nothing");
    Ok(workflow)
}

#[tokio::test]
async fn a_lost_response_after_any_write_converges_on_the_next_run() -> anyhow::Result<()> {
    let writes = cold_apply_writes().await?;
    assert_eq!(writes.len(), 7, "{writes:#?}");
    for write in &writes {
        let what = format!("{} {} lost", write.method, write.prefix);
        let s = Sandboxes::start().await?;
        let fault = Fault::drop_after_processing().on(&write.method, &write.prefix);
        if write.konnect {
            s.konnect.inject(fault);
        } else {
            s.auth0.inject(fault);
        }
        let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
        // An idempotent PUT is retried by the client and may succeed; a POST must not be.
        let first = s.workflow(store.clone())?.converge().await;
        if write.method == "POST" {
            assert!(first.is_err(), "{what}: the lost POST is reported, not repeated");
        }
        let workflow = rerun_converges(&s, &store, &what).await?;
        let report = workflow.verify(&VerifyOptions::new()).await?;
        assert!(report.is_success(), "{what}: {report}");
    }
    Ok(())
}

#[tokio::test]
async fn dropping_the_apply_after_any_write_converges_on_the_next_run() -> anyhow::Result<()> {
    let total = cold_apply_writes().await?.len();
    for n in 1..=total {
        let what = format!("dropped after write {n}");
        let s = Sandboxes::start().await?;
        // Slow every request down so the drop lands between writes, not inside a burst.
        s.auth0.set_latency(Some(Duration::from_millis(15)));
        s.konnect.set_latency(Some(Duration::from_millis(15)));
        let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
        let workflow = s.workflow(store.clone())?;
        let watcher = async {
            while s.writes() < n {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::select! {
            result = workflow.converge() => {
                result?;
                panic!("{what}: apply finished before write {n} was seen");
            }
            () = watcher => {}
        }
        s.auth0.set_latency(None);
        s.konnect.set_latency(None);
        rerun_converges(&s, &store, &what).await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_lost_secret_store_rotates_instead_of_creating_a_second_app() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    let first: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    s.workflow(first)?.converge().await?;
    let fresh: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let workflow = s.workflow(fresh.clone())?;
    let plan = workflow.plan().await?;
    let admin = plan.step(dcr_workflow::StepId::AdminApp).unwrap();
    assert!(admin.note.as_deref().unwrap_or_default().contains("rotated"), "{plan}");
    let provider = plan.step(dcr_workflow::StepId::DcrProvider).unwrap();
    assert!(
        provider
            .fields()
            .iter()
            .any(|f| f.field == "dcr_config.initial_client_secret" && f.sensitive),
        "{plan}"
    );
    workflow.apply(&plan).await?;
    assert_converged(&s, &fresh, "store lost").await?;
    assert!(workflow.verify(&VerifyOptions::new()).await?.is_success());
    // The secret never appears in the printed plan.
    let secret = fresh.get(&admin_secret_key(plan_admin_id(&s).as_str())).await?.unwrap();
    assert!(!plan.to_string().contains(secrecy::ExposeSecret::expose_secret(&secret)));
    Ok(())
}

fn plan_admin_id(s: &Sandboxes) -> String {
    s.auth0
        .clients()
        .into_iter()
        .find(|c| c["name"] == "Konnect Portal DCR Admin")
        .and_then(|c| c["client_id"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Runs on one machine share the secrets file, and its lock serialises them: four
/// concurrent applies (each with its own handle on the file, as separate processes have)
/// leave exactly one of each resource, and the stored secret works.
#[tokio::test]
async fn overlapping_applies_on_one_machine_take_turns_on_the_store_lock() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    s.auth0.set_latency(Some(Duration::from_millis(10)));
    s.konnect.set_latency(Some(Duration::from_millis(10)));
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("secrets.json");
    let runs = (0..4).map(|_| {
        let store: Arc<dyn SecretStore> = Arc::new(dcr_workflow::store::FileStore::open(&path).unwrap());
        let workflow = s.workflow(store).unwrap();
        async move { workflow.converge().await }
    });
    for result in futures::future::join_all(runs).await {
        result?;
    }
    s.auth0.set_latency(None);
    s.konnect.set_latency(None);
    let store: Arc<dyn SecretStore> = Arc::new(dcr_workflow::store::FileStore::open(&path)?);
    assert_converged(&s, &store, "four overlapping applies").await?;
    Ok(())
}

/// The CLI plans, then applies: runs that planned before another applied must not act on
/// what they saw. The lock makes them wait; the plan, observed again, is refused as stale
/// before any write, and planning again finds nothing to do.
#[tokio::test]
async fn overlapping_plan_then_apply_runs_refuse_their_stale_plans() -> anyhow::Result<()> {
    let s = Sandboxes::start().await?;
    s.auth0.set_latency(Some(Duration::from_millis(10)));
    s.konnect.set_latency(Some(Duration::from_millis(10)));
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("secrets.json");
    let workflows: Vec<_> = (0..3)
        .map(|_| {
            let store: Arc<dyn SecretStore> = Arc::new(dcr_workflow::store::FileStore::open(&path).unwrap());
            s.workflow(store).unwrap()
        })
        .collect();
    let mut plans = Vec::new();
    for workflow in &workflows {
        plans.push(workflow.plan().await?);
    }
    let runs = workflows.iter().zip(&plans).map(|(w, p)| w.apply(p));
    let results = futures::future::join_all(runs).await;
    let applied = results.iter().filter(|r| r.is_ok()).count();
    let stale = results
        .iter()
        .filter(|r| matches!(r, Err(dcr_workflow::WorkflowError::StalePlan)))
        .count();
    assert_eq!((applied, stale), (1, 2), "{results:?}");
    s.auth0.set_latency(None);
    s.konnect.set_latency(None);
    let store: Arc<dyn SecretStore> = Arc::new(dcr_workflow::store::FileStore::open(&path)?);
    assert_converged(&s, &store, "three overlapping plan-then-apply runs").await?;
    assert!(workflows[1].plan().await?.is_empty());
    Ok(())
}

/// `verify` retries its JWKS read, and a cleanup DELETE whose answer was lost (repeated,
/// then answered 404) counts as removed: nothing is left behind either way.
#[tokio::test]
async fn verify_survives_a_503_on_the_jwks_and_a_lost_cleanup_answer() -> anyhow::Result<()> {
    use dcr_workflow::{Link, Outcome, VerifyMode};
    let s = Sandboxes::start().await?;
    let workflow = s.workflow(Arc::new(MemoryStore::new()))?;
    workflow.converge().await?;
    s.auth0.inject(Fault::status(503).on("GET", "/.well-known/jwks.json"));
    s.konnect
        .inject(Fault::drop_after_processing().on("DELETE", "/v3/portals/"));
    let report = workflow
        .verify(&dcr_workflow::VerifyOptions::new().mode(VerifyMode::PortalApplication))
        .await?;
    assert!(report.is_success(), "{report}");
    assert_eq!(report.outcome(Link::Cleanup), Some(&Outcome::Passed("removed".into())));
    assert_eq!(
        s.auth0.request_count("GET", "/.well-known/jwks.json"),
        2,
        "retried once"
    );
    let apps = s
        .konnect_client
        .portal_applications(s.konnect.portal_id())
        .list()
        .send()
        .await?;
    assert!(apps.items.is_empty(), "the verification's application is gone");
    Ok(())
}

/// Ten rounds of `verify` while 10 % of the requests to either service fail (half
/// answered 503, half carried out with the answer lost), plus one round whose
/// application create is carried out and its answer lost (so verify cannot know what it
/// created). Whatever a round could not remove carries verify's mark: `audit` reports
/// exactly those, and `destroy` removes them with everything else.
#[tokio::test]
async fn verify_under_ten_percent_faults_leaves_nothing_destroy_does_not_find() -> anyhow::Result<()> {
    use dcr_workflow::VerifyMode;
    let s = Sandboxes::start().await?;
    let workflow = s.workflow(Arc::new(MemoryStore::new()))?;
    workflow.converge().await?;
    let options = VerifyOptions::new().mode(VerifyMode::PortalApplication);
    let portal_apps = format!("/v3/portals/{}/applications", s.konnect.portal_id());
    s.konnect
        .inject(Fault::drop_after_processing().on("POST", &portal_apps));
    let report = workflow.verify(&options).await?;
    assert!(!report.is_success(), "the create's answer was lost: {report}");
    for round in 0..10_u64 {
        s.auth0.inject(Fault::status(503).at_rate(5, round));
        s.auth0.inject(Fault::drop_after_processing().at_rate(5, 100 + round));
        s.konnect.inject(Fault::status(503).at_rate(5, 200 + round));
        s.konnect.inject(Fault::drop_after_processing().at_rate(5, 300 + round));
        // A round may fail (a 503 on the create is not repeated): what matters is what it
        // leaves behind.
        let _ = workflow.verify(&options).await;
        s.auth0.clear_faults();
        s.konnect.clear_faults();
    }

    let left = s.konnect.applications();
    assert!(!left.is_empty(), "the lost create left its application");
    let audit = workflow.audit().await?;
    let mut reported: Vec<&str> = audit
        .verify_leftovers
        .iter()
        .filter(|l| l.kind == "portal application")
        .map(|l| l.id.as_str())
        .collect();
    let mut present: Vec<&str> = left.iter().map(|a| a["id"].as_str().unwrap()).collect();
    reported.sort_unstable();
    present.sort_unstable();
    assert_eq!(reported, present, "{audit}");
    assert!(!audit.is_clean());

    workflow.destroy().await?;
    assert!(s.konnect.applications().is_empty(), "no portal application is left");
    let registered: Vec<Value> = s
        .auth0
        .clients()
        .into_iter()
        .filter(|c| c["client_metadata"]["konnect_application_id"].is_string())
        .collect();
    assert!(
        registered.is_empty(),
        "no Auth0 client Konnect registered is left: {registered:?}"
    );
    assert!(s.konnect.dcr_providers().is_empty() && s.konnect.auth_strategies().is_empty());
    Ok(())
}
