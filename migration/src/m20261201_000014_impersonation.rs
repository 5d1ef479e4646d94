use sea_orm_migration::{prelude::*, schema::*};

/// `sessions.impersonator_id`: the administrator viewing the site as the session's
/// user ("view as"), for a session started that way; null for everyone's own.
/// No foreign key: such a session lives 30 minutes, and its administrator is
/// re-checked on every request that is not answered from the cache.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    ImpersonatorId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(uuid_null(Sessions::ImpersonatorId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::ImpersonatorId)
                    .to_owned(),
            )
            .await
    }
}
