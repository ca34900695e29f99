//! The reports as JSON (`dcr … --output json`): what a pipeline reads. Written by hand
//! rather than derived where a value must never leave as it is (a sensitive field change
//! serializes as `"(sensitive)"`) or where a summary helps the reader (`changes_pending`,
//! `success`, `clean`). No secret type implements `Serialize`, so none can be written by
//! accident: the plan's observation, which holds a read secret, is never serialized.

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::plan::{Action, FieldChange, Plan, SENSITIVE, StepId, StepPlan};
use crate::verify::{Outcome, VerifyReport};
use crate::workflow::{Applied, Destroyed};
use crate::{AuditReport, RenameReport};

impl Serialize for StepId {
    /// The step's snake_case name (`admin_app`, `publication`).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            StepId::Observe => "observe",
            StepId::AdminApp => "admin_app",
            StepId::AdminGrant => "admin_grant",
            StepId::ApiAudience => "api_audience",
            StepId::DcrProvider => "dcr_provider",
            StepId::AuthStrategy => "auth_strategy",
            StepId::KonnectApi => "konnect_api",
            StepId::ApiProduct => "api_product",
            StepId::Publication => "publication",
            StepId::Rotate => "rotate",
            StepId::Verify => "verify",
            StepId::Audit => "audit",
            StepId::Rename => "rename",
            StepId::NamingAction => "naming_action",
            StepId::NamingBinding => "naming_binding",
        })
    }
}

impl Serialize for FieldChange {
    /// `{field, before, after, sensitive}`; a sensitive change shows `(sensitive)` on both
    /// sides.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let hide = |v: &str| {
            if self.sensitive {
                SENSITIVE.to_owned()
            } else {
                v.to_owned()
            }
        };
        let mut m = s.serialize_struct("FieldChange", 4)?;
        m.serialize_field("field", &self.field)?;
        m.serialize_field("before", &self.before.as_deref().map(hide))?;
        m.serialize_field("after", &hide(&self.after))?;
        m.serialize_field("sensitive", &self.sensitive)?;
        m.end()
    }
}

impl Action {
    /// `create`, `update`, `adopt`, `delete` or `no_op`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create(_) => "create",
            Action::Update(_) => "update",
            Action::Adopt(_) => "adopt",
            Action::Delete => "delete",
            Action::NoOp => "no_op",
        }
    }
}

impl Serialize for StepPlan {
    /// `{step, title, key, action, changes, note}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("StepPlan", 6)?;
        m.serialize_field("step", &self.step)?;
        m.serialize_field("title", &self.step.to_string())?;
        m.serialize_field("key", &self.key)?;
        m.serialize_field("action", self.action.name())?;
        m.serialize_field("changes", self.fields())?;
        m.serialize_field("note", &self.note)?;
        m.end()
    }
}

impl Serialize for Plan {
    /// `{steps, summary: {create, update, adopt, delete, unchanged}, changes_pending,
    /// options: {adopt, prune}}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (create, update, unchanged) = self.counts();
        let mut m = s.serialize_struct("Plan", 4)?;
        m.serialize_field("steps", &self.steps)?;
        m.serialize_field(
            "summary",
            &serde_json::json!({
                "create": create,
                "update": update,
                "adopt": self.to_adopt(),
                "delete": self.to_delete(),
                "unchanged": unchanged,
            }),
        )?;
        m.serialize_field("changes_pending", &!self.is_empty())?;
        m.serialize_field(
            "options",
            &serde_json::json!({"adopt": self.options().adopts(), "prune": self.options().prunes()}),
        )?;
        m.end()
    }
}

impl Serialize for Applied {
    /// `{steps, admin_client_id, provider: {id, name}, strategy: {id, name}, api_ids}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Applied", 5)?;
        m.serialize_field("steps", &self.steps)?;
        m.serialize_field("admin_client_id", &self.admin_client_id)?;
        m.serialize_field(
            "provider",
            &serde_json::json!({"id": self.provider.id, "name": self.provider.name}),
        )?;
        m.serialize_field(
            "strategy",
            &serde_json::json!({"id": self.strategy.id, "name": self.strategy.name}),
        )?;
        m.serialize_field("api_ids", &self.api_ids)?;
        m.end()
    }
}

