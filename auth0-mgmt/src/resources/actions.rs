//! Actions: `/api/v2/actions`. An action holds code for a trigger; it runs once it is
//! deployed (each deploy makes an immutable version) and bound to its trigger. A
//! trigger's bindings are replaced as a whole, in execution order.
//!
//! Secrets are write-only: Auth0 returns their names (and when each changed), never their
//! values, so [`ActionSecret`] is sent and [`ActionSecretName`] comes back.

use futures::Stream;
use futures::future::BoxFuture;
use reqwest::Method;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

use super::{check_len, check_name};
use crate::client::Auth0Client;
use crate::error::{NotFoundAsNone, Result};
use crate::ids::{ActionId, ActionVersionId};
use crate::pagination::{Filters, Page, PageRequest, PageSource, Paging, WirePage, walk};
use dcr_client_core::{Operation, string_enum};

static LIST: Operation = Operation::new(Method::GET, "/api/v2/actions/actions");
static CREATE: Operation = Operation::new(Method::POST, "/api/v2/actions/actions");
static GET: Operation = Operation::new(Method::GET, "/api/v2/actions/actions/{id}");
static UPDATE: Operation = Operation::new(Method::PATCH, "/api/v2/actions/actions/{id}");
static DELETE: Operation = Operation::new(Method::DELETE, "/api/v2/actions/actions/{id}");
static DEPLOY: Operation = Operation::new(Method::POST, "/api/v2/actions/actions/{id}/deploy");
static TRIGGERS: Operation = Operation::new(Method::GET, "/api/v2/actions/triggers");
static BINDINGS: Operation = Operation::new(Method::GET, "/api/v2/actions/triggers/{triggerId}/bindings");
static UPDATE_BINDINGS: Operation = Operation::new(Method::PATCH, "/api/v2/actions/triggers/{triggerId}/bindings");

/// Every operation this handler exposes, for coverage and contract checks.
pub const OPERATIONS: [&Operation; 9] = [
    &LIST,
    &CREATE,
    &GET,
    &UPDATE,
    &DELETE,
    &DEPLOY,
    &TRIGGERS,
    &BINDINGS,
    &UPDATE_BINDINGS,
];

string_enum!(
    /// A trigger (`ActionTriggerTypeEnum`): where in a flow actions run.
    TriggerId {
        /// After a user logs in.
        PostLogin = "post-login",
        /// The machine-to-machine flow: a `client_credentials` token request.
        CredentialsExchange = "credentials-exchange",
        /// Before a user is registered.
        PreUserRegistration = "pre-user-registration",
        /// After a user is registered.
        PostUserRegistration = "post-user-registration",
        /// After a password change.
        PostChangePassword = "post-change-password",
        /// Sending a phone message.
        SendPhoneMessage = "send-phone-message",
    }
);

string_enum!(
    /// An action's or a version's build status (`ActionBuildStatusEnum`).
    ActionBuildStatus {
        /// Waiting to be built.
        Pending = "pending",
        /// Being built.
        Building = "building",
        /// Packaged.
        Packaged = "packaged",
        /// Built: it can be deployed and runs.
        Built = "built",
        /// Retrying a build.
        Retrying = "retrying",
        /// The build failed.
        Failed = "failed",
    }
);

/// A trigger an action supports (`ActionTrigger`).
#[skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionTrigger {
    /// Which trigger.
    pub id: TriggerId,
    /// Its version (`v2` for `credentials-exchange`).
    pub version: Option<String>,
    /// Whether it is current (`CURRENT`) or deprecated.
    pub status: Option<String>,
    /// The runtimes it offers.
    pub runtimes: Option<Vec<String>>,
    /// The runtime it uses when none is named.
    pub default_runtime: Option<String>,
    /// Every other field Auth0 returned.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ActionTrigger {
    /// `id` at `version`.
    pub fn new(id: TriggerId, version: impl Into<String>) -> Self {
        ActionTrigger {
            id,
            version: Some(version.into()),
            status: None,
            runtimes: None,
            default_runtime: None,
            extra: Map::new(),
        }
    }
}

