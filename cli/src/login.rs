//! `gpeople login` (installed-app consent for your own account, saved as `authorized_user` with
//! owner-only permissions) and `gpeople whoami`.

use std::path::PathBuf;

use clap::Args;
use google_people::PersonField;
use google_people::auth::{CONTACTS_SCOPE, InstalledApp};

use crate::auth::Credentials;
use crate::{Failure, Global};

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The client ID of an OAuth client of type "Desktop app".
    #[arg(long, env = "GPEOPLE_CLIENT_ID")]
    pub client_id: String,
    /// Its client secret.
    #[arg(long, env = "GPEOPLE_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: String,
    /// Where to save the credentials (default: ~/.config/gpeople/authorized_user.json).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Google's consent and token endpoints, replaced (an emulator).
    #[arg(long, hide = true, requires = "token_uri")]
    pub auth_uri: Option<String>,
    #[arg(long, hide = true, requires = "auth_uri")]
    pub token_uri: Option<String>,
}

#[derive(Args, Debug)]
pub struct WhoamiArgs {
    /// With a service account: the user it acts for.
    #[arg(long, alias = "subject", value_name = "EMAIL")]
    pub user: Option<String>,
}

fn default_out() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("gpeople").join("authorized_user.json")
}

pub async fn login(_global: &Global, args: LoginArgs) -> Result<u8, Failure> {
    let mut app = InstalledApp::new(
        args.client_id.as_str(),
        args.client_secret.as_str(),
        &[CONTACTS_SCOPE],
    );
    if let (Some(a), Some(t)) = (&args.auth_uri, &args.token_uri) {
        app = app
            .with_endpoints(a, t)
            .map_err(|e| Failure::usage(e.to_string()))?;
    }
    let out = args.out.unwrap_or_else(default_out);
    if let Some(dir) = out.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::usage(format!("{}: {e}", dir.display())))?;
    }
    let authorized = app
        .authorize(|url| {
            out!("Open this URL in your browser and allow access to your contacts:\n\n  {url}\n");
        })
        .await
        .map_err(|e| Failure::run(format!("sign-in failed: {e}")))?;
    authorized
        .save(&out)
        .map_err(|e| Failure::run(e.to_string()))?;
    out!(
        "Signed in. Credentials saved to {} (owner-only; keep them secret). Use them with --credentials {}.",
        out.display(),
        out.display()
    );
    Ok(0)
}

pub async fn whoami(global: &Global, args: WhoamiArgs) -> Result<u8, Failure> {
    let credentials = Credentials::load(global).await.map_err(Failure::usage)?;
    out!("credentials: {}", credentials.describe());
    let user = match (&args.user, credentials.delegates()) {
        (Some(u), _) => u.clone(),
        (None, true) => {
            out!("(give --user EMAIL to check a user the service account acts for)");
            return Ok(0);
        }
        (None, false) => "me".into(),
    };
    let client = credentials
        .client(&user, global.base_url.as_deref())
        .map_err(|e| Failure::usage(e.to_string()))?;
    let me = client
        .people()
        .get("people/me")
        .person_fields([PersonField::Names, PersonField::EmailAddresses])
        .send()
        .await
        .map_err(|e| Failure::run(format!("the API refused the credentials: {e}")))?;
    let name = me
        .names
        .as_ref()
        .and_then(|n| n.first())
        .and_then(|n| n.display_name.clone())
        .unwrap_or_default();
    let emails: Vec<String> = me
        .email_addresses
        .iter()
        .flatten()
        .filter_map(|e| e.value.clone())
        .collect();
    out!(
        "acting as: {}{}{}",
        me.resource_name.unwrap_or_default(),
        if name.is_empty() {
            String::new()
        } else {
            format!(" {name}")
        },
        if emails.is_empty() {
            String::new()
        } else {
            format!(" <{}>", emails.join(", "))
        }
    );
    Ok(0)
}
