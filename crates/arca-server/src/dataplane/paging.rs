//! Paging of data-plane listings: `maxresults`, the `$skiptoken` cursor (the last name or version
//! of the previous page, base64url), and the `nextLink` of a page.

use arca_core::limits::MAX_PAGE_SIZE;

use super::Query;
use crate::dataplane::context::Ctx;
use crate::error::{ApiError, ApiResult};

/// The page size a listing asked for (default and most: [`MAX_PAGE_SIZE`]).
pub(crate) fn page_size(query: &Query) -> ApiResult<usize> {
    match &query.maxresults {
        None => Ok(MAX_PAGE_SIZE),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
            _ => Err(ApiError::BadParameter(format!(
                "maxresults must be an integer from 1 to {MAX_PAGE_SIZE}."
            ))),
        },
    }
}

/// The cursor inside a `$skiptoken`: the last name (or version) of the previous page.
pub(crate) fn cursor(query: &Query) -> ApiResult<Option<String>> {
    let Some(token) = &query.skiptoken else {
        return Ok(None);
    };
    let bad = || ApiError::BadParameter("The $skiptoken is not valid.".into());
    let bytes = crate::b64url_decode(token).ok_or_else(bad)?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let ok = !text.is_empty()
        && text.len() <= 127
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(Some(text.to_ascii_lowercase()))
    } else {
        Err(bad())
    }
}

/// The link to the page after the cursor `next`, if there is one.
pub(crate) fn next_link(
    ctx: &Ctx<'_>,
    path: &str,
    next: Option<String>,
    size: usize,
) -> Option<String> {
    next.map(|n| {
        format!(
            "{}{}?api-version={}&$skiptoken={}&maxresults={}",
            ctx.origin,
            path,
            ctx.query.api_version,
            crate::b64url(n.as_bytes()),
            size
        )
    })
}
