//! What `plan()` found and what `apply()` will do, printable like `terraform plan`.

use std::fmt;

/// The workflow's steps, in dependency order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum StepId {
    /// Reading the current state of both systems (the start of plan and destroy).
    Observe,
    /// The Auth0 DCR admin application.
    AdminApp,
    /// Its grant to the Management API.
    AdminGrant,
    /// The Auth0 resource server (the API audience).
    ApiAudience,
    /// The Konnect DCR provider.
    DcrProvider,
    /// The Konnect auth strategy.
    AuthStrategy,
    /// The Konnect API that gets published.
    KonnectApi,
    /// A classic (v2) portal's API product version.
    ApiProduct,
    /// The API's publication on the portal.
    Publication,
    /// Rotation of the admin application's secret.
    Rotate,
    /// Verification.
    Verify,
    /// The orphan audit.
    Audit,
    /// The rename of the applications Konnect registered (`naming.template`).
    Rename,
    /// The Auth0 Action that names them at their first token request.
    NamingAction,
    /// Its binding to the `credentials-exchange` trigger.
    NamingBinding,
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepId::Observe => "reading current state",
            StepId::AdminApp => "Auth0 DCR admin application",
            StepId::AdminGrant => "Auth0 Management API grant",
            StepId::ApiAudience => "Auth0 API (resource server)",
            StepId::DcrProvider => "Konnect DCR provider",
            StepId::AuthStrategy => "Konnect auth strategy",
            StepId::KonnectApi => "Konnect API",
            StepId::ApiProduct => "Konnect API product version",
            StepId::Publication => "Konnect publication",
            StepId::Rotate => "secret rotation",
            StepId::Verify => "verification",
            StepId::Audit => "audit",
            StepId::Rename => "rename of Konnect's Auth0 applications",
            StepId::NamingAction => "Auth0 naming Action",
            StepId::NamingBinding => "Auth0 credentials-exchange binding",
        })
    }
}

/// One field that differs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldChange {
    /// The field as the service names it (`scope`, `dcr_config.initial_client_id`).
    pub field: String,
    /// The current value, rendered; `None` when the resource is created.
    pub before: Option<String>,
    /// The wanted value, rendered.
    pub after: String,
    /// Secret values are never rendered: both sides print `(sensitive)`.
    pub sensitive: bool,
}

impl FieldChange {
    pub(crate) fn new(field: &str, before: Option<String>, after: impl Into<String>) -> Self {
        FieldChange {
            field: field.to_owned(),
            before,
            after: after.into(),
            sensitive: false,
        }
    }

    pub(crate) fn sensitive(field: &str, before: Option<&str>, after: &str) -> Self {
        FieldChange {
            field: field.to_owned(),
            before: before.map(str::to_owned),
            after: after.to_owned(),
            sensitive: true,
        }
    }
}

/// What a step will do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Create the resource with these fields.
    Create(Vec<FieldChange>),
    /// Change these fields.
    Update(Vec<FieldChange>),
    /// Take over a resource made without dcr-rs (by hand, following Kong's guide): add the
    /// ownership mark and change these fields (the mark among them). Planned only with
    /// [`PlanOptions::adopt`]; from then on the workflow owns it, and `destroy` removes it.
    Adopt(Vec<FieldChange>),
    /// Delete the resource: an owned duplicate of one the chain keeps (left by runs that
    /// overlapped on two machines). The step's note says which one is kept.
    Delete,
    /// Nothing to do.
    NoOp,
}

/// One line of the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StepPlan {
    /// Which step.
    pub step: StepId,
    /// The resource's natural key (name, identifier, …).
    pub key: String,
    /// What will happen.
    pub action: Action,
    /// Why, when it is not obvious (e.g. the secret is missing from the store).
    pub note: Option<String>,
}

impl StepPlan {
    pub(crate) fn new(step: StepId, key: impl Into<String>, action: Action) -> Self {
        StepPlan {
            step,
            key: key.into(),
            action,
            note: None,
        }
    }

