//! Sessions in Redis (`ROSTER_SESSION_STORE=redis`), for deployments that want
//! session reads off the database.
//!
//! Keys, all under the configured prefix (`ROSTER_REDIS_PREFIX`, so several apps
//! can share one Redis):
//!   `<prefix>session:<token hash>`  a hash: the record's fields, timestamps in
//!                                   microseconds since the epoch
//!   `<prefix>user:<user id>`        a set of the user's token hashes
//!
//! A session key expires (`PEXPIREAT`) at the earlier of its absolute and idle
//! deadlines, moved on every touch, so Redis itself forgets ended sessions; a user's
//! set lives as long as its longest session. Set members whose session has expired
//! are dropped when the set is read, and by the sweep. Every write that touches two
//! keys is one Lua script, so no reader sees half of it.
//!
//! The client is redis-rs's `ConnectionManager`: one multiplexed connection per
//! process that reconnects by itself, with short timeouts so an outage fails
//! requests quickly instead of holding them.

use super::store::{SessionRecord, SessionStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use std::collections::HashMap;
use std::sync::LazyLock;
use uuid::Uuid;

#[derive(Clone)]
pub struct RedisSessionStore {
    connection: ConnectionManager,
    prefix: String,
    idle_timeout: Duration,
}

/// How long one Redis command may take before the request fails.
const RESPONSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Writes the session's fields, sets its expiry, adds it to the user's set and
/// extends the set's life to the session's if that is longer.
/// KEYS: session, user set. ARGV: token hash, session deadline (ms), absolute
/// expiry (ms), then field/value pairs.
static INSERT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local fields = {}
        for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], unpack(fields))
        redis.call('PEXPIREAT', KEYS[1], ARGV[2])
        redis.call('SADD', KEYS[2], ARGV[1])
        local until_ms = redis.call('PEXPIRETIME', KEYS[2])
        if until_ms < tonumber(ARGV[3]) then
            redis.call('PEXPIREAT', KEYS[2], ARGV[3])
        end
        return 1
        ",
    )
});

/// Moves "last seen" and the idle deadline of a session that still exists.
/// KEYS: session. ARGV: last seen (µs), idle timeout (µs).
static TOUCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local expires = redis.call('HGET', KEYS[1], 'expires_at')
        if not expires then return 0 end
        redis.call('HSET', KEYS[1], 'last_seen_at', ARGV[1])
        local deadline = math.min(tonumber(expires), tonumber(ARGV[1]) + tonumber(ARGV[2]))
        redis.call('PEXPIREAT', KEYS[1], math.floor(deadline / 1000))
        return 1
        ",
    )
});

/// Removes a session and its entry in its user's set; 1 if it existed.
/// KEYS: session. ARGV: the user-set key prefix, token hash.
static REMOVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local user = redis.call('HGET', KEYS[1], 'user_id')
        if not user then return 0 end
        redis.call('DEL', KEYS[1])
        redis.call('SREM', ARGV[1] .. user, ARGV[2])
        return 1
        ",
    )
});

