//! The production topology on loopback: nginx (configured from
//! `deploy/nginx/roster.conf`) in front of several `roster` processes that share one
//! PostgreSQL database and one Redis session store. Every part is a real process
//! the test can stop, kill and restart.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "staff key lemon 123";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn postgres_admin(sql: &str) {
    let out = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-qAtc",
            sql,
        ])
        .output()
        .expect("psql runs");
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Rows of a query's first column, as text.
pub fn query(database_url: &str, sql: &str) -> Vec<String> {
    let out = Command::new("psql")
        .args([database_url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql])
        .output()
        .expect("psql runs");
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Waits until `ready` holds, polling; panics with `what` after `seconds`.
pub fn wait_until(seconds: u64, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn answers_ready(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.starts_with("HTTP/1.1 200")
}

/// One `roster serve` process on its own port, logging JSON lines to a file.
pub struct Instance {
    pub port: u16,
    pub log: PathBuf,
    child: Option<Child>,
    env: Vec<(String, String)>,
}

impl Instance {
    fn command(env: &[(String, String)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_roster"));
        // A clean configuration: nothing from the environment the tests run in.
        for (var, _) in std::env::vars_os() {
            if var
                .to_str()
                .is_some_and(|name| name.starts_with("ROSTER_") || name == "DATABASE_URL" || name == "REDIS_URL")
            {
                cmd.env_remove(var);
            }
        }
        // Mail (verification links of the accounts the test registers) goes to a
        // temporary directory, not `data/mail` under the package.
        cmd.env("ROSTER_MAIL_DIR", std::env::temp_dir().join("roster-cluster-mail"));
        // One key for every instance, as in production; none generated into the package.
        cmd.env(
            "ROSTER_SECRET_KEY",
            "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7",
        );
        cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Self::command(&self.env)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("roster starts");
        self.child = Some(child);
        let port = self.port;
        wait_until(60, &format!("instance on port {port} to be ready"), || {
            answers_ready(port)
        });
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// `kill -9`: no shutdown, connections dropped mid-request.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM, then wait for the graceful exit (in-flight requests finish).
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        child.wait().unwrap()
    }

    /// Starts again on the same port and waits until `/readyz` answers 200.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        self.spawn();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// nginx from Debian, run in the foreground from a directory of its own.
pub struct Nginx {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

fn nginx_binary() -> &'static str {
    if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    }
}

/// `deploy/nginx/roster.conf` with this cluster's listen port, instances and site
/// directory. Each replaced line must be found, so the file and the test cannot drift.
pub fn site_config(port: u16, instances: &[u16], site: &Path) -> String {
    let deployed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/nginx/roster.conf"))
        .expect("deploy/nginx/roster.conf");
    let mut out = String::new();
    let (mut listen, mut upstreams, mut root) = (0, 0, 0);
    for line in deployed.lines() {
        let code = line.trim_start();
        if code.starts_with("listen ") {
            listen += 1;
            out.push_str(&format!("    listen 127.0.0.1:{port};\n"));
        } else if let Some(address) = code.strip_prefix("server 127.0.0.1:") {
            // The instances, with the deployed file's own parameters.
            let parameters = address.split_once(' ').map_or(";", |(_, rest)| rest);
            if upstreams == 0 {
                for instance in instances {
                    out.push_str(&format!("    server 127.0.0.1:{instance} {parameters}\n"));
                }
            }
            upstreams += 1;
        } else if code.starts_with("root ") {
            root += 1;
            out.push_str(&format!("        root {};\n", site.display()));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert_eq!((listen, root), (1, 1), "roster.conf has one listen and one root line");
    assert!(
        upstreams > 0,
        "roster.conf lists its instances as `server 127.0.0.1:PORT …` lines"
    );
    out
}

impl Nginx {
    pub fn start(instances: &[u16], site: &Path) -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("roster-nginx-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("temp")).unwrap();
        std::fs::write(dir.join("roster.conf"), site_config(port, instances, site)).unwrap();
        let d = dir.display();
        // Workers run as an unprivileged user when nginx starts as root: they must be
        // able to read the site and write their temporary files.
        let user = if is_root() { "user root root;\n" } else { "" };
        let main = format!(
            "{user}worker_processes 2;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             load_module /usr/lib/nginx/modules/ngx_http_brotli_static_module.so;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/temp/body;\n  proxy_temp_path {d}/temp/proxy;\n  \
             fastcgi_temp_path {d}/temp/fastcgi;\n  uwsgi_temp_path {d}/temp/uwsgi;\n  scgi_temp_path {d}/temp/scgi;\n  \
             include {d}/roster.conf;\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), main).unwrap();
        let test = Command::new(nginx_binary())
            .args(["-t", "-q", "-e"])
            .arg(dir.join("error.log"))
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .output()
            .expect("nginx runs (Debian's nginx and libnginx-mod-http-brotli-static)");
        assert!(
            test.status.success(),
            "nginx -t: {}",
            String::from_utf8_lossy(&test.stderr)
        );
        let child = Command::new(nginx_binary())
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        wait_until(30, "nginx to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Self { port, dir, child }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: the master then stops its workers (killed, it would
        // leave them running, holding the port).
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("nginx's files are kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

/// nginx + `count` instances on a fresh PostgreSQL database and a Redis prefix of
/// their own, with an administrator and a site directory holding one hashed file.
pub struct Cluster {
    pub database_url: String,
    database: String,
    redis_prefix: String,
    pub instances: Vec<Instance>,
    pub nginx: Nginx,
    pub site: PathBuf,
    dir: PathBuf,
}

pub fn redis_url() -> String {
    std::env::var("ROSTER_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/15".into())
}

impl Cluster {
    pub fn start(count: usize) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let database = format!("roster_test_cluster_{}", &id[..12]);
        postgres_admin(&format!("CREATE DATABASE {database}"));
        let database_url = format!("postgres://postgres@127.0.0.1:5432/{database}");
        let redis_prefix = format!("roster_test:cluster-{}:", &id[..12]);
        let dir = std::env::temp_dir().join(format!("roster-cluster-{id}"));
        let site = dir.join("site");
        std::fs::create_dir_all(site.join("pkg")).unwrap();

        let env = |port: u16| -> Vec<(String, String)> {
            [
                ("DATABASE_URL", database_url.clone()),
                ("ROSTER_ADDR", format!("127.0.0.1:{port}")),
                ("ROSTER_SESSION_STORE", "redis".into()),
                ("REDIS_URL", redis_url()),
                ("ROSTER_REDIS_PREFIX", redis_prefix.clone()),
                // nginx connects from 127.0.0.1; the test's clients from 127.0.0.2.
                ("ROSTER_TRUSTED_PROXIES", "127.0.0.1".into()),
                ("ROSTER_LOG", "info".into()),
                ("ROSTER_LOG_FORMAT", "json".into()),
                ("ROSTER_HASH_CONCURRENCY", "2".into()),
                // The load registers hundreds of accounts from one client address.
                ("ROSTER_REGISTER_MAX_PER_IP", "1000000".into()),
                ("LEPTOS_SITE_ROOT", site.display().to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
        };
        // As the App Platform spec does: migrate once, before any instance starts.
        let setup = env(0);
        let out = Instance::command(&setup).args(["migrate", "up"]).output().unwrap();
        assert!(
            out.status.success(),
            "migrate up: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Instance::command(&setup)
            .args(["create-admin", "--email", ADMIN_EMAIL, "--name", "Admin"])
            .env("ROSTER_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "create-admin: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let mut instances: Vec<Instance> = (0..count)
            .map(|n| {
                let port = free_port();
                Instance {
                    port,
                    log: dir.join(format!("instance-{n}.log")),
                    child: None,
                    env: env(port),
                }
            })
            .collect();
        for instance in &mut instances {
            instance.spawn();
        }
        let ports: Vec<u16> = instances.iter().map(|i| i.port).collect();
        let nginx = Nginx::start(&ports, &site);
        Self {
            database_url,
            database,
            redis_prefix,
            instances,
            nginx,
            site,
            dir,
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.instances.clear();
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-qAtc"])
            .arg(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database))
            .output();
        let _ = Command::new("redis-cli")
            .args(["-u", &redis_url(), "--scan", "--pattern"])
            .arg(format!("{}*", self.redis_prefix))
            .output()
            .map(|keys| {
                let keys = String::from_utf8_lossy(&keys.stdout).into_owned();
                let keys: Vec<&str> = keys.lines().collect();
                if !keys.is_empty() {
                    let _ = Command::new("redis-cli")
                        .args(["-u", &redis_url(), "DEL"])
                        .args(keys)
                        .output();
                }
            });
        if std::thread::panicking() {
            eprintln!("the instances' logs are kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
