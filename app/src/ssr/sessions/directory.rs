//! Sessions as files in a directory (`ROSTER_SESSION_STORE=directory`): the
//! development store the system template asks for, with nothing to run.
//!
//! Layout under the root (directories 0700, files 0600):
//!   `sessions/<token hash>.json`   the record (never the token itself)
//!   `sessions/<token hash>.seen`   the latest "last seen", when it moved since sign-in
//!   `users/<user id>/<token hash>` an empty marker: the per-user index
//!   `tmp/`                         where files are written before they are renamed
//!
//! Every file is written to `tmp/` and renamed into place, so a reader sees the old
//! file or the new one, never half of one, and two processes can share the directory.
//! "Last seen" lives in its own file so that touching a session can never bring back
//! one that another request removed meanwhile: a `.seen` file without its record is
//! ignored and swept. The record file is what makes a session exist; markers and
//! `.seen` files are removed after it, and the sweep removes any left behind.
//!
//! The file work of one operation runs as one blocking task (`spawn_blocking`), so
//! the async workers never wait on the disk.

use super::store::{SessionRecord, SessionStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

#[derive(Clone)]
pub struct DirectorySessionStore {
    files: Arc<SessionFiles>,
}

impl DirectorySessionStore {
    /// Opens the store under `root`, creating its directories (mode 0700) if needed.
    /// Called once at start-up, so the few blocking calls are fine here.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let files = SessionFiles { root: root.into() };
        for dir in [files.sessions_dir(), files.users_dir(), files.tmp_dir()] {
            create_private_dir(&dir)?;
        }
        Ok(Self { files: Arc::new(files) })
    }

    pub fn root(&self) -> &Path {
        &self.files.root
    }

    /// Runs one operation's file work on a blocking thread.
    async fn with_files<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&SessionFiles) -> Result<T, StoreError> + Send + 'static,
    {
        let files = self.files.clone();
        blocking(move || work(&files)).await
    }
}

#[async_trait]
impl SessionStore for DirectorySessionStore {
    async fn insert(&self, record: SessionRecord) -> Result<(), StoreError> {
        self.with_files(move |files| files.insert(record)).await
    }

    async fn get(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let hash = checked_hash(token_hash)?.to_owned();
        self.with_files(move |files| files.read(&hash)).await
    }

    async fn touch(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let hash = checked_hash(token_hash)?.to_owned();
        self.with_files(move |files| files.touch(&hash, at)).await
    }

    async fn remove(&self, token_hash: &str) -> Result<(), StoreError> {
        let hash = checked_hash(token_hash)?.to_owned();
        self.with_files(move |files| {
            if let Some(record) = files.read(&hash)? {
                files.remove_record(&hash, record.user_id)?;
            }
            Ok(())
        })
        .await
    }

    async fn list_for_user(&self, user_id: Uuid) -> Result<Vec<SessionRecord>, StoreError> {
        self.with_files(move |files| files.list_for_user(user_id)).await
    }

    async fn remove_by_public_id(&self, user_id: Uuid, public_id: Uuid) -> Result<bool, StoreError> {
        self.with_files(move |files| {
            match files
                .list_for_user(user_id)?
                .into_iter()
                .find(|r| r.public_id == public_id)
            {
                Some(record) => files.remove_record(&record.token_hash, user_id),
                None => Ok(false),
            }
        })
        .await
    }

