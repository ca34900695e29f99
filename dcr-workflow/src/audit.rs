//! Audit: Auth0 clients Konnect registered whose application is gone, and applications
//! whose Auth0 client is gone.

use std::collections::HashMap;
use std::fmt;

use futures::TryStreamExt;
use konnect_appauth::PortalId;

use crate::plan::StepId;
use crate::steps::in_step;
use crate::{Result, Workflow, WorkflowError};

/// Metadata Konnect puts on the Auth0 clients it registers.
const APPLICATION_KEY: &str = "konnect_application_id";
const PORTAL_KEY: &str = "konnect_portal_id";
/// Only what the audit needs of each Auth0 client, to keep pages small.
const CLIENT_FIELDS: [&str; 3] = ["client_id", "name", "client_metadata"];

/// An Auth0 client registered for a portal application that no longer exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrphanClient {
    /// The Auth0 client.
    pub client_id: String,
    /// Its name.
    pub name: String,
    /// The application it was registered for (`konnect_application_id`).
    pub application_id: String,
}

/// A portal application whose Auth0 client no longer exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrphanApplication {
    /// The application.
    pub application_id: String,
    /// The Auth0 client it points at.
    pub client_id: String,
}

/// The result of [`Workflow::audit`].
#[derive(Clone, Debug, Default)]
pub struct AuditReport {
    /// Portal applications with an Auth0 client id.
    pub applications: usize,
    /// Auth0 clients seen.
    pub auth0_clients: usize,
    /// Auth0 clients whose application is gone.
    pub orphan_clients: Vec<OrphanClient>,
    /// Applications whose Auth0 client is gone.
    pub orphan_applications: Vec<OrphanApplication>,
}

impl AuditReport {
    /// Whether nothing is orphaned.
    pub fn is_clean(&self) -> bool {
        self.orphan_clients.is_empty() && self.orphan_applications.is_empty()
    }
}

impl fmt::Display for AuditReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.orphan_clients {
            writeln!(
                f,
                "  orphan Auth0 client {} ({:?}): application {} is gone",
                c.client_id, c.name, c.application_id
            )?;
        }
        for a in &self.orphan_applications {
            writeln!(
                f,
                "  orphan application {}: its Auth0 client {} is gone",
                a.application_id, a.client_id
            )?;
        }
        write!(
            f,
            "Audit: {} applications, {} Auth0 clients, {} orphan clients, {} orphan applications.",
            self.applications,
            self.auth0_clients,
            self.orphan_clients.len(),
            self.orphan_applications.len()
        )
    }
}

impl Workflow {
    /// Streams the portal's applications and the tenant's clients (one page of each in
    /// memory, plus one id pair per application) and reports orphans on both sides.
    pub async fn audit(&self) -> Result<AuditReport> {
        in_step(StepId::Audit, self.audit_inner()).await
    }

    async fn audit_inner(&self) -> Result<AuditReport> {
        let portal = &self.config.konnect.portal_id;
        let mut report = AuditReport::default();
        // client id -> application id, for applications with a registered client.
        let mut by_client: HashMap<String, String> = HashMap::new();
        let mut apps = std::pin::pin!(
            self.konnect
                .portal_applications(PortalId::new(portal.clone()))
                .list()
                .page_size(konnect_appauth::MAX_PAGE_SIZE)
                .stream()
        );
        while let Some(app) = apps.try_next().await.map_err(WorkflowError::konnect(StepId::Audit))? {
            if let Some(client_id) = app.client_id {
                report.applications += 1;
                by_client.insert(client_id, app.id.to_string());
            }
        }
        let mut clients = std::pin::pin!(self.auth0.clients().list().fields(CLIENT_FIELDS).stream());
        while let Some(client) = clients.try_next().await.map_err(WorkflowError::auth0(StepId::Audit))? {
            report.auth0_clients += 1;
            if by_client.remove(client.client_id.as_str()).is_some() {
                continue;
            }
            let registered_here = client.metadata(PORTAL_KEY) == Some(portal.as_str());
            if let (true, Some(application)) = (registered_here, client.metadata(APPLICATION_KEY)) {
                report.orphan_clients.push(OrphanClient {
                    client_id: client.client_id.to_string(),
                    name: client.name.clone(),
                    application_id: application.to_owned(),
                });
            }
        }
        report.orphan_applications = by_client
            .into_iter()
            .map(|(client_id, application_id)| OrphanApplication {
                application_id,
                client_id,
            })
            .collect();
        report
            .orphan_applications
            .sort_by(|a, b| a.application_id.cmp(&b.application_id));
        Ok(report)
    }
}
