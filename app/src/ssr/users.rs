//! User management: listing, creating, reading, updating and deleting accounts,
//! and a user's own sessions. Every operation asks the policy first; the REST API
//! and the server functions both call these methods.

use crate::error::AppError;
use crate::model::AuditAction;
use crate::model::{Role, SessionInfo, User, UserPage, UserQuery};
use crate::policy::{Action, Actor, Target, authorize};
use crate::ssr::audit::AuditLog;
use crate::ssr::auth::ClientMeta;
use crate::ssr::entity::users;
use crate::ssr::keyset::{Keyset, contains_any};
use crate::ssr::password::PasswordHasher;
use crate::ssr::principal_cache::PrincipalCache;
use crate::ssr::session::{SessionStore, SessionToken};
use crate::validation::{CreateUserInput, Email, Password, UpdateUserInput, UserName};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use std::sync::Arc;
use uuid::Uuid;

#[derive(Clone)]
pub struct UserService {
    db: DatabaseConnection,
    sessions: Arc<dyn SessionStore>,
    hasher: PasswordHasher,
    audit: AuditLog,
    principals: PrincipalCache,
}

const LISTING: Keyset = Keyset {
    cursor_prefix: "u1.",
    default_page_size: 20,
};

fn db_err(err: sea_orm::DbErr) -> AppError {
    AppError::internal(err)
}

impl UserService {
    pub fn new(
        db: DatabaseConnection,
        sessions: Arc<dyn SessionStore>,
        hasher: PasswordHasher,
        audit: AuditLog,
        principals: PrincipalCache,
    ) -> Self {
        Self {
            db,
            sessions,
            hasher,
            audit,
            principals,
        }
    }

    pub async fn list(&self, actor: Actor, query: &UserQuery) -> Result<UserPage, AppError> {
        authorize(actor, Action::ListUsers, Target::Collection)?;
        let size = LISTING.page_size(query.limit)?;
        let role = match query.role.as_deref().filter(|r| !r.is_empty()) {
            None => None,
            Some(raw) => {
                Some(Role::parse(raw).ok_or_else(|| AppError::invalid_field("role", "Role must be user or admin."))?)
            }
        };
        let after = LISTING.after(query.cursor.as_deref())?;
        let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        let rows = match search {
            Some(q) if self.db.get_database_backend() == DatabaseBackend::Sqlite && q.chars().count() >= 3 => {
                self.search_sqlite(q, role, query.disabled, after, size).await?
            }
            _ => {
                let mut select = users::Entity::find();
                if let Some(search) = contains_any(search, &[users::Column::Email, users::Column::Name]) {
                    select = select.filter(search);
                }
                if let Some(role) = role {
                    select = select.filter(users::Column::Role.eq(role.as_str()));
                }
                if let Some(disabled) = query.disabled {
                    select = select.filter(users::Column::Disabled.eq(disabled));
                }
                if let Some(after) = after {
                    select = select.filter(users::Column::Id.lt(after));
                }
                // Newest first by UUIDv7 id: unique and time-ordered, so the order is stable
                // and rows inserted while paging land before page one, never inside a page.
                select
                    .order_by_desc(users::Column::Id)
                    .limit(size as u64 + 1)
                    .all(&self.db)
                    .await
                    .map_err(db_err)?
            }
        };
        let (rows, next_cursor) = LISTING.finish(rows, size, |row| row.id);
        Ok(UserPage {
            items: rows.iter().map(users::Model::to_user).collect(),
            next_cursor,
        })
    }

    pub async fn create(&self, actor: Actor, input: &CreateUserInput, client: &ClientMeta) -> Result<User, AppError> {
        authorize(actor, Action::CreateUser, Target::Collection)?;
        let valid = input.validate().map_err(AppError::validation)?;
        if users::find_by_email(&self.db, valid.email.as_str())
            .await
            .map_err(db_err)?
            .is_some()
        {
            return Err(AppError::EmailTaken);
        }
        let hash = self.hasher.hash(&valid.password).await?;
        let row = users::insert_new(
            &self.db,
            valid.name.into_inner(),
            valid.email.into_inner(),
            hash,
            valid.role,
        )
        .await?;
        let user = row.to_user();
        let detail = Some(format!("role {}", user.role.as_str()));
        self.audit
            .record(
                AuditAction::UserCreated,
                actor.id(),
                Some((user.id, &user.email)),
                client,
                detail,
            )
            .await;
        Ok(user)
    }

