//! `google-people-codegen`: generate a client module, or diff two discovery documents.
//!
//! ```text
//! google-people-codegen generate <doc.json> [--runtime-path <path>] [--crate-path <name>]
//! google-people-codegen diff <old.json> <new.json>
//! ```

use std::process::ExitCode;

use google_people_codegen::{Options, diff, parse, render};

const USAGE: &str = "usage:
  google-people-codegen generate <doc.json> [--runtime-path <path>] [--crate-path <name>]
      Write the Rust source of a client module for the discovery document to stdout.
      --runtime-path defaults to `crate::runtime`; use `::google_people::runtime` to compile the
      output as a module of a crate that depends on google-people.
  google-people-codegen diff <old.json> <new.json>
      Print the API surface change between two revisions, one line each.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("{msg}");
            ExitCode::from(2)
        }
    }
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

fn run(args: &[String]) -> Result<String, String> {
    match args.first().map(String::as_str) {
        Some("generate") => {
            let mut opts = Options::default();
            let mut doc = None;
            let mut it = args[1..].iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--runtime-path" => opts.runtime_path = it.next().ok_or(USAGE)?.clone(),
                    "--crate-path" => opts.crate_path = Some(it.next().ok_or(USAGE)?.clone()),
                    s if s.starts_with("--") => return Err(format!("unknown option {s}\n{USAGE}")),
                    s if doc.is_none() => doc = Some(s.to_string()),
                    _ => return Err(USAGE.into()),
                }
            }
            let path = doc.ok_or(USAGE)?;
            render(&read(&path)?, &opts).map_err(|e| format!("{path}: {e}"))
        }
        Some("diff") if args.len() == 3 => {
            let old = parse(&read(&args[1])?).map_err(|e| format!("{}: {e}", args[1]))?;
            let new = parse(&read(&args[2])?).map_err(|e| format!("{}: {e}", args[2]))?;
            let lines = diff::diff(&old, &new);
            Ok(lines.iter().map(|l| format!("{l}\n")).collect())
        }
        _ => Err(USAGE.into()),
    }
}
