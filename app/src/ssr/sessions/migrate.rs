//! Moving sessions from one store to another (`roster sessions migrate`), so an
//! operator can change `ROSTER_SESSION_STORE` without signing anyone out.

use super::SessionPolicy;
use super::store::{SessionStore, StoreError};
use chrono::{DateTime, Utc};

/// What a move did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    /// Live sessions now in the target store, and no longer in the source.
    pub moved: u64,
    /// Expired sessions dropped from the source instead of moved.
    pub dropped: u64,
}

/// Moves every live session of `from` into `to`, then removes it from `from`, one
/// session at a time: each is written to the target before it leaves the source, so
/// a move cut short leaves every session in at least one store and running it again
/// finishes it (a copy already in the target is replaced). Sessions are removed from
/// the source, not kept there, so that switching back later cannot bring back a
/// session that was signed out in the meantime. Expired sessions are dropped.
pub async fn move_sessions(
    from: &dyn SessionStore,
    to: &dyn SessionStore,
    policy: SessionPolicy,
    now: DateTime<Utc>,
) -> Result<Moved, StoreError> {
    let mut done = Moved::default();
    for record in from.all().await? {
        let hash = record.token_hash.clone();
        if policy.is_live(&record, now) {
            to.insert(record).await?;
            done.moved += 1;
        } else {
            done.dropped += 1;
        }
        from.remove(&hash).await?;
    }
    Ok(done)
}
