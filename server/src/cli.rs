//! The command line: `roster [serve]`, `roster migrate up|down|status|fresh`, and
//! the operator commands (`create-admin`, `backup`, `restore`, `seed`, `sessions`,
//! `assets`, `breached-passwords`, `secrets`).
//! Every failure ends in one line on stderr and a non-zero exit code.

use crate::configuration::{
    AssetsAction, BreachedPasswordsAction, Cli, Command, MigrateAction, SecretsAction, SessionStoreKind,
    SessionsAction, Settings,
};
use crate::startup::{Application, connect_database};
use crate::telemetry;
use clap::Parser;
use clap::error::ErrorKind;
use migration::{Migrator, MigratorTrait};
use std::process::ExitCode;

pub async fn run() -> ExitCode {
    if let Err(err) = dotenvy::dotenv()
        && !err.not_found()
    {
        eprintln!("error: cannot read .env: {err}");
        return ExitCode::from(2);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => err.exit(),
        Err(err) => {
            // clap's first line names the setting and the problem; the rest is usage.
            let rendered = err.to_string();
            eprintln!("{}", rendered.lines().next().unwrap_or("error: invalid configuration"));
            return ExitCode::from(2);
        }
    };
    app::ssr::password_policy::set_min_chars(usize::from(cli.settings.password_min_length));
    // Held until the process ends: dropping it sends the events still queued.
    let error_tracking = match crate::error_tracking::init(cli.settings.sentry_dsn.as_deref(), cli.settings.production)
    {
        Ok(tracking) => tracking,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    // An export to standard output is the data itself: no log line may land in it
    // (failures still end in one line on stderr).
    let exporting_to_stdout = matches!(cli.command, Some(Command::Export { out: None, .. }));
    let log_filter = if exporting_to_stdout {
        "off"
    } else {
        cli.settings.log.as_str()
    };
    let _log_guard = match telemetry::init(
        log_filter,
        cli.settings.json_logs(),
        cli.settings.log_dir.as_deref(),
        cli.settings.log_keep,
        error_tracking.enabled(),
    ) {
        Ok(guard) => guard,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.settings).await,
        Command::Migrate { action } => migrate(&cli.settings, action).await,
        Command::Sessions {
            action: SessionsAction::Migrate { from, to },
        } => migrate_sessions(&cli.settings, from, to).await,
        Command::Sessions {
            action: SessionsAction::End { user, all: _ },
        } => end_sessions(&cli.settings, user.as_deref()).await,
        Command::CreateAdmin { email, name } => create_admin(&cli.settings, &email, &name).await,
        Command::Backup { out } => backup(&cli.settings, out).await,
        Command::Seed { users, first } => seed(&cli.settings, first, users).await,
        Command::Import { file, dry_run } => import(&cli.settings, &file, dry_run).await,
        Command::Export {
            out,
            format,
            with_hashes,
        } => export(&cli.settings, out.as_deref(), &format, with_hashes).await,
        Command::BreachedPasswords { action } => breached_passwords(&cli.settings, action).await,
        Command::Secrets {
            action: SecretsAction::GenerateKey,
        } => {
            println!("{}", app::ssr::secret_box::generate_key_hex());
            Ok(())
        }
        Command::Secrets {
            action: SecretsAction::Rotate,
        } => rotate_secrets(&cli.settings).await,
        Command::Assets {
            action: AssetsAction::List,
        } => list_assets(&cli.settings),
        Command::Restore { file, force } => crate::backup::restore(&file, &cli.settings.database_url, force)
            .await
            .map(|()| println!("restored {}", file.display()))
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: &Settings) -> Result<(), String> {
    let app = Application::build(settings).await.map_err(|e| e.to_string())?;
    tracing::info!(
        database = %settings.database_url_redacted(),
        session_store = ?settings.session_store,
        production = settings.production,
        "roster {} started",
        env!("CARGO_PKG_VERSION")
    );
    app.run_until_stopped().await.map_err(|e| format!("server error: {e}"))
}

async fn migrate(settings: &Settings, action: MigrateAction) -> Result<(), String> {
    let db = connect_database(settings).await.map_err(|e| e.to_string())?;
    let failed = |e: sea_orm::DbErr| format!("migration failed: {e}");
    match action {
        MigrateAction::Up => {
            Migrator::up(&db, None).await.map_err(failed)?;
            println!("all migrations applied");
        }
        MigrateAction::Down { steps } => {
            Migrator::down(&db, Some(steps)).await.map_err(failed)?;
            println!("rolled back {steps} migration(s)");
        }
        MigrateAction::Fresh => {
            Migrator::fresh(&db).await.map_err(failed)?;
            println!("database recreated; all migrations applied");
        }
        MigrateAction::Status => {
            let applied: Vec<String> = Migrator::get_applied_migrations(&db)
                .await
                .map_err(failed)?
                .iter()
                .map(|m| m.name().to_owned())
                .collect();
            for migration in Migrator::migrations() {
                let name = migration.name().to_owned();
                let state = if applied.contains(&name) { "applied" } else { "pending" };
                println!("{state:8} {name}");
            }
        }
    }
    Ok(())
}

/// Seals every stored second-factor secret again under the current key.
async fn rotate_secrets(settings: &Settings) -> Result<(), String> {
    let db = connect_database(settings).await.map_err(|e| e.to_string())?;
    Migrator::up(&db, None)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    let state = crate::startup::build_state(settings, db)
        .await
        .map_err(|e| e.to_string())?;
    let resealed = state
        .second_factors
        .reseal_all()
        .await
        .map_err(|e| format!("cannot seal the secrets again: {e}"))?;
    println!(
        "{resealed} secret(s) sealed again under key {}; the previous keys can now be removed",
        state.second_factors.secrets().current_key_id()
    );
    Ok(())
}

/// Ends one account's sessions, or everyone's, through the same service a sign-out
/// uses, so running servers drop them from their caches at once.
async fn end_sessions(settings: &Settings, user: Option<&str>) -> Result<(), String> {
    let db = connect_database(settings).await.map_err(|e| e.to_string())?;
    Migrator::up(&db, None)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    let state = crate::startup::build_state(settings, db.clone())
        .await
        .map_err(|e| e.to_string())?;
    let accounts: Vec<uuid::Uuid> = match user {
        Some(email) => {
            let email = app::validation::Email::parse(email).map_err(|e| format!("--user: {e}"))?;
            let account = app::ssr::entity::users::find_by_email(&db, email.as_str())
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no account with the email {}", email.as_str()))?;
            vec![account.id]
        }
        None => {
            let mut ids: Vec<uuid::Uuid> = state
                .sessions
                .store()
                .all()
                .await
                .map_err(|e| format!("cannot list the sessions: {e}"))?
                .into_iter()
                .map(|s| s.user_id)
                .collect();
            ids.sort();
            ids.dedup();
            ids
        }
    };
    let mut ended = 0;
    for account in &accounts {
        ended += state
            .sessions
            .end_all_for_user(*account, None)
            .await
            .map_err(|e| format!("ending sessions stopped (run it again to finish): {e}"))?;
    }
    // (Each end was published to the running servers before it returned.)
    println!("ended {ended} session(s) of {} account(s)", accounts.len());
    Ok(())
}

async fn migrate_sessions(settings: &Settings, from: SessionStoreKind, to: SessionStoreKind) -> Result<(), String> {
    let name = |kind: SessionStoreKind| {
        clap::ValueEnum::to_possible_value(&kind).map_or_else(|| format!("{kind:?}"), |v| v.get_name().to_owned())
    };
    if from == to {
        return Err(format!("--from and --to are both {}: nothing to move", name(from)));
    }
    let db = connect_database(settings).await.map_err(|e| e.to_string())?;
    Migrator::up(&db, None)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    let open = |kind: SessionStoreKind| {
        let settings = Settings {
            session_store: kind,
            ..settings.clone()
        };
        let db = db.clone();
        async move {
            crate::startup::session_store(&settings, &db)
                .await
                .map(|(store, _)| store)
                .map_err(|e| format!("{} store: {e}", name(kind)))
        }
    };
    let (source, target) = (open(from).await?, open(to).await?);
    let done = app::ssr::sessions::move_sessions(
        source.as_ref(),
        target.as_ref(),
        settings.session_policy(),
        chrono::Utc::now(),
    )
    .await
    .map_err(|e| format!("moving sessions stopped (run it again to finish): {e}"))?;
    println!(
        "moved {} live session(s) from {} to {}; dropped {} expired",
        done.moved,
        name(from),
        name(to),
        done.dropped
    );
    Ok(())
}

fn admin_password() -> Result<String, String> {
    use std::io::IsTerminal;
    if let Ok(password) = std::env::var("ROSTER_ADMIN_PASSWORD") {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(|e| format!("cannot read the password: {e}"))?;
        let again = rpassword::prompt_password("Again: ").map_err(|e| format!("cannot read the password: {e}"))?;
        if first != again {
            return Err("the passwords do not match".into());
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn create_admin(settings: &Settings, email: &str, name: &str) -> Result<(), String> {
    let password = admin_password()?;
    let db = connect_database(settings).await.map_err(|e| e.to_string())?;
    Migrator::up(&db, None)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    let state = crate::startup::build_state(settings, db)
        .await
        .map_err(|e| e.to_string())?;
    match state.users.create_or_promote_admin(email, name, &password).await {
        Ok((user, true)) => println!("created administrator {} ({})", user.email, user.id),
        Ok((user, false)) => println!("promoted {} to administrator and set the password", user.email),
        Err(err) => {
            let detail = err
                .fields()
                .map(|f| f.values().cloned().collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            return Err(format!("{err} {detail}").trim().to_owned());
        }
    }
    Ok(())
}

/// `roster import FILE`: every row checked, then all written in one transaction, or
/// none. Prints the report (each refused row on its own line) and how long it took.
async fn import(settings: &Settings, file: &std::path::Path, dry_run: bool) -> Result<(), String> {
    use app::error::AppError;
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let db = connect_database(settings).await.map_err(|e| e.to_string())?;
    Migrator::up(&db, None)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    let state = crate::startup::build_state(settings, db)
        .await
        .map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let source = format!("from {} (roster import)", file.display());
    let client = app::ssr::caller::ClientMeta::default();
    let print_refused = |refused: &[app::model::RefusedRow]| {
        for row in refused {
            println!(
                "line {}: {}: {}",
                row.line,
                row.email.as_deref().unwrap_or("(no address)"),
                row.reason
            );
        }
    };
    match state.users.import_file(&text, dry_run, None, &client, &source).await {
        Ok(report) => {
            print_refused(&report.refused);
            let formats: Vec<String> = report.hash_formats.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let seconds = started.elapsed().as_secs_f64();
            if report.dry_run {
                println!(
                    "dry run: {} rows, {} would be imported, {} refused (password hashes: {})",
                    report.rows,
                    report.rows - report.refused.len() as u64,
                    report.refused.len(),
                    formats.join(", ")
                );
                if !report.refused.is_empty() {
                    return Err(format!("{} rows would be refused", report.refused.len()));
                }
            } else {
                println!(
                    "imported {} accounts in {seconds:.2} s (password hashes: {})",
                    report.imported,
                    formats.join(", ")
                );
            }
            Ok(())
        }
        Err(AppError::ImportRefused {
            rows,
            refused_count,
            refused,
        }) => {
            print_refused(&refused);
            Err(format!(
                "{refused_count} of {rows} rows were refused; nothing was imported"
            ))
        }
        Err(err) => {
            let detail = err
                .fields()
                .map(|f| f.values().cloned().collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            Err(format!("{err} {detail}").trim().to_owned())
        }
    }
}

/// `roster export`: every account, oldest first, without password hashes unless asked.
async fn export(
    settings: &Settings,
    out: Option<&std::path::Path>,
    format: &str,
    with_hashes: bool,
) -> Result<(), String> {
    use app::ssr::users::import::{FileFormat, export};
    let format = FileFormat::parse(format).ok_or("the format is csv or jsonl")?;
    let db = connect_database(settings).await.map_err(|e| e.to_string())?;
    Migrator::up(&db, None)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    let written = match out {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            let written = export(&db, format, with_hashes, &mut writer)
                .await
                .map_err(|e| e.to_string())?;
            std::io::Write::flush(&mut writer).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            written
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            export(&db, format, with_hashes, &mut lock)
                .await
                .map_err(|e| e.to_string())?
        }
    };
    eprintln!("exported {written} accounts");
    Ok(())
}

/// Every file under the site's `pkg/` (hashed client files and their `.br`/`.gz`
/// twins), relative to the site root: what a CDN at ROSTER_ASSET_BASE_URL must hold.
fn list_assets(settings: &Settings) -> Result<(), String> {
    let site = settings.site_root();
    let pkg = site.join("pkg");
    let mut files = Vec::new();
    let mut dirs = vec![pkg.clone()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(relative) = path.strip_prefix(&site) {
                files.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    if files.is_empty() {
        return Err(format!("no client files under {} (build first)", pkg.display()));
    }
    files.sort();
    for file in files {
        println!("{file}");
    }
    Ok(())
}

async fn breached_passwords(settings: &Settings, action: BreachedPasswordsAction) -> Result<(), String> {
    use app::ssr::breached;
    let db = connect_database(settings).await.map_err(|e| e.to_string())?;
    Migrator::up(&db, None)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    match action {
        BreachedPasswordsAction::Import { file } => {
            let report = if file.as_os_str() == "-" {
                breached::import(&db, std::io::stdin().lock()).await
            } else {
                let opened = std::fs::File::open(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                breached::import(&db, std::io::BufReader::new(opened)).await
            }
            .map_err(|e| format!("import failed: {e}"))?;
            println!(
                "imported {} breached password hashes ({} lines skipped)",
                report.imported, report.skipped
            );
        }
        BreachedPasswordsAction::Clear => {
            let cleared = breached::clear(&db).await.map_err(|e| e.to_string())?;
            println!("forgot {cleared} breached password hashes");
        }
    }
    Ok(())
}

async fn seed(settings: &Settings, first: u64, count: u64) -> Result<(), String> {
    if settings.production {
        return Err("refusing to seed synthetic accounts in production".into());
    }
    let password = std::env::var("ROSTER_SEED_PASSWORD").unwrap_or_else(|_| "seeded password 123".into());
    let db = connect_database(settings).await.map_err(|e| e.to_string())?;
    Migrator::up(&db, None)
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    crate::seed::seed_users(&db, first, count, &password).await
}

async fn backup(settings: &Settings, out: Option<std::path::PathBuf>) -> Result<(), String> {
    let db = connect_database(settings).await.map_err(|e| e.to_string())?;
    let out = out.unwrap_or_else(|| crate::backup::default_path(&settings.database_url));
    let started = std::time::Instant::now();
    let sum = crate::backup::backup(&db, &settings.database_url, &out)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "backup {} verified in {:.2}s, sha256 {sum}",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
