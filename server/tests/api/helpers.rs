use roster::configuration::Cli;
use roster::startup::Application;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::LazyLock;
use uuid::Uuid;

/// Tests are quiet; `TEST_LOG=1 cargo test …` shows the servers' logs (debug level).
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        std::mem::forget(roster::telemetry::init("debug", false, None, 1, false));
    }
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for each scenario function.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name($crate::helpers::Backend::Postgres).await }
            )*
        }
    };
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub db: DatabaseConnection,
    pub cookie_name: String,
    pub state: app::ssr::state::AppState,
    /// The fresh database this app runs on.
    pub url: String,
    /// The signed-out page cache, unless turned off.
    pub page_cache: Option<roster::page_cache::PageCache>,
}

/// The Redis the tests keep sessions in: a database number of its own, and a key
/// prefix per test database or fixture.
pub fn test_redis_url() -> String {
    std::env::var("ROSTER_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/15".into())
}

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("ROSTER_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

pub async fn fresh_database_url(backend: Backend) -> String {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("roster-tests");
            format!("sqlite://{}/{unique}.db", dir.display())
        }
        Backend::Postgres => {
            let admin = postgres_admin_url();
            let server = Database::connect(format!("{admin}/postgres"))
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL must be running for these tests ({admin}): {e}"));
            let name = format!("roster_test_{unique}");
            server
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            server.close().await.ok();
            format!("{admin}/{name}")
        }
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// Starts the real application on port 0 with a fresh database and extra flags.
pub async fn spawn_app_with(backend: Backend, extra: &[&str]) -> TestApp {
    let url = fresh_database_url(backend).await;
    spawn_app_on(&url, extra).await
}

/// The settings a test server runs with: the defaults plus `extra`, never the
/// environment's `ROSTER_*` variables.
/// The key test servers seal second-factor secrets with.
pub const TEST_SECRET_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

pub fn test_settings(url: &str, extra: &[&str]) -> roster::configuration::Settings {
    let mut args = vec![
        "roster",
        "--addr",
        "127.0.0.1:0",
        "--database-url",
        url,
        "--hash-concurrency",
        "2",
    ];
    // Tests register many accounts from one address; the limit has its own test.
    if !extra.contains(&"--register-max-per-ip") {
        args.extend(["--register-max-per-ip", "1000000"]);
    }
    // `ROSTER_TEST_SESSION_STORE=redis` runs the suite again with sessions in Redis,
    // under a key prefix per database (servers sharing a database share sessions, as
    // they would in production), unless the test names its own store.
    let redis_prefix = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        url.hash(&mut hasher);
        format!("roster_test:{:016x}:", hasher.finish())
    };
    let redis_url = test_redis_url();
    if std::env::var("ROSTER_TEST_SESSION_STORE").as_deref() == Ok("redis") && !extra.contains(&"--session-store") {
        args.extend_from_slice(&[
            "--session-store",
            "redis",
            "--redis-url",
            &redis_url,
            "--redis-prefix",
            &redis_prefix,
        ]);
    }
    // A fixed key: a test server never writes one into the source tree.
    if !extra.contains(&"--secret-key") {
        args.extend(["--secret-key", TEST_SECRET_KEY]);
    }
    // Mail with no SMTP goes to files: never into the source tree.
    let mail_dir = std::env::temp_dir().join("roster-test-mail");
    let mail_dir = mail_dir.to_string_lossy().into_owned();
    if !extra.contains(&"--mail-dir") {
        args.extend(["--mail-dir", &mail_dir]);
    }
    args.extend_from_slice(extra);
    Cli::try_parse_flags_only(args).expect("test settings parse").settings
}

