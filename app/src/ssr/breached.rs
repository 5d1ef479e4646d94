//! Is a new password known from a data breach? Asked of a k-anonymity range service
//! (`ROSTER_PWNED_PASSWORDS_URL`, the protocol of Have I Been Pwned's Pwned
//! Passwords: `GET {url}/range/{first 5 hex digits of the SHA-1}` answers the
//! suffixes of every breached hash with that prefix, so only 5 of the 40 digits
//! ever leave the server) and of the hashes an operator imported into the
//! database (`roster breached-passwords import`). Consulted only when a password
//! is set, never at sign-in, so an outage of the service can never lock anyone out.

use crate::error::AppError;
use crate::ssr::entity::breached_passwords;
use crate::validation::Password;
use sea_orm::{DatabaseConnection, EntityTrait};
use sha1::{Digest, Sha1};
use std::sync::Arc;
use std::time::Duration;

pub const BREACHED: &str =
    "This password has appeared in a data breach, so attackers try it first. Choose a different one.";

/// How long a range query may take before the service counts as unavailable.
const RANGE_TIMEOUT: Duration = Duration::from_secs(3);

/// What happens to a new password when the range service cannot be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenUnavailable {
    /// Accept it, with a warning in the log and the metric: the default, so an
    /// outage elsewhere does not stop people joining.
    #[default]
    Accept,
    /// Refuse it with 503 `unavailable` until the service answers again.
    Refuse,
}

#[derive(Clone)]
pub struct BreachedPasswords {
    db: Option<DatabaseConnection>,
    service: Option<Arc<RangeService>>,
    when_unavailable: WhenUnavailable,
}

struct RangeService {
    /// The base URL, without a trailing slash; `/range/ABCDE` is appended.
    base: String,
    client: reqwest::Client,
}

/// The verdict on one password, for the metric and the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    NotFound,
    Breached,
    /// The range service could not be asked (and nothing local had it).
    Unavailable,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Breached => "breached",
            Self::Unavailable => "unavailable",
        }
    }
}

impl BreachedPasswords {
    /// Checks nothing: for tools that hash passwords of their own (the seeder) and tests.
    pub fn off() -> Self {
        Self {
            db: None,
            service: None,
            when_unavailable: WhenUnavailable::Accept,
        }
    }