    async fn remove_all_for_user(&self, user_id: Uuid, keep: Option<&str>) -> Result<u64, StoreError> {
        let keep = keep.map(str::to_owned);
        self.with_files(move |files| {
            let mut removed = 0;
            for hash in files.indexed_for_user(user_id)? {
                if Some(&hash) != keep.as_ref() && files.remove_record(&hash, user_id)? {
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
    }

    async fn remove_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.with_files(move |files| files.sweep(now)).await
    }

    async fn all(&self) -> Result<Vec<SessionRecord>, StoreError> {
        self.with_files(|files| files.all()).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // Readiness means sessions can be written, not only that the path exists.
        self.with_files(|files| {
            let probe = files.tmp_dir().join(format!("ping-{}", Uuid::new_v4().simple()));
            private_file_options()
                .open(&probe)
                .map_err(|e| io_error("write in the session directory", e))?;
            remove_if_exists(&probe)?;
            Ok(())
        })
        .await
    }
}

/// The directory itself; every method is blocking file work.
struct SessionFiles {
    root: PathBuf,
}

/// Temp files and index markers without a record older than this were left by a
/// crash mid-write.
const ABANDONED_TEMP_FILE: Duration = Duration::from_secs(60);

impl SessionFiles {
    fn sessions_dir(&self) -> PathBuf {
        self.root.join("sessions")
    }

    fn users_dir(&self) -> PathBuf {
        self.root.join("users")
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn record_path(&self, hash: &str) -> PathBuf {
        self.sessions_dir().join(format!("{hash}.json"))
    }

    fn seen_path(&self, hash: &str) -> PathBuf {
        self.sessions_dir().join(format!("{hash}.seen"))
    }

    fn user_dir(&self, user_id: Uuid) -> PathBuf {
        self.users_dir().join(user_id.simple().to_string())
    }

    /// Writes `bytes` to `path` atomically: a private temp file, then a rename.
    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let tmp = self.tmp_dir().join(Uuid::new_v4().simple().to_string());
        let written = (|| {
            let mut file = private_file_options().open(&tmp)?;
            file.write_all(bytes)?;
            file.sync_data()?;
            std::fs::rename(&tmp, path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written.map_err(|e| io_error("write a session file", e))
    }

    fn insert(&self, r: SessionRecord) -> Result<(), StoreError> {
        let hash = checked_hash(&r.token_hash)?;
        // The index entry first: a record is never unlisted, at worst a marker is stale.
        let user_dir = self.user_dir(r.user_id);
        create_private_dir(&user_dir)?;
        self.write_atomically(&user_dir.join(hash), b"")?;
        let stored = StoredSession {
            public_id: r.public_id,
            user_id: r.user_id,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            expires_at: r.expires_at,
            user_agent: r.user_agent,
            ip: r.ip,
            impersonator_id: r.impersonator_id,
        };
        let bytes = serde_json::to_vec(&stored).map_err(|e| StoreError::Failed(e.to_string()))?;
        self.write_atomically(&self.record_path(hash), &bytes)?;
        // A replaced record's later touches belong to the old one.
        remove_if_exists(&self.seen_path(hash))?;
        Ok(())
    }

    /// The record, with its latest "last seen"; `None` if there is no such session.
    fn read(&self, hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let Some(bytes) = read_if_exists(&self.record_path(hash))? else {
            return Ok(None);
        };
        let stored: StoredSession = serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Failed(format!("unreadable session file {hash}.json: {e}")))?;
        let mut record = SessionRecord {
            token_hash: hash.to_owned(),
            public_id: stored.public_id,
            user_id: stored.user_id,
            created_at: stored.created_at,
            last_seen_at: stored.last_seen_at,
            expires_at: stored.expires_at,
            user_agent: stored.user_agent,
            ip: stored.ip,
            impersonator_id: stored.impersonator_id,
        };
        // A torn or foreign `.seen` file only loses a touch, never the session.
        if let Some(at) = read_if_exists(&self.seen_path(hash))?
            .and_then(|seen| String::from_utf8(seen).ok())
            .and_then(|seen| DateTime::parse_from_rfc3339(seen.trim()).ok())
        {
            record.last_seen_at = record.last_seen_at.max(at.with_timezone(&Utc));
        }
        Ok(Some(record))
    }

    fn touch(&self, hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        if !self.record_path(hash).exists() {
            return Ok(());
        }
        let stamp = at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        self.write_atomically(&self.seen_path(hash), stamp.as_bytes())
    }

    /// Removes the record first (that ends the session), then what belongs to it.
    /// True if the record was there. A marker without a record may belong to an
    /// insert still in progress (marker first, record second): it stays, so that the
    /// session it is about to write is listed; a marker abandoned by a crash goes
    /// once it is old.
    fn remove_record(&self, hash: &str, user_id: Uuid) -> Result<bool, StoreError> {
        let existed = remove_if_exists(&self.record_path(hash))?;
        remove_if_exists(&self.seen_path(hash))?;
        let marker = self.user_dir(user_id).join(hash);
        if existed || is_abandoned(&marker) {
            remove_if_exists(&marker)?;
        }
        Ok(existed)
    }

    /// The token hashes the user's index lists (a marker may be stale: the record decides).
    fn indexed_for_user(&self, user_id: Uuid) -> Result<Vec<String>, StoreError> {
        Ok(list_names(&self.user_dir(user_id))?
            .into_iter()
            .filter(|name| checked_hash(name).is_ok())
            .collect())
    }

    fn list_for_user(&self, user_id: Uuid) -> Result<Vec<SessionRecord>, StoreError> {
        let mut sessions = Vec::new();
        for hash in self.indexed_for_user(user_id)? {
            match self.read(&hash)? {
                Some(record) if record.user_id == user_id => sessions.push(record),
                // A marker whose record is gone: left by a crash between the two once
                // it is old (a young one may be an insert in progress), so drop it then.
                _ => {
                    let marker = self.user_dir(user_id).join(&hash);
                    if is_abandoned(&marker) {
                        remove_if_exists(&marker)?;
                    }
                }
            }
        }
        sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        Ok(sessions)
    }

    /// Every readable session record (an unreadable one is logged and left out).
    fn all(&self) -> Result<Vec<SessionRecord>, StoreError> {
        let mut sessions = Vec::new();
        for name in list_names(&self.sessions_dir())? {
            if let Some(hash) = name.strip_suffix(".json").filter(|h| checked_hash(h).is_ok()) {
                match self.read(hash) {
                    Ok(Some(record)) => sessions.push(record),
                    Ok(None) => {}
                    Err(err) => tracing::warn!(%err, "left out a session file that cannot be read"),
                }
            }
        }
        Ok(sessions)
    }

    /// Removes expired sessions, and whatever a crash left behind.
    fn sweep(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut removed = 0;
        for name in list_names(&self.sessions_dir())? {
            if let Some(hash) = name.strip_suffix(".json").filter(|h| checked_hash(h).is_ok()) {
                match self.read(hash) {
                    Ok(Some(record)) if record.expires_at <= now => {
                        if self.remove_record(hash, record.user_id)? {
                            removed += 1;
                        }
                    }
                    Ok(_) => {}
                    // One unreadable file must not stop the sweep of the others.
                    Err(err) => tracing::warn!(%err, "the session sweep skipped a file it cannot read"),
                }
            } else if let Some(hash) = name.strip_suffix(".seen")
                && !self.record_path(hash).exists()
            {
                remove_if_exists(&self.sessions_dir().join(&name))?;
            }
        }
        for name in list_names(&self.tmp_dir())? {
            let path = self.tmp_dir().join(&name);
            if is_abandoned(&path) {
                remove_if_exists(&path)?;
            }
        }
        Ok(removed)
    }
}

/// A temp file or an index marker this old was left by a crash mid-write: every
/// write finishes (or fails) within milliseconds of its first file.
fn is_abandoned(path: &Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > ABANDONED_TEMP_FILE)
}

async fn blocking<T, F>(work: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Failed(format!("session file task: {e}")))?
}

/// Token hashes are lowercase hex; anything else never becomes part of a path.
fn checked_hash(token_hash: &str) -> Result<&str, StoreError> {
    let valid = !token_hash.is_empty()
        && token_hash.len() <= 128
        && token_hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if valid {
        Ok(token_hash)
    } else {
        Err(StoreError::Failed("a token hash that is not lowercase hex".into()))
    }
}

fn io_error(what: &str, err: std::io::Error) -> StoreError {
    StoreError::Failed(format!("{what}: {err}"))
}

fn private_file_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| io_error("create a session directory", e))
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("read a session file", e)),
    }
}

