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
    /// An argon2id PHC string. Never leaves the server: `User` has no such field.
    pub password_hash: String,
    pub role: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Case-insensitive lookup that matches the `lower(email)` unique index.
pub async fn find_by_email<C: ConnectionTrait>(
    db: &C,
    email: &str,
) -> Result<Option<Model>, DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    let lowered = Expr::expr(Func::lower(Expr::col(Column::Email)));
    Entity::find()
        .filter(ExprTrait::eq(lowered, email.to_lowercase()))
        .one(db)
        .await
}