/// Starts another server process's worth of application on an existing database,
/// as a second instance behind a load balancer would be.
pub async fn spawn_app_on(url: &str, extra: &[&str]) -> TestApp {
    LazyLock::force(&TRACING);
    let settings = test_settings(url, extra);
    let app = Application::build(&settings).await.expect("application starts");
    let base = format!("http://{}", app.local_addr());
    let db = app.state().db.clone();
    let cookie_name = app.state().cookies.name.clone();
    let state = app.state().clone();
    let page_cache = app.page_cache().cloned();
    tokio::spawn(app.run_until_stopped());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        base,
        http,
        db,
        cookie_name,
        state,
        url: url.to_owned(),
        page_cache,
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The session token this response set, if any.
    pub fn session_cookie(&self, name: &str) -> Option<String> {
        self.set_cookie(name)
            .map(|c| c.split(';').next().unwrap().split_once('=').unwrap().1.to_owned())
    }

    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// Asserts the failure envelope shape and returns the error code.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["success"], false, "body: {}", self.body);
        assert!(self.body["data"].is_null(), "body: {}", self.body);
        assert_eq!(self.code(), code, "body: {}", self.body);
        assert!(self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("request reaches the server");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, headers, body }
    }

    /// The one way a test request carries a session: the cookie header, if a token is given.
    pub fn with_session(&self, req: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
        match token {
            Some(token) => req.header("cookie", format!("{}={token}", self.cookie_name)),
            None => req,
        }
    }

    pub async fn post_json(&self, path: &str, body: Value, token: Option<&str>) -> Reply {
        let req = self.http.post(self.url(path)).json(&body);
        self.send(self.with_session(req, token)).await
    }

    /// Any method, an optional JSON body, an optional session token.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>, token: Option<&str>) -> Reply {
        let mut req = self.http.request(method.parse().unwrap(), self.url(path));
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.send(self.with_session(req, token)).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let req = self.http.get(self.url(path));
        self.send(self.with_session(req, token)).await
    }

    /// Posts a raw body with the given content type (or none), bypassing JSON encoding.
    pub async fn post_raw(&self, path: &str, content_type: Option<&str>, body: String) -> Reply {
        let mut req = self.http.post(self.url(path)).body(body);
        if let Some(content_type) = content_type {
            req = req.header("content-type", content_type);
        }
        self.send(req).await
    }

    /// Calls a server function the way the hydrated page does.
    pub async fn rpc(&self, endpoint: &str, form: &str, token: &str) -> Reply {
        let req = self
            .http
            .post(self.url(&format!("/rpc/{endpoint}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned());
        self.send(self.with_session(req, Some(token))).await
    }

    /// Posts a form the way a browser without JavaScript does.
    pub async fn post_form(&self, path: &str, from: &str, fields: &[(&str, &str)], token: Option<&str>) -> Reply {
        let req = self
            .http
            .post(self.url(path))
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", self.url(from))
            .form(fields);
        self.send(self.with_session(req, token)).await
    }

    // One helper per endpoint of the JSON API.

    /// `GET /api/me`.
    pub async fn me(&self, token: Option<&str>) -> Reply {
        self.get("/api/me", token).await
    }

    /// `POST /api/logout`.
    pub async fn logout(&self, token: Option<&str>) -> Reply {
        self.post_json("/api/logout", json!({}), token).await
    }

    /// `POST /api/login` with these credentials.
    pub async fn login_as(&self, email: &str, password: &str, token: Option<&str>) -> Reply {
        self.post_json("/api/login", json!({"email": email, "password": password}), token)
            .await
    }

    /// `GET /api/users` with a query string (`"limit=5&q=x"`, or `""`).
    pub async fn list_users(&self, query: &str, token: Option<&str>) -> Reply {
        self.get(&format!("/api/users?{query}"), token).await
    }

    /// `POST /api/users`.
    pub async fn create_user(&self, body: Value, token: Option<&str>) -> Reply {
        self.call("POST", "/api/users", Some(body), token).await
    }

    /// `GET /api/users/:id`.
    pub async fn get_user(&self, id: &str, token: Option<&str>) -> Reply {
        self.get(&format!("/api/users/{id}"), token).await
    }

    /// `PUT /api/users/:id`.
    pub async fn update_user(&self, id: &str, body: Value, token: Option<&str>) -> Reply {
        self.call("PUT", &format!("/api/users/{id}"), Some(body), token).await
    }

    /// `DELETE /api/users/:id`, with an optional body (`{"password"}` for oneself).
    pub async fn delete_user(&self, id: &str, body: Option<Value>, token: Option<&str>) -> Reply {
        self.call("DELETE", &format!("/api/users/{id}"), body, token).await
    }

    /// `GET /api/audit` with a query string.
    pub async fn audit(&self, query: &str, token: Option<&str>) -> Reply {
        self.get(&format!("/api/audit?{query}"), token).await
    }

    /// Makes an existing account an administrator through the service, as
    /// `roster create-admin` does (which also sets the password given).
    pub async fn make_admin(&self, email: &str, password: &str) {
        let (user, created) = self
            .state
            .users
            .create_or_promote_admin(email, "Admin", password)
            .await
            .expect("promote");
        assert!(!created, "{email} exists: {}", user.email);
    }

    /// Changes sessions or accounts straight in the database, as an operator's SQL
    /// would, and tells the authentication cache (which cannot see such changes).
    /// Every session the app's store holds, whichever store it is.
    pub async fn stored_sessions(&self) -> Vec<app::ssr::sessions::SessionRecord> {
        self.state
            .sessions
            .store()
            .all()
            .await
            .expect("the session store answers")
    }

    /// Rewrites every stored session as `change` says, behind the application's
    /// back (as time passing would), and empties the authentication cache.
    pub async fn change_stored_sessions(&self, change: impl Fn(&mut app::ssr::sessions::SessionRecord)) {
        let store = self.state.sessions.store();
        for mut record in self.stored_sessions().await {
            change(&mut record);
            store.insert(record).await.expect("the session store answers");
        }
        self.state.sessions.cache().forget_all().await;
    }

    pub async fn execute_sql(&self, sql: &str) -> u64 {
        let done = self.db.execute_unprepared(sql).await.expect("SQL runs");
        self.state.sessions.cache().forget_all().await;
        done.rows_affected()
    }

    /// Signs in (which must succeed) and returns the new session token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let reply = self.login_as(email, password, None).await;
        assert_eq!(reply.status, 200, "sign-in failed: {}", reply.body);
        reply
            .session_cookie(&self.cookie_name)
            .expect("sign-in sets the session cookie")
    }

    /// Registers a fresh user and returns (reply, session token).
    pub async fn register(&self, name: &str, email: &str, password: &str) -> (Reply, String) {
        let reply = self
            .post_json(
                "/api/register",
                json!({"name": name, "email": email, "password": password}),
                None,
            )
            .await;
        assert_eq!(reply.status, 201, "registration failed: {}", reply.body);
        let token = reply
            .session_cookie(&self.cookie_name)
            .expect("registration sets the session cookie");
        (reply, token)
    }
}

/// A person using the app: generated, stored by registering through the API, and
/// signed in (`token` is their current session).
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub password: String,
    pub token: String,
}

