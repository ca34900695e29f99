//! The optional Auth0 Action (`naming.action = true`): the project's code
//! (`action/naming.js`), deployed and bound to the `credentials-exchange` trigger, renames
//! an application Konnect registered at its first token request.
//!
//! Natural key: the action's name (`naming.action_name`). Ownership: the first line of
//! its code, which the workflow writes ([`CODE_MARK`]); an action of that name without
//! it is never changed or deleted. Secrets are write-only in Auth0, so whether the action
//! holds the admin application's current secret is known from the secret store, which
//! records the secret last given to it.

use auth0_mgmt::resources::actions::{
    Action, ActionBinding, ActionSecret, ActionTrigger, ActionUpdate, BindingRef, NewAction, TriggerId,
};
use auth0_mgmt::{ActionId, ClientId};
use futures::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::owner::ACTION_CODE_MARK;
use crate::plan::{Action as PlanAction, FieldChange, KNOWN_AFTER_APPLY, StepId, StepPlan, list};
use crate::steps::Ctx;
use crate::steps::duplicates::gone_ok;
use crate::{Result, WorkflowError};

/// The code the project ships; what is deployed is this under two generated lines.
pub(crate) const SHIPPED_CODE: &str = include_str!("../../action/naming.js");
/// The runtime the code is written for.
pub(crate) const RUNTIME: &str = "node22";
/// The trigger and the version it binds at.
const TRIGGER_VERSION: &str = "v2";
/// The secrets the code reads.
const SECRET_NAMES: [&str; 3] = ["DOMAIN", "CLIENT_ID", "CLIENT_SECRET"];

fn trigger() -> TriggerId {
    TriggerId::CredentialsExchange
}

/// The store key recording the admin secret last given to the action `id`.
fn given_secret_key(id: &ActionId) -> String {
    format!("dcr-rs/naming-action/{}/client_secret", id.as_str())
}

/// The code to deploy: the ownership mark, the configuration, the shipped file.
pub(crate) fn code(config: &crate::DcrConfig) -> Result<String> {
    let template = config.name_template()?;
    let mut portals = config.portal_ids();
    portals.extend(config.classic_portal_ids());
    let settings = json!({ "parts": template.to_action_parts(), "portals": portals });
    Ok(format!(
        "{ACTION_CODE_MARK}: deployed by dcr apply from naming.template; edits here are undone by the next apply.\n\
         const CONFIG = {settings};\n\n{SHIPPED_CODE}"
    ))
}

/// What exists: the action (owned or not) under the configured name, and the trigger's
/// bindings.
#[derive(Clone, Debug, Default)]
pub(crate) struct ObservedAction {
    /// The owned action kept (the oldest), or the foreign one with the name.
    pub(crate) action: Option<Action>,
    /// Further owned actions with the name, left by runs that overlapped.
    pub(crate) duplicates: Vec<Action>,
    /// The `credentials-exchange` bindings, in order.
    pub(crate) bindings: Vec<ActionBinding>,
    /// The secret last given to the kept action, as the store records it.
    pub(crate) given_secret: Option<SecretString>,
    /// The admin application's secret as the store holds it now.
    pub(crate) admin_secret: Option<SecretString>,
}

impl ObservedAction {
    fn owned(&self) -> Option<&Action> {
        self.action.as_ref().filter(|a| owns(a))
    }

    /// Whether the kept action is bound.
    fn bound(&self) -> bool {
        self.owned()
            .is_some_and(|a| self.bindings.iter().any(|b| b.action_id() == Some(&a.id)))
    }
}

/// Whether the workflow wrote this action's code.
pub(crate) fn owns(action: &Action) -> bool {
    action.code.as_deref().is_some_and(|c| c.starts_with(ACTION_CODE_MARK))
}

