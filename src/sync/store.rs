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
}

/// A store in memory, shared between clones (for tests, and for one-off runs that need no
/// incremental next run).
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    states: Arc<Mutex<HashMap<(String, String), UserState>>>,
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
