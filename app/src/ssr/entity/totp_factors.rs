use sea_orm::entity::prelude::*;

/// An account's authenticator app (`ssr::second_factor` has the logic). Until its
/// first code is confirmed it is only being set up and does not guard sign-in.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "totp_factors")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// The shared secret, sealed by `ssr::secret_box` (never stored in the clear).
    pub secret_encrypted: String,
    pub confirmed_at: Option<DateTimeUtc>,
    /// The time step of the last code accepted: a code is accepted once.
    pub last_used_step: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
