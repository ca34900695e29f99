//! Idempotent Konnect Dev Portal Dynamic Client Registration (DCR) with Auth0.
//!
//! A [`Workflow`] sets up, keeps up and tears down everything a portal needs so that a
//! developer who creates an application gets an Auth0 client automatically:
//!
//! 1. the Auth0 **DCR admin application** with a Management API grant holding exactly
//!    the scopes Konnect needs ([`DcrConfig::admin_scopes`]);
//! 2. the Auth0 **API** (resource server) whose identifier is the audience;
//! 3. the Konnect **DCR provider** (type auth0) using the admin application;
//! 4. the **openid_connect auth strategy** using that provider;
//! 5. the **publication** of an API on the portal with that strategy.
//!
//! Every step finds its resource by a natural key, marks what it creates (client
//! metadata `managed_by=dcr-rs`, Konnect label `managed-by=dcr-rs`) and never changes or
//! deletes what it did not create. The admin application's secret lives in a
//! [`SecretStore`](store::SecretStore) and is stored before any other system learns it.
//!
//! ```
//! # #[cfg(not(feature = "sandbox"))] fn main() {}
//! # #[cfg(feature = "sandbox")]
//! # #[tokio::main] async fn main() -> dcr_workflow::Result<()> {
//! use dcr_workflow::{VerifyOptions, Workflow, sandbox::Sandboxes, store::MemoryStore};
//!
//! // Both services faked in this process (feature `sandbox`), with a ready configuration.
//! // For real ones: `DcrConfig::load(Some("dcr.toml".as_ref()))?` (plus `DCR_*`
//! // variables) and `FileStore::open_default()?` to keep the admin secret.
//! let sandboxes = Sandboxes::start().await?;
//! let workflow = Workflow::new(sandboxes.config(), MemoryStore::new())?;
//! let plan = workflow.plan().await?;
//! println!("{plan}");
//! workflow.apply(&plan).await?;
//! let report = workflow.verify(&VerifyOptions::new()).await?;
//! assert!(report.is_success(), "{report}");
//! assert!(workflow.plan().await?.is_empty()); // a second run changes nothing
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

// The crate README's example is compiled as a doc-test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod audit;
mod config;
mod destroy;
mod error;
mod import;
mod json;
mod leftovers;
mod naming;
pub mod owner;
mod pairs;
mod plan;
mod rotation;
#[cfg(feature = "sandbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "sandbox")))]
pub mod sandbox;
mod saved;
mod steps;
pub mod store;
mod verify;
mod workflow;

/// Re-exported so a [`SecretStore`](store::SecretStore) can be implemented without adding
/// the dependency yourself.
pub use async_trait::async_trait;
pub use audit::{AuditReport, DuplicateResource, OrphanApplication, OrphanClient, VerifyLeftover};
pub use config::{
    ApiScope, ApiSettings, Auth0Settings, DEFAULT_ADMIN_APP_NAME, DEFAULT_AUTH_METHODS, DEFAULT_NAMING_ACTION_NAME,
    DEFAULT_PRODUCT_VERSION, DcrConfig, ENV_VARIABLES, KNOWN_AUTH_METHODS, KonnectSettings, NamingSettings,
    PublicationSettings,
};
pub use error::{ConfigProblem, ConfigProblems, Result, WorkflowError};
pub use import::{ImportOptions, Imported, import, import_with};
pub use naming::{MAX_NAME_CHARS, NameFacts, NameTemplate, NotRenamed, Rename, RenameOptions, RenameReport, Unnamed};
pub use plan::{Action, FieldChange, KNOWN_AFTER_APPLY, Plan, PlanOptions, StepId, StepPlan};
pub use saved::SavedPlan;
pub use verify::{Check, Link, Outcome, VerifyMode, VerifyOptions, VerifyReport};
pub use workflow::{Applied, DEFAULT_LOCK_WAIT, Destroyed, Rotated, Workflow, WorkflowBuilder};
