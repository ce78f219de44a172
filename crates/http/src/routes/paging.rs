//! Lists, each paged with an opaque cursor (R57, R73): a page says where the next one
//! starts, and the last page says it is the last. Nothing is cut off silently.

use crate::problem::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Where a page starts and how long it is, in the query.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// Where to continue: the `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,19}$")]
    pub cursor: Option<String>,
    /// Items per page, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

impl PageParams {
    pub(crate) fn limit(&self) -> Result<usize, ApiError> {
        super::page_limit(self.limit)
    }

    /// The cursor as the last id of the previous page.
    pub(crate) fn after(&self) -> Result<Option<u64>, ApiError> {
        super::parse_cursor(self.cursor.as_deref())
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present when more items follow: pass it as `cursor` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Pages `candidates` (ascending ids) after the cursor, keeping those `keep` accepts.
pub(crate) fn page<T>(
    candidates: impl Iterator<Item = u32>,
    params: &PageParams,
    mut keep: impl FnMut(u32) -> Option<T>,
) -> Result<Page<T>, ApiError> {
    let (after, limit) = (params.after()?, params.limit()?);
    let mut items = Vec::new();
    let mut last = None;
    let mut more = false;
    for id in candidates.filter(|id| after.is_none_or(|a| u64::from(*id) > a)) {
        if items.len() == limit {
            more = true;
            break;
        }
        if let Some(item) = keep(id) {
            items.push(item);
            last = Some(id);
        }
    }
    Ok(Page { items, next_cursor: if more { last.map(|l| l.to_string()) } else { None } })
}
