//! The authentication cache: reads are answered from memory, and anything that ends
//! a session or changes an account takes effect on the very next request — in this
//! server and in every other server sharing its stores (told through PostgreSQL
//! NOTIFY, or Redis pub/sub when sessions live in Redis).

use crate::helpers::{
    Backend, OwnRedis, TestApp, TestUser, database_name, eventually, postgres_admin, spawn_app, spawn_app_on,
    spawn_app_with, test_redis_url,
};
use crate::on_both_backends;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

/// Sessions in the database, so that PostgreSQL NOTIFY carries the forgets, even in
/// the suite's pass with Redis sessions.
const DATABASE_SESSIONS: &[&str] = &["--session-store", "database"];

/// The flags that keep a server's sessions in the Redis at `url`, under `prefix`.
fn redis_sessions<'a>(url: &'a str, prefix: &'a str) -> [&'a str; 6] {
    ["--session-store", "redis", "--redis-url", url, "--redis-prefix", prefix]
}

fn fresh_redis_prefix() -> String {
    format!("roster_test:{}:", uuid::Uuid::new_v4().simple())
}

on_both_backends!(
    reads_are_served_from_the_cache,
    revocations_take_effect_on_the_next_request,
    account_changes_show_on_the_next_request,
    a_cached_session_still_expires_on_time,
    a_cached_session_records_its_use_once_per_interval,
);

/// A user signed in on two devices: both session tokens.
async fn signed_in_twice(app: &TestApp) -> (String, String) {
    let mut user = TestUser::generate(app).await;
    let first = user.token.clone();
    let second = user.log_in(app).await.to_owned();
    (first, second)
}

/// Reads the session until an answer comes from the cache (on PostgreSQL the cache
/// answers only once its invalidation listener is up), so that what follows is
/// tried against a cached session.
async fn warm(app: &TestApp, token: &str) {
    let cache = app.state.sessions.cache();
    let before = cache.stats().hits;
    eventually(10, "the cache answers", || async {
        assert_eq!(app.me(Some(token)).await.status, 200);
        cache.stats().hits > before
    })
    .await;
}

async fn reads_are_served_from_the_cache(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, token) = app.register("Cached Person", "c@example.com", PASSWORD).await;
    let cache = app.state.sessions.cache();
    assert!(cache.is_empty());
    warm(&app, &token).await;
    assert_eq!(cache.len(), 1);
    let before = cache.stats();
    assert_eq!(app.me(Some(&token)).await.status, 200);
    assert_eq!(cache.stats().hits, before.hits + 1, "answered from memory");
    assert_eq!(cache.stats().misses, before.misses, "without a store read");
}

async fn revocations_take_effect_on_the_next_request(backend: Backend) {
    let app = spawn_app(backend).await;
    // Signing out.
    let (_, token) = app.register("A", "a@example.com", PASSWORD).await;
    warm(&app, &token).await;
    assert_eq!(app.logout(Some(&token)).await.status, 200);
    app.me(Some(&token)).await.assert_error(401, "unauthenticated");

    // "Sign out everywhere else" and revoking one session by id.
    let (first, second) = signed_in_twice(&app).await;
    warm(&app, &first).await;
    warm(&app, &second).await;
    let revoked = app.rpc("account/sessions/revoke-others", "", &second).await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    app.me(Some(&first)).await.assert_error(401, "unauthenticated");
    let (third, fourth) = signed_in_twice(&app).await;
    warm(&app, &third).await;
    warm(&app, &fourth).await;
    let sessions = app.rpc("account/sessions", "", &fourth).await;
    let other = sessions
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let one = app
        .rpc("account/sessions/revoke", &format!("id={other}"), &fourth)
        .await;
    assert_eq!(one.status, 200, "{}", one.body);
    app.me(Some(&third)).await.assert_error(401, "unauthenticated");
    assert_eq!(app.me(Some(&fourth)).await.status, 200);

    // An administrator disabling or deleting the account.
    let admin = app.register("Admin", "admin@example.com", PASSWORD).await.1;
    app.make_admin("admin@example.com", "correct horse battery").await;
    for (email, method, body) in [
        ("e@example.com", "PUT", Some(json!({"disabled": true}))),
        ("f@example.com", "DELETE", None),
    ] {
        let (reply, token) = app.register("Target", email, PASSWORD).await;
        let id = reply.body["data"]["user"]["id"].as_str().unwrap().to_owned();
        warm(&app, &token).await;
        let done = app.call(method, &format!("/api/users/{id}"), body, Some(&admin)).await;
        assert!(done.status == 200 || done.status == 204, "{}", done.body);
        app.me(Some(&token)).await.assert_error(401, "unauthenticated");
    }
}

