//! Standard output as a Unix tool treats it.
//!
//! - A closed pipe (`gpeople export | head -n 1`) ends the output, quietly: the command finishes
//!   what it was doing that matters (a sync's writes and its report; an export simply stops), then
//!   the process ends the way `ls | head` does, by `SIGPIPE` (status 141 in a shell).
//! - Any other failure to write (a full disk, `> /dev/full`) is an error: the command goes on
//!   with its work, and then exits with status 1 and says what could not be written.
//!
//! Nothing here panics, unlike `println!`/`eprintln!`.

use std::io::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether standard output was found closed.
static CLOSED: AtomicBool = AtomicBool::new(false);
/// The first other error writing standard output.
static FAILED: Mutex<Option<String>> = Mutex::new(None);

/// Write one line to standard output (the `out!` macro).
pub fn line(args: std::fmt::Arguments<'_>) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    let result = stdout
        .write_fmt(args)
        .and_then(|()| stdout.write_all(b"\n"));
    if let Err(e) = result {
        note_error(&e);
    }
}

/// Write one line to standard error, never panicking (the `err!` macro).
pub fn err_line(args: std::fmt::Arguments<'_>) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_fmt(args)
        .and_then(|()| stderr.write_all(b"\n"));
}

/// Record a failure to write standard output: a closed pipe, or anything else.
pub fn note_error(e: &std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CLOSED.store(true, Ordering::Relaxed);
    } else if let Ok(mut failed) = FAILED.lock()
        && failed.is_none()
    {
        *failed = Some(e.to_string());
    }
}

/// Whether standard output was closed by its reader.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Flush standard output, noting a failure.
pub fn flush() {
    if !closed()
        && let Err(e) = std::io::stdout().lock().flush()
    {
        note_error(&e);
    }
}

/// The first error writing standard output other than a closed pipe.
pub fn failure() -> Option<String> {
    FAILED.lock().ok().and_then(|f| f.clone())
}

/// End the process as a Unix tool whose output pipe was closed: by `SIGPIPE`, quietly.
pub fn exit_closed() -> ! {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE and raising it in this thread is what
    // a C program does at this point; nothing else runs signal handlers for SIGPIPE here.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    // Not reached on Unix; elsewhere, the status a shell reports for it.
    std::process::exit(141)
}
