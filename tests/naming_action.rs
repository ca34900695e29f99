//! The naming Action (`naming.action = true`): apply deploys and binds it, a second apply
//! writes nothing, drift in its code or binding is corrected, rotation gives it the new
//! secret, destroy removes it; and its code passes its Node tests against the sandbox.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::Arc;

use dcr_sandbox::auth0::Fault;
use dcr_tests::Sandboxes;
use dcr_workflow::store::{MemoryStore, SecretStore, admin_secret_key};
use dcr_workflow::{NameFacts, NameTemplate, StepId, Workflow};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

const TEMPLATE: &str = "{developer_id}/{application_id}";
const ACTION: &str = "dcr-rs Konnect application naming";
const TRIGGER: &str = "credentials-exchange";

fn workflow(s: &Sandboxes, store: &Arc<MemoryStore>) -> Workflow {
    let mut config = s.config();
    config.naming.template = Some(TEMPLATE.into());
    config.naming.action = true;
    Workflow::builder(config).shared_store(store.clone()).build().unwrap()
}

fn ours(s: &Sandboxes) -> Vec<Value> {
    s.auth0.actions().into_iter().filter(|a| a["name"] == ACTION).collect()
}

/// The DCR admin application's client id.
fn admin_id(s: &Sandboxes) -> String {
    let admin = s
        .auth0
        .clients()
        .into_iter()
        .find(|c| c["name"] == "Konnect Portal DCR Admin");
    admin.unwrap()["client_id"].as_str().unwrap().to_owned()
}

/// Binds `action` after what the trigger already runs (as someone in the dashboard would).
fn bind_last(s: &Sandboxes, action: &str) {
    let mut bindings: Vec<Value> = s
        .auth0
        .bound_actions(TRIGGER)
        .iter()
        .map(|a| json!({"ref": {"type": "action_id", "value": a}}))
        .collect();
    bindings.push(json!({"ref": {"type": "action_id", "value": action}}));
    s.auth0.set_bindings(TRIGGER, json!({ "bindings": bindings })).unwrap();
}

fn action_writes(s: &Sandboxes) -> usize {
    s.auth0
        .requests()
        .iter()
        .filter(|r| r.is_write() && r.route.starts_with("/api/v2/actions"))
        .count()
}

#[tokio::test]
async fn apply_deploys_and_binds_then_a_second_apply_writes_nothing() {
    let s = Sandboxes::start().await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let wf = workflow(&s, &store);
    // Someone's own action, bound first: it stays bound, first.
    let theirs = s
        .auth0
        .insert_action(json!({"name": "theirs", "supported_triggers": [{"id": TRIGGER}]}))
        .unwrap();
    s.auth0
        .set_bindings(
            TRIGGER,
            json!({"bindings": [{"ref": {"type": "action_id", "value": theirs}}]}),
        )
        .unwrap();
    let plan = wf.plan().await.unwrap();
    assert!(plan.step(StepId::NamingAction).unwrap().changes(), "{plan}");
    assert!(plan.to_string().contains("secrets = (sensitive)"), "{plan}");
    wf.apply(&plan).await.unwrap();

    let actions = ours(&s);
    assert_eq!(actions.len(), 1);
    let action = &actions[0];
    let id = action["id"].as_str().unwrap();
    let code = wf.config().naming_action_code().unwrap();
    assert_eq!(action["code"], code.as_str());
    assert!(code.starts_with("// managed_by=dcr-rs"));
    assert_eq!(action["deployed_version"]["code"], code.as_str(), "deployed");
    assert_eq!(action["runtime"], "node22");
    assert_eq!(s.auth0.bound_actions(TRIGGER), [theirs.clone(), id.to_owned()]);
    // Its secrets: the admin application's credentials, from the store, never in the code.
    let admin = wf.plan().await.unwrap();
    let admin_id = admin_id(&s);
    let stored = store.get(&admin_secret_key(&admin_id)).await.unwrap().unwrap();
    assert!(
        s.auth0.action_secret(id, "CLIENT_SECRET").unwrap().expose_secret() == stored.expose_secret(),
        "the Action holds the stored secret"
    );
    assert_eq!(
        s.auth0.action_secret(id, "CLIENT_ID").unwrap().expose_secret(),
        admin_id
    );
    assert!(!code.contains(stored.expose_secret()));
    assert!(admin.is_empty(), "{admin}");

    s.clear_logs();
    let again = wf.plan().await.unwrap();
    assert!(again.is_empty(), "{again}");
    wf.apply(&again).await.unwrap();
    assert_eq!(s.writes(), 0, "a second apply writes nothing");
}

