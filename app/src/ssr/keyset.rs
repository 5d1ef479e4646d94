//! What the paged listings (users, audit events) share: newest-first keyset
//! pagination over UUIDv7 ids with opaque cursors, page-size bounds, and
//! case-insensitive substring search with literal wildcards.

use crate::error::AppError;
use sea_orm::Condition;
use sea_orm::sea_query::{Expr, ExprTrait, Func, IntoColumnRef, LikeExpr};
use uuid::Uuid;

pub const MAX_PAGE_SIZE: u32 = 100;

/// One listing's paging rules. The cursor prefix names the listing and its
/// version, so a cursor from one listing is refused by another.
pub struct Keyset {
    pub cursor_prefix: &'static str,
    pub default_page_size: u32,
}

impl Keyset {
    pub fn page_size(&self, limit: Option<u32>) -> Result<usize, AppError> {
        match limit {
            None => Ok(self.default_page_size as usize),
            Some(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n as usize),
            Some(_) => Err(AppError::invalid_field(
                "limit",
                format!("Limit must be between 1 and {MAX_PAGE_SIZE}."),
            )),
        }
    }

    /// The id to continue after, from a client's cursor (empty means the first page).
    pub fn after(&self, cursor: Option<&str>) -> Result<Option<Uuid>, AppError> {
        match cursor.filter(|c| !c.is_empty()) {
            None => Ok(None),
            Some(raw) => raw
                .strip_prefix(self.cursor_prefix)
                .and_then(|rest| Uuid::try_parse(rest).ok())
                .map(Some)
                .ok_or_else(|| {
                    AppError::invalid_field("cursor", "This cursor is not valid; start again from the first page.")
                }),
        }
    }

    /// Given up to `size + 1` rows (newest first), returns the page and the cursor
    /// of the next one, if there is a next one.
    pub fn finish<M>(&self, mut rows: Vec<M>, size: usize, id: impl Fn(&M) -> Uuid) -> (Vec<M>, Option<String>) {
        if rows.len() <= size {
            return (rows, None);
        }
        rows.truncate(size);
        let next = rows
            .last()
            .map(|last| format!("{}{}", self.cursor_prefix, id(last).simple()));
        (rows, next)
    }
}

/// `%` and `_` typed in a search box are literal characters, not wildcards.
fn like_pattern(query: &str) -> String {
    let escaped = query
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Rows where any of `columns` contains `query`, ignoring case; `None` for a blank query.
pub fn contains_any<C: IntoColumnRef + Copy>(query: Option<&str>, columns: &[C]) -> Option<Condition> {
    let query = query.map(str::trim).filter(|q| !q.is_empty())?;
    let pattern = like_pattern(query);
    Some(columns.iter().fold(Condition::any(), |any, col| {
        any.add(Expr::expr(Func::lower(Expr::col(*col))).like(LikeExpr::new(pattern.clone()).escape('\\')))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const USERS: Keyset = Keyset {
        cursor_prefix: "u1.",
        default_page_size: 20,
    };

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let id = Uuid::now_v7();
        let rows = vec![Uuid::now_v7(), id, Uuid::now_v7()];
        let (page, next) = USERS.finish(rows, 2, |u| *u);
        assert_eq!(page.len(), 2);
        assert_eq!(USERS.after(next.as_deref()).unwrap(), Some(id));
        assert_eq!(USERS.after(Some("")).unwrap(), None);
        for bad in [
            "abc",
            "u1.",
            "u1.zzzz",
            "a1.0193a1b2000070008000000000000001",
            &id.to_string(),
        ] {
            assert!(USERS.after(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(USERS.finish(vec![id], 2, |u| *u).1, None, "the last page has no cursor");
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(USERS.page_size(None).unwrap(), 20);
        assert_eq!(USERS.page_size(Some(100)).unwrap(), 100);
        assert!(USERS.page_size(Some(0)).is_err() && USERS.page_size(Some(101)).is_err());
    }

    #[test]
    fn search_text_is_literal() {
        assert_eq!(like_pattern("A_b%c\\"), "%a\\_b\\%c\\\\%");
    }
}
