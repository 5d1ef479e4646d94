use sea_orm_migration::{prelude::*, schema::*};

/// Mail waiting to be sent, and what became of it: a transactional outbox. A row is
/// written in the same transaction as the change that causes the mail, so a mail is
/// queued if and only if its change committed; the mail worker sends it later, with
/// retries, from whichever process claims it first.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    Kind,
    Recipient,
    Subject,
    BodyText,
    BodyHtml,
    State,
    Attempts,
    CreatedAt,
    NextAttemptAt,
    LockedUntil,
    Claim,
    SentAt,
    LastError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MailOutbox::Table)
                    // UUIDv7: time-ordered.
                    .col(uuid(MailOutbox::Id).primary_key())
                    // What the mail is for (`verify_email`, `password_reset`, …): metrics and support.
                    .col(string_len(MailOutbox::Kind, 32))
                    .col(string_len(MailOutbox::Recipient, 254))
                    .col(string_len(MailOutbox::Subject, 255))
                    .col(text(MailOutbox::BodyText))
                    .col(text(MailOutbox::BodyHtml))
                    // `queued`, `sent` or `failed` (given up).
                    .col(string_len(MailOutbox::State, 8))
                    .col(integer(MailOutbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                    .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
                    // A worker's claim: no other worker takes the row before this passes.
                    .col(timestamp_with_time_zone_null(MailOutbox::LockedUntil))
                    // Which claim holds the row: a worker finds its rows by it, and only
                    // the holder of the current claim may mark the row sent.
                    .col(uuid_null(MailOutbox::Claim))
                    .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
                    .col(string_len_null(MailOutbox::LastError, 255))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("mail_outbox_due_idx")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::State)
                    .col(MailOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MailOutbox::Table).to_owned())
            .await
    }
}