#[tokio::test]
async fn drift_in_code_deployment_or_binding_is_corrected() {
    let s = Sandboxes::start().await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let wf = workflow(&s, &store);
    wf.converge().await.unwrap();
    let id = ours(&s)[0]["id"].as_str().unwrap().to_owned();
    let code = wf.config().naming_action_code().unwrap();

    // Edited and deployed in the dashboard.
    s.auth0
        .edit_action(&id, json!({"code": format!("{code}\n// a local tweak")}))
        .unwrap();
    s.auth0.deploy_action(&id).unwrap();
    let plan = wf.plan().await.unwrap();
    assert_eq!(
        dcr_tests::changed_fields(&plan, StepId::NamingAction),
        ["code"],
        "{plan}"
    );
    wf.apply(&plan).await.unwrap();
    let action = &ours(&s)[0];
    assert_eq!(action["deployed_version"]["code"], code.as_str());

    // Edited but not deployed: the draft is ours, the running version is not.
    s.auth0.deploy_action(&id).unwrap();
    s.auth0
        .edit_action(&id, json!({"code": "module.exports = () => {}"}))
        .unwrap();
    s.auth0.deploy_action(&id).unwrap();
    s.auth0.edit_action(&id, json!({"code": code})).unwrap();
    let plan = wf.plan().await.unwrap();
    assert_eq!(
        dcr_tests::changed_fields(&plan, StepId::NamingAction),
        ["deployed_version"]
    );
    wf.apply(&plan).await.unwrap();
    assert_eq!(ours(&s)[0]["deployed_version"]["code"], code.as_str());

    // Unbound by hand.
    s.auth0.set_bindings(TRIGGER, json!({"bindings": []})).unwrap();
    let plan = wf.plan().await.unwrap();
    assert_eq!(dcr_tests::changed_fields(&plan, StepId::NamingBinding), ["bindings"]);
    assert!(!plan.step(StepId::NamingAction).unwrap().changes());
    wf.apply(&plan).await.unwrap();
    assert_eq!(s.auth0.bound_actions(TRIGGER), std::slice::from_ref(&id));

    // A changed template is a code change.
    let mut config = wf.config().clone();
    config.naming.template = Some("{application_id} ({developer_id})".into());
    let wf2 = Workflow::builder(config).shared_store(store.clone()).build().unwrap();
    let plan = wf2.plan().await.unwrap();
    assert_eq!(dcr_tests::changed_fields(&plan, StepId::NamingAction), ["code"]);
    wf2.apply(&plan).await.unwrap();
    assert!(wf2.plan().await.unwrap().is_empty());
}

