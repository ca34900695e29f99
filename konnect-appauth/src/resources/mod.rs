//! One module per Konnect resource: its handler and its request/response types, named
//! after the schemas in the Konnect documents.

pub mod api_products;
pub mod apis;
pub mod application_registrations;
pub mod auth_strategies;
pub mod dcr_providers;
pub mod portal_applications;
pub mod portals;

use std::collections::BTreeMap;
use std::marker::PhantomData;

use dcr_client_core::Operation;
use futures::Stream;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;

use crate::client::KonnectClient;
use crate::error::Result;
use crate::pagination::{Page, PageRequest, PageSource, WirePage, walk};

/// Decodes a field the documents declare `nullable` into its default when it is `null`.
pub(crate) fn null_as_default<'de, D, T>(de: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    Ok(<Option<T> as serde::Deserialize>::deserialize(de)?.unwrap_or_default())
}

/// Labels of a resource: keys 1–63 characters not starting with `kong`, `konnect`, `mesh`,
/// `kic` or `_`; values matching `^[a-z0-9A-Z]{1}([a-z0-9A-Z-._]*[a-z0-9A-Z]+)?$`; at most 50.
pub type Labels = BTreeMap<String, String>;

/// A sparse label change for PATCH: `Some(v)` sets a label, `None` deletes it, and keys not
/// named are left alone.
pub type LabelsUpdate = BTreeMap<String, Option<String>>;

/// A list request: filter, then `.send()` for one page or `.stream()` for every item.
///
/// One type serves every collection; each resource adds its own filters, e.g.
/// [`List<DcrProvider>`](dcr_providers::DcrProvider) has `.name()`, `.issuer()`,
/// `.provider_type()`, `.initial_client_id()`.
#[must_use]
pub struct List<T> {
    client: KonnectClient,
    op: &'static Operation,
    segments: Vec<String>,
    filters: Vec<(String, String)>,
    page: PageRequest,
    item: PhantomData<fn() -> T>,
}

impl<T> Clone for List<T> {
    fn clone(&self) -> Self {
        List {
            client: self.client.clone(),
            op: self.op,
            segments: self.segments.clone(),
            filters: self.filters.clone(),
            page: self.page,
            item: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for List<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("List")
            .field("operation", &self.op.name())
            .field("filters", &self.filters)
            .field("page", &self.page)
            .finish()
    }
}

impl<T> List<T>
where
    T: DeserializeOwned + Send + 'static,
{
    pub(crate) fn new(client: &KonnectClient, op: &'static Operation, segments: &[&str]) -> Self {
        List {
            client: client.clone(),
            op,
            segments: segments.iter().map(|s| (*s).to_owned()).collect(),
            filters: Vec::new(),
            page: PageRequest::default(),
            item: PhantomData,
        }
    }

    /// Sets `filter[{field}][{op}]`, replacing an earlier value for the same pair.
    pub(crate) fn filter(mut self, field: &str, op: &str, value: impl Into<String>) -> Self {
        let key = format!("filter[{field}][{op}]");
        self.filters.retain(|(k, _)| *k != key);
        self.filters.push((key, value.into()));
        self
    }

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

    /// Fetches one page.
    pub async fn send(self) -> Result<Page<T>> {
        self.fetch(self.page).await
    }

    /// Every matching item, page by page, one page in memory at a time.
    pub fn stream(self) -> impl Stream<Item = Result<T>> + Send + 'static {
        let start = self.page;
        walk(self, start)
    }
}

impl<T> PageSource for List<T>
where
    T: DeserializeOwned + Send + 'static,
{
    type Item = T;

    fn fetch(&self, page: PageRequest) -> BoxFuture<'static, Result<Page<T>>> {
        let client = self.client.clone();
        let op = self.op;
        let segments = self.segments.clone();
        let mut query = self.filters.clone();
        query.extend(page.query());
        Box::pin(async move {
            page.validate()?;
            let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
            let builder = client.request(op.method.clone(), &segments).query(&query);
            let wire: WirePage<T> = client.send_json(op, builder).await?;
            Ok(Page::from(wire))
        })
    }
}
