//! `gpeople`: keep a directory synced into Google Contacts, for one user or every user of a
//! Workspace domain, on the `google-people` library.
//!
//! Exit codes: 0 everything done; 1 some records failed or are unknown (see the report file);
//! 2 bad input or usage (nothing was sent).

/// `println!` that never panics: a closed stdout (`gpeople export | head`) ends the output,
/// not the program.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod apply;
mod auth;
mod demo;
mod export;
mod input;
mod login;
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
    /// Send API requests to this base URL (an emulator) instead of Google.
    #[arg(long, global = true, env = "GPEOPLE_BASE_URL", hide = true)]
    pub base_url: Option<String>,
    /// The IAM Credentials API base URL (an emulator).
    #[arg(long, global = true, env = "GPEOPLE_IAM_ENDPOINT", hide = true)]
    pub iam_endpoint: Option<String>,
    /// The OAuth2 token endpoint for --service-account (an emulator).
    #[arg(long, global = true, env = "GPEOPLE_TOKEN_URI", hide = true)]
    pub token_uri: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Make the contacts of each user match a directory file (CSV or JSONL): create, update and,
    /// with --delete, remove. With no credentials and no input: a demo on an embedded emulator.
    Sync(sync::SyncArgs),
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
            eprintln!("gpeople: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Sync(args) => sync::run(&cli.global, args).await,
            Command::Apply(args) => apply::run(&cli.global, args).await,
            Command::Export(args) => export::run(&cli.global, args).await,
            Command::Login(args) => login::login(&cli.global, args).await,
            Command::Whoami(args) => login::whoami(&cli.global, args).await,
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("gpeople: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
