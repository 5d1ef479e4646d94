//! The `roster` binary itself: defaults, `.env`, configuration errors, migrations.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn roster(cwd: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_roster"));
    cmd.current_dir(cwd);
    // A clean configuration: nothing from the environment the tests run in.
    for (var, _) in std::env::vars_os() {
        if var
            .to_str()
            .is_some_and(|name| name.starts_with("ROSTER_") || name == "DATABASE_URL")
        {
            cmd.env_remove(var);
        }
    }
    cmd
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("roster-cli-{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn invalid_configuration_fails_with_one_clear_line() {
    let dir = temp_dir("badcfg");
    for (args, env, expect) in [
        (vec!["--addr", "nowhere"], None, "--addr"),
        (
            vec![],
            Some(("DATABASE_URL", "mysql://x/y")),
            "sqlite://PATH or postgres://",
        ),
        (vec![], Some(("ROSTER_SESSION_TTL", "forever")), "--session-ttl"),
        (vec![], Some(("ROSTER_LOG", "info,=[")), "ROSTER_LOG"),
        (vec![], Some(("ROSTER_SESSION_STORE", "memcached")), "--session-store"),
    ] {
        let mut cmd = roster(&dir);
        cmd.args(&args);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains(expect), "{err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn an_unreachable_database_is_one_line_not_a_panic() {
    let dir = temp_dir("nodb");
    let out = roster(&dir)
        .args(["migrate", "status"])
        .env("DATABASE_URL", "postgres://postgres:secret@127.0.0.1:1/roster")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("error: cannot open the database at postgres://postgres:***@127.0.0.1:1/roster"),
        "{err}"
    );
    assert!(!err.contains("secret"), "passwords are redacted: {err}");
}