/// Reads the action and the bindings (two requests, at once). With `tolerant`, a
/// bootstrap without the `read:actions` scope reads as "nothing there" (destroy, for
/// setups that never used the action).
pub(crate) async fn observe(ctx: Ctx<'_>, tolerant: bool) -> Result<ObservedAction> {
    const STEP: StepId = StepId::NamingAction;
    let name = &ctx.config.naming.action_name;
    let actions = ctx.auth0.actions();
    let found = async {
        actions
            .list()
            .name(name)
            .per_page(auth0_mgmt::MAX_PAGE_SIZE)
            .stream()
            .try_filter(|a| std::future::ready(&a.name == name))
            .try_collect::<Vec<Action>>()
            .await
    };
    let bindings = async { actions.bindings(&trigger()).try_collect::<Vec<ActionBinding>>().await };
    let (found, bindings) = match futures::future::try_join(found, bindings).await {
        Ok(both) => both,
        Err(e) if tolerant && (e.is_forbidden() || e.error_code() == Some("insufficient_scope")) => {
            tracing::debug!("no read:actions scope: no naming Action looked for");
            return Ok(ObservedAction::default());
        }
        Err(e) => return Err(WorkflowError::auth0(STEP)(e)),
    };
    let (mut owned, foreign): (Vec<Action>, Vec<Action>) = found.into_iter().partition(owns);
    owned.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    let mut observed = ObservedAction {
        bindings,
        ..ObservedAction::default()
    };
    if owned.is_empty() {
        observed.action = foreign.into_iter().next();
    } else {
        let kept = owned.remove(0);
        observed.given_secret = ctx.store.get(&given_secret_key(&kept.id)).await?;
        observed.action = Some(kept);
        observed.duplicates = owned;
    }
    Ok(observed)
}

/// Refuses an action with the configured name that the workflow did not write.
pub(crate) fn check_owned(ctx: Ctx<'_>, observed: &ObservedAction) -> Result<()> {
    match &observed.action {
        Some(a) if !owns(a) => Err(WorkflowError::NotOwned {
            resource: "Auth0 Action",
            name: ctx.config.naming.action_name.clone(),
            mark: "first line of its code `// managed_by=dcr-rs`",
        }),
        _ => Ok(()),
    }
}

fn same_secret(a: Option<&SecretString>, b: Option<&SecretString>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.expose_secret() == b.expose_secret())
}

/// The action's plan: `admin_secret` is the admin application's secret as the run will
/// leave it (`None` when it is not known yet: created in this run).
pub(crate) fn diff(ctx: Ctx<'_>, observed: &ObservedAction, admin_secret: Option<&SecretString>) -> Result<StepPlan> {
    let step = StepId::NamingAction;
    let name = &ctx.config.naming.action_name;
    let wanted = code(ctx.config)?;
    let template = ctx.config.naming.template.clone().unwrap_or_default();
    let secrets = FieldChange::sensitive("secrets", None, &list(&SECRET_NAMES));
    let Some(action) = observed.owned() else {
        return Ok(StepPlan::new(
            step,
            name,
            PlanAction::Create(vec![
                FieldChange::new("trigger", None, format!("credentials-exchange {TRIGGER_VERSION}")),
                FieldChange::new("runtime", None, RUNTIME),
                FieldChange::new(
                    "code",
                    None,
                    format!("action/naming.js for naming.template {template:?}"),
                ),
                secrets,
                FieldChange::new("deployed_version", None, KNOWN_AFTER_APPLY),
            ]),
        ));
    };
    let mut changes = Vec::new();
    if action.code.as_deref() != Some(wanted.as_str()) {
        changes.push(FieldChange::new(
            "code",
            Some("(differs)".into()),
            format!("action/naming.js for naming.template {template:?}"),
        ));
    }
    if action.runtime.as_deref() != Some(RUNTIME) {
        changes.push(FieldChange::new("runtime", action.runtime.clone(), RUNTIME));
    }
    let names = action.secret_names();
    // A read-only store (the secret from the environment) cannot record what the Action
    // was given: its secret is then taken as current while every name is there.
    let stale = ctx.store.is_writable() && !same_secret(observed.given_secret.as_ref(), admin_secret);
    if !SECRET_NAMES.iter().all(|n| names.contains(n)) || stale {
        changes.push(FieldChange::sensitive("secrets", Some("(stale)"), &list(&SECRET_NAMES)));
    }
    let deployed = action.deployed_version.as_ref().and_then(|v| v.code.as_deref());
    if changes.is_empty() && (deployed != Some(wanted.as_str()) || action.all_changes_deployed == Some(false)) {
        changes.push(FieldChange::new(
            "deployed_version",
            Some("(not the draft)".into()),
            "the draft",
        ));
    }
    Ok(StepPlan::from_changes(step, name, changes))
}

