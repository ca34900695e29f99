//! Part 6: the workflow's audit over a large portal with planted orphans on both sides.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::apply::LATENCY;
use crate::measure::{Peak, Traffic};
use crate::report::{Section, kib, ms};
use crate::seed;

/// An audit of `apps` linked applications with 50 ms added to every answer: its wall
/// time against one walk of the longer side (the two sides are walked at once).
async fn audit_with_latency(apps: usize) -> anyhow::Result<(Duration, Duration)> {
    let seed::LinkedPortal { s, workflow, .. } = seed::linked_portal(apps).await?;
    s.auth0.set_latency(Some(LATENCY));
    s.konnect.set_latency(Some(LATENCY));
    s.clear_logs();
    let started = Instant::now();
    workflow.audit().await?;
    let wall = started.elapsed();
    let pages = s
        .auth0
        .request_count("GET", "/api/v2/clients")
        .max(s.konnect.request_count("GET", "/v3/portals/{portalId}/applications"));
    Ok((wall, LATENCY * pages as u32))
}

/// Part 6: `apps` applications, `orphans` planted (half whose application is gone, half
/// whose Auth0 client is gone); then a smaller audit, `slow_apps`, at 50 ms per answer.
pub(crate) async fn audit(apps: usize, orphans: usize, slow_apps: usize) -> anyhow::Result<Section> {
    let orphan_clients = orphans / 2;
    let orphan_apps = orphans - orphan_clients;

    // Linked pairs, then break some links the way a restore or a manual delete would.
    let seed::LinkedPortal {
        s,
        workflow,
        clients,
        applications: app_ids,
    } = seed::linked_portal(apps + orphan_clients).await?;
    let mut planted_clients = BTreeSet::new();
    for (app, client) in app_ids.iter().zip(&clients).take(orphan_clients) {
        s.konnect.remove_application(app);
        planted_clients.insert(client.clone());
    }
    let mut planted_apps = BTreeSet::new();
    for (app, client) in app_ids
        .iter()
        .zip(&clients)
        .skip(orphan_clients)
        .step_by(7)
        .take(orphan_apps)
    {
        s.auth0.remove_client(client);
        planted_apps.insert(app.clone());
    }

    s.clear_logs();
    let peak = Peak::start();
    let started = Instant::now();
    let report = workflow.audit().await?;
    let wall = started.elapsed();
    let peak = peak.bytes();
    let traffic = Traffic::of(&s);

    let found_clients: BTreeSet<String> = report.orphan_clients.iter().map(|o| o.client_id.clone()).collect();
    let found_apps: BTreeSet<String> = report
        .orphan_applications
        .iter()
        .map(|o| o.application_id.clone())
        .collect();
    let found = found_clients.len() + found_apps.len();

    let mut r = Section::new(
        "audit",
        "6. Audit at scale: applications and Auth0 clients, orphans planted",
    );
    r.figure("applications", "applications", report.applications, "");
    r.figure("auth0_clients", "Auth0 clients", report.auth0_clients, "");
    r.figure("requests", "requests (Konnect + Auth0)", traffic.total(), "");
    r.figure("wall_ms", "wall", ms(wall), "ms");
    r.figure("peak_kib", "peak heap", kib(peak), "KiB");
    r.figure("orphans_planted", "orphans planted", orphans, "");
    r.figure("orphans_found", "orphans found", found, "");
    let (slow, bound) = audit_with_latency(slow_apps).await?;
    r.figure("slow_applications", "at 50 ms per answer: applications", slow_apps, "");
    r.figure("slow_wall_ms", "at 50 ms per answer: wall", ms(slow), "ms");
    r.figure(
        "slow_longer_walk_ms",
        "at 50 ms per answer: longer side's pages × 50 ms",
        ms(bound),
        "ms",
    );
    r.must(
        format!("finds exactly the {orphans} planted orphans"),
        found_clients == planted_clients && found_apps == planted_apps,
    );
    Ok(r)
}
