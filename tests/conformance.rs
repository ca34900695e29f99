//! Contract conformance: the workspace's end-to-end scenarios run with every exchange
//! recorded, and each one is checked against the official OpenAPI documents (see
//! `contract/mod.rs`; exceptions in `contract/exceptions.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use dcr_workflow::sandbox::KonnectSandboxClients as _;
use std::collections::BTreeSet;
use std::sync::Arc;

use auth0_mgmt::resources::actions::{ActionTrigger, ActionUpdate, NewAction, TriggerId};
use auth0_mgmt::resources::client_grants::{ClientGrantUpdate, NewClientGrant};
use auth0_mgmt::resources::clients::{ClientUpdate, JwtConfiguration, NewClient};
use auth0_mgmt::resources::resource_servers::{NewResourceServer, ResourceServerScope, ResourceServerUpdate};
use auth0_mgmt::{ClientId, GrantType, OrganizationUsage, SigningAlg, TokenDialect};
use dcr_sandbox::auth0::Fault;
use dcr_tests::Sandboxes;
use dcr_tests::contract::{Contract, Report, Rule, Service};
use dcr_workflow::store::{MemoryStore, SecretStore};
use dcr_workflow::{VerifyMode, VerifyOptions};
use konnect_appauth::resources::api_products::{
    NewApiProduct, NewPortalProductVersion, NewProductVersion, PortalProductVersionUpdate,
};
use konnect_appauth::resources::apis::{NewApi, PublicationRequest};
use konnect_appauth::resources::auth_strategies::{
    AuthStrategyUpdate, KeyAuthConfig, KeyTtl, NewAuthStrategy, OidcConfig, OidcConfigUpdate,
};
use konnect_appauth::resources::dcr_providers::{DcrConfigUpdate, DcrProviderUpdate, NewDcrProvider};
use konnect_appauth::resources::portal_applications::{NewApplication, Owner};
use serde_json::Value;

/// `METHOD /template` of every operation the two clients expose.
fn exposed() -> BTreeSet<String> {
    use auth0_mgmt::resources::{actions, client_grants, clients, resource_servers};
    use konnect_appauth::resources::{
        api_products, apis, auth_strategies, dcr_providers, portal_applications, portals,
    };
    let token: [&dcr_client_core::Operation; 1] = [&auth0_mgmt::oauth::TOKEN];
    let auth0 = clients::OPERATIONS
        .iter()
        .chain(&client_grants::OPERATIONS)
        .chain(&resource_servers::OPERATIONS)
        .chain(&actions::OPERATIONS)
        .chain(&token);
    let konnect = dcr_providers::OPERATIONS
        .iter()
        .chain(&konnect_appauth::developer::OPERATIONS)
        .chain(&konnect_appauth::resources::application_registrations::OPERATIONS)
        .chain(&auth_strategies::OPERATIONS)
        .chain(&apis::OPERATIONS)
        .chain(&portal_applications::OPERATIONS)
        .chain(&portals::OPERATIONS)
        .chain(&api_products::OPERATIONS);
    auth0
        .chain(konnect)
        .map(|op| format!("{} {}", op.method, op.template))
        .collect()
}

#[test]
fn every_client_path_exists_in_the_documents() {
    let contract = Contract::load();
    let undocumented: Vec<&str> = contract
        .exceptions()
        .iter()
        .filter_map(|e| match e.rule {
            Rule::Undocumented { operation, .. } => Some(operation),
            _ => None,
        })
        .collect();
    let mut missing = Vec::new();
    for op in exposed() {
        let (method, template) = op.split_once(' ').unwrap();
        if !contract.has_operation(method, template) && !undocumented.contains(&op.as_str()) {
            missing.push(op);
        }
    }
    assert!(missing.is_empty(), "paths the documents do not have: {missing:#?}");
    // The check itself bites: a one-letter typo is caught.
    assert!(!contract.has_operation("GET", "/api/v2/client-grant"));
    assert!(!contract.has_operation("GET", "/v2/dcr-provider/{dcrProviderId}"));
}

/// Serialises a request model.
fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