/// A secret as Auth0 returns it: its name, never its value (`ActionSecretResponse`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ActionSecretName {
    /// The name the code reads it by (`event.secrets.NAME`).
    pub name: String,
    /// When its value last changed.
    pub updated_at: Option<String>,
}

/// A secret to set on an action (`ActionSecretRequest`): its value leaves only on the wire.
#[derive(Clone, Serialize)]
pub struct ActionSecret {
    name: String,
    #[serde(serialize_with = "crate::secret::expose")]
    value: SecretString,
}

impl ActionSecret {
    /// `name` (what the code reads, `event.secrets.NAME`) holding `value`.
    pub fn new(name: impl Into<String>, value: impl Into<SecretString>) -> Self {
        ActionSecret {
            name: name.into(),
            value: value.into(),
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Debug for ActionSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionSecret")
            .field("name", &self.name)
            .field("value", &"[REDACTED]")
            .finish()
    }
}

/// An npm dependency of an action (`ActionVersionDependency`).
#[skip_serializing_none]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionDependency {
    /// The package.
    pub name: String,
    /// Its version.
    pub version: Option<String>,
    /// A private registry.
    pub registry_url: Option<String>,
}

/// A deployed, immutable version of an action (`ActionVersion`, `ActionDeployedVersion`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ActionVersion {
    /// The version's id.
    pub id: ActionVersionId,
    /// The action it belongs to.
    pub action_id: Option<ActionId>,
    /// Its code.
    pub code: Option<String>,
    /// Its runtime.
    pub runtime: Option<String>,
    /// 1 for the first deploy, then one more each time.
    pub number: Option<u64>,
    /// Whether this is the version that runs.
    pub deployed: Option<bool>,
    /// Its build status.
    pub status: Option<ActionBuildStatus>,
    /// The secrets it was deployed with (names only).
    #[serde(default)]
    pub secrets: Vec<ActionSecretName>,
    /// Every other field Auth0 returned.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An action as Auth0 returns it (`GetActionResponseContent`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Action {
    /// The action's id.
    pub id: ActionId,
    /// Its name, unique in the tenant.
    pub name: String,
    /// The triggers it can be bound to.
    #[serde(default)]
    pub supported_triggers: Vec<ActionTrigger>,
    /// Its current (draft) code: what the next deploy ships.
    pub code: Option<String>,
    /// Its runtime (`node22`).
    pub runtime: Option<String>,
    /// Its npm dependencies.
    #[serde(default)]
    pub dependencies: Vec<ActionDependency>,
    /// Its secrets (names only).
    #[serde(default)]
    pub secrets: Vec<ActionSecretName>,
    /// Its draft's build status.
    pub status: Option<ActionBuildStatus>,
    /// The version that runs, once deployed.
    pub deployed_version: Option<ActionVersion>,
    /// Whether the draft and the deployed version are the same.
    pub all_changes_deployed: Option<bool>,
    /// Creation time.
    pub created_at: Option<String>,
    /// Last change.
    pub updated_at: Option<String>,
    /// Every other field Auth0 returned.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Action {
    /// The names of its secrets.
    pub fn secret_names(&self) -> Vec<&str> {
        self.secrets.iter().map(|s| s.name.as_str()).collect()
    }
}

/// What create and update bodies share.
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize)]
struct Settings {
    code: Option<String>,
    runtime: Option<String>,
    dependencies: Option<Vec<ActionDependency>>,
    secrets: Option<Vec<ActionSecret>>,
    supported_triggers: Option<Vec<ActionTrigger>>,
}

macro_rules! action_setters {
    () => {
        /// The code (`exports.onExecute…`).
        pub fn code(mut self, code: impl Into<String>) -> Self {
            self.settings.code = Some(code.into());
            self
        }

        /// The Node.js runtime (`node22`).
        pub fn runtime(mut self, runtime: impl Into<String>) -> Self {
            self.settings.runtime = Some(runtime.into());
            self
        }

        /// The npm dependencies (replaces the list).
        pub fn dependencies(mut self, dependencies: impl IntoIterator<Item = ActionDependency>) -> Self {
            self.settings.dependencies = Some(dependencies.into_iter().collect());
            self
        }

        /// The secrets (replaces the list: a secret not named is removed).
        pub fn secrets(mut self, secrets: impl IntoIterator<Item = ActionSecret>) -> Self {
            self.settings.secrets = Some(secrets.into_iter().collect());
            self
        }
    };
}