    async fn find(&self, id: Uuid) -> Result<users::Model, AppError> {
        users::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .map_err(db_err)?
            .ok_or(AppError::NotFound)
    }

    /// Authorization comes before existence, so a user cannot probe for other ids.
    pub async fn get(&self, actor: Actor, id: Uuid) -> Result<User, AppError> {
        authorize(actor, Action::ReadUser, Target::of(actor, id))?;
        if let Some(user) = self.principals.account(id) {
            return Ok((*user).clone());
        }
        let seen = self.principals.generation();
        let user = self.find(id).await?.to_user();
        self.principals.put_account(user.clone(), seen);
        Ok(user)
    }

    /// Applies the fields present in `input`. `current` is the caller's own session,
    /// kept when a change would otherwise sign them out everywhere.
    pub async fn update(
        &self,
        actor: Actor,
        id: Uuid,
        input: &UpdateUserInput,
        current: Option<&SessionToken>,
        client: &ClientMeta,
    ) -> Result<User, AppError> {
        let target = Target::of(actor, id);
        let valid = input.validate().map_err(AppError::validation)?;
        let mut actions = Vec::new();
        if valid.name.is_some() || valid.email.is_some() {
            actions.push(Action::UpdateProfile);
        }
        if valid.password.is_some() {
            actions.push(Action::ChangePassword);
        }
        if valid.role.is_some() {
            actions.push(Action::ChangeRole);
        }
        if valid.disabled.is_some() {
            actions.push(Action::ChangeDisabled);
        }
        if actions.is_empty() {
            actions.push(Action::ReadUser);
        }
        for action in actions {
            authorize(actor, action, target)?;
        }
        let existing = self.find(id).await?;

        let new_hash = match &valid.password {
            None => None,
            Some(password) => {
                if target == Target::Myself {
                    let current_password = valid.current_password.as_ref().ok_or_else(|| {
                        AppError::invalid_field("current_password", "Enter your current password to change it.")
                    })?;
                    self.require_password(&existing, current_password, "current_password")
                        .await?;
                }
                Some(self.hasher.hash(password).await?)
            }
        };
        if let Some(email) = &valid.email
            && !email.as_str().eq_ignore_ascii_case(&existing.email)
            && users::find_by_email(&self.db, email.as_str())
                .await
                .map_err(db_err)?
                .is_some()
        {
            return Err(AppError::EmailTaken);
        }

        let was_active_admin = existing.role() == Role::Admin && !existing.disabled;
        let role_changed = valid.role.is_some_and(|r| r != existing.role());
        let disabling = valid.disabled == Some(true) && !existing.disabled;
        let txn = self.db.begin().await.map_err(db_err)?;
        if was_active_admin {
            lock_admins(&txn).await?;
        }
        let mut row = existing.clone().into_active_model();
        if let Some(name) = valid.name {
            row.name = Set(name.into_inner());
        }
        if let Some(email) = valid.email {
            row.email = Set(email.into_inner());
        }
        if let Some(hash) = new_hash.clone() {
            row.password_hash = Set(hash);
        }
        if let Some(role) = valid.role {
            row.role = Set(role.as_str().to_owned());
        }
        if let Some(disabled) = valid.disabled {
            row.disabled = Set(disabled);
        }
        row.updated_at = Set(Utc::now());
        let updated = match row.update(&txn).await {
            Ok(updated) => updated,
            Err(err) if matches!(err.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => {
                return Err(AppError::EmailTaken);
            }
            Err(err) => return Err(db_err(err)),
        };
        if was_active_admin && users::count_active_admins(&txn).await.map_err(db_err)? == 0 {
            txn.rollback().await.map_err(db_err)?;
            return Err(AppError::LastAdmin);
        }
        txn.commit().await.map_err(db_err)?;

        // Credentials or privileges changed: other sessions must not keep the old ones.
        let keep = (target == Target::Myself)
            .then(|| current.map(SessionToken::hash))
            .flatten();
        if disabling {
            self.sessions.remove_all_for_user(id, None).await?;
        } else if new_hash.is_some() || role_changed {
            self.sessions.remove_all_for_user(id, keep.as_deref()).await?;
        }
        // After every store change, so no lookup can cache the old account again.
        self.principals.forget_user(id).await;
        let user = updated.to_user();
        let who = Some((user.id, user.email.as_str()));
        if user.name != existing.name || user.email != existing.email {
            let detail = (user.email != existing.email).then(|| format!("email was {}", existing.email));
            self.audit
                .record(AuditAction::ProfileUpdated, actor.id(), who, client, detail)
                .await;
        }
        if new_hash.is_some() {
            self.audit
                .record(AuditAction::PasswordChanged, actor.id(), who, client, None)
                .await;
        }
        if role_changed {
            let detail = Some(format!("{} → {}", existing.role().as_str(), user.role.as_str()));
            self.audit
                .record(AuditAction::RoleChanged, actor.id(), who, client, detail)
                .await;
        }
        if user.disabled != existing.disabled {
            let action = if user.disabled {
                AuditAction::UserDisabled
            } else {
                AuditAction::UserEnabled
            };
            self.audit.record(action, actor.id(), who, client, None).await;
        }
        Ok(user)
    }

    /// Search on SQLite through the trigram index (migration `user_search`): the
    /// accounts whose email or name contains `q` (3 characters or more), newest
    /// first: search keys shrink with insertion, so that is ascending key order.
    async fn search_sqlite(
        &self,
        q: &str,
        role: Option<Role>,
        disabled: Option<bool>,
        after: Option<Uuid>,
        size: usize,
    ) -> Result<Vec<users::Model>, AppError> {
        // One FTS5 phrase: the text as typed, quotes doubled, no query syntax.
        let phrase = format!("\"{}\"", q.replace('"', "\"\""));
        let mut sql = String::from(
            "SELECT u.* FROM users_search \
             JOIN users_search_keys k ON k.key = users_search.rowid \
             JOIN users u ON u.id = k.user_id \
             WHERE users_search MATCH ?",
        );
        let mut values: Vec<sea_orm::Value> = vec![phrase.into()];
        if let Some(role) = role {
            sql.push_str(" AND u.role = ?");
            values.push(role.as_str().into());
        }
        if let Some(disabled) = disabled {
            sql.push_str(" AND u.disabled = ?");
            values.push(disabled.into());
        }
        if let Some(after) = after {
            // A cursor whose account was deleted meanwhile ends the listing.
            sql.push_str(" AND users_search.rowid > (SELECT key FROM users_search_keys WHERE user_id = ?)");
            values.push(after.into());
        }
        sql.push_str(" ORDER BY users_search.rowid LIMIT ?");
        values.push((size as i64 + 1).into());
        users::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(DatabaseBackend::Sqlite, sql, values))
            .all(&self.db)
            .await
            .map_err(db_err)
    }