#[test]
fn request_models_with_every_field_set_match_the_schemas() {
    let contract = Contract::load();
    let full_client = NewClient::machine_to_machine("every field")
        .description("d")
        .is_first_party(true)
        .oidc_conformant(true)
        .metadata("k", "v")
        .jwt_configuration(JwtConfiguration::new().alg(SigningAlg::Rs256).lifetime_in_seconds(3600))
        .organization_usage(OrganizationUsage::Deny);
    let client_update = ClientUpdate::new()
        .name("n")
        .grant_types([GrantType::ClientCredentials])
        .metadata("k", "v");
    let grant = NewClientGrant::new(ClientId::new("c"), "https://api", ["read:x"])
        .organization_usage(OrganizationUsage::Allow)
        .allow_any_organization(true);
    let grant_update = ClientGrantUpdate::new().scope(["read:x"]).allow_any_organization(false);
    let server = NewResourceServer::new("https://api")
        .name("n")
        .scopes([ResourceServerScope::new("read:x", "Read")])
        .token_lifetime(3600)
        .signing_alg(SigningAlg::Rs256)
        .allow_offline_access(false)
        .token_dialect(TokenDialect::AccessToken)
        .skip_consent_for_verifiable_first_party_clients(true);
    let server_update = ResourceServerUpdate::new().name("n").token_lifetime(60);
    let provider = NewDcrProvider::auth0("p", "https://acme.us.auth0.com", "id", "secret")
        .display_name("P")
        .client_audience("https://acme.us.auth0.com/api/v2/")
        .developer_managed_scopes(true)
        .label("team", "x");
    let okta = NewDcrProvider::okta("o", "https://acme.okta.com/oauth2/default", "token");
    let http = NewDcrProvider::http(
        "h",
        "https://idp.example.com",
        "https://dcr.example.com/v1",
        "key_0123456789",
    );
    let provider_update = DcrProviderUpdate::new()
        .display_name("P")
        .for_auth0()
        .dcr_config(
            DcrConfigUpdate::new()
                .initial_client_secret("s")
                .use_developer_managed_scopes(false),
        )
        .remove_label("team");
    let oidc = NewAuthStrategy::openid_connect(
        "s",
        "S",
        OidcConfig::new("https://acme.us.auth0.com", ["azp"], ["openid"], ["bearer"]).audience("https://api"),
    )
    .label("team", "x");
    let key_auth = NewAuthStrategy::key_auth("k", "K", KeyAuthConfig::new(["apikey"]).ttl(KeyTtl::new(30, "days")));
    let strategy_update = AuthStrategyUpdate::new()
        .display_name("S")
        .openid_connect(OidcConfigUpdate::new().scopes(["openid"]).audience("https://api"));
    let publication = PublicationRequest::new()
        .auth_strategy(konnect_appauth::AuthStrategyId::new(
            "9f2d8b0c-0b0e-4c55-9a45-0a7c6a1c3b11",
        ))
        .auto_approve_registrations(true);
    let application = NewApplication::new("a", Owner::developer("d"))
        .description("d")
        .label("team", "x");
    let secret = auth0_mgmt::resources::actions::ActionSecret::new("S", secrecy::SecretString::from("v"));
    let action = NewAction::new("a", ActionTrigger::new(TriggerId::CredentialsExchange, "v2"))
        .code("exports.onExecuteCredentialsExchange = async () => {};")
        .runtime("node22")
        .dependencies([])
        .secrets([secret.clone()]);
    let action_update = ActionUpdate::new()
        .name("b")
        .code("x")
        .runtime("node22")
        .secrets([secret]);
    #[derive(serde::Serialize)]
    struct Bindings<'a> {
        bindings: &'a [auth0_mgmt::resources::actions::BindingRef],
    }
    let bindings = Bindings {
        bindings: &[auth0_mgmt::resources::actions::BindingRef::action_id(
            &auth0_mgmt::ActionId::new("a"),
            "naming",
        )],
    };
    let checks: Vec<(Service, &str, &str, Value)> = vec![
        (Service::Auth0, "POST", "/api/v2/actions/actions", json(&action)),
        (
            Service::Auth0,
            "PATCH",
            "/api/v2/actions/actions/x",
            json(&action_update),
        ),
        (
            Service::Auth0,
            "PATCH",
            "/api/v2/actions/triggers/credentials-exchange/bindings",
            json(&bindings),
        ),
        (Service::Auth0, "POST", "/api/v2/clients", json(&full_client)),
        (Service::Auth0, "PATCH", "/api/v2/clients/x", json(&client_update)),
        (Service::Auth0, "POST", "/api/v2/client-grants", json(&grant)),
        (Service::Auth0, "PATCH", "/api/v2/client-grants/x", json(&grant_update)),
        (Service::Auth0, "POST", "/api/v2/resource-servers", json(&server)),
        (
            Service::Auth0,
            "PATCH",
            "/api/v2/resource-servers/x",
            json(&server_update),
        ),
        (Service::Konnect, "POST", "/v2/dcr-providers", json(&provider)),
        (Service::Konnect, "POST", "/v2/dcr-providers", json(&okta)),
        (Service::Konnect, "POST", "/v2/dcr-providers", json(&http)),
        (Service::Konnect, "PATCH", "/v2/dcr-providers/x", json(&provider_update)),
        (Service::Konnect, "POST", "/v2/application-auth-strategies", json(&oidc)),
        (
            Service::Konnect,
            "POST",
            "/v2/application-auth-strategies",
            json(&key_auth),
        ),
        (
            Service::Konnect,
            "PATCH",
            "/v2/application-auth-strategies/x",
            json(&strategy_update),
        ),
        (Service::Konnect, "PUT", "/v3/apis/x/publications/y", json(&publication)),
        (
            Service::Konnect,
            "POST",
            "/v3/portals/x/applications",
            json(&application),
        ),
        (
            Service::Konnect,
            "POST",
            "/v2/api-products",
            json(&NewApiProduct::new("p").description("d").label("team", "x")),
        ),
        (
            Service::Konnect,
            "POST",
            "/v2/api-products/x/product-versions",
            json(&NewProductVersion::new("v1").label("team", "x")),
        ),
        (
            Service::Konnect,
            "POST",
            "/v2/portals/x/product-versions",
            json(
                &NewPortalProductVersion::new("9f2d8b0c-0b0e-4c55-9a45-0a7c6a1c3b12")
                    .auth_strategy("9f2d8b0c-0b0e-4c55-9a45-0a7c6a1c3b11")
                    .auto_approve_registration(true),
            ),
        ),
        (
            Service::Konnect,
            "PATCH",
            "/v2/portals/x/product-versions/y",
            json(
                &PortalProductVersionUpdate::new()
                    .published(true)
                    .auth_strategy(Some("9f2d8b0c-0b0e-4c55-9a45-0a7c6a1c3b11".into()))
                    .application_registration_enabled(true)
                    .auto_approve_registration(false)
                    .deprecated(false),
            ),
        ),
    ];
    let violations: Vec<String> = checks
        .iter()
        .flat_map(|(service, method, path, body)| contract.check_request_body(*service, method, path, body))
        .map(|v| v.to_string())
        .collect();
    assert!(violations.is_empty(), "{violations:#?}");
    // The check bites: a misspelled field is refused.
    let mut typo = json(&grant);
    typo["scopes"] = typo["scope"].take();
    assert!(
        !contract
            .check_request_body(Service::Auth0, "POST", "/api/v2/client-grants", &typo)
            .is_empty()
    );
}

