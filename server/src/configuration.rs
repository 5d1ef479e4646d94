//! Configuration from flags, environment variables and `.env`, in that order of
//! precedence. Every setting has a working default; a bad value stops start-up
//! with one line naming the setting.

use app::ssr::breached::WhenUnavailable;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::time::Duration;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/roster.db";

#[derive(Debug, Parser)]
#[command(
    name = "roster",
    version,
    about = "Roster: user accounts, sessions and administration."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

impl Cli {
    /// Parses flags alone, ignoring every environment variable: the test harness
    /// starts from here, so a stray `ROSTER_*` variable cannot change what is tested.
    pub fn try_parse_flags_only<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        Self::from_arg_matches(&Self::flags_only_command().try_get_matches_from(args)?)
    }

    fn flags_only_command() -> clap::Command {
        Self::command().mut_args(|arg| arg.env(None::<&'static str>))
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Apply pending migrations and serve the app (the default).
    Serve,
    /// Create an administrator, or promote an existing account to one. The
    /// password comes from ROSTER_ADMIN_PASSWORD, or is read from standard input
    /// (prompted for, without echo, on a terminal) — never from a flag.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
    /// Take a consistent online backup of the database, verify it and write FILE.sha256.
    Backup {
        /// Where to write it (default: backups/roster-<UTC time>.db or .dump).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Restore a backup into DATABASE_URL after checking its checksum. Stop the app first.
    Restore {
        file: std::path::PathBuf,
        /// Overwrite a database that already holds users.
        #[arg(long)]
        force: bool,
    },
    /// Insert synthetic accounts (n.name.N@seed.example.com) for load tests and demos.
    /// They share the password in ROSTER_SEED_PASSWORD (default "seeded password 123").
    /// Refused with --production.
    Seed {
        /// How many accounts to add.
        #[arg(long)]
        users: u64,
        /// The number of the first account, to add more to an earlier seed.
        #[arg(long, default_value_t = 1)]
        first: u64,
    },
    /// Create accounts from FILE: CSV with a header row, or JSON lines, with the
    /// fields email, name, role, created_at, password_hash (and email_verified).
    /// Password hashes from Werkzeug/Flask, Django, bcrypt (Devise) and argon2 are
    /// kept and verified at each account's next sign-in, then replaced by Roster's
    /// own. Every row is checked first; any refused row refuses the whole import.
    Import {
        file: std::path::PathBuf,
        /// Check and report every row; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write every account as CSV (or JSON lines) in the format `import` reads.
    Export {
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// `csv` (default) or `jsonl`.
        #[arg(long, default_value = "csv", value_parser = ["csv", "jsonl"])]
        format: String,
        /// Include password hashes (they stay secret: keep the file safe).
        #[arg(long)]
        with_hashes: bool,
    },
    /// The client files, for serving them from a CDN (ROSTER_ASSET_BASE_URL).
    Assets {
        #[command(subcommand)]
        action: AssetsAction,
    },
    /// Operator work on sessions.
    Sessions {
        #[command(subcommand)]
        action: SessionsAction,
    },
    /// Passwords known from data breaches, checked locally whenever a password is
    /// chosen (no network needed; see also ROSTER_PWNED_PASSWORDS_URL).
    BreachedPasswords {
        #[command(subcommand)]
        action: BreachedPasswordsAction,
    },
    /// The key that encrypts second-factor secrets (ROSTER_SECRET_KEY).
    Secrets {
        #[command(subcommand)]
        action: SecretsAction,
    },
    /// Inspect or change the database schema.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum BreachedPasswordsAction {
    /// Add the SHA-1 hashes in FILE (`HASH` or `HASH:COUNT` per line, as Have I Been
    /// Pwned publishes them; `-` reads standard input). Running it again is safe.
    Import { file: std::path::PathBuf },
    /// Forget every imported hash.
    Clear,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SecretsAction {
    /// Print a new random key (64 hex digits) for ROSTER_SECRET_KEY.
    GenerateKey,
    /// Seal every stored secret again under ROSTER_SECRET_KEY. After a rotation (the
    /// new key in ROSTER_SECRET_KEY, the old one in ROSTER_SECRET_KEY_PREVIOUS), run
    /// this, then drop the old key. Safe to run again, and while servers run.
    Rotate,
}

#[derive(Debug, Clone, Subcommand)]
pub enum MigrateAction {
    /// Apply all pending migrations.
    Up,
    /// Roll back the most recent migrations.
    Down {
        /// How many migrations to roll back.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
    /// Drop every table and re-apply all migrations. Destroys all data.
    Fresh,
}

/// The per-request features a benchmark may switch off, one at a time, to measure
/// what each costs (`bench/run`). Never in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PerRequestFeature {
    /// The access-log line.
    AccessLog,
    /// Request count and latency metrics.
    Metrics,
    /// The request id: generated or checked, on every log line and in the response.
    RequestId,
    /// CSP (and its nonce), nosniff, referrer policy, frame denial, HSTS.
    SecurityHeaders,
    /// Refusing cross-site state changes.
    Csrf,
    /// Turning a handler panic into a 500 envelope.
    PanicGuard,
    /// Compressing HTML and JSON responses for clients that accept it.
    Compression,
}

#[derive(Debug, Clone, Subcommand)]
pub enum AssetsAction {
    /// Print the client files to upload to ROSTER_ASSET_BASE_URL, one path per line,
    /// relative to the site root (the CDN serves each under the same path).
    List,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SessionsAction {
    /// Move every live session from one store to another, so ROSTER_SESSION_STORE
    /// can change without signing anyone out. Stop the servers first; start them
    /// again on the new store. Each store's own settings (ROSTER_SESSION_DIR,
    /// REDIS_URL, ROSTER_REDIS_PREFIX, DATABASE_URL) say where it is.
    Migrate {
        #[arg(long, value_enum)]
        from: SessionStoreKind,
        #[arg(long, value_enum)]
        to: SessionStoreKind,
    },
    /// End sessions now, on every running server (they are told through the same
    /// channel as a sign-out): one account's (`--user EMAIL`) or everyone's (`--all`,
    /// e.g. after a leak). The accounts are untouched; people sign in again.
    End {
        /// The account whose sessions end.
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        user: Option<String>,
        /// Every account's sessions.
        #[arg(long)]
        all: bool,
    },
}

/// Where sessions are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SessionStoreKind {
    /// The application database's `sessions` table: nothing to set up.
    Database,
    /// One file per session under `ROSTER_SESSION_DIR` (development).
    Directory,
    /// Redis at `REDIS_URL` (production, several servers).
    Redis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// JSON in production, human-readable otherwise.
    Auto,
    Pretty,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "ROSTER_ADDR", default_value = "127.0.0.1:3000", global = true)]
    pub addr: SocketAddr,

    /// `sqlite://path/to/file.db` or `postgres://user@host/db`. The SQLite file and
    /// its directory are created on first run.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, value_parser = parse_database_url, global = true)]
    pub database_url: String,

    /// Production mode: Secure `__Host-` cookies and JSON logs.
    #[arg(long, env = "ROSTER_PRODUCTION", global = true)]
    pub production: bool,

    /// How long a session lasts after a sign-in with "keep me signed in" (e.g. `14d`).
    #[arg(long, env = "ROSTER_SESSION_TTL", default_value = "14d", value_parser = parse_duration, global = true)]
    pub session_ttl: Duration,

    /// How long any other session lasts (registration, sign-in without "keep me
    /// signed in"); its cookie also ends when the browser closes. Capped at
    /// ROSTER_SESSION_TTL.
    #[arg(long, env = "ROSTER_SESSION_SHORT_TTL", default_value = "12h", value_parser = parse_duration, global = true)]
    pub session_short_ttl: Duration,

    /// A session unused for this long ends (e.g. `24h`, `30m`).
    #[arg(long, env = "ROSTER_SESSION_IDLE_TIMEOUT", default_value = "24h", value_parser = parse_duration, global = true)]
    pub session_idle_timeout: Duration,

    /// Where sessions are kept: `database`, `directory` or `redis`.
    #[arg(
        long,
        env = "ROSTER_SESSION_STORE",
        value_enum,
        default_value = "database",
        global = true
    )]
    pub session_store: SessionStoreKind,

    /// The directory store's root (created, mode 0700, on first use).
    #[arg(long, env = "ROSTER_SESSION_DIR", default_value = "data/sessions", global = true)]
    pub session_dir: std::path::PathBuf,

    /// The Redis store's server: `redis://` or `rediss://` (TLS), with the database
    /// number and password in the URL (`redis://:PASSWORD@host:6379/2`).
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379", global = true)]
    pub redis_url: String,

    /// Every Redis key Roster writes starts with this, so apps can share one Redis.
    #[arg(long, env = "ROSTER_REDIS_PREFIX", default_value = "roster:", global = true)]
    pub redis_prefix: String,

    /// How long a signed-in session may be answered from memory without a database
    /// read (`0s` turns the cache off). Revocations in this process take effect at
    /// once; on PostgreSQL, other processes are told at once too.
    #[arg(long, env = "ROSTER_AUTH_CACHE_TTL", default_value = "30s", value_parser = parse_duration_or_zero, global = true)]
    pub auth_cache_ttl: Duration,

    /// Render the signed-out sign-in, registration and home pages once and serve
    /// them from memory (with a fresh CSP nonce each time).
    #[arg(long, env = "ROSTER_PAGE_CACHE", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub page_cache: bool,

    /// The most sessions the authentication cache holds.
    #[arg(long, env = "ROSTER_AUTH_CACHE_CAPACITY", default_value_t = 100_000, global = true)]
    pub auth_cache_capacity: usize,

    /// A PostgreSQL streaming replica for reads that tolerate lag (the admin's
    /// account list and search, the audit log). Writes, sign-in and session checks
    /// always use DATABASE_URL. Default: none.
    #[arg(long, env = "ROSTER_DATABASE_REPLICA_URL", value_parser = parse_replica_url, global = true)]
    pub database_replica_url: Option<String>,

    /// The replica is skipped (reads go to the primary) while its replay is further
    /// behind than this.
    #[arg(long, env = "ROSTER_REPLICA_MAX_LAG", default_value = "10s", value_parser = parse_duration, global = true)]
    pub replica_max_lag: Duration,

    /// After a client writes, its reads go to the primary for this long, so it sees
    /// its own writes whatever the replica's lag.
    #[arg(long, env = "ROSTER_REPLICA_READ_YOUR_WRITES", default_value = "15s", value_parser = parse_duration, global = true)]
    pub replica_read_your_writes: Duration,

    /// After SIGTERM, how long the instance keeps serving while telling the load
    /// balancer to stop reusing its connections (and failing `/readyz`) before the
    /// listener closes; `0s` skips it. SIGINT (Ctrl-C) never waits.
    #[arg(long, env = "ROSTER_SHUTDOWN_DRAIN", default_value = "2s", value_parser = parse_duration_or_zero, global = true)]
    pub shutdown_drain: Duration,

    /// Database connection pool size.
    #[arg(long, env = "ROSTER_DB_MAX_CONNECTIONS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub db_max_connections: u32,

    /// Password hashes computed at once (each holds 19 MiB); 0 means one per CPU.
    #[arg(long, env = "ROSTER_HASH_CONCURRENCY", default_value_t = 0, global = true)]
    pub hash_concurrency: usize,

    /// Failed sign-ins allowed per account within the window before a lockout.
    #[arg(long, env = "ROSTER_LOGIN_MAX_FAILURES", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub login_max_failures: u32,

    /// Failed sign-ins allowed per client IP within the window before a lockout.
    #[arg(long, env = "ROSTER_LOGIN_MAX_FAILURES_PER_IP", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub login_max_failures_per_ip: u32,

    /// Shortest new password accepted (8 to 64). NIST SP 800-63B rev. 4 asks for 15
    /// where the password is the only factor; 8 is the floor the browser checks too.
    #[arg(long, env = "ROSTER_PASSWORD_MIN_LENGTH", default_value_t = 8, value_parser = clap::value_parser!(u16).range(8..=64), global = true)]
    pub password_min_length: u16,

    /// A k-anonymity range service for breached passwords (the Pwned Passwords
    /// protocol, e.g. `https://api.pwnedpasswords.com`): new passwords it lists are
    /// refused; only the first 5 hex digits of their SHA-1 are sent. Off when unset
    /// (hashes imported with `roster breached-passwords import` are checked anyway).
    #[arg(long, env = "ROSTER_PWNED_PASSWORDS_URL", value_parser = parse_http_base_url, global = true)]
    pub pwned_passwords_url: Option<String>,

    /// What a new password gets while the range service cannot be asked: `accept`
    /// (logged and counted) or `refuse` (503 until it answers). Sign-in never asks it.
    #[arg(long, env = "ROSTER_PWNED_PASSWORDS_UNAVAILABLE", default_value = "accept", value_parser = parse_when_unavailable, global = true)]
    pub pwned_passwords_unavailable: WhenUnavailable,

    /// Send mail over SMTP: `smtp://USER:PASS@HOST:587?tls=required` (STARTTLS),
    /// `smtps://USER:PASS@HOST:465` (implicit TLS) or `smtp://HOST:PORT` (plain, for a
    /// relay on the same machine). Unset: each mail is written as an .eml file under
    /// ROSTER_MAIL_DIR instead (and, outside production, its links are logged).
    #[arg(long, env = "ROSTER_SMTP_URL", global = true)]
    pub smtp_url: Option<String>,

    /// The sender of every mail (`Name <address>`).
    #[arg(long, env = "ROSTER_MAIL_FROM", default_value = "Roster <roster@localhost>", value_parser = parse_mail_from, global = true)]
    pub mail_from: String,

    /// Where mail goes as .eml files when no SMTP server is configured.
    #[arg(long, env = "ROSTER_MAIL_DIR", default_value = "data/mail", global = true)]
    pub mail_dir: std::path::PathBuf,

    /// Tries per mail before it is given up (with a log line and a metric).
    #[arg(long, env = "ROSTER_MAIL_MAX_ATTEMPTS", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=100), global = true)]
    pub mail_max_attempts: u32,

    /// The address people reach Roster at: links in mail start with it.
    #[arg(long, env = "ROSTER_PUBLIC_URL", default_value = "http://localhost:3000", value_parser = parse_http_base_url, global = true)]
    pub public_url: String,

    /// Refuse sign-in (403 `email_unverified`) to accounts whose address is not
    /// proven yet; a registration then starts no session until the link is followed.
    #[arg(long, env = "ROSTER_REQUIRE_VERIFIED_EMAIL", global = true)]
    pub require_verified_email: bool,

    /// Who may create an account: `open` (anyone), `invite` (only with an
    /// administrator's invitation, for its address), `approval` (anyone, but the
    /// account waits for an administrator) or `closed` (only administrators).
    #[arg(long, env = "ROSTER_REGISTRATION", default_value = "open", value_parser = parse_registration_mode, global = true)]
    pub registration: app::model::RegistrationMode,

    /// How long a link that proves an address stays valid.
    #[arg(long, env = "ROSTER_VERIFY_TTL", default_value = "48h", value_parser = parse_duration, global = true)]
    pub verify_ttl: Duration,

    /// How long a password-reset link stays valid.
    #[arg(long, env = "ROSTER_RESET_TTL", default_value = "1h", value_parser = parse_duration, global = true)]
    pub reset_ttl: Duration,

    /// The key that encrypts second-factor secrets at rest: 64 hex digits (256
    /// bits; `roster secrets generate-key` makes one). Required with --production;
    /// in development, when unset, one is generated into ROSTER_SECRET_KEY_FILE.
    #[arg(long, env = "ROSTER_SECRET_KEY", hide_env_values = true, value_parser = parse_secret_key, global = true)]
    pub secret_key: Option<SecretKeyHex>,

    /// Keys that sealed secrets before a rotation (comma-separated): they still
    /// open what they sealed until `roster secrets rotate` seals it again.
    #[arg(long, env = "ROSTER_SECRET_KEY_PREVIOUS", value_delimiter = ',', hide_env_values = true, value_parser = parse_secret_key, global = true)]
    pub secret_key_previous: Vec<SecretKeyHex>,

    /// Where development keeps its generated key when ROSTER_SECRET_KEY is unset.
    #[arg(
        long,
        env = "ROSTER_SECRET_KEY_FILE",
        default_value = "data/secret.key",
        global = true
    )]
    pub secret_key_file: std::path::PathBuf,

    /// How long a sign-in or a typed password or code counts as recent proof for
    /// sensitive changes (second factors, recovery codes, roles).
    #[arg(long, env = "ROSTER_REAUTH_WINDOW", default_value = "10m", value_parser = parse_duration, global = true)]
    pub reauth_window: Duration,

    /// The product's name, as mail calls it.
    #[arg(long, env = "ROSTER_PRODUCT_NAME", default_value = "Roster", global = true)]
    pub product_name: String,

    /// Registrations per client IP within the window before further ones are refused.
    #[arg(long, env = "ROSTER_REGISTER_MAX_PER_IP", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub register_max_per_ip: u32,

    /// The counting window, and how long a lockout lasts (e.g. `15m`).
    #[arg(long, env = "ROSTER_LOGIN_LOCKOUT", default_value = "15m", value_parser = parse_duration, global = true)]
    pub login_lockout: Duration,

    /// Serve `/metrics` on this separate address instead of the main one (keep it
    /// off the public interface).
    #[arg(long, env = "ROSTER_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,

    /// Take a backup this often while serving (e.g. `6h`); off when unset.
    #[arg(long, env = "ROSTER_BACKUP_INTERVAL", value_parser = parse_duration, global = true)]
    pub backup_interval: Option<Duration>,

    /// Where scheduled backups go.
    #[arg(long, env = "ROSTER_BACKUP_DIR", default_value = "backups", global = true)]
    pub backup_dir: std::path::PathBuf,

    /// How many scheduled backups to keep (older ones are deleted).
    #[arg(long, env = "ROSTER_BACKUP_KEEP", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub backup_keep: u32,

    /// Load balancers and proxies (comma-separated addresses or CIDR networks, e.g.
    /// `127.0.0.1,10.0.0.0/8`) whose `X-Forwarded-For` and `X-Forwarded-Proto` name the
    /// client. From any other peer those headers are ignored. Default: none.
    #[arg(long, env = "ROSTER_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network, global = true)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Send internal errors and panics to Sentry (or any service that speaks its
    /// protocol) at this DSN: `https://KEY@HOST/PROJECT`. Default: off.
    #[arg(long, env = "SENTRY_DSN", hide_env_values = true, global = true)]
    pub sentry_dsn: Option<String>,

    /// Load the client files (CSS, WASM, JS) from this origin instead of this server,
    /// e.g. `https://cdn.example.com`: upload what `roster assets list` prints there,
    /// under the same paths. The CSP allows exactly this origin. Default: this server.
    #[arg(long, env = "ROSTER_ASSET_BASE_URL", value_parser = parse_http_base_url, global = true)]
    pub asset_base_url: Option<String>,

    /// Where to report a vulnerability, for `/.well-known/security.txt` (RFC 9116):
    /// `mailto:` or `https://` URIs, comma-separated. Without one the file is not served.
    #[arg(long, env = "ROSTER_SECURITY_CONTACT", value_delimiter = ',', value_parser = parse_security_contact, global = true)]
    pub security_contact: Vec<String>,

    /// The disclosure policy's URL, for security.txt's `Policy` field.
    #[arg(long, env = "ROSTER_SECURITY_POLICY_URL", global = true)]
    pub security_policy_url: Option<String>,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "ROSTER_MAX_BODY_BYTES", default_value_t = 64 * 1024, global = true)]
    pub max_body_bytes: usize,

    /// Log filter, in `tracing` EnvFilter syntax (e.g. `info,roster=debug`).
    #[arg(long, env = "ROSTER_LOG", default_value = "info", global = true)]
    pub log: String,

    #[arg(long, env = "ROSTER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto, global = true)]
    pub log_format: LogFormat,

    /// Also write logs to daily-rotated files in this directory (`roster.YYYY-MM-DD.log`).
    #[arg(long, env = "ROSTER_LOG_DIR", global = true)]
    pub log_dir: Option<std::path::PathBuf>,

    /// How many daily log files to keep in ROSTER_LOG_DIR.
    #[arg(long, env = "ROSTER_LOG_KEEP", default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub log_keep: u32,

    /// For benchmarks only: per-request features to switch off, to measure what each
    /// costs. Refused together with --production.
    #[arg(
        long,
        env = "ROSTER_BENCH_WITHOUT",
        value_enum,
        value_delimiter = ',',
        hide = true,
        global = true
    )]
    pub bench_without: Vec<PerRequestFeature>,

    /// Where the built site (pkg/, CSS, favicon) is served from. Default: `site/`
    /// beside the binary when it is there (a release directory from
    /// scripts/build-release), otherwise `target/site` (a development build).
    #[arg(long, env = "LEPTOS_SITE_ROOT", global = true)]
    pub site_root: Option<std::path::PathBuf>,
}

