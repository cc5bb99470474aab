//! Update every contact of a user in one streamed pass: the connections listing, page by page,
//! becomes a stream of updates for the batch helper. Memory holds a page and a chunk, whatever
//! the number of contacts; this example exists to measure that.
//!
//! ```text
//! cargo build --release --example bulk_update
//! /usr/bin/time -v target/release/examples/bulk_update --contacts 10000
//! /usr/bin/time -v target/release/examples/bulk_update --contacts 100000
//! ```
//!
//! The emulator runs in a child process (this same binary with `--serve`), so the measured
//! process holds only the client; the child is not waited for, so its memory is not counted in
//! the parent's `Maximum resident set size`. The example also prints its own peak RSS (`VmHWM`).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt as _;
use google_people::batch::BatchUpdate;
use google_people::{Client, Nickname, PersonField};

const USER: &str = "bulk@example.com";

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Peak resident set size of this process, from `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = arg("--contacts").map_or(Ok(10_000), |s| s.parse())?;
    if std::env::args().any(|a| a == "--serve") {
        return serve(n).await;
    }

    // The emulator in a child process, which exits when our end of its stdin closes.
    let mut child = Command::new(std::env::current_exe()?)
        .args(["--serve", "--contacts", &n.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut first = String::new();
    BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut first)?;
    let (base_url, token) = first
        .trim()
        .split_once(' ')
        .ok_or("the emulator did not start")?;

    let client = Client::builder()
        .base_url(base_url)
        .access_token(token)
        .build()?;
    let listing_error = Arc::new(Mutex::new(None));
    let updates = {
        let listing_error = listing_error.clone();
        client
            .people()
            .connections()
            .list("people/me")
            .person_fields([PersonField::Nicknames])
            .page_size(1000)
            .by_item()
            .scan((), move |_, item| {
                let next = match item {
                    Ok(mut person) => {
                        let rn = person.resource_name.clone().unwrap_or_default();
                        person.nicknames = Some(vec![Nickname::new().set_value("bulk")]);
                        Some((rn, person))
                    }
                    Err(e) => {
                        *listing_error.lock().unwrap() = Some(e);
                        None
                    }
                };
                std::future::ready(next)
            })
    };
    let job = BatchUpdate::new(&client, [PersonField::Nicknames])?.total(n as u64);
    let failed = job
        .run_stream(updates)
        .filter(|o| std::future::ready(!o.is_updated()))
        .count()
        .await;
    if let Some(e) = listing_error.lock().unwrap().take() {
        return Err(format!("listing failed: {e}").into());
    }
    let s = job.summary();
    println!(
        "bulk_update: contacts={n} updated={} failed={failed} requests={} retries={} elapsed_s={:.2} peak_rss_kib={}",
        s.succeeded,
        s.requests,
        s.retries,
        s.elapsed.as_secs_f64(),
        peak_rss_kib().map_or("unknown".into(), |k| k.to_string())
    );
    // Closing the pipe stops the child; it is deliberately not waited for (see above).
    drop(child.stdin.take());
    Ok(())
}

/// The child: an emulator seeded with `n` contacts; prints "<base url> <token>", serves until
/// stdin closes.
async fn serve(n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let emu = google_people_emulator::Emulator::start().await?;
    emu.seed_contacts(USER, n);
    let mut out = std::io::stdout();
    writeln!(out, "{} {}", emu.base_url(), emu.issue_token(USER))?;
    out.flush()?;
    tokio::task::spawn_blocking(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
    })
    .await?;
    Ok(())
}