/// Body of `POST /api/v2/actions/actions` (`CreateActionRequestContent`).
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[must_use]
pub struct NewAction {
    name: String,
    #[serde(flatten)]
    settings: Settings,
}

impl NewAction {
    /// An action named `name` for `trigger` (at least one trigger is required).
    pub fn new(name: impl Into<String>, trigger: ActionTrigger) -> Self {
        NewAction {
            name: name.into(),
            settings: Settings {
                supported_triggers: Some(vec![trigger]),
                ..Settings::default()
            },
        }
    }

    action_setters!();
}

/// Body of `PATCH /api/v2/actions/actions/{id}` (`UpdateActionRequestContent`): only the
/// fields set are sent. A change is a draft until [`Actions::deploy`].
#[skip_serializing_none]
#[derive(Clone, Debug, Default, Serialize)]
#[must_use]
pub struct ActionUpdate {
    name: Option<String>,
    #[serde(flatten)]
    settings: Settings,
}

impl ActionUpdate {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renames the action.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    action_setters!();
}

/// An action bound to a trigger (`ActionBinding`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ActionBinding {
    /// The binding's id.
    pub id: String,
    /// The trigger.
    pub trigger_id: Option<TriggerId>,
    /// The name shown in the flow.
    pub display_name: Option<String>,
    /// The bound action.
    pub action: Option<Action>,
    /// Every other field Auth0 returned.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ActionBinding {
    /// The bound action's id.
    pub fn action_id(&self) -> Option<&ActionId> {
        self.action.as_ref().map(|a| &a.id)
    }
}

/// One entry of a trigger's new bindings (`UpdateActionBindingItem`): which action, by
/// id, by name, or an existing binding kept as it is.
#[skip_serializing_none]
#[derive(Clone, Debug, Serialize)]
#[must_use]
pub struct BindingRef {
    #[serde(rename = "ref")]
    reference: Reference,
    display_name: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
struct Reference {
    #[serde(rename = "type")]
    kind: &'static str,
    value: String,
}

impl BindingRef {
    /// Binds the action with this id.
    pub fn action_id(id: &ActionId, display_name: impl Into<String>) -> Self {
        Self::of("action_id", id.as_str(), Some(display_name.into()))
    }

    /// Keeps an existing binding where it is in the order.
    pub fn existing(binding: &ActionBinding) -> Self {
        Self::of("binding_id", &binding.id, binding.display_name.clone())
    }

    fn of(kind: &'static str, value: &str, display_name: Option<String>) -> Self {
        BindingRef {
            reference: Reference {
                kind,
                value: value.to_owned(),
            },
            display_name,
        }
    }
}

#[derive(Serialize)]
struct BindingsBody<'a> {
    bindings: &'a [BindingRef],
}

#[derive(Deserialize)]
struct BindingsAnswer {
    #[serde(default)]
    bindings: Vec<ActionBinding>,
}

#[derive(Deserialize)]
struct TriggersAnswer {
    #[serde(default)]
    triggers: Vec<ActionTrigger>,
}

/// Handler for `/api/v2/actions`. Obtain it with [`Auth0Client::actions`].
#[derive(Clone, Debug)]
pub struct Actions {
    client: Auth0Client,
}

impl Actions {
    pub(crate) fn new(client: Auth0Client) -> Self {
        Actions { client }
    }

    fn url(&self, tail: &[&str]) -> url::Url {
        let mut segments = vec!["actions"];
        segments.extend_from_slice(tail);
        self.client.api_url(&segments)
    }

