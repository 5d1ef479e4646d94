//! The OpenAPI document describes what the server really answers: real responses
//! are checked against the schema the document gives for their path, method and
//! status.

use crate::helpers::{Backend, Reply, spawn_app};
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends!(real_responses_match_the_openapi_document);

/// A small JSON Schema checker for what utoipa emits: $ref, type (one or many),
/// properties/required, items, enum, oneOf/anyOf/allOf, additionalProperties.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/components/schemas/");
        return check(doc, &doc["components"]["schemas"][name], value, at, errors);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let passes = options.iter().filter(|s| {
                let mut e = Vec::new();
                check(doc, s, value, at, &mut e);
                e.is_empty()
            });
            if passes.count() == 0 {
                errors.push(format!("{at}: matches none of {key}"));
            }
            return;
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            check(doc, s, value, at, errors);
        }
    }
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"));
        if !ok {
            errors.push(format!("{at}: {actual} is not {allowed:?}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} not in enum"));
    }
    if let Value::Object(map) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let key = required.as_str().unwrap();
            if !map.contains_key(key) {
                errors.push(format!("{at}: missing required {key}"));
            }
        }
        for (key, v) in map {
            match properties.and_then(|p| p.get(key)) {
                Some(s) => check(doc, s, v, &format!("{at}.{key}"), errors),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) | None if properties.is_some() => {
                        errors.push(format!("{at}: undocumented property {key}"))
                    }
                    Some(s @ Value::Object(_)) => check(doc, s, v, &format!("{at}.{key}"), errors),
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(doc, item_schema, item, &format!("{at}[{i}]"), errors);
        }
    }
}

fn assert_documented(doc: &Value, path: &str, method: &str, reply: &Reply) {
    let response = &doc["paths"][path][method]["responses"][reply.status.to_string()];
    assert!(
        response.is_object(),
        "{method} {path} {} is not documented",
        reply.status
    );
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} {} has no JSON schema",
        reply.status
    );
    let mut errors = Vec::new();
    check(doc, schema, &reply.body, "body", &mut errors);
    assert!(
        errors.is_empty(),
        "{method} {path} {}: {errors:?}\nbody: {}",
        reply.status,
        reply.body
    );
}

