//! Transport behaviour against scripted wiremock stubs: token single-flight, 429 waits,
//! no replayed POSTs, the exact page sequence. Bodies are the Management API document's
//! `default` values (tests/fixtures), since the document carries no examples.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use support::{client_for, fixture_client, mount_token};

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use auth0_mgmt::resources::clients::NewClient;
use auth0_mgmt::{Auth0Client, Auth0Error, ClientId, ClientSecret, RetryConfig};
use futures::TryStreamExt;
use serde_json::json;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CLIENT_ID: &str = "AaiyAPdpYdesoKnqjj8HJqRn4T5titww";

/// Answers any unmatched request with a readable error naming it.
async fn mount_catch_all(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &wiremock::Request| {
            ResponseTemplate::new(418).set_body_string(format!("no stub for {} {}", req.method, req.url))
        })
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_hundred_concurrent_calls_on_a_cold_client_fetch_one_token() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v2/clients/{CLIENT_ID}")))
        .and(wiremock::matchers::header("authorization", "Bearer mgmt-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_client()))
        .expect(100)
        .mount(&server)
        .await;
    mount_catch_all(&server).await;
    let auth0 = client_for(&server);
    let id = ClientId::new(CLIENT_ID);
    let calls = (0..100).map(|_| {
        let auth0 = auth0.clone();
        let id = id.clone();
        tokio::spawn(async move { auth0.clients().get(&id).await })
    });
    for call in futures::future::join_all(calls).await {
        let client = call.unwrap().unwrap();
        assert_eq!(client.name, "My application");
        assert_eq!(client.is_first_party, Some(false));
        assert!(client.extra.contains_key("custom_login_page_on"));
    }
    server.verify().await;
}

#[tokio::test]
async fn a_429_with_ratelimit_reset_is_waited_out() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    let reset = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 2;
    Mock::given(method("GET"))
        .and(path("/api/v2/clients/x"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ratelimit-limit", "10")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_json(json!({"statusCode": 429, "error": "Too Many Requests", "message": "Global limit has been reached", "errorCode": "too_many_requests"})),
        )
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/clients/x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_client()))
        .expect(1)
        .mount(&server)
        .await;
    let auth0 = client_for(&server);
    let started = std::time::Instant::now();
    auth0.clients().get(&ClientId::new("x")).await.unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(now >= reset, "did not wait for the reset");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    server.verify().await;
}

#[tokio::test]
async fn a_429_that_outlasts_the_budget_is_reported_with_auth0s_body() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/clients/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120").set_body_json(
            json!({"statusCode": 429, "error": "Too Many Requests", "message": "Global limit has been reached", "errorCode": "too_many_requests"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let auth0 = Auth0Client::builder()
        .domain("acme.us.auth0.com")
        .base_url(server.uri())
        .client_credentials("m2m-id", ClientSecret::new("m2m-secret"))
        .retry(
            RetryConfig::standard()
                .total_budget(Duration::from_secs(5))
                .max_delay(Duration::from_secs(60)),
        )
        .build()
        .unwrap();
    let err = auth0.clients().get(&ClientId::new("x")).await.unwrap_err();
    match &err {
        Auth0Error::RateLimited { retry_after, error } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(120)));
            assert_eq!(error.error_code.as_deref(), Some("too_many_requests"));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    server.verify().await;
}

#[tokio::test]
async fn a_post_that_failed_with_a_connection_reset_is_not_sent_twice() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("POST"))
        .and(path("/api/v2/clients"))
        .respond_with_err(|_: &wiremock::Request| std::io::Error::from(std::io::ErrorKind::ConnectionReset))
        .expect(1)
        .mount(&server)
        .await;
    let auth0 = client_for(&server);
    let err = auth0
        .clients()
        .create(&NewClient::machine_to_machine("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Auth0Error::Transport(_)), "{err:?}");
    server.verify().await;
}

#[tokio::test]
async fn a_get_that_failed_with_a_connection_reset_is_retried() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/clients/x"))
        .respond_with_err(|_: &wiremock::Request| std::io::Error::from(std::io::ErrorKind::ConnectionReset))
        .up_to_n_times(1)
        .expect(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/clients/x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_client()))
        .expect(1)
        .mount(&server)
        .await;
    client_for(&server).clients().get(&ClientId::new("x")).await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn checkpoint_stream_asks_for_each_page_once_in_order() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    let client = |id: &str| {
        let mut c = fixture_client();
        c["client_id"] = json!(id);
        c
    };
    Mock::given(method("GET"))
        .and(path("/api/v2/clients"))
        .and(query_param("take", "100"))
        .and(query_param_is_missing("from"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"clients": [client("a"), client("b")], "next": "cp1"})),
        )
        .expect(1)
        .named("page 1")
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/clients"))
        .and(query_param("from", "cp1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"clients": [client("c")], "next": "cp2"})))
        .expect(1)
        .named("page 2")
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/clients"))
        .and(query_param("from", "cp2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"clients": [client("d")]})))
        .expect(1)
        .named("page 3")
        .mount(&server)
        .await;
    mount_catch_all(&server).await;
    let ids: Vec<String> = client_for(&server)
        .clients()
        .list()
        .stream()
        .map_ok(|c| c.client_id.into_inner())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["a", "b", "c", "d"]);
    server.verify().await;
}

#[tokio::test]
async fn a_repeated_checkpoint_ends_the_walk() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/client-grants"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "client_grants": [{"id": "cgr_1", "client_id": "a", "audience": "x", "scope": []}],
            "next": "same"
        })))
        .expect(2)
        .mount(&server)
        .await;
    let grants: Vec<_> = client_for(&server)
        .client_grants()
        .list()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        grants.len(),
        2,
        "first page, then the page for `same`, which repeats itself"
    );
    server.verify().await;
}

