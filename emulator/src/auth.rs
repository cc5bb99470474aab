//! OAuth2 for the emulator: access tokens it issued, the token endpoint (refresh-token grant and
//! JWT-bearer grant with RS256 signatures checked against registered public keys, `sub` for
//! domain-wide delegation) and an optional GCE-style metadata endpoint.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

/// The scope that allows reading and writing contacts.
pub const CONTACTS_SCOPE: &str = "https://www.googleapis.com/auth/contacts";
/// The read-only contacts scope.
pub const CONTACTS_READONLY_SCOPE: &str = "https://www.googleapis.com/auth/contacts.readonly";

#[derive(Debug, Clone)]
pub(crate) struct TokenInfo {
    pub user: String,
    pub scopes: Vec<String>,
    pub expires: Instant,
}

#[derive(Debug, Clone)]
pub(crate) struct RefreshInfo {
    pub client_id: String,
    pub client_secret: String,
    pub user: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct ServiceAccount {
    /// PKCS#1 `RSAPublicKey` DER.
    pub public_key: Vec<u8>,
    pub delegation: bool,
}

/// A code issued by the authorization endpoint, waiting to be exchanged.
#[derive(Debug, Clone)]
pub(crate) struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
    pub user: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Auth {
    pub tokens: HashMap<String, TokenInfo>,
    pub clients: HashMap<String, String>,
    pub codes: HashMap<String, AuthCode>,
    pub consent_user: Option<String>,
    pub refresh: HashMap<String, RefreshInfo>,
    pub service_accounts: HashMap<String, ServiceAccount>,
    /// Keys of keyless accounts, held by the emulator for `signJwt`.
    pub managed_keys: HashMap<String, crate::iam::ManagedKey>,
    /// (principal, service account): who may act as whom (the Token Creator role).
    pub token_creators: std::collections::HashSet<(String, String)>,
    /// Workload identity pool providers by audience.
    pub providers: HashMap<String, crate::iam::Provider>,
    pub counter: u64,
}

/// A token-endpoint error: `{"error": ..., "error_description": ...}`.
pub(crate) struct OAuthError {
    pub http: u16,
    pub body: Value,
}

pub(crate) fn oauth_error(http: u16, error: &str, description: &str) -> OAuthError {
    OAuthError {
        http,
        body: json!({"error": error, "error_description": description}),
    }
}

impl Auth {
    pub fn issue(&mut self, user: &str, scopes: Vec<String>, ttl: Duration) -> (String, u64) {
        self.counter += 1;
        let token = format!("ya29.emu-{}-{:x}", self.counter, fastrand(self.counter));
        self.tokens.insert(
            token.clone(),
            TokenInfo {
                user: user.into(),
                scopes,
                expires: Instant::now() + ttl,
            },
        );
        (token, ttl.as_secs())
    }