impl RedisSessionStore {
    /// Connects to `url` (`redis://` or `rediss://`, with the database number and
    /// password in it). Sessions idle for `idle_timeout` expire in Redis too.
    pub async fn connect(url: &str, prefix: &str, idle_timeout: Duration) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| StoreError::Failed(format!("REDIS_URL: {e}")))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(RESPONSE_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(std::time::Duration::from_secs(1));
        let connection = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(redis_error)?;
        Ok(Self {
            connection,
            prefix: prefix.to_owned(),
            idle_timeout,
        })
    }

    fn session_key(&self, token_hash: &str) -> String {
        format!("{}session:{token_hash}", self.prefix)
    }

    fn user_prefix(&self) -> String {
        format!("{}user:", self.prefix)
    }

    fn user_key(&self, user_id: Uuid) -> String {
        format!("{}{user_id}", self.user_prefix())
    }

    /// The store's connection (shared by clones), also used to publish cache
    /// invalidations.
    pub fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    async fn remove_hash(&self, token_hash: &str) -> Result<bool, StoreError> {
        let removed: i64 = REMOVE
            .key(self.session_key(token_hash))
            .arg(self.user_prefix())
            .arg(token_hash)
            .invoke_async(&mut self.connection())
            .await
            .map_err(redis_error)?;
        Ok(removed == 1)
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn insert(&self, r: SessionRecord) -> Result<(), StoreError> {
        let deadline = r.expires_at.min(r.last_seen_at + self.idle_timeout);
        let mut script = INSERT.key(self.session_key(&r.token_hash));
        script
            .key(self.user_key(r.user_id))
            .arg(&r.token_hash)
            .arg(deadline.timestamp_millis())
            .arg(r.expires_at.timestamp_millis());
        for (field, value) in fields(&r) {
            script.arg(field).arg(value);
        }
        let _: i64 = script.invoke_async(&mut self.connection()).await.map_err(redis_error)?;
        Ok(())
    }

    async fn get(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let fields: HashMap<String, String> = self
            .connection()
            .hgetall(self.session_key(token_hash))
            .await
            .map_err(redis_error)?;
        parse(token_hash, &fields)
    }

    async fn touch(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let _: i64 = TOUCH
            .key(self.session_key(token_hash))
            .arg(at.timestamp_micros())
            .arg(self.idle_timeout.num_microseconds().unwrap_or(i64::MAX))
            .invoke_async(&mut self.connection())
            .await
            .map_err(redis_error)?;
        Ok(())
    }

    async fn remove(&self, token_hash: &str) -> Result<(), StoreError> {
        self.remove_hash(token_hash).await.map(|_| ())
    }

    async fn list_for_user(&self, user_id: Uuid) -> Result<Vec<SessionRecord>, StoreError> {
        let user_key = self.user_key(user_id);
        let hashes: Vec<String> = self.connection().smembers(&user_key).await.map_err(redis_error)?;
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for hash in &hashes {
            pipe.hgetall(self.session_key(hash));
        }
        let all: Vec<HashMap<String, String>> = pipe.query_async(&mut self.connection()).await.map_err(redis_error)?;
        let mut sessions = Vec::new();
        let mut expired = Vec::new();
        for (hash, fields) in hashes.iter().zip(all) {
            match parse(hash, &fields)? {
                Some(record) => sessions.push(record),
                None => expired.push(hash.clone()),
            }
        }
        if !expired.is_empty() {
            let _: i64 = self.connection().srem(&user_key, expired).await.map_err(redis_error)?;
        }
        sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        Ok(sessions)
    }

    async fn remove_by_public_id(&self, user_id: Uuid, public_id: Uuid) -> Result<bool, StoreError> {
        match self
            .list_for_user(user_id)
            .await?
            .into_iter()
            .find(|r| r.public_id == public_id)
        {
            Some(record) => self.remove_hash(&record.token_hash).await,
            None => Ok(false),
        }
    }

    async fn remove_all_for_user(&self, user_id: Uuid, keep: Option<&str>) -> Result<u64, StoreError> {
        let hashes: Vec<String> = self
            .connection()
            .smembers(self.user_key(user_id))
            .await
            .map_err(redis_error)?;
        let mut removed = 0;
        for hash in hashes.iter().filter(|h| Some(h.as_str()) != keep) {
            if self.remove_hash(hash).await? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Redis expires sessions by itself, so none is left to remove here: this
    /// drops set members whose session Redis has already forgotten. Returns 0.
    async fn remove_expired(&self, _now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut connection = self.connection();
        let pattern = format!("{}*", self.user_prefix());
        let mut user_keys = Vec::new();
        {
            let mut iter: redis::AsyncIter<String> = connection.scan_match(&pattern).await.map_err(redis_error)?;
            while let Some(key) = iter.next_item().await {
                user_keys.push(key.map_err(redis_error)?);
            }
        }
        for user_key in user_keys {
            let hashes: Vec<String> = connection.smembers(&user_key).await.map_err(redis_error)?;
            let mut pipe = redis::pipe();
            for hash in &hashes {
                pipe.exists(self.session_key(hash));
            }
            let exists: Vec<bool> = pipe.query_async(&mut connection).await.map_err(redis_error)?;
            let gone: Vec<&String> = hashes.iter().zip(exists).filter(|(_, e)| !e).map(|(h, _)| h).collect();
            if !gone.is_empty() {
                let _: i64 = connection.srem(&user_key, gone).await.map_err(redis_error)?;
            }
        }
        Ok(0)
    }

    async fn all(&self) -> Result<Vec<SessionRecord>, StoreError> {
        let mut connection = self.connection();
        let key_prefix = self.session_key("");
        let mut hashes = Vec::new();
        {
            let pattern = format!("{key_prefix}*");
            let mut iter: redis::AsyncIter<String> = connection.scan_match(&pattern).await.map_err(redis_error)?;
            while let Some(key) = iter.next_item().await {
                let key = key.map_err(redis_error)?;
                hashes.push(key[key_prefix.len()..].to_owned());
            }
        }
        let mut sessions = Vec::with_capacity(hashes.len());
        // Read in batches: one round trip per thousand sessions.
        for batch in hashes.chunks(1000) {
            let mut pipe = redis::pipe();
            for hash in batch {
                pipe.hgetall(self.session_key(hash));
            }
            let all_fields: Vec<HashMap<String, String>> =
                pipe.query_async(&mut connection).await.map_err(redis_error)?;
            for (hash, fields) in batch.iter().zip(all_fields) {
                // Expired between the scan and the read: gone, not an error.
                if let Some(record) = parse(hash, &fields)? {
                    sessions.push(record);
                }
            }
        }
        Ok(sessions)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let _: String = redis::cmd("PING")
            .query_async(&mut self.connection())
            .await
            .map_err(redis_error)?;
        Ok(())
    }
}

/// Connection trouble is "unreachable" (503, nothing changed); anything Redis
/// itself answered with is a failure.
fn redis_error(err: redis::RedisError) -> StoreError {
    let unreachable = err.is_io_error()
        || err.is_timeout()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_unrecoverable_error();
    if unreachable {
        StoreError::Unreachable(format!("redis: {err}"))
    } else {
        StoreError::Failed(format!("redis: {err}"))
    }
}

/// The record as hash fields (absent optional fields are not written).
fn fields(r: &SessionRecord) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("public_id", r.public_id.to_string()),
        ("user_id", r.user_id.to_string()),
        ("created_at", r.created_at.timestamp_micros().to_string()),
        ("last_seen_at", r.last_seen_at.timestamp_micros().to_string()),
        ("expires_at", r.expires_at.timestamp_micros().to_string()),
    ];
    if let Some(ua) = &r.user_agent {
        fields.push(("user_agent", ua.clone()));
    }
    if let Some(ip) = &r.ip {
        fields.push(("ip", ip.clone()));
    }
    if let Some(admin) = r.impersonator_id {
        fields.push(("impersonator_id", admin.to_string()));
    }
    fields
}

