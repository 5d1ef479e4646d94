//! Building and running the application: database, state, router, listener.

use crate::configuration::{SessionStoreKind, Settings, chrono_duration, redact_url};
use crate::draining::Draining;
use crate::page_cache::PageCache;
use crate::{api, health, request_log, security, telemetry_metrics};
use app::ssr::audit::AuditLog;
use app::ssr::auth::AuthService;
use app::ssr::breached::BreachedPasswords;
use app::ssr::db::{DbSettings, connect, connect_replica};
use app::ssr::devices::KnownDevices;
use app::ssr::email_change::EmailChange;
use app::ssr::email_tokens::LinkServices;
use app::ssr::invalidations::InvalidationChannel;
use app::ssr::invitations::Invitations;
use app::ssr::mail::transport::Transport;
use app::ssr::mail::worker::MailWorker;
use app::ssr::mail::{MailService, MailSettings};
use app::ssr::password::PasswordHasher;
use app::ssr::password_reset::PasswordReset;
use app::ssr::principal_cache::PrincipalCache;
use app::ssr::reauth::Reauth;
use app::ssr::replica::Reads;
use app::ssr::second_factor::SecondFactors;
use app::ssr::secret_box::SecretBox;
use app::ssr::sessions::{
    DbSessionStore, DirectorySessionStore, MeteredStore, RedisSessionStore, SessionService, SessionStore, StoreError,
};
use app::ssr::sign_in_code::SignInCodes;
use app::ssr::state::{AppState, Services};
use app::ssr::stats::StatsService;
use app::ssr::throttle::LoginThrottle;
use app::ssr::users::UserService;
use app::ssr::verification::EmailVerification;
use app::{App, shell};
use axum::Router;
use axum::serve::ListenerExt;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use migration::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database at {url}: {source}")]
    Database { url: String, source: sea_orm::DbErr },
    #[error("cannot apply migrations: {0}")]
    Migrations(sea_orm::DbErr),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("--bench-without is for benchmarks and cannot be combined with --production")]
    BenchInProduction,
    #[error("cannot open the session store: {0}")]
    SessionStore(app::ssr::sessions::StoreError),
    #[error("cannot set up mail: {0}")]
    Mail(String),
    #[error("secret key: {0}")]
    SecretKey(String),
    #[error("ROSTER_PUBLIC_URL: {0}")]
    Passkeys(String),
}

pub async fn connect_database(settings: &Settings) -> Result<DatabaseConnection, StartupError> {
    let db_settings = DbSettings {
        url: settings.database_url.clone(),
        max_connections: settings.db_max_connections,
        busy_timeout: Duration::from_secs(5),
    };
    connect(&db_settings).await.map_err(|source| StartupError::Database {
        url: settings.database_url_redacted(),
        source,
    })
}

/// With the directory store, processes sharing the directory on one SQLite database
/// have no channel to tell each other of a sign-out: the authentication cache keeps
/// a session at most this long, so a revocation elsewhere takes effect within it.
pub const DIRECTORY_STORE_CACHE_TTL: Duration = Duration::from_secs(2);

/// The session store the settings name, and the channel that carries the
/// authentication cache's forgets between processes: Redis pub/sub beside Redis
/// sessions, else PostgreSQL NOTIFY on PostgreSQL, else none.
pub async fn session_store(
    settings: &Settings,
    db: &DatabaseConnection,
) -> Result<(Arc<dyn SessionStore>, Option<InvalidationChannel>), StartupError> {
    Ok(match settings.session_store {
        SessionStoreKind::Database => (
            Arc::new(MeteredStore::new("database", DbSessionStore::new(db.clone()))),
            InvalidationChannel::postgres(db),
        ),
        SessionStoreKind::Directory => (
            Arc::new(MeteredStore::new(
                "directory",
                DirectorySessionStore::open(&settings.session_dir).map_err(StartupError::SessionStore)?,
            )),
            InvalidationChannel::postgres(db),
        ),
        SessionStoreKind::Redis => {
            let store = RedisSessionStore::connect(
                &settings.redis_url,
                &settings.redis_prefix,
                settings.session_policy().idle_timeout,
            )
            .await
            .map_err(StartupError::SessionStore)?;
            let channel = InvalidationChannel::redis(&settings.redis_url, &settings.redis_prefix, store.connection())
                .map_err(|e| StartupError::SessionStore(StoreError::Failed(e.to_string())))?;
            (Arc::new(MeteredStore::new("redis", store)), Some(channel))
        }
    })
}

