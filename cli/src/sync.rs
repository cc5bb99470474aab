//! `gpeople sync`: a directory file into the contacts of one user or many, through the library's
//! sync engine.

use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use futures_util::StreamExt as _;
use google_people::quota::{Quota, QuotaMetric, QuotaUnits, RateLimit};
use google_people::sync::{
    ConflictPolicy, FileStore, MemoryStore, Plan, QuotaPlan, Record, RecordOutcome, Shard,
    SyncError, SyncJob, SyncStore, SyncSummary, domain_floor,
};
use google_people::{Client, FieldMask, PersonField};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::auth::Credentials;
use crate::{Failure, Global, input, users};

#[derive(Args, Debug)]
pub struct SyncArgs {
    /// The directory: CSV with a header row, or JSONL (.jsonl) with one object a line.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// The column holding each record's stable, unique id.
    #[arg(long, value_name = "COL")]
    pub id_column: Option<String>,
    /// Sync into every user in FILE (one address a line, or a CSV with an email column).
    #[arg(long, value_name = "FILE", conflicts_with = "user")]
    pub users: Option<PathBuf>,
    /// Sync into this user (with a service account: the user it acts for).
    #[arg(long, alias = "subject", value_name = "EMAIL")]
    pub user: Option<String>,
    /// Delete the contacts this job manages whose id is no longer in the input.
    #[arg(long)]
    pub delete: bool,
    /// Allow deleting more than --max-delete-share of a user's managed contacts.
    #[arg(long)]
    pub allow_mass_delete: bool,
    /// The largest share of a user's managed contacts one run may delete.
    #[arg(long, default_value_t = 0.10, value_name = "SHARE")]
    pub max_delete_share: f64,
    /// A run deleting at most N of a user's contacts is never refused by --max-delete-share
    /// (a share alone would refuse 1 deletion out of 2).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub mass_delete_floor: usize,
    /// Keep every managed contact in this contact group (created if missing).
    #[arg(long, value_name = "NAME")]
    pub group: Option<String>,
    /// Adopt the contacts users already have instead of creating duplicates, on a first run: a
    /// contact no job manages whose email matches a record's gets the job's key and the
    /// directory's fields. Ambiguous matches are skipped and reported, never guessed.
    #[arg(long, value_name = "email", value_parser = ["email"])]
    pub adopt_by: Option<String>,
    /// Create contacts outside "My Contacts" (only in --group, if given). By default they are in
    /// it, so that Google Contacts and phones show them.
    #[arg(long)]
    pub no_my_contacts: bool,
    /// When another gpeople run is syncing a user (its lease in the state directory), wait up to
    /// this long for it (1s, 10m) instead of skipping the user.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait_for_lease: Option<Duration>,
    /// Print what would change, and send nothing but reads.
    #[arg(long)]
    pub dry_run: bool,
    /// Map a column to a field, e.g. --map "First Name=given_name" (repeatable; FIELD may be
    /// `ignore`). Known fields: given_name, family_name, middle_name, prefix, suffix, email,
    /// phone, mobile, organization, title, department, street, city, region, postal_code, country,
    /// notes.
    #[arg(long = "map", value_name = "COL=FIELD")]
    pub maps: Vec<String>,
    /// The job's name: it marks the contacts this sync owns (two jobs never touch each other's).
    #[arg(long, default_value = "gpeople", value_name = "NAME")]
    pub job: String,
    /// Keep managed fields edited in Google (default: the directory overwrites them).
    #[arg(long)]
    pub keep_edits: bool,
    /// Do not re-create managed contacts deleted in Google.
    #[arg(long)]
    pub no_recreate: bool,
    /// Where the state of incremental runs is kept. Default: the platform's state directory
    /// ($XDG_STATE_HOME/gpeople, ~/.local/state/gpeople on Linux).
    #[arg(long, env = "GPEOPLE_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Every record that failed or whose outcome is unknown, and every user refused, is written
    /// here (CSV), when there is any. Default: JOB-report.csv in the state directory.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// This worker's share of the users, I/K. Default: CLOUD_RUN_TASK_INDEX and _COUNT (Cloud Run
    /// jobs) or JOB_COMPLETION_INDEX with --shard-count (a Kubernetes Indexed Job).
    #[arg(long, value_name = "I/K")]
    pub shard: Option<Shard>,
    /// The number of shards of an Indexed Job (its completions), for JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "K")]
    pub shard_count: Option<u32>,
    /// Users synced at once (each user's requests stay one at a time).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub concurrency: usize,
    /// Your project's per-user quota for a metric, where it differs from the default (the
    /// Cloud Console's People API quotas page): critical_reads=60, critical_writes=30,
    /// group_reads=90, deletes_and_group_writes=30, photo_writes=50, full_sync_first_pages=30
    /// (a minute), daily_writes=100000 (a day). Repeat for several.
    #[arg(long = "quota", value_name = "METRIC=N", value_parser = parse_quota)]
    pub quotas: Vec<(QuotaMetric, u64)>,
    /// How long a quota "minute" lasts (and a day, 1,440 of them): only for an emulator whose
    /// quota windows are shortened (`google-people-emulator --quota-minute`, which sets this
    /// for the command it runs). Default: a minute.
    #[arg(long, env = "GPEOPLE_QUOTA_MINUTE", value_name = "DURATION", value_parser = parse_duration)]
    pub quota_minute: Option<Duration>,
}

