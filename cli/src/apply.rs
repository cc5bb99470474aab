//! `gpeople apply`: a file of contact changes from another system (CSV or JSONL: email,
//! given/family name, phone, organization, title) applied to the contacts that match by email.
//!
//! It lists the user's contacts (one page stream), matches rows by email (ignoring case), builds
//! each update from the contact as listed (so fields the row leaves empty keep their values),
//! sends them through the batch helper (200 a request, one at a time), and gives contacts that
//! changed elsewhere in between a second chance with a read-modify-write. It ends with a summary
//! and writes the rows that failed, are unknown or matched no contact, with the reason, to a CSV
//! report. With no credentials and no input it runs on the embedded emulator with a sample file.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use google_people::batch::{BatchUpdate, ContactError, Outcome, RateLimit};
use google_people::quota::Quota;
use google_people::runtime::{FieldMask, RetryPolicy};
use google_people::{Client, Name, Organization, Person, PersonField, PhoneNumber};
use google_people_emulator::{Emulator, Fault, FaultRule};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::auth::Credentials;
use crate::{Failure, Global};

/// The sample change file of the demo.
const SAMPLE: &str = include_str!("../data/contact_changes.csv");

const DEMO_USER: &str = "demo@example.com";
const COLUMNS: [&str; 6] = [
    "email",
    "given_name",
    "family_name",
    "phone",
    "organization",
    "title",
];

type BoxError = Box<dyn std::error::Error>;

/// One row of the input: the email to match and the values to set (`None`: leave as is).
#[derive(Debug, Clone, Default)]
struct Row {
    line: usize,
    email: String,
    given_name: Option<String>,
    family_name: Option<String>,
    phone: Option<String>,
    organization: Option<String>,
    title: Option<String>,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// The change file: CSV or JSONL with an email column and any of given_name, family_name,
    /// phone, organization, title. With no credentials and no input: a demo on the emulator.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// The user whose contacts to change (with a service account: the user it acts for).
    #[arg(long, alias = "subject", value_name = "EMAIL")]
    pub user: Option<String>,
    /// Show what would change and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Rows that failed, are unknown or matched no contact are written here (CSV).
    #[arg(long, default_value = "gpeople-apply-report.csv", value_name = "FILE")]
    pub report: PathBuf,
    /// Run on the embedded emulator (a user with generated contacts), with --input or a sample
    /// change file. Also the default with no credentials and no input.
    #[arg(long)]
    pub demo: bool,
    /// Demo only: 20% each of 429, 503 and lost responses, and edits made elsewhere.
    #[arg(long)]
    pub inject_faults: bool,
    /// Demo only: how many contacts the emulated user has.
    #[arg(long, default_value_t = 3_000, hide = true)]
    pub contacts: usize,
}

/// A path as the user would type it: relative to the current directory when inside it.
fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|d| path.strip_prefix(d).ok())
        .unwrap_or(path)
        .display()
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// Input

/// Split one CSV line (RFC 4180 quoting; a field cannot span lines).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, '"') if at_start => {
                quoted = true;
                at_start = false;
            }
            (false, '"') => return Err("a quote inside an unquoted field".into()),
            (false, ',') => {
                fields.push(std::mem::take(&mut cur));
                at_start = true;
            }
            (false, c) => {
                cur.push(c);
                at_start = false;
            }
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            (true, '"') => {
                quoted = false;
                if !matches!(chars.peek(), None | Some(',')) {
                    return Err("text after a closing quote".into());
                }
            }
            (true, c) => cur.push(c),
        }
    }
    if quoted {
        return Err("an unterminated quote".into());
    }
    fields.push(cur);
    Ok(fields)
}

fn valid_email(e: &str) -> bool {
    let mut parts = e.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None)
        if !l.is_empty() && d.contains('.') && !e.contains(char::is_whitespace))
}

