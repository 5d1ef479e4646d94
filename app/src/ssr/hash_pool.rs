//! The threads password hashes run on: a fixed set, started with the hasher, at a
//! lower CPU priority than request handling (nice 10 on Linux). Under a burst of
//! sign-ins the scheduler then gives the cores to everything else first, so the
//! burst slows sign-ins, not every other request (see docs/PERFORMANCE.md).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// How much lower than request threads hashing threads run (Linux nice steps).
pub const NICENESS: i32 = 10;

/// Cheap to clone; the threads end when the last clone is dropped.
#[derive(Clone)]
pub struct HashPool {
    jobs: Sender<Job>,
}

impl HashPool {
    pub fn new(threads: usize) -> Self {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("roster-hash-{n}"))
                .spawn(move || work(&queue))
                .expect("the OS can start a hashing thread");
        }
        Self { jobs }
    }

    /// Runs `job` on a hashing thread; `None` if it panicked.
    pub async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            if let Ok(value) = catch_unwind(AssertUnwindSafe(job)) {
                let _ = done.send(value);
            }
        });
        self.jobs.send(job).ok()?;
        result.await.ok()
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        // Hold the lock only to take a job, not while running it.
        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
        match next {
            Ok(job) => job(),
            Err(_) => return, // every sender is gone: the hasher was dropped
        }
    }
}

/// On Linux, nice is per thread: this lowers only the calling thread.
#[cfg(target_os = "linux")]
fn lower_priority() {
    // Relative to the thread's own priority, so a server started with `nice` keeps
    // the same gap between requests and hashing.
    // SAFETY: plain system calls on the current thread with valid arguments.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        let current = libc::getpriority(libc::PRIO_PROCESS, tid);
        libc::setpriority(libc::PRIO_PROCESS, tid, (current + NICENESS).min(19));
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_survives_a_panicking_one() {
        let pool = HashPool::new(1);
        assert_eq!(pool.run(|| 2 + 2).await, Some(4));
        assert_eq!(pool.run(|| -> u8 { panic!("boom") }).await, None);
        assert_eq!(pool.run(|| "still here").await, Some("still here"));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_at_a_lower_priority() {
        let pool = HashPool::new(1);
        let (mine, theirs) = (
            unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) },
            pool.run(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) })
                .await
                .unwrap(),
        );
        assert_eq!(theirs, (mine + NICENESS).min(19), "request threads stay at {mine}");
    }
}