impl TestUser {
    /// Registers a new user with a unique email and a fixed, valid password.
    pub async fn generate(app: &TestApp) -> Self {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        Self::store(app, &format!("User {}", &tag[..8]), &format!("user-{tag}@example.com")).await
    }

    /// Registers a user with this name and email.
    pub async fn store(app: &TestApp, name: &str, email: &str) -> Self {
        let password = "correct horse battery".to_owned();
        let (reply, token) = app.register(name, email, &password).await;
        Self {
            id: reply.body["data"]["user"]["id"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
            password,
            token,
        }
    }

    /// Registers a user and makes them an administrator through the service.
    pub async fn admin(app: &TestApp, email: &str) -> Self {
        let user = Self::store(app, "Admin", email).await;
        app.make_admin(&user.email, &user.password).await;
        user
    }

    /// Signs in again: a new session, which becomes `token`.
    pub async fn log_in(&mut self, app: &TestApp) -> &str {
        self.token = app.login(&self.email, &self.password).await;
        &self.token
    }
}

/// Waits for a condition that another task or process brings about, polling, for at
/// most `seconds`; fails the test with `what` if it never holds.
pub async fn eventually<F, Fut>(seconds: u64, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !condition().await {
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Runs SQL as the PostgreSQL superuser on the server's maintenance database.
pub async fn postgres_admin(sql: &str) {
    let server = Database::connect(format!("{}/postgres", postgres_admin_url()))
        .await
        .expect("PostgreSQL answers");
    server.execute_unprepared(sql).await.expect("admin SQL runs");
    server.close().await.ok();
}

/// The database name in a PostgreSQL URL.
pub fn database_name(url: &str) -> &str {
    url.rsplit('/').next().expect("a database name")
}

/// A loopback port nothing listens on (the OS picked it free a moment ago).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `redis-server` of the test's own on a free port, with its data kept on disk
/// so that stopping and starting it again keeps the sessions.
pub struct OwnRedis {
    port: u16,
    dir: PathBuf,
    process: Option<std::process::Child>,
}

impl OwnRedis {
    pub fn start() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("roster-redis-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut redis = Self {
            port,
            dir,
            process: None,
        };
        redis.resume();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn answers(&self) -> bool {
        ::redis::Client::open(self.url())
            .and_then(|c| c.get_connection_with_timeout(std::time::Duration::from_millis(200)))
            .and_then(|mut c| ::redis::cmd("PING").query::<String>(&mut c))
            .is_ok()
    }

    /// Starts the server (again) on the same port and data directory.
    pub fn resume(&mut self) {
        let process = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server is installed (Debian: redis-server)");
        self.process = Some(process);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !self.answers() {
            assert!(std::time::Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Runs one command on it, as `redis-cli` would.
    pub fn command(&self, args: &[&str]) -> ::redis::Value {
        let mut connection = ::redis::Client::open(self.url())
            .and_then(|c| c.get_connection_with_timeout(std::time::Duration::from_secs(2)))
            .expect("the test's own Redis answers");
        let mut command = ::redis::cmd(args[0]);
        for arg in &args[1..] {
            command.arg(*arg);
        }
        command.query(&mut connection).expect("the command succeeds")
    }

    /// Stops it the way an operator or a crash would: the process is gone.
    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill().unwrap();
            process.wait().unwrap();
        }
        assert!(!self.answers());
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A PostgreSQL primary and a streaming replica of the test's own, on free ports in a
/// temporary directory: `initdb`, then `pg_basebackup -R` from the primary and a second
/// `postgres` on the copy. PostgreSQL refuses to run as root, so as root every
/// command runs as the `postgres` user.
pub struct OwnPostgresPair {
    dir: PathBuf,
    bin: PathBuf,
    pub primary_port: u16,
    pub replica_port: u16,
}

impl OwnPostgresPair {
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server binaries (Debian: postgresql)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("pg_ctl").exists())
            .max()
            .expect("a PostgreSQL version under /usr/lib/postgresql");
        let dir = std::env::temp_dir().join(format!("roster-pg-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let pair = Self {
            dir,
            bin,
            primary_port: free_port(),
            replica_port: free_port(),
        };
        if is_root() {
            pair.run("chown", &["postgres:postgres", pair.dir.to_str().unwrap()], false);
        }
        let primary = pair.dir.join("primary");
        pair.run_pg(
            "initdb",
            &["-D", primary.to_str().unwrap(), "-U", "postgres", "--auth=trust", "-N"],
        );
        pair.configure(&primary, pair.primary_port);
        pair.pg_ctl(&primary, "start");
        pair.psql(pair.primary_port, "postgres", "CREATE DATABASE roster");
        let replica = pair.dir.join("replica");
        pair.run_pg(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &pair.primary_port.to_string(),
                "-U",
                "postgres",
                "-D",
                replica.to_str().unwrap(),
                "-R",
                "-X",
                "stream",
                // A fast checkpoint: the default spreads it over minutes.
                "--checkpoint=fast",
            ],
        );
        pair.configure(&replica, pair.replica_port);
        pair.start_replica();
        pair
    }

    fn configure(&self, data: &std::path::Path, port: u16) {
        use std::io::Write;
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .unwrap();
        writeln!(
            conf,
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\n\
             max_wal_senders = 4\nhot_standby = on\nwal_receiver_status_interval = 1s",
            self.dir.display()
        )
        .unwrap();
    }

    pub fn primary_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/roster", self.primary_port)
    }

    pub fn replica_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/roster", self.replica_port)
    }

    /// Runs SQL on the replica (`pg_wal_replay_pause()`, say).
    pub fn on_replica(&self, sql: &str) -> String {
        self.psql(self.replica_port, "roster", sql)
    }

    pub fn stop_replica(&self) {
        self.pg_ctl(&self.dir.join("replica"), "stop");
    }

    pub fn start_replica(&self) {
        self.pg_ctl(&self.dir.join("replica"), "start");
    }

    fn pg_ctl(&self, data: &std::path::Path, action: &str) {
        let log = data.with_extension("log");
        let mut args = vec!["-D", data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-w"];
        if action == "stop" {
            args.extend(["-m", "fast"]);
        }
        args.push(action);
        self.run_pg("pg_ctl", &args);
    }

    fn psql(&self, port: u16, database: &str, sql: &str) -> String {
        let port = port.to_string();
        self.run(
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-qAtc",
                sql,
            ],
            false,
        )
    }

    fn run_pg(&self, program: &str, args: &[&str]) -> String {
        let path = self.bin.join(program);
        self.run(path.to_str().unwrap(), args, is_root())
    }

    fn run(&self, program: &str, args: &[&str], as_postgres: bool) -> String {
        let mut command = if as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--", program]);
            c
        } else {
            std::process::Command::new(program)
        };
        let out = command.args(args).current_dir(&self.dir).output().expect("runs");
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for OwnPostgresPair {
    fn drop(&mut self) {
        for data in ["replica", "primary"] {
            let data = self.dir.join(data);
            let pg_ctl = self.bin.join("pg_ctl");
            let mut command = if is_root() {
                let mut c = std::process::Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(pg_ctl);
                c
            } else {
                std::process::Command::new(pg_ctl)
            };
            let postmaster = std::fs::read_to_string(data.join("postmaster.pid")).ok();
            let _ = command.arg("-D").arg(&data).args(["-m", "immediate", "stop"]).output();
            // Whatever pg_ctl could not stop must not outlive the test.
            if let Some(pid) = postmaster.as_deref().and_then(|p| p.lines().next()) {
                let _ = std::process::Command::new("kill").args(["-KILL", pid.trim()]).output();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A real SMTP server of the test's own (aiosmtpd, Debian's python3-aiosmtpd) on a
/// free loopback port, keeping every message it accepts in a Maildir; it can be
/// stopped and started again on the same port, as an outage would.
pub struct SmtpSink {
    port: u16,
    dir: PathBuf,
    process: Option<std::process::Child>,
    /// The user name and password it requires (AUTH without TLS), if any.
    login: Option<(String, String)>,
}

impl SmtpSink {
    pub fn start() -> Self {
        let mut sink = Self::stopped();
        sink.resume();
        sink
    }

    /// A sink that is not running yet, on a port nothing listens on.
    pub fn stopped() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("roster-smtp-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            port,
            dir,
            process: None,
            login: None,
        }
    }

    /// A sink that accepts mail only from a client that authenticates as `user`.
    pub fn requiring_login(user: &str, password: &str) -> Self {
        let mut sink = Self::stopped();
        sink.login = Some((user.to_owned(), password.to_owned()));
        sink.resume();
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The URL with credentials, as an operator writes `ROSTER_SMTP_URL`.
    pub fn url_as(&self, user: &str, password: &str) -> String {
        format!("smtp://{user}:{password}@127.0.0.1:{}", self.port)
    }

    fn answers(&self) -> bool {
        use std::io::Read as _;
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        stream.set_read_timeout(Some(std::time::Duration::from_secs(1))).ok();
        let mut greeting = [0u8; 3];
        stream.read_exact(&mut greeting).is_ok() && &greeting == b"220"
    }

    /// Starts (again) on the same port, keeping what was delivered.
    pub fn resume(&mut self) {
        // Debian's own interpreter: the package installs for it, not for another python3 on PATH.
        let maildir = self.dir.join("maildir");
        let mut command = std::process::Command::new("/usr/bin/python3");
        match &self.login {
            None => command
                .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{}", self.port)])
                .args(["-c", "aiosmtpd.handlers.Mailbox"])
                .arg(&maildir),
            Some((user, password)) => command
                .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_auth_sink.py"))
                .args(["127.0.0.1", &self.port.to_string()])
                .arg(&maildir)
                .args([user, password]),
        };
        let process = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("aiosmtpd is installed (Debian: python3-aiosmtpd)");
        self.process = Some(process);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while !self.answers() {
            assert!(std::time::Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill().ok();
            process.wait().ok();
        }
    }

    /// Every message delivered so far, as raw RFC 5322 bytes, oldest first.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let new = self.dir.join("maildir").join("new");
        let mut files: Vec<_> = std::fs::read_dir(&new)
            .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok());
        files.iter().filter_map(|path| std::fs::read(path).ok()).collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// One delivered message, parsed: its headers and its two parts, decoded.
pub struct Delivered {
    pub to: String,
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Delivered {
    pub fn parse(raw: &[u8]) -> Self {
        let mail = mailparse::parse_mail(raw).expect("a well-formed message");
        let header = |name: &str| {
            use mailparse::MailHeaderMap as _;
            mail.headers.get_first_value(name).unwrap_or_default()
        };
        let part = |mime: &str| {
            mail.subparts
                .iter()
                .find(|p| p.ctype.mimetype == mime)
                .map(|p| p.get_body().expect("a decodable part"))
                .unwrap_or_default()
        };
        Self {
            to: header("To"),
            from: header("From"),
            subject: header("Subject"),
            text: part("text/plain"),
            html: part("text/html"),
        }
    }
}