/// The per-user quotas: the defaults, the `--quota` overrides, and the minute's length.
fn quota(args: &SyncArgs) -> Quota {
    let q = args
        .quotas
        .iter()
        .fold(Quota::default(), |q, (m, n)| q.set(*m, *n));
    match args.quota_minute {
        Some(minute) => q.time_scale(minute),
        None => q,
    }
}

impl Settings {
    /// `user`'s quota budget.
    pub fn budget(&self, user: &str) -> RateLimit {
        self.budgets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(user.to_string())
            .or_insert_with(|| RateLimit::new(self.quota.clone()))
            .clone()
    }
}

/// A duration: `1s`, `500ms`, `60s`, `1m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?}: expected a duration such as 1s or 500ms"))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" | "min" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(format!("{s:?}: expected a duration such as 1s or 500ms")),
    };
    if d.is_zero() {
        return Err(format!("{s:?}: a duration above zero"));
    }
    Ok(d)
}

/// `METRIC=N`, a per-user quota limit.
fn parse_quota(s: &str) -> Result<(QuotaMetric, u64), String> {
    let (name, n) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected METRIC=N, such as critical_writes=90"))?;
    let metric = QuotaMetric::ALL
        .into_iter()
        .find(|m| m.as_str() == name.trim())
        .ok_or_else(|| {
            let names: Vec<&str> = QuotaMetric::ALL.iter().map(|m| m.as_str()).collect();
            format!("{name:?} is not a quota metric: {}", names.join(", "))
        })?;
    let n: u64 = n
        .trim()
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{n:?}: a quota is a whole number above 0"))?;
    Ok((metric, n))
}

/// How a run is done, for every user alike.
pub struct Settings {
    pub job: String,
    pub fields: FieldMask<PersonField>,
    pub delete: bool,
    pub allow_mass_delete: bool,
    pub max_delete_share: f64,
    pub mass_delete_floor: usize,
    pub group: Option<String>,
    pub my_contacts: bool,
    pub adopt_by_email: bool,
    pub lease_wait: Duration,
    pub dry_run: bool,
    pub policy: ConflictPolicy,
    pub recreate: bool,
    pub state: State,
    /// Whether the summary names the state directory (not in the demo, whose state is scratch).
    pub show_state: bool,
    pub concurrency: usize,
    /// The per-user quotas every user's requests are paced by.
    pub quota: Quota,
    /// Each user's budget, kept across the runs of one process (a new budget would not know
    /// what the server's current window holds).
    pub budgets: std::sync::Mutex<std::collections::HashMap<String, RateLimit>>,
    pub report: PathBuf,
}

/// The result of one user's run.
enum UserResult {
    Planned(Box<Plan>),
    /// The summary, HTTP requests made (retries included), and the outcomes to report.
    Done(SyncSummary, u64, Vec<RecordOutcome>),
    Refused(String),
    /// Past the daily write quota: nothing written, the next run picks it up.
    Deferred(String),
    /// Another run holds the user's lease: nothing listed or written.
    Leased(String),
    Failed(String),
}

