//! Crash-safe rotation: `rotate` is interrupted at every one of its writes in turn (the
//! store's two, Auth0's PATCH, Konnect's PATCH) by a failure, a lost answer or a dropped
//! future; afterwards one `apply` (or `rotate`) must leave DCR working: Konnect's provider
//! check passes, the stored secret authenticates, no pending secret is left, a developer
//! application registers, and the next plan is empty. Also: damage done outside any
//! rotation (Konnect or the store holding a dead secret) is seen and repaired by `apply`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth0_mgmt::oauth::ClientCredentialsRequest;
use auth0_mgmt::{ClientId, ClientSecret};
use dcr_sandbox::auth0::Fault;
use dcr_tests::{Sandboxes, changed_fields};
use dcr_workflow::store::{MemoryStore, SecretStore, StoreLock, admin_secret_key, pending_secret_key};
use dcr_workflow::{Result as WorkflowResult, StepId, VerifyOptions, WorkflowError, async_trait};
use konnect_appauth::resources::dcr_providers::{DcrConfigUpdate, DcrProviderUpdate};
use secrecy::{ExposeSecret, SecretString};

/// A memory store whose `n`-th `put` fails, as a process killed at that write would.
#[derive(Debug, Default)]
struct FailingStore {
    inner: MemoryStore,
    puts: AtomicUsize,
    fail_at: AtomicUsize,
}

impl FailingStore {
    fn fail_put(&self, n: usize) {
        self.puts.store(0, Ordering::SeqCst);
        self.fail_at.store(n, Ordering::SeqCst);
    }
}

#[async_trait]
impl SecretStore for FailingStore {
    async fn get(&self, key: &str) -> WorkflowResult<Option<SecretString>> {
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, value: &SecretString) -> WorkflowResult<()> {
        let n = self.puts.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_at.load(Ordering::SeqCst) {
            return Err(WorkflowError::SecretStore {
                key: key.to_owned(),
                reason: "killed here".into(),
            });
        }
        self.inner.put(key, value).await
    }
    async fn delete(&self, key: &str) -> WorkflowResult<()> {
        self.inner.delete(key).await
    }
    async fn lock(&self, _wait: Duration) -> WorkflowResult<StoreLock> {
        Ok(StoreLock::none())
    }
}

struct Setup {
    s: Sandboxes,
    store: Arc<FailingStore>,
    admin: ClientId,
    provider: konnect_appauth::DcrProviderId,
}

async fn set_up() -> anyhow::Result<Setup> {
    let s = Sandboxes::start().await?;
    let store = Arc::new(FailingStore::default());
    let applied = s.workflow(store.clone())?.converge().await?;
    Ok(Setup {
        s,
        store,
        admin: applied.admin_client_id,
        provider: applied.provider.id,
    })
}

async fn stored(setup: &Setup) -> Option<SecretString> {
    setup.store.get(&admin_secret_key(setup.admin.as_str())).await.unwrap()
}

/// DCR works end to end, nothing is pending, and nothing more is planned.
async fn assert_dcr_works(setup: &Setup, what: &str) -> anyhow::Result<()> {
    let s = &setup.s;
    let check = s.konnect_client.dcr_providers().verify(&setup.provider).await?;
    assert!(
        check.is_success(),
        "{what}: Konnect's provider check: {:?}",
        check.errors
    );
    let secret = stored(setup).await.unwrap_or_else(|| panic!("{what}: nothing stored"));
    s.auth0_client
        .oauth()
        .client_credentials(&ClientCredentialsRequest::new(
            setup.admin.clone(),
            ClientSecret::from(secret),
            s.auth0.management_audience(),
        ))
        .await
        .unwrap_or_else(|e| panic!("{what}: the stored secret is refused: {e}"));
    let pending = setup.store.get(&pending_secret_key(setup.admin.as_str())).await?;
    assert!(pending.is_none(), "{what}: a pending secret is left");
    let workflow = s.workflow(setup.store.clone())?;
    let report = workflow.verify(&VerifyOptions::new()).await?;
    assert!(report.is_success(), "{what}: {report}");
    assert!(workflow.plan().await?.is_empty(), "{what}: {}", workflow.plan().await?);
    let admins = s
        .auth0
        .clients()
        .into_iter()
        .filter(|c| c["name"] == "Konnect Portal DCR Admin")
        .count();
    assert_eq!(admins, 1, "{what}: one admin application");
    Ok(())
}

