//! Pagination, written once: a one-page call returning [`Page`] and a lazy stream that
//! walks pages, holding one page in memory at a time.
//!
//! Auth0 pages two ways. Offset (`page`, `per_page`, `include_totals=true` →
//! `{start, limit, total, <items>}`) works everywhere; checkpoint (`from`, `take` →
//! `{<items>, next}`) is offered by clients and client grants and is used by streams there,
//! since it does not slow down or cap out on large tenants.

use futures::future::BoxFuture;
use futures::stream::{self, Stream, TryStreamExt};
use serde::Deserialize;

use crate::error::{Auth0Error, Result};

/// Largest `per_page` / `take` Auth0 accepts.
pub const MAX_PAGE_SIZE: u32 = 100;
const DEFAULT_PAGE_SIZE: u32 = 50;

/// One page of a list.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items on this page.
    pub items: Vec<T>,
    /// Total number of items (offset pagination).
    pub total: Option<u64>,
    /// Index of the first item (offset pagination).
    pub start: Option<u64>,
    /// Page size the server used (offset pagination).
    pub limit: Option<u64>,
    /// Checkpoint for the next page (checkpoint pagination); `None` on the last page.
    pub next: Option<String>,
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// The wire shape of a paginated list; the item key differs per resource.
#[derive(Deserialize)]
pub(crate) struct WirePage<T> {
    #[serde(
        alias = "clients",
        alias = "client_grants",
        alias = "resource_servers",
        alias = "actions",
        alias = "bindings"
    )]
    items: Vec<T>,
    #[serde(default, deserialize_with = "lenient_count")]
    total: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    start: Option<u64>,
    #[serde(default, deserialize_with = "lenient_count")]
    limit: Option<u64>,
    #[serde(default)]
    next: Option<String>,
}

impl<T> From<WirePage<T>> for Page<T> {
    fn from(wire: WirePage<T>) -> Self {
        Page {
            items: wire.items,
            total: wire.total,
            start: wire.start,
            limit: wire.limit,
            next: wire.next.filter(|n| !n.is_empty()),
        }
    }
}

/// The document types these counts as `number`: accept `50` and `50.0` alike.
fn lenient_count<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<u64>, D::Error> {
    let value = Option::<f64>::deserialize(de)?;
    Ok(value.filter(|v| v.is_finite() && *v >= 0.0).map(|v| v as u64))
}

/// Which page to ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Paging {
    Offset { page: u32, per_page: u32 },
    Checkpoint { from: Option<String>, take: u32 },
}

impl Paging {
    pub(crate) fn query(&self) -> Vec<(&'static str, String)> {
        match self {
            Paging::Offset { page, per_page } => vec![
                ("page", page.to_string()),
                ("per_page", per_page.to_string()),
                ("include_totals", "true".to_owned()),
            ],
            Paging::Checkpoint { from, take } => {
                let mut q = vec![("take", take.to_string())];
                if let Some(from) = from {
                    q.push(("from", from.clone()));
                }
                q
            }
        }
    }
}

