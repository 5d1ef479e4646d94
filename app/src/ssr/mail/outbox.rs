//! The transactional outbox: a mail is a row written in the same transaction as the
//! change that causes it, so it exists if and only if the change committed. Workers
//! (one per process) claim due rows for a lease, send them, and mark them sent with
//! the claim they hold, so however many processes share the database, a row is
//! claimed by one at a time and marked sent once.
//!
//! Claiming is one UPDATE whose subquery picks the due rows: PostgreSQL skips rows
//! another worker has locked (`FOR UPDATE SKIP LOCKED`); SQLite runs one writer at a
//! time, so the statement is atomic there by itself. The claim is a fresh UUID the
//! worker then reads its rows back by (no RETURNING needed on either database).

use super::Mail;
use crate::error::AppError;
use crate::ssr::entity::mail_outbox::{self, Column, Entity};
use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, LockBehavior, LockType, Order, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

pub const QUEUED: &str = "queued";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";

/// Queues `mail` through `db`: pass the transaction of the change the mail is about.
pub async fn enqueue<C: ConnectionTrait>(db: &C, mail: &Mail) -> Result<Uuid, AppError> {
    let now = Utc::now();
    let id = Uuid::now_v7();
    let row = mail_outbox::ActiveModel {
        id: Set(id),
        kind: Set(mail.kind.to_owned()),
        recipient: Set(mail.to.clone()),
        subject: Set(mail.subject.clone()),
        body_text: Set(mail.text.clone()),
        body_html: Set(mail.html.clone()),
        state: Set(QUEUED.to_owned()),
        attempts: Set(0),
        created_at: Set(now),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        claim: Set(None),
        sent_at: Set(None),
        last_error: Set(None),
    };
    Entity::insert(row).exec_without_returning(db).await?;
    Ok(id)
}

/// Claims up to `limit` mails that are due at `now` and not held by a live claim,
/// for `lease`; each claim counts as an attempt. A worker that dies holding a claim
/// lets it lapse, and the mail is claimed again when the lease ends.
pub async fn claim_due<C: ConnectionTrait>(
    db: &C,
    limit: u64,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<mail_outbox::Model>, AppError> {
    // Idle most of the time: a read (on the index) finds that out without taking
    // the write lock, which on SQLite every process would otherwise take each second.
    if Entity::find().filter(due_at(now)).one(db).await?.is_none() {
        return Ok(Vec::new());
    }
    let claim = Uuid::new_v4();
    let mut due = Query::select();
    due.column(Column::Id)
        .from(Entity)
        .cond_where(due_at(now))
        .order_by(Column::NextAttemptAt, Order::Asc)
        .limit(limit);
    if db.get_database_backend() == DatabaseBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let claimed = Entity::update_many()
        .col_expr(Column::Claim, Expr::value(claim))
        .col_expr(Column::LockedUntil, Expr::value(now + lease))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.in_subquery(due))
        .exec(db)
        .await?
        .rows_affected;
    if claimed == 0 {
        return Ok(Vec::new());
    }
    Ok(Entity::find()
        .filter(Column::Claim.eq(claim))
        .order_by_asc(Column::NextAttemptAt)
        .all(db)
        .await?)
}

/// Queued, due by `now`, and held by no live claim.
fn due_at(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(Column::State.eq(QUEUED))
        .add(Column::NextAttemptAt.lte(now))
        .add(
            Condition::any()
                .add(Column::LockedUntil.is_null())
                .add(Column::LockedUntil.lt(now)),
        )
}

/// Marks a mail sent, if `claim` still holds it; false when it no longer does (the
/// lease ran out and another worker took it), so the caller knows it raced. The
/// bodies are blanked: a link in them may carry a token, which the database keeps
/// nowhere else in the clear, and which must not outlive the mail's journey.
pub async fn mark_sent<C: ConnectionTrait>(
    db: &C,
    mail: &mail_outbox::Model,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let done = held(mail)
        .col_expr(Column::State, Expr::value(SENT))
        .col_expr(Column::SentAt, Expr::value(now))
        .col_expr(Column::BodyText, Expr::value(""))
        .col_expr(Column::BodyHtml, Expr::value(""))
        .col_expr(Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::LastError, Expr::value(Option::<String>::None))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Puts a mail back in the queue after a failed attempt, due again at `next`.
pub async fn mark_retry<C: ConnectionTrait>(
    db: &C,
    mail: &mail_outbox::Model,
    next: DateTime<Utc>,
    error: &str,
) -> Result<(), AppError> {
    held(mail)
        .col_expr(Column::NextAttemptAt, Expr::value(next))
        .col_expr(Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::LastError, Expr::value(truncate(error)))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives a mail up: it will not be tried again (and its bodies go, as when sent).
pub async fn mark_failed<C: ConnectionTrait>(db: &C, mail: &mail_outbox::Model, error: &str) -> Result<(), AppError> {
    held(mail)
        .col_expr(Column::State, Expr::value(FAILED))
        .col_expr(Column::BodyText, Expr::value(""))
        .col_expr(Column::BodyHtml, Expr::value(""))
        .col_expr(Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(Column::LastError, Expr::value(truncate(error)))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets mails sent or given up before `before`; returns how many.
pub async fn prune<C: ConnectionTrait>(db: &C, before: DateTime<Utc>) -> Result<u64, AppError> {
    Ok(Entity::delete_many()
        .filter(Column::State.ne(QUEUED))
        .filter(Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}

/// How many mails are in each state, for `/metrics`.
pub async fn count_by_state<C: ConnectionTrait>(db: &C) -> Result<Vec<(String, i64)>, AppError> {
    Ok(Entity::find()
        .select_only()
        .column(Column::State)
        .column_as(Expr::from(Func::count(Expr::col(Column::Id))), "count")
        .group_by(Column::State)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?)
}

/// An update of `mail`'s row that only its current claim can make.
fn held(mail: &mail_outbox::Model) -> sea_orm::UpdateMany<Entity> {
    Entity::update_many()
        .filter(Column::Id.eq(mail.id))
        .filter(Column::Claim.eq(mail.claim))
        .filter(Column::State.eq(QUEUED))
}

/// Errors are kept short in the row; the log has them whole.
fn truncate(error: &str) -> String {
    error.chars().take(255).collect()
}

/// When a mail that failed its `attempts`-th try is due again: 30 s, doubling each
/// time, at most an hour apart.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = attempts.clamp(1, 8) - 1;
    (Duration::seconds(30) * 2i32.pow(doublings as u32)).min(Duration::hours(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(3), Duration::seconds(120));
        assert_eq!(backoff(7), Duration::seconds(30 * 64));
        assert_eq!(backoff(8), Duration::hours(1));
        assert_eq!(backoff(50), Duration::hours(1));
        assert_eq!(backoff(0), Duration::seconds(30), "never sooner than the first step");
    }

    #[test]
    fn stored_errors_are_cut_to_the_column() {
        assert_eq!(truncate(&"x".repeat(300)).len(), 255);
        assert_eq!(truncate("short"), "short");
    }
}
