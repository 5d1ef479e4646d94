//! Invitations to register: an administrator names an address (and the role it
//! gets); a link carrying a 256-bit secret lets exactly that address register, once,
//! until it expires or is withdrawn. Only the secret's SHA-256 is stored. The link is
//! mailed when a mail server is configured; otherwise the administrator is shown it
//! once, to pass on.

use crate::error::AppError;
use crate::model::{AuditAction, Invitation, InvitationCreated, InvitationPage, InvitationPreview, Role};
use crate::policy::{Action as Permission, Target, authorize};
use crate::ssr::audit::AuditLog;
use crate::ssr::caller::Caller;
use crate::ssr::email_tokens::LinkSecret;
use crate::ssr::entity::{invitations, users};
use crate::ssr::keyset::Keyset;
use crate::ssr::mail::{Action, Mail, MailSettings, outbox};
use crate::validation::InvitationInput;
use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// Where an invitation link leads; `?invitation=` carries the secret.
pub const LINK_PATH: &str = crate::paths::REGISTER;

const LISTING: Keyset = Keyset {
    cursor_prefix: "i1.",
    default_page_size: 50,
};

#[derive(Clone)]
pub struct Invitations {
    db: DatabaseConnection,
    mail: MailSettings,
    audit: AuditLog,
    /// A mail server is configured (`ROSTER_SMTP_URL`): links go by mail and are
    /// not shown to the administrator.
    mails_links: bool,
}

impl Invitations {
    pub fn new(db: DatabaseConnection, mail: MailSettings, audit: AuditLog, mails_links: bool) -> Self {
        Self {
            db,
            mail,
            audit,
            mails_links,
        }
    }

