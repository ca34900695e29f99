//! The rename pass: walks the applications Konnect registered for the configured portals
//! and renames those whose name differs from `naming.template`'s.

use std::fmt;
use std::sync::Mutex;

use auth0_mgmt::ClientId;
use auth0_mgmt::resources::clients::{Client, ClientUpdate};
use futures::{StreamExt, TryStreamExt};

use super::{NameTemplate, Unnamed, facts_of};
use crate::pairs::{Join, PORTAL_KEY, Pairs};
use crate::plan::StepId;
use crate::steps::in_step;
use crate::{Result, Workflow, WorkflowError};

const STEP: StepId = StepId::Rename;
/// Renames in flight at once: the Auth0 client's rate-limit gate paces them, this only
/// keeps latency from adding up one rename after another.
const RENAMES_IN_FLIGHT: usize = 8;

/// How [`Workflow::rename`] runs.
///
/// ```
/// use dcr_workflow::RenameOptions;
/// assert!(RenameOptions::new().dry_run(true).is_dry_run());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenameOptions {
    dry_run: bool,
}

impl RenameOptions {
    /// Rename for real.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only say what would be renamed (read requests only): what `dcr plan` shows.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Whether nothing is written.
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }
}

/// One application renamed (or, in a dry run, to rename).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rename {
    /// The Auth0 application.
    pub client_id: String,
    /// Its name before.
    pub from: String,
    /// The template's name for it.
    pub to: String,
}

/// An application Konnect registered that keeps its name, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NotRenamed {
    /// The Auth0 application.
    pub client_id: String,
    /// Its name.
    pub name: String,
    /// Why the template gives it no name, or why the rename did not happen.
    pub reason: String,
}

/// The result of [`Workflow::rename`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RenameReport {
    /// Nothing was written: the renames are what a real run would do.
    pub dry_run: bool,
    /// Portal applications walked (none when the template does not use
    /// `{application_name}`).
    pub applications: usize,
    /// Auth0 applications walked.
    pub auth0_clients: usize,
    /// Of those, the ones Konnect registered for a configured portal.
    pub konnect_clients: usize,
    /// Renamed (to rename, in a dry run).
    pub renamed: Vec<Rename>,
    /// Already named as the template says.
    pub unchanged: usize,
    /// Left as they are, with the reason.
    pub not_renamed: Vec<NotRenamed>,
}

impl RenameReport {
    /// Whether nothing is (or was) to rename.
    pub fn is_empty(&self) -> bool {
        self.renamed.is_empty()
    }
}

impl fmt::Display for RenameReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.renamed {
            writeln!(f, "  ~ Auth0 application {:?}", r.client_id)?;
            writeln!(f, "      name: {:?} -> {:?}", r.from, r.to)?;
        }
        for n in &self.not_renamed {
            writeln!(
                f,
                "  = Auth0 application {:?} {:?}  # not renamed: {}",
                n.client_id, n.name, n.reason
            )?;
        }
        let verb = if self.dry_run { "to rename" } else { "renamed" };
        write!(
            f,
            "Names: {} {verb}, {} already named, {} left as they are ({} applications Konnect registered, {} Auth0 applications read).",
            self.renamed.len(),
            self.unchanged,
            self.not_renamed.len(),
            self.konnect_clients,
            self.auth0_clients
        )
    }
}

/// What one application's name comes to.
enum Verdict {
    Rename(Rename),
    Same,
    Keep(NotRenamed),
}

fn verdict(template: &NameTemplate, client: &Client, application_name: Option<&str>) -> Verdict {
    let mut facts = facts_of(client);
    if let Some(name) = application_name {
        facts = facts.application_name(name);
    }
    match template.render(&facts) {
        Ok(to) if to == client.name => Verdict::Same,
        Ok(to) => Verdict::Rename(Rename {
            client_id: client.client_id.to_string(),
            from: client.name.clone(),
            to,
        }),
        Err(why) => Verdict::Keep(NotRenamed {
            client_id: client.client_id.to_string(),
            name: client.name.clone(),
            reason: why.to_string(),
        }),
    }
}

/// The report being filled by the walks and the renames.
#[derive(Default)]
struct Tally {
    konnect_clients: usize,
    renamed: Vec<Rename>,
    unchanged: usize,
    not_renamed: Vec<NotRenamed>,
}

/// What a portal application brings to the join: its name, or `None` for one `verify`
/// made (its client is left alone).
type RenameJoin = Join<Option<String>, Option<Client>>;

impl Workflow {
    /// Renames the Auth0 applications Konnect registered for the configured portals
    /// (their `konnect_portal_id`) whose name differs from `naming.template`'s.
    ///
    /// It streams like [`audit`](Self::audit): one page of clients at a time and, when the
    /// template uses `{application_name}`, the portals' applications at the same time,
    /// paired by client id. Requests: the pages, plus one `PATCH` per rename, each paced
    /// by the rate-limit gate. A second run renames nothing. Applications Konnect did not
    /// register, and the ones `verify` makes, are never touched.
    ///
    /// ```
    /// # #[cfg(not(feature = "sandbox"))] fn main() {}
    /// # #[cfg(feature = "sandbox")]
    /// # #[tokio::main] async fn main() -> dcr_workflow::Result<()> {
    /// use dcr_workflow::{RenameOptions, Workflow, sandbox::Sandboxes, store::MemoryStore};
    /// let sandboxes = Sandboxes::start().await?;
    /// let mut config = sandboxes.config();
    /// config.naming.template = Some("{application_id} by {developer_id}".into());
    /// let workflow = Workflow::new(config, MemoryStore::new())?;
    /// let report = workflow.rename(&RenameOptions::new()).await?;
    /// assert!(report.is_empty()); // no developer has registered an application yet
    /// # Ok(()) }
    /// ```
    pub async fn rename(&self, options: &RenameOptions) -> Result<RenameReport> {
        in_step(STEP, self.rename_inner(*options)).await
    }