fn parse_registration_mode(raw: &str) -> Result<app::model::RegistrationMode, String> {
    app::model::RegistrationMode::parse(raw.trim())
        .ok_or_else(|| format!("\"{raw}\" is not a registration mode: use open, invite, approval or closed"))
}

impl Settings {
    pub fn site_root(&self) -> std::path::PathBuf {
        if let Some(root) = &self.site_root {
            return root.clone();
        }
        let beside_binary = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.join("site")))
            .filter(|site| site.join("pkg").is_dir());
        beside_binary.unwrap_or_else(|| "target/site".into())
    }

    pub fn hash_concurrency(&self) -> usize {
        match self.hash_concurrency {
            0 => std::thread::available_parallelism().map(usize::from).unwrap_or(2),
            n => n,
        }
    }

    /// How long sessions live: the defaults are the flags' defaults above.
    pub fn session_policy(&self) -> app::ssr::sessions::SessionPolicy {
        app::ssr::sessions::SessionPolicy {
            lifetime: chrono_duration(self.session_ttl),
            short_lifetime: chrono_duration(self.session_short_ttl),
            idle_timeout: chrono_duration(self.session_idle_timeout),
            reauth_window: chrono_duration(self.reauth_window),
        }
    }

    /// The session cookie: Secure and `__Host-` in production; a remembered one as
    /// long-lived as its session.
    pub fn cookie_config(&self) -> app::ssr::cookie::CookieConfig {
        app::ssr::cookie::CookieConfig::new(self.production, self.session_policy().lifetime.num_seconds())
    }

    pub fn throttle_policy(&self) -> app::ssr::throttle::ThrottlePolicy {
        let lockout = chrono_duration(self.login_lockout);
        app::ssr::throttle::ThrottlePolicy {
            max_failures_per_account: self.login_max_failures,
            max_failures_per_ip: self.login_max_failures_per_ip,
            max_registrations_per_ip: self.register_max_per_ip,
            window: lockout,
            lockout,
            ..app::ssr::throttle::ThrottlePolicy::default()
        }
    }

    /// Whether a per-request feature is on (always, except in a benchmark).
    pub fn serves_with(&self, feature: PerRequestFeature) -> bool {
        !self.bench_without.contains(&feature)
    }

    pub fn json_logs(&self) -> bool {
        match self.log_format {
            LogFormat::Auto => self.production,
            LogFormat::Pretty => false,
            LogFormat::Json => true,
        }
    }

    /// The database URL without its password, for logs and error messages.
    pub fn database_url_redacted(&self) -> String {
        redact_url(&self.database_url)
    }
}

