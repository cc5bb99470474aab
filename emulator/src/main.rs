//! `google-people-emulator [--port N] [--seed N] [--seed-other N] [--user EMAIL] ...`: run the
//! emulator standalone (`--help` lists every option).
//!
//! Prints `listening on http://127.0.0.1:N` and a ready-to-use access token; Ctrl-C stops it.

use std::process::ExitCode;

use google_people_emulator::{Config, Emulator, FaultRule};

const USAGE: &str =
    "usage: google-people-emulator [--port N] [--seed N] [--seed-other N] [--seed-directory N] [--user EMAIL] [--fault SPEC]...
       [--keyless-service-account EMAIL]... [--workload-identity AUDIENCE=ISSUER]...
  --port N      listen on 127.0.0.1:N (default 8080; 0 picks a free port)
  --seed N      create N generated contacts for the user
  --seed-other N  create N generated \"other contacts\" (collected by Gmail) for the user
  --seed-directory N  create N profiles in the directory of the user's domain
  --user EMAIL  the user the printed token belongs to (default user@example.com)
  --fault SPEC  inject a fault: KIND[,method=M][,user=U][,nth=N|first=N|random=PERMILLE:SEED]
                KIND is an HTTP status (503), latency=MS, reset, lost, truncated, html502 or html502-after;
                e.g. --fault 503,method=people.batchUpdateContacts,nth=2
  --keyless-service-account EMAIL  a service account whose key the emulator holds (signJwt,
                generateAccessToken, domain-wide delegation); the user may act as it
  --workload-identity AUDIENCE=ISSUER  an STS provider accepting JWTs from ISSUER; every identity
                of its pool may act as the keyless service accounts";

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
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = match a.as_str() {
            "--port"
            | "--seed"
            | "--seed-other"
            | "--seed-directory"
            | "--user"
            | "--fault"
            | "--keyless-service-account"
            | "--workload-identity" => match args.next() {
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
    config.port = port;
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
    println!("listening on {}", emu.base_url().trim_end_matches('/'));
    println!("access token for {user}: {token}");
    println!("token endpoint: {}", emu.token_url());
    if !providers.is_empty() {
        println!("sts endpoint: {}", emu.sts_url());
    }
    if n_faults > 0 {
        println!("fault rules: {n_faults}");
    }
    let _ = tokio::signal::ctrl_c().await;
    emu.shutdown();
    println!("stopped");
    ExitCode::SUCCESS
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("{msg}\n{USAGE}");
    ExitCode::from(2)
}