    /// The token endpoint: a form-encoded body in, a token or an OAuth error out.
    pub fn token_endpoint(&mut self, form: &[u8], ttl: Duration) -> Result<Value, OAuthError> {
        let params: HashMap<String, String> =
            url::form_urlencoded::parse(form).into_owned().collect();
        let grant = params
            .get("grant_type")
            .map(String::as_str)
            .unwrap_or_default();
        let (user, scopes) = match grant {
            "refresh_token" => {
                let rt = params.get("refresh_token").ok_or_else(|| {
                    oauth_error(
                        400,
                        "invalid_request",
                        "Missing required parameter: refresh_token",
                    )
                })?;
                let info = self.refresh.get(rt).ok_or_else(|| {
                    oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
                })?;
                if params.get("client_id") != Some(&info.client_id) {
                    return Err(oauth_error(
                        401,
                        "invalid_client",
                        "The OAuth client was not found.",
                    ));
                }
                if params.get("client_secret") != Some(&info.client_secret) {
                    return Err(oauth_error(401, "invalid_client", "Unauthorized"));
                }
                (info.user.clone(), info.scopes.clone())
            }
            "authorization_code" => {
                let code = params.get("code").ok_or_else(|| {
                    oauth_error(400, "invalid_request", "Missing required parameter: code")
                })?;
                let info = self
                    .codes
                    .remove(code)
                    .ok_or_else(|| oauth_error(400, "invalid_grant", "Malformed auth code."))?;
                let id = params.get("client_id").cloned().unwrap_or_default();
                if id != info.client_id || self.clients.get(&id) != params.get("client_secret") {
                    return Err(oauth_error(401, "invalid_client", "Unauthorized"));
                }
                if params.get("redirect_uri") != Some(&info.redirect_uri) {
                    return Err(oauth_error(400, "redirect_uri_mismatch", "Bad Request"));
                }
                let verifier = params.get("code_verifier").cloned().unwrap_or_default();
                let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
                if URL_SAFE_NO_PAD.encode(digest.as_ref()) != info.challenge {
                    return Err(oauth_error(400, "invalid_grant", "Invalid code verifier."));
                }
                self.counter += 1;
                let refresh = format!(
                    "1//emu-refresh-{}-{:x}",
                    self.counter,
                    fastrand(self.counter)
                );
                let secret = self.clients[&id].clone();
                self.refresh.insert(
                    refresh.clone(),
                    RefreshInfo {
                        client_id: id,
                        client_secret: secret,
                        user: info.user.clone(),
                        scopes: info.scopes.clone(),
                    },
                );
                let (token, expires_in) = self.issue(&info.user, info.scopes.clone(), ttl);
                return Ok(
                    json!({"access_token": token, "expires_in": expires_in, "refresh_token": refresh,
                                 "scope": info.scopes.join(" "), "token_type": "Bearer"}),
                );
            }
            "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
                let assertion = params.get("assertion").ok_or_else(|| {
                    oauth_error(
                        400,
                        "invalid_request",
                        "Missing required parameter: assertion",
                    )
                })?;
                self.verify_jwt(assertion)?
            }
            "" => {
                return Err(oauth_error(
                    400,
                    "invalid_request",
                    "Missing required parameter: grant_type",
                ));
            }
            other => {
                return Err(oauth_error(
                    400,
                    "unsupported_grant_type",
                    &format!("Invalid grant_type: {other}"),
                ));
            }
        };
        let (token, expires_in) = self.issue(&user, scopes.clone(), ttl);
        Ok(
            json!({"access_token": token, "expires_in": expires_in, "scope": scopes.join(" "), "token_type": "Bearer"}),
        )
    }

    fn verify_jwt(&self, jwt: &str) -> Result<(String, Vec<String>), OAuthError> {
        let bad = |d: &str| oauth_error(400, "invalid_grant", d);
        let mut parts = jwt.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad(
                "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe",
            ));
        };
        let decode = |p: &str| {
            URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .map_err(|_| bad("Invalid JWT: not base64url"))
        };
        let header: Value =
            serde_json::from_slice(&decode(h)?).map_err(|_| bad("Invalid JWT header"))?;
        if header["alg"] != "RS256" {
            return Err(bad("Invalid JWT: unsupported algorithm"));
        }
        let claims: Value =
            serde_json::from_slice(&decode(c)?).map_err(|_| bad("Invalid JWT claims"))?;
        let iss = claims["iss"].as_str().unwrap_or_default();
        let sa = self
            .service_accounts
            .get(iss)
            .ok_or_else(|| bad("Invalid JWT Signature."))?;
        let signature = decode(s)?;
        let key = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            &sa.public_key,
        );
        key.verify(format!("{h}.{c}").as_bytes(), &signature)
            .map_err(|_| bad("Invalid JWT Signature."))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs() as i64;
        let (iat, exp) = (
            claims["iat"].as_i64().unwrap_or(0),
            claims["exp"].as_i64().unwrap_or(0),
        );
        if exp <= now || iat > now + 300 || exp - iat > 3600 {
            return Err(bad(
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
            ));
        }
        let scopes: Vec<String> = claims["scope"]
            .as_str()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        if scopes.is_empty() {
            return Err(oauth_error(
                400,
                "invalid_scope",
                "Invalid OAuth scope or ID token audience provided.",
            ));
        }
        let user = match claims["sub"].as_str() {
            Some(sub) if sub != iss => {
                if !sa.delegation {
                    return Err(oauth_error(
                        401,
                        "unauthorized_client",
                        "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
                    ));
                }
                sub.to_string()
            }
            _ => iss.to_string(),
        };
        Ok((user, scopes))
    }
}

