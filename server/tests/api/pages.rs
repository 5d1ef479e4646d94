//! Server-rendered pages and the plain-HTML form path (no WASM): the same server
//! functions answer form posts with redirects.

use crate::helpers::{Backend, spawn_app, spawn_app_with};
use crate::on_both_backends;

on_both_backends!(
    pages_render_on_the_server,
    unknown_pages_get_a_real_404,
    account_redirects_to_login_when_signed_out,
    register_form_post_without_javascript_signs_in,
    form_errors_travel_back_to_the_form,
    login_and_logout_forms_work_without_javascript,
    a_failed_server_function_answers_with_its_own_status,
);

fn html(reply: &crate::helpers::Reply) -> &str {
    reply.body.as_str().expect("an HTML body")
}

fn location(reply: &crate::helpers::Reply) -> String {
    reply
        .headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn pages_render_on_the_server(backend: Backend) {
    let app = spawn_app(backend).await;
    for (path, text, has_form) in [
        ("/", "Roster", false),
        ("/register", "Create your account", true),
        ("/login", "Sign in", true),
    ] {
        let reply = app.get(path, None).await;
        assert_eq!(reply.status, 200, "{path}");
        assert!(reply.headers["content-type"].to_str().unwrap().starts_with("text/html"));
        let body = html(&reply);
        assert!(body.contains(text), "{path} contains {text}");
        // The page must ask for the bundle cargo-leptos actually writes.
        assert!(
            body.contains("/pkg/roster.wasm") && !body.contains("roster_bg"),
            "{path}: wasm name"
        );
        if has_form {
            assert!(
                body.contains("<label for=\"") && body.contains("aria-invalid=\"false\""),
                "{path}: labelled fields"
            );
        }
    }
}

async fn unknown_pages_get_a_real_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let reply = app.get("/no/such/page", None).await;
    assert_eq!(reply.status, 404);
    assert!(html(&reply).contains("Page not found"));
}

async fn account_redirects_to_login_when_signed_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let reply = app
        .send(app.http.get(app.url("/account")).header("accept", "text/html"))
        .await;
    assert_eq!(reply.status, 302);
    assert_eq!(location(&reply), "/login");
    let (_, token) = app
        .register("Grace Hopper", "grace@example.com", "correct horse battery")
        .await;
    let reply = app.get("/account", Some(&token)).await;
    assert_eq!(reply.status, 200);
    assert!(html(&reply).contains("Grace Hopper") && html(&reply).contains("grace@example.com"));
}

async fn register_form_post_without_javascript_signs_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let fields = [
        ("name", "Ada"),
        ("email", "ada@example.com"),
        ("password", "correct horse battery"),
    ];
    let reply = app.post_form("/rpc/register", "/register", &fields, None).await;
    assert_eq!(reply.status, 302, "{:?}", reply.body);
    assert_eq!(location(&reply), "/account");
    let token = reply.session_cookie(&app.cookie_name).expect("signed in");
    let me = app.me(Some(&token)).await;
    assert_eq!(me.body["data"]["user"]["email"], "ada@example.com");
    // The session records where the form was posted from.
    let sessions = app.rpc("account/sessions", "", &token).await;
    assert_eq!(sessions.body[0]["ip"], "127.0.0.1", "{}", sessions.body);
}