/// What a run came to, for the exit code.
#[derive(Default)]
pub struct Totals {
    pub incomplete: usize,
    pub refused: usize,
    /// Users past their daily write quota (nothing written; the next run picks them up).
    pub deferred: usize,
    /// Users another run was syncing (skipped: that run does the work).
    pub leased: usize,
    pub failed_users: usize,
    pub summary: SyncSummary,
    /// HTTP requests, retries included.
    pub requests: u64,
}

/// The exit status of a run that the mass-delete valve refused for some user (its contacts were
/// listed, nothing was written for it), when nothing else failed.
pub const EXIT_REFUSED: u8 = 3;

/// The exit status of a run that deferred some user past their daily write quota (nothing was
/// written for them; the next run picks them up), when nothing else failed or was refused.
pub const EXIT_DEFERRED: u8 = 4;

impl Totals {
    pub fn exit_code(&self) -> u8 {
        if self.incomplete + self.failed_users > 0 {
            1
        } else if self.refused > 0 {
            EXIT_REFUSED
        } else if self.deferred > 0 {
            EXIT_DEFERRED
        } else {
            0
        }
    }
}

pub async fn run(global: &Global, args: SyncArgs) -> Result<u8, Failure> {
    let Some(path) = args.input.clone() else {
        let no_credentials = global.credentials.is_none()
            && global.base_url.is_none()
            && global.access_token.is_none()
            && std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").is_none();
        if no_credentials {
            return crate::demo::run(args).await;
        }
        return Err(Failure::usage(
            "--input FILE is required (with --id-column COL); with no credentials and no input, `gpeople sync` runs a demo",
        ));
    };
    let id_column = args
        .id_column
        .clone()
        .ok_or_else(|| Failure::usage("--id-column COL is required with --input"))?;
    if !(0.0..=1.0).contains(&args.max_delete_share) {
        return Err(Failure::usage(
            "--max-delete-share is a share between 0 and 1",
        ));
    }
    let maps = input::parse_maps(&args.maps).map_err(Failure::usage)?;
    // Who acts for whom comes first: a new user's first run learns what is missing before a
    // large input is read.
    let credentials = Credentials::load(global).await.map_err(Failure::usage)?;
    let mut user_list = match (&args.users, &args.user) {
        (Some(file), _) => users::read(file).map_err(|e| Failure::usage(e.join("\n")))?,
        (None, Some(u)) => vec![u.clone()],
        (None, None) if credentials.delegates() => {
            return Err(Failure::usage(
                "a service account acts for Workspace users: give --user EMAIL or --users FILE",
            ));
        }
        (None, None) => vec!["me".to_string()],
    };
    let shard = match args.shard {
        Some(s) => Some(s),
        None => Shard::from_env(args.shard_count).map_err(Failure::usage)?,
    };
    if let Some(s) = shard {
        let all = user_list.len();
        user_list.retain(|u| s.contains(u));
        out!("Shard {s}: {} of {all} users.", user_list.len());
    }
    credentials
        .check_acts_for(&user_list, args.users.is_some())
        .await
        .map_err(Failure::usage)?;
    let directory = input::read(&path, &id_column, &maps).map_err(|errors| {
        let mut msg = format!(
            "{} problem(s) in {}; nothing was sent:",
            errors.len(),
            path.display()
        );
        for e in &errors {
            let _ = write!(msg, "\n  {}: {e}", path.display());
        }
        Failure::usage(msg)
    })?;
    let mut targets = Vec::with_capacity(user_list.len());
    for u in user_list {
        let client = credentials
            .client(&u, global.base_url.as_deref())
            .map_err(|e| Failure::usage(e.to_string()))?;
        targets.push((u, client));
    }
    out!(
        "gpeople sync: {} records from {} into {} user(s), as {}{}.",
        directory.records.len(),
        path.display(),
        targets.len(),
        credentials.describe(),
        if args.dry_run {
            " (dry run: nothing is written)"
        } else {
            ""
        }
    );
    let settings = settings(&args, directory.fields);
    let totals = execute(&settings, targets, Arc::new(directory.records)).await?;
    Ok(totals.exit_code())
}

