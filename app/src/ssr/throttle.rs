//! Brute-force and credential-stuffing defence: failed sign-ins are counted per
//! account and per client IP in a sliding window; past the limit the key is
//! locked out for a while and sign-in answers 429 with Retry-After — before any
//! password is hashed. Registrations are counted per client IP the same way (each
//! costs a password hash and makes an account), successful or not. Mail a visitor
//! can cause (a reset link, a new verification link) is counted per address and per
//! IP, sent or not, so nobody can flood an inbox; and links that open nothing are
//! counted per IP like failed sign-ins.

use crate::error::AppError;
use crate::ssr::entity::login_throttles::{self, Column, Entity};
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub max_failures_per_account: u32,
    pub max_failures_per_ip: u32,
    /// Registrations one client IP may attempt within the window.
    pub max_registrations_per_ip: u32,
    /// Mails one address may be sent at a visitor's request within the window.
    pub max_mails_per_address: u32,
    /// Mails one client IP may ask for within the window, to any addresses.
    pub max_mails_per_ip: u32,
    /// Failures older than this are forgotten.
    pub window: Duration,
    /// How long a key stays locked once over its limit.
    pub lockout: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            max_failures_per_account: 5,
            max_failures_per_ip: 50,
            max_registrations_per_ip: 20,
            max_mails_per_address: 5,
            max_mails_per_ip: 30,
            window: Duration::minutes(15),
            lockout: Duration::minutes(15),
        }
    }
}

#[derive(Clone)]
pub struct LoginThrottle {
    db: DatabaseConnection,
    policy: ThrottlePolicy,
}

/// The keys one attempt counts against, with their limits.
pub struct AttemptKeys(Vec<(String, u32)>);

impl LoginThrottle {
    pub fn new(db: DatabaseConnection, policy: ThrottlePolicy) -> Self {
        Self { db, policy }
    }

    /// The account key is the email as typed, lowercased: unknown accounts are
    /// throttled exactly like real ones, so the limit reveals nothing.
    pub fn keys(&self, email: &str, ip: Option<&str>) -> AttemptKeys {
        let mut keys = vec![(
            format!("account:{}", email.trim().to_lowercase()),
            self.policy.max_failures_per_account,
        )];
        if let Some(ip) = ip {
            keys.push((format!("ip:{ip}"), self.policy.max_failures_per_ip));
        }
        AttemptKeys(keys)
    }

    /// The key a registration counts against: its client IP (none without one).
    pub fn registration_keys(&self, ip: Option<&str>) -> AttemptKeys {
        AttemptKeys(
            ip.map(|ip| (format!("register-ip:{ip}"), self.policy.max_registrations_per_ip))
                .into_iter()
                .collect(),
        )
    }

    /// The keys a mail asked for counts against: its address (lowercased, whether
    /// or not an account has it, so the limit reveals nothing) and the client IP.
    pub fn mail_keys(&self, email: &str, ip: Option<&str>) -> AttemptKeys {
        let mut keys = vec![(
            format!("mail:{}", email.trim().to_lowercase()),
            self.policy.max_mails_per_address,
        )];
        if let Some(ip) = ip {
            keys.push((format!("mail-ip:{ip}"), self.policy.max_mails_per_ip));
        }
        AttemptKeys(keys)
    }

    /// The key a link that opened nothing counts against: the client IP, with the
    /// same limit as failed sign-ins.
    pub fn link_keys(&self, ip: Option<&str>) -> AttemptKeys {
        AttemptKeys(
            ip.map(|ip| (format!("link-ip:{ip}"), self.policy.max_failures_per_ip))
                .into_iter()
                .collect(),
        )
    }

    /// Refuses with `RateLimited` while any key is locked.
    pub async fn check(&self, keys: &AttemptKeys) -> Result<(), AppError> {
        let now = Utc::now();
        let names: Vec<&str> = keys.0.iter().map(|(k, _)| k.as_str()).collect();
        let locked = Entity::find()
            .filter(Column::Key.is_in(names))
            .filter(Column::LockedUntil.gt(now))
            .all(&self.db)
            .await?;
        match locked.iter().filter_map(|row| row.locked_until).max() {
            Some(until) => Err(AppError::RateLimited {
                retry_after_secs: retry_after(until, now),
            }),
            None => Ok(()),
        }
    }

    /// Counts one attempt against each key (a failed sign-in, or any registration),
    /// locking a key that reaches its limit.
    pub async fn record_failure(&self, keys: &AttemptKeys) -> Result<(), AppError> {
        let now = Utc::now();
        for (key, limit) in &keys.0 {
            // Each statement is atomic on its own, so concurrent failures are all counted.
            Entity::update_many()
                .col_expr(Column::Failures, Expr::value(0))
                .col_expr(Column::WindowStartedAt, Expr::value(now))
                .filter(Column::Key.eq(key.as_str()))
                .filter(Column::WindowStartedAt.lt(now - self.policy.window))
                .exec(&self.db)
                .await?;
            let row = login_throttles::ActiveModel {
                key: Set(key.clone()),
                failures: Set(1),
                window_started_at: Set(now),
                locked_until: Set(None),
            };
            Entity::insert(row)
                .on_conflict(
                    OnConflict::column(Column::Key)
                        .value(Column::Failures, Expr::col((Entity, Column::Failures)).add(1))
                        .to_owned(),
                )
                .exec_without_returning(&self.db)
                .await?;
            Entity::update_many()
                .col_expr(Column::LockedUntil, Expr::value(Some(now + self.policy.lockout)))
                .col_expr(Column::Failures, Expr::value(0))
                .col_expr(Column::WindowStartedAt, Expr::value(now))
                .filter(Column::Key.eq(key.as_str()))
                .filter(Column::Failures.gte(*limit as i32))
                .exec(&self.db)
                .await?;
        }
        Ok(())
    }

    /// A successful sign-in clears the account's count (not the IP's: one good
    /// password must not reset a stuffing run from the same address).
    pub async fn record_success(&self, keys: &AttemptKeys) -> Result<(), AppError> {
        if let Some((account, _)) = keys.0.first() {
            Entity::delete_by_id(account.clone()).exec(&self.db).await?;
        }
        Ok(())
    }
}

fn retry_after(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    Ord::max((until - now).num_seconds(), 1) as u64
}