async fn account_changes_show_on_the_next_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.register("Admin", "admin@example.com", PASSWORD).await.1;
    app.make_admin("admin@example.com", "correct horse battery").await;
    let (reply, token) = app.register("Before", "g@example.com", PASSWORD).await;
    let id = reply.body["data"]["user"]["id"].as_str().unwrap().to_owned();
    warm(&app, &token).await;
    for _ in 0..2 {
        assert_eq!(
            app.get_user(&id, Some(&admin)).await.body["data"]["user"]["name"],
            "Before"
        );
    }
    let renamed = app.update_user(&id, json!({"name": "After"}), Some(&admin)).await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let me = app.me(Some(&token)).await;
    assert_eq!(me.body["data"]["user"]["name"], "After");
    assert_eq!(
        app.get_user(&id, Some(&admin)).await.body["data"]["user"]["name"],
        "After"
    );
    let deleted = app.delete_user(&id, None, Some(&admin)).await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    app.get_user(&id, Some(&admin)).await.assert_error(404, "not_found");
}

/// Two servers on one PostgreSQL database: a session signed out through one stops
/// working on the other as soon as the notice arrives, although the other had it
/// cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_servers_tell_each_other() {
    let a = spawn_app_with(Backend::Postgres, DATABASE_SESSIONS).await;
    let b = spawn_app_on(&a.url, DATABASE_SESSIONS).await;
    let (_, token) = a.register("Shared", "s@example.com", PASSWORD).await;
    // Connecting, b's listener forgets everything: wait for it, so the cache is
    // warmed after and only a notice can empty it.
    let b_cache = b.state.sessions.cache();
    eventually(10, "b listens", || async { b_cache.is_listening() }).await;
    warm(&b, &token).await;
    assert_eq!(b.state.sessions.cache().len(), 1, "b answers from its cache");
    assert_eq!(a.logout(Some(&token)).await.status, 200);
    eventually(10, "b hears of the sign-out", || async { b_cache.len() == 0 }).await;
    b.me(Some(&token)).await.assert_error(401, "unauthenticated");
}

/// A server that cannot hear the others (its PostgreSQL listener is down and cannot
/// reconnect) answers nothing from memory: a session signed out elsewhere meanwhile
/// is refused. Once it listens again, it uses its cache again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_hear_the_others_answers_nothing_from_memory() {
    let servers = two_servers(Backend::Postgres, DATABASE_SESSIONS).await;
    let db = database_name(&servers.a.url).to_owned();
    let b_cache = servers.b.state.sessions.cache();
    // No new connections to the database (the pools keep theirs), and the listeners' go.
    postgres_admin(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false")).await;
    postgres_admin(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}' AND query LIKE 'LISTEN%'"
    ))
    .await;
    servers.b_answers_nothing_from_memory_while_deaf().await;
    postgres_admin(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true")).await;
    eventually(20, "b listens again", || async { b_cache.is_listening() }).await;
    warm(&servers.b, &servers.other).await;
}

/// Two servers keeping sessions in one Redis, on SQLite (so no PostgreSQL NOTIFY can
/// carry anything): a sign-out through one reaches the other's cache through Redis
/// pub/sub.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_sharing_redis_sessions_tell_each_other() {
    let (url, prefix) = (test_redis_url(), fresh_redis_prefix());
    let TwoServers { a, b, token, other } = two_servers(Backend::Sqlite, &redis_sessions(&url, &prefix)).await;
    let b_cache = b.state.sessions.cache();
    assert_eq!(b_cache.len(), 2, "b answers from its cache");
    assert_eq!(a.logout(Some(&token)).await.status, 200);
    eventually(10, "b hears of the sign-out", || async { b_cache.len() == 1 }).await;
    b.me(Some(&token)).await.assert_error(401, "unauthenticated");
    assert_eq!(b.me(Some(&other)).await.status, 200);
}

/// A server whose Redis subscription is down (here: Redis forbids it the channel,
/// so it cannot subscribe again) answers nothing from memory, while the sessions
/// themselves are still read from Redis; once it is subscribed again, it uses its
/// cache again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_redis_subscription_is_down_answers_nothing_from_memory() {
    let redis = OwnRedis::start();
    let (url, prefix) = (redis.url(), fresh_redis_prefix());
    let servers = two_servers(Backend::Sqlite, &redis_sessions(&url, &prefix)).await;
    let b_cache = servers.b.state.sessions.cache();
    // Redis 7 drops subscribers of channels their user loses, and refuses them again.
    // a's notice cannot be published either; the sign-out itself succeeds.
    redis.command(&["ACL", "SETUSER", "default", "resetchannels"]);
    servers.b_answers_nothing_from_memory_while_deaf().await;
    redis.command(&["ACL", "SETUSER", "default", "allchannels"]);
    eventually(20, "b subscribes again", || async { b_cache.is_listening() }).await;
    warm(&servers.b, &servers.other).await;
}

/// Two servers on one database sharing a session store (as `flags` say), two users
/// signed in through `a`, and both sessions answered from `b`'s cache once `b`
/// listens for the others' forgets.
struct TwoServers {
    a: TestApp,
    b: TestApp,
    token: String,
    other: String,
}