    /// `Update` with the changes, or `NoOp` when there are none.
    pub(crate) fn from_changes(step: StepId, key: impl Into<String>, changes: Vec<FieldChange>) -> Self {
        let action = if changes.is_empty() {
            Action::NoOp
        } else {
            Action::Update(changes)
        };
        StepPlan::new(step, key, action)
    }

    /// The same changes, as the adoption of a resource the workflow did not create.
    pub(crate) fn adopted(self) -> Self {
        let action = match self.action {
            Action::Update(f) | Action::Adopt(f) | Action::Create(f) => Action::Adopt(f),
            Action::NoOp | Action::Delete => Action::Adopt(Vec::new()),
        };
        StepPlan { action, ..self }
    }

    pub(crate) fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Whether this step writes anything.
    pub fn changes(&self) -> bool {
        !matches!(self.action, Action::NoOp)
    }

    /// The field changes (empty for a no-op).
    pub fn fields(&self) -> &[FieldChange] {
        match &self.action {
            Action::Create(f) | Action::Update(f) | Action::Adopt(f) => f,
            Action::Delete | Action::NoOp => &[],
        }
    }
}

/// Rendered value used when a value is only known once an earlier step has run.
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";
pub(crate) const SENSITIVE: &str = "(sensitive)";

impl fmt::Display for StepPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = match self.action {
            Action::Create(_) => "+",
            Action::Update(_) => "~",
            Action::Adopt(_) => "~ adopt",
            Action::Delete => "-",
            Action::NoOp => "=",
        };
        write!(f, "  {sign} {} {:?}", self.step, self.key)?;
        if let Some(note) = &self.note {
            write!(f, "  # {note}")?;
        }
        writeln!(f)?;
        for change in self.fields() {
            let after = if change.sensitive { SENSITIVE } else { &change.after };
            match (&change.before, &self.action) {
                (Some(before), Action::Update(_) | Action::Adopt(_)) => {
                    let before = if change.sensitive { SENSITIVE } else { before };
                    writeln!(f, "      {}: {before} -> {after}", change.field)?;
                }
                _ => writeln!(f, "      {} = {after}", change.field)?,
            }
        }
        Ok(())
    }
}

/// How [`Workflow::plan_with`](crate::Workflow::plan_with) treats what it finds.
///
/// ```
/// use dcr_workflow::PlanOptions;
/// let options = PlanOptions::new().adopt(true).prune(true);
/// assert!(options.adopts() && options.prunes());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlanOptions {
    adopt: bool,
    prune: bool,
}

impl PlanOptions {
    /// The default: resources the workflow did not create are refused
    /// ([`WorkflowError::NotOwned`](crate::WorkflowError::NotOwned)).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adopt what matches the configuration but carries no ownership mark (a setup made
    /// by hand): the plan shows `~ adopt` with the differences, and `apply` adds the
    /// marks and corrects the differences in place. Links beat names: the admin
    /// application is the one the provider's `initial_client_id` names, the provider the
    /// one the strategy references. Two unmarked candidates that nothing links are
    /// refused ([`WorkflowError::Ambiguous`](crate::WorkflowError::Ambiguous)), and a
    /// resource of another kind is never converted
    /// ([`WorkflowError::NotAdoptable`](crate::WorkflowError::NotAdoptable)).
    pub fn adopt(mut self, adopt: bool) -> Self {
        self.adopt = adopt;
        self
    }

    /// Whether unmarked resources are adopted.
    pub fn adopts(&self) -> bool {
        self.adopt
    }

    /// Remove the publications of the workflow's strategy that no
    /// `[[konnect.publications]]` entry configures any more, on any portal (shown as `-`
    /// in the plan). Without it they are listed and kept.
    pub fn prune(mut self, prune: bool) -> Self {
        self.prune = prune;
        self
    }

