use sea_orm::entity::prelude::*;

/// A passkey of an account (`ssr::second_factor::passkeys` has the logic).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// The credential's id, base64url: unique across accounts.
    pub credential_id: String,
    /// What its owner calls it ("Laptop", "Phone").
    pub name: String,
    /// The credential as webauthn-rs serialises it: public key, counter, flags.
    pub credential: String,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