/// The workspace's scenarios, with every exchange recorded and checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_exchange_of_the_end_to_end_scenarios_conforms() -> anyhow::Result<()> {
    let contract = Contract::load();
    let s = Sandboxes::start().await?;
    s.auth0.record_exchanges();
    s.konnect.record_exchanges();
    let a = &s.auth0_client;
    let k = &s.konnect_client;

    // The workflow's life: apply, re-apply, verify both ways, drift, rotation, audit.
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let workflow = s.workflow(store.clone())?;
    let applied = workflow.converge().await?;
    workflow.converge().await?;
    for mode in [
        VerifyMode::PortalApplication,
        VerifyMode::Auth0Client,
        VerifyMode::Developer,
    ] {
        assert!(workflow.verify(&VerifyOptions::new().mode(mode)).await?.is_success());
    }
    k.auth_strategies()
        .update(
            &applied.strategy.id,
            &AuthStrategyUpdate::new().openid_connect(OidcConfigUpdate::new().scopes(["openid"])),
        )
        .await?;
    let grant = s.admin_grant(&applied.admin_client_id).await?;
    a.client_grants()
        .update(&grant.id, &ClientGrantUpdate::new().scope(["read:clients"]))
        .await?;
    let server = a.resource_servers().get(dcr_tests::API_AUDIENCE).await?;
    a.resource_servers()
        .update(&server.id, &ResourceServerUpdate::new().name("renamed"))
        .await?;
    a.clients()
        .update(
            &applied.admin_client_id,
            &ClientUpdate::new().grant_types([GrantType::Implicit]),
        )
        .await?;
    workflow.converge().await?; // corrects all three with PATCHes
    assert!(workflow.plan().await?.is_empty());
    workflow.rotate_secret().await?;
    // The workflow rotates by setting a secret it chose; Auth0's own rotation is still
    // part of the client.
    let spare = a
        .clients()
        .create(&NewClient::machine_to_machine("contract spare"))
        .await?;
    a.clients().rotate_secret(&spare.client_id).await?;
    a.clients().delete(&spare.client_id).await?;
    let apps = k.portal_applications(s.konnect.portal_id());
    let app = apps
        .create(
            &NewApplication::new("contract app", Owner::developer(s.konnect.developer_id()))
                .description("made by the contract test")
                .auth_strategy(applied.strategy.id.clone()),
        )
        .await?;
    assert!(workflow.audit().await?.is_clean());

    // Client operations the workflow does not use.
    a.client_grants().get(&grant.id).await?;
    a.client_grants().list().send().await?;
    a.client_grants()
        .list()
        .client_id(applied.admin_client_id.clone())
        .take(2)
        .send()
        .await?;
    a.clients().list().per_page(2).page(0).send().await?;
    a.clients().list().take(2).send().await?;
    a.clients()
        .list()
        .app_type([auth0_mgmt::AppType::NonInteractive])
        .is_first_party(true)
        .send()
        .await?;
    a.resource_servers().list().send().await?;
    a.resource_servers().list().per_page(1).page(0).send().await?;
    k.dcr_providers().get(&applied.provider.id).await?;
    k.dcr_providers()
        .list()
        .provider_type("auth0")
        .issuer(s.issuer())
        .page_size(1)
        .send()
        .await?;
    k.auth_strategies().get(&applied.strategy.id).await?;
    let key_auth = k
        .auth_strategies()
        .create(&NewAuthStrategy::key_auth(
            "keys",
            "Keys",
            KeyAuthConfig::new(["apikey"]),
        ))
        .await?;
    k.auth_strategies()
        .replace(
            &key_auth.id,
            &NewAuthStrategy::key_auth("keys", "API keys", KeyAuthConfig::new(["x-api-key"])),
        )
        .await?;
    k.auth_strategies().list().strategy_type("key_auth").send().await?;
    k.auth_strategies().delete(&key_auth.id).await?;
    k.apis().get(&applied.api_ids[0]).await?;
    k.apis().list().name("Orders API").send().await?;
    apps.get(&app.application.id).await?;
    apps.list().developer_id(s.konnect.developer_id()).send().await?;
    apps.delete(&app.application.id).await?;

    // The developer API and the admin side of registrations, every operation once.
    let developer = s.konnect.developer_client(&s.konnect.portal_id())?;
    developer.sign_in().await?;
    developer.me().await?;
    s.konnect.expire_developer_sessions();
    let mine = developer
        .applications()
        .create(
            &konnect_appauth::developer::NewDeveloperApplication::new("contract dev app")
                .description("made by the contract test")
                .auth_strategy(applied.strategy.id.clone()),
        )
        .await?;
    let mine_id = mine.application.id.clone();
    developer.applications().get(&mine_id).await?;
    developer.applications().list().send().await?;
    developer.applications().granted_scopes(&mine_id).await?;
    developer.applications().regenerate_secret(&mine_id).await?;
    let registrations = developer.registrations(&mine_id);
    let registration = registrations.create(&applied.api_ids[0]).await?;
    registrations.get(&registration.id).await?;
    registrations.list().send().await?;
    let admin = apps.registrations(&mine_id);
    admin.list().send().await?;
    admin.get(&registration.id).await?;
    admin.approve(&registration.id).await?;
    apps.all_registrations().send().await?;
    registrations.delete(&registration.id).await?;
    let by_admin = admin.create(&applied.api_ids[0], None).await?;
    admin.delete(&by_admin.id).await?;
    developer.applications().delete(&mine_id).await?;
    developer.sign_out().await?;

    // Error answers: not found, conflicts, refused credentials, rate limits, outages.
    assert!(a.clients().get_opt(&ClientId::new("missing")).await?.is_none());
    assert!(
        a.resource_servers()
            .get_opt("https://missing.example.com")
            .await?
            .is_none()
    );
    let missing = a
        .resource_servers()
        .update(
            &auth0_mgmt::ResourceServerId::new("missing"),
            &ResourceServerUpdate::new().name("x"),
        )
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    let duplicate = a
        .client_grants()
        .create(&NewClientGrant::new(
            applied.admin_client_id.clone(),
            s.auth0.management_audience(),
            ["read:clients"],
        ))
        .await
        .unwrap_err();
    assert!(duplicate.is_conflict(), "{duplicate}");
    assert!(
        k.dcr_providers()
            .get_opt(&konnect_appauth::DcrProviderId::new(
                "00000000-0000-4000-8000-000000000000"
            ))
            .await?
            .is_none()
    );
    let taken = k.apis().create(&NewApi::new("Orders API")).await.unwrap_err();
    assert!(taken.is_conflict(), "{taken}");
    let in_use = k.auth_strategies().delete(&applied.strategy.id).await.unwrap_err();
    assert!(in_use.is_conflict(), "{in_use}");
    let wrong_token = s.konnect.client_builder().token("kpat_wrong").build()?;
    assert!(
        wrong_token
            .dcr_providers()
            .list()
            .send()
            .await
            .unwrap_err()
            .is_unauthorized()
    );
    s.auth0.inject(Fault::status(429).on("GET", "/api/v2/clients"));
    s.auth0.inject(Fault::status(503).on("GET", "/api/v2/resource-servers"));
    a.clients().list().send().await?;
    a.resource_servers().list().send().await?;
    s.konnect.inject(Fault::status(429).on("GET", "/v2/dcr-providers"));
    s.konnect
        .inject(Fault::status(503).on("GET", "/v2/application-auth-strategies"));
    k.dcr_providers().list().send().await?;
    k.auth_strategies().list().send().await?;
    k.apis()
        .publish(
            &applied.api_ids[0],
            &konnect_appauth::PortalId::new(s.konnect.portal_id()),
            &PublicationRequest::new().auth_strategy(applied.strategy.id.clone()),
        )
        .await?;
    // Read one by one, as a caller without the lists would.
    assert!(
        k.apis()
            .publication(
                &applied.api_ids[0],
                &konnect_appauth::PortalId::new(s.konnect.portal_id())
            )
            .await?
            .is_some()
    );
    assert!(
        k.portals()
            .get_opt(&konnect_appauth::PortalId::new(s.konnect.portal_id()))
            .await?
            .is_some()
    );
    // Classic (v2) portals, every operation once.
    let classic = konnect_appauth::PortalId::new(s.konnect.add_classic_portal("classic"));
    let products = k.api_products();
    let product = products
        .create(&NewApiProduct::new("Classic").label("team", "platform"))
        .await?;
    assert!(products.get_opt(&product.id).await?.is_some());
    assert_eq!(products.list().name("Classic").send().await?.items.len(), 1);
    let version = products
        .create_version(&product.id, &NewProductVersion::new("v1"))
        .await?;
    let spare = products
        .create_version(&product.id, &NewProductVersion::new("v2"))
        .await?;
    assert_eq!(products.versions(&product.id).name("v1").send().await?.items.len(), 1);
    let published = products
        .publish(
            &classic,
            &NewPortalProductVersion::new(version.id.clone()).auth_strategy(applied.strategy.id.clone()),
        )
        .await?;
    assert_eq!(products.on_portal(&classic).send().await?.items.len(), 1);
    assert!(products.get_on_portal(&classic, &published.id).await?.is_some());
    products
        .update_on_portal(
            &classic,
            &published.id,
            &PortalProductVersionUpdate::new().auto_approve_registration(true),
        )
        .await?;
    let in_use = k.auth_strategies().delete(&applied.strategy.id).await.unwrap_err();
    assert!(in_use.is_conflict(), "a portal product version uses it: {in_use}");
    products.unpublish(&classic, &published.id).await?;
    products.delete_version(&product.id, &spare.id).await?;
    products.delete(&product.id).await?;

    // Naming: the Action's life and a rename pass; then the Actions endpoints the
    // workflow does not call. The teardown below removes the Action (unbinding it first).
    let mut naming = s.config();
    naming.naming.template = Some("{developer_id}/{application_id}".into());
    naming.naming.action = true;
    let named = dcr_workflow::Workflow::builder(naming)
        .shared_store(store.clone())
        .build()?;
    named.converge().await?;
    named.rename(&dcr_workflow::RenameOptions::new()).await?;
    let actions = a.actions();
    assert!(
        actions
            .triggers()
            .await?
            .iter()
            .any(|t| t.id == TriggerId::CredentialsExchange)
    );
    let spare = actions
        .create(
            &NewAction::new("contract spare action", ActionTrigger::new(TriggerId::PostLogin, "v3"))
                .code("exports.onExecutePostLogin = async () => {};"),
        )
        .await?;
    actions.get(&spare.id).await?;
    actions
        .update(&spare.id, &ActionUpdate::new().runtime("node22"))
        .await?;
    actions.delete(&spare.id, true).await?;

    // And the end of it.
    workflow.destroy().await?;

    let mut report = Report::default();
    // Konnect's own DCR calls (token, client, grant, delete) reach the Auth0 sandbox over
    // HTTP like everyone's, so they are recorded and checked with the rest.
    let auth0_exchanges = s.auth0.exchanges();
    let by_konnect = auth0_exchanges
        .iter()
        .filter(|e| {
            e.method == "POST"
                && e.path == "/api/v2/clients"
                && e.request_header("user-agent")
                    .is_none_or(|ua| !ua.starts_with("auth0-mgmt/"))
                && e.request_body
                    .as_ref()
                    .is_some_and(|b| b["client_metadata"]["konnect_application_id"].is_string())
        })
        .count();
    assert!(
        by_konnect > 0,
        "Konnect's DCR client creations are among the checked exchanges"
    );
    report.add(&contract, Service::Auth0, &auth0_exchanges);
    report.add(&contract, Service::Konnect, &s.konnect.exchanges());
    let exposed = exposed();
    let covered: Vec<&String> = exposed.iter().filter(|op| report.exercised.contains(*op)).collect();
    let uncovered: Vec<&String> = exposed.iter().filter(|op| !report.exercised.contains(*op)).collect();
    println!(
        "contract coverage: {} / {} operations exposed by the clients exercised; {} exchanges checked, \
         {} distinct operations seen, {} documented exceptions",
        covered.len(),
        exposed.len(),
        report.exchanges,
        report.exercised.len(),
        contract.exceptions().len()
    );
    for op in &uncovered {
        println!("  not exercised: {op}");
    }
    let violations: Vec<String> = report.violations.iter().map(ToString::to_string).collect();
    assert!(
        violations.is_empty(),
        "{} violations:\n{}",
        violations.len(),
        violations.join("\n")
    );
    assert!(uncovered.is_empty(), "operations never exercised: {uncovered:#?}");
    // An exception no exchange needs any more is stale: the document or the sandbox
    // changed, and the exception would hide the next real difference.
    let unused: Vec<String> = contract
        .unused()
        .iter()
        .map(|e| format!("{:?}: {}", e.rule, e.reason))
        .collect();
    assert!(
        unused.is_empty(),
        "exceptions no exchange needed:\n{}",
        unused.join("\n")
    );
    Ok(())
}

