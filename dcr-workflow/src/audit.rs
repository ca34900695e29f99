//! Audit: Auth0 clients Konnect registered whose application is gone, and applications
//! whose Auth0 client is gone.

use std::fmt;

use futures::TryStreamExt;

use crate::pairs::{APPLICATION_KEY, Join, PORTAL_KEY, Pairs};
use crate::plan::StepId;
use crate::steps::{Purpose, in_step, observe};
use crate::{Result, Workflow, WorkflowError};

/// An Auth0 client registered for a portal application that no longer exists.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
pub struct OrphanApplication {
    /// The application.
    pub application_id: String,
    /// The Auth0 client it points at.
    pub client_id: String,
}

/// An owned resource under the same natural key as the one the chain uses: left by runs
/// that overlapped on two machines. The next `apply` deletes it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DuplicateResource {
    /// Which kind of resource.
    pub step: StepId,
    /// Its name.
    pub name: String,
    /// Its id.
    pub id: String,
    /// The id of the one the chain uses, if any.
    pub kept: Option<String>,
}

/// Something an earlier `verify` created and could not remove (the run was killed, or
/// the answer to its create was lost). `destroy` removes it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyLeftover {
    /// `"portal application"` or `"Auth0 client"`.
    pub kind: &'static str,
    /// Its id.
    pub id: String,
}

/// The result of [`Workflow::audit`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct AuditReport {
    /// Portal applications with an Auth0 client id.
    pub applications: usize,
    /// Auth0 clients seen.
    pub auth0_clients: usize,
    /// Auth0 clients whose application is gone.
    pub orphan_clients: Vec<OrphanClient>,
    /// Applications whose Auth0 client is gone.
    pub orphan_applications: Vec<OrphanApplication>,
    /// Owned duplicates of the workflow's own resources.
    pub duplicates: Vec<DuplicateResource>,
    /// What earlier verifications left behind.
    pub verify_leftovers: Vec<VerifyLeftover>,
}

impl AuditReport {
    /// Whether nothing is orphaned or duplicated.
    pub fn is_clean(&self) -> bool {
        self.orphan_clients.is_empty()
            && self.orphan_applications.is_empty()
            && self.duplicates.is_empty()
            && self.verify_leftovers.is_empty()
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
        for d in &self.duplicates {
            write!(f, "  duplicate {} {:?} ({})", d.step, d.name, d.id)?;
            match &d.kept {
                Some(kept) => writeln!(f, ": {kept} is the one in use; apply deletes this one")?,
                None => writeln!(f, ": apply deletes it")?,
            }
        }
        for l in &self.verify_leftovers {
            writeln!(
                f,
                "  {} {} was left by an earlier verify: destroy removes it",
                l.kind, l.id
            )?;
        }
        write!(
            f,
            "Audit: {} applications, {} Auth0 clients, {} orphan clients, {} orphan applications, {} duplicates, \
             {} verify leftovers.",
            self.applications,
            self.auth0_clients,
            self.orphan_clients.len(),
            self.orphan_applications.len(),
            self.duplicates.len(),
            self.verify_leftovers.len()
        )
    }
}

/// What an audit's application brings: its id. What a client brings: what makes it an
/// orphan (absent for clients not registered for a configured portal).
type AuditJoin = Join<String, Option<OrphanClient>>;

impl Workflow {
    /// Streams the portal's applications and the tenant's clients at the same time and
    /// reports orphans on both sides. It holds one page of each, what is not matched yet
    /// (both lists come in creation order, so little beyond the orphans) and one client
    /// id per matched pair.
    pub async fn audit(&self) -> Result<AuditReport> {
        in_step(StepId::Audit, self.audit_inner()).await
    }