/// True if the file was there.
fn remove_if_exists(path: &Path) -> Result<bool, StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error("remove a session file", e)),
    }
}

/// File names in `dir`; an absent directory has none.
fn list_names(dir: &Path) -> Result<Vec<String>, StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("list a session directory", e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error("list a session directory", e))?;
        if let Some(name) = entry.file_name().to_str() {
            names.push(name.to_owned());
        }
    }
    Ok(names)
}

/// The record as stored; a type of its own so the file format is explicit.
#[derive(Serialize, Deserialize)]
struct StoredSession {
    public_id: Uuid,
    user_id: Uuid,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    user_agent: Option<String>,
    ip: Option<String>,
    /// Absent from files written before "view as" existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    impersonator_id: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    //! What the store-conformance suite (server/tests/api/session_stores.rs) cannot
    //! see through the trait: the files themselves, and I/O failures other than absence.
    use super::*;

    fn temp_root() -> PathBuf {
        std::env::temp_dir().join(format!("roster-dir-store-{}", Uuid::new_v4().simple()))
    }

    fn record(user_id: Uuid) -> SessionRecord {
        let now = Utc::now();
        SessionRecord {
            token_hash: hex_of(Uuid::new_v4()),
            public_id: Uuid::new_v4(),
            user_id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + chrono::Duration::hours(1),
            user_agent: None,
            ip: None,
            impersonator_id: None,
        }
    }