#[test]
fn migrate_up_down_status_and_fresh() {
    use migration::MigratorTrait as _;
    let names: Vec<String> = migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let (all, newest, second_newest) = (names.len(), &names[names.len() - 1], &names[names.len() - 2]);
    let dir = temp_dir("migrate");
    let url = format!("sqlite://{}/m.db", dir.display());
    let run = |args: &[&str]| {
        let out = roster(&dir).args(args).env("DATABASE_URL", &url).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    let status = run(&["migrate", "status"]);
    assert_eq!(status.matches("pending").count(), all, "{status}");
    run(&["migrate", "up"]);
    assert_eq!(run(&["migrate", "status"]).matches("applied").count(), all);
    run(&["migrate", "down", "--steps", "1"]);
    let status = run(&["migrate", "status"]);
    assert!(status.contains(&format!("pending  {newest}")), "{status}");
    assert!(status.contains(&format!("applied  {second_newest}")), "{status}");
    // Down all the way and up again: every migration's `down` undoes its `up`.
    run(&["migrate", "down", "--steps", &(all - 1).to_string()]);
    assert_eq!(run(&["migrate", "status"]).matches("pending").count(), all);
    run(&["migrate", "up"]);
    run(&["migrate", "fresh"]);
    assert_eq!(run(&["migrate", "status"]).matches("applied").count(), all);
}

#[test]
fn serve_with_no_configuration_uses_sqlite_under_data_and_reads_dot_env() {
    let dir = temp_dir("serve");
    let port = free_port();
    std::fs::write(dir.join(".env"), format!("ROSTER_ADDR=127.0.0.1:{port}\n")).unwrap();
    let mut child = roster(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let answered = loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::{Read, Write};
            stream
                .write_all(b"GET /api/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).unwrap();
            break response;
        }
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    // SIGTERM: a graceful stop.
    send_sigterm(child.id());
    let status = child.wait().unwrap();
    assert!(answered.starts_with("HTTP/1.1 401"), "{answered}");
    assert!(dir.join("data/roster.db").is_file(), "database created under ./data");
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
}

fn send_sigterm(pid: u32) {
    let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    assert!(status.success());
}

#[test]
fn production_mode_logs_json() {
    use std::io::{BufRead, BufReader};
    let dir = temp_dir("prodlog");
    let port = free_port();
    let mut child = roster(&dir)
        .args(["--production", "--addr", &format!("127.0.0.1:{port}")])
        .env("ROSTER_SECRET_KEY", "ab".repeat(32))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    send_sigterm(child.id());
    child.wait().unwrap();
    let line: serde_json::Value = serde_json::from_str(&first).unwrap_or_else(|e| panic!("not JSON ({e}): {first}"));
    assert_eq!(line["level"], "INFO", "{line}");
    assert!(line["message"].as_str().is_some(), "{line}");
}

#[test]
fn production_needs_a_secret_key_and_development_makes_one_once() {
    let dir = temp_dir("secretkey");
    let refused = roster(&dir)
        .args(["--production", "migrate", "status"])
        .output()
        .unwrap();
    let started = roster(&dir)
        .args(["--production", "--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(
        refused.status.success(),
        "commands that need no key still run: {}",
        stderr(&refused)
    );
    assert!(!started.status.success());
    assert!(
        stderr(&started).contains("ROSTER_SECRET_KEY is required in production"),
        "{}",
        stderr(&started)
    );
    // Development: generated into data/secret.key (owner-only), then read back.
    let rotate = || roster(&dir).args(["secrets", "rotate"]).output().unwrap();
    let first = rotate();
    assert!(first.status.success(), "{}", stderr(&first));
    let key = std::fs::read_to_string(dir.join("data/secret.key")).unwrap();
    assert_eq!(key.trim().len(), 64);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.join("data/secret.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let second = rotate();
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(
        std::fs::read_to_string(dir.join("data/secret.key")).unwrap(),
        key,
        "made once"
    );
    assert!(String::from_utf8_lossy(&second.stdout).contains("0 secret(s) sealed again"));
    let generated = roster(&dir).args(["secrets", "generate-key"]).output().unwrap();
    let printed = String::from_utf8_lossy(&generated.stdout).trim().to_owned();
    assert!(
        printed.len() == 64 && printed.bytes().all(|b| b.is_ascii_hexdigit()),
        "{printed}"
    );
    let bad = roster(&dir)
        .args(["--secret-key", "short", "secrets", "rotate"])
        .output()
        .unwrap();
    assert!(stderr(&bad).contains("64 hex digits"), "{}", stderr(&bad));
}

#[test]
fn create_admin_takes_the_password_from_env_or_stdin_never_a_flag() {
    use std::io::Write;
    let dir = temp_dir("admin");
    let url = format!("sqlite://{}/a.db", dir.display());
    let out = roster(&dir)
        .args(["create-admin", "--email", "root@example.com", "--name", "Root"])
        .env("DATABASE_URL", &url)
        .env("ROSTER_ADMIN_PASSWORD", "correct horse battery")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("created administrator root@example.com"));
    // Again, from stdin: promotes (idempotent) and sets the new password.
    let mut child = roster(&dir)
        .args(["create-admin", "--email", "ROOT@example.com", "--name", "Root"])
        .env("DATABASE_URL", &url)
        .env_remove("ROSTER_ADMIN_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"another good password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("promoted root@example.com"));
    // There is no password flag, and a short password is refused in one line.
    let out = roster(&dir)
        .args([
            "create-admin",
            "--email",
            "x@example.com",
            "--name",
            "X",
            "--password",
            "p",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = roster(&dir)
        .args(["create-admin", "--email", "x@example.com", "--name", "X"])
        .env("DATABASE_URL", &url)
        .env("ROSTER_ADMIN_PASSWORD", "short")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("at least 8 characters"), "{}", stderr(&out));
}

#[test]
fn backup_and_restore_from_the_command_line() {
    let dir = temp_dir("backup");
    let source = format!("sqlite://{}/live.db", dir.display());
    let out = roster(&dir)
        .args(["migrate", "up"])
        .env("DATABASE_URL", &source)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = roster(&dir)
        .args(["create-admin", "--email", "root@example.com", "--name", "Root"])
        .env("DATABASE_URL", &source)
        .env("ROSTER_ADMIN_PASSWORD", "correct horse battery")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let file = dir.join("b.db");
    let out = roster(&dir)
        .args(["backup", "--out", file.to_str().unwrap()])
        .env("DATABASE_URL", &source)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("verified"));
    assert!(dir.join("b.db.sha256").is_file());
    // The default location is backups/ under the working directory.
    let out = roster(&dir)
        .arg("backup")
        .env("DATABASE_URL", &source)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_dir(dir.join("backups")).unwrap().count(),
        2,
        "the backup and its checksum"
    );

    // An account created after the backup: a restore must not have it.
    let out = roster(&dir)
        .args(["create-admin", "--email", "later@example.com", "--name", "Later"])
        .env("DATABASE_URL", &source)
        .env("ROSTER_ADMIN_PASSWORD", "correct horse battery")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(emails(&source), ["later@example.com", "root@example.com"]);

    let copy = format!("sqlite://{}/copy.db", dir.display());
    let out = roster(&dir)
        .args(["restore", file.to_str().unwrap()])
        .env("DATABASE_URL", &copy)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        emails(&copy),
        ["root@example.com"],
        "the copy holds what the backup held"
    );
    // Not over a database that holds users, unless forced.
    let out = roster(&dir)
        .args(["restore", file.to_str().unwrap()])
        .env("DATABASE_URL", &source)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(
        emails(&source),
        ["later@example.com", "root@example.com"],
        "a refused restore changes nothing"
    );
    let out = roster(&dir)
        .args(["restore", "--force", file.to_str().unwrap()])
        .env("DATABASE_URL", &source)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        emails(&source),
        ["root@example.com"],
        "forced: back to the backup's state"
    );
}

