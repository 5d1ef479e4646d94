//! Mail delivery: the transactional outbox and its worker against a real SMTP server
//! (aiosmtpd on loopback), through outages, give-ups and two processes on one
//! database, and the `.eml` fallback with no SMTP configured.

use crate::helpers::{
    Backend, Delivered, SmtpSink, TestApp, eventually, fresh_database_url, spawn_app_on, spawn_app_with,
};
use crate::on_both_backends;
use app::ssr::entity::mail_outbox;
use app::ssr::mail::{Action, Mail, outbox};
use sea_orm::{EntityTrait, TransactionTrait};

on_both_backends!(
    a_queued_mail_is_delivered_over_smtp_once_with_both_parts,
    a_server_that_requires_a_login_gets_the_credentials_of_the_url,
    a_mail_waits_out_an_smtp_outage_and_is_delivered_once,
    a_mail_is_given_up_after_the_configured_attempts,
    a_mail_queued_in_a_rolled_back_transaction_is_never_sent,
    without_smtp_mails_are_written_as_eml_files,
    two_processes_on_one_database_send_each_mail_once,
);

fn mail(app: &TestApp, to: &str, n: usize) -> Mail {
    let settings = &app.state.mail.settings;
    let mut content = settings.content(format!("Message {n}"), "Hello Ada,");
    content.paragraphs = vec!["Something happened to your account.".into()];
    content.action = Some(Action {
        label: "See it".into(),
        url: settings.link(&format!("/account?n={n}")),
    });
    Mail::compose("test", to, &content).unwrap()
}

async fn rows(app: &TestApp) -> Vec<mail_outbox::Model> {
    mail_outbox::Entity::find().all(&app.db).await.unwrap()
}