/// How long the authentication cache may keep a session with these settings.
fn auth_cache_ttl(settings: &Settings, db: &DatabaseConnection) -> Duration {
    let shared_without_notices = settings.session_store == SessionStoreKind::Directory
        && db.get_database_backend() != sea_orm::DatabaseBackend::Postgres;
    if shared_without_notices {
        settings.auth_cache_ttl.min(DIRECTORY_STORE_CACHE_TTL)
    } else {
        settings.auth_cache_ttl
    }
}

/// Wires the services together from the settings: one instance of each, shared.
pub async fn build_state(settings: &Settings, db: DatabaseConnection) -> Result<AppState, StartupError> {
    let policy = settings.session_policy();
    let (store, invalidations) = session_store(settings, &db).await?;
    let hasher = PasswordHasher::new(settings.hash_concurrency()).checking_breaches(BreachedPasswords::new(
        db.clone(),
        settings.pwned_passwords_url.as_deref(),
        settings.pwned_passwords_unavailable,
    ));
    let cache = PrincipalCache::new(auth_cache_ttl(settings, &db), settings.auth_cache_capacity);
    if let Some(channel) = invalidations {
        cache.publish_via(channel);
    }
    let reads = match &settings.database_replica_url {
        None => Reads::primary_only(db.clone()),
        Some(url) => {
            let replica = connect_replica(url, settings.db_max_connections)
                .await
                .map_err(|source| StartupError::Database {
                    url: redact_url(url),
                    source,
                })?;
            Reads::with_replica(db.clone(), replica, settings.replica_max_lag)
        }
    };
    let audit = AuditLog::new(db.clone()).reading_from(reads.clone());
    let sessions = SessionService::new(db.clone(), store, cache, policy, audit.clone());
    let throttle = LoginThrottle::new(db.clone(), settings.throttle_policy());
    let mail = mail_service(settings, &db)?;
    let devices = KnownDevices::new(db.clone(), mail.settings.clone(), audit.clone(), sessions.clone());
    let links = LinkServices {
        db: db.clone(),
        mail: mail.settings.clone(),
        throttle: throttle.clone(),
        audit: audit.clone(),
        sessions: sessions.clone(),
        devices: devices.clone(),
    };
    let verification = EmailVerification::new(links.clone(), chrono_duration(settings.verify_ttl));
    let email_change = EmailChange::new(links.clone(), chrono_duration(settings.verify_ttl));
    let reauth = Reauth::new(db.clone(), sessions.clone());
    let invitations = Invitations::new(
        db.clone(),
        mail.settings.clone(),
        audit.clone(),
        settings.smtp_url.is_some(),
    );
    let relying_party = app::ssr::second_factor::relying_party(&settings.public_url, &settings.product_name)
        .map_err(StartupError::Passkeys)?;
    if relying_party.is_none() {
        tracing::warn!(public_url = %settings.public_url, "passkeys are off: ROSTER_PUBLIC_URL names the site by an IP address, which browsers refuse for passkeys");
    }
    let second_factors = SecondFactors::new(
        links.clone(),
        hasher.clone(),
        secret_box(settings)?,
        reauth.clone(),
        relying_party,
    );
    let sign_in_code = SignInCodes::new(links.clone(), hasher.clone(), second_factors.clone());
    let password_reset = PasswordReset::new(
        links,
        hasher.clone(),
        chrono_duration(settings.reset_ttl),
        second_factors.clone(),
    );
    Ok(AppState::new(Services {
        auth: AuthService::new(
            db.clone(),
            sessions.clone(),
            hasher.clone(),
            throttle,
            audit.clone(),
            verification.clone(),
            devices,
            second_factors.clone(),
            settings.require_verified_email,
            settings.registration,
            invitations.clone(),
        ),
        users: UserService::new(
            db.clone(),
            sessions.clone(),
            hasher.clone(),
            audit.clone(),
            verification.clone(),
            email_change.clone(),
            reauth.clone(),
        )
        .reading_from(reads.clone()),
        verification,
        password_reset,
        sign_in_code,
        second_factors,
        email_change,
        invitations,
        stats: StatsService::new(db.clone(), sessions.clone(), audit.clone()),
        impersonations: app::ssr::impersonation::Impersonations::new(
            db.clone(),
            sessions.clone(),
            audit.clone(),
            reauth.clone(),
        ),
        reads,
        sessions,
        audit,
        hasher,
        cookies: settings.cookie_config(),
        mail,
        db,
    }))
}

