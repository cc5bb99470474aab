// The application itself: a CLI (clap derive) that fetches a JSON document with reqwest, reads
// it into its own serde types and prints a summary (anyhow for errors).

use clap::Parser;
use serde::{Deserialize, Serialize};

#[derive(Parser, Debug)]
struct Args {
    /// Where the application's own data comes from.
    #[arg(long, default_value = "http://127.0.0.1:9/items")]
    source: String,
    /// The People API base URL (an emulator or Google).
    #[arg(long)]
    people: Option<String>,
}

#[derive(Serialize, Deserialize, Debug)]
struct Item {
    id: u64,
    name: String,
    #[serde(default)]
    tags: Vec<String>,
}

async fn own_work(args: &Args) -> anyhow::Result<usize> {
    let items: Vec<Item> = match reqwest::get(&args.source).await {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    println!("{}", serde_json::to_string(&items)?);
    Ok(items.len())
}
