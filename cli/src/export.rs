//! `gpeople export`: every contact of a user, streamed page by page to CSV or JSONL in the
//! columns `gpeople sync` reads, so an export syncs back unchanged.

use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use futures_util::StreamExt as _;
use google_people::sync::KEY_PREFIX;
use google_people::{FieldMask, Person, PersonField};

use crate::auth::Credentials;
use crate::input::{EXPORT_COLUMNS, target_of};
use crate::{Failure, Global};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The user whose contacts to export (with a service account: the user it acts for).
    #[arg(long, alias = "subject", value_name = "EMAIL")]
    pub user: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Only these columns (comma-separated, e.g. given_name,family_name,email); default: all.
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub fields: Vec<String>,
    /// Write here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The sync job whose record ids fill the `id` column.
    #[arg(long, default_value = "gpeople", value_name = "NAME")]
    pub job: String,
}

pub async fn run(global: &Global, args: ExportArgs) -> Result<u8, Failure> {
    let columns: Vec<&str> = if args.fields.is_empty() {
        EXPORT_COLUMNS.to_vec()
    } else {
        let mut out = Vec::new();
        for f in &args.fields {
            let f = f.trim();
            match EXPORT_COLUMNS.iter().find(|c| **c == f) {
                Some(c) => out.push(*c),
                None => {
                    return Err(Failure::usage(format!(
                        "--fields: unknown column {f:?} (known: {})",
                        EXPORT_COLUMNS.join(", ")
                    )));
                }
            }
        }
        out
    };
    let credentials = Credentials::load(global).await.map_err(Failure::usage)?;
    let user = match (&args.user, credentials.delegates()) {
        (Some(u), _) => u.clone(),
        (None, true) => {
            return Err(Failure::usage(
                "a service account acts for Workspace users: give --user EMAIL",
            ));
        }
        (None, false) => "me".into(),
    };
    let client = credentials
        .client(&user, global.base_url.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let mut mask: FieldMask<PersonField> = FieldMask::from([PersonField::ClientData]);
    for c in &columns {
        if let Some(f) = target_of(c).and_then(crate::input::Target::field) {
            mask = mask.with(f);
        }
    }
    let sink: Box<dyn std::io::Write> = match &args.output {
        Some(p) => Box::new(
            std::fs::File::create(p)
                .map_err(|e| Failure::usage(format!("{}: {e}", p.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let out = std::io::BufWriter::new(sink);
    let key = format!("{KEY_PREFIX}{}", args.job);
    let header: Vec<&str> = ["resource_name", "id"]
        .into_iter()
        .chain(columns.iter().copied())
        .collect();
    // Rows go out as they come (the writers buffer a few KB): constant memory.
    enum Out {
        Csv(Box<csv::Writer<std::io::BufWriter<Box<dyn std::io::Write>>>>),
        Jsonl(std::io::BufWriter<Box<dyn std::io::Write>>),
    }
    let mut out = match args.format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&header).map_err(csv_io)?;
            Out::Csv(Box::new(w))
        }
        Format::Jsonl => Out::Jsonl(out),
    };
    let mut items = client
        .people()
        .connections()
        .list("people/me")
        .person_fields(mask)
        .page_size(1000)
        .by_item();
    let mut n = 0u64;
    while let Some(person) = items.next().await {
        let person = person
            .map_err(|e| Failure::run(format!("listing the contacts failed after {n}: {e}")))?;
        let row = row(&person, &key, &columns);
        match &mut out {
            Out::Csv(w) => w.write_record(&row).map_err(csv_io)?,
            Out::Jsonl(w) => {
                let obj: serde_json::Map<String, serde_json::Value> = header
                    .iter()
                    .zip(row)
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.to_string(), serde_json::Value::String(v)))
                    .collect();
                serde_json::to_writer(&mut *w, &obj).map_err(|e| match e.io_error_kind() {
                    Some(kind) => io(kind.into()),
                    None => Failure::run(format!("writing the export failed: {e}")),
                })?;
                w.write_all(b"\n").map_err(io)?;
            }
        }
        n += 1;
    }
    match &mut out {
        Out::Csv(w) => w.flush().map_err(io)?,
        Out::Jsonl(w) => w.flush().map_err(io)?,
    }
    err!("gpeople export: {n} contacts of {user}.");
    Ok(0)
}

/// A failed write: a closed pipe (`gpeople export | head`) ends the export quietly; anything
/// else (a full disk) is an error.
fn io(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Failure::closed_output()
    } else {
        Failure::run(format!("writing the export failed: {e}"))
    }
}

fn csv_io(e: csv::Error) -> Failure {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => io(e),
        other => Failure::run(format!("writing the export failed: {other:?}")),
    }
}

/// A person as a row: resource name, the job's record id, then `columns`.
fn row(p: &Person, key: &str, columns: &[&str]) -> Vec<String> {
    let id = p
        .client_data
        .iter()
        .flatten()
        .find(|c| c.key.as_deref() == Some(key))
        .and_then(|c| c.value.clone())
        .unwrap_or_default();
    let all = crate::input::cells(p);
    let mut out = vec![p.resource_name.clone().unwrap_or_default(), id];
    for c in columns {
        let i = EXPORT_COLUMNS.iter().position(|x| x == c).unwrap_or(0);
        out.push(all[i].clone());
    }
    out
}
