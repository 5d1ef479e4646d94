//! `roster seed`: synthetic accounts in bulk, for load tests and demos. Every seeded
//! account shares one password, hashed once; rows go in as multi-row inserts, many
//! per transaction, so a million accounts take seconds rather than hours.

use app::model::Role;
use app::ssr::entity::users;
use app::ssr::password::PasswordHasher;
use app::validation::Password;
use sea_orm::{ActiveValue::Set, DatabaseConnection, EntityTrait};
use uuid::Uuid;

/// Rows per INSERT: 8 columns × 1,000 rows stays under SQLite's 32,766 bound parameters.
const ROWS_PER_STATEMENT: usize = 1_000;
const STATEMENTS_PER_TRANSACTION: usize = 20;

const FIRST: [&str; 16] = [
    "ada", "grace", "alan", "edsger", "barbara", "donald", "frances", "john", "margaret", "ken", "radia", "leslie",
    "tim", "sophie", "niklaus", "hedy",
];
const LAST: [&str; 16] = [
    "lovelace", "hopper", "turing", "dijkstra", "liskov", "knuth", "allen", "backus", "hamilton", "thompson",
    "perlman", "lamport", "berners", "wilson", "wirth", "lamarr",
];

/// The email of the `n`th seeded account (1-based), so load tests can sign in as one.
pub fn seeded_email(n: u64) -> String {
    let (first, last) = seeded_name_parts(n);
    format!("{first}.{last}.{n}@seed.example.com")
}

fn seeded_name_parts(n: u64) -> (&'static str, &'static str) {
    (FIRST[(n % 16) as usize], LAST[((n / 16) % 16) as usize])
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Inserts accounts `first..first + count` and reports progress on stdout.
pub async fn seed_users(db: &DatabaseConnection, first: u64, count: u64, password: &str) -> Result<(), String> {
    let password = Password::parse_new(password).map_err(|e| format!("seed password: {e}"))?;
    let hash = PasswordHasher::new(1)
        .hash(&password)
        .await
        .map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let now = chrono::Utc::now();
    let end = first + count;
    let mut next = first;
    while next < end {
        let txn = app::ssr::db::begin_write(db).await.map_err(|e| e.to_string())?;
        for _ in 0..STATEMENTS_PER_TRANSACTION {
            if next >= end {
                break;
            }
            let batch_end = (next + ROWS_PER_STATEMENT as u64).min(end);
            let rows = (next..batch_end).map(|n| {
                let (first_name, last_name) = seeded_name_parts(n);
                users::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    email: Set(seeded_email(n)),
                    name: Set(format!("{} {}", capitalised(first_name), capitalised(last_name))),
                    password_hash: Set(hash.clone()),
                    role: Set(Role::User.as_str().to_owned()),
                    disabled: Set(false),
                    // Seeded addresses are made up (example.com): nothing to prove.
                    email_verified_at: Set(Some(now)),
                    created_at: Set(now),
                    updated_at: Set(now),
                    approval_pending: Set(false),
                    role_expires_at: Set(None),
                    role_after_expiry: Set(None),
                }
            });
            users::Entity::insert_many(rows)
                .exec_without_returning(&txn)
                .await
                .map_err(|e| format!("inserting accounts {next}..{batch_end}: {e}"))?;
            next = batch_end;
        }
        txn.commit().await.map_err(|e| e.to_string())?;
        if (next - first).is_multiple_of(100_000) || next == end {
            println!("seeded {} of {count}", next - first);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "seeded {count} accounts in {secs:.1}s ({:.0} rows/s)",
        count as f64 / secs.max(1e-9)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_emails_are_unique_and_valid() {
        let emails: std::collections::HashSet<String> = (1..=1000).map(seeded_email).collect();
        assert_eq!(emails.len(), 1000);
        for email in emails.iter().take(20) {
            assert!(app::validation::Email::parse(email).is_ok(), "{email}");
        }
        assert_eq!(seeded_email(17), "grace.hopper.17@seed.example.com");
    }
}
