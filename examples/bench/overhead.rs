//! Part 3: what the typed clients cost on top of raw reqwest + `serde_json::Value`, on the
//! same local server and the same connection pool.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anyhow::Context;
use auth0_mgmt::ClientId;
use dcr_workflow::Workflow;
use dcr_workflow::sandbox::Sandboxes;
use dcr_workflow::store::MemoryStore;
use reqwest::header::ACCEPT;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::report::{Section, ms, round};

/// Rounds alternate typed and raw, so drift of the machine (another process, a CPU
/// frequency change) falls on both sides alike.
const ROUNDS: usize = 4;
const WARM_UP: usize = 200;

/// Times `n` sequential calls of `call`.
async fn time<F, Fut>(n: usize, mut call: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    for _ in 0..n {
        call().await?;
    }
    Ok(started.elapsed())
}

/// Typed and raw, `n` calls each, in alternating rounds.
async fn compare<T, TF, R, RF>(
    s: &Sandboxes,
    n: usize,
    mut typed: T,
    mut raw: R,
) -> anyhow::Result<(Duration, Duration)>
where
    T: FnMut() -> TF,
    TF: Future<Output = anyhow::Result<()>>,
    R: FnMut() -> RF,
    RF: Future<Output = anyhow::Result<()>>,
{
    time(WARM_UP, &mut typed).await?;
    time(WARM_UP, &mut raw).await?;
    let per_round = n.div_ceil(ROUNDS);
    let (mut t, mut r) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..ROUNDS {
        // The sandboxes log every request; keep the log from growing across rounds.
        s.clear_logs();
        t += time(per_round, &mut typed).await?;
        s.clear_logs();
        r += time(per_round, &mut raw).await?;
    }
    Ok((t, r))
}

fn per_second(n: usize, d: Duration) -> f64 {
    round(n as f64 / d.as_secs_f64(), 0)
}

/// Adds one comparison's figures and goal.
fn report(
    s: &mut Section,
    keys: [&'static str; 4],
    labels: [&'static str; 4],
    n: usize,
    typed: Duration,
    raw: Duration,
) {
    let ratio = round(typed.as_secs_f64() / raw.as_secs_f64(), 3);
    s.figure(keys[0], labels[0], per_second(n, typed), "req/s");
    s.figure(keys[1], labels[1], per_second(n, raw), "req/s");
    s.figure(keys[2], labels[2], ms(typed), "ms");
    s.figure(keys[3], labels[3], ratio, "");
    s.goal(format!("{}: time typed / raw ≤ 1.05", labels[3]), ratio <= 1.05);
}

/// Part 3 with `n` calls per side and service.
pub(crate) async fn overhead(n: usize) -> anyhow::Result<Section> {
    let s = Sandboxes::start().await?;
    let http = reqwest::Client::new();

    // Auth0: GET /api/v2/clients/{id}.
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
    let (typed, raw) = compare(
        &s,
        n,
        || async {
            black_box(auth0.clients().get(&client_id).await?);
            Ok(())
        },
        || async {
            let response = http
                .get(&url)
                .bearer_auth(&token)
                .header(ACCEPT, "application/json")
                .send();
            black_box(response.await?.error_for_status()?.json::<Value>().await?);
            Ok(())
        },
    )
    .await?;

    // Konnect: GET /v2/dcr-providers/{id}, of the provider a converge creates.
    let applied = Workflow::new(s.config(), MemoryStore::new())?.converge().await?;
    let konnect = s.konnect.client_builder().http_client(http.clone()).build()?;
    let provider = applied.provider.id;
    let url = format!("{}/v2/dcr-providers/{provider}", s.konnect.uri());
    let konnect_token = s.konnect.token();
    let (k_typed, k_raw) = compare(
        &s,
        n,
        || async {
            black_box(konnect.dcr_providers().get(&provider).await?);
            Ok(())
        },
        || async {
            let response = http
                .get(&url)
                .bearer_auth(konnect_token.expose_secret())
                .header(ACCEPT, "application/json")
                .send();
            black_box(response.await?.error_for_status()?.json::<Value>().await?);
            Ok(())
        },
    )
    .await?;

    let total = n.div_ceil(ROUNDS) * ROUNDS;
    let mut r = Section::new(
        "client_overhead",
        "3. Client overhead against raw reqwest + serde_json::Value",
    );
    r.figure("calls", "calls per side", total, "");
    report(
        &mut r,
        ["auth0_typed_rps", "auth0_raw_rps", "auth0_typed_ms", "auth0_ratio"],
        [
            "auth0-mgmt GET /api/v2/clients/{id}",
            "raw reqwest, same request",
            "auth0-mgmt total time",
            "Auth0 typed / raw",
        ],
        total,
        typed,
        raw,
    );
    report(
        &mut r,
        [
            "konnect_typed_rps",
            "konnect_raw_rps",
            "konnect_typed_ms",
            "konnect_ratio",
        ],
        [
            "konnect-appauth GET /v2/dcr-providers/{id}",
            "raw reqwest, same request",
            "konnect-appauth total time",
            "Konnect typed / raw",
        ],
        total,
        k_typed,
        k_raw,
    );
    Ok(r)
}
