//! Where sync state lives between runs: the [`SyncStore`] trait, an in-memory store for tests,
//! and the default [`FileStore`], crash-safe by atomic replacement.

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::state::{STATE_VERSION, UserState};
use crate::runtime::Error;

/// Persistent per-user sync state. A store is shared by every user of a job (and may be shared
/// by jobs: states are keyed by job and user). Implementations must make `save` atomic: after a
/// crash at any point, `load` returns either the old state or the new one, never a mix.
///
/// State is an optimisation: a store that loses everything costs each user one full listing,
/// never a duplicate contact or a lost change.
pub trait SyncStore: Send + Sync + fmt::Debug {
    /// The state saved for `user` of `job`, if any.
    fn load(&self, job: &str, user: &str) -> Result<Option<UserState>, Error>;
    /// Replace the state of `user` of `job`, atomically.
    fn save(&self, job: &str, user: &str, state: &UserState) -> Result<(), Error>;

    /// Take the lease on `user` of `job` for one run: while the returned guard lives, no other
    /// run holding a lease from this store syncs that user; [`Leased::Held`] says who holds it.
    /// A run that dies, however it dies, must not hold it for ever.
    ///
    /// The default grants every lease and protects nothing: a store shared by processes or
    /// hosts should implement it ([`FileStore`] does, with a file lock).
    fn lease(&self, job: &str, user: &str) -> Result<Leased, Error> {
        let _ = (job, user);
        Ok(Leased::Granted(LeaseGuard::new(())))
    }
}

/// The answer to [`SyncStore::lease`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Leased {
    /// The lease is this run's until the guard is dropped.
    Granted(LeaseGuard),
    /// Another run holds it: who, as it described itself (process, host, since when).
    Held(String),
}

/// A held lease; dropping it releases the lease.
pub struct LeaseGuard(#[allow(dead_code)] Box<dyn std::any::Any + Send + Sync>);

impl LeaseGuard {
    /// A guard that releases the lease when `held` is dropped.
    pub fn new(held: impl std::any::Any + Send + Sync) -> Self {
        Self(Box::new(held))
    }
}

impl fmt::Debug for LeaseGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LeaseGuard")
    }
}

/// Who this run is, for a lease's holder line: `pid 1234 on host, since 2026-12-04T21:00:00Z`.
fn holder() -> String {
    let host = fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "an unnamed host".into());
    format!(
        "pid {} on {host}, since {}",
        std::process::id(),
        httpdate::fmt_http_date(std::time::SystemTime::now())
    )
}

/// A store in memory, shared between clones (for tests, and for one-off runs that need no
/// incremental next run).
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    states: Arc<Mutex<HashMap<(String, String), UserState>>>,
    leases: Arc<Mutex<std::collections::HashSet<(String, String)>>>,
}

/// A [`MemoryStore`] lease: released from the set when dropped.
struct MemoryLease {
    leases: Arc<Mutex<std::collections::HashSet<(String, String)>>>,
    key: (String, String),
}