/// The binding's plan.
pub(crate) fn diff_binding(ctx: Ctx<'_>, observed: &ObservedAction) -> StepPlan {
    let step = StepId::NamingBinding;
    let key = trigger().as_str().to_owned();
    if observed.bound() {
        return StepPlan::new(step, key, PlanAction::NoOp);
    }
    let others: Vec<String> = observed
        .bindings
        .iter()
        .filter_map(|b| b.display_name.clone())
        .collect();
    let mut after = others.clone();
    after.push(ctx.config.naming.action_name.clone());
    StepPlan::new(
        step,
        key,
        PlanAction::Update(vec![FieldChange::new("bindings", Some(list(&others)), list(&after))]),
    )
}

/// Owned duplicates of the action: each deleted by `apply`.
pub(crate) fn diff_duplicates(observed: &ObservedAction) -> Vec<StepPlan> {
    observed
        .duplicates
        .iter()
        .map(|d| {
            StepPlan::new(
                StepId::NamingAction,
                format!("{} ({})", d.name, d.id),
                PlanAction::Delete,
            )
            .note("a duplicate left by overlapping runs")
        })
        .collect()
}

/// The secrets the code reads, from the configuration and the admin application.
fn secrets(ctx: Ctx<'_>, admin_id: &ClientId, admin_secret: &SecretString) -> Vec<ActionSecret> {
    vec![
        ActionSecret::new("DOMAIN", SecretString::from(ctx.config.auth0.domain.clone())),
        ActionSecret::new("CLIENT_ID", SecretString::from(admin_id.to_string())),
        ActionSecret::new("CLIENT_SECRET", admin_secret.clone()),
    ]
}

/// Creates or updates the action, deploys it, records the secret given, then binds it.
pub(crate) async fn apply(
    ctx: Ctx<'_>,
    observed: &ObservedAction,
    admin_id: &ClientId,
    admin_secret: &SecretString,
) -> Result<[StepPlan; 2]> {
    let plan = diff(ctx, observed, Some(admin_secret))?;
    let actions = ctx.auth0.actions();
    let auth0 = |step| WorkflowError::auth0(step);
    let id = match (observed.owned(), &plan.action) {
        (Some(a), PlanAction::NoOp) => a.id.clone(),
        (Some(a), _) => {
            let update = ActionUpdate::new()
                .code(code(ctx.config)?)
                .runtime(RUNTIME)
                .secrets(secrets(ctx, admin_id, admin_secret));
            actions
                .update(&a.id, &update)
                .await
                .map_err(auth0(StepId::NamingAction))?;
            a.id.clone()
        }
        (None, _) => {
            let new = NewAction::new(
                &ctx.config.naming.action_name,
                ActionTrigger::new(trigger(), TRIGGER_VERSION),
            )
            .code(code(ctx.config)?)
            .runtime(RUNTIME)
            .secrets(secrets(ctx, admin_id, admin_secret));
            actions.create(&new).await.map_err(auth0(StepId::NamingAction))?.id
        }
    };
    if plan.changes() {
        actions.deploy(&id).await.map_err(auth0(StepId::NamingAction))?;
        // After the deploy: a record the action does not match yet would hide a stale
        // secret from the next run.
        if ctx.store.is_writable() {
            ctx.store.put(&given_secret_key(&id), admin_secret).await?;
        }
    }
    let binding = diff_binding(ctx, observed);
    let duplicate = |b: &ActionBinding| observed.duplicates.iter().any(|d| b.action_id() == Some(&d.id));
    let duplicates_bound = observed.bindings.iter().any(duplicate);
    if observed.owned().map(|a| &a.id) != Some(&id) || binding.changes() || duplicates_bound {
        // Every other binding stays where it is; duplicates' go; ours comes last.
        let mut refs: Vec<BindingRef> = observed
            .bindings
            .iter()
            .filter(|b| b.action_id() != Some(&id) && !duplicate(b))
            .map(BindingRef::existing)
            .collect();
        refs.push(BindingRef::action_id(&id, &ctx.config.naming.action_name));
        actions
            .update_bindings(&trigger(), &refs)
            .await
            .map_err(auth0(StepId::NamingBinding))?;
    }
    // Owned duplicates (overlapping runs on two machines), unbound above.
    for d in &observed.duplicates {
        gone_ok(actions.delete(&d.id, false).await).map_err(auth0(StepId::NamingAction))?;
        if ctx.store.is_writable() {
            ctx.store.delete(&given_secret_key(&d.id)).await?;
        }
    }
    Ok([plan, binding])
}