#[tokio::test]
async fn rotation_gives_the_action_the_new_secret_and_destroy_removes_it_unbinding_first() {
    let s = Sandboxes::start().await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let wf = workflow(&s, &store);
    wf.converge().await.unwrap();
    let id = ours(&s)[0]["id"].as_str().unwrap().to_owned();
    let versions = s.auth0.action_versions(&id).len();
    let rotated = wf.rotate_secret().await.unwrap();
    let stored = store
        .get(&admin_secret_key(rotated.client_id.as_str()))
        .await
        .unwrap()
        .unwrap();
    assert!(
        s.auth0.action_secret(&id, "CLIENT_SECRET").unwrap().expose_secret() == stored.expose_secret(),
        "the Action holds the stored secret"
    );
    assert_eq!(s.auth0.action_versions(&id).len(), versions + 1, "deployed with it");
    assert!(wf.plan().await.unwrap().is_empty());

    // A rotation killed before the Action got its secret: the next apply gives it.
    s.auth0
        .inject(Fault::status(503).times(usize::MAX).on("PATCH", "/api/v2/actions/"));
    assert!(wf.rotate_secret().await.is_err());
    s.auth0.clear_faults();
    let plan = wf.plan().await.unwrap();
    assert_eq!(
        dcr_tests::changed_fields(&plan, StepId::NamingAction),
        ["secrets"],
        "{plan}"
    );
    wf.apply(&plan).await.unwrap();
    let rotated_again = store
        .get(&admin_secret_key(rotated.client_id.as_str()))
        .await
        .unwrap()
        .unwrap();
    assert!(
        s.auth0.action_secret(&id, "CLIENT_SECRET").unwrap().expose_secret() == rotated_again.expose_secret(),
        "the Action holds the stored secret"
    );

    let theirs = s
        .auth0
        .insert_action(json!({"name": "theirs", "supported_triggers": [{"id": TRIGGER}]}))
        .unwrap();
    bind_last(&s, &theirs);
    let destroyed = wf.destroy().await.unwrap();
    assert!(
        destroyed.removed.contains(&(StepId::NamingBinding, TRIGGER.into())),
        "{destroyed:?}"
    );
    assert!(destroyed.removed.contains(&(StepId::NamingAction, ACTION.into())));
    assert!(ours(&s).is_empty());
    assert_eq!(s.auth0.bound_actions(TRIGGER), [theirs], "theirs stays bound");
}

#[tokio::test]
async fn a_lost_create_is_found_by_the_next_run_and_a_foreign_action_is_refused() {
    let s = Sandboxes::start().await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let wf = workflow(&s, &store);
    s.auth0
        .inject(Fault::drop_after_processing().on("POST", "/api/v2/actions/actions"));
    assert!(wf.converge().await.is_err());
    wf.converge().await.unwrap();
    assert_eq!(ours(&s).len(), 1, "no second action");
    assert!(wf.plan().await.unwrap().is_empty());

    // Someone else's action under the name: never changed.
    let other = Sandboxes::start().await.unwrap();
    other
        .auth0
        .insert_action(json!({"name": ACTION, "supported_triggers": [{"id": TRIGGER}]}))
        .unwrap();
    let wf = workflow(&other, &Arc::new(MemoryStore::new()));
    let err = wf.plan().await.unwrap_err();
    assert!(err.to_string().contains("Auth0 Action"), "{err}");
    assert_eq!(action_writes(&other), 0);
}

#[tokio::test]
async fn the_action_code_passes_its_node_tests_against_the_sandbox() {
    let s = Sandboxes::start().await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let wf = workflow(&s, &store);
    wf.converge().await.unwrap();
    let admin_id = admin_id(&s);
    let secret = store.get(&admin_secret_key(&admin_id)).await.unwrap().unwrap();

    let template = NameTemplate::parse(TEMPLATE).unwrap();
    let (portal, developer, org) = (s.konnect.portal_id(), s.konnect.developer_id(), s.konnect.org_id());
    let mut targets = Vec::new();
    for (i, name) in ["test", "my app"].iter().enumerate() {
        let application = format!("application-{i}");
        let metadata = json!({
            "konnect_portal_id": portal, "konnect_developer_id": developer,
            "konnect_org_id": org, "konnect_application_id": application,
        });
        let client = s
            .auth0
            .insert_client(json!({"name": name, "app_type": "non_interactive", "client_metadata": metadata}))
            .unwrap();
        let expected = template
            .render(
                &NameFacts::new()
                    .metadata("konnect_portal_id", &portal)
                    .metadata("konnect_developer_id", &developer)
                    .metadata("konnect_org_id", &org)
                    .metadata("konnect_application_id", &application),
            )
            .unwrap();
        targets
            .push(json!({"client_id": client["client_id"], "name": name, "metadata": metadata, "expected": expected}));
    }
    let dir = tempfile::tempdir().unwrap();
    let code = dir.path().join("action.js");
    std::fs::write(&code, wf.config().naming_action_code().unwrap()).unwrap();
    let test_file = concat!(env!("CARGO_MANIFEST_DIR"), "/../dcr-workflow/action/naming.test.js");
    s.clear_logs();
    let tokens = s.auth0.tokens_issued();
    let out = Command::new("node")
        .arg("--test")
        .arg(test_file)
        .env("DCR_ACTION_CODE", &code)
        .env("DCR_SANDBOX_URL", s.auth0.uri())
        .env("DCR_SANDBOX_DOMAIN", s.auth0.domain())
        .env("DCR_ADMIN_CLIENT_ID", &admin_id)
        .env("DCR_ADMIN_CLIENT_SECRET", secret.expose_secret())
        .env("DCR_TARGETS", serde_json::to_string(&targets).unwrap())
        .output()
        .expect("Node.js runs the naming Action's tests: install it (CI does, in .ci/run)");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("# skipped 0"), "the sandbox test ran:\n{report}");

    for target in &targets {
        let now = s.auth0.client_state(target["client_id"].as_str().unwrap()).unwrap();
        assert_eq!(now["name"], target["expected"]);
    }
    assert_eq!(
        s.auth0.tokens_issued() - tokens,
        1,
        "one Management API token for every execution"
    );
    assert_eq!(
        s.auth0.request_count("PATCH", "/api/v2/clients/{id}"),
        2,
        "one rename each, none again"
    );
}

