//! One module per Management API resource: its handler and its request/response types,
//! named after the schemas in the Management API document.

pub mod actions;
pub mod client_grants;
pub mod clients;
pub mod resource_servers;

use futures::future::BoxFuture;

use crate::client::Auth0Client;
use crate::error::Result;
use crate::pagination::{Page, Paging, WirePage};
use dcr_client_core::Operation;

impl Auth0Client {
    /// Fetches one page of a list endpoint.
    pub(crate) fn list_page<T>(
        &self,
        op: &'static Operation,
        collection: &'static str,
        filters: Vec<(&'static str, String)>,
        paging: Paging,
    ) -> BoxFuture<'static, Result<Page<T>>>
    where
        T: serde::de::DeserializeOwned + Send + 'static,
    {
        let client = self.clone();
        Box::pin(async move {
            let mut query = filters;
            query.extend(paging.query());
            let builder = client
                .request(op.method.clone(), client.api_url(&[collection]))
                .query(&query);
            let wire: WirePage<T> = client.send_json(op, builder).await?;
            Ok(Page::from(wire))
        })
    }
}

/// Checks a length bound and names the field when it is broken.
pub(crate) fn check_len(field: &str, value: &str, min: usize, max: usize) -> Result<()> {
    let len = value.chars().count();
    if len < min || len > max {
        return Err(crate::Auth0Error::invalid(
            field,
            format!("must be {min} to {max} characters long, got {len}"),
        ));
    }
    Ok(())
}

/// Auth0 names (`^[^<>]+$`): non-empty, no angle brackets.
pub(crate) fn check_name(field: &str, value: &str, max: usize) -> Result<()> {
    check_len(field, value, 1, max)?;
    if value.contains(['<', '>']) {
        return Err(crate::Auth0Error::invalid(field, "must not contain `<` or `>`"));
    }
    Ok(())
}
