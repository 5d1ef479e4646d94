use sea_orm_migration::{prelude::*, schema::*};

/// Passkeys (WebAuthn credentials) and the ceremonies in flight. A passkey row keeps
/// the credential as webauthn-rs serialises it (a public key and a counter: nothing
/// secret) and its id, unique across accounts. A ceremony row keeps the server's half
/// of a registration or assertion between its two requests, for 5 minutes, once.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    CredentialId,
    Name,
    Credential,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum WebauthnCeremonies {
    Table,
    Id,
    UserId,
    Purpose,
    State,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .col(uuid(Passkeys::Id).primary_key())
                    .col(uuid(Passkeys::UserId))
                    .col(string_len(Passkeys::CredentialId, 2048).unique_key())
                    .col(string_len(Passkeys::Name, 100))
                    .col(text(Passkeys::Credential))
                    .col(timestamp_with_time_zone(Passkeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(Passkeys::LastUsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Passkeys::Table, Passkeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("passkeys_user_idx")
                    .table(Passkeys::Table)
                    .col(Passkeys::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebauthnCeremonies::Table)
                    .col(uuid(WebauthnCeremonies::Id).primary_key())
                    .col(uuid_null(WebauthnCeremonies::UserId))
                    .col(string_len(WebauthnCeremonies::Purpose, 32))
                    .col(text(WebauthnCeremonies::State))
                    .col(timestamp_with_time_zone(WebauthnCeremonies::CreatedAt))
                    .col(timestamp_with_time_zone(WebauthnCeremonies::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebauthnCeremonies::Table, WebauthnCeremonies::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webauthn_ceremonies_expires_idx")
                    .table(WebauthnCeremonies::Table)
                    .col(WebauthnCeremonies::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebauthnCeremonies::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Passkeys::Table).to_owned())
            .await
    }
}
