//! `gpeople sync` with no credentials and no input: the whole story on an embedded emulator, with
//! a shipped sample directory. A first sync, a re-sync that costs one request per user, and a
//! change in the directory being picked up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use google_people::runtime::RetryPolicy;
use google_people::sync::Record;
use google_people::{Client, Organization};
use google_people_emulator::{Config, Emulator, Quota as ServerQuota};

use crate::sync::{Settings, SyncArgs, execute, settings};
use crate::{Failure, input};

/// The sample directory and its users, shipped in the binary.
const DIRECTORY: &str = include_str!("../data/directory.csv");
const USERS: &str = include_str!("../data/users.txt");
/// How long a quota minute lasts on the demo's emulator (and in its pacing).
const QUOTA_MINUTE: Duration = Duration::from_secs(1);

pub async fn run(args: SyncArgs) -> Result<u8, Failure> {
    let users: Vec<String> = USERS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let dir = std::env::temp_dir().join(format!("gpeople-demo-{}", std::process::id()));
    let file = dir.join("directory.csv");
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(&file, DIRECTORY))
        .map_err(|e| Failure::run(format!("cannot prepare the demo in {}: {e}", dir.display())))?;
    let directory = input::read(&file, "employee_id", &Default::default())
        .map_err(|e| Failure::run(format!("the sample directory does not read: {e:?}")))?;
    let mut records = directory.records;
    out!(
        "gpeople sync: no credentials and no input, so this is a demo on an embedded People API \
         emulator: {} directory records (cli/data/directory.csv) kept in the contacts of {} users. \
         To sync your own: gpeople sync --input FILE --id-column COL --credentials KEY.json --users FILE",
        records.len(),
        users.len()
    );
    // Writes reach incremental listings at once here; Google takes up to minutes, so there a
    // re-sync right after a large first sync lists those writes again (pages, never writes).
    let mut config = Config::default();
    config.sync_propagation_delay = Duration::ZERO;
    // Google's per-user quotas, a minute lasting a second: the sync paces itself to them.
    config.quota = Some(ServerQuota::google().time_scale(QUOTA_MINUTE));
    let emu = Emulator::start_with(config)
        .await
        .map_err(|e| Failure::run(format!("cannot start the emulator: {e}")))?;
    let targets = || -> Result<Vec<(String, Client)>, Failure> {
        users
            .iter()
            .map(|u| {
                let client = Client::builder()
                    .base_url(emu.base_url())
                    .access_token(emu.issue_token(u))
                    .retry_policy(
                        RetryPolicy::default()
                            .with_delays(
                                Duration::from_millis(20),
                                Duration::from_millis(500),
                                Duration::from_millis(100),
                            )
                            .with_budget(6, Duration::from_secs(30)),
                    )
                    .build()
                    .map_err(|e| Failure::run(e.to_string()))?;
                Ok((u.clone(), client))
            })
            .collect()
    };
    let mut args = args;
    args.state_dir = Some(dir.join("state"));
    args.report = Some(dir.join("report.csv"));
    let mut settings: Settings = settings(&args, directory.fields);
    settings.show_state = false;
    settings.quota = settings.quota.clone().time_scale(QUOTA_MINUTE);

    let step = |title: &str| out!("\n{title}");
    step("1. First sync: every record becomes a contact, 200 per request.");
    let start = Instant::now();
    let first = execute(&settings, targets()?, Arc::new(records.clone())).await?;
    out!("   ({:.2}s)", start.elapsed().as_secs_f64());

    step("2. Run again with nothing changed: one request per user, no write.");
    let start = Instant::now();
    let second = execute(&settings, targets()?, Arc::new(records.clone())).await?;
    out!("   ({:.2}s)", start.elapsed().as_secs_f64());

    step("3. The directory changes (3 promotions): exactly those contacts are updated.");
    for r in records.iter_mut().take(3) {
        promote(r);
    }
    let start = Instant::now();
    let third = execute(&settings, targets()?, Arc::new(records)).await?;
    out!("   ({:.2}s)", start.elapsed().as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);
    Ok(first
        .exit_code()
        .max(second.exit_code())
        .max(third.exit_code()))
}

/// A new title for a record.
fn promote(r: &mut Record) {
    let orgs = r.person.organizations.get_or_insert_with(Vec::new);
    if orgs.is_empty() {
        orgs.push(Organization::new());
    }
    orgs[0].title = Some("Principal Engineer".into());
}