/// The record from its hash fields; `None` for an absent (or expired) key.
fn parse(token_hash: &str, fields: &HashMap<String, String>) -> Result<Option<SessionRecord>, StoreError> {
    if fields.is_empty() {
        return Ok(None);
    }
    let bad = |what: &str| StoreError::Failed(format!("redis: session {token_hash} has a bad {what}"));
    let uuid = |name: &str| {
        fields
            .get(name)
            .and_then(|v| Uuid::parse_str(v).ok())
            .ok_or_else(|| bad(name))
    };
    let time = |name: &str| {
        fields
            .get(name)
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(DateTime::from_timestamp_micros)
            .ok_or_else(|| bad(name))
    };
    Ok(Some(SessionRecord {
        token_hash: token_hash.to_owned(),
        public_id: uuid("public_id")?,
        user_id: uuid("user_id")?,
        created_at: time("created_at")?,
        last_seen_at: time("last_seen_at")?,
        expires_at: time("expires_at")?,
        user_agent: fields.get("user_agent").cloned(),
        ip: fields.get("ip").cloned(),
        impersonator_id: match fields.get("impersonator_id") {
            Some(raw) => Some(Uuid::parse_str(raw).map_err(|_| bad("impersonator_id"))?),
            None => None,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_survives_its_hash_fields() {
        let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).unwrap();
        let record = SessionRecord {
            token_hash: "ab".repeat(32),
            public_id: Uuid::new_v4(),
            user_id: Uuid::now_v7(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + Duration::days(14),
            user_agent: None,
            ip: Some("2001:db8::1".into()),
            impersonator_id: Some(Uuid::now_v7()),
        };
        let map: HashMap<String, String> = fields(&record).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        assert_eq!(parse(&record.token_hash, &map).unwrap(), Some(record));
        assert_eq!(parse("x", &HashMap::new()).unwrap(), None);
    }

    /// Each kind of connection trouble on its own is "unreachable" (503, retry):
    /// an I/O error of no particular kind, and an error after which the client must
    /// reconnect without any I/O error (a wrong password). What Redis itself answered
    /// is a failure.
    #[test]
    fn connection_trouble_is_unreachable_and_an_answer_is_a_failure() {
        use redis::{ErrorKind, RedisError};
        use std::io;
        let unreachable = [
            RedisError::from(io::Error::other("broken")),
            RedisError::from(io::Error::new(io::ErrorKind::ConnectionRefused, "refused")),
            RedisError::from(io::Error::new(io::ErrorKind::TimedOut, "slow")),
            RedisError::from((ErrorKind::AuthenticationFailed, "wrong password")),
        ];
        for err in unreachable {
            let described = err.to_string();
            assert!(matches!(redis_error(err), StoreError::Unreachable(_)), "{described}");
        }
        let answered = RedisError::from((ErrorKind::UnexpectedReturnType, "not a hash"));
        assert!(matches!(redis_error(answered), StoreError::Failed(_)));
    }
}
