//! The standalone binary prints its URL and a working token, and serves seeded contacts;
//! `--key-file` writes a key it trusts, and `-- COMMAND` runs a command against it, with the
//! environment `gpeople` reads, and exits with the command's status.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn binary_prints_url_and_token_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_google-people-emulator"))
        .args(["--port", "0", "--seed", "3", "--user", "dev@example.com"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("listening on ")
        .expect(&first)
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let second = lines.next().unwrap().unwrap();
    let token = second.rsplit(' ').next().unwrap().to_string();
    assert!(
        second.starts_with("access token for dev@example.com: "),
        "{second}"
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let body = rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
            .get(format!("{url}/v1/people/me/connections?personFields=names"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["totalPeople"], 3, "{v}");
    child.kill().unwrap();
    child.wait().unwrap();

    // Faults from flags.
    let mut child = Command::new(env!("CARGO_BIN_EXE_google-people-emulator"))
        .args(["--port", "0", "--fault", "503,method=people.get,first=1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .next()
        .unwrap()
        .unwrap()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let token = lines
        .next()
        .unwrap()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    let statuses = rt.block_on(async {
        let http = reqwest::Client::new();
        let mut out = Vec::new();
        for _ in 0..2 {
            let r = http
                .get(format!("{url}/v1/people/me?personFields=names"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            out.push(r.status().as_u16());
        }
        out
    });
    assert_eq!(statuses, [503, 200]);
    child.kill().unwrap();
    child.wait().unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_google-people-emulator"))
        .args(["--fault", "teapot"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown fault kind"));

    let out = Command::new(env!("CARGO_BIN_EXE_google-people-emulator"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage"));
}

#[test]
fn a_command_runs_against_the_emulator_with_its_key_and_its_status_is_kept() {
    let dir = std::env::temp_dir().join(format!("emulator-standalone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("key.json");
    let out = Command::new(env!("CARGO_BIN_EXE_google-people-emulator"))
        .arg("--key-file")
        .arg(&key)
        .args([
            "--",
            "sh",
            "-c",
            "echo \"base=$GPEOPLE_BASE_URL\"; echo \"credentials=$GPEOPLE_CREDENTIALS\"; \
             echo \"state=$GPEOPLE_STATE_DIR\"; test -n \"$GOOGLE_PEOPLE_EMULATOR_TOKEN\" && exit 7",
        ])
        .env_remove("GPEOPLE_BASE_URL")
        .env_remove("GPEOPLE_CREDENTIALS")
        .env_remove("GPEOPLE_STATE_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "{stdout}\n{stderr}");
    // The command's stdout is its own: the emulator speaks on stderr.
    assert!(
        stderr.contains("listening on http://127.0.0.1:"),
        "{stderr}"
    );
    let base = stdout
        .lines()
        .find_map(|l| l.strip_prefix("base="))
        .unwrap();
    assert!(base.starts_with("http://127.0.0.1:"), "{stdout}");
    assert!(
        stdout.contains(&format!("credentials={}", key.display())),
        "{stdout}"
    );
    assert!(!stdout.contains("state=\n"), "{stdout}");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&key).unwrap()).unwrap();
    assert_eq!(written["type"], "service_account");
    assert_eq!(
        written["token_uri"].as_str().unwrap(),
        format!("{}token", base),
        "the key's token endpoint is the emulator's"
    );
    assert!(
        written["private_key"]
            .as_str()
            .unwrap()
            .contains("PRIVATE KEY")
    );

    // A command that cannot be started: 127, as a shell says.
    let out = Command::new(env!("CARGO_BIN_EXE_google-people-emulator"))
        .args(["--", "/no/such/command"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
    let _ = std::fs::remove_dir_all(&dir);
}
