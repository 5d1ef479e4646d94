//! Sessions in the application database (the `sessions` table).

use super::store::{SessionRecord, SessionStore, StoreError};
use crate::ssr::entity::sessions;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

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
            impersonator_id: m.impersonator_id,
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
            impersonator_id: Set(r.impersonator_id),
        };
        use sea_orm::sea_query::OnConflict;
        let replace = OnConflict::column(sessions::Column::Id)
            .update_columns([
                sessions::Column::UserId,
                sessions::Column::CreatedAt,
                sessions::Column::LastSeenAt,
                sessions::Column::ExpiresAt,
                sessions::Column::UserAgent,
                sessions::Column::Ip,
                sessions::Column::PublicId,
                sessions::Column::ImpersonatorId,
            ])
            .to_owned();
        sessions::Entity::insert(row)
            .on_conflict(replace)
            .exec_without_returning(&self.db)
            .await?;
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

    async fn count_live(&self, now: DateTime<Utc>) -> Result<Option<u64>, StoreError> {
        use sea_orm::PaginatorTrait;
        let live = sessions::Entity::find()
            .filter(sessions::Column::ExpiresAt.gt(now))
            .count(&self.db)
            .await?;
        Ok(Some(live))
    }

    async fn all(&self) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = sessions::Entity::find().all(&self.db).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await?;
        Ok(())
    }
}
