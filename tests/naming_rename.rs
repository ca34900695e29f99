//! The rename pass (`naming.template`): only the wrongly named applications Konnect
//! registered are renamed, in one walk plus one write each; a second run writes nothing;
//! an interrupted run is finished by the next.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use dcr_sandbox::auth0::Fault;
use dcr_tests::Sandboxes;
use dcr_workflow::store::MemoryStore;
use dcr_workflow::{NameFacts, NameTemplate, RenameOptions, Workflow};
use konnect_appauth::resources::portal_applications::{NewApplication, Owner};
use serde_json::json;

const TEMPLATE: &str = "{application_name} ({developer_id})";

/// A converged workflow with `n` applications Konnect registered on the portal, named
/// "app {i}"; every `right`-th one's Auth0 client already has the template's name.
/// Returns the workflow and the client ids.
async fn portal_with_apps(
    s: &Sandboxes,
    template: &str,
    n: usize,
    right: usize,
) -> anyhow::Result<(Workflow, Vec<String>)> {
    let mut config = s.config();
    config.naming.template = Some(template.into());
    let workflow = Workflow::builder(config)
        .shared_store(Arc::new(MemoryStore::new()))
        .build()?;
    let applied = workflow.converge().await?;
    let portal = s.konnect.portal_id();
    let developer = s.konnect.developer_id();
    let org = s.konnect.org_id();
    let parsed = NameTemplate::parse(template).unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let app_name = format!("app {i}");
        let app_id = format!("application-{i}");
        let right_name = parsed
            .render(
                &NameFacts::new()
                    .metadata("konnect_portal_id", &portal)
                    .metadata("konnect_developer_id", &developer)
                    .metadata("konnect_org_id", &org)
                    .metadata("konnect_application_id", &app_id)
                    .application_name(&app_name),
            )
            .unwrap();
        let client = s
            .auth0
            .insert_client(json!({
                "name": if i % right == 0 { right_name } else { app_name.clone() },
                "app_type": "non_interactive",
                "grant_types": ["client_credentials"],
                "client_metadata": {
                    "konnect_portal_id": portal,
                    "konnect_developer_id": developer,
                    "konnect_org_id": org,
                    "konnect_application_id": app_id,
                }
            }))
            .unwrap();
        let client_id = client["client_id"].as_str().unwrap().to_owned();
        let body = NewApplication::new(app_name, Owner::developer(developer.clone()))
            .auth_strategy(applied.strategy.id.clone())
            .dcr_client_id(client_id.clone());
        s.konnect
            .insert_application(&portal, serde_json::to_value(&body)?)
            .unwrap();
        ids.push(client_id);
    }
    Ok((workflow, ids))
}