    /// Deleting one's own account needs the password; an admin deleting another does not.
    pub async fn delete(
        &self,
        actor: Actor,
        id: Uuid,
        password: Option<&str>,
        client: &ClientMeta,
    ) -> Result<(), AppError> {
        let target = Target::of(actor, id);
        authorize(actor, Action::DeleteUser, target)?;
        let existing = self.find(id).await?;
        if target == Target::Myself {
            let password = password
                .filter(|p| !p.is_empty())
                .ok_or_else(|| AppError::invalid_field("password", "Enter your password to delete your account."))
                .and_then(|p| Password::parse_existing(p).map_err(|e| AppError::invalid_field("password", e)))?;
            self.require_password(&existing, &password, "password").await?;
        }
        let was_active_admin = existing.role() == Role::Admin && !existing.disabled;
        let txn = self.db.begin().await.map_err(db_err)?;
        if was_active_admin {
            lock_admins(&txn).await?;
        }
        users::Entity::delete_by_id(id).exec(&txn).await.map_err(db_err)?;
        if was_active_admin && users::count_active_admins(&txn).await.map_err(db_err)? == 0 {
            txn.rollback().await.map_err(db_err)?;
            return Err(AppError::LastAdmin);
        }
        txn.commit().await.map_err(db_err)?;
        // The database store cascades; other stores are told explicitly.
        self.sessions.remove_all_for_user(id, None).await?;
        self.principals.forget_user(id).await;
        let who = Some((existing.id, existing.email.as_str()));
        self.audit
            .record(
                AuditAction::UserDeleted,
                actor.id().filter(|a| *a != id),
                who,
                client,
                None,
            )
            .await;
        Ok(())
    }

    async fn require_password(&self, user: &users::Model, password: &Password, field: &str) -> Result<(), AppError> {
        if self.hasher.verify(password, Some(&user.password_hash)).await? {
            Ok(())
        } else {
            Err(AppError::invalid_field(field, "This password is not correct."))
        }
    }