/// The checks bite: each kind of deviation in a real exchange is reported, naming the
/// operation and the place.
#[tokio::test]
async fn deviations_are_reported_with_operation_and_pointer() -> anyhow::Result<()> {
    let contract = Contract::load();
    let s = Sandboxes::start().await?;
    s.auth0.record_exchanges();
    s.konnect.record_exchanges();
    let workflow = s.workflow(Arc::new(MemoryStore::new()))?;
    let applied = workflow.converge().await?;
    s.konnect_client.dcr_providers().get(&applied.provider.id).await?;
    let konnect = s.konnect.exchanges();
    let auth0 = s.auth0.exchanges();
    let find = |list: &[dcr_client_core::sandbox::Exchange], method: &str, prefix: &str| {
        list.iter()
            .find(|e| e.method == method && e.path.starts_with(prefix) && e.status < 300)
            .cloned()
            .unwrap_or_else(|| panic!("no {method} {prefix}"))
    };
    let reasons = |service, e: &dcr_client_core::sandbox::Exchange| -> Vec<String> {
        contract
            .check(service, e)
            .violations
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    // Unmodified, they pass.
    let get_provider = find(&konnect, "GET", &format!("/v2/dcr-providers/{}", applied.provider.id));
    assert!(reasons(Service::Konnect, &get_provider).is_empty());

    let mut e = get_provider.clone();
    e.response_body.as_mut().unwrap()["issuer"] = Value::from(42);
    let r = reasons(Service::Konnect, &e);
    assert!(
        r.iter()
            .any(|v| v.contains("get-dcr-provider") && v.contains("/response/body/issuer")),
        "{r:?}"
    );

    let mut e = get_provider.clone();
    e.response_body.as_mut().unwrap()["provider_type"] = Value::from("saml");
    let r = reasons(Service::Konnect, &e);
    assert!(r.iter().any(|v| v.contains("/response/body")), "discriminator: {r:?}");

    let mut e = get_provider.clone();
    e.status = 418;
    let r = reasons(Service::Konnect, &e);
    assert!(
        r.iter().any(|v| v.contains("/response/status") && v.contains("418")),
        "{r:?}"
    );

    let mut e = find(&konnect, "POST", "/v2/dcr-providers");
    e.request_body.as_mut().unwrap()["name"] = Value::from(42);
    let r = reasons(Service::Konnect, &e);
    assert!(r.iter().any(|v| v.contains("/request/body/name")), "{r:?}");

    let mut e = find(&konnect, "GET", "/v2/dcr-providers");
    e.query = Some("filter%5Bnmae%5D%5Beq%5D=x".into());
    let r = reasons(Service::Konnect, &e);
    assert!(r.iter().any(|v| v.contains("/request/query/filter[nmae][eq]")), "{r:?}");

    let mut e = get_provider.clone();
    e.request_headers.retain(|(n, _)| n != "authorization");
    let r = reasons(Service::Konnect, &e);
    assert!(r.iter().any(|v| v.contains("/request/headers/authorization")), "{r:?}");

    let mut e = find(&auth0, "POST", "/api/v2/clients");
    e.response_headers.retain(|(n, _)| n != "x-ratelimit-reset");
    e.response_body.as_mut().unwrap()["grant_types"] = Value::from("client_credentials");
    let r = reasons(Service::Auth0, &e);
    assert!(
        r.iter().any(|v| v.contains("/response/headers/x-ratelimit-reset")),
        "{r:?}"
    );
    assert!(r.iter().any(|v| v.contains("/response/body/grant_types")), "{r:?}");

    let mut e = find(&auth0, "POST", "/oauth/token");
    e.response_body.as_mut().unwrap()["token_type"] = Value::from("MAC");
    let r = reasons(Service::Auth0, &e);
    assert!(
        r.iter()
            .any(|v| v.contains("POST /oauth/token /response/body/token_type")),
        "{r:?}"
    );

    let mut e = find(&auth0, "POST", "/api/v2/client-grants");
    e.method = "PUT".into();
    let r = reasons(Service::Auth0, &e);
    assert!(r.iter().any(|v| v.contains("no operation in the documents")), "{r:?}");
    Ok(())
}