impl Auth {
    /// The authorization endpoint: consent is given at once by the configured user, and the
    /// browser is redirected to `redirect_uri` with a one-time code and the caller's `state`.
    pub fn authorize(&mut self, query: &[(String, String)]) -> Result<String, (u16, String)> {
        let get = |k: &str| query.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
        let client_id =
            get("client_id").ok_or((400, "Missing required parameter: client_id".to_string()))?;
        if !self.clients.contains_key(&client_id) {
            return Err((401, "The OAuth client was not found.".into()));
        }
        let redirect_uri = get("redirect_uri")
            .ok_or((400, "Missing required parameter: redirect_uri".to_string()))?;
        let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
        if !loopback.iter().any(|p| redirect_uri.starts_with(p)) {
            return Err((400, "redirect_uri must be a loopback address".into()));
        }
        if get("response_type").as_deref() != Some("code")
            || get("code_challenge_method").as_deref() != Some("S256")
        {
            return Err((
                400,
                "response_type=code and code_challenge_method=S256 are required".into(),
            ));
        }
        let challenge = get("code_challenge").ok_or((
            400,
            "Missing required parameter: code_challenge".to_string(),
        ))?;
        let user = self.consent_user.clone().ok_or((
            403,
            "No user is signed in to consent (Emulator::set_consent_user).".to_string(),
        ))?;
        self.counter += 1;
        let code = format!("4/emu-code-{}-{:x}", self.counter, fastrand(self.counter));
        let scopes = get("scope")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        self.codes.insert(
            code.clone(),
            AuthCode {
                client_id,
                redirect_uri: redirect_uri.clone(),
                challenge,
                user,
                scopes,
            },
        );
        let mut target = url::Url::parse(&redirect_uri)
            .map_err(|_| (400, "redirect_uri is not a URL".to_string()))?;
        target.query_pairs_mut().append_pair("code", &code);
        if let Some(state) = get("state") {
            target.query_pairs_mut().append_pair("state", &state);
        }
        Ok(target.to_string())
    }
}

/// Decode a PEM `PUBLIC KEY` (SPKI) or `RSA PUBLIC KEY` (PKCS#1) into PKCS#1 DER.
pub(crate) fn rsa_public_key_der(pem: &str) -> Option<Vec<u8>> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(b64.trim()).ok()?;
    if pem.contains("BEGIN RSA PUBLIC KEY") {
        return Some(der);
    }
    // SPKI: SEQUENCE { SEQUENCE { algorithm }, BIT STRING { 0x00, RSAPublicKey } }
    let (outer, _) = der_element(&der, 0x30)?;
    let (_, rest) = der_element(outer, 0x30)?;
    let (bits, _) = der_element(rest, 0x03)?;
    bits.strip_prefix(&[0u8]).map(<[u8]>::to_vec)
}

/// The content of a DER element with tag `tag` at the start of `data`, and what follows it.
fn der_element(data: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if *data.first()? != tag {
        return None;
    }
    let first = *data.get(1)? as usize;
    let (len, start) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *data.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = start.checked_add(len)?;
    Some((data.get(start..end)?, data.get(end..)?))
}

fn fastrand(x: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos() as u64;
    (x ^ nanos).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}
