//! An append-only log of byte records, in memory while small and then in an unnamed temporary
//! file, so that what a sync of 100,000 contacts knows need not stay in memory: only the offsets
//! of the records do. A write or read that fails marks the log as failed, and the sync refuses to
//! commit anything decided from it.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Above this many bytes in memory, the log moves to a temporary file; after that, appends are
/// gathered in memory up to this size and written in one go.
const SPILL_AT: usize = 256 << 10;

/// Append-only records, each read back by the offset `append` returned.
#[derive(Default)]
pub(crate) struct Log {
    /// The records from offset `flushed` on (all of them until the log has a file).
    mem: Vec<u8>,
    /// The temporary file, holding the records before offset `flushed`.
    file: Option<File>,
    flushed: u64,
    /// Where the file could not be removed while open (not Unix): removed on drop.
    path: Option<std::path::PathBuf>,
    /// No temporary file could be made: the log stays in memory.
    no_file: bool,
    failed: AtomicBool,
}

impl std::fmt::Debug for Log {
    // Contact data: sizes only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Log")
            .field("in_memory", &self.mem.len())
            .field("in_file", &self.flushed)
            .finish()
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        drop(self.file.take());
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Log {
    /// Whether a write or a read failed (what was read from it cannot be trusted).
    pub(crate) fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// Append one record; its offset.
    pub(crate) fn append(&mut self, record: &[u8]) -> u64 {
        let len = u32::try_from(record.len()).unwrap_or(u32::MAX);
        let at = self.flushed + self.mem.len() as u64;
        self.mem.extend_from_slice(&len.to_le_bytes());
        self.mem.extend_from_slice(&record[..len as usize]);
        if self.mem.len() > SPILL_AT && !self.no_file {
            self.flush();
        }
        at
    }

    /// Write the records held in memory to the file (made on first use). Without a file, they
    /// stay in memory; a write that fails marks the log failed.
    fn flush(&mut self) {
        if self.file.is_none() {
            let Some((file, path)) = temp_file() else {
                self.no_file = true;
                return;
            };
            self.file = Some(file);
            self.path = path;
        }
        if let Some(file) = &self.file {
            if write_at(file, &self.mem, self.flushed).is_err() {
                self.failed.store(true, Ordering::Relaxed);
            }
            self.flushed += self.mem.len() as u64;
            self.mem.clear();
        }
    }

    /// The record at `offset`, or `None` (and the log failed) when it cannot be read.
    pub(crate) fn read(&self, offset: u64) -> Option<Vec<u8>> {
        let got = match (&self.file, offset.checked_sub(self.flushed)) {
            (_, Some(in_mem)) => read_mem(&self.mem, in_mem),
            (Some(file), None) => read_file(file, offset, self.flushed),
            (None, None) => None,
        };
        if got.is_none() {
            self.failed.store(true, Ordering::Relaxed);
        }
        got
    }
}

fn read_mem(mem: &[u8], offset: u64) -> Option<Vec<u8>> {
    let at = usize::try_from(offset).ok()?;
    let len = u32::from_le_bytes(mem.get(at..at.checked_add(4)?)?.try_into().ok()?) as usize;
    mem.get(at + 4..(at + 4).checked_add(len)?)
        .map(<[u8]>::to_vec)
}

fn read_file(file: &File, offset: u64, end: u64) -> Option<Vec<u8>> {
    // One read for a record of up to 252 bytes (most), a second for the rest of a longer one.
    let mut first = vec![0u8; 256.min(end.checked_sub(offset)? as usize)];
    read_at(file, &mut first, offset).ok()?;
    let len = u32::from_le_bytes(first.get(..4)?.try_into().ok()?) as usize;
    if offset.checked_add(4 + len as u64)? > end {
        return None;
    }
    let mut record = first.split_off(4);
    if record.len() >= len {
        record.truncate(len);
        return Some(record);
    }
    let have = record.len();
    record.resize(len, 0);
    read_at(file, &mut record[have..], offset + 4 + have as u64).ok()?;
    Some(record)
}

/// An unnamed temporary file: removed from the directory at once where the system allows (its
/// space returns when it is closed), so nothing is left behind even after a crash; elsewhere its
/// path, to remove when done.
fn temp_file() -> Option<(File, Option<std::path::PathBuf>)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!(
        ".google-people-sync-{}-{n}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    ));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .ok()?;
    if cfg!(unix) {
        let _ = std::fs::remove_file(&path);
        return Some((file, None));
    }
    Some((file, Some(path)))
}

#[cfg(unix)]
fn write_at(file: &File, buf: &[u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, at)
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

#[cfg(windows)]
fn write_at(file: &File, mut buf: &[u8], mut at: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_write(file, buf, at)?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        buf = &buf[n..];
        at += n as u64;
    }
    Ok(())
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut at: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        let n = std::os::windows::fs::FileExt::seek_read(file, buf, at)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        at += n as u64;
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
fn write_at(_: &File, _: &[u8], _: u64) -> std::io::Result<()> {
    // No positional I/O here: the log stays in memory.
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(not(any(unix, windows)))]
fn read_at(_: &File, _: &mut [u8], _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_in_memory_and_after_spilling() {
        let mut log = Log::default();
        let small = log.append(b"first");
        assert_eq!(log.read(small).as_deref(), Some(&b"first"[..]));
        let offsets: Vec<(u64, Vec<u8>)> = (0..20_000u32)
            .map(|i| {
                let rec = format!("record {i} {}", "x".repeat((i % 97) as usize)).into_bytes();
                (log.append(&rec), rec)
            })
            .collect();
        assert!(
            log.file.is_some() || cfg!(not(any(unix, windows))),
            "spilled to a file"
        );
        assert_eq!(log.read(small).as_deref(), Some(&b"first"[..]));
        for (at, rec) in offsets.iter().step_by(101) {
            assert_eq!(log.read(*at).as_ref(), Some(rec));
        }
        assert!(!log.failed());
        assert_eq!(log.read(u64::MAX - 2), None);
        assert!(log.failed(), "a bad read marks the log");
    }
}
