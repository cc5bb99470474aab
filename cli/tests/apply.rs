//! `gpeople apply` (the change file applied to the contacts matching by email), end to end on its
//! embedded emulator: its summary, its report file and its exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gpeople-apply-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `gpeople apply --demo ARGS`, with no credentials in the environment.
fn run(args: &[&str]) -> (Output, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gpeople"))
        .args(["apply", "--demo"])
        .args(args)
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
        .env_remove("GPEOPLE_CREDENTIALS")
        .env_remove("GPEOPLE_BASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

/// The number on a summary line (`  updated      541`).
fn figure(stdout: &str, label: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix(label)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{stdout}"))
}

#[test]
fn a_small_sync_updates_matches_and_reports_the_rest() {
    let input = scratch("small.csv");
    std::fs::write(
        &input,
        "email,given_name,family_name,phone,organization,title\n\
         contact1@example.com,Ada,Lovelace,,,\n\
         CONTACT2@EXAMPLE.COM,,,+1 555 1234567,,\n\
         contact3@example.com,Given3,Family3,,,\n\
         contact4@example.com,,,,\"Smith, Jones & Partners\",Partner\n\
         nobody@example.org,No,Body,,,\n",
    )
    .unwrap();
    let report = scratch("small-report.csv");
    let (out, stdout, stderr) = run(&[
        "--contacts",
        "20",
        "--input",
        input.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout
            .lines()
            .next()
            .unwrap()
            .contains("the embedded People API emulator"),
        "the first line says where it runs:\n{stdout}"
    );
    assert_eq!(figure(&stdout, "rows"), 5);
    assert_eq!(figure(&stdout, "matched"), 4);
    assert_eq!(figure(&stdout, "updated"), 3, "{stdout}");
    assert_eq!(
        figure(&stdout, "unchanged"),
        1,
        "contact3 already holds those values"
    );
    assert_eq!(figure(&stdout, "failed"), 0);
    assert_eq!(figure(&stdout, "unknown"), 0);
    assert_eq!(figure(&stdout, "not found"), 1);
    assert_eq!(figure(&stdout, "requests"), 2, "one page, one batch");
    let report = std::fs::read_to_string(report).unwrap();
    assert_eq!(
        report,
        "line,email,status,reason\n6,nobody@example.org,not found,\"no contact has this email\"\n"
    );
}

#[test]
fn the_readme_command_with_the_shipped_sample() {
    let report = scratch("sample-report.csv");
    let (out, stdout, stderr) = run(&["--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let rows = figure(&stdout, "rows");
    assert_eq!(rows, 625);
    assert_eq!(figure(&stdout, "updated"), 541);
    assert_eq!(figure(&stdout, "unchanged"), 60);
    assert_eq!(figure(&stdout, "not found"), 24);
    assert_eq!(
        figure(&stdout, "requests"),
        6,
        "3 pages + 3 batches of <= 200"
    );
    let report = std::fs::read_to_string(report).unwrap();
    assert_eq!(report.lines().count(), 1 + 24);
}

#[test]
fn injected_faults_still_add_up() {
    let report = scratch("faults-report.csv");
    let (out, stdout, stderr) = run(&["--inject-faults", "--report", report.to_str().unwrap()]);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Injected faults"), "{stdout}");
    let (updated, unchanged, failed, unknown, not_found) = (
        figure(&stdout, "updated"),
        figure(&stdout, "unchanged"),
        figure(&stdout, "failed"),
        figure(&stdout, "unknown"),
        figure(&stdout, "not found"),
    );
    assert_eq!(
        updated + unchanged + failed + unknown + not_found,
        figure(&stdout, "rows")
    );
    assert_eq!(
        (failed, unknown),
        (0, 0),
        "retries and re-reads recover every contact:\n{stdout}"
    );
    assert_eq!(updated, 541);
    assert!(figure(&stdout, "retries") > 0);
    assert!(figure(&stdout, "requests") > 6);
}

#[test]
fn a_dry_run_sends_nothing() {
    let report = scratch("dry-report.csv");
    let (out, stdout, _) = run(&["--dry-run", "--report", report.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(stdout.contains("541 contact(s) would change"), "{stdout}");
    assert!(
        stdout.contains("family name \"Family2232\" -> \"Dijkstra\""),
        "{stdout}"
    );
    assert_eq!(figure(&stdout, "to update"), 541);
    assert_eq!(figure(&stdout, "requests"), 3, "the listing only");
}

#[test]
fn malformed_input_gets_line_numbered_errors_and_nothing_is_sent() {
    let input = scratch("bad.csv");
    std::fs::write(
        &input,
        "email,given_name\nok@example.com,A\n\"broken@example.com,B\nnot-an-email,C\nok@example.com,D\nx@example.com,E,F\n",
    )
    .unwrap();
    let (out, stdout, stderr) = run(&["--input", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    for expected in [
        "4 problem(s); nothing was sent",
        "line 3: an unterminated quote",
        "line 4: \"not-an-email\" is not an email address",
        "line 5: ok@example.com is already on line 2",
        "line 6: 3 fields, but the header has 2",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in:\n{stderr}");
    }
    assert!(!stdout.contains("Summary"));

    let input = scratch("bad.jsonl");
    std::fs::write(
        &input,
        "{\"email\":\"a@b.co\",\"given_name\":3}\nnot json\n",
    )
    .unwrap();
    let (out, _, stderr) = run(&["--input", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("line 1: given_name must be a string"),
        "{stderr}"
    );
    assert!(stderr.contains("line 2: not a JSON object"), "{stderr}");
}