    /// Creates an action (a draft: [`deploy`](Self::deploy) it, then bind it).
    ///
    /// ```no_run
    /// # async fn run(auth0: auth0_mgmt::Auth0Client) -> auth0_mgmt::Result<()> {
    /// use auth0_mgmt::resources::actions::{ActionTrigger, NewAction, TriggerId};
    /// let action = auth0
    ///     .actions()
    ///     .create(
    ///         &NewAction::new("tag tokens", ActionTrigger::new(TriggerId::CredentialsExchange, "v2"))
    ///             .code("exports.onExecuteCredentialsExchange = async (event, api) => {};")
    ///             .runtime("node22"),
    ///     )
    ///     .await?;
    /// auth0.actions().deploy(&action.id).await?;
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(skip_all)]
    pub async fn create(&self, new: &NewAction) -> Result<Action> {
        check_name("name", &new.name, usize::MAX)?;
        let builder = self.client.request(Method::POST, self.url(&["actions"])).json(new);
        self.client.send_json(&CREATE, builder).await
    }

    /// Reads an action.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn get(&self, id: &ActionId) -> Result<Action> {
        check_len("id", id.as_str(), 1, usize::MAX)?;
        let url = self.url(&["actions", id.as_str()]);
        self.client.send_json(&GET, self.client.request(Method::GET, url)).await
    }

    /// Reads an action, `Ok(None)` if it does not exist.
    pub async fn get_opt(&self, id: &ActionId) -> Result<Option<Action>> {
        self.get(id).await.optional()
    }

    /// Lists actions; see [`ListActions`].
    pub fn list(&self) -> ListActions {
        ListActions {
            client: self.client.clone(),
            paging: PageRequest::default(),
            filters: Filters::default(),
        }
    }

    /// Changes an action's draft.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn update(&self, id: &ActionId, update: &ActionUpdate) -> Result<Action> {
        check_len("id", id.as_str(), 1, usize::MAX)?;
        if let Some(name) = &update.name {
            check_name("name", name, usize::MAX)?;
        }
        let url = self.url(&["actions", id.as_str()]);
        self.client
            .send_json(&UPDATE, self.client.request(Method::PATCH, url).json(update))
            .await
    }

    /// Deploys the draft as a new version; a bound action runs it from then on.
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn deploy(&self, id: &ActionId) -> Result<ActionVersion> {
        check_len("id", id.as_str(), 1, usize::MAX)?;
        let url = self.url(&["actions", id.as_str(), "deploy"]);
        self.client
            .send_json(&DEPLOY, self.client.request(Method::POST, url))
            .await
    }

    /// Deletes an action and its versions. Auth0 refuses one still bound to a trigger
    /// unless `force` (which unbinds it first).
    #[tracing::instrument(skip_all, fields(id = %id))]
    pub async fn delete(&self, id: &ActionId, force: bool) -> Result<()> {
        check_len("id", id.as_str(), 1, usize::MAX)?;
        let mut builder = self.client.request(Method::DELETE, self.url(&["actions", id.as_str()]));
        if force {
            builder = builder.query(&[("force", "true")]);
        }
        self.client.send_empty(&DELETE, builder).await
    }

    /// The triggers the tenant offers.
    #[tracing::instrument(skip_all)]
    pub async fn triggers(&self) -> Result<Vec<ActionTrigger>> {
        let url = self.url(&["triggers"]);
        let answer: TriggersAnswer = self
            .client
            .send_json(&TRIGGERS, self.client.request(Method::GET, url))
            .await?;
        Ok(answer.triggers)
    }

    /// The actions bound to `trigger`, in execution order, every page.
    pub fn bindings(&self, trigger: &TriggerId) -> impl Stream<Item = Result<ActionBinding>> + Send + 'static {
        let source = ListBindings {
            client: self.client.clone(),
            trigger: trigger.as_str().to_owned(),
        };
        walk(source, PageRequest::default().stream_start(false))
    }

    /// Replaces `trigger`'s bindings with `bindings`, in execution order: a binding not
    /// listed is removed (keep one with [`BindingRef::existing`]).
    #[tracing::instrument(skip_all, fields(trigger = %trigger))]
    pub async fn update_bindings(&self, trigger: &TriggerId, bindings: &[BindingRef]) -> Result<Vec<ActionBinding>> {
        let url = self.url(&["triggers", trigger.as_str(), "bindings"]);
        let builder = self.client.request(Method::PATCH, url).json(&BindingsBody { bindings });
        let answer: BindingsAnswer = self.client.send_json(&UPDATE_BINDINGS, builder).await?;
        Ok(answer.bindings)
    }
}