/// The key that seals second-factor secrets: `ROSTER_SECRET_KEY` (with the previous
/// keys of a rotation). Production refuses to start without it: a key made up at
/// start-up would lose every secret at the next restart. In development one is
/// generated once into `ROSTER_SECRET_KEY_FILE` (readable by its owner only) and
/// read from there afterwards.
pub fn secret_box(settings: &Settings) -> Result<SecretBox, StartupError> {
    let previous: Vec<String> = settings.secret_key_previous.iter().map(|k| k.0.clone()).collect();
    let current = match (&settings.secret_key, settings.production) {
        (Some(key), _) => key.0.clone(),
        (None, true) => {
            return Err(StartupError::SecretKey(
                "ROSTER_SECRET_KEY is required in production (64 hex digits: `roster secrets generate-key`)".into(),
            ));
        }
        (None, false) => development_key(&settings.secret_key_file)?,
    };
    SecretBox::new(&current, &previous).map_err(|e| StartupError::SecretKey(e.to_string()))
}

fn development_key(path: &std::path::Path) -> Result<String, StartupError> {
    let failed = |e: std::io::Error| StartupError::SecretKey(format!("{}: {e}", path.display()));
    match std::fs::read_to_string(path) {
        Ok(key) => return Ok(key.trim().to_owned()),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(failed(e)),
        Err(_) => {}
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let key = app::ssr::secret_box::generate_key_hex();
    let mut file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
    }
    .map_err(failed)?;
    std::io::Write::write_all(&mut file, format!("{key}\n").as_bytes()).map_err(failed)?;
    tracing::warn!(path = %path.display(), "generated a secret key for development; set ROSTER_SECRET_KEY in production");
    Ok(key)
}

/// SMTP when a server is configured, otherwise .eml files (with their links logged
/// outside production, where someone trying Roster locally reads them).
fn mail_service(settings: &Settings, db: &DatabaseConnection) -> Result<MailService, StartupError> {
    let transport = match &settings.smtp_url {
        Some(url) => Transport::smtp(url).map_err(StartupError::Mail)?,
        None => Transport::directory(settings.mail_dir.clone(), !settings.production),
    };
    let from = app::ssr::mail::transport::parse_from(&settings.mail_from).map_err(StartupError::Mail)?;
    Ok(MailService {
        settings: MailSettings {
            product: settings.product_name.clone(),
            public_url: settings.public_url.clone(),
        },
        worker: MailWorker::new(db.clone(), transport, from, settings.mail_max_attempts),
    })
}

pub fn router(settings: &Settings, state: AppState, page_cache: Option<PageCache>, draining: Draining) -> Router {
    let mut leptos_options = LeptosOptions::builder()
        .output_name("roster")
        .site_root(settings.site_root().to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(settings.addr)
        .build();
    // Set at build time by cargo-leptos and .cargo/config.toml.
    leptos_options.output_name = Arc::from(option_env!("LEPTOS_OUTPUT_NAME").unwrap_or("roster"));
    // Release builds made with LEPTOS_HASH_FILES=true name the client files by their
    // content (listed in hash.txt beside the binary), so they can be cached forever.
    leptos_options.hash_files = option_env!("LEPTOS_HASH_FILES") == Some("true");
    let routes = route_list();
    let asset_base = settings.asset_base_url.clone().map(app::AssetBase);
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            if let Some(base) = &asset_base {
                provide_context(base.clone());
            }
        }
    };
    let app = Router::new()
        .nest("/api", api::router(settings).with_state(state.clone()))
        .merge(health::router(draining.clone()).with_state(state.clone()))
        .merge(
            crate::security_txt::SecurityTxt::new(&settings.security_contact, settings.security_policy_url.as_deref())
                .map(crate::security_txt::router)
                .unwrap_or_default(),
        )
        .leptos_routes_with_context(&leptos_options, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<LeptosOptions, _>(context, shell))
        .with_state(leptos_options);
    // Metrics on the main address unless a separate one is configured.
    let app = match settings.metrics_addr {
        None => app.merge(telemetry_metrics::router().with_state(state)),
        Some(_) => app,
    };
    with_middleware(app, settings, page_cache).layer(axum::middleware::from_fn_with_state(
        draining,
        crate::draining::close_connections_while_draining,
    ))
}

