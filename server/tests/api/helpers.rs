use clap::Parser;
use roster::configuration::Cli;
use roster::startup::Application;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy)]
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
}

/// The PostgreSQL server tests create their databases on.
fn postgres_admin_url() -> String {
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

/// Starts another server process's worth of application on an existing database,
/// as a second instance behind a load balancer would be.
pub async fn spawn_app_on(url: &str, extra: &[&str]) -> TestApp {
    let url = url.to_owned();
    let mut args = vec![
        "roster",
        "--addr",
        "127.0.0.1:0",
        "--database-url",
        &url,
        "--hash-concurrency",
        "2",
    ];
    args.extend_from_slice(extra);
    let settings = Cli::try_parse_from(args).expect("test settings parse").settings;
    let app = Application::build(&settings).await.expect("application starts");
    let base = format!("http://{}", app.local_addr());
    let db = app.state().db.clone();
    let cookie_name = app.state().cookies.name.clone();
    let state = app.state().clone();
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
        url: url.clone(),
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

    pub async fn post_json(&self, path: &str, body: Value, token: Option<&str>) -> Reply {
        let mut req = self.http.post(self.url(path)).json(&body);
        if let Some(token) = token {
            req = req.header("cookie", format!("{}={token}", self.cookie_name));
        }
        self.send(req).await
    }

    /// Any method, an optional JSON body, an optional session token.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>, token: Option<&str>) -> Reply {
        let mut req = self.http.request(method.parse().unwrap(), self.url(path));
        if let Some(body) = body {
            req = req.json(&body);
        }
        if let Some(token) = token {
            req = req.header("cookie", format!("{}={token}", self.cookie_name));
        }
        self.send(req).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut req = self.http.get(self.url(path));
        if let Some(token) = token {
            req = req.header("cookie", format!("{}={token}", self.cookie_name));
        }
        self.send(req).await
    }

    /// Makes an existing account an administrator, straight in the database (as
    /// an operator's SQL would), and tells the authentication cache.
    pub async fn make_admin(&self, email: &str) {
        use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
        let sql = format!("UPDATE users SET role = 'admin' WHERE email = '{email}'");
        let done = self.db.execute_unprepared(&sql).await.expect("promote");
        assert_eq!(done.rows_affected(), 1, "{email} exists");
        let user = app::ssr::entity::users::Entity::find()
            .filter(app::ssr::entity::users::Column::Email.eq(email))
            .one(&self.db)
            .await
            .unwrap()
            .unwrap();
        self.state.auth.principals().forget_user(user.id).await;
    }

    /// Changes sessions or accounts straight in the database, as an operator's SQL
    /// would, and tells the authentication cache (which cannot see such changes).
    pub async fn execute_sql(&self, sql: &str) -> u64 {
        use sea_orm::ConnectionTrait;
        let done = self.db.execute_unprepared(sql).await.expect("SQL runs");
        self.state.auth.principals().forget_all().await;
        done.rows_affected()
    }

    /// Signs in (which must succeed) and returns the new session token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let reply = self
            .post_json("/api/login", json!({"email": email, "password": password}), None)
            .await;
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
