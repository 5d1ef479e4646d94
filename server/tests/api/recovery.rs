//! The recovery drill: write continuously, take a backup in the middle of it,
//! restore it elsewhere, and find every row committed before the backup started.

use crate::helpers::{Backend, eventually, fresh_database_url, spawn_app};
use crate::on_both_backends;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Instant;

on_both_backends!(
    a_backup_taken_under_load_restores_every_committed_row,
    restore_refuses_damage_and_overwrites,
    serve_takes_scheduled_backups_and_keeps_the_newest,
);

async fn emails(url: &str) -> Vec<String> {
    let db = Database::connect(url).await.unwrap();
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(backend, "SELECT email FROM users"))
        .await
        .unwrap();
    let out = rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect();
    db.close().await.ok();
    out
}

async fn a_backup_taken_under_load_restores_every_committed_row(backend: Backend) {
    let app = Arc::new(spawn_app(backend).await);
    let committed: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (app, committed, stop) = (app.clone(), committed.clone(), stop.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let email = format!("w{i}@example.com");
                let body = json!({"name": "Writer", "email": email, "password": "correct horse battery"});
                if app.post_json("/api/register", body, None).await.status == 201 {
                    committed.lock().unwrap().push(email);
                }
                i += 1;
            }
        })
    };
    let written = || committed.lock().unwrap().len();
    eventually(30, "registrations stream in", || async { written() >= 20 }).await;
    // Everything acknowledged before the backup starts must be in it.
    let before: Vec<String> = committed.lock().unwrap().clone();
    let dir = std::env::temp_dir().join(format!("roster-drill-{}", uuid::Uuid::new_v4().simple()));
    let file = dir.join(if matches!(backend, Backend::Postgres) {
        "b.dump"
    } else {
        "b.db"
    });
    let started = Instant::now();
    roster::backup::backup(&app.db, &app.url, &file).await.expect("backup");
    let backup_time = started.elapsed();
    let at_backup = written();
    eventually(30, "writes go on after the backup", || async {
        written() >= at_backup + 5
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.unwrap();
    let written = committed.lock().unwrap().len();

    let elsewhere = fresh_database_url(backend).await;
    roster::backup::restore(&file, &elsewhere, false)
        .await
        .expect("restore into an empty database");
    let recovered = emails(&elsewhere).await;
    for email in &before {
        assert!(
            recovered.contains(email),
            "{email} was committed before the backup but is missing"
        );
    }
    assert!(before.len() >= 3, "the writer got going ({} rows)", before.len());
    // Integrity: the restored copy is a working database with consistent references.
    let db = Database::connect(&elsewhere).await.unwrap();
    let backend_kind = db.get_database_backend();
    let orphans = db
        .query_one_raw(Statement::from_string(
            backend_kind,
            "SELECT COUNT(*) FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE u.id IS NULL",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(orphans, 0);
    eprintln!(
        "recovery drill ({backend:?}): {written} rows written, {} committed before the backup, {} recovered, backup took {:.0} ms",
        before.len(),
        recovered.len(),
        backup_time.as_secs_f64() * 1000.0
    );
    let _ = std::fs::remove_dir_all(dir);
}

async fn restore_refuses_damage_and_overwrites(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("Ada", "ada@example.com", "correct horse battery").await;
    let dir = std::env::temp_dir().join(format!("roster-restore-{}", uuid::Uuid::new_v4().simple()));
    let file = dir.join("b.bak");
    roster::backup::backup(&app.db, &app.url, &file).await.unwrap();
    let checksum = std::fs::read_to_string(dir.join("b.bak.sha256")).unwrap();
    assert_eq!(checksum.split_whitespace().next().unwrap().len(), 64);
    // Not over a database with users, unless forced.
    let err = roster::backup::restore(&file, &app.url, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not empty"), "{err}");
    // A damaged file is refused before anything is touched.
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let err = roster::backup::restore(&file, &fresh_database_url(backend).await, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("checksum mismatch"), "{err}");
    bytes[last] ^= 0xff;
    std::fs::write(&file, &bytes).unwrap();
    let target = fresh_database_url(backend).await;
    roster::backup::restore(&file, &target, false).await.unwrap();
    assert_eq!(emails(&target).await, vec!["ada@example.com".to_owned()]);
    let _ = std::fs::remove_dir_all(dir);
}

async fn serve_takes_scheduled_backups_and_keeps_the_newest(backend: Backend) {
    let dir = std::env::temp_dir().join(format!("roster-scheduled-{}", uuid::Uuid::new_v4().simple()));
    let dir_arg = dir.to_str().unwrap().to_owned();
    let app = crate::helpers::spawn_app_with(
        backend,
        &[
            "--backup-interval",
            "1s",
            "--backup-keep",
            "2",
            "--backup-dir",
            &dir_arg,
        ],
    )
    .await;
    app.register("Ada", "ada@example.com", "correct horse battery").await;
    let backups = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
            .unwrap_or_default();
        names.retain(|n| n.starts_with("roster-") && (n.ends_with(".db") || n.ends_with(".dump")));
        names.sort();
        names
    };
    // Backups arrive every second; each is followed by pruning down to the newest two.
    let mut seen = std::collections::BTreeSet::new();
    let mut kept = Vec::new();
    eventually(30, "three backups were taken and two kept", || {
        kept = backups();
        seen.extend(kept.iter().cloned());
        let done = seen.len() >= 3 && kept.len() == 2;
        async move { done }
    })
    .await;
    assert_eq!(kept.len(), 2, "the newest two are kept: {kept:?}");
    assert_eq!(
        kept,
        seen.iter().rev().take(2).rev().cloned().collect::<Vec<_>>(),
        "and they are the newest"
    );
    for name in &kept {
        assert!(dir.join(format!("{name}.sha256")).is_file(), "{name} has its checksum");
    }
    drop(app);
    let _ = std::fs::remove_dir_all(dir);
}
