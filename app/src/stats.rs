//! What the admin dashboard shows (`GET /api/admin/stats`, the `/admin` page): the
//! same figures for both, computed by `ssr::stats`.

use crate::model::AuditEvent;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The period the charts cover.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum StatsRange {
    #[serde(rename = "24h")]
    Day,
    #[default]
    #[serde(rename = "7d")]
    Week,
    #[serde(rename = "30d")]
    Month,
}

impl StatsRange {
    pub const ALL: [StatsRange; 3] = [Self::Day, Self::Week, Self::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "24h",
            Self::Week => "7d",
            Self::Month => "30d",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Day => "last 24 hours",
            Self::Week => "last 7 days",
            Self::Month => "last 30 days",
        }
    }

    pub fn length(self) -> Duration {
        match self {
            Self::Day => Duration::hours(24),
            Self::Week => Duration::days(7),
            Self::Month => Duration::days(30),
        }
    }

    /// Sign-ups are counted per hour over a day, per day otherwise.
    pub fn signup_bucket(self) -> Duration {
        match self {
            Self::Day => Duration::hours(1),
            _ => Duration::days(1),
        }
    }
}

/// One bar of the sign-ups chart: accounts made from `start` for one bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CountBucket {
    pub start: DateTime<Utc>,
    pub count: u64,
}

/// One hour of sign-ins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SignInBucket {
    pub start: DateTime<Utc>,
    pub succeeded: u64,
    pub failed: u64,
}

/// Accounts by role and state, now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccountCounts {
    pub total: u64,
    pub admins: u64,
    pub users: u64,
    pub disabled: u64,
    /// Waiting for an administrator's approval.
    pub pending_approval: u64,
    /// Whose address is not proven yet.
    pub unverified: u64,
}

/// The mail outbox, now.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MailCounts {
    /// Waiting to be sent (or to be tried again).
    pub pending: u64,
    pub sent: u64,
    /// Given up after every try.
    pub failed: u64,
}

/// `data` of `GET /api/admin/stats`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdminStats {
    pub range: StatsRange,
    pub generated_at: DateTime<Utc>,
    /// Oldest first, every bucket of the range (zero where nobody registered).
    pub signups: Vec<CountBucket>,
    /// Oldest first, every hour of the range.
    pub sign_ins: Vec<SignInBucket>,
    /// Unexpired sessions; null where the session store cannot count them cheaply
    /// (the directory and Redis stores).
    pub active_sessions: Option<u64>,
    pub accounts: AccountCounts,
    pub mail: MailCounts,
    /// The newest security events (sign-ins refused, roles, sessions ended, …).
    pub recent_events: Vec<AuditEvent>,
}

impl AdminStats {
    pub fn signups_total(&self) -> u64 {
        self.signups.iter().map(|b| b.count).sum()
    }

    pub fn sign_ins_total(&self) -> (u64, u64) {
        self.sign_ins
            .iter()
            .fold((0, 0), |(ok, failed), b| (ok + b.succeeded, failed + b.failed))
    }
}
