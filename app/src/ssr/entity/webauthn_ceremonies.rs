use sea_orm::entity::prelude::*;

/// The server's half of a WebAuthn ceremony between its two requests: the
/// challenge and what it allows, as webauthn-rs serialises it. Used once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webauthn_ceremonies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The account it is for; none for a usernameless sign-in.
    pub user_id: Option<Uuid>,
    /// `register`, `sign_in`, `second_factor` or `reauthenticate`.
    pub purpose: String,
    pub state: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
