//! Part 5b and 5c: cold apply, warm apply and an audit under the rate limits Auth0
//! documents for its Free and Essentials plans, against the time those buckets force.

use std::time::{Duration, Instant};

use dcr_sandbox::auth0::{RateLimits, Tier};
use dcr_workflow::Workflow;
use dcr_workflow::sandbox::Sandboxes;
use dcr_workflow::store::MemoryStore;

use crate::report::{Section, round, secs};
use crate::seed;

/// One scenario's figures.
struct Run {
    requests: usize,
    throttled: usize,
    wall: Duration,
    ideal: f64,
}

/// The least time `limits` force on the Management API requests the Auth0 sandbox logged:
/// each bucket starts full (burst) and refills at its rate, and the buckets run in
/// parallel, so the slowest bucket decides.
fn ideal(s: &Sandboxes, limits: &RateLimits) -> (usize, f64) {
    let requests: Vec<_> = s
        .auth0
        .requests()
        .into_iter()
        .filter(|r| r.route.starts_with("/api/v2/"))
        .collect();
    let forced = |n: usize, limit: dcr_sandbox::auth0::RateLimit| {
        (n as f64 - f64::from(limit.burst)).max(0.0) / limit.per_second
    };
    let mut worst = limits.global.map_or(0.0, |g| forced(requests.len(), g));
    let mut other = 0;
    let mut own = vec![0usize; limits.endpoints.len()];
    for r in &requests {
        match limits
            .endpoints
            .iter()
            .position(|e| e.method == r.method && e.routes.contains(&r.route))
        {
            Some(i) => own[i] += 1,
            None => other += 1,
        }
    }
    for (e, n) in limits.endpoints.iter().zip(own) {
        worst = worst.max(forced(n, e.limit));
    }
    if let Some(limit) = limits.other {
        worst = worst.max(forced(other, limit));
    }
    (requests.len(), worst)
}

/// Time for every bucket to be full again.
fn refill(limits: &RateLimits) -> Duration {
    let all = limits
        .global
        .iter()
        .chain(limits.endpoints.iter().map(|e| &e.limit))
        .chain(limits.other.iter());
    let slowest = all.map(|l| f64::from(l.burst) / l.per_second).fold(0.0, f64::max);
    Duration::from_secs_f64(slowest + 1.0)
}

async fn measure(
    s: &Sandboxes,
    limits: &RateLimits,
    work: impl Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<Run> {
    s.clear_logs();
    let started = Instant::now();
    work.await?;
    let wall = started.elapsed();
    let throttled = s.auth0.requests().iter().filter(|r| r.status == 429).count();
    let (requests, ideal) = ideal(s, limits);
    Ok(Run {
        requests,
        throttled,
        wall,
        ideal,
    })
}

/// Part 5b or 5c: the plan's limits; an audit over `applications` applications.
pub(crate) async fn plan(tier: Tier, applications: usize) -> anyhow::Result<Section> {
    let limits = RateLimits::tier(tier);
    let (part, title) = match tier {
        Tier::Free => (
            "plan_free",
            "5b. Auth0 Free plan limits: Management API 2 burst / 2 per second, token endpoint 30 / 30",
        ),
        _ => (
            "plan_essentials",
            "5c. Auth0 Essentials plan limits: read clients 5 burst / 100 per min, all other 10 / 150 per min",
        ),
    };
    let s = Sandboxes::start().await?;
    s.auth0.set_rate_limits(&limits);
    // The user states the tenant's plan, so the client knows its documented refill rate.
    let plan = match tier {
        Tier::Free => "free",
        _ => "essentials",
    };
    let config = || {
        let mut c = s.config();
        c.auth0.plan = Some(plan.to_owned());
        c
    };
    // One secrets file for both runs, as on one machine.
    let store: std::sync::Arc<dyn dcr_workflow::store::SecretStore> = std::sync::Arc::new(MemoryStore::new());
    let cold = {
        let workflow = Workflow::builder(config()).shared_store(store.clone()).build()?;
        measure(&s, &limits, async {
            workflow.converge().await.map(drop).map_err(Into::into)
        })
        .await?
    };
    tokio::time::sleep(refill(&limits)).await;
    // A new process: a new client that knows nothing of the buckets yet.
    let warm = {
        let workflow = Workflow::builder(config()).shared_store(store.clone()).build()?;
        measure(&s, &limits, async {
            let plan = workflow.plan().await?;
            workflow.apply(&plan).await?;
            Ok(())
        })
        .await?
    };
    drop(s);
    let linked = seed::linked_portal(applications).await?;
    linked.s.auth0.set_rate_limits(&limits);
    let mut audit_config = linked.s.config();
    audit_config.auth0.plan = Some(plan.to_owned());
    let workflow = Workflow::new(audit_config, MemoryStore::new())?;
    let mut clean = false;
    let audit = measure(&linked.s, &limits, async {
        clean = workflow.audit().await?.is_clean();
        Ok(())
    })
    .await?;

    let mut r = Section::new(part, title);
    let mut all_met = true;
    const KEYS: [[&str; 5]; 3] = [
        [
            "cold_requests",
            "cold_throttled",
            "cold_wall_s",
            "cold_ideal_s",
            "cold_ratio",
        ],
        [
            "warm_requests",
            "warm_throttled",
            "warm_wall_s",
            "warm_ideal_s",
            "warm_ratio",
        ],
        [
            "audit_requests",
            "audit_throttled",
            "audit_wall_s",
            "audit_ideal_s",
            "audit_ratio",
        ],
    ];
    let runs = [
        ("cold apply", &cold),
        ("warm apply, new process", &warm),
        ("audit of the applications", &audit),
    ];
    for ([requests, throttled, wall, ideal, ratio_key], (label, run)) in KEYS.into_iter().zip(runs) {
        let ratio = (run.ideal >= 1.0).then(|| round(run.wall.as_secs_f64() / run.ideal, 2));
        r.figure(requests, format!("{label}: Management API requests"), run.requests, "");
        r.figure(throttled, format!("{label}: 429 answers"), run.throttled, "");
        r.figure(wall, format!("{label}: wall"), secs(run.wall), "s");
        r.figure(
            ideal,
            format!("{label}: ideal (what the buckets force)"),
            round(run.ideal, 2),
            "s",
        );
        match ratio {
            Some(ratio) => {
                r.figure(ratio_key, format!("{label}: wall / ideal"), ratio, "");
                all_met &= ratio <= 1.1;
            }
            None => r.figure(
                ratio_key,
                format!("{label}: wall / ideal"),
                "— (the buckets force under 1 s)",
                "",
            ),
        }
        all_met &= run.throttled == 0;
    }
    r.figure("applications", "applications audited", applications, "");
    r.goal("wall ≤ 1.1 × ideal and 0 429s in each run", all_met);
    r.must("the audit is clean", clean);
    Ok(r)
}