/// Durations here come from `parse_duration`, which bounds them at a century, far
/// inside chrono's range.
pub(crate) fn chrono_duration(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

/// A secret key as configured: 64 hex digits, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKeyHex(pub String);

impl std::fmt::Debug for SecretKeyHex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKeyHex(<redacted>)")
    }
}

fn parse_secret_key(raw: &str) -> Result<SecretKeyHex, String> {
    let key = raw.trim();
    let is_hex = key.len() == app::ssr::secret_box::KEY_BYTES * 2 && key.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex {
        Ok(SecretKeyHex(key.to_ascii_lowercase()))
    } else {
        Err("expected 64 hex digits (256 bits); `roster secrets generate-key` makes one".into())
    }
}

fn parse_database_url(raw: &str) -> Result<String, String> {
    let url = raw.trim();
    if url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(url.to_owned())
    } else {
        Err("expected sqlite://PATH or postgres://USER@HOST/DB".into())
    }
}

/// An `http(s)://host[:port][/path]` base with no trailing slash, query or fragment:
/// the CDN, the public address, the breached-password service. No quotes or `;`
/// either: the CDN's origin goes into the CSP.
fn parse_http_base_url(raw: &str) -> Result<String, String> {
    let url = raw.trim().trim_end_matches('/');
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("");
    if host.is_empty() || url.contains(['?', '#', ' ', '"', '\'', ';']) {
        return Err("expected https://HOST[/PATH] with no query, fragment, quotes or spaces".into());
    }
    Ok(url.to_owned())
}

