//! Password hashing: argon2id with OWASP's parameters, run on its own low-priority
//! threads (`hash_pool`) so it never stalls the async runtime or starves other
//! requests, with a semaphore so a flood of sign-ins queues (and is observable as
//! waiting) instead of allocating 19 MiB per attempt without bound.

use crate::error::AppError;
use crate::ssr::breached::BreachedPasswords;
use crate::ssr::hash_pool::HashPool;
use crate::ssr::legacy_hash::StoredHash;
use crate::validation::Password;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    pool: HashPool,
    /// Verified against when the email is unknown, so that path costs one full hash
    /// like a wrong password does, and timing does not reveal which accounts exist.
    dummy_hash: Arc<str>,
    /// Hashes computed so far (new and verified): the cost every sign-in pays,
    /// observable so tests can prove unknown accounts pay it too.
    computed: Arc<std::sync::atomic::AtomicU64>,
    /// Hashes holding a permit right now, and the most there ever were at once.
    in_flight: Arc<InFlight>,
    /// Consulted by `hash_new` before a new password is accepted.
    breaches: BreachedPasswords,
}

#[derive(Default)]
struct InFlight {
    now: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// Checks a password against a stored hash of any format Roster accepts: its own
/// argon2id, or one an imported account brought (`legacy_hash`). A stored value that
/// is no hash at all costs a dummy verification, so it takes as long as a wrong
/// password and reveals nothing.
fn verify_blocking(password: &str, stored: &str, dummy: &str) -> bool {
    match StoredHash::recognize(stored) {
        Ok(hash) => hash.verify(password),
        Err(_) => {
            let _ = StoredHash::Argon2(dummy.to_owned()).verify(password);
            false
        }
    }
}

/// Whether a stored hash should be replaced by a fresh argon2id one at the next
/// sign-in: every imported format, and argon2 with other parameters than today's.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let param = |name: &str| parsed.params.get_decimal(name);
    parsed.algorithm.as_str() != "argon2id"
        || param("m") != Some(MEMORY_KIB)
        || param("t") != Some(ITERATIONS)
        || param("p") != Some(PARALLELISM)
}

impl PasswordHasher {
    /// `max_concurrent` bounds memory: each hash holds ~19 MiB while it runs.
    pub fn new(max_concurrent: usize) -> Self {
        let dummy_hash = hash_blocking("roster-dummy-password-never-matches").expect("hashing a constant succeeds");
        Self {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            pool: HashPool::new(max_concurrent.max(1)),
            dummy_hash: dummy_hash.into(),
            computed: Arc::default(),
            in_flight: Arc::default(),
            breaches: BreachedPasswords::off(),
        }
    }

    /// New passwords are also checked against breach corpora (`breached`).
    pub fn checking_breaches(mut self, breaches: BreachedPasswords) -> Self {
        self.breaches = breaches;
        self
    }

    /// How many hashes this hasher has computed.
    pub fn computed(&self) -> u64 {
        self.computed.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn max_concurrent(&self) -> usize {
        self.permits.available_permits()
    }

    /// The most hashes that have run (or been handed to the pool) at once.
    pub fn peak_in_flight(&self) -> usize {
        self.in_flight.peak.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
        let waiting = metrics::gauge!("roster_password_hash_waiting");
        waiting.increment(1.0);
        let permit = self.permits.acquire().await;
        waiting.decrement(1.0);
        let _permit = permit.map_err(AppError::internal)?;
        let running = self.in_flight.now.fetch_add(1, std::sync::atomic::Ordering::AcqRel) + 1;
        self.in_flight
            .peak
            .fetch_max(running, std::sync::atomic::Ordering::AcqRel);
        let started = std::time::Instant::now();
        let result = self
            .pool
            .run(job)
            .await
            .ok_or_else(|| AppError::internal("a password hashing job panicked"));
        self.in_flight.now.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        metrics::histogram!("roster_password_hash_duration_seconds").record(started.elapsed().as_secs_f64());
        result
    }

    /// The hash of a password someone is choosing (registration, a change, an
    /// account made by an admin or the CLI): every such path comes here, so the
    /// breach check cannot be forgotten on one of them. It runs before the hash,
    /// so a refused password costs no hashing.
    pub async fn hash_new(&self, password: &Password) -> Result<String, AppError> {
        self.breaches.check(password).await?;
        self.hash(password).await
    }

    /// The hash of `password` with no policy applied: for `hash_new` and for tools
    /// that make accounts in bulk (the seeder).
    pub async fn hash(&self, password: &Password) -> Result<String, AppError> {
        let password = password.expose().to_owned();
        let hash = self
            .run(move || hash_blocking(&password))
            .await?
            .map_err(AppError::internal)?;
        self.computed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(hash)
    }

    /// Checks `password` against `stored` (any format `legacy_hash` knows), or
    /// against the dummy hash when there is no stored hash (unknown account) — in
    /// which case the answer is always false.
    pub async fn verify(&self, password: &Password, stored: Option<&str>) -> Result<bool, AppError> {
        let password = password.expose().to_owned();
        let known = stored.is_some();
        let dummy = self.dummy_hash.clone();
        let stored = stored.map(str::to_owned).unwrap_or_else(|| dummy.to_string());
        let matched = self.run(move || verify_blocking(&password, &stored, &dummy)).await?;
        self.computed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(known && matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::parse_new(s).unwrap()
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_salted() {
        let hasher = PasswordHasher::new(2);
        let a = hasher.hash(&pw("correct horse battery")).await.unwrap();
        let b = hasher.hash(&pw("correct horse battery")).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "a fresh salt every time");
    }

    #[tokio::test]
    async fn verifies_the_right_password_only() {
        let hasher = PasswordHasher::new(1);
        let hash = hasher.hash(&pw("correct horse battery")).await.unwrap();
        assert!(hasher.verify(&pw("correct horse battery"), Some(&hash)).await.unwrap());
        assert!(!hasher.verify(&pw("correct horse batterx"), Some(&hash)).await.unwrap());
        assert!(
            !hasher
                .verify(&pw("correct horse battery"), Some("not a phc string"))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn unknown_account_never_verifies_even_with_the_dummy_password() {
        let hasher = PasswordHasher::new(1);
        let dummy = Password::parse_existing("roster-dummy-password-never-matches").unwrap();
        assert!(!hasher.verify(&dummy, None).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrency_is_bounded_by_the_semaphore() {
        let hasher = PasswordHasher::new(2);
        assert_eq!(hasher.max_concurrent(), 2);
        // Eight at once: without the bound, all eight would be handed over together.
        let jobs: Vec<_> = (0..8)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash(&pw("queued password")).await })
            })
            .collect();
        for job in jobs {
            assert!(job.await.unwrap().is_ok());
        }
        let peak = hasher.peak_in_flight();
        assert!((1..=2).contains(&peak), "at most two at once, saw {peak}");
        assert_eq!(hasher.computed(), 8);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_bound_is_reached_not_undercut() {
        // Jobs that can only finish in pairs: the bound of two must let two run at once.
        let hasher = PasswordHasher::new(2);
        let pairs = Arc::new(std::sync::Barrier::new(2));
        let jobs: Vec<_> = (0..4)
            .map(|_| {
                let (hasher, pairs) = (hasher.clone(), pairs.clone());
                tokio::spawn(async move { hasher.run(move || pairs.wait()).await })
            })
            .collect();
        for job in jobs {
            assert!(job.await.unwrap().is_ok());
        }
        assert_eq!(hasher.peak_in_flight(), 2);
    }
}
