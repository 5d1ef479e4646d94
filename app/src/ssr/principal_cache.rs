//! Who a session token belongs to, remembered in memory so an authenticated read
//! costs no database round trip. Only positive answers are remembered, each for at
//! most `ttl`; anything that ends a session or changes an account forgets the
//! affected entries at once, before the change is acknowledged.
//!
//! Other processes: every forget is also published before it returns (PostgreSQL
//! NOTIFY, or Redis pub/sub when sessions live in Redis: `invalidations`), and every
//! server listens and forgets the same entries, so a session revoked through one
//! server stops working on all of them at once. While a server's subscription is
//! down its cache answers nothing (it may have missed a message). On SQLite with the
//! database or directory store, which one server process uses at a time, a change
//! made by another process (the `roster` CLI promoting an account) is seen within
//! `ttl`.

use crate::model::User;
use crate::ssr::invalidations::InvalidationChannel;
use crate::ssr::sessions::SessionRecord;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A session and its account, as read together from the stores.
#[derive(Debug, Clone)]
pub struct Principal {
    pub session: SessionRecord,
    pub user: User,
}

struct Entry {
    principal: Arc<Principal>,
    cached_at: Instant,
}

#[derive(Default)]
struct Maps {
    by_token: HashMap<String, Entry>,
    /// Token hashes per account, so an account change forgets all its sessions.
    by_user: HashMap<Uuid, Vec<String>>,
    /// Accounts read by id (`GET /api/users/:id`), forgotten with their sessions.
    accounts: HashMap<Uuid, (Arc<User>, Instant)>,
}

struct Inner {
    ttl: Duration,
    capacity: usize,
    maps: RwLock<Maps>,
    /// Bumped by every forget: a lookup that started before an invalidation must
    /// not put its (possibly stale) answer back afterwards.
    generation: AtomicU64,
    /// False while invalidations from other processes may be getting lost.
    trusted: AtomicBool,
    /// Whether this process is listening for other processes' forgets right now.
    listening: AtomicBool,
    /// Where forgets are published to other processes, if anywhere.
    broadcast: RwLock<Option<InvalidationChannel>>,
    /// Resolved once: `get` runs on every authenticated request.
    hit_metric: metrics::Counter,
    miss_metric: metrics::Counter,
    /// This cache's own counts (the metrics above are process-wide).
    hits: AtomicU64,
    misses: AtomicU64,
    /// Lookups of sessions the cache did not answer wait here, one lock per stripe of
    /// token hashes: many requests with one token after an expiry or a forget make
    /// one store read between them, not one each (under 10,000 connections that
    /// stampede ran the database pool dry).
    lookups: Box<[tokio::sync::Mutex<()>]>,
}

/// How many lookups of sessions not in the cache may read the stores at once.
const LOOKUP_STRIPES: usize = 64;

/// How often this cache answered a session lookup, and how often it could not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
}

/// Cheap to clone; all clones share one cache. `disabled()` remembers nothing.
#[derive(Clone)]
pub struct PrincipalCache(Option<Arc<Inner>>);

/// Taken before reading the stores, handed back to `put`.
#[derive(Debug, Clone, Copy)]
pub struct Generation(u64);

impl PrincipalCache {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        if ttl.is_zero() || capacity == 0 {
            return Self::disabled();
        }
        Self(Some(Arc::new(Inner {
            ttl,
            capacity,
            maps: RwLock::new(Maps::default()),
            generation: AtomicU64::new(0),
            trusted: AtomicBool::new(true),
            listening: AtomicBool::new(false),
            broadcast: RwLock::new(None),
            hit_metric: metrics::counter!("roster_auth_cache_lookups_total", "outcome" => "hit"),
            miss_metric: metrics::counter!("roster_auth_cache_lookups_total", "outcome" => "miss"),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            lookups: (0..LOOKUP_STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
        })))
    }

    pub fn disabled() -> Self {
        Self(None)
    }

    /// How long an entry may be answered from memory; zero when the cache is off.
    pub fn ttl(&self) -> Duration {
        self.0.as_ref().map_or(Duration::ZERO, |inner| inner.ttl)
    }

