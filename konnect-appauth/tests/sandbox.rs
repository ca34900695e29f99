//! The Konnect sandbox behaves like Konnect for every operation the client exposes:
//! success paths through the typed client, refusals through raw HTTP where the typed
//! client would refuse first. DCR against Auth0 is covered in the workspace's `tests/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use dcr_sandbox::konnect::{Fault, KonnectSandbox};
use futures::TryStreamExt;
use konnect_appauth::resources::apis::{NewApi, PublicationRequest, Visibility};
use konnect_appauth::resources::auth_strategies::{AuthStrategyUpdate, KeyAuthConfig, NewAuthStrategy, OidcConfig};
use konnect_appauth::resources::dcr_providers::{DcrConfig, DcrConfigUpdate, DcrProviderUpdate, NewDcrProvider};
use konnect_appauth::resources::portal_applications::{NewApplication, Owner};
use konnect_appauth::{AuthStrategyId, DcrProviderId, KonnectClient, KonnectError};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

/// Clients of the sandbox (which depends on no client): its token and a quick retry
/// policy.
trait SandboxClient {
    fn client_builder(&self) -> konnect_appauth::KonnectClientBuilder;
    fn client(&self) -> konnect_appauth::Result<KonnectClient> {
        self.client_builder().build()
    }
}

impl SandboxClient for KonnectSandbox {
    fn client_builder(&self) -> konnect_appauth::KonnectClientBuilder {
        KonnectClient::builder().base_url(self.uri()).token(self.token()).retry(
            konnect_appauth::RetryConfig::standard()
                .min_delay(std::time::Duration::from_millis(10))
                .max_delay(std::time::Duration::from_millis(200)),
        )
    }
}

fn oidc() -> OidcConfig {
    OidcConfig::new(
        "https://acme.us.auth0.com",
        ["azp"],
        ["openid", "read:orders"],
        ["client_credentials", "bearer", "session"],
    )
    .audience("https://api.example.com/orders")
}