    /// Invites an address. An open invitation for the same address is withdrawn:
    /// only the newest link works.
    pub async fn create(&self, caller: &Caller, input: &InvitationInput) -> Result<InvitationCreated, AppError> {
        authorize(caller.actor, Permission::ManageInvitations, Target::Collection)?;
        let valid = input.validate().map_err(AppError::validation)?;
        users::ensure_email_free(&self.db, valid.email.as_str()).await?;
        let secret = LinkSecret::generate();
        let now = Utc::now();
        let row = invitations::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(valid.email.as_str().to_owned()),
            role: Set(valid.role.as_str().to_owned()),
            token_hash: Set(secret.hash()),
            created_by: Set(caller.actor.id()),
            created_at: Set(now),
            expires_at: Set(now + Duration::days(i64::from(valid.days))),
            accepted_at: Set(None),
            accepted_by: Set(None),
            revoked_at: Set(None),
            sent_by_mail: Set(self.mails_links),
        };
        let link = self.mail.link(&format!("{LINK_PATH}?invitation={}", secret.expose()));
        let txn = crate::ssr::db::begin_write(&self.db).await?;
        revoke_open_for(&txn, valid.email.as_str(), now).await?;
        let created = invitations::Entity::insert(row).exec_with_returning(&txn).await?;
        if self.mails_links {
            outbox::enqueue(&txn, &self.compose(&created, &link, valid.days)?).await?;
        }
        txn.commit().await?;
        let detail = Some(format!(
            "for {}, role {}, for {} days, {}",
            valid.email.as_str(),
            valid.role.as_str(),
            valid.days,
            if self.mails_links {
                "mailed"
            } else {
                "link shown to the administrator"
            }
        ));
        self.audit
            .record(
                AuditAction::InvitationCreated,
                caller.actor.id(),
                None,
                &caller.client,
                detail,
            )
            .await;
        Ok(InvitationCreated {
            invitation: to_invitation(&created, now),
            link: (!self.mails_links).then_some(link),
        })
    }

    fn compose(&self, invitation: &invitations::Model, link: &str, days: u32) -> Result<Mail, AppError> {
        let product = &self.mail.product;
        let mut content = self.mail.content(format!("You are invited to {product}"), "Hello,");
        content.paragraphs = vec![format!(
            "You are invited to make an account at {product} with this address, {}.",
            invitation.email
        )];
        content.action = Some(Action {
            label: "Make my account".into(),
            url: link.to_owned(),
        });
        content.after = vec![
            format!("The link works once, for {days} days, and only for this address."),
            format!("If you did not expect an invitation to {product}, ignore this mail."),
        ];
        Mail::compose("invitation", &invitation.email, &content)
    }

    /// Newest first, every state.
    pub async fn list(
        &self,
        caller: &Caller,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<InvitationPage, AppError> {
        authorize(caller.actor, Permission::ManageInvitations, Target::Collection)?;
        let size = LISTING.page_size(limit)?;
        let mut query = invitations::Entity::find()
            .order_by_desc(invitations::Column::Id)
            .limit(size as u64 + 1);
        if let Some(after) = LISTING.after(cursor)? {
            query = query.filter(invitations::Column::Id.lt(after));
        }
        let rows = query.all(&self.db).await?;
        let (rows, next_cursor) = LISTING.finish(rows, size, |row| row.id);
        let now = Utc::now();
        Ok(InvitationPage {
            items: rows.iter().map(|row| to_invitation(row, now)).collect(),
            next_cursor,
        })
    }

    /// Withdraws an invitation that was not used yet; its link stops working.
    pub async fn revoke(&self, caller: &Caller, id: Uuid) -> Result<Invitation, AppError> {
        authorize(caller.actor, Permission::ManageInvitations, Target::Collection)?;
        let now = Utc::now();
        // One guarded UPDATE decides, so a registration using the link at this moment
        // either wins (and this is a conflict) or finds it withdrawn.
        let withdrawn = invitations::Entity::update_many()
            .col_expr(invitations::Column::RevokedAt, Expr::value(now))
            .filter(invitations::Column::Id.eq(id))
            .filter(invitations::Column::AcceptedAt.is_null())
            .filter(invitations::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?
            .rows_affected
            == 1;
        let row = invitations::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound)?;
        if row.accepted_at.is_some() {
            return Err(AppError::conflict(
                "This invitation was used already: the account exists.",
            ));
        }
        if withdrawn {
            self.audit
                .record(
                    AuditAction::InvitationRevoked,
                    caller.actor.id(),
                    None,
                    &caller.client,
                    Some(format!("for {}", row.email)),
                )
                .await;
        }
        Ok(to_invitation(&row, now))
    }

    /// What an invitation link is for, if it still works (the registration page
    /// shows the address). Any other link is `InvitationInvalid`.
    pub async fn preview(&self, raw: &str) -> Result<InvitationPreview, AppError> {
        let row = self.find_usable(&self.db, raw, Utc::now()).await?;
        Ok(InvitationPreview {
            email: row.email.clone(),
            role: Role::parse(&row.role).unwrap_or(Role::User),
            expires_at: row.expires_at,
        })
    }

    /// Uses the invitation for the account `user_id`, inside the transaction that
    /// creates it. One UPDATE decides: two registrations racing with one link
    /// cannot both succeed.
    pub async fn accept<C: ConnectionTrait>(
        &self,
        txn: &C,
        row: &invitations::Model,
        user_id: Uuid,
    ) -> Result<(), AppError> {
        let now = Utc::now();
        let result = invitations::Entity::update_many()
            .col_expr(invitations::Column::AcceptedAt, Expr::value(now))
            .col_expr(invitations::Column::AcceptedBy, Expr::value(user_id))
            .filter(invitations::Column::Id.eq(row.id))
            .filter(invitations::Column::AcceptedAt.is_null())
            .filter(invitations::Column::RevokedAt.is_null())
            .filter(invitations::Column::ExpiresAt.gt(now))
            .exec(txn)
            .await?;
        match result.rows_affected {
            1 => Ok(()),
            _ => Err(AppError::InvitationInvalid),
        }
    }

    /// The invitation a link names, if it can still be used.
    pub async fn find_usable<C: ConnectionTrait>(
        &self,
        db: &C,
        raw: &str,
        now: DateTime<Utc>,
    ) -> Result<invitations::Model, AppError> {
        let secret = LinkSecret::parse(raw).ok_or(AppError::InvitationInvalid)?;
        let row = invitations::Entity::find()
            .filter(invitations::Column::TokenHash.eq(secret.hash()))
            .one(db)
            .await?
            .ok_or(AppError::InvitationInvalid)?;
        match row.state(now) {
            crate::model::InvitationState::Pending => Ok(row),
            _ => Err(AppError::InvitationInvalid),
        }
    }
}

/// Withdraws the open invitations for an address (a newer one replaces them).
async fn revoke_open_for<C: ConnectionTrait>(db: &C, email: &str, now: DateTime<Utc>) -> Result<(), AppError> {
    use sea_orm::sea_query::{ExprTrait, Func};
    invitations::Entity::update_many()
        .col_expr(invitations::Column::RevokedAt, Expr::value(now))
        .filter(ExprTrait::eq(
            Expr::expr(Func::lower(Expr::col(invitations::Column::Email))),
            email.to_lowercase(),
        ))
        .filter(invitations::Column::AcceptedAt.is_null())
        .filter(invitations::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

fn to_invitation(row: &invitations::Model, now: DateTime<Utc>) -> Invitation {
    Invitation {
        id: row.id,
        email: row.email.clone(),
        role: Role::parse(&row.role).unwrap_or(Role::User),
        state: row.state(now),
        created_at: row.created_at,
        expires_at: row.expires_at,
        created_by: row.created_by,
        accepted_at: row.accepted_at,
        accepted_by: row.accepted_by,
        sent_by_mail: row.sent_by_mail,
    }
}