async fn real_responses_match_the_openapi_document(backend: Backend) {
    let app = spawn_app(backend).await;
    let doc = app.get("/api/openapi.json", None).await;
    assert_eq!(doc.status, 200);
    let doc = doc.body;
    assert_eq!(doc["openapi"], "3.1.0");
    for (path, methods) in [
        ("/api/register", &["post"][..]),
        ("/api/login", &["post"]),
        ("/api/logout", &["post"]),
        ("/api/me", &["get"]),
        ("/api/users", &["get", "post"]),
        ("/api/users/{id}", &["get", "put", "delete"]),
        ("/api/audit", &["get"]),
        ("/api/email/verify", &["post"]),
        ("/api/email/verify/resend", &["post"]),
        ("/api/password/forgot", &["post"]),
        ("/api/password/reset", &["post"]),
        ("/api/email/change/confirm", &["post"]),
        ("/api/email/change/revert", &["post"]),
    ] {
        for method in methods {
            assert!(doc["paths"][path][method].is_object(), "{method} {path} documented");
        }
    }

    let pw = "correct horse battery";
    let r = app
        .post_json(
            "/api/register",
            json!({"name": "Root", "email": "root@example.com", "password": pw}),
            None,
        )
        .await;
    assert_documented(&doc, "/api/register", "post", &r);
    let root = r.session_cookie(&app.cookie_name).unwrap();
    app.make_admin("root@example.com", "correct horse battery").await;
    let r = app
        .post_json(
            "/api/register",
            json!({"name": "", "email": "x", "password": "y"}),
            None,
        )
        .await;
    assert_documented(&doc, "/api/register", "post", &r);
    let r = app
        .post_json(
            "/api/register",
            json!({"name": "R", "email": "root@example.com", "password": pw}),
            None,
        )
        .await;
    assert_documented(&doc, "/api/register", "post", &r);
    let r = app.login_as("root@example.com", "wrong password", None).await;
    assert_documented(&doc, "/api/login", "post", &r);
    let r = app.login_as("root@example.com", pw, None).await;
    assert_documented(&doc, "/api/login", "post", &r);
    let admin = r.session_cookie(&app.cookie_name).unwrap();
    assert_documented(&doc, "/api/me", "get", &app.me(Some(&admin)).await);
    assert_documented(&doc, "/api/me", "get", &app.me(Some(&root)).await);

    let r = app
        .call(
            "POST",
            "/api/users",
            Some(json!({"name": "Ada", "email": "ada@example.com", "password": pw})),
            Some(&admin),
        )
        .await;
    assert_documented(&doc, "/api/users", "post", &r);
    let ada_id = r.body["data"]["user"]["id"].as_str().unwrap().to_owned();
    let ada = app.login_as("ada@example.com", pw, None).await;
    let ada = ada.session_cookie(&app.cookie_name).unwrap();
    assert_documented(
        &doc,
        "/api/users",
        "get",
        &app.get("/api/users?limit=1", Some(&admin)).await,
    );
    assert_documented(&doc, "/api/users", "get", &app.get("/api/users", Some(&ada)).await);
    assert_documented(&doc, "/api/users", "get", &app.get("/api/users", None).await);
    assert_documented(
        &doc,
        "/api/users",
        "get",
        &app.get("/api/users?limit=0", Some(&admin)).await,
    );
    let one = format!("/api/users/{ada_id}");
    assert_documented(&doc, "/api/users/{id}", "get", &app.get(&one, Some(&ada)).await);
    assert_documented(
        &doc,
        "/api/users/{id}",
        "get",
        &app.get("/api/users/nope", Some(&admin)).await,
    );
    let r = app.call("PUT", &one, Some(json!({"name": "Ada L"})), Some(&ada)).await;
    assert_documented(&doc, "/api/users/{id}", "put", &r);
    let r = app.call("PUT", &one, Some(json!({"role": "admin"})), Some(&ada)).await;
    assert_documented(&doc, "/api/users/{id}", "put", &r);
    let r = app.call("PUT", &one, Some(json!({"bogus": 1})), Some(&ada)).await;
    assert_documented(&doc, "/api/users/{id}", "put", &r);
    let r = app.call("DELETE", &one, None, Some(&admin)).await;
    assert_documented(&doc, "/api/users/{id}", "delete", &r);
    assert_documented(&doc, "/api/audit", "get", &app.audit("", Some(&admin)).await);
    assert_documented(&doc, "/api/audit", "get", &app.audit("", Some(&ada)).await);
    assert_documented(&doc, "/api/audit", "get", &app.audit("action=x", Some(&admin)).await);
    let bogus = "0".repeat(64);
    for body in [json!({"email": "ada@example.com"}), json!({"email": "x"})] {
        let r = app.post_json("/api/password/forgot", body, None).await;
        assert_documented(&doc, "/api/password/forgot", "post", &r);
    }
    for body in [
        json!({"token": bogus, "password": "a brand new passphrase"}),
        json!({"token": bogus, "password": "short"}),
    ] {
        let r = app.post_json("/api/password/reset", body, None).await;
        assert_documented(&doc, "/api/password/reset", "post", &r);
    }
    for path in [
        "/api/email/verify",
        "/api/email/change/confirm",
        "/api/email/change/revert",
    ] {
        let r = app.post_json(path, json!({"token": bogus}), None).await;
        assert_documented(&doc, path, "post", &r);
    }
    for session in [Some(root.as_str()), None] {
        let r = app.post_json("/api/email/verify/resend", json!({}), session).await;
        assert_documented(&doc, "/api/email/verify/resend", "post", &r);
    }
    let r = app.call("POST", "/api/logout", None, Some(&admin)).await;
    assert_documented(&doc, "/api/logout", "post", &r);
}
