//! The standalone binary prints its URL and a working token, and serves seeded contacts.

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
