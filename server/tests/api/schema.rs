//! What the migrations guarantee at the database level.

use crate::helpers::{Backend, spawn_app};
use crate::on_both_backends;
use sea_orm::{ConnectionTrait, Statement};
use sha2::{Digest, Sha256};

on_both_backends!(
    sessions_are_stored_only_as_hashes,
    email_uniqueness_ignores_case_in_the_database,
    deleting_a_user_deletes_their_sessions,
);

async fn count(app: &crate::helpers::TestApp, sql: &str) -> i64 {
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

async fn sessions_are_stored_only_as_hashes(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token) = app.register("Ada", "ada@example.com", "correct horse battery").await;
    let hash = hex::encode(Sha256::digest(token.as_bytes()));
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM sessions WHERE id = '{hash}'")).await,
        1
    );
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM sessions WHERE id = '{token}'")).await,
        0
    );
}

async fn email_uniqueness_ignores_case_in_the_database(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("Ada", "ada@example.com", "correct horse battery").await;
    let insert = "INSERT INTO users (id, email, name, password_hash, role, created_at, updated_at) VALUES \
                  ('00000000-0000-7000-8000-000000000001', 'ADA@EXAMPLE.COM', 'x', 'x', 'user', \
                  '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')";
    let err = app
        .db
        .execute_unprepared(insert)
        .await
        .expect_err("the unique index refuses it");
    assert!(err.to_string().to_lowercase().contains("unique"), "{err}");
}

async fn deleting_a_user_deletes_their_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("Ada", "ada@example.com", "correct horse battery").await;
    app.register("Bob", "bob@example.com", "correct horse battery").await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sessions").await, 2);
    app.db
        .execute_unprepared("DELETE FROM users WHERE email = 'ada@example.com'")
        .await
        .unwrap();
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM sessions").await,
        1,
        "cascade removed Ada's session only"
    );
}
