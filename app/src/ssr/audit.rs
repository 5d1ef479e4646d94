//! The audit log: security-relevant events written to `audit_events`, and the
//! admin's view of them. Entries name people and addresses, never passwords or
//! tokens: there is no field that could hold one.

use crate::error::AppError;
use crate::model::{AuditAction, AuditPage, AuditQuery};
use crate::policy::{Action, Target, authorize};
use crate::ssr::caller::{Caller, ClientMeta};
use crate::ssr::entity::{audit_events, users};
use crate::ssr::keyset::{Keyset, contains_any};
use crate::ssr::replica::Reads;
use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

const LISTING: Keyset = Keyset {
    cursor_prefix: "a1.",
    default_page_size: 50,
};

#[derive(Clone)]
pub struct AuditLog {
    db: DatabaseConnection,
    /// The admin's view may come from a replica.
    reads: Reads,
}

impl AuditLog {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            reads: Reads::primary_only(db.clone()),
            db,
        }
    }

    /// Lists read through `reads` (a replica, when there is one).
    pub fn reading_from(self, reads: Reads) -> Self {
        Self { reads, ..self }
    }

    /// Writes one event. A failure is logged, not returned: losing an audit line
    /// must not turn a sign-in into an error page.
    pub async fn record(
        &self,
        action: AuditAction,
        actor_id: Option<Uuid>,
        target: Option<(Uuid, &str)>,
        client: &ClientMeta,
        detail: Option<String>,
    ) {
        let actor_email = match actor_id {
            Some(id) => users::Entity::find_by_id(id)
                .one(&self.db)
                .await
                .ok()
                .flatten()
                .map(|u| u.email),
            None => None,
        };
        let row = audit_events::ActiveModel {
            id: Set(Uuid::now_v7()),
            at: Set(Utc::now()),
            action: Set(action.as_str().to_owned()),
            actor_id: Set(actor_id),
            actor_email: Set(actor_email),
            target_id: Set(target.map(|(id, _)| id)),
            target_email: Set(target.map(|(_, email)| email.chars().take(254).collect())),
            ip: Set(client.ip.clone()),
            detail: Set(detail.map(|d| d.chars().take(255).collect())),
        };
        if let Err(err) = audit_events::Entity::insert(row).exec_without_returning(&self.db).await {
            tracing::warn!(error = %err, action = action.as_str(), "audit event not written");
        }
    }

    /// The caller's own events (what they did or had done to them: sign-ins, changes,
    /// an administrator viewing as them), newest first.
    pub async fn list_own(
        &self,
        caller: &Caller,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> Result<AuditPage, AppError> {
        authorize(caller.actor, Action::ViewOwnActivity, Target::Myself)?;
        let query = AuditQuery {
            user: Some(caller.user_id()?),
            cursor,
            limit,
            ..AuditQuery::default()
        };
        let mut page = self.select(caller, &query).await?;
        // Where an administrator was is theirs to know, not the account's.
        for event in &mut page.items {
            if event.actor_id != query.user {
                event.ip = None;
            }
        }
        Ok(page)
    }

    pub async fn list(&self, caller: &Caller, query: &AuditQuery) -> Result<AuditPage, AppError> {
        authorize(caller.actor, Action::ViewAudit, Target::Collection)?;
        self.select(caller, query).await
    }

    async fn select(&self, caller: &Caller, query: &AuditQuery) -> Result<AuditPage, AppError> {
        let size = LISTING.page_size(query.limit)?;
        let mut select = audit_events::Entity::find();
        if let Some(action) = query.action.as_deref().filter(|a| !a.is_empty()) {
            let action =
                AuditAction::parse(action).ok_or_else(|| AppError::invalid_field("action", "Unknown action."))?;
            select = select.filter(audit_events::Column::Action.eq(action.as_str()));
        }
        let emails = [audit_events::Column::ActorEmail, audit_events::Column::TargetEmail];
        if let Some(search) = contains_any(query.q.as_deref(), &emails) {
            select = select.filter(search);
        }
        if let Some(user) = query.user {
            select = select.filter(
                Condition::any()
                    .add(audit_events::Column::ActorId.eq(user))
                    .add(audit_events::Column::TargetId.eq(user)),
            );
        }
        if let Some(after) = LISTING.after(query.cursor.as_deref())? {
            select = select.filter(audit_events::Column::Id.lt(after));
        }
        let select = select.order_by_desc(audit_events::Column::Id).limit(size as u64 + 1);
        let rows = self
            .reads
            .run(caller, |db| {
                let select = select.clone();
                async move { select.all(&db).await }
            })
            .await?;
        let (rows, next_cursor) = LISTING.finish(rows, size, |row| row.id);
        Ok(AuditPage {
            items: rows.iter().map(audit_events::Model::to_event).collect(),
            next_cursor,
        })
    }
}