/// The accounts' emails in a database, sorted.
fn emails(url: &str) -> Vec<String> {
    use sea_orm::{ConnectionTrait, Database, Statement};
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = Database::connect(url).await.unwrap();
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT email FROM users ORDER BY email",
            ))
            .await
            .unwrap();
        let emails = rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect();
        db.close().await.ok();
        emails
    })
}

/// Sends one HTTP/1.1 request over a plain socket; returns the raw response.
fn http(port: u16, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// `POST path` with a JSON body, the connection closed after; the raw response.
fn post_json(port: u16, path: &str, body: &str) -> String {
    http(
        port,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts `cmd` (a `roster` that serves) on a free port with its output discarded;
/// returns the process and the port once it listens.
fn serve_quietly(mut cmd: Command) -> (std::process::Child, u16) {
    let port = free_port();
    let child = cmd
        .env("ROSTER_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port);
    (child, port)
}

/// Registers an account; returns the raw response and the session token it set.
fn register(port: u16, name: &str, email: &str, password: &str) -> (String, String) {
    let body = format!(r#"{{"name":"{name}","email":"{email}","password":"{password}"}}"#);
    let response = post_json(port, "/api/register", &body);
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    let token = response
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: roster_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    (response, token)
}

/// `GET /api/me` with the session cookie; the raw response.
fn me(port: u16, token: &str) -> String {
    http(
        port,
        &format!("GET /api/me HTTP/1.1\r\nHost: x\r\nCookie: roster_session={token}\r\nConnection: close\r\n\r\n"),
    )
}

#[test]
fn logs_go_to_rotated_files_and_never_hold_passwords_tokens_or_cookies() {
    let dir = temp_dir("logs");
    let logs = dir.join("logs");
    let port = free_port();
    let password = "very secret passphrase 9";
    let child = roster(&dir)
        .env("ROSTER_ADDR", format!("127.0.0.1:{port}"))
        .env("ROSTER_LOG_DIR", &logs)
        .env("ROSTER_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_port(port);
    let (registered, token) = register(port, "Ada", "ada@example.com", password);
    let me = me(port, &token);
    assert!(me.starts_with("HTTP/1.1 200"), "{me}");
    let wrong = r#"{"email":"ada@example.com","password":"wrong guess 12345"}"#;
    post_json(port, "/api/login", &wrong);
    send_sigterm(child.id());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&logs).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "only the service's user reads its logs");
    let files: Vec<_> = std::fs::read_dir(&logs).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("roster.") && name.ends_with(".log"), "{name}");
    let file = std::fs::read_to_string(&files[0]).unwrap();
    let access: Vec<&str> = file.lines().filter(|l| l.contains("roster::access")).collect();
    assert!(access.len() >= 3, "one access line per request: {file}");
    assert!(
        access.iter().all(|l| l.contains("request_id")),
        "every line carries the request id"
    );
    assert!(
        access
            .iter()
            .any(|l| l.contains("\"status\":201") && l.contains("/api/register"))
    );
    let user_id = registered
        .split("\"id\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the user id");
    assert!(
        access.iter().any(|l| l.contains("/api/me") && l.contains(user_id)),
        "the signed-in user's id is on the access line: {access:?}"
    );
    let everything = format!(
        "{file}{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for secret in [password, "wrong guess 12345", token.as_str()] {
        assert!(!everything.contains(secret), "a secret reached the logs");
    }
    assert!(
        !everything.to_lowercase().contains("roster_session="),
        "no cookie header in the logs"
    );
}

/// Log files rotate daily (one file per UTC day, named by its date) and only the
/// newest `ROSTER_LOG_KEEP` are kept: older ones are deleted when the server starts.
#[test]
fn log_files_are_named_by_day_and_only_the_newest_are_kept() {
    let dir = temp_dir("logkeep");
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    // Five older days, written oldest first.
    for day in 1..=5 {
        std::fs::write(logs.join(format!("roster.2026-01-0{day}.log")), "{}\n").unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(logs.join("unrelated.txt"), "not a log").unwrap();
    let port = free_port();
    let child = roster(&dir)
        .env("ROSTER_ADDR", format!("127.0.0.1:{port}"))
        .env("ROSTER_LOG_DIR", &logs)
        .env("ROSTER_LOG_KEEP", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_port(port);
    send_sigterm(child.id());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let today = format!("roster.{}.log", chrono::Utc::now().format("%Y-%m-%d"));
    assert_eq!(
        names,
        [
            "roster.2026-01-04.log",
            "roster.2026-01-05.log",
            &today,
            "unrelated.txt"
        ],
        "the two newest old days, today's file, and nothing else removed"
    );
    assert!(
        std::fs::read_to_string(logs.join(&today)).unwrap().contains("started"),
        "today's lines go to today's file"
    );
}

/// Registrations stream in from several clients; SIGTERM arrives mid-stream. Every
/// registration the server acknowledged (201) must be in the database afterwards,
/// and the process must exit cleanly.
#[test]
fn sigterm_under_load_loses_no_acknowledged_request() {
    use std::sync::{Arc, Mutex};
    let dir = temp_dir("sigterm");
    let url = format!("sqlite://{}/s.db", dir.display());
    let mut server = roster(&dir);
    server.env("DATABASE_URL", &url);
    let (mut child, port) = serve_quietly(server);
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let acknowledged = acknowledged.clone();
            std::thread::spawn(move || {
                for i in 0.. {
                    let email = format!("c{client}-{i}@example.com");
                    let body = format!(r#"{{"name":"Load","email":"{email}","password":"correct horse battery"}}"#);
                    let request = format!(
                        "POST /api/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else { break };
                    use std::io::{Read, Write};
                    if stream.write_all(request.as_bytes()).is_err() {
                        break;
                    }
                    let mut response = String::new();
                    let _ = stream.read_to_string(&mut response);
                    if response.starts_with("HTTP/1.1 201") {
                        acknowledged.lock().unwrap().push(email);
                    }
                }
            })
        })
        .collect();
    // SIGTERM once the load is well under way.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 8 {
        assert!(Instant::now() < deadline, "the load never got going");
        std::thread::sleep(Duration::from_millis(10));
    }
    send_sigterm(child.id());
    let status = child.wait().unwrap();
    for client in clients {
        client.join().unwrap();
    }
    assert!(status.success(), "clean exit: {status:?}");
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 4, "load was applied: {}", acknowledged.len());

    // A consistent snapshot of the database (WAL included) holds every acknowledged row;
    // SQLite stores text as UTF-8, so the emails are visible in the file's bytes.
    let backup = dir.join("check.db");
    let out = roster(&dir)
        .args(["backup", "--out", backup.to_str().unwrap()])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&backup).unwrap();
    let haystack = String::from_utf8_lossy(&bytes);
    for email in &acknowledged {
        assert!(
            haystack.contains(email.as_str()),
            "{email} was acknowledged but is not in the database"
        );
    }
}

/// `roster sessions migrate` moves live sessions between stores: a session made
/// on the database store still works after a move to Redis, then to the directory
/// store and back to the database, and each move empties the store it left.
#[test]
fn sessions_move_between_stores_without_signing_anyone_out() {
    let dir = temp_dir("sessions-migrate");
    let database = format!("sqlite://{}/roster.db", dir.display());
    let redis_url = std::env::var("ROSTER_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/15".into());
    let prefix = format!("roster_test:{}:", uuid::Uuid::new_v4().simple());
    let on = |store: &str| {
        let mut cmd = roster(&dir);
        cmd.env("DATABASE_URL", &database)
            .env("ROSTER_SESSION_STORE", store)
            .env("ROSTER_SESSION_DIR", dir.join("sessions"))
            .env("REDIS_URL", &redis_url)
            .env("ROSTER_REDIS_PREFIX", &prefix);
        cmd
    };
    let me_on = |store: &str, token: &str| -> String {
        let (child, port) = serve_quietly(on(store));
        let reply = me(port, token);
        send_sigterm(child.id());
        child.wait_with_output().unwrap();
        reply
    };
    let migrate = |from: &str, to: &str| -> Output {
        on(from)
            .args(["sessions", "migrate", "--from", from, "--to", to])
            .output()
            .unwrap()
    };

    // A session made while the database store is in use, and one already expired.
    let (child, port) = serve_quietly(on("database"));
    let (_, token) = register(port, "Ada", "ada@example.com", "correct horse battery");
    send_sigterm(child.id());
    child.wait_with_output().unwrap();
    sql(
        &database,
        "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at) \
         SELECT 'ab', user_id, created_at, created_at, '2000-01-01 00:00:00+00:00' FROM sessions",
    );

    let out = migrate("database", "database");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nothing to move"), "{}", stderr(&out));

    for (from, to) in [("database", "redis"), ("redis", "directory"), ("directory", "database")] {
        let out = migrate(from, to);
        assert!(out.status.success(), "{from} → {to}: {}", stderr(&out));
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        let dropped = if from == "database" && to == "redis" { 1 } else { 0 };
        assert!(
            said.contains(&format!(
                "moved 1 live session(s) from {from} to {to}; dropped {dropped} expired"
            )),
            "{said}"
        );
        assert!(
            me_on(to, &token).starts_with("HTTP/1.1 200"),
            "the session works on {to}"
        );
        assert!(
            !me_on(from, &token).starts_with("HTTP/1.1 200"),
            "and is gone from {from}"
        );
    }
    let redis_keys: Vec<String> = redis::Client::open(redis_url.as_str())
        .unwrap()
        .get_connection()
        .and_then(|mut c| redis::cmd("KEYS").arg(format!("{prefix}session:*")).query(&mut c))
        .unwrap();
    assert!(
        redis_keys.is_empty(),
        "Redis holds none after the move away: {redis_keys:?}"
    );
}

/// Runs one SQL statement on a database.
fn sql(url: &str, statement: &str) {
    use sea_orm::{ConnectionTrait, Database};
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = Database::connect(url).await.unwrap();
        db.execute_unprepared(statement).await.unwrap();
        db.close().await.ok();
    });
}

