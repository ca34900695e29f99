//! Names for the Auth0 applications Konnect registers: `naming.template`, the rename pass
//! ([`Workflow::rename`](crate::Workflow::rename)) and the optional Auth0 Action that
//! renames an application at its first token request.

pub(crate) mod action;
mod rename;
mod template;

pub use rename::{NotRenamed, Rename, RenameOptions, RenameReport};
pub use template::{MAX_NAME_CHARS, NameFacts, NameTemplate, Unnamed};

use crate::error::{ConfigProblem, ConfigProblems};
use crate::{DcrConfig, Result, WorkflowError};

/// The `client_metadata` keys Konnect writes on each application it registers.
pub(crate) const KONNECT_KEYS: [&str; 4] = [
    crate::pairs::PORTAL_KEY,
    "konnect_developer_id",
    "konnect_org_id",
    crate::pairs::APPLICATION_KEY,
];

impl DcrConfig {
    /// The parsed `naming.template`, or a configuration error naming it when it is unset
    /// or wrong.
    pub(crate) fn name_template(&self) -> Result<NameTemplate> {
        let problem = |reason: String| WorkflowError::Config {
            problems: ConfigProblems(vec![ConfigProblem {
                field: "naming.template".into(),
                reason,
            }]),
        };
        let text = self
            .naming
            .template
            .as_deref()
            .ok_or_else(|| problem("is required to rename: the name each application should have".into()))?;
        NameTemplate::parse(text).map_err(problem)
    }
}

impl DcrConfig {
    /// The code `apply` deploys as the naming Action (`naming.action = true`): the
    /// shipped `action/naming.js` under the ownership mark and the parsed template.
    /// Errors name `naming.template` when it is unset or wrong.
    pub fn naming_action_code(&self) -> Result<String> {
        action::code(self)
    }
}

/// The facts of an Auth0 client: its `konnect_*` metadata.
pub(crate) fn facts_of<'a>(client: &'a auth0_mgmt::resources::clients::Client) -> NameFacts<'a> {
    KONNECT_KEYS
        .iter()
        .fold(NameFacts::new(), |facts, key| match client.metadata(key) {
            Some(value) => facts.metadata(key, value),
            None => facts,
        })
}