async fn form_errors_travel_back_to_the_form(backend: Backend) {
    let app = spawn_app(backend).await;
    let fields = [("name", "Ada"), ("email", "nope"), ("password", "short")];
    let reply = app.post_form("/rpc/register", "/register", &fields, None).await;
    assert_eq!(reply.status, 302);
    let back = location(&reply);
    assert!(back.contains("/register?") && back.contains("__err="), "{back}");
    assert!(reply.session_cookie(&app.cookie_name).is_none());
    // The form page renders the server's field messages, marked invalid.
    let page = app.get(back.trim_start_matches(&app.base), None).await;
    let body = html(&page);
    assert!(body.contains("Enter a valid email address"), "field error shown");
    assert!(body.contains("Password must be at least 8 characters"));
    assert!(body.contains("aria-invalid=\"true\""));

    // The profile form: a new email without the password comes back with the message.
    let (_, token) = app.register("Ada", "ada@example.com", "correct horse battery").await;
    let fields = [
        ("name", "Ada"),
        ("email", "ada.new@example.com"),
        ("current_password", ""),
    ];
    let reply = app
        .post_form("/rpc/account/profile", "/account", &fields, Some(&token))
        .await;
    assert_eq!(reply.status, 302);
    let page = app
        .get(location(&reply).trim_start_matches(&app.base), Some(&token))
        .await;
    assert!(html(&page).contains("Enter your current password to change your email."));
    let fields = [
        ("name", "Ada"),
        ("email", "ada.new@example.com"),
        ("current_password", "correct horse battery"),
    ];
    let reply = app
        .post_form("/rpc/account/profile", "/account", &fields, Some(&token))
        .await;
    assert_eq!(reply.status, 302);
    // The new address waits for the link mailed to it, and the page says so.
    assert_eq!(location(&reply), "/account?email=pending");
    let page = app.get("/account?email=pending", Some(&token)).await;
    assert!(html(&page).contains("Your address changes when you follow it."));
    assert_eq!(
        app.me(Some(&token)).await.body["data"]["user"]["email"],
        "ada@example.com"
    );
}

async fn login_and_logout_forms_work_without_javascript(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("Ada", "ada@example.com", "correct horse battery").await;
    let wrong = app
        .post_form(
            "/rpc/login",
            "/login",
            &[("email", "ada@example.com"), ("password", "nope nope")],
            None,
        )
        .await;
    assert_eq!(wrong.status, 302);
    let page = app.get(location(&wrong).trim_start_matches(&app.base), None).await;
    assert!(html(&page).contains("The email or password is incorrect."));

    let ok = app
        .post_form(
            "/rpc/login",
            "/login",
            &[("email", "ada@example.com"), ("password", "correct horse battery")],
            None,
        )
        .await;
    assert_eq!(location(&ok), "/account");
    let token = ok.session_cookie(&app.cookie_name).unwrap();
    let out = app.post_form("/rpc/logout", "/account", &[], Some(&token)).await;
    assert_eq!(out.status, 302);
    assert_eq!(location(&out), "/login");
    assert!(out.set_cookie(&app.cookie_name).unwrap().contains("Max-Age=0"));
    assert_eq!(out.headers["clear-site-data"], "\"cookies\", \"storage\"");
    app.me(Some(&token)).await.assert_error(401, "unauthenticated");
}

