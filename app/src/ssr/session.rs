//! Sessions: opaque tokens for the cookie, and the store that keeps only their
//! hashes. The store is a trait so the database store can be swapped for a
//! directory or Redis store by configuration without touching the service layer.

use crate::ssr::entity::sessions;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// 256 random bits, hex-encoded for the cookie. Never stored or logged.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

impl SessionToken {
    pub const BYTES: usize = 32;

    pub fn generate() -> Self {
        let mut bytes = [0u8; Self::BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    /// Accepts only the shape `generate` produces, so junk cookies cost no lookup.
    pub fn from_cookie(value: &str) -> Option<Self> {
        (value.len() == Self::BYTES * 2 && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(value.to_ascii_lowercase()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the store keys sessions by. A plain SHA-256 suffices: the token has
    /// 256 bits of entropy, so there is nothing to brute-force.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

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
}

#[derive(Debug, thiserror::Error)]
#[error("session store: {0}")]
pub struct StoreError(pub String);

impl From<DbErr> for StoreError {
    fn from(err: DbErr) -> Self {
        Self(err.to_string())
    }
}

#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
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
    /// Cheap reachability check for readiness probes.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Sessions in the application database (the `sessions` table).
#[derive(Clone)]
pub struct DbSessionStore {
    db: DatabaseConnection,
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

impl From<sessions::Model> for SessionRecord {
    fn from(m: sessions::Model) -> Self {
        Self {
            token_hash: m.id,
            public_id: m.public_id.unwrap_or_default(),
            user_id: m.user_id,
            created_at: m.created_at,
            last_seen_at: m.last_seen_at,
            expires_at: m.expires_at,
            user_agent: m.user_agent,
            ip: m.ip,
        }
    }
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn insert(&self, r: SessionRecord) -> Result<(), StoreError> {
        let row = sessions::ActiveModel {
            id: Set(r.token_hash),
            user_id: Set(r.user_id),
            created_at: Set(r.created_at),
            last_seen_at: Set(r.last_seen_at),
            expires_at: Set(r.expires_at),
            user_agent: Set(r.user_agent),
            ip: Set(r.ip),
            public_id: Set(Some(r.public_id)),
        };
        sessions::Entity::insert(row).exec_without_returning(&self.db).await?;
        Ok(())
    }

    async fn get(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        Ok(sessions::Entity::find_by_id(token_hash.to_owned())
            .one(&self.db)
            .await?
            .map(Into::into))
    }

    async fn touch(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        sessions::Entity::update_many()
            .col_expr(sessions::Column::LastSeenAt, sea_orm::sea_query::Expr::value(at))
            .filter(sessions::Column::Id.eq(token_hash))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    async fn remove(&self, token_hash: &str) -> Result<(), StoreError> {
        sessions::Entity::delete_by_id(token_hash.to_owned())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    async fn list_for_user(&self, user_id: Uuid) -> Result<Vec<SessionRecord>, StoreError> {
        use sea_orm::QueryOrder;
        let rows = sessions::Entity::find()
            .filter(sessions::Column::UserId.eq(user_id))
            .order_by_desc(sessions::Column::CreatedAt)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn remove_by_public_id(&self, user_id: Uuid, public_id: Uuid) -> Result<bool, StoreError> {
        let res = sessions::Entity::delete_many()
            .filter(sessions::Column::UserId.eq(user_id))
            .filter(sessions::Column::PublicId.eq(public_id))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected > 0)
    }

    async fn remove_all_for_user(&self, user_id: Uuid, keep: Option<&str>) -> Result<u64, StoreError> {
        let mut query = sessions::Entity::delete_many().filter(sessions::Column::UserId.eq(user_id));
        if let Some(keep) = keep {
            query = query.filter(sessions::Column::Id.ne(keep));
        }
        Ok(query.exec(&self.db).await?.rows_affected)
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let res = sessions::Entity::delete_many()
            .filter(sessions::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?;
        Ok(res.rows_affected)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_256_random_bits_and_differ() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a, b);
    }

    #[test]
    fn the_stored_hash_is_not_the_token() {
        let t = SessionToken::generate();
        assert_ne!(t.hash(), t.expose());
        assert_eq!(t.hash(), t.hash(), "deterministic, so it can be looked up");
        assert_eq!(t.hash().len(), 64);
    }

    #[test]
    fn only_well_formed_cookie_values_parse() {
        let t = SessionToken::generate();
        assert_eq!(SessionToken::from_cookie(t.expose()), Some(t.clone()));
        assert!(SessionToken::from_cookie("short").is_none());
        assert!(SessionToken::from_cookie(&"z".repeat(64)).is_none());
        assert!(!format!("{t:?}").contains(t.expose()));
    }
}
