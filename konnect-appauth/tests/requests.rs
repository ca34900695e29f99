//! What the client puts on the wire for each operation, and how it treats Konnect's
//! answers (errors, retries, pagination), against plain wiremock stubs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt;
use konnect_appauth::resources::apis::{NewApi, PublicationRequest, Visibility};
use konnect_appauth::resources::auth_strategies::{
    AuthStrategyUpdate, KeyAuthConfig, KeyTtl, NewAuthStrategy, OidcConfig, OidcConfigUpdate,
};
use konnect_appauth::resources::dcr_providers::{DcrConfig, DcrConfigUpdate, DcrProviderUpdate, NewDcrProvider};
use konnect_appauth::resources::portal_applications::{NewApplication, Owner};
use konnect_appauth::{
    ApiId, ApplicationId, AuthStrategyId, DcrProviderId, KonnectClient, KonnectError, PortalId, RetryConfig,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "kpat_test0123456789";
const PROVIDER: &str = "7e1b7ed4-6c5b-4f4a-8f44-5d1e2f3a4b5c";
const STRATEGY: &str = "9b2c1f3e-1111-4222-8333-944455556666";
const PORTAL: &str = "25a2624c-49fc-4764-99e1-224ed819f200";
const API: &str = "9f5061ce-78f6-4452-9108-ad7c02821fd5";
const APP: &str = "b15e2460-ba40-431d-9df0-4957fcffacda";

fn client(server: &MockServer) -> KonnectClient {
    KonnectClient::builder()
        .base_url(server.uri())
        .token(TOKEN)
        .retry(RetryConfig::standard().min_delay(Duration::from_millis(5)).no_jitter())
        .build()
        .unwrap()
}

fn provider_json() -> Value {
    json!({
        "id": PROVIDER, "name": "auth0", "provider_type": "auth0", "issuer": "https://acme.us.auth0.com",
        "active": false, "dcr_config": {"initial_client_id": "admin", "initial_client_audience": null},
        "labels": {}, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
    })
}

fn strategy_json() -> Value {
    json!({
        "id": STRATEGY, "name": "dcr", "display_name": "DCR", "strategy_type": "openid_connect",
        "configs": {"openid-connect": {"issuer": "https://acme.us.auth0.com", "credential_claim": ["azp"],
            "scopes": ["openid"], "auth_methods": ["client_credentials"],
            "token_post_args_names": ["audience"], "token_post_args_values": ["https://api"]}},
        "active": true, "dcr_provider": {"id": PROVIDER, "name": "auth0", "provider_type": "auth0"},
        "labels": {}, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
    })
}

fn app_json() -> Value {
    json!({
        "id": APP, "name": "App", "client_id": "abc", "registration_count": 0, "labels": {},
        "portal": {"id": PORTAL}, "dcr_provider": {"id": PROVIDER}, "granted_scopes": ["read"],
        "auth_strategy": {"id": STRATEGY, "name": "dcr", "credential_type": "client_credentials", "auth_methods": []},
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "client_secret": "s3cr3t"
    })
}

fn page(data: Value, number: u64, size: u64, total: u64) -> Value {
    json!({"data": data, "meta": {"page": {"number": number, "size": size, "total": total}}})
}

#[tokio::test]
async fn dcr_provider_requests_have_the_documented_shape() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/dcr-providers"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(json!({
            "name": "auth0", "display_name": "Auth0", "provider_type": "auth0",
            "issuer": "https://acme.us.auth0.com",
            "dcr_config": {"initial_client_id": "admin", "initial_client_secret": "top-secret",
                "initial_client_audience": "https://acme.us.auth0.com/api/v2/", "use_developer_managed_scopes": true},
            "labels": {"managed-by": "dcr-rs"}
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(provider_json()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/v2/dcr-providers/{PROVIDER}")))
        .and(body_json(
            json!({"labels": {"old": null, "new": "v"}, "dcr_config": {"initial_client_secret": "rotated"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(provider_json()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/dcr-providers"))
        .and(query_param("filter[name][eq]", "auth0"))
        .and(query_param("filter[provider_type][eq]", "auth0"))
        .and(query_param("page[size]", "5"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(json!([provider_json()]), 1, 5, 1)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v2/dcr-providers/{PROVIDER}/verify")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "failed", "errors": ["bad secret"]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v2/dcr-providers/{PROVIDER}")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    let konnect = client(&server);
    let providers = konnect.dcr_providers();
    let created = providers
        .create(
            &NewDcrProvider::auth0("auth0", "https://acme.us.auth0.com", "admin", "top-secret")
                .display_name("Auth0")
                .client_audience("https://acme.us.auth0.com/api/v2/")
                .developer_managed_scopes(true)
                .label("managed-by", "dcr-rs"),
        )
        .await
        .unwrap();
    let DcrConfig::Auth0(config) = &created.config else {
        panic!("{:?}", created.config)
    };
    assert!(!config.use_developer_managed_scopes, "a missing boolean reads as false");
    let id = DcrProviderId::new(PROVIDER);
    providers
        .update(
            &id,
            &DcrProviderUpdate::new()
                .remove_label("old")
                .label("new", "v")
                .dcr_config(DcrConfigUpdate::new().initial_client_secret("rotated")),
        )
        .await
        .unwrap();
    let page = providers
        .list()
        .name("auth0")
        .provider_type("auth0")
        .page_size(5)
        .send()
        .await
        .unwrap();
    assert_eq!((page.items.len(), page.total), (1, 1));
    let verdict = providers.verify(&id).await.unwrap();
    assert!(!verdict.is_success() && verdict.errors == ["bad secret"]);
    providers.delete(&id).await.unwrap();
}

#[tokio::test]
async fn auth_strategy_requests_keep_oidc_settings_inline() {
    let server = MockServer::start().await;
    let expected_create = json!({
        "name": "dcr", "display_name": "DCR", "strategy_type": "openid_connect",
        "configs": {"openid-connect": {"issuer": "https://acme.us.auth0.com", "credential_claim": ["azp"],
            "scopes": ["openid", "read"], "auth_methods": ["client_credentials", "bearer", "session"],
            "token_post_args_names": ["audience"], "token_post_args_values": ["https://api"]}},
        "dcr_provider_id": PROVIDER
    });
    Mock::given(method("POST"))
        .and(path("/v2/application-auth-strategies"))
        .and(body_json(expected_create.clone()))
        .respond_with(ResponseTemplate::new(201).set_body_json(strategy_json()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("/v2/application-auth-strategies/{STRATEGY}")))
        .and(body_json(
            json!({"name": "keys", "display_name": "Keys", "strategy_type": "key_auth",
            "configs": {"key-auth": {"key_names": ["apikey"], "ttl": {"value": 30, "unit": "days"}}}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(strategy_json()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("/v2/application-auth-strategies/{STRATEGY}")))
        .and(body_json(json!({"dcr_provider_id": null,
            "configs": {"openid-connect": {"scopes": ["openid"], "token_post_args_names": ["audience"], "token_post_args_values": ["https://new"]}}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(strategy_json()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v2/application-auth-strategies/{STRATEGY}")))
        .respond_with(
            ResponseTemplate::new(409).set_body_json(json!({"status": 409, "title": "Conflict",
            "instance": "kong:trace:42", "detail": "strategy in use"})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let konnect = client(&server);
    let strategies = konnect.auth_strategies();
    let created = strategies
        .create(
            &NewAuthStrategy::openid_connect(
                "dcr",
                "DCR",
                OidcConfig::new(
                    "https://acme.us.auth0.com",
                    ["azp"],
                    ["openid", "read"],
                    ["client_credentials", "bearer", "session"],
                )
                .audience("https://api"),
            )
            .dcr_provider(PROVIDER),
        )
        .await
        .unwrap();
    let oidc = created.config.as_openid_connect().unwrap();
    assert_eq!(oidc.audience_value(), Some("https://api"));
    assert_eq!(created.dcr_provider.as_ref().map(|p| p.id.as_str()), Some(PROVIDER));
    let id = AuthStrategyId::new(STRATEGY);
    strategies
        .replace(
            &id,
            &NewAuthStrategy::key_auth(
                "keys",
                "Keys",
                KeyAuthConfig::new(["apikey"]).ttl(KeyTtl::new(30, "days")),
            ),
        )
        .await
        .unwrap();
    strategies
        .update(
            &id,
            &AuthStrategyUpdate::new()
                .dcr_provider(None)
                .openid_connect(OidcConfigUpdate::new().scopes(["openid"]).audience("https://new")),
        )
        .await
        .unwrap();
    let err = strategies.delete(&id).await.unwrap_err();
    assert!(err.is_conflict(), "{err}");
    assert_eq!(err.instance(), Some("kong:trace:42"));
}

#[tokio::test]
async fn publication_and_application_requests_have_the_documented_shape() {
    let server = MockServer::start().await;
    let api = json!({"id": API, "name": "Orders", "version": null, "slug": "orders", "portals": [], "labels": {},
        "api_spec_ids": [], "current_version_summary": null,
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"});
    Mock::given(method("POST"))
        .and(path("/v3/apis"))
        .and(body_json(json!({"name": "Orders", "slug": "orders"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(api.clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("/v3/apis/{API}/publications/{PORTAL}")))
        .and(body_json(
            json!({"auth_strategy_ids": [STRATEGY], "visibility": "public"}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"auth_strategy_ids": [STRATEGY],
            "visibility": "public", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v3/apis/{API}/publications/{PORTAL}")))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"status": 404, "title": "Not Found",
            "instance": "kong:trace:1", "detail": "not published"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/v3/portals/{PORTAL}/applications")))
        .and(body_json(
            json!({"name": "App", "owner": {"type": "developer", "id": APP}, "auth_strategy_id": STRATEGY}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(app_json()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("/v3/portals/{PORTAL}/applications/{APP}")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    let konnect = client(&server);
    let created = konnect
        .apis()
        .create(&NewApi::new("Orders").slug("orders"))
        .await
        .unwrap();
    assert_eq!(created.id, ApiId::new(API));
    let portal = PortalId::new(PORTAL);
    let published = konnect
        .apis()
        .publish(
            &created.id,
            &portal,
            &PublicationRequest::new()
                .auth_strategy(STRATEGY)
                .visibility(Visibility::Public),
        )
        .await
        .unwrap();
    assert_eq!(published.auth_strategy_ids, Some(vec![AuthStrategyId::new(STRATEGY)]));
    assert!(
        konnect
            .apis()
            .publication(&created.id, &portal)
            .await
            .unwrap()
            .is_none()
    );
    let apps = konnect.portal_applications(PORTAL);
    let app = apps
        .create(&NewApplication::new("App", Owner::developer(APP)).auth_strategy(STRATEGY))
        .await
        .unwrap();
    assert_eq!(app.application.client_id.as_deref(), Some("abc"));
    assert!(app.client_secret.is_some());
    assert!(
        !format!("{app:?}").contains("s3cr3t"),
        "the secret must not show in Debug"
    );
    apps.delete(&ApplicationId::new(APP)).await.unwrap();
}

/// Serves pages of a list of `total` items, recording each `page[number]` asked for.
struct Pages {
    total: usize,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Respond for Pages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let param = |k: &str| {
            request
                .url
                .query_pairs()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.into_owned())
        };
        let size: usize = param("page[size]").and_then(|s| s.parse().ok()).unwrap_or(10);
        let number: usize = param("page[number]").and_then(|s| s.parse().ok()).unwrap_or(1);
        self.asked.lock().unwrap().push(number.to_string());
        let start = (number - 1) * size;
        let data: Vec<Value> = (start..(start + size).min(self.total))
            .map(|i| {
                let mut app = app_json();
                app["name"] = json!(format!("app-{i}"));
                app
            })
            .collect();
        // Floats, as Konnect has been seen to send.
        ResponseTemplate::new(200).set_body_json(json!({"data": data,
            "meta": {"page": {"number": number as f64, "size": size as f64, "total": self.total as f64}}}))
    }
}

#[tokio::test]
async fn streams_walk_every_page_lazily() {
    let server = MockServer::start().await;
    let asked = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("GET"))
        .and(path(format!("/v3/portals/{PORTAL}/applications")))
        .respond_with(Pages {
            total: 25,
            asked: asked.clone(),
        })
        .mount(&server)
        .await;
    let konnect = client(&server);
    let names: Vec<String> = konnect
        .portal_applications(PORTAL)
        .list()
        .page_size(10)
        .stream()
        .map_ok(|a| a.name)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(names.len(), 25);
    assert_eq!(names[24], "app-24");
    assert_eq!(*asked.lock().unwrap(), ["1", "2", "3"]);

    // Taking two items fetches only the first page.
    asked.lock().unwrap().clear();
    let mut stream = std::pin::pin!(konnect.portal_applications(PORTAL).list().page_size(10).stream());
    stream.try_next().await.unwrap();
    stream.try_next().await.unwrap();
    assert_eq!(*asked.lock().unwrap(), ["1"]);
}

#[tokio::test]
async fn rate_limits_are_retried_after_retry_after_and_unsafe_writes_are_not_repeated() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/dcr-providers/{PROVIDER}")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({
            "status": 429, "title": "Too Many Requests", "instance": "kong:trace:9", "detail": "slow down"})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/dcr-providers/{PROVIDER}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(provider_json()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/dcr-providers"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream unavailable"))
        .expect(1)
        .mount(&server)
        .await;
    let konnect = client(&server);
    let started = std::time::Instant::now();
    konnect
        .dcr_providers()
        .get(&DcrProviderId::new(PROVIDER))
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited {:?}",
        started.elapsed()
    );

    let err = konnect
        .dcr_providers()
        .create(&NewDcrProvider::auth0("a", "https://acme.us.auth0.com", "id", "secret"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(err.to_string().contains("upstream unavailable"));
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    let konnect = client(&server);
    let field = |e: KonnectError| match e {
        KonnectError::InvalidInput { field, .. } => field,
        other => panic!("{other:?}"),
    };
    let slash = konnect
        .dcr_providers()
        .create(&NewDcrProvider::auth0(
            "a",
            "https://acme.us.auth0.com/",
            "id",
            "secret",
        ))
        .await
        .unwrap_err();
    assert!(slash.to_string().contains("must not end with `/`"), "{slash}");
    let reserved = konnect
        .dcr_providers()
        .create(&NewDcrProvider::auth0("a", "https://acme.us.auth0.com", "id", "secret").label("konnect-x", "v"))
        .await
        .unwrap_err();
    assert_eq!(field(reserved), "labels.konnect-x");
    let key = konnect
        .dcr_providers()
        .create(&NewDcrProvider::http(
            "h",
            "https://idp.example.com",
            "https://bridge.example.com",
            "short",
        ))
        .await
        .unwrap_err();
    let text = key.to_string();
    assert_eq!(field(key), "dcr_config.api_key");
    assert!(!text.contains("short"), "the key must not be quoted: {text}");
    let empty_name = konnect
        .auth_strategies()
        .create(&NewAuthStrategy::key_auth("", "Keys", KeyAuthConfig::new(["apikey"])))
        .await
        .unwrap_err();
    assert_eq!(field(empty_name), "name");
    let scopes: Vec<String> = (0..51).map(|i| format!("s{i}")).collect();
    let mut config = OidcConfig::new("https://idp.example.com", ["azp"], ["openid"], ["bearer"]);
    config.scopes = scopes;
    let too_many = konnect
        .auth_strategies()
        .create(&NewAuthStrategy::openid_connect("o", "O", config))
        .await
        .unwrap_err();
    assert_eq!(field(too_many), "configs.openid-connect.scopes");
    let mixed = konnect
        .dcr_providers()
        .update(
            &DcrProviderId::new(PROVIDER),
            &DcrProviderUpdate::new().dcr_config(DcrConfigUpdate::new().initial_client_id("x").dcr_token("t")),
        )
        .await
        .unwrap_err();
    assert_eq!(field(mixed), "dcr_config");
    assert_eq!(server.received_requests().await.unwrap_or_default().len(), 0);
}

#[tokio::test]
async fn unknown_types_decode_and_bad_bodies_name_the_path() {
    let server = MockServer::start().await;
    let mut future_provider = provider_json();
    future_provider["provider_type"] = json!("pingFederate");
    future_provider["dcr_config"] = json!({"environment_id": "env-1"});
    let mut future_strategy = strategy_json();
    future_strategy["strategy_type"] = json!("mtls");
    future_strategy["configs"] = json!({"mtls": {"ca": "x"}});
    Mock::given(method("GET"))
        .and(path(format!("/v2/dcr-providers/{PROVIDER}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(future_provider.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v2/application-auth-strategies/{STRATEGY}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(future_strategy.clone()))
        .mount(&server)
        .await;
    let mut broken = app_json();
    broken["registration_count"] = json!("many");
    Mock::given(method("GET"))
        .and(path(format!("/v3/portals/{PORTAL}/applications/{APP}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(broken))
        .mount(&server)
        .await;
    let konnect = client(&server);

    let provider = konnect
        .dcr_providers()
        .get(&DcrProviderId::new(PROVIDER))
        .await
        .unwrap();
    assert_eq!(provider.config.provider_type(), "pingFederate");
    assert!(matches!(provider.config, DcrConfig::Unknown { .. }));
    let again = serde_json::to_value(&provider).unwrap();
    assert_eq!(again["dcr_config"], future_provider["dcr_config"], "kept verbatim");
    let strategy = konnect
        .auth_strategies()
        .get(&AuthStrategyId::new(STRATEGY))
        .await
        .unwrap();
    assert_eq!(strategy.config.strategy_type(), "mtls");
    assert_eq!(
        serde_json::to_value(&strategy).unwrap()["configs"],
        future_strategy["configs"]
    );

    let err = konnect
        .portal_applications(PORTAL)
        .get(&ApplicationId::new(APP))
        .await
        .unwrap_err();
    match &err {
        KonnectError::Decode {
            operation,
            path,
            reason,
        } => {
            assert_eq!(operation, "GET /v3/portals/{portalId}/applications/{applicationId}");
            assert_eq!(path, "registration_count");
            assert!(!reason.contains("many"), "values are not quoted: {reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_429_without_retry_after_backs_off_on_the_clients_own_schedule() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v3/apis"))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(json!({"status": 429, "title": "Rate Limited",
            "instance": "konnect:trace:7", "detail": "Too many requests"})),
        )
        .expect(3)
        .mount(&server)
        .await;
    let konnect = KonnectClient::builder()
        .base_url(server.uri())
        .token(TOKEN)
        .retry(
            RetryConfig::standard()
                .max_attempts(3)
                .min_delay(Duration::from_millis(5))
                .no_jitter(),
        )
        .build()
        .unwrap();
    let err = konnect.apis().list().send().await.unwrap_err();
    match &err {
        KonnectError::RateLimited { retry_after, problem } => {
            assert_eq!(*retry_after, None);
            assert_eq!(problem.title, "Rate Limited");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
}