/// Settings from the arguments.
pub fn settings(args: &SyncArgs, fields: FieldMask<PersonField>) -> Settings {
    let state = State::open(args.state_dir.clone());
    let report = args.report.clone().unwrap_or_else(|| match &state {
        State::Dir(dir) => dir.join(format!("{}-report.csv", args.job)),
        State::Memory { .. } => PathBuf::from("gpeople-sync-report.csv"),
    });
    Settings {
        job: args.job.clone(),
        fields,
        delete: args.delete,
        allow_mass_delete: args.allow_mass_delete,
        max_delete_share: args.max_delete_share,
        mass_delete_floor: args.mass_delete_floor,
        group: args.group.clone(),
        my_contacts: !args.no_my_contacts,
        adopt_by_email: args.adopt_by.as_deref() == Some("email"),
        lease_wait: args.wait_for_lease.unwrap_or_default(),
        dry_run: args.dry_run,
        policy: if args.keep_edits {
            ConflictPolicy::Keep
        } else {
            ConflictPolicy::Overwrite
        },
        recreate: !args.no_recreate,
        state,
        show_state: true,
        concurrency: args.concurrency.max(1),
        quota: quota(args),
        budgets: Default::default(),
        report,
    }
}

/// Where a run keeps its state.
pub enum State {
    /// A directory it can write: incremental runs.
    Dir(PathBuf),
    /// None could be written: this run lists every contact, as a first run does (never a
    /// duplicate: every managed contact carries its key).
    Memory { dir: PathBuf, why: String },
}

impl State {
    /// `--state-dir` (or `GPEOPLE_STATE_DIR`), else the platform's state directory; checked by
    /// writing a probe file in it.
    pub fn open(dir: Option<PathBuf>) -> Self {
        let dir = dir.unwrap_or_else(default_state_dir);
        let probe = dir.join(format!(".gpeople-probe.{}", std::process::id()));
        let writable = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&probe, b"probe"))
            .and_then(|()| std::fs::remove_file(&probe));
        match writable {
            Ok(()) => State::Dir(dir),
            Err(e) => State::Memory {
                dir,
                why: e.to_string(),
            },
        }
    }

    fn store(&self) -> Arc<dyn SyncStore> {
        match self {
            State::Dir(dir) => Arc::new(FileStore::new(dir.clone())),
            State::Memory { .. } => Arc::new(MemoryStore::new()),
        }
    }

    /// The line that names it in the summary.
    fn describe(&self) -> String {
        match self {
            State::Dir(dir) => format!(
                "state: {} (the next run reads only the changes)",
                dir.display()
            ),
            State::Memory { dir, why } => format!(
                "state: cannot write {} ({why}); this run lists every contact and keeps no \
                 state (give --state-dir DIR)",
                dir.display()
            ),
        }
    }
}

/// The platform's state directory for gpeople: `$XDG_STATE_HOME/gpeople` or
/// `~/.local/state/gpeople` on Linux, the local application data directory on macOS and
/// Windows; the working directory's `.gpeople-state` when there is no home.
fn default_state_dir() -> PathBuf {
    match directories::ProjectDirs::from("", "", "gpeople") {
        Some(p) => p
            .state_dir()
            .unwrap_or_else(|| p.data_local_dir())
            .to_path_buf(),
        None => PathBuf::from(".gpeople-state"),
    }
}