async fn metrics(app: &TestApp) -> String {
    app.http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn a_queued_mail_is_delivered_over_smtp_once_with_both_parts(backend: Backend) {
    let sink = SmtpSink::start();
    let app = spawn_app_with(
        backend,
        &[
            "--smtp-url",
            &sink.url(),
            "--mail-from",
            "Acme Accounts <accounts@acme.example>",
            "--product-name",
            "Acme",
            "--public-url",
            "https://accounts.acme.example/",
        ],
    )
    .await;
    outbox::enqueue(&app.db, &mail(&app, "ada@example.com", 1))
        .await
        .unwrap();
    eventually(20, "the mail is delivered", || async { sink.messages().len() == 1 }).await;
    let delivered = Delivered::parse(&sink.messages()[0]);
    assert_eq!(delivered.to, "ada@example.com");
    assert!(delivered.from.contains("accounts@acme.example"), "{}", delivered.from);
    assert_eq!(delivered.subject, "Message 1");
    assert!(
        delivered.text.contains("https://accounts.acme.example/account?n=1"),
        "{}",
        delivered.text
    );
    assert!(delivered.text.trim_end().ends_with("Acme"), "{}", delivered.text);
    assert!(
        delivered
            .html
            .contains("href=\"https://accounts.acme.example/account?n=1\""),
        "{}",
        delivered.html
    );

    eventually(10, "the row is marked sent", || async {
        rows(&app).await.iter().all(|row| row.state == outbox::SENT)
    })
    .await;
    let row = &rows(&app).await[0];
    assert!(row.sent_at.is_some());
    assert_eq!(row.attempts, 1);
    assert!(
        row.body_text.is_empty() && row.body_html.is_empty(),
        "no link outlives the mail"
    );
    // Another pass sends nothing again.
    assert_eq!(app.state.mail.worker.send_due().await.unwrap().sent, 0);
    assert_eq!(sink.messages().len(), 1);
    assert!(
        metrics(&app).await.contains("roster_mail_outbox{state=\"sent\"} 1"),
        "{}",
        metrics(&app).await
    );
}

async fn a_server_that_requires_a_login_gets_the_credentials_of_the_url(backend: Backend) {
    let sink = SmtpSink::requiring_login("roster", "s3cret-pass");
    // Wrong credentials: refused for good (535), and the password is in no error.
    let refused = spawn_app_with(backend, &["--smtp-url", &sink.url_as("roster", "wrong-pass")]).await;
    outbox::enqueue(&refused.db, &mail(&refused, "ada@example.com", 1))
        .await
        .unwrap();
    eventually(20, "the refused mail is given up", || async {
        rows(&refused).await[0].state == outbox::FAILED
    })
    .await;
    let row = &rows(&refused).await[0];
    let error = row.last_error.as_deref().unwrap_or_default();
    assert!(
        error.contains("535") || error.to_lowercase().contains("auth"),
        "{error}"
    );
    assert!(!error.contains("wrong-pass"), "{error}");
    assert_eq!(row.attempts, 1, "an authentication refusal is permanent: no retry");
    assert!(sink.messages().is_empty());

    // The right ones: delivered.
    let app = spawn_app_with(backend, &["--smtp-url", &sink.url_as("roster", "s3cret-pass")]).await;
    outbox::enqueue(&app.db, &mail(&app, "bo@example.com", 2))
        .await
        .unwrap();
    eventually(20, "the mail is delivered", || async { sink.messages().len() == 1 }).await;
    assert_eq!(Delivered::parse(&sink.messages()[0]).to, "bo@example.com");
}

async fn a_mail_waits_out_an_smtp_outage_and_is_delivered_once(backend: Backend) {
    let mut sink = SmtpSink::stopped();
    let app = spawn_app_with(backend, &["--smtp-url", &sink.url()]).await;
    outbox::enqueue(&app.db, &mail(&app, "ada@example.com", 1))
        .await
        .unwrap();
    eventually(20, "a failed attempt is recorded", || async {
        rows(&app)
            .await
            .iter()
            .any(|row| row.attempts >= 1 && row.last_error.is_some() && row.locked_until.is_none())
    })
    .await;
    let row = &rows(&app).await[0];
    assert_eq!(row.state, outbox::QUEUED, "still queued, for later");
    assert!(row.next_attempt_at > row.created_at, "backed off");

    sink.resume();
    // Due now rather than after the backoff.
    app.execute_sql("UPDATE mail_outbox SET next_attempt_at = created_at")
        .await;
    eventually(20, "the mail is delivered once SMTP is back", || async {
        sink.messages().len() == 1
    })
    .await;
    eventually(10, "the row is marked sent", || async {
        rows(&app).await[0].state == outbox::SENT
    })
    .await;
    app.state.mail.worker.send_due().await.unwrap();
    assert_eq!(sink.messages().len(), 1, "exactly once");
}

async fn a_mail_is_given_up_after_the_configured_attempts(backend: Backend) {
    let sink = SmtpSink::stopped();
    let app = spawn_app_with(backend, &["--smtp-url", &sink.url(), "--mail-max-attempts", "2"]).await;
    outbox::enqueue(&app.db, &mail(&app, "ada@example.com", 1))
        .await
        .unwrap();
    eventually(20, "the first attempt fails", || async {
        rows(&app).await[0].attempts == 1 && rows(&app).await[0].locked_until.is_none()
    })
    .await;
    app.execute_sql("UPDATE mail_outbox SET next_attempt_at = created_at")
        .await;
    eventually(20, "the second attempt gives the mail up", || async {
        rows(&app).await[0].state == outbox::FAILED
    })
    .await;
    let row = &rows(&app).await[0];
    assert_eq!(row.attempts, 2);
    assert!(row.last_error.as_deref().is_some_and(|e| !e.is_empty()));
    assert!(row.body_text.is_empty(), "a given-up mail keeps no link either");
    let scraped = metrics(&app).await;
    assert!(scraped.contains("roster_mail_outbox{state=\"failed\"} 1"), "{scraped}");
    assert!(scraped.contains("roster_mail_failed_total{kind=\"test\"}"), "{scraped}");
    assert!(
        scraped.contains("roster_mail_retries_total{kind=\"test\"}"),
        "{scraped}"
    );
}

async fn a_mail_queued_in_a_rolled_back_transaction_is_never_sent(backend: Backend) {
    let sink = SmtpSink::start();
    let app = spawn_app_with(backend, &["--smtp-url", &sink.url()]).await;
    let txn = app.db.begin().await.unwrap();
    outbox::enqueue(&txn, &mail(&app, "ada@example.com", 1)).await.unwrap();
    txn.rollback().await.unwrap();
    let txn = app.db.begin().await.unwrap();
    outbox::enqueue(&txn, &mail(&app, "ada@example.com", 2)).await.unwrap();
    txn.commit().await.unwrap();
    eventually(20, "the committed mail is delivered", || async {
        sink.messages().len() == 1
    })
    .await;
    assert_eq!(Delivered::parse(&sink.messages()[0]).subject, "Message 2");
    assert_eq!(rows(&app).await.len(), 1, "the rolled-back mail was never queued");
}

async fn without_smtp_mails_are_written_as_eml_files(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("roster-mail-dir-{}", uuid::Uuid::new_v4().simple()));
    let app = spawn_app_with(backend, &["--mail-dir", dir.to_str().unwrap()]).await;
    let id = outbox::enqueue(&app.db, &mail(&app, "ada@example.com", 7))
        .await
        .unwrap();
    let file = dir.join(format!(
        "{}-{id}.eml",
        rows(&app).await[0].created_at.format("%Y%m%dT%H%M%S")
    ));
    eventually(20, "the mail is written as a file", || async { file.is_file() }).await;
    let delivered = Delivered::parse(&std::fs::read(&file).unwrap());
    assert_eq!(delivered.subject, "Message 7");
    assert!(
        delivered.text.contains("http://localhost:3000/account?n=7"),
        "{}",
        delivered.text
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    std::fs::remove_dir_all(&dir).ok();
}

async fn two_processes_on_one_database_send_each_mail_once(backend: Backend) {
    const MAILS: usize = 40;
    let sink = SmtpSink::start();
    let url = fresh_database_url(backend).await;
    let first = spawn_app_on(&url, &["--smtp-url", &sink.url()]).await;
    let second = spawn_app_on(&url, &["--smtp-url", &sink.url()]).await;
    for n in 0..MAILS {
        outbox::enqueue(&first.db, &mail(&first, "ada@example.com", n))
            .await
            .unwrap();
    }
    eventually(60, "every mail is delivered", || async {
        sink.messages().len() >= MAILS
    })
    .await;
    eventually(10, "every row is marked sent", || async {
        rows(&second).await.iter().all(|row| row.state == outbox::SENT)
    })
    .await;
    // Both workers stay on for a while longer: nothing is sent twice.
    for app in [&first, &second] {
        app.state.mail.worker.send_due().await.unwrap();
    }
    let mut subjects: Vec<String> = sink
        .messages()
        .iter()
        .map(|raw| Delivered::parse(raw).subject)
        .collect();
    subjects.sort();
    let before = subjects.len();
    subjects.dedup();
    assert_eq!((before, subjects.len()), (MAILS, MAILS), "each mail exactly once");
    assert!(
        rows(&first).await.iter().all(|row| row.attempts == 1),
        "claimed once each"
    );
}