    /// Creates an administrator, or promotes (and re-enables) an existing account;
    /// either way the password given becomes the account's password. For the CLI.
    pub async fn create_or_promote_admin(
        &self,
        email: &str,
        name: &str,
        password: &str,
    ) -> Result<(User, bool), AppError> {
        let email = Email::parse(email).map_err(|e| AppError::invalid_field("email", e))?;
        let name = UserName::parse(name).map_err(|e| AppError::invalid_field("name", e))?;
        let password = Password::parse_new(password).map_err(|e| AppError::invalid_field("password", e))?;
        let hash = self.hasher.hash(&password).await?;
        if let Some(existing) = users::find_by_email(&self.db, email.as_str()).await.map_err(db_err)? {
            let mut row = existing.into_active_model();
            row.role = Set(Role::Admin.as_str().to_owned());
            row.disabled = Set(false);
            row.password_hash = Set(hash);
            row.updated_at = Set(Utc::now());
            let updated = row.update(&self.db).await.map_err(db_err)?;
            self.principals.forget_user(updated.id).await;
            let user = updated.to_user();
            let detail = Some("promoted to admin from the command line".to_owned());
            let who = Some((user.id, user.email.as_str()));
            self.audit
                .record(AuditAction::RoleChanged, None, who, &ClientMeta::default(), detail)
                .await;
            return Ok((user, false));
        }
        let created = users::insert_new(&self.db, name.into_inner(), email.into_inner(), hash, Role::Admin).await?;
        let user = created.to_user();
        let detail = Some("admin created from the command line".to_owned());
        let who = Some((user.id, user.email.as_str()));
        self.audit
            .record(AuditAction::UserCreated, None, who, &ClientMeta::default(), detail)
            .await;
        Ok((user, true))
    }

    /// The signed-in user's sessions, the current one marked.
    pub async fn my_sessions(
        &self,
        actor: Actor,
        current: Option<&SessionToken>,
    ) -> Result<Vec<SessionInfo>, AppError> {
        let me = actor.id().ok_or(AppError::Unauthenticated)?;
        let current_hash = current.map(SessionToken::hash);
        let now = Utc::now();
        Ok(self
            .sessions
            .list_for_user(me)
            .await?
            .into_iter()
            .filter(|s| s.expires_at > now)
            .map(|s| SessionInfo {
                current: current_hash.as_deref() == Some(s.token_hash.as_str()),
                id: s.public_id,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
                user_agent: s.user_agent,
                ip: s.ip,
            })
            .collect())
    }

    pub async fn revoke_session(&self, actor: Actor, session_id: Uuid, client: &ClientMeta) -> Result<(), AppError> {
        let me = actor.id().ok_or(AppError::Unauthenticated)?;
        let removed = self.sessions.remove_by_public_id(me, session_id).await?;
        // The cache knows sessions by token, not public id: forget the account's.
        self.principals.forget_user(me).await;
        if !removed {
            return Err(AppError::NotFound);
        }
        let detail = Some(format!("session {session_id}"));
        self.audit
            .record(AuditAction::SessionsRevoked, Some(me), None, client, detail)
            .await;
        Ok(())
    }

    /// "Sign out everywhere else": every session but the caller's.
    pub async fn revoke_other_sessions(
        &self,
        actor: Actor,
        current: Option<&SessionToken>,
        client: &ClientMeta,
    ) -> Result<u64, AppError> {
        let me = actor.id().ok_or(AppError::Unauthenticated)?;
        let keep = current.map(SessionToken::hash);
        let removed = self.sessions.remove_all_for_user(me, keep.as_deref()).await?;
        self.principals.forget_user(me).await;
        let detail = Some(format!("{removed} other session(s)"));
        self.audit
            .record(AuditAction::SessionsRevoked, Some(me), None, client, detail)
            .await;
        Ok(removed)
    }
}

/// PostgreSQL: serialize concurrent changes to administrators, so two admins
/// demoting each other at once cannot leave none. (SQLite already serializes
/// writers, and the count after the write sees the other's committed change.)
async fn lock_admins<C: ConnectionTrait>(db: &C) -> Result<(), AppError> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        let sql = "SELECT id FROM users WHERE role = 'admin' AND disabled = false FOR UPDATE";
        db.query_all_raw(Statement::from_string(DatabaseBackend::Postgres, sql))
            .await
            .map_err(db_err)?;
    }
    Ok(())
}
