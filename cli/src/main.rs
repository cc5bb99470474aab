//! `gpeople`: keep a directory synced into Google Contacts, for one user or every user of a
//! Workspace domain, on the `google-people` library.
//!
//! Exit codes: 0 everything done; 1 some records failed or are unknown (see the report file), or
//! the output could not be written; 2 bad input or usage (nothing was sent); 3 refused by the
//! mass-delete valve for every user (the contacts were listed, nothing was written). A closed
//! standard output ends the process by `SIGPIPE` once its work is done, as `ls | head` does.

/// `println!` that never panics: a closed stdout (`gpeople export | head`) ends the output, and
/// any other failure to write is reported at the end (see `output`).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}

/// `eprintln!` that never panics.
macro_rules! err {
    ($($arg:tt)*) => {
        $crate::output::err_line(format_args!($($arg)*))
    };
}

mod apply;
mod auth;
mod demo;
mod export;
mod input;
mod login;
mod output;
mod sync;
mod users;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "gpeople",
    version,
    about = "Keep a directory synced into Google Contacts, for one user or a whole Workspace domain",
    long_about = None
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Credentials: a service account key (acting for each user by domain-wide delegation) or an
    /// authorized_user file (`gpeople login`). Default: application default credentials.
    #[arg(long, global = true, env = "GPEOPLE_CREDENTIALS", value_name = "FILE")]
    pub credentials: Option<PathBuf>,
    /// More logs on stderr (-v: progress of each user, -vv: each request). Contact data is never
    /// logged.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Act for each user by domain-wide delegation without a key file: sign as this service
    /// account with the IAM Credentials API (signJwt), using --credentials or application
    /// default credentials (the metadata server on Cloud Run, GKE, GCE) as the source. The source
    /// needs the Service Account Token Creator role on it.
    #[arg(
        long,
        global = true,
        env = "GPEOPLE_SERVICE_ACCOUNT",
        value_name = "EMAIL"
    )]
    pub service_account: Option<String>,
    /// One account's OAuth2 access token, used as it is (for example the one
    /// `google-people-emulator` prints). Prefer the environment variable: a command line is
    /// visible to other users of the machine.
    #[arg(
        long,
        global = true,
        env = "GPEOPLE_ACCESS_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub access_token: Option<AccessTokenArg>,
    /// Send API requests to this base URL instead of Google's, for example a
    /// `google-people-emulator` (https, or http on loopback).
    #[arg(long, global = true, env = "GPEOPLE_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// The IAM Credentials API base URL for --service-account (an emulator).
    #[arg(long, global = true, env = "GPEOPLE_IAM_ENDPOINT", value_name = "URL")]
    pub iam_endpoint: Option<String>,
    /// The OAuth2 token endpoint for a service account key or --service-account (an emulator);
    /// default: the key's own `token_uri`, else Google's.
    #[arg(long, global = true, env = "GPEOPLE_TOKEN_URI", value_name = "URL")]
    pub token_uri: Option<String>,
}

/// An access token given on the command line or in `GPEOPLE_ACCESS_TOKEN`: never shown by
/// `Debug`.
#[derive(Clone)]
pub struct AccessTokenArg(pub String);

impl std::str::FromStr for AccessTokenArg {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_string()))
    }
}

impl std::fmt::Debug for AccessTokenArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessTokenArg(<redacted>)")
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Make the contacts of each user match a directory file (CSV or JSONL): create, update and,
    /// with --delete, remove. With no credentials and no input: a demo on an embedded emulator.
    Sync(Box<sync::SyncArgs>),
    /// Apply a change file to the contacts that match it by email (update only).
    Apply(apply::ApplyArgs),
    /// Write every contact of a user as CSV or JSONL, streamed.
    Export(export::ExportArgs),
    /// Sign in with your Google account (installed-app consent) and save the credentials.
    Login(login::LoginArgs),
    /// Show who the credentials act as.
    Whoami(login::WhoamiArgs),
}

/// A command's failure: its message, and the exit code.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Bad input or usage: nothing was sent (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    /// The exit code that stands for "standard output was closed": the process ends by
    /// `SIGPIPE` instead, quietly.
    pub const CLOSED_OUTPUT: u8 = 141;

    /// Standard output was closed by its reader (`gpeople export | head`): not an error.
    pub fn closed_output() -> Self {
        Self {
            code: Self::CLOSED_OUTPUT,
            message: String::new(),
        }
    }

    /// The run went wrong after it started (exit 1).
    pub fn run(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
}

fn init_logs(verbose: u8) {
    let level = match verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.global.verbose);
    google_people::runtime::install_crypto_provider();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            err!("gpeople: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Sync(args) => sync::run(&cli.global, *args).await,
            Command::Apply(args) => apply::run(&cli.global, args).await,
            Command::Export(args) => export::run(&cli.global, args).await,
            Command::Login(args) => login::login(&cli.global, args).await,
            Command::Whoami(args) => login::whoami(&cli.global, args).await,
        }
    });
    drop(rt);
    output::flush();
    let code = match result {
        Ok(code) => code,
        Err(f) if f.code == Failure::CLOSED_OUTPUT => output::exit_closed(),
        Err(f) => {
            err!("gpeople: {}", f.message);
            f.code
        }
    };
    if let Some(e) = output::failure() {
        err!("gpeople: writing to standard output failed: {e}");
        return ExitCode::from(code.max(1));
    }
    if output::closed() {
        output::exit_closed();
    }
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_token_never_shows_in_debug() {
        let cli = Cli::try_parse_from(["gpeople", "--access-token", "ya29.secret-value", "whoami"])
            .unwrap();
        assert_eq!(
            cli.global.access_token.as_ref().map(|t| t.0.as_str()),
            Some("ya29.secret-value")
        );
        assert!(!format!("{cli:?}").contains("ya29.secret-value"));
    }
}