    async fn rename_inner(&self, options: RenameOptions) -> Result<RenameReport> {
        let template = self.config.name_template()?;
        let needs_applications = template.uses_application_name();
        // Without the application's name, classic portals' applications count too: their
        // clients carry the same metadata.
        let portals = if needs_applications {
            self.config.portal_ids()
        } else {
            let mut all = self.config.portal_ids();
            all.extend(self.config.classic_portal_ids());
            all
        };
        let tally = Mutex::new(Tally::default());
        let record = |v: Verdict, renames: &futures::channel::mpsc::UnboundedSender<Rename>| {
            let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
            match v {
                Verdict::Rename(r) => {
                    if !options.dry_run {
                        // The receiver lives until both walks end.
                        let _ = renames.unbounded_send(r);
                    } else {
                        t.renamed.push(r);
                    }
                }
                Verdict::Same => t.unchanged += 1,
                Verdict::Keep(k) => t.not_renamed.push(k),
            }
        };
        let (renames, queue) = futures::channel::mpsc::unbounded::<Rename>();
        // A pair met, whichever walk saw its second half; a client `verify` registered
        // (an application without a name) is left alone.
        let paired = |pair: Option<(Option<String>, Option<Client>)>| {
            if let Some((Some(name), Some(client))) = pair {
                record(verdict(&template, &client, Some(&name)), &renames);
            }
        };
        let join = RenameJoin::default();

        let applications = async {
            if !needs_applications {
                join.update(|p| p.applications_done = true);
                return Ok::<_, WorkflowError>(());
            }
            let mut apps = std::pin::pin!(self.portal_applications_walk(&portals));
            loop {
                join.pace(Pairs::applications_ahead).await;
                let Some(app) = apps.try_next().await.map_err(WorkflowError::konnect(STEP))? else {
                    break;
                };
                let name = (!crate::leftovers::is_verify_application(&app)).then(|| app.name.clone());
                let pair = join.update(|p| {
                    p.applications_walked += 1;
                    app.client_id.and_then(|client_id| p.application(client_id, name))
                });
                paired(pair);
            }
            join.update(|p| p.applications_done = true);
            Ok(())
        };

        let clients = async {
            let mut clients = std::pin::pin!(self.clients_walk());
            loop {
                join.pace(Pairs::clients_ahead).await;
                let Some(client) = clients.try_next().await.map_err(WorkflowError::auth0(STEP))? else {
                    break;
                };
                let registered_here = client
                    .metadata(PORTAL_KEY)
                    .is_some_and(|p| portals.iter().any(|c| c == p))
                    && !crate::leftovers::is_verify_client(&client);
                if registered_here {
                    tally.lock().unwrap_or_else(|p| p.into_inner()).konnect_clients += 1;
                }
                if !needs_applications {
                    join.update(|p| p.client_count += 1);
                    if registered_here {
                        record(verdict(&template, &client, None), &renames);
                    }
                    continue;
                }
                let id = client.client_id.to_string();
                let pair = join.update(|p| p.client(id, registered_here.then_some(client)));
                paired(pair);
            }
            join.update(|p| p.clients_done = true);
            Ok(())
        };

        let walks = async {
            let result = futures::future::try_join(applications, clients).await;
            // Ends the queue: the renames already in it still run.
            renames.close_channel();
            result
        };
        let writes = queue
            .map(|r| async move {
                let id = ClientId::new(r.client_id.clone());
                match self.auth0.clients().update(&id, &ClientUpdate::new().name(&r.to)).await {
                    Ok(_) => Ok(Ok(r)),
                    // Deleted since the page was read: nothing to name.
                    Err(e) if e.is_not_found() => Ok(Err(NotRenamed {
                        client_id: r.client_id,
                        name: r.from,
                        reason: "deleted while the rename ran".into(),
                    })),
                    Err(e) => Err(WorkflowError::auth0(STEP)(e)),
                }
            })
            .buffer_unordered(RENAMES_IN_FLIGHT)
            .try_for_each(|done| {
                let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
                match done {
                    Ok(r) => {
                        tracing::info!(client_id = %r.client_id, to = %r.to, "renamed");
                        t.renamed.push(r);
                    }
                    Err(k) => t.not_renamed.push(k),
                }
                std::future::ready(Ok(()))
            });
        futures::future::try_join(walks, writes).await?;

        let pairs = join.into_pairs();
        let (auth0_clients, applications) = (pairs.client_count, pairs.applications_walked);
        let (_, unpaired_clients) = pairs.unpaired();
        let mut t = tally.into_inner().unwrap_or_else(|p| p.into_inner());
        // Clients whose portal application was never seen: their name is unknown.
        for client in unpaired_clients.into_values().flatten() {
            t.not_renamed.push(NotRenamed {
                client_id: client.client_id.to_string(),
                name: client.name,
                reason: Unnamed::MissingApplicationName.to_string(),
            });
        }
        t.renamed.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        t.not_renamed.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        Ok(RenameReport {
            dry_run: options.dry_run,
            applications,
            auth0_clients,
            konnect_clients: t.konnect_clients,
            renamed: t.renamed,
            unchanged: t.unchanged,
            not_renamed: t.not_renamed,
        })
    }
}
