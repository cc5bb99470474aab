//! `google-people-emulator [--port N] [--seed N] [--seed-other N] [--user EMAIL] ...
//! [--key-file FILE] [-- COMMAND ARGS...]`: run the emulator standalone (`--help` lists every
//! option).
//!
//! Prints `listening on http://127.0.0.1:N` and a ready-to-use access token; Ctrl-C stops it.
//! With `--key-file` it also writes a service account key that it trusts for domain-wide
//! delegation (what `gpeople --credentials` takes for a domain). After `--`, it runs the command
//! against itself instead (`GPEOPLE_BASE_URL`, `GPEOPLE_CREDENTIALS` and a scratch
//! `GPEOPLE_STATE_DIR` set), stops when the command ends, and exits with its status.

use std::process::ExitCode;

use std::path::PathBuf;

use google_people_emulator::{
    Config, Emulator, FaultRule, Quota, TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM,
    TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM,
};

/// The service account of `--key-file` and of `--` commands.
const SERVICE_ACCOUNT: &str = "gpeople@emulator.iam.gserviceaccount.com";

const USAGE: &str =
    "usage: google-people-emulator [--port N] [--seed N] [--seed-other N] [--seed-directory N] [--user EMAIL] [--fault SPEC]...
       [--keyless-service-account EMAIL]... [--workload-identity AUDIENCE=ISSUER]... [--key-file FILE]
       [--quota google|off] [--quota-minute DURATION] [-- COMMAND [ARGS...]]
  --port N      listen on 127.0.0.1:N (default 8080; 0 picks a free port)
  --seed N      create N generated contacts for the user
  --seed-other N  create N generated \"other contacts\" (collected by Gmail) for the user
  --seed-directory N  create N profiles in the directory of the user's domain
  --user EMAIL  the user the printed token belongs to (default user@example.com)
  --fault SPEC  inject a fault: KIND[,method=M][,user=U][,nth=N|first=N|between=FROM:TO|random=PERMILLE:SEED]
                KIND is an HTTP status (503), latency=MS, reset, lost, truncated, html502 or html502-after;
                e.g. --fault 503,method=people.batchUpdateContacts,nth=2
  --keyless-service-account EMAIL  a service account whose key the emulator holds (signJwt,
                generateAccessToken, domain-wide delegation); the user may act as it
  --workload-identity AUDIENCE=ISSUER  an STS provider accepting JWTs from ISSUER; every identity
                of its pool may act as the keyless service accounts
  --key-file FILE  write a service account key the emulator trusts, with domain-wide delegation
                for every user: `gpeople --credentials FILE --base-url URL` acts for any user
  --quota google|off  per-user quotas: Google's (default: 60 critical reads, 30 critical writes,
                90 group reads, 30 deletes and group writes, 50 photo writes a minute, 100,000
                contact writes a day; answered 429 RESOURCE_EXHAUSTED past them) or none
  --quota-minute DURATION  how long a quota minute lasts (default 1s, so that pacing shows in
                seconds; 60s for Google's real time); a day is 1,440 of them
  -- COMMAND ARGS...  run COMMAND against the emulator and exit with its status: it gets
                GPEOPLE_BASE_URL (the emulator), GPEOPLE_CREDENTIALS (the key file) and
                GPEOPLE_STATE_DIR (a scratch directory, as fresh as the emulator) and
                GPEOPLE_QUOTA_MINUTE (the quota minute, for gpeople's pacing) unless already
                set, and GOOGLE_PEOPLE_EMULATOR_TOKEN (the printed access token)";

#[tokio::main]
async fn main() -> ExitCode {
    let mut port: u16 = 8080;
    let mut seed: usize = 0;
    let mut seed_other: usize = 0;
    let mut seed_directory: usize = 0;
    let mut user = String::from("user@example.com");
    let mut faults = Vec::new();
    let mut keyless = Vec::new();
    let mut providers = Vec::new();
    let mut key_file: Option<PathBuf> = None;
    let mut quota_on = true;
    let mut minute = google_people_emulator::DEFAULT_QUOTA_MINUTE;
    let mut command: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--" {
            command = args.by_ref().collect();
            if command.is_empty() {
                return usage("-- needs a command to run");
            }
            break;
        }
        let value = match a.as_str() {
            "--port"
            | "--seed"
            | "--seed-other"
            | "--seed-directory"
            | "--user"
            | "--fault"
            | "--keyless-service-account"
            | "--workload-identity"
            | "--key-file"
            | "--quota"
            | "--quota-minute" => match args.next() {
                Some(v) => v,
                None => return usage(&format!("{a} needs a value")),
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => return usage(&format!("unknown argument {other}")),
        };
        match a.as_str() {
            "--port" => match value.parse() {
                Ok(p) => port = p,
                Err(_) => return usage("--port takes a number from 0 to 65535"),
            },
            "--seed" => match value.parse() {
                Ok(n) => seed = n,
                Err(_) => return usage("--seed takes a number"),
            },
            "--seed-other" => match value.parse() {
                Ok(n) => seed_other = n,
                Err(_) => return usage("--seed-other takes a number"),
            },
            "--seed-directory" => match value.parse() {
                Ok(n) => seed_directory = n,
                Err(_) => return usage("--seed-directory takes a number"),
            },
            "--fault" => match FaultRule::parse(&value) {
                Ok(r) => faults.push(r),
                Err(e) => return usage(&format!("--fault {value}: {e}")),
            },
            "--keyless-service-account" => keyless.push(value),
            "--quota" => match value.as_str() {
                "google" => quota_on = true,
                "off" => quota_on = false,
                _ => return usage("--quota takes google or off"),
            },
            "--quota-minute" => match parse_duration(&value) {
                Some(d) => minute = d,
                None => return usage("--quota-minute takes a duration above zero: 1s, 500ms, 60s"),
            },
            "--key-file" => key_file = Some(PathBuf::from(value)),
            "--workload-identity" => match value.split_once('=') {
                Some((audience, issuer)) => {
                    providers.push((audience.to_string(), issuer.to_string()))
                }
                None => return usage("--workload-identity takes AUDIENCE=ISSUER"),
            },
            _ => user = value,
        }
    }
    let mut config = Config::default();
    config.quota = quota_on.then(|| Quota::google().time_scale(minute));
    // A command run against the emulator gets a free port unless one was asked for.
    config.port = if !command.is_empty() && !port_given(&std::env::args().collect::<Vec<_>>()) {
        0
    } else {
        port
    };
    let emu = match Emulator::start_with(config).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let n_faults = faults.len();
    for f in faults {
        emu.add_fault(f);
    }
    if seed > 0 {
        emu.seed_contacts(&user, seed);
    }
    if seed_other > 0 {
        emu.seed_other_contacts(&user, seed_other);
    }
    let domain = user
        .rsplit_once('@')
        .map_or("example.com", |(_, d)| d)
        .to_string();
    for i in 0..seed_directory {
        emu.add_directory_person(
            &domain,
            google_people_emulator::DirectorySource::Profile,
            &serde_json::json!({
                "names": [{"displayName": format!("Colleague {i}"), "givenName": "Colleague", "familyName": format!("{i}")}],
                "emailAddresses": [{"value": format!("colleague{i}@{domain}")}]
            }),
        );
    }
    for sa in &keyless {
        emu.register_keyless_service_account(sa, true);
        emu.grant_token_creator(&user, sa);
    }
    for (audience, issuer) in &providers {
        emu.register_workload_identity_provider(audience, issuer);
        for sa in &keyless {
            emu.grant_token_creator(
                &google_people_emulator::federated_principal_set(audience),
                sa,
            );
        }
    }
    // The printed token may also call IAM and the STS (the cloud-platform scope).
    let token = emu.issue_token_with_scopes(
        &user,
        &[
            google_people_emulator::CONTACTS_SCOPE,
            google_people_emulator::CLOUD_PLATFORM_SCOPE,
        ],
    );
    // A command's own output goes to stdout: the emulator speaks on stderr then.
    let say = |line: String| {
        if command.is_empty() {
            println!("{line}");
        } else {
            eprintln!("google-people-emulator: {line}");
        }
    };
    say(format!(
        "listening on {}",
        emu.base_url().trim_end_matches('/')
    ));
    say(format!("access token for {user}: {token}"));
    say(format!("token endpoint: {}", emu.token_url()));
    if !providers.is_empty() {
        say(format!("sts endpoint: {}", emu.sts_url()));
    }
    if n_faults > 0 {
        say(format!("fault rules: {n_faults}"));
    }
    if quota_on {
        say(format!(
            "quotas: Google's per user, a quota minute lasting {} (gpeople --quota-minute {})",
            duration_text(minute),
            duration_text(minute)
        ));
    }
    let scratch =
        std::env::temp_dir().join(format!("google-people-emulator-{}", std::process::id()));
    let key_file = match key_file {
        Some(f) => Some(f),
        None if !command.is_empty() => Some(scratch.join("key.json")),
        None => None,
    };
    if let Some(file) = &key_file {
        if let Err(e) = write_key_file(&emu, file) {
            eprintln!("cannot write the key file {}: {e}", file.display());
            emu.shutdown();
            return ExitCode::FAILURE;
        }
        say(format!(
            "service account key (domain-wide delegation for every user): {}",
            file.display()
        ));
    }
    if command.is_empty() {
        let _ = tokio::signal::ctrl_c().await;
        emu.shutdown();
        println!("stopped");
        return ExitCode::SUCCESS;
    }
    let code = run_command(
        &command,
        &emu.base_url(),
        key_file.as_deref(),
        &scratch.join("state"),
        &token,
        quota_on.then_some(minute),
    )
    .await;
    emu.shutdown();
    let _ = std::fs::remove_dir_all(&scratch);
    code
}

/// Whether `--port` was given on the command line before `--`.
fn port_given(args: &[String]) -> bool {
    args.iter()
        .take_while(|a| a.as_str() != "--")
        .any(|a| a == "--port")
}

/// Register the test service account with domain-wide delegation and write its key, as Google's
/// console would, with the emulator's token endpoint.
fn write_key_file(emu: &Emulator, file: &std::path::Path) -> std::io::Result<()> {
    emu.register_service_account(SERVICE_ACCOUNT, TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM, true)
        .map_err(std::io::Error::other)?;
    let key = serde_json::json!({
        "type": "service_account",
        "project_id": "emulator",
        "private_key_id": "emulator-key",
        "private_key": TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM,
        "client_email": SERVICE_ACCOUNT,
        "client_id": "100000000000000000001",
        "token_uri": emu.token_url(),
        "universe_domain": "googleapis.com",
    });
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(
        file,
        serde_json::to_vec_pretty(&key).map_err(std::io::Error::other)?,
    )
}

/// `1s`, `500ms`, `60s`: a duration above zero.
fn parse_duration(s: &str) -> Option<std::time::Duration> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    let d = match unit {
        "ms" => std::time::Duration::from_millis(n),
        "s" => std::time::Duration::from_secs(n),
        "m" | "min" => std::time::Duration::from_secs(n.checked_mul(60)?),
        _ => return None,
    };
    (!d.is_zero()).then_some(d)
}