    pub fn get(&self, token_hash: &str) -> Option<Arc<Principal>> {
        self.lookup(token_hash, true)
    }

    /// `get` again after waiting in `lock_lookup`: a hit counts, a miss does not
    /// (it was counted the first time).
    pub fn get_after_wait(&self, token_hash: &str) -> Option<Arc<Principal>> {
        self.lookup(token_hash, false)
    }

    fn lookup(&self, token_hash: &str, count_miss: bool) -> Option<Arc<Principal>> {
        let inner = self.0.as_ref()?;
        if !inner.trusted.load(Ordering::Acquire) {
            return None;
        }
        let maps = inner.maps.read().unwrap_or_else(|e| e.into_inner());
        let hit = maps
            .by_token
            .get(token_hash)
            .filter(|e| e.cached_at.elapsed() < inner.ttl)
            .map(|e| e.principal.clone());
        if hit.is_some() {
            inner.hit_metric.increment(1);
            inner.hits.fetch_add(1, Ordering::Relaxed);
        } else if count_miss {
            inner.miss_metric.increment(1);
            inner.misses.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// Session lookups this cache answered, and those it did not (a disabled cache,
    /// or one not listening for other processes' changes, answers none).
    pub fn stats(&self) -> CacheStats {
        self.0.as_ref().map_or_else(CacheStats::default, |inner| CacheStats {
            hits: inner.hits.load(Ordering::Relaxed),
            misses: inner.misses.load(Ordering::Relaxed),
        })
    }

    /// False while changes made by other processes may be going unheard (with an
    /// invalidation channel, before it is subscribed and while it reconnects).
    pub fn is_listening(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|inner| inner.trusted.load(Ordering::Acquire))
    }

    pub fn generation(&self) -> Generation {
        Generation(self.0.as_ref().map_or(0, |i| i.generation.load(Ordering::Acquire)))
    }

    /// Remembers a lookup, unless something was forgotten since `seen` was taken.
    pub fn put(&self, token_hash: &str, principal: Principal, seen: Generation) {
        let Some(inner) = self.0.as_ref() else { return };
        let mut maps = inner.maps.write().unwrap_or_else(|e| e.into_inner());
        // Checked under the write lock: forgets bump the generation under it too.
        if inner.generation.load(Ordering::Acquire) != seen.0 {
            return;
        }
        if maps.by_token.len() >= inner.capacity && !maps.by_token.contains_key(token_hash) {
            evict(&mut maps, inner.ttl, inner.capacity);
        }
        let user_id = principal.user.id;
        let entry = Entry {
            principal: Arc::new(principal),
            cached_at: Instant::now(),
        };
        if maps.by_token.insert(token_hash.to_owned(), entry).is_none() {
            maps.by_user.entry(user_id).or_default().push(token_hash.to_owned());
        }
    }

    /// An account read by id, if remembered and fresh.
    pub fn account(&self, id: Uuid) -> Option<Arc<User>> {
        let inner = self.0.as_ref()?;
        if !inner.trusted.load(Ordering::Acquire) {
            return None;
        }
        let maps = inner.maps.read().unwrap_or_else(|e| e.into_inner());
        maps.accounts
            .get(&id)
            .filter(|(_, at)| at.elapsed() < inner.ttl)
            .map(|(user, _)| user.clone())
    }

    /// Remembers an account read by id, unless something was forgotten since `seen`.
    pub fn put_account(&self, user: User, seen: Generation) {
        let Some(inner) = self.0.as_ref() else { return };
        let mut maps = inner.maps.write().unwrap_or_else(|e| e.into_inner());
        if inner.generation.load(Ordering::Acquire) != seen.0 {
            return;
        }
        if maps.accounts.len() >= inner.capacity {
            let ttl = inner.ttl;
            maps.accounts.retain(|_, (_, at)| at.elapsed() < ttl);
            if maps.accounts.len() >= inner.capacity {
                maps.accounts.clear();
            }
        }
        maps.accounts.insert(user.id, (Arc::new(user), Instant::now()));
    }

    /// Whether this request is the one to write "last seen" for a session the cache
    /// holds: true for the first caller once `interval` has passed since the recorded
    /// value, which becomes `now` at once (without extending the entry's life), so
    /// that concurrent requests do not all write it. True for a session not cached.
    pub fn claim_touch(&self, token_hash: &str, now: DateTime<Utc>, interval: chrono::Duration) -> bool {
        let Some(inner) = self.0.as_ref() else { return true };
        let mut maps = inner.maps.write().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = maps.by_token.get_mut(token_hash) else {
            return true;
        };
        if now - entry.principal.session.last_seen_at < interval {
            return false;
        }
        let mut principal = (*entry.principal).clone();
        principal.session.last_seen_at = now;
        entry.principal = Arc::new(principal);
        true
    }

    /// Held while reading the stores for a session the cache did not answer; check
    /// the cache again once it is held. `None` when the cache is off: with nothing
    /// remembered, waiting would only serialize the reads.
    pub async fn lock_lookup(&self, token_hash: &str) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        let inner = self.0.as_ref()?;
        let stripe = token_hash
            .get(..4)
            .and_then(|prefix| usize::from_str_radix(prefix, 16).ok())
            .unwrap_or(0)
            % inner.lookups.len();
        Some(inner.lookups[stripe].lock().await)
    }

