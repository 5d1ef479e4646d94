//! Listing accounts: filters, keyset paging (newest first) and search. Search
//! goes through a trigram index on both databases; on SQLite that index is an FTS5
//! table queried here directly, on PostgreSQL `pg_trgm` serves the `LIKE`.

use super::UserService;
use crate::error::AppError;
use crate::model::{Role, UserPage, UserQuery};
use crate::policy::{Action, Target, authorize};
use crate::ssr::caller::Caller;
use crate::ssr::entity::users;
use crate::ssr::keyset::{Keyset, contains_any};
use crate::validation::ROLE_INVALID;
use sea_orm::{
    ColumnTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use uuid::Uuid;

const LISTING: Keyset = Keyset {
    cursor_prefix: "u1.",
    default_page_size: 20,
};

/// The shortest query the trigram index can answer; shorter ones scan in order.
const TRIGRAM: usize = 3;

/// A listing's filters, checked.
struct Filters<'q> {
    search: Option<&'q str>,
    role: Option<Role>,
    disabled: Option<bool>,
    after: Option<Uuid>,
    size: usize,
}

impl UserService {
    pub async fn list(&self, caller: &Caller, query: &UserQuery) -> Result<UserPage, AppError> {
        authorize(caller.actor, Action::ListUsers, Target::Collection)?;
        let role = match query.role.as_deref().filter(|r| !r.is_empty()) {
            None => None,
            Some(raw) => Some(Role::parse(raw).ok_or_else(|| AppError::invalid_field("role", ROLE_INVALID))?),
        };
        let filters = Filters {
            search: query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()),
            role,
            disabled: query.disabled,
            after: LISTING.after(query.cursor.as_deref())?,
            size: LISTING.page_size(query.limit)?,
        };
        let rows = match filters.search {
            Some(q) if self.db.get_database_backend() == DatabaseBackend::Sqlite && q.chars().count() >= TRIGRAM => {
                self.search_sqlite(q, &filters).await?
            }
            // PostgreSQL: a replica, when there is one, may answer.
            _ => self.reads.run(caller, |db| scan(db, &filters)).await?,
        };
        let (rows, next_cursor) = LISTING.finish(rows, filters.size, |row| row.id);
        Ok(UserPage {
            items: rows.iter().map(users::Model::to_user).collect(),
            next_cursor,
        })
    }

    /// Search on SQLite through the trigram index (migration `user_search`): the
    /// accounts whose email or name contains `q`, newest first: search keys shrink
    /// with insertion, so that is ascending key order.
    async fn search_sqlite(&self, q: &str, f: &Filters<'_>) -> Result<Vec<users::Model>, AppError> {
        // One FTS5 phrase: the text as typed, quotes doubled, no query syntax.
        let phrase = format!("\"{}\"", q.replace('"', "\"\""));
        let mut sql = String::from(
            "SELECT u.* FROM users_search \
             JOIN users_search_keys k ON k.key = users_search.rowid \
             JOIN users u ON u.id = k.user_id \
             WHERE users_search MATCH ?",
        );
        let mut values: Vec<sea_orm::Value> = vec![phrase.into()];
        if let Some(role) = f.role {
            sql.push_str(" AND u.role = ?");
            values.push(role.as_str().into());
        }
        if let Some(disabled) = f.disabled {
            sql.push_str(" AND u.disabled = ?");
            values.push(disabled.into());
        }
        if let Some(after) = f.after {
            // A cursor whose account was deleted meanwhile ends the listing.
            sql.push_str(" AND users_search.rowid > (SELECT key FROM users_search_keys WHERE user_id = ?)");
            values.push(after.into());
        }
        sql.push_str(" ORDER BY users_search.rowid LIMIT ?");
        values.push((f.size as i64 + 1).into());
        Ok(users::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(DatabaseBackend::Sqlite, sql, values))
            .all(&self.db)
            .await?)
    }
}

/// Newest first by UUIDv7 id: unique and time-ordered, so the order is stable
/// and rows inserted while paging land before page one, never inside a page.
async fn scan(db: DatabaseConnection, f: &Filters<'_>) -> Result<Vec<users::Model>, DbErr> {
    let mut select = users::Entity::find();
    if let Some(search) = contains_any(f.search, &[users::Column::Email, users::Column::Name]) {
        select = select.filter(search);
    }
    if let Some(role) = f.role {
        select = select.filter(users::Column::Role.eq(role.as_str()));
    }
    if let Some(disabled) = f.disabled {
        select = select.filter(users::Column::Disabled.eq(disabled));
    }
    if let Some(after) = f.after {
        select = select.filter(users::Column::Id.lt(after));
    }
    select
        .order_by_desc(users::Column::Id)
        .limit(f.size as u64 + 1)
        .all(&db)
        .await
}
