//! Part 8 (issue 16): `verify` as the guide's developer, on the sandboxes at 50 ms per
//! answer (the Konnect sandbox's DCR calls and its gateway's calls to the issuer pay it
//! too), against the requests that must follow one another:
//!
//! | link | requests in a row |
//! |---|---|
//! | the provider and strategy (read together) | 1 |
//! | Konnect's provider check (Konnect, then its token request to Auth0); the sign-in goes meanwhile | 2 |
//! | the application (Konnect, then its Auth0 client and grant, with the check's token) | 3 |
//! | the client's token (the JWKS and the metadata check meanwhile) | 1 |
//! | the negative check (gateway, then the issuer's discovery document and JWKS) | 3 |
//! | the registration | 1 |
//! | its approval | 1 |
//! | Basic through the gateway (gateway, then its token exchange); Bearer meanwhile | 2 |
//! | the application's deletion (Konnect, then the Auth0 client's) | 2 |
//! | the Auth0 client is gone (the sign-out meanwhile) | 1 |
//!
//! 17 in all.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use dcr_workflow::sandbox::Sandboxes;
use dcr_workflow::store::{MemoryStore, SecretStore};
use dcr_workflow::{VerifyMode, VerifyOptions, Workflow};

use crate::apply::LATENCY;
use crate::measure::Traffic;
use crate::report::{Section, ms, round};

/// Requests of a developer-mode verify that must follow one another (see above).
const CRITICAL_PATH: u32 = 17;

/// One verify on converged sandboxes, from a fresh workflow (a new process knows nothing
/// of the tenant's bucket); returns its wall time and traffic.
async fn run(latency: bool) -> anyhow::Result<(std::time::Duration, Traffic)> {
    let s = Sandboxes::start().await?;
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let build = || Workflow::builder(s.config()).shared_store(store.clone()).build();
    build()?.converge().await.context("apply")?;
    if latency {
        s.auth0.set_latency(Some(LATENCY));
        s.konnect.set_latency(Some(LATENCY));
    }
    s.clear_logs();
    let workflow = build()?;
    let started = Instant::now();
    let report = workflow
        .verify(&VerifyOptions::new().mode(VerifyMode::Developer))
        .await?;
    let wall = started.elapsed();
    anyhow::ensure!(report.is_success(), "verify failed:\n{report}");
    Ok((wall, Traffic::of(&s)))
}

pub(crate) async fn developer_verify() -> anyhow::Result<Section> {
    let (fast, traffic) = run(false).await?;
    let (slow, _) = run(true).await?;
    let bound = LATENCY * CRITICAL_PATH;
    let ratio = round(slow.as_secs_f64() / bound.as_secs_f64(), 2);
    let mut s = Section::new(
        "developer_verify",
        "8. Verify as a developer: sign-in, application, registration, approval, gateway",
    );
    s.figure(
        "requests",
        "requests (both sandboxes, gateway included)",
        traffic.total(),
        "",
    );
    s.figure(
        "auth0_requests",
        "of which to Auth0 (Konnect's and the gateway's included)",
        traffic.auth0,
        "",
    );
    s.figure(
        "konnect_requests",
        "of which to Konnect (developer API and gateway included)",
        traffic.konnect,
        "",
    );
    s.figure("writes", "write requests", traffic.writes, "");
    s.figure("wall_ms", "wall, no latency", ms(fast), "ms");
    s.figure("wall_ms_50ms_latency", "wall, 50 ms per request", ms(slow), "ms");
    s.figure("critical_path_ms", "critical path × 50 ms", ms(bound), "ms");
    s.figure("ratio", "wall / critical path", ratio, "");
    s.goal("wall / (critical path × latency) ≤ 1.2", ratio <= 1.2);
    Ok(s)
}