    /// One session ended: forget it here and in every other server process.
    pub async fn forget(&self, token_hash: &str) {
        self.forget_here(token_hash);
        self.publish(format!("s:{token_hash}")).await;
    }

    /// The account changed, or some of its sessions ended: forget all of them, here
    /// and in every other server process.
    pub async fn forget_user(&self, user_id: Uuid) {
        self.forget_user_here(user_id);
        self.publish(format!("u:{user_id}")).await;
    }

    /// Everything, here and in every other server process: for sessions or accounts
    /// changed outside the application (SQL by hand, a restored backup).
    pub async fn forget_all(&self) {
        self.forget_all_here();
        self.publish("*".to_owned()).await;
    }

    fn forget_here(&self, token_hash: &str) {
        self.invalidate(|maps| {
            if let Some(entry) = maps.by_token.remove(token_hash) {
                let user_id = entry.principal.user.id;
                if let Some(tokens) = maps.by_user.get_mut(&user_id) {
                    tokens.retain(|t| t != token_hash);
                    if tokens.is_empty() {
                        maps.by_user.remove(&user_id);
                    }
                }
            }
        });
    }

    fn forget_user_here(&self, user_id: Uuid) {
        self.invalidate(|maps| {
            maps.accounts.remove(&user_id);
            for token in maps.by_user.remove(&user_id).unwrap_or_default() {
                maps.by_token.remove(&token);
            }
        });
    }

    /// When invalidations may have been missed (a lost listener connection).
    fn forget_all_here(&self) {
        self.invalidate(|maps| *maps = Maps::default());
    }

    /// Applies a message another process published.
    fn apply(&self, payload: &str) {
        match payload.split_once(':') {
            Some(("s", hash)) => self.forget_here(hash),
            Some(("u", id)) => match Uuid::try_parse(id) {
                Ok(id) => self.forget_user_here(id),
                Err(_) => self.forget_all_here(),
            },
            _ => self.forget_all_here(),
        }
    }

    async fn publish(&self, payload: String) {
        let Some(inner) = self.0.as_ref() else { return };
        let channel = inner.broadcast.read().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(channel) = channel else { return };
        if let Err(err) = channel.publish(&payload).await {
            // Other servers still drop the entry within the TTL.
            tracing::warn!(error = %err, channel = channel.name(), "could not publish a session invalidation");
        }
    }

    /// Publish this process's forgets to the others through `channel`. Until
    /// `listen_for_invalidations` is subscribed, nothing is answered from memory.
    pub fn publish_via(&self, channel: InvalidationChannel) {
        let Some(inner) = self.0.as_ref() else { return };
        inner.trusted.store(false, Ordering::Release);
        *inner.broadcast.write().unwrap_or_else(|e| e.into_inner()) = Some(channel);
    }

