//! One conformance suite for every session store: each scenario below runs against
//! the database store (SQLite and PostgreSQL) and the directory store, through the
//! `SessionStore` trait and through `SessionService`, which enforces expiry on top of
//! whichever store it is given. A store that passes behaves like the others.

use crate::helpers::{Backend, OwnRedis, fresh_database_url, test_redis_url, test_settings};
use app::ssr::audit::AuditLog;
use app::ssr::principal_cache::PrincipalCache;
use app::ssr::sessions::{
    DbSessionStore, DirectorySessionStore, SessionPolicy, SessionRecord, SessionService, SessionStore, SessionToken,
};
use chrono::{DateTime, Duration, DurationRound, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use std::path::PathBuf;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Database(Backend),
    Directory,
    Redis,
}

/// Generates one test per store for each scenario.
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod database_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::Kind::Database(crate::helpers::Backend::Sqlite)).await }
            )*
        }
        mod database_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::Kind::Database(crate::helpers::Backend::Postgres)).await }
            )*
        }
        mod directory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::Kind::Directory).await }
            )*
        }
        mod redis_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::Kind::Redis).await }
            )*
        }
    };
}

on_every_store!(
    live_sessions_are_counted_where_counting_is_cheap,
    a_session_reads_back_as_it_was_written,
    touching_moves_last_seen_and_never_creates_a_session,
    expiry_is_enforced_idle_and_absolute,
    revoking_one_session_leaves_the_others,
    revoking_all_of_a_users_sessions_can_keep_one,
    a_users_sessions_are_listed_newest_first,
    the_sweep_removes_expired_sessions_only,
    two_processes_racing_on_one_user_stay_consistent,
    tokens_are_never_stored_in_the_clear,
    writing_a_session_again_replaces_it,
    every_session_can_be_listed_and_moved_to_another_store,
);

/// A store on fresh storage, a second handle on the same storage (another process),
/// and the database the accounts live in.
struct Fixture {
    store: Arc<dyn SessionStore>,
    other_process: Arc<dyn SessionStore>,
    db: DatabaseConnection,
    dir: Option<PathBuf>,
    redis_prefix: Option<String>,
    extra_dirs: std::sync::Mutex<Vec<PathBuf>>,
}

impl Fixture {
    async fn new(kind: Kind) -> Self {
        let backend = match kind {
            Kind::Database(backend) => backend,
            Kind::Directory | Kind::Redis => Backend::Sqlite,
        };
        let url = fresh_database_url(backend).await;
        let settings = test_settings(&url, &[]);
        let db = roster::startup::connect_database(&settings).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        match kind {
            Kind::Database(_) => {
                let second = roster::startup::connect_database(&settings).await.unwrap();
                Self {
                    store: Arc::new(DbSessionStore::new(db.clone())),
                    other_process: Arc::new(DbSessionStore::new(second)),
                    db,
                    dir: None,
                    redis_prefix: None,
                    extra_dirs: Default::default(),
                }
            }
            Kind::Redis => {
                let prefix = format!("roster_test:{}:", Uuid::new_v4().simple());
                let url = test_redis_url();
                let connect = || app::ssr::sessions::RedisSessionStore::connect(&url, &prefix, Duration::hours(24));
                Self {
                    store: Arc::new(connect().await.expect("Redis must be running for these tests")),
                    other_process: Arc::new(connect().await.unwrap()),
                    db,
                    dir: None,
                    redis_prefix: Some(prefix),
                    extra_dirs: Default::default(),
                }
            }
            Kind::Directory => {
                let dir = std::env::temp_dir().join(format!("roster-sessions-{}", Uuid::new_v4().simple()));
                Self {
                    store: Arc::new(DirectorySessionStore::open(&dir).unwrap()),
                    other_process: Arc::new(DirectorySessionStore::open(&dir).unwrap()),
                    db,
                    dir: Some(dir),
                    redis_prefix: None,
                    extra_dirs: Default::default(),
                }
            }
        }
    }