fn name_of(s: &Sandboxes, client_id: &str) -> String {
    s.auth0.client_state(client_id).unwrap()["name"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn only_wrong_names_are_renamed_in_pages_plus_one_write_each_and_a_second_run_writes_nothing() {
    let s = Sandboxes::start().await.unwrap();
    // 250 applications (three pages each side), one in three already right.
    let (workflow, ids) = portal_with_apps(&s, TEMPLATE, 250, 3).await.unwrap();
    // Not Konnect's, and Konnect's for another portal: never touched.
    let other = s
        .auth0
        .insert_client(json!({"name": "billing", "client_metadata": {"konnect_portal_id": "elsewhere", "konnect_application_id": "x"}}))
        .unwrap();
    let other_id = other["client_id"].as_str().unwrap().to_owned();
    s.clear_logs();

    let plan = workflow.rename(&RenameOptions::new().dry_run(true)).await.unwrap();
    assert_eq!(s.writes(), 0, "a dry run writes nothing");
    assert_eq!((plan.renamed.len(), plan.unchanged), (166, 84), "{plan}");
    assert!(plan.to_string().contains("to rename"), "{plan}");

    s.clear_logs();
    let report = workflow.rename(&RenameOptions::new()).await.unwrap();
    assert_eq!(report.renamed, plan.renamed, "the dry run said what the run did");
    assert_eq!((report.konnect_clients, report.applications), (250, 250));
    let client_pages = s.auth0.request_count("GET", "/api/v2/clients");
    let app_pages = s.konnect.request_count("GET", "/v3/portals/{portalId}/applications");
    let patches = s.auth0.request_count("PATCH", "/api/v2/clients/{id}");
    assert_eq!(patches, 166, "one write per rename");
    // 252 clients (the admin application and `billing` too) in pages of 100, and 250
    // applications in pages of 100: at most one more page each to see the end.
    assert!(
        client_pages <= 4 && app_pages <= 4,
        "{client_pages} + {app_pages} pages"
    );
    let developer = s.konnect.developer_id();
    assert_eq!(name_of(&s, &ids[1]), format!("app 1 ({developer})"));
    assert_eq!(name_of(&s, &other_id), "billing");

    s.clear_logs();
    let again = workflow.rename(&RenameOptions::new()).await.unwrap();
    assert!(again.is_empty(), "{again}");
    assert_eq!(again.unchanged, 250);
    assert_eq!(s.writes(), 0, "a second run writes nothing");
}

#[tokio::test]
async fn a_template_of_ids_only_reads_no_portal_application() {
    let s = Sandboxes::start().await.unwrap();
    let (workflow, ids) = portal_with_apps(&s, "{portal_id}+{developer_id}+{application_id}", 30, 1_000)
        .await
        .unwrap();
    s.clear_logs();
    let report = workflow.rename(&RenameOptions::new()).await.unwrap();
    assert_eq!(report.renamed.len(), 29, "{report}"); // the first was seeded right
    assert_eq!(s.konnect.request_count("GET", "/v3/portals/{portalId}/applications"), 0);
    let expected = format!("{}+{}+application-5", s.konnect.portal_id(), s.konnect.developer_id());
    assert_eq!(name_of(&s, &ids[5]), expected);
}

#[tokio::test]
async fn a_rename_cut_short_is_finished_by_the_next_run_and_429s_are_waited_out() {
    let s = Sandboxes::start().await.unwrap();
    let (workflow, _) = portal_with_apps(&s, TEMPLATE, 40, 1_000).await.unwrap();
    s.clear_logs();
    // Throttled (429 with x-ratelimit-*), then a lost answer, then a failure that stays.
    s.auth0
        .inject(Fault::status(429).times(2).on("PATCH", "/api/v2/clients/"));
    s.auth0
        .inject(Fault::drop_after_processing().on("PATCH", "/api/v2/clients/"));
    s.auth0
        .inject(Fault::status(403).times(usize::MAX).on("PATCH", "/api/v2/clients/"));
    let cut = workflow.rename(&RenameOptions::new()).await;
    assert!(cut.is_err(), "a rename that cannot write fails: {cut:?}");
    s.auth0.clear_faults();

    let finished = workflow.rename(&RenameOptions::new()).await.unwrap();
    let developer = s.konnect.developer_id();
    let wrong = s
        .auth0
        .clients()
        .into_iter()
        .filter(|c| c["client_metadata"]["konnect_portal_id"].is_string())
        .filter(|c| !c["name"].as_str().unwrap().ends_with(&format!("({developer})")))
        .count();
    assert_eq!(wrong, 0, "every application is named after the second run");
    assert!(finished.renamed.len() <= 39, "{finished}");
    s.clear_logs();
    assert!(workflow.rename(&RenameOptions::new()).await.unwrap().is_empty());
    assert_eq!(s.writes(), 0);
}

#[tokio::test]
async fn without_a_template_rename_names_the_missing_field() {
    let s = Sandboxes::start().await.unwrap();
    let workflow = s.workflow(Arc::new(MemoryStore::new())).unwrap();
    let err = workflow.rename(&RenameOptions::new()).await.unwrap_err();
    let problems = err.config_problems().expect("a configuration error");
    assert_eq!(problems.0[0].field, "naming.template");
    assert_eq!(s.writes(), 0);
}

#[tokio::test]
async fn an_application_deleted_while_the_rename_ran_is_reported_not_failed() {
    let s = Sandboxes::start().await.unwrap();
    let (workflow, _) = portal_with_apps(&s, TEMPLATE, 5, 1_000).await.unwrap();
    // The first rename finds its application gone (Auth0's 404 for the client).
    s.auth0.inject(Fault::status(404).on("PATCH", "/api/v2/clients/"));
    let report = workflow.rename(&RenameOptions::new()).await.unwrap();
    assert_eq!(report.renamed.len(), 3, "{report}");
    assert_eq!(report.not_renamed.len(), 1, "{report}");
    assert_eq!(report.not_renamed[0].reason, "deleted while the rename ran");
}
