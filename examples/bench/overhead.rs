//! Part 3: what the typed clients cost on top of raw reqwest + `serde_json::Value`, on the
//! same local server and the same connection pool.
//!
//! The calls run on a current-thread runtime of their own, so the client has one core and
//! the sandbox server the other: on a multi-thread runtime every call hops between three
//! threads on two cores and the scheduler's noise (±15% from one batch to the next) hides
//! a difference of a few percent. Calls go in batches of 100, typed and raw alternating,
//! and each side's figure is its median batch: drift of the machine falls on both alike.

use dcr_workflow::sandbox::{Auth0SandboxClients as _, KonnectSandboxClients as _};
use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::Context;
use auth0_mgmt::ClientId;
use dcr_workflow::Workflow;
use dcr_workflow::sandbox::Sandboxes;
use dcr_workflow::store::MemoryStore;
use reqwest::header::{ACCEPT, USER_AGENT};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::report::{Section, round};

const BATCH: usize = 100;
const WARM_UP: usize = 200;
/// The typed clients' default per-request timeout. Raw reqwest has none unless asked; a
/// timeout arms a timer per request, and that timer (not the client) is most of the gap
/// between typed and bare raw calls, so the like-for-like raw call sets the same one.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Median time per call of each side, over batches that alternate between the sides.
async fn medians<F, Fut>(calls: usize, sides: &mut [F]) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    for side in sides.iter_mut() {
        for _ in 0..WARM_UP {
            side().await?;
        }
    }
    let batches = calls.div_ceil(BATCH);
    let mut times = vec![Vec::with_capacity(batches); sides.len()];
    for batch in 0..batches {
        // Rotate which side goes first, so none always follows the same one.
        for k in 0..sides.len() {
            let i = (batch + k) % sides.len();
            let started = Instant::now();
            for _ in 0..BATCH {
                sides[i]().await?;
            }
            times[i].push(started.elapsed() / BATCH as u32);
        }
    }
    Ok(times
        .into_iter()
        .map(|mut t| {
            t.sort();
            t[t.len() / 2]
        })
        .collect())
}

/// One service's three sides: the typed client, raw reqwest with the same timeout, raw
/// reqwest without one.
#[derive(Clone, Copy)]
enum Side {
    Typed,
    Raw,
    RawNoTimeout,
}

/// Medians of the three sides of one service: `typed` makes the call through the client,
/// `raw` builds the same request for reqwest (sent with and without the timeout).
async fn three_sides<T, TF>(
    calls: usize,
    typed: T,
    raw: impl Fn() -> reqwest::RequestBuilder,
) -> anyhow::Result<Vec<Duration>>
where
    T: Fn() -> TF,
    TF: Future<Output = anyhow::Result<()>>,
{
    let mut sides = [Side::Typed, Side::Raw, Side::RawNoTimeout].map(|side| {
        let (typed, raw) = (&typed, &raw);
        move || async move {
            let request = match side {
                Side::Typed => return typed().await,
                Side::Raw => raw().timeout(TIMEOUT),
                Side::RawNoTimeout => raw(),
            };
            black_box(request.send().await?.error_for_status()?.json::<Value>().await?);
            Ok(())
        }
    });
    medians(calls, &mut sides).await
}

fn add(r: &mut Section, service: &'static str, keys: [&'static str; 5], t: &[Duration]) {
    let rate = |d: Duration| round(1.0 / d.as_secs_f64(), 0);
    let us = |d: Duration| round(d.as_secs_f64() * 1e6, 1);
    let ratio = round(t[0].as_secs_f64() / t[1].as_secs_f64(), 3);
    let bare = round(t[0].as_secs_f64() / t[2].as_secs_f64(), 3);
    r.figure(keys[0], format!("{service}: typed client"), rate(t[0]), "req/s");
    r.figure(
        keys[1],
        format!("{service}: raw reqwest, same timeout"),
        rate(t[1]),
        "req/s",
    );
    r.figure(
        keys[2],
        format!("{service}: raw reqwest, no timeout"),
        rate(t[2]),
        "req/s",
    );
    r.figure(
        keys[3],
        format!("{service}: typed − raw per call"),
        us(t[0].saturating_sub(t[1])),
        "µs",
    );
    r.figure(
        keys[4],
        format!("{service}: time typed / raw (no timeout)"),
        json!([ratio, bare]),
        "",
    );
    r.goal(
        format!("{service}: time typed / raw ≤ 1.05 (it is {ratio})"),
        ratio <= 1.05,
    );
}