    /// Checks the imported hashes in `db`, and the range service at `service_url`
    /// when one is configured.
    pub fn new(db: DatabaseConnection, service_url: Option<&str>, when_unavailable: WhenUnavailable) -> Self {
        let service = service_url.map(|url| {
            Arc::new(RangeService {
                base: url.trim_end_matches('/').to_owned(),
                client: reqwest::Client::builder()
                    .timeout(RANGE_TIMEOUT)
                    .user_agent(concat!("roster/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .expect("a client with a timeout and a user agent builds"),
            })
        });
        Self {
            db: Some(db),
            service,
            when_unavailable,
        }
    }

    /// Refuses a password found in a breach; see [`WhenUnavailable`] for an outage.
    pub async fn check(&self, password: &Password) -> Result<(), AppError> {
        let verdict = self.verdict(password).await?;
        metrics::counter!("roster_breached_password_checks_total", "outcome" => verdict.label()).increment(1);
        match verdict {
            Verdict::NotFound => Ok(()),
            Verdict::Breached => Err(AppError::invalid_field("password", BREACHED)),
            Verdict::Unavailable => match self.when_unavailable {
                WhenUnavailable::Accept => Ok(()),
                WhenUnavailable::Refuse => Err(AppError::Unavailable),
            },
        }
    }

    pub async fn verdict(&self, password: &Password) -> Result<Verdict, AppError> {
        let digest = sha1_hex(password.expose());
        if let Some(db) = &self.db {
            // An empty table (nothing imported) is one indexed miss.
            if breached_passwords::Entity::find_by_id(digest.clone())
                .one(db)
                .await?
                .is_some_and(|row| row.occurrences > 0)
            {
                return Ok(Verdict::Breached);
            }
        }
        let Some(service) = &self.service else {
            return Ok(Verdict::NotFound);
        };
        match service.contains(&digest).await {
            Ok(true) => Ok(Verdict::Breached),
            Ok(false) => Ok(Verdict::NotFound),
            Err(reason) => {
                tracing::warn!(
                    %reason,
                    policy = ?self.when_unavailable,
                    "the breached-password service could not be asked"
                );
                Ok(Verdict::Unavailable)
            }
        }
    }
}

impl RangeService {
    async fn contains(&self, digest: &str) -> Result<bool, String> {
        let (prefix, suffix) = digest.split_at(5);
        let url = format!("{}/range/{prefix}", self.base);
        let response = self
            .client
            .get(&url)
            // Padded answers all look alike in size on the wire.
            .header("Add-Padding", "true")
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if !response.status().is_success() {
            return Err(format!("the range service answered {}", response.status()));
        }
        let body = response.text().await.map_err(|e| e.without_url().to_string())?;
        Ok(range_lists(&body, suffix))
    }
}

/// The SHA-1 of `password` as 40 upper-case hex digits, as breach corpora list them.
pub fn sha1_hex(password: &str) -> String {
    hex::encode_upper(Sha1::digest(password.as_bytes()))
}

/// Whether a range answer (`SUFFIX:COUNT` lines) lists `suffix` with a count above
/// zero; padding lines have a count of zero.
fn range_lists(body: &str, suffix: &str) -> bool {
    body.lines()
        .filter_map(|line| line.trim().split_once(':'))
        .any(|(candidate, count)| {
            candidate.eq_ignore_ascii_case(suffix) && count.trim().parse::<u64>().is_ok_and(|n| n > 0)
        })
}

/// One line of an imported corpus: `HASH` or `HASH:COUNT`, the hash as 40 hex
/// digits in either case. `None` for a line that is neither (a header, a blank).
pub fn parse_corpus_line(line: &str) -> Option<(String, i64)> {
    let line = line.trim();
    let (hash, count) = match line.split_once(':') {
        Some((hash, count)) => (hash, count.trim().parse::<i64>().ok()?),
        None => (line, 1),
    };
    (hash.len() == 40 && hash.bytes().all(|b| b.is_ascii_hexdigit()) && count > 0)
        .then(|| (hash.to_ascii_uppercase(), count))
}

/// What an import read and kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportReport {
    /// Hashes written (a hash already present takes the new count).
    pub imported: u64,
    /// Lines that were not a hash (headers, blanks, anything malformed).
    pub skipped: u64,
}

/// Rows per INSERT: two parameters each, far below SQLite's limit of 32,766.
const IMPORT_BATCH: usize = 1_000;

/// Imports a corpus of SHA-1 hashes (`HASH` or `HASH:COUNT` per line, as Have I Been
/// Pwned publishes it) into the database, in batches, each in its own statement, so
/// an import of hundreds of millions of lines keeps its memory flat and an
/// interrupted one can simply be run again.
pub async fn import(db: &DatabaseConnection, lines: impl std::io::BufRead) -> Result<ImportReport, AppError> {
    let mut report = ImportReport::default();
    let mut batch = Vec::with_capacity(IMPORT_BATCH);
    for line in lines.lines() {
        let line = line.map_err(AppError::internal)?;
        match parse_corpus_line(&line) {
            Some((sha1, occurrences)) => batch.push((sha1, occurrences)),
            None => report.skipped += 1,
        }
        if batch.len() == IMPORT_BATCH {
            report.imported += write_batch(db, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        report.imported += write_batch(db, batch).await?;
    }
    Ok(report)
}

async fn write_batch(db: &DatabaseConnection, mut batch: Vec<(String, i64)>) -> Result<u64, AppError> {
    use sea_orm::ActiveValue::Set;
    use sea_orm::sea_query::OnConflict;
    // One statement may not name a row twice (PostgreSQL refuses it).
    batch.sort_unstable();
    batch.dedup_by(|a, b| a.0 == b.0);
    let written = batch.len() as u64;
    let rows = batch
        .into_iter()
        .map(|(sha1, occurrences)| breached_passwords::ActiveModel {
            sha1: Set(sha1),
            occurrences: Set(occurrences),
        });
    breached_passwords::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(breached_passwords::Column::Sha1)
                .update_column(breached_passwords::Column::Occurrences)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(written)
}

/// Forgets every imported hash; returns how many there were.
pub async fn clear(db: &DatabaseConnection) -> Result<u64, AppError> {
    Ok(breached_passwords::Entity::delete_many().exec(db).await?.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_upper_case_sha1() {
        // SHA-1("password"), as every breach corpus lists it.
        assert_eq!(sha1_hex("password"), "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8");
    }

    #[test]
    fn a_range_answer_lists_a_suffix_only_with_a_positive_count() {
        let body = "0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n1E4C9B93F3F0682250B6CF8331B7EE68FD8:9545824\r\n\
                    00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0\r\n";
        assert!(range_lists(body, "1E4C9B93F3F0682250B6CF8331B7EE68FD8"));
        assert!(
            range_lists(body, "1e4c9b93f3f0682250b6cf8331b7ee68fd8"),
            "case does not matter"
        );
        assert!(!range_lists(body, "00D4F6E8FA6EECAD2A3AA415EEC418D38EC"), "padding");
        assert!(!range_lists(body, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"));
        assert!(!range_lists("", "1E4C9B93F3F0682250B6CF8331B7EE68FD8"));
    }

    #[test]
    fn corpus_lines_are_hashes_with_or_without_a_count() {
        let hash = "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8";
        assert_eq!(
            parse_corpus_line(&format!("{hash}:42\n")),
            Some((hash.to_ascii_uppercase(), 42))
        );
        assert_eq!(parse_corpus_line(hash), Some((hash.to_ascii_uppercase(), 1)));
        assert_eq!(parse_corpus_line(""), None);
        assert_eq!(parse_corpus_line("# SHA-1 corpus"), None);
        assert_eq!(parse_corpus_line(&format!("{hash}:0")), None, "padding is not a breach");
        assert_eq!(parse_corpus_line(&format!("{hash}:many")), None);
        assert_eq!(parse_corpus_line(&hash[..39]), None);
        assert_eq!(parse_corpus_line(&format!("{}g", &hash[..39])), None);
    }

    #[tokio::test]
    async fn off_checks_nothing() {
        let password = Password::parse_existing("password").unwrap();
        assert_eq!(
            BreachedPasswords::off().verdict(&password).await.unwrap(),
            Verdict::NotFound
        );
    }
}
