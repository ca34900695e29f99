//! One module per Konnect resource: its handler and its request/response types, named
//! after the schemas in the Konnect documents.

pub mod apis;
pub mod auth_strategies;
pub mod dcr_providers;
pub mod portal_applications;

use std::collections::BTreeMap;

use dcr_client_core::Operation;
use futures::future::BoxFuture;

use crate::client::KonnectClient;
use crate::error::Result;
use crate::pagination::{Page, PageRequest, WirePage};

/// Labels of a resource: keys 1–63 characters not starting with `kong`, `konnect`, `mesh`,
/// `kic` or `_`; values matching `^[a-z0-9A-Z]{1}([a-z0-9A-Z-._]*[a-z0-9A-Z]+)?$`; at most 50.
pub type Labels = BTreeMap<String, String>;

/// A sparse label change for PATCH: `Some(v)` sets a label, `None` deletes it, and keys not
/// named are left alone.
pub type LabelsUpdate = BTreeMap<String, Option<String>>;

/// `filter[field][op]=value` pairs of a list call.
#[derive(Clone, Debug, Default)]
pub(crate) struct Filters(Vec<(String, String)>);

impl Filters {
    /// Sets `filter[{field}][{op}]`, replacing an earlier value for the same pair.
    pub(crate) fn set(&mut self, field: &str, op: &str, value: impl Into<String>) {
        let key = format!("filter[{field}][{op}]");
        self.0.retain(|(k, _)| *k != key);
        self.0.push((key, value.into()));
    }
}

/// Fetches one page of a list endpoint.
pub(crate) fn list_page<T>(
    client: &KonnectClient,
    op: &'static Operation,
    segments: Vec<String>,
    filters: &Filters,
    page: PageRequest,
) -> BoxFuture<'static, Result<Page<T>>>
where
    T: serde::de::DeserializeOwned + Send + 'static,
{
    let client = client.clone();
    let mut query = filters.0.clone();
    query.extend(page.query());
    Box::pin(async move {
        page.validate()?;
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let builder = client.request(op.method.clone(), &segments).query(&query);
        let wire: WirePage<T> = client.send_json(op, builder).await?;
        Ok(Page::from(wire))
    })
}

/// `page_size` / `page_number` setters for a list builder with a `page: PageRequest` field.
macro_rules! paging_setters {
    () => {
        /// Items per page (1–100; streams default to 100).
        pub fn page_size(mut self, size: u32) -> Self {
            self.page.size = Some(size);
            self
        }

        /// Page number, from 1 (a stream starts there).
        pub fn page_number(mut self, number: u32) -> Self {
            self.page.number = Some(number);
            self
        }
    };
}
pub(crate) use paging_setters;
