use sea_orm_migration::{prelude::*, schema::*};

/// What administrators decide about accounts beyond their role and flag:
/// - `users.approval_pending`: registered where `ROSTER_REGISTRATION=approval` and
///   not yet approved (such an account can sign in only to be told so);
/// - `users.role_expires_at` and `users.role_after_expiry`: a role granted until a
///   time, and the role the account returns to then;
/// - `invitations`: single-use links that let one address register (only the
///   SHA-256 of each link's secret is stored);
/// - `audit_events_action_at_idx`: the dashboard's sign-ins per hour read one
///   action's events over a time range.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    ApprovalPending,
    RoleExpiresAt,
    RoleAfterExpiry,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    Email,
    Role,
    TokenHash,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
    AcceptedBy,
    RevokedAt,
    SentByMail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one change at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(boolean(Users::ApprovalPending).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Users::RoleExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(string_len_null(Users::RoleAfterExpiry, 16))
                    .to_owned(),
            )
            .await?;
        // The sweep that ends expired grants reads only rows that have one.
        manager
            .create_index(
                Index::create()
                    .name("users_role_expires_at_idx")
                    .table(Users::Table)
                    .col(Users::RoleExpiresAt)
                    .to_owned(),
            )
            .await?;
        // The dashboard's sign-ins per hour: one action's events over a time range.
        manager
            .get_connection()
            .execute_unprepared("CREATE INDEX audit_events_action_at_idx ON audit_events (action, at)")
            .await?;
        // The approval queue.
        manager
            .create_index(
                Index::create()
                    .name("users_approval_pending_idx")
                    .table(Users::Table)
                    .col(Users::ApprovalPending)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .col(uuid(Invitations::Id).primary_key())
                    .col(string(Invitations::Email))
                    .col(string_len(Invitations::Role, 16))
                    .col(string_len(Invitations::TokenHash, 64))
                    .col(uuid_null(Invitations::CreatedBy))
                    .col(timestamp_with_time_zone(Invitations::CreatedAt))
                    .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                    .col(uuid_null(Invitations::AcceptedBy))
                    .col(timestamp_with_time_zone_null(Invitations::RevokedAt))
                    // Mailed links prove the address they went to; a copied one does not.
                    .col(boolean(Invitations::SentByMail).default(false))
                    // The inviter may be deleted later; the invitation's history stays.
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitations::Table, Invitations::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitations::Table, Invitations::AcceptedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("invitations_token_hash_key")
                    .table(Invitations::Table)
                    .col(Invitations::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("invitations_created_at_idx")
                    .table(Invitations::Table)
                    .col(Invitations::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Invitations::Table).to_owned())
            .await?;
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX audit_events_action_at_idx")
            .await?;
        for index in ["users_approval_pending_idx", "users_role_expires_at_idx"] {
            manager
                .drop_index(Index::drop().name(index).table(Users::Table).to_owned())
                .await?;
        }
        for column in [Users::RoleAfterExpiry, Users::RoleExpiresAt, Users::ApprovalPending] {
            manager
                .alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