/// Sync every target user with the same records; print the plan (dry run) or a summary table;
/// write the report. Progress bars only on a terminal.
pub async fn execute(
    settings: &Settings,
    targets: Vec<(String, Client)>,
    records: Arc<Vec<Record>>,
) -> Result<Totals, Failure> {
    let bars = MultiProgress::with_draw_target(if std::io::stdout().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let overall = bars.add(ProgressBar::new(targets.len() as u64));
    overall.set_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} users")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    overall.set_prefix("overall");
    let mut results: Vec<(String, UserResult)> = futures_util::stream::iter(targets)
        .map(|(user, client)| {
            let records = records.clone();
            let bars = bars.clone();
            let overall = overall.clone();
            async move {
                let result = sync_one(settings, &user, client, records, &bars).await;
                overall.inc(1);
                (user, result)
            }
        })
        .buffer_unordered(settings.concurrency)
        .collect()
        .await;
    overall.finish_and_clear();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let mut totals = Totals::default();
    if settings.dry_run {
        print_plans(&results, settings);
    } else {
        print_table(&results, &mut totals);
    }
    let mut report = String::from("user,id,outcome,reason\n");
    let mut rows = 0;
    for (user, r) in &results {
        match r {
            UserResult::Done(_, _, outcomes) => {
                for o in outcomes {
                    let reason = match o {
                        RecordOutcome::Failed { error, .. } => error.to_string(),
                        RecordOutcome::Unknown { error, .. } => error.clone(),
                        RecordOutcome::Skipped { reason, .. } => reason.to_string(),
                        _ => continue,
                    };
                    rows += 1;
                    let _ = writeln!(
                        report,
                        "{},{},{},{}",
                        csv_cell(user),
                        csv_cell(o.id()),
                        o.kind(),
                        csv_cell(&reason)
                    );
                }
            }
            UserResult::Refused(why) => {
                totals.refused += 1;
                rows += 1;
                let _ = writeln!(report, "{},,refused,{}", csv_cell(user), csv_cell(why));
            }
            UserResult::Failed(why) => {
                totals.failed_users += 1;
                rows += 1;
                let _ = writeln!(report, "{},,failed,{}", csv_cell(user), csv_cell(why));
            }
            UserResult::Leased(_) => totals.leased += 1,
            UserResult::Deferred(why) => {
                totals.deferred += 1;
                rows += 1;
                let _ = writeln!(report, "{},,deferred,{}", csv_cell(user), csv_cell(why));
            }
            UserResult::Planned(_) => {}
        }
    }
    if !settings.dry_run && settings.show_state {
        out!("{}", settings.state.describe());
    }
    if !settings.dry_run && rows > 0 {
        std::fs::write(&settings.report, report).map_err(|e| {
            Failure::run(format!(
                "cannot write the report {}: {e}",
                settings.report.display()
            ))
        })?;
        out!(
            "{rows} record(s) or user(s) failed, are unknown or were refused, with the reason: {}",
            settings.report.display()
        );
    }
    if totals.leased > 0 {
        out!(
            "skipped: {} user(s) that another run is syncing (--wait-for-lease DURATION waits \
             for it)",
            totals.leased
        );
    }
    if totals.deferred > 0 {
        out!(
            "deferred: {} user(s) past their daily contact-write quota; nothing was written for \
             them, and the next run picks them up",
            totals.deferred
        );
    }
    if totals.refused > 0 {
        out!(
            "refused: {} user(s) by the mass-delete valve; their contacts were listed and \
             nothing was written for them (--allow-mass-delete to go on)",
            totals.refused
        );
    }
    Ok(totals)
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

async fn sync_one(
    settings: &Settings,
    user: &str,
    client: Client,
    records: Arc<Vec<Record>>,
    bars: &MultiProgress,
) -> UserResult {
    let job = match SyncJob::new(&client, &settings.job, settings.fields.clone()) {
        Ok(j) => j,
        Err(e) => return UserResult::Failed(e.to_string()),
    };
    let mut job = job
        .store_arc(settings.state.store())
        .user(user)
        .delete_missing(settings.delete)
        .allow_mass_delete(settings.allow_mass_delete)
        .max_delete_share(settings.max_delete_share)
        .mass_delete_floor(settings.mass_delete_floor)
        .conflict_policy(settings.policy)
        .recreate_deleted(settings.recreate)
        .my_contacts(settings.my_contacts)
        .adopt_by_email(settings.adopt_by_email)
        .lease_wait(settings.lease_wait)
        // The report lists only what needs attention; the table has the totals.
        .keep_all_outcomes(false);
    if let Some(g) = &settings.group {
        job = job.group(g.clone());
    }
    // Every user's requests stay under that user's quotas, against Google and the emulator
    // alike (each user has their own).
    job = job.rate_limit(settings.budget(user));
    tracing::info!(user, "planning");
    let retries_before = client.retry_count();
    let n = records.len();
    let input = (0..n).map(move |i| records[i].clone());
    let plan = match job.plan(input).await {
        Ok(p) => p,
        Err(e @ SyncError::MassDelete { .. }) => {
            return UserResult::Refused(format!("{e} (--allow-mass-delete)"));
        }
        Err(e @ SyncError::Leased { .. }) => return UserResult::Leased(e.to_string()),
        Err(e) => return UserResult::Failed(e.to_string()),
    };
    if settings.dry_run {
        return UserResult::Planned(Box::new(plan));
    }
    let c = plan.counts();
    let bar = bars.add(ProgressBar::new(
        (c.create
            + c.update
            + c.adopt
            + c.delete
            + c.duplicates
            + c.unchanged
            + c.skipped
            + c.over_limit) as u64,
    ));
    bar.set_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} records {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(short(user));
    let progress = bar.clone();
    let job = job.on_progress(move |p| {
        progress.set_position(p.done);
        if p.failed > 0 {
            progress.set_message(format!("({} failed)", p.failed));
        }
    });
    let result = job.apply(plan).await;
    bar.finish_and_clear();
    bars.remove(&bar);
    match result {
        Err(e @ SyncError::DailyQuota { .. }) => UserResult::Deferred(e.to_string()),
        Ok(report) => {
            let requests =
                report.summary.requests + client.retry_count().saturating_sub(retries_before);
            tracing::info!(user, requests, "synced");
            UserResult::Done(report.summary, requests, report.outcomes)
        }
        Err(e) => UserResult::Failed(e.to_string()),
    }
}

fn short(user: &str) -> String {
    let u = user.split('@').next().unwrap_or(user);
    u.chars().take(12).collect()
}

/// `units` as `critical reads 12, critical writes 6`.
fn units_text(units: &QuotaUnits) -> String {
    let parts: Vec<String> = units.iter().map(|(m, n)| format!("{m} {n}")).collect();
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join(", ")
    }
}