/// Part 3 with `calls` calls per side and service, on a runtime of its own.
pub(crate) async fn overhead(calls: usize) -> anyhow::Result<Section> {
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(measure(calls))
    })
    .await?
}

async fn measure(calls: usize) -> anyhow::Result<Section> {
    let s = Sandboxes::start().await?;
    let http = reqwest::Client::new();

    // Auth0: GET /api/v2/clients/{id}, with a token fetched once by hand for the raw side.
    let target = s
        .auth0
        .insert_client(json!({"name": "bench target", "app_type": "non_interactive",
            "grant_types": ["client_credentials"], "client_metadata": {"team": "bench"}}))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = target["client_id"].as_str().context("client_id")?.to_owned();
    let auth0 = s.auth0.client_builder().http_client(http.clone()).build()?;
    let token: Value = http
        .post(format!("{}/oauth/token", s.auth0.uri()))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": s.auth0.bootstrap_client_id().as_str(),
            "client_secret": s.auth0.bootstrap_client_secret().expose_secret(),
            "audience": s.auth0.management_audience().as_str(),
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = token["access_token"].as_str().context("access_token")?.to_owned();
    let url = format!("{}/api/v2/clients/{id}", s.auth0.uri());
    let client_id = ClientId::new(id);
    // The same request the typed client sends: same headers, same values.
    let raw = || {
        http.get(&url)
            .bearer_auth(&token)
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, concat!("auth0-mgmt/", env!("CARGO_PKG_VERSION")))
    };
    s.clear_logs();
    let auth0_times = three_sides(
        calls,
        || async {
            black_box(auth0.clients().get(&client_id).await?);
            Ok(())
        },
        raw,
    )
    .await?;

    // Konnect: GET /v2/dcr-providers/{id}, of the provider a converge creates.
    let applied = Workflow::new(s.config(), MemoryStore::new())?.converge().await?;
    let konnect = s.konnect.client_builder().http_client(http.clone()).build()?;
    let provider = applied.provider.id;
    let url = format!("{}/v2/dcr-providers/{provider}", s.konnect.uri());
    let konnect_token = s.konnect.token();
    let raw = || {
        http.get(&url)
            .bearer_auth(konnect_token.expose_secret())
            .header(ACCEPT, "application/json, application/problem+json")
            .header(USER_AGENT, concat!("konnect-appauth/", env!("CARGO_PKG_VERSION")))
    };
    s.clear_logs();
    let konnect_times = three_sides(
        calls,
        || async {
            black_box(konnect.dcr_providers().get(&provider).await?);
            Ok(())
        },
        raw,
    )
    .await?;

    let mut r = Section::new(
        "client_overhead",
        "3. Client overhead against raw reqwest + serde_json::Value (median of batches of 100)",
    );
    r.figure("calls", "calls per side and service", calls.div_ceil(BATCH) * BATCH, "");
    add(
        &mut r,
        "Auth0 GET /api/v2/clients/{id}",
        [
            "auth0_typed_rps",
            "auth0_raw_rps",
            "auth0_raw_no_timeout_rps",
            "auth0_overhead_us",
            "auth0_ratio",
        ],
        &auth0_times,
    );
    add(
        &mut r,
        "Konnect GET /v2/dcr-providers/{id}",
        [
            "konnect_typed_rps",
            "konnect_raw_rps",
            "konnect_raw_no_timeout_rps",
            "konnect_overhead_us",
            "konnect_ratio",
        ],
        &konnect_times,
    );
    Ok(r)
}
