//! The audit log: security-relevant events written to `audit_events`, and the
//! admin's view of them. Entries name people and addresses, never passwords or
//! tokens: there is no field that could hold one.

use crate::error::AppError;
use crate::model::{AuditAction, AuditPage};
use crate::policy::{Action, Actor, Decision, Target, decide};
use crate::ssr::auth::ClientMeta;
use crate::ssr::entity::{audit_events, users};
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

const CURSOR_PREFIX: &str = "a1.";

#[derive(Clone)]
pub struct AuditLog {
    db: DatabaseConnection,
}

/// Filters for the admin's view.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub action: Option<String>,
    /// Substring of the actor's or the target's email.
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

impl AuditLog {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
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

    pub async fn list(&self, actor: Actor, query: &AuditQuery) -> Result<AuditPage, AppError> {
        match decide(actor, Action::ViewAudit, Target::Collection) {
            Decision::Allow => {}
            Decision::Unauthenticated => return Err(AppError::Unauthenticated),
            Decision::Forbidden => return Err(AppError::Forbidden),
        }
        let limit = match query.limit {
            None => 50,
            Some(n) if (1..=100).contains(&n) => n,
            Some(_) => return Err(AppError::invalid_field("limit", "Limit must be between 1 and 100.")),
        } as usize;
        let mut select = audit_events::Entity::find();
        if let Some(action) = query.action.as_deref().filter(|a| !a.is_empty()) {
            let action =
                AuditAction::parse(action).ok_or_else(|| AppError::invalid_field("action", "Unknown action."))?;
            select = select.filter(audit_events::Column::Action.eq(action.as_str()));
        }
        if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let escaped = q
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            let pattern = format!("%{escaped}%");
            let lower = |col| Expr::expr(Func::lower(Expr::col(col)));
            select = select.filter(
                Condition::any()
                    .add(lower(audit_events::Column::ActorEmail).like(LikeExpr::new(pattern.clone()).escape('\\')))
                    .add(lower(audit_events::Column::TargetEmail).like(LikeExpr::new(pattern).escape('\\'))),
            );
        }
        if let Some(cursor) = query.cursor.as_deref().filter(|c| !c.is_empty()) {
            let id = cursor
                .strip_prefix(CURSOR_PREFIX)
                .and_then(|rest| Uuid::try_parse(rest).ok())
                .ok_or_else(|| AppError::invalid_field("cursor", "This cursor is not valid."))?;
            select = select.filter(audit_events::Column::Id.lt(id));
        }
        let mut rows = select
            .order_by_desc(audit_events::Column::Id)
            .limit(limit as u64 + 1)
            .all(&self.db)
            .await
            .map_err(AppError::internal)?;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| format!("{CURSOR_PREFIX}{}", r.id.simple()))
        } else {
            None
        };
        Ok(AuditPage {
            items: rows.iter().map(audit_events::Model::to_event).collect(),
            next_cursor,
        })
    }
}
