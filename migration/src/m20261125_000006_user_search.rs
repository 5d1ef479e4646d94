use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// An index for the admin search (a case-insensitive substring of the email or
/// name), so finding one account among a million does not read all of them.
///
/// - PostgreSQL: trigram GIN indexes (pg_trgm) on `lower(email)` and `lower(name)`,
///   which the existing `lower(col) LIKE '%…%'` query uses as it is.
/// - SQLite: an FTS5 table with the trigram tokenizer, kept in step with `users` by
///   triggers. Its rowids come from `users_search_keys`, an explicit INTEGER PRIMARY
///   KEY, because VACUUM (and so `roster backup`) may renumber the implicit rowids
///   of `users`. Keys *shrink* with insertion (each new account gets the smallest
///   key yet), so newest-first is ascending rowid order, the order FTS5 reads about
///   twice as fast as descending at a million accounts.
#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &[&str] = &[
    "CREATE TABLE users_search_keys (key INTEGER PRIMARY KEY, user_id BLOB NOT NULL UNIQUE)",
    "CREATE VIRTUAL TABLE users_search USING fts5(email, name, tokenize = 'trigram')",
    "INSERT INTO users_search_keys (key, user_id) SELECT -ROW_NUMBER() OVER (ORDER BY id), id FROM users",
    "INSERT INTO users_search (rowid, email, name)
       SELECT k.key, u.email, u.name FROM users_search_keys k JOIN users u ON u.id = k.user_id",
    "CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
       INSERT INTO users_search_keys (key, user_id)
         VALUES ((SELECT coalesce(min(key), 0) - 1 FROM users_search_keys), new.id);
       INSERT INTO users_search (rowid, email, name)
         VALUES ((SELECT key FROM users_search_keys WHERE user_id = new.id), new.email, new.name);
     END",
    "CREATE TRIGGER users_search_update AFTER UPDATE OF email, name ON users BEGIN
       UPDATE users_search SET email = new.email, name = new.name
         WHERE rowid = (SELECT key FROM users_search_keys WHERE user_id = new.id);
     END",
    "CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
       DELETE FROM users_search WHERE rowid = (SELECT key FROM users_search_keys WHERE user_id = old.id);
       DELETE FROM users_search_keys WHERE user_id = old.id;
     END",
];

const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER users_search_delete",
    "DROP TRIGGER users_search_update",
    "DROP TRIGGER users_search_insert",
    "DROP TABLE users_search",
    "DROP TABLE users_search_keys",
];

// pg_trgm ships with PostgreSQL and is a trusted extension: the database owner may
// create it without superuser rights.
const POSTGRES_UP: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX users_email_trgm_idx ON users USING gin (lower(email) gin_trgm_ops)",
    "CREATE INDEX users_name_trgm_idx ON users USING gin (lower(name) gin_trgm_ops)",
];

const POSTGRES_DOWN: &[&str] = &["DROP INDEX users_name_trgm_idx", "DROP INDEX users_email_trgm_idx"];

async fn run(manager: &SchemaManager<'_>, sqlite: &[&str], postgres: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let statements = match manager.get_database_backend() {
        DatabaseBackend::Sqlite => sqlite,
        DatabaseBackend::Postgres => postgres,
        other => return Err(DbErr::Migration(format!("unsupported database: {other:?}"))),
    };
    for sql in statements {
        db.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_UP, POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_DOWN, POSTGRES_DOWN).await
    }
}