/// `GET /api/v2/actions/actions` with its filters (offset pagination).
#[derive(Clone, Debug)]
#[must_use]
pub struct ListActions {
    client: Auth0Client,
    paging: PageRequest,
    filters: Filters,
}

impl ListActions {
    /// Only actions with this exact name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.filters.set("actionName", name.into());
        self
    }

    /// Only actions supporting this trigger.
    pub fn trigger(mut self, trigger: &TriggerId) -> Self {
        self.filters.set("triggerId", trigger.as_str().to_owned());
        self
    }

    offset_paging_setters!();

    /// Fetches one page.
    pub async fn send(self) -> Result<Page<Action>> {
        let paging = self.paging.single(false)?;
        self.fetch(paging).await
    }

    /// Walks every page lazily.
    pub fn stream(self) -> impl Stream<Item = Result<Action>> + Send + 'static {
        let start = self.paging.stream_start(false);
        walk(self, start)
    }
}

impl PageSource for ListActions {
    type Item = Action;
    fn fetch(&self, paging: Paging) -> BoxFuture<'static, Result<Page<Action>>> {
        let client = self.client.clone();
        let filters = self.filters.to_vec();
        Box::pin(async move {
            let mut query = filters;
            // This endpoint takes page and per_page, not include_totals.
            query.extend(paging.query().into_iter().filter(|(k, _)| *k != "include_totals"));
            let url = client.api_url(&["actions", "actions"]);
            let wire: WirePage<Action> = client
                .send_json(&LIST, client.request(Method::GET, url).query(&query))
                .await?;
            Ok(Page::from(wire))
        })
    }
}

/// `GET /api/v2/actions/triggers/{triggerId}/bindings`.
#[derive(Clone, Debug)]
struct ListBindings {
    client: Auth0Client,
    trigger: String,
}

impl PageSource for ListBindings {
    type Item = ActionBinding;
    fn fetch(&self, paging: Paging) -> BoxFuture<'static, Result<Page<ActionBinding>>> {
        let client = self.client.clone();
        let trigger = self.trigger.clone();
        Box::pin(async move {
            let url = client.api_url(&["actions", "triggers", &trigger, "bindings"]);
            // This endpoint takes page and per_page, not include_totals.
            let query: Vec<(&str, String)> = paging
                .query()
                .into_iter()
                .filter(|(k, _)| *k != "include_totals")
                .collect();
            let wire: WirePage<ActionBinding> = client
                .send_json(&BINDINGS, client.request(Method::GET, url).query(&query))
                .await?;
            Ok(Page::from(wire))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_leave_only_on_the_wire_and_never_in_debug() {
        let new = NewAction::new("a", ActionTrigger::new(TriggerId::CredentialsExchange, "v2"))
            .secrets([ActionSecret::new("CLIENT_SECRET", SecretString::from("s3cr3t"))]);
        assert!(!format!("{new:?}").contains("s3cr3t"));
        let body = serde_json::to_value(&new).unwrap();
        assert_eq!(body["secrets"][0]["value"], "s3cr3t");
        assert_eq!(body["supported_triggers"][0]["id"], "credentials-exchange");
        assert_eq!(body["supported_triggers"][0]["version"], "v2");
    }

    #[test]
    fn binding_refs_serialize_as_the_document_says() {
        let body = serde_json::to_value(BindingsBody {
            bindings: &[BindingRef::action_id(&ActionId::new("act_1"), "naming")],
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"bindings": [{"ref": {"type": "action_id", "value": "act_1"}, "display_name": "naming"}]})
        );
    }
}