/// A duration as `parse_duration` reads it back.
fn duration_text(d: std::time::Duration) -> String {
    format!("{}ms", d.as_millis())
}

/// Run `command` against the emulator; its exit status becomes ours (128 + N for a signal, as a
/// shell reports it).
async fn run_command(
    command: &[String],
    base_url: &str,
    key_file: Option<&std::path::Path>,
    state_dir: &std::path::Path,
    token: &str,
    quota_minute: Option<std::time::Duration>,
) -> ExitCode {
    let mut cmd = std::process::Command::new(&command[0]);
    cmd.args(&command[1..])
        .env("GOOGLE_PEOPLE_EMULATOR_TOKEN", token);
    let mut set_default = |name: &str, value: &std::ffi::OsStr| {
        if std::env::var_os(name).is_none() {
            cmd.env(name, value);
        }
    };
    set_default("GPEOPLE_BASE_URL", base_url.as_ref());
    if let Some(f) = key_file {
        set_default("GPEOPLE_CREDENTIALS", f.as_os_str());
    }
    set_default("GPEOPLE_STATE_DIR", state_dir.as_os_str());
    if let Some(minute) = quota_minute {
        set_default("GPEOPLE_QUOTA_MINUTE", duration_text(minute).as_ref());
    }
    let name = command[0].clone();
    let status = tokio::task::spawn_blocking(move || cmd.status()).await;
    match status {
        Ok(Ok(status)) => {
            if let Some(code) = status.code() {
                return ExitCode::from(u8::try_from(code).unwrap_or(1));
            }
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt as _;
                if let Some(signal) = status.signal() {
                    return ExitCode::from(u8::try_from(128 + signal).unwrap_or(1));
                }
            }
            ExitCode::FAILURE
        }
        Ok(Err(e)) => {
            eprintln!("google-people-emulator: cannot run {name}: {e}");
            ExitCode::from(127)
        }
        Err(e) => {
            eprintln!("google-people-emulator: {name}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("{msg}\n{USAGE}");
    ExitCode::from(2)
}
