//! Saved plans: `dcr plan --out plan.json`, reviewed, then `dcr apply plan.json` carries
//! out exactly that plan, or refuses, naming what changed, when the configuration or the
//! observed state no longer match what the plan saw. The file holds the configuration
//! (as [`DcrConfig::to_toml`] writes it: no secret) and the plan as `--output json`
//! prints it (sensitive values as `"(sensitive)"`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::plan::{Plan, PlanOptions};
use crate::workflow::{Applied, Workflow};
use crate::{Result, WorkflowError};

/// The file format this version writes and reads.
const FORMAT: u32 = 1;

/// A plan as saved to a file, to be applied later with [`Workflow::apply_saved`].
///
/// ```
/// # #[cfg(not(feature = "sandbox"))] fn main() {}
/// # #[cfg(feature = "sandbox")]
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use dcr_workflow::{SavedPlan, Workflow, sandbox::Sandboxes, store::MemoryStore};
/// let sandboxes = Sandboxes::start().await?;
/// let workflow = Workflow::new(sandboxes.config(), MemoryStore::new())?;
/// let saved = workflow.save_plan(&workflow.plan().await?)?;
/// let text = serde_json::to_string(&saved)?; // reviewed, stored, passed on
/// let applied = workflow.apply_saved(&serde_json::from_str(&text)?).await?;
/// assert!(applied.steps.iter().any(|s| s.changes()));
/// // Applied: the same file is now stale, and refused.
/// let stale = workflow.apply_saved(&saved).await.unwrap_err();
/// assert!(stale.to_string().contains("plan again"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SavedPlan {
    /// The file format (1).
    pub format: u32,
    /// The `dcr-workflow` version that wrote it.
    pub written_by: String,
    /// The configuration the plan was made for, as TOML, without secrets.
    pub config: String,
    /// The options it was made with.
    pub adopt: bool,
    /// See [`PlanOptions::prune`].
    pub prune: bool,
    /// The plan, as `--output json` prints it.
    pub plan: Value,
}

impl Workflow {
    /// The plan, ready to be written to a file and applied later with
    /// [`apply_saved`](Self::apply_saved).
    pub fn save_plan(&self, plan: &Plan) -> Result<SavedPlan> {
        Ok(SavedPlan {
            format: FORMAT,
            written_by: env!("CARGO_PKG_VERSION").to_owned(),
            config: self.config.to_toml()?,
            adopt: plan.options().adopts(),
            prune: plan.options().prunes(),
            plan: to_value(plan)?,
        })
    }

    /// Carries out a saved plan exactly: under the store's lock it plans again with the
    /// saved options, and applies only when the configuration and the new plan are the
    /// ones saved. Otherwise it refuses before any write
    /// ([`WorkflowError::SavedPlanStale`], naming each difference).
    pub async fn apply_saved(&self, saved: &SavedPlan) -> Result<Applied> {
        if saved.format != FORMAT {
            return Err(WorkflowError::SavedPlanStale {
                changes: vec![format!(
                    "the file's format is {}, this version reads {FORMAT}: plan again with this version",
                    saved.format
                )],
            });
        }
        let config_changes = config_changes(&saved.config, &self.config.to_toml()?);
        if !config_changes.is_empty() {
            return Err(WorkflowError::SavedPlanStale {
                changes: config_changes,
            });
        }
        let _lock = self.store.lock(self.lock_wait).await?;
        let options = PlanOptions::new().adopt(saved.adopt).prune(saved.prune);
        let fresh = self.plan_with(&options).await?;
        let changes = plan_changes(&saved.plan, &to_value(&fresh)?);
        if !changes.is_empty() {
            return Err(WorkflowError::SavedPlanStale { changes });
        }
        self.apply_locked(&fresh).await
    }
}

fn to_value(plan: &Plan) -> Result<Value> {
    serde_json::to_value(plan).map_err(|e| WorkflowError::ConfigFile {
        path: "<plan>".into(),
        reason: format!("cannot be written as JSON: {e}"),
    })
}

/// `table.key = value` for every leaf of a TOML document.
fn flatten(text: &str) -> BTreeMap<String, String> {
    fn walk(prefix: &str, value: &toml::Value, out: &mut BTreeMap<String, String>) {
        match value {
            toml::Value::Table(table) => {
                for (k, v) in table {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&path, v, out);
                }
            }
            other => {
                out.insert(prefix.to_owned(), other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    if let Ok(table) = text.parse::<toml::Table>() {
        walk("", &toml::Value::Table(table), &mut out);
    }
    out
}

/// Each setting that differs: `konnect.strategy_display_name: "A" -> "B"`.
fn config_changes(saved: &str, now: &str) -> Vec<String> {
    let (saved, now) = (flatten(saved), flatten(now));
    let keys: std::collections::BTreeSet<&String> = saved.keys().chain(now.keys()).collect();
    keys.into_iter()
        .filter_map(|k| match (saved.get(k), now.get(k)) {
            (a, b) if a == b => None,
            (Some(a), Some(b)) => Some(format!("the configuration's {k} changed: {a} -> {b}")),
            (Some(a), None) => Some(format!("the configuration's {k} was removed (it was {a})")),
            (None, Some(b)) => Some(format!("the configuration's {k} was added: {b}")),
            (None, None) => None,
        })
        .collect()
}

/// A step's identity and what it would do, for comparison.
fn steps(plan: &Value) -> Vec<(String, &Value)> {
    plan["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let title = s["title"].as_str().unwrap_or_default();
            let key = s["key"].as_str().unwrap_or_default();
            (format!("{title} {key:?}"), s)
        })
        .collect()
}

fn describe(step: &Value) -> String {
    let action = step["action"].as_str().unwrap_or_default();
    let fields: Vec<&str> = step["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["field"].as_str())
        .collect();
    if fields.is_empty() {
        action.to_owned()
    } else {
        format!("{action} ({})", fields.join(", "))
    }
}

/// Each step whose line differs between the saved plan and the new one.
fn plan_changes(saved: &Value, now: &Value) -> Vec<String> {
    let (saved, now) = (steps(saved), steps(now));
    let mut changes = Vec::new();
    for (name, step) in &saved {
        match now.iter().find(|(n, _)| n == name) {
            None => changes.push(format!("{name}: planned {}, now not in the plan", describe(step))),
            Some((_, fresh)) if fresh != step => {
                changes.push(format!("{name}: planned {}, now {}", describe(step), describe(fresh)))
            }
            Some(_) => {}
        }
    }
    for (name, step) in &now {
        if !saved.iter().any(|(n, _)| n == name) {
            changes.push(format!("{name}: not planned, now {}", describe(step)));
        }
    }
    changes
}
