//! Moving accounts in from another system (`roster import`, `POST /api/users/import`)
//! and out again (`roster export`). A file is CSV with a header row, or JSON lines;
//! the fields are `email`, `name`, `role`, `created_at`, `password_hash` and
//! `email_verified`. Every row is checked before anything is written, and then all
//! are written in one transaction: an import happens whole or not at all. Password
//! hashes are kept as they are (`legacy_hash` verifies them) until each account's
//! next sign-in replaces its hash with Roster's own.

use super::UserService;
use crate::error::AppError;
use crate::model::{AuditAction, ImportReport, RefusedRow, Role};
use crate::policy::{Action, Target, authorize};
use crate::ssr::caller::{Caller, ClientMeta};
use crate::ssr::entity::users;
use crate::ssr::legacy_hash::StoredHash;
use crate::validation::{Email, UserName};
use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// The most rows one import takes (split a larger file).
pub const MAX_IMPORT_ROWS: usize = 100_000;

/// Stored for an account imported without a password: no password matches it, so
/// its owner sets one with "forgot password" (or an emailed code, or a passkey).
pub const NO_PASSWORD: &str = "!imported-without-password";

/// Accounts written per INSERT statement.
const ROWS_PER_INSERT: usize = 500;

/// The columns a file may have; any other is refused, so a misspelt one is not
/// silently dropped.
const COLUMNS: [&str; 6] = ["email", "name", "role", "created_at", "password_hash", "email_verified"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    JsonLines,
}

impl FileFormat {
    /// JSON lines when the first thing in the file is `{`, CSV otherwise.
    pub fn sniff(text: &str) -> Self {
        match text.trim_start().starts_with('{') {
            true => Self::JsonLines,
            false => Self::Csv,
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" | "json" => Some(Self::JsonLines),
            _ => None,
        }
    }
}

/// A row as read, before it is checked.
#[derive(Debug, Default)]
struct RawRow {
    line: u64,
    fields: HashMap<String, String>,
}

impl RawRow {
    fn get(&self, name: &str) -> &str {
        self.fields.get(name).map(|v| v.trim()).unwrap_or("")
    }
}

/// A row that passed every check, ready to insert.
#[derive(Debug)]
struct Accepted {
    email: String,
    name: String,
    role: Role,
    created_at: DateTime<Utc>,
    password_hash: String,
    email_verified: bool,
}

impl UserService {
    /// An administrator's import (the admin page, `POST /api/users/import`).
    pub async fn import(&self, caller: &Caller, text: &str, dry_run: bool) -> Result<ImportReport, AppError> {
        authorize(caller.actor, Action::ImportUsers, Target::Collection)?;
        self.import_file(
            text,
            dry_run,
            caller.actor.id(),
            &caller.client,
            "uploaded by an administrator",
        )
        .await
    }