/// Filter query parameters of a list builder.
#[derive(Clone, Debug, Default)]
pub(crate) struct Filters(Vec<(&'static str, String)>);

impl Filters {
    /// Sets a single-valued filter, replacing an earlier value.
    pub(crate) fn set(&mut self, key: &'static str, value: String) {
        self.0.retain(|(k, _)| *k != key);
        self.0.push((key, value));
    }

    /// Adds one value of a repeatable filter.
    pub(crate) fn add(&mut self, key: &'static str, value: String) {
        self.0.push((key, value));
    }

    pub(crate) fn to_vec(&self) -> Vec<(&'static str, String)> {
        self.0.clone()
    }
}

/// Paging parameters a caller set on a list builder.
#[derive(Clone, Debug, Default)]
pub(crate) struct PageRequest {
    pub(crate) page: Option<u32>,
    pub(crate) per_page: Option<u32>,
    pub(crate) from: Option<String>,
    pub(crate) take: Option<u32>,
}

impl PageRequest {
    fn validate(&self) -> Result<()> {
        for (field, value) in [("per_page", self.per_page), ("take", self.take)] {
            if let Some(v) = value
                && (v == 0 || v > MAX_PAGE_SIZE)
            {
                return Err(Auth0Error::invalid(
                    field,
                    format!("must be between 1 and {MAX_PAGE_SIZE}, got {v}"),
                ));
            }
        }
        if (self.page.is_some() || self.per_page.is_some()) && (self.from.is_some() || self.take.is_some()) {
            return Err(Auth0Error::invalid(
                "page",
                "offset (page/per_page) and checkpoint (from/take) paging cannot be mixed",
            ));
        }
        Ok(())
    }

    /// The page a one-page `send()` asks for: checkpoint if `from`/`take` was set.
    pub(crate) fn single(&self, checkpoint_supported: bool) -> Result<Paging> {
        self.validate()?;
        if checkpoint_supported && (self.from.is_some() || self.take.is_some()) {
            return Ok(Paging::Checkpoint {
                from: self.from.clone(),
                take: self.take.unwrap_or(DEFAULT_PAGE_SIZE),
            });
        }
        if !checkpoint_supported && (self.from.is_some() || self.take.is_some()) {
            return Err(Auth0Error::invalid(
                "from",
                "this endpoint has no checkpoint pagination",
            ));
        }
        Ok(Paging::Offset {
            page: self.page.unwrap_or(0),
            per_page: self.per_page.unwrap_or(DEFAULT_PAGE_SIZE),
        })
    }

    /// Where a stream starts: checkpoint where supported unless offset was asked for.
    pub(crate) fn stream_start(&self, checkpoint_supported: bool) -> Result<Paging> {
        self.validate()?;
        let size = self.take.or(self.per_page).unwrap_or(MAX_PAGE_SIZE);
        if checkpoint_supported && self.page.is_none() && self.per_page.is_none() {
            return Ok(Paging::Checkpoint {
                from: self.from.clone(),
                take: size,
            });
        }
        self.single(checkpoint_supported).map(|p| match p {
            Paging::Offset { page, .. } => Paging::Offset { page, per_page: size },
            other => other,
        })
    }
}

/// Something that can fetch one page of `Item`s. List builders implement it.
pub(crate) trait PageSource: Clone + Send + Sync + 'static {
    type Item: Send + 'static;
    fn fetch(&self, paging: Paging) -> BoxFuture<'static, Result<Page<Self::Item>>>;
}

struct Walk<S> {
    source: S,
    next: Option<Paging>,
    seen: u64,
}

/// Walks every page lazily; stops on an empty or short page, when the total is reached,
/// when there is no `next` checkpoint, or when a checkpoint repeats (a server bug would
/// otherwise loop forever).
pub(crate) fn walk<S: PageSource>(
    source: S,
    start: Result<Paging>,
) -> impl Stream<Item = Result<S::Item>> + Send + 'static {
    let init = start.map(|paging| Walk {
        source,
        next: Some(paging),
        seen: 0,
    });
    stream::once(async move { init })
        .map_ok(|walk| {
            stream::try_unfold(walk, |mut walk| async move {
                let Some(paging) = walk.next.take() else {
                    return Ok(None);
                };
                let page = walk.source.fetch(paging.clone()).await?;
                let count = page.items.len() as u64;
                walk.seen += count;
                walk.next = match paging {
                    _ if count == 0 => None,
                    Paging::Offset { page: n, per_page } => {
                        let short = count < u64::from(per_page);
                        let reached = page.total.is_some_and(|t| walk.seen >= t);
                        (!short && !reached).then_some(Paging::Offset { page: n + 1, per_page })
                    }
                    Paging::Checkpoint { from, take } => match &page.next {
                        Some(next) if Some(next) != from.as_ref() => Some(Paging::Checkpoint {
                            from: Some(next.clone()),
                            take,
                        }),
                        _ => None,
                    },
                };
                Ok(Some((stream::iter(page.items.into_iter().map(Ok)), walk)))
            })
            .try_flatten()
        })
        .try_flatten()
}