/// A duration in whole minutes and seconds: `0s`, `45s`, `3m 0s`, `2h 5m`.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, s / 60 % 60),
    }
}

fn print_plans(results: &[(String, UserResult)], settings: &Settings) {
    out!("Plan (dry run, nothing was written):");
    let quota = &settings.quota;
    let mut quotas = Vec::new();
    for (user, r) in results {
        match r {
            UserResult::Planned(plan) => {
                let q = plan.quota();
                quotas.push(q);
                let c = plan.counts();
                out!(
                    "  {user}: create {}, update {}, adopt {}, delete {}, duplicates {}, unchanged {}, skipped {}, over a limit {}, orphans {}{}",
                    c.create,
                    c.update,
                    c.adopt,
                    c.delete,
                    c.duplicates,
                    c.unchanged,
                    c.skipped,
                    c.over_limit,
                    c.orphans,
                    match &plan.group {
                        Some(g) => format!(
                            ", group \"{}\"{}: add {}, remove {}",
                            g.name,
                            if g.resource_name.is_none() {
                                " (to create)"
                            } else {
                                ""
                            },
                            c.group_add,
                            c.group_remove
                        ),
                        None => String::new(),
                    }
                );
                for cr in plan.creates.iter().take(5) {
                    out!("      + {}", cr.id);
                }
                if plan.creates.len() > 5 {
                    out!("      + … {} more", plan.creates.len() - 5);
                }
                for u in plan.updates.iter().take(5) {
                    let why = if u.edited_in_google {
                        " (edited in Google)"
                    } else {
                        ""
                    };
                    out!("      ~ {} {}{why}", u.id, u.resource_name);
                }
                if plan.updates.len() > 5 {
                    out!("      ~ … {} more", plan.updates.len() - 5);
                }
                for a in plan.adoptions.iter().take(5) {
                    out!(
                        "      = {} {} (adopted: it shares an email)",
                        a.id,
                        a.resource_name
                    );
                }
                if plan.adoptions.len() > 5 {
                    out!("      = … {} more", plan.adoptions.len() - 5);
                }
                for s in plan.skipped.iter().take(5) {
                    out!("      ? {}: {}", s.id, s.reason);
                }
                for d in plan.deletes.iter().take(5) {
                    let why = if d.duplicate { " (duplicate)" } else { "" };
                    out!("      - {} {}{why}", d.id, d.resource_name);
                }
                if plan.deletes.len() > 5 {
                    out!("      - … {} more", plan.deletes.len() - 5);
                }
                for (id, why) in &plan.over_limit {
                    out!("      ! {id}: {why}");
                }
                out!(
                    "      quota: {} requests ({} to plan, {} to apply); units: {}; at least {} under the per-user quotas{}",
                    q.requests(),
                    q.planning_requests,
                    q.apply_requests,
                    units_text(&q.units),
                    human(q.floor(quota)),
                    if q.fits_today(quota) {
                        ""
                    } else {
                        " (past the daily write quota: the run would be deferred)"
                    }
                );
            }
            UserResult::Refused(why) => out!("  {user}: REFUSED: {why}"),
            UserResult::Deferred(why) => out!("  {user}: DEFERRED: {why}"),
            UserResult::Leased(why) => out!("  {user}: SKIPPED: {why}"),
            UserResult::Failed(why) => out!("  {user}: FAILED: {why}"),
            UserResult::Done(..) => {}
        }
    }
    let total = quotas.iter().fold(QuotaPlan::default(), |a, b| a + *b);
    let limits: Vec<String> = QuotaMetric::ALL
        .iter()
        .map(|m| {
            format!(
                "{} {}/{}",
                m.as_str(),
                quota.limit(*m),
                if m.is_daily() { "day" } else { "min" }
            )
        })
        .collect();
    out!(
        "Quota plan: {} requests for {} user(s); units: {}; at least {} with --concurrency {} (per user: {}; --quota METRIC=N sets your project's).",
        total.requests(),
        quotas.len(),
        units_text(&total.units),
        human(domain_floor(&quotas, quota, settings.concurrency)),
        settings.concurrency,
        limits.join(", ")
    );
    if quota.minute != Duration::from_secs(60) {
        out!(
            "  (a quota minute lasts {}ms here, as the emulator's does)",
            quota.minute.as_millis()
        );
    }
}

