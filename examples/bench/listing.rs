//! Part 4: streaming every Auth0 client and every portal application, at two sizes, to show
//! that memory stays flat (one page at a time) while requests grow with the count.

use dcr_workflow::sandbox::{Auth0SandboxClients as _, KonnectSandboxClients as _};
use std::time::{Duration, Instant};

use dcr_workflow::Workflow;
use dcr_workflow::sandbox::Sandboxes;
use dcr_workflow::store::MemoryStore;
use futures::TryStreamExt;
use konnect_appauth::MAX_PAGE_SIZE;

use crate::measure::Peak;
use crate::report::{Section, kib, ms, round};
use crate::seed;

/// One streamed listing.
struct Listed {
    items: usize,
    requests: usize,
    wall: Duration,
    peak: usize,
}

/// Streams all Auth0 clients of a tenant seeded with `n` Konnect-registered ones.
async fn auth0_clients(n: usize) -> anyhow::Result<Listed> {
    let s = Sandboxes::start().await?;
    seed::konnect_clients(&s, n, |i| format!("app-{i}"))?;
    let client = s.auth0.client()?;
    // Token and connection first, so both sizes measure the walk alone.
    client.clients().list().take(1).send().await?;
    s.clear_logs();
    let peak = Peak::start();
    let started = Instant::now();
    let items = client
        .clients()
        .list()
        .stream()
        .try_fold(0usize, |count, _client| async move { Ok(count + 1) })
        .await?;
    Ok(Listed {
        items,
        wall: started.elapsed(),
        peak: peak.bytes(),
        requests: s.auth0.request_count("GET", "/api/v2/clients"),
    })
}

/// Streams all applications of a portal seeded with `n`.
async fn konnect_applications(n: usize) -> anyhow::Result<Listed> {
    let s = Sandboxes::start().await?;
    let applied = Workflow::new(s.config(), MemoryStore::new())?.converge().await?;
    seed::applications(&s, &applied.strategy.id, (0..n).map(|i| format!("client-{i}")))?;
    let client = s.konnect.client()?;
    let apps = client.portal_applications(s.konnect.portal_id());
    apps.list().page_size(1).send().await?;
    s.clear_logs();
    let peak = Peak::start();
    let started = Instant::now();
    let items = apps
        .list()
        .page_size(MAX_PAGE_SIZE)
        .stream()
        .try_fold(0usize, |count, _app| async move { Ok(count + 1) })
        .await?;
    Ok(Listed {
        items,
        wall: started.elapsed(),
        peak: peak.bytes(),
        requests: s.konnect.request_count("GET", "/v3/portals/{portalId}/applications"),
    })
}

/// `[small, large]`.
fn pair<T: serde::Serialize>(small: T, large: T) -> serde_json::Value {
    serde_json::json!([small, large])
}

fn add(r: &mut Section, service: &'static str, keys: [&'static str; 4], small: &Listed, large: &Listed) {
    let growth = round(large.peak as f64 / small.peak.max(1) as f64, 2);
    let [items, requests, wall, peak] = keys;
    r.figure(items, format!("{service}: items"), pair(small.items, large.items), "");
    r.figure(
        requests,
        format!("{service}: requests"),
        pair(small.requests, large.requests),
        "",
    );
    r.figure(
        wall,
        format!("{service}: wall"),
        pair(ms(small.wall), ms(large.wall)),
        "ms",
    );
    r.figure(
        peak,
        format!("{service}: peak heap"),
        pair(kib(small.peak), kib(large.peak)),
        "KiB",
    );
    r.goal(
        format!("{service}: peak heap large / small ≤ 2 (it is {growth})"),
        growth <= 2.0,
    );
}

/// Part 4 at `small` and `large` items per service.
pub(crate) async fn listing(small: usize, large: usize) -> anyhow::Result<Section> {
    let a_small = auth0_clients(small).await?;
    let a_large = auth0_clients(large).await?;
    let k_small = konnect_applications(small).await?;
    let k_large = konnect_applications(large).await?;
    let mut r = Section::new("listing", "4. Listing at scale: stream every item, one page in memory");
    r.figure("sizes", "sizes [small, large]", serde_json::json!([small, large]), "");
    add(
        &mut r,
        "Auth0 clients",
        ["auth0_items", "auth0_requests", "auth0_wall_ms", "auth0_peak_kib"],
        &a_small,
        &a_large,
    );
    add(
        &mut r,
        "Konnect applications",
        [
            "konnect_items",
            "konnect_requests",
            "konnect_wall_ms",
            "konnect_peak_kib",
        ],
        &k_small,
        &k_large,
    );
    // The bootstrap application is one more client than seeded.
    r.must(
        "every seeded item streamed",
        a_small.items > small && a_large.items > large && k_small.items == small && k_large.items == large,
    );
    Ok(r)
}