/// Runs `apply` after an interruption and checks that it had something to repair.
async fn apply_repairs(setup: &Setup, what: &str) -> anyhow::Result<()> {
    setup.store.fail_put(0);
    setup.s.auth0.clear_faults();
    setup.s.konnect.clear_faults();
    let workflow = setup.s.workflow(setup.store.clone())?;
    let plan = workflow.plan().await?;
    assert!(
        !plan.is_empty(),
        "{what}: apply must see the damage, not say nothing to do"
    );
    let printed = plan.to_string();
    for secret in [
        stored(setup).await,
        setup.store.get(&pending_secret_key(setup.admin.as_str())).await?,
    ]
    .into_iter()
    .flatten()
    {
        assert!(
            !printed.contains(secret.expose_secret()),
            "{what}: a secret in the plan"
        );
    }
    workflow.apply(&plan).await?;
    assert_dcr_works(setup, what).await
}

#[tokio::test]
async fn a_failure_at_each_store_write_of_rotate_is_finished_by_the_next_apply() -> anyhow::Result<()> {
    // put 1: the pending secret; put 2: its promotion.
    for n in [1, 2] {
        let what = format!("store write {n} failed");
        let setup = set_up().await?;
        let before = stored(&setup).await.unwrap();
        setup.store.fail_put(n);
        assert!(
            setup.s.workflow(setup.store.clone())?.rotate_secret().await.is_err(),
            "{what}"
        );
        if n == 1 {
            // Nothing left the process: nothing to repair, and the old secret still works.
            setup.store.fail_put(0);
            assert_eq!(stored(&setup).await.unwrap().expose_secret(), before.expose_secret());
            assert_dcr_works(&setup, &what).await?;
        } else {
            apply_repairs(&setup, &what).await?;
            assert_ne!(stored(&setup).await.unwrap().expose_secret(), before.expose_secret());
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_lost_answer_to_auth0s_patch_is_retried_and_a_persistent_one_is_finished_later() -> anyhow::Result<()> {
    // Once: the client repeats the PATCH (it sets an absolute value) and rotate succeeds.
    let setup = set_up().await?;
    setup
        .s
        .auth0
        .inject(Fault::drop_after_processing().on("PATCH", "/api/v2/clients/"));
    let rotated = setup.s.workflow(setup.store.clone())?.rotate_secret().await?;
    assert!(rotated.provider_updated && !rotated.resumed);
    assert_dcr_works(&setup, "one lost PATCH answer").await?;

    // Every time: rotate fails after Auth0 took the new secret; apply finishes it.
    let setup = set_up().await?;
    setup
        .s
        .auth0
        .inject(Fault::drop_after_processing().times(20).on("PATCH", "/api/v2/clients/"));
    assert!(setup.s.workflow(setup.store.clone())?.rotate_secret().await.is_err());
    apply_repairs(&setup, "every PATCH answer lost").await
}

#[tokio::test]
async fn a_503_on_the_provider_patch_is_retried_and_a_persistent_one_is_finished_later() -> anyhow::Result<()> {
    let setup = set_up().await?;
    setup
        .s
        .konnect
        .inject(Fault::status(503).on("PATCH", "/v2/dcr-providers/"));
    setup.s.workflow(setup.store.clone())?.rotate_secret().await?;
    assert_dcr_works(&setup, "one 503 on the provider PATCH").await?;

    let setup = set_up().await?;
    setup
        .s
        .konnect
        .inject(Fault::status(503).times(20).on("PATCH", "/v2/dcr-providers/"));
    assert!(setup.s.workflow(setup.store.clone())?.rotate_secret().await.is_err());
    apply_repairs(&setup, "the provider PATCH keeps failing").await?;

    // `rotate` finishes it just as well, without a second rotation.
    let setup = set_up().await?;
    setup
        .s
        .konnect
        .inject(Fault::status(503).times(20).on("PATCH", "/v2/dcr-providers/"));
    assert!(setup.s.workflow(setup.store.clone())?.rotate_secret().await.is_err());
    let pending = setup
        .store
        .get(&pending_secret_key(setup.admin.as_str()))
        .await?
        .expect("the pending secret is recorded");
    setup.s.konnect.clear_faults();
    let rotated = setup.s.workflow(setup.store.clone())?.rotate_secret().await?;
    assert!(rotated.resumed, "the interrupted rotation is finished, not repeated");
    assert_eq!(stored(&setup).await.unwrap().expose_secret(), pending.expose_secret());
    assert_dcr_works(&setup, "rotate after a failed provider PATCH").await
}

#[tokio::test]
async fn dropping_rotate_after_each_of_its_network_writes_is_finished_by_the_next_apply() -> anyhow::Result<()> {
    // Write 1 is Auth0's PATCH, write 2 Konnect's.
    for n in [1, 2] {
        let what = format!("rotate dropped after network write {n}");
        let setup = set_up().await?;
        setup.s.clear_logs();
        setup.s.auth0.set_latency(Some(Duration::from_millis(15)));
        setup.s.konnect.set_latency(Some(Duration::from_millis(15)));
        let workflow = setup.s.workflow(setup.store.clone())?;
        let watcher = async {
            while setup.s.writes() < n {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::select! {
            result = workflow.rotate_secret() => panic!("{what}: rotate finished first: {:?}", result.map(|r| r.client_id)),
            () = watcher => {}
        }
        setup.s.auth0.set_latency(None);
        setup.s.konnect.set_latency(None);
        apply_repairs(&setup, &what).await?;
    }
    Ok(())
}

#[tokio::test]
async fn apply_resends_the_stored_secret_when_konnect_holds_a_dead_one() -> anyhow::Result<()> {
    let setup = set_up().await?;
    let before = stored(&setup).await.unwrap();
    setup
        .s
        .konnect_client
        .dcr_providers()
        .update(
            &setup.provider,
            &DcrProviderUpdate::new()
                .for_auth0()
                .dcr_config(DcrConfigUpdate::new().initial_client_secret(SecretString::from("dead secret"))),
        )
        .await?;
    let plan = setup.s.workflow(setup.store.clone())?.plan().await?;
    assert!(
        changed_fields(&plan, StepId::DcrProvider).contains(&"dcr_config.initial_client_secret"),
        "{plan}"
    );
    assert!(
        changed_fields(&plan, StepId::AdminApp).is_empty(),
        "no rotation: {plan}"
    );
    apply_repairs(&setup, "Konnect holds a dead secret").await?;
    assert_eq!(stored(&setup).await.unwrap().expose_secret(), before.expose_secret());
    Ok(())
}

#[tokio::test]
async fn apply_rotates_when_the_stored_secret_is_dead() -> anyhow::Result<()> {
    let setup = set_up().await?;
    // Rotated behind the workflow's back: the store and Konnect hold the old one.
    setup.s.auth0_client.clients().rotate_secret(&setup.admin).await?;
    let plan = setup.s.workflow(setup.store.clone())?.plan().await?;
    assert!(
        changed_fields(&plan, StepId::AdminApp).contains(&"client_secret"),
        "{plan}"
    );
    apply_repairs(&setup, "the stored secret is dead").await
}

#[tokio::test]
async fn a_warm_apply_costs_one_request_more_and_writes_nothing() -> anyhow::Result<()> {
    let setup = set_up().await?;
    setup.s.clear_logs();
    setup.s.workflow(setup.store.clone())?.converge().await?;
    assert_eq!(setup.s.writes(), 0);
    assert_eq!(
        setup
            .s
            .konnect
            .request_count("POST", "/v2/dcr-providers/{dcrProviderId}/verify"),
        1,
        "the one extra request: Konnect's provider check"
    );
    Ok(())
}
