use sea_orm::entity::prelude::*;

/// When a session last proved who holds it after its sign-in (a password or a code
/// typed again: `ssr::reauth`), by the SHA-256 of its token. Rows older than the
/// re-authentication window say nothing and are pruned.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session_proofs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub user_id: Uuid,
    pub proven_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
