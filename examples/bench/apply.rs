//! Parts 1 and 2: a cold apply against empty sandboxes, and a warm one with nothing to
//! change, counted in requests and tokens and timed with and without injected latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use dcr_workflow::Workflow;
use dcr_workflow::sandbox::Sandboxes;
use dcr_workflow::store::{MemoryStore, SecretStore};

use crate::measure::Traffic;
use crate::report::{Section, ms, round};

/// The latency injected on every answer of both sandboxes for the "slow network" runs.
pub(crate) const LATENCY: Duration = Duration::from_millis(50);

/// The requests of a cold apply that must follow one another whatever the client does:
/// a token before any Management API read; a lookup before deciding to create (that is
/// what makes a re-run safe); the admin application before the provider that holds its
/// credentials; the provider before the strategy that names it; the strategy before the
/// publication that applies it. Everything else can overlap with these.
const COLD_CRITICAL_PATH: [(&str, &str); 6] = [
    ("POST", "/oauth/token"),
    ("GET", "/api/v2/clients"),
    ("POST", "/api/v2/clients"),
    ("POST", "/v2/dcr-providers"),
    ("POST", "/v2/application-auth-strategies"),
    ("PUT", "/v3/apis/{apiId}/publications/{portalId}"),
];

/// A cold apply's figures.
struct Cold {
    traffic: Traffic,
    wall: Duration,
    /// Every request of the critical path was sent.
    path_seen: bool,
}

fn set_latency(s: &Sandboxes, latency: Option<Duration>) {
    s.auth0.set_latency(latency);
    s.konnect.set_latency(latency);
}

/// `plan()` + `apply()` on fresh sandboxes.
async fn cold_once(latency: Option<Duration>) -> anyhow::Result<Cold> {
    let s = Sandboxes::start().await?;
    set_latency(&s, latency);
    let workflow = Workflow::new(s.config(), MemoryStore::new())?;
    let started = Instant::now();
    workflow.converge().await.context("cold apply")?;
    let wall = started.elapsed();
    let log: Vec<(String, &'static str)> = s
        .auth0
        .requests()
        .into_iter()
        .chain(s.konnect.requests())
        .map(|r| (r.method, r.route))
        .collect();
    let path_seen = COLD_CRITICAL_PATH
        .iter()
        .all(|(m, r)| log.iter().any(|(lm, lr)| lm == m && lr == r));
    Ok(Cold {
        traffic: Traffic::of(&s),
        wall,
        path_seen,
    })
}

fn median(mut walls: Vec<Duration>) -> Duration {
    walls.sort();
    walls[walls.len() / 2]
}

/// A cold apply against a tenant that already holds `clients` applications: the admin
/// application is looked up by name, which reads every page once (later runs find it
/// through the DCR provider in one request).
async fn cold_on_busy_tenant(clients: usize) -> anyhow::Result<(Traffic, Duration)> {
    let s = Sandboxes::start().await?;
    crate::seed::konnect_clients(&s, clients, |i| format!("app-{i}"))?;
    let workflow = Workflow::new(s.config(), MemoryStore::new())?;
    let started = Instant::now();
    workflow.converge().await.context("cold apply on a busy tenant")?;
    Ok((Traffic::of(&s), started.elapsed()))
}

/// Part 1. The wall times are medians of `runs` runs, each on fresh sandboxes; the busy
/// tenant holds `tenant_clients` applications.
pub(crate) async fn cold(runs: usize, tenant_clients: usize) -> anyhow::Result<Section> {
    let mut fast = Vec::new();
    let mut slow = Vec::new();
    let mut first = None;
    for _ in 0..runs {
        let run = cold_once(None).await?;
        fast.push(run.wall);
        first.get_or_insert((run.traffic, run.path_seen));
        slow.push(cold_once(Some(LATENCY)).await?.wall);
    }
    let (traffic, path_seen) = first.context("no run")?;
    let (fast, slow) = (median(fast), median(slow));
    let path = COLD_CRITICAL_PATH.len() as u32;
    let bound = LATENCY * path;
    let ratio = round(slow.as_secs_f64() / bound.as_secs_f64(), 2);

    let mut s = Section::new("cold_apply", "1. Cold apply: plan + apply on empty sandboxes");
    s.figure("writes", "write requests", traffic.writes, "");
    s.figure("reads", "read requests", traffic.reads, "");
    s.figure("tokens", "tokens fetched", traffic.tokens, "");
    s.figure("wall_ms", "wall, no added latency", ms(fast), "ms");
    s.figure("wall_ms_50ms_latency", "wall, 50 ms per request", ms(slow), "ms");
    s.figure("critical_path_requests", "critical path (requests)", path, "");
    s.figure("critical_path_ms", "critical path × 50 ms", ms(bound), "ms");
    s.figure("ratio", "wall / critical path", ratio, "");
    s.figure("runs", "runs (median)", runs, "");
    let (busy, busy_wall) = cold_on_busy_tenant(tenant_clients).await?;
    s.figure(
        "busy_tenant_clients",
        "busy tenant: applications already there",
        tenant_clients,
        "",
    );
    s.figure("busy_tenant_reads", "busy tenant: read requests", busy.reads, "");
    s.figure(
        "busy_tenant_wall_ms",
        "busy tenant: wall, no added latency",
        ms(busy_wall),
        "ms",
    );
    s.goal("wall / (critical path × latency) ≤ 1.2", ratio <= 1.2);
    s.must("every request of the critical path was sent", path_seen);
    Ok(s)
}

/// Part 2: an apply with nothing to change, in the same process as the cold one (the token
/// is cached) and in a "new process" (new clients, same secret store).
pub(crate) async fn warm() -> anyhow::Result<Section> {
    let s = Sandboxes::start().await?;
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let build = || Workflow::builder(s.config()).shared_store(store.clone()).build();
    let workflow = build()?;
    workflow.converge().await.context("cold apply")?;

    s.clear_logs();
    let started = Instant::now();
    let plan = workflow.plan().await?;
    workflow.apply(&plan).await?;
    let same_wall = started.elapsed();
    let same = Traffic::of(&s);

    s.clear_logs();
    let fresh = build()?;
    let started = Instant::now();
    let plan_fresh = fresh.plan().await?;
    fresh.apply(&plan_fresh).await?;
    let new_wall = started.elapsed();
    let new = Traffic::of(&s);

    set_latency(&s, Some(LATENCY));
    let slow = build()?;
    let started = Instant::now();
    slow.converge().await?;
    let slow_wall = started.elapsed();

    let mut r = Section::new("warm_apply", "2. Warm apply: plan + apply with nothing to change");
    r.figure("writes", "write requests", same.writes + new.writes, "");
    r.figure("requests_same_process", "requests, same process", same.total(), "");
    r.figure("tokens_same_process", "tokens fetched, same process", same.tokens, "");
    r.figure("requests_new_process", "requests, new process", new.total(), "");
    r.figure("tokens_new_process", "tokens fetched, new process", new.tokens, "");
    r.figure("wall_ms", "wall, same process", ms(same_wall), "ms");
    r.figure("wall_ms_new_process", "wall, new process", ms(new_wall), "ms");
    r.figure(
        "wall_ms_50ms_latency",
        "wall, new process, 50 ms per request",
        ms(slow_wall),
        "ms",
    );
    r.must(
        "0 write requests",
        same.writes + new.writes == 0 && plan.is_empty() && plan_fresh.is_empty(),
    );
    r.goal("≤ 1 token per process", same.tokens == 0 && new.tokens <= 1);
    Ok(r)
}