async fn raw(sandbox: &KonnectSandbox, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let http = reqwest::Client::new();
    let mut request = http
        .request(method.parse().unwrap(), format!("{}{path}", sandbox.uri()))
        .bearer_auth(sandbox.token().expose_secret());
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn fields(body: &Value) -> Vec<(String, String)> {
    body["invalid_parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["field"].as_str().unwrap_or_default().to_owned(),
                p["rule"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_token_is_required_and_errors_are_problem_json() {
    let sandbox = KonnectSandbox::start().await.unwrap();
    let wrong = KonnectClient::builder()
        .base_url(sandbox.uri())
        .token("kpat_wrong")
        .build()
        .unwrap();
    let err = wrong.dcr_providers().list().send().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert!(err.instance().is_some_and(|i| i.starts_with("kong:trace:")), "{err:?}");
    let response = reqwest::get(format!("{}/v2/dcr-providers", sandbox.uri()))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(
        response.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let body: Value = response.json().await.unwrap();
    for key in ["status", "title", "instance", "detail"] {
        assert!(body.get(key).is_some(), "{key} missing in {body}");
    }
}

#[tokio::test]
async fn providers_hide_write_only_secrets_and_keep_their_type() {
    let sandbox = KonnectSandbox::start().await.unwrap();
    let konnect = sandbox.client().unwrap();
    let providers = konnect.dcr_providers();
    let created = providers
        .create(
            &NewDcrProvider::auth0("auth0", "https://acme.us.auth0.com", "admin", "first-secret").display_name("Acme"),
        )
        .await
        .unwrap();
    let okta = providers
        .create(&NewDcrProvider::okta(
            "okta",
            "https://acme.okta.com",
            "okta-token-value",
        ))
        .await
        .unwrap();
    let http = providers
        .create(&NewDcrProvider::http(
            "bridge",
            "https://idp.example.com",
            "https://bridge.example.com",
            "bridge_key_0123456789",
        ))
        .await
        .unwrap();
    assert!(matches!(okta.config, DcrConfig::Okta(_)));
    let DcrConfig::Http(config) = &http.config else {
        panic!()
    };
    assert!(!config.allow_multiple_credentials);

    let (status, body) = raw(&sandbox, "GET", &format!("/v2/dcr-providers/{}", created.id), None).await;
    assert_eq!(status, 200);
    let text = body.to_string();
    for secret in ["first-secret", "okta-token-value", "bridge_key_0123456789"] {
        assert!(!text.contains(secret));
    }
    assert_eq!(body["dcr_config"]["initial_client_audience"], Value::Null);
    assert_eq!(body["dcr_config"]["use_developer_managed_scopes"], json!(false));

    let updated = providers
        .update(
            &created.id,
            &DcrProviderUpdate::new()
                .label("team", "platform")
                .dcr_config(DcrConfigUpdate::new().initial_client_secret("second-secret")),
        )
        .await
        .unwrap();
    assert_eq!(updated.labels.get("team").map(String::as_str), Some("platform"));
    assert_eq!(
        sandbox.provider_secret(created.id.as_str()).unwrap().expose_secret(),
        "second-secret"
    );

    // The type cannot change, and a field of another type is refused.
    let (status, body) = raw(
        &sandbox,
        "PATCH",
        &format!("/v2/dcr-providers/{}", created.id),
        Some(json!({"provider_type": "okta", "dcr_config": {"dcr_token": "x"}})),
    )
    .await;
    assert_eq!(status, 400);
    let f = fields(&body);
    assert!(
        f.contains(&("provider_type".into(), "unknown_property".into())),
        "{f:?}"
    );
    assert!(
        f.contains(&("dcr_config.dcr_token".into(), "unknown_property".into())),
        "{f:?}"
    );

    // Filters and pagination.
    let by_type = providers.list().provider_type("auth0").send().await.unwrap();
    assert_eq!((by_type.items.len(), by_type.total), (1, 1));
    let by_issuer = providers.list().issuer("https://acme.okta.com").send().await.unwrap();
    assert_eq!(by_issuer.items[0].name, "okta");
    let first = providers.list().page_size(2).send().await.unwrap();
    assert_eq!((first.items.len(), first.total, first.has_next()), (2, 3, true));
    let all: Vec<_> = providers.list().page_size(1).stream().try_collect().await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(
        providers.find_by_name("bridge").await.unwrap().map(|p| p.id),
        Some(http.id.clone())
    );
    let (status, body) = raw(&sandbox, "GET", "/v2/dcr-providers?page[size]=0", None).await;
    assert_eq!((status, fields(&body)[0].0.as_str()), (400, "page[size]"));

    // Non-auth0 providers cannot be verified here, and say so.
    let verdict = providers.verify(&okta.id).await.unwrap();
    assert!(!verdict.is_success() && verdict.errors[0].contains("okta"));

    providers.delete(&okta.id).await.unwrap();
    assert!(providers.get_opt(&okta.id).await.unwrap().is_none());
    assert!(providers.delete(&okta.id).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn bodies_are_validated_like_the_document() {
    let sandbox = KonnectSandbox::start().await.unwrap();
    let (status, body) = raw(
        &sandbox,
        "POST",
        "/v2/dcr-providers",
        Some(json!({"name": "", "provider_type": "auth0", "issuer": "not a url",
            "dcr_config": {"initial_client_id": "x"}, "labels": {"kong-x": "v", "ok": "-bad"}, "extra": 1})),
    )
    .await;
    assert_eq!(status, 400);
    let f = fields(&body);
    for expected in [
        ("name", "min_length"),
        ("issuer", "invalid"),
        ("dcr_config.initial_client_secret", "required"),
        ("labels.kong-x", "is_label"),
        ("labels.ok", "matches_regex"),
        ("extra", "unknown_property"),
    ] {
        assert!(
            f.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} not in {f:?}"
        );
    }
    let (status, body) = raw(
        &sandbox,
        "POST",
        "/v2/dcr-providers",
        Some(json!({"name": "x", "provider_type": "ping", "issuer": "https://x.example.com", "dcr_config": {}})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["invalid_parameters"][0]["rule"], "enum");
    assert!(
        body["invalid_parameters"][0]["choices"]
            .as_array()
            .is_some_and(|c| c.len() == 6)
    );

    // Unknown OpenID Connect settings are refused (Konnect has no additional_properties).
    let (status, body) = raw(
        &sandbox,
        "POST",
        "/v2/application-auth-strategies",
        Some(
            json!({"name": "s", "display_name": "S", "strategy_type": "openid_connect",
            "configs": {"openid-connect": {"issuer": "https://x.example.com", "credential_claim": ["azp"],
                "scopes": ["openid"], "auth_methods": ["bearer"], "labels": {}}}}),
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        fields(&body),
        [(
            "configs.openid-connect.labels".to_owned(),
            "unknown_property".to_owned()
        )]
    );
}

#[tokio::test]
async fn strategies_publications_and_the_in_use_conflict() {
    let sandbox = KonnectSandbox::start().await.unwrap();
    let konnect = sandbox.client().unwrap();
    let provider = konnect
        .dcr_providers()
        .create(&NewDcrProvider::auth0(
            "auth0",
            "https://acme.us.auth0.com",
            "admin",
            "secret",
        ))
        .await
        .unwrap();
    let strategies = konnect.auth_strategies();
    let strategy = strategies
        .create(&NewAuthStrategy::openid_connect("dcr", "DCR", oidc()).dcr_provider(provider.id.clone()))
        .await
        .unwrap();
    let summary = strategy.dcr_provider.clone().unwrap();
    assert_eq!(
        (summary.id, summary.provider_type.as_str()),
        (provider.id.clone(), "auth0")
    );
    assert!(!strategy.active);
    assert!(konnect.dcr_providers().get(&provider.id).await.unwrap().active);
    assert!(
        konnect
            .dcr_providers()
            .delete(&provider.id)
            .await
            .unwrap_err()
            .is_conflict()
    );

    let keys = strategies
        .create(&NewAuthStrategy::key_auth(
            "keys",
            "Keys",
            KeyAuthConfig::new(["apikey"]),
        ))
        .await
        .unwrap();
    let filtered = strategies.list().strategy_type("key_auth").send().await.unwrap();
    assert_eq!(
        filtered.items.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        std::slice::from_ref(&keys.id)
    );
    let by_provider = strategies.list().dcr_provider_id(&provider.id).send().await.unwrap();
    assert_eq!(by_provider.items.len(), 1);

    let renamed = strategies
        .update(
            &strategy.id,
            &AuthStrategyUpdate::new()
                .display_name("Auth0 DCR")
                .label("owner", "dcr-rs"),
        )
        .await
        .unwrap();
    assert_eq!(renamed.display_name, "Auth0 DCR");
    assert_eq!(
        renamed.config, strategy.config,
        "a sparse PATCH leaves the config alone"
    );
    let replaced = strategies
        .replace(
            &keys.id,
            &NewAuthStrategy::key_auth("keys", "API keys", KeyAuthConfig::new(["x-api-key"])),
        )
        .await
        .unwrap();
    assert_eq!(replaced.created_at, keys.created_at);
    assert_eq!(replaced.display_name, "API keys");

    let api = konnect
        .apis()
        .create(&NewApi::new("Orders").version("v1"))
        .await
        .unwrap();
    assert!(
        konnect
            .apis()
            .create(&NewApi::new("Orders").version("v1"))
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert_eq!(
        konnect.apis().find_by_name("Orders").await.unwrap().map(|a| a.id),
        Some(api.id.clone())
    );
    let portal = konnect_appauth::PortalId::new(sandbox.portal_id());
    assert!(konnect.apis().publication(&api.id, &portal).await.unwrap().is_none());
    let request = PublicationRequest::new()
        .auth_strategy(strategy.id.clone())
        .visibility(Visibility::Public);
    let publication = konnect.apis().publish(&api.id, &portal, &request).await.unwrap();
    assert_eq!(publication.visibility, Visibility::Public);
    // PUT again is idempotent and keeps created_at.
    let again = konnect.apis().publish(&api.id, &portal, &request).await.unwrap();
    assert_eq!(again.created_at, publication.created_at);
    assert_eq!(konnect.apis().get(&api.id).await.unwrap().portals.len(), 1);
    assert!(strategies.get(&strategy.id).await.unwrap().active);

    let err = strategies.delete(&strategy.id).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    let missing = konnect
        .apis()
        .publish(
            &api.id,
            &portal,
            &PublicationRequest::new().auth_strategy(AuthStrategyId::new("00000000-0000-4000-8000-000000000000")),
        )
        .await
        .unwrap_err();
    assert_eq!(
        missing.invalid_parameters()[0].rule.as_deref(),
        Some("missing_reference")
    );

    konnect.apis().unpublish(&api.id, &portal).await.unwrap();
    strategies.delete(&strategy.id).await.unwrap();
    assert!(strategies.get_opt(&strategy.id).await.unwrap().is_none());
    konnect.apis().delete(&api.id).await.unwrap();
    assert!(konnect.apis().get_opt(&api.id).await.unwrap().is_none());
}

#[tokio::test]
async fn key_auth_applications_are_listed_per_portal() {
    let sandbox = KonnectSandbox::start().await.unwrap();
    let konnect = sandbox.client().unwrap();
    let keys = konnect
        .auth_strategies()
        .create(&NewAuthStrategy::key_auth(
            "keys",
            "Keys",
            KeyAuthConfig::new(["apikey"]),
        ))
        .await
        .unwrap();
    let apps = konnect.portal_applications(sandbox.portal_id());
    for i in 0..12 {
        apps.create(
            &NewApplication::new(format!("app-{i}"), Owner::developer(sandbox.developer_id()))
                .auth_strategy(keys.id.clone()),
        )
        .await
        .unwrap();
    }
    let other = sandbox.add_portal("Other");
    let names: Vec<String> = apps
        .list()
        .page_size(5)
        .stream()
        .map_ok(|a| a.name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(names.len(), 12);
    assert!(
        konnect
            .portal_applications(other)
            .list()
            .send()
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let one = apps.list().name("app-3").send().await.unwrap();
    assert_eq!(one.items.len(), 1);
    let app = apps.get(&one.items[0].id).await.unwrap();
    assert_eq!(app.auth_strategy.credential_type, "key_auth");
    apps.delete(&app.id).await.unwrap();
    assert!(apps.get_opt(&app.id).await.unwrap().is_none());

    let (status, body) = raw(
        &sandbox,
        "POST",
        &format!("/v3/portals/{}/applications", sandbox.portal_id()),
        Some(json!({"name": "x", "owner": {"type": "robot", "id": "nope"}, "auth_strategy_id": keys.id})),
    )
    .await;
    assert_eq!(status, 400);
    let f = fields(&body);
    assert!(
        f.contains(&("owner.type".into(), "enum".into())) && f.contains(&("owner.id".into(), "is_uuid".into())),
        "{f:?}"
    );
}

#[tokio::test]
async fn faults_are_injected_and_the_log_records_everything() {
    let sandbox = KonnectSandbox::start().await.unwrap();
    let konnect = sandbox.client().unwrap();
    sandbox.inject(Fault::status(503).times(2).on("GET", "/v2/dcr-providers"));
    assert!(
        konnect.dcr_providers().list().send().await.is_ok(),
        "GETs are retried through 503s"
    );
    assert_eq!(sandbox.request_count("GET", "/v2/dcr-providers"), 3);

    sandbox.inject(Fault::status(429).on("POST", "/v2/dcr-providers"));
    let provider = konnect
        .dcr_providers()
        .create(&NewDcrProvider::auth0("a", "https://acme.us.auth0.com", "id", "secret"))
        .await
        .unwrap();
    assert_eq!(
        sandbox.request_count("POST", "/v2/dcr-providers"),
        2,
        "a 429 is safe to retry, even a POST"
    );

    // A write that is carried out but whose answer is lost is not repeated.
    sandbox.inject(Fault::drop_after_processing().on("POST", "/v2/application-auth-strategies"));
    let err = konnect
        .auth_strategies()
        .create(&NewAuthStrategy::openid_connect("s", "S", oidc()).dcr_provider(provider.id.clone()))
        .await
        .unwrap_err();
    assert!(matches!(err, KonnectError::Transport(_)), "{err:?}");
    assert_eq!(
        sandbox.auth_strategies().len(),
        1,
        "the strategy exists although the client saw an error"
    );
    assert_eq!(sandbox.request_count("POST", "/v2/application-auth-strategies"), 1);
    let log = sandbox.requests();
    assert!(log.last().is_some_and(|r| r.dropped && r.status == 201));
    assert_eq!(sandbox.write_count(), 3);

    sandbox.inject(Fault::drop_connection().on("GET", "/v2/dcr-providers"));
    konnect.dcr_providers().get(&provider.id).await.unwrap();
    sandbox.clear_request_log();
    assert!(sandbox.requests().is_empty());
    let missing = konnect
        .dcr_providers()
        .get(&DcrProviderId::new("nope"))
        .await
        .unwrap_err();
    assert!(missing.is_not_found());
}

#[tokio::test]
async fn a_read_only_token_reads_but_cannot_write() {
    let sandbox = KonnectSandbox::builder()
        .read_only_token("spat_viewer")
        .start()
        .await
        .unwrap();
    let viewer = sandbox.client_builder().token("spat_viewer").build().unwrap();
    assert!(viewer.dcr_providers().list().send().await.unwrap().items.is_empty());
    let err = viewer
        .dcr_providers()
        .create(&NewDcrProvider::auth0("a", "https://acme.us.auth0.com", "id", "secret"))
        .await
        .unwrap_err();
    assert!(matches!(err, KonnectError::Forbidden(_)), "{err:?}");
    assert_eq!(err.status(), Some(403));
    assert!(sandbox.dcr_providers().is_empty());
}