/// Build a row from named values, checking them.
fn row_from(line: usize, values: Vec<(String, String)>) -> Result<Row, String> {
    let mut row = Row {
        line,
        ..Row::default()
    };
    for (k, v) in values {
        let v = v.trim().to_string();
        let slot = match k.as_str() {
            "email" => {
                row.email = v;
                continue;
            }
            "given_name" => &mut row.given_name,
            "family_name" => &mut row.family_name,
            "phone" => &mut row.phone,
            "organization" => &mut row.organization,
            "title" => &mut row.title,
            other => {
                return Err(format!(
                    "unknown column {other:?} (known: {})",
                    COLUMNS.join(", ")
                ));
            }
        };
        *slot = (!v.is_empty()).then_some(v);
    }
    if row.email.is_empty() {
        return Err("no email".into());
    }
    if !valid_email(&row.email) {
        return Err(format!("{:?} is not an email address", row.email));
    }
    if let Some(p) = &row.phone
        && !p
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
    {
        return Err(format!("{p:?} is not a phone number"));
    }
    Ok(row)
}

/// Read a CSV (with a header line) or JSONL file. Every problem is reported with its line
/// number; any problem means nothing is sent.
fn read_rows(path: &Path) -> Result<Vec<Row>, Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![format!("{}: cannot read: {e}", path.display())])?;
    let jsonl = path.extension().is_some_and(|e| e == "jsonl");
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut header: Option<Vec<String>> = None;
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = if jsonl {
            match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line) {
                Ok(obj) => obj
                    .into_iter()
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) => Ok((k, s)),
                        serde_json::Value::Null => Ok((k, String::new())),
                        other => Err(format!("{k} must be a string, not {other}")),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .and_then(|values| row_from(n, values)),
                Err(e) => Err(format!("not a JSON object: {e}")),
            }
        } else {
            match (&header, csv_fields(line)) {
                (_, Err(e)) => Err(e),
                (None, Ok(names)) => {
                    let names: Vec<String> =
                        names.iter().map(|h| h.trim().to_lowercase()).collect();
                    if let Some(h) = names.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
                        return Err(vec![format!(
                            "line {n}: unknown column {h:?} (known: {})",
                            COLUMNS.join(", ")
                        )]);
                    }
                    if !names.iter().any(|h| h == "email") {
                        return Err(vec![format!("line {n}: the header has no email column")]);
                    }
                    header = Some(names);
                    continue;
                }
                (Some(h), Ok(fields)) if fields.len() != h.len() => Err(format!(
                    "{} fields, but the header has {}",
                    fields.len(),
                    h.len()
                )),
                (Some(h), Ok(fields)) => row_from(n, h.iter().cloned().zip(fields).collect()),
            }
        };
        match parsed {
            Ok(row) => {
                let key = row.email.to_lowercase();
                if let Some(first) = first_line.get(&key) {
                    errors.push(format!(
                        "line {n}: {} is already on line {first}",
                        row.email
                    ));
                } else {
                    first_line.insert(key, n);
                    rows.push(row);
                }
            }
            Err(e) => errors.push(format!("line {n}: {e}")),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------------------
// Changes

/// The fields the input touches, as a typed mask.
fn mask_for(rows: &[Row]) -> FieldMask<PersonField> {
    let mut mask = FieldMask::new();
    if rows
        .iter()
        .any(|r| r.given_name.is_some() || r.family_name.is_some())
    {
        mask = mask.with(PersonField::Names);
    }
    if rows.iter().any(|r| r.phone.is_some()) {
        mask = mask.with(PersonField::PhoneNumbers);
    }
    if rows
        .iter()
        .any(|r| r.organization.is_some() || r.title.is_some())
    {
        mask = mask.with(PersonField::Organizations);
    }
    mask
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Apply a row to a person; a description of each change (empty: nothing to change).
fn apply_row(p: &mut Person, row: &Row) -> Vec<String> {
    let mut changes = Vec::new();
    if row.given_name.is_some() || row.family_name.is_some() {
        let names = p.names.get_or_insert_with(Vec::new);
        if names.is_empty() {
            names.push(Name::new());
        }
        let name = &mut names[0];
        for (label, want, have) in [
            ("given name", &row.given_name, &mut name.given_name),
            ("family name", &row.family_name, &mut name.family_name),
        ] {
            if let Some(want) = want
                && have.as_deref() != Some(want.as_str())
            {
                changes.push(format!(
                    "{label} {:?} -> {want:?}",
                    have.as_deref().unwrap_or("")
                ));
                *have = Some(want.clone());
            }
        }
        if !changes.is_empty() {
            // Derived from the parts; the server recomputes them.
            name.display_name = None;
            name.display_name_last_first = None;
            name.unstructured_name = None;
        }
    }
    if let Some(want) = &row.phone {
        let phones = p.phone_numbers.get_or_insert_with(Vec::new);
        if !phones.iter().any(|ph| {
            ph.value
                .as_deref()
                .is_some_and(|v| digits(v) == digits(want))
        }) {
            changes.push(format!(
                "phone {:?} -> {want:?}",
                phones
                    .first()
                    .and_then(|ph| ph.value.as_deref())
                    .unwrap_or("")
            ));
            match phones.first_mut() {
                Some(ph) => {
                    ph.value = Some(want.clone());
                    ph.canonical_form = None;
                }
                None => phones.push(PhoneNumber::new().set_value(want.clone()).set_type("work")),
            }
        }
    }
    if row.organization.is_some() || row.title.is_some() {
        let orgs = p.organizations.get_or_insert_with(Vec::new);
        if orgs.is_empty() {
            orgs.push(Organization::new());
        }
        let org = &mut orgs[0];
        for (label, want, have) in [
            ("organization", &row.organization, &mut org.name),
            ("title", &row.title, &mut org.title),
        ] {
            if let Some(want) = want
                && have.as_deref() != Some(want.as_str())
            {
                changes.push(format!(
                    "{label} {:?} -> {want:?}",
                    have.as_deref().unwrap_or("")
                ));
                *have = Some(want.clone());
            }
        }
    }
    changes
}

/// The person to send: the etag and the masked fields as listed, with the row applied.
fn update_for(listed: &Person, row: &Row, mask: &FieldMask<PersonField>) -> (Person, Vec<String>) {
    let mut p = Person::new();
    p.etag = listed.etag.clone();
    p.resource_name = listed.resource_name.clone();
    for f in mask.fields() {
        match f {
            PersonField::Names => p.names = listed.names.clone(),
            PersonField::PhoneNumbers => p.phone_numbers = listed.phone_numbers.clone(),
            PersonField::Organizations => p.organizations = listed.organizations.clone(),
            _ => {}
        }
    }
    let changes = apply_row(&mut p, row);
    (p, changes)
}

// ---------------------------------------------------------------------------------------------
// The run

struct Target {
    client: Client,
    user: String,
    emulator: Option<Emulator>,
}

async fn connect(global: &Global, args: &ApplyArgs, demo: bool) -> Result<Target, BoxError> {
    if !demo {
        let credentials = Credentials::load(global).await?;
        let user = match (&args.user, credentials.delegates()) {
            (Some(u), _) => u.clone(),
            (None, true) => {
                return Err("a service account acts for Workspace users: give --user EMAIL".into());
            }
            (None, false) => "me".into(),
        };
        out!(
            "gpeople apply: changes for {user}, as {}.",
            credentials.describe()
        );
        let client = credentials.client(&user, global.base_url.as_deref())?;
        return Ok(Target {
            client,
            user,
            emulator: None,
        });
    }

    out!(
        "gpeople apply: a demo on the embedded People API emulator ({} generated contacts for \
         {DEMO_USER}){}.",
        args.contacts,
        if args.input.is_none() {
            ", with a sample change file"
        } else {
            ""
        }
    );
    let emu = Emulator::start().await?;
    emu.seed_contacts(DEMO_USER, args.contacts);
    // The emulator answers in microseconds: short delays keep a faulty run quick.
    let policy = RetryPolicy::default()
        .with_delays(
            Duration::from_millis(50),
            Duration::from_secs(1),
            Duration::from_millis(200),
        )
        .with_budget(8, Duration::from_secs(60));
    let client = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token(DEMO_USER))
        .retry_policy(policy)
        .build()?;
    Ok(Target {
        client,
        user: DEMO_USER.into(),
        emulator: Some(emu),
    })
}

/// What happened to one row.
enum Fate {
    Updated,
    Unchanged,
    Failed(String),
    /// The update may or may not have been applied (its answer was lost and the contact could not
    /// be read back).
    Unknown(String),
    NotFound(String),
}

pub async fn run(global: &Global, args: ApplyArgs) -> Result<u8, Failure> {
    let demo = args.demo
        || args.input.is_none()
            && global.credentials.is_none()
            && global.base_url.is_none()
            && global.access_token.is_none()
            && std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").is_none();
    if args.input.is_none() && !demo {
        return Err(Failure::usage("--input FILE is required"));
    }
    if args.inject_faults && !demo {
        return Err(Failure::usage("--inject-faults works in the demo only"));
    }
    match apply(global, args, demo).await {
        Ok(code) => Ok(code),
        Err(e) => {
            let mut message = e.to_string();
            if e.downcast_ref::<google_people::Error>()
                .is_some_and(|e| e.is_auth())
            {
                message.push_str(
                    "\nhint: pass --credentials FILE (a service account key, or an authorized_user \
                     file from `gpeople login`), or set GOOGLE_APPLICATION_CREDENTIALS",
                );
            }
            Err(Failure::run(message))
        }
    }
}

async fn apply(global: &Global, args: ApplyArgs, demo: bool) -> Result<u8, BoxError> {
    let start = Instant::now();
    let input = match &args.input {
        Some(p) => p.clone(),
        None => {
            let p = std::env::temp_dir().join(format!("gpeople-apply-{}.csv", std::process::id()));
            std::fs::write(&p, SAMPLE)?;
            p
        }
    };
    let rows = match read_rows(&input) {
        Ok(rows) => rows,
        Err(errors) => {
            err!(
                "gpeople: {}: {} problem(s); nothing was sent:",
                shown(&input),
                errors.len()
            );
            for e in &errors {
                err!("  {e}");
            }
            return Ok(2);
        }
    };
    let target = connect(global, &args, demo).await?;
    let shown_input = if args.input.is_some() {
        shown(&input)
    } else {
        "the sample change file".into()
    };
    out!("Read {} rows from {shown_input}.", rows.len());
    let mask = mask_for(&rows);
    if mask.is_empty() {
        return Err("the input changes no field (every cell besides email is empty)".into());
    }
    let client = &target.client;
    let retries_before = client.retry_count();

    // 1. List the contacts, matching by email.
    let read_mask = mask
        .clone()
        .with(PersonField::EmailAddresses)
        .with(PersonField::Names);
    let mut pages = client
        .people()
        .connections()
        .list("people/me")
        .person_fields(read_mask)
        .page_size(1000)
        .by_page();
    let mut by_email: HashMap<String, Vec<Person>> = HashMap::new();
    let (mut listed, mut list_requests) = (0, 0u64);
    while let Some(page) = pages.next().await {
        list_requests += 1;
        for p in page?.connections.unwrap_or_default() {
            listed += 1;
            for e in p.email_addresses.iter().flatten() {
                if let Some(v) = &e.value {
                    by_email
                        .entry(v.to_lowercase())
                        .or_default()
                        .push(p.clone());
                }
            }
        }
    }
    out!(
        "Listed {listed} contacts of {} in {list_requests} page(s).",
        target.user
    );

    // 2. Match and build the updates.
    let mut fates: Vec<Option<Fate>> = (0..rows.len()).map(|_| None).collect();
    let mut updates: Vec<(String, Person)> = Vec::new();
    let mut row_of: HashMap<String, usize> = HashMap::new();
    let mut previews = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        match by_email.get(&row.email.to_lowercase()).map(Vec::as_slice) {
            None | Some([]) => fates[i] = Some(Fate::NotFound("no contact has this email".into())),
            Some([contact]) => {
                let (person, changes) = update_for(contact, row, &mask);
                let rn = contact.resource_name.clone().unwrap_or_default();
                if changes.is_empty() {
                    fates[i] = Some(Fate::Unchanged);
                } else if row_of.contains_key(&rn) {
                    fates[i] = Some(Fate::Failed(format!(
                        "{rn} is also matched by line {}",
                        rows[row_of[&rn]].line
                    )));
                } else {
                    previews.push(format!(
                        "  line {}: {}: {}",
                        row.line,
                        row.email,
                        changes.join("; ")
                    ));
                    row_of.insert(rn.clone(), i);
                    updates.push((rn, person));
                }
            }
            Some(many) => {
                fates[i] = Some(Fate::NotFound(format!(
                    "ambiguous: {} contacts have this email",
                    many.len()
                )))
            }
        }
    }
    drop(by_email);

    if args.dry_run {
        out!(
            "Dry run: {} contact(s) would change; nothing is sent.",
            updates.len()
        );
        for p in previews.iter().take(10) {
            out!("{p}");
        }
        if previews.len() > 10 {
            out!("  ... and {} more", previews.len() - 10);
        }
    }

    // 3. Meanwhile, in the emulator, the world moves: faults and edits made elsewhere.
    if args.inject_faults
        && let Some(emu) = &target.emulator
    {
        const BATCH: &str = "people.batchUpdateContacts";
        emu.add_fault(
            FaultRule::new(Fault::Status(429))
                .method(BATCH)
                .random(200, 1),
        );
        emu.add_fault(
            FaultRule::new(Fault::Status(503))
                .method(BATCH)
                .random(200, 2),
        );
        emu.add_fault(
            FaultRule::new(Fault::LoseResponseAfterCommit)
                .method(BATCH)
                .random(200, 3),
        );
        for (rn, _) in updates.iter().step_by(97) {
            emu.edit_contact(
                DEMO_USER,
                rn,
                "nicknames",
                serde_json::json!([{"value": "edited elsewhere"}]),
            );
        }
        out!(
            "Injected faults: 20% each of 429, 503 and lost responses on batchUpdateContacts, \
             and {} contacts edited elsewhere after the listing.",
            updates.len().div_ceil(97)
        );
    }

    // 4. Update, 200 a request, with a progress bar.
    let mut requests = list_requests;
    if !args.dry_run && !updates.is_empty() {
        let bar = ProgressBar::with_draw_target(
            Some(updates.len() as u64),
            if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        )
        .with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} contacts, {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        // Stay under the per-user quotas (60 critical reads and 30 writes a minute by default;
        // a batch costs 6 of each) instead of meeting 429s; an emulator's shortened minute is
        // in GPEOPLE_QUOTA_MINUTE. The embedded demo's emulator has no quotas.
        let limit = target.emulator.is_none().then(|| {
            let quota = Quota::default();
            RateLimit::new(
                match std::env::var("GPEOPLE_QUOTA_MINUTE")
                    .ok()
                    .and_then(|m| crate::sync::parse_duration(&m).ok())
                {
                    Some(minute) => quota.time_scale(minute),
                    None => quota,
                },
            )
        });
        let mut job = BatchUpdate::new(client, mask.clone())?;
        if let Some(limit) = &limit {
            job = job.rate_limit(limit.clone());
        }
        let job = job.on_progress({
            let bar = bar.clone();
            move |p| {
                bar.set_position(p.done);
                bar.set_message(format!("{} requests", p.requests));
            }
        });
        let outcomes: Vec<Outcome> = job.run(updates).collect().await;
        requests += job.summary().requests;

        // Contacts changed elsewhere since the listing: fetch, apply the row again, write.
        let mut conflicts = Vec::new();
        for o in outcomes {
            let i = row_of[o.requested()];
            match o {
                Outcome::Updated { .. } => fates[i] = Some(Fate::Updated),
                Outcome::Unchanged { .. } => fates[i] = Some(Fate::Unchanged),
                Outcome::Failed { error, requested } if error.is_conflict() => {
                    conflicts.push(requested)
                }
                Outcome::Failed { error, .. } => fates[i] = Some(Fate::Failed(error.to_string())),
                Outcome::Unknown { error, .. } => fates[i] = Some(Fate::Unknown(error)),
                _ => fates[i] = Some(Fate::Unknown("an outcome this tool does not know".into())),
            }
        }
        if !conflicts.is_empty() {
            let mut retry = BatchUpdate::new(client, mask.clone())?;
            if let Some(limit) = limit {
                retry = retry.rate_limit(limit);
            }
            let rows_by_name: Arc<HashMap<String, Row>> = Arc::new(
                conflicts
                    .iter()
                    .map(|rn| (rn.clone(), rows[row_of[rn]].clone()))
                    .collect(),
            );
            let again: Vec<Outcome> = retry
                .modify(conflicts, move |p| {
                    let rn = p.resource_name.clone().unwrap_or_default();
                    if let Some(row) = rows_by_name.get(&rn) {
                        apply_row(p, row);
                    }
                })
                .collect()
                .await;
            requests += retry.summary().requests;
            for o in again {
                let i = row_of[o.requested()];
                fates[i] = Some(match o {
                    Outcome::Updated { .. } => Fate::Updated,
                    Outcome::Unchanged { .. } => Fate::Unchanged,
                    Outcome::Failed { error, .. } => Fate::Failed(match error {
                        ContactError::Conflict => "changed elsewhere while syncing".into(),
                        e => e.to_string(),
                    }),
                    Outcome::Unknown { error, .. } => Fate::Unknown(error),
                    _ => Fate::Unknown("an outcome this tool does not know".into()),
                });
            }
        }
        bar.finish_and_clear();
    }

    // 5. Summary and report.
    let count = |f: fn(&Fate) -> bool| fates.iter().flatten().filter(|x| f(x)).count();
    let updated = count(|f| matches!(f, Fate::Updated));
    let unchanged = count(|f| matches!(f, Fate::Unchanged));
    let failed = count(|f| matches!(f, Fate::Failed(_)));
    let unknown = count(|f| matches!(f, Fate::Unknown(_)));
    let not_found = count(|f| matches!(f, Fate::NotFound(_)));
    let would = if args.dry_run { " (dry run)" } else { "" };
    let mut report = String::from("line,email,status,reason\n");
    let mut report_rows = 0;
    for (row, fate) in rows.iter().zip(&fates) {
        let (status, reason) = match fate {
            Some(Fate::Failed(r)) => ("failed", r.as_str()),
            Some(Fate::Unknown(r)) => ("unknown", r.as_str()),
            Some(Fate::NotFound(r)) => ("not found", r.as_str()),
            _ => continue,
        };
        report_rows += 1;
        let _ = writeln!(
            report,
            "{},{},{status},\"{}\"",
            row.line,
            row.email,
            reason.replace('"', "\"\"")
        );
    }
    // The report only when there is something in it.
    if report_rows > 0 {
        if let Some(dir) = args.report.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&args.report, report)
            .map_err(|e| format!("cannot write the report {}: {e}", shown(&args.report)))?;
    }
    out!("Summary{would}:");
    out!("  rows       {:>6}", rows.len());
    out!("  matched    {:>6}", rows.len() - not_found);
    if args.dry_run {
        out!("  to update  {:>6}", row_of.len());
    } else {
        out!("  updated    {updated:>6}");
    }
    out!("  unchanged  {unchanged:>6}");
    out!("  failed     {failed:>6}");
    out!("  unknown    {unknown:>6}");
    out!("  not found  {not_found:>6}");
    out!("  requests   {requests:>6}");
    out!("  retries    {:>6}", client.retry_count() - retries_before);
    out!("  elapsed    {:>5.2}s", start.elapsed().as_secs_f64());
    if report_rows > 0 {
        out!(
            "Rows that failed, are unknown or matched no contact, with the reason: {}",
            shown(&args.report)
        );
    }
    Ok(if failed + unknown > 0 { 1 } else { 0 })
}
