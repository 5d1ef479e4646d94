//! Any session store, measured: every operation's latency and failures go to
//! `/metrics`, labelled by store and operation, so an operator sees a slow or
//! failing store before users do. The handles are resolved once, at start-up.

use super::store::{SessionRecord, SessionStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use metrics::{Counter, Histogram};
use std::time::Instant;
use uuid::Uuid;

/// `roster_session_store_seconds{store, operation}`: how long each call took.
pub const LATENCY: &str = "roster_session_store_seconds";
/// `roster_session_store_errors_total{store, operation, kind="unreachable"|"failed"}`.
pub const ERRORS: &str = "roster_session_store_errors_total";

const OPERATIONS: [&str; 11] = [
    "insert",
    "get",
    "touch",
    "remove",
    "list_for_user",
    "remove_by_public_id",
    "remove_all_for_user",
    "remove_expired",
    "ping",
    "all",
    "count_live",
];

#[derive(Clone, Copy)]
enum Op {
    Insert,
    Get,
    Touch,
    Remove,
    ListForUser,
    RemoveByPublicId,
    RemoveAllForUser,
    RemoveExpired,
    Ping,
    All,
    CountLive,
}

struct OpMetrics {
    seconds: Histogram,
    unreachable: Counter,
    failed: Counter,
}

pub struct MeteredStore<S> {
    inner: S,
    ops: Vec<OpMetrics>,
}

impl<S: SessionStore> MeteredStore<S> {
    /// `store` names the store in the labels (`database`, `directory`, `redis`).
    pub fn new(store: &'static str, inner: S) -> Self {
        let ops = OPERATIONS
            .iter()
            .map(|&operation| OpMetrics {
                seconds: metrics::histogram!(LATENCY, "store" => store, "operation" => operation),
                unreachable: metrics::counter!(ERRORS, "store" => store, "operation" => operation, "kind" => "unreachable"),
                failed: metrics::counter!(ERRORS, "store" => store, "operation" => operation, "kind" => "failed"),
            })
            .collect();
        Self { inner, ops }
    }

    async fn measure<T>(&self, op: Op, call: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        let metrics = &self.ops[op as usize];
        let started = Instant::now();
        let result = call.await;
        metrics.seconds.record(started.elapsed().as_secs_f64());
        match &result {
            Err(StoreError::Unreachable(_)) => metrics.unreachable.increment(1),
            Err(StoreError::Failed(_)) => metrics.failed.increment(1),
            Ok(_) => {}
        }
        result
    }
}

#[async_trait]
impl<S: SessionStore> SessionStore for MeteredStore<S> {
    async fn insert(&self, record: SessionRecord) -> Result<(), StoreError> {
        self.measure(Op::Insert, self.inner.insert(record)).await
    }

    async fn get(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.measure(Op::Get, self.inner.get(token_hash)).await
    }

    async fn touch(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.measure(Op::Touch, self.inner.touch(token_hash, at)).await
    }

    async fn remove(&self, token_hash: &str) -> Result<(), StoreError> {
        self.measure(Op::Remove, self.inner.remove(token_hash)).await
    }

    async fn list_for_user(&self, user_id: Uuid) -> Result<Vec<SessionRecord>, StoreError> {
        self.measure(Op::ListForUser, self.inner.list_for_user(user_id)).await
    }

    async fn remove_by_public_id(&self, user_id: Uuid, public_id: Uuid) -> Result<bool, StoreError> {
        self.measure(Op::RemoveByPublicId, self.inner.remove_by_public_id(user_id, public_id))
            .await
    }

    async fn remove_all_for_user(&self, user_id: Uuid, keep: Option<&str>) -> Result<u64, StoreError> {
        self.measure(Op::RemoveAllForUser, self.inner.remove_all_for_user(user_id, keep))
            .await
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.measure(Op::RemoveExpired, self.inner.remove_expired(now)).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.measure(Op::Ping, self.inner.ping()).await
    }

    async fn all(&self) -> Result<Vec<SessionRecord>, StoreError> {
        self.measure(Op::All, self.inner.all()).await
    }

    async fn count_live(&self, now: DateTime<Utc>) -> Result<Option<u64>, StoreError> {
        self.measure(Op::CountLive, self.inner.count_live(now)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssr::sessions::directory::DirectorySessionStore;

    /// The wrapper answers what the store answers: a store that cannot count cheaply
    /// says so (`None`, and `/metrics` leaves `roster_active_sessions` out) rather
    /// than a made-up number.
    #[tokio::test]
    async fn counting_passes_through_the_wrapped_store() {
        let root = std::env::temp_dir().join(format!("roster-metered-{}", Uuid::new_v4().simple()));
        let store = MeteredStore::new("directory", DirectorySessionStore::open(&root).unwrap());
        assert_eq!(store.count_live(Utc::now()).await.unwrap(), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
