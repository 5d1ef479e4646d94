use sea_orm_migration::{prelude::*, schema::*};

/// Passwords known from data breaches, imported by the operator
/// (`roster breached-passwords import`) for deployments that may not ask a range
/// service over the network. Only SHA-1 hashes are kept, never a password, so the
/// table says nothing a published breach corpus does not.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BreachedPasswords {
    Table,
    Sha1,
    Occurrences,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BreachedPasswords::Table)
                    // 40 upper-case hex digits, as the breach corpora publish them.
                    .col(string_len(BreachedPasswords::Sha1, 40).primary_key())
                    .col(big_integer(BreachedPasswords::Occurrences).default(1))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BreachedPasswords::Table).to_owned())
            .await
    }
}
