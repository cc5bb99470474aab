//! Installed-app consent: a loopback redirect listener on 127.0.0.1, PKCE (S256) and a `state`
//! check, then the authorization-code exchange for a refresh token.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::authorized_user::GOOGLE_TOKEN_URI;
use super::{AuthorizedUser, Secret, http};
use crate::runtime::transport::Call;
use crate::runtime::{Error, urls};

/// Google's consent page.
pub const GOOGLE_AUTH_URI: &str = "https://accounts.google.com/o/oauth2/v2/auth";

/// The installed-app (desktop) OAuth flow for a personal account.
#[derive(Clone)]
pub struct InstalledApp {
    client_id: String,
    client_secret: Secret,
    auth_uri: String,
    token_uri: String,
    scopes: Vec<String>,
    timeout: Duration,
}

impl fmt::Debug for InstalledApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstalledApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("auth_uri", &self.auth_uri)
            .field("token_uri", &self.token_uri)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The result of consent: the refresh token and credentials that use it.
#[derive(Clone, Debug)]
pub struct Authorized {
    /// The refresh token; keep it secret.
    pub refresh_token: Secret,
    /// Credentials refreshing from it.
    pub credentials: AuthorizedUser,
    client_id: String,
    client_secret: Secret,
    token_uri: String,
}

impl Authorized {
    /// Save as gcloud-style `authorized_user` JSON (readable by [`AuthorizedUser::from_json`] and
    /// by ADC), with owner-only permissions on Unix.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let json = json!({
            "type": "authorized_user",
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose(),
            "refresh_token": self.refresh_token.expose(),
            "token_uri": self.token_uri,
        });
        let path = path.as_ref();
        let write = || -> std::io::Result<()> {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            std::io::Write::write_all(&mut opts.open(path)?, json.to_string().as_bytes())
        };
        write().map_err(|e| Error::config(format!("cannot write {}: {e}", path.display())))
    }
}

fn random_b64(n: usize) -> Result<String, Error> {
    let mut buf = vec![0u8; n];
    crate::runtime::crypto::random(&mut buf)?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

impl InstalledApp {
    /// A flow for an OAuth client of type "Desktop app", against Google's endpoints.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        scopes: &[&str],
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            auth_uri: GOOGLE_AUTH_URI.into(),
            token_uri: GOOGLE_TOKEN_URI.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            timeout: Duration::from_secs(300),
        }
    }

    /// Use other endpoints (an emulator); https, or http to loopback only.
    pub fn with_endpoints(mut self, auth_uri: &str, token_uri: &str) -> Result<Self, Error> {
        self.auth_uri = http::check_endpoint(auth_uri)?;
        self.token_uri = http::check_endpoint(token_uri)?;
        Ok(self)
    }

    /// How long to wait for the browser (default 5 minutes).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Run the flow: `show` gets the consent URL (print it, or open a browser); the user consents;
    /// Google redirects to a listener on 127.0.0.1, whose `state` must match; the code is exchanged
    /// with the PKCE verifier for a refresh token.
    pub async fn authorize(&self, show: impl FnOnce(&str)) -> Result<Authorized, Error> {
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| {
            Error::config(format!("cannot listen on 127.0.0.1 for the redirect: {e}"))
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::config(e.to_string()))?
            .port();
        let redirect_uri = format!("http://127.0.0.1:{port}/");
        let verifier = random_b64(48)?;
        let challenge = URL_SAFE_NO_PAD.encode(crate::runtime::crypto::sha256(verifier.as_bytes()));
        let state = random_b64(16)?;
        urls::Url::parse(&self.auth_uri)
            .map_err(|e| Error::config(format!("invalid auth URI: {e}")))?;
        let url = urls::with_query(
            &self.auth_uri,
            &[
                ("response_type", "code"),
                ("client_id", &self.client_id),
                ("redirect_uri", &redirect_uri),
                ("scope", &self.scopes.join(" ")),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("state", &state),
                ("access_type", "offline"),
                ("prompt", "consent"),
            ],
        );
        show(&url);

        let code = tokio::time::timeout(self.timeout, wait_for_code(&listener, &state))
            .await
            .map_err(|_| Error::auth("no answer from the browser before the timeout", None))??;
        let body = urls::form(&[
            ("grant_type", "authorization_code"),
            ("code", code.expose()),
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose()),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &verifier),
        ]);
        let v = http::token_json(Call::post(&self.token_uri, http::FORM, body)).await?;
        let refresh = v
            .get("refresh_token")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::auth(
                    "the token endpoint sent no refresh_token (was access_type=offline honoured?)",
                    None,
                )
            })?;
        let refresh_token = Secret::new(refresh);
        let credentials = AuthorizedUser::new(
            self.client_id.clone(),
            self.client_secret.clone(),
            refresh_token.clone(),
        )
        .with_token_uri(self.token_uri.clone())?;
        Ok(Authorized {
            refresh_token,
            credentials,
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            token_uri: self.token_uri.clone(),
        })
    }
}

/// Answer redirects until one carries the right `state`; a wrong or missing one gets an error
/// page and the wait goes on (a forged request must not end the user's flow).
async fn wait_for_code(listener: &TcpListener, state: &str) -> Result<Secret, Error> {
    loop {
        let (mut sock, _) = listener
            .accept()
            .await
            .map_err(|e| Error::auth(format!("redirect listener failed: {e}"), None))?;
        let mut buf = vec![0u8; 8192];
        let mut len = 0;
        while len < buf.len() {
            let n = sock.read(&mut buf[len..]).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            len += n;
            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let head = String::from_utf8_lossy(&buf[..len]);
        let target = head.split_whitespace().nth(1).unwrap_or("/");
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
        let params = urls::parse_query(query);
        let get = |k: &str| params.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
        let (status, page, outcome) = if get("state") != Some(state) {
            (
                400,
                "The sign-in answer did not match this request (state mismatch). You can close this page.",
                None,
            )
        } else if let Some(err) = get("error") {
            (
                400,
                "Sign-in was not completed. You can close this page.",
                Some(Err(Error::auth(
                    format!("consent was refused: {err}"),
                    None,
                ))),
            )
        } else if let Some(code) = get("code") {
            (
                200,
                "Signed in. You can close this page and return to the application.",
                Some(Ok(Secret::new(code))),
            )
        } else {
            (
                400,
                "The sign-in answer had no code. You can close this page.",
                None,
            )
        };
        let response = format!(
            "HTTP/1.1 {status} {}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
            if status == 200 { "OK" } else { "Bad Request" },
            page.len()
        );
        let _ = sock.write_all(response.as_bytes()).await;
        let _ = sock.shutdown().await;
        if let Some(outcome) = outcome {
            return outcome;
        }
    }
}
