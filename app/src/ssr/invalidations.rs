//! How one server process tells the others which cached sessions and accounts to
//! forget (see `principal_cache`): PostgreSQL `NOTIFY`/`LISTEN` when the database is
//! PostgreSQL, Redis pub/sub when sessions live in Redis. Both carry the same short
//! text messages; neither keeps them, so a process that was not listening may have
//! missed some, and its cache must then answer nothing until it listens again.

use redis::aio::ConnectionManager;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use std::time::Duration;

/// The PostgreSQL NOTIFY channel, and the Redis channel's name after its prefix.
pub const CHANNEL: &str = "roster_principals";

/// How long connecting, subscribing or a heartbeat may take before the
/// subscription counts as lost.
const REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// How often an idle Redis subscription is checked: a connection that died without
/// closing (a network partition, a paused server) is noticed within this plus
/// `REDIS_TIMEOUT`.
const REDIS_HEARTBEAT: Duration = Duration::from_secs(3);

/// Where forgets are published and heard. Cheap to clone.
#[derive(Clone)]
pub enum InvalidationChannel {
    Postgres(DatabaseConnection),
    Redis {
        client: redis::Client,
        /// The session store's connection: publishing needs no connection of its own.
        publisher: ConnectionManager,
        channel: String,
    },
}

impl InvalidationChannel {
    /// NOTIFY on this database, if it is PostgreSQL.
    pub fn postgres(db: &DatabaseConnection) -> Option<Self> {
        (db.get_database_backend() == DatabaseBackend::Postgres).then(|| Self::Postgres(db.clone()))
    }

    /// Pub/sub on the Redis at `url`, on a channel under `prefix` (so several apps
    /// sharing one Redis do not hear each other).
    pub fn redis(url: &str, prefix: &str, publisher: ConnectionManager) -> Result<Self, redis::RedisError> {
        Ok(Self::Redis {
            client: redis::Client::open(url)?,
            publisher,
            channel: format!("{prefix}{CHANNEL}"),
        })
    }

    /// Which transport this is, for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Redis { .. } => "redis",
        }
    }

    pub async fn publish(&self, payload: &str) -> Result<(), String> {
        match self {
            Self::Postgres(db) => {
                let statement = Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [CHANNEL.into(), payload.into()],
                );
                db.execute_raw(statement).await.map(drop).map_err(|e| e.to_string())
            }
            Self::Redis { publisher, channel, .. } => {
                let mut connection = publisher.clone();
                redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(payload)
                    .query_async::<i64>(&mut connection)
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Subscribes once: calls `listening` when the subscription is in place, then
    /// `heard` with every message, and returns when the subscription is lost (or
    /// could not be made), saying why.
    pub async fn listen(&self, listening: impl FnOnce(), heard: impl FnMut(&str)) -> String {
        match self {
            Self::Postgres(db) => listen_postgres(db, listening, heard).await,
            Self::Redis { client, channel, .. } => listen_redis(client, channel, listening, heard).await,
        }
    }
}

async fn listen_postgres(db: &DatabaseConnection, listening: impl FnOnce(), mut heard: impl FnMut(&str)) -> String {
    // Its own connection, outside the request pool: a listener holds its connection
    // for good, and the pool's are for requests.
    let options = (*db.get_postgres_connection_pool().connect_options()).clone();
    let pool = sea_orm::sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options);
    let mut listener = match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
        Ok(listener) => listener,
        Err(err) => return err.to_string(),
    };
    if let Err(err) = listener.listen(CHANNEL).await {
        return err.to_string();
    }
    listening();
    loop {
        match listener.try_recv().await {
            Ok(Some(message)) => heard(message.payload()),
            Ok(None) => return "connection lost".to_owned(),
            Err(err) => return err.to_string(),
        }
    }
}

async fn listen_redis(
    client: &redis::Client,
    channel: &str,
    listening: impl FnOnce(),
    mut heard: impl FnMut(&str),
) -> String {
    use futures_util::StreamExt;
    let pubsub = match tokio::time::timeout(REDIS_TIMEOUT, client.get_async_pubsub()).await {
        Ok(Ok(pubsub)) => pubsub,
        Ok(Err(err)) => return err.to_string(),
        Err(_) => return "timed out connecting".to_owned(),
    };
    let (mut sink, mut messages) = pubsub.split();
    match tokio::time::timeout(REDIS_TIMEOUT, sink.subscribe(channel)).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => return err.to_string(),
        Err(_) => return "timed out subscribing".to_owned(),
    }
    listening();
    let mut heartbeat = tokio::time::interval(REDIS_HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = messages.next() => match message {
                Some(message) => match message.get_payload::<String>() {
                    Ok(payload) => heard(payload.as_str()),
                    // Unreadable: treat it as "forget everything" rather than skip it.
                    Err(_) => heard("*"),
                },
                None => return "connection lost".to_owned(),
            },
            _ = heartbeat.tick() => {
                match tokio::time::timeout(REDIS_TIMEOUT, sink.ping::<redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(err)) => return err.to_string(),
                    Err(_) => return "heartbeat timed out".to_owned(),
                }
            }
        }
    }
}
