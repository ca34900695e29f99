//! Konnect pagination: `page[size]` / `page[number]` (1-based) in, `{data, meta: {page:
//! {number, size, total}}}` out. One-page calls return [`Page`]; streams walk pages lazily,
//! holding one page in memory.

use futures::future::BoxFuture;
use futures::stream::{self, Stream, TryStreamExt};
use serde::{Deserialize, Deserializer};

use crate::error::{KonnectError, Result};

/// Largest `page[size]` Konnect accepts.
pub const MAX_PAGE_SIZE: u32 = 100;

/// One page of a list.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// This page's number (1-based).
    pub number: u64,
    /// Page size the server used.
    pub size: u64,
    /// Total number of items across pages.
    pub total: u64,
}

impl<T> Page<T> {
    /// Whether a page follows this one.
    pub fn has_next(&self) -> bool {
        !self.items.is_empty() && self.number.saturating_mul(self.size.max(1)) < self.total
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

#[derive(Deserialize)]
pub(crate) struct WirePage<T> {
    data: Vec<T>,
    meta: WireMeta,
}

#[derive(Deserialize)]
struct WireMeta {
    page: WirePageMeta,
}

/// The document types these as `number`: Konnect has been seen sending `1.0`.
#[derive(Deserialize)]
struct WirePageMeta {
    #[serde(deserialize_with = "lenient")]
    number: u64,
    #[serde(deserialize_with = "lenient")]
    size: u64,
    #[serde(deserialize_with = "lenient")]
    total: u64,
}

pub(crate) fn lenient<'de, D: Deserializer<'de>>(de: D) -> std::result::Result<u64, D::Error> {
    let value = f64::deserialize(de)?;
    if value.is_finite() && value >= 0.0 {
        Ok(value as u64)
    } else {
        Err(serde::de::Error::custom("expected a non-negative number"))
    }
}

impl<T> From<WirePage<T>> for Page<T> {
    fn from(wire: WirePage<T>) -> Self {
        Page {
            items: wire.data,
            number: wire.meta.page.number,
            size: wire.meta.page.size,
            total: wire.meta.page.total,
        }
    }
}

/// Page size and number of a one-page call or the start of a stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PageRequest {
    pub(crate) size: Option<u32>,
    pub(crate) number: Option<u32>,
}

impl PageRequest {
    pub(crate) fn validate(&self) -> Result<()> {
        if let Some(size) = self.size
            && (size == 0 || size > MAX_PAGE_SIZE)
        {
            return Err(KonnectError::invalid(
                "page[size]",
                format!("must be between 1 and {MAX_PAGE_SIZE}, got {size}"),
            ));
        }
        if self.number == Some(0) {
            return Err(KonnectError::invalid("page[number]", "pages are numbered from 1"));
        }
        Ok(())
    }

    pub(crate) fn query(&self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if let Some(size) = self.size {
            q.push(("page[size]".to_owned(), size.to_string()));
        }
        if let Some(number) = self.number {
            q.push(("page[number]".to_owned(), number.to_string()));
        }
        q
    }
}

/// Something that fetches page `number` of `size` items.
pub(crate) trait PageSource: Clone + Send + Sync + 'static {
    type Item: Send + 'static;
    fn fetch(&self, page: PageRequest) -> BoxFuture<'static, Result<Page<Self::Item>>>;
}

/// Walks every page from the requested one, lazily.
pub(crate) fn walk<S: PageSource>(
    source: S,
    start: PageRequest,
) -> impl Stream<Item = Result<S::Item>> + Send + 'static {
    let size = start.size.unwrap_or(MAX_PAGE_SIZE);
    let first = start.number.unwrap_or(1);
    let init = start.validate().map(|()| (source, Some(first)));
    stream::once(async move { init })
        .map_ok(move |(source, next)| {
            stream::try_unfold((source, next), move |(source, next)| async move {
                let Some(number) = next else {
                    return Ok(None);
                };
                let page = source
                    .fetch(PageRequest {
                        size: Some(size),
                        number: Some(number),
                    })
                    .await?;
                let following = page.has_next().then(|| number.saturating_add(1));
                Ok(Some((
                    stream::iter(page.items.into_iter().map(Ok)),
                    (source, following),
                )))
            })
            .try_flatten()
        })
        .try_flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_page_numbers_decode_and_next_is_computed_from_totals() {
        let page: WirePage<u8> =
            serde_json::from_str(r#"{"data":[1,2],"meta":{"page":{"number":1.0,"size":2.0,"total":3}}}"#).unwrap();
        let page = Page::from(page);
        assert!(page.has_next());
        let last: WirePage<u8> =
            serde_json::from_str(r#"{"data":[3],"meta":{"page":{"number":2,"size":2,"total":3}}}"#).unwrap();
        assert!(!Page::from(last).has_next());
        assert!(
            PageRequest {
                size: Some(101),
                number: None
            }
            .validate()
            .is_err()
        );
        assert!(
            PageRequest {
                size: None,
                number: Some(0)
            }
            .validate()
            .is_err()
        );
    }
}
