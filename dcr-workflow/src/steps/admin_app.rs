//! Step 1a: the Auth0 application Konnect uses to register developers' clients.

use auth0_mgmt::resources::clients::{Client, ClientMetadata, ClientUpdate, NewClient};
use auth0_mgmt::{AppType, ClientId, GrantType};
use futures::TryStreamExt;
use konnect_appauth::resources::dcr_providers::{DcrConfig as ProviderConfig, DcrProvider};
use secrecy::{ExposeSecret, SecretString};

use super::{Ctx, Observed};
use crate::owner::{self, METADATA_API_KEY, METADATA_KEY, METADATA_VALUE};
use crate::plan::{Action, FieldChange, StepId, StepPlan, list};
use crate::store::{admin_secret_key, pending_secret_key};
use crate::{Result, WorkflowError};
use auth0_mgmt::ClientSecret;
use auth0_mgmt::oauth::ClientCredentialsRequest;

const STEP: StepId = StepId::AdminApp;
/// The fields the lookup by name asks for: enough to compare, never the secret.
const LOOKUP_FIELDS: [&str; 6] = [
    "client_id",
    "name",
    "app_type",
    "grant_types",
    "client_metadata",
    "token_endpoint_auth_method",
];

/// What the step leaves behind for the steps after it.
#[derive(Clone)]
pub(crate) struct AdminOutput {
    pub(crate) client_id: ClientId,
    pub(crate) secret: SecretString,
    /// The secret is new (created or rotated): Konnect must be told.
    pub(crate) secret_changed: bool,
    /// The secret is a rotation's pending one: promote it once Konnect has it.
    pub(crate) pending: bool,
}

/// The admin application the chain uses, and the owned duplicates found on the way.
#[derive(Default)]
pub(crate) struct AdminFound {
    pub(crate) kept: Option<Client>,
    pub(crate) duplicates: Vec<Client>,
}

/// Finds the admin application: first through the kept DCR provider's
/// `initial_client_id` (one request), else by name (a scan of the tenant's applications,
/// which `full_scan` forces). Owned applications with the configured name beyond the kept
/// one, and those that duplicate providers name, are duplicates.
pub(crate) async fn observe(
    ctx: Ctx<'_>,
    provider: Option<&DcrProvider>,
    duplicate_providers: &[DcrProvider],
    full_scan: bool,
) -> Result<AdminFound> {
    let name = &ctx.config.auth0.admin_app_name;
    let referenced = match provider.map(|p| &p.config) {
        Some(ProviderConfig::Auth0(config)) => Some(ClientId::new(config.initial_client_id.clone())),
        _ => None,
    };
    let via_provider = async {
        match &referenced {
            // Adopting: the provider's initial client, under whatever name and mark.
            Some(id) if ctx.adopt => ctx
                .auth0
                .clients()
                .get_opt(id)
                .await
                .map_err(WorkflowError::auth0(STEP)),
            Some(id) => get_owned(ctx, id).await,
            None => Ok(None),
        }
    };
    let others: Vec<ClientId> = super::duplicates::provider_clients(duplicate_providers)
        .into_iter()
        .map(ClientId::new)
        .filter(|id| Some(id) != referenced.as_ref())
        .collect();
    // Ours even under another name: a renamed `admin_app_name` renames it in place.
    let (kept, mut duplicates) = futures::future::try_join(via_provider, confirm(ctx, &others, None)).await?;
    if kept.is_some() && !full_scan {
        return Ok(AdminFound { kept, duplicates });
    }
    let mut named: Vec<Client> = Vec::new();
    let mut clients = std::pin::pin!(ctx.auth0.clients().list().fields(LOOKUP_FIELDS).stream());
    while let Some(client) = clients.try_next().await.map_err(WorkflowError::auth0(STEP))? {
        if &client.name == name {
            named.push(client);
        }
    }
    let (owned, unowned): (Vec<Client>, Vec<Client>) = named.into_iter().partition(owner::owns_client);
    let kept = match kept {
        Some(kept) => Some(kept),
        // Prefer the one whose secret this run holds: keeping it needs no rotation.
        None => match with_stored_secret(ctx, &owned).await? {
            Some(i) => owned.get(i).cloned(),
            None if owned.is_empty() && ctx.adopt => {
                // No provider decides (it would have named one): two namesakes are refused.
                super::duplicates::pick_candidate(
                    unowned,
                    |_| false,
                    |c| c.client_id.to_string(),
                    "Auth0 application",
                    name,
                )?
            }
            None => owned.first().cloned().or_else(|| unowned.into_iter().next()),
        },
    };
    for client in owned {
        let is_kept = kept.as_ref().is_some_and(|k| k.client_id == client.client_id);
        if !is_kept && !duplicates.iter().any(|d| d.client_id == client.client_id) {
            duplicates.push(client);
        }
    }
    Ok(AdminFound { kept, duplicates })
}