    /// The whole import: read, check every row, then write them all or none. A
    /// refused row makes it `ImportRefused` (in a dry run, a report that lists it).
    pub async fn import_file(
        &self,
        text: &str,
        dry_run: bool,
        actor: Option<Uuid>,
        client: &ClientMeta,
        source: &str,
    ) -> Result<ImportReport, AppError> {
        let rows = read_rows(text)?;
        let mut refused = Vec::new();
        let mut accepted = Vec::new();
        let mut first_line_of: HashMap<String, u64> = HashMap::new();
        let now = Utc::now();
        for row in &rows {
            match check_row(row, now) {
                Ok(account) => {
                    let key = account.email.to_lowercase();
                    if let Some(first) = first_line_of.get(&key) {
                        refused.push(refusal(row, format!("the address is also on line {first}")));
                    } else {
                        first_line_of.insert(key, row.line);
                        accepted.push((row.line, account));
                    }
                }
                Err(reason) => refused.push(refusal(row, reason)),
            }
        }
        let taken = self
            .existing_addresses(accepted.iter().map(|(_, a)| a.email.as_str()))
            .await?;
        accepted.retain(|(line, account)| {
            let free = !taken.contains(&account.email.to_lowercase());
            if !free {
                refused.push(RefusedRow {
                    line: *line,
                    email: Some(account.email.clone()),
                    reason: "an account with this address already exists".to_owned(),
                });
            }
            free
        });
        refused.sort_by_key(|r| r.line);
        let mut hash_formats = BTreeMap::new();
        for (_, account) in &accepted {
            let format = match StoredHash::recognize(&account.password_hash) {
                Ok(hash) => hash.format_name(),
                Err(_) => "none",
            };
            *hash_formats.entry(format.to_owned()).or_insert(0) += 1;
        }
        let total = rows.len() as u64;
        if !refused.is_empty() && !dry_run {
            return Err(AppError::ImportRefused {
                rows: total,
                refused_count: refused.len() as u64,
                refused,
            });
        }
        let mut report = ImportReport {
            dry_run,
            rows: total,
            imported: 0,
            refused,
            hash_formats,
        };
        if dry_run {
            return Ok(report);
        }
        report.imported = self.insert_all(accepted.into_iter().map(|(_, a)| a)).await?;
        let detail = Some(format!("{} accounts {source}", report.imported));
        self.audit
            .record(AuditAction::UsersImported, actor, None, client, detail)
            .await;
        Ok(report)
    }

    /// Which of `emails` (lowercased) an account already has.
    async fn existing_addresses<'a>(
        &self,
        emails: impl Iterator<Item = &'a str>,
    ) -> Result<std::collections::HashSet<String>, AppError> {
        use sea_orm::sea_query::{Expr, ExprTrait, Func};
        let lowered: Vec<String> = emails.map(str::to_lowercase).collect();
        let mut taken = std::collections::HashSet::new();
        for chunk in lowered.chunks(ROWS_PER_INSERT) {
            let found: Vec<String> = users::Entity::find()
                .select_only()
                .column(users::Column::Email)
                .filter(Expr::expr(Func::lower(Expr::col(users::Column::Email))).is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(&self.db)
                .await?;
            taken.extend(found.into_iter().map(|e| e.to_lowercase()));
        }
        Ok(taken)
    }

    /// One transaction: every account or none. The unique index on `lower(email)`
    /// still decides a registration that races the import.
    async fn insert_all(&self, accounts: impl Iterator<Item = Accepted>) -> Result<u64, AppError> {
        use crate::error::UniqueViolation;
        let txn = crate::ssr::db::begin_write(&self.db).await?;
        let mut written = 0u64;
        let mut batch = Vec::with_capacity(ROWS_PER_INSERT);
        let mut accounts = accounts.peekable();
        while accounts.peek().is_some() {
            batch.clear();
            batch.extend(accounts.by_ref().take(ROWS_PER_INSERT).map(active_model));
            let count = batch.len() as u64;
            users::Entity::insert_many(batch.drain(..))
                .exec_without_returning(&txn)
                .await
                .conflict_on_unique(AppError::conflict(
                    "An account with one of these addresses was created while importing; nothing was imported.",
                ))?;
            written += count;
        }
        txn.commit().await?;
        Ok(written)
    }
}

fn active_model(account: Accepted) -> users::ActiveModel {
    // Ids are time-ordered by when the account was made in its old system, so the
    // newest-first listing puts imported accounts where they belong.
    let seconds = account.created_at.timestamp().max(0) as u64;
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, seconds, account.created_at.timestamp_subsec_nanos());
    let now = Utc::now();
    users::ActiveModel {
        id: Set(Uuid::new_v7(ts)),
        email: Set(account.email),
        name: Set(account.name),
        password_hash: Set(account.password_hash),
        role: Set(account.role.as_str().to_owned()),
        disabled: Set(false),
        email_verified_at: Set(account.email_verified.then_some(account.created_at)),
        created_at: Set(account.created_at),
        updated_at: Set(now),
        approval_pending: Set(false),
        role_expires_at: Set(None),
        role_after_expiry: Set(None),
    }
}