    async fn audit_inner(&self) -> Result<AuditReport> {
        // Every configured portal, one after the other (each list in creation order).
        let portals = self.config.portal_ids();
        let join = AuditJoin::default();
        // Both walks run at once, so an audit takes as long as the longer one, not both
        // (2,000 applications at 50 ms per page: 1.1 s instead of 2.2 s).
        let mut leftover_applications = Vec::new();
        let applications = async {
            let mut apps = std::pin::pin!(self.portal_applications_walk(&portals));
            loop {
                join.pace(Pairs::applications_ahead).await;
                let Some(app) = apps.try_next().await.map_err(WorkflowError::konnect(StepId::Audit))? else {
                    break;
                };
                if crate::leftovers::is_verify_application(&app) {
                    leftover_applications.push(VerifyLeftover {
                        kind: "portal application",
                        id: app.id.to_string(),
                    });
                }
                join.update(|u| {
                    u.applications_walked += 1;
                    if let Some(client_id) = app.client_id {
                        u.application(client_id, app.id.to_string());
                    }
                });
            }
            join.update(|u| u.applications_done = true);
            Ok::<_, WorkflowError>(())
        };
        // Owned admin applications with the configured name: more than the one in use are
        // duplicates. The walk sees every client anyway.
        let mut admins: Vec<(String, String)> = Vec::new();
        let mut leftover_clients = Vec::new();
        let clients = async {
            let mut clients = std::pin::pin!(self.clients_walk());
            loop {
                join.pace(Pairs::clients_ahead).await;
                let Some(client) = clients.try_next().await.map_err(WorkflowError::auth0(StepId::Audit))? else {
                    break;
                };
                let registered_here = client
                    .metadata(PORTAL_KEY)
                    .is_some_and(|p| portals.iter().any(|c| c == p));
                let leftover = crate::leftovers::is_verify_client(&client);
                if leftover {
                    leftover_clients.push(VerifyLeftover {
                        kind: "Auth0 client",
                        id: client.client_id.to_string(),
                    });
                }
                let registered = match (registered_here && !leftover, client.metadata(APPLICATION_KEY)) {
                    (true, Some(application)) => Some(OrphanClient {
                        client_id: client.client_id.to_string(),
                        name: client.name.clone(),
                        application_id: application.to_owned(),
                    }),
                    _ => None,
                };
                if client.name == self.config.auth0.admin_app_name && crate::owner::owns_client(&client) {
                    admins.push((client.client_id.to_string(), client.name.clone()));
                }
                join.update(|u| u.client(client.client_id.into_inner(), registered));
            }
            join.update(|u| u.clients_done = true);
            Ok(())
        };
        let chain = async { observe(self.ctx(), Purpose::Rotate).await };
        let ((), (), observed) = futures::future::try_join3(applications, clients, chain).await?;
        let duplicates = duplicates_of(&observed, &admins);
        let pairs = join.into_pairs();
        let (application_count, client_count) = (pairs.application_count, pairs.client_count);
        let (unpaired_applications, unpaired_clients) = pairs.unpaired();
        let mut orphan_clients: Vec<OrphanClient> = unpaired_clients.into_values().flatten().collect();
        orphan_clients.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        let mut orphan_applications: Vec<OrphanApplication> = unpaired_applications
            .into_iter()
            .map(|(client_id, application_id)| OrphanApplication {
                application_id,
                client_id,
            })
            .collect();
        orphan_applications.sort_by(|a, b| a.application_id.cmp(&b.application_id));
        Ok(AuditReport {
            applications: application_count,
            auth0_clients: client_count,
            orphan_clients,
            orphan_applications,
            duplicates,
            verify_leftovers: leftover_applications.into_iter().chain(leftover_clients).collect(),
        })
    }
}

/// The chain's owned duplicates, and the owned admin applications (`admins`: id, name)
/// the chain does not use.
fn duplicates_of(observed: &crate::steps::Observed, admins: &[(String, String)]) -> Vec<DuplicateResource> {
    let mut found: Vec<DuplicateResource> = crate::steps::duplicates::found(observed)
        .into_iter()
        .map(|f| DuplicateResource {
            step: f.step,
            name: f.name,
            id: f.id,
            kept: f.kept,
        })
        .collect();
    let kept = observed.admin.as_ref().map(|a| a.client_id.to_string());
    for (id, name) in admins {
        if Some(id) != kept.as_ref() && !found.iter().any(|d| &d.id == id) {
            found.push(DuplicateResource {
                step: StepId::AdminApp,
                name: name.clone(),
                id: id.clone(),
                kept: kept.clone(),
            });
        }
    }
    found
}