/// The owned application `id`, or `None` (absent or not ours).
async fn get_owned(ctx: Ctx<'_>, id: &ClientId) -> Result<Option<Client>> {
    let found = ctx
        .auth0
        .clients()
        .get_opt(id)
        .await
        .map_err(WorkflowError::auth0(STEP))?;
    Ok(found.filter(owner::owns_client))
}

/// Of the applications `ids`, those that carry the mark (and, with `name`, have it).
pub(crate) async fn confirm(ctx: Ctx<'_>, ids: &[ClientId], name: Option<&str>) -> Result<Vec<Client>> {
    let found = futures::future::try_join_all(ids.iter().map(|id| get_owned(ctx, id))).await?;
    Ok(found
        .into_iter()
        .flatten()
        .filter(|c| name.is_none_or(|n| c.name == n))
        .collect())
}

/// The applications this run's store holds a secret for, other than `known` ones: those
/// that carry the mark and the configured name are admin applications an interrupted run
/// created and recorded but never linked (duplicates); ids Auth0 no longer knows are
/// stale entries to forget. No request at all when the store records nothing else.
pub(crate) async fn recorded(ctx: Ctx<'_>, known: &[&ClientId]) -> Result<(Vec<Client>, Vec<String>)> {
    let keys = ctx.store.keys(crate::store::CLIENTS_PREFIX).await?;
    let others: Vec<ClientId> = crate::store::recorded_clients(&keys)
        .into_iter()
        .map(ClientId::new)
        .filter(|id| !known.contains(&id))
        .collect();
    let clients = ctx.auth0.clients();
    let found = futures::future::try_join_all(others.iter().map(|id| clients.get_opt(id)))
        .await
        .map_err(WorkflowError::auth0(STEP))?;
    let mut duplicates = Vec::new();
    let mut stale = Vec::new();
    for (id, client) in others.into_iter().zip(found) {
        match client {
            Some(c) if owner::owns_client(&c) && c.name == ctx.config.auth0.admin_app_name => duplicates.push(c),
            // Another configuration's application, sharing this store: not ours to judge.
            Some(_) => {}
            None => stale.push(id.into_inner()),
        }
    }
    Ok((duplicates, stale))
}

