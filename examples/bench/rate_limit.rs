//! Part 5: the workflow's audit and a batch of client updates under a tight Auth0 rate
//! limit, compared with the best any client could do (requests / rate).

use std::time::Instant;

use auth0_mgmt::ClientId;
use auth0_mgmt::resources::clients::ClientUpdate;
use dcr_sandbox::auth0::RateLimit;
use futures::{StreamExt, TryStreamExt};

use crate::measure::Traffic;
use crate::report::{Section, round, secs};
use crate::seed;

/// Requests per second the tenant allows, and its burst.
const RATE: u32 = 10;
/// Updates in flight at once, as a tool that updates many clients would send them.
const CONCURRENCY: usize = 8;

/// Part 5 over `clients` clients (and as many applications) with `updates` updates.
pub(crate) async fn rate_limit(clients: usize, updates: usize) -> anyhow::Result<Section> {
    let seed::LinkedPortal {
        s,
        workflow,
        clients: ids,
        ..
    } = seed::linked_portal(clients).await?;
    s.auth0.set_rate_limit(RateLimit::per_second(RATE).burst(RATE));
    s.clear_logs();

    let started = Instant::now();
    let auth0 = workflow.auth0().clone();
    let update = ClientUpdate::new().description("Updated under a rate limit");
    let batch = futures::stream::iter(ids.iter().take(updates))
        .map(|id| {
            let (auth0, update) = (&auth0, &update);
            async move { auth0.clients().update(&ClientId::new(id.clone()), update).await }
        })
        .buffer_unordered(CONCURRENCY)
        .try_fold(0usize, |n, _| async move { Ok(n + 1) });
    let (audit, updated) = tokio::join!(workflow.audit(), batch);
    let wall = started.elapsed();
    let (audit, updated) = (audit?, updated?);

    let traffic = Traffic::of(&s);
    // The token endpoint is outside the Management API's bucket.
    let limited = traffic.auth0 - traffic.tokens;
    let ideal = limited as f64 / f64::from(RATE);
    let ratio = round(wall.as_secs_f64() / ideal, 2);
    let share = round(100.0 * traffic.throttled as f64 / limited.max(1) as f64, 2);

    let mut r = Section::new(
        "rate_limit",
        "5. Under a rate limit of 10 requests/s, burst 10: audit + client updates",
    );
    r.figure("clients", "clients audited", audit.auth0_clients, "");
    r.figure("updates", "client updates (8 in flight)", updated, "");
    r.figure("requests", "Management API requests", limited, "");
    r.figure("wall_s", "wall", secs(wall), "s");
    r.figure("ideal_s", "ideal (requests / rate)", round(ideal, 2), "s");
    r.figure("ratio", "wall / ideal", ratio, "");
    r.figure("throttled", "429 answers", traffic.throttled, "");
    r.figure("throttled_pct", "429 share of requests", share, "%");
    r.goal("wall / ideal ≤ 1.1", ratio <= 1.1);
    r.goal("429s ≤ 1% of requests", share <= 1.0);
    r.must(
        "the audit saw every client and is clean; every update landed",
        audit.auth0_clients >= clients && audit.is_clean() && updated == updates.min(ids.len()),
    );
    Ok(r)
}