impl Drop for MemoryLease {
    fn drop(&mut self) {
        self.leases
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SyncStore for MemoryStore {
    fn load(&self, job: &str, user: &str) -> Result<Option<UserState>, Error> {
        let states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(states.get(&(job.to_string(), user.to_string())).cloned())
    }

    fn save(&self, job: &str, user: &str, state: &UserState) -> Result<(), Error> {
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        states.insert((job.to_string(), user.to_string()), state.clone());
        Ok(())
    }

    fn lease(&self, job: &str, user: &str) -> Result<Leased, Error> {
        let key = (job.to_string(), user.to_string());
        let mut leases = self.leases.lock().unwrap_or_else(PoisonError::into_inner);
        if !leases.insert(key.clone()) {
            return Ok(Leased::Held("another run in this process".into()));
        }
        Ok(Leased::Granted(LeaseGuard::new(MemoryLease {
            leases: self.leases.clone(),
            key,
        })))
    }
}

/// The default store: one JSON file per job and user under a directory,
/// `DIR/<job>/<user>.json`, replaced atomically (written to a temporary file in the same
/// directory, flushed to disk, renamed over the old one, and the directory flushed). A crash at
/// any point leaves the old state or the new one. Workers of a sharded job can share one
/// directory: each user belongs to one shard, so no two processes write the same file.
///
/// Why files and not an embedded database: the state of a user is read once and written twice per
/// run, whole; atomic replacement gives exactly the guarantee needed, with nothing more to
/// compile.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store under `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file holding `user`'s state for `job`.
    pub fn path(&self, job: &str, user: &str) -> PathBuf {
        self.dir
            .join(file_name(job))
            .join(format!("{}.json", file_name(user)))
    }

    /// The file whose lock is the lease on `user` of `job`.
    pub fn lease_path(&self, job: &str, user: &str) -> PathBuf {
        self.dir
            .join(file_name(job))
            .join(format!("{}.lock", file_name(user)))
    }
}

/// A [`FileStore`] lease: the open, exclusively locked lock file. Closing it (the guard dropped,
/// or the process gone, however it died) releases the lock.
struct FileLease(fs::File);

impl Drop for FileLease {
    fn drop(&mut self) {
        // The holder line goes; the file stays (removing a lock file others may have open
        // would let two runs lock two different files).
        let _ = self.0.set_len(0);
    }
}

/// A file name for any text: ASCII letters, digits, `.`, `-`, `_` and `@` kept, anything else
/// percent-escaped (so `/`, `..` and separators can never leave the directory).
fn file_name(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'@' => out.push(b as char),
            b'.' if !out.is_empty() => out.push('.'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    if out.is_empty() {
        out.push_str("%00");
    }
    out
}

/// Remove the temporary files that runs killed while saving `path` left beside it
/// (`.<file>.<pid>.tmp`): those of a process that no longer runs (where `/proc` tells), and any
/// older than ten minutes (a save takes seconds).
fn remove_abandoned(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return;
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    let ours = std::process::id().to_string();
    let proc = Path::new("/proc/self").exists();
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(pid) = file
            .to_str()
            .and_then(|f| f.strip_prefix(&prefix))
            .and_then(|f| f.strip_suffix(".tmp"))
        else {
            continue;
        };
        if pid == ours || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let dead = proc && !Path::new("/proc").join(pid).exists();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(600));
        if dead || old {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::config(format!("sync state: cannot {what} {}: {e}", path.display()))
}

impl SyncStore for FileStore {
    /// The lease is an exclusive lock on `DIR/<job>/<user>.lock` (`flock` on Unix, `LockFileEx`
    /// on Windows), which holds the holder's line. The operating system releases it when the
    /// holding process ends, however it ends, so a crashed run never holds it; on a volume
    /// shared by hosts (NFSv4), the lock is the server's, and a dead host's lapses with its
    /// NFS lease.
    fn lease(&self, job: &str, user: &str) -> Result<Leased, Error> {
        let path = self.lease_path(job, user);
        let dir = path.parent().expect("a lock file is in a directory");
        fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_error("open", &path, e))?;
        match file.try_lock() {
            Ok(()) => {
                let line = holder();
                let written = file
                    .set_len(0)
                    .and_then(|()| std::io::Seek::rewind(&mut file))
                    .and_then(|()| file.write_all(line.as_bytes()));
                written.map_err(|e| io_error("write", &path, e))?;
                Ok(Leased::Granted(LeaseGuard::new(FileLease(file))))
            }
            Err(fs::TryLockError::WouldBlock) => {
                let mut who = String::new();
                let _ = std::io::Read::read_to_string(&mut file, &mut who);
                let who = who.trim();
                Ok(Leased::Held(if who.is_empty() {
                    "another run".into()
                } else {
                    who.to_string()
                }))
            }
            Err(fs::TryLockError::Error(e)) => Err(io_error("lock", &path, e)),
        }
    }

    fn load(&self, job: &str, user: &str) -> Result<Option<UserState>, Error> {
        let path = self.path(job, user);
        let file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("read", &path, e)),
        };
        // Streamed: a large state is never held twice (as text and as values).
        let state = serde_json::from_reader::<_, UserState>(std::io::BufReader::new(file));
        // A state this version cannot read is as good as none: a full listing rebuilds it.
        Ok(state.ok().filter(|s| s.version == STATE_VERSION))
    }

    fn save(&self, job: &str, user: &str, state: &UserState) -> Result<(), Error> {
        let path = self.path(job, user);
        let dir = path.parent().expect("a state file is in a directory");
        fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
        remove_abandoned(&path);
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("state"),
            std::process::id()
        ));
        let write = || -> std::io::Result<()> {
            let mut out = std::io::BufWriter::new(fs::File::create(&tmp)?);
            serde_json::to_writer(&mut out, state)?;
            out.flush()?;
            let f = out
                .into_inner()
                .map_err(std::io::IntoInnerError::into_error)?;
            f.sync_all()?;
            drop(f);
            fs::rename(&tmp, &path)?;
            // Make the rename itself durable.
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            io_error("write", &path, e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_files_of_killed_runs_are_removed_on_the_next_save() {
        let dir = std::env::temp_dir().join(format!("gp-store-tmp-{}", std::process::id()));
        let store = FileStore::new(&dir);
        let path = store.path("job", "ada@example.com");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        // A pid no process has (beyond the kernel's limit), and an old one of an unknown pid.
        let dead = path.with_file_name(".ada@example.com.json.4294967295.tmp");
        fs::write(&dead, b"partial").unwrap();
        let other = path.with_file_name(".bob@example.com.json.4294967295.tmp");
        fs::write(&other, b"another user's").unwrap();
        store
            .save("job", "ada@example.com", &UserState::new())
            .unwrap();
        if Path::new("/proc/self").exists() {
            assert!(!dead.exists(), "a dead run's temporary file is removed");
        }
        assert!(other.exists(), "another user's file is left alone");
        assert!(store.load("job", "ada@example.com").unwrap().is_some());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn file_names_never_leave_the_directory() {
        assert_eq!(file_name("ada@example.com"), "ada@example.com");
        assert_eq!(file_name(".."), "%2E.");
        assert_eq!(file_name("a/b"), "a%2Fb");
        assert_eq!(file_name(""), "%00");
        assert_eq!(file_name("Company directory"), "Company%20directory");
    }

    #[test]
    fn a_saved_state_loads_back_and_a_foreign_one_is_ignored() {
        let dir = std::env::temp_dir().join(format!("gp-store-{}", std::process::id()));
        let store = FileStore::new(&dir);
        assert_eq!(store.load("job", "u@x").unwrap(), None);
        let mut state = UserState::new();
        state.sync_token = Some("t".into());
        store.save("job", "u@x", &state).unwrap();
        assert_eq!(store.load("job", "u@x").unwrap(), Some(state));
        fs::write(store.path("job", "u@x"), b"{\"version\": 999}").unwrap();
        assert_eq!(store.load("job", "u@x").unwrap(), None);
        fs::write(store.path("job", "u@x"), b"{torn").unwrap();
        assert_eq!(store.load("job", "u@x").unwrap(), None);
        let _ = fs::remove_dir_all(dir);
    }
}
