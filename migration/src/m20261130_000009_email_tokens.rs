use sea_orm_migration::{prelude::*, schema::*};

/// Proven addresses and the one-time secrets mail carries. `users.email_verified_at`
/// says when the account's current address was proven (null: not yet, or changed
/// since). `email_tokens` holds the hashes of the links and codes sent by mail
/// (verify an address, reset a password, …): never the secret itself.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    EmailVerifiedAt,
}

#[derive(DeriveIden)]
enum EmailTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    Email,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    Attempts,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Users::EmailVerifiedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EmailTokens::Table)
                    .col(uuid(EmailTokens::Id).primary_key())
                    .col(uuid(EmailTokens::UserId))
                    // `verify_email`, `password_reset`, …
                    .col(string_len(EmailTokens::Purpose, 32))
                    // SHA-256 of the secret, hex: what a link or code is looked up by.
                    .col(string_len(EmailTokens::TokenHash, 64).unique_key())
                    // The address the secret was sent to (for a change of address, the new one).
                    .col(string_len(EmailTokens::Email, 254))
                    .col(timestamp_with_time_zone(EmailTokens::CreatedAt))
                    .col(timestamp_with_time_zone(EmailTokens::ExpiresAt))
                    // Set once, by the one request that uses the secret.
                    .col(timestamp_with_time_zone_null(EmailTokens::UsedAt))
                    // Wrong guesses of a code.
                    .col(integer(EmailTokens::Attempts).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(EmailTokens::Table, EmailTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("email_tokens_user_purpose_idx")
                    .table(EmailTokens::Table)
                    .col(EmailTokens::UserId)
                    .col(EmailTokens::Purpose)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EmailTokens::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::EmailVerifiedAt)
                    .to_owned(),
            )
            .await
    }
}
