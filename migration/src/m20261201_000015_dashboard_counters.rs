use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

/// The dashboard's counts, kept by the database as accounts change instead of
/// scanned at each look (a full scan of a million accounts took a third of a second):
/// - `account_counts`: one row per figure (`total`, `admins`, `disabled`,
///   `pending`, `unverified`);
/// - `signup_hours`: the accounts there are per hour of their `created_at` (`hour` =
///   seconds since 1970 / 3600), so an imported account counts in the hour it was
///   made and a deleted one no longer counts, as a scan would say.
///
/// Triggers on `users` keep both, whoever writes (the service, an import, the
/// CLI, a person with `psql`); the migration counts what is there first, with
/// writers held off on PostgreSQL so no row is missed in between.
#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: &str = "
CREATE TABLE account_counts (name VARCHAR(16) PRIMARY KEY, n BIGINT NOT NULL);
CREATE TABLE signup_hours (hour BIGINT PRIMARY KEY, n BIGINT NOT NULL);
";

const SQLITE_TRIGGERS: &str = "
CREATE TRIGGER users_counted_insert AFTER INSERT ON users BEGIN
    INSERT INTO signup_hours (hour, n) VALUES (CAST(strftime('%s', NEW.created_at) AS INTEGER) / 3600, 1)
        ON CONFLICT (hour) DO UPDATE SET n = n + 1;
    UPDATE account_counts SET n = n + 1 WHERE name = 'total';
    UPDATE account_counts SET n = n + 1 WHERE name = 'admins' AND NEW.role = 'admin';
    UPDATE account_counts SET n = n + 1 WHERE name = 'disabled' AND NEW.disabled;
    UPDATE account_counts SET n = n + 1 WHERE name = 'pending' AND NEW.approval_pending;
    UPDATE account_counts SET n = n + 1 WHERE name = 'unverified' AND NEW.email_verified_at IS NULL;
END;
CREATE TRIGGER users_counted_delete AFTER DELETE ON users BEGIN
    UPDATE signup_hours SET n = n - 1 WHERE hour = CAST(strftime('%s', OLD.created_at) AS INTEGER) / 3600;
    UPDATE account_counts SET n = n - 1 WHERE name = 'total';
    UPDATE account_counts SET n = n - 1 WHERE name = 'admins' AND OLD.role = 'admin';
    UPDATE account_counts SET n = n - 1 WHERE name = 'disabled' AND OLD.disabled;
    UPDATE account_counts SET n = n - 1 WHERE name = 'pending' AND OLD.approval_pending;
    UPDATE account_counts SET n = n - 1 WHERE name = 'unverified' AND OLD.email_verified_at IS NULL;
END;
CREATE TRIGGER users_counted_update AFTER UPDATE OF role, disabled, approval_pending, email_verified_at ON users BEGIN
    UPDATE account_counts SET n = n + (NEW.role = 'admin') - (OLD.role = 'admin')
        WHERE name = 'admins' AND (NEW.role = 'admin') <> (OLD.role = 'admin');
    UPDATE account_counts SET n = n + NEW.disabled - OLD.disabled
        WHERE name = 'disabled' AND NEW.disabled <> OLD.disabled;
    UPDATE account_counts SET n = n + NEW.approval_pending - OLD.approval_pending
        WHERE name = 'pending' AND NEW.approval_pending <> OLD.approval_pending;
    UPDATE account_counts SET n = n + (NEW.email_verified_at IS NULL) - (OLD.email_verified_at IS NULL)
        WHERE name = 'unverified' AND (NEW.email_verified_at IS NULL) <> (OLD.email_verified_at IS NULL);
END;
CREATE TRIGGER users_counted_created_at AFTER UPDATE OF created_at ON users
WHEN CAST(strftime('%s', NEW.created_at) AS INTEGER) / 3600 <> CAST(strftime('%s', OLD.created_at) AS INTEGER) / 3600
BEGIN
    UPDATE signup_hours SET n = n - 1 WHERE hour = CAST(strftime('%s', OLD.created_at) AS INTEGER) / 3600;
    INSERT INTO signup_hours (hour, n) VALUES (CAST(strftime('%s', NEW.created_at) AS INTEGER) / 3600, 1)
        ON CONFLICT (hour) DO UPDATE SET n = n + 1;
END;
";