fn print_table(results: &[(String, UserResult)], totals: &mut Totals) {
    let width = results
        .iter()
        .map(|(u, _)| u.len())
        .max()
        .unwrap_or(4)
        .max(5);
    out!(
        "{:<width$} {:>8} {:>8} {:>8} {:>9} {:>8} {:>10} {:>8} {:>7} {:>8} {:>9}",
        "user",
        "created",
        "updated",
        "adopted",
        "unchanged",
        "deleted",
        "duplicates",
        "skipped",
        "failed",
        "unknown",
        "requests"
    );
    let mut t = SyncSummary::default();
    let mut requests = 0;
    for (user, r) in results {
        match r {
            UserResult::Done(s, n, _) => {
                out!(
                    "{user:<width$} {:>8} {:>8} {:>8} {:>9} {:>8} {:>10} {:>8} {:>7} {:>8} {:>9}",
                    s.created,
                    s.updated,
                    s.adopted,
                    s.unchanged,
                    s.deleted,
                    s.duplicates_removed,
                    s.skipped,
                    s.failed,
                    s.unknown,
                    n
                );
                if !s.is_complete() {
                    totals.incomplete += 1;
                }
                t.created += s.created;
                t.updated += s.updated;
                t.adopted += s.adopted;
                t.unchanged += s.unchanged;
                t.deleted += s.deleted;
                t.duplicates_removed += s.duplicates_removed;
                t.skipped += s.skipped;
                t.failed += s.failed;
                t.unknown += s.unknown;
                t.requests += s.requests;
                t.writes += s.writes;
                requests += n;
            }
            UserResult::Refused(why) => out!("{user:<width$} REFUSED: {why}"),
            UserResult::Deferred(why) => out!("{user:<width$} DEFERRED: {why}"),
            UserResult::Leased(why) => out!("{user:<width$} SKIPPED: {why}"),
            UserResult::Failed(why) => out!("{user:<width$} FAILED: {why}"),
            UserResult::Planned(_) => {}
        }
    }
    if results.len() > 1 {
        out!(
            "{:<width$} {:>8} {:>8} {:>8} {:>9} {:>8} {:>10} {:>8} {:>7} {:>8} {:>9}",
            "total",
            t.created,
            t.updated,
            t.adopted,
            t.unchanged,
            t.deleted,
            t.duplicates_removed,
            t.skipped,
            t.failed,
            t.unknown,
            requests
        );
    }
    totals.summary = t;
    totals.requests = requests;
}
