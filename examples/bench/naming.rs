//! Part 9 (issue 17): naming. The rename pass over applications Konnect registered, some
//! wrongly named: its requests against pages plus one write per rename, its time and
//! memory, a second run's writes; the same under the Auth0 Free plan's limits; and what
//! the naming Action's apply costs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use dcr_sandbox::auth0::{RateLimits, Tier};
use dcr_workflow::sandbox::Sandboxes;
use dcr_workflow::store::{MemoryStore, SecretStore};
use dcr_workflow::{NameFacts, NameTemplate, RenameOptions, RenameReport, Workflow};
use serde_json::json;

use crate::apply::LATENCY;
use crate::measure::{Peak, Traffic};
use crate::report::{Section, kib, ms, secs};
use crate::seed;

const TEMPLATE: &str = "{application_name} ({developer_id})";
/// Renames in flight at once (`RENAMES_IN_FLIGHT` in the workflow).
const IN_FLIGHT: u32 = 8;

/// Sandboxes with the workflow applied and `apps` applications Konnect registered, the
/// first `wrong` of every ten in `wrong_per_ten` wrongly named.
async fn portal(apps: usize, wrong_per_ten: usize, plan: Option<&str>) -> anyhow::Result<(Sandboxes, Workflow)> {
    let s = Sandboxes::start().await?;
    let mut config = s.config();
    config.naming.template = Some(TEMPLATE.into());
    config.auth0.plan = plan.map(str::to_owned);
    let workflow = Workflow::new(config, MemoryStore::new())?;
    let applied = workflow.converge().await?;
    let template = NameTemplate::parse(TEMPLATE).map_err(anyhow::Error::msg)?;
    let (portal, developer, org) = (s.konnect.portal_id(), s.konnect.developer_id(), s.konnect.org_id());
    let mut clients = Vec::with_capacity(apps);
    for i in 0..apps {
        let application = format!("app-{i}");
        // seed::applications names the i-th application "portal app {i}".
        let app_name = format!("portal app {i}");
        let right = template
            .render(
                &NameFacts::new()
                    .metadata("konnect_developer_id", &developer)
                    .application_name(&app_name),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let name = if i % 10 < wrong_per_ten { app_name } else { right };
        let client = s
            .auth0
            .insert_client(json!({
                "name": name,
                "app_type": "non_interactive",
                "grant_types": ["client_credentials"],
                "client_metadata": {
                    "konnect_portal_id": portal, "konnect_developer_id": developer,
                    "konnect_org_id": org, "konnect_application_id": application,
                }
            }))
            .map_err(|e| anyhow::anyhow!("seeding client {i}: {e}"))?;
        clients.push(client["client_id"].as_str().context("client_id")?.to_owned());
    }
    seed::applications(&s, &applied.strategy.id, clients)?;
    Ok((s, workflow))
}

fn pages(s: &Sandboxes) -> (usize, usize) {
    (
        s.auth0.request_count("GET", "/api/v2/clients"),
        s.konnect.request_count("GET", "/v3/portals/{portalId}/applications"),
    )
}

async fn timed(workflow: &Workflow) -> anyhow::Result<(Duration, RenameReport)> {
    let started = Instant::now();
    let report = workflow.rename(&RenameOptions::new()).await?;
    Ok((started.elapsed(), report))
}

pub(crate) async fn naming(apps: usize, free_apps: usize) -> anyhow::Result<Section> {
    let wrong = apps * 3 / 10;
    let mut r = Section::new("naming", "9. Naming: the rename pass and the naming Action");

    // The rename pass, no latency.
    let (s, workflow) = portal(apps, 3, None).await?;
    s.clear_logs();
    let peak = Peak::start();
    let (wall, report) = timed(&workflow).await?;
    let peak = peak.bytes();
    let traffic = Traffic::of(&s);
    let (client_pages, app_pages) = pages(&s);
    let patches = s.auth0.request_count("PATCH", "/api/v2/clients/{id}");
    r.figure("applications", "applications Konnect registered", apps, "");
    r.figure("wrong", "of them wrongly named", wrong, "");
    r.figure("renamed", "renamed", report.renamed.len(), "");
    r.figure("client_pages", "Auth0 client pages read", client_pages, "");
    r.figure("application_pages", "portal application pages read", app_pages, "");
    r.figure("writes", "writes (PATCH /api/v2/clients/{id})", patches, "");
    r.figure("requests", "requests, tokens included", traffic.total(), "");
    r.figure("wall_ms", "wall", ms(wall), "ms");
    r.figure("peak_kib", "peak heap", kib(peak), "KiB");
    r.must(
        format!("renames exactly the {wrong} wrongly named"),
        report.renamed.len() == wrong && report.unchanged == apps - wrong,
    );
    r.must(
        "requests: the pages plus one write per rename (and one token)",
        traffic.total() == client_pages + app_pages + wrong + traffic.tokens && patches == wrong,
    );
    s.clear_logs();
    let again = workflow.rename(&RenameOptions::new()).await?;
    r.figure("second_run_writes", "second run: writes", s.writes(), "");
    r.must("a second run writes nothing", s.writes() == 0 && again.is_empty());
    drop(s);

    // At 50 ms per answer: the walks overlap, the renames go 8 at a time.
    let (s, workflow) = portal(apps, 3, None).await?;
    s.auth0.set_latency(Some(LATENCY));
    s.konnect.set_latency(Some(LATENCY));
    s.clear_logs();
    let (slow, _) = timed(&workflow).await?;
    let (client_pages, app_pages) = pages(&s);
    let bound = LATENCY * (client_pages.max(app_pages) as u32 + (wrong as u32).div_ceil(IN_FLIGHT));
    r.figure("slow_wall_ms", "at 50 ms per answer: wall", ms(slow), "ms");
    r.figure(
        "slow_bound_ms",
        "at 50 ms per answer: the longer walk + renames / 8, × 50 ms",
        ms(bound),
        "ms",
    );
    r.goal(
        "at 50 ms per answer, within 1.3 × (the longer walk + renames / 8)",
        slow.as_secs_f64() <= bound.as_secs_f64() * 1.3,
    );
    drop(s);

    // Under the Free plan's limits (2 per second): paced, not refused.
    let free_wrong = free_apps * 3 / 10;
    let (s, workflow) = portal(free_apps, 3, Some("free")).await?;
    s.auth0.set_rate_limits(&RateLimits::tier(Tier::Free));
    s.clear_logs();
    let (free, report) = timed(&workflow).await?;
    let traffic = Traffic::of(&s);
    r.figure("free_applications", "Free plan: applications", free_apps, "");
    r.figure("free_renamed", "Free plan: renamed", report.renamed.len(), "");
    r.figure("free_wall_s", "Free plan: wall", secs(free), "s");
    r.figure("free_429", "Free plan: 429 answers", traffic.throttled, "");
    r.must(
        "Free plan: every wrong name renamed",
        report.renamed.len() == free_wrong,
    );
    r.goal("Free plan: no 429 (the gate paces)", traffic.throttled == 0);
    drop(s);

    // The naming Action: apply on a converged setup, then again.
    let s = Sandboxes::start().await?;
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    Workflow::builder(s.config())
        .shared_store(store.clone())
        .build()?
        .converge()
        .await?;
    let mut config = s.config();
    config.naming.template = Some("{developer_id}/{application_id}".into());
    config.naming.action = true;
    let build = || Workflow::builder(config.clone()).shared_store(store.clone()).build();
    s.clear_logs();
    build()?.converge().await?;
    let first = Traffic::of(&s);
    s.clear_logs();
    build()?.converge().await?;
    let second = Traffic::of(&s);
    r.figure(
        "action_writes",
        "Action apply: writes (create, deploy, bind)",
        first.writes,
        "",
    );
    r.figure("action_requests", "Action apply: requests", first.total(), "");
    r.figure(
        "action_second_writes",
        "Action, second apply: writes",
        second.writes,
        "",
    );
    r.figure(
        "action_second_requests",
        "Action, second apply: requests",
        second.total(),
        "",
    );
    r.must("the Action's second apply writes nothing", second.writes == 0);
    Ok(r)
}