/// `roster assets list` prints what a CDN must hold: every file under the site's
/// `pkg/`, with its compressed twins, relative to the site root, in order.
#[test]
fn assets_list_names_every_client_file_to_upload() {
    let dir = temp_dir("assets");
    let pkg = dir.join("site").join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    for file in [
        "roster.AAAAAAAAAAAAAAAAAAAAAA.wasm",
        "roster.AAAAAAAAAAAAAAAAAAAAAA.wasm.br",
        "roster.BBBBBBBBBBBBBBBBBBBBBB.js",
    ] {
        std::fs::write(pkg.join(file), b"x").unwrap();
    }
    std::fs::write(dir.join("site").join("favicon.ico"), b"x").unwrap();
    let out = roster(&dir)
        .args(["assets", "list"])
        .env("LEPTOS_SITE_ROOT", dir.join("site"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pkg/roster.AAAAAAAAAAAAAAAAAAAAAA.wasm\npkg/roster.AAAAAAAAAAAAAAAAAAAAAA.wasm.br\npkg/roster.BBBBBBBBBBBBBBBBBBBBBB.js\n"
    );
    let empty = temp_dir("assets-empty");
    let out = roster(&empty)
        .args(["assets", "list"])
        .env("LEPTOS_SITE_ROOT", empty.join("site"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "nothing built is an error, not an empty list");
}

/// `roster sessions end` ends sessions now, also in a running server's memory (on
/// PostgreSQL the server is told through NOTIFY): one account's, then everyone's.
#[test]
fn sessions_end_for_one_account_or_all_reaches_a_running_server() {
    let dir = temp_dir("sessions-end");
    let database = format!("roster_test_cli_{}", uuid::Uuid::new_v4().simple());
    let created = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-qc",
            &format!("CREATE DATABASE {database}"),
        ])
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", stderr(&created));
    let url = format!("postgres://postgres@127.0.0.1:5432/{database}");
    let mut server = roster(&dir);
    server.env("DATABASE_URL", &url);
    let (child, port) = serve_quietly(server);
    let (_, ada) = register(port, "Ada", "ada@example.com", "correct horse battery");
    let (_, bob) = register(port, "Bob", "bob@example.com", "correct horse battery");
    let (_, cy) = register(port, "Cy", "cy@example.com", "correct horse battery");
    for token in [&ada, &bob, &cy] {
        assert!(me(port, token).starts_with("HTTP/1.1 200"), "answered, and now cached");
    }
    let end = |args: &[&str]| {
        let out = roster(&dir)
            .args(["sessions", "end"])
            .args(args)
            .env("DATABASE_URL", &url)
            .env("ROSTER_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(
        end(&["--user", "ADA@example.com"]),
        "ended 1 session(s) of 1 account(s)\n"
    );
    assert!(
        me(port, &ada).starts_with("HTTP/1.1 401"),
        "the running server dropped it at once"
    );
    assert!(me(port, &bob).starts_with("HTTP/1.1 200"), "nobody else");
    assert_eq!(end(&["--all"]), "ended 2 session(s) of 2 account(s)\n");
    for token in [&bob, &cy] {
        assert!(me(port, token).starts_with("HTTP/1.1 401"));
    }
    let out = roster(&dir)
        .args(["sessions", "end", "--user", "nobody@example.com"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no account with the email nobody@example.com"),
        "{}",
        stderr(&out)
    );
    let out = roster(&dir)
        .args(["sessions", "end"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert!(!out.status.success(), "one of --user or --all is required");
    send_sigterm(child.id());
    child.wait_with_output().unwrap();
}

/// `ROSTER_PASSWORD_MIN_LENGTH` raises the minimum for new passwords (the server's
/// answer names it); accounts made under the old minimum still sign in.
#[test]
fn a_deployment_can_require_longer_passwords() {
    let dir = temp_dir("password-min");
    let url = format!("sqlite://{}/r.db", dir.display());
    let mut server = roster(&dir);
    server.env("DATABASE_URL", &url);
    let (child, port) = serve_quietly(server);
    register(port, "Ada", "ada@example.com", "twelve chars");
    send_sigterm(child.id());
    child.wait_with_output().unwrap();

    let mut server = roster(&dir);
    server.env("DATABASE_URL", &url).env("ROSTER_PASSWORD_MIN_LENGTH", "15");
    let (child, port) = serve_quietly(server);
    let body = r#"{"name":"Bo","email":"bo@example.com","password":"fourteen chars"}"#;
    let refused = post_json(port, "/api/register", &body);
    assert!(refused.starts_with("HTTP/1.1 422"), "{refused}");
    assert!(
        refused.contains("Password must be at least 15 characters."),
        "{refused}"
    );
    register(port, "Bo", "bo@example.com", "fifteen chars ok");
    let login = r#"{"email":"ada@example.com","password":"twelve chars"}"#;
    let signed_in = post_json(port, "/api/login", &login);
    assert!(
        signed_in.starts_with("HTTP/1.1 200"),
        "the old password still signs in: {signed_in}"
    );
    send_sigterm(child.id());
    child.wait_with_output().unwrap();
}

/// `roster breached-passwords import` (from a file and from stdin) fills the local
/// list a running server then refuses; `clear` empties it.
#[test]
fn breached_passwords_are_imported_from_a_file_or_stdin_and_cleared() {
    use sha1::{Digest, Sha1};
    let sha1 = |password: &str| hex::encode_upper(Sha1::digest(password.as_bytes()));
    let dir = temp_dir("breached");
    let url = format!("sqlite://{}/r.db", dir.display());
    let corpus = dir.join("corpus.txt");
    std::fs::write(
        &corpus,
        format!(
            "{}:7\nnot a hash\n{}\n",
            sha1("plinth marrow cobalt"),
            sha1("quiet harbour lantern")
        ),
    )
    .unwrap();
    let out = roster(&dir)
        .env("DATABASE_URL", &url)
        .args(["breached-passwords", "import"])
        .arg(&corpus)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // Log lines (the migrations) go to stdout too, written by the logger's own
    // thread, so they may come before or after the answer: find its line.
    let answer = |out: &Output| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|line| !line.contains(" INFO ") && !line.contains(" WARN ") && !line.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    assert_eq!(answer(&out), "imported 2 breached password hashes (1 lines skipped)");
    let mut from_stdin = roster(&dir)
        .env("DATABASE_URL", &url)
        .args(["breached-passwords", "import", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    let line = format!("{}:1\n", sha1("amber thistle gravel"));
    from_stdin.stdin.take().unwrap().write_all(line.as_bytes()).unwrap();
    let out = from_stdin.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let missing = roster(&dir)
        .env("DATABASE_URL", &url)
        .args(["breached-passwords", "import", "no-such-file.txt"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("cannot read no-such-file.txt"),
        "{}",
        stderr(&missing)
    );

    let mut server = roster(&dir);
    server.env("DATABASE_URL", &url);
    let (child, port) = serve_quietly(server);
    for breached in ["plinth marrow cobalt", "amber thistle gravel"] {
        let body = format!(r#"{{"name":"Bo","email":"bo@example.com","password":"{breached}"}}"#);
        let refused = post_json(port, "/api/register", &body);
        assert!(refused.starts_with("HTTP/1.1 422"), "{refused}");
        assert!(refused.contains("appeared in a data breach"), "{refused}");
    }
    send_sigterm(child.id());
    child.wait_with_output().unwrap();

    let out = roster(&dir)
        .env("DATABASE_URL", &url)
        .args(["breached-passwords", "clear"])
        .output()
        .unwrap();
    assert_eq!(answer(&out), "forgot 3 breached password hashes");
    let mut server = roster(&dir);
    server.env("DATABASE_URL", &url);
    let (child, port) = serve_quietly(server);
    register(port, "Bo", "bo@example.com", "plinth marrow cobalt");
    send_sigterm(child.id());
    child.wait_with_output().unwrap();
}

#[test]
fn import_checks_every_row_first_and_export_writes_what_import_reads() {
    let dir = temp_dir("import");
    let source = format!("sqlite://{}/from.db", dir.display());
    let fixture: serde_json::Value = serde_json::from_str(include_str!("fixtures/legacy_hashes.json")).unwrap();
    let werkzeug = fixture["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["format"] == "werkzeug_scrypt")
        .unwrap();
    let hash = werkzeug["hash"].as_str().unwrap();
    let bad = format!(
        "email,name,role,created_at,password_hash\n\
         ada@example.com,Ada,admin,2022-02-02T10:00:00Z,{hash}\n\
         bob@example.com,Bob,king,,\n"
    );
    std::fs::write(dir.join("bad.csv"), &bad).unwrap();
    for dry_run in [true, false] {
        let mut cmd = roster(&dir);
        cmd.args(["import", dir.join("bad.csv").to_str().unwrap()]);
        if dry_run {
            cmd.arg("--dry-run");
        }
        let out = cmd.env("DATABASE_URL", &source).output().unwrap();
        let printed = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "refused rows fail the command: {printed}");
        assert!(printed.contains("line 3: bob@example.com: role:"), "{printed}");
        assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    }
    assert!(emails(&source).is_empty(), "nothing was imported");

    let good: String = bad.lines().take(2).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join("good.csv"), good).unwrap();
    let out = roster(&dir)
        .args(["import", dir.join("good.csv").to_str().unwrap()])
        .env("DATABASE_URL", &source)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{printed} {}", stderr(&out));
    assert!(printed.contains("imported 1 accounts in "), "{printed}");
    assert!(printed.contains("scrypt 1"), "{printed}");

    // Export: no hashes unless asked; with them, a file another Roster imports.
    let out = roster(&dir)
        .args(["export"])
        .env("DATABASE_URL", &source)
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(csv.lines().next(), Some("email,name,role,created_at,email_verified"));
    assert!(!csv.contains(hash));
    assert!(
        csv.contains("ada@example.com,Ada,admin,2022-02-02T10:00:00.000000Z,false"),
        "{csv}"
    );
    let file = dir.join("out.jsonl");
    let out = roster(&dir)
        .args([
            "export",
            "--with-hashes",
            "--format",
            "jsonl",
            "--out",
            file.to_str().unwrap(),
        ])
        .env("DATABASE_URL", &source)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("exported 1 accounts"));
    let line: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&file).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(line["password_hash"], hash);
    let elsewhere = format!("sqlite://{}/to.db", dir.display());
    let out = roster(&dir)
        .args(["import", file.to_str().unwrap()])
        .env("DATABASE_URL", &elsewhere)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(emails(&elsewhere), ["ada@example.com"]);
}

/// Reads exactly one response (headers and a Content-Length body) from a kept-open
/// connection; `None` if the server closed it first.
fn read_one_response(stream: &mut std::net::TcpStream) -> Option<String> {
    use std::io::Read;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    Some(head + &String::from_utf8_lossy(&body))
}

/// The server closed `stream` (end of stream or reset), rather than the read timing out.
fn assert_closed(stream: &mut std::net::TcpStream, what: &str) {
    use std::io::Read;
    let mut rest = Vec::new();
    match stream.read_to_end(&mut rest) {
        Ok(_) => assert!(
            rest.is_empty(),
            "{what}: more arrived: {}",
            String::from_utf8_lossy(&rest)
        ),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("{what}: {e}"),
    }
}

/// A load balancer's idle kept-open connection must not be closed under it the
/// moment SIGTERM arrives (a request it just wrote there would be lost): during the
/// drain the instance answers on it with `Connection: close`, and `/readyz` says
/// it is draining. Ctrl-C (SIGINT) skips the drain and closes idle connections at once.
#[test]
fn sigterm_drains_kept_open_connections_before_stopping() {
    use std::io::Write;
    let dir = temp_dir("drain");
    let url = format!("sqlite://{}/d.db", dir.display());
    let healthz = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

    let mut server = roster(&dir);
    server.env("DATABASE_URL", &url).env("ROSTER_SHUTDOWN_DRAIN", "5s");
    let (mut child, port) = serve_quietly(server);
    let mut kept = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    kept.write_all(healthz.as_bytes()).unwrap();
    let first = read_one_response(&mut kept).expect("an answer");
    assert!(!first.to_ascii_lowercase().contains("connection: close"), "{first}");

    send_sigterm(child.id());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ready = http(port, "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        if ready.starts_with("HTTP/1.1 503") {
            assert!(ready.contains(r#""status":"draining""#), "{ready}");
            break;
        }
        assert!(Instant::now() < deadline, "never reported draining: {ready}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The idle connection is still open and answers, saying it will close.
    kept.write_all(healthz.as_bytes()).unwrap();
    let during = read_one_response(&mut kept).expect("the kept connection still answers while draining");
    assert!(during.starts_with("HTTP/1.1 200"), "{during}");
    assert!(during.to_ascii_lowercase().contains("connection: close"), "{during}");
    assert_closed(&mut kept, "closed after that answer");
    assert!(child.wait().unwrap().success());

    // SIGINT: no drain; the idle connection is closed without a request on it.
    let mut server = roster(&dir);
    server.env("DATABASE_URL", &url).env("ROSTER_SHUTDOWN_DRAIN", "60s");
    let (mut child, port) = serve_quietly(server);
    let mut kept = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    kept.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    kept.write_all(healthz.as_bytes()).unwrap();
    read_one_response(&mut kept).expect("an answer");
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_closed(&mut kept, "closed at once");
    assert!(child.wait().unwrap().success());
}
