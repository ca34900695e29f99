//! Part 7 (issue 14): many publications. `apis` APIs, each published on two v3 portals,
//! and `products` API product versions on one classic portal (`[[konnect.publications]]`),
//! applied cold at 50 ms per answer against the critical path, then warm: no writes, and
//! requests bounded by list pages (one walk of the APIs, one list per portal), the same
//! for 5 APIs as for 50; a classic product costs one more list (its versions).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use dcr_workflow::sandbox::Sandboxes;
use dcr_workflow::store::{MemoryStore, SecretStore};
use dcr_workflow::{DcrConfig, PublicationSettings, Workflow};

use crate::apply::LATENCY;
use crate::measure::Traffic;
use crate::report::{Section, ms, round};

/// The requests of a cold apply that must follow one another (see `apply.rs`); the APIs
/// and all publications can be in flight at once, after the strategy.
const CRITICAL_PATH: u32 = 6;

fn config(s: &Sandboxes, apis: usize, products: usize) -> DcrConfig {
    let mut config = s.config();
    let first = s.konnect.portal_id().to_string();
    let second = konnect_appauth::PortalId::new(s.konnect.add_portal("partners")).to_string();
    let classic = konnect_appauth::PortalId::new(s.konnect.add_classic_portal("classic")).to_string();
    config.konnect.portal_id = String::new();
    config.konnect.api_name = None;
    config.konnect.publications = (0..apis)
        .flat_map(|i| {
            let name = format!("API {i:03}");
            [
                PublicationSettings::new(&first, &name),
                PublicationSettings::new(&second, &name),
            ]
        })
        .chain((0..products).map(|i| PublicationSettings::classic(&classic, format!("Product {i:03}"), "v1")))
        .collect();
    config
}

/// Cold then warm against fresh sandboxes with `latency`; returns the cold wall and the
/// traffic of both.
async fn run(apis: usize, products: usize, latency: bool) -> anyhow::Result<(std::time::Duration, Traffic, Traffic)> {
    let s = Sandboxes::start().await?;
    if latency {
        s.auth0.set_latency(Some(LATENCY));
        s.konnect.set_latency(Some(LATENCY));
    }
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let config = config(&s, apis, products);
    let build = || Workflow::builder(config.clone()).shared_store(store.clone()).build();
    let started = Instant::now();
    build()?.converge().await.context("cold apply")?;
    let wall = started.elapsed();
    let cold = Traffic::of(&s);
    s.clear_logs();
    let plan = build()?.plan().await?;
    anyhow::ensure!(plan.is_empty(), "the warm plan is not empty:\n{plan}");
    build()?.apply(&plan).await?;
    Ok((wall, cold, Traffic::of(&s)))
}

pub(crate) async fn publications(apis: usize, products: usize) -> anyhow::Result<Section> {
    let (_, cold, warm) = run(apis, products, false).await?;
    let (slow, _, _) = run(apis, products, true).await?;
    let (_, _, warm_few) = run(5, products, false).await?;
    let (_, _, warm_more_products) = run(apis, products * 2, false).await?;
    let bound = LATENCY * CRITICAL_PATH;
    let ratio = round(slow.as_secs_f64() / bound.as_secs_f64(), 2);
    let mut s = Section::new(
        "publications",
        "7. Many publications: APIs on 2 v3 portals, products on a classic portal",
    );
    s.figure("apis", "APIs (each on 2 v3 portals)", apis, "");
    s.figure("products", "API products (on 1 classic portal)", products, "");
    s.figure("publications", "publications", apis * 2 + products, "");
    s.figure("cold_writes", "cold: write requests", cold.writes, "");
    s.figure("cold_reads", "cold: read requests", cold.reads, "");
    s.figure("wall_ms_50ms_latency", "cold: wall, 50 ms per request", ms(slow), "ms");
    s.figure("critical_path_ms", "critical path × 50 ms", ms(bound), "ms");
    s.figure("ratio", "cold: wall / critical path", ratio, "");
    s.figure("warm_writes", "warm: write requests", warm.writes, "");
    s.figure("warm_requests", "warm: requests", warm.total(), "");
    s.figure(
        "warm_requests_5_apis",
        "warm: requests with 5 APIs",
        warm_few.total(),
        "",
    );
    s.figure(
        "warm_requests_more_products",
        "warm: requests with twice the products",
        warm_more_products.total(),
        "",
    );
    s.goal("cold: wall / (critical path × latency) ≤ 1.2", ratio <= 1.2);
    s.must("warm: 0 write requests", warm.writes == 0);
    s.must(
        "warm: requests independent of the number of v3 publications (up to a page)",
        warm.total() == warm_few.total(),
    );
    s.must(
        "warm: one more request per classic product (its versions), nothing more",
        warm_more_products.total() == warm.total() + products,
    );
    Ok(s)
}