    /// Applies other processes' forgets for as long as the process runs, through
    /// the channel given to `publish_via`; without one it returns at once.
    pub async fn listen_for_invalidations(self) {
        let Some(inner) = self.0.clone() else { return };
        let channel = inner.broadcast.read().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(channel) = channel else { return };
        loop {
            let mut subscribed = false;
            let why = channel
                .listen(
                    || {
                        // Listening from here on; whatever was cached before may be stale.
                        self.forget_all_here();
                        inner.listening.store(true, Ordering::Release);
                        inner.trusted.store(true, Ordering::Release);
                        subscribed = true;
                    },
                    |payload| self.apply(payload),
                )
                .await;
            // Messages may be missed from here until the next subscription.
            inner.trusted.store(false, Ordering::Release);
            inner.listening.store(false, Ordering::Release);
            tracing::warn!(channel = channel.name(), error = %why, "not listening for session invalidations; reconnecting");
            let pause = if subscribed { 200 } else { 1000 };
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }

    pub fn len(&self) -> usize {
        self.0
            .as_ref()
            .map_or(0, |i| i.maps.read().unwrap_or_else(|e| e.into_inner()).by_token.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn invalidate(&self, change: impl FnOnce(&mut Maps)) {
        let Some(inner) = self.0.as_ref() else { return };
        let mut maps = inner.maps.write().unwrap_or_else(|e| e.into_inner());
        inner.generation.fetch_add(1, Ordering::AcqRel);
        change(&mut maps);
    }
}

/// Full: drop what has outlived the TTL; if that is not enough, start over. A
/// cold cache costs one database read per session, never a wrong answer.
fn evict(maps: &mut Maps, ttl: Duration, capacity: usize) {
    maps.by_token.retain(|_, e| e.cached_at.elapsed() < ttl);
    if maps.by_token.len() >= capacity {
        maps.by_token.clear();
    }
    let Maps { by_token, by_user, .. } = maps;
    by_user.retain(|_, tokens| {
        tokens.retain(|t| by_token.contains_key(t));
        !tokens.is_empty()
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;

    fn principal(user_id: Uuid, token: &str) -> Principal {
        let now = Utc::now();
        Principal {
            session: SessionRecord {
                token_hash: token.to_owned(),
                public_id: Uuid::new_v4(),
                user_id,
                created_at: now,
                last_seen_at: now,
                expires_at: now + chrono::Duration::hours(1),
                user_agent: None,
                ip: None,
                impersonator_id: None,
            },
            user: User {
                id: user_id,
                email: "a@example.com".into(),
                name: "A".into(),
                role: Role::User,
                disabled: false,
                email_verified: false,
                created_at: now,
                updated_at: now,
                approval_pending: false,
                role_expires_at: None,
            },
        }
    }

    fn cache() -> PrincipalCache {
        PrincipalCache::new(Duration::from_secs(60), 100)
    }

    #[tokio::test]
    async fn remembers_until_forgotten() {
        let c = cache();
        let user = Uuid::now_v7();
        c.put("t1", principal(user, "t1"), c.generation());
        assert_eq!(c.get("t1").unwrap().user.id, user);
        c.forget("t1").await;
        assert!(c.get("t1").is_none());
    }

    #[tokio::test]
    async fn forgetting_an_account_forgets_all_its_sessions_and_only_them() {
        let c = cache();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        for (user, token) in [(a, "a1"), (a, "a2"), (b, "b1")] {
            c.put(token, principal(user, token), c.generation());
        }
        c.forget_user(a).await;
        assert!(c.get("a1").is_none() && c.get("a2").is_none());
        assert!(c.get("b1").is_some());
        assert_eq!(c.len(), 1);
    }

    #[tokio::test]
    async fn a_lookup_that_raced_an_invalidation_is_not_remembered() {
        let c = cache();
        let user = Uuid::now_v7();
        let before = c.generation();
        // The session is revoked while the lookup is reading the database…
        c.forget_user(user).await;
        // …so the lookup's answer, read before the revocation, must not be cached.
        c.put("t1", principal(user, "t1"), before);
        assert!(c.get("t1").is_none());
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let ttl = Duration::from_millis(300);
        let c = PrincipalCache::new(ttl, 10);
        let put_at = Instant::now();
        c.put("t1", principal(Uuid::now_v7(), "t1"), c.generation());
        assert!(c.get("t1").is_some() || put_at.elapsed() >= ttl, "fresh until the TTL");
        let deadline = put_at + Duration::from_secs(10);
        while c.get("t1").is_some() {
            assert!(Instant::now() < deadline, "never expired");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(put_at.elapsed() >= ttl, "not before the TTL");
    }

    #[test]
    fn lookups_are_counted_per_cache() {
        let c = cache();
        c.put("t1", principal(Uuid::now_v7(), "t1"), c.generation());
        c.get("t1");
        c.get("nope");
        assert_eq!(c.stats(), CacheStats { hits: 1, misses: 1 });
        assert_eq!(PrincipalCache::disabled().stats(), CacheStats::default());
    }

    #[test]
    fn a_lookup_after_waiting_counts_its_hit_but_not_its_miss_again() {
        let c = cache();
        c.get("t1");
        c.get_after_wait("t1");
        assert_eq!(c.stats(), CacheStats { hits: 0, misses: 1 });
        c.put("t1", principal(Uuid::now_v7(), "t1"), c.generation());
        assert!(c.get_after_wait("t1").is_some());
        assert_eq!(c.stats(), CacheStats { hits: 1, misses: 1 });
    }

    #[test]
    fn a_cache_that_may_miss_forgets_answers_nothing() {
        // `publish_via` and a lost subscription mark the cache
        // untrusted until the listener is back; the flag is what `get` obeys.
        let c = cache();
        c.put("t1", principal(Uuid::now_v7(), "t1"), c.generation());
        c.0.as_ref().unwrap().trusted.store(false, Ordering::Release);
        assert!(c.get("t1").is_none(), "nothing from memory while not listening");
        assert!(c.account(Uuid::now_v7()).is_none());
        c.0.as_ref().unwrap().trusted.store(true, Ordering::Release);
        assert!(c.get("t1").is_some());
    }

    #[tokio::test]
    async fn forgetting_one_session_keeps_the_accounts_other_sessions_reachable() {
        let c = cache();
        let user = Uuid::now_v7();
        for token in ["a1", "a2"] {
            c.put(token, principal(user, token), c.generation());
        }
        c.forget("a1").await;
        assert!(c.get("a2").is_some() && !c.is_empty() && c.len() == 1);
        // The account changes later: its remaining session must go with it.
        c.forget_user(user).await;
        assert!(c.get("a2").is_none() && c.is_empty());
    }

    fn accounts_held(c: &PrincipalCache) -> usize {
        c.0.as_ref().unwrap().maps.read().unwrap().accounts.len()
    }

    #[test]
    fn accounts_by_id_are_bounded_too() {
        let c = PrincipalCache::new(Duration::from_secs(60), 3);
        for _ in 0..10 {
            c.put_account(principal(Uuid::now_v7(), "t").user, c.generation());
            assert!(accounts_held(&c) <= 3, "{}", accounts_held(&c));
        }
    }

    #[test]
    fn a_full_account_cache_drops_what_expired_before_what_is_fresh() {
        let ttl = Duration::from_millis(500);
        let c = PrincipalCache::new(ttl, 3);
        let old = [principal(Uuid::now_v7(), "a").user, principal(Uuid::now_v7(), "b").user];
        for user in &old {
            c.put_account(user.clone(), c.generation());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while old.iter().any(|u| c.account(u.id).is_some()) {
            assert!(Instant::now() < deadline, "never expired");
            std::thread::sleep(Duration::from_millis(10));
        }
        let fresh = principal(Uuid::now_v7(), "c").user;
        c.put_account(fresh.clone(), c.generation());
        // Full now (two expired, one fresh): the next one makes room from the expired.
        c.put_account(principal(Uuid::now_v7(), "d").user, c.generation());
        assert!(c.account(fresh.id).is_some(), "the fresh entry survived");
        assert_eq!(accounts_held(&c), 2);
    }

    #[test]
    fn a_full_session_cache_drops_what_expired_and_forgets_empty_accounts() {
        let ttl = Duration::from_millis(500);
        let c = PrincipalCache::new(ttl, 3);
        let (old_user, fresh_user) = (Uuid::now_v7(), Uuid::now_v7());
        for token in ["o1", "o2"] {
            c.put(token, principal(old_user, token), c.generation());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.get("o1").is_some() || c.get("o2").is_some() {
            assert!(Instant::now() < deadline, "never expired");
            std::thread::sleep(Duration::from_millis(10));
        }
        c.put("f1", principal(fresh_user, "f1"), c.generation());
        // Full (two expired, one fresh): the next one makes room from the expired.
        c.put("f2", principal(fresh_user, "f2"), c.generation());
        assert!(c.get("f1").is_some(), "the fresh entry survived");
        assert_eq!(c.len(), 2);
        let maps = c.0.as_ref().unwrap().maps.read().unwrap();
        assert!(
            !maps.by_user.contains_key(&old_user),
            "no account left with no sessions"
        );
    }

    #[test]
    fn a_disabled_cache_remembers_nothing() {
        let c = PrincipalCache::new(Duration::ZERO, 100);
        c.put("t1", principal(Uuid::now_v7(), "t1"), c.generation());
        assert!(c.get("t1").is_none());
    }

    #[test]
    fn messages_from_other_processes_are_applied() {
        let c = cache();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        for (user, token) in [(a, "a1"), (b, "b1"), (b, "b2")] {
            c.put(token, principal(user, token), c.generation());
        }
        c.apply(&format!("u:{a}"));
        assert!(c.get("a1").is_none() && c.get("b1").is_some());
        c.apply("s:b1");
        assert!(c.get("b1").is_none() && c.get("b2").is_some());
        c.apply("garbled");
        assert!(c.is_empty(), "an unreadable message forgets everything");
    }

    #[tokio::test]
    async fn accounts_by_id_are_forgotten_with_the_account() {
        let c = cache();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        c.put_account(principal(a, "a").user, c.generation());
        c.put_account(principal(b, "b").user, c.generation());
        assert_eq!(c.account(a).unwrap().id, a);
        c.forget_user(a).await;
        assert!(c.account(a).is_none() && c.account(b).is_some());
        let before = c.generation();
        c.forget_user(b).await;
        c.put_account(principal(b, "b").user, before);
        assert!(c.account(b).is_none(), "a read that raced the change is not kept");
        c.put_account(principal(b, "b").user, c.generation());
        c.forget_all().await;
        assert!(c.account(b).is_none());
    }

    #[test]
    fn only_the_first_request_after_the_interval_writes_last_seen() {
        let c = cache();
        c.put("t1", principal(Uuid::now_v7(), "t1"), c.generation());
        let interval = chrono::Duration::minutes(1);
        let seen = c.get("t1").unwrap().session.last_seen_at;
        assert!(
            !c.claim_touch("t1", seen + chrono::Duration::seconds(30), interval),
            "not due yet"
        );
        let later = seen + chrono::Duration::minutes(5);
        assert!(c.claim_touch("t1", later, interval));
        assert!(!c.claim_touch("t1", later, interval), "claimed once");
        assert_eq!(c.get("t1").unwrap().session.last_seen_at, later);
        assert!(
            c.claim_touch("nope", later, interval),
            "a session not cached is the caller's to touch"
        );
    }

    #[tokio::test]
    async fn lookups_of_one_token_wait_for_each_other() {
        let c = cache();
        let first = c.lock_lookup("abcd01").await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(50), c.lock_lookup("abcd01")).await;
        assert!(waiting.is_err(), "the same token waits for the lookup in progress");
        drop(first);
        assert!(c.lock_lookup("abcd01").await.is_some());
        assert!(PrincipalCache::disabled().lock_lookup("abcd01").await.is_none());
    }
}
