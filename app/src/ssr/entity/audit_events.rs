use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub actor_email: Option<String>,
    pub target_id: Option<Uuid>,
    pub target_email: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn to_event(&self) -> crate::model::AuditEvent {
        crate::model::AuditEvent {
            id: self.id,
            at: self.at,
            action: self.action.clone(),
            actor_id: self.actor_id,
            actor_email: self.actor_email.clone(),
            target_id: self.target_id,
            target_email: self.target_email.clone(),
            ip: self.ip.clone(),
            detail: self.detail.clone(),
        }
    }
}