#[tokio::test]
async fn an_owned_duplicate_from_overlapping_runs_is_deleted_and_the_kept_one_stays_bound() {
    let s = Sandboxes::start().await.unwrap();
    let store = Arc::new(MemoryStore::new());
    let wf = workflow(&s, &store);
    wf.converge().await.unwrap();
    let kept = ours(&s)[0]["id"].as_str().unwrap().to_owned();
    // Another machine's run created one too, and bound it.
    let code = wf.config().naming_action_code().unwrap();
    let twin = s
        .auth0
        .insert_action(json!({"name": ACTION, "code": code, "supported_triggers": [{"id": TRIGGER}]}))
        .unwrap();
    bind_last(&s, &twin);

    let plan = wf.plan().await.unwrap();
    assert_eq!(plan.to_delete(), 1, "{plan}");
    wf.apply(&plan).await.unwrap();
    assert_eq!(ours(&s).len(), 1);
    assert_eq!(ours(&s)[0]["id"], kept.as_str(), "the oldest is kept");
    assert_eq!(s.auth0.bound_actions(TRIGGER), std::slice::from_ref(&kept));
    assert!(wf.plan().await.unwrap().is_empty());
}

/// A store that cannot record (the admin secret from the environment, say).
#[derive(Debug)]
struct ReadOnly(Arc<MemoryStore>);

#[dcr_workflow::async_trait]
impl SecretStore for ReadOnly {
    async fn get(&self, key: &str) -> dcr_workflow::Result<Option<secrecy::SecretString>> {
        self.0.get(key).await
    }
    async fn put(&self, key: &str, _value: &secrecy::SecretString) -> dcr_workflow::Result<()> {
        panic!("put({key}) on a read-only store")
    }
    /// Like `EnvStore`: nothing to remove. The naming Action's record is never asked for.
    async fn delete(&self, key: &str) -> dcr_workflow::Result<()> {
        assert!(
            !key.starts_with("dcr-rs/naming-action/"),
            "delete({key}) on a read-only store"
        );
        Ok(())
    }
    fn is_writable(&self) -> bool {
        false
    }
}

#[tokio::test]
async fn with_a_read_only_store_the_action_is_not_rewritten_on_every_run() {
    let s = Sandboxes::start().await.unwrap();
    let memory = Arc::new(MemoryStore::new());
    workflow(&s, &memory).converge().await.unwrap();
    // What a read-only store holds: the admin secret, and no record of what the Action got.
    let id = ours(&s)[0]["id"].as_str().unwrap().to_owned();
    memory
        .delete(&format!("dcr-rs/naming-action/{id}/client_secret"))
        .await
        .unwrap();
    let mut config = s.config();
    config.naming.template = Some(TEMPLATE.into());
    config.naming.action = true;
    let wf = Workflow::builder(config).store(ReadOnly(memory)).build().unwrap();
    s.clear_logs();
    let plan = wf.plan().await.unwrap();
    assert!(plan.is_empty(), "{plan}");
    wf.destroy().await.unwrap();
    assert!(ours(&s).is_empty());
}