async fn two_servers(backend: Backend, flags: &[&str]) -> TwoServers {
    let a = spawn_app_with(backend, flags).await;
    let b = spawn_app_on(&a.url, flags).await;
    let (_, token) = a.register("Shared", "deaf@example.com", PASSWORD).await;
    let (_, other) = a.register("Other", "other@example.com", PASSWORD).await;
    let b_cache = b.state.sessions.cache();
    eventually(10, "b listens", || async { b_cache.is_listening() }).await;
    warm(&b, &token).await;
    warm(&b, &other).await;
    TwoServers { a, b, token, other }
}

impl TwoServers {
    /// Once `b` has lost its subscription: a sign-out through `a` is refused by `b`,
    /// the other session is still served from the store, and `b` answers nothing
    /// from memory.
    async fn b_answers_nothing_from_memory_while_deaf(&self) {
        let b_cache = self.b.state.sessions.cache();
        eventually(10, "b notices it is not listening", || async {
            !b_cache.is_listening()
        })
        .await;
        assert_eq!(self.a.logout(Some(&self.token)).await.status, 200);
        let before = b_cache.stats();
        self.b.me(Some(&self.token)).await.assert_error(401, "unauthenticated");
        assert_eq!(
            self.b.me(Some(&self.other)).await.status,
            200,
            "still served, from the store"
        );
        assert_eq!(b_cache.stats().hits, before.hits, "nothing answered from memory");
    }
}

/// A hundred lookups of one token right after the cache forgot it (as after an
/// expiry) make one store read between them: the others wait for it and are
/// answered from the cache. Without that, 10,000 connections ran the database pool
/// dry every time the entry expired (docs/PERFORMANCE.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_with_one_token_share_one_lookup() {
    // No invalidation channel: with one, the echo of this test's own forget could
    // arrive mid-lookup and (rightly) keep that lookup's answer out of the cache.
    let app = spawn_app_with(Backend::Sqlite, DATABASE_SESSIONS).await;
    let (_, token) = app.register("Busy", "busy@example.com", PASSWORD).await;
    warm(&app, &token).await;
    let cache = app.state.sessions.cache();
    cache.forget_all().await;
    let before = cache.stats();
    // Through the service, so that all hundred are in flight before the first read
    // returns (over HTTP the first is often done before the others have connected).
    let token = app::ssr::sessions::SessionToken::from_cookie(&token).unwrap();
    let sessions = &app.state.sessions;
    let users = futures_util::future::join_all((0..100).map(|_| sessions.resolve(Some(&token)))).await;
    assert!(users.iter().all(|user| matches!(user, Ok(Some(_)))));
    assert_eq!(
        cache.stats().hits - before.hits,
        99,
        "one request of the hundred read the stores"
    );
}

/// The cache keeps the session's own lifetime: a session answered from memory
/// still ends when its time is up, with nothing changed in the database.
async fn a_cached_session_still_expires_on_time(backend: Backend) {
    let app = spawn_app_with(backend, &["--session-ttl", "2s"]).await;
    let (_, token) = app.register("Brief", "brief@example.com", PASSWORD).await;
    warm(&app, &token).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    app.me(Some(&token)).await.assert_error(401, "unauthenticated");
}

/// A session answered from memory still records that it is in use: the first cached
/// read after the touch interval writes "last seen" to the store (so a busy session
/// is never ended as idle, however long the cache keeps it), and only that one read
/// (a write per read would turn every cached read into a database write).
async fn a_cached_session_records_its_use_once_per_interval(backend: Backend) {
    let app = spawn_app_with(backend, &["--auth-cache-ttl", "10m"]).await;
    let (_, token) = app.register("Busy", "busy@example.com", PASSWORD).await;
    warm(&app, &token).await;
    let cache = app.state.sessions.cache();
    let hash = app::ssr::sessions::SessionToken::from_cookie(&token).unwrap().hash();
    // As the cached copy would be after two quiet minutes.
    let mut principal = (*cache.get(&hash).expect("cached")).clone();
    principal.session.last_seen_at = chrono::Utc::now() - chrono::Duration::minutes(2);
    cache.put(&hash, principal, cache.generation());
    let stored_last_seen = || async { app.stored_sessions().await[0].last_seen_at };
    let before = stored_last_seen().await;
    let hits = cache.stats().hits;

    assert_eq!(app.me(Some(&token)).await.status, 200);
    let touched = stored_last_seen().await;
    assert!(touched > before, "the first read after the interval records the use");
    for _ in 0..3 {
        assert_eq!(app.me(Some(&token)).await.status, 200);
    }
    assert_eq!(
        stored_last_seen().await,
        touched,
        "the next reads are within the interval"
    );
    assert_eq!(cache.stats().hits, hits + 4, "all four answered from memory");
}