/// Client files: a content-hashed name is cached for a year without revalidation,
/// anything else is revalidated; precompressed twins are sent to browsers that
/// accept them.
#[tokio::test]
async fn static_files_are_cached_by_name_and_sent_precompressed() {
    let site = std::env::temp_dir().join(format!("roster-site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let hashed = "roster.mdZ8a1Ue-9S_vq3GBl2xXw.js";
    std::fs::write(site.join("pkg").join(hashed), "console.log('full size');").unwrap();
    std::fs::write(site.join("pkg").join(format!("{hashed}.br")), "brotli bytes").unwrap();
    std::fs::write(site.join("pkg/roster.js"), "console.log('unhashed');").unwrap();
    let root = site.to_str().unwrap();
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, &["--site-root", root]).await;

    let get = |path: String, encoding: &'static str| {
        let req = app.http.get(app.url(&path)).header("accept-encoding", encoding);
        app.send(req)
    };
    let plain = get(format!("/pkg/{hashed}"), "identity").await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.headers["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(plain.body, "console.log('full size');");

    let compressed = get(format!("/pkg/{hashed}"), "br, gzip").await;
    assert_eq!(compressed.headers["content-encoding"], "br");
    assert_eq!(
        compressed.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );

    let unhashed = get("/pkg/roster.js".into(), "identity").await;
    assert_eq!(unhashed.status, 200);
    assert_eq!(unhashed.headers["cache-control"], "no-cache");
    assert!(unhashed.headers.contains_key("last-modified"), "revalidation is cheap");

    let missing = get("/pkg/roster.nope.js".into(), "identity").await;
    assert_eq!(missing.status, 404);
    assert!(
        !missing.headers.contains_key("cache-control")
            || missing.headers["cache-control"] != "public, max-age=31536000, immutable"
    );
    let _ = std::fs::remove_dir_all(site);
}

/// Signed-out pages come from memory after the first rendering, each with its own
/// CSP nonce matching its header; a signed-in request never gets the cached page.
#[tokio::test]
async fn signed_out_pages_are_cached_with_a_fresh_nonce_and_never_served_signed_in() {
    use roster::page_cache::PageCacheStats;
    let app = spawn_app(Backend::Sqlite).await;
    let cache = app.page_cache.clone().expect("the page cache is on by default");
    let nonce = |r: &crate::helpers::Reply| {
        let csp = r.headers["content-security-policy"].to_str().unwrap().to_owned();
        csp.split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap()
            .to_owned()
    };
    let first = app.get("/login", None).await;
    assert_eq!(cache.stats(), PageCacheStats { hits: 0, misses: 1 }, "rendered once");
    let second = app.get("/login", None).await;
    assert_eq!(
        cache.stats(),
        PageCacheStats { hits: 1, misses: 1 },
        "then served from memory"
    );
    assert_eq!((first.status, second.status), (200, 200));
    let (n1, n2) = (nonce(&first), nonce(&second));
    assert_ne!(n1, n2, "every response has its own nonce");
    assert!(html(&first).contains(&n1) && html(&second).contains(&n2));
    assert!(
        !html(&second).contains(&n1),
        "the cached page carries the new nonce only"
    );
    assert_eq!(
        html(&first).replace(&n1, "N"),
        html(&second).replace(&n2, "N"),
        "same page otherwise"
    );

    let (_, token) = app
        .register("Grace Hopper", "grace@example.com", "correct horse battery")
        .await;
    let anonymous_home = app.get("/", None).await;
    assert!(!html(&anonymous_home).contains("Grace Hopper"));
    let before = cache.stats();
    let signed_in_home = app.get("/", Some(&token)).await;
    assert!(
        html(&signed_in_home).contains("Grace Hopper"),
        "rendered for the signed-in user"
    );
    assert_eq!(
        cache.stats(),
        before,
        "a signed-in request neither reads nor fills the cache"
    );
    let anonymous_again = app.get("/", None).await;
    assert!(!html(&anonymous_again).contains("Grace Hopper"), "and never cached");
    assert_eq!(
        cache.stats().hits,
        before.hits + 1,
        "the anonymous page came from memory"
    );
    let before = cache.stats();
    let errors = app.get("/register?__err=x", None).await;
    assert_eq!(errors.status, 200, "a query string bypasses the cache");
    assert_eq!(cache.stats(), before, "and is neither read from nor stored in it");
}

/// The page addresses named in `app::paths` (used by links, redirects and the page
/// cache) are the router's routes.
#[tokio::test]
async fn every_named_path_is_a_route() {
    let routes: Vec<String> = roster::startup::route_list()
        .iter()
        .map(|route| route.path().to_owned())
        .collect();
    for path in app::paths::ALL {
        assert!(routes.iter().any(|r| r == path), "{path} is not among {routes:?}");
    }
}

/// Every route is a lazily loaded page whose chunk the server announces when it
/// renders it (`app::pages::PAGE_CHUNKS`, read by `app::ssr::page_chunks`).
#[tokio::test]
async fn every_route_has_its_chunk_named() {
    for route in roster::startup::route_list() {
        assert!(
            app::pages::PAGE_CHUNKS.iter().any(|(path, _)| *path == route.path()),
            "{} has no line in PAGE_CHUNKS",
            route.path()
        );
    }
}

/// A hydrated page calling a server function gets the error's own status (422,
/// 401, …) and the error, not a blanket 500; a plain form post gets a redirect back.
async fn a_failed_server_function_answers_with_its_own_status(backend: Backend) {
    let app = spawn_app(backend).await;
    let reply = app
        .post_raw(
            "/rpc/register",
            Some("application/x-www-form-urlencoded"),
            "name=Ada&email=nope&password=correct+horse+battery".into(),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert_eq!(reply.body["code"], "validation_failed", "{}", reply.body);
    let anonymous = app.send(app.http.post(app.url("/rpc/account/sessions"))).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
}

/// Pages and JSON bodies of a kilobyte or more are gzipped for clients that accept it,
/// brotli or not (outside the page cache: every cached page still carries its own
/// nonce); small bodies and clients that accept nothing get them as they are.
#[tokio::test]
async fn text_responses_are_compressed_for_clients_that_accept_it() {
    use std::io::Read;
    let app = spawn_app(Backend::Sqlite).await;
    let fetch = |path: &'static str, encoding: &'static str| {
        let req = app.http.get(app.url(path)).header("accept-encoding", encoding);
        async move {
            let res = req.send().await.unwrap();
            let headers = res.headers().clone();
            (headers, res.bytes().await.unwrap().to_vec())
        }
    };
    let encoding =
        |headers: &reqwest::header::HeaderMap| headers.get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
    let gunzip = |bytes: &[u8]| {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .expect("valid gzip");
        text
    };

    let (plain_headers, plain) = fetch("/login", "identity").await;
    assert_eq!(encoding(&plain_headers), None);
    let plain = String::from_utf8(plain).unwrap();
    assert!(plain.contains("Sign in"));

    let mut nonces = Vec::new();
    for _ in 0..2 {
        let (headers, body) = fetch("/login", "br, gzip").await;
        assert_eq!(
            encoding(&headers).as_deref(),
            Some("gzip"),
            "brotli costs too much per response"
        );
        assert!(
            headers["vary"].to_str().unwrap().contains("accept-encoding"),
            "shared caches keep one copy per encoding"
        );
        assert!(body.len() * 2 < plain.len(), "{} of {} bytes", body.len(), plain.len());
        let page = gunzip(&body);
        assert!(page.contains("Sign in"));
        let csp = headers["content-security-policy"].to_str().unwrap();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap()
            .to_owned();
        assert!(page.contains(&nonce), "the compressed page carries its own nonce");
        nonces.push(nonce);
    }
    assert_ne!(nonces[0], nonces[1]);

    let (headers, body) = fetch("/api/openapi.json", "gzip").await;
    assert_eq!(encoding(&headers).as_deref(), Some("gzip"));
    assert!(serde_json::from_str::<serde_json::Value>(&gunzip(&body)).unwrap()["paths"].is_object());
    let (headers, _) = fetch("/api/openapi.json", "br").await;
    assert_eq!(encoding(&headers), None, "dynamic bodies are never brotli");

    let (headers, body) = fetch("/api/me", "br, gzip").await;
    assert_eq!(encoding(&headers), None, "a small envelope is sent as it is");
    assert!(String::from_utf8(body).unwrap().contains("unauthenticated"));
}

/// With a CDN (`ROSTER_ASSET_BASE_URL`), every page loads its CSS, JS and WASM from
/// there, cached or not, and its CSP allows exactly that origin besides its own.
#[tokio::test]
async fn with_a_cdn_pages_load_their_files_from_it_and_the_csp_allows_it() {
    let app = spawn_app_with(
        Backend::Sqlite,
        &["--asset-base-url", "https://cdn.example.com/roster/"],
    )
    .await;
    for attempt in ["rendered", "cached"] {
        let page = app.get("/login", None).await;
        assert_eq!(page.status, 200);
        let body = html(&page);
        for kind in [".css\"", ".js\"", ".wasm\""] {
            assert!(
                body.contains("\"https://cdn.example.com/roster/pkg/") && body.contains(kind),
                "{attempt}: no {kind} from the CDN in {body}"
            );
        }
        assert!(
            !body.contains("\"/pkg/"),
            "{attempt}: a file still comes from this server"
        );
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self' https://cdn.example.com 'nonce-"),
            "{csp}"
        );
        assert!(csp.contains("style-src 'self' https://cdn.example.com;"), "{csp}");
        assert!(csp.contains("connect-src 'self' https://cdn.example.com;"), "{csp}");
        assert!(
            !csp.contains("/roster"),
            "the CSP names the origin, not the path: {csp}"
        );
    }
    let api = app.get("/api/me", None).await;
    assert!(
        !api.headers["content-security-policy"].to_str().unwrap().contains("cdn"),
        "only pages load files"
    );
}