impl Settings {
    /// The origin (scheme, host and port) the client files come from, for the CSP.
    pub fn asset_origin(&self) -> Option<&str> {
        let url = self.asset_base_url.as_deref()?;
        let after_scheme = url.find("://")? + 3;
        Some(match url[after_scheme..].find('/') {
            Some(slash) => &url[..after_scheme + slash],
            None => url,
        })
    }
}

/// RFC 9116 contacts are URIs: an email as `mailto:`, a form or page as `https://`.
fn parse_security_contact(raw: &str) -> Result<String, String> {
    let contact = raw.trim();
    if (contact.starts_with("mailto:") || contact.starts_with("https://")) && !contact.contains(char::is_whitespace) {
        Ok(contact.to_owned())
    } else {
        Err("expected mailto:ADDRESS or https://URL".into())
    }
}

fn parse_mail_from(raw: &str) -> Result<String, String> {
    app::ssr::mail::transport::parse_from(raw).map(|_| raw.trim().to_owned())
}

fn parse_when_unavailable(raw: &str) -> Result<WhenUnavailable, String> {
    match raw.trim() {
        "accept" => Ok(WhenUnavailable::Accept),
        "refuse" => Ok(WhenUnavailable::Refuse),
        _ => Err("expected accept or refuse".into()),
    }
}

