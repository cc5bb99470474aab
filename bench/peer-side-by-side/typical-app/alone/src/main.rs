include!("../../skeleton.rs");

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    own_work(&args).await?;
    Ok(())
}