/// `(step, key)` pairs as `{step, key}` objects.
struct Resources<'a>(&'a [(StepId, String)]);

impl Serialize for Resources<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.0
                .iter()
                .map(|(step, key)| serde_json::json!({"step": step, "key": key})),
        )
    }
}

impl Serialize for Destroyed {
    /// `{removed: [{step, key}], kept: [{step, key}]}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Destroyed", 2)?;
        m.serialize_field("removed", &Resources(&self.removed))?;
        m.serialize_field("kept", &Resources(&self.kept))?;
        m.end()
    }
}

impl Serialize for VerifyReport {
    /// `{success, checks: [{link, status: passed|failed|skipped, detail}]}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let checks: Vec<serde_json::Value> = self
            .checks
            .iter()
            .map(|c| {
                let (status, detail) = match &c.outcome {
                    Outcome::Passed(d) => ("passed", d),
                    Outcome::Failed(d) => ("failed", d),
                    Outcome::Skipped(d) => ("skipped", d),
                };
                serde_json::json!({"link": c.link.to_string(), "status": status, "detail": detail})
            })
            .collect();
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("success", &self.is_success())?;
        m.serialize_entry("checks", &checks)?;
        m.end()
    }
}

impl Serialize for AuditReport {
    /// Every count and list, and `clean`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let orphan_clients: Vec<_> = self
            .orphan_clients
            .iter()
            .map(|o| serde_json::json!({"client_id": o.client_id, "name": o.name, "application_id": o.application_id}))
            .collect();
        let orphan_applications: Vec<_> = self
            .orphan_applications
            .iter()
            .map(|o| serde_json::json!({"application_id": o.application_id, "client_id": o.client_id}))
            .collect();
        let duplicates: Vec<_> = self
            .duplicates
            .iter()
            .map(|d| serde_json::json!({"step": d.step, "name": d.name, "id": d.id, "kept": d.kept}))
            .collect();
        let leftovers: Vec<_> = self
            .verify_leftovers
            .iter()
            .map(|l| serde_json::json!({"kind": l.kind, "id": l.id}))
            .collect();
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("clean", &self.is_clean())?;
        m.serialize_entry("applications", &self.applications)?;
        m.serialize_entry("auth0_clients", &self.auth0_clients)?;
        m.serialize_entry("orphan_clients", &orphan_clients)?;
        m.serialize_entry("orphan_applications", &orphan_applications)?;
        m.serialize_entry("duplicates", &duplicates)?;
        m.serialize_entry("verify_leftovers", &leftovers)?;
        m.end()
    }
}

impl Serialize for RenameReport {
    /// Every count and list, and `dry_run`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let renamed: Vec<_> = self
            .renamed
            .iter()
            .map(|r| serde_json::json!({"client_id": r.client_id, "from": r.from, "to": r.to}))
            .collect();
        let kept: Vec<_> = self
            .not_renamed
            .iter()
            .map(|n| serde_json::json!({"client_id": n.client_id, "name": n.name, "reason": n.reason}))
            .collect();
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("dry_run", &self.dry_run)?;
        m.serialize_entry("applications", &self.applications)?;
        m.serialize_entry("auth0_clients", &self.auth0_clients)?;
        m.serialize_entry("konnect_clients", &self.konnect_clients)?;
        m.serialize_entry("renamed", &renamed)?;
        m.serialize_entry("unchanged", &self.unchanged)?;
        m.serialize_entry("not_renamed", &kept)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::{Action, FieldChange, StepId, StepPlan};

    #[test]
    fn a_sensitive_change_serializes_as_sensitive_on_both_sides() {
        let step = StepPlan::new(
            StepId::DcrProvider,
            "auth0-dcr",
            Action::Update(vec![FieldChange::sensitive(
                "dcr_config.initial_client_secret",
                Some("old-s3cr3t"),
                "new-s3cr3t",
            )]),
        );
        let json = serde_json::to_string(&step).unwrap();
        assert!(!json.contains("s3cr3t"), "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["action"], "update");
        assert_eq!(value["step"], "dcr_provider");
        assert_eq!(value["changes"][0]["before"], "(sensitive)");
        assert_eq!(value["changes"][0]["after"], "(sensitive)");
    }
}