#[tokio::test]
async fn offset_totals_may_arrive_as_floats() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/resource-servers"))
        .and(query_param("include_totals", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "start": 0.0, "limit": 50.0, "total": 1.0,
            "resource_servers": [{"id": "r1", "identifier": "https://api", "future_field": {"x": 1}}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let page = client_for(&server).resource_servers().list().send().await.unwrap();
    assert_eq!((page.total, page.limit), (Some(1), Some(50)));
    assert!(page.items[0].extra.contains_key("future_field"));
}

#[tokio::test]
async fn a_non_json_error_keeps_its_status() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("DELETE"))
        .and(path("/api/v2/clients/x"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .expect(4)
        .mount(&server)
        .await;
    let err = client_for(&server)
        .clients()
        .delete(&ClientId::new("x"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert!(err.to_string().contains("bad gateway"), "{err}");
    server.verify().await;
}

#[tokio::test]
async fn a_malformed_success_body_is_a_decode_error_that_names_the_path() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/v2/client-grants/g"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "g", "client_id": "c", "audience": 42})))
        .mount(&server)
        .await;
    let err = client_for(&server).client_grants().get(&"g".into()).await.unwrap_err();
    match err {
        Auth0Error::Decode { operation, path, .. } => {
            assert_eq!(operation, "GET /api/v2/client-grants/{id}");
            assert_eq!(path, "audience");
        }
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[tokio::test]
async fn a_base_url_path_prefix_applies_to_the_token_endpoint_too() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tenant-a/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "mgmt-token", "expires_in": 86400, "token_type": "Bearer"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/tenant-a/api/v2/clients/x"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_client()))
        .expect(1)
        .mount(&server)
        .await;
    mount_catch_all(&server).await;
    let auth0 = Auth0Client::builder()
        .domain("acme.us.auth0.com")
        .base_url(format!("{}/tenant-a", server.uri()))
        .client_credentials("m2m-id", ClientSecret::new("m2m-secret"))
        .build()
        .unwrap();
    auth0.clients().get(&ClientId::new("x")).await.unwrap();
    server.verify().await;
}

/// A raw server whose every answer promises 100 body bytes, sends 10 and hangs up.
/// Returns its base URL and a counter of requests received.
async fn truncating_server() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]);
                if head.starts_with("POST /oauth/token") {
                    let body = r#"{"access_token":"t","expires_in":86400,"token_type":"Bearer"}"#;
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(reply.as_bytes()).await;
                    return;
                }
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{\"client_i";
                let _ = socket.write_all(reply.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, hits)
}

#[tokio::test]
async fn a_body_cut_off_mid_read_is_retried_for_get_but_not_for_post() {
    let (url, hits) = truncating_server().await;
    let auth0 = Auth0Client::builder()
        .domain("acme.us.auth0.com")
        .base_url(&url)
        .client_credentials("m2m-id", ClientSecret::new("m2m-secret"))
        .retry(
            RetryConfig::standard()
                .min_delay(Duration::from_millis(5))
                .max_attempts(3),
        )
        .build()
        .unwrap();
    let err = auth0.clients().get(&ClientId::new("x")).await.unwrap_err();
    assert!(matches!(err, Auth0Error::Transport(_)), "{err:?}");
    assert_eq!(
        hits.swap(0, std::sync::atomic::Ordering::SeqCst),
        3,
        "GET retried up to max_attempts"
    );

    let err = auth0
        .clients()
        .create(&NewClient::machine_to_machine("x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Auth0Error::Transport(_)), "{err:?}");
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "a POST that reached the server is not repeated"
    );
}