    /// An account the sessions can belong to (the database store's sessions
    /// reference it).
    async fn user(&self) -> Uuid {
        use sea_orm::{ActiveValue::Set, EntityTrait};
        let id = Uuid::now_v7();
        let now = Utc::now();
        app::ssr::entity::users::Entity::insert(app::ssr::entity::users::ActiveModel {
            id: Set(id),
            email: Set(format!("{}@example.com", id.simple())),
            name: Set("Test".into()),
            password_hash: Set("not a hash".into()),
            role: Set("user".into()),
            disabled: Set(false),
            email_verified_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            approval_pending: Set(false),
            role_expires_at: Set(None),
            role_after_expiry: Set(None),
        })
        .exec_without_returning(&self.db)
        .await
        .expect("insert a user");
        id
    }

    /// Everything the store keeps, as text.
    async fn raw_contents(&self) -> String {
        if let Some(prefix) = &self.redis_prefix {
            let mut redis = redis_connection();
            let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query(&mut redis).unwrap();
            let mut all = String::new();
            for key in keys {
                let kind: String = redis::cmd("TYPE").arg(&key).query(&mut redis).unwrap();
                let values: Vec<String> = match kind.as_str() {
                    "hash" => redis::cmd("HGETALL").arg(&key).query(&mut redis).unwrap(),
                    _ => redis::cmd("SMEMBERS").arg(&key).query(&mut redis).unwrap(),
                };
                all.push_str(&format!("{key} {values:?}\n"));
            }
            return all;
        }
        match &self.dir {
            Some(dir) => {
                let mut all = String::new();
                for entry in walk(dir) {
                    all.push_str(&entry.display().to_string());
                    all.push('\n');
                    all.push_str(&String::from_utf8_lossy(&std::fs::read(&entry).unwrap()));
                }
                all
            }
            None => {
                let rows = self
                    .db
                    .query_all_raw(sea_orm::Statement::from_string(
                        self.db.get_database_backend(),
                        "SELECT id, user_agent, ip FROM sessions",
                    ))
                    .await
                    .unwrap();
                rows.iter()
                    .flat_map(|row| {
                        ["id", "user_agent", "ip"]
                            .map(|column| row.try_get::<Option<String>>("", column).unwrap().unwrap_or_default())
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        }
    }
}

impl Fixture {
    /// A fresh directory for a second store, removed with the fixture.
    fn dir_for_target(&self) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("roster-sessions-{}", Uuid::new_v4().simple()));
        self.extra_dirs.lock().unwrap().push(dir.clone());
        dir
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        for dir in self.extra_dirs.lock().unwrap().iter() {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(prefix) = &self.redis_prefix {
            let mut redis = redis_connection();
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(format!("{prefix}*"))
                .query(&mut redis)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(keys).query(&mut redis);
            }
        }
    }
}

fn redis_connection() -> redis::Connection {
    redis::Client::open(test_redis_url()).unwrap().get_connection().unwrap()
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Timestamps as every store keeps them (PostgreSQL keeps microseconds).
fn now() -> DateTime<Utc> {
    Utc::now().duration_trunc(Duration::microseconds(1)).unwrap()
}

fn record(user_id: Uuid, token: &SessionToken, created_at: DateTime<Utc>) -> SessionRecord {
    SessionRecord {
        token_hash: token.hash(),
        public_id: Uuid::new_v4(),
        user_id,
        created_at,
        last_seen_at: created_at,
        expires_at: created_at + Duration::days(14),
        user_agent: Some("Conformance/1.0".into()),
        ip: Some("192.0.2.7".into()),
        impersonator_id: None,
    }
}

/// Replacing is what a move between stores relies on (running it twice is
/// harmless): the second write wins whole, including over a later touch.
async fn writing_a_session_again_replaces_it(kind: Kind) {
    let f = Fixture::new(kind).await;
    let user = f.user().await;
    let token = SessionToken::generate();
    let first = record(user, &token, now());
    f.store.insert(first.clone()).await.unwrap();
    f.store
        .touch(&token.hash(), now() + Duration::seconds(5))
        .await
        .unwrap();
    let mut second = record(user, &token, now() - Duration::hours(1));
    second.public_id = first.public_id;
    second.user_agent = Some("Replaced/2.0".into());
    f.other_process.insert(second.clone()).await.unwrap();
    assert_eq!(f.store.get(&token.hash()).await.unwrap(), Some(second.clone()));
    assert_eq!(f.store.list_for_user(user).await.unwrap(), vec![second]);
}

/// `all` lists every session the store holds, for `roster sessions migrate`, which
/// moves the live ones to another store and empties this one.
async fn every_session_can_be_listed_and_moved_to_another_store(kind: Kind) {
    let f = Fixture::new(kind).await;
    let (ada, bob) = (f.user().await, f.user().await);
    let mut written = Vec::new();
    // Bob's was last used two hours ago: live for the stores (a day's idle timeout),
    // but not for the stricter policy the move is given below.
    for (user, age) in [
        (ada, Duration::zero()),
        (ada, Duration::minutes(5)),
        (bob, Duration::hours(2)),
    ] {
        let r = record(user, &SessionToken::generate(), now() - age);
        f.store.insert(r.clone()).await.unwrap();
        written.push(r);
    }
    let by_hash = |mut records: Vec<SessionRecord>| {
        records.sort_by(|a, b| a.token_hash.cmp(&b.token_hash));
        records
    };
    assert_eq!(by_hash(f.other_process.all().await.unwrap()), by_hash(written.clone()));

    // Into a store of another kind: a directory, or the database for the directory store.
    let target: Arc<dyn SessionStore> = match kind {
        Kind::Directory => Arc::new(DbSessionStore::new(f.db.clone())),
        _ => Arc::new(DirectorySessionStore::open(f.dir_for_target()).unwrap()),
    };
    let policy = SessionPolicy {
        lifetime: Duration::days(14),
        short_lifetime: Duration::hours(12),
        idle_timeout: Duration::hours(1),
        reauth_window: Duration::minutes(10),
    };
    let done = app::ssr::sessions::move_sessions(f.store.as_ref(), target.as_ref(), policy, Utc::now())
        .await
        .unwrap();
    assert_eq!(done, app::ssr::sessions::Moved { moved: 2, dropped: 1 });
    assert_eq!(by_hash(target.all().await.unwrap()), by_hash(written[..2].to_vec()));
    assert!(f.store.all().await.unwrap().is_empty(), "the source keeps none");
    // Again: nothing left to move, and the target is unchanged.
    let again = app::ssr::sessions::move_sessions(f.store.as_ref(), target.as_ref(), policy, Utc::now())
        .await
        .unwrap();
    assert_eq!(again, app::ssr::sessions::Moved::default());
    assert_eq!(target.all().await.unwrap().len(), 2);
}

async fn a_session_reads_back_as_it_was_written(kind: Kind) {
    let f = Fixture::new(kind).await;
    let user = f.user().await;
    let token = SessionToken::generate();
    let written = record(user, &token, now());
    f.store.insert(written.clone()).await.unwrap();
    assert_eq!(f.store.get(&token.hash()).await.unwrap(), Some(written.clone()));
    assert_eq!(
        f.other_process.get(&token.hash()).await.unwrap(),
        Some(written),
        "another process sees it"
    );
    assert_eq!(f.store.get(&SessionToken::generate().hash()).await.unwrap(), None);
    // A "view as" session keeps the administrator it was started by.
    let admin = f.user().await;
    let viewed = SessionToken::generate();
    let viewing = SessionRecord {
        impersonator_id: Some(admin),
        ..record(user, &viewed, now())
    };
    f.store.insert(viewing.clone()).await.unwrap();
    assert_eq!(f.other_process.get(&viewed.hash()).await.unwrap(), Some(viewing));
    f.store.ping().await.unwrap();
}

async fn touching_moves_last_seen_and_never_creates_a_session(kind: Kind) {
    let f = Fixture::new(kind).await;
    let user = f.user().await;
    let token = SessionToken::generate();
    let created = now() - Duration::hours(1);
    f.store.insert(record(user, &token, created)).await.unwrap();
    let later = now();
    f.store.touch(&token.hash(), later).await.unwrap();
    let read = f.store.get(&token.hash()).await.unwrap().unwrap();
    assert_eq!(read.last_seen_at, later);
    assert_eq!(read.created_at, created, "only last seen moves");

    let stranger = SessionToken::generate();
    f.store.touch(&stranger.hash(), later).await.unwrap();
    assert_eq!(f.store.get(&stranger.hash()).await.unwrap(), None);

    // A touch racing a removal never brings the session back.
    f.store.remove(&token.hash()).await.unwrap();
    f.other_process.touch(&token.hash(), now()).await.unwrap();
    assert_eq!(f.store.get(&token.hash()).await.unwrap(), None);
    assert!(f.store.list_for_user(user).await.unwrap().is_empty());
}

async fn expiry_is_enforced_idle_and_absolute(kind: Kind) {
    let f = Fixture::new(kind).await;
    let user = f.user().await;
    let policy = SessionPolicy {
        lifetime: Duration::days(14),
        short_lifetime: Duration::hours(12),
        idle_timeout: Duration::hours(24),
        reauth_window: Duration::minutes(10),
    };
    let service = SessionService::new(
        f.db.clone(),
        f.store.clone(),
        PrincipalCache::new(std::time::Duration::ZERO, 0),
        policy,
        AuditLog::new(f.db.clone()),
    );

    let fresh = SessionToken::generate();
    f.store.insert(record(user, &fresh, now())).await.unwrap();
    let idle = SessionToken::generate();
    let mut idle_record = record(user, &idle, now() - Duration::hours(30));
    idle_record.expires_at = now() + Duration::days(1);
    f.store.insert(idle_record).await.unwrap();
    let expired = SessionToken::generate();
    let mut expired_record = record(user, &expired, now() - Duration::minutes(5));
    expired_record.expires_at = now() - Duration::seconds(1);
    f.store.insert(expired_record).await.unwrap();

    assert_eq!(service.resolve(Some(&fresh)).await.unwrap().map(|u| u.id), Some(user));
    assert_eq!(service.resolve(Some(&idle)).await.unwrap(), None, "idle too long");
    assert_eq!(
        service.resolve(Some(&expired)).await.unwrap(),
        None,
        "past its lifetime"
    );
    for token in [&idle, &expired] {
        assert_eq!(
            f.store.get(&token.hash()).await.unwrap(),
            None,
            "an ended session is removed when it is found ended"
        );
    }

    // A session used within the idle timeout is kept alive by the touch.
    let busy = SessionToken::generate();
    f.store
        .insert(record(user, &busy, now() - Duration::hours(23)))
        .await
        .unwrap();
    assert!(service.resolve(Some(&busy)).await.unwrap().is_some());
    let touched = f.store.get(&busy.hash()).await.unwrap().unwrap();
    assert!(now() - touched.last_seen_at < Duration::minutes(1), "touched on use");
}

async fn revoking_one_session_leaves_the_others(kind: Kind) {
    let f = Fixture::new(kind).await;
    let (user, stranger) = (f.user().await, f.user().await);
    let tokens: Vec<_> = (0..3).map(|_| SessionToken::generate()).collect();
    let mut records = Vec::new();
    for token in &tokens {
        let r = record(user, token, now());
        f.store.insert(r.clone()).await.unwrap();
        records.push(r);
    }
    f.store.remove(&tokens[0].hash()).await.unwrap();
    f.store.remove(&tokens[0].hash()).await.unwrap();
    assert_eq!(f.store.get(&tokens[0].hash()).await.unwrap(), None);

    assert!(
        !f.store
            .remove_by_public_id(stranger, records[1].public_id)
            .await
            .unwrap(),
        "only the owner can name it"
    );
    assert!(f.store.get(&tokens[1].hash()).await.unwrap().is_some());
    assert!(
        f.other_process
            .remove_by_public_id(user, records[1].public_id)
            .await
            .unwrap()
    );
    assert!(
        !f.store.remove_by_public_id(user, records[1].public_id).await.unwrap(),
        "already gone"
    );
    assert_eq!(f.store.get(&tokens[1].hash()).await.unwrap(), None);
    let left: Vec<_> = f.store.list_for_user(user).await.unwrap();
    assert_eq!(left, vec![records[2].clone()]);
}

async fn revoking_all_of_a_users_sessions_can_keep_one(kind: Kind) {
    let f = Fixture::new(kind).await;
    let (user, other) = (f.user().await, f.user().await);
    let mine: Vec<_> = (0..4).map(|_| SessionToken::generate()).collect();
    for token in &mine {
        f.store.insert(record(user, token, now())).await.unwrap();
    }
    let theirs = SessionToken::generate();
    f.store.insert(record(other, &theirs, now())).await.unwrap();

    let ended = f.store.remove_all_for_user(user, Some(&mine[0].hash())).await.unwrap();
    assert_eq!(ended, 3);
    assert!(f.store.get(&mine[0].hash()).await.unwrap().is_some(), "the kept one");
    for token in &mine[1..] {
        assert_eq!(f.store.get(&token.hash()).await.unwrap(), None);
    }
    assert!(
        f.store.get(&theirs.hash()).await.unwrap().is_some(),
        "other users keep theirs"
    );
    assert_eq!(f.store.remove_all_for_user(user, None).await.unwrap(), 1);
    assert!(f.store.list_for_user(user).await.unwrap().is_empty());
    assert_eq!(f.store.list_for_user(other).await.unwrap().len(), 1);
}

async fn a_users_sessions_are_listed_newest_first(kind: Kind) {
    let f = Fixture::new(kind).await;
    let (user, other) = (f.user().await, f.user().await);
    let start = now() - Duration::hours(3);
    let mut expected = Vec::new();
    for hours in [1, 0, 2] {
        let r = record(user, &SessionToken::generate(), start + Duration::hours(hours));
        f.store.insert(r.clone()).await.unwrap();
        expected.push(r);
    }
    f.store
        .insert(record(other, &SessionToken::generate(), now()))
        .await
        .unwrap();
    expected.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    assert_eq!(f.store.list_for_user(user).await.unwrap(), expected);
    assert_eq!(f.other_process.list_for_user(user).await.unwrap(), expected);
    assert!(f.store.list_for_user(Uuid::now_v7()).await.unwrap().is_empty());
}

async fn the_sweep_removes_expired_sessions_only(kind: Kind) {
    let f = Fixture::new(kind).await;
    let user = f.user().await;
    let live = SessionToken::generate();
    f.store.insert(record(user, &live, now())).await.unwrap();
    let mut ended = Vec::new();
    for _ in 0..2 {
        let token = SessionToken::generate();
        let mut r = record(user, &token, now() - Duration::days(20));
        r.expires_at = now() - Duration::days(6);
        f.store.insert(r).await.unwrap();
        ended.push(token);
    }
    let swept = f.store.remove_expired(now()).await.unwrap();
    // Redis expires sessions by itself: its sweep has nothing left to remove.
    assert_eq!(swept, if kind == Kind::Redis { 0 } else { 2 });
    assert!(f.store.get(&live.hash()).await.unwrap().is_some());
    for token in &ended {
        assert_eq!(f.store.get(&token.hash()).await.unwrap(), None);
    }
    assert_eq!(f.store.list_for_user(user).await.unwrap().len(), 1);
    assert_eq!(f.store.remove_expired(now()).await.unwrap(), 0, "nothing twice");
}

/// `roster_active_sessions` comes from here: the database store counts the live
/// sessions (expired ones are not in use); the others say they cannot count cheaply.
async fn live_sessions_are_counted_where_counting_is_cheap(kind: Kind) {
    let f = Fixture::new(kind).await;
    let user = f.user().await;
    for _ in 0..2 {
        f.store
            .insert(record(user, &SessionToken::generate(), now()))
            .await
            .unwrap();
    }
    let mut expired = record(user, &SessionToken::generate(), now() - Duration::days(20));
    expired.expires_at = now() - Duration::days(6);
    f.store.insert(expired).await.unwrap();
    let counted = f.store.count_live(now()).await.unwrap();
    match kind {
        Kind::Database(_) => assert_eq!(counted, Some(2)),
        Kind::Directory | Kind::Redis => assert_eq!(counted, None),
    }
}

async fn two_processes_racing_on_one_user_stay_consistent(kind: Kind) {
    let f = Fixture::new(kind).await;
    let user = f.user().await;
    // Two processes sign the same user in 20 times each, while one of them signs the
    // user out everywhere halfway through.
    let sign_ins = |store: Arc<dyn SessionStore>| async move {
        let mut tokens = Vec::new();
        for _ in 0..20 {
            let token = SessionToken::generate();
            store.insert(record(user, &token, now())).await.unwrap();
            tokens.push(token);
        }
        tokens
    };
    let a = tokio::spawn(sign_ins(f.store.clone()));
    let b = tokio::spawn(sign_ins(f.other_process.clone()));
    let everywhere = {
        let store = f.other_process.clone();
        tokio::spawn(async move { store.remove_all_for_user(user, None).await.unwrap() })
    };
    let tokens: Vec<_> = a.await.unwrap().into_iter().chain(b.await.unwrap()).collect();
    let ended = everywhere.await.unwrap();

    // Every session is either listed and readable, or gone from both views.
    let listed: Vec<String> = f
        .store
        .list_for_user(user)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.token_hash)
        .collect();
    let mut readable = 0;
    for token in &tokens {
        let exists = f.store.get(&token.hash()).await.unwrap().is_some();
        assert_eq!(
            exists,
            listed.contains(&token.hash()),
            "the index and the records agree"
        );
        readable += u64::from(exists);
    }
    assert_eq!(readable + ended, 40, "every sign-in either lives or was ended once");
    assert_eq!(f.store.remove_all_for_user(user, None).await.unwrap(), readable);
    assert!(f.other_process.list_for_user(user).await.unwrap().is_empty());
}

async fn tokens_are_never_stored_in_the_clear(kind: Kind) {
    let f = Fixture::new(kind).await;
    let user = f.user().await;
    let token = SessionToken::generate();
    f.store.insert(record(user, &token, now())).await.unwrap();
    f.store.touch(&token.hash(), now()).await.unwrap();
    let raw = f.raw_contents().await;
    assert!(raw.contains(&token.hash()), "the store keys by the hash");
    assert!(!raw.contains(token.expose()), "and never holds the token");
}

/// The directory store's own promises: private files, atomic writes, and what a
/// crash can leave behind cleaned up by the sweep.
#[tokio::test]
async fn the_directory_store_keeps_private_files_and_cleans_up_after_crashes() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new(Kind::Directory).await;
    let dir = f.dir.clone().unwrap();
    let user = f.user().await;
    let token = SessionToken::generate();
    f.store.insert(record(user, &token, now())).await.unwrap();
    f.store.touch(&token.hash(), now()).await.unwrap();
    for path in walk(&dir) {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    for sub in ["", "sessions", "users", "tmp"] {
        let mode = std::fs::metadata(dir.join(sub)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{sub}/");
    }
    assert!(
        std::fs::read_dir(dir.join("tmp")).unwrap().next().is_none(),
        "no temp file left after a write"
    );

    // What a crash can leave: an index marker without its record, a `.seen` file
    // without its record, an abandoned temp file.
    let ghost = SessionToken::generate().hash();
    let user_dir = dir.join("users").join(user.simple().to_string());
    std::fs::write(user_dir.join(&ghost), b"").unwrap();
    std::fs::write(dir.join("sessions").join(format!("{ghost}.seen")), b"x").unwrap();
    let abandoned = dir.join("tmp").join("abandoned");
    std::fs::write(&abandoned, b"half").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for crashed in [&abandoned, &user_dir.join(&ghost)] {
        std::fs::File::options()
            .write(true)
            .open(crashed)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    // A young marker without its record is an insert in progress, not a crash.
    let arriving = SessionToken::generate().hash();
    std::fs::write(user_dir.join(&arriving), b"").unwrap();

    assert_eq!(
        f.store.list_for_user(user).await.unwrap().len(),
        1,
        "a marker without its record lists nothing"
    );
    assert!(!user_dir.join(&ghost).exists(), "an old one is dropped when found");
    assert!(
        user_dir.join(&arriving).exists(),
        "a young one stays, so the session it announces is listed once written"
    );
    assert_eq!(f.store.remove_expired(now()).await.unwrap(), 0);
    assert!(!dir.join("sessions").join(format!("{ghost}.seen")).exists());
    assert!(!abandoned.exists());
    assert!(f.store.get(&token.hash()).await.unwrap().is_some());

    // A name that is not a token hash never becomes a path.
    assert!(f.store.get("../../etc/passwd").await.is_err());
}

/// Redis expires sessions by itself, but not their hashes in the user's index set:
/// the sweep drops the members whose session is gone, and only those.
#[tokio::test]
async fn the_redis_sweep_drops_index_entries_of_sessions_redis_expired() {
    let f = Fixture::new(Kind::Redis).await;
    let prefix = f.redis_prefix.clone().unwrap();
    let user = f.user().await;
    let (kept, expired) = (SessionToken::generate(), SessionToken::generate());
    for token in [&kept, &expired] {
        f.store.insert(record(user, token, now())).await.unwrap();
    }
    let mut redis = redis_connection();
    // What Redis does when a session's TTL runs out: the session key goes, the
    // user's index set keeps its member.
    let _: i64 = redis::cmd("DEL")
        .arg(format!("{prefix}session:{}", expired.hash()))
        .query(&mut redis)
        .unwrap();
    let index = format!("{prefix}user:{user}");
    let members = |redis: &mut redis::Connection| -> Vec<String> {
        let mut members: Vec<String> = redis::cmd("SMEMBERS").arg(&index).query(redis).unwrap();
        members.sort();
        members
    };
    assert_eq!(members(&mut redis).len(), 2, "{:?}", f.raw_contents().await);
    assert_eq!(
        f.store.remove_expired(now()).await.unwrap(),
        0,
        "Redis removed the session itself"
    );
    assert_eq!(members(&mut redis), vec![kept.hash()]);
    assert!(f.store.get(&kept.hash()).await.unwrap().is_some());
}

/// The whole application on the directory store: sign-in writes a file, the
/// session works, sign-out removes it.
#[tokio::test]
async fn the_application_runs_on_the_directory_store() {
    let dir = std::env::temp_dir().join(format!("roster-sessions-{}", Uuid::new_v4().simple()));
    let dir_arg = dir.to_str().unwrap().to_owned();
    let app = crate::helpers::spawn_app_with(
        Backend::Sqlite,
        &["--session-store", "directory", "--session-dir", &dir_arg],
    )
    .await;
    let (_, token) = app
        .register("Grace Hopper", "grace@example.com", "correct horse battery")
        .await;
    let files = || walk(&dir.join("sessions")).len();
    assert_eq!(files(), 1, "one session file");
    let me = app.me(Some(&token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["data"]["user"]["email"], "grace@example.com");
    let rows = app.execute_sql("DELETE FROM sessions").await;
    assert_eq!(rows, 0, "nothing in the database's table");
    assert_eq!(app.logout(Some(&token)).await.status, 200);
    assert_eq!(files(), 0, "sign-out removes it");
    app.me(Some(&token)).await.assert_error(401, "unauthenticated");
    let _ = std::fs::remove_dir_all(dir);
}

/// Processes sharing a session directory over SQLite cannot tell each other of a
/// sign-out, so the authentication cache keeps sessions only briefly there; on
/// PostgreSQL, NOTIFY carries every forget whatever the store.
#[tokio::test]
async fn the_directory_store_shortens_the_authentication_cache_without_notices() {
    let dir = std::env::temp_dir().join(format!("roster-sessions-{}", Uuid::new_v4().simple()));
    let dir_arg = dir.to_str().unwrap().to_owned();
    let directory = ["--session-store", "directory", "--session-dir", dir_arg.as_str()];
    let ttl = |app: &crate::helpers::TestApp| app.state.sessions.cache().ttl();
    let default = std::time::Duration::from_secs(30);

    let sqlite = crate::helpers::spawn_app_with(Backend::Sqlite, &directory).await;
    assert_eq!(ttl(&sqlite), roster::startup::DIRECTORY_STORE_CACHE_TTL);
    let postgres = crate::helpers::spawn_app_with(Backend::Postgres, &directory).await;
    assert_eq!(ttl(&postgres), default);
    let database_store = crate::helpers::spawn_app(Backend::Sqlite).await;
    assert_eq!(ttl(&database_store), default);
    let _ = std::fs::remove_dir_all(dir);
}

/// Redis forgets a session by itself at the earlier of its idle and absolute
/// deadlines, and a touch moves the idle one.
#[tokio::test]
async fn redis_expires_a_session_at_its_earlier_deadline_and_a_touch_moves_it() {
    let f = Fixture::new(Kind::Redis).await;
    let prefix = f.redis_prefix.clone().unwrap();
    let user = f.user().await;
    let expiry_ms = |token: &SessionToken| -> i64 {
        ::redis::cmd("PEXPIRETIME")
            .arg(format!("{prefix}session:{}", token.hash()))
            .query(&mut redis_connection())
            .unwrap()
    };
    let close = |a: i64, b: DateTime<Utc>| (a - b.timestamp_millis()).abs() < 1_000;

    // Idle for 23 of its 24 hours: an hour left.
    let token = SessionToken::generate();
    let seen = now() - Duration::hours(23);
    f.store.insert(record(user, &token, seen)).await.unwrap();
    assert!(close(expiry_ms(&token), seen + Duration::hours(24)));
    let at = now();
    f.store.touch(&token.hash(), at).await.unwrap();
    assert!(close(expiry_ms(&token), at + Duration::hours(24)), "the touch moved it");

    // Two hours of lifetime left: the absolute deadline comes first, touch or not.
    let ending = SessionToken::generate();
    let mut r = record(user, &ending, now());
    r.expires_at = now() + Duration::hours(2);
    f.store.insert(r.clone()).await.unwrap();
    f.store.touch(&ending.hash(), now()).await.unwrap();
    assert!(close(expiry_ms(&ending), r.expires_at));
}

/// While Redis is down nobody is signed out and nothing answers 500: requests that
/// need a session get 503 `unavailable` with Retry-After, readiness names the
/// session store, and a sign-in changes nothing. When Redis is back, the same
/// sessions work again, with no restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_is_503_for_a_while_and_signs_no_one_out() {
    let mut redis = OwnRedis::start();
    let url = redis.url();
    // The authentication cache off: every request asks Redis.
    let app = crate::helpers::spawn_app_with(
        Backend::Sqlite,
        &[
            "--session-store",
            "redis",
            "--redis-url",
            &url,
            "--auth-cache-ttl",
            "0s",
        ],
    )
    .await;
    let password = "correct horse battery";
    let (_, token) = app.register("Grace Hopper", "grace@example.com", password).await;
    assert_eq!(app.me(Some(&token)).await.status, 200);
    let events_before = recorded(&app).await;

    redis.stop();
    let me = app.me(Some(&token)).await;
    me.assert_error(503, "unavailable");
    assert_eq!(me.headers["retry-after"], "5");
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.body["checks"]["session_store"], "failing");
    assert_eq!(ready.body["checks"]["database"], "ok");
    app.login_as("grace@example.com", password, None)
        .await
        .assert_error(503, "unavailable");
    app.logout(Some(&token)).await.assert_error(503, "unavailable");
    let metrics = app.get("/metrics", None).await;
    let unreachable = metrics.body.as_str().unwrap().lines().any(|line| {
        line.starts_with("roster_session_store_errors_total{")
            && line.contains("store=\"redis\"")
            && line.contains("kind=\"unreachable\"")
            && !line.ends_with(" 0")
    });
    assert!(unreachable, "the store's failures are counted");
    let page = app.get("/account", Some(&token)).await;
    assert_eq!(page.status, 503, "a page that needs the session says so");
    let html = page.body.as_str().unwrap_or_default();
    assert!(html.contains("cannot be reached just now"), "and shows why: {html}");

    redis.resume();
    crate::helpers::eventually(10, "the session works again", || async {
        app.me(Some(&token)).await.status == 200
    })
    .await;
    assert_eq!(app.get("/readyz", None).await.status, 200);
    assert_eq!(
        recorded(&app).await,
        events_before,
        "nothing the outage refused was recorded as done"
    );
}

/// What the audit log and the sign-in throttle hold, as text.
async fn recorded(app: &crate::helpers::TestApp) -> String {
    let backend = app.db.get_database_backend();
    let mut all = String::new();
    for sql in [
        "SELECT action FROM audit_events ORDER BY id",
        "SELECT CAST(failures AS TEXT) AS action FROM login_throttles",
    ] {
        let rows = app
            .db
            .query_all_raw(sea_orm::Statement::from_string(backend, sql))
            .await
            .unwrap();
        for row in rows {
            all.push_str(&row.try_get::<String>("", "action").unwrap());
            all.push('\n');
        }
    }
    all
}
