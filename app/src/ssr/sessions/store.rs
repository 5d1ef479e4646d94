//! What every session store keeps and answers: the `SessionStore` trait, which the
//! database, directory and Redis stores implement; which one runs is configuration,
//! and the service layer never knows.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::DbErr;
use uuid::Uuid;

/// A session as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub token_hash: String,
    /// The name clients use for this session.
    pub public_id: Uuid,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    /// The administrator viewing the site as `user_id` ("view as"), for a session
    /// started that way (`impersonation`).
    pub impersonator_id: Option<Uuid>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store answered with a failure, or holds something it cannot read.
    #[error("session store: {0}")]
    Failed(String),
    /// The store cannot be reached (refused, timed out, connection lost): the
    /// request is answered 503 and the session is left as it was.
    #[error("session store unreachable: {0}")]
    Unreachable(String),
}

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        Self::Failed(err.to_string())
    }
}

#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Stores the session, replacing one with the same token hash.
    async fn insert(&self, record: SessionRecord) -> Result<(), StoreError>;
    async fn get(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError>;
    async fn touch(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
    async fn remove(&self, token_hash: &str) -> Result<(), StoreError>;
    /// The user's sessions, newest first.
    async fn list_for_user(&self, user_id: Uuid) -> Result<Vec<SessionRecord>, StoreError>;
    /// Removes one of the user's sessions by its public id; false if none matched.
    async fn remove_by_public_id(&self, user_id: Uuid, public_id: Uuid) -> Result<bool, StoreError>;
    /// Ends every session of the user except `keep` (a token hash), if given.
    async fn remove_all_for_user(&self, user_id: Uuid, keep: Option<&str>) -> Result<u64, StoreError>;
    async fn remove_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Every session held, expired or not, in no particular order: for moving
    /// sessions to another store (`roster sessions migrate`), not for requests.
    async fn all(&self) -> Result<Vec<SessionRecord>, StoreError>;
    /// How many unexpired sessions there are, where the store can count them
    /// cheaply (the database store); `None` elsewhere. For `/metrics`.
    async fn count_live(&self, _now: DateTime<Utc>) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }
    /// Cheap reachability check for readiness probes.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// A store that fails is an internal error, one that cannot be reached a temporary
/// one (503 with Retry-After); either way the log line names where.
impl From<StoreError> for crate::error::AppError {
    #[track_caller]
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unreachable(_) => {
                let at = std::panic::Location::caller();
                tracing::warn!(error = %err, at = %at, "session store unreachable");
                crate::error::AppError::Unavailable
            }
            StoreError::Failed(_) => crate::error::AppError::internal(err),
        }
    }
}