/// Gives the action the admin application's new secret (after a rotation) and deploys it.
pub(crate) async fn give_secret(ctx: Ctx<'_>, admin_id: &ClientId, admin_secret: &SecretString) -> Result<bool> {
    let observed = observe(ctx, true).await?;
    let Some(action) = observed.owned() else {
        return Ok(false);
    };
    let actions = ctx.auth0.actions();
    actions
        .update(
            &action.id,
            &ActionUpdate::new().secrets(secrets(ctx, admin_id, admin_secret)),
        )
        .await
        .map_err(WorkflowError::auth0(StepId::NamingAction))?;
    actions
        .deploy(&action.id)
        .await
        .map_err(WorkflowError::auth0(StepId::NamingAction))?;
    ctx.store.put(&given_secret_key(&action.id), admin_secret).await?;
    Ok(true)
}

/// Removes every owned action with the configured name: their bindings first (every
/// other binding kept in order), then the actions and the secrets recorded for them.
/// Returns what it removed (or, without `delete`, would), and a foreign action kept.
pub(crate) async fn teardown(
    ctx: Ctx<'_>,
    observed: &ObservedAction,
    delete: bool,
) -> Result<(Vec<(StepId, String)>, Option<(StepId, String)>)> {
    let owned: Vec<&Action> = observed.owned().into_iter().chain(&observed.duplicates).collect();
    let kept = observed
        .action
        .as_ref()
        .filter(|a| !owns(a))
        .map(|a| (StepId::NamingAction, a.name.clone()));
    let ours = |b: &ActionBinding| owned.iter().any(|a| b.action_id() == Some(&a.id));
    let mut removed = Vec::new();
    if observed.bindings.iter().any(ours) {
        if delete {
            let keep: Vec<BindingRef> = observed
                .bindings
                .iter()
                .filter(|b| !ours(b))
                .map(BindingRef::existing)
                .collect();
            ctx.auth0
                .actions()
                .update_bindings(&trigger(), &keep)
                .await
                .map_err(WorkflowError::auth0(StepId::NamingBinding))?;
        }
        removed.push((StepId::NamingBinding, trigger().as_str().to_owned()));
    }
    for action in owned {
        if delete {
            gone_ok(ctx.auth0.actions().delete(&action.id, false).await)
                .map_err(WorkflowError::auth0(StepId::NamingAction))?;
            if ctx.store.is_writable() {
                ctx.store.delete(&given_secret_key(&action.id)).await?;
            }
        }
        removed.push((StepId::NamingAction, action.name.clone()));
    }
    Ok((removed, kept))
}