    /// Whether unconfigured publications of the strategy are removed.
    pub fn prunes(&self) -> bool {
        self.prune
    }
}

/// The plan: one entry per step, in order.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Plan {
    /// The steps.
    pub steps: Vec<StepPlan>,
    pub(crate) observed: crate::steps::Observed,
    pub(crate) options: PlanOptions,
}

impl Plan {
    /// Whether applying the plan writes nothing.
    pub fn is_empty(&self) -> bool {
        !self.steps.iter().any(StepPlan::changes)
    }

    /// The entry for a step.
    pub fn step(&self, step: StepId) -> Option<&StepPlan> {
        self.steps.iter().find(|s| s.step == step)
    }

    /// (to create, to update, unchanged); deletions and adoptions are counted by
    /// [`to_delete`](Self::to_delete) and [`to_adopt`](Self::to_adopt).
    pub fn counts(&self) -> (usize, usize, usize) {
        self.steps.iter().fold((0, 0, 0), |(c, u, n), s| match s.action {
            Action::Create(_) => (c + 1, u, n),
            Action::Update(_) => (c, u + 1, n),
            Action::NoOp => (c, u, n + 1),
            Action::Delete | Action::Adopt(_) => (c, u, n),
        })
    }

    /// How many resources made without dcr-rs the plan adopts.
    pub fn to_adopt(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s.action, Action::Adopt(_)))
            .count()
    }

    /// The options the plan was made with (`apply` plans again with the same ones).
    pub fn options(&self) -> PlanOptions {
        self.options
    }

    /// How many owned duplicates the plan deletes.
    pub fn to_delete(&self) -> usize {
        self.steps.iter().filter(|s| s.action == Action::Delete).count()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.steps {
            write!(f, "{step}")?;
        }
        let (create, update, same) = self.counts();
        write!(f, "Plan: {create} to create, {update} to update")?;
        match self.to_adopt() {
            0 => {}
            adopt => write!(f, ", {adopt} to adopt")?,
        }
        match self.to_delete() {
            0 => {}
            delete => write!(f, ", {delete} to delete")?,
        }
        write!(f, ", {same} unchanged.")
    }
}

/// Renders a list for a plan line: `[a, b]`.
pub(crate) fn list<S: AsRef<str>>(items: &[S]) -> String {
    let inner: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("[{}]", inner.join(", "))
}

/// Renders labels for a plan line: `{k=v, …}`.
pub(crate) fn labels(labels: &std::collections::BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

/// The change that adds the wanted labels a Konnect resource lacks (others are kept).
pub(crate) fn missing_labels(
    current: &std::collections::BTreeMap<String, String>,
    wanted: &std::collections::BTreeMap<String, String>,
) -> Option<FieldChange> {
    let missing: std::collections::BTreeMap<String, String> = wanted
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!missing.is_empty()).then(|| FieldChange::new("labels", Some(labels(current)), labels(&missing)))
}

/// Sorted copy, for order-insensitive comparison of scope lists.
pub(crate) fn sorted<S: AsRef<str>>(items: &[S]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| s.as_ref().to_owned()).collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_render_as_sensitive_on_both_sides() {
        let step = StepPlan::new(
            StepId::DcrProvider,
            "auth0-dcr",
            Action::Update(vec![
                FieldChange::sensitive("dcr_config.initial_client_secret", Some("old"), "new-secret"),
                FieldChange::new("issuer", Some("https://a/".into()), "https://a"),
            ]),
        );
        let text = step.to_string();
        assert!(
            text.contains("initial_client_secret: (sensitive) -> (sensitive)"),
            "{text}"
        );
        assert!(!text.contains("new-secret") && !text.contains("old"), "{text}");
        assert!(text.contains("~ Konnect DCR provider \"auth0-dcr\""), "{text}");
        assert!(text.contains("issuer: https://a/ -> https://a"), "{text}");
    }
}
