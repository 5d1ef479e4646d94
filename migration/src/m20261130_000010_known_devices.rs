use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

/// The browsers each account has signed in from (`known_devices`): a sign-in from
/// one not listed mails the owner a notice. A browser is named by a long-lived
/// random cookie; only its SHA-256 is stored. Also widens `email_tokens.token_hash`
/// so it can hold the argon2 hash of an emailed sign-in code (SQLite does not
/// enforce a text length, so only PostgreSQL needs the change).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum KnownDevices {
    Table,
    Id,
    UserId,
    DeviceHash,
    Ip,
    UserAgent,
    CreatedAt,
    LastSeenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KnownDevices::Table)
                    .col(uuid(KnownDevices::Id).primary_key())
                    .col(uuid(KnownDevices::UserId))
                    .col(string_len(KnownDevices::DeviceHash, 64))
                    .col(string_len_null(KnownDevices::Ip, 64))
                    .col(string_len_null(KnownDevices::UserAgent, 512))
                    .col(timestamp_with_time_zone(KnownDevices::CreatedAt))
                    .col(timestamp_with_time_zone(KnownDevices::LastSeenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(KnownDevices::Table, KnownDevices::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("known_devices_user_device_idx")
                    .table(KnownDevices::Table)
                    .col(KnownDevices::UserId)
                    .col(KnownDevices::DeviceHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("known_devices_last_seen_idx")
                    .table(KnownDevices::Table)
                    .col(KnownDevices::LastSeenAt)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("ALTER TABLE email_tokens ALTER COLUMN token_hash TYPE varchar(128)")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(KnownDevices::Table).to_owned())
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            // Codes are short-lived: drop them rather than fail on a hash too long.
            let db = manager.get_connection();
            db.execute_unprepared("DELETE FROM email_tokens WHERE purpose = 'sign_in_code'")
                .await?;
            db.execute_unprepared("ALTER TABLE email_tokens ALTER COLUMN token_hash TYPE varchar(64)")
                .await?;
        }
        Ok(())
    }
}
