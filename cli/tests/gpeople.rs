//! The compiled `gpeople` binary, run as an administrator would: against an emulator the test
//! starts (a service account with domain-wide delegation, as for a real domain), or with no
//! credentials at all (the demo). Checks read the emulator's stored state and request counts.

use std::path::PathBuf;
use std::process::{Command, Output};

use google_people_emulator::{
    Emulator, TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM, TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM,
};
use serde_json::json;

const SA: &str = "gpeople@project.iam.gserviceaccount.com";
const KEY: &str = "google-people.sync/gpeople";

/// A scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gpeople-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

struct Domain {
    emu: Emulator,
    dir: PathBuf,
    key: PathBuf,
    users: PathBuf,
}

async fn domain(name: &str, users: &[&str]) -> Domain {
    let emu = Emulator::start().await.unwrap();
    emu.register_service_account(SA, TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM, true)
        .unwrap();
    let dir = scratch(name);
    let key = dir.join("key.json");
    std::fs::write(
        &key,
        json!({
            "type": "service_account",
            "project_id": "project",
            "private_key_id": "k1",
            "private_key": TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM,
            "client_email": SA,
            "token_uri": emu.token_url(),
        })
        .to_string(),
    )
    .unwrap();
    let users_file = dir.join("users.txt");
    std::fs::write(&users_file, users.join("\n")).unwrap();
    Domain {
        emu,
        dir,
        key,
        users: users_file,
    }
}

