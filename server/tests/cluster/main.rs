//! Several Roster instances behind nginx, on one PostgreSQL database and one Redis
//! session store, as in production (docs/ARCHITECTURE.md, Deployment). One test walks
//! through what a load-balanced deployment must get right, on one cluster: requests
//! spread over every instance with the client's address and request id carried
//! through; a sign-out or a disabled account taking effect on every instance at once;
//! an instance killed under load losing only what was in flight on it; and a rolling
//! restart under load failing nothing. Its figures are printed (`--nocapture`).

mod topology;

use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use topology::{ADMIN_EMAIL, ADMIN_PASSWORD, Cluster, query};

const PASSWORD: &str = "correct horse battery";
const COOKIE: &str = "roster_session";

/// A client on 127.0.0.2: not one of the trusted proxies (nginx connects from
/// 127.0.0.1), so what it writes in X-Forwarded-For must not be believed.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Reply {
    fn token(&self) -> String {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix(&format!("{COOKIE}=")))
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_owned()
    }
}

async fn send(request: reqwest::RequestBuilder) -> Result<Reply, reqwest::Error> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Reply { status, headers, body })
}

async fn call(http: &reqwest::Client, method: &str, url: &str, body: Option<Value>, token: Option<&str>) -> Reply {
    let mut request = http.request(method.parse().unwrap(), url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(token) = token {
        request = request.header("cookie", format!("{COOKIE}={token}"));
    }
    send(request).await.expect("the request is answered")
}

async fn register(http: &reqwest::Client, base: &str, name: &str, email: &str) -> (String, String) {
    let r = call(
        http,
        "POST",
        &format!("{base}/api/register"),
        Some(json!({"name": name, "email": email, "password": PASSWORD})),
        None,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["data"]["user"]["id"].as_str().unwrap().to_owned();
    (id, r.token())
}

async fn sign_in(http: &reqwest::Client, base: &str, email: &str, password: &str) -> String {
    let r = call(
        http,
        "POST",
        &format!("{base}/api/login"),
        Some(json!({"email": email, "password": password})),
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.token()
}

/// What a load run did: every request's outcome and latency.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    failures: Vec<String>,
    acknowledged_registrations: Vec<String>,
}

impl Tally {
    fn p99(&self) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        sorted
            .get((sorted.len() * 99 / 100).min(sorted.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    }

    fn summary(&self) -> String {
        format!(
            "{} requests, {} failed, p99 {:.1} ms, {} registrations acknowledged",
            self.latencies.len(),
            self.failures.len(),
            self.p99().as_secs_f64() * 1000.0,
            self.acknowledged_registrations.len()
        )
    }
}

/// Steady load through nginx until `stop` is set: each worker registers an account,
/// then reads `/api/me` and a page with its session, over and over.
fn start_load(
    base: String,
    workers: usize,
    label: &'static str,
    stop: Arc<AtomicBool>,
) -> (Arc<Mutex<Tally>>, Vec<tokio::task::JoinHandle<()>>) {
    let tally = Arc::new(Mutex::new(Tally::default()));
    let handles = (0..workers)
        .map(|worker| {
            let (base, tally, stop) = (base.clone(), tally.clone(), stop.clone());
            tokio::spawn(async move {
                let http = client();
                let mut token: Option<String> = None;
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let email = format!("{label}-{worker}-{i}@example.com");
                    let started = Instant::now();
                    let (what, result) = match (i % 3, &token) {
                        (0, _) | (_, None) => {
                            let body = json!({"name": "Load", "email": email, "password": PASSWORD});
                            (
                                "register",
                                send(http.post(format!("{base}/api/register")).json(&body)).await,
                            )
                        }
                        (1, Some(token)) => (
                            "me",
                            send(
                                http.get(format!("{base}/api/me"))
                                    .header("cookie", format!("{COOKIE}={token}")),
                            )
                            .await,
                        ),
                        (_, Some(token)) => (
                            "page",
                            send(
                                http.get(format!("{base}/account"))
                                    .header("cookie", format!("{COOKIE}={token}")),
                            )
                            .await,
                        ),
                    };
                    let elapsed = started.elapsed();
                    let mut tally = tally.lock().await;
                    tally.latencies.push(elapsed);
                    match result {
                        Ok(reply) if what == "register" && reply.status == 201 => {
                            token = Some(reply.token());
                            tally.acknowledged_registrations.push(email);
                        }
                        Ok(reply) if what != "register" && reply.status == 200 => {}
                        Ok(reply) => tally.failures.push(format!("{what}: {} {}", reply.status, reply.body)),
                        Err(err) => tally.failures.push(format!("{what}: {err}")),
                    }
                }
            })
        })
        .collect();
    (tally, handles)
}

/// Stops the load, waits for every worker's last request, and hands over its tally.
async fn finish_load(stop: &AtomicBool, workers: Vec<tokio::task::JoinHandle<()>>, tally: &Mutex<Tally>) -> Tally {
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    std::mem::take(&mut *tally.lock().await)
}

async fn wait_for_requests(tally: &Mutex<Tally>, at_least: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while tally.lock().await.latencies.len() < at_least {
        assert!(Instant::now() < deadline, "the load never reached {at_least} requests");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn in_database(cluster: &Cluster, emails: &[String]) -> Vec<String> {
    let stored = query(&cluster.database_url, "SELECT email FROM users");
    emails.iter().filter(|e| !stored.contains(e)).cloned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_behind_nginx_act_as_one() {
    // Starting, stopping and killing processes blocks; the load keeps running on the
    // runtime's other threads meanwhile.
    let mut cluster = tokio::task::block_in_place(|| Cluster::start(3));
    let http = client();
    let base = cluster.nginx.url("");

    // Through nginx: sign-up and sign-in, with a forged X-Forwarded-For that must be ignored.
    let r = send(
        http.post(format!("{base}/api/register"))
            .header("x-forwarded-for", "6.6.6.6")
            .json(&json!({"name": "Ada", "email": "ada@example.com", "password": PASSWORD})),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let ada = sign_in(&http, &base, "ada@example.com", PASSWORD).await;
    let admin = sign_in(&http, &base, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let audit = call(&http, "GET", &format!("{base}/api/audit?limit=10"), None, Some(&admin)).await;
    let registered = audit.body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "registered")
        .expect("the registration is in the audit log")
        .clone();
    assert_eq!(
        registered["ip"], "127.0.0.2",
        "the client's own address, from nginx's X-Forwarded-For; not the forged one, not nginx's"
    );

    // Requests spread over every instance, each request id carried through to the log
    // line of the instance that served it.
    for n in 0..30 {
        let r = send(
            http.get(format!("{base}/api/me"))
                .header("cookie", format!("{COOKIE}={ada}"))
                .header("x-request-id", format!("spread-{n}")),
        )
        .await
        .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.headers["x-request-id"], format!("spread-{n}").as_str());
    }
    // Access-log lines are written by a logger task, a moment after the response.
    let logged = |n: usize, logs: &[String]| {
        let id = format!("\"request_id\":\"spread-{n}\"");
        logs.iter().filter(|log| log.contains(&id)).count()
    };
    let mut logs = Vec::new();
    topology::wait_until(10, "every request's access-log line", || {
        logs = cluster.instances.iter().map(|i| i.log_text()).collect();
        (0..30).all(|n| logged(n, &logs) > 0)
    });
    for n in 0..30 {
        let id = format!("\"request_id\":\"spread-{n}\"");
        let served_by = logs.iter().filter(|log| log.contains(&id)).count();
        assert_eq!(served_by, 1, "request spread-{n} was logged by exactly one instance");
    }
    for (i, log) in logs.iter().enumerate() {
        assert!(
            log.contains("\"request_id\":\"spread-"),
            "instance {i} served none of the 30 requests"
        );
    }

    // The browser's Origin still matches behind the proxy; a foreign one is refused.
    let host = base.trim_start_matches("http://").to_owned();
    let same_site = send(
        http.post(format!("{base}/api/login"))
            .header("origin", format!("http://{host}"))
            .json(&json!({"email": "ada@example.com", "password": PASSWORD})),
    )
    .await
    .unwrap();
    assert_eq!(same_site.status, 200, "{}", same_site.body);
    let cross_site = send(
        http.post(format!("{base}/api/login"))
            .header("origin", "https://evil.example")
            .json(&json!({"email": "ada@example.com", "password": PASSWORD})),
    )
    .await
    .unwrap();
    assert_eq!(cross_site.status, 403);

    // nginx refuses an oversized body itself, and serves the client files from disk.
    let big = send(
        http.post(format!("{base}/api/login"))
            .body(vec![b'x'; 70 * 1024])
            .header("content-type", "application/json"),
    )
    .await
    .unwrap();
    assert_eq!(big.status, 413);
    let metrics = send(http.get(format!("{base}/metrics"))).await.unwrap();
    assert_eq!(
        metrics.status, 404,
        "metrics are for the scraper, which asks each instance"
    );
    let hashed = "roster.AbCdEfGhIjKlMnOpQrStUv.js";
    std::fs::write(cluster.site.join("pkg").join(hashed), "console.log('plain')").unwrap();
    let mut gzipped = Vec::new();
    {
        use std::io::Write;
        let mut w = flate2::write::GzEncoder::new(&mut gzipped, flate2::Compression::default());
        w.write_all(b"console.log('plain')").unwrap();
    }
    std::fs::write(cluster.site.join("pkg").join(format!("{hashed}.gz")), &gzipped).unwrap();
    let asset = http
        .get(format!("{base}/pkg/{hashed}"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);
    assert_eq!(asset.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(asset.headers()["content-encoding"], "gzip", "the precompressed twin");
    assert_eq!(asset.headers()["x-content-type-options"], "nosniff");

    // A sign-out through one instance: the session is gone on every instance at once.
    for instance in &cluster.instances {
        let r = call(&http, "GET", &instance.url("/api/me"), None, Some(&ada)).await;
        assert_eq!(r.status, 200, "each instance has Ada's session cached");
    }
    let r = call(
        &http,
        "POST",
        &cluster.instances[0].url("/api/logout"),
        None,
        Some(&ada),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (i, instance) in cluster.instances.iter().enumerate() {
        let r = call(&http, "GET", &instance.url("/api/me"), None, Some(&ada)).await;
        assert_eq!(r.status, 401, "instance {i} still honours a signed-out session");
    }

    // An administrator disables an account: every instance refuses it at once.
    let (bob_id, bob) = register(&http, &base, "Bob", "bob@example.com").await;
    for instance in &cluster.instances {
        assert_eq!(
            call(&http, "GET", &instance.url("/api/me"), None, Some(&bob))
                .await
                .status,
            200
        );
    }
    let r = call(
        &http,
        "PUT",
        &format!("{base}/api/users/{bob_id}"),
        Some(json!({"disabled": true})),
        Some(&admin),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (i, instance) in cluster.instances.iter().enumerate() {
        let r = call(&http, "GET", &instance.url("/api/me"), None, Some(&bob)).await;
        assert_eq!(r.status, 401, "instance {i} still lets a disabled account in");
    }

    // kill -9 of one instance under steady load: only what was in flight on it fails,
    // and every acknowledged registration is in the database.
    let workers = 6;
    let stop = Arc::new(AtomicBool::new(false));
    let (tally, load) = start_load(base.clone(), workers, "crash", stop.clone());
    wait_for_requests(&tally, 60).await;
    let killed = cluster.instances[1].pid();
    tokio::task::block_in_place(|| cluster.instances[1].kill());
    let at_kill = tally.lock().await.latencies.len();
    wait_for_requests(&tally, at_kill + 120).await;
    let crash = finish_load(&stop, load, &tally).await;
    println!("kill -9 of instance pid {killed} under load: {}", crash.summary());
    assert!(
        crash.failures.len() <= workers,
        "{} failed, more than could have been in flight on the killed instance; the first: {:#?}",
        crash.failures.len(),
        &crash.failures[..3]
    );
    for failure in &crash.failures {
        assert!(
            failure.starts_with("register: 502"),
            "only a request in flight fails: {failure}"
        );
    }
    assert_eq!(
        in_database(&cluster, &crash.acknowledged_registrations),
        Vec::<String>::new()
    );
    tokio::task::block_in_place(|| cluster.instances[1].start());

    // A rolling restart under load: each instance in turn gets SIGTERM, finishes what
    // it holds, starts again and becomes ready before the next one stops.
    let stop = Arc::new(AtomicBool::new(false));
    let (tally, load) = start_load(base.clone(), workers, "rolling", stop.clone());
    wait_for_requests(&tally, 60).await;
    for n in 0..cluster.instances.len() {
        tokio::task::block_in_place(|| {
            let instance = &mut cluster.instances[n];
            let status = instance.stop();
            assert!(status.success(), "a graceful exit: {status:?}");
            let logged_before = instance.log_text().len();
            instance.start();
            // Ready is not enough: nginx, which took the instance out when its
            // connections were refused, must have taken it back (within fail_timeout)
            // before the next one stops, or all could be out at once.
            topology::wait_until(30, "nginx to send the restarted instance traffic", || {
                instance.log_text()[logged_before..].contains("\"path\":\"/api/register\"")
            });
        });
        let so_far = tally.lock().await.latencies.len();
        wait_for_requests(&tally, so_far + 30).await;
    }
    let rolling = finish_load(&stop, load, &tally).await;
    println!("rolling restart of 3 instances under load: {}", rolling.summary());
    assert!(
        rolling.failures.is_empty(),
        "{} failed, the first: {:#?}\nnginx error log, last lines:\n{}",
        rolling.failures.len(),
        &rolling.failures[..rolling.failures.len().min(3)],
        last_lines(&cluster.nginx.error_log(), 30)
    );
    assert_eq!(
        in_database(&cluster, &rolling.acknowledged_registrations),
        Vec::<String>::new()
    );
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