/// One function for the three kinds of change; only the rows whose figure moves
/// are written (so a registration locks `total` and `unverified`, nothing else).
const POSTGRES_TRIGGERS: &str = "
CREATE FUNCTION users_counted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d_total BIGINT := 0;
    d_admins BIGINT := 0;
    d_disabled BIGINT := 0;
    d_pending BIGINT := 0;
    d_unverified BIGINT := 0;
    old_hour BIGINT;
    new_hour BIGINT;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        d_admins := d_admins + (NEW.role = 'admin')::int;
        d_disabled := d_disabled + NEW.disabled::int;
        d_pending := d_pending + NEW.approval_pending::int;
        d_unverified := d_unverified + (NEW.email_verified_at IS NULL)::int;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        d_admins := d_admins - (OLD.role = 'admin')::int;
        d_disabled := d_disabled - OLD.disabled::int;
        d_pending := d_pending - OLD.approval_pending::int;
        d_unverified := d_unverified - (OLD.email_verified_at IS NULL)::int;
    END IF;
    IF TG_OP = 'INSERT' THEN
        d_total := 1;
    ELSIF TG_OP = 'DELETE' THEN
        d_total := -1;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        old_hour := floor(extract(epoch FROM OLD.created_at) / 3600)::bigint;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_hour := floor(extract(epoch FROM NEW.created_at) / 3600)::bigint;
    END IF;
    IF old_hour IS DISTINCT FROM new_hour THEN
        IF old_hour IS NOT NULL THEN
            UPDATE signup_hours SET n = n - 1 WHERE hour = old_hour;
        END IF;
        IF new_hour IS NOT NULL THEN
            INSERT INTO signup_hours (hour, n) VALUES (new_hour, 1)
                ON CONFLICT (hour) DO UPDATE SET n = signup_hours.n + 1;
        END IF;
    END IF;
    UPDATE account_counts SET n = n + CASE name
            WHEN 'total' THEN d_total WHEN 'admins' THEN d_admins WHEN 'disabled' THEN d_disabled
            WHEN 'pending' THEN d_pending ELSE d_unverified END
        WHERE (name = 'total' AND d_total <> 0) OR (name = 'admins' AND d_admins <> 0)
           OR (name = 'disabled' AND d_disabled <> 0) OR (name = 'pending' AND d_pending <> 0)
           OR (name = 'unverified' AND d_unverified <> 0);
    RETURN NULL;
END
$$;
CREATE TRIGGER users_counted
    AFTER INSERT OR DELETE OR UPDATE OF role, disabled, approval_pending, email_verified_at, created_at
    ON users FOR EACH ROW EXECUTE FUNCTION users_counted();
";

fn backfill(backend: DatabaseBackend) -> String {
    let hour = match backend {
        DatabaseBackend::Postgres => "floor(extract(epoch FROM created_at) / 3600)::bigint",
        _ => "CAST(strftime('%s', created_at) AS INTEGER) / 3600",
    };
    let yes = |condition: &str| format!("COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)");
    format!(
        "INSERT INTO account_counts (name, n) SELECT 'total', COUNT(*) FROM users;
         INSERT INTO account_counts (name, n) SELECT 'admins', {} FROM users;
         INSERT INTO account_counts (name, n) SELECT 'disabled', {} FROM users;
         INSERT INTO account_counts (name, n) SELECT 'pending', {} FROM users;
         INSERT INTO account_counts (name, n) SELECT 'unverified', {} FROM users;
         INSERT INTO signup_hours (hour, n) SELECT {hour}, COUNT(*) FROM users GROUP BY 1;",
        yes("role = 'admin'"),
        yes("disabled"),
        yes("approval_pending"),
        yes("email_verified_at IS NULL"),
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        db.execute_unprepared(TABLES).await?;
        if backend == DatabaseBackend::Postgres {
            // Until this migration commits: no account is written uncounted.
            db.execute_unprepared("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
                .await?;
            db.execute_unprepared(POSTGRES_TRIGGERS).await?;
        } else {
            db.execute_unprepared(SQLITE_TRIGGERS).await?;
        }
        db.execute_unprepared(&backfill(backend)).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared("DROP TRIGGER users_counted ON users; DROP FUNCTION users_counted();")
                .await?;
        } else {
            db.execute_unprepared(
                "DROP TRIGGER users_counted_insert; DROP TRIGGER users_counted_delete; \
                 DROP TRIGGER users_counted_update; DROP TRIGGER users_counted_created_at;",
            )
            .await?;
        }
        db.execute_unprepared("DROP TABLE signup_hours; DROP TABLE account_counts;")
            .await?;
        Ok(())
    }
}