/// The index of the first application whose secret the store holds.
async fn with_stored_secret(ctx: Ctx<'_>, clients: &[Client]) -> Result<Option<usize>> {
    for (i, client) in clients.iter().enumerate() {
        if ctx
            .store
            .get(&admin_secret_key(client.client_id.as_str()))
            .await?
            .is_some()
        {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// The application's secrets as the store holds them, read once per observation.
pub(crate) struct SecretsHeld {
    pub(crate) stored: Option<SecretString>,
    /// Set when a rotation was interrupted.
    pub(crate) pending: Option<SecretString>,
}

/// What the plan keeps of [`SecretsHeld`]: whether each exists, never the values.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SecretsSummary {
    pub(crate) stored: bool,
    pub(crate) pending: bool,
}

impl SecretsHeld {
    pub(crate) fn summary(&self) -> SecretsSummary {
        SecretsSummary {
            stored: self.stored.is_some(),
            pending: self.pending.is_some(),
        }
    }
}

pub(crate) async fn secrets_held(ctx: Ctx<'_>, id: &ClientId) -> Result<SecretsHeld> {
    let (stored_key, pending_key) = (admin_secret_key(id.as_str()), pending_secret_key(id.as_str()));
    let (stored, pending) = futures::future::try_join(ctx.store.get(&stored_key), ctx.store.get(&pending_key)).await?;
    Ok(SecretsHeld { stored, pending })
}

/// Whether DCR can work with the secrets as they are, beyond what the configuration says.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SecretHealth {
    pub(crate) provider_rejected: bool,
    pub(crate) stored_dead: bool,
}

/// Asks Konnect whether the provider can use its initial client (one request), and only
/// when it cannot, whether the stored secret still works at Auth0's token endpoint (one
/// more). Skipped when nothing would act on the answer: no provider of ours for this
/// application, no stored secret, or a rotation already pending.
pub(crate) async fn secret_health(
    ctx: Ctx<'_>,
    admin: &Client,
    provider: Option<&DcrProvider>,
    secrets: &SecretsHeld,
) -> Result<SecretHealth> {
    let Some(provider) = provider.filter(|p| owner::owns_labels(&p.labels)) else {
        return Ok(SecretHealth::default());
    };
    let references_admin =
        matches!(&provider.config, ProviderConfig::Auth0(c) if c.initial_client_id == admin.client_id.as_str());
    if !references_admin || !owner::owns_client(admin) {
        return Ok(SecretHealth::default());
    }
    let id = &admin.client_id;
    let (Some(stored), None) = (&secrets.stored, &secrets.pending) else {
        return Ok(SecretHealth::default());
    };
    let verification = ctx
        .konnect
        .dcr_providers()
        .verify(&provider.id)
        .await
        .map_err(WorkflowError::konnect(StepId::DcrProvider))?;
    if verification.is_success() {
        return Ok(SecretHealth::default());
    }
    tracing::warn!(
        provider = %provider.id,
        errors = ?verification.errors,
        "Konnect cannot use the DCR provider's initial client; checking the stored secret"
    );
    let stored = SecretString::from(stored.expose_secret().to_owned());
    let request = ClientCredentialsRequest::new(id.clone(), ClientSecret::from(stored), ctx.auth0.audience().clone());
    let stored_dead = match ctx.auth0.oauth().client_credentials(&request).await {
        Ok(_) => false,
        // 401 is a refused secret. A 403 (no grant, grant type not allowed) comes after
        // the secret was accepted: the other steps repair what it is about.
        Err(e) if e.is_unauthorized() => true,
        Err(e) if e.is_forbidden() => false,
        Err(e) => return Err(WorkflowError::auth0(STEP)(e)),
    };
    Ok(SecretHealth {
        provider_rejected: true,
        stored_dead,
    })
}

/// Whether the next apply must choose and set a new secret (or finish a pending one).
pub(crate) fn needs_new_secret(observed: &Observed) -> bool {
    observed.admin.is_some()
        && ((!observed.admin_secret_stored && observed.admin_secret_read.is_none())
            || observed.admin_secret_pending
            || observed.stored_secret_dead)
}

/// Whether the next apply gives Konnect's provider a secret it may not hold: a new one,
/// or an adopted application's secret read from Auth0 (the hand-made provider may hold
/// an older one).
pub(crate) fn secret_reaches_provider(observed: &Observed) -> bool {
    needs_new_secret(observed) || observed.admin_secret_read.is_some()
}

/// The application's current secret, when the bootstrap credentials hold
/// `read:client_keys` (Auth0 leaves it out otherwise).
pub(crate) async fn read_secret(ctx: Ctx<'_>, id: &ClientId) -> Result<Option<SecretString>> {
    let client = ctx
        .auth0
        .clients()
        .get_fields(id, ["client_id", "client_secret"])
        .await
        .map_err(WorkflowError::auth0(STEP))?;
    Ok(client.client_secret.map(ClientSecret::into_secret_string))
}

/// Whether the admin application records that the workflow created `audience`.
pub(crate) fn claims_api(admin: Option<&Client>, audience: &str) -> bool {
    admin.is_some_and(|a| owner::owns_client(a) && a.metadata(METADATA_API_KEY) == Some(audience))
}

fn wanted_metadata(ctx: Ctx<'_>, observed: &Observed) -> ClientMetadata {
    let mut metadata = ClientMetadata::new();
    metadata.insert(METADATA_KEY.to_owned(), METADATA_VALUE.to_owned());
    if observed.owns_resource_server(ctx.config) {
        metadata.insert(METADATA_API_KEY.to_owned(), ctx.config.api.audience.clone());
    }
    metadata
}

/// Refuses an application of that name the workflow did not create.
pub(crate) fn check_owned(ctx: Ctx<'_>, observed: &Observed) -> Result<()> {
    match &observed.admin {
        Some(admin) if !owner::owns_client(admin) && !ctx.adopt => Err(WorkflowError::NotOwned {
            resource: "Auth0 application",
            name: ctx.config.auth0.admin_app_name.clone(),
            mark: "client_metadata.managed_by=dcr-rs",
        }),
        _ => Ok(()),
    }
}

pub(crate) fn diff(ctx: Ctx<'_>, observed: &Observed) -> StepPlan {
    let name = &ctx.config.auth0.admin_app_name;
    let metadata = wanted_metadata(ctx, observed);
    let Some(admin) = &observed.admin else {
        let fields = vec![
            FieldChange::new("app_type", None, "non_interactive"),
            FieldChange::new("grant_types", None, "[client_credentials]"),
            FieldChange::new("client_metadata", None, crate::plan::labels(&metadata)),
            FieldChange::sensitive("client_secret", None, "(generated, kept in the secret store)"),
        ];
        return StepPlan::new(STEP, name, Action::Create(fields));
    };
    let mut changes = Vec::new();
    if &admin.name != name {
        changes.push(FieldChange::new("name", Some(admin.name.clone()), name));
    }
    if admin.app_type != Some(AppType::NonInteractive) {
        changes.push(FieldChange::new(
            "app_type",
            Some(admin.app_type.as_ref().map_or("(none)".into(), |t| t.to_string())),
            "non_interactive",
        ));
    }
    if admin.grant_types.as_deref() != Some(&[GrantType::ClientCredentials][..]) {
        let current: Vec<String> = admin.grant_types.iter().flatten().map(ToString::to_string).collect();
        changes.push(FieldChange::new(
            "grant_types",
            Some(list(&current)),
            "[client_credentials]",
        ));
    }
    let missing: ClientMetadata = metadata
        .into_iter()
        .filter(|(k, v)| admin.metadata(k) != Some(v))
        .collect();
    if !missing.is_empty() {
        let current = admin.client_metadata.clone().unwrap_or_default();
        changes.push(FieldChange::new(
            "client_metadata",
            Some(crate::plan::labels(&current)),
            crate::plan::labels(&missing),
        ));
    }
    let mut plan_note = None;
    if observed.admin_secret_pending {
        changes.push(FieldChange::sensitive(
            "client_secret",
            Some("(rotation interrupted)"),
            "(pending secret)",
        ));
        plan_note = Some("a rotation was interrupted: its pending secret is set in Auth0 and Konnect, then kept");
    } else if observed.admin_secret_read.is_some() {
        changes.push(FieldChange::sensitive(
            "client_secret",
            Some("(not in the store)"),
            "(read from Auth0)",
        ));
        plan_note = Some(
            "adopted: its secret is read from Auth0 (the bootstrap credentials hold read:client_keys), stored, \
             and sent to Konnect's provider in this run",
        );
    } else if !observed.admin_secret_stored && observed.adopt && !owner::owns_client(admin) {
        changes.push(FieldChange::sensitive(
            "client_secret",
            Some("(not readable)"),
            "(rotated)",
        ));
        plan_note = Some(
            "adopted: the bootstrap credentials cannot read its secret (no read:client_keys), so it is rotated \
             crash-safely and Konnect's provider gets the new one in this run",
        );
    } else if !observed.admin_secret_stored {
        changes.push(FieldChange::sensitive("client_secret", Some("(missing)"), "(rotated)"));
        plan_note = Some("its secret is not in the secret store: it will be rotated, not re-created");
    } else if observed.stored_secret_dead {
        changes.push(FieldChange::sensitive(
            "client_secret",
            Some("(refused by Auth0)"),
            "(rotated)",
        ));
        plan_note = Some("Auth0 refuses the stored secret and Konnect's provider check fails: it will be rotated");
    }
    let mut plan = StepPlan::from_changes(STEP, name, changes);
    if !owner::owns_client(admin) {
        plan = plan.adopted();
    }
    match plan_note {
        Some(note) => plan.note(note),
        None => plan,
    }
}

pub(crate) async fn apply(ctx: Ctx<'_>, observed: &Observed) -> Result<(StepPlan, AdminOutput)> {
    let plan = diff(ctx, observed);
    let clients = ctx.auth0.clients();
    let Some(admin) = &observed.admin else {
        let mut new = NewClient::machine_to_machine(&ctx.config.auth0.admin_app_name)
            .description("Konnect Dev Portal dynamic client registration (managed by dcr-rs)");
        for (k, v) in wanted_metadata(ctx, observed) {
            new = new.metadata(k, v);
        }
        // Recorded first: if the answer is lost or the run killed, the next run knows to
        // look for an application nothing else records.
        ctx.store
            .put(crate::store::ADMIN_CREATE_IN_FLIGHT, &SecretString::from("1"))
            .await?;
        let created = clients.create(&new).await.map_err(WorkflowError::auth0(STEP))?;
        let secret = created.client_secret.ok_or_else(|| WorkflowError::Missing {
            resource: "client_secret of the new Auth0 application",
            name: created.client_id.to_string(),
            hint: "Auth0 returned no secret; check the application's token endpoint auth method",
        })?;
        let secret = secret.into_secret_string();
        // Stored before anything else learns it: a crash now cannot lose it.
        ctx.store
            .put(&admin_secret_key(created.client_id.as_str()), &secret)
            .await?;
        ctx.store.delete(crate::store::ADMIN_CREATE_IN_FLIGHT).await?;
        tracing::info!(client_id = %created.client_id, "created the DCR admin application");
        let output = AdminOutput {
            client_id: created.client_id,
            secret,
            secret_changed: true,
            pending: false,
        };
        return Ok((plan, output));
    };
    let id = admin.client_id.clone();
    let fields: Vec<&str> = plan.fields().iter().map(|f| f.field.as_str()).collect();
    if fields.iter().any(|f| *f != "client_secret") {
        let mut update = ClientUpdate::new();
        if fields.contains(&"name") {
            update = update.name(&ctx.config.auth0.admin_app_name);
        }
        if fields.contains(&"app_type") {
            update = update.app_type(AppType::NonInteractive);
        }
        if fields.contains(&"grant_types") {
            update = update.grant_types([GrantType::ClientCredentials]);
        }
        if fields.contains(&"client_metadata") {
            // Auth0 merges these keys into the existing metadata.
            update = update.client_metadata(wanted_metadata(ctx, observed));
        }
        clients.update(&id, &update).await.map_err(WorkflowError::auth0(STEP))?;
    }
    if let Some(secret) = observed.admin_secret_read.clone() {
        // Read by the observation: stored before Konnect is sent it.
        ctx.store.put(&admin_secret_key(id.as_str()), &secret).await?;
        tracing::info!(client_id = %id, "read the adopted admin application's secret from Auth0 and stored it");
        let output = AdminOutput {
            client_id: id,
            secret,
            secret_changed: true,
            pending: false,
        };
        return Ok((plan, output));
    }
    let stored = if needs_new_secret(observed) {
        None
    } else {
        ctx.store.get(&admin_secret_key(id.as_str())).await?
    };
    let output = match stored {
        Some(secret) => AdminOutput {
            client_id: id,
            secret,
            // Konnect's check failed while the stored secret works: send it again.
            secret_changed: observed.provider_secret_rejected,
            pending: false,
        },
        None => AdminOutput {
            secret: crate::rotation::begin(ctx, &id).await?,
            client_id: id,
            secret_changed: true,
            pending: true,
        },
    };
    Ok((plan, output))
}
