use sea_orm_migration::{prelude::*, schema::*};

/// Adds the `disabled` flag to users and a public id to sessions (so a session can
/// be named in the UI and API without exposing its token hash).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Disabled,
    Role,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    PublicId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(boolean(Users::Disabled).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("users_role_idx")
                    .table(Users::Table)
                    .col(Users::Role)
                    .to_owned(),
            )
            .await?;
        // Existing sessions (if any) are signed out: simpler and safer than
        // back-filling ids in SQL that differs per database.
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM sessions")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .add_column(uuid_null(Sessions::PublicId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sessions_public_id_key")
                    .table(Sessions::Table)
                    .col(Sessions::PublicId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("sessions_public_id_key")
                    .table(Sessions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sessions::Table)
                    .drop_column(Sessions::PublicId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name("users_role_idx").table(Users::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::Disabled)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