/// The app's page routes, generated once per process. Generating them suppresses
/// resource loading process-wide for a moment (leptos#4773): a render whose resource
/// first polls in that window never finishes. With one generation, before the first
/// router exists, no render can overlap it, however many servers a process runs.
pub fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The layers every response passes through, outermost last: request id and access
/// log, compression, security headers, the page cache (if given), the CSRF guard, and turning a
/// handler panic into a 500 envelope while the process keeps serving. Public so
/// tests can wrap their own routes (a panicking one, say) in exactly this stack.
pub fn with_middleware(router: Router, settings: &Settings, page_cache: Option<PageCache>) -> Router {
    use crate::configuration::PerRequestFeature::*;
    let on = |feature| settings.serves_with(feature);
    let mut router = router;
    if settings.database_replica_url.is_some() {
        let recent = crate::recent_writes::RecentWrites::new(settings.replica_read_your_writes, settings.production);
        router = router.layer(axum::middleware::from_fn_with_state(
            recent,
            crate::recent_writes::mark_recent_writes,
        ));
    }
    if on(PanicGuard) {
        router = router.layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response));
    }
    if on(Csrf) {
        router = router.layer(axum::middleware::from_fn(security::csrf_guard));
    }
    router = router.layer(axum::middleware::from_fn(crate::static_cache::cache_headers));
    // A link's secret never reaches a page: traded for a cookie before any renders
    // (the page cache outside passes every request with a query string through).
    router = router.layer(axum::middleware::from_fn_with_state(
        settings.cookie_config(),
        crate::link_landing::land_links,
    ));
    // Inside the security headers: it needs this response's CSP nonce.
    if let Some(cache) = page_cache {
        router = router.layer(axum::middleware::from_fn_with_state(
            cache,
            crate::page_cache::serve_cached,
        ));
    }
    if on(SecurityHeaders) {
        router = router.layer(axum::middleware::from_fn_with_state(
            security::SecurityConfig {
                hsts: settings.production,
                asset_origin: settings.asset_origin().map(str::to_owned),
            },
            security::security_headers,
        ));
    }
    // Outside the page cache, which keeps pages uncompressed to swap their nonces.
    if on(Compression) {
        router = router.layer(crate::compression::layer());
    }
    let log = request_log::RequestLog::new(on(RequestId), on(Metrics), on(AccessLog))
        .tracking_errors(settings.sentry_dsn.is_some());
    router = router.layer(axum::middleware::from_fn_with_state(log, request_log::request_log));
    // Outermost: everything inside sees the client, not the load balancer.
    let proxies = crate::forwarded::TrustedProxies::new(&settings.trusted_proxies);
    if !proxies.is_empty() {
        router = router.layer(axum::middleware::from_fn_with_state(
            proxies,
            crate::forwarded::take_forwarded,
        ));
    }
    router
}

/// Runs inside the request's span, so the log line carries its request id.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(target: crate::error_tracking::PANIC_TARGET, panic = message, "handler panicked");
    axum::response::IntoResponse::into_response(app::error::AppError::Internal)
}

/// A bound, ready-to-run server. Binding happens in `build` so tests can ask for
/// port 0 and read the real port before serving.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    backups: Option<(String, crate::backup::Schedule)>,
    metrics_listener: Option<TcpListener>,
    page_cache: Option<PageCache>,
    draining: Draining,
    shutdown_drain: Duration,
}

