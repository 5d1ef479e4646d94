use sea_orm::entity::prelude::*;

/// One SHA-1 hash from a breach corpus, and how often it appeared there.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "breached_passwords")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sha1: String,
    pub occurrences: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