    fn hex_of(id: Uuid) -> String {
        id.simple().to_string()
    }

    #[tokio::test]
    async fn readiness_fails_when_the_directory_is_gone() {
        let root = temp_root();
        let store = DirectorySessionStore::open(&root).unwrap();
        store.ping().await.unwrap();
        std::fs::remove_dir_all(&root).unwrap();
        assert!(store.ping().await.is_err());
    }

    #[tokio::test]
    async fn removing_a_session_removes_its_index_marker_at_once() {
        let root = temp_root();
        let store = DirectorySessionStore::open(&root).unwrap();
        let session = record(Uuid::new_v4());
        let marker = store.files.user_dir(session.user_id).join(&session.token_hash);
        store.insert(session.clone()).await.unwrap();
        assert!(marker.exists());
        store.remove(&session.token_hash).await.unwrap();
        // A young marker is kept only when no record was removed (an insert in progress).
        assert!(!marker.exists());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[tokio::test]
    async fn a_marker_in_another_users_index_does_not_list_their_session() {
        let root = temp_root();
        let store = DirectorySessionStore::open(&root).unwrap();
        let (mallory, victim) = (Uuid::new_v4(), Uuid::new_v4());
        let session = record(victim);
        store.insert(session.clone()).await.unwrap();
        let foreign_dir = store.files.user_dir(mallory);
        create_private_dir(&foreign_dir).unwrap();
        std::fs::write(foreign_dir.join(&session.token_hash), b"").unwrap();
        assert!(store.list_for_user(mallory).await.unwrap().is_empty());
        assert_eq!(store.list_for_user(victim).await.unwrap().len(), 1);
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// Only absence reads as "no such file"; any other failure is reported (a
    /// directory where a file should be stands for an unreadable disk, even as root).
    #[test]
    fn io_failures_other_than_absence_are_errors() {
        let root = temp_root();
        create_private_dir(&root).unwrap();
        let absent = root.join("absent");
        assert_eq!(read_if_exists(&absent).unwrap(), None);
        assert!(!remove_if_exists(&absent).unwrap());
        assert!(list_names(&absent).unwrap().is_empty());
        let a_directory = root.join("dir");
        create_private_dir(&a_directory).unwrap();
        assert!(read_if_exists(&a_directory).is_err());
        assert!(remove_if_exists(&a_directory).is_err());
        let a_file = root.join("file");
        std::fs::write(&a_file, b"x").unwrap();
        assert!(list_names(&a_file).is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[tokio::test]
    async fn an_unreadable_record_is_an_error_not_a_missing_session() {
        let root = temp_root();
        let store = DirectorySessionStore::open(&root).unwrap();
        let hash = hex_of(Uuid::new_v4());
        create_private_dir(&store.files.record_path(&hash)).unwrap();
        assert!(store.get(&hash).await.is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