impl Application {
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        if settings.production && !settings.bench_without.is_empty() {
            return Err(StartupError::BenchInProduction);
        }
        telemetry_metrics::install();
        let db = connect_database(settings).await?;
        Migrator::up(&db, None).await.map_err(StartupError::Migrations)?;
        let state = build_state(settings, db).await?;
        let page_cache = settings.page_cache.then(|| PageCache::new(settings.cookie_config()));
        let draining = Draining::default();
        let router = router(settings, state.clone(), page_cache.clone(), draining.clone());
        let listener = TcpListener::bind(settings.addr)
            .await
            .map_err(|source| StartupError::Bind {
                addr: settings.addr,
                source,
            })?;
        let backups = settings.backup_interval.map(|interval| {
            let schedule = crate::backup::Schedule {
                interval,
                dir: settings.backup_dir.clone(),
                keep: settings.backup_keep as usize,
            };
            (settings.database_url.clone(), schedule)
        });
        let metrics_listener = match settings.metrics_addr {
            None => None,
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartupError::Bind { addr, source })?,
            ),
        };
        Ok(Self {
            listener,
            router,
            state,
            backups,
            metrics_listener,
            page_cache,
            draining,
            shutdown_drain: settings.shutdown_drain,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Where `/metrics` is served when it has its own address.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The signed-out page cache, when it is on.
    pub fn page_cache(&self) -> Option<&PageCache> {
        self.page_cache.as_ref()
    }

    /// Serves until SIGINT/SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        tokio::spawn(sweep_expired_sessions(self.state.clone()));
        tokio::spawn(end_passed_role_grants(self.state.clone()));
        tracing::info!(transport = %self.state.mail.worker.transport().describe(), "mail worker started");
        tokio::spawn(self.state.mail.worker.clone().run());
        let cache = self.state.sessions.cache().clone();
        tokio::spawn(cache.listen_for_invalidations());
        if let Some((url, schedule)) = self.backups.clone() {
            tokio::spawn(crate::backup::run_schedule(self.state.db.clone(), url, schedule));
        }
        tracing::info!(addr = %self.local_addr(), "listening");
        if let Some(listener) = self.metrics_listener {
            let metrics = telemetry_metrics::router().with_state(self.state.clone());
            tokio::spawn(async move { axum::serve(listener, metrics).await });
        }
        let db = self.state.db.clone();
        let stopping = std::sync::Arc::new(tokio::sync::Notify::new());
        let signalled = {
            let stopping = stopping.clone();
            let (draining, drain) = (self.draining.clone(), self.shutdown_drain);
            async move {
                let signal = shutdown_signal().await;
                if signal == StopSignal::Terminate && !drain.is_zero() {
                    tracing::info!(
                        seconds = drain.as_secs_f64(),
                        "draining: connections close after each answer"
                    );
                    draining.begin();
                    tokio::time::sleep(drain).await;
                }
                tracing::info!("shutting down: finishing in-flight requests");
                stopping.notify_one();
            }
        };
        // Pages stream in several writes: without TCP_NODELAY, Nagle's algorithm and the
        // client's delayed ACK hold each later write back by up to 40 ms.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::debug!(error = %err, "cannot set TCP_NODELAY");
            }
        });
        let serve = axum::serve(
            listener,
            self.router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signalled);
        // In-flight requests get a bounded grace period, then the process stops anyway.
        let result = tokio::select! {
            result = serve => result,
            () = async {
                stopping.notified().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {
                tracing::warn!(seconds = SHUTDOWN_GRACE.as_secs(), "requests still running after the grace period; stopping");
                Ok(())
            }
        };
        if let Err(err) = db.close().await {
            tracing::warn!(error = %err, "closing the database pool failed");
        }
        tracing::info!("stopped");
        result
    }
}

/// How long in-flight requests may run on after SIGTERM/SIGINT.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Expiry is enforced on every request (and on every use of a mailed link); this
/// only reclaims the space.
async fn sweep_expired_sessions(state: AppState) {
    let mut interval = tokio::time::interval(Duration::from_secs(600));
    loop {
        interval.tick().await;
        match state.sessions.sweep().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "expired sessions removed"),
            Err(err) => tracing::warn!(error = %err, "expired-session sweep failed"),
        }
        match app::ssr::email_tokens::sweep(&state.db, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "expired mailed links removed"),
            Err(err) => tracing::warn!(error = %err, "expired-link sweep failed"),
        }
        match app::ssr::devices::sweep(&state.db, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "browsers not seen for 400 days forgotten"),
            Err(err) => tracing::warn!(error = %err, "known-browser sweep failed"),
        }
        let now = chrono::Utc::now();
        match app::ssr::second_factor::sweep_pending_sign_ins(&state.db, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "expired pending sign-ins removed"),
            Err(err) => tracing::warn!(error = %err, "pending sign-in sweep failed"),
        }
        if let Err(err) = app::ssr::second_factor::sweep_ceremonies(&state.db, now).await {
            tracing::warn!(error = %err, "passkey ceremony sweep failed");
        }
        let window = state.second_factors.reauth().window();
        if let Err(err) = app::ssr::reauth::sweep(&state.db, now, window).await {
            tracing::warn!(error = %err, "re-authentication proof sweep failed");
        }
    }
}

/// Roles granted for a while return to the role before, on time, even for accounts
/// that make no request (`role_grants`; every server runs this, the UPDATE decides).
async fn end_passed_role_grants(state: AppState) {
    let mut interval = tokio::time::interval(app::ssr::role_grants::SWEEP_INTERVAL);
    loop {
        interval.tick().await;
        let cache = state.sessions.cache();
        match app::ssr::role_grants::sweep(&state.db, cache, &state.audit, chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(ended = n, "granted roles ended"),
            Err(err) => tracing::warn!(error = %err, "role grant sweep failed"),
        }
    }
}

/// SIGTERM is what supervisors and orchestrators send (drain first); SIGINT is
/// Ctrl-C in a terminal (no one to drain for).
#[derive(Clone, Copy, PartialEq, Eq)]
enum StopSignal {
    Interrupt,
    Terminate,
}

async fn shutdown_signal() -> StopSignal {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => StopSignal::Interrupt,
        () = terminate => StopSignal::Terminate,
    }
}
