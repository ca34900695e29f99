//! Registrations of applications for APIs, as the portal management document describes
//! them: one per application and API, `approved` at once when the publication
//! auto-approves (the portal's `auto_approve_applications` when the publication does not
//! say) and `pending` otherwise, until an admin approves, rejects or revokes it.

use serde_json::{Map, Value, json};

use super::check::{Check, object};
use super::problem::{Outcome, SandboxProblem};
use super::store::{Store, str_of};

const STATUSES: [&str; 4] = ["approved", "pending", "rejected", "revoked"];

impl Store {
    /// Registers `application` (of `portal`) for `api`; `status` as an admin asked, else
    /// the publication's rule.
    pub(crate) fn register(
        &mut self,
        portal: &str,
        application: &str,
        api: &str,
        status: Option<&str>,
    ) -> Outcome<Value> {
        let app = self.application(portal, application)?.clone();
        let strategy = app
            .get("auth_strategy")
            .and_then(|s| s.get("id"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let publication = self
            .publications
            .get(&format!("{api}/{portal}"))
            .ok_or_else(|| SandboxProblem::not_found("API"))?
            .clone();
        let uses_strategy = publication
            .get("auth_strategy_ids")
            .and_then(Value::as_array)
            .is_some_and(|ids| ids.iter().any(|id| id.as_str() == Some(strategy.as_str())));
        if !uses_strategy {
            return Err(SandboxProblem::field(
                "api_id",
                "invalid",
                "the API is not published with the application's auth strategy",
            ));
        }
        let taken = self
            .registrations
            .iter_from(0)
            .any(|(_, r)| str_of(r, "_application_id") == Some(application) && str_of(r, "_api_id") == Some(api));
        if taken {
            return Err(SandboxProblem::new(
                409,
                "The application is already registered for this API",
            ));
        }
        let auto = publication
            .get("auto_approve_registrations")
            .and_then(Value::as_bool)
            .or_else(|| {
                self.portals
                    .get(portal)
                    .and_then(|p| p.get("auto_approve_applications"))
                    .and_then(Value::as_bool)
            })
            .unwrap_or(false);
        let status = status.unwrap_or(if auto { "approved" } else { "pending" });
        let id = self.new_id();
        let now = self.now();
        let row = json!({
            "id": id, "status": status, "created_at": now, "updated_at": now,
            "_application_id": application, "_api_id": api, "_portal_id": portal,
        });
        if let Value::Object(row) = row {
            self.registrations.insert(id.clone(), row);
        }
        self.count_registrations(application);
        self.registration(portal, application, &id)
            .map(|r| Value::Object(r.clone()))
    }

    /// Keeps the application's `registration_count` true.
    fn count_registrations(&mut self, application: &str) {
        let count = self
            .registrations
            .iter_from(0)
            .filter(|(_, r)| str_of(r, "_application_id") == Some(application))
            .count();
        if let Some(app) = self.applications.get_mut(application) {
            app.insert("registration_count".into(), json!(count));
        }
    }

    pub(crate) fn registration(&self, portal: &str, application: &str, id: &str) -> Outcome<&Map<String, Value>> {
        self.application(portal, application)?;
        self.registrations
            .get(id)
            .filter(|r| str_of(r, "_application_id") == Some(application))
            .ok_or_else(|| SandboxProblem::not_found("registration"))
    }

    /// `PATCH …/registrations/{registrationId}` (`UpdateApplicationRegistrationRequest`).
    pub(crate) fn update_registration(
        &mut self,
        portal: &str,
        application: &str,
        id: &str,
        body: &Value,
    ) -> Outcome<Value> {
        let body = object(body)?;
        let mut check = Check::new(body);
        check.allowed(&["status"]);
        let status = check.choice("status", false, &STATUSES).map(str::to_owned);
        check.finish()?;
        self.registration(portal, application, id)?;
        let now = self.now();
        if let Some(row) = self.registrations.get_mut(id) {
            if let Some(status) = status {
                row.insert("status".into(), json!(status));
            }
            row.insert("updated_at".into(), json!(now));
        }
        Ok(self.admin_registration_view(self.registration(portal, application, id)?))
    }

    pub(crate) fn delete_registration(&mut self, portal: &str, application: &str, id: &str) -> Outcome<()> {
        self.registration(portal, application, id)?;
        self.registrations.remove(id);
        self.count_registrations(application);
        Ok(())
    }

    /// Removes every registration of an application (it is being deleted).
    pub(crate) fn drop_registrations(&mut self, application: &str) {
        let ids: Vec<String> = self
            .registrations
            .iter_from(0)
            .filter(|(_, r)| str_of(r, "_application_id") == Some(application))
            .filter_map(|(_, r)| str_of(r, "id").map(str::to_owned))
            .collect();
        for id in ids {
            self.registrations.remove(&id);
        }
    }

    /// `ApplicationRegistration` (admin API).
    pub(crate) fn admin_registration_view(&self, row: &Map<String, Value>) -> Value {
        let api = self.apis.get(str_of(row, "_api_id").unwrap_or_default());
        let app = self
            .applications
            .get(str_of(row, "_application_id").unwrap_or_default());
        json!({
            "id": row.get("id"), "status": row.get("status"),
            "created_at": row.get("created_at"), "updated_at": row.get("updated_at"),
            "api": {
                "id": row.get("_api_id"),
                "name": api.and_then(|a| a.get("name")),
                "version": api.and_then(|a| a.get("version")).cloned().unwrap_or(Value::Null),
                "entity_type": "api",
            },
            "application": {"id": row.get("_application_id"), "name": app.and_then(|a| a.get("name"))},
        })
    }

    /// `GetApiRegistrationResponse` (developer API).
    pub(crate) fn developer_registration_view(&self, row: &Map<String, Value>) -> Value {
        let api = self.apis.get(str_of(row, "_api_id").unwrap_or_default());
        json!({
            "id": row.get("id"), "status": row.get("status"),
            "created_at": row.get("created_at"), "updated_at": row.get("updated_at"),
            "api_id": row.get("_api_id"),
            "api_name": api.and_then(|a| a.get("name")),
            "api_slug": api.and_then(|a| a.get("slug")),
            "application_id": row.get("_application_id"),
        })
    }

    /// The approved registration of the application with `client_id` for `api`, or why
    /// there is none (the gateway's 403).
    pub(crate) fn gateway_access(&self, api: &str, client_id: &str) -> Result<String, String> {
        let apps: Vec<&Map<String, Value>> = self
            .applications
            .iter_from(0)
            .map(|(_, a)| a)
            .filter(|a| str_of(a, "client_id") == Some(client_id))
            .collect();
        if apps.is_empty() {
            return Err(format!("no application has the client id {client_id}"));
        }
        let mut statuses = Vec::new();
        for app in &apps {
            let id = str_of(app, "id").unwrap_or_default();
            for (_, r) in self.registrations.iter_from(0) {
                if str_of(r, "_application_id") == Some(id) && str_of(r, "_api_id") == Some(api) {
                    match str_of(r, "status") {
                        Some("approved") => return Ok(id.to_owned()),
                        other => statuses.push(other.unwrap_or_default().to_owned()),
                    }
                }
            }
        }
        Err(match statuses.first() {
            None => "the application is not registered for this API".to_owned(),
            Some(status) => format!("the application's registration for this API is {status}"),
        })
    }
}