fn parse_replica_url(raw: &str) -> Result<String, String> {
    let url = raw.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(url.to_owned())
    } else {
        Err("expected postgres://USER@HOST/DB (replicas are PostgreSQL's)".into())
    }
}

/// A network in CIDR form, or one address (a /32 or /128).
fn parse_network(raw: &str) -> Result<ipnet::IpNet, String> {
    let raw = raw.trim();
    raw.parse::<ipnet::IpNet>()
        .or_else(|_| raw.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map(|net| net.trunc())
        .map_err(|_| format!("`{raw}` is not an address or a CIDR network (examples: 127.0.0.1, 10.0.0.0/8)"))
}

fn parse_duration(raw: &str) -> Result<Duration, String> {
    /// A century: longer than any setting means, short enough for date arithmetic.
    const LONGEST: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    let duration = humantime::parse_duration(raw).map_err(|e| format!("{e} (examples: 14d, 12h, 30m)"))?;
    if duration.is_zero() {
        Err("must be longer than zero".into())
    } else if duration > LONGEST {
        Err("must be at most 100 years".into())
    } else {
        Ok(duration)
    }
}

/// A duration where zero means "off" (`0s`).
fn parse_duration_or_zero(raw: &str) -> Result<Duration, String> {
    match humantime::parse_duration(raw) {
        Ok(zero) if zero.is_zero() => Ok(zero),
        _ => parse_duration(raw),
    }
}

pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Variables Roster reads outside its flags: the admin and seed passwords (never
/// flags, so they stay out of the process list).
pub const OTHER_VARIABLES: &[&str] = &["ROSTER_ADMIN_PASSWORD", "ROSTER_SEED_PASSWORD"];

/// Every environment variable Roster reads.
pub fn variables_read() -> Vec<String> {
    Cli::command()
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .chain(OTHER_VARIABLES.iter().map(|v| (*v).to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("roster").chain(args.iter().copied()))
    }

    #[test]
    fn a_zero_cache_ttl_turns_the_cache_off_but_a_zero_session_ttl_is_refused() {
        let cli = parse(&["--auth-cache-ttl", "0s"]).unwrap();
        assert!(cli.settings.auth_cache_ttl.is_zero());
        assert!(parse(&["--session-ttl", "0s"]).is_err());
        assert!(parse(&["--auth-cache-ttl", "soon"]).is_err());
    }

    #[test]
    fn defaults_work_with_no_configuration() {
        let cli = parse(&[]).unwrap();
        assert!(cli.command.is_none(), "serve is the default");
        assert_eq!(cli.settings.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(cli.settings.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(cli.settings.session_ttl, Duration::from_secs(14 * 24 * 3600));
        assert_eq!(cli.settings.session_short_ttl, Duration::from_secs(12 * 3600));
        assert!(!cli.settings.json_logs());
    }

    #[test]
    fn rejects_bad_values_naming_the_setting() {
        let err = parse(&["--addr", "nowhere"]).unwrap_err().to_string();
        assert!(err.contains("--addr"), "{err}");
        let err = parse(&["--database-url", "mysql://x"]).unwrap_err().to_string();
        assert!(err.contains("sqlite://PATH or postgres://"), "{err}");
        assert!(parse(&["--session-ttl", "0s"]).is_err());
        assert!(parse(&["--db-max-connections", "0"]).is_err());
    }

    #[test]
    fn a_secret_key_is_64_hex_digits_and_never_shown() {
        let key = "ab".repeat(32);
        let cli = parse(&[
            "--secret-key",
            &key,
            "--secret-key-previous",
            &format!("{},{}", "01".repeat(32), "CD".repeat(32)),
        ])
        .unwrap();
        assert_eq!(cli.settings.secret_key, Some(SecretKeyHex(key.clone())));
        assert_eq!(cli.settings.secret_key_previous.len(), 2);
        assert_eq!(cli.settings.secret_key_previous[1].0, "cd".repeat(32));
        assert!(!format!("{:?}", cli.settings).contains(&key), "Debug never shows a key");
        let err = parse(&["--secret-key", "abcd"]).unwrap_err().to_string();
        assert!(err.contains("--secret-key") && err.contains("64 hex digits"), "{err}");
        assert_eq!(parse(&[]).unwrap().settings.reauth_window, Duration::from_secs(600));
    }

    #[test]
    fn migrate_subcommands_parse() {
        let cli = parse(&["migrate", "down", "--steps", "2"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Migrate {
                action: MigrateAction::Down { steps: 2 }
            })
        ));
        assert!(parse(&["migrate", "fresh"]).is_ok());
        assert!(parse(&["serve", "--addr", "127.0.0.1:0"]).is_ok());
    }

    #[test]
    fn production_switches_logs_to_json() {
        let cli = parse(&["--production"]).unwrap();
        assert!(cli.settings.json_logs());
    }

    #[test]
    fn the_flags_only_parser_reads_no_environment_variable() {
        let normal = Cli::command();
        assert!(
            normal.get_arguments().any(|a| a.get_env().is_some()),
            "the real parser reads the environment"
        );
        let flags_only = Cli::flags_only_command();
        let reads_env: Vec<_> = flags_only
            .get_arguments()
            .filter(|a| a.get_env().is_some())
            .map(|a| a.get_id().to_string())
            .collect();
        assert!(reads_env.is_empty(), "{reads_env:?}");
        let cli = Cli::try_parse_flags_only(["roster", "--addr", "127.0.0.1:0"]).unwrap();
        assert_eq!(cli.settings.addr.port(), 0);
    }

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    /// The App Platform spec and the image set only variables Roster reads: a typo
    /// there would be silently ignored in production.
    #[test]
    fn the_deployment_files_set_only_variables_roster_reads() {
        let known = variables_read();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let spec = std::fs::read_to_string(format!("{root}/.do/app.yaml")).unwrap();
        let in_spec: Vec<&str> = spec
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- key: "))
            .map(str::trim)
            .collect();
        assert!(
            in_spec.contains(&"DATABASE_URL") && in_spec.contains(&"REDIS_URL"),
            "{in_spec:?}"
        );
        let dockerfile = std::fs::read_to_string(format!("{root}/Dockerfile")).unwrap();
        let env_block = dockerfile
            .split_once("\nENV ")
            .map(|(_, rest)| {
                rest.split("\n\n")
                    .next()
                    .unwrap_or("")
                    .split("\nVOLUME")
                    .next()
                    .unwrap_or("")
            })
            .expect("the Dockerfile sets defaults with ENV");
        let in_image: Vec<&str> = env_block
            .split(['\\', '\n', ' '])
            .filter_map(|word| word.split_once('=').map(|(name, _)| name))
            .collect();
        assert!(in_image.contains(&"ROSTER_PRODUCTION"), "{in_image:?}");
        for variable in in_spec.iter().chain(&in_image) {
            assert!(
                known.iter().any(|k| k == variable),
                "{variable} is set but Roster never reads it"
            );
        }
        for secret in ["SENTRY_DSN"] {
            let block = spec.split(&format!("- key: {secret}")).nth(1).unwrap_or("");
            let entry = block.split("- key:").next().unwrap_or("");
            assert!(entry.contains("type: SECRET"), "{secret} is an encrypted variable");
        }
    }

    /// The README's configuration table lists every variable Roster reads.
    #[test]
    fn the_readme_lists_every_variable() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
        for variable in variables_read() {
            if variable == "ROSTER_BENCH_WITHOUT" {
                continue; // for benchmarks only, hidden from --help too
            }
            assert!(
                readme.contains(&format!("| `{variable}` |")),
                "README's table misses {variable}"
            );
        }
    }

    #[test]
    fn an_asset_base_url_is_an_http_origin_with_an_optional_path() {
        let cli = parse(&["--asset-base-url", "https://cdn.example.com/roster/"]).unwrap();
        assert_eq!(
            cli.settings.asset_base_url.as_deref(),
            Some("https://cdn.example.com/roster")
        );
        assert_eq!(cli.settings.asset_origin(), Some("https://cdn.example.com"));
        let cli = parse(&["--asset-base-url", "http://127.0.0.1:9000"]).unwrap();
        assert_eq!(cli.settings.asset_origin(), Some("http://127.0.0.1:9000"));
        for bad in [
            "cdn.example.com",
            "ftp://cdn",
            "https://",
            "https://cdn/x?y=1",
            "https://cdn/'; script-src *",
        ] {
            assert!(parse(&["--asset-base-url", bad]).is_err(), "{bad}");
        }
        assert_eq!(parse(&[]).unwrap().settings.asset_origin(), None);
    }

    #[test]
    fn the_breached_password_service_is_off_unless_a_url_is_given() {
        let cli = parse(&[]).unwrap();
        assert_eq!(cli.settings.pwned_passwords_url, None);
        assert_eq!(cli.settings.pwned_passwords_unavailable, WhenUnavailable::Accept);
        let cli = parse(&[
            "--pwned-passwords-url",
            "https://api.pwnedpasswords.com/",
            "--pwned-passwords-unavailable",
            "refuse",
        ])
        .unwrap();
        assert_eq!(
            cli.settings.pwned_passwords_url.as_deref(),
            Some("https://api.pwnedpasswords.com")
        );
        assert_eq!(cli.settings.pwned_passwords_unavailable, WhenUnavailable::Refuse);
        for bad in ["api.pwnedpasswords.com", "https://", "https://x/range?p=1"] {
            assert!(parse(&["--pwned-passwords-url", bad]).is_err(), "{bad}");
        }
        assert!(parse(&["--pwned-passwords-unavailable", "maybe"]).is_err());
    }

    #[test]
    fn mail_goes_to_files_unless_an_smtp_server_is_given() {
        let cli = parse(&[]).unwrap();
        assert_eq!(cli.settings.smtp_url, None);
        assert_eq!(cli.settings.mail_dir, std::path::PathBuf::from("data/mail"));
        assert_eq!(cli.settings.public_url, "http://localhost:3000");
        assert_eq!(cli.settings.product_name, "Roster");
        let cli = parse(&[
            "--smtp-url",
            "smtps://u:p@mail.example.com:465",
            "--mail-from",
            "Acme <a@acme.example>",
        ])
        .unwrap();
        assert_eq!(
            cli.settings.smtp_url.as_deref(),
            Some("smtps://u:p@mail.example.com:465")
        );
        assert!(parse(&["--mail-from", "nobody"]).is_err());
        assert!(parse(&["--mail-max-attempts", "0"]).is_err());
    }
}