impl Domain {
    /// Run `gpeople` with the domain's credentials, emulator and state.
    async fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> (Output, String, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpeople"));
        cmd.args(args)
            .arg("--credentials")
            .arg(&self.key)
            .arg("--base-url")
            .arg(self.emu.base_url())
            .env("GPEOPLE_STATE_DIR", self.dir.join("state"))
            .current_dir(&self.dir);
        run(cmd).await
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn mutations(&self) -> u64 {
        [
            "people.batchCreateContacts",
            "people.batchUpdateContacts",
            "people.batchDeleteContacts",
            "contactGroups.create",
            "contactGroups.members.modify",
        ]
        .iter()
        .map(|m| self.emu.request_count(m, None))
        .sum()
    }

    /// Managed contacts of `user`: id → family name.
    fn managed(&self, user: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .emu
            .contacts(user)
            .iter()
            .filter_map(|c| {
                let id = c["clientData"]
                    .as_array()?
                    .iter()
                    .find(|d| d["key"] == KEY)?["value"]
                    .as_str()?
                    .to_string();
                Some((
                    id,
                    c["names"][0]["familyName"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                ))
            })
            .collect();
        out.sort();
        out
    }
}

async fn run(mut cmd: Command) -> (Output, String, String) {
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

const DIRECTORY: &str = "employee_id,given_name,family_name,email,phone,organization,title\n\
E1,Ada,Lovelace,ada@corp.example,+1 555 0101,Corp,Countess\n\
E2,Alan,Turing,alan@corp.example,+1 555 0102,Corp,Researcher\n\
E3,Grace,Hopper,grace@corp.example,+1 555 0103,Corp,Admiral\n\
E4,\"Edsger W.\",Dijkstra,edsger@corp.example,,Corp,\"Professor, Emeritus\"\n";

/// A column of the summary table's `total` row (or of the only user's row), by its header.
fn column(table: &str, name: &str) -> u64 {
    let header: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with("user "))
        .unwrap_or_else(|| panic!("no table in:\n{table}"))
        .split_whitespace()
        .collect();
    let i = header.iter().position(|h| *h == name).unwrap();
    let row = table
        .lines()
        .find(|l| l.starts_with("total"))
        .or_else(|| table.lines().skip_while(|l| !l.starts_with("user ")).nth(1))
        .unwrap();
    row.split_whitespace().nth(i).unwrap().parse().unwrap()
}

fn users(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("user{i}@example.com")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_then_resync_costs_one_request_per_user_and_a_dry_run_sends_nothing() {
    let names = users(3);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let d = domain("resync", &refs).await;
    let input = d.write("directory.csv", DIRECTORY);
    let args = |extra: &[&'static str]| {
        let mut a: Vec<String> = vec![
            "sync".into(),
            "--input".into(),
            input.display().to_string(),
            "--id-column".into(),
            "employee_id".into(),
            "--users".into(),
            d.users.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };

    // A dry run: reads only.
    let (out, stdout, stderr) = d.run(&args(&["--dry-run"])).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("create 4, update 0"), "{stdout}");
    assert_eq!(d.mutations(), 0, "a dry run writes nothing");

    let (out, stdout, stderr) = d.run(&args(&[])).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for u in &names {
        assert_eq!(d.managed(u).len(), 4, "{u}");
    }
    assert!(stdout.contains("total"), "{stdout}");
    // Progress bars are off when stdout is not a terminal.
    assert!(
        !stderr.contains("records") && !stdout.contains('['),
        "{stdout}\n{stderr}"
    );

    // Again: one listing request per user, no write.
    let before: u64 = names
        .iter()
        .map(|u| {
            d.emu.request_count("people.connections.list", Some(u))
                + d.emu.request_count("people.getBatchGet", Some(u))
        })
        .sum();
    let writes = d.mutations();
    let (out, stdout, _) = d.run(&args(&[])).await;
    assert_eq!(out.status.code(), Some(0));
    let after: u64 = names
        .iter()
        .map(|u| {
            d.emu.request_count("people.connections.list", Some(u))
                + d.emu.request_count("people.getBatchGet", Some(u))
        })
        .sum();
    assert_eq!(after - before, 3, "one request per user:\n{stdout}");
    assert_eq!(d.mutations(), writes, "no write");

    // A change is picked up; a removed record is deleted with --delete (and the valve allows it
    // only explicitly: 1 of 4 is 25%).
    let changed = DIRECTORY.replace("Hopper", "Hopper-Murray");
    let changed: String = changed
        .lines()
        .filter(|l| !l.starts_with("E4,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&input, changed).unwrap();
    // With no floor, 1 of 4 (25%) is over the 10% share: every user refused, nothing written;
    // the contacts were listed, so this is its own exit status, and the last line says so.
    let writes = d.mutations();
    let (out, stdout, stderr) = d
        .run(&args(&["--delete", "--mass-delete-floor", "0"]))
        .await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "the valve refuses:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("REFUSED"), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("refused: 3 user(s)"),
        "{stdout}"
    );
    assert_eq!(d.mutations(), writes, "nothing written");
    // The default floor (5) lets a run delete 1 contact whatever the share.
    let (out, stdout, stderr) = d.run(&args(&["--delete"])).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    for u in &names {
        let m = d.managed(u);
        assert_eq!(m.len(), 3, "{u}: {m:?}");
        assert!(m.contains(&("E3".into(), "Hopper-Murray".into())), "{m:?}");
    }
    // `deleted` counts the record that left the input; duplicates have their own column.
    let header: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with("user "))
        .unwrap()
        .split_whitespace()
        .collect();
    let total: Vec<&str> = stdout
        .lines()
        .find(|l| l.starts_with("total"))
        .unwrap()
        .split_whitespace()
        .collect();
    let col = |name: &str| total[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!((col("deleted"), col("duplicates")), ("3", "0"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_input_gets_every_error_with_its_line_and_nothing_is_sent() {
    let d = domain("malformed", &["user0@example.com"]).await;
    let bad = d.write(
        "bad.csv",
        "employee_id,given_name,family_name,email,favourite_colour\n\
         E1,Ada,Lovelace,ada@corp.example,blue\n\
         E2,Alan,Turing,not-an-email,green\n\
         E1,Ada,Again,ada2@corp.example,red\n\
         E3,\"Grace,Hopper,grace@corp.example,red\n",
    );
    let (out, stdout, stderr) = d
        .run(&[
            "sync",
            "--input",
            bad.to_str().unwrap(),
            "--id-column",
            "employee_id",
            "--user",
            "user0@example.com",
        ])
        .await;
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    for want in [
        "unknown column \"favourite_colour\"",
        "line 3: \"not-an-email\" is not an email address",
        "line 4: id \"E1\" appears again (first on line 2)",
        "nothing was sent",
    ] {
        assert!(stderr.contains(want), "{want}: {stderr}");
    }
    // Bad quoting: the CSV reader's error, with its line.
    let quoted = d.write(
        "quoted.csv",
        "employee_id,given_name,email\nE1,Ada,ada@corp.example\nE2,\"Alan,alan@corp.example\nE3,Grace\n",
    );
    let (out, _, stderr) = d
        .run(&[
            "sync",
            "--input",
            quoted.to_str().unwrap(),
            "--id-column",
            "employee_id",
            "--user",
            "user0@example.com",
        ])
        .await;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line "), "{stderr}");

    // JSONL: a value that is not a string.
    let jsonl = d.write(
        "bad.jsonl",
        "{\"id\": \"E1\", \"given_name\": \"Ada\"}\n{\"id\": \"E2\", \"given_name\": [\"Alan\"]}\nnot json\n",
    );
    let (out, _, stderr) = d
        .run(&[
            "sync",
            "--input",
            jsonl.to_str().unwrap(),
            "--id-column",
            "id",
            "--user",
            "user0@example.com",
        ])
        .await;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("line 2: \"given_name\" is a list"),
        "{stderr}"
    );
    assert!(stderr.contains("line 3: not a JSON object"), "{stderr}");

    // Usage errors: exit 2 too.
    let (out, _, stderr) = d.run(&["sync", "--input", bad.to_str().unwrap()]).await;
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let (out, _, _) = d.run(&["sync", "--shard", "3/2"]).await;
    assert_eq!(out.status.code(), Some(2));
    // The credentials are checked first (a token request for the first user), then the input:
    // not one People API request.
    assert_eq!(
        d.emu.total_requests() - d.emu.request_count("oauth2.token", None),
        0,
        "nothing was sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_code_one_when_some_records_fail_with_a_report() {
    let d = domain(
        "failures",
        &["user0@example.com", "nodelegation@example.com"],
    )
    .await;
    let input = d.write("directory.csv", DIRECTORY);
    // A second domain user whose token the emulator refuses: everything fails for them.
    d.emu.add_fault(
        google_people_emulator::FaultRule::new(google_people_emulator::Fault::Status(403))
            .user("nodelegation@example.com"),
    );
    let (out, stdout, stderr) = d
        .run(&[
            "sync",
            "--input",
            input.to_str().unwrap(),
            "--id-column",
            "employee_id",
            "--users",
            d.users.to_str().unwrap(),
        ])
        .await;
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("nodelegation@example.com FAILED"),
        "{stdout}"
    );
    // The report lives in the state directory, not the working directory.
    assert!(!d.dir.join("gpeople-sync-report.csv").exists());
    let report = std::fs::read_to_string(d.dir.join("state/gpeople-report.csv")).unwrap();
    assert!(report.starts_with("user,id,outcome,reason\n"), "{report}");
    assert!(
        report.contains("nodelegation@example.com,,failed,"),
        "{report}"
    );
    assert_eq!(
        d.managed("user0@example.com").len(),
        4,
        "the other user was synced"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_syncs_back_with_no_change() {
    let d = domain("export", &["user0@example.com"]).await;
    let input = d.write("directory.csv", DIRECTORY);
    let (out, ..) = d
        .run(&[
            "sync",
            "--input",
            input.to_str().unwrap(),
            "--id-column",
            "employee_id",
            "--user",
            "user0@example.com",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0));
    // Someone's own contact, not managed: exported, with an empty id.
    d.emu.insert_contact(
        "user0@example.com",
        &json!({"names": [{"givenName": "Own"}]}),
    );
    for (format, file) in [("csv", "export.csv"), ("jsonl", "export.jsonl")] {
        let (out, _, stderr) = d
            .run(&[
                "export",
                "--user",
                "user0@example.com",
                "--format",
                format,
                "--output",
                file,
            ])
            .await;
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains("5 contacts"), "{stderr}");
        // The managed rows only (a record needs an id), synced back: nothing changes.
        let text = std::fs::read_to_string(d.dir.join(file)).unwrap();
        let kept: String = text
            .lines()
            .filter(|l| !l.contains("Own"))
            .map(|l| format!("{l}\n"))
            .collect();
        let back = d.write(&format!("back.{format}"), &kept);
        let writes = d.mutations();
        let (out, stdout, stderr) = d
            .run(&[
                "sync",
                "--input",
                back.to_str().unwrap(),
                "--id-column",
                "id",
                "--user",
                "user0@example.com",
            ])
            .await;
        assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
        assert_eq!(d.mutations(), writes, "no change:\n{stdout}");
    }
    let csv = std::fs::read_to_string(d.dir.join("export.csv")).unwrap();
    assert!(
        csv.starts_with("resource_name,id,given_name,family_name"),
        "{csv}"
    );
    assert!(csv.contains("\"Professor, Emeritus\""), "{csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_cover_every_user_exactly_once() {
    let names = users(12);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let d = domain("shards", &refs).await;
    let input = d.write("directory.csv", DIRECTORY);
    let mut seen = Vec::new();
    for shard in ["0/2", "1/2"] {
        let (out, stdout, stderr) = d
            .run(&[
                "sync",
                "--input",
                input.to_str().unwrap(),
                "--id-column",
                "employee_id",
                "--users",
                d.users.to_str().unwrap(),
                "--shard",
                shard,
            ])
            .await;
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        for u in &names {
            if stdout.lines().any(|l| l.starts_with(u.as_str())) {
                seen.push(u.clone());
            }
        }
    }
    seen.sort();
    let mut all = names.clone();
    all.sort();
    assert_eq!(seen, all, "every user in exactly one shard");
    for u in &names {
        assert_eq!(
            d.emu.request_count("people.batchCreateContacts", Some(u)),
            1,
            "{u}"
        );
    }
    // The shard also comes from the scheduler's environment.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpeople"));
    cmd.args([
        "sync",
        "--dry-run",
        "--input",
        input.to_str().unwrap(),
        "--id-column",
        "employee_id",
        "--users",
        d.users.to_str().unwrap(),
    ])
    .arg("--credentials")
    .arg(&d.key)
    .args(["--base-url", &d.emu.base_url()])
    .env("CLOUD_RUN_TASK_INDEX", "1")
    .env("CLOUD_RUN_TASK_COUNT", "3")
    .env("GPEOPLE_STATE_DIR", d.dir.join("state"));
    let (out, stdout, _) = run(cmd).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("Shard 1/3"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_with_no_credentials() {
    let dir = scratch("demo");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpeople"));
    cmd.arg("sync")
        .current_dir(&dir)
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .env_remove("GPEOPLE_CREDENTIALS")
        .env_remove("GPEOPLE_BASE_URL")
        .env("HOME", &dir);
    let (out, stdout, stderr) = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let first = stdout.lines().next().unwrap();
    assert!(
        first.contains("demo on an embedded People API emulator"),
        "{first}"
    );
    // Step 2: one request per user; step 3: three updates per user.
    let steps: Vec<&str> = stdout.split("\n\n").collect();
    assert_eq!(steps.len(), 4, "{stdout}");
    assert_eq!(column(steps[1], "created"), 8_000, "created:\n{}", steps[1]);
    assert_eq!(
        column(steps[2], "requests"),
        4,
        "one request per user:\n{}",
        steps[2]
    );
    assert_eq!(
        column(steps[3], "updated"),
        12,
        "three updates per user:\n{}",
        steps[3]
    );
}

#[test]
fn help_and_usage_errors_exit_two() {
    let out = Command::new(env!("CARGO_BIN_EXE_gpeople"))
        .args(["sync", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_gpeople"))
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["sync", "apply", "export", "login", "whoami"] {
        assert!(help.contains(cmd), "{help}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_saves_owner_only_credentials_and_whoami_uses_them() {
    use std::io::BufRead as _;
    let emu = Emulator::start().await.unwrap();
    emu.register_oauth_client("desktop-client", "desktop-secret");
    emu.set_consent_user("you@example.com");
    let dir = scratch("login");
    let saved = dir.join("nested").join("credentials.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpeople"))
        .args([
            "login",
            "--client-id",
            "desktop-client",
            "--client-secret",
            "desktop-secret",
        ])
        .arg("--out")
        .arg(&saved)
        .args([
            "--auth-uri",
            &emu.authorize_url(),
            "--token-uri",
            &emu.token_url(),
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Read gpeople's output to the end (it prints more after the URL), passing the URL on.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if line.trim().starts_with("http")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(line.trim().to_string());
            }
        }
    });
    let url = rx.await.unwrap();
    // Play the browser: consent, and follow the redirect back to gpeople's listener.
    google_people::runtime::install_crypto_provider();
    reqwest::get(&url).await.unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    let creds: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    assert_eq!(creds["type"], "authorized_user");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&saved).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "owner-only");
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpeople"));
    cmd.arg("whoami")
        .arg("--credentials")
        .arg(&saved)
        .args(["--base-url", &emu.base_url()]);
    let (out, stdout, stderr) = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("you@example.com"), "{stdout}");
    assert!(!stdout.contains("desktop-secret") && !stderr.contains("desktop-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stdout_ends_the_output_not_the_program() {
    use std::io::BufRead as _;
    let dir = scratch("pipe");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpeople"))
        .arg("sync")
        .current_dir(&dir)
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .env_remove("GPEOPLE_CREDENTIALS")
        .env_remove("GPEOPLE_BASE_URL")
        .env("HOME", &dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Like `gpeople sync | head -1`: read one line, then close the pipe.
    let stdout = child.stdout.take().unwrap();
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        line
    })
    .await
    .unwrap();
    assert!(first.contains("demo"), "{first}");
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_closed_quietly(&out);
}

/// Ended as `ls | head` ends: by SIGPIPE, with nothing on stderr (no panic, no backtrace).
fn assert_closed_quietly(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.trim().is_empty(), "{stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        assert_eq!(
            out.status.signal(),
            Some(libc_sigpipe()),
            "{:?}",
            out.status
        );
    }
}

#[cfg(unix)]
fn libc_sigpipe() -> i32 {
    13
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyless_delegation_from_cloud_run_needs_no_key_file() {
    let runner = "runner@project.iam.gserviceaccount.com";
    let mut config = google_people_emulator::Config::default();
    config.metadata_user = Some(runner.into());
    let emu = Emulator::start_with(config).await.unwrap();
    emu.register_keyless_service_account(SA, true);
    let dir = scratch("keyless");
    let input = dir.join("directory.csv");
    std::fs::write(&input, DIRECTORY).unwrap();
    let gpeople = |home: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpeople"));
        cmd.args(["sync", "--input"])
            .arg(&input)
            .args(["--id-column", "employee_id", "--user", "ada@corp.example"])
            .args(["--service-account", SA, "--base-url"])
            .arg(emu.base_url())
            .args([
                "--iam-endpoint",
                &emu.base_url(),
                "--token-uri",
                &emu.token_url(),
            ])
            .env("GCE_METADATA_HOST", emu.addr().to_string())
            .env("HOME", home)
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .env_remove("GPEOPLE_CREDENTIALS")
            .env("GPEOPLE_STATE_DIR", dir.join("state"))
            .current_dir(&dir);
        cmd
    };
    let home = dir.join("home").display().to_string();

    // The runner may not sign as the account yet: the step and the permission are named.
    let (out, stdout, stderr) = run(gpeople(&home)).await;
    assert_ne!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("signJwt") && all.contains("PERMISSION_DENIED"),
        "{all}"
    );
    assert!(emu.contacts("ada@corp.example").is_empty());

    assert_eq!(
        emu.request_count("iam.signJwt", Some(runner)),
        1,
        "not retried"
    );

    emu.grant_token_creator(runner, SA);
    let (out, stdout, stderr) = run(gpeople(&home)).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(emu.contacts("ada@corp.example").len(), 4);
    assert!(stdout.contains("keyless"), "{stdout}");
    assert_eq!(emu.request_count("iam.signJwt", Some(runner)), 2);
}

/// `gpeople` with `args`, the domain's emulator and key, `HOME` and the XDG directories in the
/// test's scratch directory, and no state directory given.
fn gpeople_at_home(d: &Domain, home: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpeople"));
    cmd.args(args)
        .arg("--credentials")
        .arg(&d.key)
        .arg("--base-url")
        .arg(d.emu.base_url())
        .env("HOME", home)
        .env_remove("XDG_STATE_HOME")
        .env_remove("GPEOPLE_STATE_DIR")
        .current_dir(&d.dir);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_into_a_closed_pipe_ends_quietly_and_a_full_disk_is_an_error() {
    use std::io::BufRead as _;
    let d = domain("export-pipe", &["user0@example.com"]).await;
    d.emu.seed_contacts("user0@example.com", 3_000);
    let args = [
        "export",
        "--user",
        "user0@example.com",
        "--credentials",
        d.key.to_str().unwrap(),
        "--base-url",
    ];
    // `gpeople export | head -n 1`.
    let mut child = Command::new(env!("CARGO_BIN_EXE_gpeople"))
        .args(args)
        .arg(d.emu.base_url())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let first = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        line
    })
    .await
    .unwrap();
    assert!(first.starts_with("resource_name,id,"), "{first}");
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_closed_quietly(&out);
    assert!(
        d.emu.request_count("people.connections.list", None) < 3,
        "the export stopped instead of listing every page"
    );

    // `gpeople export > /dev/full`: a clear error, status 1.
    if std::path::Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpeople"));
        cmd.args(args).arg(d.emu.base_url()).stdout(full);
        let (out, _, stderr) = run(cmd).await;
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("writing the export failed: No space left on device"),
            "{stderr}"
        );
        // A sync's summary table into a full disk: the contacts are synced, the status says
        // the output was lost.
        let input = d.write("directory.csv", DIRECTORY);
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpeople"));
        cmd.args(["sync", "--input"])
            .arg(&input)
            .args(["--id-column", "employee_id", "--user", "user0@example.com"])
            .arg("--credentials")
            .arg(&d.key)
            .arg("--base-url")
            .arg(d.emu.base_url())
            .env("GPEOPLE_STATE_DIR", d.dir.join("state"))
            .stdout(full);
        let (out, _, stderr) = run(cmd).await;
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("writing to standard output failed"),
            "{stderr}"
        );
        assert_eq!(d.managed("user0@example.com").len(), 4);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_is_kept_in_the_platform_state_directory_with_no_flag() {
    let d = domain("xdg-state", &["user0@example.com"]).await;
    let input = d.write("directory.csv", DIRECTORY);
    let home = d.dir.join("home");
    let args = [
        "sync",
        "--input",
        input.to_str().unwrap(),
        "--id-column",
        "employee_id",
        "--user",
        "user0@example.com",
    ];
    let (out, stdout, stderr) = run(gpeople_at_home(&d, &home, &args)).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let state = home.join(".local/state/gpeople");
    assert!(
        stdout.contains(&format!("state: {}", state.display())),
        "{stdout}"
    );
    assert!(state.join("gpeople").exists(), "{stdout}");
    // Nothing to report: no report file, here or there.
    assert!(!d.dir.join("gpeople-sync-report.csv").exists());
    assert!(!state.join("gpeople-report.csv").exists());

    // The second run, no flag either: incremental, one request.
    let lists = d.emu.request_count("people.connections.list", None);
    let (out, stdout, _) = run(gpeople_at_home(&d, &home, &args)).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(column(&stdout, "requests"), 1, "{stdout}");
    assert_eq!(
        d.emu.request_count("people.connections.list", None),
        lists + 1
    );

    // `--state-dir` overrides it; one that cannot be written is named, and the run lists every
    // contact instead of guessing: no duplicate.
    let blocked = d.write("not-a-directory", "a file");
    let mut cmd = gpeople_at_home(&d, &home, &args);
    cmd.arg("--state-dir").arg(blocked.join("state"));
    let (out, stdout, stderr) = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("state: cannot write"), "{stdout}");
    assert_eq!(column(&stdout, "unchanged"), 4, "{stdout}");
    assert_eq!(d.managed("user0@example.com").len(), 4, "no duplicate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_real_run_is_told_what_is_missing_before_the_input_is_read() {
    let dir = scratch("guided");
    // No credentials at all (and no metadata server: the probe goes to a closed loopback port).
    // The input does not exist: the credentials are checked first.
    let (out, stdout, stderr) = run({
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpeople"));
        cmd.args([
            "sync",
            "--input",
            "missing.csv",
            "--id-column",
            "id",
            "--users",
            "users.txt",
        ])
        .current_dir(&dir)
        .env("HOME", &dir)
        .env("GCE_METADATA_HOST", "127.0.0.1:9")
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .env_remove("GPEOPLE_CREDENTIALS")
        .env_remove("GPEOPLE_BASE_URL");
        cmd
    })
    .await;
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    for want in [
        "no credentials",
        "Domain Wide Delegation",
        "https://www.googleapis.com/auth/contacts",
        "gpeople login",
    ] {
        assert!(stderr.contains(want), "{want}: {stderr}");
    }
    assert!(!stderr.contains("missing.csv"), "{stderr}");

    // A service account key without domain-wide delegation: the Admin console path, the
    // client ID and the scope; not one People API request.
    let emu = Emulator::start().await.unwrap();
    emu.register_service_account(SA, TEST_SERVICE_ACCOUNT_PUBLIC_KEY_PEM, false)
        .unwrap();
    let key = dir.join("key.json");
    std::fs::write(
        &key,
        json!({
            "type": "service_account",
            "private_key": TEST_SERVICE_ACCOUNT_PRIVATE_KEY_PEM,
            "client_email": SA,
            "client_id": "1234567890",
            "token_uri": emu.token_url(),
        })
        .to_string(),
    )
    .unwrap();
    let users = dir.join("users.txt");
    std::fs::write(&users, "ada@corp.example\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpeople"));
    cmd.args([
        "sync",
        "--input",
        "missing.csv",
        "--id-column",
        "id",
        "--users",
    ])
    .arg(&users)
    .arg("--credentials")
    .arg(&key)
    .args(["--base-url", &emu.base_url()])
    .current_dir(&dir);
    let (out, stdout, stderr) = run(cmd).await;
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    for want in [
        "no domain-wide delegation",
        "Security > Access and data control > API controls",
        "client ID 1234567890",
        "https://www.googleapis.com/auth/contacts",
    ] {
        assert!(stderr.contains(want), "{want}: {stderr}");
    }
    assert_eq!(
        emu.total_requests(),
        emu.request_count("oauth2.token", None)
    );

    // An authorized_user file (one account) with a users file.
    let user_file = dir.join("me.json");
    std::fs::write(
        &user_file,
        json!({
            "type": "authorized_user",
            "client_id": "c",
            "client_secret": "s",
            "refresh_token": "r",
        })
        .to_string(),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpeople"));
    cmd.args([
        "sync",
        "--input",
        "missing.csv",
        "--id-column",
        "id",
        "--users",
    ])
    .arg(&users)
    .arg("--credentials")
    .arg(&user_file)
    .args(["--base-url", &emu.base_url()])
    .current_dir(&dir);
    let (out, stdout, stderr) = run(cmd).await;
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("acts only for its own account") && stderr.contains("domain-wide"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_count_every_http_request_retries_included_and_an_access_token_works() {
    let emu = Emulator::start().await.unwrap();
    let user = "ada@corp.example";
    let dir = scratch("requests");
    let input = dir.join("directory.csv");
    std::fs::write(&input, DIRECTORY).unwrap();
    // The first listing answers 503 and is retried.
    emu.add_fault(
        google_people_emulator::FaultRule::new(google_people_emulator::Fault::Status(503))
            .method("people.connections.list")
            .nth(1),
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpeople"));
    cmd.args(["sync", "--input"])
        .arg(&input)
        .args(["--id-column", "employee_id"])
        .env("GPEOPLE_ACCESS_TOKEN", emu.issue_token(user))
        .env("GPEOPLE_BASE_URL", emu.base_url())
        .env("GPEOPLE_STATE_DIR", dir.join("state"))
        .env_remove("GPEOPLE_CREDENTIALS")
        .current_dir(&dir);
    let (out, stdout, stderr) = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(emu.contacts(user).len(), 4);
    let api_requests = emu.total_requests() - emu.request_count("oauth2.token", None);
    assert_eq!(column(&stdout, "requests"), api_requests, "{stdout}");
    assert!(
        api_requests >= 3,
        "a listing, its retry, a create: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_uri_overrides_the_key_files_own() {
    let d = domain("token-uri", &["user0@example.com"]).await;
    // A key whose token endpoint is a closed loopback port: only --token-uri can make it work.
    let mut key: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&d.key).unwrap()).unwrap();
    key["token_uri"] = "http://127.0.0.1:9/token".into();
    let moved = d.write("moved-key.json", &key.to_string());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpeople"));
    cmd.args(["whoami", "--user", "user0@example.com", "--credentials"])
        .arg(&moved)
        .args(["--base-url", &d.emu.base_url()])
        .args(["--token-uri", &d.emu.token_url()]);
    let (out, stdout, stderr) = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("acting as"), "{stdout}");
    assert_eq!(d.emu.request_count("oauth2.token", None), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_for_another_account_write_nothing_for_that_user() {
    let emu = Emulator::start().await.unwrap();
    let dir = scratch("wrong-account");
    let input = dir.join("directory.csv");
    std::fs::write(&input, DIRECTORY).unwrap();
    // Alice's token, told to sync into Bob's contacts.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gpeople"));
    cmd.args(["sync", "--input"])
        .arg(&input)
        .args(["--id-column", "employee_id", "--user", "bob@example.com"])
        .env("GPEOPLE_ACCESS_TOKEN", emu.issue_token("alice@example.com"))
        .env("GPEOPLE_BASE_URL", emu.base_url())
        .env("GPEOPLE_STATE_DIR", dir.join("state"))
        .env_remove("GPEOPLE_CREDENTIALS")
        .current_dir(&dir);
    let (out, stdout, stderr) = run(cmd).await;
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("bob@example.com FAILED: the credentials act for alice@example.com"),
        "{stdout}"
    );
    assert!(emu.contacts("alice@example.com").is_empty());
    assert!(emu.contacts("bob@example.com").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_prints_the_quota_plan_and_a_run_past_the_daily_quota_is_deferred() {
    let names = users(2);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let d = domain("quota-plan", &refs).await;
    let mut csv = String::from("employee_id,given_name,family_name,email\n");
    for i in 0..450 {
        csv.push_str(&format!("E{i},Given{i},Family{i},e{i}@corp.example\n"));
    }
    let input = d.write("directory.csv", &csv);
    let args = |extra: &[&str]| {
        let mut a: Vec<String> = vec![
            "sync".into(),
            "--input".into(),
            input.display().to_string(),
            "--id-column".into(),
            "employee_id".into(),
            "--users".into(),
            d.users.display().to_string(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    // 450 creates a user: 3 batches, 18 critical writes, 600 daily write units.
    let (out, stdout, stderr) = d
        .run(&args(&["--dry-run", "--quota", "daily_writes=400"]))
        .await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("quota: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.contains("critical writes 18"), "{line}");
    assert!(line.contains("daily contact writes 600"), "{line}");
    assert!(line.contains("would be deferred"), "{line}");
    let plan = stdout
        .lines()
        .find(|l| l.starts_with("Quota plan: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(plan.contains("for 2 user(s)"), "{plan}");
    assert!(plan.contains("daily_writes 400/day"), "{plan}");
    let predicted: u64 = plan["Quota plan: ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();

    // Past the daily quota: every user deferred, nothing written, exit 4, a report row each.
    let (out, stdout, stderr) = d.run(&args(&["--quota", "daily_writes=400"])).await;
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert_eq!(stdout.matches("DEFERRED: deferred:").count(), 2, "{stdout}");
    assert!(stdout.contains("deferred: 2 user(s)"), "{stdout}");
    assert_eq!(d.mutations(), 0, "nothing was written");
    let report = std::fs::read_to_string(d.dir.join("state/gpeople-report.csv")).unwrap();
    assert_eq!(report.matches(",deferred,").count(), 2, "{report}");

    // Within the quota: the run makes the requests the dry run said.
    let (out, stdout, stderr) = d.run(&args(&[])).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(column(&stdout, "created"), 900, "{stdout}");
    assert_eq!(column(&stdout, "requests"), predicted, "{stdout}");
}

/// `gpeople sync` of `csv` for the domain's users, as a child process.
fn sync_process(d: &Domain, input: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_gpeople"))
        .args(["sync", "--input"])
        .arg(input)
        .args(["--id-column", "employee_id", "--users"])
        .arg(&d.users)
        .arg("--credentials")
        .arg(&d.key)
        .arg("--base-url")
        .arg(d.emu.base_url())
        .env("GPEOPLE_STATE_DIR", d.dir.join("state"))
        .current_dir(&d.dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn big_directory(n: usize) -> String {
    let mut csv = String::from("employee_id,given_name,family_name,email\n");
    for i in 0..n {
        csv.push_str(&format!("E{i},Given{i},Family{i},e{i}@corp.example\n"));
    }
    csv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_started_together_create_every_record_once_between_them() {
    use google_people_emulator::{Fault, FaultRule};
    let names = users(3);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let d = domain("overlap", &refs).await;
    let input = d.write("directory.csv", &big_directory(450));
    // Slow listings: both runs are surely planning at the same time.
    d.emu.add_fault(
        FaultRule::new(Fault::Latency(std::time::Duration::from_millis(300)))
            .method("people.connections.list"),
    );
    let (a, b) = (sync_process(&d, &input), sync_process(&d, &input));
    let (a, b) = tokio::task::spawn_blocking(move || {
        (a.wait_with_output().unwrap(), b.wait_with_output().unwrap())
    })
    .await
    .unwrap();
    let mut created = 0;
    let mut skipped = 0;
    for out in [&a, &b] {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        skipped += stdout
            .matches("SKIPPED: skipped: another run is syncing")
            .count();
        created += stdout
            .lines()
            .filter(|l| l.starts_with("user") && l.contains("@example.com"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    // Each user synced by one run, skipped by the other.
    assert_eq!(skipped, 3);
    assert_eq!(created, 3 * 450);
    for u in &names {
        assert_eq!(d.managed(u).len(), 450, "{u}");
        assert_eq!(d.emu.contacts(u).len(), 450, "{u}: no duplicate");
    }
    assert_eq!(
        d.emu.request_count("people.batchCreateContacts", None),
        3 * 3
    );
    assert_eq!(d.emu.request_count("people.batchDeleteContacts", None), 0);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_by_sigkill_holds_no_lease() {
    use google_people_emulator::{Fault, FaultRule};
    let d = domain("killed", &["killed@example.com"]).await;
    let input = d.write("directory.csv", &big_directory(450));
    // The first run's account check (after planning, with the lease held) takes long: it is
    // killed there.
    d.emu.add_fault(
        FaultRule::new(Fault::Latency(std::time::Duration::from_secs(30))).method("people.get"),
    );
    let mut first = sync_process(&d, &input);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while d.emu.request_count("people.get", None) < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the first run never got to its account check"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    d.emu.clear_faults();
    let lock = d.dir.join("state/gpeople/killed@example.com.lock");
    assert!(lock.exists(), "the run held a lease");
    let (out, stdout, stderr) = d
        .run(&[
            "sync",
            "--input",
            input.to_str().unwrap(),
            "--id-column",
            "employee_id",
            "--user",
            "killed@example.com",
        ])
        .await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(!stdout.contains("SKIPPED"), "{stdout}");
    assert_eq!(d.managed("killed@example.com").len(), 450);
    assert_eq!(d.emu.contacts("killed@example.com").len(), 450);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopt_by_email_takes_the_users_own_contact_instead_of_a_duplicate() {
    let d = domain("adopt", &["user0@example.com"]).await;
    let own = d.emu.insert_contact(
        "user0@example.com",
        &json!({"names": [{"givenName": "Ada (old)"}], "emailAddresses": [{"value": "ADA@corp.example"}]}),
    );
    let input = d.write("directory.csv", DIRECTORY);
    let args = |extra: &[&str]| {
        let mut a: Vec<String> = [
            "sync",
            "--input",
            input.to_str().unwrap(),
            "--id-column",
            "employee_id",
            "--user",
            "user0@example.com",
            "--adopt-by",
            "email",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let (out, stdout, stderr) = d.run(&args(&["--dry-run"])).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("create 3, update 0, adopt 1"), "{stdout}");
    assert!(stdout.contains(&format!("= E1 {own} (adopted")), "{stdout}");
    let (out, stdout, stderr) = d.run(&args(&[])).await;
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(column(&stdout, "adopted"), 1, "{stdout}");
    assert_eq!(column(&stdout, "created"), 3, "{stdout}");
    assert_eq!(
        d.emu.contacts("user0@example.com").len(),
        4,
        "no duplicate of Ada"
    );
    assert!(
        d.managed("user0@example.com")
            .contains(&("E1".into(), "Lovelace".into()))
    );
}
