use sea_orm_migration::{prelude::*, schema::*};

/// Who did what to whom, from where and when. Never a password or a token.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    Action,
    ActorId,
    ActorEmail,
    TargetId,
    TargetEmail,
    Ip,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    // UUIDv7: time-ordered, so the id is also the keyset for paging.
                    .col(uuid(AuditEvents::Id).primary_key())
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .col(string_len(AuditEvents::Action, 32))
                    // No foreign keys: the record outlives the accounts it mentions.
                    .col(uuid_null(AuditEvents::ActorId))
                    .col(string_len_null(AuditEvents::ActorEmail, 254))
                    .col(uuid_null(AuditEvents::TargetId))
                    .col(string_len_null(AuditEvents::TargetEmail, 254))
                    .col(string_len_null(AuditEvents::Ip, 45))
                    .col(string_len_null(AuditEvents::Detail, 255))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("audit_events_action_idx", AuditEvents::Action),
            ("audit_events_actor_idx", AuditEvents::ActorId),
            ("audit_events_target_idx", AuditEvents::TargetId),
        ] {
            manager
                .create_index(Index::create().name(name).table(AuditEvents::Table).col(col).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await
    }
}
