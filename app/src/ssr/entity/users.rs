use crate::model::{Role, User};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// As typed by the user; unique case-insensitively (index on `lower(email)`).
    pub email: String,
    pub name: String,
    /// An argon2id PHC string; for an imported account, until its next sign-in, the
    /// hash its old system made (`legacy_hash`). Never leaves the server: `User` has
    /// no such field.
    pub password_hash: String,
    pub role: String,
    /// Disabled accounts cannot sign in; disabling one ends its sessions.
    pub disabled: bool,
    /// When the current address was proven by following a link sent to it; null
    /// until then, and again after the address changes.
    pub email_verified_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Registered where `ROSTER_REGISTRATION=approval`, waiting for an administrator.
    pub approval_pending: bool,
    /// A role granted for a while: when it passes, `role_after_expiry` becomes the role.
    pub role_expires_at: Option<DateTimeUtc>,
    pub role_after_expiry: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::sessions::Entity")]
    Sessions,
}

impl Related<super::sessions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sessions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn role(&self) -> Role {
        match self.role.as_str() {
            "admin" => Role::Admin,
            _ => Role::User,
        }
    }

    /// The public view of this row.
    pub fn to_user(&self) -> User {
        User {
            id: self.id,
            email: self.email.clone(),
            name: self.name.clone(),
            role: self.role(),
            disabled: self.disabled,
            email_verified: self.email_verified_at.is_some(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            approval_pending: self.approval_pending,
            role_expires_at: self.role_expires_at,
        }
    }
}

/// Case-insensitive lookup that matches the `lower(email)` unique index.
pub async fn find_by_email<C: ConnectionTrait>(db: &C, email: &str) -> Result<Option<Model>, DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    let lowered = Expr::expr(Func::lower(Expr::col(Column::Email)));
    Entity::find()
        .filter(ExprTrait::eq(lowered, email.to_lowercase()))
        .one(db)
        .await
}

/// Refuses an email that an account already has, in any case: `EmailTaken`.
pub async fn ensure_email_free<C: ConnectionTrait>(db: &C, email: &str) -> Result<(), crate::error::AppError> {
    match find_by_email(db, email).await? {
        Some(_) => Err(crate::error::AppError::EmailTaken),
        None => Ok(()),
    }
}

/// Inserts a new account. A taken email (in any case) is `EmailTaken`: the unique
/// index on `lower(email)` decides, so two racing registrations cannot both win.
pub async fn insert_new<C: ConnectionTrait>(
    db: &C,
    name: String,
    email: String,
    password_hash: String,
    role: crate::model::Role,
) -> Result<Model, crate::error::AppError> {
    use crate::error::{AppError, UniqueViolation};
    use sea_orm::ActiveValue::Set;
    let now = chrono::Utc::now();
    let row = ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email),
        name: Set(name),
        password_hash: Set(password_hash),
        role: Set(role.as_str().to_owned()),
        disabled: Set(false),
        email_verified_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        approval_pending: Set(false),
        role_expires_at: Set(None),
        role_after_expiry: Set(None),
    };
    Entity::insert(row)
        .exec_with_returning(db)
        .await
        .conflict_on_unique(AppError::EmailTaken)
}

/// Active administrators: the ones who can still administer (an account waiting for
/// approval cannot, whatever its role).
pub async fn count_active_admins<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::Role.eq("admin"))
        .filter(Column::Disabled.eq(false))
        .filter(Column::ApprovalPending.eq(false))
        .count(db)
        .await
}

/// Swaps one password hash for another, only if `old` is still the stored one
/// (a password changed meanwhile is kept). Whether it was swapped.
pub async fn replace_password_hash<C: ConnectionTrait>(db: &C, id: Uuid, old: &str, new: &str) -> Result<bool, DbErr> {
    use sea_orm::sea_query::Expr;
    let result = Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(new))
        .filter(Column::Id.eq(id))
        .filter(Column::PasswordHash.eq(old))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Sets what a registration decided beyond the defaults of `insert_new`: the
/// account waits for approval, and/or its address is proven (an invitation mailed
/// to it was followed).
pub async fn mark_new_account<C: ConnectionTrait>(
    db: &C,
    account: Model,
    approval_pending: bool,
    proven: bool,
) -> Result<Model, DbErr> {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
    let verified_at = proven.then_some(account.created_at);
    let mut row = account.into_active_model();
    row.approval_pending = Set(approval_pending);
    row.email_verified_at = Set(verified_at);
    row.update(db).await
}