fn refusal(row: &RawRow, reason: impl Into<String>) -> RefusedRow {
    let email = Some(row.get("email").to_owned()).filter(|e| !e.is_empty());
    RefusedRow {
        line: row.line,
        email,
        reason: reason.into(),
    }
}

/// Every row of the file, in either format. A file that cannot be read at all (no
/// email column, an unknown column, too many rows) is refused as a whole.
fn read_rows(text: &str) -> Result<Vec<RawRow>, AppError> {
    let rows = match FileFormat::sniff(text) {
        FileFormat::Csv => read_csv(text)?,
        FileFormat::JsonLines => read_json_lines(text),
    };
    if rows.is_empty() {
        return Err(AppError::invalid_field("file", "The file has no accounts in it."));
    }
    if rows.len() > MAX_IMPORT_ROWS {
        return Err(AppError::invalid_field(
            "file",
            format!(
                "The file has {} rows; import at most {MAX_IMPORT_ROWS} at a time.",
                rows.len()
            ),
        ));
    }
    Ok(rows)
}

fn read_csv(text: &str) -> Result<Vec<RawRow>, AppError> {
    // The csv crate numbers the lines of a CRLF file one short: count on LF alone.
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| AppError::invalid_field("file", format!("The header row cannot be read: {e}")))?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    if let Some(unknown) = headers.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
        return Err(AppError::invalid_field(
            "file",
            format!("Unknown column \"{unknown}\": the columns are {}.", COLUMNS.join(", ")),
        ));
    }
    if !headers.iter().any(|h| h == "email") {
        return Err(AppError::invalid_field(
            "file",
            "The header row has no \"email\" column (a CSV file starts with a header row).",
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let line = match &record {
            Ok(r) => r.position().map_or(0, |p| p.line()),
            Err(e) => e.position().map_or(0, |p| p.line()),
        };
        let mut row = RawRow {
            line,
            ..RawRow::default()
        };
        match record {
            Ok(record) if record.len() != headers.len() => {
                row.fields.insert(
                    "!error".into(),
                    format!("{} fields where the header has {}", record.len(), headers.len()),
                );
            }
            Ok(record) => {
                row.fields = headers.iter().cloned().zip(record.iter().map(str::to_owned)).collect();
            }
            Err(e) => {
                row.fields.insert("!error".into(), format!("not valid CSV: {e}"));
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

fn read_json_lines(text: &str) -> Vec<RawRow> {
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut row = RawRow {
            line: index as u64 + 1,
            ..RawRow::default()
        };
        match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line) {
            Ok(object) => {
                for (key, value) in object {
                    let text = match value {
                        serde_json::Value::String(s) => s,
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    row.fields.insert(key, text);
                }
                if let Some(unknown) = row.fields.keys().find(|k| !COLUMNS.contains(&k.as_str())) {
                    let reason = format!("unknown field \"{unknown}\": the fields are {}", COLUMNS.join(", "));
                    row.fields.insert("!error".into(), reason);
                }
            }
            Err(e) => {
                row.fields.insert("!error".into(), format!("not a JSON object: {e}"));
            }
        }
        rows.push(row);
    }
    rows
}

/// One row's checks, each with the reason a person can act on.
fn check_row(row: &RawRow, now: DateTime<Utc>) -> Result<Accepted, String> {
    if let Some(error) = row.fields.get("!error") {
        return Err(error.clone());
    }
    let email = Email::parse(row.get("email")).map_err(|e| format!("email: {e}"))?;
    // A system that kept no names: the address's local part stands in.
    let name = match row.get("name") {
        "" => email.as_str().split('@').next().unwrap_or_default().to_owned(),
        given => given.to_owned(),
    };
    let name = UserName::parse(&name).map_err(|e| format!("name: {e}"))?;
    let role = match row.get("role") {
        "" => Role::User,
        raw => Role::parse(&raw.to_lowercase()).ok_or("role: must be \"user\" or \"admin\"")?,
    };
    let created_at = match row.get("created_at") {
        "" => now,
        raw => parse_time(raw).ok_or("created_at: not a date and time (use RFC 3339, e.g. 2024-05-01T09:30:00Z)")?,
    };
    if created_at > now {
        return Err("created_at: in the future".to_owned());
    }
    let password_hash = match row.get("password_hash") {
        "" => NO_PASSWORD.to_owned(),
        raw => {
            StoredHash::recognize(raw).map_err(|e| format!("password_hash: {e}"))?;
            raw.to_owned()
        }
    };
    let email_verified = match row.get("email_verified").to_lowercase().as_str() {
        "" | "false" | "0" | "no" => false,
        "true" | "1" | "yes" => true,
        _ => return Err("email_verified: must be true or false".to_owned()),
    };
    Ok(Accepted {
        email: email.into_inner(),
        name: name.into_inner(),
        role,
        created_at,
        password_hash,
        email_verified,
    })
}

/// RFC 3339, or the shapes database dumps use: `2024-05-01 09:30:00[.ffffff][+00:00]`
/// (no offset: UTC), or a bare date.
fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// The columns `roster export` writes, in order (`password_hash` only when asked).
pub fn export_columns(with_hashes: bool) -> Vec<&'static str> {
    let mut columns = vec!["email", "name", "role", "created_at", "email_verified"];
    if with_hashes {
        columns.push("password_hash");
    }
    columns
}

/// Writes every account to `out`, in the format `import` reads, a page at a time
/// (oldest first). Password hashes only when `with_hashes`. The number written.
pub async fn export<C: ConnectionTrait>(
    db: &C,
    format: FileFormat,
    with_hashes: bool,
    out: &mut impl std::io::Write,
) -> Result<u64, AppError> {
    use sea_orm::QueryOrder;
    let columns = export_columns(with_hashes);
    if format == FileFormat::Csv {
        out.write_all(&csv_lines([columns.iter().map(|c| c.to_string()).collect()])?)
            .map_err(AppError::internal)?;
    }
    let mut after: Option<Uuid> = None;
    let mut written = 0u64;
    loop {
        let mut query = users::Entity::find().order_by_asc(users::Column::Id).limit(1000);
        if let Some(after) = after {
            query = query.filter(users::Column::Id.gt(after));
        }
        let page = query.all(db).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        let records = page.iter().map(|account| {
            columns
                .iter()
                .map(|&column| export_value(account, column))
                .collect::<Vec<_>>()
        });
        let bytes = match format {
            FileFormat::Csv => csv_lines(records)?,
            FileFormat::JsonLines => {
                let mut bytes = Vec::new();
                for values in records {
                    let object: serde_json::Map<String, serde_json::Value> = columns
                        .iter()
                        .zip(values)
                        .map(|(&k, v)| {
                            let value = match k {
                                "email_verified" => serde_json::Value::Bool(v == "true"),
                                _ => serde_json::Value::String(v),
                            };
                            (k.to_owned(), value)
                        })
                        .collect();
                    serde_json::to_writer(&mut bytes, &object).map_err(AppError::internal)?;
                    bytes.push(b'\n');
                }
                bytes
            }
        };
        out.write_all(&bytes).map_err(AppError::internal)?;
        written += page.len() as u64;
    }
    Ok(written)
}

/// Records as CSV lines (quoted where a value needs it).
fn csv_lines(records: impl IntoIterator<Item = Vec<String>>) -> Result<Vec<u8>, AppError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for record in records {
        writer.write_record(&record).map_err(AppError::internal)?;
    }
    writer.into_inner().map_err(AppError::internal)
}

fn export_value(account: &users::Model, column: &str) -> String {
    match column {
        "email" => account.email.clone(),
        "name" => account.name.clone(),
        "role" => account.role.clone(),
        "created_at" => account.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "email_verified" => account.email_verified_at.is_some().to_string(),
        // An account imported without a password has none to export.
        "password_hash" if account.password_hash == NO_PASSWORD => String::new(),
        "password_hash" => account.password_hash.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<Result<Accepted, String>> {
        let now = Utc::now();
        read_rows(text).unwrap().iter().map(|r| check_row(r, now)).collect()
    }

    #[test]
    fn csv_and_json_lines_read_the_same_accounts() {
        let csv = "email,name,role,created_at,password_hash\nada@example.com,Ada,admin,2020-01-02 03:04:05,$2b$04$abcdefghijklmnopqrstuuJ0aZ2Q9Q8U1YbY7Vw0B3bq1y3m9Oq6e\n";
        let jsonl = r#"{"email":"ada@example.com","name":"Ada","role":"admin","created_at":"2020-01-02T03:04:05Z","password_hash":"$2b$04$abcdefghijklmnopqrstuuJ0aZ2Q9Q8U1YbY7Vw0B3bq1y3m9Oq6e"}"#;
        for text in [csv, jsonl] {
            let checked = rows(text);
            let account = checked[0].as_ref().unwrap();
            assert_eq!(account.email, "ada@example.com");
            assert_eq!(account.role, Role::Admin);
            assert_eq!(account.created_at.to_rfc3339(), "2020-01-02T03:04:05+00:00");
        }
    }

    #[test]
    fn each_refusal_says_what_is_wrong() {
        let text = "email,name,role,created_at,password_hash\n\
                    not-an-address,A,,,\n\
                    b@example.com,B,owner,,\n\
                    c@example.com,C,,yesterday,\n\
                    d@example.com,D,,,md5$x$y\n\
                    e@example.com,E,,2999-01-01,\n\
                    f@example.com,,,,\n";
        let checked = rows(text);
        let reasons: Vec<String> = checked
            .iter()
            .take(5)
            .map(|r| r.as_ref().err().unwrap().clone())
            .collect();
        assert!(reasons[0].starts_with("email:"), "{reasons:?}");
        assert!(reasons[1].starts_with("role:"), "{reasons:?}");
        assert!(reasons[2].starts_with("created_at:"), "{reasons:?}");
        assert!(reasons[3].starts_with("password_hash:"), "{reasons:?}");
        assert_eq!(reasons[4], "created_at: in the future");
        // No name: the address's local part; no hash: no password until a reset.
        let f = checked[5].as_ref().unwrap();
        assert_eq!(f.name, "f");
        assert_eq!(f.password_hash, NO_PASSWORD);
    }

    #[test]
    fn a_file_that_cannot_be_read_is_refused_whole() {
        assert!(read_rows("name,role\nA,user\n").is_err(), "no email column");
        assert!(
            read_rows("email,nickname\na@example.com,A\n").is_err(),
            "unknown column"
        );
        assert!(read_rows("email\n").is_err(), "no rows");
        let line = r#"{"email":"a@example.com","nick":"x"}"#;
        assert!(
            check_row(&read_rows(line).unwrap()[0], Utc::now())
                .unwrap_err()
                .contains("unknown field")
        );
    }

    #[test]
    fn csv_lines_are_counted_as_a_spreadsheet_shows_them() {
        // A browser posts a text box's lines with CRLF.
        for text in [
            "email\na@example.com\nnot-an-address\n",
            "email\r\na@example.com\r\nnot-an-address\r\n",
        ] {
            let read = read_rows(text).unwrap();
            assert_eq!(read.iter().map(|r| r.line).collect::<Vec<_>>(), vec![2, 3], "{text:?}");
        }
    }
}
