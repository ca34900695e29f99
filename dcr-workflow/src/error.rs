//! The one error type of this crate.

use std::fmt;
use std::path::PathBuf;

use auth0_mgmt::Auth0Error;
use konnect_appauth::KonnectError;

use crate::plan::StepId;

/// `Result` with [`WorkflowError`].
pub type Result<T, E = WorkflowError> = std::result::Result<T, E>;

/// One problem found in a [`DcrConfig`](crate::DcrConfig), naming the field.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigProblem {
    /// Dotted path of the field, as written in the TOML file (`auth0.domain`).
    pub field: String,
    /// Why the value is refused.
    pub reason: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Every problem [`DcrConfig::validate`](crate::DcrConfig::validate) found, in field order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigProblems(pub Vec<ConfigProblem>);

impl ConfigProblems {
    /// Whether the problem list names `field`.
    pub fn names(&self, field: &str) -> bool {
        self.0.iter().any(|p| p.field == field)
    }
}

impl fmt::Display for ConfigProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in the workflow. Secrets never appear in it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// The configuration has problems; every one of them is listed.
    #[error("invalid configuration ({} problem(s)): {problems}", problems.0.len())]
    Config {
        /// The problems, each naming its field.
        problems: ConfigProblems,
    },
    /// A configuration file could not be read or parsed.
    #[error("configuration file {path}: {reason}")]
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// What went wrong (I/O error, or the TOML field and why).
        reason: String,
    },
    /// Auth0 answered with an error (or could not be reached) during a step. The cause is
    /// the [`source`](std::error::Error::source), said once: print the chain
    /// (`{:#}` with anyhow) to see it.
    #[error("{step}: the Auth0 request failed")]
    Auth0 {
        /// The step that was running.
        step: StepId,
        /// The Auth0 client's error, with the status and Auth0's own error code.
        #[source]
        source: Auth0Error,
    },
    /// Konnect answered with an error (or could not be reached) during a step. The cause
    /// is the [`source`](std::error::Error::source), said once.
    #[error("{step}: the Konnect request failed")]
    Konnect {
        /// The step that was running.
        step: StepId,
        /// The Konnect client's error, with the status and Konnect's problem details.
        #[source]
        source: KonnectError,
    },
    /// Auth0 refused the workflow's own credentials (the bootstrap application, or the
    /// Management API token): nothing a step did, and nothing a re-run fixes.
    #[error(
        "Auth0 refused the bootstrap credentials during {step}: check DCR_AUTH0_CLIENT_ID and \
         DCR_AUTH0_CLIENT_SECRET (or DCR_AUTH0_MANAGEMENT_TOKEN), and that the application is \
         authorized for the Auth0 Management API"
    )]
    BootstrapRefused {
        /// The step that was running.
        step: StepId,
        /// Auth0's 401.
        #[source]
        source: Auth0Error,
    },
    /// The bootstrap credentials lack a Management API scope the step needs.
    #[error(
        "the bootstrap application lacks a Management API scope that {step} needs: grant it in \
         Auth0 (Applications → APIs → Auth0 Management API → Machine to Machine Applications)"
    )]
    BootstrapScope {
        /// The step that was running.
        step: StepId,
        /// Auth0's 403 `insufficient_scope`, naming the scope.
        #[source]
        source: Auth0Error,
    },
    /// A resource with the workflow's natural key exists, but the workflow did not create
    /// it, so it will neither change nor delete it.
    #[error(
        "{resource} {name:?} already exists and is not managed by dcr-rs (it lacks the {mark} mark); \
         to take it over as it is, plan and apply with --adopt (PlanOptions::adopt); otherwise rename \
         it in the configuration or delete it"
    )]
    NotOwned {
        /// What kind of resource (`Auth0 client`, `Konnect DCR provider`, …).
        resource: &'static str,
        /// Its name or identifier.
        name: String,
        /// The ownership mark that is missing.
        mark: &'static str,
    },
    /// Adoption found several unmarked resources under one natural key and nothing that
    /// links one of them to the rest of the setup; nothing was written.
    #[error(
        "{resource}: {} unmarked candidates named {name:?} ({}) and nothing links one of them to the \
         rest of the setup; delete or rename all but one, then adopt again", ids.len(), ids.join(", ")
    )]
    Ambiguous {
        /// What kind of resource.
        resource: &'static str,
        /// The configured name they share.
        name: String,
        /// Every candidate's id.
        ids: Vec<String>,
    },
    /// Adoption found a resource under the configured key that is of another kind than
    /// the workflow manages (a DCR provider of another type, a strategy that is not
    /// `openid_connect`); it is never converted, and nothing was written.
    #[error("{resource} {name:?} ({id}) cannot be adopted: {reason}")]
    NotAdoptable {
        /// What kind of resource.
        resource: &'static str,
        /// Its name.
        name: String,
        /// Its id.
        id: String,
        /// Why, and what to do.
        reason: String,
    },
    /// `import` found no candidate, or several, of a resource it reads; each is listed.
    #[error(
        "{}", if candidates.is_empty() {
            format!("no {resource} to import")
        } else {
            format!("{resource}: choose one with {flag}; found: {}", candidates.join(", "))
        }
    )]
    ImportChoice {
        /// What kind of resource.
        resource: &'static str,
        /// The option that chooses one.
        flag: &'static str,
        /// Every candidate, `name (id)`.
        candidates: Vec<String>,
    },
    /// An operation needs a resource the workflow has not created yet.
    #[error("{resource} {name:?} does not exist: {hint}")]
    Missing {
        /// What kind of resource.
        resource: &'static str,
        /// Its name or identifier.
        name: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// The state changed between `plan` and `apply` (another run applied meanwhile);
    /// nothing was written.
    #[error(
        "the state changed since this plan was made (another run applied meanwhile); nothing was written: plan again"
    )]
    StalePlan,
    /// A saved plan no longer matches the configuration or the state; nothing was
    /// written.
    #[error(
        "the saved plan is stale; nothing was written: plan again (dcr plan --out FILE) and review it\n  {}",
        changes.join("\n  ")
    )]
    SavedPlanStale {
        /// Each difference, said as what was planned and what is now.
        changes: Vec<String>,
    },
    /// The secret store failed.
    #[error("secret store, key {key:?}: {reason}")]
    SecretStore {
        /// The key being read or written.
        key: String,
        /// What went wrong.
        reason: String,
    },
    /// The store is read-only ([`EnvStore`](crate::store::EnvStore)).
    #[error("secret store is read-only; cannot write or delete {key:?}")]
    ReadOnlyStore {
        /// The key.
        key: String,
    },
    /// A sandbox could not start (feature `sandbox`).
    #[error("sandbox: {reason}")]
    Sandbox {
        /// Why.
        reason: String,
    },
    /// The secrets file's place is unsafe or unusable: a symlink, a directory others can
    /// write, a missing directory, an unignored place inside a git working tree.
    #[error("secrets file {path}: {reason}")]
    UnsafeStore {
        /// The file.
        path: PathBuf,
        /// Why, and what to do.
        reason: String,
    },
    /// Another run holds the store's lock and did not finish in time.
    #[error(
        "secrets file {path}: another dcr run holds its lock and did not finish within {} s; \
         wait for it, or raise the lock wait (WorkflowBuilder::lock_wait)", waited.as_secs_f64()
    )]
    StoreLocked {
        /// The file.
        path: PathBuf,
        /// How long this run waited.
        waited: std::time::Duration,
    },
    /// A secrets file is readable by other users, so the store refuses to use it.
    #[error("secrets file {path} has mode {mode:o}; it must not be readable by group or others (chmod 600)")]
    InsecureFile {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

impl WorkflowError {
    pub(crate) fn auth0(step: StepId) -> impl FnOnce(Auth0Error) -> Self {
        // Every request of the workflow's Auth0 client carries the bootstrap credentials'
        // token, so a 401 (after one refresh) or a missing scope is about them. (The one
        // request made with another secret, the check of the stored secret, handles its
        // own 401 before it gets here.)
        move |source| {
            if source.is_unauthorized() {
                WorkflowError::BootstrapRefused { step, source }
            } else if source.error_code() == Some("insufficient_scope") {
                WorkflowError::BootstrapScope { step, source }
            } else {
                WorkflowError::Auth0 { step, source }
            }
        }
    }

    pub(crate) fn konnect(step: StepId) -> impl FnOnce(KonnectError) -> Self {
        move |source| WorkflowError::Konnect { step, source }
    }

    pub(crate) fn store(key: &str, reason: impl fmt::Display) -> Self {
        WorkflowError::SecretStore {
            key: key.to_owned(),
            reason: reason.to_string(),
        }
    }

    /// The configuration problems, when this is a [`WorkflowError::Config`].
    pub fn config_problems(&self) -> Option<&ConfigProblems> {
        match self {
            WorkflowError::Config { problems } => Some(problems),
            _ => None,
        }
    }

    /// The step that failed, when a service call failed.
    pub fn step(&self) -> Option<StepId> {
        match self {
            WorkflowError::Auth0 { step, .. }
            | WorkflowError::Konnect { step, .. }
            | WorkflowError::BootstrapRefused { step, .. }
            | WorkflowError::BootstrapScope { step, .. } => Some(*step),
            _ => None,
        }
    }
}
