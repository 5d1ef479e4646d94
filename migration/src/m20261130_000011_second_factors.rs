use sea_orm_migration::{prelude::*, schema::*};

/// Second factors: an account's authenticator app (`totp_factors`, its secret
/// encrypted with `ROSTER_SECRET_KEY`), its recovery codes (`recovery_codes`, SHA-256
/// of each), the sign-ins waiting for their second step (`pending_sign_ins`, by the
/// SHA-256 of their cookie), and when each session last proved who holds it
/// (`session_proofs`, by the SHA-256 of the session token).
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TotpFactors {
    Table,
    UserId,
    SecretEncrypted,
    ConfirmedAt,
    LastUsedStep,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PendingSignIns {
    Table,
    TokenHash,
    UserId,
    Remember,
    Method,
    Attempts,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum SessionProofs {
    Table,
    TokenHash,
    UserId,
    ProvenAt,
}

fn owned_by_user(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TotpFactors::Table)
                    .col(uuid(TotpFactors::UserId).primary_key())
                    .col(string_len(TotpFactors::SecretEncrypted, 256))
                    .col(timestamp_with_time_zone_null(TotpFactors::ConfirmedAt))
                    .col(big_integer_null(TotpFactors::LastUsedStep))
                    .col(timestamp_with_time_zone(TotpFactors::CreatedAt))
                    .foreign_key(&mut owned_by_user(TotpFactors::Table, TotpFactors::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(uuid(RecoveryCodes::Id).primary_key())
                    .col(uuid(RecoveryCodes::UserId))
                    .col(string_len(RecoveryCodes::CodeHash, 64))
                    .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                    .col(timestamp_with_time_zone(RecoveryCodes::CreatedAt))
                    .foreign_key(&mut owned_by_user(RecoveryCodes::Table, RecoveryCodes::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("recovery_codes_user_hash_idx")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::UserId)
                    .col(RecoveryCodes::CodeHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PendingSignIns::Table)
                    .col(string_len(PendingSignIns::TokenHash, 64).primary_key())
                    .col(uuid(PendingSignIns::UserId))
                    .col(boolean(PendingSignIns::Remember))
                    .col(string_len(PendingSignIns::Method, 32))
                    .col(integer(PendingSignIns::Attempts).default(0))
                    .col(timestamp_with_time_zone(PendingSignIns::CreatedAt))
                    .col(timestamp_with_time_zone(PendingSignIns::ExpiresAt))
                    .foreign_key(&mut owned_by_user(PendingSignIns::Table, PendingSignIns::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("pending_sign_ins_expires_idx")
                    .table(PendingSignIns::Table)
                    .col(PendingSignIns::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SessionProofs::Table)
                    .col(string_len(SessionProofs::TokenHash, 64).primary_key())
                    .col(uuid(SessionProofs::UserId))
                    .col(timestamp_with_time_zone(SessionProofs::ProvenAt))
                    .foreign_key(&mut owned_by_user(SessionProofs::Table, SessionProofs::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("session_proofs_proven_idx")
                    .table(SessionProofs::Table)
                    .col(SessionProofs::ProvenAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SessionProofs::Table.into_iden(),
            PendingSignIns::Table.into_iden(),
            RecoveryCodes::Table.into_iden(),
            TotpFactors::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
