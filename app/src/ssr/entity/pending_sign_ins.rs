use sea_orm::entity::prelude::*;

/// A sign-in whose first step (password or emailed code) checked out, waiting for
/// its second factor; named by the SHA-256 of the pending cookie.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pending_sign_ins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub user_id: Uuid,
    /// "Keep me signed in", as chosen at the first step.
    pub remember: bool,
    /// How the first step was passed (`password`, `emailed_code`), for the audit log.
    pub method: String,
    /// Codes tried so far; the fifth wrong one ends the sign-in.
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
