//! Re-authentication: sensitive changes (setting up or removing a second factor, new
//! recovery codes, resetting another's factors, changing anyone's role) need proof
//! from the last `ROSTER_REAUTH_WINDOW` (10 minutes by default) that the person at
//! the keyboard holds the account, not only its session. Signing in is such a proof
//! (the session's start counts); so is typing the password or a code again
//! (`SecondFactors::reauthenticate`, which records it here). Changing one's password
//! or email, and deleting one's account, ask for the current password in the request
//! itself: a proof made that very moment.
//!
//! The proof's time lives in the database (`session_proofs`), by the session token's
//! hash, so every server process sees it whatever the session store.

use crate::error::AppError;
use crate::ssr::caller::Caller;
use crate::ssr::entity::session_proofs::{self, Column, Entity};
use crate::ssr::sessions::{SessionService, SessionToken};
use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Deciding whether a proof is recent is the session's business
/// (`SessionService::require_recent_proof`, which signing sessions out uses too);
/// this records proofs and asks it.
#[derive(Clone)]
pub struct Reauth {
    db: DatabaseConnection,
    sessions: SessionService,
}

impl Reauth {
    pub fn new(db: DatabaseConnection, sessions: SessionService) -> Self {
        Self { db, sessions }
    }

    pub fn window(&self) -> Duration {
        self.sessions.policy().reauth_window
    }

    /// Whether the caller proved who they are within the window.
    pub async fn is_fresh(&self, caller: &Caller) -> Result<bool, AppError> {
        self.sessions.is_recently_proven(caller).await
    }

    /// `ReauthenticationRequired` unless the caller proved who they are within the window.
    pub async fn require(&self, caller: &Caller) -> Result<(), AppError> {
        self.sessions.require_recent_proof(caller).await
    }

    /// Notes a proof just made with this session; returns until when it counts.
    pub async fn record(&self, token: &SessionToken, user_id: Uuid) -> Result<DateTime<Utc>, AppError> {
        let now = Utc::now();
        let row = session_proofs::ActiveModel {
            token_hash: Set(token.hash()),
            user_id: Set(user_id),
            proven_at: Set(now),
        };
        Entity::insert(row)
            .on_conflict(
                OnConflict::column(Column::TokenHash)
                    .update_columns([Column::ProvenAt, Column::UserId])
                    .to_owned(),
            )
            .exec_without_returning(&self.db)
            .await?;
        Ok(now + self.window())
    }
}

/// Forgets proofs older than `window`: they no longer count. Run with the session sweep.
pub async fn sweep<C: ConnectionTrait>(db: &C, now: DateTime<Utc>, window: Duration) -> Result<u64, AppError> {
    Ok(Entity::delete_many()
        .filter(Column::ProvenAt.lt(now - window))
        .exec(db)
        .await?
        .rows_affected)
}
